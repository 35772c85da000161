"""The instructors' guide (docs/instructors.md), command by command, through a real
nbgrader exchange, for two assignments: generate, release, a student fetches, answers and
submits, collect, grade, the report and a feedback page in a browser with the network off, the
formgrader in JupyterLab where a written answer is graded by hand, export, feedback returned
through the exchange (twice, so that the second copy lands beside the first).

Each command is copied from the guide (the test fails if the guide changes it) and run as
written from the root of a throw-away checkout (the course root and the student versions copied,
the sources linked), in a home of its own whose ~/.jupyter/nbgrader_config.py points at an
exchange in the temporary folder. The last test checks that every command of the section was run.
Screenshots of each browser step: _build/screenshots/instructor/.
"""
from __future__ import annotations

import csv
import re
import shlex

import nbformat
import pytest

from autograder import course, notebooks
from tests import lab
from tests.test_grading import full_marks

pytestmark = pytest.mark.browser

SECTION = "For instructors"
FIRST, SECOND = "logits", "sigmoid"
MANUAL_POINTS = 1.5   # what the instructor gives the written answer in the formgrader
RAN: set[str] = set()  # the guide's lines these tests ran


def readme(cmd: str, assignment: str = FIRST) -> str:
    """The guide's command for FIRST (checked to be in the guide), for `assignment`."""
    lab.readme_command(cmd, SECTION)
    RAN.add(cmd)
    return cmd.replace(FIRST, assignment)


@pytest.fixture(scope="module")
def walk(tmp_path_factory, chromium):
    tmp = tmp_path_factory.mktemp("walkthrough")
    root = lab.course_copy(tmp / "checkout")
    home, student_home = tmp / "instructor", tmp / "student"
    lab.write_nbgrader_config(home, root / "exchange")
    lab.write_nbgrader_config(student_home, root / "exchange")
    state = dict(tmp=tmp, root=root, env=lab.isolated_env(home),
                 student_env=lab.isolated_env(student_home, repo_importable=False),
                 student_home=student_home)
    state["browser"] = lab.Browser(chromium, "instructor")
    yield state
    state["browser"].close()


def sh(state, cmd: str, cwd=None, env=None):
    """A guide's line as a shell runs it (`cd a && b && cd ..`), from the checkout's root."""
    return lab.run(["bash", "-c", cmd], cwd or state["root"], env or state["env"])


def nbgrader(state, cmd: str, cwd=None, env=None):
    return lab.run(shlex.split(cmd), cwd or state["root"] / "autograder", env or state["env"])


def student_does(state, assignment: str):
    """The student fetches, answers (the reference solution; a written answer) and submits."""
    env, home = state["student_env"], state["student_home"]
    course_id = f"--course={lab.COURSE_ID}"
    lab.run(["nbgrader", "fetch_assignment", assignment, course_id], home, env)
    path = home / assignment / f"{assignment}.ipynb"
    answers = notebooks.solution_cells(notebooks.read(course.source_notebook(assignment)))
    nb = notebooks.fill(notebooks.read(path), answers)
    first = next(c for c in nb.cells if c.cell_type == "code")  # the id the instructor sent
    first.source = first.source.replace('COURSE_ID = ""', f'COURSE_ID = "{state["course_id"]}"')
    for cell in nb.cells:
        if notebooks.is_written(cell):
            cell.source = "Subtracting two nearly equal numbers loses the digits."
    nbformat.write(nb, str(path))
    lab.run(["nbgrader", "submit", assignment, course_id], home, env)


# --------------------------------------------------------------------------- commands


def test_generate_and_release(walk):
    root = walk["root"]
    sh(walk, readme("cd autograder && nbgrader generate_assignment logits --force && cd .."))
    assert (root / "exercises" / FIRST / f"{FIRST}.ipynb").read_text() == \
        course.student_notebook(FIRST).read_text()
    for assignment in (FIRST, SECOND):
        nbgrader(walk, readme("nbgrader release_assignment logits", assignment))
        assert (root / "exchange" / lab.COURSE_ID / "outbound" / assignment).is_dir()


