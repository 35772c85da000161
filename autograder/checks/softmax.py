"""Hidden checks for the `softmax` exercise (chapter 4): softmax, log_softmax, softmax_jacobian,
Softmax (forward, backward, and the memory of backward, graded apart: backward is called on a layer
whose `s`, the probabilities forward stores by contract, is set by the check), three questions and
the temperature experiment.

Oracles: scipy.special.softmax and log_softmax, the closed form diag(s) - s s^T, and the checks'
own central differences; never the reference solution.
"""

import numpy as np
from scipy import special

from ._common import (answer, as_float, call, measured_call, central_difference, describe,
                      expect_close, expect_dtype, expect_shape, expect_unchanged, fail, matches,
                      quiet_call, rng, snapshot, strict_call)

DEFINITION = "Chapter 4, 'From C logits to a distribution' (exponentiate, divide by the sum over `axis`)"
SHIFT = ("Chapter 4, 'Shift invariance and the log-sum-exp trick' (subtract each slice's own "
         "maximum, taken with keepdims=True, before exponentiating)")
AXIS = "Chapter 4, 'Softmax over the wrong axis' (normalise over the axis you are given)"
LOG_SOFTMAX = ("Chapter 4, 'Log-softmax' (z - m - log(sum(exp(z - m))) with m the maximum; never "
               "log(softmax(z)))")
JACOBIAN = "Chapter 4, 'The Jacobian of the softmax' (J = diag(s) - s s^T)"
VJP = ("Chapter 4, 'Why backward never builds the Jacobian' (the sum over i collapses: one "
       "inner product of g and s per row, then element-wise operations)")
CONTRACT = ("the contract of part 4: forward stores the probabilities in self.s, and backward "
            "reads them from self.s")
INTEGERS = ("Chapter 4, 'Shift invariance and the log-sum-exp trick', and the contract: integer "
            "logits are converted to float64 first (in a small integer dtype such as uint8, "
            "z - max wraps around instead of going negative)")
TEMPERATURE = "Chapter 4, 'Temperature'"

MB = 1024 * 1024

# The likely mistakes when the student's code raises (see _common.call).
SOFTMAX_HINTS = {
    "broadcast": "a maximum or a sum taken without keepdims=True. np.max(z, axis=axis) drops "
                 "that axis, so z - max no longer lines up slice by slice; with keepdims=True the "
                 "maximum stays an axis of length one and broadcasts back over its slice "
                 "(Chapter 4, 'Shift invariance and the log-sum-exp trick').",
    "floating-point": "exp of a large logit overflowed (exp(710) is inf in float64), or one "
                      "maximum for the whole array left a slice whose exps all underflow to 0, "
                      "and 0/0 is nan. Subtract each slice's own maximum (keepdims=True) before "
                      "exponentiating: the result does not change, and the largest exp is 1.",
}
BACKWARD_HINTS = {
    "broadcast": "np.sum(grad_output * s, axis=-1) without keepdims=True: one number per row "
                 "that no longer lines up with the rows of s. Keep the class axis with "
                 "keepdims=True, so that the inner product of each row broadcasts over its row.",
}












# Small integer dtypes: z - max(z) wraps around (0 - 255 is 1 in uint8), so the contract says
# integer logits are converted to float64 before anything else.
SMALL_INTEGERS = [np.array([0, 255, 7], dtype=np.uint8),
                  np.array([[-128, 127, 0], [5, -5, 100]], dtype=np.int8),
                  np.array([-300, 200, 12], dtype=np.int16)]   # exp of int16 is float32


def _check_integer_logits(fn, name, oracle):
    """Integer logits of several dtypes: float64 out, the values of the float64 logits."""
    __tracebackhide__ = True  # noqa: F841
    for zi in SMALL_INTEGERS + [np.array([[1, 2, 3], [0, 0, 0], [-2, 5, 1]])]:
        before = snapshot(z=zi)
        what = f"{name}(z) for the {zi.dtype} array z = {zi.tolist()}"
        out = quiet_call(fn, zi, hints=SOFTMAX_HINTS, what=what, revisit=INTEGERS)
        expected = oracle(zi.astype(np.float64), axis=-1)
        if not matches(out, expected, rtol=1e-7, atol=1e-12) and \
                matches(out, oracle(_wrapped_shift(zi), axis=-1), rtol=1e-3, atol=1e-6):
            fail(f"{what} computed z - max(z) in {zi.dtype}, where it wraps around (in uint8, "
                 "0 - 255 is 1): convert integer logits to float64 before shifting them.",
                 expected=describe(expected), got=describe(np.asarray(out)), revisit=INTEGERS)
        expect_close(out, expected, what=what, revisit=INTEGERS, rtol=1e-7, atol=1e-12)
        expect_dtype(out, np.float64, what=what + " (integer logits give float64 results)",
                     revisit=INTEGERS)
        expect_unchanged(before, what=what, revisit=INTEGERS)


