"""The instructors' guide (docs/instructors.md), command by command, through a real
nbgrader exchange: a semester of one assignment (`logits`) and three students, then a second
assignment's feedback beside the first.

Generate and release; the course ids; alice submits on time, bob after the due date, carol after
it with an extension (the due date set with nbgrader, the late penalty in the course's settings,
the extension in the instructor's file, as the guide says); collect and grade; the report and a
feedback page in a browser with the network off; a grader hand-grades alice's and bob's written
answers (and comments bob's) in the formgrader in JupyterLab, leaving carol's; refresh, release
the feedback, and the students fetch their hand grades; bob resubmits, the instructor collects
with --update and grades again: only bob is graded, every hand grade and comment is kept, and
bob's, whose answer changed, is flagged; export. Then `sigmoid`'s feedback goes back beside
`logits`' (the second copy lands beside the first), and a checkout's exercises/ is not for trying.

Each command is copied from the guide (the test fails if the guide changes it) and run as
written from the root of a throw-away checkout (the course root and the student versions copied,
the sources linked), in homes of their own whose ~/.jupyter/nbgrader_config.py points at an
exchange in the temporary folder. The three students share this machine's one login: each
submits with nbgrader from a home of their own, and their submission is then named after them in
the exchange's inbound folder (what nbgrader names after the login of each on a real hub). The
last test checks that every command of the section was run. Screenshots of each browser step:
_build/screenshots/instructor/.
"""
from __future__ import annotations

import concurrent.futures
import csv
import re
import shlex

import nbformat
import pytest

from autograder import course, notebooks
from tests import examples, lab
from tests.test_grading import expected_points, full_marks

pytestmark = pytest.mark.browser

SECTION = "For instructors"
FIRST, SECOND = "logits", "sigmoid"
CLASS = ("alice", "bob", "carol")  # on time; late, then resubmits; late with an extension
MANUAL = {"alice": 1.5, "bob": 1.0}  # what the grader gives the written answers, by hand
COMMENT = "You name the cancellation; now say what the solver's error does to the best step."
WRITTEN = "Subtracting two nearly equal numbers loses the digits."
SUBMIT = f"nbgrader submit {FIRST} --course {lab.COURSE_ID}"  # docs/students.md, a terminal
FETCH_FEEDBACK = f"nbgrader fetch_feedback {FIRST}"           # ... with the same --course
GUIDE_DUE = "2026-03-02 17:00:00 Europe/London"  # the guide's due date, moved to this semester
RAN: set[str] = set()  # the guide's lines these tests ran


def readme(cmd: str, assignment: str = FIRST) -> str:
    """The guide's command for FIRST (checked to be in the guide), for `assignment`."""
    lab.readme_command(cmd, SECTION)
    RAN.add(cmd)
    return cmd.replace(FIRST, assignment)


def guide_block(kind: str, holding: str) -> str:
    """The one ```kind block of the section that holds `holding` (the penalty's settings, the
    extensions file)."""
    (block,) = [b for b in re.findall(rf"```{kind}\n(.*?)```", lab.guide_section(SECTION), re.S)
                if holding in b]
    return "\n".join(line.strip() for line in block.strip().splitlines()) + "\n"


@pytest.fixture(scope="module")
def walk(tmp_path_factory, chromium):
    tmp = tmp_path_factory.mktemp("walkthrough")
    root = lab.course_copy(tmp / "checkout")
    home = tmp / "instructor"
    lab.write_nbgrader_config(home, root / "exchange")
    homes = {s: tmp / "students" / s for s in CLASS}
    for h in homes.values():
        lab.write_nbgrader_config(h, root / "exchange")
    state = dict(tmp=tmp, root=root, env=lab.isolated_env(home), homes=homes,
                 student_env={s: lab.isolated_env(h, repo_importable=False)
                              for s, h in homes.items()}, times={})
    state["browser"] = lab.Browser(chromium, "instructor")
    yield state
    state["browser"].close()


