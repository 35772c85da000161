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
GOOD_BACKWARD = "return (expit(self.z) - self.y) / self.z.size"


def module(forward=GOOD_FORWARD, backward=GOOD_BACKWARD):
    return MODULE.format(forward=forward, backward=backward)


EXPERIMENT = """
def wrong_start_experiment(plot=True):
    def train(grad_z_of):
        w = {w0}
        for step in range(1, 5001):
            s = expit(w * x_exp)
            grad_z = grad_z_of(s) / {mean}
            w -= {rate} * np.sum(grad_z * x_exp)
            if np.array_equal(w * x_exp > 0, y_exp == 1):
                break
        return step

    steps_bce = train(lambda s: s - y_exp)
    steps_mse = train(lambda s: {mse})
    return {order}
"""


def experiment(w0="-6.0", mean="x_exp.size", rate="0.5", mse="2 * (s - y_exp) * s * (1 - s)",
               order="steps_bce, steps_mse"):
    return EXPERIMENT.format(w0=w0, mean=mean, rate=rate, mse=mse, order=order)


BUGS = [
    # --- threshold ---
    # BUGS[0] is the example student's one mistake: logits thresholded as if they were
    # probabilities (right only for the default threshold, which is why it slips through).
    bug("threshold", "threshold applied to the logits as if they were probabilities",
        "def predict_binary(z, threshold=0.5):\n    return np.asarray(z) > threshold\n",
        "test-threshold", "as if they were probabilities"),
    bug("threshold", "ignores the threshold argument",
        "def predict_binary(z, threshold=0.5):\n    return expit(z) > 0.5\n",
        "test-threshold", "ignores the threshold"),
    bug("threshold", "returns 0/1 integers instead of booleans",
        "def predict_binary(z, threshold=0.5):\n    return (expit(z) > threshold).astype(int)\n",
        "test-threshold", "boolean"),
    bug("threshold", ">= instead of > at the boundary",
        "def predict_binary(z, threshold=0.5):\n    return expit(z) >= threshold\n",
        "test-threshold", "strictly greater"),
    bug("threshold", "reversed comparison",
        "def predict_binary(z, threshold=0.5):\n    return expit(z) < threshold\n",
        "test-threshold", "reversed"),
    bug("threshold", "its own naive sigmoid overflows at z = -1000", '''
def predict_binary(z, threshold=0.5):
    p = 1 / (1 + np.exp(-z))
    return p > threshold
''', "test-threshold", "overflow"),

    # --- bce-function ---
    bug("bce-function", "through probabilities: log(expit(z)) is log 0 at large |z|", '''
def bce_with_logits(z, y):
    s = expit(z)
    return np.mean(-(y * np.log(s) + (1 - y) * np.log(1 - s)))
''', {"test-bce-stable", "test-bce-module-forward"}, "divide by zero"),
    bug("bce-function", "probabilities clipped to [1e-7, 1 - 1e-7] (like a clamp)", '''
def bce_with_logits(z, y):
    s = np.clip(expit(z), 1e-7, 1 - 1e-7)
    return np.mean(-(y * np.log(s) + (1 - y) * np.log(1 - s)))
''', {"test-bce-stable", "test-bce-module-forward"}, "clamped"),
    bug("bce-function", "(1 - y) z + log(1 + exp(-z)) without the |z| overflows for z << 0", '''
def bce_with_logits(z, y):
    return np.mean((1 - y) * z + np.log1p(np.exp(-z)))
''', {"test-bce-stable", "test-bce-module-forward"}, "overflow"),
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
        module(backward="return expit(self.z) - self.y"),
        "test-bce-module-backward", "1/N"),
    bug("bce-module", "sign error: y - expit(z)",
        module(backward="return (self.y - expit(self.z)) / self.z.size"),
        "test-bce-module-backward", "wrong sign"),
    bug("bce-module", "divides by the number of rows, not z.size",
        module(backward="return (expit(self.z) - self.y) / len(self.z)"),
        "test-bce-module-backward", "number of rows"),
    bug("bce-module", "multiplies by the sigmoid's derivative again", module(backward='''s = expit(self.z)
        return (s - self.y) * s * (1 - s) / self.z.size'''),
        "test-bce-module-backward", "derivative s (1 - s) again"),
    bug("bce-module", "chain rule through s: divides by s (1 - s), nan at large |z|",
        module(backward='''s = expit(self.z)
        grad_s = (s - self.y) / (s * (1 - s))
        return grad_s * s * (1 - s) / self.z.size'''),
        "test-bce-module-backward", "divide by s (1 - s)"),
    bug("bce-module", "keeps the logits of the first batch",
        module(forward='''if not hasattr(self, "z"):
            self.z, self.y = np.asarray(z), np.asarray(y)
        return bce_with_logits(z, y)'''),
        "test-bce-module-forward", "first batch"),
    # Forward and backward are graded apart (issue 11, item 6): a broken forward keeps the
    # backward points, because the backward check sets self.z and self.y itself.
    bug("bce-module", "forward raises (calls a helper that does not exist); backward is right",
        module(forward='''self.z, self.y = np.asarray(z), np.asarray(y)
        return mean_bce(z, y)'''),
        "test-bce-module-forward", "NameError"),
    bug("bce-module", "forward returns the sum of the losses; backward is right",
        module(forward='''self.z, self.y = np.asarray(z), np.asarray(y)
        return bce_with_logits(z, y) * np.size(z)'''),
        "test-bce-module-forward", "not their mean"),
    bug("bce-module", "forward computes its own loss through probabilities (log 0 at large |z|)",
        module(forward='''self.z, self.y = np.asarray(z), np.asarray(y)
        s = expit(self.z)
        return np.mean(-(self.y * np.log(s) + (1 - self.y) * np.log(1 - s)))'''),
        "test-bce-module-forward", "divide by zero"),
    bug("bce-module", "forward stores the labels as self.labels, not self.y (breaks the contract)",
        module(forward='''self.z, self.labels = np.asarray(z), np.asarray(y)
        return bce_with_logits(z, y)''', backward="return (expit(self.z) - self.labels) / self.z.size"),
        {"test-bce-module-forward", "test-bce-module-backward"}, "self.y"),
    bug("bce-module", "forward returns the per-element losses",
        module(forward='''self.z, self.y = np.asarray(z), np.asarray(y)
        return np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))'''),
        "test-bce-module-forward", "one loss per element"),
    # --- question 1: the float64 logit from which the naive loss is infinite ---
    bug("q-naive-limit", "the float32 threshold of the chapter",
        "def naive_infinite_from():\n    return 24 * np.log(2)\n",
        "test-q-naive-limit", "float32 threshold"),
    bug("q-naive-limit", "uses the spacing 2**-52 instead of half of it",
        "def naive_infinite_from():\n    return 52 * np.log(2)\n",
        "test-q-naive-limit", "spacing 2**-52 itself"),
    bug("q-naive-limit", "where exp overflows",
        "def naive_infinite_from():\n    return np.log(np.finfo(np.float64).max)\n",
        "test-q-naive-limit", "where exp overflows"),
    bug("q-naive-limit", "read off the figure, two digits",
        "def naive_infinite_from():\n    return 37.0\n",
        "test-q-naive-limit", "three decimals"),
    bug("q-naive-limit", "where the subnormals end",
        "def naive_infinite_from():\n    return 1074 * np.log(2)\n",
        "test-q-naive-limit", "not the smallest"),
    bug("q-naive-limit", "no answer (None)",
        "def naive_infinite_from():\n    return None\n",
        "test-q-naive-limit", "one finite number"),

    # --- question 2: what BCELoss reports at z = -150, y = 1 ---
    bug("q-bceloss", "believes the clamp's flat gradient is what comes back",
        "def bceloss_report():\n    return 100.0, 0.0, 150.0, -1.0\n",
        "test-q-bceloss", "not exactly 0"),
    bug("q-bceloss", "forgets the clamp",
        "def bceloss_report():\n    return 150.0, -1.0, 150.0, -1.0\n",
        "test-q-bceloss", "does not report 150"),
    bug("q-bceloss", "gradient for s, not for z (no sigmoid backward)",
        "def bceloss_report():\n    return 100.0, -1e12, 150.0, -1.0\n",
        "test-q-bceloss", "with respect to its input s"),
    bug("q-bceloss", "gradients with the wrong sign",
        "def bceloss_report():\n    return 100.0, 7.175e-54, 150.0, 1.0\n",
        "test-q-bceloss", "wrong sign"),
    bug("q-bceloss", "the true loss taken as the clamped one",
        "def bceloss_report():\n    return 100.0, -7.175e-54, 100.0, -1.0\n",
        "test-q-bceloss", "the true loss is wrong"),
    bug("q-bceloss", "two numbers instead of four",
        "def bceloss_report():\n    return 100.0, 150.0\n",
        "test-q-bceloss", "four numbers"),

    # --- question 3: which formulas are stable ---
    bug("q-stable", "trusts np.where to skip the branch it does not take",
        'def stable_formulas():\n    return "CEF"\n', "test-q-stable", "np.where evaluates BOTH"),
    bug("q-stable", "takes the clamp-free log of expit for stable",
        'def stable_formulas():\n    return "ACE"\n', "test-q-stable", "log(expit(z))"),
    bug("q-stable", "log1p(exp(z)) is not safe for large z",
        'def stable_formulas():\n    return "BCE"\n', "test-q-stable", "z > 709"),
    bug("q-stable", "log1p(exp(-z)) is not safe for very negative z",
        'def stable_formulas():\n    return "CDE"\n', "test-q-stable", "z < -709"),
    bug("q-stable", "misses log_expit",
        'def stable_formulas():\n    return "C"\n', "test-q-stable", "Missing: E"),
    bug("q-stable", "no letters",
        'def stable_formulas():\n    return ""\n', "test-q-stable", "should return the letters"),

    # --- the experiment ---
    bug("experiment", "returns the two counts in the wrong order",
        experiment(order="steps_mse, steps_bce"), "test-experiment", "wrong order"),
    bug("experiment", "squared error's derivative without the factor 2",
        experiment(mse="(s - y_exp) * s * (1 - s)"), "test-experiment", "twice too large"),
    bug("experiment", "squared error without the sigmoid's derivative (no chain rule)",
        experiment(mse="2 * (s - y_exp)"), "test-experiment", "as fast as the cross-entropy"),
    bug("experiment", "the gradient of the sum, not the mean",
        experiment(mean="1"), "test-experiment", "SUM"),
    bug("experiment", "starts from w = -4",
        experiment(w0="-4.0"), "test-experiment", "as specified"),
    bug("experiment", "learning rate 0.1",
        experiment(rate="0.1"), "test-experiment", "as specified"),
]


