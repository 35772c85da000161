"""Hidden checks for the `logits` exercise (chapter 1): Linear, numerical_gradient, predict_class.

Oracles: the linear map written as an explicit sum over features, the chain rule's closed forms,
and the checks' own central differences; never the reference solution.
"""
import numpy as np

from ._common import (call, central_difference, describe, expect_close, expect_dtype,
                      expect_shape, expect_unchanged, fail, rng, snapshot)

FORWARD = "Chapter 1, the linear layer for a batch: logits = X @ W.T + b, W of shape (C, D)"
BACKWARD = "Chapter 1, the backward pass of the linear layer (the chain rule with an upstream gradient)"
GRADCHECK = "Chapter 1, gradient checking with central differences"
ARGMAX = "Chapter 1, from logits to decisions: argmax over the class axis (the last one)"


def _oracle_linear(X, W, b):
    # sum_d X[n, d] * W[c, d] + b[c], written without a matrix product
    return (X[:, None, :] * W[None, :, :]).sum(axis=-1) + b


def _layer(Linear, W, b):
    return call(Linear, W, b, what="Linear(W, b)", revisit=FORWARD)


def check_linear_forward(Linear):
    """Values, shape, dtype, batch-vs-rows and untouched inputs of Linear.forward."""
    __tracebackhide__ = True  # noqa: F841
    g = rng(1)
    for N, D, C in [(5, 4, 3), (1, 3, 6), (7, 2, 2)]:
        X, W, b = g.normal(size=(N, D)), g.normal(size=(C, D)), g.normal(size=C)
        inputs = snapshot(X=X, W=W, b=b)
        layer = _layer(Linear, W, b)
        what = f"Linear.forward(X) with X of shape {X.shape}, W {W.shape}, b {b.shape}"
        out = call(layer.forward, X, what=what, revisit=FORWARD)
        expect_shape(out, (N, C), what=what, revisit=FORWARD)
        expected = _oracle_linear(X, W, b)
        if np.allclose(out, expected - b, rtol=1e-7):
            fail(f"{what} returned X @ W.T without the bias b.", expected=describe(expected),
                 got=describe(np.asarray(out)), revisit=FORWARD)
        expect_close(out, expected, what=what, revisit=FORWARD)
        expect_unchanged(inputs, what=what, revisit=FORWARD)
        rows = np.concatenate([call(layer.forward, X[i:i + 1], what=f"{what} on one row",
                                    revisit=FORWARD) for i in range(N)])
        expect_close(rows, out, what="Linear.forward on the rows one at a time (compared "
                     "with the whole batch)", revisit=FORWARD)

    X, W, b = (g.normal(size=(4, 3)).astype(np.float32), g.normal(size=(2, 3)).astype(np.float32),
               g.normal(size=2).astype(np.float32))
    out = call(_layer(Linear, W, b).forward, X, what="Linear.forward on float32 arrays",
               revisit=FORWARD)
    expect_dtype(out, np.float32, what="Linear.forward on float32 arrays (keep the input's dtype)",
                 revisit=FORWARD)
    expect_close(out, _oracle_linear(X.astype(float), W.astype(float), b.astype(float)),
                 what="Linear.forward on float32 arrays", revisit=FORWARD, rtol=1e-5, atol=1e-5)


