"""Buggy and alternative correct implementations for the `calibration` exercise."""
import numpy as np

from . import bug, correct, question_entries

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
            conf[m] = confidence[inside].sum() / count[m]
            acc[m] = correct[inside].sum() / count[m]
    return conf, acc, count
'''


def curve(confidence="np.max(probs, 1)", correct="np.argmax(probs, 1) == labels",
          empty="np.nan", bins="n_bins", inside="(confidence > lo) & (confidence <= hi)"):
    return LOOP_CURVE.format(confidence=confidence, correct=correct, empty=empty, bins=bins,
                             inside=inside)


# --- ece ------------------------------------------------------------------------------------------

BINNED_ECE = '''
def expected_calibration_error(probs, labels, n_bins=15):
    probs, labels = np.asarray(probs, dtype=float), np.asarray(labels)
    confidence = {confidence}
    correct = (np.argmax(probs, 1) == labels).astype(float)
    gaps, weights = [], []
    for m in range(n_bins):
        lo, hi = m / n_bins, (m + 1) / n_bins
        inside = {inside}
        if inside.any():
            gaps.append((correct[inside].sum() - confidence[inside].sum()) / inside.sum())
            weights.append(inside.sum() / len(labels))
    gaps, weights = np.array(gaps), np.array(weights)
    {total}
'''


def ece(total="return float(np.sum(weights * np.abs(gaps)))", confidence="np.max(probs, 1)",
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
    return float(np.exp(np.mean([a, b])))'''


def nll_search(nll="return -np.mean(log_softmax(z / T, axis=1)[rows, labels])", search=GOLDEN):
    return NLL_SEARCH.format(nll=nll, search=search)


# --- questions: each on this student's NUMBERS ---------------------------------------------------

ECE_Q = """
def answer_ece_two_bins():
    conf = np.array(NUMBERS["confidence"])
    right = np.array(NUMBERS["right"], dtype=float)
    low = {low}
    {body}
"""
ECE_RIGHT = "return (abs(np.sum(right[low] - conf[low])) + abs(np.sum(right[~low] - conf[~low]))) / 8"


def ece_q(body=ECE_RIGHT, low="conf <= 0.5"):
    return ECE_Q.format(low=low, body=body)


TEMPERATURE_Q = """
def answer_temperature():
    C, lead, q = NUMBERS["C"], NUMBERS["lead"], NUMBERS["target"]
    return {ret}
"""

ACCURACY_Q = """
def answer_accuracy_choice():
    truth = [(1, 0, 1, 0), (1, 0), (1, 0, 1, 0), (1, 0), (0, 1, 1, 0), (1, 0, 1, 0)]
    right = [letter for letter, versions, i in zip("abcdef", truth, NUMBERS["statements"])
             if versions[i]]
    wrong = [letter for letter in "abcdef" if letter not in right]
    {ret}
"""

GAIN_Q = """
def answer_linear_gain():
    q = np.array(NUMBERS["belief"])
    return {ret}
"""

# --- experiment -----------------------------------------------------------------------------------

EXPERIMENT = """
def temperature_experiment(val_logits, val_labels, test_logits, test_labels, plot=True):
    T = {fit}
    before = softmax(test_logits, axis=1)
    after = {after}
    onehot = np.eye(test_logits.shape[1])[test_labels]
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
    return (T, {ece_before}, {ece_after},
            {brier}(before, onehot, test_labels), {brier}(after, onehot, test_labels))


def brier(probs, onehot, labels):
    return float(np.mean(np.sum((probs - onehot) ** 2, axis=1)))


def brier_top_class(probs, onehot, labels):
    right = (np.argmax(probs, 1) == labels).astype(float)
    return float(np.mean((np.max(probs, 1) - right) ** 2))


def brier_all_entries(probs, onehot, labels):
    return float(np.mean((probs - onehot) ** 2))


def brier_from_the_true_class(probs, onehot, labels):
    true = probs[np.arange(len(labels)), labels]
    return float(np.mean(1 - 2 * true + np.sum(probs * probs, axis=1)))
"""


def experiment(fit="fit_temperature(val_logits, val_labels)",
               after="softmax(test_logits / T, axis=1)",
               ece_before="expected_calibration_error(before, test_labels)",
               ece_after="expected_calibration_error(after, test_labels)", brier="brier"):
    return EXPERIMENT.format(fit=fit, after=after, ece_before=ece_before, ece_after=ece_after,
                             brier=brier)


