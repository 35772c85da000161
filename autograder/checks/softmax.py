"""Hidden checks for the `softmax` exercise (chapter 4): softmax, log_softmax, softmax_jacobian,
Softmax (forward, backward, and the memory of backward).

Oracles: scipy.special.softmax and log_softmax, the closed form diag(s) - s s^T, and the checks'
own central differences; never the reference solution.
"""

import numpy as np
from scipy import special

from ._common import (as_float, call, measured_call, central_difference, describe, expect_close,
                      expect_dtype, expect_shape, expect_unchanged, fail, matches, quiet_call,
                      rng, snapshot, strict_call)

DEFINITION = "Chapter 4, 'From C logits to a distribution' (exponentiate, divide by the sum over `axis`)"
SHIFT = ("Chapter 4, 'Shift invariance and the log-sum-exp trick' (subtract each slice's own "
         "maximum, taken with keepdims=True, before exponentiating)")
AXIS = "Chapter 4, 'Softmax over the wrong axis' (normalise over the axis you are given)"
LOG_SOFTMAX = ("Chapter 4, 'Log-softmax' (z - m - log(sum(exp(z - m))) with m the maximum; never "
               "log(softmax(z)))")
JACOBIAN = "Chapter 4, 'The Jacobian of the softmax' (J = diag(s) - s s^T)"
VJP = ("Chapter 4, 'Why backward never builds the Jacobian' "
       "(grad_z = s * (g - sum(g * s, axis=-1, keepdims=True)))")

MB = 1024 * 1024












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
        out = call(softmax, z, what=what, revisit=DEFINITION, **kwargs)
        _diagnose_normalisation(out, z, ax, what, AXIS)
        expect_shape(out, shape, what=what + " (the softmax keeps the shape of z)", revisit=DEFINITION)
        expect_close(out, special.softmax(z, axis=ax), what=what, revisit=DEFINITION)
        expect_unchanged(before, what=what, revisit=SHIFT + "; compute z - m as a new array, "
                         "not with -= on the input")

    # Float32 in, float32 out.
    z32 = g.normal(scale=3.0, size=(4, 5)).astype(np.float32)
    what = "softmax(z) with a float32 array z"
    out = call(softmax, z32, what=what, revisit=DEFINITION)
    expect_dtype(out, np.float32, what=what + " (keep float32: do not convert to float64)",
                 revisit=DEFINITION)
    expect_close(out, special.softmax(z32.astype(np.float64), axis=-1), what=what,
                 revisit=DEFINITION, rtol=1e-5, atol=1e-7)

    # Integer logits are valid input; the probabilities are floats.
    zi = np.array([[1, 2, 3], [0, 0, 0], [-2, 5, 1]])
    before = snapshot(z=zi)
    what = "softmax(z) with an integer array z"
    out = call(softmax, zi, what=what, revisit=DEFINITION)
    if not np.issubdtype(np.asarray(out).dtype, np.floating):
        fail(f"{what} returned dtype {np.asarray(out).dtype}; probabilities are floats.",
             expected="a float array", got=describe(np.asarray(out)), revisit=DEFINITION)
    expect_close(out, special.softmax(zi.astype(float), axis=-1), what=what, revisit=DEFINITION)
    expect_unchanged(before, what=what, revisit=DEFINITION)

    # A batch gives the same answer as its rows one at a time.
    Z = g.normal(scale=2.0, size=(5, 4))
    batch = call(softmax, Z, what="softmax(Z) on a batch of shape (5, 4)", revisit=DEFINITION)
    rows = np.stack([np.asarray(call(softmax, Z[i], what="softmax(z) on one row",
                                     revisit=DEFINITION), dtype=float) for i in range(len(Z))])
    expect_close(batch, rows, what="softmax(Z) on a batch compared with softmax of each row on its "
                 "own (each row must be normalised independently of the others)", revisit=AXIS)


