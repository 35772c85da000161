"""Hidden checks for the `binary-loss` exercise (chapter 3): bce_with_logits, BCEWithLogitsLoss,
predict_binary.

Oracles: the loss through scipy.special.log_expit (-(y log sigma(z) + (1 - y) log sigma(-z))),
the closed-form gradient (expit(z) - y) / z.size, the checks' own central differences, and the
threshold rule on the logit scale, z > logit(threshold); never the reference solution.
"""
import contextlib
import warnings

import numpy as np
from scipy import special

from ._common import (call, central_difference, describe, expect_close, expect_shape,
                      expect_unchanged, fail, rng, snapshot, strict_call)

LOSS = "Chapter 3, 'The loss: the surprise at the true label' (the mean over all elements)"
STABLE = "Chapter 3, 'Why losses take logits' (max(z, 0) - z*y + log1p(exp(-|z|)))"
GRADIENT = "Chapter 3, 'The gradient: sigma(z) - y' (and the 1/N of a mean)"
THRESHOLD = "Chapter 3, 'One logit, two classes' (sigma(z) > threshold is z > logit(threshold))"

STABLE_HINT = ("Never form log(sigmoid(z)) or log(1 - sigmoid(z)): for large |z| the sigmoid "
               "rounds to 0 or 1 and the logarithm is -inf. Use the form "
               "max(z, 0) - z*y + log1p(exp(-|z|)), in which exp only sees -|z|.")


@contextlib.contextmanager
def quiet_call():
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield




