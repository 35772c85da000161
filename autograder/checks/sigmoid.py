"""Hidden checks for the `sigmoid` exercise (chapter 2): sigmoid, logit, Sigmoid.

Oracles: scipy.special.expit and scipy.special.logit, the closed form s (1 - s) of the
derivative, and the checks' own central differences; never the reference solution.
"""

import numpy as np
from scipy import special

from ._common import (CheckFailed, as_float, call, central_difference, describe, expect_close,
                      expect_dtype, expect_shape, expect_unchanged, fail, quiet_call, rng,
                      snapshot, strict_call)

DEFINITION = "Chapter 2, 'From odds to log-odds to the sigmoid' (sigma(z) = 1 / (1 + exp(-z)))"
STABLE = "Chapter 2, 'Computing the sigmoid without overflow'"
LOGIT = "Chapter 2, 'From odds to log-odds to the sigmoid' (the logit function, log(p / (1 - p)))"
DERIVATIVE = "Chapter 2, 'The derivative, step by step'"
BACKWARD = "Chapter 2, 'The backward pass: local derivative times upstream gradient'"

STABLE_HINT = ("exp(-z) overflows for very negative z and exp(z) for very positive z; note that "
               "np.where evaluates both of its branches on every element. Compute only "
               "exp(-|z|), which lies in (0, 1], and choose the numerator per element.")




def _expect_close_sigmoid(out, z, *, what, revisit):
    """Compare with expit in float64; a float32 input is compared with float32 accuracy."""
    __tracebackhide__ = True  # noqa: F841
    z64 = np.asarray(z, dtype=np.float64)
    expected = special.expit(z64)
    got = np.asarray(out, dtype=np.float64) if np.shape(out) == np.shape(expected) else None
    if got is not None and np.all(np.isfinite(got)):
        if np.allclose(got, special.expit(-z64), rtol=1e-6, atol=1e-7) and \
                not np.allclose(expected, special.expit(-z64), rtol=1e-6, atol=1e-7):
            fail(f"{what} returned sigmoid(-z) = 1 / (1 + exp(z)): the sign of the exponent is "
                 "flipped.", expected=describe(expected), got=describe(np.asarray(out)),
                 revisit=revisit)
    float32 = np.asarray(z).dtype == np.float32
    expect_close(out, expected, what=what, revisit=revisit,
                 rtol=1e-6 if float32 else 1e-7, atol=1e-7 if float32 else 1e-12)


def check_sigmoid_values(sigmoid):
    """Values against expit for scalars and arrays of several shapes; dtypes; batch vs rows;
    the input left unchanged."""
    __tracebackhide__ = True  # noqa: F841
    g = rng(20)
    # Python scalars, including an int, give a scalar (shape ()) result.
    for z0 in (0.0, 1.2, -3.5, 2):
        what = f"sigmoid({z0!r})"
        out = call(sigmoid, z0, what=what, revisit=DEFINITION)
        expect_shape(out, (), what=what + " (a scalar in, a scalar out)", revisit=DEFINITION)
        _expect_close_sigmoid(out, z0, what=what, revisit=DEFINITION)

    for shape in [(7,), (4, 3), (2, 3, 4), (1, 1)]:
        z = g.normal(scale=4.0, size=shape)
        before = snapshot(z=z)
        what = f"sigmoid(z) with z of shape {shape}"
        out = call(sigmoid, z, what=what, revisit=DEFINITION)
        expect_unchanged(before, what=what, revisit=DEFINITION)
        expect_shape(out, shape, what=what + " (the sigmoid acts element-wise)",
                     revisit=DEFINITION)
        _expect_close_sigmoid(out, z, what=what, revisit=DEFINITION)
        expect_dtype(out, np.float64, what=what + " (float64 in, float64 out)", revisit=DEFINITION)
        if len(shape) == 2:
            rows = np.stack([np.asarray(call(sigmoid, z[i], what=f"{what}, one row at a time",
                                             revisit=DEFINITION)) for i in range(shape[0])])
            expect_close(rows, out, what="sigmoid on the rows one at a time (compared with the "
                         "whole batch)", revisit=DEFINITION)

    # float32 stays float32 (a Python 1 does not promote an array under NumPy 2's rules).
    z32 = g.normal(scale=4.0, size=(5, 4)).astype(np.float32)
    before = snapshot(z=z32)
    what = "sigmoid(z) with a float32 array z"
    out = call(sigmoid, z32, what=what, revisit=STABLE)
    expect_unchanged(before, what=what, revisit=STABLE)
    expect_dtype(out, np.float32, what=what + " (a float32 input must give a float32 output; "
                 "do not convert to float64)", revisit=STABLE)
    _expect_close_sigmoid(out, z32, what=what, revisit=STABLE)

    # Integer arrays give floating-point probabilities.
    zi = np.array([[-3, 0, 2], [5, -1, 1]])
    what = "sigmoid(z) with an integer array z"
    out = call(sigmoid, zi, what=what, revisit=DEFINITION)
    if not np.issubdtype(np.asarray(out).dtype, np.floating):
        fail(f"{what} should return floating-point probabilities.", expected="a float array",
             got=describe(np.asarray(out)), revisit=DEFINITION)
    _expect_close_sigmoid(out, zi, what=what, revisit=DEFINITION)


