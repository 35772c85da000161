"""Buggy and alternative correct implementations for the `softmax` exercise."""
from autograder import variants

from . import ME, bug, correct, literal, question_entries

SOFTMAX = '''
def softmax(z, axis=-1):
    z = np.asarray(z){convert}
    {body}
'''
# Integer logits become float64 first (the contract); only the integer bugs leave this out.
CONVERT = '''
    if not np.issubdtype(z.dtype, np.floating):
        z = z.astype(np.float64)'''


def softmax_fn(body, convert=True):
    return SOFTMAX.format(body=body, convert=CONVERT if convert else "")


LOG_SOFTMAX = '''
def log_softmax(z, axis=-1):
    z = np.asarray(z){convert}
    {body}
'''


def log_softmax_fn(body, convert=True):
    return LOG_SOFTMAX.format(body=body, convert=CONVERT if convert else "")


MODULE = '''
class Softmax:
    def forward(self, z):
        {forward}

    def backward(self, grad_output):
        g = grad_output
        s = self.s
        {backward}
'''
GOOD_FORWARD = '''self.s = softmax(z, axis=-1)
        return self.s'''
GOOD_BACKWARD = "return s * (g - np.sum(g * s, axis=-1, keepdims=True))"


def module(forward=GOOD_FORWARD, backward=GOOD_BACKWARD):
    return MODULE.format(forward=forward, backward=backward)


JACOBIAN = '''
def softmax_jacobian(z):
    {body}
'''


def jacobian(body):
    return JACOBIAN.format(body=body)


