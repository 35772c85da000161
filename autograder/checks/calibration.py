"""Hidden checks for the `calibration` exercise (chapter 7): reliability_curve,
expected_calibration_error, fit_temperature, four questions on the student's own numbers and the
temperature experiment on hidden data.

Oracles: an explicit loop over the bins with (lo, hi] tests and edges m / M (one correctly rounded
division per edge, the rule of the contract), the ECE written as
sum_m |sum_{n in B_m} (correct_n - confidence_n)| / N, scipy.optimize.minimize_scalar on the
validation NLL computed with scipy.special.log_softmax, the Brier score from its definition, and
closed forms for the questions (`ANSWERS`, from the student's numbers); never the reference
solution. A question's messages say what is wrong, never the answer.
"""

import numpy as np

from ._common import (CheckFailed, as_float, call, describe, expect_close, expect_shape,
                      expect_unchanged, fail, matches, numbers, quiet_call, rng, snapshot,
                      strict_call)

RELIABILITY = ("Chapter 7, 'Reliability diagrams': equal-width bins ((m-1)/M, m/M] of the top-class "
               "confidence, with edges the floats m / M, each with its mean confidence, accuracy "
               "and count")
ECE = ("Chapter 7, 'Expected calibration error': |accuracy - confidence| of each bin, weighted by "
       "its share |B_m| / N of the examples")
TEMPERATURE = "Chapter 7, 'Fitting the temperature' (minimise the NLL over T > 0)"
EXPERIMENT = ("Chapter 7, 'Fitting the temperature': fit T on the validation set, measure the ECE "
              "and the Brier score on the test set")
T_RANGE = (0.01, 100.0)


def _softmax(z):
    from scipy.special import softmax
    return softmax(z, axis=-1)


def _predictions(seed, N, C, sharpness=3.0, temperature=1.0):
    """Logits, their softmax, and labels drawn from softmax(logits / temperature)."""
    g = rng(seed)
    z = g.normal(scale=sharpness, size=(N, C))
    q = _softmax(z / temperature)
    labels = (g.random((N, 1)) > np.cumsum(q, axis=1)).sum(axis=1).clip(0, C - 1)
    return z, _softmax(z), labels


def _oracle_bins(confidence, correct, n_bins):
    """Mean confidence, accuracy, count per bin (lo, hi], by an explicit loop; nan when empty."""
    conf, acc, count = np.full(n_bins, np.nan), np.full(n_bins, np.nan), np.zeros(n_bins, int)
    for m in range(n_bins):
        lo, hi = m / n_bins, (m + 1) / n_bins
        inside = (confidence > lo) & (confidence <= hi)
        count[m] = inside.sum()
        if count[m]:
            conf[m], acc[m] = confidence[inside].mean(), correct[inside].mean()
    return conf, acc, count


def _top(probs, labels):
    return probs.max(axis=-1), (probs.argmax(axis=-1) == labels).astype(float)


def _curve(reliability_curve, probs, labels, n_bins, *, what, revisit=RELIABILITY):
    args = (probs, labels) if n_bins is None else (probs, labels, n_bins)
    out = strict_call(reliability_curve, *args, what=what, revisit=revisit)
    if not isinstance(out, (tuple, list)) or len(out) != 3:
        fail(f"{what} should return three arrays: (bin confidence, bin accuracy, bin count).",
             expected="a tuple of 3 arrays", got=describe(out), revisit=revisit)
    M = 15 if n_bins is None else n_bins
    arrays = []
    for name, a in zip(("bin confidence", "bin accuracy", "bin count"), out):
        try:
            a = np.asarray(a, dtype=float)
        except (TypeError, ValueError):
            fail(f"The {name} returned by {what} is not an array of numbers.",
                 expected=f"an array of shape ({M},)", got=describe(a), revisit=revisit)
        expect_shape(a, (M,), what=f"the {name} returned by {what} (one entry per bin)",
                     revisit=revisit)
        arrays.append(a)
    return arrays


# ---------------------------------------------------------------------------------------------
# reliability

def check_reliability_curve(reliability_curve):
    """Counts, mean confidence and accuracy of the non-empty bins on random predictions."""
    for seed, N, C, n_bins in [(70, 300, 5, 15), (71, 200, 10, 10), (72, 50, 3, 7),
                               (73, 1000, 2, 20), (74, 120, 4, None)]:
        _, probs, labels = _predictions(seed, N, C)
        M = 15 if n_bins is None else n_bins
        inputs = snapshot(probs=probs, labels=labels)
        what = (f"reliability_curve(probs, labels{'' if n_bins is None else f', n_bins={n_bins}'}) "
                f"with probs of shape {probs.shape}")
        conf_got, acc_got, count_got = _curve(reliability_curve, probs, labels, n_bins, what=what)
        expect_unchanged(inputs, what=what, revisit=RELIABILITY)
        confidence, correct = _top(probs, labels)
        conf, acc, count = _oracle_bins(confidence, correct, M)
        if count_got.sum() == probs.size and N != probs.size:
            fail(f"{what} binned the probabilities of every class. A reliability diagram bins one "
                 "number per example: its top-class confidence, the largest probability of its row.",
                 expected=f"counts summing to N = {N}", got=describe(count_got), revisit=RELIABILITY)
        true_class = probs[np.arange(N), labels]
        if not np.array_equal(count_got, count) and np.array_equal(
                count_got, _oracle_bins(true_class, correct, M)[2]):
            fail(f"{what} binned the probability of the TRUE class. Bin the confidence of the "
                 "PREDICTED class, the largest probability of the row: calibration asks whether the model's own "
                 "confidence matches its accuracy.", expected=describe(count),
                 got=describe(count_got), revisit=RELIABILITY)
        expect_close(count_got, count, what=f"the bin counts returned by {what}",
                     revisit=RELIABILITY, rtol=0, atol=0)
        full = count > 0
        expect_close(conf_got[full], conf[full], what=f"the mean confidence of the non-empty bins "
                     f"returned by {what}", revisit=RELIABILITY, rtol=1e-9)
        expect_close(acc_got[full], acc[full], what=f"the accuracy of the non-empty bins returned "
                     f"by {what} (the fraction of the bin's examples whose argmax is the label)",
                     revisit=RELIABILITY, rtol=1e-9)