def test_give_every_student_their_course_id(walk):
    """The instructor prints the class's course ids and sends each student theirs (here, the
    student of this walkthrough, whose nbgrader id is their login); a student's numbers and
    right answers are one command away."""
    shown = sh(walk, readme("python -m autograder ids --students alice bob carol")).stdout
    lines = shown.splitlines()
    assert "student,course_id" in lines, shown
    assert any(line.startswith("alice,alice-") for line in lines), shown
    login = lab.run(["python", "-c", "import getpass; print(getpass.getuser())"],
                    walk["student_home"], walk["student_env"]).stdout.strip()
    mine = sh(walk, f"python -m autograder ids --students {login}").stdout.splitlines()[-1]
    walk["course_id"] = mine.split(",", 1)[1]
    numbers = sh(walk, readme("python -m autograder numbers alice")).stdout
    assert numbers.startswith("alice: course id alice-") and "\nlogits: " in numbers, numbers


def test_the_exchange_default_is_nbgraders():
    """The README names nbgrader's own default exchange, and how to set another one (as these
    tests do, in ~/.jupyter/nbgrader_config.py)."""
    from nbgrader.exchange.default.exchange import Exchange
    default = Exchange().root
    assert default == "/usr/local/share/nbgrader/exchange"
    text = lab.guide_section(SECTION)
    assert f"`{default}`" in text and "/srv/nbgrader" not in "\n".join(lab.GUIDES.values())
    assert '`c.Exchange.root = "/path/to/exchange"`' in text
    assert "~/.jupyter/nbgrader_config.py" in text


def test_collect(walk):
    for assignment in (FIRST, SECOND):
        student_does(walk, assignment)
        nbgrader(walk, readme("nbgrader collect logits", assignment))
    submitted = list((walk["root"] / "autograder" / "submitted").glob(f"*/{FIRST}/{FIRST}.ipynb"))
    assert len(submitted) == 1, submitted
    walk["student"] = submitted[0].parent.parent.name


def grade(walk, assignment):
    cmd = "python -m autograder grade --submissions autograder/submitted --assignment logits " \
          "--out grades/logits"
    lab.run(shlex.split(readme(cmd, assignment)), walk["root"], walk["env"])
    out = walk["root"] / "grades" / assignment
    with open(out / "grades.csv") as f:
        rows = list(csv.DictReader(f))
    return out, rows


def test_grade(walk):
    out, rows = grade(walk, FIRST)
    assert [(r["student"], r["assignment"], float(r["total"]), r["status"]) for r in rows] == \
        [(walk["student"], FIRST, full_marks(FIRST), "graded")], rows
    assert (out / "report.html").exists()
    walk["out"] = out


# --------------------------------------------------------------------------- in the browser


RAW_TEX_JS = r"""
() => {
  const skip = "pre, code, script, style, math, mjx-container, .MathJax, .katex, textarea";
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const raw = [];
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    if (!el || el.closest(skip) || !el.checkVisibility()) continue;
    const t = n.textContent;
    if (/\$\$|\\begin\{|\\frac|\\mathbb|\\varepsilon|\$[^$\s][^$]*\\[a-z]+/.test(t))
      raw.push(t.trim().slice(0, 160));
  }
  return raw;
}
"""


def open_file(walk, path):
    page = walk["browser"].new_page()
    page.goto(path.as_uri(), wait_until="load")
    return page


def test_report_opens_in_the_browser(walk):
    page = open_file(walk, walk["out"] / "report.html")
    body = page.locator("body").inner_text()
    walk["browser"].shot(page, "report", full_page=True)
    assert walk["student"] in body and FIRST in body
    # A student's row links to their feedback (issue 15, item 7), and the link opens it.
    link = page.locator(f"a[href*='feedback/{walk['student']}/{FIRST}/{FIRST}.html']")
    assert link.count() >= 1, "no link from the student's row to their feedback"
    href = link.first.get_attribute("href")
    assert (walk["out"] / href).resolve().exists(), href
    assert not walk["browser"].offsite, f"report.html asked the network: {walk['browser'].offsite}"
    assert not walk["browser"].errors, walk["browser"].errors
    page.close()


def test_feedback_math_is_typeset_offline(walk):
    path = walk["out"] / "feedback" / walk["student"] / FIRST / f"{FIRST}.html"
    page = open_file(walk, path)
    walk["browser"].offsite.clear()
    page.reload(wait_until="load")
    # Math typeset by whatever the page ships: MathML written at grading time, or a local
    # MathJax (version 3 writes mjx-container elements).
    typeset = None
    try:
        page.wait_for_function(
            "() => document.querySelectorAll('math, mjx-container, .MathJax, .katex').length > 0",
            timeout=20_000)
        if page.evaluate("() => !!(window.MathJax && MathJax.startup)"):
            page.evaluate("() => MathJax.startup.promise.then(() => true)")
        typeset = True
    except Exception as exc:
        typeset = f"no typeset math after 20 s ({type(exc).__name__})"
    first_math = page.locator("math, mjx-container, .MathJax, .katex").first
    if first_math.count():
        first_math.scroll_into_view_if_needed()
    walk["browser"].shot(page, "feedback-math")
    raw = page.evaluate(RAW_TEX_JS)
    offsite = list(walk["browser"].offsite)
    page.close()
    assert not offsite, f"the feedback page asked the network (issue 15, item 5): {offsite}"
    assert typeset is True, typeset
    assert not raw, f"raw TeX in the feedback page: {raw}"


