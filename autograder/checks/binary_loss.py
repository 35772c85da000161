"""Hidden checks for the `binary-loss` exercise (chapter 3): bce_with_logits, BCEWithLogitsLoss,
predict_binary, three questions (naive_infinite_from, bceloss_report, stable_formulas) and the
experiment (wrong_start_experiment).

Oracles: the loss through scipy.special.log_expit (-(y log sigma(z) + (1 - y) log sigma(-z))),
the closed-form gradient (expit(z) - y) / z.size, the checks' own central differences, the
threshold rule on the logit scale, z > logit(threshold), closed forms for the questions and the
checks' own run of the experiment; never the reference solution.

The module's contract (since issue 11, item 6): forward(z, y) stores the logits and labels as
`self.z` and `self.y`, and backward() uses only those two attributes, so backward is checked on its
own (the check sets them) and a broken forward costs only the forward cell.
"""
import numpy as np
from scipy import special

from ._common import (as_float, call, central_difference, describe, expect_close, expect_shape,
                      expect_unchanged, fail, quiet_call, rng, snapshot, strict_call)

LOSS = "Chapter 3, 'The loss: the surprise at the true label' (the mean over all elements)"
STABLE = "Chapter 3, 'Why losses take logits' (max(z, 0) - z*y + log1p(exp(-|z|)))"
GRADIENT = "Chapter 3, 'The gradient: sigma(z) - y' (and the 1/N of a mean)"
THRESHOLD = "Chapter 3, 'One logit, two classes' (sigma(z) > threshold is z > logit(threshold))"
CLAMP = "Chapter 3, 'The clamp in PyTorch's BCELoss' (the forward clamp and the guarded backward)"
SQUARED = "Chapter 3, 'Why not squared error on probabilities'"
CONTRACT = ("forward(z, y) stores the logits and the labels as self.z and self.y; backward() "
            "uses only those two attributes")

STABLE_HINT = ("Never form log(sigmoid(z)) or log(1 - sigmoid(z)): for large |z| the sigmoid "
               "rounds to 0 or 1 and the logarithm is -inf. Use the form "
               "max(z, 0) - z*y + log1p(exp(-|z|)), in which exp only sees -|z|.")


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


def _stored(loss, name, *, what):
    """The attribute `name` that forward stored, read by plain attribute access."""
    __tracebackhide__ = True  # noqa: F841
    return call(lambda: getattr(loss, name), what=f"{what}: reading self.{name}",
                revisit=f"the notebook's contract ({CONTRACT})")


def _expect_stored(loss, z, y, *, what):
    """After forward(z, y), self.z and self.y hold z and y (the contract)."""
    __tracebackhide__ = True  # noqa: F841
    for name, value in (("z", z), ("y", y)):
        got = as_float(_stored(loss, name, what=what))
        if got is None or got.shape != np.shape(value) or not np.array_equal(got, value):
            fail(f"{what} must store its {'logits' if name == 'z' else 'labels'} as "
                 f"self.{name} (the contract: {CONTRACT}).", expected=describe(np.asarray(value)),
                 got=describe(_stored(loss, name, what=what)),
                 revisit=f"the notebook's contract ({CONTRACT})")