def sh(state, cmd: str, cwd=None, env=None):
    """A guide's line as a shell runs it (`cd a && b && cd ..`), from the checkout's root."""
    return lab.run(["bash", "-c", cmd], cwd or state["root"], env or state["env"])


def nbgrader(state, cmd: str, cwd=None, env=None):
    return lab.run(shlex.split(cmd), cwd or state["root"] / "autograder", env or state["env"])


def at_once(*calls):
    """Run independent commands (different students at their machines) at the same time."""
    with concurrent.futures.ThreadPoolExecutor(len(calls)) as pool:
        return [f.result() for f in [pool.submit(*c) for c in calls]]


def answers(student: str, assignment: str, resubmitted: bool = False) -> dict[str, str]:
    """alice and carol hand in the reference solution, bob the first catalogued bug (then, when
    he resubmits, the reference and another written answer); each writes a written answer."""
    found = examples.answers("bob-one-bug" if student == "bob" and not resubmitted
                             else "alice-correct", assignment)
    written = WRITTEN + (" And the solver's error sets the floor." if resubmitted else "")
    return {k: (written if v == examples.WRITTEN else v) for k, v in found.items()}


def student_submits(state, student: str, assignment: str = FIRST, resubmitted: bool = False):
    """The student answers (in the notebook alice fetched; the others downloaded it) and
    submits from a terminal, as docs/students.md says; the exchange's copy is then named after
    them, with the time nbgrader gave it."""
    import shutil
    home, env = state["homes"][student], state["student_env"][student]
    path = home / assignment / f"{assignment}.ipynb"
    if not path.exists() and (student, assignment) == ("alice", FIRST):
        lab.run(["nbgrader", "fetch_assignment", assignment, f"--course={lab.COURSE_ID}"],
                home, env)
    elif not path.exists():  # the released notebook, as the book's download link gives it
        path.parent.mkdir(parents=True)
        shutil.copy(state["root"] / "exercises" / assignment / path.name, path)
    released = notebooks.read(course.student_notebook(assignment))
    nb = notebooks.fill(released, answers(student, assignment, resubmitted))
    first = next(c for c in nb.cells if c.cell_type == "code")  # the id the instructor sent
    first.source = first.source.replace('COURSE_ID = ""',
                                        f'COURSE_ID = "{state["course_ids"][student]}"')
    nbformat.write(nb, str(path))
    cache = home / ".local/share/jupyter/nbgrader_cache" / lab.COURSE_ID
    before = set(cache.glob(f"*+{assignment}+*"))
    lab.readme_command(SUBMIT, "For students")
    lab.run(["nbgrader", "submit", assignment, "--course", lab.COURSE_ID], home, env)
    (mine,) = set(cache.glob(f"*+{assignment}+*")) - before  # this student's copy, by its time
    inbound = state["root"] / "exchange" / lab.COURSE_ID / "inbound"
    (new,) = inbound.glob(glob_escape(mine.name) + "+*")
    login, rest = new.name.split("+", 1)
    new.rename(inbound / f"{student}+{rest}")
    state["times"][student, assignment] = (mine / "timestamp.txt").read_text().strip()


def glob_escape(name: str) -> str:
    import glob
    return glob.escape(name)


# --------------------------------------------------------------------------- commands
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
    """The instructor prints the class's course ids and sends each student theirs; a student's
    numbers and right answers are one command away."""
    shown = sh(walk, readme("python -m autograder ids --students alice bob carol")).stdout
    lines = shown.splitlines()
    assert "student,course_id" in lines, shown
    walk["course_ids"] = dict(ln.split(",", 1) for ln in lines[lines.index("student,course_id")
                                                              + 1:] if "," in ln)
    assert sorted(walk["course_ids"]) == list(CLASS), shown
    assert walk["course_ids"]["alice"].startswith("alice-"), shown
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