def check_reliability_edges(reliability_curve):
    """Confidence exactly 1.0 in the last bin, (lo, hi] boundaries, nan for empty bins."""
    # Confidences 1.0, 0.75, 0.5 and 0.4 with 4 bins: edges 0.25, 0.5, 0.75 are exact floats.
    probs = np.array([[1.0, 0.0, 0.0, 0.0],
                      [0.0, 0.0, 1.0, 0.0],
                      [0.0, 1.0, 0.0, 0.0],
                      [0.75, 0.25, 0.0, 0.0],
                      [0.1, 0.75, 0.15, 0.0],
                      [0.5, 0.3, 0.2, 0.0],
                      [0.2, 0.3, 0.0, 0.5],
                      [0.4, 0.3, 0.2, 0.1]])
    labels = np.array([0, 1, 1, 0, 0, 0, 3, 2])
    expected_count = np.array([0, 3, 2, 3])
    expected_conf = np.array([np.nan, (0.5 + 0.5 + 0.4) / 3, 0.75, 1.0])
    expected_acc = np.array([np.nan, 2 / 3, 0.5, 2 / 3])
    what = "reliability_curve(probs, labels, n_bins=4) with confidences 1.0, 0.75, 0.5 and 0.4"
    conf_got, acc_got, count_got = _curve(reliability_curve, probs, labels, 4, what=what)
    if count_got.sum() < len(labels) and count_got[-1] < 3:
        fail(f"{what} did not count the examples with a confidence of exactly 1.0. The bins are "
             "closed on the right, ((m-1)/M, m/M], so 1.0 belongs to the last bin.",
             expected=f"counts {expected_count.tolist()}", got=f"counts {count_got.tolist()}",
             revisit=RELIABILITY)
    if not np.array_equal(count_got, expected_count):
        if np.array_equal(count_got, [0, 1, 2, 5]):
            fail(f"{what} put a confidence equal to a bin's upper edge into the next bin. The bins "
                 "are (lo, hi]: open on the left, closed on the right, so 0.5 belongs to "
                 "(0.25, 0.5] and 0.75 to (0.5, 0.75].", expected=f"counts {expected_count.tolist()}",
                 got=f"counts {count_got.tolist()}", revisit=RELIABILITY)
        expect_close(count_got, expected_count, what=f"the bin counts returned by {what}",
                     revisit=RELIABILITY, rtol=0, atol=0)
    for name, got, expected in [("mean confidence", conf_got, expected_conf),
                                ("accuracy", acc_got, expected_acc)]:
        if not np.isnan(got[0]):
            fail(f"The {name} of an empty bin returned by {what} is {got[0]!r}. An empty bin has "
                 "no confidence and no accuracy: return nan there (and a count of 0), so that "
                 "nothing pretends to be a measurement.", expected=f"nan in bin 0: {expected}",
                 got=describe(got), revisit=RELIABILITY)
        expect_close(got[1:], expected[1:], what=f"the {name} of the non-empty bins returned by "
                     f"{what}", revisit=RELIABILITY, rtol=1e-12)

    # The edges are the floats m / M. For M = 6 another rule (np.linspace) puts the fifth edge one
    # float below 5 / 6, so a confidence of exactly 5 / 6 would move to the sixth bin.
    probs = np.array([[5 / 6, 1 / 6], [1 / 6, 5 / 6], [0.9, 0.1], [0.7, 0.3]])
    labels = np.array([0, 0, 0, 0])
    expected_count = np.array([0, 0, 0, 0, 3, 1])
    what = "reliability_curve(probs, labels, n_bins=6) with confidences 5/6 (twice), 0.9 and 0.7"
    conf_got, acc_got, count_got = _curve(reliability_curve, probs, labels, 6, what=what)
    if not np.array_equal(count_got, expected_count):
        fail(f"{what} did not put a confidence of exactly 5 / 6 into the bin (4/6, 5/6]. The edges "
             "are the floats m / M, one correctly rounded division each (as `m / n_bins`); "
             "np.linspace(0, 1, 7) gives a fifth edge one float below 5 / 6, which moves these "
             "examples to the next bin.", expected=f"counts {expected_count.tolist()}",
             got=f"counts {count_got.tolist()}", revisit=RELIABILITY)
    expect_close(acc_got[4:], [2 / 3, 1.0], what=f"the accuracy of the last two bins returned by "
                 f"{what}", revisit=RELIABILITY, rtol=1e-12)

    # Two classes: the top-class confidence is at least 0.5, so the lower half of the bins is empty.
    _, probs, labels = _predictions(75, 60, 2)
    what = "reliability_curve(probs, labels, n_bins=10) with two classes"
    conf_got, acc_got, count_got = _curve(reliability_curve, probs, labels, 10, what=what)
    conf, acc, count = _oracle_bins(*_top(probs, labels), 10)
    expect_close(count_got, count, what=f"the bin counts returned by {what}", revisit=RELIABILITY,
                 rtol=0, atol=0)
    if not (np.all(np.isnan(conf_got[:5])) and np.all(np.isnan(acc_got[:5]))):
        fail(f"{what}: the five bins below 0.5 are empty and must hold nan.",
             expected=describe(conf), got=describe(conf_got), revisit=RELIABILITY)


# ---------------------------------------------------------------------------------------------
# ece

def _oracle_ece(probs, labels, n_bins):
    confidence, correct = _top(probs, labels)
    total = 0.0
    for m in range(n_bins):
        inside = (confidence > m / n_bins) & (confidence <= (m + 1) / n_bins)
        total += abs(np.sum(correct[inside] - confidence[inside]))
    return total / len(labels)


