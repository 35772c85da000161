"""Hidden checks for the `binary-loss` exercise (chapter 3): bce_with_logits, BCEWithLogitsLoss,
predict_binary, three questions on the student's own numbers (soft_label_floor, bceloss_report,
stable_formulas) and the experiment (wrong_start_experiment), run on parameters the notebook never
shows.

Oracles: scipy.special's stable log-sigmoid for the loss, the sigmoid minus the label over the
number of elements for the gradient, the checks' own central differences, the decision rule on the
logit scale, closed forms for the questions (a function of the student's numbers each, `ANSWERS`),
the checks' own runs of every statement of question 3 and of the experiment; never the reference
solution.

The module's contract (since issue 11, item 6): forward(z, y) stores the logits and labels as
`self.z` and `self.y`, and backward() uses only those two attributes, so backward is checked on its
own (the check sets them) and a broken forward costs only the forward cell.
"""
import numpy as np
from scipy import special

from ._common import (answer, as_float, batched_call, call, central_difference, describe,
                      expect_close, expect_shape, expect_unchanged, fail, numbers, quiet_call,
                      rng, snapshot, strict_call)

LOSS = "Chapter 3, 'The loss: the surprise at the true label' (the mean over all elements)"
STABLE = "Chapter 3, 'Why losses take logits' (the loss rewritten on the logit)"
GRADIENT = "Chapter 3, 'The gradient: sigma(z) - y' (and the 1/N of a mean)"
THRESHOLD = "Chapter 3, 'One logit, two classes' (a threshold on the probability, or on the logit)"
CLAMP = "Chapter 3, 'The clamp in PyTorch's BCELoss' (the forward clamp and the guarded backward)"
SQUARED = "Chapter 3, 'Why not squared error on probabilities'"
SOFT = "Chapter 3, 'Soft labels'"
CONTRACT = ("forward(z, y) stores the logits and the labels as self.z and self.y; backward() "
            "uses only those two attributes")

STABLE_HINT = ("Never take the logarithm of a probability that may have rounded to 0 or 1, and "
               "never exponentiate a large positive number: rewrite the loss on the logit so "
               "that exp only ever sees minus the size of z.")

# The library functions that would do the exercise's work (a hint for the instructor, and named
# in the notebook's instructions): a stable log-sigmoid or softplus is the idea being graded.
_LIBRARY_LOSS = ("scipy.special.log_expit", "scipy.special.softplus", "numpy.logaddexp",
                 "sklearn.metrics.log_loss")
FORBIDDEN = {"bce-function": _LIBRARY_LOSS, "bce-module": _LIBRARY_LOSS}


