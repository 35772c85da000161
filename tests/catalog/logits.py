"""Buggy and alternative correct implementations for the `logits` exercise."""
import numpy as np

from . import bug, correct, question_entries
from tests.adversarial import ZEROING_LINEAR

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
    # Zeroes the arrays it is given in place (the checks' own, were they not copies) so that its
    # zeros would match expectations computed from them: the checks compute from what they drew.
    bug("linear", "zeroes its inputs in place and returns zeros", ZEROING_LINEAR,
        ("test-linear-forward", "test-linear-backward"), "has wrong values"),
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
]

# --- question 4.2: truncation errors for the student's f, x0 and eps ---
DIFFERENCES = '''
def answer_differences():
    second_and_third = {
        "exp": (np.exp, np.exp),
        "log": (lambda x: -1 / x**2, lambda x: 2 / x**3),
        "sqrt": (lambda x: -x**-1.5 / 4, lambda x: 3 * x**-2.5 / 8),
        "reciprocal": (lambda x: 2 / x**3, lambda x: -6 / x**4),
        "cbrt": (lambda x: -2 * x ** (-5 / 3) / 9, lambda x: 10 * x ** (-8 / 3) / 27),
    }
    second, third = second_and_third[NUMBERS["f"]]
    x0, eps = NUMBERS["x0"], NUMBERS["eps"]
    central, one_sided = eps**2 / 6 * abs(third(x0)), eps / 2 * abs(second(x0))
    return {ret}
'''


def differences(ret):
    return DIFFERENCES.replace("{ret}", ret)


BUGS += [
    bug("answer-differences", "the two errors swapped",
        differences("one_sided, central"), "test-answer-differences", "swapped"),
    bug("answer-differences", "central error without the 1/6 (eps**2 f''')",
        differences("6 * central, one_sided"), "test-answer-differences",
        "wrong factor"),
    bug("answer-differences", "one-sided error without the 1/2 (eps f'')",
        differences("central, 2 * one_sided"), "test-answer-differences",
        "factor 1/2"),
    bug("answer-differences", "relative errors (divided by |f'(x0)|)",
        differences("central / abs(FUNCTIONS[NUMBERS['f']][1](x0)), "
                               "one_sided / abs(FUNCTIONS[NUMBERS['f']][1](x0))"),
        "test-answer-differences", "relative errors"),
    bug("answer-differences", "computed in float64 (measures rounding, not truncation)", '''
def answer_differences():
    f, fprime = FUNCTIONS[NUMBERS["f"]]
    x0, eps = NUMBERS["x0"], NUMBERS["eps"]
    central = (f(x0 + eps) - f(x0 - eps)) / (2 * eps)
    one_sided = (f(x0 + eps) - f(x0)) / eps
    return abs(central - fprime(x0)), abs(one_sided - fprime(x0))
''', "test-answer-differences", "rounding error"),
    bug("answer-differences", "returns the estimates, not their errors", '''
def answer_differences():
    f, fprime = FUNCTIONS[NUMBERS["f"]]
    x0, eps = NUMBERS["x0"], NUMBERS["eps"]
    return (f(x0 + eps) - f(x0 - eps)) / (2 * eps), (f(x0 + eps) - f(x0)) / eps
''', "test-answer-differences", "f'(x0) itself"),
]

CORRECT += [
    correct("answer-differences", "exact arithmetic with the decimal module", '''
from decimal import Decimal, getcontext

def answer_differences():
    getcontext().prec = 60
    x0, eps = Decimal(repr(NUMBERS["x0"])), Decimal(repr(NUMBERS["eps"]))
    cbrt = lambda x: (x.ln() / 3).exp()
    f, slope = {
        "exp": (lambda x: x.exp(), lambda x: x.exp()),
        "log": (lambda x: x.ln(), lambda x: 1 / x),
        "sqrt": (lambda x: x.sqrt(), lambda x: 1 / (2 * x.sqrt())),
        "reciprocal": (lambda x: 1 / x, lambda x: -1 / (x * x)),
        "cbrt": (cbrt, lambda x: 1 / (3 * cbrt(x) ** 2)),
    }[NUMBERS["f"]]
    up, here, down = f(x0 + eps), f(x0), f(x0 - eps)
    central = (up - down) / (2 * eps) - slope(x0)
    one_sided = (up - here) / eps - slope(x0)
    return float(abs(central)), float(abs(one_sided))
'''),
    correct("answer-differences", "signed leading terms, derivatives in a loop", '''
def answer_differences():
    name, x0, eps = NUMBERS["f"], NUMBERS["x0"], NUMBERS["eps"]
    if name == "exp":
        d2 = d3 = np.exp(x0)
    else:
        power = {"log": 0.0, "sqrt": 0.5, "reciprocal": -1.0, "cbrt": 1 / 3}[name]
        # f' = c x**(p-1) (log: p = 0, c = 1), then differentiate the power twice
        c, p = (1.0, 0.0) if name == "log" else (power, power)
        d2 = c * (p - 1) * x0 ** (p - 2)
        d3 = c * (p - 1) * (p - 2) * x0 ** (p - 3)
    return eps * eps * d3 / 6, eps * d2 / 2 + eps * eps * d3 / 6
'''),
]

