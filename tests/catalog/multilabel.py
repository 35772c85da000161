"""Buggy and alternative correct implementations for the `multilabel` exercise."""
from . import bug, correct, question_entries

# --- multilabel-predict -------------------------------------------------------------------------

PREDICT = '''
def predict_multilabel(z, thresholds=0.5):
    t = np.asarray(thresholds, dtype=np.float64)
    {body}
'''


def predict(body):
    return PREDICT.format(body=body)


# --- multilabel-metrics -------------------------------------------------------------------------

HAMMING = '''
def hamming_loss(Y_true, Y_pred):
    Y_true, Y_pred = np.asarray(Y_true).astype(bool), np.asarray(Y_pred).astype(bool)
    return float(np.mean(Y_true != Y_pred))
'''
SUBSET = '''
def subset_accuracy(Y_true, Y_pred):
    Y_true, Y_pred = np.asarray(Y_true).astype(bool), np.asarray(Y_pred).astype(bool)
    return float(np.mean(np.all(Y_true == Y_pred, axis=1)))
'''
F1_COUNTS = '''
def f1_per_class(Y_true, Y_pred):
    Y_true, Y_pred = np.asarray(Y_true).astype(bool), np.asarray(Y_pred).astype(bool)
    tp = np.sum(Y_true & Y_pred, axis=0)
    fp = np.sum(~Y_true & Y_pred, axis=0)
    fn = np.sum(Y_true & ~Y_pred, axis=0)
    {body}
'''
F1_GOOD = ("d = 2 * tp + fp + fn\n"
           "    return np.where(d > 0, 2 * tp / np.maximum(d, 1), 0.0)")


def metrics(hamming=HAMMING, subset=SUBSET, f1=F1_COUNTS.format(body=F1_GOOD)):
    return hamming + subset + f1


# --- multilabel-thresholds ----------------------------------------------------------------------

THRESHOLDS = '''
def tune_thresholds(probs, Y, grid):
    probs = np.asarray(probs, dtype=float)
    Y = np.asarray(Y).astype(bool)
    grid = np.asarray(grid, dtype=float)
    table = []
    for t in grid:
        pred = {rule}
        tp = np.sum(pred & Y, axis=0)
        fp = np.sum(pred & ~Y, axis=0)
        fn = np.sum(~pred & Y, axis=0)
        {score}
    table = np.array(table)            # (len(grid), C)
    {pick}
'''
SCORE_F1 = ("d = 2 * tp + fp + fn\n"
            "        table.append(np.where(d > 0, 2 * tp / np.maximum(d, 1), 0.0))")


def thresholds(rule="probs > t", score=SCORE_F1, pick="return grid[np.argmax(table, axis=0)]"):
    return THRESHOLDS.format(rule=rule, score=score, pick=pick)


# --- multilabel-train ---------------------------------------------------------------------------

TRAIN = '''
def train_multilabel(X, Y, lr, epochs, seed=0):
    X = np.asarray(X, dtype=float)
    Y = np.asarray(Y, dtype=float)
    C, D = Y.shape[1], X.shape[1]
    {init}
    W, b = W0, np.zeros(C)
    for _ in range({epochs}):
        Z = X @ W.T + b
        {grad}
        W = W {sign} lr * (G.T @ X)
        {bias}
    return W, b
'''


def train(init="W0 = 0.01 * np.random.default_rng(seed).normal(size=(C, D))",
          epochs="epochs", grad="G = (expit(Z) - Y) / Z.size", sign="-",
          bias="b = b - lr * G.sum(axis=0)"):
    return TRAIN.format(init=init, epochs=epochs, grad=grad, sign=sign, bias=bias)


# --- questions and experiment -------------------------------------------------------------------

def answer(name, body):
    return f'''
def {name}():
    {body}
'''


EXPERIMENT = '''
def rare_label_experiment(X_train, y_train, X_val, y_val, X_test, y_test, grid, lr, epochs,
                          plot=True):
    from sklearn import metrics
    y_train, y_val, y_test = (np.asarray(y, dtype=float) for y in (y_train, y_val, y_test))
    grid = {grid}
    W, b = train_multilabel(X_train, y_train[:, None], {lr}, {epochs}, seed=0)
    p_val = expit(X_val @ np.asarray(W).T + b)[:, 0]
    p_test = expit(X_test @ np.asarray(W).T + b)[:, 0]
    f1_val = np.array([metrics.f1_score({tune_y}, {tune_p} {op} t, zero_division=0) for t in grid])
    {pick}
    f1_half = metrics.f1_score({report_y}, {report_p} > 0.5, zero_division=0)
    f1_tuned = metrics.f1_score({report_y}, {report_p} > threshold, zero_division=0)
    return {result}
'''


