"""Hidden checks for the `softmax` exercise (chapter 4): softmax, log_softmax, softmax_jacobian,
Softmax (forward, backward, and the memory of backward, graded apart: backward is called on a layer
whose `s`, the probabilities forward stores by contract, is set by the check), three questions on
the student's own numbers (`_common.numbers()`) and the temperature experiment, called with the
student's logits and with logits the notebook never shows.

Oracles: scipy.special.softmax and log_softmax, the Jacobian's closed form, and the checks' own
central differences; never the reference solution.
"""


import numpy as np
from scipy import special

from ._common import (answer, as_float, batched_call, call, central_difference, describe,
                      expect_close, expect_dtype, expect_shape, expect_unchanged, fail, matches,
                      measured_call, numbers, quiet_call, rng, snapshot, strict_call)

DEFINITION = "Chapter 4, 'From C logits to a distribution' (exponentiate, divide by the sum over `axis`)"
SHIFT = ("Chapter 4, 'Shift invariance and the log-sum-exp trick' (subtract each slice's own "
         "maximum, taken with keepdims=True, before exponentiating)")
AXIS = "Chapter 4, 'Softmax over the wrong axis' (normalise over the axis you are given)"
LOG_SOFTMAX = ("Chapter 4, 'Log-softmax' (take the logarithm of the definition before computing "
               "anything, with each slice shifted by its maximum; never the log of a probability)")
JACOBIAN = ("Chapter 4, 'The Jacobian of the softmax' (every probability depends on every logit, "
            "through the shared denominator)")
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
    "broadcast": "a maximum or a sum taken without keepdims=True. A reduction over `axis` drops "
                 "that axis, so its result no longer lines up slice by slice; with keepdims=True "
                 "it stays an axis of length one and broadcasts back over its slice "
                 "(Chapter 4, 'Shift invariance and the log-sum-exp trick').",
    "floating-point": "exp of a large logit overflowed (exp(710) is inf in float64), or one "
                      "maximum for the whole array left a slice whose exps all underflow to 0, "
                      "and 0/0 is nan. Subtract each slice's own maximum (keepdims=True) before "
                      "exponentiating: the result does not change, and the largest exp is 1.",
}
BACKWARD_HINTS = {
    "broadcast": "a sum over the class axis without keepdims=True: one number per row, which "
                 "no longer lines up with the rows of s. Keep the class axis with keepdims=True, "
                 "so that the inner product of each row broadcasts over its row.",
}












# Small integer dtypes: z - max(z) wraps around (0 - 255 is 1 in uint8), so the contract says
# integer logits are converted to float64 before anything else.
SMALL_INTEGERS = [np.array([0, 255, 7], dtype=np.uint8),
                  np.array([[-128, 127, 0], [5, -5, 100]], dtype=np.int8),
                  np.array([-300, 200, 12], dtype=np.int16)]   # exp of int16 is float32


def _check_integer_logits(fn, name, oracle):
    """Integer logits of several dtypes: float64 out, the values of the float64 logits."""
    for zi in SMALL_INTEGERS + [np.array([[1, 2, 3], [0, 0, 0], [-2, 5, 1]])]:
        before = snapshot(z=zi)
        what = f"{name}(z) for the {zi.dtype} array z = {zi.tolist()}"
        out = quiet_call(fn, zi, hints=SOFTMAX_HINTS, what=what, revisit=INTEGERS)
        expected = oracle(zi.astype(np.float64), axis=-1)
        if not matches(out, expected, rtol=1e-7, atol=1e-12):
            _expect_a_shift(fn, name, oracle, zi, what)  # the plain case first: likelier
            if matches(out, oracle(_wrapped_shift(zi), axis=-1), rtol=1e-3, atol=1e-6):
                fail(f"{what} computed z - max(z) in {zi.dtype}, where it wraps around (in "
                     "uint8, 0 - 255 is 1): convert integer logits to float64 before shifting "
                     "them.", expected=describe(expected), got=describe(np.asarray(out)),
                     revisit=INTEGERS)
        expect_close(out, expected, what=what, revisit=INTEGERS, rtol=1e-7, atol=1e-12)
        expect_dtype(out, np.float64, what=what + " (integer logits give float64 results)",
                     revisit=INTEGERS)
        expect_unchanged(before, what=what, revisit=INTEGERS)


