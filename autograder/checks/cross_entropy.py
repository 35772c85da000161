"""Hidden checks for the `cross-entropy` exercise (chapter 5): one_hot, cross_entropy,
CrossEntropyLoss (forward, backward graded apart, label smoothing), three auto-graded questions and
the bias-only experiment.

Oracles: scipy.special.logsumexp / softmax / log_softmax, one-hot targets built entry by entry,
PyTorch's definition of label smoothing written out, and the checks' own central differences;
never the reference solution.
"""

import numpy as np
from scipy import special

from ._common import (CheckFailed, answer, as_float, call, central_difference, describe, expect_close,
                      expect_shape, expect_unchanged, fail, matches, quiet_call, rng, snapshot,
                      strict_call)

ONE_HOT = ("Chapter 5, 'Labels and one-hot targets' (one-hot targets: a float (N, C) array with a "
           "single 1 per row, at column y_n)")
LOSS = ("Chapter 5, 'The negative log-likelihood of the true class' (L = mean over the batch of "
        "LSE(z_n) - z_n[y_n], through log-softmax)")
STABLE = ("Chapter 5, 'The negative log-likelihood of the true class', and chapter 4, 'Log-softmax' "
          "(compute log-probabilities with log_softmax, never log(softmax(z)))")
LOGITS_IN = "Chapter 5, 'Logits in, not probabilities' (the loss applies log-softmax itself)"
GRADIENT = "Chapter 5, 'The gradient: softmax minus one-hot' (dL/dz = (softmax(z) - t) / N)"
SMOOTHING = ("Chapter 5, 'Label smoothing' (PyTorch's targets: t = (1 - eps) * one_hot + eps / C, "
             "the eps / C on every class, the true one included)")
LABELS = ("Chapter 5, 'Labels and one-hot targets' (a label is an integer in 0 .. C-1; anything "
          "else is an error, not a class)")
STORED = ("the contract of CrossEntropyLoss in the notebook: forward stores self.probs "
          "(softmax(z), shape (N, C)) and self.targets (t, shape (N, C)), and backward computes "
          "from those two alone")
ENTROPY_KL = "Chapter 5, 'Entropy and KL divergence' (H(t, p) = H(t) + KL(t || p))"
FREQUENCIES = ("Chapter 5, 'Maximum likelihood matches the class frequencies' (for a bias-only "
               "model the gradient is softmax(b) - the mean target)")

# The likely mistake when the student's loss raises numpy's floating-point error (_common.call).
STABLE_HINT = ("exp of a large logit overflowed, or the log of a probability that rounded to 0 "
               "is -inf: compute the log-probabilities with log_softmax (z - max - "
               "log(sum(exp(z - max))), each row's own maximum), never log(softmax(z)).")


def _onehot_oracle(y, C):
    t = np.zeros((len(y), C))
    for n, label in enumerate(y):
        t[n, int(label)] = 1.0
    return t


def _ce_oracle(z, y, eps=0.0):
    """Mean cross-entropy with PyTorch's label smoothing, from scipy's log_softmax."""
    z = np.asarray(z, dtype=np.float64)
    N, C = z.shape
    t = (1 - eps) * _onehot_oracle(y, C) + eps / C
    return float(-np.sum(t * special.log_softmax(z, axis=-1)) / N)


def _grad_oracle(z, y, eps=0.0):
    z = np.asarray(z, dtype=np.float64)
    N, C = z.shape
    t = (1 - eps) * _onehot_oracle(y, C) + eps / C
    return (special.softmax(z, axis=-1) - t) / N


def _expect_scalar(out, what, revisit):
    __tracebackhide__ = True  # noqa: F841
    if np.ndim(out) != 0:
        fail(f"{what} should return one number (the mean over the batch), not an array of shape "
             f"{np.shape(out)}.", expected="a scalar", got=describe(np.asarray(out)), revisit=revisit)


# --------------------------------------------------------------------------------------------
# one_hot
# --------------------------------------------------------------------------------------------