BUGS = [
    # --- log-softmax-function (first: the typical one-cell mistake of the example student) ---
    bug("log-softmax-function", "log of the softmax (-inf for large spreads)",
        log_softmax_fn("return np.log(softmax(z, axis=axis))"),
        "test-log-softmax-stability", "-inf"),
    bug("log-softmax-function", "no max shift (exp overflows)",
        log_softmax_fn("return z - np.log(np.sum(np.exp(z), axis=axis, keepdims=True))"),
        "test-log-softmax-stability", "overflowed"),
    bug("log-softmax-function", "max subtracted twice",
        log_softmax_fn('''m = np.max(z, axis=axis, keepdims=True)
    return z - m - (m + np.log(np.sum(np.exp(z - m), axis=axis, keepdims=True)))'''),
        {"test-log-softmax-values", "test-log-softmax-stability"}, "off by the maximum"),
    bug("log-softmax-function", "wrong axis (always the last one)",
        log_softmax_fn('''shifted = z - np.max(z, axis=-1, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))'''),
        {"test-log-softmax-values", "test-log-softmax-stability"}, "instead of axis 0"),
    bug("log-softmax-function", "returns the probabilities",
        log_softmax_fn('''shifted = z - np.max(z, axis=axis, keepdims=True)
    return np.exp(shifted) / np.sum(np.exp(shifted), axis=axis, keepdims=True)'''),
        {"test-log-softmax-values", "test-log-softmax-stability"}, "not their logarithms"),
    bug("log-softmax-function", "converts float32 to float64",
        log_softmax_fn('''z = z.astype(np.float64)
    shifted = z - np.max(z, axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))'''),
        "test-log-softmax-values", "dtype"),
    bug("log-softmax-function", "one maximum for the whole array",
        log_softmax_fn('''shifted = z - np.max(z)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))'''),
        "test-log-softmax-stability", "each slice's own maximum"),

    bug("log-softmax-function", "shifts integer logits before converting them (uint8 wraps)",
        log_softmax_fn('''shifted = z - np.max(z, axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))''', convert=False),
        "test-log-softmax-values", "wraps around"),

    bug("log-softmax-function", "a Python loop over the rows of a reshaped batch", '''
def log_softmax(z, axis=-1):
    z = np.asarray(z)
    if not np.issubdtype(z.dtype, np.floating):
        z = z.astype(np.float64)
    moved = np.moveaxis(z, axis, -1)
    rows = moved.reshape(-1, moved.shape[-1])
    out = np.empty_like(rows)
    for i, v in enumerate(rows):
        shifted = v - v.max()
        out[i] = shifted - np.log(np.exp(shifted).sum())
    return np.moveaxis(out.reshape(moved.shape), -1, axis)
''', {"test-log-softmax-values", "test-log-softmax-stability"}, "Python loop"),

    # --- softmax-function ---
    bug("softmax-function", "no max shift (exp overflows)",
        softmax_fn("return np.exp(z) / np.sum(np.exp(z), axis=axis, keepdims=True)"),
        {"test-softmax-stability", "test-softmax-jacobian", "test-softmax-forward"}, "overflow"),
    bug("softmax-function", "one maximum for the whole array (global max)",
        softmax_fn('''e = np.exp(z - np.max(z))
    return e / np.sum(e, axis=axis, keepdims=True)'''),
        {"test-softmax-stability", "test-softmax-forward"}, "global max"),
    bug("softmax-function", "normalises over axis 0 whatever axis is given",
        softmax_fn('''e = np.exp(z - np.max(z, axis=0, keepdims=True))
    return e / np.sum(e, axis=0, keepdims=True)'''),
        {"test-softmax-values", "test-softmax-stability", "test-softmax-forward"},
        "instead of axis"),
    bug("softmax-function", "sum over the whole array (no axis)",
        softmax_fn('''e = np.exp(z - np.max(z, axis=axis, keepdims=True))
    return e / np.sum(e)'''),
        {"test-softmax-values", "test-softmax-stability", "test-softmax-forward"},
        "whole array"),
    bug("softmax-function", "max without keepdims",
        softmax_fn('''e = np.exp(z - np.max(z, axis=axis))
    return e / np.sum(e, axis=axis, keepdims=True)'''),
        {"test-softmax-values", "test-softmax-stability", "test-softmax-forward"},
        "keepdims=True"),
    bug("softmax-function", "subtracts the maximum in place",
        softmax_fn('''z -= np.max(z, axis=axis, keepdims=True)
    e = np.exp(z)
    return e / np.sum(e, axis=axis, keepdims=True)'''),
        {"test-softmax-values", "test-softmax-jacobian", "test-softmax-forward"},
        "modified its input"),
    bug("softmax-function", "converts float32 to float64",
        softmax_fn('''z = np.asarray(z, dtype=np.float64)
    e = np.exp(z - np.max(z, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)'''),
        "test-softmax-values", "dtype"),

    bug("softmax-function", "shifts integer logits before converting them (uint8 wraps around)",
        softmax_fn('''shifted = z - np.max(z, axis=axis, keepdims=True)
    e = np.exp(shifted)
    return e / np.sum(e, axis=axis, keepdims=True)''', convert=False),
        "test-softmax-values", "wraps around"),

    bug("softmax-function", "a Python loop over the slices (np.apply_along_axis)", '''
def softmax(z, axis=-1):
    z = np.asarray(z)
    if not np.issubdtype(z.dtype, np.floating):
        z = z.astype(np.float64)

    def one_slice(v):
        e = np.exp(v - v.max())
        return e / e.sum()
    return np.apply_along_axis(one_slice, axis, z).astype(z.dtype)
''', {"test-softmax-values", "test-softmax-stability", "test-softmax-forward"}, "Python loop"),

    # --- softmax-jacobian ---
    bug("softmax-jacobian", "diagonal only",
        jacobian("s = softmax(z)\n    return np.diag(s * (1 - s))"),
        "test-softmax-jacobian", "zeros elsewhere"),
    bug("softmax-jacobian", "returns the vector s * (1 - s)",
        jacobian("s = softmax(z)\n    return s * (1 - s)"),
        "test-softmax-jacobian", "diagonal only"),
    bug("softmax-jacobian", "adds s s^T",
        jacobian("s = softmax(z)\n    return np.diag(s) + np.outer(s, s)"),
        "test-softmax-jacobian", "wrong sign"),
    bug("softmax-jacobian", "inner product instead of outer product",
        jacobian("s = softmax(z)\n    return np.diag(s) - s @ s"),
        "test-softmax-jacobian", "wrong values"),
    bug("softmax-jacobian", "naive softmax inside (overflow)",
        jacobian("s = np.exp(z) / np.sum(np.exp(z))\n    return np.diag(s) - np.outer(s, s)"),
        "test-softmax-jacobian", "exp of a large logit overflowed"),
    bug("softmax-jacobian", "Jacobian of the logits, not of the softmax",
        jacobian("s = np.asarray(z, dtype=float)\n    return np.diag(s) - np.outer(s, s)"),
        "test-softmax-jacobian", "wrong values"),

    # --- softmax-module ---
    bug("softmax-module", "backward uses only the Jacobian's diagonal",
        module(backward="return g * s * (1 - s)"),
        {"test-softmax-backward", "test-softmax-backward-memory"}, "only the diagonal"),
    bug("softmax-module", "backward ignores the upstream gradient",
        module(backward="return s * (1 - s)"),
        {"test-softmax-backward", "test-softmax-backward-memory"}, "ignores grad_output"),
    bug("softmax-module", "backward builds a C x C Jacobian per row (einsum)",
        module(backward='''C = s.shape[-1]
        J = s[..., :, None] * np.eye(C) - s[..., :, None] * s[..., None, :]
        return np.einsum("...ij,...i->...j", J, g)'''),
        "test-softmax-backward-memory", "Jacobian per row"),
    bug("softmax-module", "backward loops over rows with one Jacobian each",
        module(backward='''C = s.shape[-1]
        rows_s, rows_g = s.reshape(-1, C), g.reshape(-1, C)
        out = np.empty_like(rows_g)
        for i in range(len(rows_s)):
            J = np.diag(rows_s[i]) - np.outer(rows_s[i], rows_s[i])
            out[i] = J.T @ rows_g[i]
        return out.reshape(s.shape)'''),
        {"test-softmax-backward", "test-softmax-backward-memory"}, "Python loop"),
    bug("softmax-module", "backward loops over the rows (no Jacobian, but one row at a time)",
        module(backward='''C = s.shape[-1]
        rows_s, rows_g = s.reshape(-1, C), g.reshape(-1, C)
        out = np.empty_like(rows_g)
        for i in range(len(rows_s)):
            out[i] = rows_s[i] * (rows_g[i] - rows_g[i] @ rows_s[i])
        return out.reshape(s.shape)'''),
        {"test-softmax-backward", "test-softmax-backward-memory"}, "Python loop"),
    bug("softmax-module", "backward sums over the batch axis",
        module(backward="return s * (g - np.sum(g * s, axis=0, keepdims=True))"),
        {"test-softmax-backward", "test-softmax-backward-memory"}, "batch axis"),
    bug("softmax-module", "backward assumes an upstream gradient of ones in the sum",
        module(backward="return g * s - s"),
        {"test-softmax-backward", "test-softmax-backward-memory"}, "all ones"),
    bug("softmax-module", "backward sum without keepdims",
        module(backward="return s * (g - np.sum(g * s, axis=-1))"),
        {"test-softmax-backward", "test-softmax-backward-memory"}, "without keepdims=True"),
    bug("softmax-module", "backward modifies grad_output in place",
        module(backward='''g -= np.sum(g * s, axis=-1, keepdims=True)
        g *= s
        return g'''),
        "test-softmax-backward", "modified its input"),
    bug("softmax-module", "forward stores the logits in self.s, not the probabilities",
        module(forward='''self.z = z
        self.s = z
        return softmax(z, axis=-1)'''),
        "test-softmax-forward", "holds the logits"),
    bug("softmax-module", "forward stores the probabilities under another name", '''
class Softmax:
    def forward(self, z):
        self.probs = softmax(z, axis=-1)
        return self.probs

    def backward(self, grad_output):
        p = self.probs
        return p * (grad_output - np.sum(grad_output * p, axis=-1, keepdims=True))
''', {"test-softmax-forward", "test-softmax-backward", "test-softmax-backward-memory"},
        "self.s"),
    bug("softmax-module", "backward recomputes the softmax from logits stored by forward", '''
class Softmax:
    def forward(self, z):
        self.s = softmax(z, axis=-1)
        self.z = np.array(z, copy=True)
        return self.s

    def backward(self, grad_output):
        s = softmax(self.z, axis=-1)
        return s * (grad_output - np.sum(grad_output * s, axis=-1, keepdims=True))
''', {"test-softmax-backward", "test-softmax-backward-memory"}, "self.s"),
    bug("softmax-module", "forward normalises over the first axis",
        module(forward='''self.s = softmax(z, axis=0)
        return self.s'''),
        "test-softmax-forward", "instead of axis"),
]