def _wrapped_shift(zi):
    """What z - max(z) gives in the integer dtype itself, as float64 logits."""
    with np.errstate(all="ignore"):
        return (zi - np.max(zi, axis=-1, keepdims=True)).astype(np.float64)


def _other_axes(ndim, axis):
    return [a for a in range(ndim) if a != axis % ndim]


# --------------------------------------------------------------------------------------------
# softmax
# --------------------------------------------------------------------------------------------

def _diagnose_normalisation(out, z, axis, what, revisit_wrong_axis):
    """Name the two classic normalisation mistakes before a generic mismatch."""
    __tracebackhide__ = True  # noqa: F841
    expected = special.softmax(z, axis=axis)
    if matches(out, expected):
        return
    for other in _other_axes(z.ndim, axis):
        if matches(out, special.softmax(z, axis=other)):
            fail(f"{what} normalised over axis {other} instead of axis {axis}: the values sum to "
                 f"one along the wrong axis.", expected=describe(expected),
                 got=describe(np.asarray(out)), revisit=revisit_wrong_axis)
    arr = as_float(out)
    if z.ndim > 1 and arr is not None and arr.shape == z.shape and np.all(np.isfinite(arr)) \
            and np.isclose(arr.sum(), 1.0) and not np.allclose(arr.sum(axis=axis), 1.0):
        fail(f"{what} normalised over the whole array (a sum with no axis), so only the total of "
             "all entries is one.", expected=describe(expected), got=describe(np.asarray(out)),
             revisit=revisit_wrong_axis)


def check_softmax_values(softmax):
    """Values against scipy.special.softmax over several shapes and axes, the default axis, float32
    kept as float32, integer input, batch versus rows, inputs unchanged."""
    __tracebackhide__ = True  # noqa: F841
    g = rng(41)
    cases = [((5,), None), ((4, 6), None), ((4, 6), 0), ((2, 3, 5), 1), ((3, 4, 2), -1),
             ((1, 7), None), ((3, 1), None)]
    for shape, axis in cases:
        z = g.normal(scale=3.0, size=shape)
        before = snapshot(z=z)
        if axis is None:
            what, kwargs, ax = f"softmax(z) with z of shape {shape}", {}, -1
        else:
            what, kwargs, ax = f"softmax(z, axis={axis}) with z of shape {shape}", {"axis": axis}, axis
        out = call(softmax, z, hints=SOFTMAX_HINTS, what=what, revisit=DEFINITION, **kwargs)
        _diagnose_normalisation(out, z, ax, what, AXIS)
        expect_shape(out, shape, what=what + " (the softmax keeps the shape of z)", revisit=DEFINITION)
        expect_close(out, special.softmax(z, axis=ax), what=what, revisit=DEFINITION)
        expect_unchanged(before, what=what, revisit=SHIFT + "; compute z - m as a new array, "
                         "not with -= on the input")

    # Float32 in, float32 out.
    z32 = g.normal(scale=3.0, size=(4, 5)).astype(np.float32)
    what = "softmax(z) with a float32 array z"
    out = call(softmax, z32, hints=SOFTMAX_HINTS, what=what, revisit=DEFINITION)
    expect_dtype(out, np.float32, what=what + " (keep float32: do not convert to float64)",
                 revisit=DEFINITION)
    expect_close(out, special.softmax(z32.astype(np.float64), axis=-1), what=what,
                 revisit=DEFINITION, rtol=1e-5, atol=1e-7)

    # Integer logits are valid input; they are converted to float64 first.
    _check_integer_logits(softmax, "softmax", special.softmax)

    # A batch gives the same answer as its rows one at a time.
    Z = g.normal(scale=2.0, size=(5, 4))
    batch = call(softmax, Z, hints=SOFTMAX_HINTS,
                 what="softmax(Z) on a batch of shape (5, 4)", revisit=DEFINITION)
    rows = np.stack([np.asarray(call(softmax, Z[i], hints=SOFTMAX_HINTS,
                                     what="softmax(z) on one row",
                                     revisit=DEFINITION), dtype=float) for i in range(len(Z))])
    expect_close(batch, rows, what="softmax(Z) on a batch compared with softmax of each row on its "
                 "own (each row must be normalised independently of the others)", revisit=AXIS)


