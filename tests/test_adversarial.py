"""Broken and adversarial submissions never stop a grading run, never change another student's
grade, and are each named in grades.csv and the class report (catalog: tests/adversarial.py)."""
import csv
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import psutil
import pytest

from autograder import course
from tests.adversarial import CASES, REF_PREDICT, _answered, _reference, _write, build
from tests.test_grading import expected_points, full_marks


def grade(submissions, out, *extra, timeout=120):
    proc = subprocess.run([sys.executable, "-m", "autograder", "grade", "--submissions",
                           str(submissions), "--out", str(out), "--assignment", "logits",
                           "--cell-timeout", "5", "--timeout", str(timeout), *extra],
                          cwd=course.REPO, capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    with open(out / "grades.csv") as f:
        rows = list(csv.DictReader(f))
    # One row per graded student; rows of submissions that could not be graded come after.
    return {row["student"]: row for row in reversed(rows)} | {"*": rows}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("adversarial")
    cases = build(root / "submissions")
    return cases, grade(root / "submissions", root / "out"), root / "out"


def survivors(out: Path) -> list:
    """Processes still working in a grading run's output folder: every process of a run does
    (the workers in its course folder, the kernels in their notebook's)."""
    left = []
    for proc in psutil.process_iter(["pid", "cmdline"]):
        try:
            if Path(proc.cwd()).is_relative_to(out):
                left.append(proc.info)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
    return left


def test_no_kernel_or_worker_outlives_the_run(run):
    _, _, out = run
    assert not survivors(out)


def test_other_students_grades_are_exact(run):
    _, rows, _ = run
    for student in ("alice-correct", "bob-one-bug", "carol-untouched"):
        expected = expected_points(student, "logits")
        assert {c: float(rows[student][c]) for c in expected} == expected, student


@pytest.mark.parametrize("name", list(CASES))
def test_each_bad_submission_is_graded_as_far_as_possible_and_named(run, name):
    case = CASES[name][0]
    _, rows, out = run
    row = rows[case.student]
    assert case.note.lower() in row["notes"].lower(), row
    if case.points is not None:
        assert float(row["total"]) == case.points, row
    if case.flagged:
        assert row["status"] in ("needs review", "not graded"), row
    assert case.student in (out / "report.html").read_text()


def test_no_feedback_shows_the_checks_code(run):
    """Not even that of a notebook that tried to print it: the checks are not in its kernel."""
    _, _, out = run
    assert (out / "feedback" / "pat-reads-checks").exists()
    for page in (out / "feedback").rglob("*.html"):
        assert "def check_" not in page.read_text() and "__tracebackhide__" not in page.read_text()


def test_huge_output_is_cut_in_the_feedback(run):
    _, _, out = run
    page = out / "feedback" / "hal-prints-100mb" / "logits" / "logits.html"
    assert page.stat().st_size < 2_000_000


def test_a_notebook_past_its_time_limit_is_stopped_and_named(tmp_path):
    """Cells that each stay under --cell-timeout, but together run past --timeout: the worker
    is stopped with its kernel, and the run goes on."""
    nap = "import time\ntime.sleep(4)\n"
    _write(tmp_path / "subs", "vic-slow", _answered(linear=nap + _reference()["linear"],
                                                    predict=nap + REF_PREDICT))
    shutil.copytree(course.EXAMPLES / "alice-correct" / "logits",
                    tmp_path / "subs" / "alice-correct" / "logits")
    rows = grade(tmp_path / "subs", tmp_path / "out", timeout=6)
    assert float(rows["alice-correct"]["total"]) == full_marks("logits")
    assert rows["vic-slow"]["status"] == "needs review"
    assert "ran past the time limit" in rows["vic-slow"]["notes"]
    assert not survivors(tmp_path / "out")  # the stopped worker's kernel went with it


def test_lms_zip_with_odd_names(tmp_path):
    """Flat files named by an LMS, a wrapper folder, a resource fork, a path that tries to
    escape, a non-ASCII name and a student who uploaded twice."""
    good = (course.EXAMPLES / "alice-correct" / "logits" / "logits.ipynb").read_bytes()
    bad = (course.EXAMPLES / "bob-one-bug" / "logits" / "logits.ipynb").read_bytes()
    archive = tmp_path / "download.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("Logits submissions/jdoe_12345_assignsubmission_file_logits.ipynb", good)
        zf.writestr("Logits submissions/msmith_67890_assignsubmission_file_logits.ipynb", bad)
        zf.writestr("Logits submissions/msmith_67891_assignsubmission_file_logits.ipynb", good)
        zf.writestr("Logits submissions/josé_111_logits.ipynb", good)
        zf.writestr("__MACOSX/Logits submissions/._jdoe_12345_logits.ipynb", b"\x00\x05")
        zf.writestr("../../escape_logits.ipynb", good)
        zf.writestr("Logits submissions/readme.txt", b"graded by hand")
    rows = grade(archive, tmp_path / "out")
    assert float(rows["jdoe"]["total"]) == full_marks("logits")
    bob = sum(expected_points("bob-one-bug", "logits").values())
    assert float(rows["msmith"]["total"]) == bob   # the first upload is graded ...
    notes = " ".join(r["notes"] for r in rows["*"])
    assert "two files for the same student" in notes  # ... and the second is reported
    assert float(rows["josé"]["total"]) == full_marks("logits")
    assert not (tmp_path.parent / "escape_logits.ipynb").exists()
    assert "readme.txt" in notes
