"""What a student sees when their own code raises in a hidden check (issue 24, items 6 and 7):
the teaching message with the student's own frame, `In [5] line 7, in softmax: e = np.exp(z)`,
carried from the kernel to the trusted checker as bounded plain data; and the messages that used
to blame the wrong cause.

The catalog's raising bugs run through the real checker and the kernel's agent in this process
(`kernel_agent.request_check` in the main thread, as in a kernel; the checker in its thread), the
student's cells compiled by IPython's own compiler as a kernel compiles them; a graded class
(the session's) shows the same in a sandboxed kernel, in the graded notebook and the feedback.
"""
from __future__ import annotations

import contextlib
import inspect
import re
import traceback

import pytest
from IPython.core.compilerop import CachingCompiler

from autograder import course, notebooks, variants
from autograder.checks import CheckFailed, _common
from autograder.trusted import checker, kernel_agent, wire
from tests.catalog import ME, catalog, checks_module, run_checks, secret_for

# A line of what the student sees: where their code raised (_common.where).
WHERE = re.compile(r"^(?:  where:    |            )In \[(\d+)\] line (\d+), in ([\w<>.]+)(?:: (.*))?$",
                   re.M)


class _Skipped(Exception):
    """A call that measures time or memory: a bug that only such a call could show is left out."""


def _skip(*args, **kwargs):
    raise _Skipped


@pytest.fixture
def kernel(monkeypatch):
    """This process as a kernel: IPython's compiler names the cells' code, the agent finds it,
    the student's id is in the environment. The checks' timed and measured calls are skipped
    (the walk looks for bugs that raise, not for loops), and the digits are read once."""
    import functools

    import sklearn.datasets
    compiler = CachingCompiler()
    monkeypatch.setattr(kernel_agent, "_cell_compiler", lambda: compiler)
    # multilabel's data cell reads the digits again for every bug: read once (7 s of 20)
    monkeypatch.setattr(sklearn.datasets, "load_digits",
                        functools.cache(sklearn.datasets.load_digits))
    monkeypatch.setenv(variants.ID_ENV, ME)
    for assignment in course.assignments():
        for name in ("batched_call", "measured_call"):
            if hasattr(checks_module(assignment), name):
                monkeypatch.setattr(checks_module(assignment), name, _skip)
    return compiler


def _run(compiler, assignment: str, answers: dict[str, str]) -> dict:
    """The notebook's code cells but its tests, each compiled as a kernel compiles a cell (its
    number is its execution count), with solution cells replaced by `answers`."""
    namespace: dict = {}
    cells = [c for c in notebooks.read(course.source_notebook(assignment)).cells
             if c.cell_type == "code" and not notebooks.is_test(c)]
    with contextlib.redirect_stdout(None):
        for number, cell in enumerate(cells, 1):
            code = answers.get(notebooks.grade_id(cell), notebooks.reference_code(cell)) \
                if notebooks.is_solution(cell) else cell.source
            exec(compiler(code, compiler.cache(code, number), "exec"), namespace)
    return namespace


def _innermost(compiler, failure: CheckFailed) -> tuple[int, int, str, str] | None:
    """Where the student's code raised, from the exception itself (Python's traceback module):
    the last frame of the traceback that runs a cell's code (None when the exception was not
    raised in a cell, as when a check reads an attribute the student's object does not have)."""
    cells = compiler._filename_map  # IPython's: cell code's name -> its number
    frames = [f for f in traceback.extract_tb(failure.__context__.__traceback__)
              if f.filename in cells]
    if not frames:
        return None
    return cells[frames[-1].filename], frames[-1].lineno, frames[-1].name, frames[-1].line.strip()


def _through_the_checker(assignment, test_id, namespace, secret) -> tuple[str, str]:
    """(what the kernel raised, the checker's verdict) for one hidden check of test cell
    `test_id`, the student's objects in `namespace`, as when grading."""
    check = checks_module(assignment).TESTS[test_id]
    args = tuple(namespace[p] for p in inspect.signature(check).parameters)
    judge = checker.Checker(assignment, secret, timeout=120,
                            numbers=variants.numbers(assignment, ME))
    try:
        with pytest.MonkeyPatch.context() as env:
            env.setenv(wire.ENV, judge.path)
            judge.expect(test_id)
            with pytest.raises(kernel_agent.CheckFailed) as shown:
                kernel_agent.request_check(f"{judge.module}.{check.__name__}", args)
            judge.settle(120)
        return str(shown.value), judge.verdicts[test_id][1]
    finally:
        judge.close()


def _raising(compiler):
    """Every catalogued bug whose code raises in a hidden check of a cell it loses: (assignment,
    bug, test cell, the student's objects, where it raised), found in this process."""
    for assignment in course.assignments():
        for bug in catalog(assignment).BUGS:
            namespace = _run(compiler, assignment, {bug.cell: bug.code})
            checks = checks_module(assignment).TESTS
            for test_id in sorted(bug.fails):
                args = {p: namespace[p] for p in inspect.signature(checks[test_id]).parameters}
                try:
                    with _common.seeded(secret_for(bug)), \
                            _common.variant(variants.numbers(assignment, ME)):
                        checks[test_id](**args)
                except CheckFailed as failure:
                    if failure.error:  # the student's code raised
                        yield assignment, bug, test_id, namespace, _innermost(compiler, failure)
                except _Skipped:
                    pass