def check_softmax_stability(softmax):
    """Large logits (spreads of 1e3 to 1e4, both signs) with numpy warnings as errors; rows far
    apart from each other; float32 logits past exp's float32 range."""
    __tracebackhide__ = True  # noqa: F841
    z = np.array([1000.0, 999.0, 998.0])
    what = "softmax(z) for z = [1000, 999, 998]"
    out = quiet_call(softmax, z, hints=SOFTMAX_HINTS, what=what, revisit=SHIFT)
    expected = special.softmax(z)
    arr = as_float(out)
    if arr is not None and arr.shape == z.shape and not np.all(np.isfinite(arr)):
        fail(f"{what} returned nan or inf: exp(1000) overflows float64 (the limit is about 709). "
             "Subtract the maximum logit before exponentiating; the result does not change.",
             expected=describe(expected), got=describe(np.asarray(out)), revisit=SHIFT)

    Z = np.array([[1000.0, 999.0, 998.0], [-1000.0, -1001.0, -1002.0]])
    what = "softmax(Z) for Z = [[1000, 999, 998], [-1000, -1001, -1002]]"
    out = quiet_call(softmax, Z, hints=SOFTMAX_HINTS, what=what, revisit=SHIFT)
    expected = special.softmax(Z, axis=-1)
    arr = as_float(out)
    if arr is not None and arr.shape == Z.shape and np.allclose(arr[0], expected[0]) \
            and not np.allclose(arr[1], expected[1]):
        fail(f"{what} is right for the first row but not the second. Subtracting one maximum for "
             "the whole batch (a global max) makes every exp of the second row underflow to 0, "
             "and 0/0 is nan. Subtract the maximum of each slice along `axis`, kept as an axis "
             "of length one so that it broadcasts back.",
             expected=describe(expected), got=describe(np.asarray(out)), revisit=SHIFT)

    g = rng(42)
    for scale, shape, axis in [(1e3, (6, 5), -1), (1e4, (4, 7), -1), (1e4, (5, 3), 0),
                               (3e3, (2, 3, 4), 1)]:
        z = g.normal(scale=scale, size=shape)
        what = (f"softmax(z, axis={axis}) with z of shape {shape} and logits of size about "
                f"{scale:g} (numpy warnings count as errors)")
        out = strict_call(softmax, z, axis=axis, hints=SOFTMAX_HINTS, what=what, revisit=SHIFT)
        expect_close(out, special.softmax(z, axis=axis), what=what, revisit=SHIFT)

    z = np.full(4, 1e4)
    out = strict_call(softmax, z, hints=SOFTMAX_HINTS,
                      what="softmax(z) for four equal logits of 1e4", revisit=SHIFT)
    expect_close(out, np.full(4, 0.25), what="softmax(z) for four equal logits of 1e4", revisit=SHIFT)
    z = np.array([-1e4, 1e4, 0.0])
    out = strict_call(softmax, z, hints=SOFTMAX_HINTS,
                      what="softmax(z) for z = [-1e4, 1e4, 0]", revisit=SHIFT)
    expect_close(out, [0.0, 1.0, 0.0], what="softmax(z) for z = [-1e4, 1e4, 0]", revisit=SHIFT)

    # float32's exp overflows past about 88.7.
    z32 = np.array([[100.0, 90.0, 80.0], [-300.0, -250.0, 120.0]], dtype=np.float32)
    what = "softmax(z) with float32 logits of about 100 (float32's exp overflows above 88.7)"
    out = strict_call(softmax, z32, hints=SOFTMAX_HINTS, what=what, revisit=SHIFT)
    expect_close(out, special.softmax(z32.astype(np.float64), axis=-1), what=what, revisit=SHIFT,
                 rtol=1e-5, atol=1e-7)


# --------------------------------------------------------------------------------------------
# log_softmax
# --------------------------------------------------------------------------------------------

def check_log_softmax_values(log_softmax):
    """Values against scipy.special.log_softmax over shapes and axes, float32, integers, inputs
    unchanged."""
    __tracebackhide__ = True  # noqa: F841
    g = rng(43)
    for shape, axis in [((5,), None), ((4, 6), None), ((4, 6), 0), ((2, 3, 5), 1), ((1, 7), None)]:
        z = g.normal(scale=3.0, size=shape)
        before = snapshot(z=z)
        if axis is None:
            what, kwargs, ax = f"log_softmax(z) with z of shape {shape}", {}, -1
        else:
            what, kwargs, ax = (f"log_softmax(z, axis={axis}) with z of shape {shape}",
                                {"axis": axis}, axis)
        out = call(log_softmax, z, hints=SOFTMAX_HINTS, what=what, revisit=LOG_SOFTMAX, **kwargs)
        expected = special.log_softmax(z, axis=ax)
        if not matches(out, expected) and matches(out, special.softmax(z, axis=ax)):
            fail(f"{what} returned the probabilities softmax(z), not their logarithms.",
                 expected=describe(expected), got=describe(np.asarray(out)), revisit=LOG_SOFTMAX)
        for other in _other_axes(z.ndim, ax):
            if not matches(out, expected) and matches(out, special.log_softmax(z, axis=other)):
                fail(f"{what} normalised over axis {other} instead of axis {ax}.",
                     expected=describe(expected), got=describe(np.asarray(out)), revisit=AXIS)
        m = np.max(z, axis=ax, keepdims=True)
        if not matches(out, expected) and (matches(out, expected - m) or matches(out, expected + m)):
            fail(f"{what} is off by the maximum of each slice: log_softmax(z) = (z - m) - "
                 "log(sum(exp(z - m))); the m must be subtracted exactly once.",
                 expected=describe(expected), got=describe(np.asarray(out)), revisit=LOG_SOFTMAX)
        expect_shape(out, shape, what=what, revisit=LOG_SOFTMAX)
        expect_close(out, expected, what=what, revisit=LOG_SOFTMAX)
        expect_unchanged(before, what=what, revisit=LOG_SOFTMAX)

    z32 = g.normal(scale=3.0, size=(3, 4)).astype(np.float32)
    what = "log_softmax(z) with a float32 array z"
    out = call(log_softmax, z32, hints=SOFTMAX_HINTS, what=what, revisit=LOG_SOFTMAX)
    expect_dtype(out, np.float32, what=what + " (keep float32)", revisit=LOG_SOFTMAX)
    expect_close(out, special.log_softmax(z32.astype(float), axis=-1), what=what,
                 revisit=LOG_SOFTMAX, rtol=1e-5, atol=1e-5)

    _check_integer_logits(log_softmax, "log_softmax", special.log_softmax)


