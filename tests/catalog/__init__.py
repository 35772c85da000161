"""Catalogs of implementations that prove the hidden checks.

Each assignment's module lists `BUGS`, realistic wrong implementations of one solution cell that
must lose points on exactly the test cells in `fails` (with `says` in the first failure message),
and `CORRECT`, other right implementations that must get full marks.
"""
from __future__ import annotations

import ast
import contextlib
import functools
import importlib
import importlib.util
import inspect
import os
import re
import symtable
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
               secret: int | None = None, only: set[str] | None = None) -> dict[str, str | None]:
    """The hidden checks alone, on the source notebook's code with some solution cells replaced,
    with their public seeds or (as when grading) seeded with `secret` too; with `only`, those
    test cells' checks alone (the others are reported passed).
    Returns test cell grade id -> the check's failure `Message` (None when it passed)."""
    namespace = _run_solution_cells(assignment, answers)
    results = {}
    seeded = _common.seeded(secret) if secret is not None else contextlib.nullcontext()
    with seeded, _common.variant(variants.numbers(assignment, ME)):
        for test_id, check in checks_module(assignment).TESTS.items():
            if only is not None and test_id not in only:
                results[test_id] = None
                continue
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


def run_cells(assignment: str, answers: dict[str, str] | None = None,
              only: set[str] | None = None) -> dict[str, str | None]:
    """Each test cell whole (visible asserts, then the hidden check), as nbgrader's autograder
    runs it: test cell grade id -> what it raised (None when the cell passed); with `only`,
    those test cells alone (the others are reported passed)."""
    nb = notebooks.read(course.source_notebook(assignment))
    namespace = _run_solution_cells(assignment, answers)
    results = {}
    with _common.variant(variants.numbers(assignment, ME)):
        for cell in nb.cells:
            if not notebooks.is_test(cell):
                continue
            if only is not None and notebooks.grade_id(cell) not in only:
                results[notebooks.grade_id(cell)] = None
                continue
            try:
                exec(compile(cell.source, f"<{notebooks.grade_id(cell)}>", "exec"), namespace)
                results[notebooks.grade_id(cell)] = None
            except Exception as failure:  # a visible assert, a hidden check, the student's code
                results[notebooks.grade_id(cell)] = f"{type(failure).__name__}: {failure}"
    return results


# --- Which test cells a replaced solution cell can change ------------------------------------
# A catalogued implementation replaces one solution cell; a test cell whose code can reach no name
# that cell binds has the reference's outcome, so the catalogs run only the test cells that can
# (tests/test_catalogs.py proves the reading below on every solution cell).

def _is_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


@functools.lru_cache(maxsize=None)  # every catalog entry reads the same unchanged cells again
def _bindings(code: str, changed: bool = False) -> tuple[frozenset[str], frozenset[str]]:
    """(the global names a cell's code binds or changes, the global names it reads before
    binding them), from its syntax and Python's own scopes (symtable). It binds what its top
    level assigns, defines or imports from a module (never a module itself: that is the same
    whichever cell imports it), what its functions declare `global`, the object of an attribute or
    item it assigns anywhere (`np.exp = ...`, `NUMBERS["C"] = ...`) and, in the `changed` cell,
    of a method its top level calls (`np.seterr(...)`: a cell the catalogs leave unchanged
    calls the same methods in both runs)."""
    tree = ast.parse(code)

    def base(node):
        while isinstance(node, (ast.Attribute, ast.Subscript, ast.Call)):
            node = node.func if isinstance(node, ast.Call) else node.value
        return node.id if isinstance(node, ast.Name) else None

    def bound(statement) -> set:
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names = {statement.name}
        else:
            names = set()
            for node in ast.walk(statement):
                if isinstance(node, ast.ImportFrom):
                    names |= {a.asname or a.name for a in node.names
                              if not _is_module(f"{node.module}.{a.name}")}
                elif isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
                    names.add(node.id)
                elif changed and isinstance(node, ast.Call) and \
                        isinstance(node.func, ast.Attribute):
                    names.add(base(node.func))
        for node in ast.walk(statement):
            if isinstance(node, ast.Global):
                names.update(node.names)
            elif isinstance(node, (ast.Attribute, ast.Subscript)) and \
                    not isinstance(node.ctx, ast.Load):
                names.add(base(node))
        names.discard(None)
        return names

    def inner_reads(table) -> set:
        """The global names the functions, classes and comprehensions in `table` read."""
        names = set()
        for child in table.get_children():
            names |= {s.get_name() for s in child.get_symbols()
                      if s.is_referenced() and s.is_global()}
            names |= inner_reads(child)
        return names

    statements = [(statement, bound(statement)) for statement in tree.body]
    binds = set().union(*(names for _, names in statements))
    reads, so_far = set(), set()
    for statement, names in statements:
        table = symtable.symtable(ast.unparse(statement), "<cell>", "exec")
        top = {s.get_name() for s in table.get_symbols() if s.is_referenced()}
        reads |= (top - so_far) | (inner_reads(table) - binds)
        so_far |= names
    return frozenset(binds), frozenset(reads)


def depending_tests(assignment: str, cell: str, code: str | None = None) -> tuple[set, set]:
    """(the test cells whose outcome can depend on solution cell `cell` holding `code` (the
    reference's code if None), the test cells that must run for them, in run_cells: those and
    the earlier test cells whose names they read)."""
    nb = notebooks.read(course.source_notebook(assignment))
    cells = []   # (grade id, is a test, binds, reads), in the notebook's order
    for c in nb.cells:
        if c.cell_type != "code":
            continue
        gid = notebooks.grade_id(c)
        source = code if gid == cell and code is not None else \
            notebooks.reference_code(c) if notebooks.is_solution(c) else c.source
        cells.append((gid, notebooks.is_test(c), *_bindings(source, changed=gid == cell)))

    def reached(start: int) -> set[int]:
        """The cells whose bindings the code of test cell `start` can read: every cell that is
        not a test (the hidden checks get the names bound at the end), the tests before it."""
        seen, names = {start}, set(cells[start][3])
        grew = True
        while grew:
            grew = False
            for i, (_, test, binds, reads) in enumerate(cells):
                if i not in seen and (not test or i < start) and binds & names:
                    seen.add(i)
                    names |= reads
                    grew = True
        return seen

    changed = next(i for i, c in enumerate(cells) if c[0] == cell)
    depending, run = set(), set()
    for i, (gid, test, _, _) in enumerate(cells):
        if test:
            reach = reached(i)
            if changed in reach:
                depending.add(gid)
                run |= {cells[j][0] for j in reach if cells[j][1]}
    return depending, run


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
