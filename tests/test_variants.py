"""Numbers of their own (autograder/variants.py): every question is a variant per student.

A classmate's right answer earns nothing (in at least 95 % of pairs of students), every variant is
answerable (its own right answer passes its check), the book's number fails for every student,
and a student's numbers depend on the course secret, never on anything a notebook says.
"""
import contextlib
import inspect
import itertools
import json
import subprocess
import sys

import nbformat
import pytest

from autograder import course, notebooks, variants
from autograder.checks import CheckFailed, _common
from tests.catalog import COPIED, _run_solution_cells, catalog, checks_module

SECRET = b"a test secret that is long enough for the course ids 0123456789"
STUDENTS = [f"s{i:03d}" for i in range(40)]
QUESTIONS = [(a, t) for a in course.assignments()
             for t in getattr(checks_module(a), "ANSWERS", {})]
SPREAD = 0.95
COPYING_STUDENTS = 120


def _ids(n=len(STUDENTS)):
    return [variants.course_id(SECRET, f"s{i:03d}") for i in range(n)]


def _passes(assignment, test, mine: str, answer) -> bool:
    """Whether the check of `test`, for the student of course id `mine`, passes `answer`."""
    check = checks_module(assignment).TESTS[test]
    with _common.variant(variants.numbers(assignment, mine)):
        try:
            check(lambda: answer)
        except CheckFailed:
            return False
    return True


def _id(case):
    return f"{case[0]}:{case[1]}"


@pytest.mark.parametrize("assignment", course.assignments())
def test_every_assignment_has_numbers_and_questions(assignment):
    assert variants.has_numbers(assignment), f"{assignment} has no `numbers` cell"
    assert getattr(checks_module(assignment), "ANSWERS", None), f"{assignment}: no ANSWERS"


@pytest.mark.parametrize("case", QUESTIONS, ids=map(_id, QUESTIONS))
def test_a_classmates_right_answer_earns_nothing(case):
    assignment, test = case
    oracle = checks_module(assignment).ANSWERS[test]
    pairs = list(itertools.combinations(_ids(24), 2))[::4]  # 69 pairs of 24 students
    lost = sum(not _passes(assignment, test, a, oracle(variants.numbers(assignment, b)))
               for a, b in pairs)
    wanted = getattr(oracle, "spread", SPREAD)
    assert lost / len(pairs) >= wanted, (
        f"{test}: a classmate's right answer passes in {1 - lost / len(pairs):.0%} of "
        f"{len(pairs)} pairs of students (at most {1 - wanted:.0%} allowed)")


@pytest.mark.parametrize("case", QUESTIONS, ids=map(_id, QUESTIONS))
def test_every_variant_is_answerable(case):
    """Each student's own right answer passes their check: no variant is degenerate."""
    assignment, test = case
    oracle = checks_module(assignment).ANSWERS[test]
    stuck = [cid for cid in _ids() if not _passes(assignment, test, cid,
                                                  oracle(variants.numbers(assignment, cid)))]
    assert not stuck, f"{test}: these students cannot answer right: {stuck[:5]}"


@pytest.mark.parametrize("case", QUESTIONS, ids=map(_id, QUESTIONS))
def test_the_catalog_copies_the_books_case(case):
    """Every question has the book's case in the catalog: its number typed in, or for a choice
    the page's reading of the student's statements."""
    assignment, test = case
    assert any(impl.cell == test.removeprefix("test-") and COPIED.search(impl.name)
               for impl in catalog(assignment).BUGS), f"{test}: no copy of the book's case"


def _variant_tests(assignment: str) -> set[str]:
    """The test cells whose checks read the student's numbers: the questions and experiments."""
    return {test for test, check in checks_module(assignment).TESTS.items()
            if "numbers()" in inspect.getsource(check)}


def _failure(assignment: str, test: str, namespace: dict) -> CheckFailed | None:
    """What the check of `test` says of the notebook's names in `namespace` (None: it passed)."""
    check = checks_module(assignment).TESTS[test]
    try:
        check(**{n: namespace[n] for n in inspect.signature(check).parameters})
    except CheckFailed as failure:
        return failure
    return None


@pytest.mark.parametrize("assignment", course.assignments())
def test_the_reference_answers_every_student(assignment):
    """The source notebook's own answers pass every question and experiment check for each of
    40 students, not only for the catalogs' student."""
    tests = _variant_tests(assignment)
    lost = []
    for cid in _ids():
        namespace = _run_solution_cells(assignment, None, course_id=cid)
        with _common.variant(variants.numbers(assignment, cid)):
            lost += [f"{test} for {cid}: {failure}" for test in sorted(tests)
                     if (failure := _failure(assignment, test, namespace))]
    assert not lost, f"{len(lost)} answers of the reference fail:\n" + "\n".join(lost[:5])