def _expect_a_shift(fn, name, oracle, zi, what) -> None:
    """Where integer logits came back wrong, the plain case first: fail naming the missing max
    shift when float64 logits of about 1000 give nan or inf too (then exp of the integers
    overflowed in the float16 or float32 that numpy computes it in, which no conversion of the
    integers alone would fix)."""
    z = np.array([1000.0, 999.0, 998.0])
    plain = f"{name}(z) for the float64 array z = [1000, 999, 998]"
    out = quiet_call(fn, z, hints=SOFTMAX_HINTS, what=plain, revisit=SHIFT)
    arr = as_float(out)
    if arr is None or arr.shape != z.shape or np.all(np.isfinite(arr)):
        return
    inexact = np.exp(np.zeros(1, zi.dtype)).dtype  # the dtype numpy computes exp of zi in
    fail(f"{plain} returned nan or inf, and {what} came back wrong: your {name} exponentiates "
         "the logits without subtracting their maximum first. exp overflows above about 709 in "
         f"float64, and numpy computes exp of {zi.dtype} logits in {inexact}, where it "
         f"overflows above about {np.log(np.finfo(inexact).max):.4g}. Subtract each slice's own "
         "maximum before exponentiating (the result does not change), after converting integer "
         "logits to float64.", expected=describe(oracle(z, axis=-1)),
         got=describe(np.asarray(out)), revisit=SHIFT)


def _wrapped_shift(zi):
    """What z - max(z) gives in the integer dtype itself, as float64 logits."""
    with np.errstate(all="ignore"):
        return (zi - np.max(zi, axis=-1, keepdims=True)).astype(np.float64)


# Whole-array operations, not a Python loop over the slices (the contract): on a batch of many
# short rows a loop runs the interpreter once per row. On 500 000 rows of two logits even a loop
# with a single numpy call per row takes about 0.5 s of CPU, a realistic one (three or more) a
# second or more, where whole-array numpy takes 10 to 30 ms (_common.batched_call).
LOOP_ROWS, LOOP_CLASSES = 500_000, 2
LOOP = ("the contract: whole-array operations, no Python loop over the slices (numpy's reductions "
        "take an `axis`, and keepdims=True keeps their result aligned with the slices; Chapter 4, "
        "'Shift invariance and the log-sum-exp trick')")


def _many_rows(seed):
    return rng(seed).normal(scale=3.0, size=(LOOP_ROWS, LOOP_CLASSES))


def _whole_array_softmax(Z, log=False):
    """The checks' own whole-array (log-)softmax over the last axis, for timing only."""
    shifted = Z - Z.max(axis=-1, keepdims=True)
    lse = np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    return shifted - lse if log else np.exp(shifted - lse)


def _other_axes(ndim, axis):
    return [a for a in range(ndim) if a != axis % ndim]


# --------------------------------------------------------------------------------------------
# softmax
# --------------------------------------------------------------------------------------------

def _diagnose_normalisation(out, z, axis, what, revisit_wrong_axis):
    """Name the two classic normalisation mistakes before a generic mismatch."""
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

    # No Python loop over the slices.
    Z = _many_rows(51)
    what = f"softmax(Z) on a batch of {LOOP_ROWS} rows of {LOOP_CLASSES} logits"
    out = batched_call(softmax, Z, reference=lambda: _whole_array_softmax(Z), what=what,
                           revisit=LOOP, hints=SOFTMAX_HINTS)
    expect_close(out, special.softmax(Z, axis=-1), what=what, revisit=DEFINITION)


