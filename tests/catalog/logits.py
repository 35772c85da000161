"""Buggy and alternative correct implementations for the `logits` exercise."""
from . import bug, correct, question_entries

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
    # forward raises after storing X: backward is graded apart and keeps its points
    bug("linear", "forward uses W instead of W.T", linear(forward="X @ self.W + self.b"),
        "test-linear-forward", "without the transpose"),
    bug("linear", "forward multiplies in the wrong order (W @ X)",
        linear(forward="self.W @ X + self.b"), "test-linear-forward", "wrong order"),
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

# --- forward and backward graded apart (issue 11, item 6) ---
BUGS += [
    bug("linear", "forward raises before it stores X (the backward test says forward failed first)",
        LINEAR.replace('''        self.X = X
        return {forward}''', '''        Z = X @ self.W + self.b  # W not transposed: a shape error
        self.X = X
        return Z''').format(backward=GOOD_BACKWARD),
        {"test-linear-forward", "test-linear-backward"}, "transpose"),
]

# --- questions and the experiment ---
SHAPES = """
def answer_shapes():
    N, D, C = NUMBERS["N"], NUMBERS["D"], NUMBERS["C"]
    return {ret}
"""

BUGS += [
    bug("answer-shapes", "counts the weights only",
        SHAPES.format(ret="C * D, (C, D), (N, D)"), "test-answer-shapes", "weights only"),
    bug("answer-shapes", "multiplies the parameters by the batch size",
        SHAPES.format(ret="N * (C * D + C), (C, D), (N, D)"), "test-answer-shapes",
        "do not depend on the batch size"),
    bug("answer-shapes", "grad_W transposed",
        SHAPES.format(ret="C * D + C, (D, C), (N, D)"), "test-answer-shapes", "transposed"),
    bug("answer-shapes", "grad_W given the shape of the logits",
        SHAPES.format(ret="C * D + C, (N, C), (N, D)"), "test-answer-shapes",
        "shape of the logits"),
    bug("answer-shapes", "dL/dX given the shape of the logits",
        SHAPES.format(ret="C * D + C, (C, D), (N, C)"), "test-answer-shapes",
        "shape of the logits"),
    bug("answer-shapes", "two answers instead of three",
        SHAPES.format(ret="C * D + C, (C, D)"), "test-answer-shapes", "3 answers"),

    bug("answer-differences", "the two errors swapped",
        "def answer_differences():\n    return 1e-3 / 2, 1e-3 ** 2 / 6\n",
        "test-answer-differences", "swapped"),
    bug("answer-differences", "central error eps**2 (the factor 1/6 forgotten)",
        "def answer_differences():\n    return 1e-3 ** 2, 1e-3 / 2\n",
        "test-answer-differences", "wrong factor"),
    bug("answer-differences", "one-sided error eps (the factor 1/2 forgotten)",
        "def answer_differences():\n    return 1e-3 ** 2 / 6, 1e-3\n",
        "test-answer-differences", "first order in eps"),
    bug("answer-differences", "computed in float32 (rounding swamps the central error)", '''
def answer_differences():
    eps = np.float32(1e-3)
    central = (np.exp(eps) - np.exp(-eps)) / (2 * eps)
    one_sided = (np.exp(eps) - np.exp(np.float32(0))) / eps
    return abs(float(central) - 1.0), abs(float(one_sided) - 1.0)
''', "test-answer-differences", "wrong error of the central difference"),
    bug("answer-differences", "returns the estimates, not their errors", '''
def answer_differences():
    eps = 1e-3
    return (np.exp(eps) - np.exp(-eps)) / (2 * eps), (np.exp(eps) - 1.0) / eps
''', "test-answer-differences", "wrong error of the central difference"),
]

EXPERIMENT = '''
def experiment_step(plot=True):
    h = np.logspace(-12, 0, 49)
    exact = np.exp(1.0)
    errors = {}
    for dtype in (np.float64, np.float32):
        x, h_d = dtype(1.0), h.astype(dtype)
        estimate = (np.exp(x + h_d) - np.exp(x - h_d)) / (2 * h_d)
        errors[dtype] = np.abs(estimate.astype(np.float64) - exact) / exact
    right = (h >= 1e-3) & (h <= 1e-1)
    slope = np.polyfit(np.log10(h[right]), np.log10(errors[np.float64][right]), 1)[0]
    if plot:
        fig, ax = plt.subplots()
        for dtype in errors:
            ax.loglog(h, np.maximum(errors[dtype], 1e-17), label=np.dtype(dtype).name)
        ax.legend()
        plt.show()
        plt.close(fig)
    return h[np.argmin(errors[np.float64])], h[np.argmin(errors[np.float32])], slope
'''


