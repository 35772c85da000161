"""Hidden checks for the `logits` exercise (chapter 1): Linear, numerical_gradient, predict_class.

Oracles: the linear map written as an explicit sum over features, the chain rule's closed forms,
and the checks' own central differences; never the reference solution.
"""
import math

import numpy as np

from ._common import (CheckFailed, as_float, batched_call, call, central_difference, describe,
                      expect_close, expect_dtype, expect_shape, expect_unchanged, fail, numbers,
                      quiet_call, rng, snapshot)

FORWARD = "Chapter 1, 'The linear layer' (logits = X W^T + b for a batch, W of shape (C, D))"
BACKWARD = "Chapter 1, 'Deriving the three gradients' (the chain rule with an upstream gradient)"
GRADCHECK = "Chapter 1, 'Checking the formulas' (the central difference, one entry at a time)"
ARGMAX = "Chapter 1, 'From logits to a decision: argmax' (over the class axis, the last one)"
TRUNCATION = "Chapter 1, 'Truncation error: why central differences'"
ROUNDING = "Chapter 1, 'Rounding error: why not a tiny epsilon'"

# The likely mistake when the student's matrix product raises (see _common.call).
FORWARD_HINTS = {"matmul": "the operands of the product in the wrong order or without the "
                 "transpose. X is (N, D) and W is (C, D), and the logits are (N, C): the inner "
                 "sizes of a product must match, so write the shape of each operand next to it "
                 "(Z = X W^T in the chapter's notation)."}
BACKWARD_HINTS = {"matmul": "a product of the backward pass in the wrong order or without a "
                  "transpose. Write the shapes down: grad_logits is (N, C), X is (N, D), W is "
                  "(C, D); dL/dX must come out (N, D) and dL/dW (C, D), and there is one way "
                  "to multiply two of these arrays into each shape."}


def _oracle_linear(X, W, b):
    # sum_d X[n, d] * W[c, d] + b[c], written without a matrix product
    return (X[:, None, :] * W[None, :, :]).sum(axis=-1) + b


# Whole-array operations, not a Python loop over the rows (the contract): a page's one-example
# code in a loop (a forward that computes each row's logits, a backward that adds up one outer
# product per example, an argmax row by row) gives the right numbers with ten to a hundred times
# the CPU time of whole-array numpy (_common.batched_call). Even a loop with a single numpy call
# per row takes 0.5 s or more on these sizes, whole-array numpy 10 to 30 ms.
LOOP_ROWS, LOOP_FEATURES, LOOP_CLASSES = 500_000, 2, 2
BACKWARD_ROWS = 250_000    # a backward loop costs several numpy calls per row: half the rows
PREDICT_ROWS = 2_000_000  # an argmax method per row is cheap: four times the rows
LOOP = ("the contract: whole-array operations on the batch, no Python loop over its rows (a "
        "matrix product and numpy's reductions over an axis work on every row at once; "
        "Chapter 1, 'The linear layer')")
LOOP_BACKWARD = ("the contract: whole-array operations on the batch, no Python loop over its rows "
                 "(the sums over the batch in the gradients are matrix products or reductions "
                 "over an axis; Chapter 1, 'Deriving the three gradients')")
LOOP_ARGMAX = ("the contract: whole-array operations, no Python loop over the rows (numpy's "
               "argmax takes an axis; Chapter 1, 'From logits to a decision: argmax')")


def _many_rows(seed):
    g = rng(seed)
    return (g.normal(size=(LOOP_ROWS, LOOP_FEATURES)),
            g.normal(size=(LOOP_CLASSES, LOOP_FEATURES)), g.normal(size=LOOP_CLASSES))


def _layer(Linear, W, b):
    return call(Linear, W, b, what="Linear(W, b)", revisit=FORWARD)


