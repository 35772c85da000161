"""Buggy and alternative correct implementations for the `binary-loss` exercise."""
import numpy as np

from autograder.checks import binary_loss as checks

from . import bug, correct, question_entries

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
def wrong_start_experiment(x, y, w0, lr, plot=True):
    def train(grad_z_of):
        w = {w0}
        for step in range(1, 5001):
            s = expit(w * {x})
            grad_z = grad_z_of(s) / {mean}
            w -= {rate} * np.sum(grad_z * {x})
            if np.array_equal(w * {x} > 0, {y} == 1):
                break
        return step

    steps_bce = train(lambda s: s - {y})
    steps_mse = train(lambda s: {mse})
    return {order}
"""


def experiment(w0="w0", mean="x.size", rate="lr", mse="2 * (s - y) * s * (1 - s)",
               order="steps_bce, steps_mse", x="x", y="y"):
    return EXPERIMENT.format(w0=w0, mean=mean, rate=rate, mse=mse, order=order, x=x, y=y)


SOFT = """
def soft_label_floor():
    y = NUMBERS["votes"] / NUMBERS["annotators"]
    return {ret}
"""

BCELOSS = """
def bceloss_report():
    z = NUMBERS["z"]
    s = expit(z)
    return {ret}
"""

STABLE = """
def stable_formulas():
    return {ret}