def check_log_softmax_stability(log_softmax):
    """[0, 1000] gives [-1000, 0]; spreads up to 1e4 with warnings as errors; float32."""
    __tracebackhide__ = True  # noqa: F841
    z = np.array([0.0, 1000.0])
    what = "log_softmax(z) for z = [0, 1000]"
    out = quiet_call(log_softmax, z, hints=SOFTMAX_HINTS, what=what, revisit=LOG_SOFTMAX)
    arr = as_float(out)
    if arr is not None and arr.shape == z.shape and np.isneginf(arr[0]) and np.isfinite(arr[1]):
        fail(f"{what} contains -inf: that is log(softmax(z)), where softmax rounded e^-1000 to 0. "
             "Compute (z - m) - log(sum(exp(z - m))) directly; it never takes the log of a "
             "rounded-off zero.", expected=describe(np.array([-1000.0, 0.0])),
             got=describe(np.asarray(out)), revisit=LOG_SOFTMAX)
    if arr is not None and arr.shape == z.shape and not np.all(np.isfinite(arr)):
        fail(f"{what} is not finite: exp(1000) overflowed to inf. Subtract the maximum before "
             "exponentiating, and add it back outside the log.",
             expected=describe(np.array([-1000.0, 0.0])), got=describe(np.asarray(out)),
             revisit=SHIFT)
    out = strict_call(log_softmax, z, hints=SOFTMAX_HINTS,
                      what=what + " (numpy warnings count as errors)",
                       revisit=LOG_SOFTMAX)
    expect_close(out, [-1000.0, 0.0], what=what, revisit=LOG_SOFTMAX)

    g = rng(44)
    for scale, shape, axis in [(1e3, (5, 4), -1), (1e4, (3, 6), -1), (1e4, (4, 3), 0)]:
        z = g.normal(scale=scale, size=shape)
        what = (f"log_softmax(z, axis={axis}) with z of shape {shape} and logits of size about "
                f"{scale:g} (numpy warnings count as errors)")
        out = strict_call(log_softmax, z, axis=axis, hints=SOFTMAX_HINTS,
                          what=what, revisit=LOG_SOFTMAX)
        expect_close(out, special.log_softmax(z, axis=axis), what=what, revisit=LOG_SOFTMAX,
                     rtol=1e-9, atol=1e-9)

    Z = np.array([[1000.0, 0.0], [-1000.0, -1001.0]])
    what = "log_softmax(Z) for Z = [[1000, 0], [-1000, -1001]] (rows far apart)"
    out = strict_call(log_softmax, Z, hints=SOFTMAX_HINTS, what=what, revisit=SHIFT)
    expect_close(out, special.log_softmax(Z, axis=-1), what=what, revisit=SHIFT)

    z32 = np.array([0.0, 500.0, -500.0], dtype=np.float32)
    what = "log_softmax(z) for float32 z = [0, 500, -500]"
    out = strict_call(log_softmax, z32, hints=SOFTMAX_HINTS, what=what, revisit=LOG_SOFTMAX)
    expect_close(out, [-500.0, 0.0, -1000.0], what=what, revisit=LOG_SOFTMAX, rtol=1e-6)


# --------------------------------------------------------------------------------------------
# softmax_jacobian
# --------------------------------------------------------------------------------------------

def _numerical_jacobian(z):
    """Column j: central difference of scipy's softmax along z_j."""
    cols = [central_difference(lambda v, i=i: special.softmax(v)[i], z) for i in range(z.size)]
    return np.stack(cols, axis=0)       # row i = gradient of s_i


