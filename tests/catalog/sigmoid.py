"""Buggy and alternative correct implementations for the `sigmoid` exercise."""
import math

from . import bug, correct, question_entries

MODULE = '''
class Sigmoid:
    def forward(self, z):
        {forward}

    def backward(self, grad_output):
        {backward}
'''
GOOD_FORWARD = '''self.s = sigmoid(z)
        return self.s'''
GOOD_BACKWARD = "return grad_output * self.s * (1 - self.s)"


def module(forward=GOOD_FORWARD, backward=GOOD_BACKWARD):
    return MODULE.format(forward=forward, backward=backward)


BUGS = [
    # --- sigmoid-function ---
    # BUGS[0] is the example student's one mistake: the textbook formula, right for moderate z.
    # A Sigmoid module built on an unstable sigmoid overflows too, and its forward loses points
    # (every forward is checked at extreme logits, issue 11 item 8).
    bug("sigmoid-function", "naive 1 / (1 + exp(-z)) overflows at z = -1000",
        "def sigmoid(z):\n    return 1 / (1 + np.exp(-z))\n",
        {"test-sigmoid-stable", "test-sigmoid-module-forward"}, "overflow"),
    bug("sigmoid-function", "exp(z) / (1 + exp(z)) gives nan for large z",
        "def sigmoid(z):\n    return np.exp(z) / (1 + np.exp(z))\n",
        {"test-sigmoid-stable", "test-sigmoid-module-forward"}, "overflow"),
    bug("sigmoid-function", "np.where with both unsafe branches evaluated everywhere", '''
def sigmoid(z):
    z = np.asarray(z)
    return np.where(z >= 0, 1 / (1 + np.exp(-z)), np.exp(z) / (1 + np.exp(z)))
''', {"test-sigmoid-stable", "test-sigmoid-module-forward"}, "np.where evaluates both"),
    bug("sigmoid-function", "clips z to float64's safe range, overflows in float32", '''
def sigmoid(z):
    z = np.clip(z, -700, 700)
    return 1 / (1 + np.exp(-z))
''', {"test-sigmoid-stable", "test-sigmoid-module-forward"}, "float32"),
    bug("sigmoid-function", "float32 turned into float64", '''
def sigmoid(z):
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))
''', "test-sigmoid-values", "float32 output"),
    bug("sigmoid-function", "sign error: 1 / (1 + exp(z))", '''
def sigmoid(z):
    z = np.asarray(z)
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, e / (1 + e), 1 / (1 + e))
''', {"test-sigmoid-values", "test-sigmoid-stable", "test-sigmoid-module-forward"},
        "sign of the exponent"),
    bug("sigmoid-function", "takes |z| in place, modifying the caller's array", '''
def sigmoid(z):
    z = np.asarray(z, dtype=float)
    negative = z < 0
    np.abs(z, out=z)  # reuse z's memory for |z|
    s = 1 / (1 + np.exp(-z))
    return np.where(negative, 1 - s, s)
''', {"test-sigmoid-values", "test-sigmoid-module-forward"},
        "modified its input"),

    # --- logit-function ---
    bug("logit-function", "sign error: log((1 - p) / p)",
        "def logit(p):\n    return np.log((1 - p) / p)\n", "test-logit", "wrong sign"),
    bug("logit-function", "base-10 logarithm",
        "def logit(p):\n    return np.log10(p / (1 - p))\n", "test-logit", "base-10"),
    bug("logit-function", "returns the odds, not the log-odds",
        "def logit(p):\n    return p / (1 - p)\n", "test-logit", "odds"),
    bug("logit-function", "ratio of logarithms instead of logarithm of the ratio",
        "def logit(p):\n    return np.log(p) / np.log(1 - p)\n", "test-logit", "wrong values"),
    bug("logit-function", "log(p / (1 + p)) (confused with the sigmoid's form)",
        "def logit(p):\n    return np.log(p / (1 + p))\n", "test-logit", "wrong values"),
    bug("logit-function", "divides p in place", '''
def logit(p):
    p /= 1 - p
    return np.log(p)
''', "test-logit", "modified its input"),

    # --- sigmoid-module ---
    bug("sigmoid-module", "backward ignores the upstream gradient",
        module(backward="return self.s * (1 - self.s)"),
        "test-sigmoid-module-backward", "ignores grad_output"),
    bug("sigmoid-module", "derivative of the wrong function (tanh's 1 - s**2)",
        module(backward="return grad_output * (1 - self.s ** 2)"),
        "test-sigmoid-module-backward", "derivative of tanh"),
    bug("sigmoid-module", "applies the sigmoid to the stored output again",
        module(backward="return grad_output * sigmoid(self.s) * (1 - sigmoid(self.s))"),
        "test-sigmoid-module-backward", "sigmoid to the stored output"),
    bug("sigmoid-module", "keeps the output of the first batch only",
        module(forward='''if not hasattr(self, "s"):
            self.s = sigmoid(z)
        return sigmoid(z)'''),
        "test-sigmoid-module-backward", "latest forward"),
    bug("sigmoid-module", "backward multiplies grad_output in place",
        module(backward='''grad_output *= self.s * (1 - self.s)
        return grad_output'''),
        "test-sigmoid-module-backward", "modified its input"),
    bug("sigmoid-module", "backward sums over the batch",
        module(backward="return np.sum(grad_output * self.s * (1 - self.s), axis=0)"),
        "test-sigmoid-module-backward", "wrong shape"),
    bug("sigmoid-module", "forward returns z instead of s",
        module(forward='''self.s = sigmoid(z)
        return z'''),
        "test-sigmoid-module-forward", "wrong values"),
]