def check_ece(expected_calibration_error):
    """ECE against the per-example form, for several bin counts, with confidences of 1.0."""
    cases = []
    for seed, N, C, n_bins, T in [(80, 400, 5, 15, 2.0), (81, 250, 10, 10, 0.5),
                                  (82, 100, 3, 1, 1.5), (83, 300, 4, None, 3.0)]:
        z, probs, labels = _predictions(seed, N, C, temperature=T)
        cases.append((probs, labels, n_bins, f"probs of shape {probs.shape}"))
    # Over-confident rows with confidence exactly 1.0, some of them wrong.
    z, probs, labels = _predictions(84, 200, 4, sharpness=30.0, temperature=3.0)
    sure = np.flatnonzero(probs.max(axis=1) == 1.0)[:25]
    labels[sure] = (probs[sure].argmax(axis=1) + 1) % 4      # confidently wrong
    cases.append((probs, labels, 15, "probs of shape (200, 4), many with confidence exactly 1.0, "
                  "25 of them wrong"))
    for probs, labels, n_bins, desc in cases:
        M = 15 if n_bins is None else n_bins
        inputs = snapshot(probs=probs, labels=labels)
        what = (f"expected_calibration_error(probs, labels{'' if n_bins is None else f', n_bins={n_bins}'})"
                f" with {desc}")
        args = (probs, labels) if n_bins is None else (probs, labels, n_bins)
        got = strict_call(expected_calibration_error, *args, what=what, revisit=ECE)
        expect_unchanged(inputs, what=what, revisit=ECE)
        expect_shape(got, (), what=what + " (one number)", revisit=ECE)
        expected = _oracle_ece(probs, labels, M)
        try:
            value = float(got)
        except (TypeError, ValueError):
            fail(f"{what} did not return a number.", expected=f"{expected:.6g}", got=describe(got),
                 revisit=ECE)
        if np.isclose(value, expected, rtol=1e-9, atol=1e-12):
            continue
        confidence, correct = _top(probs, labels)
        conf, acc, count = _oracle_bins(confidence, correct, M)
        full = count > 0
        gaps = acc[full] - conf[full]
        shares = count[full] / len(labels)
        keep = confidence < 1.0
        diagnoses = [
            (np.mean(np.abs(gaps)), "averages the gaps of the bins with equal weights. Weight each "
             "bin's |accuracy - confidence| by its share of the examples, |B_m| / N: a bin of two "
             "examples must not count as much as a bin of two hundred"),
            (abs(np.sum(shares * gaps)), "adds the signed gaps, so over- and under-confident bins "
             "cancel. Take the absolute value of each bin's gap before adding"),
            (np.max(np.abs(gaps)), "is the largest gap of any bin (the maximum calibration error), "
             "not the weighted average"),
            (np.sqrt(np.sum(shares * gaps ** 2)), "squares the gaps; the ECE weights their absolute "
             "values"),
            (_oracle_ece(probs[keep], labels[keep], M) * keep.sum() / len(labels) if keep.any()
             else 0.0, "leaves out the examples with a confidence of exactly 1.0. The last bin is "
             "closed on the right, so they belong to it"),
        ]
        for wrong, explanation in diagnoses:
            if np.isclose(value, wrong, rtol=1e-9, atol=1e-12) and not np.isclose(wrong, expected):
                fail(f"{what} {explanation}.", expected=f"{expected:.6g}", got=f"{value:.6g}",
                     revisit=ECE)
        expect_close(value, expected, what=what, revisit=ECE, rtol=1e-9, atol=1e-12)

    # A confidence of exactly 5 / 6 with M = 6 bins belongs to (4/6, 5/6], with the 0.8 below it.
    probs = np.array([[5 / 6, 1 / 6], [0.8, 0.2], [0.95, 0.05]])
    labels = np.array([0, 1, 0])
    what = "expected_calibration_error(probs, labels, n_bins=6) with confidences 5/6, 0.8 and 0.95"
    got = strict_call(expected_calibration_error, probs, labels, 6, what=what, revisit=ECE)
    expected = (abs(1 - 5 / 6 - 0.8) + abs(1 - 0.95)) / 3
    if matches(got, (abs(1 - 5 / 6) + abs(0.8) + abs(1 - 0.95)) / 3, rtol=1e-9):
        fail(f"{what} put the confidence of exactly 5 / 6 into the bin (5/6, 1]. The edges are "
             "the floats m / M (as `m / n_bins`); np.linspace(0, 1, 7) gives a fifth edge one "
             "float below 5 / 6.", expected=f"{expected:.6g}", got=describe(got), revisit=ECE)
    expect_close(got, expected, what=what, revisit=ECE, rtol=1e-9)

    # Perfectly calibrated by construction: 10 predictions at 0.8 (8 right), 5 at 0.6 (3 right).
    probs = np.array([[0.8, 0.2]] * 10 + [[0.4, 0.6]] * 5)
    labels = np.array([0] * 8 + [1] * 2 + [1] * 3 + [0] * 2)
    what = "expected_calibration_error(probs, labels) for a perfectly calibrated model"
    got = strict_call(expected_calibration_error, probs, labels, what=what, revisit=ECE)
    expect_close(got, 0.0, what=what + " (80 % right at confidence 0.8, 60 % right at 0.6)",
                 revisit=ECE, atol=1e-12)


# ---------------------------------------------------------------------------------------------
# temperature-scaling

def _nll(T, z, labels, axis=1):
    from scipy.special import log_softmax
    return -np.mean(log_softmax(z / T, axis=axis)[np.arange(len(labels)), labels])


def _oracle_temperature(z, labels, axis=1):
    from scipy.optimize import minimize_scalar
    lo, hi = np.log(T_RANGE[0]), np.log(T_RANGE[1])
    result = minimize_scalar(lambda u: _nll(np.exp(u), z, labels, axis), bounds=(lo, hi),
                             method="bounded", options={"xatol": 1e-10})
    return float(np.exp(result.x))