def check_softmax_stability(softmax):
    """Large logits (spreads of 1e3 to 1e4, both signs) with numpy warnings as errors; rows far
    apart from each other; float32 logits past exp's float32 range."""
    __tracebackhide__ = True  # noqa: F841
    z = np.array([1000.0, 999.0, 998.0])
    what = "softmax(z) for z = [1000, 999, 998]"
    out = quiet_call(softmax, z, what=what, revisit=SHIFT)
    expected = special.softmax(z)
    arr = as_float(out)
    if arr is not None and arr.shape == z.shape and not np.all(np.isfinite(arr)):
        fail(f"{what} returned nan or inf: exp(1000) overflows float64 (the limit is about 709). "
             "Subtract the maximum logit before exponentiating; the result does not change.",
             expected=describe(expected), got=describe(np.asarray(out)), revisit=SHIFT)

    Z = np.array([[1000.0, 999.0, 998.0], [-1000.0, -1001.0, -1002.0]])
    what = "softmax(Z) for Z = [[1000, 999, 998], [-1000, -1001, -1002]]"
    out = quiet_call(softmax, Z, what=what, revisit=SHIFT)
    expected = special.softmax(Z, axis=-1)
    arr = as_float(out)
    if arr is not None and arr.shape == Z.shape and np.allclose(arr[0], expected[0]) \
            and not np.allclose(arr[1], expected[1]):
        fail(f"{what} is right for the first row but not the second. Subtracting one maximum for "
             "the whole batch (a global max) makes every exp of the second row underflow to 0, "
             "and 0/0 is nan. Take the maximum of each row: np.max(z, axis=axis, keepdims=True).",
             expected=describe(expected), got=describe(np.asarray(out)), revisit=SHIFT)

    g = rng(42)
    for scale, shape, axis in [(1e3, (6, 5), -1), (1e4, (4, 7), -1), (1e4, (5, 3), 0),
                               (3e3, (2, 3, 4), 1)]:
        z = g.normal(scale=scale, size=shape)
        what = (f"softmax(z, axis={axis}) with z of shape {shape} and logits of size about "
                f"{scale:g} (numpy warnings count as errors)")
        out = strict_call(softmax, z, axis=axis, what=what, revisit=SHIFT)
        expect_close(out, special.softmax(z, axis=axis), what=what, revisit=SHIFT)

    z = np.full(4, 1e4)
    out = strict_call(softmax, z, what="softmax(z) for four equal logits of 1e4", revisit=SHIFT)
    expect_close(out, np.full(4, 0.25), what="softmax(z) for four equal logits of 1e4", revisit=SHIFT)
    z = np.array([-1e4, 1e4, 0.0])
    out = strict_call(softmax, z, what="softmax(z) for z = [-1e4, 1e4, 0]", revisit=SHIFT)
    expect_close(out, [0.0, 1.0, 0.0], what="softmax(z) for z = [-1e4, 1e4, 0]", revisit=SHIFT)

    # float32's exp overflows past about 88.7.
    z32 = np.array([[100.0, 90.0, 80.0], [-300.0, -250.0, 120.0]], dtype=np.float32)
    what = "softmax(z) with float32 logits of about 100 (float32's exp overflows above 88.7)"
    out = strict_call(softmax, z32, what=what, revisit=SHIFT)
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
        out = call(log_softmax, z, what=what, revisit=LOG_SOFTMAX, **kwargs)
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
    out = call(log_softmax, z32, what=what, revisit=LOG_SOFTMAX)
    expect_dtype(out, np.float32, what=what + " (keep float32)", revisit=LOG_SOFTMAX)
    expect_close(out, special.log_softmax(z32.astype(float), axis=-1), what=what,
                 revisit=LOG_SOFTMAX, rtol=1e-5, atol=1e-5)

    zi = np.array([[1, 2, 3], [4, 0, -4]])
    what = "log_softmax(z) with an integer array z"
    out = call(log_softmax, zi, what=what, revisit=LOG_SOFTMAX)
    expect_close(out, special.log_softmax(zi.astype(float), axis=-1), what=what,
                 revisit=LOG_SOFTMAX)


def check_log_softmax_stability(log_softmax):
    """[0, 1000] gives [-1000, 0]; spreads up to 1e4 with warnings as errors; float32."""
    __tracebackhide__ = True  # noqa: F841
    z = np.array([0.0, 1000.0])
    what = "log_softmax(z) for z = [0, 1000]"
    out = quiet_call(log_softmax, z, what=what, revisit=LOG_SOFTMAX)
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
    out = strict_call(log_softmax, z, what=what + " (numpy warnings count as errors)",
                       revisit=LOG_SOFTMAX)
    expect_close(out, [-1000.0, 0.0], what=what, revisit=LOG_SOFTMAX)

    g = rng(44)
    for scale, shape, axis in [(1e3, (5, 4), -1), (1e4, (3, 6), -1), (1e4, (4, 3), 0)]:
        z = g.normal(scale=scale, size=shape)
        what = (f"log_softmax(z, axis={axis}) with z of shape {shape} and logits of size about "
                f"{scale:g} (numpy warnings count as errors)")
        out = strict_call(log_softmax, z, axis=axis, what=what, revisit=LOG_SOFTMAX)
        expect_close(out, special.log_softmax(z, axis=axis), what=what, revisit=LOG_SOFTMAX,
                     rtol=1e-9, atol=1e-9)

    Z = np.array([[1000.0, 0.0], [-1000.0, -1001.0]])
    what = "log_softmax(Z) for Z = [[1000, 0], [-1000, -1001]] (rows far apart)"
    out = strict_call(log_softmax, Z, what=what, revisit=SHIFT)
    expect_close(out, special.log_softmax(Z, axis=-1), what=what, revisit=SHIFT)

    z32 = np.array([0.0, 500.0, -500.0], dtype=np.float32)
    what = "log_softmax(z) for float32 z = [0, 500, -500]"
    out = strict_call(log_softmax, z32, what=what, revisit=LOG_SOFTMAX)
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
        J = call(softmax_jacobian, z, what=what, revisit=JACOBIAN)
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
    J = strict_call(softmax_jacobian, z, what=what, revisit=SHIFT)
    expect_close(J, np.zeros((3, 3)), what=what, revisit=SHIFT)

    zi = np.array([1, 2, 3])
    what = "softmax_jacobian(z) for the integer array z = [1, 2, 3]"
    J = call(softmax_jacobian, zi, what=what, revisit=JACOBIAN)
    s = special.softmax(zi.astype(float))
    expect_close(J, np.diag(s) - np.outer(s, s), what=what, revisit=JACOBIAN)