def _elementwise(z, y):
    """The oracle: -(y log sigma(z) + (1 - y) log sigma(-z)), through scipy's log_expit."""
    z = np.asarray(z, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    return -(y * special.log_expit(z) + (1 - y) * special.log_expit(-z))


def _oracle(z, y):
    return float(np.mean(_elementwise(z, y)))


def _diagnose_loss(out, z, y, *, what, revisit):
    """Name the usual mistakes before the generic comparison."""
    __tracebackhide__ = True  # noqa: F841
    expected = _oracle(z, y)
    n = np.size(z)
    if np.shape(out) == np.shape(z) and np.ndim(z) > 0:
        fail(f"{what} returned one loss per element (shape {np.shape(out)}). The loss is a "
             "single number: the mean over all elements.", expected=f"a scalar, {expected:.6g}",
             got=describe(np.asarray(out)), revisit=LOSS)
    if np.ndim(z) > 1 and np.shape(out) == np.shape(z)[1:]:
        fail(f"{what} took the mean over the first axis only. Average over all elements "
             "(np.mean without an axis).", expected=f"a scalar, {expected:.6g}",
             got=describe(np.asarray(out)), revisit=LOSS)
    try:
        got = float(np.asarray(out, dtype=np.float64))
    except (TypeError, ValueError):
        return
    if n > 1 and np.isclose(got, n * expected, rtol=1e-6):
        fail(f"{what} is the sum of the per-element losses, not their mean ({n} times too "
             "large).", expected=f"{expected:.6g}", got=f"{got:.6g}", revisit=LOSS)
    plus = float(np.mean(np.maximum(z, 0) + z * np.asarray(y) + np.log1p(np.exp(-np.abs(z)))))
    if np.isclose(got, plus, rtol=1e-6) and not np.isclose(plus, expected, rtol=1e-6):
        fail(f"{what} has the sign of the z*y term flipped: the loss is "
             "max(z, 0) - z*y + log(1 + exp(-|z|)).", expected=f"{expected:.6g}",
             got=f"{got:.6g}", revisit=revisit)
    swapped = _oracle(z, 1 - np.asarray(y, dtype=np.float64))
    if np.isclose(got, swapped, rtol=1e-6) and not np.isclose(swapped, expected, rtol=1e-6):
        fail(f"{what} treats label 1 as label 0 and vice versa: with y = 1 the loss must be small "
             "for a large positive logit.", expected=f"{expected:.6g}", got=f"{got:.6g}",
             revisit=revisit)


def _expect_loss(out, z, y, *, what, revisit, rtol=1e-7):
    __tracebackhide__ = True  # noqa: F841
    _diagnose_loss(out, z, y, what=what, revisit=revisit)
    expect_shape(out, (), what=what + " (the loss is a scalar)", revisit=LOSS)
    expect_close(out, _oracle(z, y), what=what, revisit=revisit, rtol=rtol, atol=1e-12)


def check_bce_values(bce_with_logits):
    """The mean loss against the log_expit oracle: hard, soft and integer labels, several shapes,
    Python scalars, float32; inputs left unchanged."""
    __tracebackhide__ = True  # noqa: F841
    g = rng(30)
    for shape in [(8,), (5, 3), (2, 3, 4)]:
        z = g.normal(scale=3.0, size=shape)
        for kind, y in [("hard", g.integers(0, 2, size=shape).astype(np.float64)),
                        ("soft", g.uniform(0, 1, size=shape))]:
            before = snapshot(z=z, y=y)
            what = f"bce_with_logits(z, y) with z of shape {shape} and {kind} labels y"
            out = call(bce_with_logits, z, y, what=what, revisit=LOSS)
            expect_unchanged(before, what=what, revisit=LOSS)
            _expect_loss(out, z, y, what=what, revisit=LOSS)

    # The spam example of chapter 3, with Python numbers: logit 1.2, label 1, loss 0.2633.
    what = "bce_with_logits(1.2, 1.0)"
    out = call(bce_with_logits, 1.2, 1.0, what=what, revisit=LOSS)
    _expect_loss(out, 1.2, 1.0, what=what, revisit=LOSS)

    # Integer labels and float32 logits.
    z = g.normal(scale=2.0, size=(6, 2))
    y = g.integers(0, 2, size=(6, 2))
    what = "bce_with_logits(z, y) with an integer label array y"
    out = call(bce_with_logits, z, y, what=what, revisit=LOSS)
    _expect_loss(out, z, y, what=what, revisit=LOSS)
    z32 = z.astype(np.float32)
    what = "bce_with_logits(z, y) with float32 logits z"
    out = call(bce_with_logits, z32, y.astype(np.float32), what=what, revisit=LOSS)
    _expect_loss(out, z32, y, what=what, revisit=LOSS, rtol=1e-5)


def check_bce_stable(bce_with_logits):
    """Finite, exact and warning-free for |z| up to 1e4, with hard and soft labels, in float64
    and float32."""
    __tracebackhide__ = True  # noqa: F841
    z = np.array([[-1e4, -1e3, -100.0, -40.0, 0.0, 40.0, 100.0, 1e3, 1e4, 5.0],
                  [1e4, 1e3, 100.0, 40.0, 0.0, -40.0, -100.0, -1e3, -1e4, 3.0]])
    y_hard = np.array([[1.0, 1, 1, 1, 1, 0, 0, 0, 0, 1],
                       [1.0, 0, 1, 0, 1, 0, 1, 0, 1, 0]])
    y_soft = np.array([[0.9, 0.2, 0.5, 1.0, 0.3, 0.0, 0.7, 0.05, 0.5, 0.6],
                       [0.1, 0.8, 0.5, 0.0, 0.6, 1.0, 0.3, 0.95, 0.5, 0.4]])
    for dtype in (np.float64, np.float32):
        for kind, y in [("hard", y_hard), ("soft", y_soft)]:
            zz, yy = z.astype(dtype), y.astype(dtype)
            what = (f"bce_with_logits(z, y) with {np.dtype(dtype).name} logits from -1e4 to 1e4 "
                    f"and {kind} labels")
            out = strict_call(bce_with_logits, zz, yy, what=what, revisit=STABLE,
                               hint=STABLE_HINT)
            expected = _oracle(z, y)
            try:
                got = float(np.asarray(out, dtype=np.float64))
            except (TypeError, ValueError):
                got = None
            if got is not None and not np.isfinite(got):
                fail(f"{what} is not finite. {STABLE_HINT}", expected=f"{expected:.6g}",
                     got=describe(np.asarray(out)), revisit=STABLE)
            _diagnose_loss(out, z, y, what=what, revisit=LOSS)
            if got is not None and got < 0.5 * expected:
                fail(f"{what} is far too small: a confidently wrong logit of size 1000 must cost "
                     "about 1000. A loss computed through probabilities that are clipped or "
                     "clamped (like PyTorch's BCELoss, which clamps log at -100) cannot reach it.",
                     expected=f"{expected:.6g}", got=f"{got:.6g}", revisit=STABLE)
            _expect_loss(out, z, y, what=what, revisit=STABLE,
                         rtol=1e-5 if dtype is np.float32 else 1e-9)

    # One extreme logit on its own: the loss is the logit's size on the wrong side.
    for z0, y0, expected in [(-1000.0, 1.0, 1000.0), (1000.0, 0.0, 1000.0), (1000.0, 1.0, 0.0),
                             (-1e4, 0.0, 0.0)]:
        what = f"bce_with_logits(np.array([{z0:g}]), np.array([{y0:g}]))"
        out = strict_call(bce_with_logits, np.array([z0]), np.array([y0]), what=what,
                           revisit=STABLE, hint=STABLE_HINT)
        expect_close(out, expected, what=what, revisit=STABLE, rtol=1e-12, atol=1e-12)


def _module(BCEWithLogitsLoss):
    return call(BCEWithLogitsLoss, what="BCEWithLogitsLoss()", revisit=GRADIENT)


def check_bce_module_forward(BCEWithLogitsLoss):
    """forward(z, y) returns the scalar mean loss and leaves its inputs unchanged."""
    __tracebackhide__ = True  # noqa: F841
    g = rng(31)
    for shape in [(10,), (4, 3)]:
        z = g.normal(scale=3.0, size=shape)
        y = g.uniform(0, 1, size=shape)
        before = snapshot(z=z, y=y)
        loss = _module(BCEWithLogitsLoss)
        what = f"BCEWithLogitsLoss().forward(z, y) with z of shape {shape}"
        out = call(loss.forward, z, y, what=what, revisit=LOSS)
        expect_unchanged(before, what=what, revisit=LOSS)
        _expect_loss(out, z, y, what=what, revisit=LOSS)


def _expected_grad(z, y):
    return (special.expit(np.asarray(z, dtype=float)) - np.asarray(y, dtype=float)) / np.size(z)


def _diagnose_grad(out, z, y, *, what):
    """Name the usual mistakes of a BCE backward pass before the generic comparison."""
    __tracebackhide__ = True  # noqa: F841
    expected = _expected_grad(z, y)
    if np.shape(out) != np.shape(z):
        return
    got = np.asarray(out, dtype=np.float64)
    s = special.expit(z)
    n, rows = np.size(z), np.shape(z)[0]
    wrong = [
        (s - y, f"is the gradient of the sum, not of the mean: it is missing the 1/N "
         f"(here 1/z.size = 1/{n}) of the mean reduction."),
        ((y - s) / n, "has the wrong sign: dL/dz = (sigmoid(z) - y) / N, prediction minus "
         "target."),
        ((s - y) / rows, f"divides by the number of rows ({rows}) instead of the number of "
         f"elements z.size = {n}: the mean runs over every element."),
        ((s - y) * s * (1 - s) / n, "multiplies by the sigmoid's derivative s (1 - s) again. "
         "For the loss on logits that factor cancels: dL/dz = (sigmoid(z) - y) / N."),
    ]
    for candidate, message in wrong:
        if np.allclose(got, candidate, rtol=1e-6, atol=1e-12) and \
                not np.allclose(candidate, expected, rtol=1e-6, atol=1e-12):
            fail(f"{what} {message}", expected=describe(expected), got=describe(got),
                 revisit=GRADIENT)


def check_bce_module_backward(BCEWithLogitsLoss):
    """backward() = (sigmoid(z) - y) / z.size against the closed form and central differences;
    hard and soft labels, several shapes, extreme logits, fresh state after a second forward."""
    __tracebackhide__ = True  # noqa: F841
    g = rng(32)
    for shape, kind in [((4, 3), "soft"), ((7,), "hard"), ((2, 2, 3), "soft")]:
        z = g.normal(scale=2.5, size=shape)
        y = (g.uniform(0, 1, size=shape) if kind == "soft"
             else g.integers(0, 2, size=shape).astype(np.float64))
        loss = _module(BCEWithLogitsLoss)
        call(loss.forward, z, y, what="BCEWithLogitsLoss().forward(z, y)", revisit=LOSS)
        before = snapshot(z=z, y=y)
        what = (f"BCEWithLogitsLoss.backward() after forward(z, y) with z of shape {shape} and "
                f"{kind} labels")
        out = call(loss.backward, what=what, revisit=GRADIENT)
        expect_unchanged(before, what=what, revisit=GRADIENT)
        _diagnose_grad(out, z, y, what=what)
        expect_shape(out, shape, what=what + " (dL/dz has the shape of z)", revisit=GRADIENT)
        numeric = central_difference(lambda v: _oracle(v, y), z)
        expect_close(out, numeric, what=what + ", compared with a central-difference gradient of "
                     "the mean loss", revisit=GRADIENT, rtol=1e-5, atol=1e-9)
        expect_close(out, _expected_grad(z, y), what=what + " ((sigmoid(z) - y) / z.size)",
                     revisit=GRADIENT, rtol=1e-7, atol=1e-12)

    # Extreme logits: the gradient stays finite and exact (forward's own warnings are not
    # judged here; check_bce_stable does that).
    z = np.array([-1e4, -1e3, 0.0, 1e3, 1e4, -1e3])
    y = np.array([1.0, 0.0, 1.0, 0.0, 1.0, 0.5])
    loss = _module(BCEWithLogitsLoss)
    with quiet_call():
        call(loss.forward, z, y, what="BCEWithLogitsLoss().forward(z, y) with |z| up to 1e4",
             revisit=STABLE)
    what = "BCEWithLogitsLoss.backward() after forward(z, y) with |z| up to 1e4"
    out = strict_call(loss.backward, what=what, revisit=GRADIENT,
                       hint="The gradient (sigmoid(z) - y) / N needs only a stable sigmoid; "
                       "do not divide by s (1 - s), which is 0 for large |z|.")
    _diagnose_grad(out, z, y, what=what)
    expect_close(out, _expected_grad(z, y), what=what, revisit=GRADIENT, rtol=1e-9, atol=1e-15)

    # A second forward on a new batch of another shape: backward uses the latest one.
    loss = _module(BCEWithLogitsLoss)
    z1, y1 = g.normal(size=(3, 4)), g.uniform(size=(3, 4))
    z2, y2 = g.normal(size=(5,)), g.integers(0, 2, size=5).astype(np.float64)
    call(loss.forward, z1, y1, what="BCEWithLogitsLoss().forward(z, y)", revisit=LOSS)
    call(loss.forward, z2, y2, what="a second BCEWithLogitsLoss.forward on a new batch",
         revisit=LOSS)
    what = "BCEWithLogitsLoss.backward() after a second forward on a new batch of shape (5,)"
    out = call(loss.backward, what=what, revisit=GRADIENT)
    expect_close(out, _expected_grad(z2, y2), what=what + " (use what the latest forward "
                 "stored)", revisit=GRADIENT, rtol=1e-7, atol=1e-12)


def _avoid_ties(z, threshold):
    """Move logits that sit within 1e-6 of the boundary logit(threshold) away from it."""
    boundary = special.logit(threshold)
    near = np.abs(z - boundary) < 1e-6
    return np.where(near, boundary + 1e-3, z)


def check_threshold(predict_binary):
    """sigmoid(z) > threshold as a bool array: default 0.5 is z > 0, other thresholds are
    z > logit(threshold); shapes, extreme logits, batch vs rows, input unchanged."""
    __tracebackhide__ = True  # noqa: F841
    g = rng(33)
    revisit = THRESHOLD
    for shape, threshold in [((40,), None), ((6, 4), 0.1), ((2, 3, 5), 0.9), ((30,), 0.3),
                             ((5, 5), 0.75)]:
        t = 0.5 if threshold is None else threshold
        z = _avoid_ties(g.normal(scale=3.0, size=shape), t)
        before = snapshot(z=z)
        args = (z,) if threshold is None else (z, threshold)
        what = (f"predict_binary(z) with z of shape {shape}" if threshold is None else
                f"predict_binary(z, threshold={threshold}) with z of shape {shape}")
        out = call(predict_binary, *args, what=what, revisit=revisit)
        expect_unchanged(before, what=what, revisit=revisit)
        expected = z > special.logit(t)
        expect_shape(out, shape, what=what, revisit=revisit)
        got = np.asarray(out)
        if got.dtype != np.bool_:
            fail(f"{what} should return a boolean array (True for the positive class).",
                 expected=f"dtype bool: {describe(expected)}", got=describe(got), revisit=revisit)
        if not np.array_equal(got, expected):
            if t != 0.5 and np.array_equal(got, z > 0):
                fail(f"{what} ignores the threshold argument and uses 0.5.",
                     expected=describe(expected), got=describe(got), revisit=revisit)
            if np.array_equal(got, z > t):
                fail(f"{what} compared the logits with the threshold as if they were "
                     "probabilities. The threshold is a probability: compare sigmoid(z) with "
                     f"it, or z with logit(threshold) = {special.logit(t):.4g}.",
                     expected=describe(expected), got=describe(got), revisit=revisit)
            if np.array_equal(got, ~expected):
                fail(f"{what} is reversed: predict True where sigmoid(z) is above the "
                     "threshold.", expected=describe(expected), got=describe(got),
                     revisit=revisit)
            fail(f"{what} has wrong decisions.", expected=describe(expected), got=describe(got),
                 revisit=revisit)

    # The boundary itself: sigmoid(0) = 0.5 is not above 0.5.
    what = "predict_binary(np.array([-1.0, 0.0, 1.0]))"
    out = call(predict_binary, np.array([-1.0, 0.0, 1.0]), what=what, revisit=revisit)
    if not np.array_equal(np.asarray(out), [False, False, True]):
        fail(f"{what} should be [False, False, True]: the rule is strictly greater, "
             "sigmoid(z) > threshold, and sigmoid(0) = 0.5 is not above 0.5.",
             expected="[False, False, True]", got=describe(np.asarray(out)), revisit=revisit)

    # Extreme and float32 logits, no floating-point warnings.
    z = np.array([-1e4, -1e3, -50.0, 50.0, 1e3, 1e4])
    for dtype in (np.float64, np.float32):
        what = f"predict_binary(z, 0.2) with {np.dtype(dtype).name} logits up to |z| = 1e4"
        out = strict_call(predict_binary, z.astype(dtype), 0.2, what=what, revisit=revisit,
                           hint="Use a numerically stable sigmoid (the notebook provides one), "
                           "or compare z with logit(threshold) directly.")
        expected = z > special.logit(0.2)
        if not (np.shape(out) == z.shape and np.array_equal(np.asarray(out), expected)):
            fail(f"{what} has wrong decisions.", expected=describe(expected),
                 got=describe(np.asarray(out)), revisit=revisit)

    # A batch gives the same decisions as its rows one at a time.
    z = _avoid_ties(g.normal(scale=3.0, size=(4, 3)), 0.6)
    batch = np.asarray(call(predict_binary, z, 0.6, what="predict_binary(z, 0.6)",
                            revisit=revisit))
    rows = np.stack([np.asarray(call(predict_binary, z[i], 0.6, what="predict_binary on one row",
                                     revisit=revisit)) for i in range(4)])
    if not np.array_equal(batch, rows):
        fail("predict_binary on the rows one at a time disagrees with the whole batch.",
             expected=describe(batch), got=describe(rows), revisit=revisit)


TESTS = {
    "test-bce-values": check_bce_values,
    "test-bce-stable": check_bce_stable,
    "test-bce-module-forward": check_bce_module_forward,
    "test-bce-module-backward": check_bce_module_backward,
    "test-threshold": check_threshold,
}