def check_one_hot(one_hot):
    """Values, float dtype, shape (N, num_classes) even when the largest class is missing from y,
    several label dtypes, y unchanged."""
    __tracebackhide__ = True  # noqa: F841
    g = rng(51)
    cases = [(np.array([0, 2, 1, 2]), 3), (np.array([1, 0, 1]), 5), (np.array([3]), 4),
             (g.integers(0, 10, size=50), 10), (np.array([4, 0, 2], dtype=np.int32), 6)]
    for y, C in cases:
        before = snapshot(y=y)
        what = f"one_hot(y, num_classes={C}) for y = {describe(y)}"
        out = call(one_hot, y, C, what=what, revisit=ONE_HOT)
        expected = _onehot_oracle(y, C)
        arr = np.asarray(out)
        if arr.shape == (C, len(y)) and arr.shape != expected.shape:
            fail(f"{what} is transposed: one row per example, one column per class.",
                 expected=f"shape {expected.shape}", got=f"shape {arr.shape}", revisit=ONE_HOT)
        if arr.ndim == 2 and arr.shape[0] == len(y) and arr.shape[1] == y.max() + 1 != C:
            fail(f"{what} has {arr.shape[1]} columns: the number of classes was taken from the "
                 f"largest label in y. Use num_classes; a batch need not contain every class.",
                 expected=f"shape {expected.shape}", got=f"shape {arr.shape}", revisit=ONE_HOT)
        expect_shape(out, expected.shape, what=what, revisit=ONE_HOT)
        if not np.issubdtype(arr.dtype, np.floating):
            fail(f"{what} has dtype {arr.dtype}; one-hot targets are floats (they are mixed with "
                 "probabilities and smoothed).", expected="a float array",
                 got=describe(arr), revisit=ONE_HOT)
        if np.any(arr.sum(axis=1) != 1):
            fail(f"{what} should have exactly one 1 per row (at column y_n); the row sums are "
                 f"{arr.sum(axis=1)}.", expected=describe(expected), got=describe(arr),
                 revisit=ONE_HOT)
        expect_close(out, expected, what=what, revisit=ONE_HOT, rtol=0, atol=0)
        expect_unchanged(before, what=what, revisit=ONE_HOT)

    for y, C in [(np.array([-1, 0]), 3), (np.array([0, 3]), 3), (np.array([2, 7, 1]), 5),
                 (np.array([-4]), 4)]:
        what = f"one_hot(y, num_classes={C}) for y = {y.tolist()}"
        _expect_value_error(one_hot, (y, C), what,
                            f"a label outside 0 .. {C - 1} has no column. numpy would wrap a "
                            "negative label round to the last classes without a word, and a "
                            "label >= num_classes raises an IndexError that does not say what is "
                            "wrong: check the range and raise a ValueError that names the bad "
                            "label (PyTorch's one_hot refuses such labels too, with a "
                            "RuntimeError)")


def _expect_value_error(fn, args, what, why):
    """fn(*args) must raise ValueError (seen through `call`, which names the exception)."""
    __tracebackhide__ = True  # noqa: F841
    try:
        out = call(fn, *args, what=what, revisit=LABELS)
    except CheckFailed as failure:
        if f"{what} raised ValueError" in failure.message:
            return
        if "not implemented yet" in failure.message:
            raise
        detail = failure.message.splitlines()[0][len(what):].strip()    # "raised Name: ..."
        fail(f"{what} {detail}; it should raise a ValueError: {why}.", expected="ValueError",
             got=detail.removeprefix("raised ").split(":")[0], revisit=LABELS)
    fail(f"{what} returned a result instead of raising ValueError: {why}.",
         expected="ValueError", got=describe(np.asarray(out)), revisit=LABELS)


# --------------------------------------------------------------------------------------------
# cross_entropy
# --------------------------------------------------------------------------------------------

