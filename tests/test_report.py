"""The class report (report.html) and the feedback pages' math, as an instructor and a student
see them.

Unit tests build reports from made-up rows (fast); the others share one grading run of two
assignments (`graded`, about half a minute) and open its report and feedback pages in headless
Chromium (Debian's /usr/bin/chromium, as tests/test_browser.py) served on 127.0.0.1, with every
other request aborted. Screenshots go to `_build/screenshots/grading/`.
"""
from __future__ import annotations

import functools
import html
import json
import re
import shutil
import threading
from html.parser import HTMLParser
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import unquote

import pytest

from autograder import course
from autograder.pipeline import exporters
from autograder.results import report
from autograder.results.rows import Row
from tests import examples, lab

ASSIGNMENTS = ["sigmoid", "softmax"]  # sigmoid has display math, softmax a Jacobian's worth
OFF_MACHINE = re.compile(r"^(?!(http://127\.0\.0\.1[:/]|blob:|data:|about:))", re.IGNORECASE)
SCREENSHOTS = course.REPO / "_build" / "screenshots" / "grading"


# ---------------------------------------------------------------- math in feedback pages


def markdown_to_html(source: str) -> str:
    """Markdown to HTML with MathML formulas, as the feedback exporter renders a cell."""
    return exporters.MarkdownWithMath(renderer=exporters.MathMLRenderer(escape=False)).render(source)

def _formulas(source: str) -> list[tuple[str, bool]]:
    """(TeX, display?) of every formula nbconvert finds in a Markdown source."""
    from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath
    found = []

    class Recorder(IPythonRenderer):
        def block_math(self, body):
            found.append((body, True))
            return ""

        def inline_math(self, body):
            found.append((body, False))
            return ""

        def latex_environment(self, name, body):
            found.append((f"\\begin{{{name}}}{body}\\end{{{name}}}", True))
            return ""

    MarkdownWithMath(renderer=Recorder(escape=False)).render(source)
    return found


def test_every_formula_of_the_notebooks_becomes_mathml():
    formulas = set()
    for path in sorted(course.SOLUTIONS.glob("*/*.ipynb")):
        for cell in json.loads(path.read_text())["cells"]:
            if cell["cell_type"] == "markdown":
                formulas |= {(tex, display, path.name)
                             for tex, display in _formulas("".join(cell["source"]))}
    assert len(formulas) > 100
    failed = []
    for tex, display, name in sorted(formulas):
        try:
            markup = exporters.tex_to_mathml(tex, display)
        except exporters.MathError as err:
            failed.append(f"{name}: {tex!r}: {err}")
            continue
        shown = re.sub(r"<annotation.*?</annotation>|alttext=\"[^\"]*\"", "", markup, flags=re.S)
        assert markup.startswith("<math ") and "\\" not in shown, (name, tex, markup)
    assert not failed, "\n".join(failed)


@pytest.mark.parametrize("tex", [
    r"\text{&lt;script&gt;alert(1)&lt;/script&gt;}",  # as bleach leaves a student's <script>
    r"\text{<img src=x onerror=alert(1)>}",
    r"\href{javascript:alert(1)}{x}",
    r"\color{red\" onmouseover=\"alert(1)}{x}",
    r"\unknowncommand{x}",
])
def test_a_formula_cannot_bring_markup_into_the_page(tex):
    page = markdown_to_html(f"before ${tex}$ after")
    tags = []

    class Tags(HTMLParser):
        def handle_starttag(self, tag, attrs):
            tags.append((tag, [name for name, _ in attrs]))

    Tags().feed(page)
    assert [t for t, _ in tags] == ["p", "code"], page  # shown as its TeX, escaped
    assert all(not name.startswith("on") for _, names in tags for name in names), page


def test_math_after_sanitizing_keeps_its_comparisons():
    """SanitizeHTML escapes `<` in the Markdown before the exporter sees it."""
    page = markdown_to_html("for $z &lt; 0$ and $$a \\le b$$")
    assert page.count("<math") == 2 and "&amp;lt;" not in page and "<mo>&lt;</mo>" in page


# ---------------------------------------------------------------- report from made-up rows