def check_sigmoid_stable(sigmoid):
    """No overflow or invalid-value warning for any finite z (float64 and float32), correct
    values in the tails, exact limits at +-inf."""
    __tracebackhide__ = True  # noqa: F841
    edges = np.array([-1e4, -1e3, -745.0, -710.0, -100.0, -89.0, -40.0, -17.0, 0.0,
                      17.0, 40.0, 89.0, 100.0, 710.0, 745.0, 1e3, 1e4])
    mixed = rng(21).uniform(-1e4, 1e4, size=(3, 5))
    for dtype in (np.float64, np.float32):
        for z in (edges.astype(dtype), mixed.astype(dtype)):
            name = np.dtype(dtype).name
            what = f"sigmoid(z) with {name} z of shape {z.shape} spanning -1e4 to 1e4"
            # a copy: modifying the input is judged by check_sigmoid_values, not here
            out = strict_call(sigmoid, z.copy(), what=what, revisit=STABLE, hint=STABLE_HINT)
            expect_shape(out, z.shape, what=what, revisit=STABLE)
            if not np.all(np.isfinite(np.asarray(out, dtype=np.float64))):
                fail(f"{what} returned nan or inf. For large |z| the sigmoid is 0 or 1, not nan: "
                     "exp(z) / (1 + exp(z)) is inf / inf = nan for large z.",
                     expected=describe(special.expit(z.astype(np.float64))),
                     got=describe(np.asarray(out)), revisit=STABLE)
            _expect_close_sigmoid(out, z, what=what, revisit=STABLE)

    limits = np.array([np.inf, -np.inf, 0.0])
    what = "sigmoid(np.array([inf, -inf, 0.0]))"
    out = strict_call(sigmoid, limits.copy(), what=what, revisit=STABLE, hint=STABLE_HINT)
    expected = np.array([1.0, 0.0, 0.5])
    if not (np.shape(out) == (3,) and np.array_equal(np.asarray(out, dtype=float), expected)):
        fail(f"{what} should give the exact limits 1 and 0, and 1/2 at z = 0.",
             expected=describe(expected), got=describe(np.asarray(out)), revisit=STABLE)


def check_logit(logit):
    """logit(p) = log(p / (1 - p)) against scipy.special.logit; the inverse of expit."""
    __tracebackhide__ = True  # noqa: F841
    g = rng(22)
    # (p, rtol): near 0 and 1 any of the usual formulas loses a few digits, which is harmless.
    cases = [(np.float64(0.25), 1e-8), (g.uniform(1e-6, 1 - 1e-6, size=9), 1e-8),
             (g.uniform(0.01, 0.99, size=(3, 4)), 1e-8), (np.array([1e-12, 0.5, 1 - 1e-6]), 1e-5)]
    for p, rtol in cases:
        before = snapshot(p=p)
        what = (f"logit({float(p)!r})" if np.ndim(p) == 0 else
                f"logit(p) with p of shape {p.shape}")
        out = call(logit, p, what=what, revisit=LOGIT)
        expect_unchanged(before, what=what, revisit=LOGIT)
        expected = special.logit(p)
        expect_shape(out, np.shape(p), what=what, revisit=LOGIT)
        got = np.asarray(out, dtype=np.float64)
        nontrivial = np.abs(expected) > 1e-3
        with np.errstate(all="ignore"):
            if np.any(nontrivial) and np.allclose(got, -expected, rtol=1e-7, atol=1e-12):
                fail(f"{what} has the wrong sign: it computed log((1 - p) / p) = -logit(p).",
                     expected=describe(expected), got=describe(np.asarray(out)), revisit=LOGIT)
            if np.any(nontrivial) and np.allclose(got, expected / np.log(10), rtol=1e-7,
                                                  atol=1e-12):
                fail(f"{what} used the base-10 logarithm. Log-odds use the natural logarithm, "
                     "np.log, the inverse of np.exp in the sigmoid.", expected=describe(expected),
                     got=describe(np.asarray(out)), revisit=LOGIT)
            if np.allclose(got, p / (1 - p), rtol=1e-7):
                fail(f"{what} returned the odds p / (1 - p), not the log-odds log(p / (1 - p)).",
                     expected=describe(expected), got=describe(np.asarray(out)), revisit=LOGIT)
        expect_close(out, expected, what=what, revisit=LOGIT, rtol=rtol, atol=1e-12)

    # The inverse of the sigmoid: logit(expit(z)) = z.
    z = np.linspace(-15, 15, 31)
    what = "logit(sigmoid(z)) for z from -15 to 15"
    out = call(logit, special.expit(z), what=what, revisit=LOGIT)
    expect_close(out, z, what=what + " (the logit undoes the sigmoid)", revisit=LOGIT,
                 rtol=1e-6, atol=1e-6)


