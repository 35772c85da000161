"""Hidden checks for the `multilabel` exercise (chapter 6): predict_multilabel, the three metrics,
tune_thresholds and train_multilabel.

Oracles: the logit form of a threshold (z > log(t / (1 - t))), scikit-learn's `hamming_loss`,
`accuracy_score` and `f1_score(zero_division=0)`, a brute-force F1 search over the grid, and, for
training, the quality a trained model reaches on held-out data; never the reference solution.
"""
import functools

import numpy as np

from ._common import (describe, expect_close, expect_shape, expect_unchanged, fail, rng,
                      snapshot, strict_call)

PREDICT = "Chapter 6, 'From probabilities to label sets': one sigmoid per class, True where sigmoid(z) > t_k"
METRICS = "Chapter 6, 'Measuring a set of predictions': Hamming loss, subset accuracy, per-class F1"
THRESHOLDS = "Chapter 6, 'One threshold per class, tuned on validation data'"
TRAIN = ("Chapter 6, 'The loss: one binary cross-entropy per class' (gradient (S - Y) / (N C)) and "
         "the worked example's training loop")




def _sigmoid(z):
    return np.exp(-np.logaddexp(0.0, -np.asarray(z, dtype=np.float64)))


def _softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _bce(Z, Y):
    Z = np.asarray(Z, dtype=np.float64)
    return float(np.mean(np.maximum(Z, 0) - Z * Y + np.log1p(np.exp(-np.abs(Z)))))


def _as_bool_array(out, *, what, revisit):
    arr = np.asarray(out)
    if arr.dtype == object:
        fail(f"{what} did not return an array.", expected="a numpy array", got=describe(out),
             revisit=revisit)
    return arr


# ---------------------------------------------------------------------------------------------
# multilabel-predict

def check_predict_multilabel(predict_multilabel):
    """Scalar and per-class thresholds, bool (N, C), strict '>', extreme logits, inputs untouched."""
    __tracebackhide__ = True  # noqa: F841
    g = rng(60)
    cases = []
    for N, C in [(6, 4), (1, 3), (5, 7), (4, 4)]:
        z = g.normal(scale=3.0, size=(N, C))
        cases += [(z, 0.5), (z, 0.3), (z, g.uniform(0.1, 0.9, size=C)),
                  (z, list(g.uniform(0.05, 0.95, size=C)))]
    for z, thresholds in cases:
        t = np.asarray(thresholds, dtype=np.float64)
        kind = "one threshold per class" if t.ndim else f"thresholds={float(t)}"
        what = f"predict_multilabel(z, thresholds) with z of shape {z.shape} and {kind}"
        inputs = (snapshot(z=z, thresholds=thresholds) if isinstance(thresholds, np.ndarray)
                  else snapshot(z=z))
        expected = z > np.log(t / (1 - t))
        out = strict_call(predict_multilabel, z, thresholds, what=what, revisit=PREDICT)
        expect_unchanged(inputs, what=what, revisit=PREDICT)
        z = inputs["z"][1]
        out = _as_bool_array(out, what=what, revisit=PREDICT)
        expect_shape(out, expected.shape, what=what + " (one answer per example and class)",
                     revisit=PREDICT)
        if out.dtype != bool:
            fail(f"{what} should return a bool array (True where a label is predicted).",
                 expected="dtype bool", got=describe(out), revisit=PREDICT)
        if not np.array_equal(out, expected):
            if np.array_equal(out, _softmax(z) > t):
                fail(f"{what} thresholds a softmax over the classes. In a multi-label problem the "
                     "classes are not exclusive: each class gets its own sigmoid.",
                     expected=describe(expected), got=describe(out), revisit=PREDICT)
            if t.ndim and np.array_equal(out, z > np.log(t[0] / (1 - t[0]))):
                fail(f"{what} uses the same threshold (the first one) for every class; column k "
                     "must be compared with thresholds[k].", expected=describe(expected),
                     got=describe(out), revisit=PREDICT)
            if np.array_equal(out, z > t):
                fail(f"{what} compares the logits themselves with the thresholds. The thresholds "
                     "are probabilities: compare sigmoid(z) with t (or z with log(t / (1 - t))).",
                     expected=describe(expected), got=describe(out), revisit=PREDICT)
            fail(f"{what} predicted the wrong labels.", expected=describe(expected),
                 got=describe(out), revisit=PREDICT)

    # sigmoid(0) = 0.5 exactly: a label is predicted only when the probability EXCEEDS t.
    z = np.array([[0.0, 0.0, 1e-3], [-1e-3, 0.0, 0.0]])
    what = "predict_multilabel(z, 0.5) with logits 0 (probability exactly 0.5)"
    out = strict_call(predict_multilabel, z, 0.5, what=what, revisit=PREDICT)
    expected = z > 0
    if not np.array_equal(out, expected):
        fail(f"{what}: a label is predicted only when sigmoid(z) is strictly greater than the "
             "threshold, so logit 0 with threshold 0.5 gives False.", expected=describe(expected),
             got=describe(np.asarray(out)), revisit=PREDICT)

    # Extreme logits: no overflow, no warning (use the stable sigmoid given in the notebook).
    z = np.array([[1e4, -1e4, 800.0, -800.0], [-50.0, 50.0, 1e3, -1e3]])
    t = np.array([0.5, 0.5, 0.999, 0.001])
    what = "predict_multilabel(z, thresholds) with logits of size 50 to 1e4"
    out = strict_call(predict_multilabel, z, t, what=what, revisit=PREDICT + " (use the stable sigmoid "
               "given above)")
    expect_close(np.asarray(out, dtype=float), (z > np.log(t / (1 - t))).astype(float), what=what,
                 revisit=PREDICT, rtol=0, atol=0)

    z32 = g.normal(size=(3, 2)).astype(np.float32)
    what = "predict_multilabel(z, 0.4) with float32 logits"
    out = strict_call(predict_multilabel, z32, 0.4, what=what, revisit=PREDICT)
    expect_close(np.asarray(out, dtype=float), (z32.astype(float) > np.log(0.4 / 0.6)).astype(float),
                 what=what, revisit=PREDICT, rtol=0, atol=0)