# What a student who does not run the experiment returns: the chapter's numbers (its digits model:
# T fitted on the validation set, the test ECE and Brier score before and after), and the five
# numbers the reference prints for this student's own data, typed in.
BOOK_EXPERIMENT = (1.585, 0.0407, 0.012, 0.1127, 0.1057)
MY_EXPERIMENT = (3.1431, 0.2671, 0.0339, 0.7126, 0.6011)


def returns(*values):
    return ("def temperature_experiment(val_logits, val_labels, test_logits, test_labels, "
            f"plot=True):\n    return {values!r}\n")


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
    bug("temperature-scaling", "the chapter's grid (401 temperatures from 0.1 to 10)",
        nll_search(search="grid = np.geomspace(0.1, 10, 401)\n"
                          "    return float(grid[np.argmin([nll(T) for T in grid])])"),
        {"test-fit-temperature", "test-temperature-robust"}, "smallest at"),
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

    # --- questions: realistic wrong answers computed from this student's NUMBERS ---
    bug("answer-ece", "bins averaged with equal weights", ece_q(
        "return np.mean([abs(right[b].mean() - conf[b].mean()) for b in (low, ~low)])"),
        "test-answer-ece", "equal weights"),
    bug("answer-ece", "signed gaps that cancel", ece_q("return abs(np.sum(right - conf)) / 8"),
        "test-answer-ece", "cancel"),
    bug("answer-ece", "the larger gap (MCE)", ece_q(
        "return max(abs(right[b].mean() - conf[b].mean()) for b in (low, ~low))"),
        "test-answer-ece", "maximum calibration error"),
    bug("answer-ece", "confidence 1.0 left out", ece_q(ECE_RIGHT.replace(
        "right[~low] - conf[~low]", "right[~low & (conf < 1)] - conf[~low & (conf < 1)]")),
        "test-answer-ece", "closed on the right"),
    bug("answer-ece", "0.5 in the upper bin", ece_q(low="conf < 0.5"), "test-answer-ece",
        "closed on the right"),

    bug("answer-temperature", "the inverse temperature", TEMPERATURE_Q.format(
        ret="np.log((C - 1) * q / (1 - q)) / lead"), "test-answer-temperature", "inverse"),
    bug("answer-temperature", "one other class instead of C - 1", TEMPERATURE_Q.format(
        ret="lead / np.log(q / (1 - q))"), "test-answer-temperature", "ONE other class"),
    bug("answer-temperature", "C other classes instead of C - 1", TEMPERATURE_Q.format(
        ret="lead / np.log(C * q / (1 - q))"), "test-answer-temperature", "not with C"),
    # For this student's C = 4 and target 0.7, log10(7) is within 0.3 % of ln(7 / 3): the
    # message names the first of the two mistakes that give this number.
    bug("answer-temperature", "base-10 logarithm", TEMPERATURE_Q.format(
        ret="lead / np.log10((C - 1) * q / (1 - q))"), "test-answer-temperature", "ONE other class"),

    bug("answer-accuracy", "one false statement added", ACCURACY_Q.format(
        ret='return "".join(right + wrong[:1])'), "test-answer-accuracy", "is false"),
    bug("answer-accuracy", "one true statement left out", ACCURACY_Q.format(
        ret='return "".join(right[1:])'), "test-answer-accuracy", "missing"),
    bug("answer-accuracy", "every statement", ACCURACY_Q.format(ret='return "abcdef"'),
        "test-answer-accuracy", "is false"),
    bug("answer-accuracy", "the number of true statements", ACCURACY_Q.format(
        ret="return len(right)"), "test-answer-accuracy", "letters"),

    bug("answer-linear-gain", "honest reporting taken as best", GAIN_Q.format(ret="0.0"),
        "test-answer-linear-gain", "already best"),
    bug("answer-linear-gain", "the honest report's expected loss", GAIN_Q.format(
        ret="1 - np.sum(q ** 2)"), "test-answer-linear-gain", "honest report itself"),
    bug("answer-linear-gain", "the best report's expected loss", GAIN_Q.format(
        ret="1 - q.max()"), "test-answer-linear-gain", "best report itself"),
    bug("answer-linear-gain", "the Brier score's penalty instead", GAIN_Q.format(
        ret="np.sum((np.eye(len(q))[np.argmax(q)] - q) ** 2)"), "test-answer-linear-gain",
        "Brier"),
    bug("answer-linear-gain", "the sign reversed", GAIN_Q.format(ret="np.sum(q ** 2) - q.max()"),
        "test-answer-linear-gain", "sign is reversed"),

    # --- experiment ---
    bug("experiment", "returns the book's numbers", returns(*BOOK_EXPERIMENT), "test-experiment",
        "does not minimise"),
    bug("experiment", "returns constants", returns(*MY_EXPERIMENT), "test-experiment",
        "does not minimise"),
    bug("experiment", "T fitted on the test set",
        experiment(fit="fit_temperature(test_logits, test_labels)"), "test-experiment",
        "TEST examples"),
    bug("experiment", "'after' not rescaled", experiment(after="softmax(test_logits, axis=1)"),
        "test-experiment", "ECE before scaling"),
    bug("experiment", "logits multiplied by T", experiment(after="softmax(test_logits * T, axis=1)"),
        "test-experiment", "multiplies"),
    bug("experiment", "ECE measured on the validation set", experiment(
        ece_before="expected_calibration_error(softmax(val_logits, axis=1), val_labels)",
        ece_after="expected_calibration_error(softmax(val_logits / T, axis=1), val_labels)"),
        "test-experiment", "validation examples"),
    bug("experiment", "softmax over the whole array (scipy's default axis=None)",
        experiment(after="softmax(test_logits / T)"), "test-experiment", "axis=1"),
    bug("experiment", "Brier score of the top class only", experiment(brier="brier_top_class"),
        "test-experiment", "only the top class"),
    bug("experiment", "Brier score averaged over the classes too",
        experiment(brier="brier_all_entries"), "test-experiment", "over the classes too"),
]