def check_bce_module_forward(BCEWithLogitsLoss):
    """forward(z, y) returns the scalar mean loss, stores z and y as self.z and self.y (the latest
    batch), and leaves its inputs unchanged."""
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
        _expect_stored(loss, z, y, what=what)

    # A second forward on a new batch of another shape: what is stored is the latest batch.
    loss = _module(BCEWithLogitsLoss)
    z1, y1 = g.normal(size=(3, 4)), g.uniform(size=(3, 4))
    z2, y2 = g.normal(size=(5,)), g.integers(0, 2, size=5).astype(np.float64)
    call(loss.forward, z1, y1, what="BCEWithLogitsLoss().forward(z, y)", revisit=LOSS)
    what = "a second BCEWithLogitsLoss.forward on a new batch of shape (5,)"
    out = call(loss.forward, z2, y2, what=what, revisit=LOSS)
    _expect_loss(out, z2, y2, what=what, revisit=LOSS)
    z_stored = as_float(_stored(loss, "z", what=what))
    if z_stored is not None and np.shape(z_stored) == np.shape(z1):
        fail(f"After {what}, self.z still holds the first batch: every forward must store the "
             "batch it was given, for the backward pass that follows it.",
             expected=describe(z2), got=describe(z_stored), revisit=GRADIENT)
    _expect_stored(loss, z2, y2, what=what)

    # Extreme logits (issue 11, item 8: every forward is checked where the naive form fails).
    z = np.array([[-1e4, -1e3, -40.0, 0.0, 40.0, 1e3, 1e4]])
    y = np.array([[1.0, 0.0, 1.0, 0.5, 0.0, 1.0, 0.0]])
    for dtype in (np.float64, np.float32):
        what = (f"BCEWithLogitsLoss().forward(z, y) with {np.dtype(dtype).name} logits up to "
                "|z| = 1e4")
        loss = _module(BCEWithLogitsLoss)
        out = strict_call(loss.forward, z.astype(dtype), y.astype(dtype), what=what,
                          revisit=STABLE, hint=STABLE_HINT)
        _expect_loss(out, z, y, what=what, revisit=STABLE,
                     rtol=1e-5 if dtype is np.float32 else 1e-9)


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
        ((y - s) / n, "has the wrong sign: dL/dz is the prediction minus the target, divided "
         "by N."),
        ((s - y) / rows, f"divides by the number of rows ({rows}) instead of the number of "
         f"elements z.size = {n}: the mean runs over every element."),
        ((s - y) * s * (1 - s) / n, "multiplies by the sigmoid's derivative s (1 - s) again. "
         "For the loss on logits that factor cancels."),
    ]
    for candidate, message in wrong:
        if np.allclose(got, candidate, rtol=1e-6, atol=1e-12) and \
                not np.allclose(candidate, expected, rtol=1e-6, atol=1e-12):
            fail(f"{what} {message}", expected=describe(expected), got=describe(got),
                 revisit=GRADIENT)


def _backward_on(BCEWithLogitsLoss, z, y, *, what, strict=False, hint=""):
    """backward() of a fresh module whose self.z and self.y the check sets (no forward call):
    a broken forward does not cost the backward cell its points."""
    __tracebackhide__ = True  # noqa: F841
    loss = _module(BCEWithLogitsLoss)
    call(setattr, loss, "z", z, what="setting self.z on a BCEWithLogitsLoss()", revisit=GRADIENT)
    call(setattr, loss, "y", y, what="setting self.y on a BCEWithLogitsLoss()", revisit=GRADIENT)
    runner = strict_call if strict else call
    return runner(loss.backward, what=what,
                  revisit=f"{GRADIENT}; backward() uses only self.z and self.y, which this test "
                  "sets directly, without calling forward",
                  **({"hint": hint} if strict else {}))


