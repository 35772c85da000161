"""The hidden checks are proven by catalogs: the reference passes every check, each catalogued bug
loses points on exactly the cells it targets with a message that names the mistake, and each
alternative correct implementation gets full marks."""
import inspect
import re

import pytest

from autograder import course, notebooks
from tests.catalog import (_bindings, catalog, checks_module, depending_tests, run_cells, run_checks,
                           secret_for)

ASSIGNMENTS = course.assignments()
BUGS = [(a, impl) for a in ASSIGNMENTS for impl in catalog(a).BUGS]
CORRECT = [(a, impl) for a in ASSIGNMENTS for impl in catalog(a).CORRECT]


def _id(param):
    assignment, impl = param
    return f"{assignment}:{impl.cell}:{impl.name}"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_reference_solution_passes_every_check(assignment):
    assert run_checks(assignment) == {t: None for t in checks_module(assignment).TESTS}


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_reference_solution_passes_every_test_cell(assignment):
    assert run_cells(assignment) == {t: None for t in checks_module(assignment).TESTS}


@pytest.mark.parametrize("case", BUGS, ids=map(_id, BUGS))
def test_catalogued_bug_loses_points_where_it_should(case):
    """The cells that lose points when the notebook runs (visible asserts and hidden checks, with
    their public seeds) are exactly `fails`; the hidden checks alone, seeded with a secret as
    when grading, catch the same, and name the mistake. The test cells that cannot reach the
    replaced cell keep the reference's outcome and are not run (test_the_cells_a_change_reaches).
    """
    assignment, impl = case
    depending, run = depending_tests(assignment, impl.cell, impl.code)
    cells = run_cells(assignment, {impl.cell: impl.code}, only=run)
    failed = {t for t, message in cells.items() if message}
    assert failed == impl.fails, f"{impl.name}: cells failed {sorted(failed)}, expected {sorted(impl.fails)}"
    results = run_checks(assignment, {impl.cell: impl.code}, secret_for(impl), only=depending)
    failed = {t for t, message in results.items() if message}
    assert failed == impl.fails, f"{impl.name}: checks failed {sorted(failed)}, expected {sorted(impl.fails)}"
    first = next(results[t] for t in checks_module(assignment).TESTS if results[t])
    assert impl.says.lower() in first.lower(), f"message does not name the mistake:\n{first}"
    assert "expected" in first or "revisit" in first  # it teaches, not just fails
    assert "revisit:" in first
    for test_id, message in results.items():
        if message and message.error:  # the student's code raised: numpy's words are not enough
            assert_teaches(message, _arguments(assignment, test_id))
    # What the student sees in their own kernel: the visible tests call the student's code
    # through the notebooks' `calling` helper, so a bug fails them with an assert (a teaching
    # message when the code raised), never with the raw error of the student's code.
    for test_id, message in cells.items():
        if message and not message.startswith("CheckFailed: "):
            assert message.startswith("AssertionError: "), f"{test_id} shows a raw error: {message}"
            if " raised " in message.splitlines()[0]:
                assert_teaches(message, _arguments(assignment, test_id))


def _arguments(assignment: str, test_id: str) -> list[str]:
    """The names a test cell's hidden check is given: the student's functions and classes."""
    return list(inspect.signature(checks_module(assignment).TESTS[test_id]).parameters)


TRACEBACK = re.compile(r"Traceback \(most recent call last\)|^\s*File \"|^\s*-+>|gufunc", re.M)
CITATION = re.compile(r"Chapter \d+, '")


def assert_teaches(message: str, names: list[str]) -> None:
    """A failure caused by an exception in the student's code is a teaching message: no
    traceback, the function that raised named, the exception in one line, the likely mistake
    when its kind is known, and a place to revisit: a section of the book, or the notebook's
    contract when the student's code broke it (an attribute it must store)."""
    assert not TRACEBACK.search(message), message
    assert any(name in message for name in names), (names, message)
    assert CITATION.search(message) or "contract" in message, message  # the book or the notebook
    kind = getattr(message, "kind", None)
    if kind:
        assert "likely:" in message, message
    assert message.strip() != "FloatingPointError", message


@pytest.mark.parametrize("case", CORRECT, ids=map(_id, CORRECT))
def test_alternative_correct_implementation_gets_full_marks(case):
    assignment, impl = case
    depending, run = depending_tests(assignment, impl.cell, impl.code)
    assert run_cells(assignment, {impl.cell: impl.code}, only=run) == {
        t: None for t in checks_module(assignment).TESTS}
    assert run_checks(assignment, {impl.cell: impl.code}, secret_for(impl), only=depending) == {
        t: None for t in checks_module(assignment).TESTS}


BROKEN = """
class _Broken:
    def __init__(self, name):
        self._name = name

    def __getattr__(self, attribute):
        raise RuntimeError(f"{self._name} is broken")

    def __call__(self, *args, **kwargs):
        raise RuntimeError(f"{self._name} is broken")
"""


def _solution_cells(assignment):
    return notebooks.solution_cells(notebooks.read(course.source_notebook(assignment)))


@pytest.mark.parametrize("case", [(a, cell) for a in ASSIGNMENTS for cell in _solution_cells(a)],
                         ids=lambda case: f"{case[0]}:{case[1]}")
def test_the_cells_a_change_reaches(case):
    """The catalogs run only the test cells a replaced solution cell can reach (depending_tests,
    read from the cells' names). Proven on every solution cell: with each name the cell binds
    broken, every test cell runs, and the cells that fail are among those the reading names (it
    may name more: a module's backward never calls the function its forward did)."""
    assignment, cell = case
    reference = _solution_cells(assignment)[cell]
    names = sorted(_bindings(reference)[0] - {"self"})
    broken = reference + BROKEN + "".join(f"{n} = _Broken({n!r})\n" for n in names)
    failed = {t for t, message in run_cells(assignment, {cell: broken}).items() if message}
    assert failed, f"breaking {names} fails no test cell"
    assert failed <= depending_tests(assignment, cell, broken)[0]


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_solution_cell_has_at_least_five_catalogued_bugs(assignment):
    cells = _solution_cells(assignment)
    counts = {cell: sum(b.cell == cell for b in catalog(assignment).BUGS) for cell in cells}
    assert all(n >= 5 for n in counts.values()), counts


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_each_graded_cell_calls_exactly_its_own_check(assignment):
    """The hidden region of test cell `t` calls TESTS[t], and every check has a cell."""
    nb = notebooks.read(course.source_notebook(assignment))
    tests = checks_module(assignment).TESTS
    graded = {notebooks.grade_id(c): c for c in nb.cells if notebooks.is_test(c)}
    assert set(graded) == set(tests)
    for test_id, cell in graded.items():
        hidden = notebooks.hidden_region(cell)
        calls = [name for name, fn in tests.items() if f".{fn.__name__}(" in hidden]
        assert calls == [test_id], f"{test_id} calls {calls}"
        # Check parameters are names the student defines.
        params = inspect.signature(tests[test_id]).parameters
        assert all(f"{p})" in hidden or f"{p}," in hidden for p in params), hidden
