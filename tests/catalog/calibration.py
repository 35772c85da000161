"""Buggy and alternative correct implementations for the `calibration` exercise."""
from . import bug, correct

# --- reliability ----------------------------------------------------------------------------------

LOOP_CURVE = '''
def reliability_curve(probs, labels, n_bins=15):
    probs, labels = np.asarray(probs, dtype=float), np.asarray(labels)
    confidence = {confidence}
    correct = {correct}
    conf, acc, count = np.full(n_bins, {empty}), np.full(n_bins, {empty}), np.zeros(n_bins, int)
    for m in range({bins}):
        lo, hi = m / {bins}, (m + 1) / {bins}
        inside = {inside}
        count[m] = inside.sum()
        if count[m] > 0:
            conf[m] = confidence[inside].mean()
            acc[m] = correct[inside].mean()
    return conf, acc, count
'''


def curve(confidence="probs.max(axis=-1)", correct="probs.argmax(axis=-1) == labels",
          empty="np.nan", bins="n_bins", inside="(confidence > lo) & (confidence <= hi)"):
    return LOOP_CURVE.format(confidence=confidence, correct=correct, empty=empty, bins=bins,
                             inside=inside)


# --- ece ------------------------------------------------------------------------------------------

BINNED_ECE = '''
def expected_calibration_error(probs, labels, n_bins=15):
    probs, labels = np.asarray(probs, dtype=float), np.asarray(labels)
    confidence = {confidence}
    correct = (probs.argmax(axis=-1) == labels).astype(float)
    gaps, weights = [], []
    for m in range(n_bins):
        lo, hi = m / n_bins, (m + 1) / n_bins
        inside = {inside}
        if inside.any():
            gaps.append(correct[inside].mean() - confidence[inside].mean())
            weights.append(inside.sum() / len(labels))
    gaps, weights = np.array(gaps), np.array(weights)
    {total}
'''


def ece(total="return float(np.sum(weights * np.abs(gaps)))", confidence="probs.max(axis=-1)",
        inside="(confidence > lo) & (confidence <= hi)"):
    return BINNED_ECE.format(total=total, confidence=confidence, inside=inside)


# --- temperature-scaling --------------------------------------------------------------------------

BISECTION = '''
def fit_temperature(logits, labels):
    z = np.asarray(logits, dtype=float)
    labels = np.asarray(labels)
    rows = np.arange(len(labels))

    def slope(T):
        q = {q}
        return np.mean(z[rows, labels] - np.sum(q * z, axis=1)) / T**2

    lo, hi = {lo}, 100.0
    if slope(hi) <= 0:
        return hi
    if slope(lo) >= 0:
        return lo
    for _ in range(80):
        mid = np.sqrt(lo * hi)
        if slope(mid) < 0:
            lo = mid
        else:
            hi = mid
    return float(np.sqrt(lo * hi))
'''


def bisection(q="softmax(z / T, axis=1)", lo="0.01"):
    return BISECTION.format(q=q, lo=lo)


NLL_SEARCH = '''
def fit_temperature(logits, labels):
    z = np.asarray(logits, dtype=float)
    labels = np.asarray(labels)
    rows = np.arange(len(labels))

    def nll(T):
        {nll}

    {search}
'''
GOLDEN = '''a, b = np.log(0.01), np.log(100.0)
    ratio = (np.sqrt(5) - 1) / 2
    for _ in range(200):
        c, d = b - ratio * (b - a), a + ratio * (b - a)
        if nll(np.exp(c)) < nll(np.exp(d)):
            b = d
        else:
            a = c
    return float(np.exp((a + b) / 2))'''


def nll_search(nll="return -np.mean(log_softmax(z / T, axis=1)[rows, labels])", search=GOLDEN):
    return NLL_SEARCH.format(nll=nll, search=search)


# --- questions ------------------------------------------------------------------------------------

QUESTIONS = '''
def answer_ece_two_bins():
    return {ece}


def answer_temperature():
    return {temperature}


def answer_accuracy_choice():
    return {choice}


def answer_float64_gap():
    return {gap}
'''


def questions(ece="0.0917", temperature="1.92", choice='"c"', gap="38.93"):
    return QUESTIONS.format(ece=ece, temperature=temperature, choice=choice, gap=gap)


# --- experiment -----------------------------------------------------------------------------------

EXPERIMENT = '''
def temperature_experiment(val_logits, val_labels, test_logits, test_labels, plot=True):
    T = {fit}
    before = softmax(test_logits, axis=1)
    after = {after}
    if plot:
        fig, ax = plt.subplots()
        for probs, name in [(before, "T = 1"), (after, "fitted T")]:
            conf, acc, count = reliability_curve(probs, test_labels)
            ax.plot(conf, acc, "o-", label=name)
        ax.plot([0, 1], [0, 1], "k--")
        ax.set_xlabel("confidence")
        ax.set_ylabel("accuracy")
        ax.legend()
        plt.close(fig)
    return T, {ece_before}, {ece_after}
'''