def _over_the_whole_array(z, labels) -> tuple[float, float]:
    """The temperatures a search finds when its softmax normalises over the whole array (scipy's
    softmax and log_softmax default to axis=None): the minimiser of that NLL, and where the
    notebook's derivative of the NLL, written with that softmax, changes sign (the ends of the
    range when it does not)."""
    from scipy.optimize import brentq
    from scipy.special import softmax
    z = np.asarray(z, dtype=np.float64)
    rows = np.arange(len(labels))

    def slope(u):
        T = np.exp(u)
        return np.mean(z[rows, labels] - np.sum(softmax(z / T) * z, axis=1)) / T**2
    lo, hi = np.log(T_RANGE[0]), np.log(T_RANGE[1])
    with np.errstate(all="ignore"):
        if slope(hi) <= 0:
            root = T_RANGE[1]
        elif slope(lo) >= 0:
            root = T_RANGE[0]
        else:
            root = float(np.exp(brentq(slope, lo, hi, xtol=1e-12)))
    return _oracle_temperature(z, labels, axis=None), root


def _fit(fit_temperature, z, labels, what):
    inputs = snapshot(logits=z, labels=labels)
    T = strict_call(fit_temperature, z, labels, what=what, revisit=TEMPERATURE,
                    hint="a softmax or a log of probabilities computed from z / T without "
                    "subtracting each row's maximum: exp of a large scaled logit overflows. Use "
                    "scipy's log_softmax (or subtract the maximum) for the NLL.")
    expect_unchanged(inputs, what=what, revisit=TEMPERATURE)
    try:
        T = float(np.asarray(T).reshape(()))
    except (TypeError, ValueError):
        fail(f"{what} should return one number, the temperature T.", expected="a float",
             got=describe(T), revisit=TEMPERATURE)
    if not np.isfinite(T) or T <= 0:
        fail(f"{what} returned T = {T!r}. The temperature must be positive: a negative T reverses "
             "the order of the classes (the least likely class becomes the prediction), and T = 0 "
             f"divides by zero. Search T within [{T_RANGE[0]}, {T_RANGE[1]}].",
             expected="0 < T < infinity", got=f"T = {T!r}", revisit=TEMPERATURE)
    return T


def _expect_temperature(fit_temperature, T, expected, z, labels, what):
    if abs(T - expected) <= 2e-3 * expected:
        return
    _name_the_mistake(fit_temperature, T, expected, z, labels, what)
    fail(f"{what} returned T = {T:.5g}, but the NLL of softmax(logits / T) is smallest at "
         f"T = {expected:.5g} (to within 0.2 %).", expected=f"T = {expected:.5g} with NLL "
         f"{_nll(expected, z, labels):.6f}", got=f"T = {T:.5g} with NLL {_nll(T, z, labels):.6f}",
         revisit=TEMPERATURE)


def _name_the_mistake(fit_temperature, T, expected, z, labels, what) -> None:
    """A wrong T that a known mistake gives fails with that mistake's message: the logits
    multiplied by T, or a softmax over the whole array (then, where that T is an end of the
    range, which other mistakes reach too, only if the student's function is right on one
    example, where the whole array is the row)."""
    if abs(1 / T - expected) <= 2e-3 * expected:
        fail(f"{what} returned T = {T:.4g}, the inverse of the right temperature: it looks like "
             "the logits were multiplied by T instead of divided by it. Temperature scaling is "
             "softmax(logits / T).", expected=f"T = {expected:.4g}", got=f"T = {T:.4g}",
             revisit=TEMPERATURE)
    whole = [t for t in _over_the_whole_array(z, labels) if abs(T - t) <= 2e-3 * max(T, t)]
    if whole and all(t in T_RANGE for t in whole) and not _right_on_one_example(fit_temperature):
        return
    if whole:
        fail(f"{what} returned T = {T:.4g}, the temperature a search finds when its softmax is "
             "normalised over the whole array (ALL the entries of the logits at once, so that "
             "only their total is one) instead of over each row: scipy.special's softmax and "
             "log_softmax default to axis=None. Pass axis=1 so that each row (one example) "
             "becomes a distribution.", expected=f"T = {expected:.4g}", got=f"T = {T:.4g}",
             revisit=TEMPERATURE)


def _right_on_one_example(fit_temperature) -> bool:
    """Whether fit_temperature finds the T of one example whose NLL has its minimum inside the
    range (its label's logit lies between the row's mean and its maximum)."""
    z, labels = np.array([[0.0, 2.0, 3.0]]), np.array([1])
    try:
        T = quiet_call(fit_temperature, z, labels, what="fit_temperature on one example",
                       revisit=TEMPERATURE)
        T = float(np.asarray(T, dtype=np.float64).reshape(()))
    except (CheckFailed, TypeError, ValueError):
        return False
    expected = _oracle_temperature(z, labels)
    return abs(T - expected) <= 2e-3 * expected


def check_fit_temperature(fit_temperature):
    """T against scipy's bounded search on the NLL: over-confident, calibrated and
    under-confident models (the last one's T is below 1 whatever the secret)."""
    for seed, N, C, T_true, kind in [(90, 400, 5, 2.0, "an over-confident model"),
                                     (91, 300, 10, 1.0, "a calibrated model"),
                                     (92, 500, 3, 3.0, "a very over-confident model"),
                                     (93, 400, 4, 0.5, "an under-confident model")]:
        z, _, labels = _predictions(seed, N, C, sharpness=4.0, temperature=T_true)
        what = f"fit_temperature(logits, labels) for {kind}, logits of shape {z.shape}"
        T = _fit(fit_temperature, z, labels, what)
        _expect_temperature(fit_temperature, T, _oracle_temperature(z, labels), z, labels,
                            what)