def _elementwise(z, y):
    """The oracle: -(y log sigma(z) + (1 - y) log sigma(-z)), through scipy's log_expit."""
    z = np.asarray(z, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    return -(y * special.log_expit(z) + (1 - y) * special.log_expit(-z))


def _oracle(z, y):
    return float(np.mean(_elementwise(z, y)))


def _diagnose_loss(out, z, y, *, what, revisit):
    """Name the usual mistakes before the generic comparison."""
    expected = _oracle(z, y)
    n = np.size(z)
    if np.shape(out) == np.shape(z) and np.ndim(z) > 0:
        fail(f"{what} returned one loss per element (shape {np.shape(out)}). The loss is a "
             "single number: the mean over all elements.", expected=f"a scalar, {expected:.6g}",
             got=describe(np.asarray(out)), revisit=LOSS)
    if np.ndim(z) > 1 and np.shape(out) == np.shape(z)[1:]:
        fail(f"{what} took the mean over the first axis only. Average over all elements "
             "(a mean without an axis).", expected=f"a scalar, {expected:.6g}",
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
        fail(f"{what} has the sign of the term in z times y flipped: for y = 1 the loss must "
             "fall as z grows.", expected=f"{expected:.6g}",
             got=f"{got:.6g}", revisit=revisit)
    swapped = _oracle(z, 1 - np.asarray(y, dtype=np.float64))
    if np.isclose(got, swapped, rtol=1e-6) and not np.isclose(swapped, expected, rtol=1e-6):
        fail(f"{what} treats label 1 as label 0 and vice versa: with y = 1 the loss must be small "
             "for a large positive logit.", expected=f"{expected:.6g}", got=f"{got:.6g}",
             revisit=revisit)


def _expect_loss(out, z, y, *, what, revisit, rtol=1e-7):
    _diagnose_loss(out, z, y, what=what, revisit=revisit)
    expect_shape(out, (), what=what + " (the loss is a scalar)", revisit=LOSS)
    expect_close(out, _oracle(z, y), what=what, revisit=revisit, rtol=rtol, atol=1e-12)


def check_bce_values(bce_with_logits):
    """The mean loss against the log_expit oracle: hard, soft and integer labels, several shapes,
    Python scalars, float32; inputs left unchanged."""
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
    _expect_batched(bce_with_logits, g, what="bce_with_logits(z, y)")


def _expect_batched(fn, g, *, what):
    """On two million logits, whole-array operations, not a loop over the elements: a page's
    one-number softplus wrapped in np.vectorize computes the right loss with about 15 times the
    CPU time of one numpy pass, a whole-array loss with less than it."""
    z, y = g.normal(scale=3.0, size=2 * 10 ** 6), g.uniform(0, 1, size=2 * 10 ** 6)
    batched_call(fn, z, y, reference=lambda: np.mean(np.logaddexp(0, z) - z * y),
                 what=f"{what} with two million logits", revisit=LOSS, ratio=4.0, floor=0.2)


def check_bce_stable(bce_with_logits):
    """Finite, exact and warning-free for |z| up to 1e4, with hard and soft labels, in float64
    and float32."""
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
    _expect_batched(bce_with_logits, rng(32), what="bce_with_logits(z, y)")

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
    return call(lambda: getattr(loss, name), what=f"{what}: reading self.{name}",
                revisit=f"the notebook's contract ({CONTRACT})")


def _expect_stored(loss, z, y, *, what):
    """After forward(z, y), self.z and self.y hold z and y (the contract)."""
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
    _expect_batched(_module(BCEWithLogitsLoss).forward, g, what="BCEWithLogitsLoss().forward(z, y)")

    # Extreme logits (every forward is checked where the naive form fails).
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
                     "probabilities. The threshold is a probability: compare it with "
                     "probabilities, or move it to the logit scale first.",
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
                           hint="Use a numerically stable sigmoid (scipy's expit, imported in the "
                           "notebook), or work on the logit scale.")
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


# ------------------------------------------------------------------------------------------------
# Question 1: where training on a soft label stops
# ------------------------------------------------------------------------------------------------

def _entropy(y):
    """The entropy of a Bernoulli label y, in nats."""
    return float(special.entr(y) + special.entr(1 - y))


def right_soft_floor(n: dict):
    """The right answer of `soft_label_floor` for a student's numbers: (the logit at which the
    loss of the soft label votes / annotators is smallest, that smallest loss in nats)."""
    y = n["votes"] / n["annotators"]
    return float(special.logit(y)), _entropy(y)


def check_soft_label_floor(soft_label_floor):
    """Question 1: the best logit and the smallest loss for the student's soft label."""
    mine = numbers()
    votes, annotators = mine["votes"], mine["annotators"]
    y = votes / annotators
    what = f"soft_label_floor() for your {votes} votes of {annotators} annotators"
    got = answer(soft_label_floor, "soft_label_floor", revisit=SOFT, count=2)
    z_star, floor = right_soft_floor(mine)
    z, loss = float(got[0]), float(got[1])

    def near(a, b, tol=2e-3):
        return abs(a - b) <= tol

    if not near(z, z_star):
        if near(z, y):
            fail(f"{what}: the first number is the soft label itself, a probability. The question "
                 "asks for the logit at which training stops.", expected="a logit",
                 got=f"{z:.6g}", revisit=SOFT)
        if near(z, -z_star):
            fail(f"{what}: the best logit has the wrong sign. It is positive exactly when the "
                 "label is above one half.", expected="the opposite sign", got=f"{z:.6g}",
                 revisit=SOFT)
        if near(z, np.log(y)) or near(z, np.log(1 - y)):
            fail(f"{what}: that is the logarithm of a probability. The logit is the logarithm of "
                 "the odds.", expected="a log-odds", got=f"{z:.6g}",
                 revisit="Chapter 2, 'From odds to log-odds to the sigmoid'")
        if near(z, z_star / np.log(10)) or near(z, z_star / np.log(2)):
            fail(f"{what}: the logit is a natural logarithm (base e).", expected="log base e",
                 got=f"{z:.6g}", revisit=SOFT)
        if abs(z) > 20:
            fail(f"{what}: a soft label does not push the logit to infinity: the gradient of the "
                 "loss vanishes at a finite logit.", expected="a finite logit where the "
                 "gradient is zero", got=f"{z:.6g}", revisit=SOFT)
        fail(f"{what}: the first number is not the logit at which the gradient of the loss "
             "vanishes.", expected="the logit where the gradient is zero", got=f"{z:.6g}",
             revisit=SOFT)
    if not near(loss, floor):
        if near(loss, 0.0):
            fail(f"{what}: with a soft label the loss never reaches 0. Evaluate the loss at the "
                 "best logit.", expected="a positive loss", got=f"{loss:.6g}", revisit=SOFT)
        if near(loss, floor / np.log(2)):
            fail(f"{what}: that is the loss in bits. The course's losses use the natural "
                 "logarithm (nats).", expected="nats", got=f"{loss:.6g}", revisit=SOFT)
        if near(loss, float(special.entr(y))) or near(loss, float(special.entr(1 - y))):
            fail(f"{what}: the smallest loss has one term per class; yours has only one of "
                 "them.", expected="both terms", got=f"{loss:.6g}", revisit=SOFT)
        if near(loss, np.log(2)):
            fail(f"{what}: log 2 is the loss at z = 0, the best logit only for a label of one "
                 "half.", expected="the loss at your best logit", got=f"{loss:.6g}",
                 revisit=SOFT)
        if near(loss, -np.log(y)) or near(loss, -np.log(1 - y)):
            fail(f"{what}: that is the loss a hard label would have at that logit. The label is "
                 f"{votes}/{annotators}, and both classes keep their share.",
                 expected="the soft label's loss", got=f"{loss:.6g}", revisit=SOFT)
        fail(f"{what}: the second number is not the loss at the best logit (in nats).",
             expected="the loss at the best logit, to 3 decimals", got=f"{loss:.6g}",
             revisit=SOFT)


# ------------------------------------------------------------------------------------------------
# Question 2: what PyTorch's BCELoss reports for a confidently wrong positive example
# ------------------------------------------------------------------------------------------------

def _bceloss(z: float, y: float):
    """What BCELoss on torch.sigmoid(z) computes in float64 for one example (N = 1): (the loss
    it reports, the gradient autograd returns for z), then the true loss and gradient."""
    s = special.expit(np.float64(z))
    with np.errstate(divide="ignore"):
        log_s, log_1ms = max(np.log(s), -100.0), max(np.log1p(-s), -100.0)
    loss = -(y * log_s + (1 - y) * log_1ms)
    grad = (s - y) / max(s * (1 - s), 1e-12) * (s * (1 - s))
    return float(loss), float(grad), float(_elementwise(z, y)), float(s - y)


def right_bceloss(n: dict):
    """The right answer of `bceloss_report` for a student's numbers: the student's logit z, a
    positive example (y = 1), float64."""
    return _bceloss(n["z"], 1.0)


def check_bceloss_report(bceloss_report):
    """Question 2: (reported loss, reported gradient, true loss, true gradient) of BCELoss
    through a sigmoid at the student's logit, y = 1, float64, N = 1."""
    z = numbers()["z"]
    what = f"bceloss_report() for your z = {z:g}, y = 1"
    got = answer(bceloss_report, "bceloss_report", revisit=CLAMP, count=4)
    expected = np.array(right_bceloss(numbers()))
    ok = np.isclose(got, expected, rtol=1e-3, atol=0)
    if np.all(ok):
        return
    loss, grad, true_loss, true_grad = (float(v) for v in got)
    shown = "four numbers, each to 3 significant digits"
    if not ok[0]:
        if loss < 0:
            fail(f"{what}: a loss is never negative.", expected=shown, got=describe(got),
                 revisit=CLAMP)
        if abs(z) > 100 and np.isclose(loss, expected[2], rtol=1e-3):
            fail(f"{what}: the reported loss is the true loss, but BCELoss does not report the "
                 "true loss for your z. Look at what its forward pass does to each logarithm.",
                 expected=shown, got=describe(got), revisit=CLAMP)
        if abs(z) < 100 and np.isclose(loss, 100, rtol=1e-3):
            fail(f"{what}: for your z the forward pass's clamp is not reached, so the reported "
                 "loss is not the clamp's value.", expected=shown, got=describe(got),
                 revisit=CLAMP)
        fail(f"{what}: the reported loss (the first number) is wrong.", expected=shown,
             got=describe(got), revisit=CLAMP)
    if not ok[1]:
        if grad == 0:
            fail(f"{what}: the reported gradient is not exactly 0. BCELoss's backward does not "
                 "differentiate the clamp, and in float64 the sigmoid of your z has not rounded "
                 "to 0.", expected=shown, got=describe(got), revisit=CLAMP)
        if np.isclose(grad, expected[3], rtol=1e-3):
            fail(f"{what}: the reported gradient is the true one. BCELoss's backward divides by "
                 "a guarded s (1 - s), and the sigmoid's backward then multiplies by the "
                 "unguarded one: compare the two for your z.", expected=shown,
                 got=describe(got), revisit=CLAMP)
        if np.isclose(abs(grad), 1e12, rtol=1e-3):
            fail(f"{what}: that is BCELoss's gradient with respect to its input, the probability "
                 "s. The model's logit sits behind the sigmoid, whose backward multiplies by "
                 "s (1 - s).", expected=shown, got=describe(got), revisit=CLAMP)
        if np.sign(grad) != np.sign(expected[1]):
            fail(f"{what}: the reported gradient has the wrong sign. For a positive example "
                 "whose logit is too low, the loss falls as z rises.", expected=shown,
                 got=describe(got), revisit=CLAMP)
        orders = np.log10(abs(grad) / abs(expected[1]))
        if abs(orders) >= 1:
            size = "many orders" if abs(orders) > 3 else "an order or more"
            fail(f"{what}: the reported gradient is {size} of magnitude too "
                 f"{'large' if orders > 0 else 'small'}. Compare s (1 - s) with the guard of "
                 "BCELoss's backward for your z.",
                 expected=shown, got=describe(got), revisit=CLAMP)
        fail(f"{what}: the reported gradient (the second number) is not right to 3 "
             "significant digits.", expected=shown, got=describe(got), revisit=CLAMP)
    if not ok[2]:
        if np.isclose(true_loss, 100, rtol=1e-3):
            fail(f"{what}: the true loss is not clamped: it is the binary cross-entropy itself.",
                 expected=shown, got=describe(got), revisit=STABLE)
        if true_loss < 0:
            fail(f"{what}: the true loss has the wrong sign: a loss is never negative.",
                 expected=shown, got=describe(got), revisit=STABLE)
        fail(f"{what}: the true loss (the third number) is wrong.", expected=shown,
             got=describe(got), revisit=STABLE)
    if true_grad == 0 or abs(true_grad) < 1e-3:
        fail(f"{what}: the true gradient does not vanish: the gradient of the loss on the "
             "logit is the prediction minus the target.", expected=shown, got=describe(got),
             revisit=GRADIENT)
    if np.sign(true_grad) != np.sign(expected[3]):
        fail(f"{what}: the true gradient has the wrong sign: the prediction minus the target.",
             expected=shown, got=describe(got), revisit=GRADIENT)
    fail(f"{what}: the true gradient (the fourth number) is wrong.", expected=shown,
         got=describe(got), revisit=GRADIENT)


# ------------------------------------------------------------------------------------------------
# Question 3: which of the student's statements are stable, for their logits and labels
# ------------------------------------------------------------------------------------------------

def _s(z):
    return special.expit(z)


# Statement number -> the formula as the notebook describes it in words and TeX (never shown).
STATEMENTS = {
    1: lambda z, y: -(y * np.log(_s(z)) + (1 - y) * np.log(1 - _s(z))),
    2: lambda z, y: np.log1p(np.exp(z)) - z * y,
    3: lambda z, y: np.logaddexp(0, z) - z * y,
    4: lambda z, y: (1 - y) * z + np.log1p(np.exp(-z)),
    5: lambda z, y: -(y * special.log_expit(z) + (1 - y) * special.log_expit(-z)),
    6: lambda z, y: np.where(z >= 0, (1 - y) * z + np.log1p(np.exp(-z)),
                             np.log1p(np.exp(z)) - z * y),
    7: lambda z, y: np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z))),
    8: lambda z, y: np.maximum(z, 0) - z * y + np.log(1 + np.exp(-np.abs(z))),
    9: lambda z, y: -(y * np.log(np.clip(_s(z), 1e-7, 1 - 1e-7))
                      + (1 - y) * np.log(1 - np.clip(_s(z), 1e-7, 1 - 1e-7))),
    10: lambda z, y: np.where(y == 1, np.logaddexp(0, -z), np.logaddexp(0, z)),
    11: lambda z, y: -(y * np.log(_s(z)) + (1 - y) * np.log(_s(-z))),
    12: lambda z, y: -np.log(_s(z) ** y * (1 - _s(z)) ** (1 - y)),
    13: lambda z, y: np.abs(z) - z * y + np.log1p(np.exp(-np.abs(z))),
    14: lambda z, y: np.where(y == 1, np.log1p(np.exp(-z)), np.log1p(np.exp(z))),
}

