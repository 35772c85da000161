"""Nothing a student reads may be copied into a graded cell (issue 20).

The expression guard (tests/expression_guard.py) finds every expression of several operations
of a reference solution in what a student reads, whatever its names: the built book, the
released notebooks and the checks' messages. It is proven here on planted copies, renamed and
reordered, before it is trusted on the course. And a solution that calls a library function its
exercise forbids is named for the instructor.
"""
import ast
import json

import nbformat
import pytest

from autograder import course, notebooks
from autograder.run import integrity
from tests import expression_guard as guard

ASSIGNMENTS = course.assignments()


@pytest.fixture(scope="module")
def reference():
    return guard.reference_forms()


class _Rename(ast.NodeTransformer):
    """What a copying student does: other names, and the operands of + and * swapped."""

    def visit_Name(self, node):
        if node.id in guard.MODULES or node.id in guard.BARE:
            return node
        return ast.Name(id=f"my_{node.id}", ctx=node.ctx)

    def visit_Attribute(self, node):
        if isinstance(node.value, ast.Name) and node.value.id == "self":
            return ast.Name(id=f"stored_{node.attr}", ctx=node.ctx)
        return self.generic_visit(node)

    def visit_BinOp(self, node):
        self.generic_visit(node)
        if isinstance(node.op, (ast.Add, ast.Mult)):
            node.left, node.right = node.right, node.left
        return node


def _planted(reference, assignment):
    """A renamed, reordered copy of one of the assignment's implementation expressions."""
    for form, places in reference.items():
        given = next((g for g in places if g.assignment == assignment
                      and not guard.QUESTION.match(g.cell)), None)
        if given is not None and guard.weight(ast.parse(given.text, mode="eval").body) >= 3:
            tree = _Rename().visit(ast.parse(given.text, mode="eval"))
            return given, ast.unparse(ast.fix_missing_locations(tree))
    raise AssertionError(f"{assignment}: no expression of three operations to plant")


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_the_guard_finds_a_planted_copy_wherever_it_is_read(assignment, reference, tmp_path):
    given, copy = _planted(reference, assignment)
    assert copy != given.text
    page = tmp_path / "page.md"
    page.write_text(f"# A page\n\nIn prose, the update is `{copy}` for each row.\n\n"
                    f"```{{code-cell}} ipython3\nresult = {copy}\n```\n")
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("Compute the loss."),
        nbformat.v4.new_code_cell(f'def f(x):\n    """Return {copy}."""\n    pass\n')])
    path = tmp_path / "planted.ipynb"
    nbformat.write(nb, str(path))
    checks = tmp_path / "checks.py"
    checks.write_text(f"MESSAGE = f'expected {copy} but got {{x}}'\n")
    autograded = tmp_path / "graded.ipynb"
    autograded.write_text(json.dumps({"cells": [{"cell_type": "code", "metadata": {}, "outputs": [
        {"output_type": "error", "ename": "CheckFailed", "traceback": [],
         "evalue": f"wrong values\n  hint: compute {copy}"}]}]}))
    found = guard.findings([page, path, checks], reference)
    found += guard.findings_in(guard.read_messages(autograded), reference)
    where = {f.read.where.split(",")[0].split("/")[-1] + (" (a string)" if "string" in
                                                         f.read.where else "")
             for f in found if (f.given.assignment, f.given.cell) == (given.assignment, given.cell)}
    assert {"page.md", "planted.ipynb (a string)", "checks.py", "graded.ipynb"} <= where, \
        (copy, where)


def test_the_guard_lets_the_mathematics_and_a_sibling_problem_through(reference, tmp_path):
    """TeX is the book's job; a scalar loop on another problem shares no expression."""
    page = tmp_path / "page.md"
    page.write_text("# A page\n\n$$\\sigma(z) = \\frac{1}{1 + e^{-z}}, \\quad "
                    "\\sigma'(z) = \\sigma(z)\\,(1 - \\sigma(z))$$\n\n"
                    "```{code-cell} ipython3\nimport math\n"
                    "def tanh_by_hand(x):\n    return math.sinh(x) / math.cosh(x)\n```\n")
    assert guard.findings([page], reference) == []


def test_a_hidden_figure_cell_is_not_read(reference, tmp_path):
    given, copy = _planted(reference, ASSIGNMENTS[0])
    page = tmp_path / "page.md"
    page.write_text(f"# A page\n\n```{{code-cell}} ipython3\n:tags: [remove-input]\n"
                    f"result = {copy}\n```\n")
    assert guard.findings([page], reference) == []


@pytest.fixture(scope="module")
def everything_read(book, graded_class):
    """Every expression a student can read: the built book, the released notebooks, every
    message the checks can write, and the messages a graded class got in its feedback."""
    paths = guard.student_reads(book)
    reads = [r for p in paths for r in guard.read(p)]
    for nb in sorted((graded_class / "course" / "autograded").glob("*/*/*.ipynb")):
        reads += guard.read_messages(nb)
    return reads


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_nothing_a_student_reads_gives_an_answer_away(assignment, everything_read, reference):
    """All of it, against this assignment's reference solution and its catalog's other correct
    implementations."""
    mine = {form: [g for g in places if g.assignment == assignment]
            for form, places in reference.items()}
    found = guard.findings_in(everything_read, {k: v for k, v in mine.items() if v})
    assert not found, "what a student reads gives an answer away:\n" + "\n".join(
        sorted(map(str, found)))


def test_a_forbidden_library_call_is_named_for_the_instructor():
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("import numpy as np\nfrom scipy import special as sp"),
        nbformat.v4.new_code_cell("def softmax(z, axis=-1):\n    return sp.softmax(z, axis)",
                                  metadata={"nbgrader": {"solution": True,
                                                         "grade_id": "softmax-function"}}),
        nbformat.v4.new_code_cell("def f(z):\n    return sp.softmax(z)",
                                  metadata={"nbgrader": {"solution": True, "grade_id": "other"}}),
    ])
    notes = integrity.library_calls(nb, {"softmax-function": ("scipy.special.softmax",)})
    assert notes == ["hint: cell softmax-function calls scipy.special.softmax, which the exercise "
                     "asks students not to use (its points come from the library, not from the "
                     "student's code)"]
    nb.cells[1].source = "from scipy.special import softmax as s\ndef softmax(z, axis=-1):\n" \
                         "    return s(z, axis=axis)"
    assert len(integrity.library_calls(nb, {"softmax-function": ("scipy.special.softmax",)})) == 1
    nb.cells[1].source = "def softmax(z, axis=-1):\n    e = np.exp(z)\n    return e / e.sum()"
    assert integrity.library_calls(nb, {"softmax-function": ("scipy.special.softmax",)}) == []


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_each_notebook_names_the_library_functions_it_forbids(assignment):
    """What the grader names (the checks' FORBIDDEN) is what the notebook tells the student."""
    from tests.catalog import checks_module
    forbidden = getattr(checks_module(assignment), "FORBIDDEN", {})
    assert forbidden, f"{assignment}: the checks name no forbidden library function"
    text = "\n".join(c.source for c in notebooks.read(course.student_notebook(assignment)).cells
                     if c.cell_type == "markdown")
    for cell, names in forbidden.items():
        for name in names:
            assert f"`{name}`" in text, f"{assignment}: the notebook never names `{name}` ({cell})"