def check_softmax_jacobian(softmax_jacobian):
    """(C, C) = diag(s) - s s^T against central differences, for several C; no overflow."""
    __tracebackhide__ = True  # noqa: F841
    g = rng(45)
    for C in (4, 2, 6, 1):
        z = g.normal(scale=2.0, size=C)
        before = snapshot(z=z)
        what = f"softmax_jacobian(z) for z of shape ({C},)"
        J = call(softmax_jacobian, z, hints=SOFTMAX_HINTS, what=what, revisit=JACOBIAN)
        s = special.softmax(z)
        closed = np.diag(s) - np.outer(s, s)
        if C > 1 and matches(J, s * (1 - s)):
            fail(f"{what} returned the vector s * (1 - s), the diagonal only. The Jacobian is a "
                 "C x C matrix: every probability depends on every logit.",
                 expected=describe(closed), got=describe(np.asarray(J)), revisit=JACOBIAN)
        if C > 1 and matches(J, np.diag(s * (1 - s))):
            fail(f"{what} has the right diagonal s_i (1 - s_i) but zeros elsewhere. The "
                 "off-diagonal entries are -s_i s_j: raising one logit lowers every other "
                 "probability.", expected=describe(closed), got=describe(np.asarray(J)),
                 revisit=JACOBIAN)
        if C > 1 and matches(J, np.diag(s) + np.outer(s, s)):
            fail(f"{what} adds s s^T instead of subtracting it (its rows should sum to zero).",
                 expected=describe(closed), got=describe(np.asarray(J)), revisit=JACOBIAN)
        expect_shape(J, (C, C), what=what + " (a C x C matrix)", revisit=JACOBIAN)
        expect_close(J, _numerical_jacobian(z), what=what + " compared with central differences",
                     revisit=JACOBIAN, rtol=1e-5, atol=1e-8)
        expect_close(J, closed, what=what, revisit=JACOBIAN, rtol=1e-9, atol=1e-12)
        expect_unchanged(before, what=what, revisit=JACOBIAN)

    z = np.array([1000.0, 0.0, -1000.0])
    what = "softmax_jacobian(z) for z = [1000, 0, -1000] (numpy warnings count as errors)"
    J = strict_call(softmax_jacobian, z, hints=SOFTMAX_HINTS, what=what, revisit=SHIFT)
    expect_close(J, np.zeros((3, 3)), what=what, revisit=SHIFT)

    zi = np.array([1, 2, 3])
    what = "softmax_jacobian(z) for the integer array z = [1, 2, 3]"
    J = call(softmax_jacobian, zi, hints=SOFTMAX_HINTS, what=what, revisit=JACOBIAN)
    s = special.softmax(zi.astype(float))
    expect_close(J, np.diag(s) - np.outer(s, s), what=what, revisit=JACOBIAN)


# --------------------------------------------------------------------------------------------
# Softmax (forward, backward, memory)
# --------------------------------------------------------------------------------------------

def _make(Softmax):
    return call(Softmax, what="Softmax()", revisit=VJP)


def _store(layer, s):
    """Set what forward stores by contract, so that backward is graded on its own."""
    layer.s = s


def _stored(layer):
    return layer.s


BACKWARD = f"{VJP}; and {CONTRACT}"


def check_softmax_forward(Softmax):
    """forward(z) = softmax over the last axis, for any batch shape, stable, inputs unchanged; the
    probabilities are stored in self.s (the contract), and a second forward replaces them."""
    __tracebackhide__ = True  # noqa: F841
    g = rng(46)
    for shape, scale in [((4, 5), 2.0), ((2, 3, 4), 2.0), ((6,), 2.0), ((5, 3), 1e3)]:
        z = g.normal(scale=scale, size=shape)
        before = snapshot(z=z)
        layer = _make(Softmax)
        what = f"Softmax().forward(z) with z of shape {shape} and logits of size about {scale:g}"
        out = strict_call(layer.forward, z, hints=SOFTMAX_HINTS,
                          what=what + " (numpy warnings count as errors)",
                           revisit=SHIFT)
        expected = special.softmax(z, axis=-1)
        _diagnose_normalisation(out, z, z.ndim - 1, what, AXIS + " (the layer normalises over "
                                "the last axis)")
        expect_shape(out, shape, what=what, revisit=DEFINITION)
        expect_close(out, expected, what=what, revisit=DEFINITION)
        expect_unchanged(before, what=what, revisit=DEFINITION)

    # What forward stores: the probabilities, in self.s, those of the latest batch.
    layer = _make(Softmax)
    z1, z2 = g.normal(size=(3, 4)), g.normal(scale=3.0, size=(2, 5))
    for i, z in enumerate((z1, z2)):
        batch = "a first batch" if i == 0 else "a second batch"
        call(layer.forward, z, hints=SOFTMAX_HINTS,
             what=f"Softmax().forward(z) on {batch}", revisit=DEFINITION)
        what = f"Softmax().s after forward(z) on {batch} of shape {z.shape}"
        stored = call(_stored, layer, what=what, revisit=CONTRACT)
        expected = special.softmax(z, axis=-1)
        if not matches(stored, expected) and matches(stored, z):
            fail(f"{what} holds the logits z, not the probabilities: backward reads the "
                 "probabilities from self.s.", expected=describe(expected),
                 got=describe(np.asarray(stored)), revisit=CONTRACT)
        expect_close(stored, expected, what=what + " (forward stores the probabilities of the "
                     "latest batch in self.s)", revisit=CONTRACT)


def _oracle_vjp(s, G):
    return s * (G - np.sum(G * s, axis=-1, keepdims=True))