# What to ask of every statement (the feedback lists these, never which statement is which).
STABLE_QUESTIONS = (
    "Is a probability rounded to exactly 0 or 1 (or clipped) before its logarithm is taken?",
    "Can exp see a positive number larger than about 709.78 (float64's overflow) for your "
    "largest |z|?",
    "Does np.where compute both of its branches for every element, whatever it then keeps?",
    "Does the formula still hold for a label between 0 and 1?",
    "Is it the loss at all for a negative logit as well as a positive one?",
)


def _grid(max_logit, labels):
    """Every logit the question covers (a fine grid from -max_logit to max_logit, its ends and
    0) with every label of the student's kind."""
    z = np.concatenate([np.linspace(-max_logit, max_logit, 4001), [0.0]])
    ys = [0.0, 1.0] if labels == "hard" else [0.0, 0.2, 0.3, 0.5, 0.7, 0.9, 1.0]
    return np.repeat(z, len(ys)), np.tile(np.array(ys), len(z))


_STABLE_CACHE: dict = {}


def _is_stable(number: int, max_logit: float, labels: str) -> bool:
    """Run statement `number` on the question's grid: stable if no overflow, divide-by-zero or
    invalid-value warning and the exact loss everywhere (rtol 1e-9, atol 1e-12)."""
    key = (number, max_logit, labels)
    if key not in _STABLE_CACHE:
        z, y = _grid(max_logit, labels)
        try:
            with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
                got = STATEMENTS[number](z, y)
            _STABLE_CACHE[key] = bool(np.all(np.isfinite(got)) and np.allclose(
                got, _elementwise(z, y), rtol=1e-9, atol=1e-12))
        except FloatingPointError:
            _STABLE_CACHE[key] = False
    return _STABLE_CACHE[key]


