"""Buggy and alternative correct implementations for the `binary-loss` exercise."""
from . import bug, correct

MODULE = '''
class BCEWithLogitsLoss:
    def forward(self, z, y):
        {forward}

    def backward(self):
        {backward}
'''
GOOD_FORWARD = '''self.z, self.y = np.asarray(z), np.asarray(y)
        return bce_with_logits(z, y)'''
GOOD_BACKWARD = "return (sigmoid(self.z) - self.y) / self.z.size"


def module(forward=GOOD_FORWARD, backward=GOOD_BACKWARD):
    return MODULE.format(forward=forward, backward=backward)


BUGS = [
    # --- threshold ---
    # BUGS[0] is the example student's one mistake: logits thresholded as if they were
    # probabilities (right only for the default threshold, which is why it slips through).
    bug("threshold", "threshold applied to the logits as if they were probabilities",
        "def predict_binary(z, threshold=0.5):\n    return np.asarray(z) > threshold\n",
        "test-threshold", "as if they were probabilities"),
    bug("threshold", "ignores the threshold argument",
        "def predict_binary(z, threshold=0.5):\n    return sigmoid(z) > 0.5\n",
        "test-threshold", "ignores the threshold"),
    bug("threshold", "returns 0/1 integers instead of booleans",
        "def predict_binary(z, threshold=0.5):\n    return (sigmoid(z) > threshold).astype(int)\n",
        "test-threshold", "boolean"),
    bug("threshold", ">= instead of > at the boundary",
        "def predict_binary(z, threshold=0.5):\n    return sigmoid(z) >= threshold\n",
        "test-threshold", "strictly greater"),
    bug("threshold", "reversed comparison",
        "def predict_binary(z, threshold=0.5):\n    return sigmoid(z) < threshold\n",
        "test-threshold", "reversed"),
    bug("threshold", "its own naive sigmoid overflows at z = -1000", '''
def predict_binary(z, threshold=0.5):
    p = 1 / (1 + np.exp(-z))
    return p > threshold
''', "test-threshold", "overflow"),

    # --- bce-function ---
    bug("bce-function", "through probabilities: log(sigmoid(z)) is log 0 at large |z|", '''
def bce_with_logits(z, y):
    s = sigmoid(z)
    return np.mean(-(y * np.log(s) + (1 - y) * np.log(1 - s)))
''', "test-bce-stable", "divide by zero"),
    bug("bce-function", "probabilities clipped to [1e-7, 1 - 1e-7] (like a clamp)", '''
def bce_with_logits(z, y):
    s = np.clip(sigmoid(z), 1e-7, 1 - 1e-7)
    return np.mean(-(y * np.log(s) + (1 - y) * np.log(1 - s)))
''', "test-bce-stable", "clamped"),
    bug("bce-function", "(1 - y) z + log(1 + exp(-z)) without the |z| overflows for z << 0", '''
def bce_with_logits(z, y):
    return np.mean((1 - y) * z + np.log1p(np.exp(-z)))
''', "test-bce-stable", "overflow"),
    bug("bce-function", "sum instead of mean",
        "def bce_with_logits(z, y):\n"
        "    return np.sum(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z))))\n",
        {"test-bce-values", "test-bce-stable", "test-bce-module-forward"}, "not their mean"),
    bug("bce-function", "sign error: + z*y",
        "def bce_with_logits(z, y):\n"
        "    return np.mean(np.maximum(z, 0) + z * y + np.log1p(np.exp(-np.abs(z))))\n",
        {"test-bce-values", "test-bce-stable", "test-bce-module-forward"}, "sign of the z*y"),
    bug("bce-function", "labels swapped (loss of 1 - y)",
        "def bce_with_logits(z, y):\n"
        "    return np.mean(np.maximum(z, 0) - z * (1 - y) + np.log1p(np.exp(-np.abs(z))))\n",
        {"test-bce-values", "test-bce-stable", "test-bce-module-forward"}, "vice versa"),
    bug("bce-function", "mean over the first axis only",
        "def bce_with_logits(z, y):\n"
        "    return np.mean(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z))), axis=0)\n",
        {"test-bce-values", "test-bce-stable", "test-bce-module-forward"}, "first axis"),
    bug("bce-function", "reuses z's memory for |z| (input modified in place)", '''
def bce_with_logits(z, y):
    loss = np.maximum(z, 0) - z * y
    np.abs(z, out=z)
    return np.mean(loss + np.log1p(np.exp(-z)))
''', {"test-bce-values", "test-bce-module-forward"}, "modified its input"),

    # --- bce-module ---
    bug("bce-module", "missing 1/N: the gradient of the sum",
        module(backward="return sigmoid(self.z) - self.y"),
        "test-bce-module-backward", "1/N"),
    bug("bce-module", "sign error: y - sigmoid(z)",
        module(backward="return (self.y - sigmoid(self.z)) / self.z.size"),
        "test-bce-module-backward", "wrong sign"),
    bug("bce-module", "divides by the number of rows, not z.size",
        module(backward="return (sigmoid(self.z) - self.y) / len(self.z)"),
        "test-bce-module-backward", "number of rows"),
    bug("bce-module", "multiplies by the sigmoid's derivative again", module(backward='''s = sigmoid(self.z)
        return (s - self.y) * s * (1 - s) / self.z.size'''),
        "test-bce-module-backward", "derivative s (1 - s) again"),
    bug("bce-module", "chain rule through s: divides by s (1 - s), nan at large |z|",
        module(backward='''s = sigmoid(self.z)
        grad_s = (s - self.y) / (s * (1 - s))
        return grad_s * s * (1 - s) / self.z.size'''),
        "test-bce-module-backward", "floating-point"),
    bug("bce-module", "keeps the logits of the first batch",
        module(forward='''if not hasattr(self, "z"):
            self.z, self.y = np.asarray(z), np.asarray(y)
        return bce_with_logits(z, y)'''),
        "test-bce-module-backward", "latest forward"),
    bug("bce-module", "forward returns the per-element losses",
        module(forward='''self.z, self.y = np.asarray(z), np.asarray(y)
        return np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))'''),
        "test-bce-module-forward", "one loss per element"),
]

