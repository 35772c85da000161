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
        self.p = np.exp(logp)
        self.N = N
        return {loss}

    def backward(self):
        p, t, N = self.p, self.t, self.N
        return {grad}
'''
GOOD = dict(targets="self.t = (1 - eps) * one_hot(y, C) + eps / C",
            logp="log_softmax(z, axis=-1)",
            loss="-np.sum(self.t * logp) / N",
            grad="(p - t) / N")


def module(**changes):
    return MODULE.format(**{**GOOD, **changes})


BUGS = [
    # --- cross-entropy-function (first: the typical one-cell mistake of the example student) ---
    bug("cross-entropy-function", "sum instead of mean (missing 1/N)",
        ce("return -np.sum(log_softmax(z)[np.arange(N), y])"),
        "test-cross-entropy-values", "1/N"),
    bug("cross-entropy-function", "log of the softmax (inf for large spreads)",
        ce("return -np.mean(np.log(softmax(z))[np.arange(N), y])"),
        "test-cross-entropy-stability", "inf"),
    bug("cross-entropy-function", "no max shift (exp overflows)",
        ce("return np.mean(np.log(np.sum(np.exp(z), axis=-1)) - z[np.arange(N), y])"),
        "test-cross-entropy-stability", "overflowed"),
    bug("cross-entropy-function", "double softmax (probabilities fed to log_softmax)",
        ce("return -np.mean(log_softmax(softmax(z))[np.arange(N), y])"),
        {"test-cross-entropy-values", "test-cross-entropy-stability"}, "softmax twice"),
    bug("cross-entropy-function", "integer labels treated as one-hot targets",
        ce("return -np.sum(y[:, None] * log_softmax(z)) / N"),
        {"test-cross-entropy-values", "test-cross-entropy-stability"}, "as if they were one-hot"),
    bug("cross-entropy-function", "log-softmax over the batch axis",
        ce("return -np.mean(log_softmax(z, axis=0)[np.arange(N), y])"),
        {"test-cross-entropy-values", "test-cross-entropy-stability"}, "batch axis"),
    bug("cross-entropy-function", "wrong sign",
        ce("return np.mean(log_softmax(z)[np.arange(N), y])"),
        {"test-cross-entropy-values", "test-cross-entropy-stability"}, "wrong sign"),
    bug("cross-entropy-function", "indexes an N x N block with [:, y]",
        ce("return -np.mean(log_softmax(z)[:, y])"),
        "test-cross-entropy-values", "N x N block"),
    bug("cross-entropy-function", "returns the per-example losses",
        ce("return -log_softmax(z)[np.arange(N), y]"),
        {"test-cross-entropy-values", "test-cross-entropy-stability"}, "one number"),

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
        {"test-one-hot", "test-ce-module-forward", "test-ce-module-backward",
         "test-label-smoothing"}, "largest label"),
    bug("one-hot", "transposed (C, N)",
        onehot('''t = np.zeros((num_classes, len(y)))
    t[y, np.arange(len(y))] = 1.0
    return t'''),
        {"test-one-hot", "test-ce-module-forward", "test-ce-module-backward",
         "test-label-smoothing"}, "transposed"),
    bug("one-hot", "sets whole columns with t[:, y]",
        onehot('''t = np.zeros((len(y), num_classes))
    t[:, y] = 1.0
    return t'''),
        {"test-one-hot", "test-ce-module-forward", "test-ce-module-backward",
         "test-label-smoothing"}, "exactly one 1 per row"),
    bug("one-hot", "off by one (labels taken as 1-based)",
        onehot('''t = np.zeros((len(y), num_classes))
    t[np.arange(len(y)), y - 1] = 1.0
    return t'''),
        {"test-one-hot", "test-ce-module-forward", "test-ce-module-backward",
         "test-label-smoothing"}, "wrong values"),

    # --- cross-entropy-module ---
    bug("cross-entropy-module", "backward without the 1/N",
        module(grad="p - t"),
        {"test-ce-module-backward", "test-label-smoothing"}, "1/N"),
    bug("cross-entropy-module", "forward sums instead of averaging",
        module(loss="-np.sum(self.t * logp)"),
        {"test-ce-module-forward", "test-label-smoothing"}, "1/N"),
    bug("cross-entropy-module", "double softmax in forward",
        module(logp="log_softmax(softmax(z), axis=-1)"),
        {"test-ce-module-forward", "test-ce-module-backward", "test-label-smoothing"},
        "softmax twice"),
    bug("cross-entropy-module", "backward with the wrong sign",
        module(grad="(t - p) / N"),
        {"test-ce-module-backward", "test-label-smoothing"}, "wrong sign"),
    bug("cross-entropy-module", "backward subtracts the integer labels",
        module(targets='''self.t = (1 - eps) * one_hot(y, C) + eps / C
        self.y = np.asarray(y)''', grad="(p - self.y[:, None]) / N"),
        {"test-ce-module-backward", "test-label-smoothing"}, "integer labels"),
    bug("cross-entropy-module", "ignores label_smoothing",
        module(targets="self.t = one_hot(y, C)"),
        "test-label-smoothing", "ignores label_smoothing"),
    bug("cross-entropy-module", "smoothing with eps / (C - 1) on the other classes",
        module(targets='''onehot = one_hot(y, C)
        self.t = (1 - eps) * onehot + eps / (C - 1) * (1 - onehot)'''),
        "test-label-smoothing", "not PyTorch's"),
    bug("cross-entropy-module", "true class target off by eps / C",
        module(targets='''onehot = one_hot(y, C)
        self.t = (1 - eps) * onehot + eps / C * (1 - onehot)'''),
        "test-label-smoothing", "missing the eps / C"),
    bug("cross-entropy-module", "smoothing adds eps instead of eps / C",
        module(targets="self.t = (1 - eps) * one_hot(y, C) + eps"),
        "test-label-smoothing", "instead of eps / C"),
    bug("cross-entropy-module", "backward uses the N of the first batch",
        module(targets='''self.t = (1 - eps) * one_hot(y, C) + eps / C
        self.first_N = getattr(self, "first_N", N)''', grad="(p - t) / self.first_N"),
        "test-ce-module-backward", "latest batch"),
]

CORRECT = [
    correct("one-hot", "rows of the identity matrix", '''