# --- the experiment: the V of a central difference, on the checks' own hidden cases ---
EXPERIMENT = '''
def experiment_step(f, fprime, x0, steps, dtype="float64", plot=True):
    steps = np.asarray(steps, dtype=np.float64)
    kind = np.dtype(dtype).type
    x, h = kind(x0), steps.astype(dtype)
    estimate = (f(x + h) - f(x - h)) / (kind(2) * h)
    exact = float(fprime(np.float64(x0)))
    errors = np.abs(estimate.astype(np.float64) - exact) / abs(exact)
    best = float(steps[np.argmin(errors)])
    top = steps >= steps.max() / 10
    slope = float(np.polyfit(np.log10(steps[top]), np.log10(errors[top]), 1)[0])
    if plot:
        plt.loglog(steps, np.maximum(errors, 1e-17), label=dtype)
    return errors, best, slope
'''


def experiment(**replace):
    code = EXPERIMENT
    for old, new in replace.items():
        old = {"central": "(f(x + h) - f(x - h)) / (kind(2) * h)",
               "convert": "x, h = kind(x0), steps.astype(dtype)",
               "relative": "/ abs(exact)",
               "best": "best = float(steps[np.argmin(errors)])",
               "top": "top = steps >= steps.max() / 10",
               "ret": "return errors, best, slope",
               }[old]
        assert old in code
        code = code.replace(old, new)
    return code


BUGS += [
    bug("experiment-step", "returns the book's numbers", '''
def experiment_step(f, fprime, x0, steps, dtype="float64", plot=True):
    # the chapter's V: best steps about 1e-5 (float64) and 3e-3 (float32), slope 2
    errors = np.full(len(steps), 1e-10 if dtype == "float64" else 2e-5)
    return errors, 1e-5 if dtype == "float64" else 3e-3, 2.0
''', "test-experiment-step", "largest steps"),
    bug("experiment-step", "returns constants", '''
def experiment_step(f, fprime, x0, steps, dtype="float64", plot=True):
    return np.full(len(steps), 1e-6), float(steps[len(steps) // 2]), 2.0
''', "test-experiment-step", "largest steps"),
    bug("experiment-step", "a one-sided difference",
        experiment(central="(f(x + h) - f(x)) / h"), "test-experiment-step", "one-sided"),
    bug("experiment-step", "absolute errors", experiment(relative=""),
        "test-experiment-step", "absolute errors"),
    bug("experiment-step", "the float32 run is done in float64",
        experiment(convert="x, h = np.float64(x0), steps"), "test-experiment-step",
        "smaller than the rounding error of float32"),
    bug("experiment-step", "argmax instead of argmin",
        experiment(best="best = float(steps[np.argmax(errors)])"), "test-experiment-step",
        "largest error"),
    bug("experiment-step", "the smallest step taken as the best",
        experiment(best="best = float(steps[0])"), "test-experiment-step",
        "smallest step is not"),
    bug("experiment-step", "fits the slope on the rounding side (the smallest decade)",
        experiment(top="top = steps <= steps.min() * 10"), "test-experiment-step",
        "rounding side"),
    bug("experiment-step", "returns log10 of the best step",
        experiment(ret="return errors, np.log10(best), slope"), "test-experiment-step",
        "not log10"),
]

