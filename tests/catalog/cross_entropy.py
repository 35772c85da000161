"""Buggy and alternative correct implementations for the `cross-entropy` exercise."""
import numpy as np
from scipy import special

from . import bug, correct, question_entries

CE = '''
def cross_entropy(z, y):
    z = np.asarray(z)
    y = np.asarray(y)
    N = z.shape[0]
    {body}
'''


def ce(body):
    return CE.format(body=body)


ONE_HOT = '''
def one_hot(y, num_classes):
    y = np.asarray(y)
    {body}
'''


def onehot(body):
    return ONE_HOT.format(body=body)


MODULE = '''
class CrossEntropyLoss:
    def __init__(self, label_smoothing=0.0):
        self.label_smoothing = label_smoothing

    def forward(self, z, y):
        z = np.asarray(z)
        N, C = z.shape
        eps = self.label_smoothing
        {targets}
        logp = {logp}
        self.probs = np.exp(logp)
        return {loss}

    def backward(self):
        p, t = self.probs, self.targets
        N = len(p)
        return {grad}
'''
GOOD = dict(targets="self.targets = (1 - eps) * one_hot(y, C) + eps / C",
            logp="special.log_softmax(z, axis=1)",
            loss="-np.sum(self.targets * logp) / N",
            grad="(p - t) / N")


def module(**changes):
    return MODULE.format(**{**GOOD, **changes})


QUESTION_CODE = {
    "floor": ("question-floor", """
def answer_double_softmax_floor():
    C, eps = NUMBERS["C"], NUMBERS["eps"]
    return {answer}
"""),
    "gradient": ("question-smoothing-gradient", """
def answer_smoothing_gradient():
    z, k, eps = np.array(NUMBERS["z"]), NUMBERS["y"], NUMBERS["eps"]
    C = len(z)
    onehot = np.eye(C)[k]
    return {answer}
"""),
    "kl": ("question-kl", """
def answer_kl_gap():
    f, q = np.array(NUMBERS["f_train"]), np.array(NUMBERS["q_deploy"])
    return {answer}
"""),
}


def question(key, answer):
    """(solution cell, its code) of one question answered with `answer`."""
    cell, template = QUESTION_CODE[key]
    return cell, template.format(answer=answer)


T_TRUE = "(1 - eps + eps / C)"          # the smoothed target of the true class
QUESTION_BUGS = [
    # (answer changed, what the student did, the wrong answer, cells that lose points, says)
    ("floor", "floor: the book's formula, smoothing ignored", "float(np.log(np.e + C - 1) - 1)",
     "test-question-floor", "one-hot targets"),
    ("floor", "floor: the entropy of the smoothed target",
     f"float(-({T_TRUE} * np.log{T_TRUE} + (C - 1) * eps / C * np.log(eps / C)))",
     "test-question-floor", "entropy of the smoothed target"),
    ("floor", "floor: the first softmax outputs the smoothed target",
     f"float(special.logsumexp(np.r_[{T_TRUE}, np.full(C - 1, eps / C)])"
     f" - ({T_TRUE} ** 2 + (C - 1) * (eps / C) ** 2))",
     "test-question-floor", "outputs the smoothed target itself"),
    ("floor", "floor: eps / (C - 1) on the wrong classes", "float(np.log(np.e + C - 1) - (1 - eps))",
     "test-question-floor", "eps / (C - 1)"),
    ("floor", "floor: log C, the uniform loss", "float(np.log(C))", "test-question-floor",
     "uniform prediction"),
    ("floor", "floor: the one-hot part of the target only",
     "float((1 - eps) * (np.log(np.e + C - 1) - 1))", "test-question-floor", "one-hot part"),
    ("gradient", "gradient: one-hot target, smoothing ignored", "special.softmax(z) - onehot",
     "test-question-smoothing-gradient", "one-hot target"),
    ("gradient", "gradient: reversed sign", "((1 - eps) * onehot + eps / C) - special.softmax(z)",
     "test-question-smoothing-gradient", "sign is reversed"),
    ("gradient", "gradient: eps / (C - 1) on the other classes",
     "special.softmax(z) - ((1 - eps) * onehot + eps / (C - 1) * (1 - onehot))",
     "test-question-smoothing-gradient", "eps / (C - 1)"),
    ("gradient", "gradient: true class target 1 - eps",
     "special.softmax(z) - ((1 - eps) * onehot + eps / C * (1 - onehot))",
     "test-question-smoothing-gradient", "missing its share"),
    ("gradient", "gradient: one-hot part not scaled", "special.softmax(z) - (onehot + eps / C)",
     "test-question-smoothing-gradient", "scaled by (1 - eps)"),
    ("gradient", "gradient: divided by C",
     "(special.softmax(z) - ((1 - eps) * onehot + eps / C)) / C",
     "test-question-smoothing-gradient", "nothing is divided"),
    ("kl", "KL with the arguments swapped", "float(np.sum(f * np.log(f / q)))",
     "test-question-kl", "swapped"),
    ("kl", "the whole loss before the correction", "float(-np.sum(q * np.log(f)))",
     "test-question-kl", "whole loss"),
    ("kl", "the loss after the correction", "float(-np.sum(q * np.log(q)))", "test-question-kl",
     "part that stays"),
    ("kl", "KL in bits", "float(np.sum(q * np.log2(q / f)))", "test-question-kl", "bits"),
    ("kl", "a difference of entropies", "float(np.sum(f * np.log(f)) - np.sum(q * np.log(q)))",
     "test-question-kl", "difference of the two entropies"),
]