def _diagnose_loss(out, z, y, expected, what, N):
    """Name the catalogued mistakes of a mean cross-entropy before a generic mismatch."""
    __tracebackhide__ = True  # noqa: F841
    if np.ndim(out) != 0 or matches(out, expected, rtol=1e-7):
        return
    z = np.asarray(z, dtype=np.float64)
    logp = special.log_softmax(z, axis=-1)
    got = describe(np.asarray(out))
    if N > 1 and matches(out, N * expected):
        fail(f"{what} is N = {N} times too large: it sums the losses of the batch instead of "
             "averaging them (the 1/N of the mean is missing).", expected=expected, got=got,
             revisit=LOSS)
    if matches(out, -expected):
        fail(f"{what} has the wrong sign: the loss is MINUS the mean log-probability of the true "
             "class, a positive number.", expected=expected, got=got, revisit=LOSS)
    if matches(out, _ce_oracle(special.softmax(z, axis=-1), y)):
        fail(f"{what} applies the softmax twice: the loss was given probabilities (or softmax "
             "was applied before log_softmax). It must receive the logits.", expected=expected,
             got=got, revisit=LOGITS_IN)
    if matches(out, -np.sum(np.asarray(y, dtype=float)[:, None] * logp) / N):
        fail(f"{what} multiplies the log-probabilities by the integer labels as if they were "
             "one-hot targets. Pick one entry per row, log_softmax(z)[np.arange(N), y] (or use "
             "one_hot(y, C)).", expected=expected, got=got, revisit=LOSS)
    if N > 1 and matches(out, -np.mean(special.log_softmax(z, axis=0)[np.arange(N), y])):
        fail(f"{what} takes the log-softmax over the batch axis (axis=0); the classes are on the "
             "last axis.", expected=expected, got=got, revisit=LOSS)
    if z.size > 1 and matches(out, -np.mean(special.log_softmax(z, axis=None)[np.arange(N), y])):
        fail(f"{what} takes the log-softmax over the whole array: scipy.special.log_softmax "
             "normalises over all entries unless you pass axis=-1 (its default is axis=None).",
             expected=expected, got=got, revisit=LOSS)
    if N > 1 and matches(out, -np.mean(logp[:, y])):
        fail(f"{what} indexes log_softmax(z)[:, y], an N x N block, instead of one entry per row "
             "with log_softmax(z)[np.arange(N), y].", expected=expected, got=got, revisit=LOSS)


def check_cross_entropy_values(cross_entropy):
    """Values against logsumexp(z) - z[y] averaged, several (N, C), label dtypes, float32 logits,
    a scalar result, inputs unchanged."""
    __tracebackhide__ = True  # noqa: F841
    g = rng(52)
    for N, C, ydtype in [(5, 3, np.int64), (8, 10, np.int64), (1, 4, np.int64), (6, 2, np.int32),
                         (12, 7, np.int64)]:
        z = g.normal(scale=2.0, size=(N, C))
        y = g.integers(0, C, size=N).astype(ydtype)
        before = snapshot(z=z, y=y)
        what = f"cross_entropy(z, y) for z of shape ({N}, {C}) and labels y = {describe(y)}"
        out = call(cross_entropy, z, y, what=what, revisit=LOSS)
        expected = float(np.mean(special.logsumexp(z, axis=-1) - z[np.arange(N), y]))
        _diagnose_loss(out, z, y, expected, what, N)
        _expect_scalar(out, what, LOSS)
        expect_close(out, expected, what=what, revisit=LOSS)
        expect_unchanged(before, what=what, revisit=LOSS)

    what = "cross_entropy(z, y) for all-zero logits of shape (4, 10) (a uniform prediction)"
    out = call(cross_entropy, np.zeros((4, 10)), np.array([0, 3, 7, 9]), what=what, revisit=LOSS)
    expect_close(out, np.log(10), what=what + ": the loss of a uniform prediction is log C",
                 revisit=LOSS)

    z32 = g.normal(scale=2.0, size=(5, 4)).astype(np.float32)
    y = g.integers(0, 4, size=5)
    what = "cross_entropy(z, y) for float32 logits"
    out = call(cross_entropy, z32, y, what=what, revisit=LOSS)
    expect_close(out, _ce_oracle(z32, y), what=what, revisit=LOSS, rtol=1e-5, atol=1e-6)