def experiment(grid="np.asarray(grid, dtype=float)", lr="lr", epochs="epochs", tune_y="y_val",
               tune_p="p_val", op=">", pick="threshold = float(grid[np.argmax(f1_val)])",
               report_y="y_test", report_p="p_test",
               result="threshold, float(f1_half), float(f1_tuned)"):
    return EXPERIMENT.format(grid=grid, lr=lr, epochs=epochs, tune_y=tune_y, tune_p=tune_p, op=op,
                             pick=pick, report_y=report_y, report_p=report_p, result=result)


def constant(name, value):
    return f'''
def {name}(*args, **kwargs):
    return {value}
'''


# What the chapter computes for its own rare label (the digit 8; see 'Rare labels').
BOOK_EXPERIMENT = "(0.45, 0.75, 0.76)"

BUGS = [
    # --- multilabel-predict ---
    bug("multilabel-predict", "softmax used for multi-label",
        predict("e = np.exp(z - np.max(z, axis=-1, keepdims=True))\n"
                "    return e / e.sum(axis=-1, keepdims=True) > t"),
        "test-multilabel-predict", "softmax"),
    bug("multilabel-predict", "one threshold (the first) where per-class ones were asked",
        predict("return expit(np.asarray(z)) > np.atleast_1d(t)[0]"),
        "test-multilabel-predict", "same threshold"),
    bug("multilabel-predict", ">= instead of >",
        predict("return expit(np.asarray(z)) >= t"), "test-multilabel-predict", "strictly greater"),
    bug("multilabel-predict", "compares logits with probability thresholds",
        predict("return np.asarray(z) > t"), "test-multilabel-predict", "compares the logits"),
    bug("multilabel-predict", "returns the kept probabilities instead of bools",
        predict("s = expit(np.asarray(z))\n    return np.where(s > t, s, 0.0)"),
        "test-multilabel-predict", "bool"),
    bug("multilabel-predict", "naive sigmoid that overflows",
        predict("return 1 / (1 + np.exp(-np.asarray(z))) > t"),
        "test-multilabel-predict", "use scipy's expit"),
    bug("multilabel-predict", "shifts the caller's logits in place",
        predict("z -= np.log(t / (1 - t))\n    return z > 0"),
        "test-multilabel-predict", "modified its input"),
    bug("multilabel-predict", "thresholds lined up with the rows",
        predict("return expit(np.asarray(z)) > t.reshape(-1, 1)"),
        "test-multilabel-predict", "wrong axis"),

    # --- multilabel-metrics ---
    bug("multilabel-metrics", "F1 divides by zero for an absent class",
        metrics(f1=F1_COUNTS.format(body="return 2 * tp / (2 * tp + fp + fn)")),
        "test-f1-per-class", "defined as 0"),
    bug("multilabel-metrics", "F1 silences the 0/0 and returns nan",
        metrics(f1=F1_COUNTS.format(body="with np.errstate(all='ignore'):\n"
                                         "        return 2 * tp / (2 * tp + fp + fn)")),
        "test-f1-per-class", "contains nan"),
    bug("multilabel-metrics", "Jaccard index instead of F1",
        metrics(f1=F1_COUNTS.format(body="d = tp + fp + fn\n"
                                         "    return np.where(d > 0, tp / np.maximum(d, 1), 0.0)")),
        "test-f1-per-class", "Jaccard"),
    bug("multilabel-metrics", "one F1 for all classes (micro-F1)",
        metrics(f1=F1_COUNTS.format(body="tp, fp, fn = tp.sum(), fp.sum(), fn.sum()\n    "
                                         + F1_GOOD)),
        "test-f1-per-class", "one F1 per class"),
    bug("multilabel-metrics", "F1 per example (axis 1)",
        metrics(f1=F1_COUNTS.replace("axis=0", "axis=1").format(body=F1_GOOD)),
        "test-f1-per-class", "one F1 per class"),
    bug("multilabel-metrics", "Hamming loss counts examples with any mistake",
        metrics(hamming=HAMMING.replace("np.mean(Y_true != Y_pred)",
                                        "np.mean(np.any(Y_true != Y_pred, axis=1))")),
        "test-hamming-subset", "at least one wrong label"),
    bug("multilabel-metrics", "Hamming loss is a count, not a fraction",
        metrics(hamming=HAMMING.replace("np.mean(Y_true != Y_pred)", "np.sum(Y_true != Y_pred)")),
        "test-hamming-subset", "number of wrong answers"),
    bug("multilabel-metrics", "subset accuracy averages the individual answers",
        metrics(subset=SUBSET.replace("np.mean(np.all(Y_true == Y_pred, axis=1))",
                                      "np.mean(Y_true == Y_pred)")),
        "test-hamming-subset", "ALL its labels"),

    # --- multilabel-thresholds ---
    bug("multilabel-thresholds", "one threshold (best macro-F1) where per-class ones were asked",
        thresholds(pick="return np.full(table.shape[1], grid[np.argmax(table.mean(axis=1))])"),
        "test-tune-thresholds", "same threshold"),
    bug("multilabel-thresholds", "ties go to the last grid value",
        thresholds(pick="return grid[len(grid) - 1 - np.argmax(table[::-1], axis=0)]"),
        "test-tune-thresholds", "LAST grid value"),
    bug("multilabel-thresholds", "predicts with probs >= t", thresholds(rule="probs >= t"),
        "test-tune-thresholds", "probs >= t"),
    bug("multilabel-thresholds", "maximises accuracy instead of F1",
        thresholds(score="table.append(np.mean(pred == Y, axis=0))"),
        "test-tune-thresholds", "accuracy"),
    bug("multilabel-thresholds", "returns grid positions instead of thresholds",
        thresholds(pick="return np.argmax(table, axis=0)"), "test-tune-thresholds", "positions"),
    bug("multilabel-thresholds", "argmax over the classes instead of the grid",
        thresholds(pick="return grid[np.argmax(table, axis=1)]"),
        "test-tune-thresholds", "one threshold per class"),
    bug("multilabel-thresholds", "F1 with a 0/0 for a class without positives",
        thresholds(score="table.append(2 * tp / (2 * tp + fp + fn))"),
        "test-tune-thresholds", "defined as 0"),

    # --- multilabel-train ---
    bug("multilabel-train", "softmax gradient used for multi-label",
        train(grad="E = np.exp(Z - Z.max(axis=1, keepdims=True))\n"
                   "        G = (E / E.sum(axis=1, keepdims=True) - Y) / Z.size"),
        {"test-train-loss", "test-train-quality"}, "every class has its own sigmoid"),
    bug("multilabel-train", "forgets the bias gradient", train(bias="pass"),
        "test-train-quality", "never changed"),
    bug("multilabel-train", "gradient ascent (wrong sign)", train(sign="+"),
        {"test-train-loss", "test-train-quality"}, "go down"),
    bug("multilabel-train", "ignores epochs", train(epochs="200"),
        "test-train-loss", "whatever `epochs` is"),
    bug("multilabel-train", "sums the gradient instead of averaging it",
        train(grad="G = expit(Z) - Y"), {"test-train-loss", "test-train-quality"},
        "well below log 2"),
    bug("multilabel-train", "standardises the caller's X in place",
        train(init="X = np.asarray(X)\n    X -= X.mean(axis=0)\n"
                   "    W0 = 0.01 * np.random.default_rng(seed).normal(size=(C, D))").replace(
            "    X = np.asarray(X, dtype=float)\n", "", 1),
        {"test-train-loss", "test-train-quality"}, "modified its input"),
    bug("multilabel-train", "ignores the seed", train(init="W0 = 0.01 * np.random.normal(size=(C, D))"),
        {"test-train-loss", "test-experiment-rare-label"}, "same seed"),
    bug("multilabel-train", "returns a dict instead of the tuple (W, b)",
        train().replace("return W, b", "return {'W': W, 'b': b}"),
        {"test-train-loss", "test-train-quality", "test-experiment-rare-label"}, "tuple (W, b)"),

    # --- questions (each computed from this student's NUMBERS) ---
    bug("question-outputs", "all 2^C subsets, ignoring the cap on species",
        answer("answer_outputs", "C = NUMBERS['species']\n    return C, 2 ** C"),
        "test-question-outputs", "every subset"),
    bug("question-outputs", "forgets the empty set", answer(
        "answer_outputs", "from math import comb\n    C, m = NUMBERS['species'], NUMBERS['at_most']\n"
        "    return C, sum(comb(C, j) for j in range(1, m + 1))"),
        "test-question-outputs", "empty set"),
    bug("question-outputs", "swapped", answer(
        "answer_outputs", "from math import comb\n    C, m = NUMBERS['species'], NUMBERS['at_most']\n"
        "    return sum(comb(C, j) for j in range(m + 1)), C"),
        "test-question-outputs", "swapped"),
    bug("question-outputs", "one sigmoid for all the classes", answer(
        "answer_outputs", "from math import comb\n    C, m = NUMBERS['species'], NUMBERS['at_most']\n"
        "    return 1, sum(comb(C, j) for j in range(m + 1))"),
        "test-question-outputs", "per class"),
    bug("question-outputs", "ordered choices of species", answer(
        "answer_outputs", "from math import perm\n    C, m = NUMBERS['species'], NUMBERS['at_most']\n"
        "    return C, sum(perm(C, j) for j in range(m + 1))"),
        "test-question-outputs", "ordered"),
    bug("question-outputs", "only the sets of the largest size", answer(
        "answer_outputs", "from math import comb\n    C, m = NUMBERS['species'], NUMBERS['at_most']\n"
        "    return C, comb(C, m)"),
        "test-question-outputs", "largest size"),
    bug("question-outputs", "'at most m' read as fewer than m", answer(
        "answer_outputs", "from math import comb\n    C, m = NUMBERS['species'], NUMBERS['at_most']\n"
        "    return C, sum(comb(C, j) for j in range(m))"),
        "test-question-outputs", "off by one set size"),

    bug("question-f1-averages", "swapped averages", answer(
        "answer_f1_averages", "tp, fp, fn = np.array(NUMBERS['counts'], dtype=float).T\n"
        "    f1 = 2 * tp / (2 * tp + fp + fn)\n"
        "    return f1.mean(), 2 * tp.sum() / (2 * tp.sum() + fp.sum() + fn.sum())"),
        "test-question-f1-averages", "swapped"),
    bug("question-f1-averages", "Jaccard instead of F1", answer(
        "answer_f1_averages", "tp, fp, fn = np.array(NUMBERS['counts'], dtype=float).T\n"
        "    return tp.sum() / (tp + fp + fn).sum(), (tp / (tp + fp + fn)).mean()"),
        "test-question-f1-averages", "Jaccard"),
    bug("question-f1-averages", "macro weighted by the positives (average='weighted')", answer(
        "answer_f1_averages", "tp, fp, fn = np.array(NUMBERS['counts'], dtype=float).T\n"
        "    f1 = 2 * tp / (2 * tp + fp + fn)\n"
        "    micro = 2 * tp.sum() / (2 * tp.sum() + fp.sum() + fn.sum())\n"
        "    return micro, np.sum(f1 * (tp + fn)) / np.sum(tp + fn)"),
        "test-question-f1-averages", "weighted"),
    bug("question-f1-averages", "macro as the F1 of the averaged precision and recall", answer(
        "answer_f1_averages", "tp, fp, fn = np.array(NUMBERS['counts'], dtype=float).T\n"
        "    P, R = (tp / (tp + fp)).mean(), (tp / (tp + fn)).mean()\n"
        "    micro = 2 * tp.sum() / (2 * tp.sum() + fp.sum() + fn.sum())\n"
        "    return micro, 2 * P * R / (P + R)"),
        "test-question-f1-averages", "harmonic mean of the averaged precision"),
    bug("question-f1-averages", "micro as the mean of the per-label F1", answer(
        "answer_f1_averages", "tp, fp, fn = np.array(NUMBERS['counts'], dtype=float).T\n"
        "    f1 = 2 * tp / (2 * tp + fp + fn)\n    return f1.mean(), f1.mean()"),
        "test-question-f1-averages", "pools TP, FP and FN"),
    bug("question-f1-averages", "micro as the pooled precision", answer(
        "answer_f1_averages", "tp, fp, fn = np.array(NUMBERS['counts'], dtype=float).T\n"
        "    return tp.sum() / (tp + fp).sum(), (2 * tp / (2 * tp + fp + fn)).mean()"),
        "test-question-f1-averages", "pooled precision"),

    bug("question-pos-weight", "swapped", answer(
        "answer_pos_weight", "p = NUMBERS['pos_weight']\n"
        "    oa = NUMBERS['t_weighted'] / (1 - NUMBERS['t_weighted']) / p\n"
        "    ob = NUMBERS['t_plain'] / (1 - NUMBERS['t_plain']) * p\n"
        "    return ob / (1 + ob), oa / (1 + oa)"),
        "test-question-pos-weight", "swapped"),
    bug("question-pos-weight", "odds moved the wrong way", answer(
        "answer_pos_weight", "p = NUMBERS['pos_weight']\n"
        "    oa = NUMBERS['t_weighted'] / (1 - NUMBERS['t_weighted']) * p\n"
        "    ob = NUMBERS['t_plain'] / (1 - NUMBERS['t_plain']) / p\n"
        "    return oa / (1 + oa), ob / (1 + ob)"),
        "test-question-pos-weight", "wrong way"),
    bug("question-pos-weight", "the same thresholds for both models", answer(
        "answer_pos_weight", "return NUMBERS['t_weighted'], NUMBERS['t_plain']"),
        "test-question-pos-weight", "did not move"),
    bug("question-pos-weight", "the thresholds that imitate 0.5 (the chapter's case)", answer(
        "answer_pos_weight", "p = NUMBERS['pos_weight']\n    return 1 / (1 + p), p / (1 + p)"),
        "test-question-pos-weight", "imitates a model at 0.5"),
    bug("question-pos-weight", "the probability scaled by p", answer(
        "answer_pos_weight", "p = NUMBERS['pos_weight']\n"
        "    return NUMBERS['t_weighted'] / p, NUMBERS['t_plain'] * p"),
        "test-question-pos-weight", "ODDS"),
    bug("question-pos-weight", "the logit shifted by p instead of log p", answer(
        "answer_pos_weight", "p = NUMBERS['pos_weight']\n"
        "    za = np.log(NUMBERS['t_weighted'] / (1 - NUMBERS['t_weighted'])) - p\n"
        "    zb = np.log(NUMBERS['t_plain'] / (1 - NUMBERS['t_plain'])) + p\n"
        "    return expit(za), expit(zb)"),
        "test-question-pos-weight", "not by p"),

    # --- experiment ---
    bug("experiment-rare-label", "returns the book's numbers",
        constant("rare_label_experiment", BOOK_EXPERIMENT), "test-experiment-rare-label",
        "same three numbers"),
    bug("experiment-rare-label", "returns constants",
        constant("rare_label_experiment", "(0.3, 0.8, 0.85)"), "test-experiment-rare-label",
        "same three numbers"),
    bug("experiment-rare-label", "tunes the threshold on the test images",
        experiment(tune_y="y_test", tune_p="p_test"), "test-experiment-rare-label", "TEST images"),
    bug("experiment-rare-label", "no tuning at all",
        experiment(pick="threshold = 0.5"), "test-experiment-rare-label", "does not tune"),
    bug("experiment-rare-label", "ignores the grid it is given (its own 0.05 steps)",
        experiment(grid="np.round(np.arange(1, 20) * 0.05, 2)"), "test-experiment-rare-label",
        "not a value of the grid"),
    bug("experiment-rare-label", "ignores lr and epochs (2.0 and 300)",
        experiment(lr="2.0", epochs="300"), "test-experiment-rare-label", "whatever it is given"),
    bug("experiment-rare-label", "tunes the threshold on the training images",
        experiment(tune_y="y_train", tune_p="expit(X_train @ np.asarray(W).T + b)[:, 0]"),
        "test-experiment-rare-label", "another threshold"),
    bug("experiment-rare-label", "reports the validation F1",
        experiment(report_y="y_val", report_p="p_val"), "test-experiment-rare-label",
        "VALIDATION"),
    bug("experiment-rare-label", "F1 scores in the wrong order",
        experiment(result="threshold, float(f1_tuned), float(f1_half)"),
        "test-experiment-rare-label", "wrong order"),
]