# --- what a student who copies from the book writes (issue 20) ----------------------------------
# Each entry is the whole cell as a student would put it together from code and prose the book
# shows (chapter 7 after its rework; other chapters as they are), renamed, stitched and wrapped in
# the exercise's signature. None may keep the points of the cells its solution feeds; where one
# keeps some, the comment says which and why.

COPIES = [
    # Chapter 7 shows the edges np.linspace(0.0, 1.0, M + 1) ('The edges in floating point'); the
    # student takes them and writes the bins (lo, hi] of the equation for I_m. The bins are the
    # student's own work, right on random confidences, so 'test-reliability' keeps its 2 points;
    # the copied edges lose 'test-reliability-edges'.
    bug("reliability", "its own bins (eq. I_m transcribed) on chapter 7's np.linspace edges of "
        "'The edges in floating point', one bin at a time", """
def reliability_curve(probs, labels, n_bins=15):
    edges_lin = np.linspace(0.0, 1.0, n_bins + 1)
    confidence = np.max(probs, axis=1)
    correct = np.argmax(probs, axis=1) == labels
    conf, acc = np.full(n_bins, np.nan), np.full(n_bins, np.nan)
    count = np.zeros(n_bins, dtype=int)
    for m in range(n_bins):
        inside = (confidence > edges_lin[m]) & (confidence <= edges_lin[m + 1])
        count[m] = inside.sum()
        if count[m]:
            conf[m], acc[m] = confidence[inside].mean(), correct[inside].mean()
    return conf, acc, count
""", "test-reliability-edges", "np.linspace"),
    # Chapter 5 counts with np.bincount (its confusion matrix, 'class frequencies'); the student
    # bins with int(conf * M), the way a histogram index is usually made, and divides.
    bug("reliability", "copied from chapter 5: np.bincount of the confusion matrix, with "
        "int(confidence * M) as the bin", """
def reliability_curve(probs, labels, n_bins=15):
    confidence = probs.max(axis=1)
    correct = probs.argmax(axis=1) == labels
    bins = (confidence * n_bins).astype(int)
    count = np.bincount(bins, minlength=n_bins)
    conf = np.bincount(bins, weights=confidence, minlength=n_bins) / count
    acc = np.bincount(bins, weights=correct, minlength=n_bins) / count
    return conf, acc, count
""", {"test-reliability", "test-reliability-edges"}, "floating-point error"),

    bug("ece", "copied from chapter 7: the np.linspace edges of 'The edges in floating point', "
        "the weighted gaps bin by bin", """
def expected_calibration_error(probs, labels, n_bins=15):
    edges_lin = np.linspace(0.0, 1.0, n_bins + 1)
    confidence = np.max(probs, axis=1)
    correct = np.argmax(probs, axis=1) == labels
    total = 0.0
    for m in range(n_bins):
        inside = (confidence > edges_lin[m]) & (confidence <= edges_lin[m + 1])
        if inside.any():
            gap = abs(correct[inside].mean() - confidence[inside].mean())
            total += inside.sum() / len(labels) * gap
    return total
""", "test-ece", "np.linspace"),
    # 'With a single bin (M = 1) the ECE is the gap between the overall accuracy and the overall
    # mean confidence' (chapter 7, 'Expected calibration error'), taken for the ECE itself.
    bug("ece", "copied from chapter 7: the one-bin ECE of 'Expected calibration error' for every "
        "n_bins", """
def expected_calibration_error(probs, labels, n_bins=15):
    accuracy = np.mean(np.argmax(probs, axis=1) == labels)
    return abs(accuracy - np.mean(np.max(probs, axis=1)))
""", "test-ece", "cancel"),
    # Chapter 6's ECE of one label, 10 equal-width bins of the label's probability
    # ('Are these probabilities calibrated?'), applied to the top-class confidence. (When every
    # one of its 10 bins is over-confident the value equals the signed-gap ECE, and the check
    # says so; otherwise it reports wrong values: the phrase both share is checked.)
    bug("ece", "copied from chapter 6: the ECE of one label with its 10 bins", """
def expected_calibration_error(probs, labels, n_bins=15):
    s = np.max(probs, axis=1)
    y = (np.argmax(probs, axis=1) == labels).astype(float)
    gaps = []
    for j in range(10):
        inside = (s > j / 10) & (s <= (j + 1) / 10)
        if inside.any():
            gaps.append(inside.sum() * abs(s[inside].mean() - y[inside].mean()))
    return sum(gaps) / len(s)
""", "test-ece", "expected"),

    # The grid of 'Fitting the temperature' (the page describes it; the NLL transcribed from
    # eq-nll-t with scipy's log_softmax).
    bug("temperature-scaling", "copied from chapter 7: the 401 temperatures from 0.1 to 10 of "
        "'Fitting the temperature', best validation NLL", """
def fit_temperature(logits, labels):
    def nll_at(T, Z, y):
        return -np.mean(log_softmax(Z / T, axis=1)[np.arange(len(y)), y])

    grid_T = np.geomspace(0.1, 10, 401)
    nll_va = np.array([nll_at(T, logits, labels) for T in grid_T])
    return float(grid_T[np.argmin(nll_va)])
""", {"test-fit-temperature", "test-temperature-robust"}, "smallest at"),
    # Chapter 4's temperature figure: the temperatures np.geomspace(0.05, 20, 400) and the softmax
    # of z / t at each (with the notebook's scipy softmax, over each row), then the NLL as the
    # mean of -log of the true class's probability, and the best of them.
    bug("temperature-scaling", "copied from chapter 4: the temperatures of the temperature "
        "figure, -log of softmax(z / t) at each", """
def fit_temperature(logits, labels):
    T = np.geomspace(0.05, 20, 400)
    rows = np.arange(len(labels))
    P_T = [softmax(logits / t, axis=1) for t in T]
    nll = [-np.mean(np.log(P[rows, labels])) for P in P_T]
    return float(T[np.argmin(nll)])
""", {"test-fit-temperature", "test-temperature-robust"}, "smallest at"),
    # Platt's Newton step in a alone (chapter 7, 'Platt scaling'), with a = beta = 1 / T and the
    # slope and curvature in beta transcribed from 'Fitting the temperature'; from a = 0 like
    # platt, with no range and no safeguard. The transcription of eq-nll-beta and of the second
    # derivative is the student's own work (the page gives them as equations), and Newton's method
    # converges where the NLL has a minimum, so 'test-fit-temperature' keeps its 3 points; with
    # no minimum inside [0.01, 100] the step runs past beta = 0 to a negative T and
    # 'test-temperature-robust' loses its 2.
    bug("temperature-scaling", "transcribes the slope and curvature in beta = 1 / T into "
        "chapter 7's Newton step of Platt scaling (a alone), unsafeguarded", """
def fit_temperature(logits, labels, steps=30):
    z = np.asarray(logits, dtype=float)
    true = z[np.arange(len(labels)), labels]
    a = 0.0
    for _ in range(steps):
        q = softmax(a * z, axis=1)
        mean = np.sum(q * z, axis=1)
        grad = np.mean(mean - true)
        hess = np.mean(np.sum(q * z * z, axis=1) - mean ** 2)
        a -= grad / hess
    return 1 / a
""", "test-temperature-robust", "must be positive"),

    # 4.1: the one-bin ECE of the page for the two bins of the question.
    bug("answer-ece", "copied from chapter 7: the one-bin ECE of 'Expected calibration error'",
        ece_q("return abs(right.mean() - conf.mean())"), "test-answer-ece", "cancel"),
    # 4.2: 'A two-class model whose logits differ by d = 3 is 90 % sure at T = 3 / ln 9'
    # (chapter 7, 'Temperature scaling') with the student's lead and target.
    bug("answer-temperature", "copied from chapter 7: the two-class T = 3 / ln 9 of 'Temperature "
        "scaling' with your lead and target", TEMPERATURE_Q.format(
            ret="lead / np.log(q / (1 - q))"), "test-answer-temperature", "ONE other class"),
    # 4.4: the absolute error of 'Proper scoring rules' (belief 0.7: 0.42 - 0.30), with the most
    # likely outcome as the binary event.
    bug("answer-linear-gain", "copied from chapter 7: the absolute error's gain of 'Proper scoring "
        "rules', the most likely outcome as the event", GAIN_Q.format(
            ret="2 * q.max() * (1 - q.max()) - (1 - q.max())"), "test-answer-linear-gain",
        "wrong sign"),

    # The experiment with the two-class Brier score of 'Proper scoring rules', 2 (s - y)^2, taken
    # on the top class (the page's general Brier code is hidden; its binary form is in the prose).
    bug("experiment", "copied from chapter 7: the two-class Brier score 2 (s - y)^2 of 'Proper "
        "scoring rules', on the top class", experiment(brier="brier_two_class").replace(
            "def brier_top_class", """def brier_two_class(probs, onehot, labels):
    s = np.max(probs, axis=1)
    y = (np.argmax(probs, axis=1) == labels).astype(float)
    return float(np.mean(2 * (s - y) ** 2))


def brier_top_class"""), "test-experiment", "not the Brier score"),
    # Chapter 3's squared error of a positive example, (sigmoid(z) - 1)**2 ('Why not squared error
    # on probabilities', which calls it the Brier score as a metric), on the true class's
    # probability.
    bug("experiment", "copied from chapter 3: the squared error (s - 1)**2 of a positive example, "
        "on the true class's probability", experiment(brier="brier_true_class").replace(
            "def brier_top_class", """def brier_true_class(probs, onehot, labels):
    s = probs[np.arange(len(labels)), labels]
    return float(np.mean((s - 1.0) ** 2))


def brier_top_class"""), "test-experiment", "not the Brier score"),
]
BUGS += COPIES

