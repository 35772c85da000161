"""Buggy and alternative correct implementations for the `logits` exercise."""
from . import bug, correct

LINEAR = '''
class Linear:
    def __init__(self, W, b):
        self.W, self.b = W, b

    def forward(self, X):
        self.X = X
        return {forward}

    def backward(self, grad_logits):
        G = grad_logits
        {backward}
'''
GOOD_BACKWARD = '''self.grad_W = G.T @ self.X
        self.grad_b = G.sum(axis=0)
        return G @ self.W'''


def linear(forward="X @ self.W.T + self.b", backward=GOOD_BACKWARD):
    return LINEAR.format(forward=forward, backward=backward)


BUGS = [
    # --- linear ---
    bug("linear", "forward forgets the bias", linear(forward="X @ self.W.T"),
        "test-linear-forward", "without the bias"),
    bug("linear", "forward uses W instead of W.T", linear(forward="X @ self.W + self.b"),
        {"test-linear-forward", "test-linear-backward"}, "raised ValueError"),
    bug("linear", "forward casts float32 to float64",
        linear(forward="np.asarray(X, dtype=float) @ np.asarray(self.W, dtype=float).T + self.b"),
        "test-linear-forward", "dtype"),
    bug("linear", "backward ignores the upstream gradient",
        linear(backward=GOOD_BACKWARD.replace("G = grad_logits", "").replace("G.T", "np.ones_like(G).T")
               .replace("G.sum", "np.ones_like(G).sum").replace("G @", "np.ones_like(G) @")),
        "test-linear-backward", "ignores grad_logits"),
    bug("linear", "bias gradient is a mean over the batch",
        linear(backward=GOOD_BACKWARD.replace("G.sum(axis=0)", "G.mean(axis=0)")),
        "test-linear-backward", "mean of grad_logits"),
    bug("linear", "weight gradient transposed (X.T @ G)",
        linear(backward=GOOD_BACKWARD.replace("G.T @ self.X", "self.X.T @ G")),
        "test-linear-backward", "wrong shape"),
    bug("linear", "gradients accumulate across batches",
        linear(backward=GOOD_BACKWARD.replace(
            "self.grad_W = G.T @ self.X",
            "self.grad_W = getattr(self, 'grad_W', 0) + G.T @ self.X")),
        "test-linear-backward", "second forward/backward"),
    bug("linear", "backward scales the upstream gradient in place",
        linear(backward="G *= 1.0 / len(G)\n        " + GOOD_BACKWARD),
        "test-linear-backward", "modified its input"),

    # --- numerical-gradient ---
    bug("numerical-gradient", "one-sided (forward) difference", '''
def numerical_gradient(f, x, eps=1e-6):
    x = np.array(x, dtype=float)
    grad = np.zeros_like(x)
    fx = f(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + eps
        grad[i] = (f(x) - fx) / eps
        x[i] = old
    return grad
''', "test-numerical-gradient", "one-sided"),
    bug("numerical-gradient", "divides by eps instead of 2 eps", '''
def numerical_gradient(f, x, eps=1e-6):
    x = np.array(x, dtype=float)
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + eps
        up = f(x)
        x[i] = old - eps
        down = f(x)
        x[i] = old
        grad[i] = (up - down) / eps
    return grad
''', "test-numerical-gradient", "twice the gradient"),
    bug("numerical-gradient", "ignores the eps argument", '''
def numerical_gradient(f, x, eps=1e-6):
    h = 1e-6
    x = np.array(x, dtype=float)
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        up = f(x)
        x[i] = old - h
        down = f(x)
        x[i] = old
        grad[i] = (up - down) / (2 * h)
    return grad
''', "test-numerical-gradient", "ignores the eps"),
    bug("numerical-gradient", "nudges the caller's x and never restores it", '''
def numerical_gradient(f, x, eps=1e-6):
    grad = np.zeros(x.shape)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + eps
        up = f(x)
        x[i] = old - eps
        down = f(x)
        grad[i] = (up - down) / (2 * eps)
    return grad
''', "test-numerical-gradient", "modified its input"),
    bug("numerical-gradient", "returns a flat gradient", '''
def numerical_gradient(f, x, eps=1e-6):
    flat = np.array(x, dtype=float).ravel()
    grad = np.zeros(flat.size)
    for i in range(flat.size):
        e = np.zeros(flat.size)
        e[i] = eps
        grad[i] = (f((flat + e).reshape(np.shape(x))) - f((flat - e).reshape(np.shape(x)))) / (2 * eps)
    return grad
''', "test-numerical-gradient", "wrong shape"),
    bug("numerical-gradient", "perturbs an integer copy (x + eps rounds back to x)", '''
def numerical_gradient(f, x, eps=1e-6):
    x = x.copy()
    grad = np.zeros(x.shape)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + eps
        up = f(x)
        x[i] = old - eps
        down = f(x)
        x[i] = old
        grad[i] = (up - down) / (2 * eps)
    return grad
''', "test-numerical-gradient", "integer array"),

    # --- predict ---
    bug("predict", "argmax over the batch axis",
        "def predict_class(logits):\n    return np.argmax(logits, axis=0)\n",
        "test-predict", "wrong shape"),
    bug("predict", "argmax over the flattened array",
        "def predict_class(logits):\n    return np.argmax(logits)\n", "test-predict", "wrong shape"),
    bug("predict", "axis=1 hard-coded (fails for other batch shapes)",
        "def predict_class(logits):\n    return np.argmax(logits, axis=1)\n", "test-predict",
        "class axis is the last one"),
    bug("predict", "argmin instead of argmax",
        "def predict_class(logits):\n    return np.argmin(logits, axis=-1)\n", "test-predict",
        "smallest logit"),
    bug("predict", "class indices as floats",
        "def predict_class(logits):\n    return np.argmax(logits, axis=-1).astype(float)\n",
        "test-predict", "integer class indices"),
    bug("predict", "returns the largest logit, not its index",
        "def predict_class(logits):\n    return np.max(logits, axis=-1)\n", "test-predict",
        "integer class indices"),
]