CORRECT = [
    correct("multilabel-predict", "compares logits with the log-odds of the thresholds",
            predict("return np.asarray(z) > np.log(t / (1 - t))")),
    correct("multilabel-predict", "tanh form of the sigmoid",
            predict("return 0.5 * (1 + np.tanh(np.asarray(z, dtype=float) / 2)) > t")),
    correct("multilabel-predict", "explicit broadcasting with np.broadcast_to",
            predict("z = np.asarray(z)\n"
                    "    return np.greater(expit(z), np.broadcast_to(t, z.shape))")),
    correct("multilabel-metrics", "np.divide with where= and einsum counts", '''
def hamming_loss(Y_true, Y_pred):
    return float(np.count_nonzero(np.asarray(Y_true, bool) ^ np.asarray(Y_pred, bool))
                 / np.size(Y_true))


def subset_accuracy(Y_true, Y_pred):
    wrong = np.asarray(Y_true, bool) ^ np.asarray(Y_pred, bool)
    return float(1.0 - np.mean(wrong.any(axis=1)))


def f1_per_class(Y_true, Y_pred):
    t = np.asarray(Y_true, dtype=float)
    p = np.asarray(Y_pred, dtype=float)
    tp = np.einsum("nc,nc->c", t, p)
    denominator = t.sum(axis=0) + p.sum(axis=0)        # = 2TP + FP + FN
    out = np.zeros_like(tp)
    np.divide(2 * tp, denominator, out=out, where=denominator > 0)
    return out
'''),
    correct("multilabel-metrics", "precision and recall, then their harmonic mean", '''
def hamming_loss(Y_true, Y_pred):
    Y_true, Y_pred = np.asarray(Y_true) == 1, np.asarray(Y_pred) == 1
    return (Y_true != Y_pred).sum() / Y_true.size


def subset_accuracy(Y_true, Y_pred):
    Y_true, Y_pred = np.asarray(Y_true) == 1, np.asarray(Y_pred) == 1
    return (Y_true == Y_pred).all(axis=1).mean()


def f1_per_class(Y_true, Y_pred):
    Y_true, Y_pred = np.asarray(Y_true) == 1, np.asarray(Y_pred) == 1
    tp = (Y_true & Y_pred).sum(axis=0).astype(float)
    predicted, present = Y_pred.sum(axis=0), Y_true.sum(axis=0)
    precision = np.divide(tp, predicted, out=np.zeros_like(tp), where=predicted > 0)
    recall = np.divide(tp, present, out=np.zeros_like(tp), where=present > 0)
    total = precision + recall
    return np.divide(2 * precision * recall, total, out=np.zeros_like(tp), where=total > 0)
'''),
    correct("multilabel-thresholds", "a loop that keeps strictly better thresholds", '''
def tune_thresholds(probs, Y, grid):
    probs, Y = np.asarray(probs, dtype=float), np.asarray(Y).astype(bool)
    best_t = np.full(probs.shape[1], float(grid[0]))
    best_f1 = np.full(probs.shape[1], -1.0)
    for t in grid:
        f1 = f1_per_class(Y, probs > t)
        better = f1 > best_f1
        best_t[better] = t
        best_f1[better] = f1[better]
    return best_t
'''),
    correct("multilabel-thresholds", "one class at a time with a Python max", '''
def tune_thresholds(probs, Y, grid):
    probs, Y = np.asarray(probs, dtype=float), np.asarray(Y).astype(bool)
    out = []
    for k in range(probs.shape[1]):
        scores = [f1_per_class(Y[:, [k]], probs[:, [k]] > t)[0] for t in grid]
        out.append(grid[scores.index(max(scores))])
    return np.array(out, dtype=float)
'''),
    correct("multilabel-train", "zero initial weights", train(init="W0 = np.zeros((C, D))")),
    correct("multilabel-train", "one label at a time, each with lr / C", '''
def train_multilabel(X, Y, lr, epochs, seed=0):
    X, Y = np.asarray(X, dtype=float), np.asarray(Y, dtype=float)
    N, D = X.shape
    C = Y.shape[1]
    W = 0.01 * np.random.default_rng(seed).normal(size=(C, D))
    b = np.zeros(C)
    for k in range(C):
        for _ in range(epochs):
            g = (expit(X @ W[k] + b[k]) - Y[:, k]) / N
            W[k] = W[k] - lr / C * (X.T @ g)
            b[k] = b[k] - lr / C * g.sum()
    return W, b
'''),
    correct("multilabel-train", "einsum, and a list [W, b]", '''
def train_multilabel(X, Y, lr, epochs, seed=0):
    X, Y = np.asarray(X, dtype=float), np.asarray(Y, dtype=float)
    N, D = X.shape
    C = Y.shape[1]
    W = np.random.default_rng(seed).normal(scale=0.01, size=(C, D))
    b = np.zeros(C)
    for _ in range(epochs):
        G = np.einsum("nc->nc", expit(np.einsum("nd,cd->nc", X, W) + b) - Y) / (N * C)
        W = W - lr * np.einsum("nc,nd->cd", G, X)
        b = b - lr * G.sum(axis=0)
    return [W, b]
'''),
    correct("question-outputs", "the label sets counted one by one", answer(
        "answer_outputs", "from itertools import combinations\n"
        "    species = range(NUMBERS['species'])\n"
        "    sizes = range(0 if NUMBERS['empty_photos'] else 1, NUMBERS['at_most'] + 1)\n"
        "    sets = [s for k in sizes for s in combinations(species, k)]\n"
        "    return [np.float64(len(species)), np.float64(len(sets))]")),
    correct("question-f1-averages", "precision and recall per label, then harmonic means", answer(
        "answer_f1_averages", "counts = np.array(NUMBERS['counts'], dtype=float)\n"
        "    def f1(tp, fp, fn):\n"
        "        if tp == 0:\n"
        "            return 0.0\n"
        "        precision, recall = tp / (tp + fp), tp / (tp + fn)\n"
        "        return 2 / (1 / precision + 1 / recall)\n"
        "    return f1(*counts.sum(axis=0)), np.mean([f1(*row) for row in counts])")),
    correct("question-pos-weight", "through the logits, with log p", answer(
        "answer_pos_weight", "from scipy.special import logit\n"
        "    shift = np.log(NUMBERS['pos_weight'])\n"
        "    return (expit(logit(NUMBERS['t_weighted']) - shift),\n"
        "            expit(logit(NUMBERS['t_plain']) + shift))")),
    correct("experiment-rare-label", "with the student's own functions", '''
def rare_label_experiment(X_train, y_train, X_val, y_val, X_test, y_test, grid, lr, epochs,
                          plot=True):
    W, b = train_multilabel(X_train, np.asarray(y_train)[:, None], lr, epochs, seed=0)
    p_val = expit(X_val @ W.T + b)
    p_test = expit(X_test @ W.T + b)
    threshold = float(tune_thresholds(p_val, np.asarray(y_val)[:, None], grid)[0])
    y_test = np.asarray(y_test)[:, None]
    f1_half = f1_per_class(y_test, predict_multilabel(X_test @ W.T + b, 0.5))[0]
    f1_tuned = f1_per_class(y_test, p_test > threshold)[0]
    return threshold, f1_half, f1_tuned
'''),
    correct("experiment-rare-label", "a loop over the grid that keeps strictly better F1", '''
def rare_label_experiment(X_train, y_train, X_val, y_val, X_test, y_test, grid, lr, epochs,
                          plot=True):
    from sklearn.metrics import f1_score
    W, b = train_multilabel(X_train, np.reshape(y_train, (-1, 1)), lr=lr, epochs=epochs, seed=0)
    z_val = (X_val @ W.T + b).ravel()
    z_test = (X_test @ W.T + b).ravel()
    best, threshold = -1.0, None
    for t in grid:
        score = f1_score(y_val, z_val > np.log(t / (1 - t)), zero_division=0)
        if score > best:
            best, threshold = score, float(t)
    return (threshold, f1_score(y_test, z_test > 0, zero_division=0),
            f1_score(y_test, z_test > np.log(threshold / (1 - threshold)), zero_division=0))
'''),
]