def _rows(n_students: int = 7) -> list[Row]:
    cells = {"test-a": 2.0, "test-b": 3.0, "written-x": 2.0}
    rows = []
    for i in range(n_students):
        scores = {"test-a": 2.0 if i % 2 else 0.0, "test-b": float(i % 4)}
        failures = []
        if not i % 2:
            failures.append(("test-a", "CheckFailed",
                             "f(z) with z of shape (3,) returned the wrong values."))
        r = Row(f"student-{i}", "alpha", scores=scores, max_scores=dict(cells),
                failures=failures, pending=["written-x"])
        rows.append(r)
    return rows


def _write_fake_autograded(out: Path, row: Row, messages: list[tuple[str, str, str]]):
    path = out / "course" / "autograded" / row.student / row.assignment / f"{row.assignment}.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    cells = [{"cell_type": "code", "metadata": {"nbgrader": {"grade_id": gid}}, "source": "",
              "outputs": [{"output_type": "error", "ename": ename, "evalue": evalue,
                           "traceback": []}]} for gid, ename, evalue in messages]
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4,
                                "nbformat_minor": 5}))


WHOLE = ("f(z) with z of shape (3,) returned the wrong values.\n"
         "  expected: array of shape (3,): [0.1, 0.2, 0.7]\n"
         "  got:      array of shape (3,): [1., 2., 7.]\n"
         "  revisit:  Chapter 4, 'From C logits to a distribution'")


@pytest.fixture
def fake_report(tmp_path):
    rows = _rows()
    for r in rows:
        if r.failures:
            _write_fake_autograded(tmp_path, r, [("test-a", "CheckFailed", WHOLE)])
        fb = tmp_path / "feedback" / r.student / r.assignment / f"{r.assignment}.html"
        fb.parent.mkdir(parents=True)
        fb.write_text("<html></html>")
    _write_fake_autograded(tmp_path, rows[1], [("test-b", "NotImplementedError", "")])
    problems = [SimpleNamespace(student="zed", assignment="alpha", problem="no notebook")]
    report.write_report(tmp_path / "report.html", rows, problems)
    return tmp_path, (tmp_path / "report.html").read_text()


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs, self.ids = [], set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        if tag == "a" and attrs.get("href"):
            self.hrefs.append(attrs["href"])


def _links(page: str) -> _Links:
    parser = _Links()
    parser.feed(page)
    return parser


def test_report_shows_each_failure_message_whole_once_with_its_students(fake_report):
    _, page = fake_report
    assert html.unescape(page).count("revisit:  Chapter 4, 'From C logits to a distribution'") == 1
    block = page[page.index("<pre class='msg'>f(z) with z"):]
    block = block[:block.index("</p>")]
    assert "expected: array of shape (3,): [0.1, 0.2, 0.7]" in block
    assert all(f"student-{i}" in block for i in (0, 2, 4, 6)) and "4 student(s)" in block
    assert "Not written yet" in page  # the NotImplementedError is folded, not lost
    assert "zed" in page and "no notebook" in page


def test_report_links_each_grade_to_its_feedback_relatively(fake_report, tmp_path):
    out, page = fake_report
    links = _links(page)
    feedback = [h for h in links.hrefs if not h.startswith("#")]
    assert len(feedback) >= 7
    for href in links.hrefs:
        if href.startswith("#"):
            assert href[1:] in links.ids, href
        else:
            assert not href.startswith(("/", "file:", "http")), href
            assert (out / unquote(href)).is_file(), href
    moved = tmp_path.parent / (tmp_path.name + "-moved")
    shutil.copytree(out, moved)
    assert all((moved / unquote(h)).is_file() for h in feedback)


def test_report_histogram_counts_whole_students_and_has_alt_text(fake_report):
    _, page = fake_report
    svgs = re.findall(r"<svg .*?</svg>", page, re.S)
    assert svgs
    for svg in svgs:
        label = re.search(r'<svg role="img" aria-label="([^"]+)"', svg)
        assert label and "Histogram of the points in alpha" in label.group(1)
        ticks = re.findall(r'<g id="[^"]*ytick_\d+">.*?<text[^>]*>([^<]*)</text>', svg, re.S)
        assert ticks and all(re.fullmatch(r"\d+", t) for t in ticks), ticks
        xticks = re.findall(r'<g id="[^"]*xtick_\d+">.*?<text[^>]*>([^<]*)</text>', svg, re.S)
        assert xticks and all(re.fullmatch(r"\d+", t) for t in xticks), xticks
        assert "#000000" not in svg and "currentColor" in svg  # the page's colours
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert len(ids) == len(set(ids))