CORRECT = [
    correct("softmax-function", "exp(z - logsumexp) form", '''
def softmax(z, axis=-1):
    z = np.asarray(z) * 1.0          # integers become float64, float32 stays float32
    m = z.max(axis=axis, keepdims=True)
    lse = m + np.log(np.exp(z - m).sum(axis=axis, keepdims=True))
    return np.exp(z - lse)
'''),
    correct("softmax-function", "move the axis to the end and back", '''
def softmax(z, axis=-1):
    z = np.asarray(z)
    if np.issubdtype(z.dtype, np.integer):
        z = z.astype(float)
    moved = np.moveaxis(z, axis, -1)
    e = np.exp(moved - moved.max(-1)[..., None])
    p = e / e.sum(-1)[..., None]
    return np.moveaxis(p, -1, axis)
'''),
    correct("log-softmax-function", "logaddexp.reduce", '''
def log_softmax(z, axis=-1):
    z = np.asarray(z)
    if not np.issubdtype(z.dtype, np.floating):
        z = z.astype(np.float64)
    return z - np.logaddexp.reduce(z, axis=axis, keepdims=True)
'''),
    correct("log-softmax-function", "log-sum-exp with the max added back", '''
def log_softmax(z, axis=-1):
    z = np.asarray(z)
    if z.dtype.kind in "biu":
        z = np.asarray(z, dtype=np.float64)
    m = np.max(z, axis=axis, keepdims=True)
    lse = m + np.log(np.sum(np.exp(z - m), axis=axis, keepdims=True))
    return z - lse
'''),
    correct("softmax-jacobian", "np.outer with an identity matrix", '''
def softmax_jacobian(z):
    s = softmax(np.asarray(z, dtype=float))
    return np.eye(len(s)) * s - np.outer(s, s)
'''),
    correct("softmax-jacobian", "einsum of s_i (delta_ij - s_j)", '''
def softmax_jacobian(z):
    s = softmax(z)
    return np.einsum("i,ij->ij", s, np.eye(s.size) - s[None, :])
'''),
    correct("softmax-module", "einsum for the inner product", '''
class Softmax:
    def forward(self, z):
        self.s = softmax(z)
        return self.s

    def backward(self, grad_output):
        inner = np.einsum("...c,...c->...", grad_output, self.s)
        return self.s * (grad_output - inner[..., None])
'''),
    correct("softmax-module", "g * s - s * sum(g * s), stores a copy", '''
class Softmax:
    def forward(self, z):
        z = np.asarray(z, dtype=float)
        e = np.exp(z - z.max(axis=-1, keepdims=True))
        self.s = e / e.sum(axis=-1, keepdims=True)
        return self.s.copy()

    def backward(self, grad_output):
        gs = grad_output * self.s
        return gs - self.s * gs.sum(axis=-1, keepdims=True)
'''),
]