def experiment(fit="fit_temperature(val_logits, val_labels)",
               after="softmax(test_logits / T, axis=1)",
               ece_before="expected_calibration_error(before, test_labels)",
               ece_after="expected_calibration_error(after, test_labels)"):
    return EXPERIMENT.format(fit=fit, after=after, ece_before=ece_before, ece_after=ece_after)


BUGS = [
    # --- reliability ---
    bug("reliability", "bins [lo, hi) that drop confidence 1.0",
        curve(inside="(confidence >= lo) & (confidence < hi)"),
        "test-reliability-edges", "exactly 1.0"),
    bug("reliability", "floor(conf * M) bins: [lo, hi) with 1.0 clipped into the last", '''
def reliability_curve(probs, labels, n_bins=15):
    probs, labels = np.asarray(probs, dtype=float), np.asarray(labels)
    confidence = probs.max(axis=-1)
    correct = (probs.argmax(axis=-1) == labels).astype(float)
    bins = np.minimum((confidence * n_bins).astype(int), n_bins - 1)
    count = np.bincount(bins, minlength=n_bins)
    with np.errstate(invalid="ignore"):
        conf = np.bincount(bins, weights=confidence, minlength=n_bins) / count
        acc = np.bincount(bins, weights=correct, minlength=n_bins) / count
    return conf, acc, count
''', "test-reliability-edges", "upper edge"),
    bug("reliability", "0 instead of nan for empty bins", curve(empty="0.0"),
        "test-reliability-edges", "nan"),
    bug("reliability", "bins the probability of the true class",
        curve(confidence="probs[np.arange(len(labels)), labels]"),
        {"test-reliability", "test-reliability-edges"}, "TRUE class"),
    bug("reliability", "n_bins ignored (always 15 bins)", curve(bins="15").replace(
        "np.full(n_bins", "np.full(15").replace("np.zeros(n_bins", "np.zeros(15"),
        {"test-reliability", "test-reliability-edges"}, "one entry per bin"),
    bug("reliability", "bins every class's probability", '''
def reliability_curve(probs, labels, n_bins=15):
    probs, labels = np.asarray(probs, dtype=float), np.asarray(labels)
    confidence = probs.ravel()
    correct = (np.arange(probs.shape[1]) == labels[:, None]).ravel().astype(float)
    edges = np.linspace(0, 1, n_bins + 1)
    bins = np.digitize(confidence, edges[1:-1], right=True)
    count = np.bincount(bins, minlength=n_bins)
    with np.errstate(invalid="ignore"):
        conf = np.bincount(bins, weights=confidence, minlength=n_bins) / count
        acc = np.bincount(bins, weights=correct, minlength=n_bins) / count
    return conf, acc, count
''', {"test-reliability", "test-reliability-edges"}, "every class"),
    bug("reliability", "accuracy as 'true-class probability above one half'",
        curve(correct="probs[np.arange(len(labels)), labels] > 0.5"),
        {"test-reliability", "test-reliability-edges"}, "accuracy"),

    bug("reliability", "edges from np.linspace (one float off m / M for some M)", '''
def reliability_curve(probs, labels, n_bins=15):
    probs, labels = np.asarray(probs, dtype=float), np.asarray(labels)
    confidence = probs.max(axis=-1)
    correct = (probs.argmax(axis=-1) == labels).astype(float)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    bins = np.digitize(confidence, edges[1:-1], right=True)
    count = np.bincount(bins, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        conf = np.bincount(bins, weights=confidence, minlength=n_bins) / count
        acc = np.bincount(bins, weights=correct, minlength=n_bins) / count
    return conf, acc, count
''', "test-reliability-edges", "np.linspace"),

    # --- ece ---
    bug("ece", "ECE averaged per bin instead of weighted by count",
        ece(total="return float(np.mean(np.abs(gaps)))"), "test-ece", "equal weights"),
    bug("ece", "signed gaps (no absolute value)",
        ece(total="return float(abs(np.sum(weights * gaps)))"), "test-ece", "cancel"),
    bug("ece", "maximum calibration error instead of the average",
        ece(total="return float(np.max(np.abs(gaps)))"), "test-ece", "largest gap"),
    bug("ece", "root-mean-square gap",
        ece(total="return float(np.sqrt(np.sum(weights * gaps ** 2)))"), "test-ece", "squares"),
    bug("ece", "bins that drop confidence 1.0",
        ece(inside="(confidence >= lo) & (confidence < hi)"), "test-ece", "exactly 1.0"),
    bug("ece", "confidence of the true class",
        ece(confidence="probs[np.arange(len(labels)), labels]"), "test-ece", "wrong values"),

    bug("ece", "edges from np.linspace (one float off m / M for some M)", '''
def expected_calibration_error(probs, labels, n_bins=15):
    probs, labels = np.asarray(probs, dtype=float), np.asarray(labels)
    confidence = probs.max(axis=-1)
    correct = (probs.argmax(axis=-1) == labels).astype(float)
    bins = np.digitize(confidence, np.linspace(0.0, 1.0, n_bins + 1)[1:-1], right=True)
    residual = np.bincount(bins, weights=correct - confidence, minlength=n_bins)
    return float(np.abs(residual).sum() / len(labels))
''', "test-ece", "np.linspace"),

    # --- temperature-scaling ---
    bug("temperature-scaling", "scipy's log_softmax without axis (over the whole array)",
        nll_search(nll="return -np.mean(log_softmax(z / T)[rows, labels])"),
        {"test-fit-temperature", "test-temperature-robust"}, "axis=None"),
    bug("temperature-scaling", "temperature multiplied instead of divided",
        nll_search(nll="return -np.mean(log_softmax(z * T, axis=1)[rows, labels])"),
        {"test-fit-temperature", "test-temperature-robust"}, "multiplied"),
    bug("temperature-scaling", "T allowed to go negative (bisection on 1/T over [-100, 100])", '''
def fit_temperature(logits, labels):
    z = np.asarray(logits, dtype=float)
    labels = np.asarray(labels)
    rows = np.arange(len(labels))

    def slope(beta):            # d NLL / d beta, increasing in beta (the NLL is convex in beta)
        q = softmax(beta * z, axis=1)
        return np.mean(np.sum(q * z, axis=1) - z[rows, labels])

    lo, hi = -100.0, 100.0
    for _ in range(100):
        mid = (lo + hi) / 2
        if slope(mid) < 0:
            lo = mid
        else:
            hi = mid
    return float(1 / ((lo + hi) / 2))
''', "test-temperature-robust", "must be positive"),
    bug("temperature-scaling", "searches only T >= 1", bisection(lo="1.0"),
        {"test-fit-temperature", "test-temperature-robust"}, "smallest at"),
    bug("temperature-scaling", "coarse grid of T in steps of 0.1",
        nll_search(search="grid = np.arange(0.1, 10.05, 0.1)\n"
                          "    return float(grid[np.argmin([nll(T) for T in grid])])"),
        {"test-fit-temperature", "test-temperature-robust"}, "smallest at"),
    bug("temperature-scaling", "softmax without the max-shift",
        bisection(q="np.exp(z / T) / np.exp(z / T).sum(axis=1, keepdims=True)"),
        {"test-fit-temperature", "test-temperature-robust"}, "subtracting each row's maximum"),
    bug("temperature-scaling", "NLL averaged over every class, not the true one",
        nll_search(nll="return -np.mean(log_softmax(z / T, axis=1))"),
        {"test-fit-temperature", "test-temperature-robust"}, "smallest at"),
    bug("temperature-scaling", "divides the caller's logits in place", '''
def fit_temperature(logits, labels):
    z = np.asarray(logits)
    labels = np.asarray(labels)
    rows = np.arange(len(labels))
    best_T, best = 1.0, np.inf
    for T in np.exp(np.linspace(np.log(0.01), np.log(100.0), 4001)):
        z /= T
        nll = -np.mean(log_softmax(z, axis=1)[rows, labels])
        z *= T
        if nll < best:
            best_T, best = T, nll
    return float(best_T)
''', {"test-fit-temperature", "test-temperature-robust"}, "modified its input"),

    # --- questions: three wrong answers (or more) per question ---
    bug("questions", "(a) bins averaged with equal weights", questions(ece="0.1"),
        "test-answer-ece", "equal weights"),
    bug("questions", "(a) signed gaps", questions(ece="abs(0.25 - 0.3) / 6"),
        "test-answer-ece", "cancel"),
    bug("questions", "(a) the larger gap (MCE)", questions(ece="0.125"),
        "test-answer-ece", "maximum calibration error"),
    bug("questions", "(a) confidence 1.0 left out", questions(ece="(0.25 + 0.7) / 6"),
        "test-answer-ece", "exactly 1.0"),
    bug("questions", "(b) logits multiplied by T", questions(temperature="4 * np.log(8)"),
        "test-answer-temperature", "multiplied"),
    bug("questions", "(b) 1/T", questions(temperature="np.log(8) / 4"),
        "test-answer-temperature", "inverse temperature"),
    bug("questions", "(b) one other class instead of two", questions(temperature="4 / np.log(4)"),
        "test-answer-temperature", "two other classes"),
    bug("questions", "(c) temperature raises accuracy", questions(choice='"a"'),
        "test-answer-accuracy", "does not change which class"),
    bug("questions", "(c) T > 1 lowers accuracy", questions(choice='"b"'),
        "test-answer-accuracy", "argmax"),
    bug("questions", "(c) T < 1 changes accuracy", questions(choice='"d"'),
        "test-answer-accuracy", "sharpens"),
    bug("questions", "(d) 53 ln 2, without the nine classes", questions(gap="36.74"),
        "test-answer-float64", "nine other classes"),
    bug("questions", "(d) about 37", questions(gap="37"), "test-answer-float64",
        "ignores the number of classes"),
    bug("questions", "(d) the float32 threshold", questions(gap="np.log(9) + 24 * np.log(2)"),
        "test-answer-float64", "float32"),

    # --- experiment ---
    bug("experiment", "T fitted on the test set",
        experiment(fit="fit_temperature(test_logits, test_labels)"), "test-experiment",
        "TEST examples"),
    bug("experiment", "'after' not rescaled", experiment(after="softmax(test_logits, axis=1)"),
        "test-experiment", "divide the test logits"),
    bug("experiment", "logits multiplied by T", experiment(after="softmax(test_logits * T, axis=1)"),
        "test-experiment", "multiplies"),
    bug("experiment", "ECE measured on the validation set", experiment(
        ece_before="expected_calibration_error(softmax(val_logits, axis=1), val_labels)",
        ece_after="expected_calibration_error(softmax(val_logits / T, axis=1), val_labels)"),
        "test-experiment", "validation examples"),
    bug("experiment", "softmax over the whole array (scipy's default axis=None)",
        experiment(after="softmax(test_logits / T)"), "test-experiment", "axis=1"),
]

