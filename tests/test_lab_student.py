"""A student, in JupyterLab 4 with nbgrader's extension, driven in headless Chromium.

Every command is the README's ("For students", and the instructors' way of trying an exercise
outside the repository), run as written in a temporary home: the install line (against this
venv, with no package index: it must be satisfied by exactly the versions the tests use), the
copy of a downloaded notebook, `jupyter lab`, `nbgrader validate`. Then, in the browser:

1. the student types a classic bug (`W @ X` in `Linear.forward`) into the solution cell through
   the editor, runs the cell and its test, and reads a message that names the mistake;
2. fixes it; the test passes;
3. clicks the notebook toolbar's *Validate* and reads "Success";
4. with an nbgrader exchange in a temporary folder (the student's ~/.jupyter/nbgrader_config.py),
   fetches, validates and submits from the *Assignments* tab.

One JupyterLab server for the module; a screenshot of each step in _build/screenshots/student/.
"""
from __future__ import annotations

import hashlib
import re

import nbformat
import pytest

from autograder import course, notebooks, variants
from tests import lab

pytestmark = pytest.mark.browser

ASSIGNMENT = "logits"
STUDENTS = "For students"
INSTRUCTORS = "For instructors"
BUGGY_FORWARD = "return self.W @ X + self.b"   # the classic: W (C, D) times X (N, D)
# The README's way of trying an exercise outside the repository (instructors' section).
TRY_COPY = f"mkdir -p ~/try && cp exercises/{ASSIGNMENT}/{ASSIGNMENT}.ipynb ~/try/"


def tracked_digest() -> str:
    return hashlib.sha256(course.student_notebook(ASSIGNMENT).read_bytes()).hexdigest()


WRITTEN = ("Subtracting two nearly equal float32 losses loses the digits: the difference "
           "f(x + eps) - f(x - eps) carries an error of about u |f| with u = 6e-8, divided by "
           "2 eps = 2e-6, so about 0.03 |f|. Check gradients in float64.")


def answers() -> dict[str, str]:
    return notebooks.solution_cells(notebooks.read(course.source_notebook(ASSIGNMENT)))


# The course ids of two students (docs/students.md: typed in the first code cell).
ADA, BEN = (variants.course_id(variants.read_secret(), s) for s in ("ada", "ben"))


def with_course_id(nb, course_id: str):
    """The notebook with `course_id` typed in its first code cell, as a student does."""
    first = next(c for c in nb.cells if c.cell_type == "code")
    first.source = first.source.replace('COURSE_ID = ""', f'COURSE_ID = "{course_id}"')
    return nb


def complete(nb, skip=()):
    """A notebook with the student's course id typed in and every answer written in (the
    reference code, a written answer), but the cells named in skip."""
    nb = notebooks.fill(with_course_id(nb, ADA),
                        {k: v for k, v in answers().items() if k not in skip})
    for c in nb.cells:
        if notebooks.is_written(c) and notebooks.grade_id(c) not in skip:
            c.source = WRITTEN
    return nb


@pytest.fixture(scope="module")
def student(tmp_path_factory, chromium):
    """The student's machine: a home, the README's install line run in it, the exercise copied
    out of the repository with the README's command, an exchange holding the released
    assignment, and `jupyter lab` started where the notebook is."""
    tmp = tmp_path_factory.mktemp("student")
    home = tmp / "home"
    env = lab.isolated_env(home, repo_importable=False)
    state = {"tmp": tmp, "home": home, "env": env, "tracked": tracked_digest()}

    # The instructor's side: a course and an exchange in the temporary folder.
    root = lab.course_copy(tmp / "checkout")
    ienv = lab.isolated_env(tmp / "instructor")
    lab.write_nbgrader_config(tmp / "instructor", root / "exchange")
    lab.run(lab.readme_command(f"nbgrader release_assignment {ASSIGNMENT}", INSTRUCTORS),
            root / "autograder", ienv)
    # The student's nbgrader knows where the exchange is (on a hub: the system's default).
    lab.write_nbgrader_config(home, root / "exchange")

    # The README's way of trying an exercise outside the repository (run in the checkout).
    lab.readme_command(TRY_COPY, INSTRUCTORS)
    lab.run(["bash", "-c", TRY_COPY], course.REPO, env)
    work = home / "try"
    path = work / f"{ASSIGNMENT}.ipynb"
    # Everything but the linear layer is done already (not what these tests are about).
    nbformat.write(complete(notebooks.read(path), skip=["linear"]), str(path))
    state.update(work=work, path=path)

    state["lab"] = lab.JupyterLab(work, env, tmp / "jupyter-lab.log")
    with state["lab"]:
        state["browser"] = lab.Browser(chromium, "student")
        page = state["browser"].new_page()
        state["page"] = page
        yield state
        state["browser"].close()
        assert not state["browser"].offsite, \
            f"JupyterLab tried to reach the network: {state['browser'].offsite}"


