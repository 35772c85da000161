"""Buggy and alternative correct implementations for the `sigmoid` exercise."""
from . import bug, correct

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
            "def logit(p):\n    return np.log(p) - np.log(1 - p)\n"),
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

# --- questions and the experiment ---
BUGS += [
    bug("answer-float16", "the float32 threshold", "def answer_float16():\n    return 24 * np.log(2)\n",
        "test-answer-float16", "float32 or float64"),
    bug("answer-float16", "the whole gap 2**-10 instead of half of it",
        "def answer_float16():\n    return 10 * np.log(2)\n", "test-answer-float16", "HALF the gap"),
    bug("answer-float16", "base-10 logarithm", "def answer_float16():\n    return 11 * np.log10(2)\n",
        "test-answer-float16", "natural logarithm"),
    bug("answer-float16", "the float64 threshold", "def answer_float16():\n    return 53 * np.log(2)\n",
        "test-answer-float16", "float32 or float64"),
    bug("answer-float16", "the z where float16 exp(-z) underflows to zero",
        "def answer_float16():\n    return 25 * np.log(2)\n", "test-answer-float16",
        "wrong threshold"),

    bug("answer-gaussian", "standard deviation instead of variance", '''
def answer_gaussian():
    w = (2.0 - (-1.0)) / 2.0
    b = (1.0 - 4.0) / (2 * 2.0) + np.log(0.2 / 0.8)
    return w, b
''', "test-answer-gaussian", "standard deviation"),
    bug("answer-gaussian", "the prior left out", '''
def answer_gaussian():
    return 3 / 4, (1 - 4) / 8
''', "test-answer-gaussian", "leaves out the prior"),
    bug("answer-gaussian", "the prior odds upside down", '''
def answer_gaussian():
    return 3 / 4, (1 - 4) / 8 + np.log(0.8 / 0.2)
''', "test-answer-gaussian", "upside down"),
    bug("answer-gaussian", "classes swapped", '''
def answer_gaussian():
    return -3 / 4, (4 - 1) / 8 + np.log(0.8 / 0.2)
''', "test-answer-gaussian", "sign of w is flipped"),
    bug("answer-gaussian", "the factor 1/2 of the exponent forgotten", '''
def answer_gaussian():
    return 3 / 4, (1 - 4) / 4 + np.log(0.2 / 0.8)
''', "test-answer-gaussian", "factor 1/2"),
]

EXPERIMENT = '''
def experiment_gaussian(plot=True):
    rng = np.random.default_rng(1)
    n = 100_000
    y = rng.random(n) < 0.2
    x = np.where(y, rng.normal(2.0, 2.0, n), rng.normal(-1.0, 2.0, n))
    edges = np.arange(-8, 10.01, 0.25)
    centres = (edges[:-1] + edges[1:]) / 2
    counts, _ = np.histogram(x, edges)
    ones, _ = np.histogram(x[y], edges)
    keep = counts >= 100
    fraction = ones[keep] / counts[keep]
    return centres[keep][np.argmax(fraction >= 0.5)]
'''


def experiment(old, new):
    assert old in EXPERIMENT
    return EXPERIMENT.replace(old, new)


BUGS += [
    bug("experiment-gaussian", "equal priors",
        experiment("y = rng.random(n) < 0.2", "y = rng.random(n) < 0.5"),
        "test-experiment-gaussian", "EQUAL priors"),
    bug("experiment-gaussian", "classes' means swapped",
        experiment("rng.normal(2.0, 2.0, n), rng.normal(-1.0, 2.0, n)",
                   "rng.normal(-1.0, 2.0, n), rng.normal(2.0, 2.0, n)"),
        "test-experiment-gaussian", "far from where the derivation"),
    bug("experiment-gaussian", "variance 2 used as the standard deviation's square root",
        experiment("rng.normal(2.0, 2.0, n), rng.normal(-1.0, 2.0, n)",
                   "rng.normal(2.0, np.sqrt(2.0), n), rng.normal(-1.0, np.sqrt(2.0), n)"),
        "test-experiment-gaussian", "far from where the derivation"),
    bug("experiment-gaussian", "returns the fraction, not the position",
        experiment("return centres[keep][np.argmax(fraction >= 0.5)]",
                   "return fraction[np.argmax(fraction >= 0.5)]"),
        "test-experiment-gaussian", "EQUAL priors"),
    bug("experiment-gaussian", "returns the bin index, not its centre",
        experiment("return centres[keep][np.argmax(fraction >= 0.5)]",
                   "return np.argmax(fraction >= 0.5)"),
        "test-experiment-gaussian", "far from where the derivation"),
]

CORRECT += [
    correct("answer-float16", "typed as a number", "def answer_float16():\n    return 7.62\n"),
    correct("answer-float16", "found by float16 arithmetic on a grid", '''
def answer_float16():
    z = np.arange(0, 20, 0.001)
    one = np.float16(1) + np.exp(-z.astype(np.float16))
    return float(z[np.argmax(one == 1)])
'''),
    correct("answer-gaussian", "with numpy scalars and a list", '''
def answer_gaussian():
    mu = np.array([-1.0, 2.0])
    w = np.diff(mu)[0] / 4.0
    b = -(mu[1] ** 2 - mu[0] ** 2) / 8.0 + np.log(0.25)
    return [w, b]
'''),
    correct("answer-gaussian", "typed as numbers", "def answer_gaussian():\n    return 0.75, -1.7613\n"),
    correct("experiment-gaussian", "another seed, without a figure", EXPERIMENT),
    correct("experiment-gaussian", "a loop over bins, interpolated crossing", '''
def experiment_gaussian(plot=True):
    rng = np.random.default_rng(7)
    y = rng.random(100_000) < 0.2
    x = rng.normal(0.0, 2.0, y.size) + np.where(y, 2.0, -1.0)
    xs, fs = [], []
    for left in np.arange(-8, 10, 0.25):
        inside = (x >= left) & (x < left + 0.25)
        if inside.sum() >= 100:
            xs.append(left + 0.125)
            fs.append(y[inside].mean())
    xs, fs = np.array(xs), np.array(fs)
    k = np.argmax(fs >= 0.5)
    if plot:
        plt.plot(xs, fs, "o")
        plt.show()
        plt.close("all")
    return xs[k - 1] + (0.5 - fs[k - 1]) * (xs[k] - xs[k - 1]) / (fs[k] - fs[k - 1])
'''),
]