def check_softmax_backward(Softmax):
    """backward(g) on a layer whose self.s the check sets (so a faulty forward costs nothing
    here), against central differences of sum(g * softmax(z)) and the closed form, with upstream
    gradients that are not all ones, several batch shapes, g unchanged, a new self.s."""
    __tracebackhide__ = True  # noqa: F841
    g = rng(47)
    for shape in [(5, 4), (3, 7), (2, 3, 4), (6,)]:
        z = g.normal(scale=2.0, size=shape)
        G_passed = g.normal(size=shape)       # an upstream gradient that is not all ones
        upstream = snapshot(grad_output=G_passed)
        G = G_passed.copy()                   # the oracles' own copy
        s = special.softmax(z, axis=-1)
        layer = _make(Softmax)
        call(_store, layer, s.copy(), what="setting Softmax().s to the probabilities",
             revisit=CONTRACT)
        what = (f"Softmax.backward(grad_output) for grad_output of shape {shape}, with self.s "
                "set to the probabilities softmax(z)")
        grad = call(layer.backward, G_passed, hints=BACKWARD_HINTS, what=what, revisit=BACKWARD)
        expected = _oracle_vjp(s, G)
        if matches(grad, s * (1 - s)):
            fail(f"{what} ignores grad_output: it returns s * (1 - s), the diagonal of the "
                 "Jacobian, whatever upstream gradient it is given. Backward must return the "
                 "vector-Jacobian product with grad_output.", expected=describe(expected),
                 got=describe(np.asarray(grad)), revisit=VJP)
        if matches(grad, G * s * (1 - s)):
            fail(f"{what} uses only the diagonal of the Jacobian, grad_output * s * (1 - s) (the "
                 "sigmoid's rule). The off-diagonal terms -s_i s_j give the extra "
                 "- s * sum(grad_output * s) term.", expected=describe(expected),
                 got=describe(np.asarray(grad)), revisit=JACOBIAN)
        if len(shape) > 1 and matches(grad, s * (G - np.sum(G * s, axis=0, keepdims=True))):
            fail(f"{what} sums grad_output * s over the batch axis (axis=0) instead of the class "
                 "axis (axis=-1).", expected=describe(expected), got=describe(np.asarray(grad)),
                 revisit=VJP)
        if matches(grad, G * s - s):
            fail(f"{what} replaced sum(grad_output * s) by 1: that only holds when grad_output is "
                 "all ones.", expected=describe(expected), got=describe(np.asarray(grad)),
                 revisit=VJP)
        expect_shape(grad, shape, what=what + " (the gradient has the shape of z)", revisit=VJP)
        loss = lambda v: float(np.sum(G * special.softmax(v, axis=-1)))  # noqa: E731
        expect_close(grad, central_difference(loss, z), what=what + " compared with central "
                     "differences of L(z) = sum(grad_output * softmax(z))", revisit=VJP,
                     rtol=1e-5, atol=1e-8)
        expect_close(grad, expected, what=what, revisit=VJP, rtol=1e-9, atol=1e-12)
        expect_unchanged(upstream, what=what, revisit=VJP)

    # A new self.s (as a second forward would store): backward must use it, not a cached copy.
    layer = _make(Softmax)
    z1, z2 = g.normal(size=(3, 4)), g.normal(scale=3.0, size=(2, 5))
    G1, G2 = g.normal(size=(3, 4)), g.normal(size=(2, 5))
    call(_store, layer, special.softmax(z1, axis=-1), what="setting Softmax().s",
         revisit=CONTRACT)
    call(layer.backward, G1, hints=BACKWARD_HINTS,
         what="Softmax.backward on a first batch", revisit=BACKWARD)
    s2 = special.softmax(z2, axis=-1)
    call(_store, layer, s2.copy(), what="setting Softmax().s", revisit=CONTRACT)
    grad = call(layer.backward, G2, hints=BACKWARD_HINTS,
                what="Softmax.backward after self.s changed",
                revisit=BACKWARD)
    expect_close(grad, _oracle_vjp(s2, G2),
                 what="Softmax.backward after self.s was replaced by the probabilities of a new "
                 "batch (read self.s at each call)", revisit=BACKWARD, rtol=1e-9, atol=1e-12)