CORRECT = [
    correct("reliability", "explicit loop over the bins", curve()),
    correct("reliability", "ceil(conf * M) - 1 as the bin index", '''
def reliability_curve(probs, labels, n_bins=15):
    probs, labels = np.asarray(probs, dtype=float), np.asarray(labels)
    confidence = probs.max(axis=-1)
    correct = probs.argmax(axis=-1) == labels
    index = np.clip(np.ceil(confidence * n_bins).astype(int) - 1, 0, n_bins - 1)
    count = np.array([np.sum(index == m) for m in range(n_bins)])
    conf = np.array([confidence[index == m].mean() if c else np.nan for m, c in enumerate(count)])
    acc = np.array([correct[index == m].mean() if c else np.nan for m, c in enumerate(count)])
    return conf, acc, count
'''),
    correct("ece", "weighted gaps from the bins", ece()),
    correct("ece", "reuses reliability_curve and np.nansum", '''
def expected_calibration_error(probs, labels, n_bins=15):
    conf, acc, count = reliability_curve(probs, labels, n_bins)
    return float(np.nansum(count / np.sum(count) * np.abs(acc - conf)))
'''),
    correct("temperature-scaling", "golden-section search on log T", nll_search()),
    correct("temperature-scaling", "Newton's method on log T with a bisection fallback", '''
def fit_temperature(logits, labels):
    z = np.asarray(logits, dtype=float)
    labels = np.asarray(labels)
    rows = np.arange(len(labels))

    def grad_u(u):              # d NLL / d log T = T * d NLL / dT
        T = np.exp(u)
        q = softmax(z / T, axis=1)
        return np.mean(z[rows, labels] - np.sum(q * z, axis=1)) / T

    lo, hi = np.log(0.01), np.log(100.0)
    if grad_u(hi) <= 0:
        return 100.0
    if grad_u(lo) >= 0:
        return 0.01
    u = 0.0
    for _ in range(100):
        g = grad_u(u)
        if g < 0:
            lo = u
        else:
            hi = u
        h = 1e-5
        curvature = (grad_u(u + h) - grad_u(u - h)) / (2 * h)
        step = u - g / curvature if curvature > 0 else (lo + hi) / 2
        u = step if lo < step < hi else (lo + hi) / 2
        if hi - lo < 1e-12:
            break
    return float(np.exp(u))
'''),
    correct("questions", "the numbers, rounded", questions()),
    correct("questions", "computed, with another spelling of the choice", questions(
        ece="(abs(1 - 0.75) + abs(3 - 3.3)) / 6", temperature="4 / np.log(2 * 0.8 / (1 - 0.8))",
        choice='" (C) "', gap="np.log(9) - 53 * np.log(0.5)")),
    correct("experiment", "one panel, ECE from the function", experiment()),
    correct("experiment", "ECE from reliability_curve's counts", experiment(
        ece_before="_ece(before, test_labels)", ece_after="_ece(after, test_labels)").replace(
        "def temperature_experiment", '''def _ece(probs, labels):
    conf, acc, count = reliability_curve(probs, labels, 15)
    return float(np.nansum(count / count.sum() * np.abs(acc - conf)))


def temperature_experiment''')),
]
