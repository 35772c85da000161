"""Scores are decided outside the student's process (issue 14): the tricks of tests/cheats.py,
graded beside honest classmates in one run, gain nothing; the notebooks the kernel's own view
would have misjudged get their points; a replayed answer fails; and the checks give the same
points whatever the secret that seeds them."""
import inspect

import nbformat
import numpy as np
import pytest

from autograder import course, notebooks
from autograder.checks import _common
from tests import cheats
from tests.catalog import catalog, checks_module, run_checks
from tests.test_adversarial import grade

HONEST = {"alice": None, "carol": {}}  # the reference; the untouched student version


def _write(root, student, answers):
    nb = notebooks.fill(notebooks.read(course.student_notebook(cheats.A)), answers)
    path = root / student / cheats.A / f"{cheats.A}.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("cheats")
    reference = cheats._reference()
    _write(root / "subs", "alice", reference)
    _write(root / "subs", "carol", {})
    for cheat in cheats.CHEATS:
        _write(root / "subs", cheat.student, cheats.answers(cheat))
    _write(root / "subs", "replay", {"linear": cheats.replay_code()})
    return grade(root / "subs", root / "out")


@pytest.mark.parametrize("cheat", cheats.CHEATS, ids=lambda c: c.student)
def test_a_trick_in_the_kernel_gains_nothing(graded, cheat):
    row = graded[cheat.student]
    total = cheats.full_marks() if cheat.total is None else cheat.total
    assert float(row["total"]) == total, (row["total"], row["notes"])
    assert (row["status"] == "needs review") == cheat.flagged, (row["status"], row["notes"])


def test_honest_classmates_get_exactly_their_points(graded):
    assert float(graded["alice"]["total"]) == cheats.full_marks()
    assert graded["alice"]["status"] == "graded"
    assert float(graded["carol"]["total"]) == 0


def test_a_disagreement_is_named_in_the_notes(graded):
    notes = graded["honest-but-kernel-shows-failure"]["notes"]
    assert "showed a failure, but the grader's checks passed" in notes
    assert "never ran" in graded["input-transformer"]["notes"]
    assert "refused" in graded["asks-out-of-turn"]["notes"]


def test_a_replayed_answer_passes_with_the_public_seeds_but_not_when_graded(graded):
    namespace = {}
    exec(cheats.replay_code(), namespace)
    checks_module(cheats.A).check_linear_forward(namespace["Linear"])  # the table is right...
    row = graded["replay"]
    assert float(row["test-linear-forward"]) == 0  # ...for inputs the grader never uses


@pytest.mark.parametrize("assignment", course.assignments())
def test_the_reference_passes_whatever_the_secret(assignment):
    """The same submission gets the same points whatever the run's secret. Every catalogued
    implementation is checked with a secret of its own in tests/test_catalogs.py (the bugs fail
    exactly where they fail with the public seeds); here the reference, under three more."""
    for secret in (1, 2**40 + 7, 2**62 + 3):
        assert run_checks(assignment, secret=secret) == {
            t: None for t in checks_module(assignment).TESTS}, secret


def test_the_secret_changes_the_checks_inputs():
    with _common.seeded(5):
        a = _common.rng(1).normal(size=3)
    assert not np.array_equal(a, _common.rng(1).normal(size=3))
    assert np.array_equal(_common.rng(1).normal(size=3), np.random.default_rng(1).normal(size=3))


def test_every_check_takes_the_students_objects_as_arguments_only():
    """The checker passes what the hidden cell names; a check with other parameters could not
    be called remotely."""
    for assignment in course.assignments():
        for check in checks_module(assignment).TESTS.values():
            params = inspect.signature(check).parameters.values()
            assert all(p.kind == p.POSITIONAL_OR_KEYWORD for p in params), check


# One catalogued bug per assignment that changes an input in place (its catalog says so).
IN_PLACE = {a: next(b for b in catalog(a).BUGS if b.says == "modified its input")
            for a in course.assignments()
            if any(b.says == "modified its input" for b in catalog(a).BUGS)}
# Two Python loops over a million elements or rows: the kernel stops each call at its CPU budget.
LOOPS = {a: next(b for b in catalog(a).BUGS if b.says.lower() == "python loop")
         for a in ("sigmoid", "softmax")}
GRADED = {"in-place": IN_PLACE, "loops": LOOPS}


def test_in_place_and_loop_bugs_lose_their_cells_when_graded(tmp_path):
    """Through the real checker and a sandboxed kernel, a bug that changes its input in place,
    or loops in Python, loses exactly the cells its catalog entry names, as it does in one
    process: what the kernel's code did to its copy of an array reaches the checker (and only
    that), and the kernel measures (and stops) a loop's CPU time."""
    import csv
    import subprocess
    import sys
    cells = {}
    for student, bugs in GRADED.items():
        for a, bug in bugs.items():
            source = notebooks.read(course.source_notebook(a))
            nb = notebooks.fill(notebooks.read(course.student_notebook(a)),
                                {**notebooks.solution_cells(source), bug.cell: bug.code})
            path = tmp_path / "subs" / student / a / f"{a}.ipynb"
            path.parent.mkdir(parents=True)
            nbformat.write(nb, str(path))
            cells[a] = notebooks.test_cells(source)
    proc = subprocess.run([sys.executable, "-m", "autograder", "grade", "--submissions",
                           str(tmp_path / "subs"), "--out", str(tmp_path / "out")],
                          cwd=course.REPO, capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    with open(tmp_path / "out" / "grades.csv") as f:
        rows = {(r["student"], r["assignment"]): r for r in csv.DictReader(f)}
    assert set(rows) == {(s, a) for s, bugs in GRADED.items() for a in bugs}
    for (student, a), row in rows.items():
        bug = GRADED[student][a]
        expected = {c: 0.0 if c in bug.fails else float(meta["points"])
                    for c, meta in cells[a].items()}
        got = {c: float(row[c]) for c in expected}
        assert got == expected, (a, bug.name, row["notes"])
    feedback = (tmp_path / "out" / "feedback" / "loops" / "softmax" / "softmax.html").read_text()
    assert "(stopped there)" in feedback  # the kernel stopped the loop at its CPU budget
