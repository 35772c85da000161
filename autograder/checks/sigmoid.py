"""Hidden checks for the `sigmoid` exercise (chapter 2): sigmoid, logit, Sigmoid.

Oracles: scipy.special.expit and scipy.special.logit, the closed form s (1 - s) of the
derivative, and the checks' own central differences; never the reference solution.
"""

import numpy as np
from scipy import special

from ._common import (CheckFailed, as_float, batched_call, call, central_difference, describe,
                      expect_close, expect_dtype, expect_shape, expect_unchanged, fail, numbers,
                      quiet_call, rng, snapshot, strict_call)

DEFINITION = "Chapter 2, 'From odds to log-odds to the sigmoid'"
STABLE = "Chapter 2, 'Computing the sigmoid without overflow'"
LOGIT = "Chapter 2, 'From odds to log-odds to the sigmoid' (the logit function)"
DERIVATIVE = "Chapter 2, 'The derivative, step by step'"
BACKWARD = "Chapter 2, 'The backward pass: local derivative times upstream gradient'"

STABLE_HINT = ("exp(-z) overflows for very negative z and exp(z) for very positive z; note that "
               "np.where evaluates both of its branches on every element. Compute only "
               "exp(-|z|), which lies in (0, 1], and choose the numerator per element.")


# Whole-array operations, not a Python loop over the elements (the contract): a one-number
# snippet (a stable softplus or sigmoid of one float, a numerical derivative) looped or passed
# through np.vectorize takes a second or more of CPU on a million logits, where whole-array numpy
# takes about 10 to 20 ms (_common.batched_call).
LOOP_SHAPE = (1000, 1000)
LOOP = ("the contract: numpy operations on whole arrays, no Python loop over the elements "
        "(Chapter 2, 'Computing the sigmoid without overflow')")


def _many_logits(seed, scale):
    return rng(seed).normal(scale=scale, size=LOOP_SHAPE)


def _whole_array_sigmoid(z):
    """The checks' own whole-array stable sigmoid, for timing only."""
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1, e) / (1 + e)


def _expect_close_sigmoid(out, z, *, what, revisit):
    """Compare with expit in float64; a float32 input is compared with float32 accuracy."""
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

    # A million logits at once, in the time of whole-array numpy.
    z = _many_logits(25, 4.0)
    what = f"sigmoid(z) on {z.size} logits of shape {z.shape}"
    out = batched_call(sigmoid, z, reference=lambda: _whole_array_sigmoid(z), what=what,
                       revisit=LOOP)
    expect_shape(out, z.shape, what=what, revisit=DEFINITION)
    _expect_close_sigmoid(out, z, what=what, revisit=DEFINITION)


def check_sigmoid_stable(sigmoid):
    """No overflow or invalid-value warning for any finite z (float64 and float32), correct
    values in the tails, exact limits at +-inf."""
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

    # A million extreme logits at once, in the time of whole-array numpy.
    z = _many_logits(26, 1e3)
    what = f"sigmoid(z) on {z.size} logits of size about 1e3, shape {z.shape}"
    out = batched_call(sigmoid, z, reference=lambda: _whole_array_sigmoid(z), what=what,
                       revisit=LOOP)
    expect_shape(out, z.shape, what=what, revisit=STABLE)
    _expect_close_sigmoid(out, z, what=what, revisit=STABLE)