def test_collect_after_the_due_date(walk):
    """alice submits, then bob and carol (at the same time, at their machines); the due date
    falls between alice's submission and theirs; the late penalty and carol's extension are set
    as the guide says; the instructor collects."""
    root = walk["root"]
    student_submits(walk, "alice")
    at_once((student_submits, walk, "bob"), (student_submits, walk, "carol"),
            (student_submits, walk, "alice", SECOND))
    from nbgrader.utils import parse_utc
    alice, bob, carol = (parse_utc(walk["times"][s, FIRST]) for s in CLASS)  # UTC
    assert alice < min(bob, carol), walk["times"]
    due = alice + (min(bob, carol) - alice) / 2
    walk["due"] = due
    cmd = readme(f'cd autograder && nbgrader db assignment add logits --duedate="{GUIDE_DUE}" '
                 "&& cd ..")
    sh(walk, cmd.replace(GUIDE_DUE, f"{due:%Y-%m-%d %H:%M:%S.%f} UTC"))
    penalty, extensions = guide_block("python", "LatePenalty"), guide_block("text", "logits,")
    assert "c.LatePenalty.per_day = 0.1" in penalty
    with open(root / "autograder" / "nbgrader_config.py", "a") as f:
        f.write("\n" + penalty)
    (root / "autograder" / "extensions.csv").write_text(extensions)
    assert "carol,logits,48" in extensions
    for assignment in (FIRST, SECOND):
        nbgrader(walk, readme("nbgrader collect logits", assignment))
    submitted = root / "autograder" / "submitted"
    assert sorted(p.parent.parent.name for p in submitted.glob(f"*/{FIRST}/{FIRST}.ipynb")) == \
        list(CLASS)
    assert (submitted / "bob" / FIRST / "timestamp.txt").read_text().strip() == \
        walk["times"]["bob", FIRST]
    walk["student"] = "alice"


def grade(walk, assignment):
    cmd = "python -m autograder grade --submissions autograder/submitted --assignment logits " \
          "--out grades/logits"
    proc = lab.run(shlex.split(readme(cmd, assignment)), walk["root"], walk["env"])
    out = walk["root"] / "grades" / assignment
    return out, read_grades(out), proc.stdout


def read_grades(out):
    with open(out / "grades.csv") as f:
        return {r["student"]: r for r in csv.DictReader(f)}


def bobs_points(resubmitted: bool = False) -> float:
    return full_marks(FIRST) if resubmitted else sum(expected_points("bob-one-bug",
                                                                     FIRST).values())


def test_grade(walk):
    """alice on time with full marks; bob late by seconds (a day begun: a tenth of his points
    off); carol late by seconds too, within her 48 hours; every written answer to grade."""
    out, rows, log = grade(walk, FIRST)
    assert sorted(rows) == list(CLASS), rows
    alice, bob, carol = (rows[s] for s in CLASS)
    assert float(alice["total"]) == full_marks(FIRST) and alice["late"] == "", alice
    assert bob["late"].startswith("late by ") and bob["extension"] == "", bob
    assert float(bob["late_penalty"]) == pytest.approx(0.1 * bobs_points()), bob
    assert float(bob["total"]) == pytest.approx(0.9 * bobs_points()), bob
    assert carol["late"] == "" and carol["extension"] == "2 days", carol
    assert float(carol["total"]) == full_marks(FIRST), carol
    assert all(r["status"] == "graded" and "to grade by hand" in r["notes"]
               for r in rows.values()), rows
    assert "3 written answer(s) to grade by hand" in log and "refresh" in log, log
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
    # What is still to grade by hand, and worth how much; late and extended grades marked.
    assert "3 written answer(s) in 3 notebook(s) wait for you" in body, body
    assert "bob, logits: written-inexact-loss (2 points)" in body, body
    assert "1 answer (2 points) to grade by hand" in body and "+1 by hand" not in body
    assert re.search(r"late by \d+ min, \u2212[\d.]+ points", body), body
    assert "extension of 2 days" in body, body
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


def written_id() -> str:
    return next(notebooks.grade_id(c) for c in notebooks.read(
        course.source_notebook(FIRST)).cells if notebooks.is_written(c))