# ---------------------------------------------------------------------------------------------
# multilabel-metrics

def _label_pairs(seed):
    """Random (Y_true, Y_pred) pairs as bool, 0/1 int and 0/1 float arrays."""
    g = rng(seed)
    pairs = []
    for N, C in [(8, 3), (20, 5), (1, 4), (13, 1)]:
        Y_true = g.random((N, C)) < 0.4
        Y_pred = np.where(g.random((N, C)) < 0.75, Y_true, ~Y_true)
        pairs.append((Y_true, Y_pred, "bool"))
    Y_true = g.random((10, 4)) < 0.5
    Y_pred = np.where(g.random((10, 4)) < 0.8, Y_true, ~Y_true)
    pairs.append((Y_true.astype(int), Y_pred.astype(int), "0/1 int"))
    pairs.append((Y_true.astype(float), Y_pred.astype(float), "0/1 float"))
    return pairs


def check_hamming_subset(hamming_loss, subset_accuracy):
    """Both scores against scikit-learn, for bool, int and float labels; a scalar; inputs untouched."""
    __tracebackhide__ = True  # noqa: F841
    from sklearn import metrics

    for Y_true, Y_pred, kind in _label_pairs(61):
        shape = Y_true.shape
        inputs = snapshot(Y_true=Y_true, Y_pred=Y_pred)
        wrong = Y_true.astype(bool) != Y_pred.astype(bool)

        what = f"hamming_loss(Y_true, Y_pred) for {kind} labels of shape {shape}"
        got = strict_call(hamming_loss, Y_true, Y_pred, what=what, revisit=METRICS)
        expected = metrics.hamming_loss(Y_true, Y_pred)
        expect_shape(got, (), what=what + " (one number)", revisit=METRICS)
        if not np.isclose(float(got), expected):
            if np.isclose(float(got), wrong.any(axis=1).mean()) and not np.isclose(
                    expected, wrong.any(axis=1).mean()):
                fail(f"{what} is the fraction of examples with at least one wrong label. The "
                     "Hamming loss is the fraction of the N * C individual answers that are wrong.",
                     expected=f"{expected:.6g}", got=describe(got), revisit=METRICS)
            if np.isclose(float(got), wrong.sum()):
                fail(f"{what} is the number of wrong answers; the Hamming loss is a fraction "
                     "(divide by N * C).", expected=f"{expected:.6g}", got=describe(got),
                     revisit=METRICS)
            expect_close(got, expected, what=what, revisit=METRICS)
        expect_unchanged(inputs, what=what, revisit=METRICS)

        what = f"subset_accuracy(Y_true, Y_pred) for {kind} labels of shape {shape}"
        got = strict_call(subset_accuracy, Y_true, Y_pred, what=what, revisit=METRICS)
        expected = metrics.accuracy_score(Y_true, Y_pred)
        expect_shape(got, (), what=what + " (one number)", revisit=METRICS)
        if not np.isclose(float(got), expected):
            if np.isclose(float(got), 1 - wrong.mean()):
                fail(f"{what} is the fraction of right answers (1 - Hamming loss). An example "
                     "counts as right for the subset accuracy only when ALL its labels are right.",
                     expected=f"{expected:.6g}", got=describe(got), revisit=METRICS)
            expect_close(got, expected, what=what, revisit=METRICS)
        expect_unchanged(inputs, what=what, revisit=METRICS)