# --- copies (issue 20): what a student who copies the book's visible code, renamed, looped over
# rows or elements and wrapped in the exercise's signature, would write. Each loses the points.

CH6_SETS = '''
def _as_sets(Y):
    """Each row of a 0/1 matrix as the set of its labels, as the chapter writes them."""
    return [set(np.flatnonzero(row)) for row in np.asarray(Y).astype(bool)]


def hamming_loss(Y_true, Y_pred):
    truth, guess = _as_sets(Y_true), _as_sets(Y_pred)
    rows, cols = np.shape(Y_true)
    wrong = sum(len(t ^ g) for t, g in zip(truth, guess))   # in one set only
    return wrong / (rows * cols)


def subset_accuracy(Y_true, Y_pred):
    truth, guess = _as_sets(Y_true), _as_sets(Y_pred)
    perfect = sum(t == g for t, g in zip(truth, guess))
    return perfect / len(truth)
'''

CH6_F1_OF_ONE_ANIMAL = '''
import statistics


def f1_of_one_animal(animal, truth, guess):
    hits = sum(animal in t and animal in g for t, g in zip(truth, guess))
    precision = hits / sum(animal in g for g in guess)
    recall = hits / sum(animal in t for t in truth)
    return statistics.harmonic_mean([precision, recall])


def f1_per_class(Y_true, Y_pred):
    truth = [set(np.flatnonzero(row)) for row in np.asarray(Y_true).astype(bool)]
    guess = [set(np.flatnonzero(row)) for row in np.asarray(Y_pred).astype(bool)]
    out = []
    for k in range(np.shape(Y_true)[1]):
        {guarded}
    return np.array(out)
'''

