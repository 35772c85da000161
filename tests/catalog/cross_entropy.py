"""Buggy and alternative correct implementations for the `cross-entropy` exercise."""
from . import bug, correct

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
            logp="special.log_softmax(z, axis=-1)",
            loss="-np.sum(self.targets * logp) / N",
            grad="(p - t) / N")


def module(**changes):
    return MODULE.format(**{**GOOD, **changes})


QUESTIONS = """
def answer_double_softmax_floor():
    return {floor}


def answer_smoothing_gradient():
    z = np.array([1.0, 2.0, 0.0, -1.0])
    return {gradient}


def answer_kl_gap():
    t = np.array([0.5, 0.3, 0.2])
    p = np.array([0.7, 0.2, 0.1])
    return {kl}
"""
GOOD_ANSWERS = dict(floor="float(np.log(np.e + 9) - 1)",
                    gradient="special.softmax(z) - (0.8 * np.eye(4)[0] + 0.05)",
                    kl="float(np.sum(t * np.log(t / p)))")


def questions(**changes):
    return QUESTIONS.format(**{**GOOD_ANSWERS, **changes})


QUESTION_BUGS = [
    # (answer changed, what the student did, the wrong answer, cells that lose points, says)
    ("floor", "floor: log C, the uniform loss", "np.log(10)", "test-question-floor",
     "uniform prediction"),
    ("floor", "floor: zero, as for logits", "0.0", "test-question-floor", "second softmax"),
    ("floor", "floor: the probability e / (e + 9)", "np.e / (np.e + 9)", "test-question-floor",
     "minus its logarithm"),
    ("floor", "floor: log(e + 9), the -1 forgotten", "np.log(np.e + 9)", "test-question-floor",
     "forgot the -1"),
    ("floor", "floor: e + C in the denominator", "np.log(np.e + 10) - 1", "test-question-floor",
     "e + C - 1"),
    ("gradient", "gradient: one-hot target, smoothing ignored",
     "special.softmax(z) - np.eye(4)[0]", "test-question-smoothing-gradient",
     "one-hot target"),
    ("gradient", "gradient: reversed sign", "(0.8 * np.eye(4)[0] + 0.05) - special.softmax(z)",
     "test-question-smoothing-gradient", "sign is reversed"),
    ("gradient", "gradient: eps / (C - 1) on the other classes",
     "special.softmax(z) - (0.8 * np.eye(4)[0] + 0.2 / 3 * (1 - np.eye(4)[0]))",
     "test-question-smoothing-gradient", "eps / (C - 1)"),
    ("gradient", "gradient: true class target 1 - eps",
     "special.softmax(z) - (0.8 * np.eye(4)[0] + 0.05 * (1 - np.eye(4)[0]))",
     "test-question-smoothing-gradient", "0.85"),
    ("kl", "KL with the arguments swapped", "float(np.sum(p * np.log(p / t)))",
     "test-question-kl", "swapped"),
    ("kl", "the whole cross-entropy H(t, p)", "float(-np.sum(t * np.log(p)))",
     "test-question-kl", "whole cross-entropy"),
    ("kl", "the entropy H(t)", "float(-np.sum(t * np.log(t)))", "test-question-kl",
     "part that stays"),
    ("kl", "KL in bits", "float(np.sum(t * np.log2(t / p)))", "test-question-kl", "bits"),
]
QUESTION_BUGS = [(key, name, body, fails, says) for key, name, body, fails, says in QUESTION_BUGS]


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


def report(value):
    return f"""
def answer_smoothed_rare_probability():
    return {value}
"""


