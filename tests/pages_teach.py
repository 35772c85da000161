"""Pages teach, notebooks assess (issue 11, items 1 and 3): the guard's core.

A chapter page may define any function or class it likes, except one that passes a graded hidden
check of an assignment. This module executes a page's code cells in-process (jupytext reads the
MyST file; cwd is chapters/, matplotlib draws with Agg), collects every function and class the
page defines (objects whose `__module__` is the page's own namespace), and runs every graded check
of every assignment with ONE of the check's parameters replaced by a page object that could fit
(a class for a class parameter; a function for a function parameter when its arity can bind the
reference function's positional arguments); the check's other parameters come from the reference
solution's namespace. A check that passes is an offender: (chapter, object, cell, assignment,
test cell). The same runs on the given (non-solution, non-test) code cells of every student
notebook in exercises/ (item 3): a later notebook must not ship an earlier answer.

Command line, for one page or notebook (prints the offenders, exit status 1 if any):

    .venv/bin/python -m tests.pages_teach chapters/04-softmax.md
    .venv/bin/python -m tests.pages_teach exercises/cross-entropy/cross-entropy.ipynb
    .venv/bin/python -m tests.pages_teach --all
"""
from __future__ import annotations

import contextlib
import functools
import inspect
import io
import os
import signal
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CHAPTERS = REPO / "chapters"
TIME_LIMIT = 10.0    # seconds per attempt (one check with one substituted object)
CELL_LIMIT = 300.0   # seconds per page cell


class _TimeLimit(BaseException):
    """Raised by the timer; a BaseException so that no `except Exception` in a check eats it."""


@contextlib.contextmanager
def time_limit(seconds: float):
    if seconds is None or not hasattr(signal, "setitimer"):
        yield
        return

    def on_alarm(signum, frame):
        raise _TimeLimit()

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@contextlib.contextmanager
def silenced():
    """No output, no warnings shown, figures closed afterwards."""
    sink = io.StringIO()
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink), \
            warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            yield
        finally:
            if "matplotlib.pyplot" in sys.modules:
                sys.modules["matplotlib.pyplot"].close("all")


@contextlib.contextmanager
def page_environment():
    """cwd chapters/ (the pages import preamble.py), Agg, and numpy/matplotlib state restored."""
    import matplotlib
    import numpy as np
    matplotlib.use("Agg", force=True)
    rc = matplotlib.rcParams.copy()
    printopts = np.get_printoptions()
    errstate = np.geterr()
    cwd, path = os.getcwd(), list(sys.path)
    os.chdir(CHAPTERS)
    sys.path.insert(0, str(CHAPTERS))
    try:
        yield
    finally:
        os.chdir(cwd)
        sys.path[:] = path
        np.set_printoptions(**printopts)
        np.seterr(**errstate)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            matplotlib.rcParams.update(rc)


@dataclass(frozen=True)
class Defined:
    name: str          # the name the page binds
    obj: object
    cell: int          # 1-based index among the page's code cells
    line: int          # line of the file where the cell starts (0 when unknown)

    @property
    def kind(self):
        return "class" if inspect.isclass(self.obj) else "function"


@dataclass(frozen=True)
class Offender:
    source: str        # chapters/04-softmax.md or exercises/<a>/<a>.ipynb
    name: str
    cell: int
    line: int
    assignment: str
    test: str          # grade id of the graded test cell that passed
    parameter: str     # the check's parameter the object stood in for

    def __str__(self):
        where = f"code cell {self.cell}" + (f" (line {self.line})" if self.line else "")
        return (f"{self.source}: `{self.name}` ({where}) passes {self.assignment}/{self.test} "
                f"as `{self.parameter}`")


@dataclass
class Page:
    source: str
    defined: list
    errors: list       # (cell, line, message) of cells that raised unexpectedly


# ------------------------------------------------------------------------------------------------
# Executing a page or a notebook's given cells
# ------------------------------------------------------------------------------------------------