def check_cross_entropy_stability(cross_entropy):
    """Single examples with logit spreads of 1e3 to 1e4, numpy warnings as errors."""
    __tracebackhide__ = True  # noqa: F841
    z = np.array([[0.0, 1e4]])
    for label, expected in [(1, 0.0), (0, 1e4)]:
        what = f"cross_entropy(z, y) for z = [[0, 1e4]] and y = [{label}]"
        out = quiet_call(cross_entropy, z, np.array([label]), what=what, revisit=STABLE)
        value = as_float(out)
        if np.ndim(out) != 0 or value is None or np.isfinite(value):
            continue
        if label == 1:
            fail(f"{what} is {float(value)}: exp(1e4) overflowed to inf. Subtract each row's "
                 "maximum before exponentiating (log_softmax does).", expected=expected,
                 got=float(value), revisit=STABLE)
        fail(f"{what} is {float(value)}: the log of a probability that the softmax rounded to "
             "zero. Compute the log-probabilities with log_softmax "
             "(z - max - log(sum(exp(z - max)))).", expected=expected, got=float(value),
             revisit=STABLE)

    cases = [(np.array([[0.0, 1e4]]), [0], 1e4), (np.array([[0.0, 1e4]]), [1], 0.0),
             (np.array([[-1e4, 1e4, 0.0]]), [2], 1e4), (np.array([[1e4, 1e4, 1e4]]), [1], np.log(3)),
             (np.array([[-1e3, -1e3 - 2.0]]), [1], _ce_oracle([[-1e3, -1e3 - 2.0]], [1]))]
    g = rng(53)
    for scale in (1e3, 3e3, 1e4):
        for _ in range(3):
            row = g.normal(scale=scale, size=(1, 6))
            label = [int(g.integers(0, 6))]
            cases.append((row, label, _ce_oracle(row, label)))
    for z, y, expected in cases:
        y = np.array(y)
        what = (f"cross_entropy(z, y) for one example z = {describe(z)}, y = {y.tolist()} "
                "(numpy warnings count as errors)")
        out = strict_call(cross_entropy, z, y, what=what, revisit=STABLE, hint=STABLE_HINT)
        _diagnose_loss(out, z, y, expected, what, 1)
        _expect_scalar(out, what, LOSS)
        expect_close(out, expected, what=what, revisit=STABLE, rtol=1e-9, atol=1e-9)

    z32 = np.array([[0.0, 500.0, -500.0]], dtype=np.float32)
    what = "cross_entropy(z, y) for float32 logits [[0, 500, -500]] and y = [2]"
    out = strict_call(cross_entropy, z32, np.array([2]), what=what, revisit=STABLE,
                      hint=STABLE_HINT)
    expect_close(out, 1000.0, what=what, revisit=STABLE, rtol=1e-6)


# --------------------------------------------------------------------------------------------
# CrossEntropyLoss: forward and backward graded apart
# --------------------------------------------------------------------------------------------

def _loss(CrossEntropyLoss, **kwargs):
    args = ", ".join(f"{k}={v}" for k, v in kwargs.items())
    return call(CrossEntropyLoss, **kwargs, what=f"CrossEntropyLoss({args})", revisit=SMOOTHING)


def _stored(module, name, what):
    """module.<name>, read with plain attribute access; a missing one says what the contract is."""
    __tracebackhide__ = True  # noqa: F841
    try:
        return call(lambda: getattr(module, name), what=f"self.{name} after {what}",
                    revisit=STORED)
    except CheckFailed as failure:
        if "raised AttributeError" not in failure.message:
            raise
        fail(f"After {what}, the module has no attribute `{name}`. forward must store "
             f"self.{name}, which backward uses.", expected=f"self.{name}, an (N, C) array",
             got="no such attribute", revisit=STORED)


def _expect_stored(module, z, y, eps, what, revisit):
    """After forward: self.probs is softmax(z) and self.targets the (smoothed) targets."""
    __tracebackhide__ = True  # noqa: F841
    z = np.asarray(z, dtype=np.float64)
    N, C = z.shape
    targets = (1 - eps) * _onehot_oracle(y, C) + eps / C
    expect_close(_stored(module, "probs", what), special.softmax(z, axis=-1),
                 what=f"self.probs after {what} (it should be softmax(z), the probabilities "
                      "backward needs)", revisit=GRADIENT, rtol=1e-9, atol=1e-12)
    expect_close(_stored(module, "targets", what), targets,
                 what=f"self.targets after {what} (the targets t of the loss, smoothed when "
                      "label_smoothing > 0)", revisit=revisit, rtol=1e-12, atol=1e-12)


def check_ce_module_forward(CrossEntropyLoss):
    """forward(z, y) without smoothing: the mean loss, a scalar, stable, inputs unchanged, and
    self.probs / self.targets as the contract names them."""
    __tracebackhide__ = True  # noqa: F841
    g = rng(54)
    for N, C, scale in [(6, 4, 2.0), (1, 3, 2.0), (10, 5, 2.0), (4, 6, 1e3), (3, 3, 1e4)]:
        z = g.normal(scale=scale, size=(N, C))
        y = g.integers(0, C, size=N)
        before = snapshot(z=z, y=y)
        module = _loss(CrossEntropyLoss)
        what = (f"CrossEntropyLoss().forward(z, y) for z of shape ({N}, {C}) with logits of size "
                f"about {scale:g} (numpy warnings count as errors)")
        out = strict_call(module.forward, z, y, what=what, revisit=STABLE, hint=STABLE_HINT)
        expected = _ce_oracle(z, y)
        _diagnose_loss(out, z, y, expected, what, N)
        _expect_scalar(out, what, LOSS)
        expect_close(out, expected, what=what, revisit=LOSS, rtol=1e-9, atol=1e-9)
        expect_unchanged(before, what=what, revisit=LOSS)
        _expect_stored(module, z, y, 0.0, f"CrossEntropyLoss().forward on z of shape ({N}, {C})",
                       ONE_HOT)