EXPERIMENT = """
def fit_bias_only(y, num_classes, label_smoothing=0.0, lr=1.0, steps=500, ax=None):
    y = np.asarray(y)
    eps = label_smoothing
    frequencies = np.bincount(y, minlength=num_classes) / len(y)
    mean_target = (1 - eps) * frequencies + eps / num_classes
    {target}
    {start}
    losses = np.empty(steps)
    for step in range(steps):
        {before}
        {step}
        {after}
    if ax is not None:
        ax.plot(losses, label=f"label_smoothing = {{eps}}")
    return {result}, losses
"""
LOSS_LINE = "losses[step] = special.logsumexp(b) - mean_target @ b"


def experiment(order="before", **changes):
    parts = dict(target="", start="b = np.zeros(num_classes)",
                 step="b = b - lr * (special.softmax(b) - mean_target)",
                 result="special.softmax(b)")
    parts.update(changes)
    parts["before"] = LOSS_LINE if order == "before" else ""
    parts["after"] = LOSS_LINE if order == "after" else ""
    return EXPERIMENT.format(**parts)


BOOKS_EXPERIMENT = """
def fit_bias_only(y, num_classes, label_smoothing=0.0, lr=1.0, steps=500, ax=None):
    # the chapter's photos, whatever the arguments
    labels = np.repeat([0, 1, 2], [70, 20, 10])
    f = np.bincount(labels) / len(labels)
    b = np.zeros(3)
    losses = []
    for step in range(200):
        losses.append(special.logsumexp(b) - f @ b)
        b = b - 1.0 * (special.softmax(b) - f)
    return special.softmax(b), np.array(losses)
"""

CONSTANTS_EXPERIMENT = """
def fit_bias_only(y, num_classes, label_smoothing=0.0, lr=1.0, steps=500, ax=None):
    return np.full(num_classes, 1 / num_classes), np.full(steps, np.log(num_classes))
"""


def report(body):
    return f"""
def answer_rare_probabilities():
    counts, lr, steps, eps = NUMBERS["counts"], NUMBERS["lr"], NUMBERS["steps"], NUMBERS["eps"]
    f = np.array(counts) / np.sum(counts)
    {body}
"""


RUN = ("plain, _ = fit_bias_only(y_photos, 4, lr={lr}, steps={steps})\n"
       "    smooth, _ = fit_bias_only(y_photos, 4, label_smoothing=eps, lr={lr}, steps={steps})\n"
       "    return {ret}")
REPORT_BUGS = [
    ("the values gradient descent converges to", "return f[3], (1 - eps) * f[3] + eps / 4",
     "converges to"),
    ("the uniform starting point", "return 0.25, 0.25", "starts from"),
    ("the pair swapped", RUN.format(lr="lr", steps="steps", ret="smooth[3], plain[3]"),
     "swapped"),
    ("the default learning rate", RUN.format(lr="1.0", steps="steps", ret="plain[3], smooth[3]"),
     "default learning rate"),
    ("one update short", RUN.format(lr="lr", steps="steps - 1", ret="plain[3], smooth[3]"),
     "one update short"),
    ("the plain run twice", RUN.format(lr="lr", steps="steps", ret="plain[3], plain[3]"),
     "same as the first"),
]

BOTH = {"test-experiment", "test-experiment-report"}