def check_logit(logit):
    """logit(p) against scipy.special.logit; the inverse of expit."""
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
                fail(f"{what} returned the odds, not the log-odds: take their natural logarithm.",
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

    # A million logits at once, in the time of whole-array numpy.
    z = _many_logits(27, 4.0)
    layer = _module(Sigmoid)
    what = f"Sigmoid().forward(z) on {z.size} logits of shape {z.shape}"
    out = batched_call(layer.forward, z, reference=lambda: _whole_array_sigmoid(z), what=what,
                       revisit=LOOP)
    expect_shape(out, z.shape, what=what, revisit=BACKWARD)
    _expect_close_sigmoid(out, z, what=what, revisit=DEFINITION)


def check_sigmoid_module_backward(Sigmoid):
    """backward(grad_output) against the chain rule's closed form and central differences, with an
    upstream gradient that is not all ones; fresh state after a second forward. Graded apart
    from forward: a forward that fails does not fail this check by itself, and when backward
    fails after a failed forward the message says so."""
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
    expect_close(out, expected, what=what + " (the chain rule)", revisit=BACKWARD,
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

    # A million entries at once, in the time of whole-array numpy: not a loop, and not a
    # numerical derivative (which evaluates the sigmoid many times over).
    z = _many_logits(28, 2.5)
    G = _many_logits(29, 1.0)
    s = special.expit(z)
    layer = _module(Sigmoid)
    forward(layer, z, f"Sigmoid().forward(z) on {z.size} logits of shape {z.shape}")
    what = (f"Sigmoid.backward(grad_output) after forward(z), {z.size} entries of shape "
            f"{z.shape}")
    out = batched_call(layer.backward, G, reference=lambda: G * _whole_array_sigmoid(z) *
                       (1 - _whole_array_sigmoid(z)), what=what,
                       revisit=LOOP.replace("'Computing the sigmoid without overflow'",
                                            "'The backward pass: local derivative times "
                                            "upstream gradient'"))
    expect_close(out, G * s * (1 - s), what=what, revisit=BACKWARD, rtol=1e-7, atol=1e-12)


# ------------------------------------------------------------------------------------------------
# Questions and the experiment: each is about the student's own numbers (autograder/variants.py,
# the notebook's `numbers` cell). Messages say what is wrong and which idea to revisit, never the
# answer.
# ------------------------------------------------------------------------------------------------

SATURATION = "Chapter 2, 'Saturation and vanishing gradients'"
GAUSSIAN = "Chapter 2, 'Gaussian classes with a shared covariance'"
LINEAR = "Chapter 2, 'Why the log-odds are linear in the input'"

# Bits after the leading one: the gap between 1 and the next number up is 2**-BITS[dtype], the
# gap down to the number below 1 is half that.
BITS = {"float16": 10, "float32": 23, "float64": 52}
KINDS = ("computed", "stored")


def _number(value):
    """value as a Python float, or None when it is not one finite number."""
    arr = as_float(value)
    return None if arr is None or arr.shape != () or not np.isfinite(arr) else float(arr)


def threshold_logit(dtype: str, probability: str) -> float:
    """The smallest logit at which the probability is exactly 1.0 in `dtype`: "computed" is the
    textbook formula with every operation rounded (1 + e**-z rounds to 1 once e**-z is at most
    half the gap above 1; a tie goes to the even neighbour, 1), "stored" the exact probability
    rounded once (1 - sigma(z) at most half the gap below 1)."""
    bits = BITS[dtype]
    if probability == "computed":
        return (bits + 1) * np.log(2)
    return float(np.log(2.0 ** (bits + 2) - 1))


def right_rounds_to_one(n: dict) -> float:
    """The right answer of `answer_rounds_to_one` for a student's numbers: the input x at which
    the logit scale (x - x_half) reaches the threshold."""
    return float(n["x_half"] + threshold_logit(n["dtype"], n["probability"]) / n["scale"])


def check_answer_rounds_to_one(answer_rounds_to_one):
    """The smallest input x at which the student's probability (their dtype, computed or stored)
    is exactly 1.0, for the logit scale (x - x_half)."""
    mine = numbers()
    dtype, kind, scale, x_half = mine["dtype"], mine["probability"], mine["scale"], mine["x_half"]
    out = call(answer_rounds_to_one, what="answer_rounds_to_one()", revisit=SATURATION)
    what = (f"answer_rounds_to_one() for your numbers (dtype = {dtype}, probability = {kind}, "
            f"scale = {scale:g}, x_half = {x_half:g})")
    x = _number(out)
    if x is None:
        fail(f"{what} should return one finite number, the input x.", expected="a float",
             got=describe(out), revisit=SATURATION)
    right = right_rounds_to_one(mine)
    z_right = threshold_logit(dtype, kind)
    # in logit units: the logit at which the answer puts the threshold
    z = scale * (x - x_half)
    tolerance = 0.02

    def near(value, target):
        return abs(value - target) <= tolerance

    if near(scale * (x - right), 0.0):  # the answer, within the tolerance in logit units
        return
    bits = BITS[dtype]
    other_kind = next(k for k in KINDS if k != kind)
    if any(abs(x - threshold_logit(d, k)) <= 0.01 for d in BITS for k in KINDS):
        fail(f"{what}: {x:.4g} looks like a threshold on the logit z, not on the input x. The "
             "question asks for x: solve your model's z = scale (x - x_half) for x.",
             expected="an input x", got=describe(out), revisit=SATURATION)
    if near(-z, z_right):
        fail(f"{what}: at your x the logit is negative, so the probability is below 1/2. With "
             "scale > 0 the probability rises with x: the threshold lies above x_half.",
             expected="x above x_half", got=describe(out), revisit=SATURATION)
    if near((x - x_half) / scale, z_right):
        fail(f"{what}: the logit is scale (x - x_half), so an x further from x_half by a "
             "factor scale changes z by scale times as much: you multiplied where you should "
             "divide (or the other way round).", expected="x from z = scale (x - x_half)",
             got=describe(out), revisit=SATURATION)
    for other in BITS:
        if other != dtype and any(near(z, threshold_logit(other, k)) for k in KINDS):
            fail(f"{what}: that is the threshold of {other}, whose numbers near 1 are spaced "
                 f"differently. Your dtype, {dtype}, keeps {bits} bits after the leading one.",
                 expected=f"a threshold for {dtype}", got=describe(out), revisit=SATURATION)
    if near(z, threshold_logit(dtype, other_kind)):
        if kind == "stored":
            fail(f"{what}: that is where 1 + exp(-z) rounds to 1, which makes the COMPUTED "
                 f"probability 1.0. Yours is the exact probability stored in {dtype}: it is 1.0 "
                 "when 1 - sigma(z) is at most half the gap between 1 and the number just BELOW "
                 "it, which is not the gap above 1.", expected="the threshold of the stored "
                 "probability", got=describe(out), revisit=SATURATION)
        fail(f"{what}: that is where the exact probability, stored in {dtype}, rounds to 1.0. "
             "Yours is computed by the textbook formula in your dtype: it is already 1.0 as soon "
             "as the sum 1 + exp(-z) rounds to 1, which depends on the gap ABOVE 1.",
             expected="the threshold of the computed probability", got=describe(out),
             revisit=SATURATION)
    whole_gap = bits * np.log(2) if kind == "computed" else np.log(2.0 ** (bits + 1) - 1)
    if near(z, whole_gap):
        fail(f"{what}: the probability becomes 1.0 when the small term is at most HALF the gap "
             "to the neighbouring number (round to nearest), not the whole gap.",
             expected="half a gap", got=describe(out), revisit=SATURATION)
    base_ten = [threshold_logit(dtype, kind) / np.log(10), threshold_logit(dtype, kind) *
                np.log2(np.e)]
    if any(near(z, wrong) for wrong in base_ten):
        fail(f"{what}: solving exp(-z) = 2**-k for z needs the natural logarithm, the inverse of "
             "exp, not log10 or log2.", expected="a natural logarithm", got=describe(out),
             revisit=SATURATION)
    gap = "above" if kind == "computed" else "just below"
    fail(f"{what}: wrong threshold. At your x, 1 - sigma(z) is about {special.expit(-z):.1e}; "
         f"compare that with the gap between 1 and the {dtype} number {gap} it. The answer is "
         f"accepted within {tolerance} in logit units.",
         expected="the smallest x at which the probability is exactly 1.0", got=describe(out),
         revisit=SATURATION)


def right_gaussian(n: dict) -> tuple[float, float]:
    """The right answer of `answer_gaussian` for a student's numbers: (w, b) of the log-odds of
    two 1-D Gaussian classes with a shared standard deviation."""
    mu0, mu1, var, prior1 = n["mu0"], n["mu1"], n["sd"] ** 2, n["prior1"]
    w = (mu1 - mu0) / var
    b = (mu0 ** 2 - mu1 ** 2) / (2 * var) + float(special.logit(prior1))
    return float(w), float(b)


def check_answer_gaussian(answer_gaussian):
    """w and b of the log-odds of two 1-D Gaussian classes with a shared variance and a prior,
    for the student's means, standard deviation and prior."""
    mine = numbers()
    mu0, mu1, sd, prior1 = mine["mu0"], mine["mu1"], mine["sd"], mine["prior1"]
    out = call(answer_gaussian, what="answer_gaussian()", revisit=GAUSSIAN)
    try:
        answers = tuple(out)
    except TypeError:
        answers = ()
    what = (f"answer_gaussian() for your classes (mu0 = {mu0:g}, mu1 = {mu1:g}, sd = {sd:g}, "
            f"prior1 = {prior1:g})")
    if len(answers) != 2 or _number(answers[0]) is None or _number(answers[1]) is None:
        fail(f"{what} should return two numbers, (w, b).", expected="a tuple (w, b)",
             got=describe(out), revisit=GAUSSIAN)
    w, b = _number(answers[0]), _number(answers[1])
    w_right, b_right = right_gaussian(mine)
    log_prior_odds = float(special.logit(prior1))
    no_prior = b_right - log_prior_odds

    def near(x, y):
        return abs(x - y) <= 2e-3 + 1e-4 * abs(y)

    if near(w, b_right) and near(b, w_right):
        fail(f"{what}: w and b are swapped. Return them in the order (w, b).",
             expected="(w, b)", got=describe(out), revisit=GAUSSIAN)
    if near(w, -w_right):
        fail(f"{what}: the sign of w is flipped (the classes are swapped). The log-odds of "
             "class 1 grow towards class 1's mean.", expected="w of the other sign",
             got=describe(out), revisit=GAUSSIAN)
    if near(w, w_right * sd) or near(w, w_right * sd ** 2 / np.sqrt(sd)):
        fail(f"{what}: w divides by the standard deviation (or its root). In one dimension the "
             "shared covariance Sigma is the variance, sd squared.", expected="w with Sigma = "
             "the variance", got=describe(out), revisit=GAUSSIAN)
    if not near(w, w_right):
        fail(f"{what}: wrong w. Collect the terms of the log-odds that are linear in x.",
             expected="the coefficient of x", got=describe(out), revisit=GAUSSIAN)
    if near(b, b_right):
        return
    if near(b, no_prior):
        fail(f"{what}: b leaves out the prior. With unequal priors the bias also holds the log "
             "prior odds.", expected="b including your prior1", got=describe(out),
             revisit=GAUSSIAN)
    if near(b, no_prior - log_prior_odds):
        fail(f"{what}: the prior odds are upside down: the bias gains the log of pi1 / pi0, "
             "which is negative when class 1 is the rarer one.", expected="b with the prior "
             "odds of class 1", got=describe(out), revisit=GAUSSIAN)
    if near(b, no_prior + prior1 / (1 - prior1)) or near(b, no_prior + np.log10(prior1 /
                                                                              (1 - prior1))):
        fail(f"{what}: the prior enters the bias as the natural LOG of the prior odds.",
             expected="b with the log prior odds", got=describe(out), revisit=GAUSSIAN)
    if near(b, 2 * no_prior + log_prior_odds):
        fail(f"{what}: b is missing the factor 1/2 of the Gaussian's exponent.",
             expected="the factor 1/2", got=describe(out), revisit=GAUSSIAN)
    if near(b, -no_prior + log_prior_odds):
        fail(f"{what}: the squared means enter b with the wrong sign. Class 0's term comes from "
             "the denominator of the posterior odds.", expected="b from the derivation",
             got=describe(out), revisit=GAUSSIAN)
    fail(f"{what}: wrong b. Collect the terms of the log-odds that do not depend on x, the "
         "prior included.", expected="b from the derivation", got=describe(out),
         revisit=GAUSSIAN)


def fit_log_odds(x, y, edges, min_count):
    """The checks' own experiment: the straight-line fit of the bins' empirical log-odds,
    log(class-1 count / class-0 count), against the bin centres, over the bins in which each
    class has at least `min_count` examples. Returns (slope, intercept)."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=bool)
    edges = np.asarray(edges, dtype=np.float64)
    n1, _ = np.histogram(x[y], edges)
    n0, _ = np.histogram(x[~y], edges)
    keep = (n1 >= min_count) & (n0 >= min_count)
    centres = (edges[:-1] + edges[1:]) / 2
    slope, intercept = np.polyfit(centres[keep], np.log(n1[keep] / n0[keep]), 1)
    return float(slope), float(intercept)


def _experiment_data(g, *, equal_variances=True):
    """Hidden data for the experiment: labels with a prior, then x from each class's Gaussian."""
    mu0 = g.uniform(-2.0, 0.5)
    sd0 = g.uniform(0.7, 2.0)
    mu1 = mu0 + sd0 * g.uniform(1.0, 2.5)
    sd1 = sd0 if equal_variances else sd0 * g.uniform(1.4, 2.0)
    prior1 = g.uniform(0.2, 0.8)
    n = int(g.integers(20_000, 50_000))
    y = g.random(n) < prior1
    x = np.where(y, mu1 + sd1 * g.standard_normal(n), mu0 + sd0 * g.standard_normal(n))
    lo, hi = min(mu0, mu1) - 2.5 * max(sd0, sd1), max(mu0, mu1) + 2.5 * max(sd0, sd1)
    edges = np.linspace(lo, hi, int(g.integers(24, 40)))
    min_count = int(g.integers(15, 40))
    return x, y, edges, min_count


def check_experiment_gaussian(experiment_gaussian):
    """The experiment run on data the notebook never shows: the fitted (w, b) against the checks'
    own fit on the same data (two Gaussian data sets, one with unequal variances)."""
    g = rng(30)
    cases = [_experiment_data(g), _experiment_data(g, equal_variances=False)]
    for x, y, edges, min_count in cases:
        before = snapshot(x=x, y=y, edges=edges)
        what = (f"experiment_gaussian(x, y, edges, min_count={min_count}, plot=False) on "
                f"{x.size} points of two Gaussian classes, {edges.size - 1} bins from "
                f"{edges[0]:.3g} to {edges[-1]:.3g}")
        out = quiet_call(experiment_gaussian, x, y, edges, min_count=min_count, plot=False,
                         what=what, revisit=LINEAR)
        expect_unchanged(before, what=what, revisit=LINEAR)
        try:
            answers = tuple(out)
        except TypeError:
            answers = ()
        if len(answers) != 2 or _number(answers[0]) is None or _number(answers[1]) is None:
            fail(f"{what} should return two finite numbers, the slope and the intercept of the "
                 "fitted line.", expected="a tuple (w_fit, b_fit)", got=describe(out),
                 revisit=LINEAR)
        got = np.array([_number(answers[0]), _number(answers[1])])
        expected = np.array(fit_log_odds(x, y, edges, min_count))
        if np.allclose(got, expected, rtol=1e-6, atol=1e-8):
            continue
        _explain_experiment(got, x, y, edges, min_count, expected, what)


def _explain_experiment(got, x, y, edges, min_count, expected, what):
    """Name the mistake when the student's fit is a known wrong one; else say what differs."""
    n1, _ = np.histogram(x[y], edges)
    n0, _ = np.histogram(x[~y], edges)
    centres = (edges[:-1] + edges[1:]) / 2
    keep = (n1 >= min_count) & (n0 >= min_count)

    def fit(xs, vs):
        return np.polyfit(xs, vs, 1)

    with np.errstate(all="ignore"):
        total = (n1 + n0 >= min_count) & (n1 > 0) & (n0 > 0)
        wrong = [
            (fit(centres[keep], n1[keep] / (n1[keep] + n0[keep])), "fitted the line to the "
             "fractions of class 1 themselves. What the derivation says is linear in x is the "
             "LOG-ODDS of each bin, the log of its class-1 count over its class-0 count."),
            (fit(centres[keep], n1[keep] / n0[keep]), "fitted the line to the odds of each bin; "
             "take their natural logarithm (the log-odds) first."),
            (fit(centres[keep], np.log10(n1[keep] / n0[keep])), "used the base-10 logarithm. "
             "Log-odds are natural logarithms, the inverse of the exp in the sigmoid."),
            (fit(centres[keep], np.log(n0[keep] / n1[keep])), "has the sign flipped: those are "
             "the log-odds of class 0. Count class 1 (y True) in the numerator."),
            (fit(edges[:-1][keep], np.log(n1[keep] / n0[keep])), "placed each bin at its left "
             "edge. Put each bin's log-odds at the bin's centre, the midpoint of its two edges."),
            (fit(centres[total], np.log(n1[total] / n0[total])), "kept bins in which one class "
             "has fewer than min_count examples. Keep only the bins in which EACH class has at "
             "least min_count: a bin with a handful of one class gives a very noisy log-odds."),
            (fit(centres[keep], np.log(n1[keep] / n0[keep]))[::-1], "returned (b, w): return "
             "the slope first, then the intercept."),
        ]
    for candidate, message in wrong:
        if np.allclose(got, candidate, rtol=1e-6, atol=1e-8) and \
                not np.allclose(candidate, expected, rtol=1e-6, atol=1e-8):
            fail(f"{what} {message}", expected=describe(expected), got=describe(got),
                 revisit=LINEAR)
    fail(f"{what} does not return the straight-line fit of these data's binned log-odds. The "
         "function must compute from the x, y and edges it is given (the hidden test passes data "
         "your notebook never saw), not from your numbers or fixed values.",
         expected=describe(expected), got=describe(got), revisit=LINEAR)


# Each question's right answer for a student's numbers (`python -m autograder numbers` prints
# them; tests/test_variants.py checks that classmates' answers differ).
ANSWERS = {
    "test-answer-rounds-to-one": right_rounds_to_one,
    "test-answer-gaussian": right_gaussian,
}

# The library functions each graded function must not call (the grader's notes name a
# submission that does; the notebook's instructions name them too).
FORBIDDEN = {
    "sigmoid-function": ("scipy.special.expit", "scipy.special.log_expit",
                         "scipy.stats.logistic"),
    "logit-function": ("scipy.special.logit", "scipy.stats.logistic"),
    "sigmoid-module": ("scipy.special.expit", "scipy.special.log_expit",
                       "scipy.stats.logistic"),
}

TESTS = {
    "test-sigmoid-values": check_sigmoid_values,
    "test-sigmoid-stable": check_sigmoid_stable,
    "test-logit": check_logit,
    "test-sigmoid-module-forward": check_sigmoid_module_forward,
    "test-sigmoid-module-backward": check_sigmoid_module_backward,
    "test-answer-rounds-to-one": check_answer_rounds_to_one,
    "test-answer-gaussian": check_answer_gaussian,
    "test-experiment-gaussian": check_experiment_gaussian,
}
