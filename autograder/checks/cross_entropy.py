"""Hidden checks for the `cross-entropy` exercise (chapter 5): one_hot, cross_entropy,
CrossEntropyLoss (forward, backward graded apart, label smoothing), three auto-graded questions on
the student's numbers (`_common.numbers()`), and the bias-only experiment with its report.

Oracles: scipy.special.logsumexp / softmax / log_softmax, one-hot targets built entry by entry,
PyTorch's definition of label smoothing written out, the checks' own central differences and their
own gradient descent on a bias, on the full (N, C) batch; never the reference solution.
"""

import numpy as np
from scipy import special

from ._common import (CheckFailed, answer, as_float, batched_call, call, central_difference,
                      describe, expect_close, expect_shape, expect_unchanged, fail, matches,
                      numbers, quiet_call, rng, snapshot, strict_call)

ONE_HOT = ("Chapter 5, 'Labels and one-hot targets' (one-hot targets: a float (N, C) array with a "
           "single 1 per row, at column y_n)")
LOSS = ("Chapter 5, 'The negative log-likelihood of the true class' (L = mean over the batch of "
        "LSE(z_n) - z_n[y_n], through log-softmax)")
STABLE = ("Chapter 5, 'The negative log-likelihood of the true class', and chapter 4, 'Log-softmax' "
          "(compute the log-probabilities with log_softmax, never the log of the softmax)")
LOGITS_IN = "Chapter 5, 'Logits in, not probabilities' (the loss applies log-softmax itself)"
GRADIENT = ("Chapter 5, 'The gradient: softmax minus one-hot' (the gradient of a MEAN loss, "
            "row by row)")
SMOOTHING = ("Chapter 5, 'Label smoothing' (PyTorch's targets: the one-hot part scaled by 1 - eps, "
             "and the uniform part, eps / C, on every class, the true one included)")
LABELS = ("Chapter 5, 'Labels and one-hot targets' (a label is an integer in 0 .. C-1; anything "
          "else is an error, not a class)")
STORED = ("the contract of CrossEntropyLoss in the notebook: forward stores self.probs "
          "(softmax(z), shape (N, C)) and self.targets (t, shape (N, C)), and backward computes "
          "from those two alone")
ENTROPY_KL = "Chapter 5, 'Entropy and KL divergence' (H(t, p) = H(t) + KL(t || p))"
FREQUENCIES = ("Chapter 5, 'Maximum likelihood matches the class frequencies' (a bias shared by "
               "every example: its gradient collects the rows of dL/dZ)")
FLOOR = ("Chapter 5, 'Logits in, not probabilities' (the floor of a double softmax, and why the "
         "best probabilities are one-hot), and Chapter 5, 'Label smoothing' (the targets)")
SHIFT = ("Chapter 5, 'When the class frequencies change: label shift', with Chapter 5, 'Maximum "
         "likelihood matches the class frequencies' and Chapter 5, 'Entropy and KL divergence'")

# The likely mistake when the student's loss raises numpy's floating-point error (_common.call).
STABLE_HINT = ("exp of a large logit overflowed, or the log of a probability that rounded to 0 "
               "is -inf: compute the log-probabilities with log_softmax over the classes, never "
               "the log of the softmax.")


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


def _expect_scalar(out, what, revisit):
    if np.ndim(out) != 0:
        fail(f"{what} should return one number (the mean over the batch), not an array of shape "
             f"{np.shape(out)}.", expected="a scalar", got=describe(np.asarray(out)), revisit=revisit)


# --------------------------------------------------------------------------------------------
# one_hot
# --------------------------------------------------------------------------------------------

def check_one_hot(one_hot):
    """Values, float dtype, shape (N, num_classes) even when the largest class is missing from y,
    several label dtypes, y unchanged."""
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

    # Whole-array code: a Python loop over the labels (a one-hot row built label by label)
    # computes the right targets with a hundred times the CPU time (_common.batched_call).
    y = rng(60).integers(0, LOOP_CLASSES, size=ONE_HOT_LABELS)
    batched_call(one_hot, y, LOOP_CLASSES,
                 reference=lambda: (y[:, None] == np.arange(LOOP_CLASSES)).astype(np.float64),
                 what=f"one_hot(y, {LOOP_CLASSES}) for {ONE_HOT_LABELS:,} labels",
                 revisit=ONE_HOT_LOOP)


