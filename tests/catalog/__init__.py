"""Catalogs of implementations that prove the hidden checks.

Each assignment's module lists `BUGS`, realistic wrong implementations of one solution cell that
must lose points on exactly the test cells in `fails` (with `says` in the first failure message),
and `CORRECT`, other right implementations that must get full marks.
"""
from __future__ import annotations

import contextlib
import importlib
import inspect
import os
import re
import zlib
from dataclasses import dataclass

from autograder import course, notebooks, variants
from autograder.checks import CheckFailed, _common

# The course ids the catalogs run as: the student whose notebook is checked, and a classmate
# whose right answers must earn that student nothing (autograder/variants.py).
ME = "ada-T3STME"
CLASSMATE = "bob-CL4SS8"


@dataclass(frozen=True)
class Impl:
    cell: str                   # grade id of the solution cell this code replaces
    name: str                   # what the implementation does (wrong), in a few words
    code: str                   # the whole solution cell, as a student would write it
    fails: frozenset = frozenset()  # the test cells that must lose points, exactly
    says: str = ""              # a phrase the first failure message must contain


def bug(cell, name, code, fails, says):
    return Impl(cell, name, code, frozenset([fails] if isinstance(fails, str) else fails), says)


def correct(cell, name, code):
    return Impl(cell, name, code)


class Message(str):
    """A failure message; `error` is the type name of the exception the student's code raised
    when that is why the check failed (None otherwise), `kind` its kind (_common.HINTS)."""
    error: str | None = None
    kind: str | None = None


def _message(failure: CheckFailed) -> Message:
    message = Message(str(failure))
    message.error, message.kind = getattr(failure, "error", None), getattr(failure, "kind", None)
    return message


def checks_module(assignment: str):
    return course.checks(assignment)


def catalog(assignment: str):
    return importlib.import_module(f"tests.catalog.{course.module_name(assignment)}")


# A catalogued implementation a student could make by copying what the book or the notebook
# shows (issue 20): a page's visible code renamed, looped or stitched ("copied from chapter K:
# ..."), or a page's numbers typed in. An entry that adds the student's own work (an equation
# transcribed, a loop vectorised by hand) is named otherwise: that work is what earns points.
COPIED = re.compile(r"^copied from chapter \d|the book's number|returns the book's numbers")


def copies(assignment: str) -> dict[str, str]:
    """A copying student's notebook: for each graded cell that has copies, the copy that keeps
    the most points, by its catalogued failures (the best a copying student could do)."""
    points = {cell: float(meta["points"]) for cell, meta in
              notebooks.test_cells(notebooks.read(course.source_notebook(assignment))).items()}
    best: dict[str, tuple[float, str]] = {}
    for impl in catalog(assignment).BUGS:
        lost = sum(points[t] for t in impl.fails)
        if COPIED.search(impl.name) and lost < best.get(impl.cell, (float("inf"), ""))[0]:
            best[impl.cell] = (lost, impl.code)
    return {cell: code for cell, (_, code) in best.items()}


def run_checks(assignment: str, answers: dict[str, str] | None = None,
               secret: int | None = None) -> dict[str, str | None]:
    """The hidden checks alone, on the source notebook's code with some solution cells replaced,
    with their public seeds or (as when grading) seeded with `secret` too.
    Returns test cell grade id -> the check's failure `Message` (None when it passed)."""
    namespace = _run_solution_cells(assignment, answers)
    results = {}
    seeded = _common.seeded(secret) if secret is not None else contextlib.nullcontext()
    with seeded, _common.variant(variants.numbers(assignment, ME)):
        for test_id, check in checks_module(assignment).TESTS.items():
            args = {name: namespace[name] for name in inspect.signature(check).parameters}
            try:
                check(**args)
                results[test_id] = None
            except CheckFailed as failure:
                results[test_id] = _message(failure)
    return results


def secret_for(impl: Impl) -> int:
    """A secret of its own for each catalogued implementation, as a grading run would draw one."""
    return zlib.crc32(f"{impl.cell}/{impl.name}".encode())