def check_softmax_backward_memory(Softmax):
    """backward in O(N*C) memory: its peak allocation is compared with the reference vector-
    Jacobian product on a batch where one C x C Jacobian (8 MB) dwarfs the arrays (32 kB each)."""
    __tracebackhide__ = True  # noqa: F841
    g = rng(48)
    N, C = 4, 1024
    z = g.normal(size=(N, C))
    G = g.normal(size=(N, C))
    s = special.softmax(z, axis=-1)
    expected, ref_peak = measured_call(_oracle_vjp, s, G, what="the reference", revisit=VJP)

    layer = _make(Softmax)
    what = f"Softmax.backward(grad_output) on a batch of shape ({N}, {C})"
    call(_store, layer, s.copy(), what="setting Softmax().s to the probabilities",
         revisit=CONTRACT)
    grad, peak = measured_call(layer.backward, G, hints=BACKWARD_HINTS, what=what, revisit=VJP)
    if not matches(grad, expected, rtol=1e-6, atol=1e-12):
        fail(f"{what} does not return the vector-Jacobian product yet, so its memory use is not "
             "judged. Make the backward test (test-softmax-backward) pass first.",
             expected=describe(expected), got=describe(np.asarray(grad)), revisit=VJP)
    limit = 16 * ref_peak + 1 * MB
    if peak > limit:
        fail(f"{what} allocated {peak / MB:.1f} MB at its peak, {peak / max(ref_peak, 1):.0f} "
             f"times the {ref_peak / MB:.2f} MB of an O(N*C) backward. That is what building a "
             f"C x C Jacobian per row costs ({C * C * 8 / MB:.0f} MB each here; with a vocabulary "
             "of 50 000 classes one row's Jacobian alone is 20 GB in float64). Let the sum over i "
             "collapse to one inner product per row instead of forming the Jacobian.",
             expected=f"at most {limit / MB:.1f} MB", got=f"{peak / MB:.1f} MB", revisit=VJP)


# --------------------------------------------------------------------------------------------
# Questions and the experiment
# --------------------------------------------------------------------------------------------

def _number(given, name, revisit):
    """The answer as one finite float, or a failure that says what the question wants."""
    __tracebackhide__ = True  # noqa: F841
    value = as_float(given)
    if value is None or value.ndim != 0 or not np.isfinite(value):
        fail(f"{name} should return one finite number.", expected="a number such as 12.5 or 3e9",
             got=describe(given), revisit=revisit)
    return float(value)


def _near(value, target, rtol):
    return bool(np.isclose(value, target, rtol=rtol, atol=0.0))


JACOBIAN_N, JACOBIAN_C = 64, 32_000


def check_question_jacobian_memory(answer_jacobian_bytes):
    """8 N C^2 bytes for the N explicit C x C Jacobians of a batch, float64."""
    __tracebackhide__ = True  # noqa: F841
    N, C = JACOBIAN_N, JACOBIAN_C
    revisit = "Chapter 4, 'Why backward never builds the Jacobian'"
    name = "answer_jacobian_bytes()"
    value = _number(answer(answer_jacobian_bytes, name, revisit=revisit, numbers=False), name,
                    revisit)
    right = 8 * N * C**2
    expected = f"{right:.4g} bytes"
    wrong = [
        (8 * N * C, "is the size of the gradient itself, N x C numbers. Each row has its own "
                    "C x C Jacobian: C^2 numbers per row."),
        (8 * C**2, "is the memory of ONE row's Jacobian. A batch of N rows needs N of them."),
        (N * C**2, "counts numbers, not bytes: a float64 takes 8 bytes."),
        (4 * N * C**2, "assumes 4 bytes per number (float32); the question asks for float64, "
                       "8 bytes per number."),
        (right / 1e9, "is in gigabytes; the question asks for bytes."),
        (right / 2**30, "is in gibibytes; the question asks for bytes."),
        (right / 1e12, "is in terabytes; the question asks for bytes."),
    ]
    if _near(value, right, 0.01):
        return
    for target, why in wrong:
        if _near(value, target, 0.01):
            fail(f"answer_jacobian_bytes() = {value:.4g} {why}", expected=expected,
                 got=f"{value:.4g}", revisit=revisit)
    fail(f"answer_jacobian_bytes() = {value:.4g} is not the memory of the {N} Jacobians of size "
         f"{C} x {C} in float64. Count the numbers of one Jacobian, then the rows, then the "
         "bytes per number.", expected=expected, got=f"{value:.4g}", revisit=revisit)


def check_question_naive_limit(answer_naive_limit):
    """The largest c with a finite naive softmax of [c, 0] in float64: log(float64 max)."""
    __tracebackhide__ = True  # noqa: F841
    revisit = "Chapter 4, 'Shift invariance and the log-sum-exp trick'"
    name = "answer_naive_limit()"
    value = _number(answer(answer_naive_limit, name, revisit=revisit, numbers=False), name, revisit)
    right = float(np.log(np.finfo(np.float64).max))
    expected = f"about {right:.2f}"
    if abs(value - right) <= 0.02:
        return
    if abs(value - float(np.log(np.finfo(np.float32).max))) <= 0.05:
        why = "is the limit of float32 (its largest number is about 3.4e38); the question is " \
              "about float64."
    elif abs(abs(value) - 745.13) <= 0.1 or abs(abs(value) - 744.44) <= 0.1:
        why = "is where exp(x) underflows to 0 (x about -745), which makes no nan for [c, 0]: " \
              "the naive softmax fails when exp(c) overflows to inf."
    elif abs(value - 308.25) <= 0.5:
        why = "is the base-10 exponent of the largest float64 (about 1.8e308); exp uses base e."
    elif right < value <= 712:
        why = "is too large: exp of it is already inf in float64, and inf / inf is nan."
    elif 700 <= value < right:
        why = "still gives finite values, but it is not the largest such c: the limit lies " \
              "between 709 and 710. Compute the natural log of the largest float64."
    else:
        why = "is not where exp(c) overflows in float64."
    fail(f"answer_naive_limit() = {value:g} {why}", expected=expected, got=f"{value:g}",
         revisit=revisit)