# --- questions and the experiment ----------------------------------------------------------------
# The catalog runs as student ME: the questions' wrong answers are computed from ME's numbers, as
# that student would compute them (`NUMBERS` is defined by the notebook's numbers cell).
MINE = variants.numbers("softmax", ME)

Q_JAC, Q_POST, Q_INV = "question-jacobian-memory", "question-posterior", "question-invariance"
T_JAC, T_POST, T_INV = ("test-question-jacobian-memory", "test-question-posterior",
                        "test-question-invariance")
EXPERIMENT, T_EXPERIMENT = "experiment-temperature", "test-experiment-temperature"

JACOBIAN_BYTES = """
def answer_jacobian_bytes():
    N, C = NUMBERS["N"], NUMBERS["C"]
    b = np.dtype(NUMBERS["dtype"]).itemsize
    return {ret}
"""

BUGS += [
    bug(Q_JAC, "float64 (8 bytes per number), the chapter's dtype",
        JACOBIAN_BYTES.format(ret="8 * N * C**2"), T_JAC, "bytes per number"),
    bug(Q_JAC, "the size of the gradient, N C numbers",
        JACOBIAN_BYTES.format(ret="b * N * C"), T_JAC, "size of the gradient"),
    bug(Q_JAC, "one row's Jacobian only",
        JACOBIAN_BYTES.format(ret="b * C**2"), T_JAC, "ONE row"),
    bug(Q_JAC, "numbers instead of bytes",
        JACOBIAN_BYTES.format(ret="N * C**2"), T_JAC, "counts numbers"),
    bug(Q_JAC, "in gigabytes",
        JACOBIAN_BYTES.format(ret="b * N * C**2 / 1e9"), T_JAC, "gigabytes"),
    bug(Q_JAC, "N squared instead of C squared",
        JACOBIAN_BYTES.format(ret="b * N**2 * C"), T_JAC, "swapped"),
    bug(Q_JAC, "bits instead of bytes",
        JACOBIAN_BYTES.format(ret="8 * b * N * C**2"), T_JAC, "counts bits"),
]
CORRECT += [
    correct(Q_JAC, "the product written out, bytes from a table", """
def answer_jacobian_bytes():
    size = {"float64": 8, "float32": 4, "float16": 2}[NUMBERS["dtype"]]
    return NUMBERS["N"] * NUMBERS["C"] * NUMBERS["C"] * size
"""),
    correct(Q_JAC, "the nbytes of one small Jacobian, scaled", """
def answer_jacobian_bytes():
    one_number = np.zeros(1, dtype=NUMBERS["dtype"]).nbytes
    return float(one_number) * NUMBERS["C"] ** 2 * NUMBERS["N"]
"""),
]