CORRECT = [
    correct("q-naive-limit", "the closed form", "def naive_infinite_from():\n    return 53 * np.log(2)\n"),
    correct("q-naive-limit", "bisection on the naive formula", """
def naive_infinite_from():
    lo, hi = 1.0, 100.0
    with np.errstate(all="ignore"):
        for _ in range(200):
            mid = (lo + hi) / 2
            if np.isinf(-np.log(1 - 1 / (1 + np.exp(-mid)))):
                hi = mid
            else:
                lo = mid
    return hi
"""),
    correct("q-bceloss", "numbers worked out by hand, as a list",
            "def bceloss_report():\n    return [100, -7.175e-54, 150, -1]\n"),
    correct("q-bceloss", "PyTorch's passes reproduced with log_expit", """
def bceloss_report():
    z, y = -150.0, 1.0
    log_s = log_expit(z)
    s = np.exp(log_s)
    loss = -(y * max(log_s, -100.0))
    grad = (s - y) / max(s * (1 - s), 1e-12) * s * (1 - s)
    return float(loss), float(grad), float(-log_s), float(s - y)
"""),
    correct("q-stable", "the two letters", 'def stable_formulas():\n    return "CE"\n'),
    correct("q-stable", "a list of lower-case letters in another order",
            'def stable_formulas():\n    return ["e", "c"]\n'),
    correct("experiment", "the reference, without a figure", experiment()),
    correct("experiment", "one loop, the module's backward, steps counted from 0", """
def wrong_start_experiment(plot=True):
    results = []
    for kind in ("bce", "mse"):
        w = -6.0
        for updates in range(5000):
            z = w * x_exp
            s = expit(z)
            if kind == "bce":
                loss = BCEWithLogitsLoss()
                loss.forward(z, y_exp)
                grad_z = loss.backward()
            else:
                grad_z = 2 * (s - y_exp) * s * (1 - s) / z.size
            w = w - 0.5 * grad_z @ x_exp
            if np.all((expit(w * x_exp) > 0.5) == (y_exp == 1)):
                break
        results.append(updates)
    if plot:
        plt.bar(["cross-entropy", "squared error"], results)
        plt.ylabel("updates")
        plt.show()
    return tuple(results)
"""),
    correct("threshold", "compare the logit with logit(threshold)",
            "def predict_binary(z, threshold=0.5):\n"
            "    return np.asarray(z) > np.log(threshold / (1 - threshold))\n"),
    correct("threshold", "np.greater on the probabilities",
            "def predict_binary(z, threshold=0.5):\n"
            "    return np.greater(expit(z), threshold)\n"),
    correct("bce-function", "np.logaddexp(0, z) - z*y",
            "def bce_with_logits(z, y):\n    return np.mean(np.logaddexp(0, z) - z * y)\n"),
    correct("bce-function", "log-sigmoid form with logaddexp", '''
def bce_with_logits(z, y):
    z = np.asarray(z, dtype=float)
    log_s = -np.logaddexp(0, -z)        # log expit(z)
    log_1ms = -np.logaddexp(0, z)       # log expit(-z) = log(1 - expit(z))
    return -np.mean(y * log_s + (1 - y) * log_1ms)
'''),
    correct("bce-function", "np.where on the sign, log(1 + exp(-|z|)) without log1p", '''
def bce_with_logits(z, y):
    z = np.asarray(z)
    linear = np.where(z >= 0, (1 - y) * z, -y * z)
    return np.sum(linear + np.log(1 + np.exp(-np.abs(z)))) / z.size
'''),
    correct("bce-module", "float copies, backward through exp(log_expit)", '''
class BCEWithLogitsLoss:
    def forward(self, z, y):
        self.z = np.array(z, dtype=float)
        self.y = np.array(y, dtype=float)
        return bce_with_logits(z, y)

    def backward(self):
        return (np.exp(log_expit(self.z)) - self.y) / self.z.size
'''),
    correct("bce-module", "computes the loss itself with logaddexp", '''
class BCEWithLogitsLoss:
    def forward(self, z, y):
        self.z = np.array(z, dtype=float)
        self.y = np.array(y, dtype=float)
        return float(np.mean(np.logaddexp(0, self.z) - self.z * self.y))

    def backward(self):
        return np.subtract(expit(self.z), self.y) / np.size(self.z)
'''),
]