def _expect_value_error(fn, args, what, why):
    """fn(*args) must raise ValueError (seen through `call`, which names the exception)."""
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
             "one-hot targets. Each example contributes the log-probability of its own class "
             "only: one entry per row.", expected=expected, got=got, revisit=LOSS)
    if N > 1 and matches(out, -np.mean(special.log_softmax(z, axis=0)[np.arange(N), y])):
        fail(f"{what} takes the log-softmax over the batch axis (axis=0); the classes are on the "
             "last axis.", expected=expected, got=got, revisit=LOSS)
    if z.size > 1 and matches(out, -np.mean(special.log_softmax(z, axis=None)[np.arange(N), y])):
        fail(f"{what} takes the log-softmax over the whole array: scipy.special.log_softmax "
             "normalises over all entries unless you pass axis=-1 (its default is axis=None).",
             expected=expected, got=got, revisit=LOSS)
    if N > 1 and matches(out, -np.mean(logp[:, y])):
        fail(f"{what} takes, for every row, the entries of ALL the labels (an N x N block) "
             "instead of one entry per row, the row's own label. Indexing with [:, y] does that; "
             "pair each row index with its label.", expected=expected, got=got, revisit=LOSS)


# A loss is computed on the whole batch at once, not by a Python loop over its examples (the
# chapter's one-example loss in a loop computes the right numbers with a hundred times the CPU
# time: _common.batched_call).
LOOP = ("the contract: whole-array operations on the batch, no Python loop over its examples "
        "(Chapter 5, 'The negative log-likelihood of the true class')")
LOOP_ROWS, LOOP_CLASSES = 100_000, 3
ONE_HOT_LABELS = 1_000_000
ONE_HOT_LOOP = ("the contract: whole-array operations on the labels, no Python loop over them "
                "(Chapter 5, 'Labels and one-hot targets')")


def _many_examples(seed):
    g = rng(seed)
    return (g.normal(scale=3.0, size=(LOOP_ROWS, LOOP_CLASSES)),
            g.integers(0, LOOP_CLASSES, size=LOOP_ROWS))


def _expect_batched(fn, seed, what, *, graded_elsewhere=False, eps=0.0):
    """No loop over the examples. With `graded_elsewhere` (a cell that does not grade the
    loss's values), only for a function whose values on a batch are right: a wrong loss loses
    the values cell's points, not these. `eps`: the label smoothing of the loss."""
    z, y = _many_examples(seed)
    if graded_elsewhere:
        small = (z[:1000], y[:1000])
        got = as_float(quiet_call(fn, *small, what=what, revisit=LOSS))
        if got is None or got.shape != () or not np.isclose(got, _ce_oracle(*small, eps)):
            return
    batched_call(fn, z, y, reference=lambda: _ce_oracle(z, y, eps),
                 what=f"{what} on {LOOP_ROWS:,} examples of {LOOP_CLASSES} classes", revisit=LOOP)


def check_cross_entropy_values(cross_entropy):
    """Values against logsumexp(z) - z[y] averaged, several (N, C), label dtypes, float32 logits,
    a scalar result, inputs unchanged."""
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
    _expect_batched(cross_entropy, 57, "cross_entropy(z, y)")


def check_cross_entropy_stability(cross_entropy):
    """Single examples with logit spreads of 1e3 to 1e4, numpy warnings as errors."""
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
    _expect_batched(cross_entropy, 58, "cross_entropy(z, y)", graded_elsewhere=True)


# --------------------------------------------------------------------------------------------
# CrossEntropyLoss: forward and backward graded apart
# --------------------------------------------------------------------------------------------

def _loss(CrossEntropyLoss, **kwargs):
    args = ", ".join(f"{k}={v}" for k, v in kwargs.items())
    return call(CrossEntropyLoss, **kwargs, what=f"CrossEntropyLoss({args})", revisit=SMOOTHING)


