"""The exercises: sources run clean, student versions are what nbgrader generates from them, and
an untouched student version tells the student what to do rather than dumping tracebacks."""
import filecmp

import pytest
from nbclient import NotebookClient

from autograder import course, examples, notebooks

ASSIGNMENTS = course.assignments()


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


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_student_version_with_the_reference_pasted_in_passes_nbgrader_validate(assignment):
    """What a student who got everything right sees from nbgrader's Validate."""
    nb = course.EXAMPLES / "alice-correct" / assignment / f"{assignment}.ipynb"
    proc = course.nbgrader("validate", str(nb), cwd=course.REPO, check=False)
    assert "Success! Your notebook passes all the tests." in proc.stdout, proc.stdout + proc.stderr
