"""Hidden checks for the `cross-entropy` exercise (chapter 5): one_hot, cross_entropy and
CrossEntropyLoss (forward, backward, label smoothing).

Oracles: scipy.special.logsumexp / softmax / log_softmax, one-hot targets built entry by entry,
PyTorch's definition of label smoothing written out, and the checks' own central differences;
never the reference solution.
"""

import numpy as np
from scipy import special

from ._common import (as_float, call, central_difference, describe, expect_close,
                      expect_shape, expect_unchanged, fail, matches, quiet_call, rng, snapshot,
                      strict_call)

ONE_HOT = ("Chapter 5, 'The negative log-likelihood of the true class' (one-hot targets: a float "
           "(N, C) array with a single 1 per row, at column y_n)")
LOSS = ("Chapter 5, 'The negative log-likelihood of the true class' (L = mean over the batch of "
        "LSE(z_n) - z_n[y_n], through log-softmax)")
STABLE = ("Chapter 5, 'The negative log-likelihood of the true class', and chapter 4, 'Log-softmax' "
          "(compute log-probabilities with log_softmax, never log(softmax(z)))")
LOGITS_IN = "Chapter 5, 'Logits in, not probabilities' (the loss applies log-softmax itself)"
GRADIENT = "Chapter 5, 'The gradient: softmax minus one-hot' (dL/dz = (softmax(z) - t) / N)"
SMOOTHING = ("Chapter 5, 'Label smoothing' (PyTorch's targets: t = (1 - eps) * one_hot + eps / C, "
             "the eps / C on every class, the true one included)")












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
        out = strict_call(cross_entropy, z, y, what=what, revisit=STABLE)
        _diagnose_loss(out, z, y, expected, what, 1)
        _expect_scalar(out, what, LOSS)
        expect_close(out, expected, what=what, revisit=STABLE, rtol=1e-9, atol=1e-9)

    z32 = np.array([[0.0, 500.0, -500.0]], dtype=np.float32)
    what = "cross_entropy(z, y) for float32 logits [[0, 500, -500]] and y = [2]"
    out = strict_call(cross_entropy, z32, np.array([2]), what=what, revisit=STABLE)
    expect_close(out, 1000.0, what=what, revisit=STABLE, rtol=1e-6)


# --------------------------------------------------------------------------------------------
# CrossEntropyLoss
# --------------------------------------------------------------------------------------------

def _loss(CrossEntropyLoss, **kwargs):
    args = ", ".join(f"{k}={v}" for k, v in kwargs.items())
    return call(CrossEntropyLoss, **kwargs, what=f"CrossEntropyLoss({args})", revisit=SMOOTHING)


def check_ce_module_forward(CrossEntropyLoss):
    """forward(z, y) without smoothing: the mean loss, a scalar, stable, inputs unchanged."""
    __tracebackhide__ = True  # noqa: F841
    g = rng(54)
    for N, C, scale in [(6, 4, 2.0), (1, 3, 2.0), (10, 5, 2.0), (4, 6, 1e3), (3, 3, 1e4)]:
        z = g.normal(scale=scale, size=(N, C))
        y = g.integers(0, C, size=N)
        before = snapshot(z=z, y=y)
        module = _loss(CrossEntropyLoss)
        what = (f"CrossEntropyLoss().forward(z, y) for z of shape ({N}, {C}) with logits of size "
                f"about {scale:g} (numpy warnings count as errors)")
        out = strict_call(module.forward, z, y, what=what, revisit=STABLE)
        expected = _ce_oracle(z, y)
        _diagnose_loss(out, z, y, expected, what, N)
        _expect_scalar(out, what, LOSS)
        expect_close(out, expected, what=what, revisit=LOSS, rtol=1e-9, atol=1e-9)
        expect_unchanged(before, what=what, revisit=LOSS)


def _diagnose_grad(grad, z, y, expected, what, N):
    __tracebackhide__ = True  # noqa: F841
    if matches(grad, expected, rtol=1e-7):
        return
    p = special.softmax(np.asarray(z, dtype=float), axis=-1)
    got = describe(np.asarray(grad))
    if N > 1 and matches(grad, N * expected):
        fail(f"{what} is N = {N} times too large: the loss is a mean, so its gradient carries a "
             "1/N.", expected=describe(expected), got=got, revisit=GRADIENT)
    if matches(grad, -expected):
        fail(f"{what} has the wrong sign: it is (softmax(z) - t) / N, not (t - softmax(z)) / N.",
             expected=describe(expected), got=got, revisit=GRADIENT)
    if matches(grad, (p - np.asarray(y, dtype=float)[:, None]) / N):
        fail(f"{what} subtracts the integer labels from the probabilities; subtract the one-hot "
             "targets one_hot(y, C).", expected=describe(expected), got=got, revisit=GRADIENT)
    if matches(grad, p / N) or matches(grad, p):
        fail(f"{what} returns the probabilities without subtracting the targets.",
             expected=describe(expected), got=got, revisit=GRADIENT)