def check_f1_per_class(f1_per_class):
    """Per-class F1 against scikit-learn (zero_division=0), absent classes give 0 with no warning."""
    __tracebackhide__ = True  # noqa: F841
    from sklearn import metrics

    pairs = _label_pairs(62)
    # A class that is neither present nor predicted (F1 = 0), and one present but never predicted.
    Y_true = np.array([[1, 0, 0, 1], [0, 0, 1, 1], [1, 0, 0, 0], [0, 0, 1, 1], [0, 0, 0, 0]],
                      dtype=bool)
    Y_pred = np.array([[1, 0, 0, 0], [1, 0, 0, 1], [1, 0, 0, 0], [0, 0, 0, 1], [0, 0, 0, 0]],
                      dtype=bool)
    pairs.insert(0, (Y_true, Y_pred, "bool (class 1 never present nor predicted)"))
    for Y_true, Y_pred, kind in pairs:
        C = Y_true.shape[1]
        inputs = snapshot(Y_true=Y_true, Y_pred=Y_pred)
        what = f"f1_per_class(Y_true, Y_pred) for {kind} labels of shape {Y_true.shape}"
        got = strict_call(f1_per_class, Y_true, Y_pred, what=what,
                revisit=METRICS + " (compute 2TP / (2TP + FP + FN) without dividing by 0)")
        expected = np.array([metrics.f1_score(Y_true[:, k], Y_pred[:, k], zero_division=0)
                             for k in range(C)])
        expect_shape(got, (C,), what=what + " (one F1 per class, i.e. per column)", revisit=METRICS)
        got_arr = np.asarray(got, dtype=float)
        yt, yp = Y_true.astype(bool), Y_pred.astype(bool)
        tp, fp, fn = ((yt & yp).sum(0), (~yt & yp).sum(0), (yt & ~yp).sum(0))
        if np.isnan(got_arr).any():
            fail(f"{what} contains nan. The F1 of a class that is neither present nor predicted "
                 "(2TP + FP + FN = 0) is defined as 0, like scikit-learn's zero_division=0.",
                 expected=describe(expected), got=describe(got_arr), revisit=METRICS)
        with np.errstate(all="ignore"):
            jaccard = np.where(tp + fp + fn > 0, tp / np.maximum(tp + fp + fn, 1), 0.0)
        if not np.allclose(got_arr, expected) and np.allclose(got_arr, jaccard):
            fail(f"{what} is TP / (TP + FP + FN), the Jaccard index. The F1 score is "
                 "2 TP / (2 TP + FP + FN), the harmonic mean of precision and recall.",
                 expected=describe(expected), got=describe(got_arr), revisit=METRICS)
        expect_close(got, expected, what=what, revisit=METRICS)
        expect_unchanged(inputs, what=what, revisit=METRICS)


