"""Hidden checks for the `multilabel` exercise (chapter 6): predict_multilabel, the three metrics,
tune_thresholds, train_multilabel (which returns the parameters (W, b)), three questions answered by
functions on the student's own numbers, and the rare-label experiment.

Oracles: the logit form of a threshold (a logit above the log-odds of its threshold),
scikit-learn's `hamming_loss`, `accuracy_score` and `f1_score(zero_division=0)`, a brute-force F1
search over the grid, closed forms of the student's numbers for the questions (`ANSWERS`), and,
for training, the quality a trained model reaches on held-out data; the experiment is run on data,
a grid and training parameters the notebook never shows, and compared with the same recipe applied
to the student's own train_multilabel, so that a wrong trainer is graded once, in its own cells.
Never the reference solution.
"""
import functools
import math

import numpy as np

from ._common import (answer, batched_call, describe, expect_close, expect_shape, expect_unchanged,
                      fail, numbers, public_rng, quiet_call, rng, snapshot, strict_call)

PREDICT = "Chapter 6, 'From probabilities to label sets': one sigmoid per class, True where sigmoid(z) > t_k"
F1_HINT = ("0/0 for a class that is never present nor predicted (TP + FP + FN = 0): the F1 of "
           "such a class is defined as 0, so divide only where the denominator is positive "
           "(np.where with a safe denominator, or np.divide(..., where=...)).")
PREDICT_HINTS = {
    "broadcast": "the thresholds lined up with the wrong axis. z is (N, C) and there is one "
                 "threshold per class, shape (C,): compared as they are, they line up with the "
                 "last axis, the classes; reshaped to a column (C, 1) they would line up with "
                 "the rows.",
    "floating-point": "a sigmoid computed as 1 / (1 + exp(-z)) overflows for very negative z: "
                      "use scipy's expit, or compare each logit with the log-odds of its "
                      "threshold.",
}
METRICS = "Chapter 6, 'Measuring a set of predictions': Hamming loss, subset accuracy, per-class F1"
THRESHOLDS = "Chapter 6, 'One threshold per class, tuned on validation data'"
TRAIN = ("Chapter 6, 'The loss: one binary cross-entropy per class' (the gradient with respect "
         "to the logits), Chapter 6, 'Training one label at a time' and Chapter 1, 'The backward "
         "pass of a linear layer'")
OUTPUTS = "Chapter 6, 'Looking at the predictions' (a softmax over the label sets themselves)"
AVERAGES = "Chapter 6, 'Micro- and macro-averaged F1'"
POS_WEIGHT = "Chapter 6, 'What it does to the decision'"
EXPERIMENT = ("Chapter 6, 'One threshold per class, tuned on validation data', and the steps of "
              "part 7")




# Whole-array operations, not a Python loop (the contract of every part): a loop over the
# examples, or over the N * C answers, runs the interpreter once per row or element and takes
# ten to a hundred times the CPU time of whole-array numpy (_common.batched_call). A loop over
# the few classes, or over the grid, is not one of these.
LOOP_ROWS, LOOP_CLASSES = 250_000, 4
LOOP = ("the contract: whole-array operations on the (N, C) arrays, no Python loop over the "
        "examples or the answers (numpy's comparisons work elementwise, and its reductions take "
        "an `axis`)")