POSTERIOR = """
def answer_posterior():
    ll = np.array(NUMBERS["log_likelihoods"])
    prior = np.array(NUMBERS["priors"])
    k = NUMBERS["k"]
    {body}
"""

BUGS += [
    bug(Q_POST, "Bayes' rule on the likelihoods themselves (they underflow: 0/0)",
        POSTERIOR.format(body="""with np.errstate(all="ignore"):
        joint = np.exp(ll) * prior
        return float(joint[k] / joint.sum())"""), T_POST, "underflows"),
    bug(Q_POST, "ignores the priors",
        POSTERIOR.format(body="""e = np.exp(ll - ll.max())
    return float(e[k] / e.sum())"""), T_POST, "ignores the priors"),
    bug(Q_POST, "divides by the priors",
        POSTERIOR.format(body="""a = ll - np.log(prior)
    e = np.exp(a - a.max())
    return float(e[k] / e.sum())"""), T_POST, "divides"),
    bug(Q_POST, "the complement, 1 - P(y = k | x)",
        POSTERIOR.format(body="""a = ll + np.log(prior)
    e = np.exp(a - a.max())
    return float(1 - e[k] / e.sum())"""), T_POST, "NOT"),
    bug(Q_POST, "the posterior of the most probable class, not of class k",
        POSTERIOR.format(body="""a = ll + np.log(prior)
    e = np.exp(a - a.max())
    return float(e.max() / e.sum())"""), T_POST, "posterior of class"),
    bug(Q_POST, "normalises the log-likelihoods",
        POSTERIOR.format(body="return float(ll[k] / ll.sum())"), T_POST,
        "normalises the log-likelihoods"),
    bug(Q_POST, "returns the log-posterior",
        POSTERIOR.format(body="""a = ll + np.log(prior)
    m = a.max()
    return float(a[k] - m - np.log(np.sum(np.exp(a - m))))"""), T_POST, "negative"),
]
CORRECT += [
    correct(Q_POST, "through scipy's logsumexp", """
def answer_posterior():
    from scipy import special
    a = np.log(NUMBERS["priors"]) + np.array(NUMBERS["log_likelihoods"])
    return float(np.exp(a[NUMBERS["k"]] - special.logsumexp(a)))
"""),
    correct(Q_POST, "the likelihoods rescaled by a common factor, in a loop", """
def answer_posterior():
    import math
    ll, prior = NUMBERS["log_likelihoods"], NUMBERS["priors"]
    ref = max(ll)
    joint = [math.exp(l - ref) * q for l, q in zip(ll, prior)]
    return joint[NUMBERS["k"]] / sum(joint)
"""),
]

CHOICE = """
def answer_invariant():
    chosen = ""
    for letter, change in zip("abcdefg", NUMBERS["changes"]):
        if {condition}:
            chosen += letter
    return chosen
"""
# How the reference reads a change: one number added to (or subtracted from) every logit of a row.
SHIFT = ('any(s in change for s in ("subtract the largest logit from", "subtract the mean of the '
         'logits", "subtract the smallest logit", "replace z by log_softmax", "of the first row '
         'only", "subtract from each row the mean")) or (change.startswith("add ") and '
         'change.endswith(" to every logit"))')

BUGS += [
    bug(Q_INV, "thinks a change of one row of a batch changes its softmax",
        CHOICE.format(condition=f'({SHIFT}) and "row" not in change'), T_INV, "left out"),
    bug(Q_INV, "counts a shift of each column as invariant",
        CHOICE.format(condition=f'({SHIFT}) or "each column" in change'), T_INV,
        "moves some logits"),
    bug(Q_INV, "counts a change of one logit (or one class) as invariant",
        CHOICE.format(condition=f'({SHIFT}) or "first logit only" in change or "class 0" in change'),
        T_INV, "moves some logits"),
    bug(Q_INV, "only an explicit number added to every logit",
        CHOICE.format(condition='change.startswith("add ") and change.endswith(" to every logit")'),
        T_INV, "left out"),
    bug(Q_INV, "the opposite choice",
        CHOICE.format(condition=f'not ({SHIFT})'), T_INV, "multiplies or divides"),
    bug(Q_INV, "counts a temperature as invariant",
        CHOICE.format(condition=f'({SHIFT}) or "multiply" in change or "divide" in change'),
        T_INV, "temperature"),
    bug(Q_INV, "counts exp(z) or softmax(z) in place of z as invariant",
        CHOICE.format(condition=f'({SHIFT}) or change.startswith("replace z by")'),
        T_INV, "non-linear function"),
    bug(Q_INV, "a list instead of a string",
        "def answer_invariant():\n    return list(" + literal(
            "".join(ch for ch in "abcdefg"[:len(MINE["changes"])])) + ")\n",
        T_INV, "string made of the letters"),
]