# ---------------------------------------------------------------------------------------------
# multilabel-thresholds

def _f1_table(probs, Y, grid, greater=True):
    """F1 of every class at every grid value, with scikit-learn: shape (len(grid), C)."""
    from sklearn import metrics
    op = np.greater if greater else np.greater_equal
    return np.array([[metrics.f1_score(Y[:, k], op(probs[:, k], t), zero_division=0)
                      for k in range(Y.shape[1])] for t in grid])


def _threshold_data():
    g = rng(63)
    grid = np.arange(1, 20) / 20                           # 0.05, 0.10, ..., 0.95
    N = 120
    on_grid = np.round(g.random((N, 2)) * 20) / 20          # probabilities that hit grid values
    Y0 = g.random(N) < on_grid[:, 0] ** 0.7
    Y1 = g.random(N) < 0.3 + 0.4 * on_grid[:, 1]
    two_valued = np.where(g.random(N) < 0.5, 0.2, 0.8)      # many thresholds tie: take the first
    Y2 = g.random(N) < two_valued
    rare = g.random(N) * 0.6                                # a class with no positives at all
    probs = np.column_stack([on_grid, two_valued, rare])
    Y = np.column_stack([Y0, Y1, Y2, np.zeros(N, bool)]).astype(float)
    return probs, Y, grid


def check_tune_thresholds(tune_thresholds):
    """Per-class F1-maximising thresholds, first grid value on ties, strict '>', no warnings."""
    __tracebackhide__ = True  # noqa: F841
    probs, Y, grid = _threshold_data()
    C = Y.shape[1]
    table = _f1_table(probs, Y, grid)
    expected = grid[np.argmax(table, axis=0)]
    inputs = snapshot(probs=probs, Y=Y, grid=grid)
    what = (f"tune_thresholds(probs, Y, grid) with probs of shape {probs.shape} and "
            f"grid = {grid[0]:.2f}, {grid[1]:.2f}, ..., {grid[-1]:.2f}")
    got = strict_call(tune_thresholds, probs, Y, grid, what=what, revisit=THRESHOLDS)
    expect_shape(got, (C,), what=what + " (one threshold per class)", revisit=THRESHOLDS)
    got_arr = np.asarray(got, dtype=float)
    if not np.allclose(got_arr, expected):
        if np.all(np.isin(np.round(got_arr), np.arange(len(grid)))) and np.allclose(
                grid[np.round(got_arr).astype(int)], expected):
            fail(f"{what} returned positions in the grid; return the grid values themselves.",
                 expected=describe(expected), got=describe(got_arr), revisit=THRESHOLDS)
        if np.allclose(got_arr, got_arr[0]):
            fail(f"{what} gave every class the same threshold. Tune each class separately: for "
                 "class k keep the grid value that maximises the F1 of column k.",
                 expected=describe(expected), got=describe(got_arr), revisit=THRESHOLDS)
        last = grid[len(grid) - 1 - np.argmax(table[::-1], axis=0)]
        if np.allclose(got_arr, last):
            fail(f"{what} breaks ties towards the LAST grid value; when several thresholds give "
                 "the same best F1, keep the first one in the grid (np.argmax does).",
                 expected=describe(expected), got=describe(got_arr), revisit=THRESHOLDS)
        with_ge = grid[np.argmax(_f1_table(probs, Y, grid, greater=False), axis=0)]
        if np.allclose(got_arr, with_ge):
            fail(f"{what} predicts a label when probs >= t. Use the same rule as "
                 "predict_multilabel: a label is predicted when its probability is strictly "
                 "greater than the threshold.", expected=describe(expected), got=describe(got_arr),
                 revisit=THRESHOLDS)
        accuracy = np.array([[np.mean((probs[:, k] > t) == Y[:, k].astype(bool)) for k in range(C)]
                             for t in grid])
        if np.allclose(got_arr, grid[np.argmax(accuracy, axis=0)]):
            fail(f"{what} maximises the accuracy of each class, not its F1.",
                 expected=describe(expected), got=describe(got_arr), revisit=THRESHOLDS)
        expect_close(got_arr, expected, what=what + " (per class, the first grid value with the "
                     "highest F1; class 3 has no positives, so every threshold ties at F1 = 0)",
                     revisit=THRESHOLDS)
    expect_unchanged(inputs, what=what, revisit=THRESHOLDS)

    # A grid given as a list, and a single class.
    g = rng(64)
    p1 = g.random((50, 1))
    y1 = (g.random((50, 1)) < p1).astype(int)
    grid1 = [0.25, 0.5, 0.75]
    what = "tune_thresholds(probs, Y, grid) with one class, integer Y and grid = [0.25, 0.5, 0.75]"
    got = strict_call(tune_thresholds, p1, y1, grid1, what=what, revisit=THRESHOLDS)
    expected = np.asarray(grid1)[np.argmax(_f1_table(p1, y1, grid1), axis=0)]
    expect_close(got, expected, what=what, revisit=THRESHOLDS)