def wait_for_manual_score(course_dir, student, grade_id, timeout=20.0):
    import time
    from nbgrader.api import Gradebook
    deadline = time.monotonic() + timeout
    while True:
        with Gradebook(f"sqlite:///{course_dir / 'gradebook.db'}") as gb:
            grade = gb.find_grade(grade_id, FIRST, FIRST, student)
            if grade.manual_score == MANUAL_POINTS:
                return
        assert time.monotonic() < deadline, \
            f"the formgrader did not save {MANUAL_POINTS} for {grade_id}: {grade.manual_score}"
        time.sleep(0.2)


def formgrader_frame(page):
    page.locator(".lm-MenuBar-itemLabel", has_text="Nbgrader").click()
    page.locator(".lm-Menu-itemLabel", has_text="Formgrader").first.click()
    page.locator("#formgrader-iframe iframe").wait_for()
    return page.frame_locator("#formgrader-iframe iframe")


def test_formgrader_shows_the_submission_and_grades_by_hand(walk):
    section = lab.guide_section(SECTION)
    assert "start `jupyter lab` in `grades/logits/course`" in section
    assert "*Nbgrader > Formgrader*" in section
    browser, student = walk["browser"], walk["student"]
    server = lab.JupyterLab(walk["out"] / "course", walk["env"], walk["tmp"] / "formgrader.log")
    with server:
        page = browser.new_page()
        try:
            page.goto(server.lab_url())
            frame = formgrader_frame(page)
            # Manage Assignments: the assignment, with one submission.
            row = frame.locator("tr", has_text=FIRST).first
            row.wait_for()
            browser.shot(page, "formgrader-assignments")
            cells = [t.strip() for t in row.locator("td").all_inner_texts()]
            assert FIRST in cells and "1" in cells, f"{FIRST} with 1 submission: {cells}"
            # Manage Students: the student's score from the autograder, out of all the points.
            frame.get_by_role("link", name="Manage Students").click()
            srow = frame.locator("tr", has_text=student).first
            srow.wait_for()
            browser.shot(page, "formgrader-students")
            total = sum(float(notebooks.nbgrader_meta(c).get("points") or 0) for c in
                        notebooks.read(course.source_notebook(FIRST)).cells)
            assert f"{full_marks(FIRST):g} / {total:g}" in srow.inner_text(), srow.inner_text()
            # Manual grading: assignment > notebook > submission > the written answer.
            # Each page is awaited by its own table header before the next click.
            frame.get_by_role("link", name="Manual Grading").click()
            frame.locator("th", has_text="Assignment ID").wait_for()
            frame.locator("table").get_by_role("link", name=FIRST, exact=True).click()
            frame.locator("th", has_text="Notebook ID").wait_for()
            frame.locator("table").get_by_role("link", name=FIRST, exact=True).click()
            frame.locator("th", has_text="Submission ID").wait_for()
            sub = frame.locator("tr", has_text="Submission #1")
            sub.wait_for()
            browser.shot(page, "formgrader-submissions")
            # Its autograded score, and the written answer waiting for a hand.
            assert f"{full_marks(FIRST):g} / {total:g}" in sub.inner_text(), sub.inner_text()
            assert sub.locator(".needs-manual-grade .glyphicon-ok").count() == 1, \
                "the submission is not marked as needing a manual grade"
            sub.get_by_role("link", name=re.compile("Submission #1")).click()
            written_id = next(notebooks.grade_id(c) for c in notebooks.read(
                course.source_notebook(FIRST)).cells if notebooks.is_written(c))
            written = frame.locator(f"input.score[id='{written_id}']")
            written.wait_for()
            assert frame.get_by_text("Student's answer").count() >= 1
            # The rubric is where the README says: the source notebook in the course folder.
            source = notebooks.read(walk["out"] / "course" / "source" / FIRST / f"{FIRST}.ipynb")
            assert any(notebooks.is_written(c) and "Rubric" in c.source for c in source.cells)
            written.scroll_into_view_if_needed()
            browser.shot(page, "formgrader-manual-grading")
            written.fill(str(MANUAL_POINTS))
            written.press("Tab")
            # The formgrader saves on change: wait until the gradebook has the score.
            wait_for_manual_score(walk["out"] / "course", student, written_id)
            browser.shot(page, "formgrader-graded")
        except Exception:
            browser.shot(page, "formgrader-FAILED")
            raise
        finally:
            page.close()