def check_temperature_robust(fit_temperature):
    """An under-confident model (T < 1), huge logits, integer logits, a model that classifies
    every example right, and one whose true-class logits lie below their rows' means."""
    z, _, labels = _predictions(93, 400, 4, sharpness=2.0, temperature=0.4)
    what = "fit_temperature(logits, labels) for an under-confident model"
    T = _fit(fit_temperature, z, labels, what)
    expected = _oracle_temperature(z, labels)
    if abs(T - expected) > 2e-3 * expected:  # a known mistake first, then "search below 1"
        _name_the_mistake(fit_temperature, T, expected, z, labels, what)
    if T >= 1 and expected < 0.9:
        fail(f"{what} returned T = {T:.4g}. An under-confident model needs T < 1 to sharpen its "
             "probabilities: search below 1 as well.", expected=f"T = {expected:.4g}",
             got=f"T = {T:.4g}", revisit=TEMPERATURE)
    _expect_temperature(fit_temperature, T, expected, z, labels, what)

    shifted = z + 1000.0            # the softmax ignores a constant added to a row
    what = "fit_temperature(logits + 1000, labels) (the same model: softmax ignores the shift)"
    T = _fit(fit_temperature, shifted, labels, what)
    _expect_temperature(fit_temperature, T, expected, z, labels,
                        what + "; use the stable scipy.special.log_softmax, with axis=1")

    integer = np.round(z * 3).astype(np.int64)      # integer logits: converted to float first
    what = "fit_temperature(logits, labels) with integer logits (dtype int64)"
    T = _fit(fit_temperature, integer, labels, what)
    _expect_temperature(fit_temperature, T, _oracle_temperature(integer.astype(float), labels),
                        integer, labels, what + "; convert the logits to float before dividing "
                        "by T")

    # Every example classified right (the training-set case): the NLL falls as T shrinks and has
    # no minimum, so the best T in the range is its lower end.
    g = rng(95)
    z = g.normal(scale=1.0, size=(300, 5))
    labels = z.argmax(axis=1)
    what = "fit_temperature(logits, labels) when every example is classified right"
    T = _fit(fit_temperature, z, labels, what)
    if not (T <= 1.01 * T_RANGE[0] or _nll(T, z, labels) <= _nll(T_RANGE[0], z, labels) + 1e-15):
        fail(f"{what} returned T = {T:.4g}. When every example is classified right, the slope of "
             "the NLL in beta = 1/T stays negative (it tends to mean(max_j z_j - z_y) = 0 from "
             "below): every smaller T gives a lower NLL and there is no minimum, so return the "
             f"lower end of the range, {T_RANGE[0]}.", expected=f"T = {T_RANGE[0]}",
             got=f"T = {T:.4g}", revisit=TEMPERATURE)

    # Labels drawn from softmax(-z): the true-class logits lie, on average, below their rows'
    # means, so the slope of the NLL in beta is positive already at beta -> 0: the NLL falls as
    # T grows, all the way to the end of the range.
    g = rng(94)
    z = g.normal(scale=3.0, size=(200, 4))
    q = _softmax(-z)
    labels = (g.random((200, 1)) > np.cumsum(q, axis=1)).sum(axis=1).clip(0, 3)
    what = ("fit_temperature(logits, labels) for a model whose true-class logits lie, on "
            "average, below their rows' means")
    T = _fit(fit_temperature, z, labels, what)
    if T < 50:
        fail(f"{what} returned T = {T:.4g}. Here the NLL keeps falling as T grows, so the best "
             f"positive temperature is the upper end of the search range, {T_RANGE[1]}.",
             expected=f"T close to {T_RANGE[1]}", got=f"T = {T:.4g}", revisit=TEMPERATURE)


# ---------------------------------------------------------------------------------------------
# questions: each on the student's own numbers (`numbers()`); messages never state the answer

def _number(answer_fn, what, revisit):
    """Call a question's function and return its answer as a float (or fail saying why)."""
    got = call(answer_fn, what=what, revisit=revisit)
    value = as_float(got)
    if value is None or value.size != 1 or not np.isfinite(value).all():
        fail(f"{what} should return one finite number.", expected="a float",
             got=describe(got), revisit=revisit)
    return float(value.reshape(()))


def _near(value, target, rtol=5e-3):
    return abs(value - target) <= rtol * abs(target) + 1e-12


def _expect_answer(value, expected, wrong, what, revisit, rtol=5e-3, then=None):
    """`wrong`: (value, what that mistake is) pairs, recognised to say what went wrong; `then`,
    a further check run when none of them is recognised. The messages say what is wrong and
    what to revisit, never the right value."""
    if _near(value, expected, rtol):
        return
    for mistake, explanation in wrong:
        if np.isfinite(mistake) and _near(value, mistake, rtol) and not _near(mistake, expected,
                                                                               rtol):
            fail(f"{what} returned {value:.6g}: {explanation}", got=f"{value:.6g}",
                 revisit=revisit)
    if then is not None:
        then()
    if expected > 0 and value > 0:
        ratio = value / expected
        size = ("more than twice the answer" if ratio > 2 else "less than half the answer"
                if ratio < 0.5 else "within a factor of two of the answer, but not it")
    else:
        size = "of the wrong sign" if value * expected < 0 else "not the answer"
    fail(f"{what} returned {value:.6g}, which is {size} (the check allows {rtol:.1%} of "
         "relative error).", got=f"{value:.6g}", revisit=revisit)


def _numbers_said(mine, *keys):
    return ", ".join(f"{k} = {mine[k]}" for k in keys)


# 4.1: the ECE of eight predictions with two bins, (0, 0.5] and (0.5, 1].

def _two_bins(n):
    conf = np.array(n["confidence"], dtype=float)
    right = np.array(n["right"], dtype=float)
    return conf, right, conf <= 0.5


def right_ece_two_bins(n: dict) -> float:
    """The right answer of `answer_ece_two_bins` for a student's numbers."""
    conf, right, low = _two_bins(n)
    return float((abs(np.sum(right[low] - conf[low]))
                  + abs(np.sum(right[~low] - conf[~low]))) / len(conf))