"""

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
        {"test-bce-values", "test-bce-stable", "test-bce-module-forward"},
        "term in z times y"),
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
    # --- question 1: the best logit and the smallest loss of the student's soft label ---
    bug("q-soft-floor", "the soft label itself as the best logit", SOFT.format(
        ret="y, -(y * np.log(y) + (1 - y) * np.log(1 - y))"),
        "test-q-soft-floor", "the soft label itself"),
    bug("q-soft-floor", "the log-odds with the sign flipped", SOFT.format(
        ret="np.log((1 - y) / y), -(y * np.log(y) + (1 - y) * np.log(1 - y))"),
        "test-q-soft-floor", "wrong sign"),
    bug("q-soft-floor", "log of the probability instead of the odds", SOFT.format(
        ret="np.log(y), -(y * np.log(y) + (1 - y) * np.log(1 - y))"),
        "test-q-soft-floor", "logarithm of the odds"),
    bug("q-soft-floor", "believes the loss can reach 0", SOFT.format(
        ret="np.log(y / (1 - y)), 0.0"), "test-q-soft-floor", "never reaches 0"),
    bug("q-soft-floor", "the entropy in bits", SOFT.format(
        ret="np.log(y / (1 - y)), -(y * np.log2(y) + (1 - y) * np.log2(1 - y))"),
        "test-q-soft-floor", "bits"),
    bug("q-soft-floor", "only the positive class's term of the entropy", SOFT.format(
        ret="np.log(y / (1 - y)), -y * np.log(y)"), "test-q-soft-floor", "only one of them"),
    bug("q-soft-floor", "the loss at z = 0", SOFT.format(
        ret="np.log(y / (1 - y)), np.log(2)"), "test-q-soft-floor", "log 2 is the loss at z = 0"),
    bug("q-soft-floor", "the loss of a hard positive label at that logit", SOFT.format(
        ret="np.log(y / (1 - y)), -np.log(y)"), "test-q-soft-floor", "a hard label"),
    bug("q-soft-floor", "one number", SOFT.format(ret="np.log(y / (1 - y))"),
        "test-q-soft-floor", "2 numbers"),

    # --- question 2: what BCELoss reports at the student's logit, y = 1 ---
    bug("q-bceloss", "believes the clamp's flat gradient is what comes back", BCELOSS.format(
        ret="100.0, 0.0, -log_expit(z), s - 1"), "test-q-bceloss", "not exactly 0"),
    bug("q-bceloss", "forgets the clamp", BCELOSS.format(
        ret="-log_expit(z), s - 1, -log_expit(z), s - 1"), "test-q-bceloss",
        "does not report the true loss"),
    bug("q-bceloss", "the gradient for s, not for z (no sigmoid backward)", BCELOSS.format(
        ret="100.0, (s - 1) / max(s * (1 - s), 1e-12), -log_expit(z), s - 1"),
        "test-q-bceloss", "with respect to its input"),
    bug("q-bceloss", "forgets the guard: the factors cancel", BCELOSS.format(
        ret="100.0, s - 1, -log_expit(z), s - 1"), "test-q-bceloss",
        "the reported gradient is the true one"),
    bug("q-bceloss", "gradients with the wrong sign", BCELOSS.format(
        ret="100.0, (1 - s) / max(s * (1 - s), 1e-12) * s * (1 - s), -log_expit(z), 1 - s"),
        "test-q-bceloss", "wrong sign"),
    bug("q-bceloss", "the guard typed as 1e12 instead of 1e-12", BCELOSS.format(
        ret="100.0, (s - 1) / max(s * (1 - s), 1e12) * s * (1 - s), -log_expit(z), s - 1"),
        "test-q-bceloss", "orders of magnitude"),
    bug("q-bceloss", "clips the probability at 1e-7, as Keras does", BCELOSS.format(
        ret="-np.log(1e-7), 0.0, -log_expit(z), s - 1"),
        "test-q-bceloss", "the reported loss (the first number) is wrong"),
    bug("q-bceloss", "the true loss taken as the clamped one", BCELOSS.format(
        ret="100.0, (s - 1) / max(s * (1 - s), 1e-12) * s * (1 - s), 100.0, s - 1"),
        "test-q-bceloss", "the true loss is not clamped"),
    bug("q-bceloss", "the old notebook's case, z = -150",
        "def bceloss_report():\n    return 100.0, -7.175e-54, 150.0, -1.0\n",
        "test-q-bceloss", "orders of magnitude"),
    bug("q-bceloss", "two numbers instead of four",
        "def bceloss_report():\n    return 100.0, 150.0\n", "test-q-bceloss", "4 numbers"),

    # --- question 3: which of the student's statements are stable ---
    bug("q-stable", "every statement of theirs", STABLE.format(
        ret='list(NUMBERS["statements"])'), "test-q-stable", "includes at least one"),
    bug("q-stable", "judges as if the logits stayed below float64's overflow", STABLE.format(
        ret='[i for i in NUMBERS["statements"] if i in {2, 3, 4, 5, 6, 7, 8, 11}]'),
        "test-q-stable", "not stable"),
    bug("q-stable", "judges as if the labels were hard", STABLE.format(
        ret='[i for i in NUMBERS["statements"] if i in {3, 5, 7, 8, 10}]'),
        "test-q-stable", "not stable"),
    bug("q-stable", "copied from chapter 3: the statements the page computes with (SciPy's "
        "log_expit and NumPy's logaddexp)", STABLE.format(
        ret='[i for i in NUMBERS["statements"] if i in {3, 5}]'),
        "test-q-stable", "leaves out at least one"),
    bug("q-stable", "the old notebook's answer", "def stable_formulas():\n    return [3, 5]\n",
        "test-q-stable", "not among your statements"),
    bug("q-stable", "the old notebook's letters",
        'def stable_formulas():\n    return "CE"\n', "test-q-stable", "list of integers"),

    # --- the experiment ---
    bug("experiment", "returns the book's numbers",
        "def wrong_start_experiment(x, y, w0, lr, plot=True):\n    return 9, 375\n",
        "test-experiment", "the same counts"),
    bug("experiment", "returns constants",
        "def wrong_start_experiment(x, y, w0, lr, plot=True):\n    return 10, 1000\n",
        "test-experiment", "the same counts"),
    bug("experiment", "returns the two counts in the wrong order",
        experiment(order="steps_mse, steps_bce"), "test-experiment", "wrong order"),
    bug("experiment", "squared error's derivative without the factor 2",
        experiment(mse="(s - y) * s * (1 - s)"), "test-experiment", "twice too large"),
    bug("experiment", "squared error without the sigmoid's derivative (no chain rule)",
        experiment(mse="2 * (s - y)"), "test-experiment", "as fast as the cross-entropy"),
    bug("experiment", "the gradient of the sum, not the mean",
        experiment(mean="1"), "test-experiment", "SUM"),
    bug("experiment", "always starts from w = -6",
        experiment(w0="-6.0"), "test-experiment", "a start at w = -6"),
    bug("experiment", "always uses the learning rate 0.5",
        experiment(rate="0.5"), "test-experiment", "a learning rate of 0.5"),
    bug("experiment", "trains on the notebook's data, not on its arguments",
        experiment(x="x_exp", y="y_exp", mean="x_exp.size",
                   mse="2 * (s - y_exp) * s * (1 - s)"), "test-experiment",
        "as specified"),
]


CORRECT = [
    correct("q-soft-floor", "the best logit by bisection on the gradient, the loss from log_expit",
            """
