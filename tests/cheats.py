"""Tricks a student who wants the points could try from inside the kernel (issue 14), each written
into the `linear` solution cell of an otherwise empty `logits` submission, and two honest
notebooks that the old in-kernel grading got wrong.

Each entry: the student's name, the code of the `linear` cell, the total the student must get,
and whether the report must flag the submission for review (the kernel's own run of a test cell
disagreed with the trusted checker, or the notebook reached for the checker out of turn).
"""
from __future__ import annotations

import base64
import io
from dataclasses import dataclass

import numpy as np

from autograder import course, notebooks

A = "logits"
EMPTY_LINEAR = '''
class Linear:
    def __init__(self, W, b):
        self.W, self.b = W, b
    def forward(self, X):
        return None
    def backward(self, grad_logits):
        return None
'''


@dataclass(frozen=True)
class Cheat:
    student: str
    code: str             # the `linear` cell
    total: float | None   # the points it must get (the other cells are left unanswered);
                          # None: every auto-graded point (the reference solution)
    flagged: bool         # listed for review
    reference: bool = False  # the other solution cells hold the reference solution


CHEATS = [
    Cheat("input-transformer", EMPTY_LINEAR + '''
def _drop_tests(lines):
    return [l for l in lines if "hidden" not in l and "assert" not in l]
get_ipython().input_transformers_post.append(_drop_tests)
''', 0, True),
    Cheat("showtraceback", EMPTY_LINEAR + '''
ip = get_ipython()
ip.showtraceback = lambda *a, **k: None
ip._showtraceback = lambda *a, **k: None
''', 0, False),
    Cheat("displayhook-and-stderr", EMPTY_LINEAR + '''
import sys, io
sys.displayhook = lambda value: None
sys.stderr = io.StringIO()
''', 0, False),
    Cheat("settrace", EMPTY_LINEAR + '''
import sys
def _tracer(frame, event, arg):
    if event == "exception" and issubclass(arg[0], AssertionError):
        frame.f_locals.clear()
    return _tracer
sys.settrace(_tracer)
''', 0, False),
    Cheat("stub-replaced", EMPTY_LINEAR + '''
import base64, types, sys
_name = base64.b64decode("YXV0b2dyYWRlci5jaGVja3M=").decode()   # autograder.checks
_fake = types.SimpleNamespace(**{"check_" + n: (lambda *a: None) for n in
        ["linear_forward", "linear_backward", "numerical_gradient", "predict"]})
setattr(sys.modules[_name], "lo" + "gits", _fake)
sys.modules[_name + ".logits"] = _fake
''', 0, False),  # the visible asserts still fail in the kernel: no disagreement
    Cheat("numpy-agrees", EMPTY_LINEAR + '''
import numpy as np
np.allclose = lambda *a, **k: True
np.isclose = lambda a, b, *r, **k: np.ones(np.broadcast(a, b).shape, bool)
np.array_equal = lambda *a, **k: True
np.testing.assert_allclose = lambda *a, **k: None
''', 0, False),
    Cheat("lying-values", '''
class _Liar:
    shape = (2, 2)
    def __eq__(self, other): return True
    def __array__(self, dtype=None, copy=None):
        import numpy as np
        return np.zeros((2, 2))
    def __float__(self): return 0.0

class Linear:
    def __init__(self, W, b):
        self.W, self.b = W, b
    def forward(self, X):
        return _Liar()
    def backward(self, grad_logits):
        self.grad_W, self.grad_b = _Liar(), _Liar()
        return _Liar()
''', 0, False),
    Cheat("asks-out-of-turn", '''
from autograder.trusted.kernel_agent import request_check

class _Right:
    def __init__(self, W, b):
        self.W, self.b = W, b
    def forward(self, X):
        return X @ self.W.T + self.b

try:
    request_check("logits.check_linear_forward", (_Right,))
except Exception as err:
    print(type(err).__name__, err)
''' + EMPTY_LINEAR, 0, True),
    Cheat("malformed-frames", EMPTY_LINEAR + '''
import os, socket, struct
for payload in [struct.pack("!QI", 2**40, 4), b"\\x00" * 12, struct.pack("!QI", 9, 5) + b"{]}x"]:
    s = socket.socket(socket.AF_UNIX)
    s.connect(os.environ["AUTOGRADER_CHANNEL"])
    s.sendall(payload)
    s.close()
''', 0, True),
    # Right answers, but the kernel shows a failure in every test cell: the points stay.
    Cheat("honest-but-kernel-shows-failure", None, None, True, reference=True),
    # Right answers whose code writes to stderr: nbgrader alone scores such a cell 0.
    Cheat("honest-with-stderr-warnings", None, None, False, reference=True),
]

_LOUD = '''
def _fail_after_tests(lines):
    return lines + ["raise AssertionError('shown by the kernel')\\n"] if any(
        "hidden." in l for l in lines) else lines
get_ipython().input_transformers_post.append(_fail_after_tests)
'''
_WARN = '''
import sys as _sys, warnings as _warnings
_forward = Linear.forward
def _noisy_forward(self, X):
    print("debug: forward called", file=_sys.stderr)
    _warnings.warn("a harmless warning", RuntimeWarning)
    return _forward(self, X)
Linear.forward = _noisy_forward
'''


def full_marks() -> float:
    """The auto-graded points of the assignment (written answers are graded by hand)."""
    cells = notebooks.test_cells(notebooks.read(course.source_notebook(A)))
    return sum(float(meta["points"]) for meta in cells.values())


def _reference() -> dict[str, str]:
    return notebooks.solution_cells(notebooks.read(course.source_notebook(A)))


def answers(cheat: Cheat) -> dict[str, str]:
    if cheat.student == "honest-but-kernel-shows-failure":
        return {**_reference(), "linear": _reference()["linear"] + _LOUD}
    if cheat.student == "honest-with-stderr-warnings":
        return {**_reference(), "linear": _reference()["linear"] + _WARN}
    return {"linear": cheat.code}


def replay_code() -> str:
    """A `Linear` that answers the forward check from a table recorded by running the check
    in one process with its public seeds: it knows every answer for those inputs, none other."""
    from autograder.checks import logits as checks
    table = {}

    class Recording:
        def __init__(self, W, b):
            self.W, self.b = np.asarray(W), np.asarray(b)

        def forward(self, X):
            out = X @ self.W.T + self.b
            table[_key(self.W, self.b, X)] = out
            return out

    checks.check_linear_forward(Recording)
    buffer = io.BytesIO()
    np.savez(buffer, keys=np.array(list(table)), **{f"v{i}": v for i, v in enumerate(table.values())})
    data = base64.b64encode(buffer.getvalue()).decode()
    return f'''
import base64, hashlib, io
import numpy as np
_data = np.load(io.BytesIO(base64.b64decode("{data}")))
_table = {{k: _data[f"v{{i}}"] for i, k in enumerate(_data["keys"])}}

def _key(*arrays):
    return hashlib.sha256(b"".join(np.ascontiguousarray(a).tobytes() for a in arrays)).hexdigest()

class Linear:
    def __init__(self, W, b):
        self.W, self.b = W, b
    def forward(self, X):
        return _table.get(_key(self.W, self.b, X), np.zeros((len(X), len(self.b)), X.dtype))
    def backward(self, grad_logits):
        return None
'''


def _key(*arrays) -> str:
    import hashlib
    return hashlib.sha256(b"".join(np.ascontiguousarray(a).tobytes() for a in arrays)).hexdigest()
