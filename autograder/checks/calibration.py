"""Hidden checks for the `calibration` exercise (chapter 7): reliability_curve,
expected_calibration_error, fit_temperature, four questions and the temperature experiment.

Oracles: an explicit loop over the bins with (lo, hi] tests and edges m / M (one correctly rounded
division per edge, the rule of the contract), the ECE written as
sum_m |sum_{n in B_m} (correct_n - confidence_n)| / N, scipy.optimize.minimize_scalar on the
validation NLL computed with scipy.special.log_softmax, and closed forms for the questions; never
the reference solution.
"""

import numpy as np

from ._common import (CheckFailed, as_float, call, describe, expect_close, expect_shape,
                      expect_unchanged, fail, matches, quiet_call, rng, snapshot, strict_call)

RELIABILITY = ("Chapter 7, 'Reliability diagrams': equal-width bins ((m-1)/M, m/M] of the top-class "
               "confidence, with edges the floats m / M, each with its mean confidence, accuracy "
               "and count")
ECE = ("Chapter 7, 'Expected calibration error': |accuracy - confidence| of each bin, weighted by "
       "its share |B_m| / N of the examples")
TEMPERATURE = "Chapter 7, 'Fitting the temperature' (minimise the NLL over T > 0)"
FLOAT64 = "Chapter 7, 'Reliability diagrams' (when a float64 confidence becomes exactly 1.0)"
EXPERIMENT = ("Chapter 7, 'Fitting the temperature': fit T on the validation set, measure the ECE "
              "on the test set")
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


def _expect_temperature(T, expected, z, labels, what):
    __tracebackhide__ = True  # noqa: F841
    if abs(T - expected) <= 2e-3 * expected:
        return
    if abs(1 / T - expected) <= 2e-3 * expected:
        fail(f"{what} returned T = {T:.4g}, the inverse of the right temperature: it looks like "
             "the logits were multiplied by T instead of divided by it. Temperature scaling is "
             "softmax(logits / T).", expected=f"T = {expected:.4g}", got=f"T = {T:.4g}",
             revisit=TEMPERATURE)
    if abs(T - _oracle_temperature(z, labels, axis=None)) <= 2e-3 * T:
        fail(f"{what} returned T = {T:.4g}, the temperature that is best when the softmax is taken "
             "over ALL the entries of the logits at once: scipy.special's softmax and log_softmax "
             "default to axis=None. Pass axis=1 so that each row (one example) becomes a "
             "distribution.", expected=f"T = {expected:.4g}", got=f"T = {T:.4g}",
             revisit=TEMPERATURE)
    fail(f"{what} returned T = {T:.5g}, but the NLL of softmax(logits / T) is smallest at "
         f"T = {expected:.5g} (to within 0.2 %).", expected=f"T = {expected:.5g} with NLL "
         f"{_nll(expected, z, labels):.6f}", got=f"T = {T:.5g} with NLL {_nll(T, z, labels):.6f}",
         revisit=TEMPERATURE)


def check_fit_temperature(fit_temperature):
    """T against scipy's bounded search on the NLL: over-confident, calibrated and
    under-confident models (the last one's T is below 1 whatever the secret)."""
    __tracebackhide__ = True  # noqa: F841
    for seed, N, C, T_true, kind in [(90, 400, 5, 2.0, "an over-confident model"),
                                     (91, 300, 10, 1.0, "a calibrated model"),
                                     (92, 500, 3, 3.0, "a very over-confident model"),
                                     (93, 400, 4, 0.5, "an under-confident model")]:
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
    _expect_temperature(T, expected, z, labels,
                        what + "; use the stable scipy.special.log_softmax, with axis=1")

    integer = np.round(z * 3).astype(np.int64)      # integer logits: converted to float first
    what = "fit_temperature(logits, labels) with integer logits (dtype int64)"
    T = _fit(fit_temperature, integer, labels, what)
    _expect_temperature(T, _oracle_temperature(integer.astype(float), labels), integer, labels,
                        what + "; convert the logits to float before dividing by T")

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


# ---------------------------------------------------------------------------------------------
# questions