CH6_EXACT_SEARCH = '''
def tune_thresholds(probs, Y, grid):
    probs, Y = np.asarray(probs, dtype=float), np.asarray(Y, dtype=float)
    thresholds = np.zeros(probs.shape[1])
    for k in range(probs.shape[1]):
        order_k = np.argsort(-probs[:, k])
        s_sorted, y_sorted = probs[order_k, k], Y[order_k, k]
        tp = np.cumsum(y_sorted)                    # predict the top m, m = 1..N
        m = np.arange(1, len(y_sorted) + 1)
        f1_top = 2 * tp / (m + y_sorted.sum())      # m >= 1, so never 0 / 0
        cuts = 0.5 * (s_sorted[:-1] + s_sorted[1:])   # between rank m and m + 1
        best = np.argmax(f1_top[:-1])
        thresholds[k] = {pick}
    return thresholds
'''

CH6_TRAIN_ONE_ENTRY = '''
import math


def bce_term(z, y):
    return max(z, 0.0) - z * y + math.log1p(math.exp(-abs(z)))


def train_multilabel(X, Y, lr, epochs, seed=0):
    X, Y = np.asarray(X, dtype=float), np.asarray(Y, dtype=float)
    N, D = X.shape
    C = Y.shape[1]
    W = 0.01 * np.random.default_rng(seed).normal(size=(C, D))
    b = np.zeros(C)
    eps = 1e-6
    for _ in range(epochs):
        Z = X @ W.T + b
        G = np.zeros_like(Z)
        for n in range(N):
            for k in range(C):
                z, y = float(Z[n, k]), float(Y[n, k])
                {slope}
                G[n, k] = slope / (N * C)
        W = W - lr * (G.T @ X)
        b = b - lr * G.sum(axis=0)
    return W, b
'''