# ---------------------------------------------------------------------------------------------
# multilabel-train

def _digits():
    """Fresh copies of the chapter's data (a student's code may write into what it is given)."""
    return tuple(a.copy() for a in _digits_cached())


@functools.lru_cache(maxsize=1)
def _digits_cached():
    """The chapter's data: load_digits with four derived labels, split 1000 / 797 at random."""
    from sklearn.datasets import load_digits
    digits = load_digits()
    X = digits.data / 16.0
    d = digits.target
    Y = np.column_stack([d % 2 == 0, d > 4, np.isin(d, [2, 3, 5, 7]),
                         np.isin(d, [0, 6, 8, 9])]).astype(float)
    order = np.random.default_rng(2024).permutation(len(d))
    return X[order[:1000]], Y[order[:1000]], X[order[1000:]], Y[order[1000:]]


def _train(train_multilabel, X, Y, lr, epochs, seed=0):
    what = f"train_multilabel(X, Y, lr={lr}, epochs={epochs}, seed={seed}) with X {X.shape}, Y {Y.shape}"
    model = strict_call(train_multilabel, X, Y, lr, epochs, seed=seed, what=what, revisit=TRAIN)
    C, D = Y.shape[1], X.shape[1]
    if not hasattr(model, "forward") or not hasattr(model, "W") or not hasattr(model, "b"):
        fail(f"{what} should return the trained Linear layer (with forward, W and b).",
             expected="a Linear", got=describe(model), revisit=TRAIN)
    expect_shape(model.W, (C, D), what=f"the W of the layer returned by {what}", revisit=TRAIN)
    expect_shape(model.b, (C,), what=f"the b of the layer returned by {what}", revisit=TRAIN)
    Z = strict_call(model.forward, X, what=f"forward(X) of the layer returned by {what}",
              revisit=TRAIN)
    expect_shape(Z, Y.shape, what=f"the logits of the layer returned by {what}", revisit=TRAIN)
    if not np.all(np.isfinite(Z)):
        fail(f"The layer returned by {what} outputs non-finite logits: the training diverged.",
             expected="finite logits", got=describe(np.asarray(Z)), revisit=TRAIN)
    return model, what