def _ece_two_bins_mistakes(n: dict):
    conf, right, low = _two_bins(n)
    N = len(conf)
    gaps = [abs(right[b].mean() - conf[b].mean()) for b in (low, ~low)]
    kept = ~low & (conf < 1.0)
    moved = conf < 0.5                           # 0.5 put into the upper bin
    return [
        (np.mean(gaps), "the two bins' gaps averaged with equal weights. Each bin's "
         "|accuracy - confidence| is weighted by its share of the examples, |B_m| / N."),
        (abs(np.sum(right - conf)) / N, "the signed gaps of the two bins added before taking the "
         "absolute value, so that over- and under-confidence cancel. Take |.| of each bin's gap, "
         "then add."),
        (max(gaps), "the larger of the two gaps (the maximum calibration error), not their "
         "weighted average."),
        ((abs(np.sum(right[low] - conf[low])) + abs(np.sum(right[kept] - conf[kept]))) / N,
         "the example with a confidence of exactly 1.0 left out of the bin (0.5, 1]. The bins are "
         "closed on the right, so 1.0 belongs to the last bin."),
        ((abs(np.sum(right[low] - conf[low])) + abs(np.sum(right[kept] - conf[kept]))) / (N - 1),
         "the example with a confidence of exactly 1.0 left out. The bins are closed on the "
         "right, so 1.0 belongs to the last bin."),
        ((abs(np.sum(right[moved] - conf[moved]))
          + abs(np.sum(right[~moved] - conf[~moved]))) / N,
         "the example with a confidence of exactly 0.5 put into the upper bin. The bins are "
         "(0, 0.5] and (0.5, 1]: closed on the right, so 0.5 belongs to the lower one."),
    ]


def check_answer_ece(answer_ece_two_bins):
    """Question 4.1: the ECE of the student's eight predictions with two bins."""
    mine = numbers()
    what = "answer_ece_two_bins() for your eight predictions"
    value = _number(answer_ece_two_bins, what, ECE)
    if not 0 <= value <= 1:
        fail(f"{what} returned {value:.6g}: an ECE is a weighted mean of gaps between two "
             "fractions, so it lies between 0 and 1.", got=f"{value:.6g}", revisit=ECE)
    _expect_answer(value, right_ece_two_bins(mine), _ece_two_bins_mistakes(mine), what, ECE)


# 4.2: the temperature at which a given top-class confidence is reached.

TEMPERATURE_Q = ("Chapter 7, 'Temperature scaling' (write the top-class probability of "
                 "softmax(z / T) with the ratio q_i / q_j and solve for T)")


def right_temperature(n: dict) -> float:
    """The right answer of `answer_temperature` for a student's numbers."""
    C, lead, q = n["C"], n["lead"], n["target"]
    return float(lead / np.log((C - 1) * q / (1 - q)))


def _temperature_mistakes(n: dict):
    C, lead, q = n["C"], n["lead"], n["target"]
    right = right_temperature(n)
    wrong = [
        (1 / right, "that is the inverse of the temperature: it is what you get when the "
         "logits are multiplied by T. Temperature scaling divides them, softmax(z / T)."),
        (lead / np.log(q / (1 - q)), "this T gives the top class that probability against ONE "
         f"other class. Your model has C = {C} classes: all C - 1 others share the rest."),
        (lead / np.log(C * q / (1 - q)), "the top class is one of the C classes: it is compared "
         "with the C - 1 others, not with C."),
        (lead / np.log10((C - 1) * q / (1 - q)), "a base-10 logarithm: the softmax uses e."),
    ]
    if (C - 1) * q > 1:
        wrong.append((lead / np.log((C - 1) * q), "the top class's own term is missing from the "
                      "denominator of the softmax: it divides by the sum over ALL classes."))
    return wrong


def check_answer_temperature(answer_temperature):
    """Question 4.2: the T at which softmax(z / T) reaches the student's target confidence."""
    mine = numbers()
    what = (f"answer_temperature() for your {_numbers_said(mine, 'C', 'lead', 'target')}")
    value = _number(answer_temperature, what, TEMPERATURE_Q)
    if value <= 0:
        fail(f"{what} returned {value:.6g}. A temperature is positive: a negative T would reverse "
             "the order of the classes.", got=f"{value:.6g}", revisit=TEMPERATURE_Q)
    right = right_temperature(mine)

    def side_of_one():
        if (value - 1) * (right - 1) < 0:
            at_one = 1 / (1 + (mine["C"] - 1) * np.exp(-mine["lead"]))
            side = "above" if at_one > mine["target"] else "below"
            fail(f"{what} returned {value:.6g}, on the wrong side of 1. At T = 1 your top-class "
                 f"probability is {side} the target, so the probabilities must be made "
                 f"{'flatter' if side == 'above' else 'sharper'}: which T does that?",
                 got=f"{value:.6g}", revisit=TEMPERATURE_Q)

    _expect_answer(value, right, _temperature_mistakes(mine), what, TEMPERATURE_Q,
                   then=side_of_one)


# 4.3: which statements about temperature scaling are true (drawn per student).

ACCURACY = ("Chapter 7, 'Temperature scaling' (for T > 0 the order of the classes within each row "
            "is kept)")
LETTERS = "abcdef"
# _TRUTH[topic][version]: whether the statement the notebook's `your_statements` shows is true.
# Topics: (a) predictions/accuracy, (b) top-3 accuracy, (c) NLL/Brier/ECE, (d) answering above
# a confidence tau, (e) sorting the images by confidence (10 classes: can change; 2 classes:
# cannot, sigma(|z1 - z0| / T) is increasing in |z1 - z0|), (f) a two-class model's decisions at
# a threshold on sigma(z / T) (unchanged at 0.5 only: sigma(z / T) > t <=> z > T logit(t)).
_TRUTH = [(True, False, True, False), (True, False), (True, False, True, False), (True, False),
          (False, True, True, False), (True, False, True, False)]


def right_accuracy(n: dict) -> str:
    """The right answer of `answer_accuracy_choice`: the letters of the true statements."""
    return "".join(letter for letter, truth, version in zip(LETTERS, _TRUTH, n["statements"])
                   if truth[version])