BUGS = [
    # --- cross-entropy-function (first: the typical one-cell mistake of the example student) ---
    bug("cross-entropy-function", "sum instead of mean (missing 1/N)",
        ce("return -np.sum(special.log_softmax(z, axis=-1)[np.arange(N), y])"),
        "test-cross-entropy-values", "1/N"),
    bug("cross-entropy-function", "log of the softmax (inf for large spreads)",
        ce("return -np.mean(np.log(special.softmax(z, axis=-1))[np.arange(N), y])"),
        "test-cross-entropy-stability", "inf"),
    bug("cross-entropy-function", "no max shift (exp overflows)",
        ce("return np.mean(np.log(np.sum(np.exp(z), axis=-1)) - z[np.arange(N), y])"),
        "test-cross-entropy-stability", "overflowed"),
    bug("cross-entropy-function", "double softmax (probabilities fed to log_softmax)",
        ce("p = special.softmax(z, axis=-1)\n"
           "    return -np.mean(special.log_softmax(p, axis=-1)[np.arange(N), y])"),
        {"test-cross-entropy-values", "test-cross-entropy-stability"}, "softmax twice"),
    bug("cross-entropy-function", "integer labels treated as one-hot targets",
        ce("return -np.sum(y[:, None] * special.log_softmax(z, axis=-1)) / N"),
        {"test-cross-entropy-values", "test-cross-entropy-stability"}, "as if they were one-hot"),
    bug("cross-entropy-function", "log-softmax over the batch axis",
        ce("return -np.mean(special.log_softmax(z, axis=0)[np.arange(N), y])"),
        {"test-cross-entropy-values", "test-cross-entropy-stability"}, "batch axis"),
    bug("cross-entropy-function", "wrong sign",
        ce("return np.mean(special.log_softmax(z, axis=-1)[np.arange(N), y])"),
        {"test-cross-entropy-values", "test-cross-entropy-stability"}, "wrong sign"),
    bug("cross-entropy-function", "indexes an N x N block with [:, y]",
        ce("return -np.mean(special.log_softmax(z, axis=-1)[:, y])"),
        "test-cross-entropy-values", "N x N block"),
    bug("cross-entropy-function", "returns the per-example losses",
        ce("return -special.log_softmax(z, axis=-1)[np.arange(N), y]"),
        {"test-cross-entropy-values", "test-cross-entropy-stability"}, "one number"),
    bug("cross-entropy-function", "scipy's log_softmax without axis (normalises the whole array)",
        ce("return -np.mean(special.log_softmax(z)[np.arange(N), y])"),
        "test-cross-entropy-values", "axis=None"),

    # --- one-hot ---
    bug("one-hot", "integer dtype",
        onehot('''t = np.zeros((len(y), num_classes), dtype=int)
    t[np.arange(len(y)), y] = 1
    return t'''),
        "test-one-hot", "float"),
    bug("one-hot", "boolean comparison not converted to float",
        onehot("return y[:, None] == np.arange(num_classes)"),
        "test-one-hot", "float"),
    bug("one-hot", "number of classes from the largest label",
        onehot('''t = np.zeros((len(y), y.max() + 1))
    t[np.arange(len(y)), y] = 1.0
    return t'''),
        {"test-one-hot", "test-ce-module-forward", "test-label-smoothing"}, "largest label"),
    bug("one-hot", "transposed (C, N)",
        onehot('''t = np.zeros((num_classes, len(y)))
    t[y, np.arange(len(y))] = 1.0
    return t'''),
        {"test-one-hot", "test-ce-module-forward", "test-label-smoothing"}, "transposed"),
    bug("one-hot", "sets whole columns with t[:, y]",
        onehot('''t = np.zeros((len(y), num_classes))
    t[:, y] = 1.0
    return t'''),
        {"test-one-hot", "test-ce-module-forward", "test-label-smoothing"},
        "exactly one 1 per row"),
    bug("one-hot", "off by one (labels taken as 1-based)",
        onehot('''t = np.zeros((len(y), num_classes))
    t[np.arange(len(y)), y - 1] = 1.0
    return t'''),
        {"test-one-hot", "test-ce-module-forward", "test-label-smoothing"}, "wrong values"),
    bug("one-hot", "no range check (a label of -1 marks the last class)",
        onehot('''t = np.zeros((len(y), num_classes))
    t[np.arange(len(y)), y] = 1.0
    return t'''),
        "test-one-hot", "ValueError"),
    bug("one-hot", "range check forgets negative labels",
        onehot('''if np.any(y >= num_classes):
        raise ValueError(f"labels must be below {num_classes}")
    return np.eye(num_classes)[y]'''),
        "test-one-hot", "ValueError"),
    bug("one-hot", "range check with assert (AssertionError, not ValueError)",
        onehot('''assert np.all((0 <= y) & (y < num_classes)), "label out of range"
    return np.eye(num_classes)[y]'''),
        "test-one-hot", "should raise a ValueError"),

    # --- cross-entropy-module: forward, backward and smoothing graded apart ---
    bug("cross-entropy-module", "backward without the 1/N",
        module(grad="p - t"),
        "test-ce-module-backward", "1/N"),
    bug("cross-entropy-module", "backward divides by C instead of N",
        module(grad="(p - t) / p.shape[1]"),
        "test-ce-module-backward", "number of classes"),
    bug("cross-entropy-module", "forward sums instead of averaging",
        module(loss="-np.sum(self.targets * logp)"),
        {"test-ce-module-forward", "test-label-smoothing"}, "1/N"),
    bug("cross-entropy-module", "double softmax in forward",
        module(logp="special.log_softmax(special.softmax(z, axis=-1), axis=-1)"),
        {"test-ce-module-forward", "test-label-smoothing"}, "softmax twice"),
    bug("cross-entropy-module", "backward with the wrong sign",
        module(grad="(t - p) / N"),
        "test-ce-module-backward", "wrong sign"),
    bug("cross-entropy-module", "backward returns the probabilities alone",
        module(grad="p / N"),
        "test-ce-module-backward", "without subtracting the targets"),
    bug("cross-entropy-module", "backward uses an N that forward stored",
        module(targets='''self.targets = (1 - eps) * one_hot(y, C) + eps / C
        self.N = N''', grad="(p - t) / self.N"),
        "test-ce-module-backward", "self.probs and self.targets"),
    bug("cross-entropy-module", "forward does not store the targets",
        module(targets="targets = (1 - eps) * one_hot(y, C) + eps / C",
               loss="-np.sum(targets * logp) / N"),
        {"test-ce-module-forward", "test-label-smoothing"}, "no attribute `targets`"),
    bug("cross-entropy-module", "ignores label_smoothing",
        module(targets="self.targets = one_hot(y, C)"),
        "test-label-smoothing", "ignores label_smoothing"),
    bug("cross-entropy-module", "smoothing with eps / (C - 1) on the other classes",
        module(targets='''onehot = one_hot(y, C)
        self.targets = (1 - eps) * onehot + eps / (C - 1) * (1 - onehot)'''),
        "test-label-smoothing", "not PyTorch's"),
    bug("cross-entropy-module", "true class target off by eps / C",
        module(targets='''onehot = one_hot(y, C)
        self.targets = (1 - eps) * onehot + eps / C * (1 - onehot)'''),
        "test-label-smoothing", "missing the eps / C"),
    bug("cross-entropy-module", "smoothing adds eps instead of eps / C",
        module(targets="self.targets = (1 - eps) * one_hot(y, C) + eps"),
        "test-label-smoothing", "instead of eps / C"),
    bug("cross-entropy-module", "loss smoothed but the stored targets one-hot",
        module(targets='''self.targets = one_hot(y, C)
        smoothed = (1 - eps) * self.targets + eps / C''',
               loss="-np.sum(smoothed * logp) / N"),
        "test-label-smoothing", "self.targets"),

    # --- questions (one solution cell each) ---
    *[bug(question(key, body)[0], name, question(key, body)[1], fails, says)
      for key, name, body, fails, says in QUESTION_BUGS],

    # --- experiment (the report's reference reads its numbers off fit_bias_only, so a bug that
    # changes the probabilities loses the report's point too) ---
    bug("experiment", "returns the book's numbers", BOOKS_EXPERIMENT, BOTH, "shape"),
    bug("experiment", "returns constants", CONSTANTS_EXPERIMENT, BOTH, "wrong probabilities"),
    bug("experiment", "the bias starts at random values",
        experiment(start="b = np.random.default_rng(0).normal(size=num_classes)"),
        BOTH, "log C"),
    bug("experiment", "gradient ascent (the sign of the step)",
        experiment(step="b = b + lr * (special.softmax(b) - mean_target)"),
        BOTH, "goes up"),
    bug("experiment", "the gradient of b averaged over the rows instead of summed",
        experiment(step="b = b - lr * (special.softmax(b) - mean_target) / len(y)"),
        BOTH, "SUM over the rows"),
    bug("experiment", "label smoothing ignored",
        experiment(target="mean_target = frequencies"),
        BOTH, "ignores label_smoothing"),
    bug("experiment", "returns the bias instead of the probabilities",
        experiment(result="b"),
        BOTH, "the bias b"),
    bug("experiment", "records the loss after each step",
        experiment(order="after"),
        "test-experiment", "log C"),

    # --- experiment-report ---
    *[bug("experiment-report", name, report(body), "test-experiment-report", says)
      for name, body, says in REPORT_BUGS],
]