CORRECT = [
    correct("sigmoid-function", "tanh form (1 + tanh(z / 2)) / 2",
            "def sigmoid(z):\n    return (1 + np.tanh(np.asarray(z) / 2)) / 2\n"),
    correct("sigmoid-function", "np.where on an exponent that is never positive", '''
def sigmoid(z):
    z = np.asarray(z)
    positive = z >= 0
    e = np.exp(np.where(positive, -z, z))
    return np.where(positive, 1 / (1 + e), e / (1 + e))
'''),
    correct("sigmoid-function", "log-sum-exp form exp(-logaddexp(0, -z))",
            "def sigmoid(z):\n    return np.exp(-np.logaddexp(0, -np.asarray(z)))\n"),
    correct("sigmoid-function", "boolean masks into a new array", '''
def sigmoid(z):
    z = np.asarray(z)
    out = np.empty(z.shape, dtype=np.result_type(z.dtype, np.float32))
    pos = z >= 0
    out[pos] = 1 / (1 + np.exp(-z[pos]))
    e = np.exp(z[~pos])
    out[~pos] = e / (1 + e)
    return out
'''),
    correct("logit-function", "log of the ratio", "def logit(p):\n    return np.log(p / (1 - p))\n"),
    correct("logit-function", "difference of logarithms",
            "def logit(p):\n    return np.log(p) - np.log(1.0 - np.asarray(p))\n"),
    correct("logit-function", "minus the log of 1/p - 1",
            "def logit(p):\n    return -np.log(1 / np.asarray(p) - 1)\n"),
    correct("logit-function", "2 artanh(2p - 1)",
            "def logit(p):\n    return 2 * np.arctanh(2 * np.asarray(p) - 1)\n"),
    correct("sigmoid-module", "stores z and recomputes s in backward", '''
class Sigmoid:
    def forward(self, z):
        self.z = np.array(z, copy=True)
        return sigmoid(z)

    def backward(self, grad_output):
        s = sigmoid(self.z)
        return grad_output * s * (1 - s)
'''),
    correct("sigmoid-module", "symmetric derivative sigmoid(z) * sigmoid(-z)", '''
class Sigmoid:
    def __init__(self):
        self.local = None

    def forward(self, z):
        s = sigmoid(z)
        self.local = s * sigmoid(-np.asarray(z))
        return s

    def backward(self, grad_output):
        return np.multiply(grad_output, self.local)
'''),
]

# --- every forward at extreme logits; forward and backward graded apart (issue 11) ---
BUGS += [
    bug("sigmoid-module", "forward writes the textbook formula (overflows), the function is stable",
        module(forward='''self.s = 1 / (1 + np.exp(-z))
        return self.s'''),
        "test-sigmoid-module-forward", "overflow"),
    bug("sigmoid-module", "forward converts float32 to float64 and overflows in exp(-z)",
        module(forward='''self.s = 1 / (1 + np.exp(-np.asarray(z, dtype=np.float64)))
        return self.s'''),
        "test-sigmoid-module-forward", "overflow"),
    bug("sigmoid-module", "forward never stores s (the backward test says forward failed first)",
        module(forward='''s = sigmoid(z)
        self.output = s
        raise_here = s.reshape(-1, 7)  # a wrong reshape raises before self.s is set
        self.s = s
        return s'''),
        {"test-sigmoid-module-forward", "test-sigmoid-module-backward"},
        "derive the shape from the input"),
]

