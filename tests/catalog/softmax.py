"""Buggy and alternative correct implementations for the `softmax` exercise."""
from . import bug, correct

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

    # --- softmax-jacobian ---
    bug("softmax-jacobian", "diagonal only",
        jacobian("s = softmax(z)\n    return np.diag(s * (1 - s))"),
        "test-softmax-jacobian", "zeros elsewhere"),
    bug("softmax-jacobian", "returns the vector s * (1 - s)",
        jacobian("s = softmax(z)\n    return s * (1 - s)"),
        "test-softmax-jacobian", "diagonal only"),
    bug("softmax-jacobian", "adds s s^T",
        jacobian("s = softmax(z)\n    return np.diag(s) + np.outer(s, s)"),
        "test-softmax-jacobian", "instead of subtracting"),
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
        "test-softmax-backward-memory", "Jacobian per row"),
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
    e = np.exp(moved - moved.max(axis=-1)[..., None])
    p = e / e.sum(axis=-1)[..., None]
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

def answer(name, value, comment=""):
    note = f"      # {comment}" if comment else ""
    return f"def {name}():\n    return {value}{note}\n"


Q_JAC, Q_NAIVE, Q_INV = "question-jacobian-memory", "question-naive-limit", "question-invariance"
T_JAC, T_NAIVE, T_INV = ("test-question-jacobian-memory", "test-question-naive-limit",
                         "test-question-invariance")
EXPERIMENT, T_EXPERIMENT = "experiment-temperature", "test-experiment-temperature"

EXPERIMENT_CODE = '''
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
'''


def experiment(logits="z / T", k="np.argmax(z)", points=400,
               answer="float(temperatures[np.argmin(np.abs(top - 0.5))])"):
    return EXPERIMENT_CODE.format(logits=logits, k=k, points=points, answer=answer)


BUGS += [
    bug(Q_JAC, "the size of the gradient, 8 N C",
        answer("answer_jacobian_bytes", "8 * 64 * 32_000"), T_JAC, "size of the gradient"),
    bug(Q_JAC, "one row's Jacobian only",
        answer("answer_jacobian_bytes", "8 * 32_000**2"), T_JAC, "ONE row"),
    bug(Q_JAC, "numbers instead of bytes",
        answer("answer_jacobian_bytes", "64 * 32_000**2"), T_JAC, "counts numbers"),
    bug(Q_JAC, "float32 (4 bytes per number)",
        answer("answer_jacobian_bytes", "4 * 64 * 32_000**2"), T_JAC, "float32"),
    bug(Q_JAC, "in gigabytes",
        answer("answer_jacobian_bytes", "524.288", "GB"), T_JAC, "gigabytes"),
    bug(Q_JAC, "N squared instead of C squared",
        answer("answer_jacobian_bytes", "8 * 64**2 * 32_000"), T_JAC, "count the numbers"),

    bug(Q_NAIVE, "the float32 limit",
        answer("answer_naive_limit", "float(np.log(np.finfo(np.float32).max))"),
        T_NAIVE, "float32"),
    bug(Q_NAIVE, "the underflow limit",
        answer("answer_naive_limit", "745.13"), T_NAIVE, "underflows"),
    bug(Q_NAIVE, "710, just past the limit",
        answer("answer_naive_limit", "710"), T_NAIVE, "already inf"),
    bug(Q_NAIVE, "709, finite but not the largest",
        answer("answer_naive_limit", "709"), T_NAIVE, "not the largest"),
    bug(Q_NAIVE, "the base-10 exponent of the largest float64",
        answer("answer_naive_limit", "float(np.log10(np.finfo(np.float64).max))"),
        T_NAIVE, "base-10"),

    bug(Q_INV, "counts scaling as invariant",
        answer("answer_invariant", '"abce"'), T_INV, "temperature"),
    bug(Q_INV, "counts a change of one logit as invariant",
        answer("answer_invariant", '"acde"'), T_INV, "differences"),
    bug(Q_INV, "only the explicit constant",
        answer("answer_invariant", '"a"'), T_INV, "(c), (e) also leave"),
    bug(Q_INV, "forgets the mean",
        answer("answer_invariant", '"ac"'), T_INV, "(e) also leaves"),
    bug(Q_INV, "the opposite choice",
        answer("answer_invariant", '"bd"'), T_INV, "temperature"),
    bug(Q_INV, "a list instead of a string",
        answer("answer_invariant", '["a", "c", "e"]'), T_INV, "string made of the letters"),

    bug(EXPERIMENT, "multiplies the logits by T",
        experiment(logits="z * T"), T_EXPERIMENT, "inverse"),
    bug(EXPERIMENT, "returns the probability, not the temperature",
        experiment(answer="float(top[np.argmin(np.abs(top - 0.5))])"), T_EXPERIMENT,
        "the probability"),
    bug(EXPERIMENT, "returns T = 1",
        experiment(answer="1.0"), T_EXPERIMENT, "plain softmax"),
    bug(EXPERIMENT, "always follows class 0 instead of the top class",
        experiment(k="0"), T_EXPERIMENT, "not the first class"),
    bug(EXPERIMENT, "reads where the curve reaches 1/C instead of 0.5",
        experiment(answer="float(temperatures[np.argmin(np.abs(top - 1 / len(z)))])"),
        T_EXPERIMENT, "not 0.5"),
]

CORRECT += [
    correct(Q_JAC, "a literal number", answer("answer_jacobian_bytes", "5.24288e11")),
    correct(Q_JAC, "an integer from the formula", '''
def answer_jacobian_bytes():
    N, C = 64, 32_000
    return N * C * C * np.dtype(np.float64).itemsize
'''),
    correct(Q_NAIVE, "a rounded literal", answer("answer_naive_limit", "709.78")),
    correct(Q_NAIVE, "found by bisection with the naive softmax", '''
def answer_naive_limit():
    lo, hi = 0.0, 1000.0
    with np.errstate(all="ignore"):
        for _ in range(60):
            mid = (lo + hi) / 2
            z = np.array([mid, 0.0])
            p = np.exp(z) / np.sum(np.exp(z))
            lo, hi = (mid, hi) if np.all(np.isfinite(p)) else (lo, mid)
    return lo
'''),
    correct(Q_INV, "upper case with commas", answer("answer_invariant", '"E, A, C"')),
    correct(Q_INV, "letters in order", answer("answer_invariant", '"ace"')),
    correct(EXPERIMENT, "a coarser grid", experiment(points=300)),
    correct(EXPERIMENT, "a plot, then bisection on the temperature", '''
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
'''),
]