def _code_cell_lines(path: Path) -> list[int]:
    """Line numbers where the MyST file's code cells start, in order."""
    return [i for i, line in enumerate(path.read_text().splitlines(), 1)
            if line.lstrip().startswith("```{code-cell}")]


def _own_objects(namespace: dict, module: str):
    """Functions and classes defined by the page's code (their `__module__` is the page's own),
    and callables the page builds from them: a `functools.partial` or an `np.vectorize` of a page
    function, and callable instances of the page's classes."""
    import functools as ft

    import numpy as np
    for name, obj in list(namespace.items()):
        if name.startswith("__"):
            continue
        if inspect.isfunction(obj) or inspect.isclass(obj):
            if getattr(obj, "__module__", None) == module:
                yield name, obj
        elif isinstance(obj, (ft.partial, np.vectorize)):
            inner = obj.func if isinstance(obj, ft.partial) else obj.pyfunc
            if getattr(inner, "__module__", None) == module:
                yield name, obj
        elif callable(obj) and getattr(type(obj), "__module__", None) == module:
            yield name, obj


def _execute(cells, module: str, source: str, namespace: dict | None = None) -> Page:
    """Run (index, line, code, collect, may_raise) cells in one namespace; objects are attributed
    to the last cell that bound them, and only cells with collect=True count."""
    namespace = namespace if namespace is not None else {}
    namespace.setdefault("__name__", module)
    try:
        from IPython.display import display
        namespace.setdefault("display", display)
    except ImportError:  # pragma: no cover
        pass
    owner: dict[str, Defined] = {}
    errors = []
    for index, line, code, collect, may_raise in cells:
        before = {n: id(o) for n, o in _own_objects(namespace, module)}
        try:
            with silenced(), time_limit(CELL_LIMIT):
                exec(compile(code, f"<{source} cell {index}>", "exec"), namespace)
        except _TimeLimit:
            errors.append((index, line, f"cell took more than {CELL_LIMIT:.0f} s"))
        except Exception as err:  # noqa: BLE001 - a page cell may raise anything
            if not may_raise:
                errors.append((index, line, f"{type(err).__name__}: {err}"))
        for name, obj in _own_objects(namespace, module):
            if before.get(name) != id(obj):
                if collect:
                    owner[name] = Defined(name, obj, index, line)
                else:
                    owner.pop(name, None)
    return Page(source, sorted(owner.values(), key=lambda d: (d.cell, d.name)), errors)


def execute_page(path: Path | str) -> Page:
    """Execute a chapter page (MyST) and return what it defines."""
    import jupytext
    path = Path(path).resolve()
    nb = jupytext.read(path)
    lines = _code_cell_lines(path)
    cells, k = [], 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        tags = cell.metadata.get("tags", [])
        cells.append((k + 1, lines[k] if k < len(lines) else 0, cell.source, True,
                      "raises-exception" in tags))
        k += 1
    module = "page_" + path.stem.replace("-", "_")
    with page_environment():
        return _execute(cells, module, _label(path))


def execute_given_cells(path: Path | str) -> Page:
    """Execute a student notebook with its solution cells answered by the reference solution (so
    that the given cells after them run), skipping test cells; only objects bound by the given
    (non-solution, non-test) cells count."""
    from autograder import course, notebooks
    path = Path(path).resolve()
    student = notebooks.read(path)
    assignment = path.parent.name
    reference = {notebooks.grade_id(c): notebooks.reference_code(c)
                 for c in notebooks.read(course.source_notebook(assignment)).cells
                 if notebooks.is_solution(c)}
    cells, k = [], 0
    for cell in student.cells:
        if cell.cell_type != "code":
            continue
        k += 1
        if notebooks.is_test(cell):
            continue
        if notebooks.is_solution(cell):
            code = reference.get(notebooks.grade_id(cell), "")
            cells.append((k, 0, code, False, True))
        else:
            cells.append((k, 0, cell.source, True, False))
    module = "given_" + assignment.replace("-", "_")
    with page_environment():
        return _execute(cells, module, _label(path))