# --- questions and the experiment: every one about the student's numbers (NUMBERS) ---
ROUNDS = """
def answer_rounds_to_one():
    bits = {{"float16": 10, "float32": 23}}[NUMBERS["dtype"]]
    computed = NUMBERS["probability"] == "computed"
    z = {z}
    return {ret}
"""
RIGHT_Z = "(bits + 1) * np.log(2) if computed else np.log(2.0 ** (bits + 2) - 1)"
TO_X = 'NUMBERS["x_half"] + z / NUMBERS["scale"]'


def rounds(z=RIGHT_Z, ret=TO_X):
    return ROUNDS.format(z=z, ret=ret)


BUGS += [
    bug("answer-rounds-to-one", "the whole gap instead of half of it",
        rounds(z="bits * np.log(2) if computed else np.log(2.0 ** (bits + 1) - 1)"),
        "test-answer-rounds-to-one", "HALF the gap"),
    bug("answer-rounds-to-one", "the threshold of the other way of getting the probability",
        rounds(z="(bits + 1) * np.log(2) if not computed else np.log(2.0 ** (bits + 2) - 1)"),
        "test-answer-rounds-to-one", "that is where"),
    bug("answer-rounds-to-one", "the float32 threshold whatever the dtype",
        rounds(z="24 * np.log(2) if computed else np.log(2.0 ** 25 - 1)").replace(
            "bits = {", "unused = {"), "test-answer-rounds-to-one", "threshold of"),
    bug("answer-rounds-to-one", "the float64 threshold of the book",
        rounds(z="53 * np.log(2)").replace("bits = {", "unused = {"),
        "test-answer-rounds-to-one", "threshold of float64"),
    bug("answer-rounds-to-one", "returns the logit, not the input x", rounds(ret="z"),
        "test-answer-rounds-to-one", "not on the input x"),
    bug("answer-rounds-to-one", "solves for x with the wrong sign",
        rounds(ret='NUMBERS["x_half"] - z / NUMBERS["scale"]'),
        "test-answer-rounds-to-one", "above x_half"),
    bug("answer-rounds-to-one", "multiplies by the scale instead of dividing",
        rounds(ret='NUMBERS["x_half"] + z * NUMBERS["scale"]'),
        "test-answer-rounds-to-one", "multiplied where you should divide"),
    bug("answer-rounds-to-one", "base-10 logarithm",
        rounds(z="(bits + 1) * np.log10(2) if computed else np.log10(2.0 ** (bits + 2) - 1)"),
        "test-answer-rounds-to-one", "natural logarithm"),
    bug("answer-rounds-to-one", "forgets the offset x_half",
        rounds(ret='z / NUMBERS["scale"]'), "test-answer-rounds-to-one", "wrong threshold"),
]

GAUSSIAN = """
def answer_gaussian():
    mu0, mu1, sd, prior1 = NUMBERS["mu0"], NUMBERS["mu1"], NUMBERS["sd"], NUMBERS["prior1"]
    var = sd ** 2
    w = {w}
    b = {b}
    return w, b
"""
RIGHT_W = "(mu1 - mu0) / var"
RIGHT_B = "(mu0 ** 2 - mu1 ** 2) / (2 * var) + np.log(prior1 / (1 - prior1))"


def gaussian(w=RIGHT_W, b=RIGHT_B):
    return GAUSSIAN.format(w=w, b=b)