def _diagnose_grad(grad, probs, targets, expected, what, N):
    __tracebackhide__ = True  # noqa: F841
    if matches(grad, expected, rtol=1e-7):
        return
    got = describe(np.asarray(grad))
    if N > 1 and matches(grad, N * expected):
        fail(f"{what} is N = {N} times too large: the loss is a mean, so its gradient carries a "
             "1/N.", expected=describe(expected), got=got, revisit=GRADIENT)
    if matches(grad, -expected):
        fail(f"{what} has the wrong sign: it is (softmax(z) - t) / N, not (t - softmax(z)) / N.",
             expected=describe(expected), got=got, revisit=GRADIENT)
    if matches(grad, probs / N) or matches(grad, probs):
        fail(f"{what} returns the probabilities without subtracting the targets.",
             expected=describe(expected), got=got, revisit=GRADIENT)
    if matches(grad, (probs - targets) / probs.shape[1]) and N != probs.shape[1]:
        fail(f"{what} divides by the number of classes C = {probs.shape[1]}; the mean is over the "
             f"N = {N} examples.", expected=describe(expected), got=got, revisit=GRADIENT)


def _backward_on(CrossEntropyLoss, probs, targets, what):
    """A fresh module with self.probs and self.targets set as forward would, then backward()."""
    __tracebackhide__ = True  # noqa: F841
    module = _loss(CrossEntropyLoss)
    for name, value in (("probs", probs), ("targets", targets)):
        call(setattr, module, name, value.copy(), what=f"setting self.{name} on the module",
             revisit=STORED)
    try:
        return call(module.backward, what=what, revisit=GRADIENT)
    except CheckFailed as failure:
        if "raised AttributeError" not in failure.message:
            raise
        fail(f"{failure.message.splitlines()[0]}. This test sets self.probs and self.targets "
             "(what forward stores) and calls backward alone, so that a mistake in forward does "
             "not cost these points too; backward must compute from those two attributes only "
             "(N is the number of rows of self.probs).", revisit=STORED)


def check_ce_module_backward(CrossEntropyLoss):
    """backward() alone, from self.probs and self.targets set by the check (so that a buggy forward
    does not cost these points): (probs - targets) / N against the closed form and central
    differences, one-hot and smoothed targets, batches of several sizes in turn."""
    __tracebackhide__ = True  # noqa: F841
    g = rng(55)
    for N, C, eps in [(5, 4, 0.0), (1, 3, 0.0), (8, 6, 0.0), (6, 3, 0.2), (2, 5, 0.1)]:
        z = g.normal(scale=2.0, size=(N, C))
        y = g.integers(0, C, size=N)
        probs = special.softmax(z, axis=-1)
        targets = (1 - eps) * _onehot_oracle(y, C) + eps / C
        what = (f"CrossEntropyLoss().backward() with self.probs = softmax(z) and self.targets set "
                f"for z of shape ({N}, {C})" + (f" (smoothed targets, eps = {eps})" if eps else ""))
        grad = _backward_on(CrossEntropyLoss, probs, targets, what)
        expected = (probs - targets) / N
        _diagnose_grad(grad, probs, targets, expected, what, N)
        expect_shape(grad, (N, C), what=what + " (the gradient has the shape of z)",
                     revisit=GRADIENT)
        expect_close(grad, central_difference(lambda v: _ce_oracle(v, y, eps), z),
                     what=what + " compared with central differences of the mean loss",
                     revisit=GRADIENT, rtol=1e-5, atol=1e-8)
        expect_close(grad, expected, what=what, revisit=GRADIENT, rtol=1e-9, atol=1e-12)