def run_cells(assignment: str, answers: dict[str, str] | None = None) -> dict[str, str | None]:
    """Each test cell whole (visible asserts, then the hidden check), as nbgrader's autograder
    runs it: test cell grade id -> what it raised (None when the cell passed)."""
    nb = notebooks.read(course.source_notebook(assignment))
    namespace = _run_solution_cells(assignment, answers)
    results = {}
    with _common.variant(variants.numbers(assignment, ME)):
        for cell in nb.cells:
            if not notebooks.is_test(cell):
                continue
            try:
                exec(compile(cell.source, f"<{notebooks.grade_id(cell)}>", "exec"), namespace)
                results[notebooks.grade_id(cell)] = None
            except Exception as failure:  # a visible assert, a hidden check, the student's code
                results[notebooks.grade_id(cell)] = f"{type(failure).__name__}: {failure}"
    return results


def _run_solution_cells(assignment: str, answers: dict[str, str] | None,
                        course_id: str = ME) -> dict:
    """The notebook's code cells but its tests, run as the student of `course_id` (ME unless
    told), whose id reaches the notebook as it does when grading: through the environment, the
    first cell left empty."""
    namespace: dict = {}
    code = _program(notebooks.read(course.source_notebook(assignment)), answers)
    before = os.environ.get(variants.ID_ENV)
    os.environ[variants.ID_ENV] = course_id
    try:
        with contextlib.redirect_stdout(None):  # "Your numbers ..."
            exec(compile(code, f"<{assignment} solution cells>", "exec"), namespace)
    finally:
        if before is None:
            del os.environ[variants.ID_ENV]
        else:
            os.environ[variants.ID_ENV] = before
    return namespace


def literal(value) -> str:
    """Python source for a value a question's answer function returns (numpy types as plain)."""
    import numpy as np
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, (tuple, list)):
        inner = ", ".join(literal(v) for v in value)
        return f"({inner},)" if isinstance(value, tuple) and len(value) == 1 else \
            f"({inner})" if isinstance(value, tuple) else f"[{inner}]"
    if isinstance(value, (set, frozenset)):
        return "{" + ", ".join(literal(v) for v in sorted(value)) + "}" if value else "set()"
    return repr(value)


def question_entries(assignment: str, book: dict | None = None) -> tuple[list, list]:
    """Catalog entries every question gets from its check's oracle (`ANSWERS`): a classmate's
    right answer typed in (must lose the cell's points), this student's right answer typed in
    (full marks), and, from `book` (test cell -> the value the book computes), the book's
    number (must lose them). Returns (bugs, correct)."""
    import inspect
    checks = checks_module(assignment)
    bugs, right = [], []
    for test, oracle in getattr(checks, "ANSWERS", {}).items():
        name = next(iter(inspect.signature(checks.TESTS[test]).parameters))
        cell = test.removeprefix("test-")
        mine = oracle(variants.numbers(assignment, ME))
        theirs = oracle(variants.numbers(assignment, CLASSMATE))
        typed = "def {name}():\n    return {value}\n"
        bugs.append(bug(cell, "a classmate's right answer, typed in",
                        typed.format(name=name, value=literal(theirs)), test, ""))
        right.append(correct(cell, "this student's right answer, typed in",
                             typed.format(name=name, value=literal(mine))))
        if book and test in book:
            bugs.append(bug(cell, "the book's number, typed in",
                            typed.format(name=name, value=literal(book[test])), test, ""))
    return bugs, right


def _program(nb, answers: dict[str, str] | None = None) -> str:
    """The code a student's notebook runs before its tests: every code cell that is not a test,
    with the solution cells replaced by `answers` (grade id -> code) or the reference code."""
    answers = answers or {}
    parts = []
    for cell in nb.cells:
        if cell.cell_type != "code" or notebooks.is_test(cell):
            continue
        parts.append(answers.get(notebooks.grade_id(cell), notebooks.reference_code(cell))
                     if notebooks.is_solution(cell)
                     else cell.source)
    return "\n\n".join(parts)