def test_report_structure(fake_report):
    _, page = fake_report
    for heading in ("Flagged for review", "Written answers to grade by hand", "Assignments",
                    "Failure messages in alpha", "All grades"):
        assert heading in page, heading
    assert "<script" not in page and not re.search(r"(src|href)=[\"']?(https?:)?//", page)
    assert "prefers-color-scheme:dark" in page
    # the per-cell chart: 'test-a' lost by students 0, 2, 4, 6 of 7
    assert re.search(r"<code>test-a</code>.*?4 of 7", page, re.S)


def test_a_semesters_marks_in_the_report_and_grades_csv(tmp_path):
    """Issue 24: what is still to grade by hand is listed (who, which answer, worth how much:
    the grades show the full maximum, never "+1 by hand"); a hand grade whose answer changed is
    flagged; a late row says how late and what it cost, an extended one its extension; the
    total in grades.csv is after the penalty."""
    import csv
    import datetime as dt

    from autograder.results import grades_csv
    due = dt.datetime(2026, 3, 2, 17, 0)
    cells = {"test-a": 2.0, "written-x": 2.0}
    alice = Row("alice", "alpha", scores={"test-a": 2.0}, max_scores=dict(cells),
                pending=["written-x"], submitted=due - dt.timedelta(hours=1), due=due)
    bob = Row("bob", "alpha", scores={"test-a": 2.0, "written-x": 1.5}, max_scores=dict(cells),
              by_hand=["written-x"], changed=["written-x"], penalty=0.35,
              submitted=due + dt.timedelta(hours=26), due=due, seconds_late=26 * 3600)
    carol = Row("carol", "alpha", scores={"test-a": 2.0, "written-x": 2.0},
                max_scores=dict(cells), by_hand=["written-x"], extension=dt.timedelta(hours=48),
                submitted=due + dt.timedelta(hours=5), due=due + dt.timedelta(hours=48))
    rows = [alice, bob, carol]
    report.write_report(tmp_path / "report.html", rows, [])
    page = html.unescape(re.sub(r"<[^>]+>", " ", (tmp_path / "report.html").read_text()))
    page = re.sub(r"\s+([,:])", r"\1", re.sub(r"\s+", " ", page))
    assert "by hand" not in page.replace("to grade by hand", "").replace(
        "graded by hand", "").replace("Written answers to grade by hand", "")
    assert "alice, alpha: written-x (2 points)" in page
    assert "2 / 4 1 answer (2 points) to grade by hand" in page  # the full maximum
    assert "Hand grades to look at again" in page and "bob, alpha: written-x" in page
    assert "answer changed since graded (written-x)" in page
    assert "late by 1 day 2 h, \u22120.35 points" in page
    assert "extension of 2 days" in page
    grades_csv.write(tmp_path / "grades.csv", rows, [])
    with open(tmp_path / "grades.csv") as f:
        got = {r["student"]: r for r in csv.DictReader(f)}
    assert got["bob"]["total"] == "3.15" and got["bob"]["late_penalty"] == "0.35"
    assert got["bob"]["late"] == "late by 1 day 2 h" and got["alice"]["late"] == ""
    assert got["carol"]["extension"] == "2 days" and got["carol"]["late"] == ""
    assert got["carol"]["due"] == "2026-03-04 17:00:00 UTC"
    assert got["alice"]["written-x"] == "" and "to grade by hand" in got["alice"]["notes"]


def test_a_mistake_is_one_group_whoever_made_it_and_each_rubric_is_at_hand(tmp_path):
    """Two students whose code raised the same way on lines of their own are one group of the
    report (their `where:` lines are each their own); each written answer still to grade has
    its rubric, from the source notebook, in the report."""
    cells = {"test-linear-forward": 2.0, "written-inexact-loss": 2.0}
    rows = [Row(s, "logits", scores={"test-linear-forward": 0.0}, max_scores=dict(cells),
                failures=[("test-linear-forward", "CheckFailed", "x")],
                pending=["written-inexact-loss"]) for s in ("ann", "ben")]
    for r, where in zip(rows, ("In [4] line 3, in forward: return W @ X",
                               "In [7] line 9, in forward: out = X.T @ self.W\n"
                               "            In [6] line 2, in helper: return a @ b")):
        _write_fake_autograded(tmp_path, r, [(
            "test-linear-forward", "CheckFailed",
            "Linear.forward(X) raised ValueError: matmul: mismatch\n"
            f"  where:    {where}\n  revisit:  Chapter 1, 'The linear layer'")])
    report.write_report(tmp_path / "report.html", rows, [])
    page = html.unescape((tmp_path / "report.html").read_text())
    assert page.count("matmul: mismatch") == 1 and "2 student(s)" in page
    assert "where:" not in page  # each student's own lines are in their feedback
    assert "Rubric of written-inexact-loss (logits)" in re.sub(r"<[^>]+>", "", page)
    assert "the solver's relative error plays the part of the machine" in page