def _many_answers(seed):
    """A large (N, C) problem: logits, and true and predicted 0/1 labels."""
    g = rng(seed)
    z = g.normal(scale=3.0, size=(LOOP_ROWS, LOOP_CLASSES))
    Y_true = g.random((LOOP_ROWS, LOOP_CLASSES)) < 0.4
    Y_pred = np.where(g.random((LOOP_ROWS, LOOP_CLASSES)) < 0.8, Y_true, ~Y_true)
    return z, Y_true, Y_pred


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
        out = strict_call(predict_multilabel, z, thresholds, what=what, revisit=PREDICT,
                          hints=PREDICT_HINTS)
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
                     "are probabilities: compare each probability with its threshold, or each "
                     "logit with the threshold's log-odds.",
                     expected=describe(expected), got=describe(out), revisit=PREDICT)
            fail(f"{what} predicted the wrong labels.", expected=describe(expected),
                 got=describe(out), revisit=PREDICT)

    # sigmoid(0) = 0.5 exactly: a label is predicted only when the probability EXCEEDS t.
    z = np.array([[0.0, 0.0, 1e-3], [-1e-3, 0.0, 0.0]])
    what = "predict_multilabel(z, 0.5) with logits 0 (probability exactly 0.5)"
    out = strict_call(predict_multilabel, z, 0.5, what=what, revisit=PREDICT,
                      hints=PREDICT_HINTS)
    expected = z > 0
    if not np.array_equal(out, expected):
        fail(f"{what}: a label is predicted only when sigmoid(z) is strictly greater than the "
             "threshold, so logit 0 with threshold 0.5 gives False.", expected=describe(expected),
             got=describe(np.asarray(out)), revisit=PREDICT)

    # Extreme logits: no overflow, no warning (use the stable sigmoid given in the notebook).
    z = np.array([[1e4, -1e4, 800.0, -800.0], [-50.0, 50.0, 1e3, -1e3]])
    t = np.array([0.5, 0.5, 0.999, 0.001])
    what = "predict_multilabel(z, thresholds) with logits of size 50 to 1e4"
    out = strict_call(predict_multilabel, z, t, what=what, revisit=PREDICT + " (use scipy's expit, "
                      "which never overflows, or compare z with the log-odds of t)",
                      hints=PREDICT_HINTS)
    expect_close(np.asarray(out, dtype=float), (z > np.log(t / (1 - t))).astype(float), what=what,
                 revisit=PREDICT, rtol=0, atol=0)

    z32 = g.normal(size=(3, 2)).astype(np.float32)
    what = "predict_multilabel(z, 0.4) with float32 logits"
    out = strict_call(predict_multilabel, z32, 0.4, what=what, revisit=PREDICT,
                      hints=PREDICT_HINTS)
    expect_close(np.asarray(out, dtype=float), (z32.astype(float) > np.log(0.4 / 0.6)).astype(float),
                 what=what, revisit=PREDICT, rtol=0, atol=0)

    # No Python loop over the examples or the answers.
    z, _, _ = _many_answers(69)
    t = np.array([0.2, 0.5, 0.7, 0.9])
    what = f"predict_multilabel(z, thresholds) on {LOOP_ROWS} examples of {LOOP_CLASSES} classes"
    out = batched_call(predict_multilabel, z, t, reference=lambda: z > np.log(t / (1 - t)),
                       what=what, revisit=LOOP + "; " + PREDICT, hints=PREDICT_HINTS)
    expect_close(np.asarray(out, dtype=float), (z > np.log(t / (1 - t))).astype(float), what=what,
                 revisit=PREDICT, rtol=0, atol=0)


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

    # No Python loop over the examples or the answers.
    _, Y_true, Y_pred = _many_answers(70)
    size = f"{LOOP_ROWS} examples of {LOOP_CLASSES} labels"
    for fn, name, reference in [
            (hamming_loss, "hamming_loss", lambda: np.mean(Y_true != Y_pred)),
            (subset_accuracy, "subset_accuracy", lambda: np.mean(np.all(Y_true == Y_pred, axis=1)))]:
        what = f"{name}(Y_true, Y_pred) on {size}"
        got = batched_call(fn, Y_true, Y_pred, reference=reference, what=what,
                           revisit=LOOP + "; " + METRICS)
        expect_close(got, reference(), what=what, revisit=METRICS)