def one_hot(y, num_classes):
    return np.eye(num_classes)[np.asarray(y)]
'''),
    correct("one-hot", "comparison with arange, as float", '''
def one_hot(y, num_classes):
    return (np.asarray(y)[:, None] == np.arange(num_classes)).astype(np.float64)
'''),
    correct("cross-entropy-function", "log-sum-exp minus the true logit, take_along_axis", '''
def cross_entropy(z, y):
    z = np.asarray(z, dtype=np.float64)
    m = z.max(axis=1, keepdims=True)
    lse = (m + np.log(np.exp(z - m).sum(axis=1, keepdims=True)))[:, 0]
    true = np.take_along_axis(z, np.asarray(y)[:, None], axis=1)[:, 0]
    return float(np.mean(lse - true))
'''),
    correct("cross-entropy-function", "one-hot targets and logaddexp.reduce", '''
def cross_entropy(z, y):
    z = np.asarray(z, dtype=float)
    logp = z - np.logaddexp.reduce(z, axis=-1, keepdims=True)
    t = np.zeros_like(z)
    t[np.arange(len(z)), y] = 1.0
    return -(t * logp).sum() / len(z)
'''),
    correct("cross-entropy-module", "PyTorch's split: (1 - eps) NLL + eps * mean(-log p)", '''
class CrossEntropyLoss:
    def __init__(self, label_smoothing=0.0):
        self.eps = label_smoothing

    def forward(self, z, y):
        self.z, self.y = np.array(z, dtype=float), np.array(y)
        logp = log_softmax(self.z)
        nll = -np.mean(logp[np.arange(len(self.y)), self.y])
        uniform = -np.mean(logp)          # mean over n and over the C classes
        return (1 - self.eps) * nll + self.eps * uniform

    def backward(self):
        N, C = self.z.shape
        t = (1 - self.eps) * one_hot(self.y, C) + self.eps / C
        return (softmax(self.z) - t) / N
'''),
    correct("cross-entropy-module", "einsum for the loss", '''
class CrossEntropyLoss:
    def __init__(self, label_smoothing=0.0):
        self.label_smoothing = float(label_smoothing)

    def forward(self, z, y):
        N, C = np.shape(z)
        e = self.label_smoothing
        self.targets = one_hot(y, C) * (1.0 - e) + e / C
        logp = log_softmax(z)
        self.probs = np.exp(logp)
        return -np.einsum("nc,nc->", self.targets, logp) / N

    def backward(self):
        return (self.probs - self.targets) / len(self.probs)
'''),
]