def _stored(module, name, what):
    """module.<name>, read with plain attribute access; a missing one says what the contract is."""
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
    _expect_batched(_loss(CrossEntropyLoss).forward, 59, "CrossEntropyLoss().forward(z, y)")


def _diagnose_grad(grad, probs, targets, expected, what, N):
    if matches(grad, expected, rtol=1e-7):
        return
    got = describe(np.asarray(grad))
    if N > 1 and matches(grad, N * expected):
        fail(f"{what} is N = {N} times too large: the loss is a mean, so its gradient carries a "
             "1/N.", expected=describe(expected), got=got, revisit=GRADIENT)
    if matches(grad, -expected):
        fail(f"{what} has the wrong sign: the loss falls when the true class's logit rises, so "
             "the true class's entry of the gradient is negative.",
             expected=describe(expected), got=got, revisit=GRADIENT)
    if matches(grad, probs / N) or matches(grad, probs):
        fail(f"{what} returns the probabilities without subtracting the targets.",
             expected=describe(expected), got=got, revisit=GRADIENT)
    if matches(grad, (probs - targets) / probs.shape[1]) and N != probs.shape[1]:
        fail(f"{what} divides by the number of classes C = {probs.shape[1]}; the mean is over the "
             f"N = {N} examples.", expected=describe(expected), got=got, revisit=GRADIENT)


def _backward_on(CrossEntropyLoss, probs, targets, what):
    """A fresh module with self.probs and self.targets set as forward would, then backward()."""
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
             "included."),
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
    # a smoothed loss that is right, computed example by example, is still a loop
    _expect_batched(_loss(CrossEntropyLoss, label_smoothing=0.1).forward, 61,
                    "CrossEntropyLoss(label_smoothing=0.1).forward(z, y)", eps=0.1)


# --------------------------------------------------------------------------------------------
# Questions on the student's numbers (_common.numbers()): each right answer is a function of the
# numbers (ANSWERS), and a message says what is wrong, never the answer.
# --------------------------------------------------------------------------------------------

def _smoothed(k, C, eps):
    """PyTorch's smoothed target (C,) of one label k, entry by entry."""
    return np.array([(1 - eps) * (j == k) + eps / C for j in range(C)])


def _entropy(t):
    return float(-np.sum(special.xlogy(t, t)))


def right_floor(n: dict) -> float:
    """Question 1: the infimum over the probabilities p of the first softmax of the smoothed
    cross-entropy of softmax(p). The loss LSE(p) - t @ p is convex in p, and at p = onehot(y) no
    move of mass away from the true class helps while (e - 1) / (e + C - 1) <= 1 - eps, which holds
    for every eps <= 0.5 and every C >= 2: the minimum is at that vertex."""
    C, eps = n["C"], n["eps"]
    p = np.zeros(C)
    p[0] = 1.0
    return float(-_smoothed(0, C, eps) @ special.log_softmax(p))


def right_smoothing_gradient(n: dict) -> np.ndarray:
    """Question 2: dL/dz for one example, PyTorch's smoothed target."""
    z = np.asarray(n["z"], dtype=np.float64)
    return special.softmax(z) - _smoothed(n["y"], len(z), n["eps"])


def right_kl_gap(n: dict) -> float:
    """Question 3: a bias-only model trained on f predicts f; corrected, it predicts q. On data
    with frequencies q its loss drops from H(q, f) to H(q): by KL(q || f)."""
    f = np.asarray(n["f_train"], dtype=np.float64)
    q = np.asarray(n["q_deploy"], dtype=np.float64)
    return float(special.rel_entr(q, f).sum())


def _bias_descent(y, C, eps, lr, steps):
    """The checks' own gradient descent on a bias shared by every example: (softmax(b) after
    the last step, the loss before each step). Every row of the batch has the logits b, so the
    mean loss is -t . log_softmax(b) and its gradient softmax(b) - t, with t the mean of the
    smoothed targets (the class frequencies, smoothed). Written out for C numbers, not with
    SciPy, whose overhead per call would be most of the cost of a step."""
    t = (1 - eps) * _onehot_oracle(np.asarray(y), C).mean(axis=0) + eps / C
    b = np.zeros(C)
    losses = np.empty(steps)
    for k in range(steps):
        shifted = b - b.max()
        e = np.exp(shifted)
        total = e.sum()
        losses[k] = -np.dot(t, shifted - np.log(total))
        b = b - lr * (e / total - t)
    return special.softmax(b), losses