def right_stable(n: dict):
    """The right answer of `stable_formulas` for a student's numbers: the numbers of their
    statements that are stable for their largest logit and their kind of labels."""
    return [i for i in n["statements"] if _is_stable(i, n["max_logit"], n["labels"])]


def _statement_numbers(out):
    """The statement numbers a student returned, as a sorted list of ints (None if not that)."""
    if isinstance(out, str):
        return None
    try:
        values = [float(v) for v in out]
    except (TypeError, ValueError):
        return None
    if not all(v == int(v) for v in values):
        return None
    return sorted({int(v) for v in values})


def check_stable_formulas(stable_formulas):
    """Question 3: which of the student's six statements are stable for their largest |z| and
    their kind of labels."""
    mine = numbers()
    yours, max_logit, labels = mine["statements"], mine["max_logit"], mine["labels"]
    what = (f"stable_formulas() for your statements {yours}, |z| up to {max_logit:g} and "
            f"{labels} labels")
    out = call(stable_formulas, what="stable_formulas()", revisit=STABLE)
    chosen = _statement_numbers(out)
    if chosen is None:
        fail(f"{what}: return the numbers of the stable statements as a list of integers, such "
             "as [2, 9] (an empty list if none is stable).", expected="a list of integers",
             got=describe(out), revisit=STABLE)
    others = [i for i in chosen if i not in yours]
    if others:
        fail(f"{what}: {others} {'is' if len(others) == 1 else 'are'} not among your "
             "statements. Judge only the six statements of your numbers.",
             expected=f"numbers from {yours}", got=describe(out), revisit=STABLE)
    right = right_stable(mine)
    if chosen == right:
        return
    wrong = []
    if set(chosen) - set(right):
        wrong.append("your list includes at least one statement that is not stable")
    if set(right) - set(chosen):
        wrong.append("it leaves out at least one statement that is stable")
    fail(f"{what}: {' and '.join(wrong)}. Ask of each statement, for your own largest |z| and "
         "labels: " + " ".join(STABLE_QUESTIONS), expected="the stable ones among your six",
         got=describe(out), revisit=STABLE)


