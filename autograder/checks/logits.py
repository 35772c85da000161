"""Hidden checks for the `logits` exercise (chapter 1): Linear, numerical_gradient, predict_class.

Oracles: the linear map written as an explicit sum over features, the chain rule's closed forms,
and the checks' own central differences; never the reference solution.
"""
import numpy as np

from ._common import (CheckFailed, as_float, call, central_difference, describe, expect_close,
                      expect_dtype, expect_shape, expect_unchanged, fail, numbers, quiet_call,
                      rng, snapshot)

FORWARD = "Chapter 1, 'The linear layer' (logits = X W^T + b for a batch, W of shape (C, D))"
BACKWARD = "Chapter 1, 'Deriving the three gradients' (the chain rule with an upstream gradient)"
GRADCHECK = "Chapter 1, 'Checking the formulas' (the central difference, one entry at a time)"
ARGMAX = "Chapter 1, 'From logits to a decision: argmax' (over the class axis, the last one)"
TRUNCATION = "Chapter 1, 'Truncation error: why central differences'"
ROUNDING = "Chapter 1, 'Rounding error: why not a tiny epsilon'"

# The likely mistake when the student's matrix product raises (see _common.call).
FORWARD_HINTS = {"matmul": "the operands of the product in the wrong order or without the "
                 "transpose. X is (N, D) and W is (C, D): X @ W.T is (N, D) @ (D, C) -> (N, C); "
                 "W @ X and X @ W multiply axes of different lengths."}
BACKWARD_HINTS = {"matmul": "a product of the backward pass in the wrong order or without a "
                  "transpose. Write the shapes down: grad_logits is (N, C), X is (N, D), W is "
                  "(C, D); dL/dX = grad_logits @ W is (N, C) @ (C, D) -> (N, D) and dL/dW = "
                  "grad_logits.T @ X is (C, N) @ (N, D) -> (C, D)."}


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


def check_linear_backward(Linear):
    """grad_X, grad_W, grad_b against closed forms and central differences, with a random upstream."""
    __tracebackhide__ = True  # noqa: F841
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
    __tracebackhide__ = True  # noqa: F841
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


# ------------------------------------------------------------------------------------------------
# Questions and the experiment: the student's functions return numbers; messages teach the idea.
# ------------------------------------------------------------------------------------------------

SHAPES = "Chapter 1, 'The linear layer' (W has shape (C, D), b shape (C,))"


def _answers(fn, name, n, revisit, **kwargs):
    """Call an answer function and return its n answers as a tuple (or fail saying what it got).
    Quietly: a numpy warning in the student's experiment (log10 of a zero error, say) is not a
    mistake of the idea asked for."""
    __tracebackhide__ = True  # noqa: F841
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
    __tracebackhide__ = True  # noqa: F841
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


def check_answer_differences(answer_differences):
    """Errors of the central and the one-sided difference of exp at 0 with eps = 1e-3."""
    __tracebackhide__ = True  # noqa: F841
    eps = 1e-3
    central_true = np.sinh(eps) / eps - 1          # exactly (e^eps - e^-eps) / (2 eps) - 1
    one_sided_true = np.expm1(eps) / eps - 1       # exactly (e^eps - 1) / eps - 1
    central, one_sided = _answers(answer_differences, "answer_differences", 2, TRUNCATION)
    what = "answer_differences() for f(x) = exp(x) at x = 0 with eps = 1e-3"
    c, o = _number(central), _number(one_sided)
    if c is None or o is None:
        fail(f"{what} should return two numbers.", expected="two floats",
             got=describe((central, one_sided)), revisit=TRUNCATION)
    c, o = abs(c), abs(o)

    def near(x, y):
        return bool(np.isclose(x, y, rtol=0.03, atol=0))

    if near(c, one_sided_true) and near(o, central_true):
        fail(f"{what}: the two errors are swapped. The central difference is the accurate one: "
             "its error is about (eps**2 / 6) |f'''(x)|, the one-sided one's about "
             "(eps / 2) |f''(x)|.", expected="a central error much smaller than the one-sided",
             got=describe((central, one_sided)), revisit=TRUNCATION)
    if near(c, eps ** 2) or near(c, eps ** 2 / 2) or near(c, eps ** 2 / 3):
        fail(f"{what}: the central error has the right order, eps**2, but the wrong factor. The "
             "Taylor expansion gives (eps**2 / 6) f'''(x).", expected="about 1.7e-07",
             got=describe(central), revisit=TRUNCATION)
    if near(o, eps) or near(o, eps ** 2 / 2):
        fail(f"{what}: the one-sided error is about (eps / 2) f''(x): first order in eps, with "
             "a factor 1/2.", expected="about 5.0e-04", got=describe(one_sided),
             revisit=TRUNCATION)
    if not near(c, central_true):
        fail(f"{what}: wrong error of the central difference (f(eps) - f(-eps)) / (2 eps) "
             "against f'(0) = 1.", expected="about 1.7e-07", got=describe(central),
             revisit=TRUNCATION)
    if not near(o, one_sided_true):
        fail(f"{what}: wrong error of the one-sided difference (f(eps) - f(0)) / eps against "
             "f'(0) = 1.", expected="about 5.0e-04", got=describe(one_sided), revisit=TRUNCATION)