# ---------------------------------------------------------------- one real grading run

@pytest.fixture(scope="module")
def graded(graded_class):
    return graded_class


def _feedback_pages(out: Path) -> list[Path]:
    """The feedback pages of ASSIGNMENTS, whose math these tests read."""
    return sorted(p for a in ASSIGNMENTS for p in (out / "feedback").glob(f"*/{a}/*.html"))


def test_feedback_pages_carry_mathml_and_load_nothing(graded):
    pages = _feedback_pages(graded)
    assert len(pages) == len(examples.STUDENTS) * len(ASSIGNMENTS)
    for page in pages:
        text = page.read_text()
        assert "<script" not in text and "cdnjs" not in text, page
        assert not re.search(r"""(src|href)=["']?(https?:)?//""", text), page
        assert text.count("<math ") > 10 and "class='tex-source'" not in text, page


def test_real_report_links_resolve_and_show_messages_whole(graded):
    page = (graded / "report.html").read_text()
    links = _links(page)
    feedback = [h for h in links.hrefs if not h.startswith("#")]
    assert len(feedback) >= len(examples.STUDENTS) * len(ASSIGNMENTS)
    assert all((graded / unquote(h)).is_file() for h in feedback)
    assert str(graded) not in page
    # bob-one-bug's mistake in sigmoid, with its expected/got/revisit lines
    block = page[page.index("Failure messages in sigmoid"):]
    block = block[block.index("<pre class='msg'>"):]
    block = block[:block.index("</pre>")]
    assert block.count("\n") >= 2 and "revisit" in block, block


# ---------------------------------------------------------------- in the browser

@pytest.fixture(scope="module")
def server(graded):
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(graded))
    handler.log_message = lambda *a: None
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture(scope="module")
def open_page(chromium):
    """open_page(url, width, scheme) -> (page, requests that tried to leave 127.0.0.1)."""
    contexts = []

    def make(url, width=1280, scheme="light"):
        off = []
        ctx = lab.offline_context(chromium, OFF_MACHINE, lambda request: off.append(request.url),
                                  viewport={"width": width, "height": 900}, color_scheme=scheme)
        contexts.append(ctx)
        page = ctx.new_page()
        page.goto(url)
        return page, off

    yield make
    for ctx in contexts:
        ctx.close()


OVERLAPS = """() => {
  const boxes = (els) => [...els].map(e => [e, e.getBoundingClientRect()])
      .filter(([e, r]) => r.width > 0 && r.height > 0);
  const hit = (a, b) => a.left < b.right - 1 && b.left < a.right - 1 &&
                        a.top < b.bottom - 1 && b.top < a.bottom - 1;
  const found = [];
  // text of one chart never runs into other text of it
  for (const svg of document.querySelectorAll('svg')) {
    const t = boxes(svg.querySelectorAll('text'));
    for (let i = 0; i < t.length; i++) for (let j = i + 1; j < t.length; j++)
      if (hit(t[i][1], t[j][1])) found.push(t[i][0].textContent + ' / ' + t[j][0].textContent);
  }
  // charts side by side never overlap, nor do a chart's labels and its neighbour
  for (const charts of document.querySelectorAll('.charts')) {
    const figs = boxes(charts.children);
    for (let i = 0; i < figs.length; i++) for (let j = i + 1; j < figs.length; j++)
      if (hit(figs[i][1], figs[j][1]))
        found.push('figures of ' + charts.previousElementSibling.textContent);
  }
  // the per-cell chart: each label beside, never over, its bar
  for (const row of document.querySelectorAll('table.cells tbody tr')) {
    const [label, bar, count] = boxes(row.children).map(x => x[1]);
    if (hit(label, bar) || hit(bar, count) || hit(label, count))
      found.push('cell row ' + row.textContent);
  }
  return {found, texts: document.querySelectorAll('svg text').length,
          rows: document.querySelectorAll('table.cells tbody tr').length};
}"""