BUGS += [
    bug("answer-gaussian", "standard deviation instead of variance",
        gaussian(w="(mu1 - mu0) / sd", b="(mu0 ** 2 - mu1 ** 2) / (2 * sd) + np.log(prior1 / "
                 "(1 - prior1))"), "test-answer-gaussian", "standard deviation"),
    bug("answer-gaussian", "the prior left out", gaussian(b="(mu0 ** 2 - mu1 ** 2) / (2 * var)"),
        "test-answer-gaussian", "leaves out the prior"),
    bug("answer-gaussian", "the prior odds upside down",
        gaussian(b="(mu0 ** 2 - mu1 ** 2) / (2 * var) + np.log((1 - prior1) / prior1)"),
        "test-answer-gaussian", "upside down"),
    bug("answer-gaussian", "classes swapped",
        gaussian(w="(mu0 - mu1) / var",
                 b="(mu1 ** 2 - mu0 ** 2) / (2 * var) + np.log((1 - prior1) / prior1)"),
        "test-answer-gaussian", "sign of w is flipped"),
    bug("answer-gaussian", "the factor 1/2 of the exponent forgotten",
        gaussian(b="(mu0 ** 2 - mu1 ** 2) / var + np.log(prior1 / (1 - prior1))"),
        "test-answer-gaussian", "factor 1/2"),
    bug("answer-gaussian", "the prior odds without their logarithm",
        gaussian(b="(mu0 ** 2 - mu1 ** 2) / (2 * var) + prior1 / (1 - prior1)"),
        "test-answer-gaussian", "natural LOG"),
    bug("answer-gaussian", "squared means with the wrong sign",
        gaussian(b="(mu1 ** 2 - mu0 ** 2) / (2 * var) + np.log(prior1 / (1 - prior1))"),
        "test-answer-gaussian", "wrong sign"),
    bug("answer-gaussian", "returns (b, w)",
        gaussian().replace("return w, b", "return b, w"), "test-answer-gaussian", "swapped"),
]

EXPERIMENT = '''
def experiment_gaussian(x, y, edges, min_count=20, plot=True):
    ones, _ = np.histogram(x[y], edges)
    zeros, _ = np.histogram(x[~y], edges)
    keep = (ones >= min_count) & (zeros >= min_count)
    centres = (edges[:-1] + edges[1:]) / 2
    log_odds = np.log(ones[keep] / zeros[keep])
    w_fit, b_fit = np.polyfit(centres[keep], log_odds, 1)
    if plot:
        plt.plot(centres[keep], log_odds, "o")
        plt.show()
        plt.close("all")
    return w_fit, b_fit
'''


def experiment(old, new):
    assert old in EXPERIMENT, old
    return EXPERIMENT.replace(old, new)


FIXED = '''
def experiment_gaussian(x, y, edges, min_count=20, plot=True):
    return {ret}
'''

BUGS += [
    # the chapter's own 1-D case (Check your understanding, question 3: w = 2, b = -2 + log(1/4))
    bug("experiment-gaussian", "returns the book's numbers", FIXED.format(ret="2.0, -3.386"),
        "test-experiment-gaussian", "must compute from the x, y and edges"),
    bug("experiment-gaussian", "returns constants", FIXED.format(ret="1.0, 0.0"),
        "test-experiment-gaussian", "must compute from the x, y and edges"),
    bug("experiment-gaussian", "returns the answer to question 4.2 instead of fitting",
        FIXED.format(ret="answer_gaussian()"), "test-experiment-gaussian",
        "must compute from the x, y and edges"),
    bug("experiment-gaussian", "fits the fractions, not the log-odds",
        experiment("log_odds = np.log(ones[keep] / zeros[keep])",
                   "log_odds = ones[keep] / (ones[keep] + zeros[keep])"),
        "test-experiment-gaussian", "fractions of class 1 themselves"),
    bug("experiment-gaussian", "base-10 logarithm",
        experiment("np.log(ones[keep] / zeros[keep])", "np.log10(ones[keep] / zeros[keep])"),
        "test-experiment-gaussian", "base-10"),
    bug("experiment-gaussian", "log-odds of class 0",
        experiment("np.log(ones[keep] / zeros[keep])", "np.log(zeros[keep] / ones[keep])"),
        "test-experiment-gaussian", "sign flipped"),
    bug("experiment-gaussian", "bins placed at their left edges",
        experiment("centres = (edges[:-1] + edges[1:]) / 2", "centres = edges[:-1]"),
        "test-experiment-gaussian", "left edge"),
    bug("experiment-gaussian", "min_count on the bin's total, not on each class",
        experiment("keep = (ones >= min_count) & (zeros >= min_count)",
                   "keep = (ones + zeros >= min_count) & (ones > 0) & (zeros > 0)"),
        "test-experiment-gaussian", "EACH class"),
    bug("experiment-gaussian", "modifies x (sorts it in place)",
        experiment("    ones, _ = np.histogram(x[y], edges)",
                   "    x.sort()\n    ones, _ = np.histogram(x[y], edges)"),
        "test-experiment-gaussian", "modified"),
]