def test_export_has_the_hand_graded_points(walk):
    out = walk["out"]
    sh(walk, readme("cd grades/logits/course && nbgrader export --to ../export.csv"))
    with open(out / "export.csv") as f:
        rows = list(csv.DictReader(f))
    assert [(r["student_id"], r["assignment"]) for r in rows] == [(walk["student"], FIRST)], rows
    assert float(rows[0]["score"]) == full_marks(FIRST) + MANUAL_POINTS, rows


# --------------------------------------------------------------------------- exercises/


def test_validate_in_a_checkout_writes_the_tracked_notebook(walk):
    """Why the README has maintainers try an exercise on a copy (issue 15, item 8): JupyterLab
    started at a checkout's root shows exercises/, and the toolbar's Validate saves the notebook
    before it validates (nbgrader's lab extension calls save). Opened and validated untouched,
    the file keeps its bytes (it carries the kernel's language_info, so nothing is unsaved);
    once a cell has run, Validate writes the outputs into the tracked file. No nbgrader config
    is involved: the checkout's root has none (the course's is in autograder/)."""
    root = walk["root"]
    assert not (root / "nbgrader_config.py").exists()
    rel = f"exercises/{FIRST}/{FIRST}.ipynb"
    path = root / rel
    before = path.read_bytes()  # as generated by the README's command (test_generate...)
    browser = walk["browser"]
    with lab.JupyterLab(root, walk["env"], walk["tmp"] / "checkout-lab.log") as server:
        page = browser.new_page()
        try:
            lab.open_notebook(page, server, rel)
            text = lab.validate_on_toolbar(page)
            assert "NotImplementedError" in text or "failed" in text, text
            assert path.read_bytes() == before, "opening and validating rewrote the notebook"
            lab.run_cell(page, 1)  # the imports
            lab.validate_on_toolbar(page, lambda: browser.shot(page, "checkout-validate"))
            assert path.read_bytes() != before
            saved = notebooks.read(path)
            assert saved.cells[1].execution_count == 1, "Validate did not save the run cell"
        finally:
            page.close()


# --------------------------------------------------------------------------- feedback


def test_feedback_goes_back_twice(walk):
    """The README's copy merges each assignment's feedback into autograder/feedback/: the
    second time as the first (a plain `cp -r DIR autograder/feedback` nests the second)."""
    root, student = walk["root"], walk["student"]
    copy = "mkdir -p autograder/feedback && cp -r grades/logits/feedback/. autograder/feedback/"
    release = "cd autograder && nbgrader release_feedback logits && cd .."
    for assignment in (FIRST, SECOND):
        if assignment == SECOND:
            grade(walk, SECOND)
        sh(walk, readme(copy, assignment))
        sh(walk, readme(release, assignment))
        lab.run(["nbgrader", "fetch_feedback", assignment, f"--course={lab.COURSE_ID}"],
                walk["student_home"], walk["student_env"])
        fetched = list((walk["student_home"] / assignment / "feedback").glob(
            f"*/{assignment}.html"))
        assert fetched, f"no feedback for {assignment} reached the student"
    feedback = root / "autograder" / "feedback"
    assert sorted(p.relative_to(feedback).as_posix() for p in feedback.glob("*/*/*.html")) == \
        [f"{student}/{FIRST}/{FIRST}.html", f"{student}/{SECOND}/{SECOND}.html"]
    assert not (feedback / "feedback").exists()


def test_every_command_of_the_section_was_run():
    from tests.test_lab_student import TRY_COPY  # run by the student's tests
    from tests.test_lms import EXPORT_LMS, GRADE_LMS  # run by the LMS test, on a Canvas zip
    RAN.update((TRY_COPY, GRADE_LMS, EXPORT_LMS))
    lines = lab.readme_code_blocks(SECTION)
    # `cd autograder && ... && cd ..` is run as one line; the others exactly as listed.
    missing = [ln for ln in lines if ln not in RAN and not any(ln in r for r in RAN)]
    assert not missing, f"the guide's commands no test ran: {missing}"