def _module(Sigmoid):
    return call(Sigmoid, what="Sigmoid()", revisit=BACKWARD)


def check_sigmoid_module_forward(Sigmoid):
    """Sigmoid().forward(z) gives the sigmoid for any shape and leaves z unchanged."""
    __tracebackhide__ = True  # noqa: F841
    g = rng(23)
    for shape in [(4, 3), (6,), (2, 3, 2)]:
        z = g.normal(scale=3.0, size=shape)
        before = snapshot(z=z)
        layer = _module(Sigmoid)
        what = f"Sigmoid().forward(z) with z of shape {shape}"
        out = call(layer.forward, z, what=what, revisit=BACKWARD)
        expect_unchanged(before, what=what, revisit=BACKWARD)
        expect_shape(out, shape, what=what, revisit=BACKWARD)
        _expect_close_sigmoid(out, z, what=what, revisit=DEFINITION)

    # Every forward is checked at extreme logits, with numpy's warnings as errors (issue 11).
    edges = np.array([-1e4, -1e3, -745.0, -100.0, -89.0, -17.0, 0.0, 17.0, 89.0, 100.0, 745.0,
                      1e3, 1e4])
    for dtype in (np.float64, np.float32):
        z = edges.astype(dtype)
        layer = _module(Sigmoid)
        what = f"Sigmoid().forward(z) with {np.dtype(dtype).name} z from -1e4 to 1e4"
        out = strict_call(layer.forward, z.copy(), what=what, revisit=STABLE,
                          hint=STABLE_HINT + " A layer's forward must be as stable as the function.")
        expect_shape(out, z.shape, what=what, revisit=STABLE)
        if not np.all(np.isfinite(np.asarray(out, dtype=np.float64))):
            fail(f"{what} returned nan or inf. For large |z| the sigmoid is 0 or 1.",
                 expected=describe(special.expit(z.astype(np.float64))),
                 got=describe(np.asarray(out)), revisit=STABLE)
        _expect_close_sigmoid(out, z, what=what, revisit=STABLE)


def check_sigmoid_module_backward(Sigmoid):
    """backward(g) = g * s * (1 - s) against closed forms and central differences, with an
    upstream gradient that is not all ones; fresh state after a second forward. Graded apart
    from forward: a forward that fails does not fail this check by itself, and when backward
    fails after a failed forward the message says so."""
    __tracebackhide__ = True  # noqa: F841
    problems = []

    def forward(layer, z, what):
        # a copy: check_sigmoid_module_forward judges what forward does to z and its values
        try:
            out = quiet_call(layer.forward, z.copy(), what=what, revisit=BACKWARD)
        except CheckFailed as err:
            problems.append(str(err).splitlines()[0])
            return
        got = as_float(out)
        if got is None or got.shape != z.shape or not np.allclose(got, special.expit(z)):
            problems.append(f"{what} returned wrong values")

    try:
        _check_backward(Sigmoid, forward)
    except CheckFailed as err:
        if not problems:
            raise
        what_backward_did = "\n".join(line for line in str(err).splitlines()
                                      if not line.strip().startswith("revisit:"))
        fail("Sigmoid.backward failed, and the forward pass before it had failed first "
             f"({problems[0]}). backward can only use what forward stored: fix forward first "
             "(test-sigmoid-module-forward says what is wrong), then run this test again. What "
             f"backward did:\n{what_backward_did}", revisit=BACKWARD)