def wait_for(course_dir, check, what: str, timeout: float = 20.0):
    """Until the gradebook holds what the formgrader saved (it saves on change)."""
    import time
    from nbgrader.api import Gradebook
    deadline = time.monotonic() + timeout
    while True:
        with Gradebook(f"sqlite:///{course_dir / 'gradebook.db'}") as gb:
            if check(gb):
                return
        assert time.monotonic() < deadline, f"the formgrader did not save {what}"
        time.sleep(0.2)


def formgrader_frame(page):
    page.locator(".lm-MenuBar-itemLabel", has_text="Nbgrader").click()
    entries = page.locator(".lm-Menu-itemLabel", has_text="Formgrader")
    entries.first.wait_for()
    # One formgrader: nbgrader's "Formgrader (local)" is in the menu's markup, hidden unless
    # JupyterLab's setting for it is on (issue 24, item 9).
    shown = [e.inner_text().strip() for e in entries.all() if e.is_visible()]
    assert shown == ["Formgrader"], f"the Nbgrader menu offers {shown}"
    entries.first.click()
    page.locator("#formgrader-iframe iframe").wait_for()
    return page.frame_locator("#formgrader-iframe iframe")


def test_formgrader_shows_the_submissions_and_grades_by_hand(walk):
    """A grader opens the formgrader in the run's course folder, finds the three submissions
    with their autograded points and written answers waiting, sees alice's experiment figure,
    and grades alice's and bob's written answers (with a comment for bob); carol's waits."""
    section = lab.guide_section(SECTION)
    assert "start `jupyter lab` in `grades/logits/course`" in section
    assert "*Nbgrader > Formgrader*" in section
    browser, course_dir, gid = walk["browser"], walk["out"] / "course", written_id()
    total = sum(float(notebooks.nbgrader_meta(c).get("points") or 0) for c in
                notebooks.read(course.source_notebook(FIRST)).cells)
    server = lab.JupyterLab(course_dir, walk["env"], walk["tmp"] / "formgrader.log")
    with server:
        page = browser.new_page()
        try:
            page.goto(server.lab_url())
            frame = formgrader_frame(page)
            # Manage Assignments: the assignment, with three submissions.
            row = frame.locator("tr", has_text=FIRST).first
            row.wait_for()
            browser.shot(page, "formgrader-assignments")
            cells = [t.strip() for t in row.locator("td").all_inner_texts()]
            assert FIRST in cells and "3" in cells, f"{FIRST} with 3 submissions: {cells}"
            # No Release or Collect here: the run's folder has no exchange (nbgrader says so).
            assert row.locator("td.release a, td.collect a").count() == 0
            assert frame.locator("#warning-exchange").is_visible()
            # Manage Students: alice's score from the autograder, out of all the points.
            frame.get_by_role("link", name="Manage Students").click()
            srow = frame.locator("tr", has_text="alice").first
            srow.wait_for()
            browser.shot(page, "formgrader-students")
            assert f"{full_marks(FIRST):g} / {total:g}" in srow.inner_text(), srow.inner_text()
            # Manual grading: assignment > notebook > the submissions, each waiting for a hand.
            frame.get_by_role("link", name="Manual Grading").click()
            frame.locator("th", has_text="Assignment ID").wait_for()
            frame.locator("table").get_by_role("link", name=FIRST, exact=True).click()
            frame.locator("th", has_text="Notebook ID").wait_for()
            frame.locator("table").get_by_role("link", name=FIRST, exact=True).click()
            frame.locator("th", has_text="Submission ID").wait_for()
            frame.locator("tr", has_text="Submission #3").wait_for()
            browser.shot(page, "formgrader-submissions")
            assert frame.locator(".needs-manual-grade .glyphicon-ok").count() == 3, \
                "three submissions should need a manual grade"
            from nbgrader.api import Gradebook
            with Gradebook(f"sqlite:///{course_dir / 'gradebook.db'}") as gb:
                ids = {s: gb.find_submission_notebook(FIRST, FIRST, s).id for s in MANUAL}
            for student, points in MANUAL.items():
                if student != "alice":  # back to the list, by the page's breadcrumb
                    frame.locator("ul.breadcrumb a", has_text=FIRST).last.click()
                    frame.locator("th", has_text="Submission ID").wait_for()
                frame.locator(f"a[href$='/formgrader/submissions/{ids[student]}']").first.click()
                written = frame.locator(f"input.score[id='{gid}']")
                written.wait_for()
                assert frame.get_by_text("Student's answer").count() >= 1
                if student == "alice":  # the experiment's figure, beside its test cell
                    assert frame.locator(".output_png img, img[src^='data:image/png']").count()
                written.scroll_into_view_if_needed()
                browser.shot(page, f"formgrader-manual-grading-{student}")
                written.fill(str(points))
                written.press("Tab")
                wait_for(course_dir, lambda gb, s=student, p=points: gb.find_grade(
                    gid, FIRST, FIRST, s).manual_score == p, f"{points} for {student}")
            comment = frame.locator(f"textarea[id='{gid}-comment']")
            comment.fill(COMMENT)
            comment.press("Tab")
            wait_for(course_dir, lambda gb: gb.find_comment(
                gid, FIRST, FIRST, "bob").manual_comment == COMMENT, "bob's comment")
            browser.shot(page, "formgrader-graded")
            # The rubric is where the guide says: the source notebook in the course folder.
            source = notebooks.read(course_dir / "source" / FIRST / f"{FIRST}.ipynb")
            assert any(notebooks.is_written(c) and "Rubric" in c.source for c in source.cells)
        except Exception:
            browser.shot(page, "formgrader-FAILED")
            raise
        finally:
            page.close()