@pytest.mark.parametrize("assignment", course.assignments())
def test_a_copy_earns_nothing_whoever_hands_it_in(assignment):
    """Each catalogued copy of a question or an experiment (the book's number typed in, a page's
    code reused) loses its points for every one of COPYING_STUDENTS students, not only for the
    catalogs' student: no variant is the book's case, and no student's numbers make copying pay."""
    tests = _variant_tests(assignment)
    copied = [impl for impl in catalog(assignment).BUGS
              if COPIED.search(impl.name) and impl.fails & tests]
    earned = []
    for cid in _ids(COPYING_STUDENTS):
        namespace = _run_solution_cells(assignment, None, course_id=cid)
        reference = dict(namespace)
        for impl in copied:
            with contextlib.redirect_stdout(None):
                exec(impl.code, namespace)  # into the namespace the notebook's functions read
            with _common.variant(variants.numbers(assignment, cid)):
                earned += [f"{test} for {cid}: {impl.name}" for test in sorted(impl.fails & tests)
                           if _failure(assignment, test, namespace) is None]
            namespace.clear()
            namespace.update(reference)
    assert not earned, f"{len(earned)} copies earn points:\n" + "\n".join(earned[:10])


def test_course_ids_need_the_secret_and_are_stable():
    cid = variants.course_id(SECRET, "alice")
    assert cid.startswith("alice-") and len(cid) == len("alice-") + variants.CODE_LENGTH
    assert cid == variants.course_id(SECRET, "alice")              # regrading: the same id
    assert cid != variants.course_id(SECRET + b"x", "alice")       # another secret: another id
    assert variants.student_of(variants.course_id(SECRET, "alice-correct")) == "alice-correct"
    codes = {variants.course_id(SECRET, s).rsplit("-", 1)[1] for s in STUDENTS}
    assert len(codes) == len(STUDENTS)


@pytest.mark.parametrize("assignment", course.assignments())
def test_the_notebooks_numbers_are_the_graders(assignment):
    """The numbers a released notebook prints are those the checker uses (one `numbers_of`)."""
    cid = variants.course_id(SECRET, "alice")
    nb = notebooks.read(course.student_notebook(assignment))
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code"
                     and notebooks.grade_id(c) in (None, "imports", variants.NUMBERS_CELL))
    namespace: dict = {}
    exec(code.replace('COURSE_ID = ""', f'COURSE_ID = "{cid}"'), namespace)
    assert namespace["NUMBERS"] == variants.numbers(assignment, cid)
    assert namespace["NUMBERS"] != variants.numbers(assignment, variants.course_id(SECRET, "bob"))


@pytest.mark.parametrize("assignment", course.assignments())
def test_the_id_cell_comes_first_and_the_numbers_cell_is_locked(assignment):
    nb = notebooks.read(course.source_notebook(assignment))
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert variants.typed_id(nb) is None and 'COURSE_ID = ""' in code[0].source
    cell = next(c for c in nb.cells if notebooks.grade_id(c) == variants.NUMBERS_CELL)
    assert notebooks.nbgrader_meta(cell).get("locked")


def test_a_typed_id_is_found_and_a_mismatch_is_named():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell('COURSE_ID = "bob-AAAAAA"')])
    assert variants.typed_id(nb) == "bob-AAAAAA"
    note = variants.mismatch_note("bob-AAAAAA", "alice-BBBBBB")
    assert "bob-AAAAAA" in note and "submitted as alice" in note
    assert variants.mismatch_note(None, "alice-BBBBBB") is None
    assert variants.mismatch_note("alice-BBBBBB", "alice-BBBBBB") is None