def check_label_smoothing(CrossEntropyLoss):
    """forward with label_smoothing=eps against PyTorch's definition, the usual variants named when
    they are what came back, and the smoothed self.targets."""
    __tracebackhide__ = True  # noqa: F841
    g = rng(56)
    for eps, N, C in [(0.1, 6, 4), (0.3, 5, 3), (0.2, 4, 7)]:
        z = g.normal(scale=2.0, size=(N, C))
        # The last batch has no example of the last class: C comes from the logits, not the labels.
        y = g.integers(0, C if C < 7 else C - 1, size=N)
        before = snapshot(z=z, y=y)
        module = _loss(CrossEntropyLoss, label_smoothing=eps)
        what = f"CrossEntropyLoss(label_smoothing={eps}).forward(z, y) for z of shape ({N}, {C})"
        out = call(module.forward, z, y, what=what, revisit=SMOOTHING)
        expected = _ce_oracle(z, y, eps)
        logp = special.log_softmax(z, axis=-1)
        onehot = _onehot_oracle(y, C)
        variants = [
            (_ce_oracle(z, y), "ignores label_smoothing: it is the loss with one-hot targets."),
            (-np.sum(((1 - eps) * onehot + eps / (C - 1) * (1 - onehot)) * logp) / N,
             "puts 1 - eps on the true class and eps / (C - 1) on the others. That is a valid "
             "definition, but not PyTorch's, which adds eps / C to every class, the true one "
             "included (the true class gets 1 - eps + eps / C)."),
            (-np.sum(((1 - eps) * onehot + eps / C * (1 - onehot)) * logp) / N,
             "gives the true class 1 - eps: it is missing the eps / C that the uniform part adds "
             "to every class, the true one included."),
            (-np.sum(((1 - eps) * onehot + eps) * logp) / N,
             "adds eps to every class instead of eps / C, so the targets no longer sum to one."),
            (-np.sum((onehot + eps / C) * logp) / N,
             "adds eps / C to every class without scaling the one-hot part by (1 - eps), so the "
             "targets sum to 1 + eps."),
        ]
        if np.ndim(out) == 0 and not matches(out, expected, rtol=1e-7):
            for value, message in variants:
                if matches(out, value):
                    fail(f"{what} {message}", expected=expected, got=describe(np.asarray(out)),
                         revisit=SMOOTHING)
        _diagnose_loss(out, z, y, expected, what, N)
        _expect_scalar(out, what, SMOOTHING)
        expect_close(out, expected, what=what, revisit=SMOOTHING, rtol=1e-9, atol=1e-9)
        expect_unchanged(before, what=what, revisit=SMOOTHING)
        _expect_stored(module, z, y, eps, what, SMOOTHING)


# --------------------------------------------------------------------------------------------
# Questions: a number that needs the chapter's idea
# --------------------------------------------------------------------------------------------

def _judge(value, expected, name, wrong, revisit, atol):
    """Right within atol; otherwise name the misconception behind a known wrong answer."""
    __tracebackhide__ = True  # noqa: F841
    expected = np.asarray(expected, dtype=np.float64)
    if value.shape != expected.shape:
        fail(f"{name}() should return " + ("one number" if expected.ndim == 0 else
             f"an array of shape {expected.shape}") + ".",
             expected=f"shape {expected.shape}", got=describe(value), revisit=revisit)
    if np.allclose(value, expected, rtol=0, atol=atol):
        return
    for candidate, message in wrong:
        if np.allclose(value, candidate, rtol=0, atol=atol):
            fail(f"{name}() returned {describe(value)}: {message}", revisit=revisit)
    fail(f"{name}() returned {describe(value)}, which is not the answer (to within {atol:g}).",
         revisit=revisit)


def check_question_floor(answer_double_softmax_floor):
    """The smallest loss of a ten-class model whose probabilities are fed to the loss."""
    __tracebackhide__ = True  # noqa: F841
    name = "answer_double_softmax_floor"
    value = answer(answer_double_softmax_floor, name, revisit=LOGITS_IN)
    C = 10
    wrong = [
        (np.log(C), "that is log 10, the loss of a uniform prediction (all logits equal). With "
                    "the bug, even a perfect p = one-hot gives a loss below that, but not zero."),
        (0.0, "a perfect prediction would reach zero only if the loss received logits. The "
              "second softmax sees numbers between 0 and 1, so its logits differ by one at most."),
        (np.e / (np.e + C - 1), "that is the probability the second softmax gives the true "
                                "class; the loss is minus its logarithm."),
        (np.log(np.e + C - 1), "you forgot the -1: -log(e / (e + C - 1)) = log(e + C - 1) - 1."),
        (np.log(np.e + C) - 1, "the denominator has C - 1 terms e^0 for the wrong classes, "
                               "plus e^1 for the true one: e + C - 1, not e + C."),
        (1 - np.e / (np.e + C - 1), "that is 1 - q_y, the gradient on the true logit, not the "
                                    "loss."),
    ]
    _judge(value, np.log(np.e + C - 1) - 1, name, wrong, LOGITS_IN, atol=1e-3)