INVARIANCE_CHOICES = "abcde"
INVARIANT = {"a", "c", "e"}


def check_question_invariance(answer_invariant):
    """The changes of the logits that leave the softmax unchanged: a, c, e (shifts)."""
    __tracebackhide__ = True  # noqa: F841
    revisit = "Chapter 4, 'Shift invariance and the log-sum-exp trick'"
    given = answer(answer_invariant, "answer_invariant()", revisit=revisit, numbers=False)
    text = str(given).lower()
    chosen = [ch for ch in text if ch not in " ,;"]
    expected = "a string of the letters of every change that leaves the softmax unchanged"
    if not chosen or any(ch not in INVARIANCE_CHOICES for ch in chosen):
        fail("answer_invariant() should return a string made of the letters a to e, for "
             f"example 'bd'; it returned {given!r}.", expected=expected, got=repr(given),
             revisit=revisit)
    chosen = set(chosen)
    if chosen == INVARIANT:
        return
    if "b" in chosen:
        fail("(b) changes the softmax: multiplying every logit by 2 is a temperature T = 1/2. "
             "The order of the classes stays, but the probabilities become more peaked.",
             expected=expected, got=repr(given), revisit=TEMPERATURE)
    if "d" in chosen:
        fail("(d) changes the softmax: adding 1 to one logit only changes its differences with "
             "the others, and the probabilities depend on exactly those differences.",
             expected=expected, got=repr(given), revisit=revisit)
    absent = sorted(INVARIANT - chosen)
    missing = ", ".join(f"({ch})" for ch in absent)
    verb = "leaves" if len(absent) == 1 else "leave"
    fail(f"{missing} also {verb} the softmax unchanged: adding or subtracting the same number to "
         "every logit is a shift, whatever the number (5, the largest logit, or the mean).",
         expected=expected, got=repr(given), revisit=revisit)


EXPERIMENT_LOGITS = np.array([3.0, 1.0, 0.2, -1.0])


def _half_temperature_message(value, z, right):
    """Why `value` is not the half temperature `right` of the logits z."""
    top = int(np.argmax(z))
    if value <= 0:
        return "is not a temperature: T must be positive."
    if _near(value, 1 / right, 0.03):
        return ("is the inverse of the answer: the logits were multiplied by T instead of divided "
                "by it.")
    if abs(value - 0.5) < 0.02:
        return ("looks like the probability itself; the function returns the temperature T at "
                "which the top class's probability is 0.5.")
    if abs(value - 1.0) < 1e-9:
        return (f"is the plain softmax, where the top class has probability "
                f"{special.softmax(z)[top]:.3f}, not 0.5.")
    p = special.softmax(z / value)
    first = "" if top == 0 else (f" The top class of these logits is class {top}, the one with "
                                 "the largest logit, not the first class.")
    return (f"gives the top class a probability of {p[top]:.3f}, not 0.5.{first} Return T where "
            "the curve crosses 0.5 (the grid point nearest 0.5, or a finer search).")


def check_experiment_temperature(half_temperature):
    """The temperature at which the top class has probability 0.5: for the notebook's logits and
    for logits whose top class is not the first."""
    __tracebackhide__ = True  # noqa: F841
    from scipy import optimize
    for z in (EXPERIMENT_LOGITS, np.array([0.2, 2.0, -1.0])):
        top = int(np.argmax(z))
        gap = lambda T: special.softmax(z / T)[top] - 0.5  # noqa: E731, B023
        right = optimize.brentq(gap, 0.1, 10.0, xtol=1e-12)
        name = f"half_temperature(z, plot=False) for z = {z.tolist()}"
        value = _number(call(half_temperature, z.copy(), plot=False, what=name,
                             revisit=TEMPERATURE), name, TEMPERATURE)
        if not _near(value, right, 0.02):
            fail(f"{name} = {value:g} {_half_temperature_message(value, z, right)}",
                 expected=f"about {right:.3f} (within 2 %)", got=f"{value:g}",
                 revisit=TEMPERATURE)


TESTS = {
    "test-softmax-values": check_softmax_values,
    "test-softmax-stability": check_softmax_stability,
    "test-log-softmax-values": check_log_softmax_values,
    "test-log-softmax-stability": check_log_softmax_stability,
    "test-softmax-jacobian": check_softmax_jacobian,
    "test-softmax-forward": check_softmax_forward,
    "test-softmax-backward": check_softmax_backward,
    "test-softmax-backward-memory": check_softmax_backward_memory,
    "test-question-jacobian-memory": check_question_jacobian_memory,
    "test-question-naive-limit": check_question_naive_limit,
    "test-question-invariance": check_question_invariance,
    "test-experiment-temperature": check_experiment_temperature,
}
