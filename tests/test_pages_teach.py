"""Pages teach, notebooks assess (issue 11, items 1 and 3).

No function or class a chapter page defines may pass a graded hidden check of any assignment, and
no given code of a student notebook may either (a later notebook must not ship an earlier answer).
The guard itself lives in tests/pages_teach.py; for one page:
`.venv/bin/python -m tests.pages_teach chapters/04-softmax.md`.
"""
import pytest

from tests import pages_teach as guard

CHAPTERS = guard.chapter_pages()
NOTEBOOKS = guard.student_notebooks()


def _report(page, found):
    lines = [str(o) for o in found]
    lines += [f"{page.source}: code cell {cell} raised {message[:300]} (the guard could not "
              f"vouch for what follows)" for cell, _, message in page.errors]
    return "\n".join(lines)


@pytest.mark.parametrize("chapter", CHAPTERS, ids=[c.stem for c in CHAPTERS])
def test_no_page_object_passes_a_graded_check(chapter):
    page, found = guard.guard(chapter)
    assert page.defined or page.errors, f"{page.source} defines nothing: the guard saw no code"
    assert not found and not page.errors, (
        "a chapter page hands out a graded answer (teach on a sibling problem instead):\n"
        + _report(page, found))


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[n.parent.name for n in NOTEBOOKS])
def test_no_given_code_passes_a_graded_check(notebook):
    page, found = guard.guard(notebook)
    assert not found and not page.errors, (
        "a student notebook's given code passes graded cells (give scipy's building blocks "
        "instead, or let the student paste their own):\n" + _report(page, found))


PLANTED_SOFTMAX = '''
import numpy as np

def softmax(z, axis=-1):
    z = np.asarray(z)
    if not np.issubdtype(z.dtype, np.floating):
        z = z.astype(np.float64)
    e = np.exp(z - np.max(z, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)

def renamed(z, axis=-1):          # the same answer under another name is caught too
    return softmax(z, axis)

def scalar_sigmoid(x):            # a sibling problem: passes nothing
    import math
    return 1.0 / (1.0 + math.exp(-x))

import functools
from scipy import special
last_axis = functools.partial(renamed, axis=-1)   # built from a page function: counted
scipy_softmax = special.softmax                   # imported, not defined here: not counted
'''


def test_the_guard_catches_a_planted_answer():
    page = guard._execute([(1, 1, PLANTED_SOFTMAX, True, False)], "page_planted", "planted.md")
    assert {d.name for d in page.defined} == {"softmax", "renamed", "scalar_sigmoid", "last_axis"}
    found = guard.offenders(page, only=["softmax"])
    caught = {(o.name, o.test) for o in found}
    assert ("softmax", "test-softmax-values") in caught, found
    assert ("renamed", "test-softmax-values") in caught, found
    assert not any(o.name == "scalar_sigmoid" for o in found), found
    assert ("planted.md: `softmax` (code cell 1 (line 1)) passes softmax/test-softmax-values as "
            "`softmax`") in {str(o) for o in found}


def test_arity_filter_and_time_limit():
    def one(z): ...
    def two(z, y): ...
    def many(*args): ...
    assert guard.could_fit(one, "function", lambda z, axis=-1: 0)
    assert not guard.could_fit(two, "function", lambda z: 0)
    assert guard.could_fit(many, "function", lambda z, y: 0)
    assert not guard.could_fit(one, "class", type)
    assert not guard.could_fit(type("C", (), {}), "function", one)

    def forever():
        while True:
            pass
    assert guard.passes(lambda f: f(), {"f": forever}, limit=0.2) is False


def test_a_parameter_the_check_does_not_grade_is_not_used():
    def check(experiment, helper):       # grades what `experiment` returns, never `helper`
        assert experiment() == 42

    reference = {"experiment": lambda: 42, "helper": lambda z: z}
    assert guard.grades(check, reference, "experiment", "function")
    assert not guard.grades(check, reference, "helper", "function")


def test_the_guard_catches_a_planted_class():
    """A page's class is tried where a check takes a class: the reference `Linear`, renamed,
    passes the linear layer's checks and is found (a guard that tried functions only would not
    see it)."""
    from autograder import course, notebooks
    reference = notebooks.solution_cells(notebooks.read(course.source_notebook("logits")))
    code = "import numpy as np\n" + reference["linear"].replace("class Linear", "class Dense")
    page = guard._execute([(1, 1, code, True, False)], "page_planted_class", "planted.md")
    assert [d.kind for d in page.defined] == ["class"]
    found = {(o.name, o.test) for o in guard.offenders(page, only=["logits"])}
    assert ("Dense", "test-linear-forward") in found, found
    assert ("Dense", "test-linear-backward") in found, found