def check_f1_per_class(f1_per_class):
    """Per-class F1 against scikit-learn (zero_division=0), absent classes give 0 with no warning."""
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
        got = strict_call(f1_per_class, Y_true, Y_pred, what=what, hint=F1_HINT,
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

    # No Python loop over the examples or the answers (a loop over the C classes is fine).
    _, Y_true, Y_pred = _many_answers(71)

    def counted():
        tp = (Y_true & Y_pred).sum(axis=0)
        return 2 * tp / (Y_true.sum(axis=0) + Y_pred.sum(axis=0))
    what = f"f1_per_class(Y_true, Y_pred) on {LOOP_ROWS} examples of {LOOP_CLASSES} labels"
    got = batched_call(f1_per_class, Y_true, Y_pred, reference=counted, what=what,
                       revisit=LOOP + "; " + METRICS)
    expect_close(got, counted(), what=what, revisit=METRICS)


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
    probs, Y, grid = _threshold_data()
    C = Y.shape[1]
    table = _f1_table(probs, Y, grid)
    expected = grid[np.argmax(table, axis=0)]
    inputs = snapshot(probs=probs, Y=Y, grid=grid)
    what = (f"tune_thresholds(probs, Y, grid) with probs of shape {probs.shape} and "
            f"grid = {grid[0]:.2f}, {grid[1]:.2f}, ..., {grid[-1]:.2f}")
    got = strict_call(tune_thresholds, probs, Y, grid, what=what, revisit=THRESHOLDS,
                      hint=F1_HINT)
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
    got = strict_call(tune_thresholds, p1, y1, grid1, what=what, revisit=THRESHOLDS,
                      hint=F1_HINT)
    expected = np.asarray(grid1)[np.argmax(_f1_table(p1, y1, grid1), axis=0)]
    expect_close(got, expected, what=what, revisit=THRESHOLDS)


# ---------------------------------------------------------------------------------------------
# multilabel-train

@functools.lru_cache(maxsize=1)
def _load_digits():
    """load_digits with the chapter's four derived labels, and the digit itself."""
    from sklearn.datasets import load_digits
    digits = load_digits()
    X = digits.data / 16.0
    d = digits.target
    Y = np.column_stack([d % 2 == 0, d > 4, np.isin(d, [2, 3, 5, 7]),
                         np.isin(d, [0, 6, 8, 9])]).astype(float)
    return X, Y, d


def _digits(k=66):
    """Fresh copies of the chapter's data (a student's code may write into what it is given),
    split 1000 / 797 at random by the public generator number k (the same split in every run)."""
    X, Y, _ = _load_digits()
    order = public_rng(k).permutation(len(X))
    return X[order[:1000]].copy(), Y[order[:1000]].copy(), X[order[1000:]].copy(), \
        Y[order[1000:]].copy()


class _Model:
    """What the checks know of a trained layer: its parameters, and the logits they give."""

    def __init__(self, W, b):
        self.W, self.b = W, b

    def forward(self, X):
        return X @ self.W.T + self.b


def _train(train_multilabel, X, Y, lr, epochs, seed=0):
    what = f"train_multilabel(X, Y, lr={lr}, epochs={epochs}, seed={seed}) with X {X.shape}, Y {Y.shape}"
    out = strict_call(train_multilabel, X, Y, lr, epochs, seed=seed, what=what, revisit=TRAIN)
    C, D = Y.shape[1], X.shape[1]
    try:
        W, b = out
    except (TypeError, ValueError):
        fail(f"{what} should return the trained parameters as a tuple (W, b).",
             expected=f"a tuple (W, b) with W of shape {(C, D)} and b of shape {(C,)}",
             got=describe(out), revisit=TRAIN)
    W, b = np.asarray(W), np.asarray(b)
    if W.dtype.kind not in "fiu" or b.dtype.kind not in "fiu":
        fail(f"{what} should return the trained parameters as a tuple (W, b) of float arrays.",
             expected=f"a tuple (W, b) with W of shape {(C, D)} and b of shape {(C,)}",
             got=f"{describe(out)}", revisit=TRAIN)
    expect_shape(W, (C, D), what=f"the W returned by {what}", revisit=TRAIN)
    expect_shape(b, (C,), what=f"the b returned by {what}", revisit=TRAIN)
    model = _Model(W.astype(np.float64), b.astype(np.float64))
    with np.errstate(all="ignore"):
        Z = model.forward(X)
    if not np.all(np.isfinite(Z)):
        fail(f"The parameters returned by {what} give non-finite logits: the training diverged.",
             expected="finite logits", got=describe(np.asarray(Z)), revisit=TRAIN)
    return model, what


def _whole_array_steps(X, Y, lr, epochs):
    """What whole-array gradient descent costs: the time a trainer is held to, never an answer."""
    from scipy.special import expit
    W, b = np.zeros((Y.shape[1], X.shape[1])), np.zeros(Y.shape[1])
    for _ in range(epochs):
        G = (expit(X @ W.T + b) - Y) / Y.size
        W, b = W - lr * (G.T @ X), b - lr * G.sum(axis=0)
    return W, b


def _expect_whole_array_training(train_multilabel):
    """No Python loop over the examples or the N * C entries inside an epoch: on the chapter's
    1000 digits and 300 epochs, such a loop runs the interpreter 300 000 times or more and takes
    seconds of CPU, where whole-array steps take a few hundredths of a second."""
    X, Y, _, _ = _digits(66)
    what = (f"train_multilabel(X, Y, lr=2.0, epochs=300, seed=0) with X {X.shape}, Y {Y.shape}")
    batched_call(train_multilabel, X, Y, 2.0, 300, reference=lambda: _whole_array_steps(
        X, Y, 2.0, 300), what=what, revisit=TRAIN + "; " + LOOP + ": each step works on all of "
        "X, Y and the (N, C) logits at once, with matrix products")


def check_train_loss(train_multilabel):
    """The training loss goes down as epochs grow; same seed, same model; inputs untouched;
    whole-array steps."""
    _expect_whole_array_training(train_multilabel)
    X_all, Y_all, _, _ = _digits(66)
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
             "on (lr=2.0). Check the sign of the update (a step goes against the gradient), the "
             "gradient with respect to the logits (averaged over all N * C entries), and that "
             "every class has its own sigmoid.",
             expected="a loss that decreases with epochs", got=f"mean BCE {report}", revisit=TRAIN)
    if losses[150] > 0.45:
        fail("After 150 epochs with lr=2.0 the training loss should be well below log 2 = 0.693 "
             "(the reference reaches about 0.25).", expected="a mean BCE below 0.45",
             got=f"mean BCE {report}", revisit=TRAIN)
    first, _ = _train(train_multilabel, X, Y, 2.0, 5, seed=3)
    again, what = _train(train_multilabel, X, Y, 2.0, 5, seed=3)
    if not (np.array_equal(first.W, again.W) and np.array_equal(first.b, again.b)):
        fail(f"Two calls of {what} returned different parameters. Draw the initial weights from "
             "np.random.default_rng(seed), so that the same seed gives the same model.",
             expected="identical W and b", got="different W or b", revisit=TRAIN)