CORRECT = [
    correct("linear", "einsum forward, ones-vector bias gradient", '''
class Linear:
    def __init__(self, W, b):
        self.W = W
        self.b = b

    def forward(self, X):
        self.X = X.copy()
        return np.einsum("nd,cd->nc", X, self.W) + self.b

    def backward(self, grad_logits):
        self.grad_W = np.einsum("nc,nd->cd", grad_logits, self.X)
        self.grad_b = np.ones(len(grad_logits)) @ grad_logits
        return np.einsum("nc,cd->nd", grad_logits, self.W)
'''),
    correct("linear", "np.dot and np.matmul forms", '''
class Linear:
    def __init__(self, W, b):
        self.W, self.b = np.asarray(W), np.asarray(b)
        self.grad_W = np.zeros_like(self.W)
        self.grad_b = np.zeros_like(self.b)

    def forward(self, X):
        self._X = X
        return np.add(np.matmul(X, self.W.T), self.b)

    def backward(self, grad_logits):
        self.grad_W = np.dot(grad_logits.T, self._X)
        self.grad_b = np.sum(grad_logits, axis=0)
        return np.dot(grad_logits, self.W)
'''),
    correct("numerical-gradient", "unit-vector form", '''
def numerical_gradient(f, x, eps=1e-6):
    x = np.asarray(x, dtype=np.float64)
    grad = np.empty(x.shape)
    for i in np.ndindex(x.shape):
        e = np.zeros(x.shape)
        e[i] = eps
        grad[i] = (f(x + e) - f(x - e)) / (2 * eps)
    return grad
'''),
    correct("numerical-gradient", "flat iteration over a float copy", '''
def numerical_gradient(f, x, eps=1e-6):
    work = x.astype(np.float64)
    flat = work.reshape(-1)
    grad = np.zeros(flat.size)
    for k in range(flat.size):
        saved = flat[k]
        flat[k] = saved + eps
        a = f(work)
        flat[k] = saved - eps
        b = f(work)
        flat[k] = saved
        grad[k] = (a - b) / (2 * eps)
    return grad.reshape(x.shape)
'''),
    correct("predict", "argmax method", "def predict_class(logits):\n    return np.asarray(logits).argmax(-1)\n"),
    correct("predict", "argmax of a stable softmax (monotone, so the same decision)", '''
def predict_class(logits):
    z = logits - logits.max(axis=-1, keepdims=True)
    p = np.exp(z) / np.exp(z).sum(axis=-1, keepdims=True)
    return p.argmax(axis=-1)
'''),
]