def check_ce_module_backward(CrossEntropyLoss):
    """backward() without smoothing: (softmax(z) - one_hot(y)) / N against the closed form and
    central differences, shape (N, C), a fresh batch of another size."""
    __tracebackhide__ = True  # noqa: F841
    g = rng(55)
    for N, C in [(5, 4), (1, 3), (8, 6)]:
        z = g.normal(scale=2.0, size=(N, C))
        y = g.integers(0, C, size=N)
        module = _loss(CrossEntropyLoss)
        call(module.forward, z, y, what=f"CrossEntropyLoss().forward(z, y) for z of shape ({N}, {C})",
             revisit=LOSS)
        what = f"CrossEntropyLoss().backward() after a forward on z of shape ({N}, {C})"
        grad = call(module.backward, what=what, revisit=GRADIENT)
        expected = _grad_oracle(z, y)
        _diagnose_grad(grad, z, y, expected, what, N)
        expect_shape(grad, (N, C), what=what + " (the gradient has the shape of z)",
                     revisit=GRADIENT)
        expect_close(grad, central_difference(lambda v: _ce_oracle(v, y), z),
                     what=what + " compared with central differences of the mean loss",
                     revisit=GRADIENT, rtol=1e-5, atol=1e-8)
        expect_close(grad, expected, what=what, revisit=GRADIENT, rtol=1e-9, atol=1e-12)

    module = _loss(CrossEntropyLoss)
    z1, y1 = g.normal(size=(6, 3)), g.integers(0, 3, size=6)
    z2, y2 = g.normal(size=(2, 5)), g.integers(0, 5, size=2)
    call(module.forward, z1, y1, what="CrossEntropyLoss().forward on a first batch", revisit=LOSS)
    call(module.forward, z2, y2, what="CrossEntropyLoss().forward on a second batch", revisit=LOSS)
    what = ("CrossEntropyLoss().backward() after a second forward on a new batch of shape (2, 5) "
            "(use the latest batch and its own N)")
    grad = call(module.backward, what=what, revisit=GRADIENT)
    expect_close(grad, _grad_oracle(z2, y2), what=what, revisit=GRADIENT, rtol=1e-9, atol=1e-12)


def check_label_smoothing(CrossEntropyLoss):
    """label_smoothing=eps: forward and backward against PyTorch's definition, with the usual
    variants named when they are what came back."""
    __tracebackhide__ = True  # noqa: F841
    g = rng(56)
    for eps, N, C in [(0.1, 6, 4), (0.3, 5, 3), (0.2, 4, 7)]:
        z = g.normal(scale=2.0, size=(N, C))
        y = g.integers(0, C, size=N)
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

        what = f"CrossEntropyLoss(label_smoothing={eps}).backward() for z of shape ({N}, {C})"
        grad = call(module.backward, what=what, revisit=SMOOTHING)
        expected_grad = _grad_oracle(z, y, eps)
        if not matches(grad, expected_grad, rtol=1e-7) and matches(grad, _grad_oracle(z, y)):
            fail(f"{what} ignores label_smoothing: it is the gradient for one-hot targets. With "
                 "smoothed targets t it is (softmax(z) - t) / N.", expected=describe(expected_grad),
                 got=describe(np.asarray(grad)), revisit=SMOOTHING)
        _diagnose_grad(grad, z, y, expected_grad, what, N)
        expect_shape(grad, (N, C), what=what, revisit=GRADIENT)
        expect_close(grad, central_difference(lambda v: _ce_oracle(v, y, eps), z),
                     what=what + " compared with central differences of the smoothed loss",
                     revisit=SMOOTHING, rtol=1e-5, atol=1e-8)
        expect_close(grad, expected_grad, what=what, revisit=SMOOTHING, rtol=1e-9, atol=1e-12)


TESTS = {
    "test-one-hot": check_one_hot,
    "test-cross-entropy-values": check_cross_entropy_values,
    "test-cross-entropy-stability": check_cross_entropy_stability,
    "test-ce-module-forward": check_ce_module_forward,
    "test-ce-module-backward": check_ce_module_backward,
    "test-label-smoothing": check_label_smoothing,
}
