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
    bug("sigmoid-function", "naive 1 / (1 + exp(-z)) overflows at z = -1000",
        "def sigmoid(z):\n    return 1 / (1 + np.exp(-z))\n",
        "test-sigmoid-stable", "overflow"),
    bug("sigmoid-function", "exp(z) / (1 + exp(z)) gives nan for large z",
        "def sigmoid(z):\n    return np.exp(z) / (1 + np.exp(z))\n",
        "test-sigmoid-stable", "overflow"),
    bug("sigmoid-function", "np.where with both unsafe branches evaluated everywhere", '''
def sigmoid(z):
    z = np.asarray(z)
    return np.where(z >= 0, 1 / (1 + np.exp(-z)), np.exp(z) / (1 + np.exp(z)))
''', "test-sigmoid-stable", "np.where evaluates both"),
    bug("sigmoid-function", "clips z to float64's safe range, overflows in float32", '''
def sigmoid(z):
    z = np.clip(z, -700, 700)
    return 1 / (1 + np.exp(-z))
''', "test-sigmoid-stable", "float32"),
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