def check_train_quality(train_multilabel):
    """Held-out quality on the chapter's digits, and on a problem that needs the bias; whole-array
    steps."""
    from sklearn import metrics
    _expect_whole_array_training(train_multilabel)
    X, Y, X_test, Y_test = _digits(66)
    model, what = _train(train_multilabel, X, Y, 2.0, 300)
    Z_test = model.forward(X_test)
    f1 = metrics.f1_score(Y_test, Z_test > 0, average="macro", zero_division=0)
    ham = metrics.hamming_loss(Y_test, Z_test > 0)
    loss = _bce(Z_test, Y_test)
    if f1 < 0.85 or ham > 0.13 or loss > 0.32:
        fail(f"The parameters returned by {what} on 1000 digits does not reach the expected quality on "
             "797 held-out digits (the reference, over random splits: macro-F1 0.88 to 0.91, "
             "Hamming loss 0.08 to 0.10, mean BCE 0.22 to 0.25).",
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
            fail(f"The bias b returned by {what} never changed during training. The "
                 "bias has its own gradient, the upstream gradient summed over the batch; update "
                 "b as well as W.", expected="a trained bias", got=f"b = {describe(model.b)} after "
                 "5 and after 300 epochs", revisit=TRAIN)
        fail(f"On three labels that need an offset (x0 > -1, x1 > 1, x0 + x2 > 0.5), the layer "
             f"trained by {what} gets too many held-out answers wrong.",
             expected="Hamming loss <= 0.05 (the reference: 0.003 to 0.035 over 30 such draws, "
                      "0.028 on the unseeded one)", got=f"Hamming loss {ham:.3f}",
             revisit=TRAIN)


# ---------------------------------------------------------------------------------------------
# questions: each answer is a function that returns numbers, about the student's own numbers
# (`numbers()`, from the course id the grader knows the submission by); no message states an answer.

def _near(got, right, rel=2e-3, floor=1e-4):
    return abs(got - right) <= max(floor, rel * abs(right))


def right_outputs(n: dict):
    """The right answer of `answer_outputs` for a student's numbers: one sigmoid per species, and
    one softmax output per label set that can occur."""
    C, m = n["species"], n["at_most"]
    first = 0 if n["empty_photos"] else 1
    return C, sum(math.comb(C, j) for j in range(first, m + 1))


def check_question_outputs(answer_outputs):
    """Counting outputs for the student's camera: sigmoids, and a softmax over the label sets."""
    mine = numbers()
    C, m, empty = mine["species"], mine["at_most"], mine["empty_photos"]
    n_sigmoids, n_softmax = answer(answer_outputs, "answer_outputs", revisit=OUTPUTS, count=2,
                                   strict=True)
    photos = ("a photo may show no species at all" if empty else
              "every photo kept shows at least one species")
    what = (f"answer_outputs() for your numbers ({C} species, at most {m} in a photo, {photos}) "
            f"= ({n_sigmoids:g}, {n_softmax:g})")
    got = f"({n_sigmoids:g}, {n_softmax:g})"
    right_sigmoids, right_sets = right_outputs(mine)
    if n_sigmoids != right_sigmoids:
        if n_sigmoids == right_sets and n_softmax == right_sigmoids:
            why = "the two numbers are swapped: return (n_sigmoids, n_softmax)."
        else:
            why = ("(a) is off. The model of this chapter asks one yes-or-no question per class, "
                   "with its own sigmoid, whatever label sets can occur.")
        fail(f"{what}: {why}", expected="(a) one sigmoid per class", got=got, revisit=OUTPUTS)
    if n_softmax == right_sets:
        return
    first = 0 if empty else 1

    def sets(sizes):
        return sum(math.comb(C, j) for j in sizes)

    if n_softmax in (2 ** C, 2 ** C - 1):
        why = ("counts every subset of the species. Your photos show at most a few species, so "
               "only the sets up to that size can occur, and the softmax needs one output per "
               "set that can occur.")
    elif empty and n_softmax == right_sets - 1:
        why = ("forgets one set: a photo with no species is a label set too, the empty set, and "
               "your camera keeps such photos.")
    elif not empty and n_softmax == right_sets + 1:
        why = ("counts the empty set, which cannot occur for your camera: every photo it keeps "
               "shows at least one species.")
    elif n_softmax == sum(math.perm(C, j) for j in range(first, m + 1)):
        why = ("counts ordered choices of species. A label set has no order ({cat, dog} is the "
               "set {dog, cat}), so count combinations, not arrangements.")
    elif n_softmax in (sets([m]), sets([0, m])):
        why = ("counts only the sets of the largest size; a photo may show fewer species, and "
               "those sets can occur too.")
    elif n_softmax in (sets(range(first, m)), sets(range(first, m + 2))):
        why = ("is off by one set size: 'at most' includes the sets of exactly that many species, "
               "and no larger ones.")
    else:
        why = ("is not the number of label sets your camera can output: count the sets of each "
               "size that can occur, and add them up.")
    fail(f"{what}: (b) {n_softmax:g} {why}", expected="(b) one softmax output per label set that "
         "can occur", got=got, revisit=OUTPUTS)


LABELS_B = ("deer", "fox", "lynx")


def _f1(tp, fp, fn):
    tp, fp, fn = (np.asarray(a, dtype=np.float64) for a in (tp, fp, fn))
    d = 2 * tp + fp + fn
    return np.where(d > 0, 2 * tp / np.maximum(d, 1), 0.0)


def _ratio(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return np.where(b > 0, a / np.maximum(b, 1e-300), 0.0)


def right_f1_averages(n: dict):
    """The right answer of `answer_f1_averages` for a student's counts: (micro-F1, macro-F1)."""
    tp, fp, fn = np.array(n["counts"], dtype=np.float64).T
    return float(_f1(tp.sum(), fp.sum(), fn.sum())), float(_f1(tp, fp, fn).mean())


def check_question_f1_averages(answer_f1_averages):
    """Micro-F1 pools the counts of the three labels first; macro-F1 averages their own F1."""
    mine = numbers()
    micro, macro = answer(answer_f1_averages, "answer_f1_averages", revisit=AVERAGES, count=2,
                          strict=True)
    counts = np.array(mine["counts"], dtype=np.float64)
    shown = ", ".join(f"{name} {tuple(int(v) for v in row)}" for name, row in zip(LABELS_B, counts))
    what = f"answer_f1_averages() for your counts (TP, FP, FN) {shown}"
    got = f"({micro:.4f}, {macro:.4f})"
    right_micro, right_macro = right_f1_averages(mine)

    def near(x, y):  # three correct decimals
        return abs(x - y) <= 6e-4

    micro_ok, macro_ok = near(micro, right_micro), near(macro, right_macro)
    if micro_ok and macro_ok:
        return
    if near(micro, right_macro) and near(macro, right_micro):
        fail(f"{what}: the two averages are swapped; return (micro_f1, macro_f1).",
             expected="(micro-F1, macro-F1) of your counts", got=got, revisit=AVERAGES)
    tp, fp, fn = counts.T
    f1 = _f1(tp, fp, fn)
    jaccard = _ratio(tp, tp + fp + fn)
    precision, recall = _ratio(tp, tp + fp), _ratio(tp, tp + fn)
    mean_p, mean_r = precision.mean(), recall.mean()
    hints = [
        (not micro_ok and near(micro, float(_ratio(tp.sum(), (tp + fp + fn).sum()))) or
         not macro_ok and near(macro, jaccard.mean()),
         "TP / (TP + FP + FN) is the Jaccard index, not the F1 score. F1 is the harmonic mean of "
         "precision and recall."),
        (not macro_ok and near(macro, float(np.sum(f1 * (tp + fn)) / np.sum(tp + fn))),
         "your macro-F1 weights each label by its number of positives (scikit-learn's "
         "average='weighted'). The macro-F1 gives every label the same weight."),
        (not macro_ok and near(macro, float(_ratio(2 * mean_p * mean_r, mean_p + mean_r))),
         "your macro-F1 is the harmonic mean of the averaged precision and the averaged recall. "
         "The macro-F1 averages the three labels' own F1 scores."),
        (not macro_ok and bool(np.any(f1 == 0)) and bool(np.any(f1 > 0)) and
         near(macro, f1[f1 > 0].mean()),
         "your macro-F1 leaves out a label whose F1 is 0: the average is over all three labels, "
         "and a label the model never gets right pulls it down."),
        (not micro_ok and near(micro, right_macro),
         "your micro-F1 is the mean of the per-label F1 scores, which is the macro-F1. The "
         "micro-F1 pools TP, FP and FN over the labels first, then computes one F1."),
        (not macro_ok and near(macro, right_micro),
         "your macro-F1 is one F1 of the pooled counts, which is the micro-F1. The macro-F1 "
         "computes each label's F1 first, then averages them."),
        (not micro_ok and any(near(micro, float(v)) for v in (
            _ratio(tp.sum(), (tp + fp).sum()), _ratio(tp.sum(), (tp + fn).sum()))),
         "your micro-F1 is a pooled precision or a pooled recall; F1 combines the two."),
    ]
    for applies, why in hints:
        if applies:
            fail(f"{what}: {why}", expected="(micro-F1, macro-F1) of your counts", got=got,
                 revisit=AVERAGES)
    fail(f"{what} is not (micro-F1, macro-F1) of your counts. Work out each label's F1 from its "
         "counts first, then the two averages.", expected="(micro-F1, macro-F1) of your counts",
         got=got, revisit=AVERAGES)


def _sigmoid_of(z):
    return 0.5 * (1 + np.tanh(0.5 * z))


def right_pos_weight(n: dict):
    """The right answer of `answer_pos_weight` for a student's numbers: (a) the threshold on the
    plain model's probability that decides as the weighted model at its threshold, (b) the one on
    the weighted model's probability that decides as the plain model at its threshold."""
    p, t_w, t_p = n["pos_weight"], n["t_weighted"], n["t_plain"]
    logit_w, logit_p = np.log(t_w) - np.log1p(-t_w), np.log(t_p) - np.log1p(-t_p)
    return float(_sigmoid_of(logit_w - np.log(p))), float(_sigmoid_of(logit_p + np.log(p)))


def check_question_pos_weight(answer_pos_weight):
    """pos_weight p at two thresholds of the student's own: the odds of the ideal output move by p."""
    mine = numbers()
    p, t_w, t_p = mine["pos_weight"], mine["t_weighted"], mine["t_plain"]
    a, b = answer(answer_pos_weight, "answer_pos_weight", revisit=POS_WEIGHT, count=2, strict=True)
    what = (f"answer_pos_weight() for your numbers (pos_weight {p}, the weighted model at "
            f"{t_w}, the plain model at {t_p}) = ({a:.4g}, {b:.4g})")
    got = f"({a:.4g}, {b:.4g})"
    expected = "(a) a threshold on the plain model, (b) one on the weighted model"
    right_a, right_b = right_pos_weight(mine)
    a_ok, b_ok = _near(a, right_a), _near(b, right_b)
    if a_ok and b_ok:
        return
    logit_w, logit_p = np.log(t_w) - np.log1p(-t_w), np.log(t_p) - np.log1p(-t_p)

    def wrong_like(value_a, value_b):
        """a (when wrong) is value_a or b (when wrong) is value_b."""
        return (not a_ok and _near(a, float(value_a))) or (not b_ok and _near(b, float(value_b)))

    if _near(a, right_b) and _near(b, right_a):
        why = "the two thresholds are swapped: return (threshold_a, threshold_b)."
    elif wrong_like(_sigmoid_of(logit_w + np.log(p)), _sigmoid_of(logit_p - np.log(p))):
        why = ("a threshold moved the wrong way. The weighted model is MORE eager to predict the "
               "label than the plain one: to make its decisions, the plain model needs a LOWER "
               "threshold, and to make the plain model's decisions, the weighted model a HIGHER "
               "one.")
    elif wrong_like(t_w, t_p):
        why = ("a threshold did not move. pos_weight changes the probability that minimises the "
               "expected loss, so the two models do not decide alike at the same threshold.")
    elif wrong_like(1 / (1 + p), p / (1 + p)):
        why = ("that is the threshold that imitates a model at 0.5, and your thresholds are not "
               "0.5. Turn each of your thresholds into odds (or a logit), move it, and turn it "
               "back.")
    elif wrong_like(t_w / p, t_p * p) or (not b_ok and b >= 1):
        why = ("pos_weight multiplies the ODDS of the ideal output by p, not the probability.")
    elif wrong_like(_sigmoid_of(logit_w - p), _sigmoid_of(logit_p + p)):
        why = "the ideal logit moves by log p, not by p."
    else:
        why = ("turn each threshold into a logit, shift it by the amount pos_weight adds to the "
               "ideal logit, in the right direction, and turn it back into a probability.")
    fail(f"{what}: {why}", expected=expected, got=got, revisit=POS_WEIGHT)


# ---------------------------------------------------------------------------------------------
# experiment: a rare label, on a digit, a split, a grid and training parameters the notebook
# never shows

def _experiment_case(k):
    """The hidden parameters of the experiment number k (`rng(k)`): a rare label (one digit), a
    random split of the digits, a grid of thresholds, a learning rate and a number of epochs."""
    g = rng(k)
    X, _, d = _load_digits()
    digit = int(g.integers(10))
    y = (d == digit).astype(float)
    order = g.permutation(len(X))
    parts = (order[:1000], order[1000:1400], order[1400:])
    data = tuple(a for idx in parts for a in (X[idx].copy(), y[idx].copy()))
    grid = np.unique(np.round(g.uniform(0.03, 0.97, size=int(g.integers(12, 30))), 3))
    lr = float(np.round(g.uniform(1.0, 3.0), 2))
    epochs = int(g.integers(120, 360))
    return digit, data, grid, lr, epochs


def _trained(train_multilabel, X, y, lr, epochs):
    """(W, b) of the student's trainer on one label, twice (the same seed must give the same)."""
    what = (f"train_multilabel(X, Y, {lr}, {epochs}, seed=0) with one rare label (Y of shape "
            f"{(len(y), 1)})")
    outs = []
    for _ in range(2):
        # quiet_call: numpy warnings of the trainer cost points in its own cells, not here.
        out = quiet_call(train_multilabel, X.copy(), y[:, None].copy(), lr, epochs, seed=0,
                         what=what, revisit=EXPERIMENT + " (fix train_multilabel first: the "
                         "experiment uses it)")
        try:
            W, b = (np.asarray(a, dtype=np.float64) for a in out)
        except (TypeError, ValueError):  # not two arrays of numbers (a dict gives its keys)
            fail(f"{what} did not return (W, b), so the experiment cannot run: fix "
                 "train_multilabel first (test-train-loss says what is wrong).",
                 expected="a tuple (W, b)", got=describe(out), revisit=TRAIN)
        outs.append((W, b))
    if not all(np.array_equal(x, y) for x, y in zip(outs[0], outs[1])):
        fail(f"Two calls of {what} gave different parameters, so the experiment cannot be "
             "reproduced: draw the initial weights from np.random.default_rng(seed) (see "
             "test-train-loss).", expected="the same (W, b) for the same seed",
             got="different parameters", revisit=TRAIN)
    return outs[0]


def _recipe(W, b, data, grid, rule=np.greater, tune_on="val"):
    """The experiment's recipe for a trained (W, b): the first grid value with the best F1 on the
    validation images, and the test F1 at 0.5 and at that threshold."""
    from sklearn import metrics
    _, _, X_va, y_va, X_te, y_te = data
    with np.errstate(all="ignore"):
        p_va = expit_(X_va @ W.T + b).reshape(-1)
        p_te = expit_(X_te @ W.T + b).reshape(-1)
    y_tune, p_tune = (y_va, p_va) if tune_on == "val" else (y_te, p_te)
    table = np.array([metrics.f1_score(y_tune, rule(p_tune, t), zero_division=0) for t in grid])
    threshold = float(grid[np.argmax(table)])
    last = float(grid[len(grid) - 1 - np.argmax(table[::-1])])
    f1_half = float(metrics.f1_score(y_te, p_te > 0.5, zero_division=0))
    f1_tuned = float(metrics.f1_score(y_te, p_te > threshold, zero_division=0))
    f1_val = (float(metrics.f1_score(y_va, p_va > 0.5, zero_division=0)), float(table.max()))
    return threshold, f1_half, f1_tuned, last, f1_val


def check_rare_label_experiment(rare_label_experiment, train_multilabel):
    """The recipe applied to the student's own trainer on two hidden cases (another rare label,
    split, grid, lr and epochs): the tuned threshold (the first best validation F1 of the grid,
    strict '>') and the two test F1 scores."""
    runs = []
    for k in (67, 68):
        digit, data, grid, lr, epochs = _experiment_case(k)
        W, b = _trained(train_multilabel, data[0], data[1], lr, epochs)
        right = _recipe(W, b, data, grid)
        what = (f"rare_label_experiment(X_train, y_train, X_val, y_val, X_test, y_test, grid, lr, "
                f"epochs, plot=False) on another split of the digits, for the rare label 'the "
                f"digit is a {digit}', a grid of {len(grid)} thresholds from {grid[0]:.3f} to "
                f"{grid[-1]:.3f}, lr={lr} and epochs={epochs}")
        expected = f"({right[0]:.3f}, {right[1]:.4f}, {right[2]:.4f})"
        out = quiet_call(rare_label_experiment, *(a.copy() for a in data), grid.copy(), lr,
                         epochs, plot=False, what=what, revisit=EXPERIMENT)
        try:
            got = tuple(float(v) for v in out)
            if len(got) != 3:
                raise ValueError
        except (TypeError, ValueError):
            fail(f"{what} should return the tuple (threshold, f1_test_half, f1_test_tuned).",
                 expected=expected, got=describe(out), revisit=EXPERIMENT)
        runs.append((what, data, grid, lr, epochs, W, b, right, expected, got))

    def near(x, y):
        return abs(x - y) <= 1e-6

    def same(xs, ys):
        return all(near(x, y) for x, y in zip(xs, ys))

    what_1, right_1, got_1 = runs[0][0], runs[0][7], runs[0][9]
    right_2, expected_2, got_2 = runs[1][7], runs[1][8], runs[1][9]
    if same(got_1, got_2) and not same(right_1[:3], right_2[:3]):
        fail(f"{what_1}, and on a second hidden case with another label, data, grid, lr and "
             "epochs, returned the same three numbers both times: compute them from the "
             "function's arguments, by running the recipe.", expected=f"{expected_2} on the "
             "second case", got=f"({got_2[0]:.3f}, {got_2[1]:.4f}, {got_2[2]:.4f}) on both",
             revisit=EXPERIMENT)
    for what, data, grid, lr, epochs, W, b, right, expected, got in runs:
        threshold, f1_half, f1_tuned, last, f1_val = right
        got_t, got_half, got_tuned = got
        shown = f"({got_t:.3f}, {got_half:.4f}, {got_tuned:.4f})"
        if near(got_t, threshold) and near(got_half, f1_half) and near(got_tuned, f1_tuned):
            continue
        if not near(got_t, threshold):
            if near(got_t, 0.5) and not np.isclose(grid, 0.5).any():
                why = ("does not tune the threshold: pick the value of the grid it is given with "
                       "the best validation F1.")
            elif not np.isclose(grid, got_t, rtol=0, atol=1e-9).any():
                why = ("returned a threshold that is not a value of the grid it was given: tune "
                       "over its `grid` argument.")
            elif near(got_t, _recipe(W, b, data, grid, tune_on="test")[0]):
                why = ("tunes the threshold on the TEST images. Tune it on the validation images: "
                       "a threshold chosen on the test set makes the test score an optimistic "
                       "guess.")
            elif near(got_t, last):
                why = ("breaks ties towards the LAST grid value; keep the first of the thresholds "
                       "with the best validation F1.")
            elif near(got_t, _recipe(W, b, data, grid, rule=np.greater_equal)[0]):
                why = ("predicts the label when the probability is >= the threshold; the rule is "
                       "strictly greater.")
            elif (lr, epochs) != (2.0, 300) and near(got_t, _recipe(
                    *_trained(train_multilabel, data[0], data[1], 2.0, 300), data, grid)[0]):
                why = ("trains with lr=2.0 and epochs=300 whatever it is given: pass its `lr` and "
                       "`epochs` on to train_multilabel.")
            else:
                why = ("returned another threshold than the value of the grid with the best "
                       "validation F1 of a model trained by train_multilabel(X_train, y_train as "
                       "a column, lr, epochs, seed=0).")
            fail(f"{what} {why}", expected=expected, got=shown, revisit=EXPERIMENT)
        if near(got_half, f1_tuned) and near(got_tuned, f1_half):
            fail(f"{what} returned the two test F1 scores in the wrong order: (threshold, F1 at "
                 "0.5, F1 at the tuned threshold).", expected=expected, got=shown,
                 revisit=EXPERIMENT)
        if near(got_half, f1_val[0]) or near(got_tuned, f1_val[1]):
            fail(f"{what} reports F1 scores of the VALIDATION images; report the F1 on the test "
                 "images, which played no part in choosing the threshold.", expected=expected,
                 got=shown, revisit=EXPERIMENT)
        fail(f"{what} returned test F1 scores that differ from those of the model trained by "
             "train_multilabel(X_train, y_train as a column, lr, epochs, seed=0), at the "
             "threshold 0.5 and at the tuned one (a label is predicted when its probability is "
             "strictly greater).", expected=expected, got=shown, revisit=EXPERIMENT)


def expit_(z):
    """The checks' own sigmoid (scipy's), for the experiment's oracle."""
    from scipy.special import expit
    return expit(z)


# Each question's right answer for a student's numbers (`python -m autograder numbers` prints
# them; tests/test_variants.py checks that classmates' answers differ).
ANSWERS = {
    "test-question-outputs": right_outputs,
    "test-question-f1-averages": right_f1_averages,
    "test-question-pos-weight": right_pos_weight,
}

# Library functions a graded function must not call: the grader names a submission that does
# (a hint for the instructor); the notebook names each of them.
_COUNTING = ("sklearn.metrics.f1_score", "sklearn.metrics.fbeta_score",
             "sklearn.metrics.precision_recall_fscore_support",
             "sklearn.metrics.multilabel_confusion_matrix", "sklearn.metrics.precision_score",
             "sklearn.metrics.recall_score", "sklearn.metrics.jaccard_score")
FORBIDDEN = {
    "multilabel-metrics": ("sklearn.metrics.hamming_loss", "sklearn.metrics.accuracy_score",
                           "sklearn.metrics.zero_one_loss") + _COUNTING,
    "multilabel-thresholds": _COUNTING + ("sklearn.metrics.precision_recall_curve",),
    "multilabel-train": ("sklearn.linear_model.LogisticRegression",
                         "sklearn.linear_model.SGDClassifier",
                         "sklearn.multioutput.MultiOutputClassifier",
                         "sklearn.neural_network.MLPClassifier", "scipy.optimize.minimize"),
    "question-f1-averages": ("sklearn.metrics.f1_score",),
}

TESTS = {
    "test-multilabel-predict": check_predict_multilabel,
    "test-hamming-subset": check_hamming_subset,
    "test-f1-per-class": check_f1_per_class,
    "test-tune-thresholds": check_tune_thresholds,
    "test-train-loss": check_train_loss,
    "test-train-quality": check_train_quality,
    "test-question-outputs": check_question_outputs,
    "test-question-f1-averages": check_question_f1_averages,
    "test-question-pos-weight": check_question_pos_weight,
    "test-experiment-rare-label": check_rare_label_experiment,
}