# ------------------------------------------------------------------------------------------------
# The experiment: cross-entropy against squared error from a confidently wrong start
# ------------------------------------------------------------------------------------------------

MAX_STEPS = 5000


def _steps(x, y, w0, lr, kind, max_steps=MAX_STEPS):
    """The checks' own run: updates of z = w x from w0 with the mean loss (`kind`) until every
    example is classified right, at most max_steps."""
    w = float(w0)
    for step in range(1, max_steps + 1):
        s = special.expit(w * x)
        if kind == "bce":
            grad_z = s - y
        elif kind == "mse":
            grad_z = 2 * (s - y) * s * (1 - s)
        elif kind == "mse-half":               # without the 2 of the square's derivative
            grad_z = (s - y) * s * (1 - s)
        else:                                  # "mse-no-sigmoid": the chain rule stopped at s
            grad_z = 2 * (s - y)
        w -= lr * float(np.mean(grad_z * x))
        if np.array_equal(w * x > 0, y == 1):
            return step
    return max_steps


def _experiment_case(k):
    """Hidden parameters: a data set on a line (labels 1 where x > 0), a start and a rate."""
    g = rng(40 + k)
    n = int(g.integers(30, 91))
    half_width = float(g.uniform(1.5, 4.5))
    x = g.uniform(-half_width, half_width, size=n)
    x = np.where(np.abs(x) < 0.02, 0.02 * np.sign(x + 1e-12), x)    # nothing on the boundary
    x[0], x[1] = -abs(x[0]), abs(x[1])                                # both classes
    y = (x > 0).astype(np.float64)
    return x, y, float(g.uniform(-8.0, -3.0)), float(g.uniform(0.2, 1.0))