CORRECT += [
    correct("experiment-step", "a loop over the steps, float32 scalars, quotient in float64", '''
def experiment_step(f, fprime, x0, steps, dtype="float64", plot=True):
    kind = np.dtype(dtype).type
    exact = fprime(float(x0))
    errors = []
    for step in steps:
        x, h = kind(x0), kind(step)
        difference = f(x + h) - f(x - h)
        errors.append(abs(float(difference) / (2 * float(h)) - exact) / abs(exact))
    errors = np.array(errors)
    i = int(np.argmin(errors))
    keep = steps >= 0.1 * steps[-1]
    slope, _ = np.polyfit(np.log10(steps[keep]), np.log10(errors[keep]), 1)
    if plot:
        plt.loglog(steps, errors + 1e-17, label=str(dtype))
        plt.plot(steps[i], errors[i] + 1e-17, "k*")
        plt.xlabel("h")
        plt.ylabel("relative error")
    return errors, steps[i], slope
'''),
    correct("experiment-step", "np.asarray in the dtype, divided by h then by 2", '''
def experiment_step(f, fprime, x0, steps, dtype="float64", plot=True):
    x = np.asarray(x0, dtype=dtype)
    h = np.asarray(steps, dtype=dtype)
    estimate = (f(x + h) - f(x - h)) / h / 2
    exact = fprime(x0)
    errors = np.abs(estimate - exact) / np.abs(exact)
    errors = errors.astype(np.float64)
    largest = np.log10(steps) >= np.log10(np.max(steps)) - 1
    fit = np.polyfit(np.log10(steps)[largest], np.log10(errors)[largest], deg=1)
    if plot:
        plt.loglog(steps, np.clip(errors, 1e-17, None), ".-", label=f"{dtype}")
    return errors, steps[errors.argmin()], fit[0]
'''),
]


# Every question: a classmate's answer and the book's number lose the points, this student's
# right answer typed in gets them. The book's cases: its layer (N = 32, D = 784, C = 10) and the
# errors it computes for f = sin at x0 = 1 with eps = 1e-2 (Chapter 1, 'Truncation error').
_BOOK_EPS = 1e-2
_BOOK_DIFFERENCES = (
    float(abs((np.sin(1 + _BOOK_EPS) - np.sin(1 - _BOOK_EPS)) / (2 * _BOOK_EPS) - np.cos(1))),
    float(abs((np.sin(1 + _BOOK_EPS) - np.sin(1)) / _BOOK_EPS - np.cos(1))))
_bugs, _correct = question_entries("logits", book={
    "test-answer-shapes": (7850, (10, 784), (32, 784)),
    "test-answer-differences": _BOOK_DIFFERENCES})
BUGS += _bugs
CORRECT += _correct


# --- issue 20: a student who copies what the book shows, renames it, loops it over the rows and
# wraps it in the exercise's signature. Each copy loses every point of the cells it feeds. The
# snippets are those visible on the pages as of this writing (chapter 1 after its rework; the
# other chapters as they stand, each named in its entry). ---
RELATIVE_ERROR = '''
def relative_error(a, b, tiny=1e-12):
    a, b = np.asarray(a), np.asarray(b)
    scale = np.maximum(np.maximum(abs(a), abs(b)), tiny)
    return np.max(abs(a - b) / scale)
'''