def check_softmax_stability(softmax):
    """Large logits (spreads of 1e3 to 1e4, both signs) with numpy warnings as errors; rows far
    apart from each other; float32 logits past exp's float32 range."""
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
    # Far-apart rows, each stable, and no Python loop over them (a loop that makes each row
    # stable in turn costs a hundred times more).
    Z = _many_rows(55) * 1e3
    what = (f"softmax(Z) on a batch of {LOOP_ROWS} rows of {LOOP_CLASSES} logits of size about "
            "1e3")
    out = batched_call(softmax, Z, reference=lambda: _whole_array_softmax(Z), what=what,
                       revisit=LOOP, hints=SOFTMAX_HINTS)
    expect_close(out, special.softmax(Z, axis=-1), what=what, revisit=SHIFT)

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
            fail(f"{what} is off by the maximum of each slice: the maximum is subtracted before "
                 "exponentiating and must come back exactly once, through the log-sum-exp.",
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

    # No Python loop over the slices.
    Z = _many_rows(52)
    what = f"log_softmax(Z) on a batch of {LOOP_ROWS} rows of {LOOP_CLASSES} logits"
    out = batched_call(log_softmax, Z, reference=lambda: _whole_array_softmax(Z, log=True),
                           what=what, revisit=LOOP, hints=SOFTMAX_HINTS)
    expect_close(out, special.log_softmax(Z, axis=-1), what=what, revisit=LOG_SOFTMAX)


def check_log_softmax_stability(log_softmax):
    """[0, 1000] gives [-1000, 0]; spreads up to 1e4 with warnings as errors; float32."""
    z = np.array([0.0, 1000.0])
    what = "log_softmax(z) for z = [0, 1000]"
    out = quiet_call(log_softmax, z, hints=SOFTMAX_HINTS, what=what, revisit=LOG_SOFTMAX)
    arr = as_float(out)
    if arr is not None and arr.shape == z.shape and np.isneginf(arr[0]) and np.isfinite(arr[1]):
        fail(f"{what} contains -inf: that is log(softmax(z)), where softmax rounded e^-1000 to 0. "
             "Take the logarithm of the definition first and compute from the shifted logits: "
             "then no probability, and no rounded-off zero, is ever formed.", expected=describe(np.array([-1000.0, 0.0])),
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
    Z = _many_rows(56) * 1e3
    what = (f"log_softmax(Z) on a batch of {LOOP_ROWS} rows of {LOOP_CLASSES} logits of size "
            "about 1e3")
    out = batched_call(log_softmax, Z, reference=lambda: _whole_array_softmax(Z, log=True),
                       what=what, revisit=LOOP, hints=SOFTMAX_HINTS)
    expect_close(out, special.log_softmax(Z, axis=-1), what=what, revisit=LOG_SOFTMAX)


def _numerical_jacobian(z):
    """Column j: central difference of scipy's softmax along z_j."""
    cols = [central_difference(lambda v, i=i: special.softmax(v)[i], z) for i in range(z.size)]
    return np.stack(cols, axis=0)       # row i = gradient of s_i


def check_softmax_jacobian(softmax_jacobian):
    """(C, C) against central differences and the closed form, for several C; no overflow."""
    g = rng(45)
    for C in (4, 2, 6, 1):
        z = g.normal(scale=2.0, size=C)
        before = snapshot(z=z)
        what = f"softmax_jacobian(z) for z of shape ({C},)"
        J = call(softmax_jacobian, z, hints=SOFTMAX_HINTS, what=what, revisit=JACOBIAN)
        s = special.softmax(z)
        closed = np.diag(s) - np.outer(s, s)
        if C > 1 and matches(J, s * (1 - s)):
            fail(f"{what} returned a vector of C numbers, the diagonal only. The Jacobian is a "
                 "C x C matrix: every probability depends on every logit.",
                 expected=describe(closed), got=describe(np.asarray(J)), revisit=JACOBIAN)
        if C > 1 and matches(J, np.diag(s * (1 - s))):
            fail(f"{what} has the right diagonal but zeros elsewhere. The "
                 "off-diagonal entries are -s_i s_j: raising one logit lowers every other "
                 "probability.", expected=describe(closed), got=describe(np.asarray(J)),
                 revisit=JACOBIAN)
        if C > 1 and matches(J, np.diag(s) + np.outer(s, s)):
            fail(f"{what} has positive off-diagonal entries, as if raising one logit raised every "
                 "other probability: the outer-product part has the wrong sign (the rows of the "
                 "Jacobian sum to zero).",
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

    # Entries far below 1: the closed form gives each off-diagonal entry -s_i s_j to full
    # relative precision; a numerical derivative (finite differences, scipy.differentiate's
    # included) only to an absolute 1e-13 or so, which is all of a product of two small
    # probabilities.
    z = np.array([-12.0, 12.0, 0.5, -4.0])
    what = "softmax_jacobian(z) for z = [-12, 12, 0.5, -4] (entries as small as 1e-17)"
    J = call(softmax_jacobian, z, hints=SOFTMAX_HINTS, what=what, revisit=JACOBIAN)
    s = special.softmax(z)
    closed = np.diag(s) - np.outer(s, s)
    expect_shape(J, (4, 4), what=what + " (a C x C matrix)", revisit=JACOBIAN)
    off = ~np.eye(4, dtype=bool)
    arr = as_float(J)
    if arr is not None and not matches(arr[off], closed[off], rtol=1e-6, atol=0.0):
        with np.errstate(all="ignore"):
            worst = np.unravel_index(np.nanargmax(np.where(
                off, np.abs(arr - closed) / np.abs(closed), -1.0)), closed.shape)
        fail(f"{what}: the off-diagonal entry [{worst[0]}, {worst[1]}] should be "
             f"{closed[worst]:.6e}; got {arr[worst]:.6e}. The small entries must be right "
             "relative to their size, not only to 1e-12: each off-diagonal entry is a product of "
             "two probabilities, which a closed form in the probabilities gives to full "
             "precision and a numerical derivative does not.",
             expected=describe(closed), got=describe(np.asarray(J)), revisit=JACOBIAN)

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

    # No Python loop over the rows.
    Z = _many_rows(57)
    what = f"Softmax().forward(z) on a batch of {LOOP_ROWS} rows of {LOOP_CLASSES} logits"
    out = batched_call(_make(Softmax).forward, Z, reference=lambda: _whole_array_softmax(Z),
                       what=what, revisit=LOOP, hints=SOFTMAX_HINTS)
    expect_close(out, special.softmax(Z, axis=-1), what=what, revisit=DEFINITION)


def _oracle_vjp(s, G):
    return s * (G - np.sum(G * s, axis=-1, keepdims=True))


def check_softmax_backward(Softmax):
    """backward(g) on a layer whose self.s the check sets (so a faulty forward costs nothing
    here), against central differences of sum(g * softmax(z)) and the closed form, with upstream
    gradients that are not all ones, several batch shapes, g unchanged, a new self.s."""
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
            fail(f"{what} ignores grad_output: it returns the diagonal of the Jacobian, whatever "
                 "upstream gradient it is given. Backward must return the vector-Jacobian "
                 "product with grad_output.", expected=describe(expected),
                 got=describe(np.asarray(grad)), revisit=VJP)
        if matches(grad, G * s * (1 - s)):
            fail(f"{what} uses only the diagonal of the Jacobian (the sigmoid's rule, as if each "
                 "probability depended on its own logit alone). The off-diagonal entries add a "
                 "term that involves every class of the row.", expected=describe(expected),
                 got=describe(np.asarray(grad)), revisit=JACOBIAN)
        if len(shape) > 1 and matches(grad, s * (G - np.sum(G * s, axis=0, keepdims=True))):
            fail(f"{what} sums grad_output * s over the batch axis (axis=0) instead of the class "
                 "axis (axis=-1).", expected=describe(expected), got=describe(np.asarray(grad)),
                 revisit=VJP)
        if matches(grad, G * s - s):
            fail(f"{what} replaced the inner product of grad_output and s by 1: that only holds "
                 "when grad_output is all ones.", expected=describe(expected), got=describe(np.asarray(grad)),
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

    # No Python loop over the rows.
    s_many = special.softmax(_many_rows(58), axis=-1)
    G = rng(59).normal(size=s_many.shape)
    layer = _make(Softmax)
    call(_store, layer, s_many.copy(), what="setting Softmax().s to the probabilities",
         revisit=CONTRACT)
    what = f"Softmax.backward(grad_output) on a batch of {LOOP_ROWS} rows of {LOOP_CLASSES} classes"
    grad = batched_call(layer.backward, G, reference=lambda: _oracle_vjp(s_many, G), what=what,
                        revisit=LOOP, hints=BACKWARD_HINTS)
    expect_close(grad, _oracle_vjp(s_many, G), what=what, revisit=BACKWARD, rtol=1e-9, atol=1e-12)


def check_softmax_backward_memory(Softmax):
    """backward in O(N*C) memory: its peak allocation is compared with the reference vector-
    Jacobian product on a batch where one C x C Jacobian (8 MB) dwarfs the arrays (32 kB each)."""
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

    # ... and whole-array operations, no Python loop over the rows.
    s = special.softmax(_many_rows(53), axis=-1)
    G = rng(54).normal(size=s.shape)
    layer = _make(Softmax)
    call(_store, layer, s.copy(), what="setting Softmax().s to the probabilities",
         revisit=CONTRACT)
    what = (f"Softmax.backward(grad_output) on a batch of {LOOP_ROWS} rows of {LOOP_CLASSES} "
            "classes")
    expected = _oracle_vjp(s, G)
    grad = batched_call(layer.backward, G, reference=lambda: _oracle_vjp(s, G), what=what,
                            revisit=LOOP, hints=BACKWARD_HINTS)
    expect_close(grad, expected, what=what, revisit=VJP, rtol=1e-9, atol=1e-12)


# --------------------------------------------------------------------------------------------
# Questions and the experiment
# --------------------------------------------------------------------------------------------

def _number(given, name, revisit):
    """The answer as one finite float, or a failure that says what the question wants."""
    value = as_float(given)
    if value is None or value.ndim != 0 or not np.isfinite(value):
        fail(f"{name} should return one finite number.", expected="a number such as 12.5 or 3e9",
             got=describe(given), revisit=revisit)
    return float(value)


def _near(value, target, rtol):
    return bool(np.isclose(value, target, rtol=rtol, atol=0.0))


# --- Question 1: the memory of the explicit Jacobians ---------------------------------------

MEMORY = "Chapter 4, 'Why backward never builds the Jacobian'"
ITEMSIZE = {"float64": 8, "float32": 4, "float16": 2}


def right_jacobian_bytes(n: dict) -> int:
    """The bytes of one C x C Jacobian per row, for a batch of N rows, in the student's dtype."""
    return ITEMSIZE[n["dtype"]] * n["N"] * n["C"] ** 2


def check_question_jacobian_memory(answer_jacobian_bytes):
    """The bytes of the N explicit C x C Jacobians of a batch, in the student's dtype."""
    mine = numbers()
    N, C, dtype = mine["N"], mine["C"], mine["dtype"]
    name = "answer_jacobian_bytes()"
    value = _number(answer(answer_jacobian_bytes, name, revisit=MEMORY, numbers=False), name,
                    MEMORY)
    right = right_jacobian_bytes(mine)
    if _near(value, right, 0.005):
        return
    what = f"answer_jacobian_bytes() = {value:.4g}, for your N = {N}, C = {C} and {dtype}"
    expected = f"the bytes of {N} Jacobians of size {C} x {C} in {dtype}"
    got = f"{value:.4g}"
    numbers_only = N * C ** 2
    wrong = [(right / C, "is the size of the gradient itself, N x C numbers. Each row has its "
                         "own C x C Jacobian: C^2 numbers per row."),
             (right / N, "is the memory of ONE row's Jacobian. A batch of N rows needs N of them."),
             (numbers_only, "counts numbers, not bytes: multiply by the bytes one number takes in "
                            "your dtype."),
             (right / 1e9, "is in gigabytes; the question asks for bytes."),
             (right / 2**30, "is in gibibytes; the question asks for bytes."),
             (right / 1e6, "is in megabytes; the question asks for bytes."),
             (right / 1e12, "is in terabytes; the question asks for bytes."),
             (ITEMSIZE[dtype] * N ** 2 * C, "has N and C swapped: the Jacobian of one row is "
                                            "C x C, and there are N rows."),
             (8 * right, "counts bits; the question asks for bytes (8 bits each).")]
    for target, why in wrong:
        if _near(value, target, 0.005):
            fail(f"{what} {why}", expected=expected, got=got, revisit=MEMORY)
    per_number = value / numbers_only
    if any(_near(per_number, b, 0.005) for b in (1, 2, 4, 8, 16, 32, 64)):
        fail(f"{what} counts {per_number:.0f} bytes per number, which is not the size of one "
             f"{dtype} number (the chapter's example is float64; yours is not).",
             expected=expected, got=got, revisit=MEMORY)
    fail(f"{what} is not the memory of your {N} Jacobians of size {C} x {C} in {dtype}: its "
         f"order of magnitude is {'too large' if value > right else 'too small'}. Count the "
         "numbers of one Jacobian, then the rows, then the bytes per number.",
         expected=expected, got=got, revisit=MEMORY)


# --- Question 2: a posterior from log-likelihoods -------------------------------------------

BAYES = "Chapter 4, 'The posterior of C classes'"


def _log_joint(n: dict) -> np.ndarray:
    return np.asarray(n["log_likelihoods"], dtype=float) + np.log(np.asarray(n["priors"]))


def right_posterior(n: dict) -> float:
    """P(y = k | x) from the student's log-likelihoods log p(x | y = j), priors and class k."""
    return float(special.softmax(_log_joint(n))[n["k"]])


def check_question_posterior(answer_posterior):
    """The posterior of class k: the softmax of log-likelihood plus log prior, computed stably."""
    mine = numbers()
    k = mine["k"]
    name = "answer_posterior()"
    given = answer(answer_posterior, name, revisit=BAYES, numbers=False)
    value = as_float(given)
    what = f"answer_posterior() for your log-likelihoods, priors and k = {k}"
    expected = f"P(y = {k} | x), a probability strictly between 0 and 1"
    if value is not None and value.ndim == 0 and np.isnan(value):
        fail(f"{what} is nan. The likelihoods themselves are e to the power of about "
             f"{mine['log_likelihoods'][0]:.0f}: each underflows to 0 in float64, and 0/0 is nan. "
             "Stay with logarithms as long as you can, and use the softmax's shift invariance.",
             expected=expected, got=describe(given), revisit=BAYES)
    value = _number(given, name, BAYES)
    got = f"{value:.6g}"
    right = right_posterior(mine)
    if _near(value, right, 1e-3):
        return
    if value < 0:
        fail(f"{what} is negative: a probability is between 0 and 1. (Is it a log-probability?)",
             expected=expected, got=got, revisit=BAYES)
    if value == 0 or value >= 1:
        fail(f"{what} is {value:g}: no class of your input is impossible or certain; if exp "
             "rounded your likelihoods to 0, shift them first (the softmax does not change).",
             expected=expected, got=got, revisit=BAYES)
    a = _log_joint(mine)
    ll = np.asarray(mine["log_likelihoods"], dtype=float)
    log_prior = np.log(np.asarray(mine["priors"]))
    others = special.softmax(a)
    wrong = [(float(special.softmax(ll)[k]), "ignores the priors: Bayes' rule weighs each "
              "class's likelihood by the prior of that class."),
             (float(special.softmax(ll - log_prior)[k]), "divides the likelihoods by the priors; "
              "Bayes' rule multiplies them."),
             (1 - right, f"is the probability that the class is NOT {k}."),
             (float(ll[k] / ll.sum()), "normalises the log-likelihoods themselves. Probabilities "
              "are proportional to likelihood times prior, which are exponentials of the logs."),
             (float(a[k] / a.sum()), "normalises the logarithms of likelihood times prior. "
              "Probabilities are proportional to their exponentials.")]
    for target, why in wrong:
        if _near(value, target, 1e-3):
            fail(f"{what} {why}", expected=expected, got=got, revisit=BAYES)
    for j in range(len(others)):
        if j != k and _near(value, float(others[j]), 1e-3):
            fail(f"{what} is the posterior of class {j}; the question asks about your class "
                 f"k = {k} (classes count from 0).", expected=expected, got=got, revisit=BAYES)
    fail(f"{what} is not the posterior of class {k}. Write Bayes' rule for your four classes, "
         "take logarithms of likelihood times prior, and recognise the softmax.",
         expected=expected, got=got, revisit=BAYES)


# --- Question 3: which changes leave the softmax unchanged ----------------------------------

# The changes a student may be shown (numbers_of in the notebook draws seven), as patterns, with
# whether the softmax (over the last axis) stays the same, and the idea a wrong choice missed.
SHIFT_ROW, TEMPERATURE_IDEA, UNEVEN, REPLACED = "shift", "temperature", "uneven", "replaced"
CHANGES = [
    (r"subtract the largest logit from every logit", True, SHIFT_ROW),
    (r"subtract the mean of the logits from every logit", True, SHIFT_ROW),
    (r"subtract the smallest logit from every logit", True, SHIFT_ROW),
    (r"add \S+ to every logit", True, SHIFT_ROW),
    (r"replace z by log_softmax\(z\)", True, SHIFT_ROW),
    (r"in a batch Z, add \S+ to every logit of the first row only", True, SHIFT_ROW),
    (r"in a batch Z, subtract from each row the mean of that row", True, SHIFT_ROW),
    (r"multiply every logit by \S+", False, TEMPERATURE_IDEA),
    (r"divide every logit by the temperature T = \S+", False, TEMPERATURE_IDEA),
    (r"divide every logit by the largest logit", False, TEMPERATURE_IDEA),
    (r"add \S+ to the first logit only", False, UNEVEN),
    (r"in a batch Z, subtract from each column the largest logit of that column", False, UNEVEN),
    (r"in a batch Z, subtract from each column the mean of that column", False, UNEVEN),
    (r"in a batch Z, add \S+ to the logit of class 0 in every row", False, UNEVEN),
    (r"replace z by softmax\(z\)", False, REPLACED),
    (r"replace z by exp\(z\)", False, REPLACED),
]
LETTERS = "abcdefg"


def _change(statement: str) -> tuple[bool, str]:
    import re
    for pattern, same, idea in CHANGES:
        if re.fullmatch(pattern, statement):
            return same, idea
    raise ValueError(f"unknown change: {statement!r}")


def right_invariant(n: dict) -> str:
    """The letters of the student's changes that leave the softmax unchanged, in order."""
    return "".join(letter for letter, statement in zip(LETTERS, n["changes"])
                   if _change(statement)[0])


def check_question_invariance(answer_invariant):
    """The letters of the student's seven changes that leave the softmax unchanged."""
    revisit = "Chapter 4, 'Shift invariance and the log-sum-exp trick'"
    mine = numbers()
    given = answer(answer_invariant, "answer_invariant()", revisit=revisit, numbers=False)
    expected = "a string of the letters of every change that leaves the softmax unchanged"
    if not isinstance(given, str):
        fail("answer_invariant() should return a string made of the letters a to g, for "
             f"example 'bd'; it returned {given!r}.", expected=expected, got=repr(given),
             revisit=revisit)
    chosen = [ch for ch in given.lower() if ch not in " ,;"]
    if any(ch not in LETTERS for ch in chosen):
        fail("answer_invariant() should return a string made of the letters a to g, for "
             f"example 'bd' (or '' for none); it returned {given!r}.", expected=expected,
             got=repr(given), revisit=revisit)
    chosen = set(chosen)
    right = set(right_invariant(mine))
    if chosen == right:
        return
    ideas = {_change(mine["changes"][LETTERS.index(ch)])[1] for ch in chosen - right}
    if TEMPERATURE_IDEA in ideas:
        fail("At least one change you chose multiplies or divides the logits. That is a "
             "temperature: the order of the classes stays, but the probabilities change.",
             expected=expected, got=repr(given), revisit="Chapter 4, 'Temperature'")
    if UNEVEN in ideas:
        fail("At least one change you chose moves some logits of a row and not the others (or "
             "moves them by different amounts). The probabilities of a row depend on the "
             "differences between its logits, and those change.", expected=expected,
             got=repr(given), revisit=revisit)
    if REPLACED in ideas:
        fail("At least one change you chose replaces the logits by a non-linear function of "
             "them. Ask whether the new logits differ from the old ones by one and the same "
             "number for every class: only then is the softmax unchanged.", expected=expected,
             got=repr(given), revisit=revisit)
    fail("You left out at least one change that leaves the softmax unchanged. Adding or "
         "subtracting one number to every logit of a row changes nothing, whatever that number "
         "is and however it was computed, and a batch's rows are normalised independently.",
         expected=expected, got=repr(given), revisit=revisit)


# --- The experiment -------------------------------------------------------------------------

def _half_temperature(z) -> float:
    """The checks' own answer: where the top class of softmax(z / T) has probability 0.5."""
    from scipy import optimize
    z = np.asarray(z, dtype=float)
    top = int(np.argmax(z))
    return optimize.brentq(lambda T: special.softmax(z / T)[top] - 0.5, 0.05, 20.0, xtol=1e-12)


def _hidden_logits(seed: int, top_not_first: bool) -> np.ndarray:
    """Logits the notebook never shows: 3 to 7 classes, one clearly on top, whose half
    temperature lies well inside [0.1, 10]."""
    g = rng(seed)
    while True:
        z = np.round(g.normal(scale=1.5, size=int(g.integers(3, 8))), 2)
        top = int(np.argmax(z))
        gap = z[top] - np.partition(z, -2)[-2]
        if gap < 0.3 or (top_not_first and top == 0):
            continue
        if 0.15 <= _half_temperature(z) <= 8.0:
            return z


def _half_temperature_message(value, z):
    """Why `value` is not the half temperature of the logits z (without giving it)."""
    z = np.asarray(z, dtype=float)
    top = int(np.argmax(z))
    right = _half_temperature(z)
    if value <= 0:
        return "is not a temperature: T must be positive."
    if _near(value, 1 / right, 0.03):
        return ("is the inverse of the temperature asked for: the logits were multiplied by T "
                "instead of divided by it.")
    if abs(value - 0.5) < 0.02:
        return ("looks like the probability itself; the function returns the temperature T at "
                "which the top class's probability is 0.5.")
    p = special.softmax(z / value)
    if 0 < value and abs(p[top] - 0.5) < 0.05:
        return (f"gives the top class a probability of {p[top]:.3f}: close, but not within 2 % "
                "of the temperature. A finer grid of temperatures (or a search between two grid "
                "points) makes it precise.")
    first = "" if top == 0 or abs(p[0] - 0.5) > 0.02 else (
        f" It is class 0 that has probability 0.5 there; the top class of these logits is class "
        f"{top}, the one with the largest logit.")
    return (f"gives the top class a probability of {p[top]:.3f}, not 0.5.{first} Return the T "
            "where the curve of the top class's probability crosses 0.5, for the logits you are "
            "given.")


def check_experiment_temperature(half_temperature):
    """The temperature at which the top class has probability 0.5: for the student's logits,
    then for logits the notebook never shows (one with its top class not first)."""
    cases = [("your logits z", np.asarray(numbers()["z"], dtype=float)),
             ("logits of the hidden test", _hidden_logits(49, top_not_first=True)),
             ("logits of the hidden test", _hidden_logits(50, top_not_first=False))]
    for label, z in cases:
        right = _half_temperature(z)
        name = f"half_temperature(z, plot=False) for {label}, z = {z.tolist()}"
        value = _number(call(half_temperature, z.copy(), plot=False, what=name,
                             revisit=TEMPERATURE), name, TEMPERATURE)
        if not _near(value, right, 0.02):
            fail(f"{name} = {value:g} {_half_temperature_message(value, z)}",
                 expected="the T at which the top class's probability is 0.5 (within 2 %)",
                 got=f"{value:g}", revisit=TEMPERATURE)


# --- What the grader names for the instructor, and the questions' right answers --------------

# The library functions that do an implementation cell's work: a submission that calls one
# inside that cell is named in the grader's notes (autograder/integrity.py).
_LIBRARY_SOFTMAX = ("scipy.special.softmax", "scipy.special.log_softmax",
                    "scipy.special.logsumexp")
FORBIDDEN = {
    "softmax-function": _LIBRARY_SOFTMAX,
    "log-softmax-function": _LIBRARY_SOFTMAX,
    "softmax-jacobian": _LIBRARY_SOFTMAX + ("scipy.differentiate.jacobian",),
    "softmax-module": _LIBRARY_SOFTMAX,
}

ANSWERS = {
    "test-question-jacobian-memory": right_jacobian_bytes,
    "test-question-posterior": right_posterior,
    "test-question-invariance": right_invariant,
}

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
    "test-question-posterior": check_question_posterior,
    "test-question-invariance": check_question_invariance,
    "test-experiment-temperature": check_experiment_temperature,
}