def right_rare_probabilities(n: dict) -> tuple:
    """The experiment's report: the hamsters' probability after the student's steps, without
    and with the student's label smoothing."""
    y = np.repeat(np.arange(4), n["counts"])
    plain, _ = _bias_descent(y, 4, 0.0, n["lr"], n["steps"])
    smooth, _ = _bias_descent(y, 4, n["eps"], n["lr"], n["steps"])
    return float(plain[3]), float(smooth[3])


def _judge(value, expected, name, what, wrong, revisit, atol):
    """Right within atol; otherwise name the misconception behind a known wrong answer, or say
    how the answer is off (sign, order of magnitude), never what it should be."""
    expected = np.asarray(expected, dtype=np.float64)
    if value.shape != expected.shape:
        fail(f"{name}() {what} should return " + ("one number" if expected.ndim == 0 else
             f"an array of shape {expected.shape}") + ".",
             expected=f"shape {expected.shape}", got=describe(value), revisit=revisit)
    if np.allclose(value, expected, rtol=0, atol=atol):
        return
    for candidate, message in wrong:
        candidate = np.asarray(candidate, dtype=np.float64)
        if candidate.shape == value.shape and np.allclose(value, candidate, rtol=0, atol=atol):
            fail(f"{name}() {what} returned {describe(value)}: {message}", revisit=revisit)
    hint = ""
    if expected.ndim == 0 and float(expected) != 0:
        ratio = float(value) / float(expected)
        if ratio < 0:
            hint = " Its sign is wrong."
        elif ratio > 10 or ratio < 0.1:
            hint = " It is off by more than a factor of ten."
        else:
            hint = " It is " + ("too large." if ratio > 1 else "too small.")
    elif expected.ndim == 1:
        signs = np.sign(value) != np.sign(expected)
        if np.any(signs & (np.abs(expected) > atol)):
            hint = (" The signs of entries " + str(np.flatnonzero(signs).tolist())
                    + " are wrong: which logits should go up, which down?")
    fail(f"{name}() {what} returned {describe(value)}, which is not the answer (to within "
         f"{atol:g}).{hint}", revisit=revisit)


def check_question_floor(answer_double_softmax_floor):
    """The smallest loss of a C-class model that ends in a softmax, trained with PyTorch's
    CrossEntropyLoss(label_smoothing=eps): the student's C and eps."""
    n = numbers()
    C, eps = n["C"], n["eps"]
    name = "answer_double_softmax_floor"
    what = f"for your C = {C} and eps = {eps:g}"
    value = answer(answer_double_softmax_floor, name, revisit=FLOOR)
    t = _smoothed(0, C, eps)
    lse = np.log(np.e + C - 1)
    wrong = [
        (lse - 1, "that is the floor with one-hot targets (the book's formula). With label "
                  "smoothing the true class's target is below 1, and every other class has a "
                  "target too: the loss at the best probabilities changes."),
        (_entropy(t), "that is the entropy of the smoothed target, the floor of a loss that "
                      "receives logits. Here it receives probabilities: the second softmax sees "
                      "inputs between 0 and 1 and cannot reach the target."),
        (lse - 1 + _entropy(t), "the two floors do not add: the loss is one cross-entropy, of "
                                "the second softmax's output against the smoothed target."),
        (special.logsumexp(t) - t @ t,
         "that is the loss when the first softmax outputs the smoothed target itself. The "
         "probabilities of the first softmax are the logits of the second, and a one-hot input "
         "makes the second softmax more confident: check whether moving probability back to "
         "the true class lowers the loss."),
        (lse - (1 - eps), "that target puts eps / (C - 1) on each wrong class; PyTorch adds "
                          "eps / C to every class, the true one included."),
        ((1 - eps) * (lse - 1), "that keeps only the one-hot part of the target. The uniform "
                                "part, eps spread over all C classes, adds its own term."),
        (np.log(C), "that is log C, the loss of a uniform prediction. The first softmax can do "
                    "better than uniform: it can be (nearly) one-hot."),
        (0.0, "a loss that receives probabilities cannot reach zero: the second softmax's "
              "inputs differ by one at most."),
    ]
    _judge(value, right_floor(n), name, what, wrong, FLOOR, atol=1e-3)