def check_linear_backward(Linear):
    """grad_X, grad_W, grad_b against closed forms and central differences, with a random upstream."""
    __tracebackhide__ = True  # noqa: F841
    g = rng(2)
    N, D, C = 6, 4, 3
    X, W, b = g.normal(size=(N, D)), g.normal(size=(C, D)), g.normal(size=C)
    G = g.normal(size=(N, C))  # an upstream gradient that is not all ones
    layer = _layer(Linear, W, b)
    call(layer.forward, X, what="Linear.forward(X)", revisit=FORWARD)
    upstream = snapshot(grad_logits=G)
    what = "Linear.backward(grad_logits)"
    grad_X = call(layer.backward, G, what=what, revisit=BACKWARD)
    expect_unchanged(upstream, what=what, revisit=BACKWARD)

    # The loss L = sum(G * logits) has dL/dlogits = G, so its gradients are what backward returns.
    loss_of_X = lambda x: np.sum(G * _oracle_linear(x, W, b))  # noqa: E731
    loss_of_W = lambda w: np.sum(G * _oracle_linear(X, w, b))  # noqa: E731
    loss_of_b = lambda v: np.sum(G * _oracle_linear(X, W, v))  # noqa: E731

    if grad_X is not None and np.shape(grad_X) == (N, D) and np.allclose(grad_X, np.ones((N, C)) @ W):
        fail(f"{what} ignores grad_logits: its result is what an upstream gradient of all ones "
             "would give. Multiply by the upstream gradient you are given.",
             expected=describe(G @ W), got=describe(np.asarray(grad_X)), revisit=BACKWARD)
    expect_shape(grad_X, (N, D), what=f"{what}'s return value grad_X (dL/dX)", revisit=BACKWARD)
    expect_close(grad_X, central_difference(loss_of_X, X),
                 what=f"{what}'s return value grad_X (dL/dX = grad_logits @ W)", revisit=BACKWARD,
                 rtol=1e-5, atol=1e-7)

    for attr, loss, closed, shape, formula in [
        ("grad_W", loss_of_W, G.T @ X, (C, D), "dL/dW = grad_logits.T @ X"),
        ("grad_b", loss_of_b, G.sum(axis=0), (C,), "dL/db = grad_logits summed over the batch"),
    ]:
        if not hasattr(layer, attr):
            fail(f"After {what}, the layer has no attribute `{attr}`. backward must set "
                 f"self.{attr}.", expected=f"self.{attr} of shape {shape}",
                 got="no such attribute", revisit=BACKWARD)
        got = getattr(layer, attr)
        if attr == "grad_b" and np.shape(got) == shape and np.allclose(got, G.mean(axis=0)):
            fail("self.grad_b is the mean of grad_logits over the batch, not the sum. The "
                 "upstream gradient already carries any 1/N of the loss; the bias is used by "
                 "every row, so its gradient sums over the rows.",
                 expected=describe(closed), got=describe(np.asarray(got)), revisit=BACKWARD)
        expect_shape(got, shape, what=f"self.{attr} ({formula})", revisit=BACKWARD)
        expect_close(got, central_difference(loss, {"grad_W": W, "grad_b": b}[attr]),
                     what=f"self.{attr} ({formula})", revisit=BACKWARD, rtol=1e-5, atol=1e-7)
        expect_close(got, closed, what=f"self.{attr} ({formula})", revisit=BACKWARD, rtol=1e-9)

    # A second forward/backward sets fresh gradients for the new batch (no stale X, no +=).
    X2, G2 = g.normal(size=(3, D)), g.normal(size=(3, C))
    call(layer.forward, X2, what="a second Linear.forward(X)", revisit=FORWARD)
    grad_X2 = call(layer.backward, G2, what="a second Linear.backward", revisit=BACKWARD)
    expect_close(grad_X2, G2 @ W, what="grad_X after a second forward/backward on a new batch",
                 revisit=BACKWARD, rtol=1e-9)
    expect_close(layer.grad_W, G2.T @ X2, what="self.grad_W after a second forward/backward on a "
                 "new batch (backward sets the gradient of the latest batch; it does not add to "
                 "the old one or reuse the old X)", revisit=BACKWARD, rtol=1e-9)