def check_bce_module_backward(BCEWithLogitsLoss):
    """backward() = (sigmoid(z) - y) / z.size for the self.z and self.y the check sets (the
    contract), against the closed form and central differences; hard and soft labels, several
    shapes, extreme logits. Forward is not called: its mistakes cost only the forward cell."""
    __tracebackhide__ = True  # noqa: F841
    g = rng(32)
    for shape, kind in [((4, 3), "soft"), ((7,), "hard"), ((2, 2, 3), "soft")]:
        z = g.normal(scale=2.5, size=shape)
        y = (g.uniform(0, 1, size=shape) if kind == "soft"
             else g.integers(0, 2, size=shape).astype(np.float64))
        before = snapshot(z=z, y=y)
        what = (f"BCEWithLogitsLoss.backward() with self.z of shape {shape} and {kind} labels "
                "self.y")
        out = _backward_on(BCEWithLogitsLoss, z, y, what=what)
        expect_unchanged(before, what=what, revisit=GRADIENT)
        _diagnose_grad(out, z, y, what=what)
        expect_shape(out, shape, what=what + " (dL/dz has the shape of z)", revisit=GRADIENT)
        numeric = central_difference(lambda v: _oracle(v, y), z)
        expect_close(out, numeric, what=what + ", compared with a central-difference gradient of "
                     "the mean loss", revisit=GRADIENT, rtol=1e-5, atol=1e-9)
        expect_close(out, _expected_grad(z, y), what=what, revisit=GRADIENT, rtol=1e-7,
                     atol=1e-12)

    # Extreme logits: the gradient stays finite and exact, with no floating-point warning.
    z = np.array([-1e4, -1e3, 0.0, 1e3, 1e4, -1e3])
    y = np.array([1.0, 0.0, 1.0, 0.0, 1.0, 0.5])
    what = "BCEWithLogitsLoss.backward() with self.z up to |z| = 1e4"
    out = _backward_on(BCEWithLogitsLoss, z, y, what=what, strict=True,
                       hint="The gradient needs only a stable sigmoid (scipy's expit); do not "
                       "divide by s (1 - s), which is 0 for large |z|.")
    _diagnose_grad(out, z, y, what=what)
    expect_close(out, _expected_grad(z, y), what=what, revisit=GRADIENT, rtol=1e-9, atol=1e-15)


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
                           hint="Use a numerically stable sigmoid (scipy's expit, imported in the notebook), "
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


def _number(out, *, what, revisit, expected):
    """out as one float, or a failure that says a number was expected."""
    __tracebackhide__ = True  # noqa: F841
    value = as_float(out)
    if value is None or value.shape != () or not np.isfinite(value):
        fail(f"{what} should return one finite number.", expected=expected,
             got=describe(out), revisit=revisit)
    return float(value)


# The float64 logit from which the naive loss of a negative example is infinite: 1 + exp(-z)
# rounds to 1 once exp(-z) <= 2**-53 (half the spacing 2**-52 of the floats just above 1).
NAIVE_LIMIT = 53 * np.log(2)


def check_naive_limit(naive_infinite_from):
    """Question 1: the smallest z at which -log(1 - 1/(1 + exp(-z))) is inf in float64."""
    __tracebackhide__ = True  # noqa: F841
    what = "naive_infinite_from()"
    revisit = STABLE + ": the float32 reasoning, redone with float64's spacing"
    got = _number(call(naive_infinite_from, what=what, revisit=revisit), what=what,
                  revisit=revisit, expected=f"about {NAIVE_LIMIT:.4f}")
    if abs(got - NAIVE_LIMIT) <= 2e-3:
        return
    known = [
        (24 * np.log(2), "is the float32 threshold of the chapter. In float64 the floats just "
         "above 1 are 2**-52 apart, so 1 + exp(-z) rounds to 1 once exp(-z) <= 2**-53."),
        (52 * np.log(2), "uses the spacing 2**-52 itself; the sum 1 + exp(-z) already rounds to 1 "
         "when exp(-z) is half that spacing, 2**-53 (a tie goes to the even neighbour, 1)."),
        (np.log(np.finfo(np.float64).max), "is where exp overflows, which only matters for "
         "negative logits. For a negative example the trouble comes much earlier: 1 - s rounds "
         "to 0 once s rounds to 1."),
        (37.0, "is right to two digits only; the threshold is 53 log 2, give it to three "
         "decimals."),
    ]
    for value, message in known:
        if abs(got - value) <= 2e-3:
            fail(f"{what} returned {got:.4f}, which {message}",
                 expected=f"{NAIVE_LIMIT:.4f} (53 log 2)", got=f"{got:.6g}", revisit=revisit)
    fail(f"{what} is not the smallest float64 logit at which the naive loss of y = 0 becomes "
         "infinite. Find when s = 1 / (1 + exp(-z)) rounds to exactly 1 (or bisect "
         "numerically, as the chapter does for float32).",
         expected=f"{NAIVE_LIMIT:.4f}, to within 0.002", got=f"{got:.6g}", revisit=revisit)