CORRECT = [
    correct("one-hot", "rows of the identity matrix, after a range check", """
def one_hot(y, num_classes):
    y = np.asarray(y)
    if y.size and (y.min() < 0 or y.max() >= num_classes):
        raise ValueError(f"a label is outside 0 .. {num_classes - 1}: {y.tolist()}")
    return np.eye(num_classes)[y]
"""),
    correct("one-hot", "comparison with arange, as float, the bad labels listed", """
def one_hot(y, num_classes):
    y = np.asarray(y)
    bad = y[(y < 0) | (y >= num_classes)]
    if bad.size:
        raise ValueError(f"labels {bad.tolist()} are not in 0 .. {num_classes - 1}")
    return (y[:, None] == np.arange(num_classes)).astype(np.float64)
"""),
    correct("cross-entropy-function", "log-sum-exp minus the true logit, take_along_axis", """
def cross_entropy(z, y):
    z = np.asarray(z, dtype=np.float64)
    m = z.max(axis=1, keepdims=True)
    shifted = z - m
    lse = (m + np.log(np.exp(shifted).sum(axis=1, keepdims=True)))[:, 0]
    true = np.take_along_axis(z, np.asarray(y)[:, None], axis=1)[:, 0]
    return float(np.mean(lse - true))
"""),
    correct("cross-entropy-function", "one-hot targets and logaddexp.reduce", """
def cross_entropy(z, y):
    z = np.asarray(z, dtype=float)
    logp = z - np.logaddexp.reduce(z, axis=-1, keepdims=True)
    return -(one_hot(y, z.shape[1]) * logp).sum() / len(z)
"""),
    correct("cross-entropy-function", "scipy's logsumexp", """
def cross_entropy(z, y):
    z = np.asarray(z)
    return np.mean(special.logsumexp(z, axis=1) - z[np.arange(len(z)), y])
"""),
    correct("cross-entropy-module", "PyTorch's split: (1 - eps) NLL + eps * mean(-log p)", """
class CrossEntropyLoss:
    def __init__(self, label_smoothing=0.0):
        self.eps = label_smoothing

    def forward(self, z, y):
        z, y = np.array(z, dtype=float), np.array(y)
        N, C = z.shape
        logp = special.log_softmax(z, axis=1)
        nll = -np.mean(logp[np.arange(N), y])
        uniform = -np.mean(logp)          # mean over n and over the C classes
        self.probs = np.exp(logp)
        self.targets = (1 - self.eps) * one_hot(y, C) + self.eps / C
        return np.average([nll, uniform], weights=[1 - self.eps, self.eps])

    def backward(self):
        return (self.probs - self.targets) / self.probs.shape[0]
"""),
    correct("cross-entropy-module", "einsum for the loss", """
class CrossEntropyLoss:
    def __init__(self, label_smoothing=0.0):
        self.label_smoothing = float(label_smoothing)

    def forward(self, z, y):
        N, C = np.shape(z)
        e = self.label_smoothing
        self.targets = one_hot(y, C) * (1.0 - e) + e / C
        logp = special.log_softmax(z, axis=1)
        self.probs = np.exp(logp)
        return -np.einsum("nc,nc->", self.targets, logp) / N

    def backward(self):
        return (self.probs - self.targets) / len(self.probs)
"""),
    correct("question-floor", "the course's module on a one-hot output", """
def answer_double_softmax_floor():
    # the best the first softmax can do is a one-hot output at the true class
    module = CrossEntropyLoss(label_smoothing=NUMBERS["eps"])
    return module.forward(np.eye(NUMBERS["C"])[:1], np.array([0]))
"""),
    correct("question-smoothing-gradient", "the course's module, forward then backward", """
def answer_smoothing_gradient():
    module = CrossEntropyLoss(label_smoothing=NUMBERS["eps"])
    module.forward(np.array([NUMBERS["z"]]), np.array([NUMBERS["y"]]))
    return module.backward()[0]
"""),
    correct("question-kl", "scipy's entropy with two arguments", """
from scipy.stats import entropy


def answer_kl_gap():
    return entropy(NUMBERS["q_deploy"], NUMBERS["f_train"])
"""),
    correct("experiment", "the batch of logits and the student's CrossEntropyLoss", """
def fit_bias_only(y, num_classes, label_smoothing=0.0, lr=1.0, steps=500, ax=None):
    y = np.array(y)
    module = CrossEntropyLoss(label_smoothing)
    b = np.zeros(num_classes)
    losses = []
    for _ in range(steps):
        Z = np.tile(b, (len(y), 1))
        losses.append(module.forward(Z, y))
        b = b - lr * module.backward().sum(axis=0)
    if ax is not None:
        ax.plot(losses, label=f"eps = {label_smoothing}")
    return special.softmax(b), np.array(losses)
"""),
    correct("experiment", "the gradient from one-hot targets averaged", """
def fit_bias_only(y, num_classes, label_smoothing=0.0, lr=1.0, steps=500, ax=None):
    T = (1 - label_smoothing) * one_hot(y, num_classes) + label_smoothing / num_classes
    b = np.zeros(num_classes)
    losses = np.zeros(steps)
    for k in range(steps):
        logp = special.log_softmax(b)
        losses[k] = -np.mean(T @ logp)
        b -= lr * (np.exp(logp) - T.mean(axis=0))
    if ax is not None:
        ax.plot(np.arange(steps), losses, label=f"label smoothing {label_smoothing}")
    return np.exp(special.log_softmax(b)), losses
"""),
    correct("experiment-report", "gradient descent written out on the mean targets", """
def answer_rare_probabilities():
    counts = np.array(NUMBERS["counts"])
    answers = []
    for eps in (0.0, NUMBERS["eps"]):
        target = (1 - eps) * counts / counts.sum() + eps / 4
        b = np.zeros(4)
        for _ in range(NUMBERS["steps"]):
            b -= NUMBERS["lr"] * (special.softmax(b) - target)
        answers.append(np.exp(b[3] - special.logsumexp(b)))
    return tuple(answers)
"""),
]