def check_linear_forward(Linear):
    """Values, shape, dtype, batch-vs-rows and untouched inputs of Linear.forward."""
    g = rng(1)
    for N, D, C in [(5, 4, 3), (1, 3, 6), (7, 2, 2)]:
        X, W, b = g.normal(size=(N, D)), g.normal(size=(C, D)), g.normal(size=C)
        inputs = snapshot(X=X, W=W, b=b)
        layer = _layer(Linear, W, b)
        what = f"Linear.forward(X) with X of shape {X.shape}, W {W.shape}, b {b.shape}"
        out = call(layer.forward, X, what=what, revisit=FORWARD, hints=FORWARD_HINTS)
        expect_shape(out, (N, C), what=what, revisit=FORWARD)
        expected = _oracle_linear(X, W, b)
        if np.allclose(out, expected - b, rtol=1e-7):
            fail(f"{what} returned X @ W.T without the bias b.", expected=describe(expected),
                 got=describe(np.asarray(out)), revisit=FORWARD)
        expect_close(out, expected, what=what, revisit=FORWARD)
        expect_unchanged(inputs, what=what, revisit=FORWARD)
        rows = np.concatenate([call(layer.forward, X[i:i + 1], what=f"{what} on one row",
                                    revisit=FORWARD, hints=FORWARD_HINTS) for i in range(N)])
        expect_close(rows, out, what="Linear.forward on the rows one at a time (compared "
                     "with the whole batch)", revisit=FORWARD)

    X, W, b = (g.normal(size=(4, 3)).astype(np.float32), g.normal(size=(2, 3)).astype(np.float32),
               g.normal(size=2).astype(np.float32))
    out = call(_layer(Linear, W, b).forward, X, what="Linear.forward on float32 arrays",
               revisit=FORWARD, hints=FORWARD_HINTS)
    expect_dtype(out, np.float32, what="Linear.forward on float32 arrays (keep the input's dtype)",
                 revisit=FORWARD)
    expect_close(out, _oracle_linear(X.astype(float), W.astype(float), b.astype(float)),
                 what="Linear.forward on float32 arrays", revisit=FORWARD, rtol=1e-5, atol=1e-5)

    # No Python loop over the rows.
    X, W, b = _many_rows(7)
    what = f"Linear.forward(X) on a batch of {LOOP_ROWS:,} rows of {LOOP_FEATURES} features"
    out = batched_call(_layer(Linear, W, b).forward, X,
                       reference=lambda: np.einsum("nd,cd->nc", X, W) + b, what=what,
                       revisit=LOOP, hints=FORWARD_HINTS)
    expect_close(out, _oracle_linear(X, W, b), what=what, revisit=FORWARD)


def check_linear_backward(Linear):
    """grad_X, grad_W, grad_b against closed forms and central differences, with a random upstream."""
    g = rng(2)
    N, D, C = 6, 4, 3
    X, W, b = g.normal(size=(N, D)), g.normal(size=(C, D)), g.normal(size=C)
    G = g.normal(size=(N, C))  # an upstream gradient that is not all ones
    layer = _layer(Linear, W, b)
    # backward is graded apart from forward: a forward that raises or returns wrong logits does
    # not fail this check by itself (test-linear-forward judges it); backward is still called.
    forward_problem = None
    try:
        out = quiet_call(layer.forward, X, what="Linear.forward(X)", revisit=FORWARD,
                         hints=FORWARD_HINTS)
        if as_float(out) is None or np.shape(out) != (N, C) or \
                not np.allclose(as_float(out), _oracle_linear(X, W, b)):
            forward_problem = "Linear.forward(X) returned wrong logits"
    except CheckFailed as err:
        forward_problem = str(err).splitlines()[0]
    try:
        _check_backward_after_forward(layer, X, W, b, G)
    except CheckFailed as err:
        if forward_problem is None:
            raise
        what_backward_did = "\n".join(line for line in str(err).splitlines()
                                      if not line.strip().startswith("revisit:"))
        fail(f"Linear.backward failed, and the forward pass before it had failed first "
             f"({forward_problem}). backward can only use what forward stored: fix forward first "
             f"(test-linear-forward says what is wrong), then run this test again. What backward "
             f"did:\n{what_backward_did}", revisit=FORWARD)