def _label(path: Path) -> str:
    try:
        return str(path.relative_to(REPO))
    except ValueError:
        return str(path)


# ------------------------------------------------------------------------------------------------
# The checks
# ------------------------------------------------------------------------------------------------

def assignments() -> list[str]:
    from autograder import course
    return course.assignments()


@functools.lru_cache(maxsize=None)
def solution_namespace(assignment: str) -> dict:
    """The reference solution's namespace (computed once per process)."""
    from tests.catalog import _run_solution_cells
    with page_environment(), silenced():
        return _run_solution_cells(assignment, None)


@functools.lru_cache(maxsize=None)
def graded_checks(assignment: str):
    """[(test grade id, check, {parameter: 'class' | 'function'}, {parameter: reference})]."""
    from tests.catalog import checks_module
    namespace = solution_namespace(assignment)
    out = []
    for test_id, check in checks_module(assignment).TESTS.items():
        params = list(inspect.signature(check).parameters)
        kinds = {}
        for p in params:
            ref = namespace.get(p)
            if inspect.isclass(ref):
                kinds[p] = "class"
            elif callable(ref):
                kinds[p] = "function"
        reference = {p: namespace.get(p) for p in params}
        kinds = {p: k for p, k in kinds.items() if grades(check, reference, p, k)}
        out.append((test_id, check, kinds, reference))
    return out


def _raising(*args, **kwargs):
    raise RuntimeError("a stand-in that must fail the check")


def _null(*args, **kwargs):
    return None


class _RaisingClass:
    def __init__(self, *args, **kwargs):
        raise RuntimeError("a stand-in that must fail the check")


class _NullObject:
    """Constructed with anything; every attribute is a method that returns None."""

    def __init__(self, *args, **kwargs):
        pass

    def __call__(self, *args, **kwargs):
        return None

    def __getattr__(self, name):
        return _null


def grades(check, reference: dict, param: str, kind: str) -> bool:
    """Whether the check grades `param` at all: it must fail both when the parameter raises and
    when it returns nothing. A check that passes anyway (e.g. an experiment's check that takes
    the student's `fit_temperature` but grades only what the experiment reports) would let any
    object through, so such a (check, parameter) pair is not used by the guard."""
    stand_ins = (_RaisingClass, _NullObject) if kind == "class" else (_raising, _null)
    for stand_in in stand_ins:
        args = dict(reference)
        args[param] = stand_in
        with page_environment():
            if passes(check, args, limit=TIME_LIMIT):
                return False
    return True


def _positional_range(fn):
    """(required, maximum, needs_keyword) positional arguments of `fn`: maximum is None with
    *args; needs_keyword when a keyword-only argument has no default. None if unknown."""
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return None
    required, maximum, needs_keyword = 0, 0, False
    for p in sig.parameters.values():
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            maximum = None if maximum is None else maximum + 1
            if p.default is p.empty:
                required += 1
        elif p.kind == p.VAR_POSITIONAL:
            maximum = None
        elif p.kind == p.KEYWORD_ONLY and p.default is p.empty:
            needs_keyword = True
    return required, maximum, needs_keyword


def could_fit(obj, kind: str, reference) -> bool:
    """Whether `obj` could stand in for `reference` (a class for a class; a function that can be
    called with some number of positional arguments the reference accepts). In doubt: yes."""
    if kind == "class":
        return inspect.isclass(obj)
    if inspect.isclass(obj) or not callable(obj):
        return False
    ref, cand = _positional_range(reference), _positional_range(obj)
    if ref is None or cand is None:
        return True
    r_req, r_max, _ = ref
    c_req, c_max, c_kwonly = cand
    if c_kwonly:   # a required keyword-only argument: only calls that name it can bind
        return True
    r_max = r_max if r_max is not None else max(r_req, c_req)
    c_max = c_max if c_max is not None else 10 ** 6
    return any(c_req <= k <= c_max for k in range(r_req, r_max + 1))


