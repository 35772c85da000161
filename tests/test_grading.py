"""The grading command on the example submissions: exact points per graded cell, feedback that
hides the hidden tests, and a class report."""
import csv
import os
import subprocess
import sys

import pytest

from autograder import course, notebooks, variants
from tests import examples

ASSIGNMENTS = course.assignments()


def full_marks(assignment: str) -> float:
    """What the reference solution gets from the autograder (written answers are graded by hand)."""
    return sum(expected_points("alice-correct", assignment).values())


def expected_points(student, assignment):
    cells = notebooks.test_cells(notebooks.read(course.source_notebook(assignment)))
    if student in ("carol-untouched", "dan-copier"):  # copying earns what an empty notebook does
        return {c: 0.0 for c in cells}
    lost = examples.first_bug(assignment).fails if student == "bob-one-bug" else set()
    return {c: 0.0 if c in lost else float(meta["points"]) for c, meta in cells.items()}


@pytest.fixture(scope="module")
def graded(graded_class):
    return graded_class


def test_grades_csv_has_the_expected_points_per_cell(graded):
    with open(graded / "grades.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == len(examples.STUDENTS) * len(ASSIGNMENTS)
    for row in rows:
        expected = expected_points(row["student"], row["assignment"])
        got = {c: float(row[c]) for c in expected}
        assert got == expected, (row["student"], row["assignment"])
        assert float(row["total"]) == sum(expected.values())
        assert row["status"] == "graded"


def test_feedback_shows_messages_but_never_hidden_test_code(graded):
    for student in examples.STUDENTS:
        for assignment in ASSIGNMENTS:
            page = (graded / "feedback" / student / assignment / f"{assignment}.html").read_text()
            assert "HIDDEN TESTS" not in page and "autograder.checks" not in page
            assert "hidden.check" not in page
    bug = examples.first_bug(ASSIGNMENTS[0])
    page = (graded / "feedback" / "bob-one-bug" / ASSIGNMENTS[0] / f"{ASSIGNMENTS[0]}.html")
    assert "Revisit" in page.read_text() or "revisit" in page.read_text(), bug.name


def test_report_and_nbgrader_export_work(graded):
    report = (graded / "report.html").read_text()
    assert "<svg" in report and "Class report" in report
    for student in examples.STUDENTS:  # each grade links its feedback page, relatively
        for assignment in ASSIGNMENTS:
            page = f"feedback/{student}/{assignment}/{assignment}.html"
            assert (f"href='{page}'" in report) == (graded / page).is_file(), page
    proc = course.nbgrader("export", "--to", str(graded / "export.csv"), cwd=graded / "course")
    assert proc.returncode == 0
    assert (graded / "export.csv").read_text().count("\n") == 1 + len(examples.STUDENTS) * len(ASSIGNMENTS)


def test_grading_works_without_the_virtual_environment_on_path(tmp_path):
    """`.venv/bin/python -m autograder grade` with a bare PATH (nbgrader needs its `alembic`)."""
    one = tmp_path / "submissions" / "alice-correct" / "logits"
    one.mkdir(parents=True)
    (one / "logits.ipynb").write_bytes(
        (course.EXAMPLES / "alice-correct" / "logits" / "logits.ipynb").read_bytes())
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path),
           variants.SECRET_ENV: os.environ[variants.SECRET_ENV]}  # the course's secret file
    proc = subprocess.run([sys.executable, "-m", "autograder", "grade", "--submissions",
                           str(tmp_path / "submissions"), "--out", str(tmp_path / "out")],
                          cwd=course.REPO, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    with open(tmp_path / "out" / "grades.csv") as f:
        assert float(next(csv.DictReader(f))["total"]) == full_marks("logits")


def test_a_new_run_never_deletes_hand_grades_silently(graded, tmp_path):
    """Scores entered in the formgrader live only in the run's gradebook: a second run into the
    same --out refuses (exit 2, saying what to do) and leaves them, unless --replace."""
    import shutil

    from nbgrader.api import Gradebook
    out = tmp_path / "grades"
    (out / "course").mkdir(parents=True)
    db = out / "course" / "gradebook.db"
    shutil.copy(graded / "course" / "gradebook.db", db)
    with Gradebook(f"sqlite:///{db}") as gb:
        grade = next(g for s in gb.assignment_submissions("logits") for n in s.notebooks
                     for g in n.grades if g.cell_type == "markdown")
        grade.manual_score = 1.5
        gb.db.commit()
    before = db.read_bytes()
    command = [sys.executable, "-m", "autograder", "grade", "--submissions",
               str(course.EXAMPLES), "--out", str(out), "--assignment", "logits"]
    proc = subprocess.run(command, cwd=course.REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "1 score(s) or comment(s) entered by hand" in proc.stderr, proc.stderr
    assert "--replace" in proc.stderr and "nbgrader export" in proc.stderr
    assert db.read_bytes() == before
    # With --replace the run goes ahead, into a fresh gradebook.
    proc = subprocess.run(command + ["--replace"], cwd=course.REPO, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    with Gradebook(f"sqlite:///{db}") as gb:
        assert all(g.manual_score is None for s in gb.assignment_submissions("logits")
                   for n in s.notebooks for g in n.grades)


def test_a_comment_entered_by_hand_counts_as_a_hand_grade(graded, tmp_path):
    """A gradebook that holds only a comment typed in the formgrader (no score) is refused as
    well: the refusal says "score(s) or comment(s)" and means both."""
    import shutil

    from nbgrader.api import Gradebook
    from autograder.results import rows
    db = tmp_path / "gradebook.db"
    shutil.copy(graded / "course" / "gradebook.db", db)
    assert rows.hand_grades(db) == 0
    with Gradebook(f"sqlite:///{db}") as gb:
        comment = next(c for s in gb.assignment_submissions("logits") for n in s.notebooks
                       for c in n.comments)
        comment.manual_comment = "Good: the cancellation is named."
        gb.db.commit()
    assert rows.hand_grades(db) == 1