# --------------------------------------------------------------------------- notebook helpers


def cell_index(path, grade_id: str) -> int:
    nb = notebooks.read(path)
    return next(i for i, c in enumerate(nb.cells) if notebooks.grade_id(c) == grade_id)


def open_notebook(state, name: str):
    return lab.open_notebook(state["page"], state["lab"], name)


# --------------------------------------------------------------------------- tests


def test_the_install_line_is_what_the_tests_use(student):
    """The README's student install line pins the versions of requirements.txt, installs
    nbgrader (the Validate button, `nbgrader validate`), and is satisfied by this venv without
    any download (PIP_NO_INDEX: a version that differs fails instead of installing)."""
    section = lab.guide_section(STUDENTS)
    lines = [ln for ln in lab.readme_code_blocks(STUDENTS) if ln.startswith("pip install ")]
    assert len(lines) == 1, f"one pip install line in 'For students', got {lines}"
    args = lab.readme_command(lines[0], STUDENTS)
    pins = dict(a.split("==") for a in args[2:])
    assert {"jupyterlab", "nbgrader", "numpy", "scipy", "matplotlib", "scikit-learn"} <= set(pins)
    required = dict(ln.split("==") for ln in (course.REPO / "requirements.txt").read_text()
                    .splitlines() if "==" in ln and not ln.startswith("#"))
    required = {k.lower(): v for k, v in required.items()}
    for name, version in pins.items():
        assert required.get(name.lower()) == version, \
            f"README pins {name}=={version}, requirements.txt {required.get(name.lower())}"
    env = dict(student["env"], PIP_NO_INDEX="1", PIP_DRY_RUN="1")
    proc = lab.run(args, student["home"], env)
    assert "Would install" not in proc.stdout, proc.stdout
    assert "jupyter lab" in section and "nbgrader" in section


def test_jupyter_lab_opens_the_notebook_with_validate_on_its_toolbar(student):
    assert "```bash\n   jupyter lab\n   ```" in lab.guide_section(STUDENTS)
    page = open_notebook(student, f"{ASSIGNMENT}.ipynb")
    toolbar = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-NotebookPanel-toolbar")
    assert toolbar.get_by_text("Validate", exact=True).is_visible()
    assert page.locator("#jp-main-menu-bar, .lm-MenuBar").get_by_text("Nbgrader").count()
    student["browser"].shot(page, "notebook-open")
    # Opened, its kernel started and idle, nothing edited: not marked unsaved (issue 15, item
    # 8: the notebook carries the kernel's language_info, so the kernel changes nothing).
    dirty = page.locator(".lm-TabBar-tab.jp-mod-dirty", has_text=f"{ASSIGNMENT}.ipynb")
    assert dirty.count() == 0, "a freshly opened notebook is marked unsaved"


def test_a_typed_bug_gets_a_message_that_names_it(student):
    page = student["page"]
    path = student["path"]
    lab.run_cell(page, cell_index(path, "imports"))
    buggy = answers()["linear"].replace("return X @ self.W.T + self.b", BUGGY_FORWARD)
    assert buggy != answers()["linear"]
    index = cell_index(path, "linear")
    lab.type_into(page, index, buggy)
    assert lab.run_cell(page, index) == ""
    shown = lab.run_cell(page, cell_index(path, "test-linear-forward"))
    lab.cell(page, cell_index(path, "test-linear-forward")).scroll_into_view_if_needed()
    student["browser"].shot(page, "bug-message")
    student["bug_message"] = shown
    assert shown, "the test of a W @ X forward printed nothing"
    # A message that names the mistake: what the layer computes, with the shapes involved,
    # and where to read about it; not numpy's own words about gufunc signatures.
    assert "gufunc" not in shown and "signature" not in shown, \
        f"the student sees numpy's raw error (issue 15, item 4):\n{shown}"
    last = shown.split("AssertionError:")[-1]  # the message itself, after the traceback
    assert re.search(r"matrix product|matmul", last) and re.search(r"order|transpose", last), \
        f"the message does not say the product's operands are swapped or untransposed:\n{shown}"
    assert "(2, 3)" in last, f"the message does not show the shapes involved:\n{shown}"
    assert "Chapter 1" in last, f"the message does not say what to revisit:\n{shown}"