def test_refresh_then_release_the_feedback(walk):
    """After hand grading, refresh writes grades.csv, the report and every feedback page from
    the gradebook (bob's penalty on his points as they are now), names carol's answer as still
    to grade; the feedback goes back, and alice and bob read their hand grades."""
    out = walk["out"]
    log = sh(walk, readme("python -m autograder refresh grades/logits")).stdout
    assert "Refreshed 3 feedback page(s)" in log and "carol/logits" in log, log
    rows = read_grades(out)
    assert float(rows["alice"]["total"]) == full_marks(FIRST) + MANUAL["alice"], rows["alice"]
    bob = bobs_points() + MANUAL["bob"]
    assert float(rows["bob"]["late_penalty"]) == pytest.approx(0.1 * bob), rows["bob"]
    assert float(rows["bob"]["total"]) == pytest.approx(0.9 * bob), rows["bob"]
    assert "to grade by hand" in rows["carol"]["notes"] and rows["carol"][written_id()] == ""
    report = (out / "report.html").read_text()
    assert "1 written answer(s) in 1 notebook(s) wait for you" in report
    copy = "mkdir -p autograder/feedback && cp -r grades/logits/feedback/. autograder/feedback/"
    sh(walk, readme(copy))
    sh(walk, readme("cd autograder && nbgrader release_feedback logits && cd .."))
    fetch = FETCH_FEEDBACK + f" --course {lab.COURSE_ID}"
    assert f"`{FETCH_FEEDBACK}`" in lab.guide_section("For students")
    lab.run(shlex.split(fetch), walk["homes"]["bob"], walk["student_env"]["bob"])
    (fetched,) = (walk["homes"]["bob"] / FIRST / "feedback").glob(f"*/{FIRST}.html")
    released = walk["root"] / "autograder" / "feedback" / "alice" / FIRST / f"{FIRST}.html"
    for student, page in (("bob", fetched), ("alice", released)):
        text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page.read_text()))
        assert f"Written response (Score: {MANUAL[student]:.1f} / 2.0)" in text, student
        assert (COMMENT in text) == (student == "bob"), student