@pytest.mark.browser
@pytest.mark.parametrize("width,scheme", [(1280, "light"), (1280, "dark"), (390, "light"),
                                          (390, "dark")])
def test_report_layout_in_the_browser(open_page, server, width, scheme):
    page, off = open_page(f"{server}/report.html", width, scheme)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"report-{width}-{scheme}.png"), full_page=True)
    layout = page.evaluate(OVERLAPS)
    assert layout["texts"] > 10 and layout["rows"] > 10, layout  # labels drawn as text
    assert layout["found"] == [], layout["found"]
    # the page never scrolls sideways (a wide table scrolls inside its own box)
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    colours = page.evaluate("""() => [getComputedStyle(document.body).backgroundColor,
        getComputedStyle(document.querySelector('svg')).color]""")
    dark = colours[0] != "rgb(255, 255, 255)"
    assert dark == (scheme == "dark"), colours
    assert off == []


MATH_TYPESET = """(root) => {
  const maths = [...root.querySelectorAll('math')];
  const fracs = [...root.querySelectorAll('mfrac')].map(f => {
    const [num, den] = [...f.children].map(c => c.getBoundingClientRect());
    return num.bottom <= den.top + 1;   // a numerator above its denominator: typeset
  });
  const text = root.body.innerText;
  return {maths: maths.length, sized: maths.filter(m => m.getBoundingClientRect().width > 0).length,
          fracs, dollars: (text.match(/\\$[^$\\n]+\\$/g) || []).slice(0, 5)};
}"""


@pytest.mark.browser
def test_feedback_math_is_typeset_with_the_network_off(open_page, server, graded):
    page, off = open_page(f"{server}/feedback/bob-one-bug/sigmoid/sigmoid.html")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "feedback-sigmoid.png"), full_page=False)
    found = page.evaluate(f"({MATH_TYPESET})(document)")
    assert found["maths"] > 10 and found["sized"] == found["maths"], found
    assert found["fracs"] and all(found["fracs"]), found
    assert found["dollars"] == [], found
    assert off == []


@pytest.mark.browser
def test_feedback_math_is_typeset_in_jupyterlabs_untrusted_viewer(open_page, server):
    """JupyterLab 4 shows an untrusted HTML file in an iframe sandboxed to 'allow-same-origin'
    (no scripts), from a blob: URL of the file's text: the math must need no script. (The page
    that fetches it is the server's folder listing: the report's own Content-Security-Policy
    forbids fetching.)"""
    page, off = open_page(f"{server}/")
    page.evaluate("""async (url) => {
      const text = await (await fetch(url)).text();
      const frame = document.createElement('iframe');
      frame.setAttribute('sandbox', 'allow-same-origin');
      frame.style.width = '1000px'; frame.style.height = '800px';
      const loaded = new Promise(r => frame.onload = r);
      frame.src = URL.createObjectURL(new Blob([text], {type: 'text/html'}));
      document.body.prepend(frame);
      await loaded;
    }""", "feedback/bob-one-bug/softmax/softmax.html")
    frame = page.frames[1]
    found = frame.evaluate(f"({MATH_TYPESET})(document)")
    assert found["maths"] > 10 and found["sized"] == found["maths"], found
    assert found["dollars"] == [], found
    assert frame.evaluate("() => document.scripts.length") == 0
    assert off == []


def test_a_variant_harder_than_the_others_is_named(tmp_path):
    """Students whose numbers share one value, who all lose a cell that the others mostly
    keep: the report names the cell and the value (a harder variant is a bug in the
    exercise); a cell lost by all alike names nothing."""
    rows = _rows(8)
    numbers = {}
    for i, r in enumerate(rows):
        r.scores["test-b"] = 0.0 if i < 4 else 3.0          # lost by the four with C = 3
        numbers[r.student, r.assignment] = {"C": 3 if i < 4 else 7, "T": 1.5 + (i // 2) % 2}
    found = report.hard_variants(rows, numbers)
    assert [(f["cell"], f["numbers"]) for f in found] == [("test-b", "C = 3")], found
    report.write_report(tmp_path / "report.html", rows, [], numbers=numbers)
    page = (tmp_path / "report.html").read_text()
    assert "Lost unusually often with some numbers" in page and "C = 3" in page
    for r in rows:
        r.scores["test-b"] = 0.0                             # everybody loses it: no variant
    assert report.hard_variants(rows, numbers) == []