CORRECT += [
    correct("answer-rounds-to-one", "the thresholds found by arithmetic in the dtype", '''
def answer_rounds_to_one():
    dtype = np.dtype(NUMBERS["dtype"]).type
    z = np.arange(0, 30, 1e-4)
    if NUMBERS["probability"] == "computed":
        ones = dtype(1) / (dtype(1) + np.exp(-z.astype(dtype))) == 1
    else:  # the float64 probability, accurate here, rounded once
        ones = (0.5 + 0.5 * np.tanh(z / 2)).astype(dtype) == 1
    return NUMBERS["x_half"] + z[np.argmax(ones)] / NUMBERS["scale"]
'''),
    correct("answer-rounds-to-one", "from the machine epsilon",
            rounds(z="-np.log(np.finfo(NUMBERS['dtype']).eps / 2) if computed else "
                     "np.log(4 / np.finfo(NUMBERS['dtype']).eps - 1)")),
    correct("answer-gaussian", "numpy scalars and a list", '''
def answer_gaussian():
    mu = np.array([NUMBERS["mu0"], NUMBERS["mu1"]])
    precision = 1 / NUMBERS["sd"] ** 2
    w = precision * np.diff(mu)[0]
    b = -0.5 * precision * (mu[1] ** 2 - mu[0] ** 2) + np.log(NUMBERS["prior1"]) \\
        - np.log1p(-NUMBERS["prior1"])
    return [w, b]
'''),
    correct("answer-gaussian", "the log-odds at two points", '''
def answer_gaussian():
    from math import exp, log, pi, sqrt
    n = NUMBERS
    def log_joint(x, mu, prior):
        return log(prior) - (x - mu) ** 2 / (2 * n["sd"] ** 2) - log(sqrt(2 * pi) * n["sd"])
    def a(x):
        return log_joint(x, n["mu1"], n["prior1"]) - log_joint(x, n["mu0"], 1 - n["prior1"])
    return a(1.0) - a(0.0), a(0.0)
'''),
    correct("experiment-gaussian", "a loop over bins and a least-squares solve", '''
def experiment_gaussian(x, y, edges, min_count=20, plot=True):
    xs, zs = [], []
    for left, right in zip(edges[:-1], edges[1:]):
        inside = np.logical_and(x >= left, x < right)
        n1 = np.count_nonzero(inside & y)
        n0 = np.count_nonzero(inside & ~y)
        if n1 >= min_count and n0 >= min_count:
            xs.append(np.mean([left, right]))
            zs.append(np.log(n1 / n0))
    A = np.column_stack([xs, np.ones(len(xs))])
    (w, b), *_ = np.linalg.lstsq(A, np.array(zs), rcond=None)
    if plot:
        fig, ax = plt.subplots()
        ax.scatter(xs, zs, label="bins")
        ax.set_xlabel("x"); ax.set_ylabel("log-odds"); ax.legend()
        plt.show()
        plt.close(fig)
    return float(w), float(b)
'''),
    correct("experiment-gaussian", "digitize and bincount, closed-form slope", '''
def experiment_gaussian(x, y, edges, min_count=20, plot=True):
    bins = len(edges) - 1
    k = np.digitize(x, edges) - 1
    inside = (k >= 0) & (k < bins)
    n1 = np.bincount(k[inside & y], minlength=bins)
    n0 = np.bincount(k[inside & ~y], minlength=bins)
    ok = np.logical_and(n1 >= min_count, n0 >= min_count)
    c = (edges[1:] - np.diff(edges) / 2)[ok]
    n1, n0 = n1[ok], n0[ok]
    b, w = np.polynomial.polynomial.polyfit(c, np.log(n1 / n0), 1)
    return w, b
'''),
]

# Every question: a classmate's answer and the book's number lose the points, this student's
# right answer typed in gets them. The book's cases: the float32 threshold of the computed
# sigmoid, 24 ln 2 (chapter 2, 'Saturation and vanishing gradients'), and the 1-D classes of its
# Check your understanding, question 3 (means 0 and 2, variance 1, class 1 four times rarer).
_bugs, _correct = question_entries("sigmoid", book={
    "test-answer-rounds-to-one": 24 * math.log(2),
    "test-answer-gaussian": (2.0, -2.0 + math.log(1 / 4))})
BUGS += _bugs
CORRECT += _correct

# Wrong only at the limits (issue 27): clipping z to the dtype's safe range before a naive
# sigmoid is finite and accurate everywhere, but inf becomes a finite logit, so sigmoid(inf)
# is 1 - 1e-308 rather than exactly 1 (in float32, 1 - 1e-38).
BUGS += [
    bug("sigmoid-function", "clips z to the dtype's safe range (limits at +-inf not exact)", '''
def sigmoid(z):
    z = np.asarray(z)
    if not np.issubdtype(z.dtype, np.floating):
        z = z.astype(np.float64)
    bound = np.log(np.finfo(z.dtype).max) - 1
    return 1 / (1 + np.exp(-np.clip(z, -bound, bound)))
''', "test-sigmoid-stable", "exact limits"),
]