def soft_label_floor():
    y = NUMBERS["votes"] / NUMBERS["annotators"]
    lo, hi = -30.0, 30.0
    for _ in range(100):                  # sigmoid(z) - y is increasing in z
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if expit(mid) < y else (lo, mid)
    z = (lo + hi) / 2
    return z, (1 - y) * z - log_expit(z)       # PyTorch's form of the loss
"""),
    correct("q-soft-floor", "numerical minimisation with scipy, as a list", """
def soft_label_floor():
    from scipy.optimize import minimize_scalar
    y = NUMBERS["votes"] / NUMBERS["annotators"]
    best = minimize_scalar(lambda v: bce_with_logits(v, y), bracket=(-5.0, 5.0),
                           options={"xtol": 1e-10})
    return [float(best.x), float(best.fun)]
"""),
    correct("q-bceloss", "PyTorch's passes reproduced with log_expit", """
def bceloss_report():
    z, y = NUMBERS["z"], 1.0
    log_s = log_expit(z)
    s = np.exp(log_s)
    loss = -(y * max(log_s, -100.0))
    grad = (s - y) / max(s * (1 - s), 1e-12) * s * (1 - s)
    return float(loss), float(grad), float(-log_s), float(s - y)
"""),
    correct("q-bceloss", "by hand: the guard is reached, so the gradient is 1e12 s (s - 1)", """
def bceloss_report():
    z = NUMBERS["z"]
    s = np.exp(z)                          # sigmoid(z) for z far below 0
    return [min(-z, 100.0), 1e12 * s * (s - 1.0), -z, -1.0]
"""),
    correct("q-stable", "a set, in any order", """
def stable_formulas():
    small = NUMBERS["max_logit"] < 709
    hard = NUMBERS["labels"] == "hard"
    always = {3, 5, 7, 8}
    return {i for i in NUMBERS["statements"]
            if i in always or (small and i in {2, 4, 6, 11})
            or (hard and i == 10) or (hard and small and i == 14)}
"""),
    correct("q-stable", "a tuple of numpy integers", """
def stable_formulas():
    keep = [7, 8] if NUMBERS["max_logit"] > 709 else [2, 4, 6, 7, 8, 11]
    keep += [3, 5] + ([10] if NUMBERS["labels"] == "hard" else [])
    keep += [14] if NUMBERS["labels"] == "hard" and NUMBERS["max_logit"] < 709 else []
    return tuple(np.int64(i) for i in sorted(NUMBERS["statements"]) if i in keep)
"""),
    correct("experiment", "the reference, without a figure", experiment()),
    correct("experiment", "one loop, the module's backward, steps counted from 0", """