def experiment(**replace):
    code = EXPERIMENT
    for old, new in replace.items():
        old = {"central": "(np.exp(x + h_d) - np.exp(x - h_d)) / (2 * h_d)",
               "cast": "h.astype(dtype)", "x": "x, h_d = dtype(1.0)",
               "right": "(h >= 1e-3) & (h <= 1e-1)",
               "ret": "return h[np.argmin(errors[np.float64])], h[np.argmin(errors[np.float32])], slope",
               }[old]
        assert old in code
        code = code.replace(old, new)
    return code


BUGS += [
    bug("experiment-step", "a one-sided difference",
        experiment(central="(np.exp(x + h_d) - np.exp(x)) / h_d"),
        "test-experiment-step", "float64 step is off"),
    bug("experiment-step", "returns log10 of the best steps",
        experiment(ret="return np.log10(h[np.argmin(errors[np.float64])]), "
                       "np.log10(h[np.argmin(errors[np.float32])]), slope"),
        "test-experiment-step", "not log10(h)"),
    bug("experiment-step", "fits the slope on the rounding side",
        experiment(right="(h >= 1e-12) & (h <= 1e-8)"),
        "test-experiment-step", "rounding side"),
    bug("experiment-step", "the float32 run is done in float64",
        experiment(cast="h", x="x, h_d = 1.0"),
        "test-experiment-step", "float32 step is off"),
    bug("experiment-step", "argmax instead of argmin",
        experiment(ret="return h[np.argmax(errors[np.float64])], h[np.argmax(errors[np.float32])], slope"),
        "test-experiment-step", "should be larger than the best float64"),
    bug("experiment-step", "the smallest step taken as the best",
        experiment(ret="return h[0], h[0], slope"),
        "test-experiment-step", "smallest step is not the most accurate"),
]

CORRECT += [
    correct("answer-shapes", "numpy integer and other sequence types",
            SHAPES.format(ret="np.int64(C * D + C), [C, D], np.array([N, D])")),
    correct("answer-shapes", "computed from arrays of the right shapes", '''
def answer_shapes():
    W = np.zeros((NUMBERS["C"], NUMBERS["D"]))
    b, X = np.zeros(NUMBERS["C"]), np.zeros((NUMBERS["N"], NUMBERS["D"]))
    return W.size + b.size, W.shape, X.shape
'''),
    correct("answer-differences", "predicted by Taylor: eps**2 / 6 and eps / 2",
            "def answer_differences():\n    return 1e-3 ** 2 / 6, 1e-3 / 2\n"),
    correct("answer-differences", "exact, with sinh and expm1",
            "def answer_differences():\n    h = 1e-3\n    return np.sinh(h) / h - 1, np.expm1(h) / h - 1\n"),
    correct("experiment-step", "a loop over steps, float32 scalars", '''
def experiment_step(plot=True):
    steps = np.logspace(-12, 0, 49)
    err64, err32 = [], []
    for h in steps:
        d64 = (np.exp(1.0 + h) - np.exp(1.0 - h)) / (2 * h)
        x, h32 = np.float32(1.0), np.float32(h)
        d32 = (np.exp(x + h32) - np.exp(x - h32)) / (np.float32(2) * h32)
        err64.append(abs(d64 - np.e) / np.e)
        err32.append(abs(float(d32) - np.e) / np.e)
    err64, err32 = np.array(err64), np.array(err32)
    if plot:
        plt.figure()
        plt.loglog(steps, err64 + 1e-17, label="float64")
        plt.loglog(steps, err32 + 1e-17, label="float32")
        plt.xlabel("h"); plt.ylabel("relative error"); plt.legend()
        plt.show()
        plt.close("all")
    keep = (steps >= 1e-3) & (steps <= 1e-1)
    slope, _ = np.polyfit(np.log10(steps[keep]), np.log10(err64[keep]), 1)
    return float(steps[err64.argmin()]), float(steps[err32.argmin()]), float(slope)
'''),
    correct("experiment-step", "the reference, closing its figure", EXPERIMENT),
]

# Every question: a classmate's answer and the book's number lose the points, this student's
# right answer typed in gets them (the book's layer: N = 32, D = 784, C = 10).
_bugs, _correct = question_entries("logits", book={
    "test-answer-shapes": (7850, (10, 784), (32, 784))})
BUGS += _bugs
CORRECT += _correct