COPIES = [
    # Chapter 6, 'Multi-class or multi-label?': the labels above 0.5 counted on the logits.
    bug("multilabel-predict", "copied from chapter 6: the logit above 0 of the first cells", '''
def predict_multilabel(z, thresholds=0.5):
    return np.asarray(z) > 0          # a sigmoid is above 0.5 exactly where its logit is above 0
''', "test-multilabel-predict", "wrong labels"),
    # Chapter 3, 'One logit, two classes': the slip it shows, the logit compared with a threshold.
    bug("multilabel-predict", "copied from chapter 3: the logit compared with the threshold", '''
def predict_multilabel(z, thresholds=0.5):
    z = np.asarray(z)
    return z > np.asarray(thresholds)
''', "test-multilabel-predict", "compares the logits"),
    # Chapter 6, 'Measuring a set of predictions': the four photos' Python sets, one example at
    # a time: right values, the time of a loop over the rows.
    bug("multilabel-metrics", "part copied from chapter 6: the label sets, one example at a time",
        metrics(hamming=CH6_SETS, subset=""), "test-hamming-subset", "Python loop"),
    # The same page's F1 of one animal, one class at a time, on the rows as sets: it divides by 0
    # for a class never predicted (the failure the page shows).
    bug("multilabel-metrics", "part copied from chapter 6: f1_of_one_animal as it is on the page",
        metrics(f1=CH6_F1_OF_ONE_ANIMAL.format(
            guarded="out.append(f1_of_one_animal(k, truth, guess))")),
        "test-f1-per-class", "ZeroDivisionError"),
    # ... with its ZeroDivisionError caught: right values, the time of a loop over the rows.
    bug("multilabel-metrics", "part copied from chapter 6: f1_of_one_animal, its division by 0 caught",
        metrics(f1=CH6_F1_OF_ONE_ANIMAL.format(
            guarded="try:\n            out.append(f1_of_one_animal(k, truth, guess))\n"
                    "        except ZeroDivisionError:\n            out.append(0.0)")),
        "test-f1-per-class", "Python loop"),
    # The three copies together, the whole cell as a copying student hands it in.
    bug("multilabel-metrics", "copied from chapter 6: the label sets and f1_of_one_animal (its "
        "division by 0 caught), one example at a time",
        metrics(hamming=CH6_SETS, subset="", f1=CH6_F1_OF_ONE_ANIMAL.format(
            guarded="try:\n            out.append(f1_of_one_animal(k, truth, guess))\n"
                    "        except ZeroDivisionError:\n            out.append(0.0)")),
        {"test-hamming-subset", "test-f1-per-class"}, "Python loop"),
    # Chapter 6, 'One threshold per class, tuned on validation data': the exact search over the
    # sorted probabilities returns midpoints, not values of the grid, ...
    bug("multilabel-thresholds", "copied from chapter 6: the exact search over sorted probabilities",
        CH6_EXACT_SEARCH.format(pick="cuts[best]"), "test-tune-thresholds", "Expected"),
    # ... and snapped to the nearest value of the grid, still not the grid's best F1.
    bug("multilabel-thresholds", "copied from chapter 6: the exact search, snapped to the grid",
        CH6_EXACT_SEARCH.format(
            pick="np.asarray(grid)[np.argmin(np.abs(np.asarray(grid) - cuts[best]))]"),
        "test-tune-thresholds", "Expected"),
    # Chapter 6, 'The loss: one binary cross-entropy per class': the gradient check's central
    # difference of one term, looped over the N * C entries of every step.
    bug("multilabel-train", "copied from chapter 6: the central difference of bce_term, per entry",
        CH6_TRAIN_ONE_ENTRY.format(
            slope="slope = (bce_term(z + eps, y) - bce_term(z - eps, y)) / (2 * eps)"),
        {"test-train-loss", "test-train-quality"}, "Python loop"),
    # Chapter 6, 'What `pos_weight` does to the gradient': its two derivatives with p = 1, per entry.
    bug("multilabel-train", "copied from chapter 6: the pos_weight derivatives with p = 1, per entry",
        CH6_TRAIN_ONE_ENTRY.format(
            slope="slope = 1.0 * (expit(z) - 1) if y == 1 else expit(z)"),
        {"test-train-loss", "test-train-quality"}, "Python loop"),
    # The experiment with the chapter's exact search in place of the grid it is given.
    bug("experiment-rare-label", "copied from chapter 6: the exact search instead of the grid",
        experiment(pick="order = np.argsort(-p_val)\n"
                        "    tp = np.cumsum(y_val[order])\n"
                        "    f1_top = 2 * tp / (np.arange(1, len(tp) + 1) + y_val.sum())\n"
                        "    cuts = 0.5 * (p_val[order][:-1] + p_val[order][1:])\n"
                        "    threshold = float(cuts[np.argmax(f1_top[:-1])])"),
        "test-experiment-rare-label", "not a value of the grid"),
]
BUGS += COPIES

# Every question: a classmate's answer and the book's number lose the points, this student's
# right answer typed in gets them. The book's cases: the digits' four labels (at most three per
# image, the empty set included: 15 sets), the table of 'Micro- and macro-averaged F1', and
# pos_weight 9 at the threshold 0.5.
_bugs, _correct = question_entries("multilabel", book={
    "test-question-outputs": (4, 15),
    "test-question-f1-averages": (8 / 11, (1 + 2 / 3 + 1 / 2) / 3),
    "test-question-pos-weight": (0.1, 0.9)})
BUGS += _bugs
CORRECT += _correct