def _check_backward(Sigmoid, forward):
    __tracebackhide__ = True  # noqa: F841
    g = rng(24)
    z = g.normal(scale=2.5, size=(4, 3))
    G = g.normal(size=(4, 3))  # an upstream gradient dL/ds that is not all ones
    s = special.expit(z)
    expected = G * s * (1 - s)
    layer = _module(Sigmoid)
    forward(layer, z, "Sigmoid().forward(z)")
    before = snapshot(grad_output=G)
    what = "Sigmoid.backward(grad_output) after forward(z), z and grad_output of shape (4, 3)"
    out = call(layer.backward, G, what=what, revisit=BACKWARD)
    expect_unchanged(before, what=what, revisit=BACKWARD)

    if np.shape(out) == expected.shape:
        got = np.asarray(out, dtype=np.float64)
        wrong = [
            (s * (1 - s), "ignores grad_output: it returned the local derivative s (1 - s) "
             "alone, which is right only when the upstream gradient is all ones. Multiply by "
             "grad_output (the chain rule).", BACKWARD),
            (G * (1 - s ** 2), "returned grad_output * (1 - s**2), the derivative of tanh, not "
             "of the sigmoid. The sigmoid's derivative is s (1 - s).", DERIVATIVE),
            (G * special.expit(s) * (1 - special.expit(s)), "applied the sigmoid to the stored "
             "output s again: the derivative s (1 - s) uses s = sigmoid(z) itself, not "
             "sigmoid(s).", DERIVATIVE),
            (G * s, "returned grad_output * s: the derivative of the sigmoid is s (1 - s), "
             "not s.", DERIVATIVE),
        ]
        for candidate, message, revisit in wrong:
            if np.allclose(got, candidate, rtol=1e-6, atol=1e-12) and \
                    not np.allclose(candidate, expected, rtol=1e-6, atol=1e-12):
                fail(f"{what} {message}", expected=describe(expected), got=describe(got),
                     revisit=revisit)
    expect_shape(out, z.shape, what=what + " (dL/dz has the shape of z)", revisit=BACKWARD)
    numeric = central_difference(lambda v: float(np.sum(G * special.expit(v))), z)
    expect_close(out, numeric, what=what + ", compared with a central-difference gradient of "
                 "L(z) = sum(grad_output * sigmoid(z))", revisit=BACKWARD, rtol=1e-5, atol=1e-8)
    expect_close(out, expected, what=what + " (grad_output * s * (1 - s))", revisit=BACKWARD,
                 rtol=1e-7, atol=1e-12)

    # A second backward after the same forward, with another upstream gradient.
    G2 = g.normal(size=(4, 3))
    out2 = call(layer.backward, G2, what="a second Sigmoid.backward after the same forward",
                revisit=BACKWARD)
    expect_close(out2, G2 * s * (1 - s), what="a second Sigmoid.backward(grad_output) after the "
                 "same forward (backward must not change the stored state)", revisit=BACKWARD,
                 rtol=1e-7, atol=1e-12)

    # A new batch of the same shape, then one of another shape: backward uses the latest forward.
    z4 = g.normal(scale=2.0, size=(4, 3))
    s4 = special.expit(z4)
    forward(layer, z4, "a second Sigmoid.forward on a new batch of shape (4, 3)")
    out4 = call(layer.backward, G, what="Sigmoid.backward after a second forward on a new batch",
                revisit=BACKWARD)
    expect_close(out4, G * s4 * (1 - s4), what="Sigmoid.backward after a second forward on a "
                 "new batch of shape (4, 3) (use what the latest forward stored)",
                 revisit=BACKWARD, rtol=1e-7, atol=1e-12)
    z3 = g.normal(scale=2.0, size=(2, 5))
    G3 = g.normal(size=(2, 5))
    s3 = special.expit(z3)
    forward(layer, z3, "a second Sigmoid.forward on a new batch of shape (2, 5)")
    out3 = call(layer.backward, G3, what="Sigmoid.backward after a second forward on a new "
                "batch", revisit=BACKWARD)
    expect_close(out3, G3 * s3 * (1 - s3), what="Sigmoid.backward after a second forward on a "
                 "new batch of shape (2, 5) (use what the latest forward stored)",
                 revisit=BACKWARD, rtol=1e-7, atol=1e-12)

    # One dimension: the same rule element by element.
    z1 = np.array([-3.0, 0.0, 2.0])
    G1 = np.array([1.0, -2.0, 0.5])
    layer = _module(Sigmoid)
    forward(layer, z1, "Sigmoid().forward(z) with z = [-3, 0, 2]")
    s1 = special.expit(z1)
    out1 = call(layer.backward, G1, what="Sigmoid.backward([1, -2, 0.5]) after forward([-3, 0, "
                "2])", revisit=BACKWARD)
    expect_close(out1, G1 * s1 * (1 - s1), what="Sigmoid.backward([1, -2, 0.5]) after "
                 "forward([-3, 0, 2])", revisit=BACKWARD, rtol=1e-7, atol=1e-12)