_Z_Q2 = np.array([1.0, 2.0, 0.0, -1.0])   # one example, label 0, label_smoothing 0.2


def check_question_smoothing_gradient(answer_smoothing_gradient):
    """dL/dz for one example (N = 1) with PyTorch's label smoothing."""
    __tracebackhide__ = True  # noqa: F841
    name = "answer_smoothing_gradient"
    value = answer(answer_smoothing_gradient, name, revisit=SMOOTHING)
    eps, C = 0.2, 4
    p = special.softmax(_Z_Q2)
    onehot = np.eye(C)[0]
    t = (1 - eps) * onehot + eps / C
    wrong = [
        (p - onehot, "that is the gradient for the one-hot target; with label_smoothing = 0.2 "
                     "the target is t = 0.8 * onehot + 0.2 / 4."),
        (t - p, "the sign is reversed: the gradient is softmax(z) - t."),
        (p - ((1 - eps) * onehot + eps / (C - 1) * (1 - onehot)),
         "those targets put eps / (C - 1) on the wrong classes; PyTorch adds eps / C to every "
         "class, the true one included."),
        (p - ((1 - eps) * onehot + eps / C * (1 - onehot)),
         "the true class's target is 1 - eps + eps / C = 0.85, not 0.8: the uniform part goes to "
         "every class."),
        ((p - t) / C, "the 1/N of the mean is over the examples, and there is one here (N = 1); "
                      "nothing is divided by the number of classes."),
    ]
    _judge(value, p - t, name, wrong, SMOOTHING, atol=1e-3)


_T_Q3 = np.array([0.5, 0.3, 0.2])   # class frequencies
_P_Q3 = np.array([0.7, 0.2, 0.1])   # what the model predicts for every example


def check_question_kl(answer_kl_gap):
    """KL(t || p): how much of the cross-entropy a better bias could remove."""
    __tracebackhide__ = True  # noqa: F841
    name = "answer_kl_gap"
    value = answer(answer_kl_gap, name, revisit=ENTROPY_KL)
    t, p = _T_Q3, _P_Q3
    kl = float(np.sum(t * np.log(t / p)))
    wrong = [
        (float(np.sum(p * np.log(p / t))), "that is KL(p || t), with the arguments swapped. The "
                                           "cross-entropy H(t, p) = H(t) + KL(t || p): the "
                                           "expectation is over the labels' distribution t."),
        (float(-np.sum(t * np.log(p))), "that is the whole cross-entropy H(t, p). Part of it, "
                                        "the entropy H(t) of the labels, no model can remove."),
        (float(-np.sum(t * np.log(t))), "that is the entropy H(t), the part that stays. The part "
                                        "a better bias removes is H(t, p) - H(t)."),
        (kl / np.log(2), "that is the answer in bits (log base 2); the course measures losses in "
                         "nats (natural logarithm)."),
        (0.0, "a bias-only change can move p to t exactly (softmax(b) = t for b = log t), and "
              "then the loss drops by KL(t || p) > 0."),
    ]
    _judge(value, kl, name, wrong, ENTROPY_KL, atol=1e-3)


# --------------------------------------------------------------------------------------------
# Experiment: maximum likelihood with a bias alone
# --------------------------------------------------------------------------------------------

