"""The README's instructor walkthrough, command by command, through a real nbgrader exchange:
generate, release, a student fetches, answers and submits, collect, grade, feedback, export.

Each command is copied from the README (the test fails if the README changes it) and run in a
throw-away copy of the course root, with the exchange in a temporary folder."""
import csv
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from autograder import course, notebooks
from tests.test_grading import full_marks

README = (course.REPO / "README.md").read_text()
COURSE_ID = "logits-to-probabilities"


def readme_command(cmd: str) -> list[str]:
    assert cmd in README, f"the README no longer says `{cmd}`"
    return shlex.split(cmd)


def run(args, cwd, exchange):
    if args[0] == "nbgrader":
        args = [str(Path(sys.executable).parent / "nbgrader"), *args[1:],
                f"--Exchange.root={exchange}"]
    elif args[0] == "python":
        args = [sys.executable, *args[1:]]
    proc = subprocess.run(args, cwd=cwd, env=course.environment(), capture_output=True, text=True,
                          timeout=900)
    assert proc.returncode == 0, f"{' '.join(args)}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


@pytest.fixture()
def repo_copy(tmp_path):
    """The course root and what it points at, in a temporary folder."""
    shutil.copytree(course.COURSE_ROOT, tmp_path / "autograder",
                    ignore=shutil.ignore_patterns("gradebook.db", "__pycache__", "submitted",
                                                  "autograded", "feedback"))
    (tmp_path / "solutions").symlink_to(course.SOLUTIONS)
    shutil.copytree(course.EXERCISES, tmp_path / "exercises")
    (tmp_path / "exchange").mkdir()
    (tmp_path / "exchange").chmod(0o777)
    return tmp_path


def test_instructor_walkthrough(repo_copy):
    root, exchange = repo_copy, repo_copy / "exchange"
    cwd = root / "autograder"
    generate = "cd autograder && nbgrader generate_assignment logits --force && cd .."
    assert generate in README
    run(readme_command("nbgrader generate_assignment logits --force"), cwd, exchange)
    assert (root / "exercises" / "logits" / "logits.ipynb").read_text() == \
        course.student_notebook("logits").read_text()
    run(readme_command("nbgrader release_assignment logits"), cwd, exchange)

    # A student fetches the assignment, answers it with the reference solution, and submits.
    home = root / "student"
    home.mkdir()
    run(["nbgrader", "fetch_assignment", "logits", f"--course={COURSE_ID}"], home, exchange)
    path = home / "logits" / "logits.ipynb"
    answers = notebooks.solution_cells(notebooks.read(course.source_notebook("logits")))
    import nbformat
    nbformat.write(notebooks.fill(notebooks.read(path), answers), str(path))
    run(["nbgrader", "submit", "logits", f"--course={COURSE_ID}"], home, exchange)

    run(readme_command("nbgrader collect logits"), cwd, exchange)
    submitted = list((cwd / "submitted").glob("*/logits/logits.ipynb"))
    assert len(submitted) == 1
    student = submitted[0].parent.parent.name

    grade = readme_command("python -m autograder grade --submissions examples/submissions --out grades")
    grade[grade.index("--submissions") + 1] = str(cwd / "submitted")
    grade[grade.index("--out") + 1] = str(root / "grades")
    run(grade, course.REPO, exchange)
    with open(root / "grades" / "grades.csv") as f:
        (row,) = list(csv.DictReader(f))
    assert (row["student"], float(row["total"]), row["status"]) == (
        student, full_marks("logits"), "graded")
    assert (root / "grades" / "report.html").exists()

    # Feedback goes back through the exchange, and the student fetches it.
    assert "cp -r grades/feedback autograder/feedback" in README
    shutil.copytree(root / "grades" / "feedback", cwd / "feedback")
    run(readme_command("nbgrader release_feedback logits"), cwd, exchange)
    run(["nbgrader", "fetch_feedback", "logits", f"--course={COURSE_ID}"], home, exchange)
    assert list((home / "logits" / "feedback").glob("*/logits.html"))

    export = readme_command("cd grades/course && nbgrader export --to ../export.csv")[3:]
    run(export, root / "grades" / "course", exchange)
    assert student in (root / "grades" / "export.csv").read_text()