def _check_backward_after_forward(layer, X, W, b, G):
    g = rng(5)
    (N, D), C = X.shape, W.shape[0]
    upstream = snapshot(grad_logits=G)
    what = "Linear.backward(grad_logits)"
    grad_X = call(layer.backward, G, what=what, revisit=BACKWARD, hints=BACKWARD_HINTS)
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
                 what=f"{what}'s return value grad_X (dL/dX)", revisit=BACKWARD,
                 rtol=1e-5, atol=1e-7)

    for attr, loss, closed, shape, formula in [
        ("grad_W", loss_of_W, G.T @ X, (C, D), "dL/dW, the shape of W"),
        ("grad_b", loss_of_b, G.sum(axis=0), (C,), "dL/db, the shape of b"),
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
    try:
        quiet_call(layer.forward, X2, what="a second Linear.forward(X)", revisit=FORWARD)
    except CheckFailed:
        pass  # test-linear-forward judges forward; backward uses whatever it stored
    grad_X2 = call(layer.backward, G2, what="a second Linear.backward", revisit=BACKWARD,
                   hints=BACKWARD_HINTS)
    expect_close(grad_X2, G2 @ W, what="grad_X after a second forward/backward on a new batch",
                 revisit=BACKWARD, rtol=1e-9)
    expect_close(layer.grad_W, G2.T @ X2, what="self.grad_W after a second forward/backward on a "
                 "new batch (backward sets the gradient of the latest batch; it does not add to "
                 "the old one or reuse the old X)", revisit=BACKWARD, rtol=1e-9)

    # No Python loop over the rows: a forward on a large batch, then its backward, timed.
    X3, G3 = g.normal(size=(BACKWARD_ROWS, D)), g.normal(size=(BACKWARD_ROWS, C))
    try:
        quiet_call(layer.forward, X3, what="Linear.forward(X) on a large batch", revisit=FORWARD)
    except CheckFailed:
        pass  # test-linear-forward judges forward
    what = f"Linear.backward(grad_logits) on a batch of {BACKWARD_ROWS:,} rows"
    batched_call(layer.backward, G3, what=what, revisit=LOOP_BACKWARD, hints=BACKWARD_HINTS,
                 reference=lambda: (np.einsum("nc,nd->cd", G3, X3), G3.sum(axis=0),
                                    np.einsum("nc,cd->nd", G3, W)))


def check_numerical_gradient(numerical_gradient):
    """Central differences: values, the eps argument, shape, integer input, x left unchanged."""
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
                fail(f"{what} looks like a one-sided difference (from x to x + eps only), whose "
                     "error shrinks only like eps. Use the central difference: nudge the entry "
                     "by +eps and by -eps, the two points 2 eps apart.", expected=describe(expected),
                     got=describe(grad_arr), revisit=TRUNCATION)
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

    # No Python loop over the rows.
    Z = rng(9).normal(size=(PREDICT_ROWS, 2)).astype(np.float32)
    what = f"predict_class(logits) on {PREDICT_ROWS:,} rows of 2 logits"
    out = batched_call(predict_class, Z, reference=lambda: Z.argmax(axis=-1), what=what,
                       revisit=LOOP_ARGMAX)
    expect_close(out, Z.argmax(axis=-1), what=what, revisit=ARGMAX, rtol=0, atol=0)

    # Shifting every logit of a row by the same amount changes no decision.
    z = g.normal(size=(4, 3))
    shifted = z + g.normal(scale=100.0, size=(4, 1))
    what = "predict_class on logits shifted by a constant per row"
    expect_close(call(predict_class, shifted, what=what, revisit=ARGMAX), z.argmax(axis=-1),
                 what=what, revisit=ARGMAX, rtol=0, atol=0)


# ------------------------------------------------------------------------------------------------
# Questions and the experiment: the student's functions return numbers; messages teach the idea.
# ------------------------------------------------------------------------------------------------

SHAPES = "Chapter 1, 'The linear layer' (W has shape (C, D), b shape (C,))"


def _answers(fn, name, n, revisit, **kwargs):
    """Call an answer function and return its n answers as a tuple (or fail saying what it got).
    Quietly: a numpy warning in the student's experiment (log10 of a zero error, say) is not a
    mistake of the idea asked for."""
    args = ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
    out = quiet_call(fn, what=f"{name}({args})", revisit=revisit, **kwargs)
    try:
        answers = tuple(out)
    except TypeError:
        answers = None
    if answers is None or len(answers) != n:
        fail(f"{name}() should return {n} answers, as a tuple.", expected=f"a tuple of {n} values",
             got=describe(out), revisit=revisit)
    return answers


def _number(value):
    """value as a Python float, or None when it is not one number."""
    arr = as_float(value)
    return None if arr is None or arr.shape != () else float(arr)


def _shape_of(value):
    try:
        arr = np.asarray(value)
        return tuple(int(v) for v in arr.ravel()) if arr.ndim == 1 else None
    except (TypeError, ValueError):
        return None


def right_shapes(n: dict):
    """The right answer of `answer_shapes` for a student's numbers."""
    N, D, C = n["N"], n["D"], n["C"]
    return C * D + C, (C, D), (N, D)


def check_answer_shapes(answer_shapes):
    """The number of parameters of a linear layer and the shapes of its gradients."""
    mine = numbers()
    N, D, C = mine["N"], mine["D"], mine["C"]
    n_params, shape_W, shape_X = _answers(answer_shapes, "answer_shapes", 3, SHAPES)
    what = f"answer_shapes() for your N = {N}, D = {D}, C = {C}"
    count = _number(n_params)
    if count is None:
        fail(f"{what}: the number of parameters should be one number.", expected="an integer",
             got=describe(n_params), revisit=SHAPES)
    if count == C * D:
        fail(f"{what}: {C * D} counts the weights only. Each of the C classes also has a bias.",
             expected="weights plus biases", got=describe(n_params), revisit=SHAPES)
    if count in (N * D * C, N * (D * C + C), N * C, N * D):
        fail(f"{what}: the parameters do not depend on the batch size N. They are the entries of "
             "W and b, shared by every example.", expected="a number independent of N",
             got=describe(n_params), revisit=SHAPES)
    right_count, right_W, right_X = right_shapes(mine)
    if count != right_count:
        fail(f"{what}: wrong number of parameters. Count the entries of W and of b.",
             expected="the size of W plus the size of b", got=describe(n_params), revisit=SHAPES)
    grad_W = _shape_of(shape_W)
    if grad_W == (D, C):
        fail(f"{what}: grad_W is transposed. A gradient has the shape of the array it belongs "
             "to, and W has shape (C, D).", expected="the shape of W", got=describe(shape_W),
             revisit=BACKWARD)
    if grad_W == (N, C):
        fail(f"{what}: (N, C) is the shape of the logits and of grad_logits, not of grad_W.",
             expected="the shape of W", got=describe(shape_W), revisit=BACKWARD)
    if grad_W != right_W:
        fail(f"{what}: wrong shape of grad_W. A gradient has the shape of the array it belongs "
             "to.", expected="the shape of W", got=describe(shape_W), revisit=BACKWARD)
    grad_X = _shape_of(shape_X)
    if grad_X == (N, C):
        fail(f"{what}: (N, C) is the shape of the logits. grad_X = dL/dX has the shape of X.",
             expected="the shape of X", got=describe(shape_X), revisit=BACKWARD)
    if grad_X != right_X:
        fail(f"{what}: wrong shape of grad_X. A gradient has the shape of the array it belongs "
             "to.", expected="the shape of X", got=describe(shape_X), revisit=BACKWARD)


# The functions of the notebook's table (its FUNCTIONS, by name): f and its first three
# derivatives, in closed form (the checks' own oracle, never the notebook's code).
DERIVATIVES = {
    "exp": (math.exp, math.exp, math.exp, math.exp),
    "log": (math.log, lambda x: 1 / x, lambda x: -1 / x ** 2, lambda x: 2 / x ** 3),
    "sqrt": (math.sqrt, lambda x: x ** -0.5 / 2, lambda x: -x ** -1.5 / 4,
             lambda x: 3 * x ** -2.5 / 8),
    "reciprocal": (lambda x: 1 / x, lambda x: -1 / x ** 2, lambda x: 2 / x ** 3,
                   lambda x: -6 / x ** 4),
    "cbrt": (lambda x: x ** (1 / 3), lambda x: x ** (-2 / 3) / 3, lambda x: -2 * x ** (-5 / 3) / 9,
             lambda x: 10 * x ** (-8 / 3) / 27),
}
THIRD = "f'''(x0)"
SECOND = "f''(x0)"


def right_differences(n: dict):
    """The right answer of `answer_differences`: the truncation errors (exact arithmetic) of the
    central and the one-sided difference of the student's f at x0 with step eps. The Taylor terms
    left out change them by a relative eps**2 and eps, below 1e-4 for the steps drawn."""
    _, _, d2, d3 = DERIVATIVES[n["f"]]
    x0, eps = n["x0"], n["eps"]
    return eps ** 2 / 6 * abs(d3(x0)), abs(eps / 2 * d2(x0) + eps ** 2 / 6 * d3(x0))


def check_answer_differences(answer_differences):
    """Truncation errors of the central and the one-sided difference for the student's numbers."""
    mine = numbers()
    name, x0, eps = mine["f"], mine["x0"], mine["eps"]
    central, one_sided = _answers(answer_differences, "answer_differences", 2, TRUNCATION)
    what = f"answer_differences() for your f = {name}, x0 = {x0:g}, eps = {eps:g}"
    c, o = _number(central), _number(one_sided)
    if c is None or o is None or not np.isfinite(c) or not np.isfinite(o):
        fail(f"{what} should return two numbers.", expected="two floats",
             got=describe((central, one_sided)), revisit=TRUNCATION)
    c, o = abs(c), abs(o)  # an error's sign is not the idea asked for
    right_c, right_o = right_differences(mine)
    f, d1, d2, d3 = DERIVATIVES[name]

    def near(x, y):
        return bool(np.isclose(x, y, rtol=0.03, atol=0))

    def size(x, y):
        return "too large" if x > y else "too small"

    if near(c, right_c) and near(o, right_o):
        return
    if near(c, right_o) and near(o, right_c):
        fail(f"{what}: the two errors are swapped. The central difference is the accurate one: "
             "its truncation error is of order eps**2, the one-sided one's of order eps.",
             expected="(central error, one-sided error)", got=describe((central, one_sided)),
             revisit=TRUNCATION)
    slope = abs(d1(x0))
    if near(c, slope) or near(o, slope):
        fail(f"{what}: an answer is close to f'(x0) itself. The question asks for the errors "
             "|estimate - f'(x0)|, not for the estimates.", expected="two small errors",
             got=describe((central, one_sided)), revisit=TRUNCATION)
    if near(c * slope, right_c) and near(o * slope, right_o):
        fail(f"{what}: these are relative errors (divided by |f'(x0)|). The question asks for "
             "the absolute errors |estimate - f'(x0)|.", expected="absolute errors",
             got=describe((central, one_sided)), revisit=TRUNCATION)
    if not near(c, right_c):
        rounding = np.finfo(np.float64).eps * abs(f(x0)) / eps
        if any(near(c, k * right_c) for k in (6, 3, 2, 0.5)):
            fail(f"{what}: the central error has the right order, eps**2, but the wrong factor. "
                 "Subtract the Taylor expansions of f at x0 + eps and at x0 - eps term by term, "
                 "then divide by 2 eps.", expected="the leading term of the central "
                 "difference's truncation error", got=describe(central), revisit=TRUNCATION)
        if not near(abs(d2(x0)), abs(d3(x0))) and near(c, eps ** 2 / 6 * abs(d2(x0))):
            fail(f"{what}: the central error uses the wrong derivative. The even powers cancel "
                 "in the difference of f at x0 + eps and at x0 - eps: the first term left after "
                 "f' comes with the third derivative.", expected=f"a term in {THIRD}",
                 got=describe(central), revisit=TRUNCATION)
        if near(c, right_o):
            fail(f"{what}: your central error has the order of a one-sided difference's (eps). "
                 "In the central difference the eps**2 terms cancel too.",
                 expected="an error of order eps**2", got=describe(central), revisit=TRUNCATION)
        if rounding / 100 <= c <= 10 * rounding:
            fail(f"{what}: your central error has the size of float64's rounding error at this "
                 "step, about u |f(x0)| / eps, not of the truncation error: computed in float64, "
                 "the difference of the values of f at x0 + eps and x0 - eps loses the digits "
                 "the truncation error sits in. Predict the truncation error from the Taylor expansion (or "
                 "compute in much higher precision).", expected="the error in exact arithmetic",
                 got=describe(central), revisit=ROUNDING)
        fail(f"{what}: wrong truncation error of the central difference ({size(c, right_c)}). "
             "Expand f at x0 + eps and at x0 - eps with Taylor's theorem and keep the first term "
             "that does not cancel.", expected="the error in exact arithmetic",
             got=describe(central), revisit=TRUNCATION)
    if near(o, 2 * right_o):
        fail(f"{what}: the one-sided error is first order in eps, with a factor 1/2 from the "
             "Taylor expansion.", expected="the leading term of the one-sided difference's "
             "truncation error", got=describe(one_sided), revisit=TRUNCATION)
    if not near(abs(d2(x0)), abs(d3(x0))) and near(o, eps / 2 * abs(d3(x0))):
        fail(f"{what}: the one-sided error uses the wrong derivative. After f', the first term "
             "of the one-sided difference's expansion comes with the second derivative.",
             expected=f"a term in {SECOND}", got=describe(one_sided), revisit=TRUNCATION)
    fail(f"{what}: wrong truncation error of the one-sided difference ({size(o, right_o)}). "
         "Expand f at x0 + eps with Taylor's theorem and keep the first term after f'(x0).",
         expected="the error in exact arithmetic", got=describe(one_sided), revisit=TRUNCATION)


# The experiment is graded on cases the notebook never shows: f(x) = exp(a x) or sin(a x) at a
# point x0, on a grid of steps, in float64 and float32 (drawn with rng, so each grading run has
# its own). Their best steps lie decades apart, so no constant answer fits them all.
FAMILIES = {
    "exp": (lambda a: lambda v: np.exp(a * v), lambda a: lambda v: a * np.exp(a * v)),
    "sin": (lambda a: lambda v: np.sin(a * v), lambda a: lambda v: a * np.cos(a * v)),
}


def _step_cases():
    """(family, a, x0, steps, dtype) for the hidden calls of experiment_step."""
    g = rng(6)
    cases = []
    for family, scales, dtype in [("exp", [2.0, 4.0, 8.0, 16.0], "float64"),
                                  ("exp", [0.25, 0.5, 1.0], "float32"),
                                  ("sin", [1.0, 2.0, 4.0], str(g.choice(["float64", "float32"])))]:
        a = float(g.choice(scales))
        where = [-1.0, -0.5, 0.5, 1.0] if family == "exp" else [0.5, 0.75, 1.0, 1.25]
        x0 = float(g.choice(where)) / a
        low = float(g.choice([-12.0, -11.5, -11.0] if dtype == "float64" else [-6.5, -6.0]))
        steps = np.logspace(low, np.log10(0.5 / a), int(g.integers(36, 64)))
        cases.append((family, a, x0, steps, dtype))
    return cases


def _step_errors(f, fprime, x0, steps, dtype):
    """The checks' own run: relative errors of the central difference, computed in dtype."""
    t = np.dtype(dtype).type
    x, h = t(x0), steps.astype(dtype)
    with np.errstate(all="ignore"):
        estimate = (f(x + h) - f(x - h)) / (t(2) * h)
    exact = float(fprime(x0))
    return np.abs(estimate.astype(np.float64) - exact) / abs(exact)


def _top_slope(steps, errors):
    """The slope of log10(error) against log10(h) over the largest decade of steps."""
    top = steps >= steps.max() / 10
    with np.errstate(all="ignore"):
        logs = np.log10(np.maximum(errors[top], 1e-300))
    return float(np.polyfit(np.log10(steps[top]), logs, 1)[0])


def check_experiment_step(experiment_step):
    """The V of the central difference on hidden functions, points, grids and dtypes: the errors,
    the best step and the slope of the truncation side, against the checks' own run."""
    for family, a, x0, steps, dtype in _step_cases():
        f, fprime = FAMILIES[family][0](a), FAMILIES[family][1](a)
        what = (f"experiment_step(f, fprime, x0, steps, {dtype!r}) for f(x) = {family}({a:g} x) "
                f"at x0 = {x0:g}, with {len(steps)} steps from {steps[0]:.1e} to {steps[-1]:.2g}")
        out = quiet_call(experiment_step, f, fprime, x0, steps.copy(), dtype, plot=False,
                         what=what, revisit=ROUNDING)
        try:
            errors, best, slope = tuple(out)
        except (TypeError, ValueError):
            fail(f"{what} should return three things: the errors, the best step and the slope.",
                 expected="(errors, best step, slope)", got=describe(out), revisit=ROUNDING)
        got = as_float(errors)
        b, s = _number(best), _number(slope)
        if got is None or got.shape != steps.shape or b is None or s is None \
                or not np.isfinite(s):
            fail(f"{what} should return an array of one error per step, then two numbers.",
                 expected=f"errors of shape {steps.shape}, a step, a slope",
                 got=describe((errors, best, slope)), revisit=ROUNDING)
        ref = _step_errors(f, fprime, x0, steps, dtype)
        ref_best = float(steps[np.argmin(ref)])
        top = steps >= steps.max() / 10
        low = steps <= ref_best / 10
        derivative = abs(float(fprime(x0)))

        # The truncation side: the same numbers whatever the rounding (a relative 5 %).
        if not np.allclose(got[top], ref[top], rtol=0.05, atol=0):
            if np.allclose(got[top], ref[top] * derivative, rtol=0.05, atol=0):
                fail(f"{what}: these look like absolute errors. Divide by |f'(x0)| for the "
                     "relative error.", expected=describe(ref[top]), got=describe(got[top]),
                     revisit=ROUNDING)
            if abs(_top_slope(steps, got) - 1) < 0.3:
                fail(f"{what}: your errors on the truncation side fall like h, not like h**2: a "
                     "one-sided difference? Use the central difference, from x0 - h to x0 + h.",
                     expected=describe(ref[top]), got=describe(got[top]), revisit=TRUNCATION)
            fail(f"{what}: wrong errors for the largest steps (the truncation side, where "
                 "rounding does not matter). The error of a step h is |D(h) - f'(x0)| / "
                 "|f'(x0)|, with D(h) the central difference.", expected=describe(ref[top]),
                 got=describe(got[top]), revisit=ROUNDING)
        # The rounding side: noise, but of the size that the dtype's u gives.
        if low.sum() >= 3:
            with np.errstate(all="ignore"):
                ratio = float(np.median(np.log10(np.maximum(got[low], 1e-17))
                                        - np.log10(np.maximum(ref[low], 1e-17))))
            if abs(ratio) > 1:
                lower = "smaller" if ratio < 0 else "larger"
                fail(f"{what}: for the small steps your errors are about 10**{abs(ratio):.0f} "
                     f"times {lower} than the rounding error of {dtype}. Convert x0 and the "
                     f"steps to {dtype} and do all the arithmetic in it.",
                     expected=f"errors of the size of {dtype}'s rounding error",
                     got=describe(got[low]), revisit=ROUNDING)
        # The best step.
        if b <= 0:
            fail(f"{what}: a step is a positive number. Return the step h itself, not log10(h).",
                 expected="one of the steps", got=describe(best), revisit=ROUNDING)
        if not np.isclose(steps, b, rtol=1e-6, atol=0).any():
            fail(f"{what}: the best step should be one of the steps you were given.",
                 expected="one of the steps", got=describe(best), revisit=ROUNDING)
        # The bottom of a V is flat and noisy (a lucky rounding can make one small step the
        # best), so a best step near the checks' own, or the smallest of the student's own
        # errors not far from it, is right.
        own_best = float(steps[np.argmin(got)])
        distance = abs(np.log10(b / ref_best))
        if distance > 0.6 and not (np.isclose(b, own_best, rtol=1e-6) and distance <= 1.5):
            if np.isclose(b, steps[0], rtol=1e-6):
                fail(f"{what}: the smallest step is not the most accurate one. Below the best "
                     "step the rounding error, about u |f| / h, grows as h shrinks.",
                     expected=f"a step near the bottom of the {dtype} V", got=describe(best),
                     revisit=ROUNDING)
            if np.isclose(b, steps[np.argmax(got)], rtol=1e-6):
                fail(f"{what}: this is the step with the largest error. The best step has the "
                     "smallest.", expected=f"a step near the bottom of the {dtype} V",
                     got=describe(best), revisit=ROUNDING)
            fail(f"{what}: the best step is off. With {dtype}'s u, the rounding error u |f| / h "
                 "and the truncation error, about h**2 |f'''| / 6, balance near "
                 "(3 u |f| / |f'''|)**(1/3).", expected="the step of your smallest error",
                 got=describe(best), revisit=ROUNDING)
        # The slope of the truncation side.
        ref_slope = _top_slope(steps, ref)
        if abs(s - ref_slope) > 0.1:
            if s < 0:
                fail(f"{what}: a negative slope belongs to the rounding side of the V (small h), "
                     "where the error grows as h shrinks. Fit the slope over the largest decade "
                     "of steps.", expected="the truncation side's slope", got=describe(slope),
                     revisit=TRUNCATION)
            fail(f"{what}: the slope of log10(error) against log10(h) over the largest decade "
                 "of steps is the power of h in the truncation error.",
                 expected="the truncation side's slope", got=describe(slope),
                 revisit=TRUNCATION)


# Each question's right answer for a student's numbers (`python -m autograder numbers` prints
# them; tests/test_variants.py checks that classmates' answers differ).
ANSWERS = {
    "test-answer-shapes": right_shapes,
    "test-answer-differences": right_differences,
}

# The library functions a graded function must not call (the notebook names each): they would
# compute the numerical gradient for the student.
FORBIDDEN = {
    "numerical-gradient": ("numpy.gradient", "scipy.optimize.approx_fprime",
                           "scipy.differentiate.derivative", "scipy.differentiate.jacobian"),
}

TESTS = {
    "test-linear-forward": check_linear_forward,
    "test-linear-backward": check_linear_backward,
    "test-numerical-gradient": check_numerical_gradient,
    "test-predict": check_predict,
    "test-answer-shapes": check_answer_shapes,
    "test-answer-differences": check_answer_differences,
    "test-experiment-step": check_experiment_step,
}