def check_numerical_gradient(numerical_gradient):
    """Central differences: values, the eps argument, shape, integer input, x left unchanged."""
    __tracebackhide__ = True  # noqa: F841
    # For f = sum(x**3) the central difference is exactly 3x^2 + eps^2: it shows which
    # difference is used and that eps is honoured.
    x = np.array([-1.5, 0.5, 2.0])
    cube = lambda v: float(np.sum(v ** 3))  # noqa: E731
    for eps in (1e-1, 1e-3):
        what = f"numerical_gradient(f, x, eps={eps}) for f(x) = sum(x**3)"
        grad = call(numerical_gradient, cube, x.copy(), eps=eps, what=what, revisit=GRADCHECK)
        expected = 3 * x ** 2 + eps ** 2
        grad_arr = np.asarray(grad, dtype=float)
        if grad_arr.shape == x.shape:
            forward_diff = 3 * x ** 2 + 3 * x * eps + eps ** 2
            if np.allclose(grad_arr, forward_diff, rtol=1e-6) or \
                    np.allclose(grad_arr, 3 * x ** 2 - 3 * x * eps + eps ** 2, rtol=1e-6):
                fail(f"{what} looks like a one-sided difference (f(x+eps) - f(x)) / eps, whose "
                     "error shrinks only like eps. Use the central difference "
                     "(f(x+eps) - f(x-eps)) / (2 eps).", expected=describe(expected),
                     got=describe(grad_arr), revisit=GRADCHECK)
            if np.allclose(grad_arr, 2 * expected, rtol=1e-6):
                fail(f"{what} is twice the gradient: the central difference divides by 2 eps.",
                     expected=describe(expected), got=describe(grad_arr), revisit=GRADCHECK)
        if eps == 1e-1 and grad_arr.shape == x.shape and np.allclose(grad_arr, 3 * x ** 2, atol=1e-4):
            fail(f"{what} ignores the eps argument (its answer is what a tiny eps gives).",
                 expected=describe(expected), got=describe(grad_arr), revisit=GRADCHECK)
        expect_close(grad, expected, what=what, revisit=GRADCHECK, rtol=1e-6, atol=1e-8)


    g = rng(3)
    c = g.normal(size=(3, 4))
    x = g.normal(size=(3, 4))
    f = lambda v: float(np.sum(np.sin(v) * c))  # noqa: E731
    before = snapshot(x=x)
    what = "numerical_gradient(f, x) for f(x) = sum(sin(x) * c), x of shape (3, 4)"
    grad = call(numerical_gradient, f, x, what=what, revisit=GRADCHECK)
    expect_unchanged(before, what=what, revisit=GRADCHECK + " (restore each entry exactly)")
    expect_shape(grad, x.shape, what=what, revisit=GRADCHECK)
    expect_close(grad, np.cos(x) * c, what=what, revisit=GRADCHECK, rtol=1e-6, atol=1e-8)

    # Integer input: perturbing an integer array in place would round x + eps back to x.
    xi = np.array([[1, -2], [3, 0]])
    before = snapshot(x=xi)
    what = "numerical_gradient(f, x) for f(x) = sum(x**2) with an integer array x"
    grad = call(numerical_gradient, lambda v: float(np.sum(v.astype(float) ** 2)), xi,
                what=what, revisit=GRADCHECK + " (perturb a float copy of x)")
    expect_unchanged(before, what=what, revisit=GRADCHECK)
    expect_close(grad, 2.0 * xi, what=what + " (perturb a float copy: x + eps on an integer "
                 "array rounds back to x)", revisit=GRADCHECK, rtol=1e-6, atol=1e-6)


def check_predict(predict_class):
    """argmax over the last axis, for any batch shape, integer output, ties to the first index."""
    __tracebackhide__ = True  # noqa: F841
    g = rng(4)
    for shape in [(6, 4), (2, 3, 5), (5,), (1, 7)]:
        z = g.normal(scale=3.0, size=shape)
        before = snapshot(logits=z)
        what = f"predict_class(logits) with logits of shape {shape}"
        out = call(predict_class, z, what=what, revisit=ARGMAX)
        expected = np.array([[int(np.flatnonzero(row == row.max())[0])]
                             for row in z.reshape(-1, shape[-1])]).reshape(shape[:-1])
        expect_shape(out, expected.shape, what=what + " (one class per row: the class axis "
                     "is the last one)", revisit=ARGMAX)
        if not np.issubdtype(np.asarray(out).dtype, np.integer):
            fail(f"{what} should return integer class indices.", expected="an integer array",
                 got=describe(np.asarray(out)), revisit=ARGMAX)
        if np.array_equal(out, z.argmin(axis=-1)) and not np.array_equal(out, expected):
            fail(f"{what} picked the smallest logit. The predicted class has the largest logit.",
                 expected=describe(expected), got=describe(np.asarray(out)), revisit=ARGMAX)
        expect_close(out, expected, what=what, revisit=ARGMAX, rtol=0, atol=0)
        expect_unchanged(before, what=what, revisit=ARGMAX)

    # Shifting every logit of a row by the same amount changes no decision.
    z = g.normal(size=(4, 3))
    shifted = z + g.normal(scale=100.0, size=(4, 1))
    what = "predict_class on logits shifted by a constant per row"
    expect_close(call(predict_class, shifted, what=what, revisit=ARGMAX), z.argmax(axis=-1),
                 what=what, revisit=ARGMAX, rtol=0, atol=0)


TESTS = {
    "test-linear-forward": check_linear_forward,
    "test-linear-backward": check_linear_backward,
    "test-numerical-gradient": check_numerical_gradient,
    "test-predict": check_predict,
}