def check_question_smoothing_gradient(answer_smoothing_gradient):
    """dL/dz for one example (N = 1) with PyTorch's label smoothing: the student's z, y, eps."""
    n = numbers()
    z = np.asarray(n["z"], dtype=np.float64)
    C, eps, k = len(z), n["eps"], n["y"]
    name = "answer_smoothing_gradient"
    what = f"for your z = {n['z']}, y = {k} and eps = {eps:g}"
    value = answer(answer_smoothing_gradient, name, revisit=SMOOTHING)
    p = special.softmax(z)
    onehot = _onehot_oracle([k], C)[0]
    t = _smoothed(k, C, eps)
    wrong = [
        (p - onehot, "that is the gradient for the one-hot target; with label smoothing the "
                     "target is smoothed."),
        (t - p, "the sign is reversed: the loss falls when a logit moves towards its target, so "
                "an entry is positive where the probability is above its target."),
        (p - ((1 - eps) * onehot + eps / (C - 1) * (1 - onehot)),
         "those targets put eps / (C - 1) on the wrong classes; PyTorch adds eps / C to every "
         "class, the true one included."),
        (p - ((1 - eps) * onehot + eps / C * (1 - onehot)),
         "the true class's target is missing its share eps / C of the uniform part, which goes "
         "to every class."),
        (p - (onehot + eps / C), "the one-hot part is scaled by (1 - eps) before the uniform "
                                 "part is added: your targets sum to more than one."),
        ((p - t) / C, "the 1/N of the mean is over the examples, and there is one here (N = 1); "
                      "nothing is divided by the number of classes."),
    ]
    _judge(value, right_smoothing_gradient(n), name, what, wrong, SMOOTHING, atol=1e-3)


def check_question_kl(answer_kl_gap):
    """What correcting a bias-only model for label shift saves: the student's f_train, q_deploy."""
    n = numbers()
    f = np.asarray(n["f_train"], dtype=np.float64)
    q = np.asarray(n["q_deploy"], dtype=np.float64)
    name = "answer_kl_gap"
    what = f"for your f_train = {n['f_train']} and q_deploy = {n['q_deploy']}"
    value = answer(answer_kl_gap, name, revisit=SHIFT)
    kl = right_kl_gap(n)
    wrong = [
        (float(special.rel_entr(f, q).sum()),
         "that is the KL divergence with its arguments swapped. The loss is measured on the new "
         "data: its expectation, and so the divergence's, is over the new frequencies."),
        (float(-q @ np.log(f)), "that is the whole loss of the model on the new data before "
                                "the correction, not how much the correction removes from it."),
        (_entropy(q), "that is the loss after the correction, the part that stays. The question "
                      "asks how much it drops."),
        (_entropy(q) - _entropy(f), "the drop is not a difference of the two entropies: the "
                                    "model before the correction is scored on the new data."),
        (kl / np.log(2), "that is the answer in bits (log base 2); the course measures losses in "
                         "nats (natural logarithm)."),
        (0.0, "the correction moves the model's predictions from the old frequencies to the new "
              "ones, and on the new data that lowers the loss."),
    ]
    _judge(value, kl, name, what, wrong, SHIFT, atol=1e-3)


# --------------------------------------------------------------------------------------------
# Experiment: gradient descent on a bias alone, on hidden labels, smoothings, rates and steps
# --------------------------------------------------------------------------------------------

