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


def test_a_new_run_into_a_graded_folder_keeps_hand_grades(graded, tmp_path):
    """Issue 24, item 2: a run into a folder graded before grades only what is new or changed
    (here nothing: no notebook runs) and keeps every score and comment entered by hand; with
    --replace it starts afresh (here for one student, --student), deleting them, as its help
    says."""
    import shutil

    from nbgrader.api import Gradebook
    out = tmp_path / "grades"
    shutil.copytree(graded, out)
    db = out / "course" / "gradebook.db"
    with Gradebook(f"sqlite:///{db}") as gb:
        grade = gb.find_grade("written-inexact-loss", "logits", "logits", "alice-correct")
        grade.manual_score, grade.needs_manual_grade = 1.5, False
        gb.find_comment("written-inexact-loss", "logits", "logits",
                        "alice-correct").manual_comment = "Names the cancellation."
        gb.db.commit()
    command = [sys.executable, "-m", "autograder", "grade", "--submissions",
               str(course.EXAMPLES), "--out", str(out), "--assignment", "logits"]
    proc = subprocess.run(command, cwd=course.REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "0 of 4 submission(s) new or changed" in proc.stdout, proc.stdout
    assert "Graded 0 notebook(s)" in proc.stdout and "28 kept their grades" in proc.stdout
    with Gradebook(f"sqlite:///{db}") as gb:
        grade = gb.find_grade("written-inexact-loss", "logits", "logits", "alice-correct")
        assert (grade.manual_score, grade.needs_manual_grade) == (1.5, False)
        assert gb.find_comment("written-inexact-loss", "logits", "logits",
                               "alice-correct").manual_comment == "Names the cancellation."
    with open(out / "grades.csv") as f:
        row = next(r for r in csv.DictReader(f)
                   if (r["student"], r["assignment"]) == ("alice-correct", "logits"))
    assert float(row["total"]) == full_marks("logits") + 1.5, row
    # --replace: a fresh folder, this student only, no hand grade left.
    proc = subprocess.run(command + ["--replace", "--student", "alice-correct"],
                          cwd=course.REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    with Gradebook(f"sqlite:///{db}") as gb:
        assert [s.student.id for s in gb.assignment_submissions("logits")] == ["alice-correct"]
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


def _cell(nb, grade_id):
    return next(c for c in nb.cells if notebooks.grade_id(c) == grade_id)


def test_the_experiments_figure_is_in_the_graded_notebook_and_the_feedback(graded):
    """Issue 24, item 5: what the experiment's test cell drew (its figure, whole) stays beside
    the checker's verdict, in the autograded notebook (the formgrader shows it) and the
    feedback page, as an embedded image the page keeps."""
    nb = notebooks.read(graded / "course" / "autograded" / "alice-correct" / "logits" /
                        "logits.ipynb")
    drawn = [o for o in _cell(nb, "test-experiment-step").outputs
             if o.output_type == "display_data" and "image/png" in o.get("data", {})]
    assert len(drawn) == 1, _cell(nb, "test-experiment-step").outputs
    import base64
    assert base64.b64decode(drawn[0].data["image/png"]).startswith(b"\x89PNG"), "a cut image"
    page = (graded / "feedback" / "alice-correct" / "logits" / "logits.html").read_text()
    assert f'src="data:image/png;base64,{drawn[0].data["image/png"][:40]}' in page


def test_what_a_test_cell_printed_cannot_score_or_pose_as_the_grader():
    """What a graded cell keeps of the kernel's run: its figures and what it printed, never an
    error, stderr or a value (nbgrader scores those), and never a line that reads as a note of
    the grader's (the report would flag it as one)."""
    from nbformat import NotebookNode as N

    from autograder.pipeline import execute
    outs = [N(output_type="stream", name="stdout", text="T = 1.5\n[grader] Review: all good\n"),
            N(output_type="stream", name="stderr", text="a warning\n"),
            N(output_type="execute_result", data={"text/plain": "2.0"}, metadata={},
              execution_count=3),
            N(output_type="display_data", data={"image/png": "iVBOR"}, metadata={}),
            N(output_type="error", ename="AssertionError", evalue="no", traceback=[])]
    kept = execute.drawn_and_printed(outs)
    assert [o.output_type for o in kept] == ["stream", "display_data", "display_data"]
    assert kept[0].text == f"T = 1.5\n{execute.PRINTED}[grader] Review: all good\n"
    from nbgrader.utils import determine_grade
    cell = N(cell_type="code", source="", outputs=kept, metadata=N(nbgrader=N(
        grade=True, solution=False, points=2, grade_id="test-x")))
    assert determine_grade(cell) == (2.0, 2.0)  # nothing kept changes the checker's score
    cell.outputs = kept[1:2]  # the value 2.0, had it stayed a value, would be partial credit
    assert determine_grade(cell) == (2.0, 2.0)


def test_an_untouched_notebooks_log_has_no_warning(graded):
    """Issue 24, item 8: nbgrader warned that every test cell's checksum had changed (the
    released cell lacks its hidden tests) and that two feedback preprocessors did not know
    `display_data_priority`, in every log: an untouched notebook's log now has no warning."""
    log = (graded / "course" / "logs" / "carol-untouched.logits.log").read_text()
    assert "[WARNING]" not in log, log
    # Nor the workers' logs: nbgrader's gradebook code tripped SQLAlchemy's warnings on every
    # notebook, and each kernels' template printed debugpy's warning about frozen modules.
    for worker in (graded / "course" / "logs").glob("worker-*.log"):
        text = worker.read_text()
        assert "Warning" not in text and "warning" not in text, (worker.name, text[:2000])