def check_experiment_step(experiment_step):
    """The V of the central difference: best steps in float64 and float32, truncation slope."""
    __tracebackhide__ = True  # noqa: F841
    best64, best32, slope = _answers(experiment_step, "experiment_step", 3, ROUNDING,
                                     plot=False)
    what = "experiment_step() for f(x) = exp(x) at x = 1"
    b64, b32, s = _number(best64), _number(best32), _number(slope)
    if b64 is None or b32 is None or s is None:
        fail(f"{what} should return three numbers.", expected="(best step in float64, best step "
             "in float32, slope)", got=describe((best64, best32, slope)), revisit=ROUNDING)
    if b64 <= 0 or b32 <= 0:
        fail(f"{what}: a step is a positive number. Return the step h itself, not log10(h).",
             expected="steps between 1e-12 and 1", got=describe((best64, best32)),
             revisit=ROUNDING)
    if b64 < 1e-9:
        fail(f"{what}: the smallest step is not the most accurate one. Below the best step the "
             "rounding error, about u |f| / h, grows as h shrinks.",
             expected="a float64 step near u**(1/3), about 1e-5", got=describe(best64),
             revisit=ROUNDING)
    if b32 < b64:
        fail(f"{what}: the best float32 step should be larger than the best float64 step: "
             "float32's larger u makes the rounding error u |f| / h larger, which pushes the "
             "best step up (to about u**(1/3)).", expected="best float32 step > best float64 "
             "step", got=describe((best64, best32)), revisit=ROUNDING)
    if not 1e-7 <= b64 <= 1e-4:
        fail(f"{what}: the best float64 step is off. The error model u |f| / h + h**2 |f'''| / 6 "
             "is smallest near u**(1/3).", expected="a step between 1e-7 and 1e-4",
             got=describe(best64), revisit=ROUNDING)
    if not 1e-4 <= b32 <= 1e-1:
        fail(f"{what}: the best float32 step is off. The error model u |f| / h + h**2 |f'''| / 6 "
             "is smallest near u**(1/3), with float32's u.", expected="a step between 1e-4 and "
             "1e-1", got=describe(best32), revisit=ROUNDING)
    if abs(s + 1) < 0.3:
        fail(f"{what}: a slope near -1 is the rounding side of the V (small h). Fit the slope on "
             "the truncation side, h from 1e-3 to 1e-1.", expected="a slope near 2",
             got=describe(slope), revisit=TRUNCATION)
    if abs(s - 1) < 0.2:
        fail(f"{what}: a slope near 1 is the error of a one-sided difference. The central "
             "difference's truncation error is O(h**2).", expected="a slope near 2",
             got=describe(slope), revisit=TRUNCATION)
    if not 1.8 <= s <= 2.2:
        fail(f"{what}: the slope of log10(error) against log10(h) on the truncation side is the "
             "power of h in the truncation error.", expected="a slope near 2",
             got=describe(slope), revisit=TRUNCATION)


# Each question's right answer for a student's numbers (`python -m autograder numbers` prints
# them; tests/test_variants.py checks that classmates' answers differ).
ANSWERS = {
    "test-answer-shapes": right_shapes,
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