CORRECT = [
    correct("reliability", "explicit loop over the bins", curve()),
    correct("reliability", "ceil(conf * M) - 1 as the bin index, bins as a one-hot matrix", '''
def reliability_curve(probs, labels, n_bins=15):
    probs, labels = np.asarray(probs, dtype=float), np.asarray(labels)
    confidence = np.max(probs, 1)
    correct = (np.argmax(probs, 1) == labels).astype(float)
    index = np.clip(np.ceil(confidence * n_bins).astype(int) - 1, 0, n_bins - 1)
    member = (index[:, None] == np.arange(n_bins)).astype(float)     # (N, M)
    count = member.sum(0).astype(int)
    with np.errstate(invalid="ignore", divide="ignore"):
        conf = np.where(count > 0, confidence @ member / count, np.nan)
        acc = np.where(count > 0, correct @ member / count, np.nan)
    return conf, acc, count
'''),
    correct("ece", "weighted gaps from the bins", ece()),
    correct("ece", "reuses reliability_curve and np.nansum", '''
def expected_calibration_error(probs, labels, n_bins=15):
    conf, acc, count = reliability_curve(probs, labels, n_bins)
    return float(np.nansum(count * abs(acc - conf)) / count.sum())
'''),
    correct("temperature-scaling", "golden-section search on log T", nll_search()),
    correct("temperature-scaling", "Newton's method on beta = 1/T, safeguarded by bisection", '''
def fit_temperature(logits, labels):
    z = np.asarray(logits, dtype=float)
    labels = np.asarray(labels)
    true = z[np.arange(len(labels)), labels]

    def moments(beta):          # slope and curvature of the NLL in beta
        q = softmax(beta * z, axis=1)
        expected = np.einsum("nc,nc->n", q, z)
        spread = np.einsum("nc,nc->n", q, z * z) - expected * expected
        return np.mean(expected - true), np.mean(spread)

    lo, hi = 1 / 100.0, 1 / 0.01      # the range of beta
    if moments(lo)[0] >= 0:           # rising already at T = 100
        return 100.0
    if moments(hi)[0] <= 0:           # still falling at T = 0.01
        return 0.01
    beta = 1.0
    for _ in range(200):
        slope, curvature = moments(beta)
        if abs(slope) < 1e-13 or hi / lo - 1 < 1e-12:
            break
        if slope < 0:
            lo = beta
        else:
            hi = beta
        step = slope / curvature if curvature > 0 else np.inf
        newton = beta - step
        beta = newton if lo <= newton <= hi else np.mean([lo, hi])
    return float(1 / beta)
'''),
    correct("answer-ece", "a loop over the bins, then the weighted gaps", ece_q("""total = 0.0
    for lo, hi in [(0.0, 0.5), (0.5, 1.0)]:
        inside = (conf > lo) & (conf <= hi)
        if inside.any():
            total += inside.mean() * abs(right[inside].mean() - conf[inside].mean())
    return total""")),
    correct("answer-temperature", "solved numerically", TEMPERATURE_Q.format(
        ret="brentq(lambda T: 1 / (1 + (C - 1) * np.exp(-lead / T)) - q, 0.01, 100)").replace(
        "def answer_temperature", "from scipy.optimize import brentq\n\n\ndef answer_temperature")),
    correct("answer-accuracy", "capitals and commas", ACCURACY_Q.format(
        ret='return ", ".join(letter.upper() for letter in right)')),
    correct("answer-linear-gain", "expectations over the outcomes", GAIN_Q.format(
        ret="sum(q[y] * (1 - q[y]) for y in range(len(q))) - (1 - q[np.argmax(q)])")),
    correct("experiment", "one panel, ECE from the function", experiment()),
    correct("experiment", "ECE from reliability_curve's counts, Brier from the true class",
            experiment(ece_before="_ece(before, test_labels)", ece_after="_ece(after, test_labels)",
                       brier="brier_from_the_true_class").replace(
        "def temperature_experiment", """def _ece(probs, labels):
    conf, acc, count = reliability_curve(probs, labels, 15)
    return float(np.nansum(count * abs(acc - conf)) / count.sum())


def temperature_experiment""")),
]