def wrong_start_experiment(x, y, w0, lr, plot=True):
    results = []
    for kind in ("bce", "mse"):
        w = w0
        for updates in range(5000):
            z = w * x
            s = expit(z)
            if kind == "bce":
                loss = BCEWithLogitsLoss()
                loss.forward(z, y)
                grad_z = loss.backward()
            else:
                grad_z = 2 * (s - y) * s * (1 - s) / z.size
            w = w - lr * grad_z @ x
            if np.all((expit(w * x) > 0.5) == (y == 1)):
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
            "    return np.asarray(z) > -np.log(1 / threshold - 1)\n"),
    correct("threshold", "np.greater on the probabilities",
            "def predict_binary(z, threshold=0.5):\n"
            "    return np.greater(expit(z), threshold)\n"),
    correct("bce-function", "np.where instead of np.maximum, log instead of log1p", """
def bce_with_logits(z, y):
    z = np.asarray(z)
    return np.sum(np.where(z > 0, z, 0.0) - z * y
                  + np.log(1 + np.exp(-np.abs(z)))) / z.size
"""),
    correct("bce-function", "PyTorch's form with a log-sigmoid by hand", """
def bce_with_logits(z, y):
    z = np.asarray(z, dtype=float)
    log_sigmoid = np.minimum(z, 0) - np.log1p(np.exp(-np.abs(z)))
    return float(np.mean(z - z * y - log_sigmoid))
"""),
    correct("bce-module", "float copies, backward through exp of a log-sigmoid by hand", """
class BCEWithLogitsLoss:
    def forward(self, z, y):
        self.z = np.array(z, dtype=float)
        self.y = np.array(y, dtype=float)
        return bce_with_logits(z, y)

    def backward(self):
        log_s = np.minimum(self.z, 0) - np.log1p(np.exp(-np.abs(self.z)))
        return (np.exp(log_s) - self.y) / self.z.size
"""),
    correct("bce-module", "computes the loss itself, softplus by hand", """
class BCEWithLogitsLoss:
    def forward(self, z, y):
        self.z = np.array(z, dtype=float)
        self.y = np.array(y, dtype=float)
        return float(np.mean(np.maximum(self.z, 0) + np.log1p(np.exp(-np.abs(self.z)))
                             - self.z * self.y))

    def backward(self):
        return np.subtract(expit(self.z), self.y) / np.size(self.z)
"""),
]

# Every question: a classmate's answer and the book's number lose the points, this student's
# right answer typed in gets them. The book's cases: the soft label 0.8 of 'Soft labels'; the
# row z = 30 (y = 0, float64) of the BCELoss table of 'The clamp in PyTorch's BCELoss'; the two
# formulas the page itself trusts (log_expit and logaddexp, statements 3 and 5: never the answer,
# since every student's six statements hold one of the stable forms 7 and 8).
_bugs, _correct = question_entries("binary-loss", book={
    "test-q-soft-floor": (float(np.log(4.0)), checks._entropy(0.8)),
    "test-q-bceloss": checks._bceloss(30.0, 0.0),
    "test-q-stable": [3, 5],
})
BUGS += _bugs
CORRECT += _correct

# The copying path closed: the chapter's one-number softplus, wrapped in np.vectorize, computes
# the right losses, one element at a time in Python; every cell that computes the loss asks for
# whole-array operations (_common.expect_batched; the module's forward calls the function).
PAGE_SOFTPLUS = '''
import math

def softplus(x):
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))
'''
BUGS += [
    bug("bce-function", "the chapter's one-number softplus through np.vectorize", PAGE_SOFTPLUS + '''
def bce_with_logits(z, y):
    loss = np.vectorize(lambda a, b: softplus(a) - a * b)(z, y)
    return np.mean(loss)
''', {"test-bce-values", "test-bce-stable", "test-bce-module-forward"}, "Python loop"),
    bug("bce-module", "forward through the chapter's one-number softplus and np.vectorize",
        PAGE_SOFTPLUS + '''
class BCEWithLogitsLoss:
    def forward(self, z, y):
        self.z, self.y = z, y
        return np.mean(np.vectorize(lambda a, b: softplus(a) - a * b)(z, y))

    def backward(self):
        return (expit(self.z) - self.y) / np.size(self.z)
''', "test-bce-module-forward", "Python loop"),
]