_mine = __import__("autograder.checks.softmax", fromlist=["right_invariant"]).right_invariant(MINE)
CORRECT += [
    correct(Q_INV, "upper case with commas, reversed",
            "def answer_invariant():\n    return " + literal(", ".join(_mine[::-1].upper())) + "\n"),
    correct(Q_INV, "the reference's reading of the changes", CHOICE.format(condition=SHIFT)),
]

EXPERIMENT_CODE = """
def half_temperature(z, plot=False):
    z = np.asarray(z, dtype=float)
    k = {k}
    temperatures = np.geomspace(0.1, 10, {points})
    top = np.array([softmax({logits})[k] for T in temperatures])
    if plot:
        fig, ax = plt.subplots()
        ax.semilogx(temperatures, top)
        ax.axhline(0.5, color="grey", ls="--")
        ax.set_xlabel("temperature T")
        ax.set_ylabel("probability of the top class")
        plt.close(fig)
    return {answer}
"""


def experiment(logits="z / T", k="np.argmax(z)", points=400,
               answer="float(temperatures[np.argmin(np.abs(top - 0.5))])"):
    return EXPERIMENT_CODE.format(logits=logits, k=k, points=points, answer=answer)


def _half_temperature(z):
    from autograder.checks.softmax import _half_temperature as right
    return right(z)


# The book's temperature figure (Chapter 4, 'Temperature') draws these five logits.
BOOK_LOGITS = [0.4967, -0.1383, 0.6477, 1.5230, -0.2342]

BUGS += [
    bug(EXPERIMENT, "returns the book's numbers",
        experiment(answer=f"{_half_temperature(BOOK_LOGITS):.4f}"), T_EXPERIMENT, "not 0.5"),
    bug(EXPERIMENT, "returns constants",
        experiment(answer=f"{_half_temperature(MINE['z']):.4f}"), T_EXPERIMENT,
        "hidden test"),
    bug(EXPERIMENT, "multiplies the logits by T",
        experiment(logits="z * T"), T_EXPERIMENT, "inverse"),
    bug(EXPERIMENT, "returns the probability, not the temperature",
        experiment(answer="float(top[np.argmin(np.abs(top - 0.5))])"), T_EXPERIMENT,
        "the probability"),
    bug(EXPERIMENT, "always follows class 0 instead of the top class",
        experiment(k="0"), T_EXPERIMENT, "not 0.5"),
    bug(EXPERIMENT, "reads where the curve reaches 1/C instead of 0.5",
        experiment(answer="float(temperatures[np.argmin(np.abs(top - 1 / len(z)))])"),
        T_EXPERIMENT, "not 0.5"),
    bug(EXPERIMENT, "a grid of eight temperatures",
        experiment(points=8), T_EXPERIMENT, "gives the top class a probability of"),
]

CORRECT += [
    correct(EXPERIMENT, "a coarser grid", experiment(points=300)),
    correct(EXPERIMENT, "a plot, then bisection on the temperature", """
def half_temperature(z, plot=False):
    z = np.asarray(z, dtype=float)
    k = np.argmax(z)
    if plot:
        temperatures = np.geomspace(0.1, 10, 200)
        fig, ax = plt.subplots()
        ax.semilogx(temperatures, [softmax(z / T)[k] for T in temperatures])
        ax.axhline(0.5, color="grey", ls="--")
        plt.close(fig)
    lo, hi = 0.1, 10.0
    for _ in range(50):
        mid = np.sqrt(lo * hi)
        lo, hi = (mid, hi) if softmax(z / mid)[k] > 0.5 else (lo, mid)
    return mid
"""),
]

# The page's example of Bayes' rule in high dimension (Chapter 4, 'The posterior of C classes').
BOOK_LOG_LIKELIHOODS, BOOK_PRIORS = [-1093.2, -1091.5, -1096.8], [0.5, 0.3, 0.2]


def _book_posterior():
    import numpy as np
    from scipy import special
    return float(special.softmax(np.array(BOOK_LOG_LIKELIHOODS) + np.log(BOOK_PRIORS))[0])


BOOK_POSTERIOR = _book_posterior()