def check_experiment(wrong_start_experiment):
    """The experiment, called on hidden data, starts and rates: (steps with the cross-entropy,
    steps with the squared error), against the checks' own runs."""
    results = []
    for k in range(2):
        x, y, w0, lr = _experiment_case(k)
        what = (f"wrong_start_experiment(x, y, w0={w0:.3f}, lr={lr:.3f}, plot=False) with "
                f"{x.size} points x between {x.min():.2f} and {x.max():.2f}, labelled 1 where "
                "x is positive")
        before = snapshot(x=x, y=y)
        out = quiet_call(wrong_start_experiment, x, y, w0, lr, plot=False, what=what,
                         revisit=SQUARED)
        expect_unchanged(before, what=what, revisit=SQUARED)
        got = as_float(out)
        if got is None or got.shape != (2,):
            fail(f"{what} should return two numbers: (steps with the cross-entropy, steps with "
                 "the squared error).", expected="two integers", got=describe(out),
                 revisit=SQUARED)
        results.append((x, y, w0, lr, what, got))
    if np.array_equal(results[0][5], results[1][5]):
        fail(f"{results[1][4]} returned the same counts as for other data, start and rate "
             f"({describe(results[0][5])}). The experiment must train with the arguments it is "
             "given.", expected="counts that depend on x, y, w0 and lr",
             got=describe(results[1][5]), revisit=SQUARED)

    def near(value, target):
        return abs(value - target) <= max(1, 0.01 * target)

    for x, y, w0, lr, what, got in results:
        bce, mse = _steps(x, y, w0, lr, "bce"), _steps(x, y, w0, lr, "mse")
        shown = f"({bce}, {mse}), each to within 1 % or 1 step"
        got_bce, got_mse = got
        if near(got_bce, bce) and near(got_mse, mse):
            continue
        if near(got_bce, mse) and near(got_mse, bce):
            fail(f"{what} returned the two counts in the wrong order: the cross-entropy first.",
                 expected=shown, got=describe(got), revisit=SQUARED)
        if near(got_bce, bce) and near(got_mse, _steps(x, y, w0, lr, "mse-half")):
            fail(f"{what}: the squared-error count is about twice too large. The derivative of "
                 "the square (s - y)**2 with respect to s has a factor 2.", expected=shown,
                 got=describe(got), revisit=SQUARED)
        if near(got_bce, bce) and near(got_mse, _steps(x, y, w0, lr, "mse-no-sigmoid")):
            fail(f"{what}: the squared error learns about as fast as the cross-entropy. Its "
                 "gradient with respect to z keeps the sigmoid's derivative: the chain rule "
                 "goes through s.", expected=shown, got=describe(got), revisit=SQUARED)
        if near(got_bce, _steps(x, y, w0, lr * x.size, "bce")) and \
                near(got_mse, _steps(x, y, w0, lr * x.size, "mse")):
            fail(f"{what}: the counts are those of the SUM of the losses. The loss is the mean "
                 f"over the {x.size} examples.", expected=shown, got=describe(got),
                 revisit=GRADIENT)
        if near(got_bce, _steps(x, y, -6.0, lr, "bce")) and \
                near(got_mse, _steps(x, y, -6.0, lr, "mse")):
            fail(f"{what}: the counts are those of a start at w = -6, not at the w0 given.",
                 expected=shown, got=describe(got), revisit=SQUARED)
        if near(got_bce, _steps(x, y, w0, 0.5, "bce")) and \
                near(got_mse, _steps(x, y, w0, 0.5, "mse")):
            fail(f"{what}: the counts are those of a learning rate of 0.5, not of the lr given.",
                 expected=shown, got=describe(got), revisit=SQUARED)
        fail(f"{what} does not match the experiment as specified (start at w0, learning rate "
             "lr, the mean loss over the examples, count the updates until every example is "
             "classified correctly).", expected=shown, got=describe(got), revisit=SQUARED)


ANSWERS = {
    "test-q-soft-floor": right_soft_floor,
    "test-q-bceloss": right_bceloss,
    "test-q-stable": right_stable,
}

TESTS = {
    "test-bce-values": check_bce_values,
    "test-bce-stable": check_bce_stable,
    "test-bce-module-forward": check_bce_module_forward,
    "test-bce-module-backward": check_bce_module_backward,
    "test-threshold": check_threshold,
    "test-q-soft-floor": check_soft_label_floor,
    "test-q-bceloss": check_bceloss_report,
    "test-q-stable": check_stable_formulas,
    "test-experiment": check_experiment,
}
