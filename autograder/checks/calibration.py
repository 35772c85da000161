"""Hidden checks for the `calibration` exercise (chapter 7): reliability_curve,
expected_calibration_error and fit_temperature.

Oracles: an explicit loop over the bins with (lo, hi] tests, the ECE written as
sum_m |sum_{n in B_m} (correct_n - confidence_n)| / N, and scipy.optimize.minimize_scalar on the
validation NLL computed with scipy.special.log_softmax; never the reference solution.
"""

import numpy as np

from ._common import (describe, expect_close, expect_shape, expect_unchanged, fail, rng,
                      snapshot, strict_call)

RELIABILITY = ("Chapter 7, 'Reliability diagrams': equal-width bins ((m-1)/M, m/M] of the top-class "
               "confidence, each with its mean confidence, accuracy and count")
ECE = ("Chapter 7, 'Expected calibration error': |accuracy - confidence| of each bin, weighted by "
       "its share |B_m| / N of the examples")
TEMPERATURE = "Chapter 7, 'Temperature scaling' and 'Fitting the temperature' (minimise the NLL over T > 0)"
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
    __tracebackhide__ = True  # noqa: F841
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
                 "number per example: its top-class confidence, probs.max(axis=-1).",
                 expected=f"counts summing to N = {N}", got=describe(count_got), revisit=RELIABILITY)
        true_class = probs[np.arange(N), labels]
        if not np.array_equal(count_got, count) and np.array_equal(
                count_got, _oracle_bins(true_class, correct, M)[2]):
            fail(f"{what} binned the probability of the TRUE class. Bin the confidence of the "
                 "PREDICTED class, probs.max(axis=-1): calibration asks whether the model's own "
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
    __tracebackhide__ = True  # noqa: F841
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
    __tracebackhide__ = True  # noqa: F841
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

    # Perfectly calibrated by construction: 10 predictions at 0.8 (8 right), 5 at 0.6 (3 right).
    probs = np.array([[0.8, 0.2]] * 10 + [[0.4, 0.6]] * 5)
    labels = np.array([0] * 8 + [1] * 2 + [1] * 3 + [0] * 2)
    what = "expected_calibration_error(probs, labels) for a perfectly calibrated model"
    got = strict_call(expected_calibration_error, probs, labels, what=what, revisit=ECE)
    expect_close(got, 0.0, what=what + " (80 % right at confidence 0.8, 60 % right at 0.6)",
                 revisit=ECE, atol=1e-12)


# ---------------------------------------------------------------------------------------------
# temperature-scaling

def _nll(T, z, labels):
    from scipy.special import log_softmax
    return -np.mean(log_softmax(z / T, axis=1)[np.arange(len(labels)), labels])


def _oracle_temperature(z, labels):
    from scipy.optimize import minimize_scalar
    lo, hi = np.log(T_RANGE[0]), np.log(T_RANGE[1])
    result = minimize_scalar(lambda u: _nll(np.exp(u), z, labels), bounds=(lo, hi),
                             method="bounded", options={"xatol": 1e-10})
    return float(np.exp(result.x))


def _fit(fit_temperature, z, labels, what):
    inputs = snapshot(logits=z, labels=labels)
    T = strict_call(fit_temperature, z, labels, what=what, revisit=TEMPERATURE)
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


def _expect_temperature(T, expected, z, labels, what):
    __tracebackhide__ = True  # noqa: F841
    if abs(T - expected) <= 2e-3 * expected:
        return
    if abs(1 / T - expected) <= 2e-3 * expected:
        fail(f"{what} returned T = {T:.4g}, the inverse of the right temperature: it looks like "
             "the logits were multiplied by T instead of divided by it. Temperature scaling is "
             "softmax(logits / T).", expected=f"T = {expected:.4g}", got=f"T = {T:.4g}",
             revisit=TEMPERATURE)
    fail(f"{what} returned T = {T:.5g}, but the NLL of softmax(logits / T) is smallest at "
         f"T = {expected:.5g} (to within 0.2 %).", expected=f"T = {expected:.5g} with NLL "
         f"{_nll(expected, z, labels):.6f}", got=f"T = {T:.5g} with NLL {_nll(T, z, labels):.6f}",
         revisit=TEMPERATURE)


def check_fit_temperature(fit_temperature):
    """T against scipy's bounded search on the NLL: over-confident and calibrated models."""
    __tracebackhide__ = True  # noqa: F841
    for seed, N, C, T_true, kind in [(90, 400, 5, 2.0, "an over-confident model"),
                                     (91, 300, 10, 1.0, "a calibrated model"),
                                     (92, 500, 3, 3.0, "a very over-confident model")]:
        z, _, labels = _predictions(seed, N, C, sharpness=4.0, temperature=T_true)
        what = f"fit_temperature(logits, labels) for {kind}, logits of shape {z.shape}"
        T = _fit(fit_temperature, z, labels, what)
        _expect_temperature(T, _oracle_temperature(z, labels), z, labels, what)


def check_temperature_robust(fit_temperature):
    """An under-confident model (T < 1), huge logits, and a model worse than chance."""
    __tracebackhide__ = True  # noqa: F841
    z, _, labels = _predictions(93, 400, 4, sharpness=2.0, temperature=0.4)
    what = "fit_temperature(logits, labels) for an under-confident model"
    T = _fit(fit_temperature, z, labels, what)
    expected = _oracle_temperature(z, labels)
    if T >= 1 and expected < 0.9:
        fail(f"{what} returned T = {T:.4g}. An under-confident model needs T < 1 to sharpen its "
             "probabilities: search below 1 as well.", expected=f"T = {expected:.4g}",
             got=f"T = {T:.4g}", revisit=TEMPERATURE)
    _expect_temperature(T, expected, z, labels, what)

    shifted = z + 1000.0            # the softmax ignores a constant added to a row
    what = "fit_temperature(logits + 1000, labels) (the same model: softmax ignores the shift)"
    T = _fit(fit_temperature, shifted, labels, what)
    _expect_temperature(T, expected, z, labels, what + "; use the stable log_softmax given above")

    # Labels drawn from softmax(-z): the model is worse than chance, the NLL falls as T grows.
    g = rng(94)
    z = g.normal(scale=3.0, size=(200, 4))
    q = _softmax(-z)
    labels = (g.random((200, 1)) > np.cumsum(q, axis=1)).sum(axis=1).clip(0, 3)
    what = "fit_temperature(logits, labels) for a model that is worse than chance"
    T = _fit(fit_temperature, z, labels, what)
    if T < 50:
        fail(f"{what} returned T = {T:.4g}. Here the NLL keeps falling as T grows, so the best "
             f"positive temperature is the upper end of the search range, {T_RANGE[1]}.",
             expected=f"T close to {T_RANGE[1]}", got=f"T = {T:.4g}", revisit=TEMPERATURE)


TESTS = {
    "test-reliability": check_reliability_curve,
    "test-reliability-edges": check_reliability_edges,
    "test-ece": check_ece,
    "test-fit-temperature": check_fit_temperature,
    "test-temperature-robust": check_temperature_robust,
}