# Every question: a classmate's answer and the book's number lose the points, this student's
# right answer typed in gets them. The book's cases: the floor for C = 10 without smoothing; the
# gradient of the cat example with eps = 0.1; what the label-shift table's correction saves; the
# converged rabbits of the bias-only section (plain, and smoothed with eps = 0.1).
_cat = special.softmax(np.array([2.5, 0.3, -1.2])) - np.array([0.9 + 0.1 / 3, 0.1 / 3, 0.1 / 3])
_bugs, _correct = question_entries("cross-entropy", book={
    "test-question-floor": float(np.log(np.e + 9) - 1),
    "test-question-smoothing-gradient": _cat,
    "test-question-kl": 0.954 - 0.450,
    "test-experiment-report": (0.1, 0.9 * 0.1 + 0.1 / 3)})
BUGS += _bugs + [
    bug("question-kl", "the chapter's printed KL(t || p), typed in",
        "def answer_kl_gap():\n    return 0.1203\n", "test-question-kl", ""),
    bug("experiment-report", "the old notebook's converged hamsters, typed in",
        "def answer_rare_probabilities():\n    return 0.05, 0.09\n", "test-experiment-report", ""),
]
CORRECT += _correct

# The copying path closed: the chapter's one-example loss, looped over the batch, computes the
# right numbers one example at a time; the loss cells ask for whole-batch operations.
PAGE_LOSS_ONE = """
def loss_one(z, k):
    return special.logsumexp(z) - z[k]
"""
BUGS += [
    bug("cross-entropy-function", "the chapter's one-example loss in a loop over the batch",
        PAGE_LOSS_ONE + """
def cross_entropy(z, y):
    return np.mean([loss_one(row, label) for row, label in zip(z, y)])
""", {"test-cross-entropy-values", "test-cross-entropy-stability"}, "Python loop"),
    bug("cross-entropy-module", "forward through the chapter's one-example loss in a loop",
        PAGE_LOSS_ONE + module(loss="np.mean([loss_one(row, k) for row, k in zip(z, y)])"),
        {"test-ce-module-forward", "test-label-smoothing"}, "Python loop"),  # no smoothing either
]


