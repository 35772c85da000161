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


def bisection(q="np.exp(log_softmax(z / T))", lo="0.01"):
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


def nll_search(nll="return -np.mean(log_softmax(z / T)[rows, labels])", search=GOLDEN):
    return NLL_SEARCH.format(nll=nll, search=search)


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

    # --- temperature-scaling ---
    bug("temperature-scaling", "temperature multiplied instead of divided",
        nll_search(nll="return -np.mean(log_softmax(z * T)[rows, labels])"),
        {"test-fit-temperature", "test-temperature-robust"}, "multiplied"),
    bug("temperature-scaling", "T allowed to go negative (bisection on 1/T over [-100, 100])", '''
def fit_temperature(logits, labels):
    z = np.asarray(logits, dtype=float)
    labels = np.asarray(labels)
    rows = np.arange(len(labels))

    def slope(beta):            # d NLL / d beta, increasing in beta (the NLL is convex in beta)
        q = np.exp(log_softmax(beta * z))
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
        {"test-fit-temperature", "test-temperature-robust"}, "floating-point warning"),
    bug("temperature-scaling", "NLL averaged over every class, not the true one",
        nll_search(nll="return -np.mean(log_softmax(z / T))"),
        {"test-fit-temperature", "test-temperature-robust"}, "smallest at"),
    bug("temperature-scaling", "divides the caller's logits in place", '''
def fit_temperature(logits, labels):
    z = np.asarray(logits)
    labels = np.asarray(labels)
    rows = np.arange(len(labels))
    best_T, best = 1.0, np.inf
    for T in np.exp(np.linspace(np.log(0.01), np.log(100.0), 4001)):
        z /= T
        nll = -np.mean(log_softmax(z)[rows, labels])
        z *= T
        if nll < best:
            best_T, best = T, nll
    return float(best_T)
''', {"test-fit-temperature", "test-temperature-robust"}, "modified its input"),
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
        q = np.exp(log_softmax(z / T))
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
]