def test_the_fix_passes_its_test(student):
    page, path = student["page"], student["path"]
    index = cell_index(path, "linear")
    lab.type_into(page, index, answers()["linear"])
    assert lab.run_cell(page, index) == ""
    assert lab.run_cell(page, cell_index(path, "test-linear-forward")) == ""
    assert lab.run_cell(page, cell_index(path, "test-linear-backward")) == ""
    student["browser"].shot(page, "bug-fixed")


def test_validate_on_the_toolbar_says_success(student):
    page, path = student["page"], student["path"]
    section = lab.guide_section(STUDENTS)
    assert re.search(r"\*Validate\*[^.]*toolbar", section), \
        "the README does not say that a downloaded notebook's Validate is on its toolbar"
    text = lab.validate_on_toolbar(page, lambda: student["browser"].shot(page, "toolbar-validate"))
    assert "Success! Your notebook passes all the tests." in text, text
    # Validate saved the notebook first (the lab extension does, before it validates): the file
    # holds the code typed in the browser. That is why a notebook opened inside a checkout
    # would be rewritten; the README has students and maintainers work on a copy.
    saved = notebooks.read(path)
    linear = next(c for c in saved.cells if notebooks.grade_id(c) == "linear")
    assert linear.source.strip() == answers()["linear"].strip()
    assert tracked_digest() == student["tracked"], "the tracked exercises/ notebook changed"


def test_nbgrader_validate_exits_0_and_says_how_it_went(student):
    """`nbgrader validate` (README) exits 0 whether or not the tests pass; its first line says
    which, as the README tells students to read it."""
    cmd = f"nbgrader validate {ASSIGNMENT}.ipynb"
    args = lab.readme_command(cmd, STUDENTS)
    section = " ".join(lab.guide_section(STUDENTS).split())  # the text, as it reads
    # A finished notebook, and the same with the bug back in, each in a folder of its own.
    finished, broken = student["tmp"] / "finished", student["tmp"] / "broken"
    nb = complete(notebooks.read(course.student_notebook(ASSIGNMENT)))
    finished.mkdir()
    nbformat.write(nb, str(finished / f"{ASSIGNMENT}.ipynb"))
    passed = lab.run(args, finished, student["env"])
    assert passed.stdout.startswith("Success! Your notebook passes all the tests."), passed.stdout
    assert "Success! Your notebook passes all the tests." in section
    # With the bug: still exit status 0, and the failing cell is shown with its message.
    broken.mkdir()
    for c in nb.cells:
        if notebooks.grade_id(c) == "linear":
            c.source = answers()["linear"].replace("return X @ self.W.T + self.b", BUGGY_FORWARD)
    nbformat.write(nb, str(broken / f"{ASSIGNMENT}.ipynb"))
    failed = lab.run(args, broken, student["env"])
    assert failed.returncode == 0
    first = failed.stdout.splitlines()[0]
    assert re.match(r"VALIDATION FAILED ON 1 CELL\(S\)!", first), failed.stdout[:2000]
    assert "# Tests for Linear.forward" in failed.stdout, failed.stdout[:3000]
    assert "VALIDATION FAILED ON" in section and "exit" in section
    assert "The following cell failed:" in failed.stdout
    # A name that matches no notebook: exit status 0 and not a word (the README warns).
    empty = student["tmp"] / "empty"
    empty.mkdir()
    nothing = lab.run(args, empty, student["env"])
    assert nothing.stdout == "" and "says nothing at all" in section, nothing.stdout


# --------------------------------------------------------------------------- the exchange


def assignments_tab(state):
    page = state["page"]
    if "/lab" not in page.url:  # run on its own
        page.goto(state["lab"].lab_url())
    page.locator(".lm-MenuBar-itemLabel", has_text="Nbgrader").click()
    page.locator(".lm-Menu-itemLabel", has_text="Assignment List").click()
    panel = page.locator("#nbgrader-assignment-list, .nbgrader-AssignmentList, "
                         "[id*=assignment_list], [id*=assignment-list]").first
    panel.wait_for()
    return page


def test_fetch_validate_and_submit_from_the_assignments_tab(student):
    page = student["page"]
    try:
        fetch_validate_submit(student, page)
    except Exception:
        student["browser"].shot(page, "assignments-FAILED")
        raise