def _bceloss_reference(z, y):
    """What PyTorch's BCELoss on torch.sigmoid(z) reports in float64 for one example:
    (loss, d loss/dz), and the true (loss, gradient) of the loss on the logit."""
    s = special.expit(z)
    with np.errstate(divide="ignore"):
        loss = -(y * max(np.log(s), -100.0) + (1 - y) * max(np.log1p(-s), -100.0))
    grad = (s - y) / max(s * (1 - s), 1e-12) * (s * (1 - s))
    true_loss = float(_elementwise(z, y))
    return float(loss), float(grad), true_loss, float(s - y)


BCELOSS_Z, BCELOSS_Y = -150.0, 1.0


def check_bceloss_report(bceloss_report):
    """Question 2: (reported loss, reported gradient, true loss, true gradient) of BCELoss through
    a sigmoid at z = -150, y = 1 in float64 (N = 1)."""
    __tracebackhide__ = True  # noqa: F841
    what = "bceloss_report()"
    expected = _bceloss_reference(BCELOSS_Z, BCELOSS_Y)
    shown = "(" + ", ".join(f"{v:.4g}" for v in expected) + ")"
    out = call(bceloss_report, what=what, revisit=CLAMP)
    got = as_float(out)
    if got is None or got.shape != (4,):
        fail(f"{what} should return four numbers: (the loss BCELoss reports, the gradient it "
             "returns for z, the true loss, the true gradient).", expected=shown,
             got=describe(out), revisit=CLAMP)
    names = ["the reported loss", "the reported gradient", "the true loss", "the true gradient"]
    ok = np.isclose(got, expected, rtol=1e-3, atol=0)
    if np.all(ok):
        return
    loss, grad, true_loss, true_grad = got
    if ok[0] and ok[2] and ok[3] and grad == 0:
        fail(f"{what}: the reported gradient is not exactly 0. BCELoss's backward does not "
             "differentiate the clamp: it computes (s - y) / max(s (1 - s), 1e-12), and the "
             "sigmoid's backward multiplies by s (1 - s) = sigma(-150), a tiny positive number.",
             expected=shown, got=describe(out), revisit=CLAMP)
    if ok[0] and ok[2] and ok[3] and np.isclose(grad, -1e12, rtol=1e-3):
        fail(f"{what}: {grad:.4g} is BCELoss's gradient with respect to its input s; the model's "
             "logit goes through the sigmoid, whose backward multiplies by s (1 - s).",
             expected=shown, got=describe(out), revisit=CLAMP)
    if not ok[0] and np.isclose(loss, 150, rtol=1e-3):
        fail(f"{what}: BCELoss does not report 150. log(sigmoid(-150)) is about -150, and the "
             "forward pass clamps every logarithm at -100.", expected=shown, got=describe(out),
             revisit=CLAMP)
    if np.all(np.isclose(-got, expected, rtol=1e-3)[[1, 3]]) and not np.all(ok[[1, 3]]):
        fail(f"{what}: the gradients have the wrong sign. For a positive example whose logit is "
             "too low the loss falls as z rises: the gradient (s - y) is negative.",
             expected=shown, got=describe(out), revisit=CLAMP)
    bad = int(np.argmin(ok))
    fail(f"{what}: {names[bad]} is wrong (the four numbers are checked to 3 significant "
         "digits).", expected=shown, got=describe(out), revisit=CLAMP)


STABLE_ANSWER = "CE"


def check_stable_formulas(stable_formulas):
    """Question 3: which of the six formulas are finite, exact and warning-free up to |z| = 1e4."""
    __tracebackhide__ = True  # noqa: F841
    what = "stable_formulas()"
    out = call(stable_formulas, what=what, revisit=STABLE)
    try:
        text = "".join(str(part) for part in out).upper()
    except TypeError:
        text = str(out).upper()
    letters = {c for c in text if c.isalpha()}
    if not letters or not letters <= set("ABCDEF"):
        fail(f"{what} should return the letters of the stable formulas, e.g. \"AB\".",
             expected="a string of letters from A to F", got=describe(out), revisit=STABLE)
    chosen = "".join(sorted(letters))
    if chosen == STABLE_ANSWER:
        return
    notes = {
        "A": "A takes log(expit(z)): expit(z) rounds to 0 or 1 for large |z|, and log 0 is -inf.",
        "B": "B computes exp(z), which overflows for z > 709.",
        "D": "D computes exp(-z), which overflows for z < -709.",
        "F": ("F looks safe, but np.where evaluates BOTH branches on every element before it "
              "chooses: exp(-z) and exp(z) overflow (with a warning) for the elements whose "
              "branch is not taken."),
    }
    wrong = [notes[c] for c in chosen if c in notes]
    missing = [c for c in STABLE_ANSWER if c not in chosen]
    detail = " ".join(wrong)
    if missing:
        detail += (" " if detail else "") + ("Missing: " + ", ".join(missing) + " (np.logaddexp "
                                             "and scipy's log_expit are stable building blocks).")
    fail(f"{what} is not the set of stable formulas. {detail}",
         expected="the right set of letters", got=repr(chosen), revisit=STABLE)