def test_a_resubmission_regrades_only_its_student(walk):
    """bob fixes his bug and rewrites his answer; collected with --update and graded with the
    same command, only bob's notebook runs (sandboxed); every hand grade and comment stays,
    and bob's, whose answer changed, is flagged."""
    from nbgrader.api import Gradebook
    out, before = walk["out"], read_grades(walk["out"])
    student_submits(walk, "bob", resubmitted=True)
    sh(walk, readme("cd autograder && nbgrader collect --update logits && cd .."))
    out, rows, log = grade(walk, FIRST)
    assert "1 of 3 submission(s) new or changed" in log, log
    assert "Graded 1 notebook(s)" in log and "2 kept their grades" in log, log
    assert "[1/1] bob/logits" in log, log
    for student in ("alice", "carol"):
        assert rows[student] == before[student], student
    bob = rows["bob"]
    assert float(bob[written_id()]) == MANUAL["bob"], bob  # kept
    assert bob["submitted"] == f"{walk['times']['bob', FIRST][:19]} UTC", bob
    points = bobs_points(resubmitted=True) + MANUAL["bob"]
    assert float(bob["total"]) == pytest.approx(0.9 * points), bob
    assert bob["status"] == "needs review" and "answer changed since graded" in bob["notes"], bob
    assert "without the sandbox" not in bob["notes"]
    gid = written_id()
    with Gradebook(f"sqlite:///{out / 'course' / 'gradebook.db'}") as gb:
        assert gb.find_comment(gid, FIRST, FIRST, "bob").manual_comment == COMMENT
        kept = {s: gb.find_grade(gid, FIRST, FIRST, s) for s in MANUAL}
        assert {s: (g.manual_score, g.needs_manual_grade) for s, g in kept.items()} == \
            {"alice": (MANUAL["alice"], False), "bob": (MANUAL["bob"], True)}


def test_export_has_the_hand_graded_points(walk):
    out = walk["out"]
    sh(walk, readme("cd grades/logits/course && nbgrader export --to ../export.csv"))
    with open(out / "export.csv") as f:
        rows = {r["student_id"]: r for r in csv.DictReader(f) if r["assignment"] == FIRST}
    assert sorted(rows) == list(CLASS), rows
    assert float(rows["alice"]["score"]) == full_marks(FIRST) + MANUAL["alice"], rows
    bob = bobs_points(resubmitted=True) + MANUAL["bob"]
    assert float(rows["bob"]["raw_score"]) == pytest.approx(bob), rows["bob"]
    assert float(rows["bob"]["late_submission_penalty"]) == pytest.approx(0.1 * bob)
    assert float(rows["carol"]["late_submission_penalty"] or 0) == 0, rows["carol"]


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
    """The guide's copy merges each assignment's feedback into autograder/feedback/: the second
    (sigmoid's, alice's) as the first (a plain `cp -r DIR autograder/feedback` nests it)."""
    root = walk["root"]
    copy = "mkdir -p autograder/feedback && cp -r grades/logits/feedback/. autograder/feedback/"
    release = "cd autograder && nbgrader release_feedback logits && cd .."
    grade(walk, SECOND)
    sh(walk, readme(copy, SECOND))
    sh(walk, readme(release, SECOND))
    lab.run(["nbgrader", "fetch_feedback", SECOND, "--course", lab.COURSE_ID],
            walk["homes"]["alice"], walk["student_env"]["alice"])
    assert list((walk["homes"]["alice"] / SECOND / "feedback").glob(f"*/{SECOND}.html"))
    feedback = root / "autograder" / "feedback"
    assert sorted(p.relative_to(feedback).as_posix() for p in feedback.glob("*/*/*.html")) == \
        sorted([f"{s}/{FIRST}/{FIRST}.html" for s in CLASS] + [f"alice/{SECOND}/{SECOND}.html"])
    assert not (feedback / "feedback").exists()


def test_every_command_of_the_section_was_run():
    from tests.test_lab_student import TRY_COPY  # run by the student's tests
    from tests.test_lms import EXPORT_LMS, GRADE_LMS  # run by the LMS test, on a Canvas zip
    from tests.test_serve import SERVE  # run by the service's end-to-end test
    RAN.update((TRY_COPY, GRADE_LMS, EXPORT_LMS, SERVE))
    lines = lab.readme_code_blocks(SECTION)
    # `cd autograder && ... && cd ..` is run as one line; the others exactly as listed.
    missing = [ln for ln in lines if ln not in RAN and not any(ln in r for r in RAN)]
    assert not missing, f"the guide's commands no test ran: {missing}"