def test_the_instructors_commands(tmp_path):
    """`ids` creates the secret once and prints every course id; `numbers` prints a student's
    numbers and right answers; a changed secret is refused once a course has graded."""
    secret_file = tmp_path / "secret"
    env = {**course.environment(), variants.SECRET_ENV: str(secret_file)}
    run = lambda *args: subprocess.run([sys.executable, "-m", "autograder", *args],  # noqa: E731
                                       cwd=course.REPO, env=env, capture_output=True, text=True)
    first = run("ids", "--students", "alice", "bob")
    assert first.returncode == 0, first.stderr
    assert "created the course secret" in first.stdout
    lines = first.stdout.splitlines()
    assert "student,course_id" in lines
    secret = variants.read_secret(secret_file)
    assert f"alice,{variants.course_id(secret, 'alice')}" in lines
    again = run("ids", "--students", "alice")
    assert "created" not in again.stdout and f"alice,{variants.course_id(secret, 'alice')}" in again.stdout
    shown = run("numbers", "alice", "--assignment", "logits")
    assert shown.returncode == 0, shown.stderr
    assert variants.describe(variants.numbers("logits", variants.course_id(secret, "alice"))) \
        in shown.stdout
    assert "test-answer-shapes" in shown.stdout
    variants.check_unchanged(secret, secret_file)           # the first grading records it
    secret_file.write_text("another secret, long enough to be accepted as one 0123456789\n")
    with pytest.raises(variants.SecretChanged, match="Put the original secret file back"):
        variants.check_unchanged(variants.read_secret(secret_file), secret_file)


def test_ids_file_of_a_run_holds_no_secret(tmp_path):
    path = variants.write_ids(tmp_path, SECRET, ["alice", "bob"])
    record = json.loads(path.read_text())
    assert record["ids"]["alice"] == variants.course_id(SECRET, "alice")
    assert SECRET.decode() not in path.read_text()
    assert record["fingerprint"] == variants.fingerprint(SECRET)


def test_a_check_without_numbers_says_so():
    for assignment, test in QUESTIONS[:1]:
        check = checks_module(assignment).TESTS[test]
        name = next(iter(inspect.signature(check).parameters))
        with pytest.raises(CheckFailed, match="no course id for you"):
            check(lambda: None)
        assert name


def test_a_class_that_passed_answers_around(tmp_path):
    """Graded as a class: ann types her own right answer, ben types ann's (passed along in a
    chat), cat computes hers from the numbers of ann's course id (typed in her first cell). Only
    ann keeps the point; cat is told, and the instructor too, whose numbers she used."""
    import csv

    secret = variants.read_secret()
    right = checks_module("logits").ANSWERS["test-answer-shapes"]
    from tests.catalog import literal

    def answer(student):
        return literal(right(variants.numbers("logits", variants.course_id(secret, student))))
    anns = answer("ann")
    # A question has a few variants: under this run's secret, ben and cat are the first
    # classmates of those names whose right answer differs from ann's.
    ben, cat = (next(n for n in names if answer(n) != anns)
                for names in (("ben", "bea", "bob", "bud"), ("cat", "cal", "cyd", "cox")))
    ids = {s: variants.course_id(secret, s) for s in ("ann", ben, cat)}
    reference = notebooks.solution_cells(notebooks.read(course.source_notebook("logits")))
    typed = f"def answer_shapes():\n    return {anns}\n"
    for student, typed_in, course_id in [("ann", typed, ""), (ben, typed, ""),
                                       (cat, reference["answer-shapes"], ids["ann"])]:
        nb = notebooks.fill(notebooks.read(course.student_notebook("logits")),
                            {**reference, "answer-shapes": typed_in})
        first = next(c for c in nb.cells if c.cell_type == "code")
        first.source = first.source.replace('COURSE_ID = ""', f'COURSE_ID = "{course_id}"')
        path = tmp_path / "subs" / student / "logits" / "logits.ipynb"
        path.parent.mkdir(parents=True)
        nbformat.write(nb, str(path))
    proc = subprocess.run([sys.executable, "-m", "autograder", "grade", "--submissions",
                           str(tmp_path / "subs"), "--out", str(tmp_path / "out")],
                          cwd=course.REPO, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    with open(tmp_path / "out" / "grades.csv") as f:
        rows = {r["student"]: r for r in csv.DictReader(f)}
    assert {s: rows[s]["test-answer-shapes"] for s in rows} == {"ann": "1", ben: "0", cat: "0"}
    assert all(rows[s]["test-linear-forward"] == "2" for s in rows)  # the rest is theirs
    assert f"used the numbers of course id {ids['ann']}" in rows[cat]["notes"]
    assert "used the numbers" not in rows["ann"]["notes"] + rows[ben]["notes"]
    feedback = (tmp_path / "out" / "feedback" / cat / "logits" / "logits.html").read_text()
    assert f"used the numbers of course id {ids['ann']}" in feedback
    assert json.loads((tmp_path / "out" / "course" / variants.IDS_FILE).read_text())["ids"] == ids