def check_bias_experiment(fit_bias_only):
    """fit_bias_only(y, C, label_smoothing, lr, steps) on random skewed labels: starts at the
    uniform prediction, the loss never rises, the probabilities reach the mean target and the
    final loss its entropy."""
    __tracebackhide__ = True  # noqa: F841
    g = rng(57)
    for C, eps in [(4, 0.0), (5, 0.2), (3, 0.1), (6, 0.0)]:
        counts = g.integers(10, 60, size=C)
        y = g.permutation(np.repeat(np.arange(C), counts))
        f = counts / counts.sum()
        mean_target = (1 - eps) * f + eps / C
        entropy = float(-np.sum(mean_target * np.log(mean_target)))
        before = snapshot(y=y)
        what = (f"fit_bias_only(y, {C}, label_smoothing={eps}, lr=1.0, steps=500) for "
                f"{len(y)} labels with class frequencies {np.round(f, 3).tolist()}")
        out = call(fit_bias_only, y, C, label_smoothing=eps, lr=1.0, steps=500, what=what,
                   revisit=FREQUENCIES)
        expect_unchanged(before, what=what, revisit=FREQUENCIES)
        if not (isinstance(out, (tuple, list)) and len(out) == 2):
            fail(f"{what} should return a pair (probabilities, losses).",
                 expected="a tuple of two arrays", got=describe(out), revisit=FREQUENCIES)
        probs, losses = as_float(out[0]), as_float(out[1])
        expect_shape(probs, (C,), what=f"the probabilities returned by {what}",
                     revisit=FREQUENCIES)
        expect_shape(losses, (500,), what=f"the losses returned by {what} (one per step)",
                     revisit=FREQUENCIES)
        if not np.isclose(losses[0], np.log(C), rtol=0, atol=1e-9):
            fail(f"{what}: the first loss is {losses[0]:.6g}. The bias starts at zero, a uniform "
                 f"prediction, whose loss is log C = {np.log(C):.6g} whatever the targets; "
                 "losses[k] is the loss before update k.", expected=np.log(C),
                 got=float(losses[0]), revisit=FREQUENCIES)
        if np.any(np.diff(losses) > 1e-12):
            fail(f"{what}: the loss goes up during training (first at step "
                 f"{int(np.argmax(np.diff(losses) > 1e-12)) + 1}). A gradient-descent step "
                 "subtracts lr times the gradient; with lr = 1 the loss of this convex problem "
                 "never rises.", expected="a loss that never increases",
                 got=describe(losses), revisit=FREQUENCIES)
        if not np.allclose(probs, mean_target, rtol=0, atol=1e-4):
            if eps and np.allclose(probs, f, atol=1e-3):
                fail(f"{what} learned the plain class frequencies; with label smoothing the "
                     "targets are (1 - eps) * one_hot + eps / C, and maximum likelihood matches "
                     "their mean.", expected=describe(mean_target), got=describe(probs),
                     revisit=FREQUENCIES)
            if np.allclose(special.softmax(probs), mean_target, atol=1e-3):
                fail(f"{what} returned the bias b, not the probabilities softmax(b).",
                     expected=describe(mean_target), got=describe(probs), revisit=FREQUENCIES)
            fail(f"{what}: after 500 steps the probabilities should equal the mean target "
                 "(1 - eps) * f + eps / C, f the class frequencies. If they are on their way "
                 "but not there, the gradient with respect to b is too small: every example "
                 "uses the same b, so its gradient is the SUM over the rows of dL/dZ, which is "
                 "softmax(b) - mean target.", expected=describe(mean_target),
                 got=describe(probs), revisit=FREQUENCIES)
        expect_close(losses[-1], entropy,
                     what=f"the last loss of {what} (at the optimum it is the entropy of the "
                          "mean target)", revisit=ENTROPY_KL, rtol=0, atol=1e-6)


def check_question_experiment(answer_smoothed_rare_probability):
    """The probability the smoothed bias-only model gives the rarest class of y_survey."""
    __tracebackhide__ = True  # noqa: F841
    name = "answer_smoothed_rare_probability"
    value = answer(answer_smoothed_rare_probability, name, revisit=FREQUENCIES)
    f, eps, C = 0.05, 0.2, 4
    wrong = [
        (f, "that is the rarest class's frequency, what the model learns WITHOUT smoothing. With "
            "label_smoothing = 0.2 it matches the mean smoothed target."),
        ((1 - eps) * f, "the smoothed target also gives every class eps / C, the rare one "
                        "included."),
        (1 / C, "that is the uniform prediction the bias starts from; after training it matches "
                "the mean target."),
        ((1 - eps) * f + eps / (C - 1), "PyTorch spreads eps over all C classes (eps / C), not "
                                        "over the C - 1 others."),
        (f + eps / C, "the one-hot part is scaled by (1 - eps) before eps / C is added."),
    ]
    _judge(value, (1 - eps) * f + eps / C, name, wrong, FREQUENCIES, atol=2e-3)


TESTS = {
    "test-one-hot": check_one_hot,
    "test-cross-entropy-values": check_cross_entropy_values,
    "test-cross-entropy-stability": check_cross_entropy_stability,
    "test-ce-module-forward": check_ce_module_forward,
    "test-ce-module-backward": check_ce_module_backward,
    "test-label-smoothing": check_label_smoothing,
    "test-question-floor": check_question_floor,
    "test-question-smoothing-gradient": check_question_smoothing_gradient,
    "test-question-kl": check_question_kl,
    "test-experiment": check_bias_experiment,
    "test-experiment-report": check_question_experiment,
}
