"""Broken and adversarial submissions never stop a grading run, never change another student's
grade, and are each named in grades.csv and the class report (catalog: tests/adversarial.py)."""
import csv
import json
from html.parser import HTMLParser
import os
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from autograder import course
from tests.adversarial import (CANARY_VAR, CASES, FORMULA_NAMES, REF_PREDICT, _answered,
                               _reference, _write, build)
from tests.test_grading import expected_points, full_marks

CANARY = "qzcanary" + secrets.token_hex(16)  # in the grading command's environment


def grade(submissions, out, *extra, timeout=120, tmp=None):
    """Grade with the command, a canary secret in its environment and, with `tmp`, its temporary
    files in that folder."""
    env = {**os.environ, CANARY_VAR: CANARY, **({"TMPDIR": str(tmp)} if tmp else {})}
    proc = subprocess.run([sys.executable, "-m", "autograder", "grade", "--submissions",
                           str(submissions), "--out", str(out), "--assignment", "logits",
                           "--cell-timeout", "5", "--timeout", str(timeout), *extra],
                          cwd=course.REPO, capture_output=True, text=True, timeout=1200, env=env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    with open(out / "grades.csv") as f:
        rows = list(csv.DictReader(f))
    # One row per graded student; rows of submissions that could not be graded come after.
    return {row["student"]: row for row in reversed(rows)} | {"*": rows}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("adversarial")
    cases = build(root / "submissions")
    (root / "tmp").mkdir()
    return cases, grade(root / "submissions", root / "out", tmp=root / "tmp"), root / "out"


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
    (tmp_path / "tmp").mkdir()
    rows = grade(tmp_path / "subs", tmp_path / "out", timeout=6, tmp=tmp_path / "tmp")
    assert float(rows["alice-correct"]["total"]) == full_marks("logits")
    assert not list((tmp_path / "tmp").iterdir())  # the killed worker's checker folder too
    assert rows["vic-slow"]["status"] == "needs review"
    assert "ran past the time limit" in rows["vic-slow"]["notes"]
    assert not survivors(tmp_path / "out")  # the stopped worker's kernel went with it


# --- the boundary's edges (issue 22): each reproduced on 0.3.0, each a row of the run above ---

def _output(out: Path, student: str, grade_id: str) -> str:
    nb = json.loads((out / "course" / "autograded" / student / "logits" / "logits.ipynb")
                    .read_text())
    cell = next(c for c in nb["cells"]
                if c["metadata"].get("nbgrader", {}).get("grade_id") == grade_id)
    texts = [o.get("text", "") for o in cell.get("outputs", [])]
    return "".join("".join(t) if isinstance(t, list) else t for t in texts)


def test_the_run_ends_with_its_results_and_nothing_left_behind(run):
    """Whatever the class holds (a notebook nested 5000 deep, a lone surrogate, 600 nested
    folders, a flood, a crash...), the run writes grades.csv and report.html, as UTF-8, and
    leaves nothing in the temporary folder, the checkers' and multiprocessing's included."""
    _, rows, out = run
    text = (out / "grades.csv").read_bytes().decode("utf-8")
    assert "\\ud800" in text  # the surrogate, escaped, where the note names the grade id
    assert (out / "report.html").is_file()
    assert not list(out.glob(".*.tmp"))
    assert not list((out.parent / "tmp").iterdir())


def test_forged_inputs_earn_nothing(run):
    """Zeroing the check's own arrays in place (W and b in __init__, X in forward) does not make
    a backward that returns zeros right: the checks compute from the arrays as they drew them."""
    _, rows, _ = run
    row = rows["yul-zeroes-inputs"]
    assert float(row["test-linear-forward"]) == 0 and float(row["test-linear-backward"]) == 0


def test_the_kernel_holds_no_secret_of_the_grader(run):
    """The probe read every frame and every readable byte of its kernel's memory: the canary the
    grading command had in its environment was in none of them."""
    _, _, out = run
    seen = _output(out, "zoe-reads-memory", "predict")
    assert seen.startswith("secrets seen:"), seen
    assert CANARY[len("qzcanary"):] not in seen, seen
    # The probe is not blind: in a process that has the canary in its environment (as the
    # workers do), it finds it.
    from tests.adversarial import MEMORY_PROBE
    probe = subprocess.run([sys.executable, "-c", MEMORY_PROBE], capture_output=True, text=True,
                           env={**os.environ, CANARY_VAR: CANARY}, timeout=120)
    assert CANARY[len("qzcanary"):] in probe.stdout, probe.stdout + probe.stderr


class _Active(HTMLParser):
    """What in a page could run or load: scripts, event handlers, sources and links off it."""

    def __init__(self):
        super().__init__()
        self.found = []

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "iframe", "object", "embed", "link", "base"):
            self.found.append(tag)
        for name, value in attrs:
            value = value or ""
            if name.startswith("on") or name in ("src", "srcset", "href", "action", "formaction") \
                    and not value.startswith(("data:", "#")) and not (
                        name == "href" and tag == "a" and "://" not in value):
                self.found.append(f"<{tag} {name}={value!r}>")


def test_feedback_runs_nothing_and_loads_nothing(run):
    """The student's image with a handler smuggled in its width, an output naming a remote
    file, a remote image in the written answer and raw HTML with onerror in Markdown: the page
    holds none of them live (its text still shows the student's code), and its
    Content-Security-Policy forbids scripts and loads; the report's too."""
    _, _, out = run
    page = (out / "feedback" / "abe-scripts-feedback" / "logits" / "logits.html").read_text()
    assert "Content-Security-Policy" in page and "default-src 'none'" in page
    active = _Active()
    active.feed(page)
    assert not active.found, active.found
    assert page.count("<img") >= 1  # the student's own image is still shown, embedded
    report = (out / "report.html").read_text()
    assert "default-src 'none'" in report


def test_only_the_graders_pages_go_into_feedback(run):
    _, _, out = run
    assert {p.name for p in (out / "feedback" / "bea-ships-html").rglob("*")} <= {
        "logits", "logits.html", "timestamp.txt", "submission_secret.txt"}
    assert (out / "feedback" / "bea-ships-html" / "logits" / "logits.html").is_file()


def test_a_name_is_never_a_formula_in_grades_csv(run):
    _, rows, out = run
    with open(out / "grades.csv", newline="") as f:
        cells = [cell for row in csv.reader(f) for cell in row]
    assert all(not cell.startswith(("=", "+", "@")) for cell in cells), cells
    assert f"'{FORMULA_NAMES[0]}" in cells and f"'{FORMULA_NAMES[1]}" in cells


def test_a_deleted_test_cell_is_put_back_and_graded(run):
    """The autograded notebook of a student who deleted a test cell holds it again, graded: a
    right answer keeps its points, a wrong one loses them (not "a written answer to grade")."""
    _, rows, out = run
    for student, points in (("kai-deletes-tests-right", "2"), ("kim-deletes-tests", "0")):
        nb = json.loads((out / "course" / "autograded" / student / "logits" / "logits.ipynb")
                        .read_text())
        ids = [c["metadata"].get("nbgrader", {}).get("grade_id") for c in nb["cells"]]
        assert "test-predict" in ids, (student, ids)
        assert rows[student]["test-predict"] == points, rows[student]
        assert "test-predict: written answer" not in rows[student]["notes"], rows[student]