def _experiment_steps(kind, *, w0=-6.0, rate=0.5, max_steps=5000):
    """The checks' own run of the experiment: steps until every example is classified right."""
    x = np.linspace(-3, 3, 60)
    y = (x > 0).astype(float)
    w = w0
    for step in range(1, max_steps + 1):
        s = special.expit(w * x)
        grad_z = (s - y) if kind == "bce" else 2 * (s - y) * s * (1 - s)
        w -= rate * np.sum(grad_z / x.size * x)
        if np.all((w * x > 0) == (y == 1)):
            return step
    return max_steps


def check_experiment(wrong_start_experiment):
    """The experiment: (steps with cross-entropy, steps with squared error) from w = -6."""
    __tracebackhide__ = True  # noqa: F841
    what = "wrong_start_experiment(plot=False)"
    bce, mse = _experiment_steps("bce"), _experiment_steps("mse")
    shown = f"({bce}, {mse})"
    out = quiet_call(wrong_start_experiment, plot=False, what=what, revisit=SQUARED)
    got = as_float(out)
    if got is None or got.shape != (2,):
        fail(f"{what} should return two numbers: (steps with cross-entropy, steps with squared "
             "error).", expected=shown, got=describe(out), revisit=SQUARED)
    got_bce, got_mse = got

    def near(value, target):
        return abs(value - target) <= max(1, 0.01 * target)

    if near(got_bce, bce) and near(got_mse, mse):
        return
    if near(got_bce, mse) and near(got_mse, bce):
        fail(f"{what} returned the two counts in the wrong order: cross-entropy first.",
             expected=shown, got=describe(out), revisit=SQUARED)
    if near(got_mse, _experiment_steps("mse", rate=0.25)):
        fail(f"{what}: the squared-error count is about twice too large. The derivative of "
             "(s - y)**2 with respect to s is 2 (s - y).", expected=shown, got=describe(out),
             revisit=SQUARED)
    if near(got_mse, got_bce) or near(got_mse, 5):
        fail(f"{what}: the squared error learns as fast as the cross-entropy. Its gradient with "
             "respect to z keeps the sigmoid's derivative: 2 (s - y) s (1 - s).",
             expected=shown, got=describe(out), revisit=SQUARED)
    if near(got_bce, 1) or near(got_mse, 8):
        fail(f"{what}: the counts are those of the SUM of the losses. The loss is the mean over "
             "the 60 examples: divide the gradient by 60.", expected=shown, got=describe(out),
             revisit=GRADIENT)
    fail(f"{what} does not match the experiment as specified (w = -6 at the start, learning rate "
         "0.5, the mean loss over the 60 examples, count the updates until every example is "
         "classified correctly).", expected=shown + ", each to within 1 % or 1 step",
         got=describe(out), revisit=SQUARED)


TESTS = {
    "test-bce-values": check_bce_values,
    "test-bce-stable": check_bce_stable,
    "test-bce-module-forward": check_bce_module_forward,
    "test-bce-module-backward": check_bce_module_backward,
    "test-threshold": check_threshold,
    "test-q-naive-limit": check_naive_limit,
    "test-q-bceloss": check_bceloss_report,
    "test-q-stable": check_stable_formulas,
    "test-experiment": check_experiment,
}