def _letters(got):
    """The set of letters a student's answer names (None when it is not letters a-f)."""
    if isinstance(got, (list, tuple)):
        got = "".join(str(x) for x in got)
    if not isinstance(got, str):
        return None
    text = "".join(ch for ch in got.lower() if ch not in " ,;()[]{}'\"")
    return set(text) if set(text) <= set(LETTERS) else None


def check_answer_accuracy(answer_accuracy_choice):
    """Question 4.3: the student's six statements, some true, some false."""
    mine = numbers()
    what = f"answer_accuracy_choice() for your six statements (your T = {mine['T']})"
    got = call(answer_accuracy_choice, what=what, revisit=ACCURACY)
    chosen = _letters(got)
    if chosen is None:
        fail(f"{what} should return the letters of the true statements, as one string such as "
             "'bd' (or '' if none is true).", expected="a string of letters a to f",
             got=describe(got), revisit=ACCURACY)
    right = set(right_accuracy(mine))
    if chosen == right:
        return
    problems = []
    if chosen - right:
        problems.append("at least one letter you gave names a statement that is false")
    if right - chosen:
        problems.append("at least one true statement is missing from your letters")
    fail(f"{what}: {' and '.join(problems)}. For T > 0 the order of the classes within each row "
         "of logits is kept, so whatever depends only on that order is the same for every T; for "
         "anything else, decide whether dividing the logits by your T can change it (a small "
         "example with two or three logits settles most statements).",
         got=repr(got), revisit=ACCURACY)


# 4.4: what a forecaster gains by not reporting their belief under the linear loss.

SCORING = ("Chapter 7, 'Proper scoring rules' (write the expected loss under the belief q as a "
           "function of the report p, then minimise it over the distributions p)")


def right_linear_gain(n: dict) -> float:
    """The right answer of `answer_linear_gain` for a student's numbers."""
    q = np.array(n["belief"], dtype=float)
    return float(q.max() - np.sum(q ** 2))


def _linear_gain_mistakes(n: dict):
    q = np.array(n["belief"], dtype=float)
    return [
        (0.0, "that says reporting the belief honestly is already best. Under the linear loss "
         "it is not: minimise the expected loss over every distribution p, not only near q."),
        (1 - np.sum(q ** 2), "that is the expected loss of the honest report itself; the "
         "question asks how much lower the best report's expected loss is."),
        (1 - q.max(), "that is the expected loss of the best report itself; the question asks "
         "how much lower it is than the honest report's."),
        (1 - 2 * q.max() + np.sum(q ** 2), "that is what the Brier score charges for the best "
         "linear-loss report; the question is about the linear loss 1 - p_y."),
        (np.sum(q ** 2) - q.max(), "the sign is reversed: the best report LOWERS the expected "
         "loss, so the gain is positive."),
    ]


def check_answer_linear_gain(answer_linear_gain):
    """Question 4.4: the expected linear loss saved by the best report instead of the belief."""
    mine = numbers()
    what = f"answer_linear_gain() for your belief = {tuple(mine['belief'])}"
    value = _number(answer_linear_gain, what, SCORING)
    _expect_answer(value, right_linear_gain(mine), _linear_gain_mistakes(mine), what, SCORING,
                   rtol=5e-3)


# ---------------------------------------------------------------------------------------------
# experiment: on data the notebook never shows (rng), against the checks' own computation; the
# student's own fit_temperature and expected_calibration_error are accepted too, so that a
# mistake graded in parts 2 and 3 is not counted twice.

BRIER = ("Chapter 7, 'Proper scoring rules' (the Brier score: the squared distance between the "
         "probability vector and the one-hot target, summed over the classes, averaged over the "
         "examples)")


def _own(fn, *args):
    """What the student's own function returns as a float (None when it fails or returns
    something else than one number)."""
    try:
        value = as_float(quiet_call(fn, *args, what="", revisit=EXPERIMENT))
    except CheckFailed:  # it raised, or is not written yet
        return None
    return float(value.reshape(())) if value is not None and value.size == 1 else None


def _same(a, b, rtol=1e-6):
    return a is not None and b is not None and abs(a - b) <= 1e-12 + rtol * abs(b)


def _brier(z, labels, T):
    P = _softmax(z / T)
    P[np.arange(len(labels)), labels] -= 1.0
    return float(np.mean(np.sum(P ** 2, axis=1)))


def _experiment_data(g):
    """An over-confident model of the checks' own: its labels follow softmax(z / T_true)."""
    C = int(g.integers(4, 11))
    T_true = float(g.uniform(1.6, 3.2))
    n_val, n_test = int(g.integers(500, 900)), int(g.integers(900, 1500))
    z = g.normal(scale=3.0, size=(n_val + n_test, C))
    q = _softmax(z / T_true)
    labels = (g.random((n_val + n_test, 1)) > np.cumsum(q, axis=1)).sum(axis=1).clip(0, C - 1)
    return z[:n_val], labels[:n_val], z[n_val:], labels[n_val:]