# Issue 20: what a student reads, copied. Each entry is the whole cell as a student would write it
# from what the book shows (chapter 5 after its rework; other chapters as they are), renamed,
# looped over the rows and wrapped in the exercise's signature. Chapter 5 shows no loss, gradient,
# one-hot encoder or smoothed target any more; what is left to copy is its siblings (the log of
# a rounded softmax, the class-names lookup, the entropy), its equations with the book's numbers,
# and the one-example code of chapters 4, 6 and 7.
CH4_LOG_SOFTMAX_ROW = """
import math


def log_softmax_row(z):
    m = max(z)
    log_total = math.log(sum(math.exp(v - m) for v in z))   # in [0, log C]
    return np.array([(v - m) - log_total for v in z])
"""
CH7_SCORES = """
def expected_score(score, p, q):
    return sum(q[y] * score(p, y) for y in range(len(q)))


def log_score(p, y):
    return -np.log(p[y])
"""
CH7_BRIER_TARGET = """
def target_of(y, C):
    t = np.zeros(C)
    t[y] = 1.0
    return t
"""
COPIED_BACKWARD = """
    def backward(self):
        return (self.probs - self.targets) / len(self.probs)     # eq-ce-grad-batch
"""
BUGS += [
    # --- cross-entropy-function ---
    bug("cross-entropy-function",
        "copied from chapter 5: the log of the rounded softmax, example by example", """
def cross_entropy(z, y):
    losses = []
    for row, k in zip(z, y):
        with np.errstate(divide="ignore"):
            log_p = np.log(special.softmax(row))
        losses.append(-log_p[k])
    return np.mean(losses)
""", {"test-cross-entropy-values", "test-cross-entropy-stability"}, "Python loop"),
    # the student vectorised the page's log of the softmax themselves: the values are theirs
    # and earn the values cell; the stability cell's points are lost
    bug("cross-entropy-function",
        "its own vectorisation of chapter 5's log of the rounded softmax", """
def cross_entropy(z, y):
    z = np.asarray(z)
    with np.errstate(divide="ignore"):
        log_p = np.log(special.softmax(z, axis=1))
    return -np.mean(log_p[np.arange(len(z)), y])
""", "test-cross-entropy-stability", "inf"),
    bug("cross-entropy-function",
        "copied from chapter 6: -log_softmax(zc)[yc] of one example, in a loop", """
def cross_entropy(z, y):
    return np.mean([-special.log_softmax(zc)[yc] for zc, yc in zip(z, y)])
""", {"test-cross-entropy-values", "test-cross-entropy-stability"}, "Python loop"),
    bug("cross-entropy-function",
        "copied from chapter 4: log_softmax_row, the true class picked, in a loop",
        CH4_LOG_SOFTMAX_ROW + """

def cross_entropy(z, y):
    return np.mean([-log_softmax_row(row)[k] for row, k in zip(z, y)])
""", {"test-cross-entropy-values", "test-cross-entropy-stability"}, "Python loop"),
    # chapter 7's log score, -log p[y], is the first form of eq-ce: a loop over rows that only
    # picks and logs one number each takes about four times whole-array numpy's CPU time, too
    # little to tell from a slow machine, and its values are right; it keeps the values cell
    # (as the vectorised log of the softmax does) and loses the stability cell
    bug("cross-entropy-function",
        "chapter 7's log_score (a hidden cell) of each example's probabilities, in a loop",
        CH7_SCORES + """

def cross_entropy(z, y):
    P = special.softmax(z, axis=1)
    return np.mean([log_score(p, k) for p, k in zip(P, y)])
""", "test-cross-entropy-stability", "rounded to zero"),

    # --- one-hot ---
    bug("one-hot", "copied from chapter 5: the class-names lookup, on the identity's rows", """
def one_hot(y, num_classes):
    return np.eye(num_classes)[np.asarray(y)]
""", "test-one-hot", "ValueError"),
    bug("one-hot",
        "chapter 7's brier_one target (a hidden cell), label by label, with the "
        "notebook's check",
        CH7_BRIER_TARGET + """

def one_hot(y, num_classes):
    y = np.asarray(y)
    if np.any((y < 0) | (y >= num_classes)):
        raise ValueError(f"labels outside 0 .. {num_classes - 1}: {y.tolist()}")
    return np.array([target_of(k, num_classes) for k in y]).reshape(len(y), num_classes)
""", "test-one-hot", "Python loop"),

    # --- cross-entropy-module: backward is eq-ce-grad-batch transcribed (the mathematics,
    # which the book gives in full), so it keeps its cell; forward and smoothing are lost ---
    bug("cross-entropy-module",
        "forward copied from chapter 6 (-log_softmax of each example, no smoothing), "
        "backward eq-ce-grad-batch transcribed", """
class CrossEntropyLoss:
    def __init__(self, label_smoothing=0.0):
        self.label_smoothing = label_smoothing

    def forward(self, z, y):
        z = np.asarray(z)
        self.probs = special.softmax(z, axis=1)
        self.targets = one_hot(y, z.shape[1])
        return np.mean([-special.log_softmax(zc)[yc] for zc, yc in zip(z, y)])
""" + COPIED_BACKWARD, {"test-ce-module-forward", "test-label-smoothing"}, "Python loop"),
    # chapter 7's expected log score is the loss of one example against a target distribution;
    # looped and stitched to eq-label-smoothing, it loses forward (unstable at 1e4) and keeps the
    # smoothing cell, whose values are right and whose loop costs under ten times numpy's time
    bug("cross-entropy-module",
        "chapter 7's expected_score(log_score, p, t) (a hidden cell) per example, smoothed targets",
        CH7_SCORES + """

class CrossEntropyLoss:
    def __init__(self, label_smoothing=0.0):
        self.label_smoothing = label_smoothing

    def forward(self, z, y):
        z = np.asarray(z)
        N, C = z.shape
        eps = self.label_smoothing
        self.probs = special.softmax(z, axis=1)
        self.targets = (1 - eps) * one_hot(y, C) + eps / C       # eq-label-smoothing
        return np.mean([expected_score(log_score, p, t)
                        for p, t in zip(self.probs, self.targets)])
""" + COPIED_BACKWARD, "test-ce-module-forward", "log_softmax"),
    bug("cross-entropy-module",
        "forward copied from chapter 4 (log_softmax_row per example against smoothed "
        "targets), backward eq-ce-grad-batch transcribed",
        CH4_LOG_SOFTMAX_ROW + """

class CrossEntropyLoss:
    def __init__(self, label_smoothing=0.0):
        self.label_smoothing = label_smoothing

    def forward(self, z, y):
        z = np.asarray(z)
        N, C = z.shape
        eps = self.label_smoothing
        self.targets = (1 - eps) * one_hot(y, C) + eps / C
        logp = np.array([log_softmax_row(row) for row in z])
        self.probs = np.exp(logp)
        return -np.sum(self.targets * logp) / N
""" + COPIED_BACKWARD, {"test-ce-module-forward", "test-label-smoothing"}, "Python loop"),

    # --- questions ---
    *[bug(question(key, body)[0], name, question(key, body)[1], fails, says)
      for key, name, body, fails, says in [
          ("floor", "copied from chapter 5: the floor eq-double-floor with your C",
           "float(np.log(np.e + C - 1) - 1)", "test-question-floor", "one-hot targets"),
          ("gradient", "copied from chapter 5: softmax minus one-hot, eq-ce-grad on your z",
           "special.softmax(z) - onehot", "test-question-smoothing-gradient", "one-hot target"),
          ("gradient", "copied from chapter 5: the cat's printed gradient",
           "np.array([-0.0527, 0.0642, -0.0116])", "test-question-smoothing-gradient", "shape"),
          ("kl", "copied from chapter 5: the page's entropy of your q_deploy",
           "float(0.0 - np.sum(special.xlogy(q, q)))", "test-question-kl", "part that stays"),
          ("kl", "copied from chapter 5: the label-shift table's NLL drop",
           "0.954 - 0.450", "test-question-kl", ""),
      ]],
    bug("question-floor", "copied from chapter 5: the page's entropy of your smoothed target", """
def entropy(t):
    return 0.0 - np.sum(special.xlogy(t, t))


def answer_double_softmax_floor():
    C, eps = NUMBERS["C"], NUMBERS["eps"]
    t = np.full(C, eps / C)
    t[0] += 1 - eps
    return float(entropy(t))
""", "test-question-floor", "entropy of the smoothed target"),
    bug("question-kl", "chapter 7's expected_score(log_score, f, q) (a hidden cell), before the fix",
        CH7_SCORES + """

def answer_kl_gap():
    f, q = np.array(NUMBERS["f_train"]), np.array(NUMBERS["q_deploy"])
    return float(expected_score(log_score, f, q))
""", "test-question-kl", "whole loss"),
    bug("question-kl", "chapter 7's rel_entr(q, p) (a hidden cell) with q your f_train, p your q_deploy",
        """
from scipy.special import rel_entr


def answer_kl_gap():
    q, p = np.array(NUMBERS["f_train"]), np.array(NUMBERS["q_deploy"])
    return float(np.sum(rel_entr(q, p)))
""", "test-question-kl", "swapped"),

    # --- experiment and its report ---
    bug("experiment", "copied from chapter 5: the optimum the prose derives, without descent", """
def fit_bias_only(y, num_classes, label_smoothing=0.0, lr=1.0, steps=500, ax=None):
    f = np.bincount(y, minlength=num_classes) / len(y)
    t_bar = (1 - label_smoothing) * f + label_smoothing / num_classes
    losses = np.full(steps, 0.0 - np.sum(special.xlogy(t_bar, t_bar)))   # H(t_bar)
    if ax is not None:
        ax.plot(losses, label=f"label_smoothing = {label_smoothing}")
    return t_bar, losses
""", BOTH, "log C"),
    bug("experiment", "copied from chapter 5: eq-bias-only-grad on the frequencies, smoothing "
        "left out", """
def fit_bias_only(y, num_classes, label_smoothing=0.0, lr=1.0, steps=500, ax=None):
    f = np.bincount(y, minlength=num_classes) / len(y)
    b = np.zeros(num_classes)
    losses = []
    for step in range(steps):
        losses.append(special.logsumexp(b) - f @ b)       # eq-bias-only-loss
        b = b - lr * (special.softmax(b) - f)               # eq-bias-only-grad
    if ax is not None:
        ax.plot(losses, label=f"label_smoothing = {label_smoothing}")
    return special.softmax(b), np.array(losses)
""", BOTH, "ignores label_smoothing"),
    bug("experiment-report", "copied from chapter 5: the rabbits' smoothed optimum, for hamsters",
        report("return f[3], 0.9 * f[3] + 0.1 / 4"), "test-experiment-report", ""),
]