CORRECT = [
    correct("threshold", "compare the logit with logit(threshold)",
            "def predict_binary(z, threshold=0.5):\n"
            "    return np.asarray(z) > np.log(threshold / (1 - threshold))\n"),
    correct("threshold", "np.greater on the probabilities",
            "def predict_binary(z, threshold=0.5):\n"
            "    return np.greater(sigmoid(z), threshold)\n"),
    correct("bce-function", "np.logaddexp(0, z) - z*y",
            "def bce_with_logits(z, y):\n    return np.mean(np.logaddexp(0, z) - z * y)\n"),
    correct("bce-function", "log-sigmoid form with logaddexp", '''
def bce_with_logits(z, y):
    z = np.asarray(z, dtype=float)
    log_s = -np.logaddexp(0, -z)        # log sigmoid(z)
    log_1ms = -np.logaddexp(0, z)       # log sigmoid(-z) = log(1 - sigmoid(z))
    return -np.mean(y * log_s + (1 - y) * log_1ms)
'''),
    correct("bce-function", "np.where on the sign, log(1 + exp(-|z|)) without log1p", '''
def bce_with_logits(z, y):
    z = np.asarray(z)
    linear = np.where(z >= 0, (1 - y) * z, -y * z)
    return np.sum(linear + np.log(1 + np.exp(-np.abs(z)))) / z.size
'''),
    correct("bce-module", "stores the probabilities in forward", '''
class BCEWithLogitsLoss:
    def forward(self, z, y):
        z = np.asarray(z)
        self.s = sigmoid(z)
        self.y = np.array(y, dtype=float)
        self.n = z.size
        return bce_with_logits(z, y)

    def backward(self):
        return (self.s - self.y) / self.n
'''),
    correct("bce-module", "computes the loss itself with logaddexp", '''
class BCEWithLogitsLoss:
    def forward(self, z, y):
        self.z = np.array(z, dtype=float)
        self.y = np.array(y, dtype=float)
        return float(np.mean(np.logaddexp(0, self.z) - self.z * self.y))

    def backward(self):
        return np.subtract(sigmoid(self.z), self.y) / np.size(self.z)
'''),
]