REPORT_BUGS = [
    ("the plain frequency of the hamsters", "10 / 200", "WITHOUT smoothing"),
    ("the one-hot part scaled, eps / C forgotten", "0.8 * 10 / 200", "eps / C"),
    ("the uniform starting point", "0.25", "starts from"),
    ("eps spread over the C - 1 other classes", "0.8 * 10 / 200 + 0.2 / 3", "C - 1"),
    ("eps / C added to the unscaled frequency", "10 / 200 + 0.2 / 4", "scaled by (1 - eps)"),
]

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

    # --- questions (one cell, three graded answers) ---
    *[bug("questions", name, questions(**{key: body}), fails, says)
      for key, name, body, fails, says in QUESTION_BUGS],

    # --- experiment ---
    bug("experiment", "the bias starts at random values",
        experiment(start="b = np.random.default_rng(0).normal(size=num_classes)"),
        "test-experiment", "log C"),
    bug("experiment", "gradient ascent (the sign of the step)",
        experiment(step="b = b + lr * (special.softmax(b) - mean_target)"),
        "test-experiment", "goes up"),
    bug("experiment", "the gradient of b averaged over the rows instead of summed",
        experiment(step="b = b - lr * (special.softmax(b) - mean_target) / len(y)"),
        "test-experiment", "SUM over the rows"),
    bug("experiment", "label smoothing ignored",
        experiment(target="mean_target = frequencies"),
        "test-experiment", "plain class frequencies"),
    bug("experiment", "returns the bias instead of the probabilities",
        experiment(result="b"),
        "test-experiment", "the bias b"),
    bug("experiment", "records the loss after each step",
        experiment(order="after"),
        "test-experiment", "log C"),

    # --- experiment-report ---
    *[bug("experiment-report", name, report(value), "test-experiment-report", says)
      for name, value, says in REPORT_BUGS],
]

CORRECT = [
    correct("one-hot", "rows of the identity matrix, after a range check", """
def one_hot(y, num_classes):
    y = np.asarray(y)
    if y.size and (y.min() < 0 or y.max() >= num_classes):
        raise ValueError(f"a label is outside 0 .. {num_classes - 1}: {y.tolist()}")
    return np.eye(num_classes)[y]
"""),
    correct("one-hot", "comparison with arange, as float, range checked in a loop", """
def one_hot(y, num_classes):
    y = np.asarray(y)
    for label in y:
        if not 0 <= label < num_classes:
            raise ValueError(f"label {label} is not in 0 .. {num_classes - 1}")
    return (y[:, None] == np.arange(num_classes)).astype(np.float64)
"""),
    correct("cross-entropy-function", "log-sum-exp minus the true logit, take_along_axis", """
def cross_entropy(z, y):
    z = np.asarray(z, dtype=np.float64)
    m = z.max(axis=1, keepdims=True)
    lse = (m + np.log(np.exp(z - m).sum(axis=1, keepdims=True)))[:, 0]
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
    return np.mean(special.logsumexp(z, axis=-1) - z[np.arange(len(z)), y])
"""),
    correct("cross-entropy-module", "PyTorch's split: (1 - eps) NLL + eps * mean(-log p)", """
class CrossEntropyLoss:
    def __init__(self, label_smoothing=0.0):
        self.eps = label_smoothing

    def forward(self, z, y):
        z, y = np.array(z, dtype=float), np.array(y)
        N, C = z.shape
        logp = special.log_softmax(z, axis=-1)
        nll = -np.mean(logp[np.arange(N), y])
        uniform = -np.mean(logp)          # mean over n and over the C classes
        self.probs = np.exp(logp)
        self.targets = (1 - self.eps) * one_hot(y, C) + self.eps / C
        return (1 - self.eps) * nll + self.eps * uniform

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
        logp = special.log_softmax(z, axis=-1)
        self.probs = np.exp(logp)
        return -np.einsum("nc,nc->", self.targets, logp) / N

    def backward(self):
        return (self.probs - self.targets) / len(self.probs)
"""),
    correct("questions", "answers typed in, rounded to four decimals", """
def answer_double_softmax_floor():
    return 1.4612


def answer_smoothing_gradient():
    return np.array([-0.6131, 0.5939, 0.0371, -0.0179])


def answer_kl_gap():
    return 0.0920
"""),
    correct("questions", "answers computed with scipy and the course's modules", """
from scipy.stats import entropy


def answer_double_softmax_floor():
    return cross_entropy(special.softmax(np.array([[50.0] + [0.0] * 9]), axis=-1), np.array([0]))


def answer_smoothing_gradient():
    module = CrossEntropyLoss(label_smoothing=0.2)
    module.forward(np.array([[1.0, 2.0, 0.0, -1.0]]), np.array([0]))
    return module.backward()[0]


def answer_kl_gap():
    return entropy([0.5, 0.3, 0.2], [0.7, 0.2, 0.1])
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
    correct("experiment-report", "the number read off the experiment", """
def answer_smoothed_rare_probability():
    return 0.09
"""),
    correct("experiment-report", "computed from the mean smoothed target", """
def answer_smoothed_rare_probability():
    f = np.bincount(y_survey, minlength=4) / len(y_survey)
    return ((1 - 0.2) * f + 0.2 / 4)[3]
"""),
]