BUGS += [
    # Chapter 5, 'logits_of' and 'batch_gradients': the logits and the gradients one example at
    # a time, wrapped in the class (the bias gradient not divided by the batch size).
    bug("linear", "copied from chapter 5: logits_of and batch_gradients, one example at a time", '''
class Linear:
    def __init__(self, W, b):
        self.W, self.b = W, b

    def forward(self, X):
        self.X = X
        return np.array([self.W @ x + self.b for x in X])

    def backward(self, grad_logits):
        dW, db = np.zeros_like(self.W), np.zeros_like(self.b)
        for x, g in zip(self.X, grad_logits):
            dW += np.outer(g, x)
            db += g
        self.grad_W, self.grad_b = dW, db
        return np.array([g @ self.W for g in grad_logits])
''', {"test-linear-forward", "test-linear-backward"}, "python loop"),
    bug("linear", "part copied from chapter 5: batch_gradients' outer products, forward "
        "whole-array",
        linear(backward='''dW, db = np.zeros_like(self.W), np.zeros_like(self.b)
        for x, g in zip(self.X, G):
            dW += np.outer(g, x)
            db += g
        self.grad_W, self.grad_b = dW, db
        return np.array([g @ self.W for g in G])'''),
        "test-linear-backward", "python loop"),
    # Chapter 1, 'The linear layer': the product the page shows failing, with the sizes swapped
    # so that it runs.
    bug("linear", "part copied from chapter 1: the product X @ W the page shows failing",
        linear(forward="X @ self.W + self.b"), "test-linear-forward", "transpose"),
    # The two copies together, the whole cell as a copying student hands it in.
    bug("linear", "copied from chapter 1 (forward: the X @ W it shows failing) and chapter 5 "
        "(backward: batch_gradients' outer products)",
        linear(forward="X @ self.W + self.b", backward='''dW, db = np.zeros_like(self.W), np.zeros_like(self.b)
        for x, g in zip(self.X, G):
            dW += np.outer(g, x)
            db += g
        self.grad_W, self.grad_b = dW, db
        return np.array([g @ self.W for g in G])'''),
        {"test-linear-forward", "test-linear-backward"}, "transpose"),

    # Chapter 6, the gradient check of the mean binary cross-entropy: a copy of Z nudged at
    # (n, k), for a two-dimensional Z.
    bug("numerical-gradient", "copied from chapter 6: the (n, k) loop of its gradient check", '''
def numerical_gradient(f, x, eps=1e-6):
    N, C = x.shape
    grad = np.zeros((N, C))
    for n in range(N):
        for k in range(C):
            Zp, Zm = x.copy(), x.copy()
            Zp[n, k] += eps
            Zm[n, k] -= eps
            grad[n, k] = (f(Zp) - f(Zm)) / (2 * eps)
    return grad
''', "test-numerical-gradient", "numerical_gradient"),
    bug("numerical-gradient", "copied from chapter 6: its gradient check over np.ndindex", '''
def numerical_gradient(f, x, eps=1e-6):
    grad = np.zeros(np.shape(x))
    for i in np.ndindex(np.shape(x)):
        Zp, Zm = x.copy(), x.copy()
        Zp[i] += eps
        Zm[i] -= eps
        grad[i] = (f(Zp) - f(Zm)) / (2 * eps)
    return grad
''', "test-numerical-gradient", "integer"),

    # Chapter 5, the confusion matrix: the argmax of each row in a loop.
    bug("predict", "copied from chapter 5: np.argmax of each row in a loop",
        "def predict_class(logits):\n    return np.array([np.argmax(z_) for z_ in logits])\n",
        "test-predict", "shape"),
    bug("predict", "copied from chapter 4: row.argmax() of every row, reshaped back", '''
def predict_class(logits):
    rows = np.reshape(logits, (-1, np.shape(logits)[-1]))
    return np.array([row.argmax() for row in rows]).reshape(np.shape(logits)[:-1])
''', "test-predict", "python loop"),
    bug("predict", "copied from chapter 7: argmax(axis=1) of the probabilities",
        "def predict_class(logits):\n    return logits.argmax(axis=1)\n", "test-predict",
        "class axis is the last one"),
    bug("predict", "copied from chapter 4: the regions' np.argmax(..., axis=2)",
        "def predict_class(logits):\n    return np.argmax(logits, axis=2)\n", "test-predict",
        "predict_class"),
    bug("predict", "copied from chapter 1: the last of each row's argsort, in a loop",
        "def predict_class(logits):\n    return np.array([np.argsort(z)[-1] for z in logits])\n",
        "test-predict", "shape"),

    # Chapter 1, the V of the gradient check: its loop over the steps and relative_error, with
    # the central difference of the page's formula in float64.
    bug("experiment-step", "copied from chapter 1: the V's loop over the steps, relative_error",
        RELATIVE_ERROR + '''

def experiment_step(f, fprime, x0, steps, dtype="float64", plot=True):
    exact = fprime(x0)
    errors = np.array([relative_error(exact, (f(x0 + h) - f(x0 - h)) / (2 * h))
                       for h in steps])
    best = steps[np.argmin(errors)]
    top = steps >= steps.max() / 10
    slope = np.polyfit(np.log10(steps[top]), np.log10(errors[top]), 1)[0]
    if plot:
        plt.loglog(steps, np.maximum(errors, 1e-16), "o-", label=dtype)
    return errors, best, slope
''', "test-experiment-step", "rounding error of float32"),

    # Chapter 1, 'Truncation error: why central differences': the prose's predictions for sin.
    bug("answer-differences",
        "copied from chapter 1: the predictions for sin, eps**2/6 cos, eps/2 sin",
        '''
def answer_differences():
    x0, eps = NUMBERS["x0"], NUMBERS["eps"]
    return eps**2 / 6 * np.cos(x0), eps / 2 * np.sin(x0)
''', "test-answer-differences", ""),
    # Chapter 1, 'The linear layer': the small example's sizes (N, D, C) = (2, 4, 3).
    bug("answer-shapes", "copied from chapter 1: the small example's layer",
        "def answer_shapes():\n    return 3 * 4 + 3, (3, 4), (2, 4)\n", "test-answer-shapes", ""),
]