# --- issue 20: what a copying student finds in the book, copied into the graded cells ---
# Each entry is the whole cell as a student would write it from what the pages still show
# (chapter 2 after its rework; the other chapters as they are). Every one loses all the test
# cells its solution cell feeds. Not catalogued because the pages no longer show them: a
# one-number logit (chapter 2's `log_odds`, looped) and stable sigmoid (`sigmoid_one`, looped),
# and a `Tanh` layer with `backward = g * (1 - t**2)` (the bug "derivative of the wrong
# function" above is that copy).
SOFTPLUS_CH3 = '''
import math


def softplus(x):
    """log(1 + e^x) for ONE number, stable for any finite x."""
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))
'''

BUGS += [
    bug("sigmoid-function", "copied from chapter 2: sigmoid_naive as printed (float64 precision)",
        '''
def sigmoid(z, dtype=np.float64):
    """The textbook sigmoid in the given precision (moderate z only)."""
    z = np.asarray(z, dtype=dtype)
    return 1 / (1 + np.exp(-z))
''', {"test-sigmoid-values", "test-sigmoid-stable", "test-sigmoid-module-forward"},
        "float32 output"),
    bug("sigmoid-function", "copied from chapter 2: sigmoid_ratio as printed, e^z / (1 + e^z)", '''
def sigmoid(z, dtype=np.float64):
    """The other textbook form, e^z / (1 + e^z), in the given precision."""
    z = np.asarray(z, dtype=dtype)
    return np.exp(z) / (1 + np.exp(z))
''', {"test-sigmoid-values", "test-sigmoid-stable", "test-sigmoid-module-forward"},
        "float32 output"),
    # sigma(z) = exp(-softplus(-z)): chapter 3's stable softplus of one number, looped by
    # np.vectorize with the input's dtype kept. Right values everywhere, limits exact; only the
    # loop gives it away (the batched calls of the values, stability and forward checks).
    bug("sigmoid-function", "copied from chapter 3: its one-number softplus, np.vectorize'd, "
        "exp(-softplus(-z))", SOFTPLUS_CH3 + '''

def sigmoid(z):
    z = np.asarray(z)
    dtype = z.dtype if z.dtype.kind == "f" else np.float64
    one = lambda v: math.exp(-softplus(-float(v)))
    return np.vectorize(one, otypes=[dtype])(z)[()]
''', {"test-sigmoid-values", "test-sigmoid-stable", "test-sigmoid-module-forward"},
        "python loop"),
    bug("logit-function", "copied from chapter 2: the odds of the spam example, p / (1 - p)", '''
def logit(p):
    not_p = 1 - p                     # the other class
    return p / not_p
''', "test-logit", "odds"),
    # Chapter 2 checks the derivative with SciPy's numerical derivative (visible), and states
    # the backward pass as g times the local derivative: stitched, accurate to 1e-13, but it
    # evaluates the sigmoid many times over (the backward check's batched call).
    bug("sigmoid-module", "copied from chapter 2: backward as SciPy's numerical derivative times "
        "grad_output", '''
from scipy.differentiate import derivative


class Sigmoid:
    def forward(self, z):
        self.z = np.array(z, copy=True)
        return sigmoid(z)

    def backward(self, grad_output):
        return grad_output * derivative(sigmoid, self.z).df
''', "test-sigmoid-module-backward", "cpu"),
    bug("answer-rounds-to-one", "copied from chapter 2: the prose's float32 threshold 24 ln 2",
        '''
def answer_rounds_to_one():
    return NUMBERS["x_half"] + 24 * np.log(2) / NUMBERS["scale"]
''', "test-answer-rounds-to-one", "threshold of float32"),
    bug("answer-rounds-to-one", "copied from chapter 2: the prose's float64 stored threshold",
        '''
def answer_rounds_to_one():
    return NUMBERS["x_half"] + np.log(2.0 ** 54 - 1) / NUMBERS["scale"]
''', "test-answer-rounds-to-one", "threshold of float64"),
    bug("experiment-gaussian", "copied from chapter 2: the line of Check your understanding 3",
        FIXED.format(ret="2.0, -2.0"), "test-experiment-gaussian",
        "must compute from the x, y and edges"),
]