def _number(answer, what, revisit):
    """Call a question's function and return its answer as a float (or fail saying why)."""
    __tracebackhide__ = True  # noqa: F841
    got = call(answer, what=what, revisit=revisit)
    value = as_float(got)
    if value is None or value.size != 1 or not np.isfinite(value).all():
        fail(f"{what} should return one finite number.", expected="a float",
             got=describe(got), revisit=revisit)
    return float(value.reshape(()))


def _expect_answer(value, expected, wrong, what, revisit, rtol=5e-3, atol=0.0):
    """`wrong`: (value, what that mistake is) pairs, recognised to say what went wrong."""
    __tracebackhide__ = True  # noqa: F841
    if abs(value - expected) <= max(atol, rtol * abs(expected)):
        return
    for mistake, explanation in wrong:
        if abs(value - mistake) <= max(atol, rtol * abs(mistake)):
            fail(f"{what} returned {value:.6g}: {explanation}", got=f"{value:.6g}", revisit=revisit)
    fail(f"{what} returned {value:.6g}, which is not the answer (to {rtol:.0e} relative"
         f"{f' or {atol:g} absolute' if atol else ''}).", got=f"{value:.6g}", revisit=revisit)


# (a): confidences and correctness of six predictions, two bins (0, 0.5] and (0.5, 1].
_TABLE_CONFIDENCE = np.array([0.3, 0.45, 0.6, 0.8, 0.9, 1.0])
_TABLE_CORRECT = np.array([0.0, 1.0, 1.0, 1.0, 1.0, 0.0])


def check_answer_ece(answer_ece_two_bins):
    """Question (a): the ECE of a six-row table with two bins, worked by hand."""
    __tracebackhide__ = True  # noqa: F841
    what = "answer_ece_two_bins()"
    value = _number(answer_ece_two_bins, what, ECE)
    conf, correct = _TABLE_CONFIDENCE, _TABLE_CORRECT
    low, high = conf <= 0.5, conf > 0.5
    expected = (abs(np.sum(correct[low] - conf[low])) + abs(np.sum(correct[high] - conf[high]))) / 6
    gaps = [abs(correct[b].mean() - conf[b].mean()) for b in (low, high)]
    kept = high & (conf < 1.0)
    wrong = [
        (np.mean(gaps), "the two bins' gaps averaged with equal weights. Weight each bin's "
         "|accuracy - confidence| by its share of the examples, |B_m| / N (here 2/6 and 4/6)."),
        (abs(np.sum(correct - conf)) / 6, "the signed gaps added before taking the absolute "
         "value, so that the two bins cancel. Take |.| of each bin's gap, then add."),
        (max(gaps), "the larger of the two gaps (the maximum calibration error), not their "
         "weighted average."),
        ((abs(np.sum(correct[low] - conf[low])) + abs(np.sum(correct[kept] - conf[kept]))) / 6,
         "the example with confidence exactly 1.0 left out of the bin (0.5, 1]. The bins are "
         "closed on the right, so 1.0 belongs to the last bin."),
        ((abs(np.sum(correct[low] - conf[low])) + abs(np.sum(correct[kept] - conf[kept]))) / 5,
         "the example with confidence exactly 1.0 left out. The bins are closed on the right, so "
         "1.0 belongs to the last bin."),
    ]
    _expect_answer(value, expected, wrong, what, ECE)


def check_answer_temperature(answer_temperature):
    """Question (b): the T at which softmax([4, 0, 0] / T) has top-class probability 0.8."""
    __tracebackhide__ = True  # noqa: F841
    what = "answer_temperature()"
    revisit = "Chapter 7, 'Temperature scaling' (q_i / q_j = exp((z_i - z_j) / T))"
    value = _number(answer_temperature, what, revisit)
    # 0.8 = e^(4/T) / (e^(4/T) + 2)  <=>  e^(4/T) = 2 * 0.8 / 0.2 = 8  <=>  T = 4 / ln 8.
    expected = 4 / np.log(8)
    wrong = [
        (4 * np.log(8), "the logits were multiplied by T instead of divided by it: with z / T, "
         "the ratio of the top probability to each of the others is e^(4/T)."),
        (1 / expected, "that is 1/T (the inverse temperature), not T."),
        (4 / np.log(4), "this T gives the top class probability 0.8 against ONE other class of "
         "logit 0. There are two other classes: 0.8 = e^(4/T) / (e^(4/T) + 2)."),
        (4 / np.log(2 * 0.8), "check the algebra: 0.8 = e^(4/T) / (e^(4/T) + 2) gives "
         "0.8 * (e^(4/T) + 2) = e^(4/T), so e^(4/T) = 2 * 0.8 / (1 - 0.8)."),
    ]
    _expect_answer(value, expected, wrong, what, revisit)