def test_every_raising_bug_shows_the_students_own_line(kernel):
    """For each catalogued bug that raises, what the student sees (the kernel's CheckFailed,
    which is the checker's verdict, which the graded notebook and the feedback show) names the
    function and the line of the student's cell where it raised, with its code, and nothing of
    the grader's: every frame shown is a cell's."""
    walked = 0
    for assignment, bug, test_id, namespace, innermost in _raising(kernel):
        shown, verdict = _through_the_checker(assignment, test_id, namespace, secret_for(bug))
        case = f"{assignment}: {bug.name} ({test_id}):\n{shown}"
        assert shown == verdict, case
        frames = WHERE.findall(shown)
        if innermost is None:  # raised outside the student's cells: no line to show
            assert not frames and "where:" not in shown, case
            continue
        number, line, function, code = innermost
        assert frames and frames[-1] == (str(number), str(line), function, code), case
        assert len(frames) == len(re.findall(r"^ {2}where: |^ {12}\S", shown, re.M)), case
        assert code and (code in bug.code or any(code in c for c in _cells(assignment))), case
        walked += 1
    assert walked >= 40, walked  # the catalogs hold about sixty raising cases


def _cells(assignment):
    nb = notebooks.read(course.source_notebook(assignment))
    return [notebooks.reference_code(c) if notebooks.is_solution(c) else c.source
            for c in nb.cells if c.cell_type == "code"]


def test_the_graded_class_shows_the_students_own_lines(graded_class):
    """Graded in sandboxed kernels (the session's example class): every frame a failure shows
    is a line of the student's own notebook, numbered as the graded notebook numbers its cells,
    and the feedback shows it too; at least one student's code raised (bob-one-bug's sigmoid
    overflows)."""
    import html
    import json
    seen = 0
    for path in sorted((graded_class / "course" / "autograded").glob("*/*/*.ipynb")):
        nb = json.loads(path.read_text())
        cells = {c.get("execution_count"): "".join(c["source"]).splitlines()
                 for c in nb["cells"] if c["cell_type"] == "code"}
        student, assignment = path.parent.parent.name, path.parent.name
        page = None
        for out in (o for c in nb["cells"] for o in c.get("outputs", [])):
            for number, line, function, code in WHERE.findall(out.get("evalue", "")):
                source = cells[int(number)]
                assert source[int(line) - 1].strip() == code, (path, number, line, code)
                assert function.startswith("<") or \
                    f"def {function}(" in "\n".join(source[:int(line)]), (path, function)
                if page is None:
                    feedback = graded_class / "feedback" / student / assignment
                    page = html.unescape((feedback / f"{assignment}.html").read_text())
                assert f"In [{number}] line {line}, in {function}: {code}" in page, path
                seen += 1
    assert seen >= 2, "no failure of the graded class shows a student's line"


def test_a_deep_recursion_sends_its_innermost_frames(kernel):
    """A recursion a thousand calls deep crosses as the innermost frames and a count of the
    rest, in the student's own words."""
    code = "def softmax(z, axis=-1):\n    return softmax(z, axis)\n"
    namespace = _run(kernel, "softmax", {"softmax-function": code})
    shown, _ = _through_the_checker("softmax", "test-softmax-values", namespace, 7)
    frames = WHERE.findall(shown)
    assert len(frames) == wire.MAX_FRAMES, shown
    assert {f[2:] for f in frames} == {("softmax", "return softmax(z, axis)")}, shown
    skipped = re.search(r"where:    \(and (\d+) outer calls of your code before these\)", shown)
    assert skipped and int(skipped[1]) > 100, shown


def test_what_the_kernel_says_of_its_frames_is_bounded_plain_text():
    """The checker keeps of the kernel's account only what it can show: at most MAX_FRAMES
    frames of a cell number, a line, a function's name and a line of code, printable and cut;
    anything else is dropped. A path or a grader's frame cannot pass for a cell."""
    code = "x = 1\x1b[31m\x00" + "y" * 10_000
    forged = {"type": "ValueError", "message": "no", "skipped": 3, "frames": [
        [1, 2, "f", "ok"], ["1", 2, "f", "x"], [1, 2.0, "f", "x"], [0, 2, "f", "x"],
        [1, 2, "/srv/autograder/trusted/kernel_agent.py", "x"], [1, 2, "f()", "x"],
        [1, 2, "f", None], [1, 2, "f"], {"a": 1}, "In [1] line 2",
        *[[9, k, "g", code] for k in range(1, 20)]]}
    frames, skipped = checker.raised_at(forged)
    assert len(frames) == wire.MAX_FRAMES and skipped == 3
    for number, line, function, text in frames:
        assert (number, function) == (9, "g") and 14 <= line <= 19
        assert len(text) <= wire.MAX_CODE and text.isprintable() and text.startswith("x = 1")
    assert checker.raised_at({"frames": [[1, 2, "f", "ok"], [1, 3, "f", "x"]],
                              "skipped": "many"}) == (((1, 2, "f", "ok"), (1, 3, "f", "x")), 0)
    assert checker.raised_at({"frames": "x" * 10**6}) == ((), 0)
    assert checker.raised_at({}) == ((), 0)
    rebuilt = checker._rebuild(forged)  # the exception a check catches carries them
    assert type(rebuilt) is ValueError and rebuilt.raised_at == (frames, 3)