def check_train_loss(train_multilabel):
    """The training loss goes down as epochs grow; same seed, same model; inputs untouched."""
    __tracebackhide__ = True  # noqa: F841
    X_all, Y_all, _, _ = _digits()
    X, Y = X_all[:500].copy(), Y_all[:500].copy()
    inputs = snapshot(X=X, Y=Y)
    losses = {}
    for epochs in (5, 30, 150):
        model, what = _train(train_multilabel, X, Y, 2.0, epochs)
        expect_unchanged(inputs, what=what, revisit=TRAIN)
        losses[epochs] = _bce(model.forward(X), Y)
    report = ", ".join(f"epochs={e}: {v:.4f}" for e, v in losses.items())
    if not losses[5] > losses[30] > losses[150]:
        if np.isclose(losses[5], losses[150]):
            fail("The training loss is the same whatever `epochs` is: train for exactly `epochs` "
                 "steps of gradient descent.", expected="a loss that decreases with epochs",
                 got=f"mean BCE on the training data {report}", revisit=TRAIN)
        fail("The mean binary cross-entropy on the training data should go down as training goes "
             "on (lr=2.0). Check the sign of the update (W - lr * grad_W), the gradient "
             "(sigmoid(Z) - Y) / (N * C), and that every class has its own sigmoid.",
             expected="a loss that decreases with epochs", got=f"mean BCE {report}", revisit=TRAIN)
    if losses[150] > 0.45:
        fail("After 150 epochs with lr=2.0 the training loss should be well below log 2 = 0.693 "
             "(the reference reaches about 0.25).", expected="a mean BCE below 0.45",
             got=f"mean BCE {report}", revisit=TRAIN)
    first, _ = _train(train_multilabel, X, Y, 2.0, 5, seed=3)
    again, what = _train(train_multilabel, X, Y, 2.0, 5, seed=3)
    if not (np.array_equal(first.W, again.W) and np.array_equal(first.b, again.b)):
        fail(f"Two calls of {what} returned different weights. Draw the initial weights from "
             "np.random.default_rng(seed), so that the same seed gives the same model.",
             expected="identical W and b", got="different W or b", revisit=TRAIN)


def check_train_quality(train_multilabel):
    """Held-out quality on the chapter's digits, and on a problem that needs the bias."""
    __tracebackhide__ = True  # noqa: F841
    from sklearn import metrics
    X, Y, X_test, Y_test = _digits()
    model, what = _train(train_multilabel, X, Y, 2.0, 300)
    Z_test = model.forward(X_test)
    f1 = metrics.f1_score(Y_test, Z_test > 0, average="macro", zero_division=0)
    ham = metrics.hamming_loss(Y_test, Z_test > 0)
    loss = _bce(Z_test, Y_test)
    if f1 < 0.85 or ham > 0.13 or loss > 0.32:
        fail(f"The layer returned by {what} on 1000 digits does not reach the expected quality on "
             "797 held-out digits (the reference: macro-F1 about 0.90, Hamming loss about 0.09, "
             "mean BCE about 0.23).",
             expected="macro-F1 >= 0.85, Hamming loss <= 0.13 and mean BCE <= 0.32 at threshold 0.5",
             got=f"macro-F1 {f1:.3f}, Hamming loss {ham:.3f}, mean BCE {loss:.3f}", revisit=TRAIN)

    # Labels that need an offset: x0 > -1, x1 > 1, x0 + x2 > 0.5. Without a trained bias the
    # decision boundaries must pass through the origin.
    g = rng(65)
    Xs = g.normal(size=(600, 3))
    Ys = np.column_stack([Xs[:, 0] > -1.0, Xs[:, 1] > 1.0, Xs[:, 0] + Xs[:, 2] > 0.5]).astype(int)
    short, _ = _train(train_multilabel, Xs[:400], Ys[:400], 1.0, 5)
    model, what = _train(train_multilabel, Xs[:400], Ys[:400], 1.0, 300)
    Z = model.forward(Xs[400:])
    ham = metrics.hamming_loss(Ys[400:], Z > 0)
    if ham > 0.05:
        if np.array_equal(np.asarray(short.b), np.asarray(model.b)):
            fail(f"The bias b of the layer returned by {what} never changed during training. The "
                 "bias has its own gradient, the upstream gradient summed over the batch; update "
                 "b as well as W.", expected="a trained bias", got=f"b = {describe(model.b)} after "
                 "5 and after 300 epochs", revisit=TRAIN)
        fail(f"On three labels that need an offset (x0 > -1, x1 > 1, x0 + x2 > 0.5), the layer "
             f"returned by {what} gets too many held-out answers wrong.",
             expected="Hamming loss <= 0.05 (the reference: about 0.01)", got=f"Hamming loss {ham:.3f}",
             revisit=TRAIN)


TESTS = {
    "test-multilabel-predict": check_predict_multilabel,
    "test-hamming-subset": check_hamming_subset,
    "test-f1-per-class": check_f1_per_class,
    "test-tune-thresholds": check_tune_thresholds,
    "test-train-loss": check_train_loss,
    "test-train-quality": check_train_quality,
}