def check_answer_accuracy(answer_accuracy_choice):
    """Question (c): temperature scaling never changes a prediction (choice c)."""
    __tracebackhide__ = True  # noqa: F841
    what = "answer_accuracy_choice()"
    revisit = "Chapter 7, 'Temperature scaling' (the order of the classes for T > 0)"
    got = call(answer_accuracy_choice, what=what, revisit=revisit)
    letter = str(got).strip().strip("()").strip().lower()
    if letter not in {"a", "b", "c", "d"}:
        fail(f"{what} should return one of the letters 'a', 'b', 'c', 'd'.",
             expected="a string such as 'c'", got=describe(got), revisit=revisit)
    if letter == "c":
        return
    why = {
        "a": "a larger T lowers every confidence, but it does not change which class is largest: "
             "q_i / q_j = exp((z_i - z_j) / T) is above 1 exactly when z_i > z_j, for every T > 0.",
        "b": "every confidence goes down, but the predicted class is the argmax, and the argmax "
             "is the same for every T > 0, so no prediction changes.",
        "d": "a T < 1 sharpens the probabilities, but the order of the classes stays the same for "
             "every T > 0, so no prediction and no accuracy changes.",
    }[letter]
    fail(f"{what} returned {got!r}: {why}", got=repr(got), revisit=revisit)


def check_answer_float64_gap(answer_float64_gap):
    """Question (d): the logit gap at which a float64 softmax over 10 classes gives exactly 1.0."""
    __tracebackhide__ = True  # noqa: F841
    what = "answer_float64_gap()"
    value = _number(answer_float64_gap, what, FLOAT64)
    # 1 / (1 + 9 e^-d) is 1.0 in float64 once 1 + 9 e^-d rounds to 1: 9 e^-d <= 2^-53.
    expected = np.log(9) + 53 * np.log(2)
    wrong = [
        (53 * np.log(2), "that is where e^-d alone drops below half the spacing of floats at 1, "
         "2^-53; but the nine other classes add 9 e^-d to the sum: solve 9 e^-d = 2^-53."),
        (37.0, "37 ignores the number of classes: the nine other classes add 9 e^-d to the sum, "
         "which must drop below 2^-53."),
        (np.log(9) + 24 * np.log(2), "that is the float32 threshold (2^-24); the question is "
         "about float64, whose floats next to 1 are 2^-52 apart."),
        (np.log(9) + 52 * np.log(2), "2^-52 is the spacing of the floats at 1; a sum rounds back "
         "to 1 when what is added is at most half of it, 2^-53."),
        (np.log(np.finfo(np.float64).max), "that is where exp(d) overflows, not where the "
         "softmax rounds to 1."),
    ]
    _expect_answer(value, expected, wrong, what, FLOAT64, rtol=0.0, atol=0.01)


# ---------------------------------------------------------------------------------------------
# experiment

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