def passes(check, args: dict, limit: float = TIME_LIMIT) -> bool:
    """Whether the check passes with these arguments (silenced, time-limited)."""
    try:
        with silenced(), time_limit(limit):
            check(**args)
        return True
    except _TimeLimit:
        return False
    except Exception:  # noqa: BLE001 - CheckFailed, or the check choking on a stranger
        return False


def offenders(page: Page, only: list[str] | None = None, limit: float = TIME_LIMIT,
              stats: dict | None = None) -> list[Offender]:
    """Every (object, graded check) pair of `page` where the object passes the check."""
    found = []
    answers: dict = {}   # page object -> what it returns when called with no argument
    for assignment in (only or assignments()):
        for test_id, check, kinds, reference in graded_checks(assignment):
            for param, kind in kinds.items():
                for d in page.defined:
                    if not could_fit(d.obj, kind, reference[param]):
                        continue
                    args = dict(reference)
                    args[param] = d.obj
                    if kind == "function" and _positional_range(reference[param]) == (0, 0, False):
                        # An answer function (`answer_x()`): call the page's function once, not
                        # once per question (a page's `train()` with defaults costs a second).
                        args[param] = _answer_once(d.obj, answers, limit)
                    start = time.perf_counter()
                    with page_environment():
                        ok = passes(check, args, limit)
                    if stats is not None:
                        stats["attempts"] = stats.get("attempts", 0) + 1
                        stats["seconds"] = stats.get("seconds", 0.0) + time.perf_counter() - start
                    if ok:
                        found.append(Offender(page.source, d.name, d.cell, d.line, assignment,
                                              test_id, param))
    return found


def _answer_once(obj, answers: dict, limit: float):
    """A stand-in for `obj` whose calls with no argument replay `obj()`'s first outcome (a deep
    copy of its result, or its exception); calls with arguments go to `obj`."""
    import copy
    key = id(obj)
    if key not in answers:
        try:
            with silenced(), time_limit(limit):
                answers[key] = ("value", obj())
        except _TimeLimit:
            answers[key] = ("raise", TimeoutError("took too long"))
        except Exception as err:  # noqa: BLE001
            answers[key] = ("raise", err)

    def replay(*args, **kwargs):
        if args or kwargs:
            return obj(*args, **kwargs)
        outcome, value = answers[key]
        if outcome == "raise":
            raise value
        return copy.deepcopy(value)

    replay.__name__ = getattr(obj, "__name__", "replay")
    return replay


def chapter_pages() -> list[Path]:
    return sorted(CHAPTERS.glob("0*.md"))


def student_notebooks() -> list[Path]:
    return sorted((REPO / "exercises").glob("*/*.ipynb"))


def guard(path: Path | str, stats: dict | None = None) -> tuple[Page, list[Offender]]:
    path = Path(path)
    start = time.perf_counter()
    page = execute_page(path) if path.suffix == ".md" else execute_given_cells(path)
    if stats is not None:
        stats["execute"] = time.perf_counter() - start
    return page, offenders(page, stats=stats)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv == ["-h"] or argv == ["--help"]:
        print(__doc__)
        return 2
    paths = (chapter_pages() + student_notebooks()) if argv == ["--all"] else [Path(a) for a in argv]
    total = 0
    for path in paths:
        stats: dict = {}
        start = time.perf_counter()
        page, found = guard(path, stats)
        took = time.perf_counter() - start
        print(f"{page.source}: {len(page.defined)} functions/classes, "
              f"{stats.get('attempts', 0)} attempts, {took:.1f} s "
              f"(executing the page {stats.get('execute', 0):.1f} s)")
        for cell, line, message in page.errors:
            print(f"  ! code cell {cell}" + (f" (line {line})" if line else "")
                  + f" raised: {message[:200]}")
        for o in found:
            print(f"  OFFENDER {o}")
        total += len(found)
    print(f"{total} offender(s)")
    return 1 if total else 0


if __name__ == "__main__":
    sys.exit(main())