# Every question: a classmate's answer and the book's number lose the points, this student's
# right answer typed in gets them. The book's cases: the Jacobians of 1024 rows of a 50 000-word
# vocabulary in float64 (Chapter 4, 'Why backward never builds the Jacobian'); the posterior of
# class 0 in the page's example of three image classes (Chapter 4, 'The posterior of C classes').
# Question 3's book case is the shifts the page tries, copied below; a fixed string of letters is
# like a classmate's answer (it is right for a few students by chance), such as the answer of the
# fixed list of changes of version 0.3.0, passed along.
_bugs, _correct = question_entries("softmax", book={
    T_JAC: 8 * 1024 * 50_000**2,
    T_POST: BOOK_POSTERIOR})
BUGS += _bugs + [bug(Q_INV, "the answer of 0.3.0's fixed changes, passed along",
                     'def answer_invariant():\n    return "ace"\n', T_INV, "")]
CORRECT += _correct


# --- Copied from the book (issue 20) -------------------------------------------------------------
# What a student who wants points without the thinking writes from what the built book shows
# (visible code cells, their outputs, inline code and prose; hidden cells are not readable), each
# as the whole solution cell: renamed, looped over the slices, wrapped in the exercise's signature.
# Chapter 4 shows the naive softmax of one vector (`softmax_naive`), the naive one applied to the
# rows of a batch shifted by one global maximum, the log of a softmax, the log of a plain sum of
# exponentials, the diagonal s (1 - s) of the Jacobian next to SciPy's numerical Jacobian, a
# classmate's backward g s (1 - s) (Check your understanding), Bayes' rule with likelihoods that
# underflow, 8 N C^2 bytes in float64, and SciPy's softmax of z / T at T = 1/2 and 1. Chapter 1
# shows the same naive softmax (`exp_normalise`); chapter 2 a Tanh layer; chapter 7 the
# temperature at which two classes 3 apart are 90 % sure, 3 / ln 9.
LOOP_ROWS_OF = '''
    moved = np.moveaxis(z, axis, -1)
    rows = moved.reshape(-1, moved.shape[-1])
    out = np.stack([{row} for row in rows])
    return np.moveaxis(out.reshape(moved.shape), -1, axis)'''

