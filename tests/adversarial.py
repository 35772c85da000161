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
    return cases