def fetch_validate_submit(student, page):
    section = lab.guide_section(STUDENTS)
    assert "Assignment List" in section and "*Fetch*" in section and "*Submit*" in section
    assignments_tab(student)
    released = page.locator("#released_assignments_list")
    released.get_by_text(ASSIGNMENT, exact=True).wait_for()
    student["browser"].shot(page, "assignments-released")
    released.get_by_role("button", name="Fetch").click()
    fetched = page.locator("#fetched_assignments_list")
    expand = fetched.locator("a.assignment-notebooks-link", has_text=ASSIGNMENT)
    expand.wait_for()
    path = student["work"] / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    assert path.exists(), sorted(student["work"].rglob("*"))
    # The student's work, done in the fetched notebook (typing was tested above).
    nbformat.write(complete(notebooks.read(path)), str(path))
    expand.click()  # shows the assignment's notebooks, each with its Validate
    notebooks_of = page.locator(f"#nbgrader-{lab.COURSE_ID}-{ASSIGNMENT}")
    notebooks_of.get_by_role("button", name="Validate").click()
    text = lab.validation_dialog(page)
    student["browser"].shot(page, "assignments-validate")
    assert "Success! Your notebook passes all the tests." in text, text
    page.locator(".jp-Dialog").get_by_role("button").last.click()
    fetched.get_by_role("button", name="Submit").click()
    submitted = page.locator("#submitted_assignments_list")
    submitted.get_by_text(ASSIGNMENT, exact=True).first.wait_for()
    student["browser"].shot(page, "assignments-submitted")
    inbound = student["tmp"] / "checkout" / "exchange" / lab.COURSE_ID / "inbound"
    assert list(inbound.glob(f"*+{ASSIGNMENT}+*/{ASSIGNMENT}.ipynb")), \
        sorted(p.name for p in inbound.iterdir())


def test_the_tracked_exercise_is_untouched(student):
    assert tracked_digest() == student["tracked"], \
        f"{course.student_notebook(ASSIGNMENT)} changed while a student worked on a copy"


def test_every_command_of_the_section_is_run_here():
    assert lab.readme_code_blocks(STUDENTS) == [
        lab.readme_code_blocks(STUDENTS)[0],  # the pip install line (its test reads it)
        "jupyter lab",
        f"nbgrader validate {ASSIGNMENT}.ipynb",
    ] and lab.readme_code_blocks(STUDENTS)[0].startswith("pip install ")


def test_two_students_see_two_sets_of_numbers(student):
    """One released notebook: the numbers it prints (and its questions ask about) are those of
    the course id typed in its first cell, and a classmate's id gives others."""
    page, path = student["page"], student["path"]
    page.locator(".lm-TabBar-tab", has_text=path.name).first.click()  # back from Assignments
    first = next(i for i, c in enumerate(notebooks.read(path).cells) if c.cell_type == "code")
    shown = {}
    for course_id in (ADA, BEN):
        lab.type_into(page, first, f'COURSE_ID = "{course_id}"')
        lab.run_cell(page, first)
        lab.run_cell(page, cell_index(path, "imports"))
        shown[course_id] = lab.run_cell(page, cell_index(path, variants.NUMBERS_CELL))
        assert shown[course_id].startswith(f"Your numbers (course id {course_id}):"), shown
        expected = variants.describe(variants.numbers(ASSIGNMENT, course_id))
        assert expected.replace(" ", "") in shown[course_id].replace(" ", ""), shown
        student["browser"].shot(page, f"numbers-{course_id.split('-')[0]}")
    assert shown[ADA].split(":", 1)[1] != shown[BEN].split(":", 1)[1]
    lab.type_into(page, first, f'COURSE_ID = "{ADA}"')  # as the rest of the module had it
    lab.run_cell(page, first)


def test_on_a_hub_the_id_comes_from_the_environment(student, tmp_path):
    """On a JupyterHub that gives each user their id (LOGITS_COURSE_ID), the first cell stays
    empty and the notebook prints that user's numbers."""
    nb = notebooks.read(course.student_notebook(ASSIGNMENT))
    work = tmp_path / "hub-home"
    work.mkdir()
    nbformat.write(nb, str(work / f"{ASSIGNMENT}.ipynb"))
    env = {**student["env"], variants.ID_ENV: BEN, "JUPYTERHUB_USER": "ben"}
    with lab.JupyterLab(work, env, tmp_path / "hub-lab.log") as server:
        page = student["browser"].new_page()
        lab.open_notebook(page, server, f"{ASSIGNMENT}.ipynb")
        path = work / f"{ASSIGNMENT}.ipynb"
        first = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code")
        lab.run_cell(page, first)
        lab.run_cell(page, cell_index(path, "imports"))
        shown = lab.run_cell(page, cell_index(path, variants.NUMBERS_CELL))
        student["browser"].shot(page, "numbers-from-the-hub")
        page.close()
    assert shown.startswith(f"Your numbers (course id {BEN}):"), shown