# --------------------------------------------------------------------------------------------
# Softmax (forward, backward, memory)
# --------------------------------------------------------------------------------------------

def _make(Softmax):
    return call(Softmax, what="Softmax()", revisit=VJP)


def check_softmax_forward(Softmax):
    """forward(z) = softmax over the last axis, for any batch shape, stable, inputs unchanged."""
    __tracebackhide__ = True  # noqa: F841
    g = rng(46)
    for shape, scale in [((4, 5), 2.0), ((2, 3, 4), 2.0), ((6,), 2.0), ((5, 3), 1e3)]:
        z = g.normal(scale=scale, size=shape)
        before = snapshot(z=z)
        layer = _make(Softmax)
        what = f"Softmax().forward(z) with z of shape {shape} and logits of size about {scale:g}"
        out = strict_call(layer.forward, z, what=what + " (numpy warnings count as errors)",
                           revisit=SHIFT)
        expected = special.softmax(z, axis=-1)
        _diagnose_normalisation(out, z, z.ndim - 1, what, AXIS + " (the layer normalises over "
                                "the last axis)")
        expect_shape(out, shape, what=what, revisit=DEFINITION)
        expect_close(out, expected, what=what, revisit=DEFINITION)
        expect_unchanged(before, what=what, revisit=DEFINITION)


def _oracle_vjp(s, G):
    return s * (G - np.sum(G * s, axis=-1, keepdims=True))


def check_softmax_backward(Softmax):
    """backward(g) against central differences of sum(g * softmax(z)) and the closed form, with
    upstream gradients that are not all ones, several batch shapes, g unchanged, a fresh batch."""
    __tracebackhide__ = True  # noqa: F841
    g = rng(47)
    for shape in [(5, 4), (3, 7), (2, 3, 4), (6,)]:
        z = g.normal(scale=2.0, size=shape)
        G_passed = g.normal(size=shape)       # an upstream gradient that is not all ones
        upstream = snapshot(grad_output=G_passed)
        G = G_passed.copy()                   # the oracles' own copy
        layer = _make(Softmax)
        call(layer.forward, z, what=f"Softmax().forward(z) with z of shape {shape}", revisit=VJP)
        what = f"Softmax.backward(grad_output) for z and grad_output of shape {shape}"
        grad = call(layer.backward, G_passed, what=what, revisit=VJP)
        s = special.softmax(z, axis=-1)
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

    # A second forward on a new batch: backward must use the new probabilities.
    layer = _make(Softmax)
    z1, z2 = g.normal(size=(3, 4)), g.normal(scale=3.0, size=(2, 5))
    call(layer.forward, z1, what="Softmax().forward(z) on a first batch", revisit=VJP)
    call(layer.forward, z2, what="Softmax().forward(z) on a second batch", revisit=VJP)
    G2 = g.normal(size=(2, 5))
    grad = call(layer.backward, G2, what="Softmax.backward after a second forward", revisit=VJP)
    expect_close(grad, _oracle_vjp(special.softmax(z2, axis=-1), G2),
                 what="Softmax.backward after a second forward on a new batch (use the "
                 "probabilities of the latest forward)", revisit=VJP, rtol=1e-9, atol=1e-12)


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
    call(layer.forward, z, what=f"Softmax().forward(z) with z of shape ({N}, {C})", revisit=VJP)
    grad, peak = measured_call(layer.backward, G, what=what, revisit=VJP)
    if not matches(grad, expected, rtol=1e-6, atol=1e-12):
        fail(f"{what} does not return the vector-Jacobian product yet, so its memory use is not "
             "judged. Make the backward test pass first.", expected=describe(expected),
             got=describe(np.asarray(grad)), revisit=VJP)
    limit = 16 * ref_peak + 1 * MB
    if peak > limit:
        fail(f"{what} allocated {peak / MB:.1f} MB at its peak, {peak / max(ref_peak, 1):.0f} "
             f"times the {ref_peak / MB:.2f} MB of an O(N*C) backward. That is what building a "
             f"C x C Jacobian per row costs ({C * C * 8 / MB:.0f} MB each here; with a vocabulary "
             "of 50 000 classes it would not fit in memory). Use s * (g - sum(g * s, axis=-1, "
             "keepdims=True)) instead of forming the Jacobian.",
             expected=f"at most {limit / MB:.1f} MB", got=f"{peak / MB:.1f} MB", revisit=VJP)


TESTS = {
    "test-softmax-values": check_softmax_values,
    "test-softmax-stability": check_softmax_stability,
    "test-log-softmax-values": check_log_softmax_values,
    "test-log-softmax-stability": check_log_softmax_stability,
    "test-softmax-jacobian": check_softmax_jacobian,
    "test-softmax-forward": check_softmax_forward,
    "test-softmax-backward": check_softmax_backward,
    "test-softmax-backward-memory": check_softmax_backward_memory,
}