def check_experiment(temperature_experiment, fit_temperature, expected_calibration_error):
    """The experiment on hidden data (sizes, classes and the model's true temperature drawn with
    rng): T fitted on the validation set, the test set's ECE (15 bins) and Brier score before and
    after scaling, against the checks' own computation (or the student's own fit_temperature and
    expected_calibration_error on the same data)."""
    val_z, val_y, test_z, test_y = _experiment_data(rng(96))
    C = val_z.shape[1]
    what = ("temperature_experiment(val_logits, val_labels, test_logits, test_labels, plot=False) "
            f"on data of its own ({len(val_y)} validation and {len(test_y)} test examples, "
            f"{C} classes)")
    # Copies: a fit_temperature that changes its input loses its points in its own cells.
    out = call(temperature_experiment, val_z.copy(), val_y.copy(), test_z.copy(), test_y.copy(),
               plot=False, what=what, revisit=EXPERIMENT)
    values = as_float(out) if isinstance(out, (tuple, list)) else None
    if values is None or values.shape != (5,) or not np.all(np.isfinite(values)):
        fail(f"{what} should return five numbers: (T, ece_before, ece_after, brier_before, "
             "brier_after).", expected="a tuple of 5 finite floats", got=describe(out),
             revisit=EXPERIMENT)
    T, ece_before, ece_after, brier_before, brier_after = (float(x) for x in values)
    if len(set(np.round(values, 12))) == 1 or T <= 0:
        fail(f"{what} returned {describe(out)}: these cannot all be measurements of this data.",
             expected="T > 0 and four scores measured on the test examples",
             got=describe(out), revisit=EXPERIMENT)

    # 1. T: fitted on the validation examples.
    oracle_T = _oracle_temperature(val_z, val_y)
    own_T = _own(fit_temperature, val_z.copy(), val_y.copy())
    if not (abs(T - oracle_T) <= 2e-3 * oracle_T or _same(T, own_T)):
        on_test = _oracle_temperature(test_z, test_y)
        if abs(T - on_test) <= 2e-3 * on_test or _same(T, _own(fit_temperature, test_z.copy(),
                                                                test_y.copy())):
            fail(f"{what} fitted T on the TEST examples. Fit it on the validation examples; the "
                 "test set only measures the result.", got=f"T = {T:.6g}", revisit=EXPERIMENT)
        if abs(1 / T - oracle_T) <= 2e-3 * oracle_T:
            fail(f"{what} returned 1 / T, the inverse temperature. Return T itself.",
                 got=f"T = {T:.6g}", revisit=EXPERIMENT)
        fail(f"{what} returned T = {T:.6g}, which does not minimise the NLL of softmax(logits / T) "
             "on these validation examples. Fit T on the validation examples with your "
             "fit_temperature, and return it.", got=f"T = {T:.6g}", revisit=EXPERIMENT)

    # 2. The ECE of the test examples, 15 bins, before and after (at the T returned).
    def eces(logits, labels, scale):
        probs = _softmax(logits / scale)
        return (_oracle_ece(probs, labels, 15),
                _own(expected_calibration_error, probs, labels.copy(), 15))

    for name, got, scale in [("ece_before", ece_before, 1.0), ("ece_after", ece_after, T)]:
        oracle, own = eces(test_z, test_y, scale)
        if _same(got, oracle, 1e-7) or _same(got, own):
            continue
        if name == "ece_after" and any(_same(got, v) for v in eces(test_z, test_y, 1.0)):
            problem = ("is the ECE before scaling: divide the test logits by the fitted T before "
                       "the softmax")
        elif name == "ece_after" and any(_same(got, v) for v in eces(test_z, test_y, 1 / T)):
            problem = "multiplies the test logits by T; temperature scaling divides them"
        elif any(_same(got, v) for v in eces(val_z, val_y, scale)):
            problem = "was measured on the validation examples; measure it on the test examples"
        else:
            problem = ("is not the ECE of the test examples with 15 bins (is the softmax taken "
                       "over each row, axis=1?)")
        fail(f"{what}: the {name} returned, {got:.6g}, {problem}.", got=f"{got:.6g}",
             revisit=EXPERIMENT)

    # 3. The Brier score of the test examples, before and after.
    for name, got, scale in [("brier_before", brier_before, 1.0), ("brier_after", brier_after, T)]:
        expected = _brier(test_z, test_y, scale)
        if _same(got, expected, 1e-7):
            continue
        probs = _softmax(test_z / scale)
        conf, correct = _top(probs, test_y)
        if _same(got, float(np.mean((conf - correct) ** 2)), 1e-7):
            problem = ("scores only the top class, (confidence - [right])^2. The Brier score sums "
                       "the squared differences over all C classes")
        elif _same(got, expected / C, 1e-7):
            problem = ("averages the squared differences over the classes too. The Brier score "
                       "sums them over the classes and averages over the examples only")
        elif _same(got, expected * len(test_y), 1e-7):
            problem = "is a sum over the examples; the Brier score is their mean"
        elif _same(got, _brier(val_z, val_y, scale), 1e-7):
            problem = "was measured on the validation examples; measure it on the test examples"
        elif name == "brier_after" and _same(got, _brier(test_z, test_y, 1.0), 1e-7):
            problem = ("is the Brier score before scaling: divide the test logits by the fitted "
                       "T before the softmax")
        elif _same(got, float(np.sqrt(expected)), 1e-7):
            problem = "is the square root of the Brier score (a root-mean-square distance)"
        else:
            problem = ("is not the Brier score of the test examples: for each example, the sum "
                       "over the classes of (p_k - t_k)^2 with t the one-hot label, then the "
                       "mean over the examples")
        fail(f"{what}: the {name} returned, {got:.6g}, {problem}.", got=f"{got:.6g}",
             revisit=BRIER)


# Each question's right answer for a student's numbers (`python -m autograder numbers` prints
# them; tests/test_variants.py checks that classmates' answers differ).
ANSWERS = {
    "test-answer-ece": right_ece_two_bins,
    "test-answer-temperature": right_temperature,
    "test-answer-accuracy": right_accuracy,
    "test-answer-linear-gain": right_linear_gain,
}

# The library functions each graded function must not call (the instructor is told, `hint:`).
# scipy.optimize as a whole for fit_temperature: the search on log T is part of the exercise
# (the notebook asks for one of your own, guided by the derivative of Chapter 7).
FORBIDDEN = {
    "reliability": ("sklearn.calibration.calibration_curve",),
    "ece": ("sklearn.calibration.calibration_curve",),
    "temperature-scaling": ("scipy.optimize",),
    "experiment": ("sklearn.metrics.brier_score_loss",),
}

TESTS = {
    "test-reliability": check_reliability_curve,
    "test-reliability-edges": check_reliability_edges,
    "test-ece": check_ece,
    "test-fit-temperature": check_fit_temperature,
    "test-temperature-robust": check_temperature_robust,
    "test-answer-ece": check_answer_ece,
    "test-answer-temperature": check_answer_temperature,
    "test-answer-accuracy": check_answer_accuracy,
    "test-answer-linear-gain": check_answer_linear_gain,
    "test-experiment": check_experiment,
}
