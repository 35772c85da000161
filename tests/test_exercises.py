"""The exercises: sources run clean, student versions are what nbgrader generates from them, and
an untouched student version tells the student what to do rather than dumping tracebacks."""
import filecmp
import re

import pytest
from nbclient import NotebookClient

from autograder import course, notebooks, variants
from tests import examples
from tests.catalog import ME, catalog

ASSIGNMENTS = course.assignments()


@pytest.fixture(autouse=True)
def a_students_course_id(monkeypatch):
    """The notebooks run as a student with a course id (typed, or given by their JupyterHub):
    their kernels inherit it from this process's environment."""
    monkeypatch.setenv(variants.ID_ENV, ME)


def execute(nb, allow_errors=False):
    NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=allow_errors,
                   resources={"metadata": {"path": str(course.REPO)}}).execute()
    return nb


def errors(nb):
    return {notebooks.grade_id(c): o for c in nb.cells if c.cell_type == "code"
            for o in c.get("outputs", []) if o.output_type == "error"}


def test_every_chapter_has_an_exercise():
    assert ASSIGNMENTS == ["logits", "sigmoid", "binary-loss", "softmax", "cross-entropy",
                           "multilabel", "calibration"][:len(ASSIGNMENTS)]


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_source_notebook_with_hidden_tests_runs_clean(assignment):
    nb = execute(notebooks.read(course.source_notebook(assignment)))
    assert not errors(nb)


def test_student_versions_equal_a_fresh_generation(tmp_path):
    course.generate_student_versions(release_dir=tmp_path)
    for assignment in ASSIGNMENTS:
        fresh = tmp_path / assignment / f"{assignment}.ipynb"
        assert filecmp.cmp(fresh, course.student_notebook(assignment), shallow=False), (
            f"exercises/{assignment} is stale or edited by hand: run `make student`")


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_notebooks_carry_the_kernels_metadata(assignment):
    """JupyterLab writes the kernel's kernelspec and language_info into a notebook it opens and
    compares them as JSON: a notebook that carries exactly those opens unmodified (not marked
    unsaved before any edit). The examples are filled from the student versions and inherit it."""
    expected = course.kernel_metadata()
    for path in (course.source_notebook(assignment), course.student_notebook(assignment)):
        metadata = notebooks.read(path).metadata
        assert {key: metadata.get(key) for key in expected} == expected, path


def test_kernel_metadata_is_what_the_python3_kernel_reports():
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import start_new_kernel
    manager, client = start_new_kernel(kernel_name="python3")
    try:
        client.kernel_info()
        reply = client.get_shell_msg(timeout=60)
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    expected = course.kernel_metadata()
    assert reply["content"]["language_info"] == expected["language_info"]
    spec = KernelSpecManager().get_kernel_spec("python3")
    assert {"name": "python3", "display_name": spec.display_name, "language": spec.language} == \
        expected["kernelspec"]


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_student_version_hides_solutions_and_hidden_tests(assignment):
    text = course.student_notebook(assignment).read_text()
    assert "BEGIN SOLUTION" not in text and "HIDDEN TESTS" not in text
    assert "autograder.checks" not in text


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_untouched_student_version_says_not_implemented(assignment):
    nb = execute(notebooks.read(course.student_notebook(assignment)), allow_errors=True)
    failed = errors(nb)
    tests = notebooks.test_cells(nb)
    assert set(failed) == set(tests), "every test cell should fail, and nothing else"
    for grade_id, output in failed.items():
        assert output.ename == "NotImplementedError", (grade_id, output.ename, output.evalue)
        assert "Not implemented yet" in output.evalue


def test_example_submissions_equal_a_fresh_generation(tmp_path):
    examples.write_examples(tmp_path)
    fresh = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*.ipynb"))
    committed = sorted(p.relative_to(course.EXAMPLES) for p in course.EXAMPLES.rglob("*.ipynb"))
    assert fresh == committed
    for rel in fresh:
        assert (tmp_path / rel).read_text() == (course.EXAMPLES / rel).read_text(), (
            f"{rel} is stale: run `make examples`")