# Every question: a classmate's answer and the book's number lose the points, this student's
# right answer typed in gets them. The book's cases (chapter 7): Check your understanding Q1 (ECE
# 0.1 with two bins), two classes 3 apart at confidence 0.9 (T = 3 / ln 9, 'Temperature
# scaling'), and the binary absolute error with belief 0.7 (a gain of 0.42 - 0.30 = 0.12, 'Proper
# scoring rules'). For 4.3 the page's case is its sentence that temperature scaling changes no
# prediction, applied below; a fixed string of letters is like a classmate's answer (right for a
# few students by chance), such as the choice "c" of the notebook of 0.3.0, passed along.
_bugs, _correct = question_entries("calibration", book={
    "test-answer-ece": 0.1,
    "test-answer-temperature": float(3 / np.log(9)),
    "test-answer-linear-gain": 0.12})
BUGS += _bugs + [
    bug("answer-accuracy", "copied from chapter 7: every statement that says something stays "
        "the same as with T = 1 (the page: temperature scaling changes no prediction)", """
def answer_accuracy_choice():
    return "".join(letter for letter, statement in zip("abcdef", your_statements(NUMBERS))
                   if "same" in statement)
""", "test-answer-accuracy", "statement"),
    bug("answer-accuracy", "the choice of 0.3.0's notebook, passed along",
        'def answer_accuracy_choice():\n    return "c"\n', "test-answer-accuracy", ""),
    # The answers of the notebook of 0.3.0, which every student had, typed in.
    bug("answer-ece", "the answer of 0.3.0's table", "def answer_ece_two_bins():\n    return 0.0917\n",
        "test-answer-ece", ""),
    bug("answer-temperature", "the answer of 0.3.0 (z = (4, 0, 0) at 0.8)",
        "def answer_temperature():\n    return 1.92\n", "test-answer-temperature", ""),
]
CORRECT += _correct