# ------------------------------------------------------------------------------------------------
# Questions and the experiment: the student's functions return numbers; messages teach the idea.
# ------------------------------------------------------------------------------------------------

SATURATION = "Chapter 2, 'Saturation and vanishing gradients'"
GAUSSIAN = "Chapter 2, 'Gaussian classes with a shared covariance'"

# The Gaussian classes of the questions: x | y=0 ~ N(-1, 2**2), x | y=1 ~ N(2, 2**2), P(y=1) = 0.2.
MU0, MU1, SD, PRIOR1 = -1.0, 2.0, 2.0, 0.2
W_TRUE = (MU1 - MU0) / SD ** 2
B_TRUE = (MU0 ** 2 - MU1 ** 2) / (2 * SD ** 2) + np.log(PRIOR1 / (1 - PRIOR1))


def _number(value):
    """value as a Python float, or None when it is not one number."""
    arr = as_float(value)
    return None if arr is None or arr.shape != () else float(arr)


def check_answer_float16(answer_float16):
    """The smallest z >= 0 at which 1 + exp(-z) is exactly 1 in float16: 11 ln 2."""
    __tracebackhide__ = True  # noqa: F841
    out = call(answer_float16, what="answer_float16()", revisit=SATURATION)
    what = "answer_float16(), the smallest z at which float16's 1 + exp(-z) rounds to 1"
    z = _number(out)
    if z is None:
        fail(f"{what} should return one number.", expected="a float", got=describe(out),
             revisit=SATURATION)
    true = 11 * np.log(2)
    if abs(z - 24 * np.log(2)) < 0.1 or abs(z - 53 * np.log(2)) < 0.1:
        fail(f"{what}: {z:.4g} is the threshold of float32 or float64, whose numbers near 1 are "
             "closer together. float16 keeps 10 bits after the leading one: its gap above 1 is "
             "2**-10.", expected="a threshold for float16", got=describe(out), revisit=SATURATION)
    if abs(z - 10 * np.log(2)) < 0.03:
        fail(f"{what}: 1 + e rounds to 1 as soon as e is at most HALF the gap between 1 and the "
             "next float16 number (round to nearest), not the whole gap 2**-10.",
             expected="e <= 2**-11", got=describe(out), revisit=SATURATION)
    if abs(z - 11 * np.log10(2)) < 0.03 or abs(z - 11 * np.log2(np.e)) < 0.05:
        fail(f"{what}: exp(-z) <= 2**-11 means z >= 11 ln 2, with the natural logarithm (the "
             "inverse of exp).", expected="a natural logarithm", got=describe(out),
             revisit=SATURATION)
    if abs(z - true) > 0.03:
        fail(f"{what}: wrong threshold. In float16 the gap between 1 and the next number is "
             "2**-10; 1 + e rounds to 1 when e = exp(-z) is at most half that gap.",
             expected="z such that exp(-z) = 2**-11", got=describe(out), revisit=SATURATION)