def check_bias_experiment(fit_bias_only):
    """fit_bias_only(y, C, label_smoothing, lr, steps) on random skewed labels with hidden
    smoothings, learning rates and numbers of steps: every loss and the final probabilities
    against the checks' own gradient descent, with the usual mistakes named."""
    g = rng(57)
    for C, eps, lr in [(4, 0.0, 1.0), (5, 0.2, 0.5), (3, 0.1, 2.0), (6, 0.0, 0.75)]:
        counts = g.integers(5, 80, size=C)
        steps = int(g.integers(20, 120))
        y = g.permutation(np.repeat(np.arange(C), counts))
        f = counts / counts.sum()
        probs_ref, losses_ref = _bias_descent(y, C, eps, lr, steps)
        before = snapshot(y=y)
        what = (f"fit_bias_only(y, {C}, label_smoothing={eps}, lr={lr}, steps={steps}) for "
                f"{len(y)} labels with class frequencies {np.round(f, 3).tolist()}")
        out = call(fit_bias_only, y, C, label_smoothing=eps, lr=lr, steps=steps, what=what,
                   revisit=FREQUENCIES)
        expect_unchanged(before, what=what, revisit=FREQUENCIES)
        if not (isinstance(out, (tuple, list)) and len(out) == 2):
            fail(f"{what} should return a pair (probabilities, losses).",
                 expected="a tuple of two arrays", got=describe(out), revisit=FREQUENCIES)
        probs, losses = as_float(out[0]), as_float(out[1])
        if probs is None or losses is None:
            fail(f"{what} should return two arrays of numbers.", expected="(probabilities, "
                 "losses)", got=describe(out), revisit=FREQUENCIES)
        expect_shape(probs, (C,), what=f"the probabilities returned by {what}",
                     revisit=FREQUENCIES)
        expect_shape(losses, (steps,), what=f"the losses returned by {what} (one per step)",
                     revisit=FREQUENCIES)
        if not np.isclose(losses[0], np.log(C), rtol=0, atol=1e-9):
            fail(f"{what}: the first loss is {losses[0]:.6g}. The bias starts at zero, a uniform "
                 f"prediction, whose loss is log C = {np.log(C):.6g} whatever the targets; "
                 "losses[k] is the loss before update k.", expected=np.log(C),
                 got=float(losses[0]), revisit=FREQUENCIES)
        if np.any(np.diff(losses) > 1e-12):
            fail(f"{what}: the loss goes up during training (first at step "
                 f"{int(np.argmax(np.diff(losses) > 1e-12)) + 1}). A gradient-descent step "
                 "subtracts lr times the gradient; with these learning rates the loss of this "
                 "convex problem never rises.", expected="a loss that never increases",
                 got=describe(losses), revisit=FREQUENCIES)
        if not np.allclose(probs, probs_ref, rtol=1e-6, atol=1e-9):
            if eps and np.allclose(probs, _bias_descent(y, C, 0.0, lr, steps)[0], atol=1e-6):
                fail(f"{what} ignores label_smoothing: it learned what the one-hot targets "
                     "give. With label smoothing every example's target is smoothed, and so is "
                     "their mean.", expected=describe(probs_ref), got=describe(probs),
                     revisit=FREQUENCIES)
            if np.allclose(special.softmax(probs), probs_ref, atol=1e-6):
                fail(f"{what} returned the bias b, not the probabilities softmax(b).",
                     expected=describe(probs_ref), got=describe(probs), revisit=FREQUENCIES)
            if np.allclose(probs, _bias_descent(y, C, eps, lr / len(y), steps)[0], atol=1e-6):
                fail(f"{what}: the probabilities move {len(y)} times too slowly, as if the "
                     "learning rate were divided by N. Every example uses the same b, so the "
                     "gradient with respect to b is the SUM over the rows of dL/dZ (each of "
                     "which carries its own 1/N), not their mean.",
                     expected=describe(probs_ref), got=describe(probs), revisit=FREQUENCIES)
            for other, words in ((steps - 1, "one update short"), (steps + 1, "one update too "
                                                                   "many")):
                if np.allclose(probs, _bias_descent(y, C, eps, lr, other)[0], atol=1e-9):
                    fail(f"{what}: these are the probabilities after {other} updates, "
                         f"{words}: return softmax(b) after the last of the {steps} steps.",
                         expected=describe(probs_ref), got=describe(probs),
                         revisit=FREQUENCIES)
            fail(f"{what}: wrong probabilities after {steps} steps. Each step subtracts lr times "
                 "the gradient of the mean loss with respect to b.",
                 expected=describe(probs_ref), got=describe(probs), revisit=FREQUENCIES)
        expect_close(losses, losses_ref, what=f"the losses of {what}, step by step",
                     revisit=FREQUENCIES, rtol=1e-7, atol=1e-10)