def test_student_versions_with_the_reference_pasted_in_pass_nbgrader_validate():
    """What a student who got everything right sees from nbgrader's Validate (one command for
    every notebook: it validates them in turn, each in a kernel of its own)."""
    import subprocess
    import sys
    from pathlib import Path
    paths = [course.EXAMPLES / "alice-correct" / a / f"{a}.ipynb" for a in ASSIGNMENTS]
    # Its log (stderr) says which notebook it validates, its verdicts go to stdout: one stream,
    # unbuffered, keeps them in order.
    proc = subprocess.run([str(Path(sys.executable).parent / "nbgrader"), "validate",
                           *map(str, paths)], cwd=course.REPO, text=True,
                          env={**course.environment(), "PYTHONUNBUFFERED": "1"},
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    said = dict(re.findall(r"Validating '(.*?)'\n(.*?)(?=\[ValidateApp \| INFO\] Validating|\Z)",
                           proc.stdout, re.S))
    for path in paths:
        assert "Success! Your notebook passes all the tests." in said.get(str(path), ""), \
            f"{path}: {said.get(str(path), proc.stdout)}"


# Catalogued bugs that raise inside the student's code, run in the student version as a student
# would (one run per dict: bugs in different solution cells): the test cell shows an assertion
# whose message names the idea, not numpy's error and traceback.
RAISING = [
    ("logits", {"forward multiplies in the wrong order (W @ X)": ("test-linear-forward", "wrong order")}),
    ("sigmoid", {"naive 1 / (1 + exp(-z)) overflows at z = -1000":
                 ("test-sigmoid-stable", "exp only sees numbers <= 0")}),
    ("binary-loss", {"through probabilities: log(expit(z)) is log 0 at large |z|":
                     ("test-bce-stable", "never take the log of a rounded 0")}),
    ("softmax", {"no max shift (exp overflows)": ("test-softmax-stability", "Subtract the largest logit"),
                 "backward sum without keepdims": ("test-softmax-backward", "keepdims=True")}),
    ("softmax", {"one maximum for the whole array (global max)":
                 ("test-softmax-stability", "Subtract the maximum of each row")}),
    ("softmax", {"max without keepdims": ("test-softmax-values", "keepdims=True")}),
    ("cross-entropy", {"log of the softmax (inf for large spreads)":
                       ("test-cross-entropy-stability", "never log(softmax(z))")}),
    ("multilabel", {"thresholds lined up with the rows": ("test-multilabel-predict", "not as a column")}),
    ("calibration", {"softmax without the max-shift": ("test-temperature-robust", "stable log_softmax")}),
]
ANSI = re.compile(r"\x1b\[[0-9;]*m")


@pytest.mark.parametrize("assignment, bugs", RAISING, ids=[f"{a}:{i}" for i, (a, _) in enumerate(RAISING)])
def test_a_bug_that_raises_shows_a_teaching_message_in_the_test_cell(assignment, bugs):
    impls = {impl.name: impl for impl in catalog(assignment).BUGS}
    answers = {impls[name].cell: impls[name].code for name in bugs}
    nb = notebooks.fill(notebooks.read(course.student_notebook(assignment)), answers)
    failed = errors(execute(nb, allow_errors=True))
    for name, (cell, idea) in bugs.items():
        output = failed[cell]
        shown = ANSI.sub("", "\n".join(output.traceback))
        assert output.ename == "AssertionError", (name, output.ename, output.evalue)
        assert idea in output.evalue, (name, output.evalue)
        assert "gufunc" not in shown and "site-packages" not in shown, (name, shown)
        if " raised " in output.evalue:
            assert re.search(r"Chapter \d+, '", output.evalue), (name, output.evalue)
            # ... and the line of the student's own cell where it raised (issue 24, item 6)
            where = re.search(r"^  where:    In \[\d+\] line \d+, in (\w+): (.+)$(?![\s\S]*where)",
                              output.evalue, re.M)
            assert where and where.group(2) in impls[name].code, (name, output.evalue)