def check_answer_gaussian(answer_gaussian):
    """w and b of the log-odds of two 1-D Gaussian classes with a shared variance and a prior."""
    __tracebackhide__ = True  # noqa: F841
    out = call(answer_gaussian, what="answer_gaussian()", revisit=GAUSSIAN)
    try:
        answers = tuple(out)
    except TypeError:
        answers = ()
    what = ("answer_gaussian() for x | y=0 ~ N(-1, 2**2), x | y=1 ~ N(2, 2**2) and "
            "P(y=1) = 0.2")
    if len(answers) != 2 or _number(answers[0]) is None or _number(answers[1]) is None:
        fail(f"{what} should return two numbers, (w, b).", expected="a tuple (w, b)",
             got=describe(out), revisit=GAUSSIAN)
    w, b = _number(answers[0]), _number(answers[1])
    log_prior_odds = np.log(PRIOR1 / (1 - PRIOR1))

    def near(x, y):
        return abs(x - y) < 5e-3

    if near(w, -W_TRUE):
        fail(f"{what}: the sign of w is flipped (the classes are swapped). The log-odds of class "
             "1 grow towards class 1's mean: w = (mu1 - mu0) / sigma**2.",
             expected="w > 0", got=describe(out), revisit=GAUSSIAN)
    if near(w, (MU1 - MU0) / SD):
        fail(f"{what}: w divides by the standard deviation. The inverse covariance is "
             "1 / sigma**2, the variance.", expected="w = (mu1 - mu0) / sigma**2",
             got=describe(out), revisit=GAUSSIAN)
    if not near(w, W_TRUE):
        fail(f"{what}: wrong w. The terms linear in x give w = Sigma^-1 (mu1 - mu0).",
             expected="w = (mu1 - mu0) / sigma**2", got=describe(out), revisit=GAUSSIAN)
    no_prior = B_TRUE - log_prior_odds
    if near(b, no_prior):
        fail(f"{what}: b leaves out the prior. With unequal priors the bias gains the log prior "
             "odds log(pi1 / pi0).", expected="b including log(0.2 / 0.8)", got=describe(out),
             revisit=GAUSSIAN)
    if near(b, no_prior - log_prior_odds):
        fail(f"{what}: the prior odds are upside down: the bias gains log(pi1 / pi0), which is "
             "negative when class 1 is the rarer one.", expected="b including log(0.2 / 0.8)",
             got=describe(out), revisit=GAUSSIAN)
    if near(b, 2 * no_prior + log_prior_odds):
        fail(f"{what}: b is missing the factor 1/2 of the Gaussian's exponent: "
             "b = (mu0**2 - mu1**2) / (2 sigma**2) + log(pi1 / pi0).", expected="the factor 1/2",
             got=describe(out), revisit=GAUSSIAN)
    if not near(b, B_TRUE):
        fail(f"{what}: wrong b. The terms of the log-odds that do not depend on x are "
             "-mu1**2 / (2 sigma**2) + mu0**2 / (2 sigma**2) + log(pi1 / pi0).",
             expected="b from the derivation", got=describe(out), revisit=GAUSSIAN)


def check_experiment_gaussian(experiment_gaussian):
    """The decision boundary read off sampled data: near -b / w = 2.35."""
    __tracebackhide__ = True  # noqa: F841
    out = quiet_call(experiment_gaussian, plot=False, what="experiment_gaussian(plot=False)",
                     revisit=GAUSSIAN)
    what = "experiment_gaussian(), the x at which the sampled fraction of class 1 reaches 1/2"
    x = _number(out)
    if x is None:
        fail(f"{what} should return one number.", expected="a float", got=describe(out),
             revisit=GAUSSIAN)
    boundary = -B_TRUE / W_TRUE
    if abs(x - (MU0 + MU1) / 2) < 0.3:
        fail(f"{what}: {x:.3g} is the boundary for EQUAL priors, midway between the means. Draw "
             "the labels with P(y=1) = 0.2: the rarer class needs more evidence, which moves the "
             "boundary towards its mean and beyond.", expected="a boundary shifted by the prior",
             got=describe(out), revisit=GAUSSIAN)
    if abs(x + boundary) < 0.35:
        fail(f"{what}: the sign is flipped. Class 1 has the larger mean, so its fraction reaches "
             "1/2 on the positive side.", expected="a positive boundary", got=describe(out),
             revisit=GAUSSIAN)
    if abs(x - boundary) > 0.35:
        fail(f"{what}: the boundary read off the samples is far from where the derivation puts "
             "it, the x where w x + b = 0. Check the sampling (means -1 and 2, standard "
             "deviation 2, P(y=1) = 0.2, about 100 000 points) and the bins.",
             expected="about -b / w of the Gaussian classes", got=describe(out),
             revisit=GAUSSIAN)


TESTS = {
    "test-sigmoid-values": check_sigmoid_values,
    "test-sigmoid-stable": check_sigmoid_stable,
    "test-logit": check_logit,
    "test-sigmoid-module-forward": check_sigmoid_module_forward,
    "test-sigmoid-module-backward": check_sigmoid_module_backward,
    "test-answer-float16": check_answer_float16,
    "test-answer-gaussian": check_answer_gaussian,
    "test-experiment-gaussian": check_experiment_gaussian,
}
