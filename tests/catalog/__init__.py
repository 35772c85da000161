"""Catalogs of implementations that prove the hidden checks.

Each assignment's module lists `BUGS`, realistic wrong implementations of one solution cell that
must lose points on exactly the test cells in `fails` (with `says` in the first failure message),
and `CORRECT`, other right implementations that must get full marks.
"""
from __future__ import annotations

import contextlib
import importlib
import inspect
import zlib
from dataclasses import dataclass

from autograder import course, notebooks
from autograder.checks import CheckFailed, _common


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
    return importlib.import_module(f"autograder.checks.{assignment.replace('-', '_')}")


def catalog(assignment: str):
    return importlib.import_module(f"tests.catalog.{assignment.replace('-', '_')}")


def run_checks(assignment: str, answers: dict[str, str] | None = None,
               secret: int | None = None) -> dict[str, str | None]:
    """The hidden checks alone, on the source notebook's code with some solution cells replaced,
    with their public seeds or (as when grading) seeded with `secret` too.
    Returns test cell grade id -> the check's failure `Message` (None when it passed)."""
    namespace = _run_solution_cells(assignment, answers)
    results = {}
    seeded = _common.seeded(secret) if secret is not None else contextlib.nullcontext()
    with seeded:
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
    for cell in nb.cells:
        if notebooks.is_test(cell):
            try:
                exec(compile(cell.source, f"<{notebooks.grade_id(cell)}>", "exec"), namespace)
                results[notebooks.grade_id(cell)] = None
            except Exception as failure:  # a visible assert, a hidden check, the student's code
                results[notebooks.grade_id(cell)] = f"{type(failure).__name__}: {failure}"
    return results


def _run_solution_cells(assignment: str, answers: dict[str, str] | None) -> dict:
    namespace: dict = {}
    code = notebooks.program(notebooks.read(course.source_notebook(assignment)), answers)
    exec(compile(code, f"<{assignment} solution cells>", "exec"), namespace)
    return namespace