def test_no_frame_is_shown_where_the_code_is_not_a_cell():
    """In one process without IPython (the catalogs), no frame is a cell's: the messages are
    as they were."""
    code = ("def softmax(z, axis=-1):\n    e = np.exp(z - np.max(z, axis=axis))\n"
            "    return e / e.sum(axis=axis, keepdims=True)\n")
    message = run_checks("softmax", {"softmax-function": code}, only={"test-softmax-values"})
    assert "raised ValueError" in message["test-softmax-values"]
    assert "where:" not in message["test-softmax-values"]


# -- messages that name the right cause (item 7) -----------------------------------------------

NO_SHIFT = {  # no max shift, and integer logits not converted
    "softmax-function": '''
def softmax(z, axis=-1):
    e = np.exp(z)
    return e / e.sum(axis=axis, keepdims=True)
''',
    "log-softmax-function": '''
def log_softmax(z, axis=-1):
    return z - np.log(np.sum(np.exp(z), axis=axis, keepdims=True))
'''}


@pytest.mark.parametrize("cell", sorted(NO_SHIFT))
def test_a_softmax_without_the_shift_is_told_about_the_shift(cell):
    """Its values cell fails on uint8 logits (numpy's exp of uint8 is float16, which overflows
    above 11), but the cause is the missing shift: the message names the plain float case
    first, and not the uint8 subtraction its code never does."""
    test = f"test-{cell.removesuffix('-function')}-values"
    message = run_checks("softmax", {cell: NO_SHIFT[cell]}, 11, only={test})[test]
    first = message.splitlines()[0]
    assert first.startswith(cell.removesuffix("-function").replace("-", "_") +
                            "(z) for the float64 array z = [1000, 999, 998] returned nan or inf"
                            ), message
    assert "without subtracting their maximum" in first and "uint8" in first, message
    assert "wraps around" not in message, message
    assert "Shift invariance and the log-sum-exp trick" in message, message


TEMPERATURE = notebooks.solution_cells(
    notebooks.read(course.source_notebook("calibration")))["temperature-scaling"]


def test_a_temperature_fitted_with_a_softmax_over_the_whole_array_is_told_so():
    """fit_temperature whose derivative uses scipy's softmax without `axis` finds T = 0.01 (an
    end of the range): the message names the softmax over the whole array, in both cells, and
    so it does for the NLL with log_softmax without `axis`, whose T for the under-confident
    model is above 1 (not "search below 1"); a function that returns 0.01 whatever it is given
    is not told that."""
    assert "softmax(z / T, axis=1)" in TEMPERATURE
    whole = TEMPERATURE.replace("softmax(z / T, axis=1)", "softmax(z / T)")
    cells = {"test-fit-temperature", "test-temperature-robust"}
    for test, message in run_checks("calibration", {"temperature-scaling": whole}, 5,
                                    only=cells).items():
        if test in cells:
            assert "normalised over the whole array" in message.splitlines()[0], message
            assert "axis=1" in message, message
    nll = next(b for b in catalog("calibration").BUGS  # its under-confident T is above 1
               if b.name == "scipy's log_softmax without axis (over the whole array)")
    message = run_checks("calibration", {nll.cell: nll.code}, 5,
                         only={"test-temperature-robust"})["test-temperature-robust"]
    assert "normalised over the whole array" in message and "below 1" not in message, message
    constant = "def fit_temperature(logits, labels):\n    return 0.01\n"
    for test, message in run_checks("calibration", {"temperature-scaling": constant}, 5,
                                    only=cells).items():
        if test in cells:
            assert message and "whole array" not in message, message


def test_the_guard_leaves_the_students_own_lines_to_them(tmp_path):
    """The expression guard (tests/test_copying.py) reads every message a student gets, but not
    the lines of their own code that a message quotes where it raised: those are theirs."""
    import nbformat

    from tests import expression_guard as guard
    given = "np.exp(z - np.max(z, axis=axis, keepdims=True))"
    message = (f"softmax(z) raised ValueError: no.\n  inputs:   an array\n"
               f"  where:    In [3] line 4, in f: return g(z)\n"
               f"            In [2] line 7, in softmax: e = {given}\n  revisit:  Chapter 4\n")
    for text, read in ((message, False), (message.replace("  where:    In [3]", given), True)):
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(outputs=[
            nbformat.v4.new_output("error", ename="CheckFailed", evalue=text, traceback=[])])])
        nbformat.write(nb, str(tmp_path / "nb.ipynb"))
        texts = [r.text for r in guard.read_messages(tmp_path / "nb.ipynb")]
        assert (given in texts) == read, texts