def check_question_experiment(answer_rare_probabilities):
    """The hamsters' probability after the student's steps, without and with their smoothing."""
    n = numbers()
    name = "answer_rare_probabilities"
    counts, lr, steps, eps = n["counts"], n["lr"], n["steps"], n["eps"]
    what = (f"for your counts = {counts}, lr = {lr:g}, steps = {steps} and eps = {eps:g}")
    value = answer(answer_rare_probabilities, name, revisit=FREQUENCIES, count=2)
    right = np.array(right_rare_probabilities(n))
    atol = 5e-4
    if np.allclose(value, right, rtol=0, atol=atol):
        return
    y = np.repeat(np.arange(4), counts)
    f = np.asarray(counts) / np.sum(counts)

    def pair(**changes):
        args = dict(lr=lr, steps=steps)
        args.update(changes)
        plain, _ = _bias_descent(y, 4, 0.0, args["lr"], args["steps"])
        smooth, _ = _bias_descent(y, 4, eps, args["lr"], args["steps"])
        return np.array([plain[3], smooth[3]])

    wrong = [
        (np.array([f[3], (1 - eps) * f[3] + eps / 4]),
         "those are the values gradient descent converges to, not where it stands after your "
         "steps: a rare class gets there slowly. Run your fit_bias_only with your lr and steps."),
        (np.array([0.25, 0.25]), "that is the uniform prediction the bias starts from."),
        (right[::-1], "the pair is swapped: first without smoothing, then with your eps."),
        (pair(lr=1.0), "that is with the default learning rate lr = 1, not yours."),
        (pair(steps=500), "that is after the default 500 steps, not your number of steps."),
        (pair(steps=steps - 1), "that is one update short of your number of steps."),
        (np.array([right[0], right[0]]), "the second value is the same as the first: the second "
                                         "run uses your label smoothing."),
    ]
    for candidate, message in wrong:
        if np.allclose(value, candidate, rtol=0, atol=atol):
            fail(f"{name}() {what} returned {describe(value)}: {message}", revisit=FREQUENCIES)
    which = [part for part, ok in zip(("the first value (without smoothing)",
                                       "the second value (with smoothing)"),
                                      np.isclose(value, right, rtol=0, atol=atol)) if not ok]
    fail(f"{name}() {what} returned {describe(value)}: {' and '.join(which)} "
         f"{'is' if len(which) == 1 else 'are'} not what gradient descent gives after your "
         f"steps (to within {atol:g}). Read them off the output of your experiment's test cell, "
         "once fit_bias_only passes its visible test.", revisit=FREQUENCIES)


# Each question's right answer for a student's numbers (`python -m autograder numbers` prints
# them; tests/test_variants.py checks that classmates' answers differ).
ANSWERS = {
    "test-question-floor": right_floor,
    "test-question-smoothing-gradient": right_smoothing_gradient,
    "test-question-kl": right_kl_gap,
    "test-experiment-report": right_rare_probabilities,
}

# Library functions a graded function must not call (integrity.library_calls names a submission
# that does, for the instructor); the notebook names each. scipy's softmax and log_softmax are
# the notebook's given building blocks, so they are allowed.
FORBIDDEN = {
    "one-hot": ("sklearn.preprocessing.label_binarize", "sklearn.preprocessing.LabelBinarizer",
                "sklearn.preprocessing.OneHotEncoder", "torch.nn.functional.one_hot"),
    "cross-entropy-function": ("sklearn.metrics.log_loss", "torch.nn.functional.cross_entropy"),
    "cross-entropy-module": ("sklearn.metrics.log_loss", "torch.nn.functional.cross_entropy",
                             "torch.nn.CrossEntropyLoss"),
}

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