# ------------------------------------------------------------------------------------------------
# Issue 20, nothing a student reads may be copied into a graded cell: what a copying student
# writes from the book's visible code (chapter 3 as it is after the rework; the other chapters as
# they are), renamed, looped over the elements, stitched and wrapped in the exercise's signature.
# Each loses every test cell its solution cell feeds, except where its name says otherwise.
# ------------------------------------------------------------------------------------------------
PAGE_SURPRISE = '''
def surprise(z, y):
    s = expit(z)
    return -np.log(s if y == 1 else 1 - s)
'''
CHAPTER6_TERM = '''
import math

def bce_term(z, y):
    return max(z, 0.0) - z * y + math.log1p(math.exp(-abs(z)))
'''
_LOSS_CELLS = {"test-bce-values", "test-bce-stable", "test-bce-module-forward"}
BUGS += [
    # chapter 3, 'Why losses take logits': the naive one-example surprise, hard labels only
    bug("bce-function", "copied from chapter 3: the one-example surprise through s, looped over "
        "the elements", PAGE_SURPRISE + '''
def bce_with_logits(z, y):
    z, y = np.asarray(z), np.asarray(y)
    return np.mean([surprise(a, b) for a, b in zip(z.ravel(), y.ravel())])
''', _LOSS_CELLS, "soft labels"),
    bug("bce-function", "copied from chapter 3: the one-example surprise through np.vectorize",
        PAGE_SURPRISE + '''
def bce_with_logits(z, y):
    return np.mean(np.vectorize(surprise)(z, y))
''', _LOSS_CELLS, "soft labels"),
    # chapter 3, 'The gradient': the slope cell differentiates surprise(z, 0), which is the
    # softplus log(1 + e^z); stitched with the -z y of the derivation, then looped
    bug("bce-function", "copied from chapter 3: surprise(z, 0) of the gradient cell (a naive "
        "softplus) minus z y, looped", PAGE_SURPRISE + '''
def bce_with_logits(z, y):
    z, y = np.asarray(z), np.asarray(y)
    losses = [surprise(a, 0) - a * b for a, b in zip(z.ravel(), y.ravel())]
    return np.mean(losses)
''', _LOSS_CELLS, "Python loop"),
    # ... and vectorised by hand: right where nothing rounds, so it keeps the values points
    # (2 of 5), as any formula through the probability does; the stability cells are lost
    bug("bce-function", "its own vectorisation of chapter 3's surprise(z, 0) minus z y "
        "(keeps the values points)", '''
def bce_with_logits(z, y):
    s = expit(z)
    return np.mean(-np.log(1 - s) - z * y)
''', {"test-bce-stable", "test-bce-module-forward"}, "divide by zero"),
    # chapter 6, 'The loss, summed over labels': the stable term of one logit, looped
    bug("bce-function", "copied from chapter 6: bce_term looped over the elements",
        CHAPTER6_TERM + '''
def bce_with_logits(z, y):
    z, y = np.asarray(z, dtype=float), np.asarray(y, dtype=float)
    terms = [bce_term(float(a), float(b)) for a, b in zip(z.ravel(), y.ravel())]
    return np.mean(terms)
''', _LOSS_CELLS, "Python loop"),
    # the module, from the same snippets
    bug("bce-module", "copied from chapter 3: forward through the one-example surprise, backward "
        "the slope cell's sigmoid over N", PAGE_SURPRISE + '''
class BCEWithLogitsLoss:
    def forward(self, z, y):
        self.z, self.y = np.asarray(z), np.asarray(y)
        return np.mean([surprise(a, b) for a, b in zip(self.z.ravel(), self.y.ravel())])

    def backward(self):
        return expit(self.z) / self.z.size
''', {"test-bce-module-forward", "test-bce-module-backward"}, "wrong values"),
    bug("bce-module", "copied from chapter 6: forward as bce_term through np.vectorize, backward "
        "as its gradient check's slope through np.vectorize", CHAPTER6_TERM + '''
class BCEWithLogitsLoss:
    def forward(self, z, y):
        self.z, self.y = np.asarray(z), np.asarray(y)
        return np.mean(np.vectorize(bce_term)(self.z, self.y))

    def backward(self):
        slope = np.vectorize(lambda a, b: -expit(-a) if b == 1 else expit(a))
        return slope(self.z, self.y) / self.z.size
''', {"test-bce-module-forward", "test-bce-module-backward"}, "Python loop"),
    # chapter 3, 'One logit, two classes': the rule for 0.5 on the logit, whatever the threshold
    bug("threshold", "copied from chapter 3: the logit compared with 0, the page's rule for 0.5",
        "def predict_binary(z, threshold=0.5):\n    return np.asarray(z) > 0\n",
        "test-threshold", "ignores the threshold"),
    # chapter 3, 'Why not squared error on probabilities': the page's squared-error gradient of
    # a positive example, -2 s (1 - s)^2, used for every example in the training loop
    bug("experiment", "copied from chapter 3: the squared error's gradient of a positive example "
        "for every example", experiment(mse="-2 * s * (1 - s) ** 2"), "test-experiment",
        "as specified"),
]
