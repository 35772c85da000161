"""Buggy and alternative correct implementations for the `softmax` exercise."""
from . import bug, correct

SOFTMAX = '''
def softmax(z, axis=-1):
    z = np.asarray(z)
    {body}
'''


def softmax_fn(body):
    return SOFTMAX.format(body=body)


LOG_SOFTMAX = '''
def log_softmax(z, axis=-1):
    z = np.asarray(z)
    {body}
'''


def log_softmax_fn(body):
    return LOG_SOFTMAX.format(body=body)


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
        "test-log-softmax-stability", "warning"),

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
        {"test-softmax-values", "test-softmax-stability",
         "test-softmax-forward", "test-softmax-backward", "test-softmax-backward-memory"},
        "instead of axis"),
    bug("softmax-function", "sum over the whole array (no axis)",
        softmax_fn('''e = np.exp(z - np.max(z, axis=axis, keepdims=True))
    return e / np.sum(e)'''),
        {"test-softmax-values", "test-softmax-stability",
         "test-softmax-forward", "test-softmax-backward", "test-softmax-backward-memory"},
        "whole array"),
    bug("softmax-function", "max without keepdims",
        softmax_fn('''e = np.exp(z - np.max(z, axis=axis))
    return e / np.sum(e, axis=axis, keepdims=True)'''),
        {"test-softmax-values", "test-softmax-stability",
         "test-softmax-forward", "test-softmax-backward", "test-softmax-backward-memory"},
        "raised ValueError"),
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
        "test-softmax-jacobian", "warning"),
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
        {"test-softmax-backward", "test-softmax-backward-memory"}, "raised ValueError"),
    bug("softmax-module", "backward modifies grad_output in place",
        module(backward='''g -= np.sum(g * s, axis=-1, keepdims=True)
        g *= s
        return g'''),
        "test-softmax-backward", "modified its input"),
    bug("softmax-module", "backward uses the logits instead of the probabilities",
        module(forward='''self.z = z
        self.s = z
        return softmax(z, axis=-1)'''),
        {"test-softmax-backward", "test-softmax-backward-memory"}, "wrong values"),
    bug("softmax-module", "forward normalises over the first axis",
        module(forward='''self.s = softmax(z, axis=0)
        return self.s'''),
        {"test-softmax-forward", "test-softmax-backward", "test-softmax-backward-memory"},
        "instead of axis"),
]

CORRECT = [
    correct("softmax-function", "exp(z - logsumexp) form", '''
def softmax(z, axis=-1):
    z = np.asarray(z)
    m = z.max(axis=axis, keepdims=True)
    lse = m + np.log(np.exp(z - m).sum(axis=axis, keepdims=True))
    return np.exp(z - lse)
'''),
    correct("softmax-function", "move the axis to the end and back", '''
def softmax(z, axis=-1):
    moved = np.moveaxis(np.asarray(z), axis, -1)
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
        self.p = softmax(z)
        return self.p

    def backward(self, grad_output):
        inner = np.einsum("...c,...c->...", grad_output, self.p)
        return self.p * (grad_output - inner[..., None])
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