BUGS += [
    bug("softmax-function", "copied from chapter 4: softmax_naive in the exercise's signature", '''
def softmax(z, axis=-1):
    """Softmax of one vector of logits, straight from the definition."""
    e = np.exp(z)
    return e / e.sum()
''', {"test-softmax-values", "test-softmax-stability", "test-softmax-jacobian",
      "test-softmax-forward"}, "whole array"),
    bug("softmax-function", "copied from chapter 1: exp_normalise renamed", '''
def softmax(z, axis=-1):
    z = np.asarray(z, dtype=float)
    e = np.exp(z)
    return e / e.sum()
''', {"test-softmax-values", "test-softmax-stability", "test-softmax-jacobian",
      "test-softmax-forward"}, "whole array"),
    bug("softmax-function", "copied from chapter 4: softmax_naive of each slice minus its own "
        "maximum (the global-max cell with the row's max), looped over the slices",
        '''
def softmax_naive(z):
    e = np.exp(z)
    return e / e.sum()


def softmax(z, axis=-1):
    z = np.asarray(z)
    if not np.issubdtype(z.dtype, np.floating):
        z = z.astype(np.float64)''' + LOOP_ROWS_OF.format(row="softmax_naive(row - row.max())")
        + "\n", {"test-softmax-values", "test-softmax-stability", "test-softmax-forward"},
        "Python loop"),
    bug("softmax-function", "copied from chapter 4: softmax_naive with the axis and keepdims of "
        "the row-centring example (no shift: earns the values cell)", softmax_fn(
            '''e = np.exp(z)
    return e / e.sum(axis=axis, keepdims=True)'''),
        {"test-softmax-stability", "test-softmax-jacobian", "test-softmax-forward"},
        "overflow"),

    bug("log-softmax-function", "copied from chapter 4: the log of the softmax, as the "
        "Log-softmax section prints it (earns the values cell)",
        log_softmax_fn("return np.log(softmax(z, axis=axis))"),
        "test-log-softmax-stability", "-inf"),
    bug("log-softmax-function", "copied from chapter 4: each row minus the log of its plain sum "
        "of exponentials, looped over the slices", '''
def log_softmax(z, axis=-1):
    z = np.asarray(z)
    if not np.issubdtype(z.dtype, np.floating):
        z = z.astype(np.float64)''' + LOOP_ROWS_OF.format(row="row - np.log(np.sum(np.exp(row)))")
        + "\n", {"test-log-softmax-values", "test-log-softmax-stability"}, "Python loop"),
    bug("log-softmax-function", "copied from chapter 4: the log of softmax_naive", '''
def softmax_naive(z):
    e = np.exp(z)
    return e / e.sum()


def log_softmax(z, axis=-1):
    return np.log(softmax_naive(np.asarray(z, dtype=float)))
''', {"test-log-softmax-values", "test-log-softmax-stability"}, "wrong values"),

    bug("softmax-jacobian", "copied from chapter 4: the diagonal s (1 - s) the Jacobian section "
        "prints, as a matrix",
        jacobian("s = softmax(z)\n    return np.diag([v * (1 - v) for v in s])"),
        "test-softmax-jacobian", "zeros elsewhere"),
    bug("softmax-jacobian", "copied from chapter 4: SciPy's numerical Jacobian "
        "(scipy.differentiate.jacobian) of the softmax of part 1", '''
from scipy.differentiate import jacobian as numerical_jacobian


def softmax_jacobian(z):
    z = np.asarray(z, dtype=float)
    return numerical_jacobian(lambda v: softmax(v, axis=0), z).df
''', "test-softmax-jacobian", "relative to their size"),

    bug("softmax-module", "copied from chapter 4: the classmate's backward g s (1 - s) of "
        "'Check your understanding'", module(backward="return g * s * (1 - s)"),
        {"test-softmax-backward", "test-softmax-backward-memory"}, "only the diagonal"),
    bug("softmax-module", "the Tanh layer chapter 2 showed before 0.4, softmax in forward, its "
        "backward kept", '''
class Softmax:
    """softmax as a layer: forward stores s."""

    def forward(self, z):
        self.s = softmax(z, axis=-1)
        return self.s

    def backward(self, grad_output):
        return grad_output * (1 - self.s ** 2)        # upstream times local
''', {"test-softmax-backward", "test-softmax-backward-memory"}, "wrong values"),
    bug("softmax-module", "copied from chapter 4: J^T g with the Jacobian of part 1, row by row "
        "(the logits recovered as log s)", '''
class Softmax:
    def forward(self, z):
        self.s = softmax(z, axis=-1)
        return self.s

    def backward(self, grad_output):
        C = self.s.shape[-1]
        rows_s, rows_g = self.s.reshape(-1, C), grad_output.reshape(-1, C)
        out = np.stack([g @ softmax_jacobian(np.log(s)) for s, g in zip(rows_s, rows_g)])
        return out.reshape(self.s.shape)
''', {"test-softmax-backward", "test-softmax-backward-memory"}, "Python loop"),

    bug(Q_JAC, "copied from chapter 4: 8 N C^2 bytes (float64), with my N and C",
        JACOBIAN_BYTES.format(ret="8 * N * C**2"), T_JAC, "bytes per number"),
    bug(Q_POST, "copied from chapter 4: Bayes' rule with the likelihoods, as the page's cell "
        "(0 / 0)", """
def answer_posterior():
    log_lik = np.array(NUMBERS["log_likelihoods"])   # log p(x | y = k), in nats
    prior = np.array(NUMBERS["priors"])
    with np.errstate(under="ignore", invalid="ignore"):
        joint = prior * np.exp(log_lik)              # every entry is 0
        bayes = joint / joint.sum()                  # 0 / 0
    return float(bayes[NUMBERS["k"]])
""", T_POST, "underflow"),
    bug(Q_INV, "copied from chapter 4: only the shifts the page tries in code (a number added to "
        "or subtracted from every logit)",
        CHOICE.format(condition='change.startswith(("add ", "subtract ")) and '
                                'change.endswith("every logit")'), T_INV, "left out"),
    bug(EXPERIMENT, "copied from chapter 4: SciPy's softmax of z / T at a handful of "
        "temperatures around the page's T = 1/2 and 1", """
def half_temperature(z, plot=False):
    from scipy import special
    z = np.asarray(z, dtype=float)
    k = np.argmax(z)
    temperatures = np.array([0.25, 0.5, 1.0, 2.0, 4.0])
    top = np.array([special.softmax(z / T)[k] for T in temperatures])
    return float(temperatures[np.argmin(np.abs(top - 0.5))])
""", T_EXPERIMENT, "gives the top class a probability of"),
    bug(EXPERIMENT, "copied from chapter 7: 3 / ln 9 for two classes 3 apart, as "
        "(top - runner-up) / ln(C - 1)", """
def half_temperature(z, plot=False):
    z = np.sort(np.asarray(z, dtype=float))
    return float((z[-1] - z[-2]) / np.log(len(z) - 1))
""", T_EXPERIMENT, "gives the top class a probability of"),
]