def check_experiment(temperature_experiment, fit_temperature, expected_calibration_error):
    """The experiment on other data: T fitted on the validation set with the student's own
    fit_temperature, the test set's ECE (15 bins) with their own expected_calibration_error.
    The numbers are compared with what those functions return on the same data, not with an
    oracle: parts 2 and 3 grade the functions, this cell grades the experiment's logic, so a bug
    there does not cost these points too."""
    __tracebackhide__ = True  # noqa: F841
    g = rng(96)
    z = g.normal(scale=3.0, size=(1500, 6))
    q = _softmax(z / 2.0)
    labels = (g.random((1500, 1)) > np.cumsum(q, axis=1)).sum(axis=1).clip(0, 5)
    val_z, val_y, test_z, test_y = z[:600], labels[:600], z[600:], labels[600:]
    what = ("temperature_experiment(val_logits, val_labels, test_logits, test_labels, plot=False) "
            "on another over-confident model (600 validation and 900 test examples, 6 classes)")
    # Copies: a fit_temperature that changes its input loses its points in its own cells.
    out = call(temperature_experiment, val_z.copy(), val_y.copy(), test_z.copy(), test_y.copy(),
               plot=False, what=what, revisit=EXPERIMENT)
    numbers = as_float(out) if isinstance(out, (tuple, list)) else None
    if numbers is None or numbers.shape != (3,):
        fail(f"{what} should return three numbers: (T, ece_before, ece_after).",
             expected="a tuple of 3 floats", got=describe(out), revisit=EXPERIMENT)
    T, before, after = (float(x) for x in numbers)

    own_val = _own(fit_temperature, val_z.copy(), val_y.copy())
    if own_val is None or not own_val > 0:
        fail(f"{what} needs your fit_temperature, but fit_temperature(val_logits, val_labels) "
             "did not return a positive number on this data. Make the tests of part 3 pass "
             "first.", expected="a temperature T > 0", got=f"{own_val!r}", revisit=EXPERIMENT)
    if not _same(T, own_val):
        if _same(T, _own(fit_temperature, test_z.copy(), test_y.copy())):
            fail(f"{what} fitted T on the TEST examples. Fit it on the validation examples; the "
                 "test set only measures the result.", expected=f"T = {own_val:.6g}",
                 got=f"T = {T:.6g}", revisit=EXPERIMENT)
        fail(f"{what} returned T = {T:.6g}, but your fit_temperature gives T = {own_val:.6g} on "
             "the validation examples. Fit T with your fit_temperature on the validation "
             "examples, and return it.", expected=f"T = {own_val:.6g}", got=f"T = {T:.6g}",
             revisit=EXPERIMENT)

    def ece(logits, labels, scale):   # the student's own ECE, 15 bins
        return _own(expected_calibration_error, _softmax(logits / scale), labels.copy(), 15)

    expected = {"ece_before": ece(test_z, test_y, 1.0), "ece_after": ece(test_z, test_y, T)}
    if any(v is None for v in expected.values()):
        fail(f"{what} needs your expected_calibration_error, but it did not return a number on "
             "this data. Make the tests of part 2 pass first.", expected="a number",
             got=f"{expected}", revisit=EXPERIMENT)
    for name, got in [("ece_before", before), ("ece_after", after)]:
        if _same(got, expected[name]):
            continue
        if name == "ece_after" and _same(got, expected["ece_before"]):
            problem = ("is the ECE before scaling: divide the test logits by the fitted T before "
                       "the softmax")
        elif name == "ece_after" and _same(got, ece(test_z, test_y, 1 / T)):
            problem = "multiplies the test logits by T; temperature scaling divides them"
        elif _same(got, ece(val_z, val_y, 1.0 if name == "ece_before" else T)):
            problem = "was measured on the validation examples; measure it on the test examples"
        else:
            problem = ("is not what your expected_calibration_error gives for the test examples "
                       "(15 bins): check that the softmax is taken over each row (axis=1)")
        fail(f"{what}: the {name} returned, {got:.6g}, {problem}.",
             expected=f"{expected[name]:.6g}", got=f"{got:.6g}", revisit=EXPERIMENT)


TESTS = {
    "test-reliability": check_reliability_curve,
    "test-reliability-edges": check_reliability_edges,
    "test-ece": check_ece,
    "test-fit-temperature": check_fit_temperature,
    "test-temperature-robust": check_temperature_robust,
    "test-answer-ece": check_answer_ece,
    "test-answer-temperature": check_answer_temperature,
    "test-answer-accuracy": check_answer_accuracy,
    "test-answer-float64": check_answer_float64_gap,
    "test-experiment": check_experiment,
}
