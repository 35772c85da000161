"""report.html: the class report, one self-contained page (no script, nothing loaded: figures are
inline SVG), that reads in a browser at a glance, in light and dark colour schemes, at any width.

What it shows, top down: a summary line; what needs the instructor (submissions flagged for
review, written answers to grade by hand); one row per assignment (median, full marks, the cell
lost most often); per assignment a histogram of the points and the share of students losing
points on each graded cell, then the failure messages, whole, grouped by cell; and every grade,
students by assignments, each linking to the student's feedback page.

Links are relative to the report (`feedback/<student>/<assignment>/<assignment>.html`), so the
output folder can be moved or archived whole. Failure messages are read whole from the grading
run's autograded notebooks (`course/autograded/`, beside the report); where one cannot be read,
the first line that grading kept (`Row.failures`) stands in.
"""
from __future__ import annotations

import html
import io
import json
import re
import statistics
from collections import Counter, defaultdict
from pathlib import Path
from urllib.parse import quote

from . import jobs

MAX_MESSAGE_LINES = 40
MAX_MESSAGE_CHARS = 4000
MESSAGES_SHOWN = 3  # distinct messages shown per cell; the others are folded away
# matplotlib draws with these stand-ins, which the page's colours replace (light or dark).
_INK, _BAR, _GRID = "#010203", "#040506", "#070809"

_CSS = """
:root{color-scheme:light dark;--fg:#1f2328;--muted:#59636e;--bg:#fff;--card:#f6f8fa;
--line:#d1d9e0;--bar:#0969da;--track:#e6ebf1;--flag-bg:#fff8c5;--flag-line:#d4a72c;
--link:#0550ae}
@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--muted:#9198a1;--bg:#0d1117;
--card:#151b23;--line:#3d444d;--bar:#4493f8;--track:#262c36;--flag-bg:#2e2a12;
--flag-line:#9e6a03;--link:#74b9ff}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);
font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
main{max-width:75rem;margin:0 auto;padding:1.5rem clamp(.75rem,3vw,2rem) 4rem}
h1{font-size:1.9rem;margin:.2rem 0 .4rem}
h2{font-size:1.4rem;margin:2.4rem 0 .6rem;padding-bottom:.3rem;border-bottom:1px solid var(--line)}
h3{font-size:1.1rem;margin:1.4rem 0 .5rem}
a{color:var(--link)}
.lede{font-size:1.1rem;margin:.2rem 0}
.muted,figcaption,caption{color:var(--muted)}
nav{margin:.8rem 0;font-size:.95rem;display:flex;flex-wrap:wrap;gap:.2rem 1rem}
nav a{white-space:nowrap}
.table-wrap{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;font-variant-numeric:tabular-nums}
caption{text-align:left;padding:.2rem 0;font-size:.9rem}
th,td{border-bottom:1px solid var(--line);padding:.3rem .7rem;text-align:left;vertical-align:top}
th{font-weight:600}
td.num,th.num{text-align:right;white-space:nowrap}
.flag{background:var(--flag-bg);border-left:4px solid var(--flag-line)}
p.flag{padding:.5rem .8rem}
.mark{font-weight:600}
.charts{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1.15fr);gap:1.5rem 2.5rem;
align-items:start}
@media (max-width:56rem){.charts{grid-template-columns:minmax(0,1fr)}}
figure{margin:0;min-width:0}
figure svg{display:block;width:100%;max-width:34rem;height:auto;color:var(--fg)}
figcaption{font-size:.9rem;margin-bottom:.3rem}
table.cells{width:100%}
table.cells td{border:0;padding:.15rem .4rem;vertical-align:middle}
table.cells td.cell{white-space:nowrap;font-size:.88rem}
table.cells td.bar{width:100%;min-width:4rem}
@media (max-width:40rem){table.cells thead{position:absolute;left:-9999px}
table.cells tr{display:grid;grid-template-columns:minmax(0,1fr) auto;column-gap:.6rem;
margin-bottom:.35rem}
table.cells td.cell{grid-column:1/-1;white-space:normal;overflow-wrap:anywhere;padding-bottom:0}
table.cells td.bar{width:auto}}
td code,table.overview td,td.student,table.grades th{white-space:nowrap}
ul.notes{margin:.2rem 0 0;padding-left:1.2rem}
details.todo{margin:.8rem 0}
details.todo h4{margin:.8rem 0 .2rem;font-size:.95rem}
.track{background:var(--track);height:.9rem;border-radius:2px}
.fill{background:var(--bar);height:100%;border-radius:2px}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"DejaVu Sans Mono",monospace;
font-size:.9em}
.failure{border:1px solid var(--line);border-radius:6px;padding:.2rem 1rem .8rem;margin:.8rem 0;
background:var(--card)}
.failure h4{margin:.6rem 0 .3rem;font-size:1rem}
pre.msg{white-space:pre-wrap;overflow-wrap:anywhere;margin:.3rem 0;padding:.6rem .8rem;
background:var(--bg);border:1px solid var(--line);border-radius:4px;font-size:.87rem;
line-height:1.45}
.who{font-size:.9rem;margin:.1rem 0 .7rem}
details>summary{cursor:pointer;color:var(--link)}
table.grades td a{white-space:nowrap}
"""


def pyplot():
    """matplotlib.pyplot, drawing off-screen in the report's style."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    plt.style.use("petroff10")
    plt.rcParams.update({
        "svg.hashsalt": "report", "svg.fonttype": "none", "font.size": 11,
        "font.family": ["DejaVu Sans", "sans-serif"],
        "figure.facecolor": "none", "axes.facecolor": "none", "savefig.facecolor": "none",
        "text.color": _INK, "axes.labelcolor": _INK, "axes.edgecolor": _INK,
        "xtick.color": _INK, "ytick.color": _INK, "axes.titlecolor": _INK,
        "grid.color": _GRID, "axes.spines.top": False, "axes.spines.right": False,
    })
    return plt


def _svg(fig, alt: str, prefix: str) -> str:
    """The figure as inline SVG that takes the page's colours, labelled with `alt`; its ids
    start with `prefix`, so that several figures in one page never share one."""
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    svg = buf.getvalue()
    svg = svg[svg.index("<svg"):]
    svg = re.sub(r"<metadata>.*?</metadata>\s*", "", svg, flags=re.S)
    svg = (svg.replace(_INK, "currentColor").replace(_BAR, "var(--bar)")
           .replace(_GRID, "var(--line)"))
    svg = re.sub(r'\bid="([^"]+)"', rf'id="{prefix}\1"', svg)
    svg = re.sub(r'(url\(#|href="#)([^")]+)', rf'\1{prefix}\2', svg)
    svg = re.sub(r'<svg ', f'<svg role="img" aria-label="{html.escape(alt)}" ', svg, count=1)
    return svg


def _histogram(assignment: str, rows) -> str:
    """Inline SVG: how many students got each number of points."""
    from matplotlib.ticker import MaxNLocator
    plt = pyplot()
    scores = [r.total for r in rows]
    top = max(max(r.max_total for r in rows), max(scores), 1)
    fig, ax = plt.subplots(figsize=(4.4, 2.4))
    ax.hist(scores, bins=[x - 0.5 for x in range(int(top) + 2)], color=_BAR, rwidth=0.85)
    ax.set_xlim(-0.8, top + 0.8)
    ax.set_xlabel("points")
    ax.set_ylabel("students")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=10))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True, nbins=5))
    ax.yaxis.grid(True, linewidth=0.6)
    ax.set_axisbelow(True)
    counts = Counter(scores)
    alt = (f"Histogram of the points in {assignment} (out of {top:g}) of {len(rows)} "
           f"student(s): " + "; ".join(f"{n} with {s:g} point(s)"
                                       for s, n in sorted(counts.items())) + ".")
    svg = _svg(fig, alt, _slug(assignment) + "-")
    plt.close(fig)
    return svg


def _cell_order(rows) -> list[str]:
    """The graded cells of the rows' notebooks, in the notebook's order."""
    return list(dict.fromkeys(c for r in rows for c in r.max_scores))


def _cell_losses(rows) -> list[tuple[str, int, int, int]]:
    """(cell, students losing points on it, students scored on it, written answers pending),
    in the notebook's order."""
    out = []
    for c in _cell_order(rows):
        scored = [r for r in rows if c in r.scores]
        lost = sum(r.scores[c] < r.max_scores.get(c, 0) for r in scored)
        pending = sum(c in r.pending for r in rows)
        out.append((c, lost, len(scored), pending))
    return out


def _cells_chart(assignment: str, rows, esc) -> str:
    """A bar per graded cell: the share of students who lost points on it (a table, so its
    labels never run into anything and a screen reader reads it as it is)."""
    parts = [f"<table class='cells'><caption>Students losing points, per graded cell of "
             f"{esc(assignment)}</caption><thead><tr><th>cell</th><th>share</th>"
             "<th class='num'>students</th></tr></thead><tbody>"]
    for cell, lost, scored, pending in _cell_losses(rows):
        share = lost / scored if scored else 0.0
        note = f"<br><small>+{pending} by hand</small>" if pending else ""
        parts.append(f"<tr><td class='cell'><code>{esc(cell)}</code></td><td class='bar'>"
                     f"<div class='track' aria-hidden='true'><div class='fill' "
                     f"style='width:{100 * share:.1f}%'></div></div></td><td class='num'>"
                     f"{lost} of {scored}{note}</td></tr>")
    parts.append("</tbody></table>")
    return "".join(parts)


def _clip(message: str) -> str:
    lines = message.rstrip().splitlines()
    text = "\n".join(lines[:MAX_MESSAGE_LINES])
    if len(text) > MAX_MESSAGE_CHARS:
        text = text[:MAX_MESSAGE_CHARS]
    if text != message.rstrip():
        text += "\n[... cut: the whole message is in the student's feedback]"
    return text


def _whole_failures(course_root: Path, row) -> list[tuple[str, str]]:
    """(grade id, whole message) of each error in the student's autograded notebook, or the
    first lines that grading kept if the notebook cannot be read."""
    path = jobs.autograded(course_root, row.assignment, row.student)
    try:
        if path.is_symlink() or not path.is_file():
            raise OSError("no autograded notebook")
        nb = json.loads(path.read_text(encoding="utf-8"))
        found = []
        for cell in nb.get("cells", []):
            gid = ((cell.get("metadata") or {}).get("nbgrader") or {}).get("grade_id") or ""
            for out in cell.get("outputs", []) or []:
                if out.get("output_type") == "error":
                    found.append((gid, _as_seen(str(out.get("ename", "")),
                                                str(out.get("evalue", "")))))
        return found
    except (OSError, ValueError, AttributeError, TypeError):
        return [(gid, _as_seen(ename, line)) for gid, ename, line in row.failures]


def _as_seen(ename: str, text: str) -> str:
    """A failure as the student saw it: a hidden check's message as it is (it is written for
    the student), any other error with its type."""
    return f"{ename}: {text}" if ename and ename != "CheckFailed" else text


def failure_groups(course_root: Path, rows) -> dict:
    """assignment -> cell -> [(message, [students])], messages most frequent first, cells in
    the notebook's order."""
    found = defaultdict(lambda: defaultdict(lambda: defaultdict(list)))
    for r in rows:
        for gid, message in _whole_failures(course_root, r):
            students = found[r.assignment][gid][_clip(message)]
            if r.student not in students:
                students.append(r.student)
    groups = {}
    for assignment, cells in found.items():
        order = _cell_order([r for r in rows if r.assignment == assignment])
        groups[assignment] = {
            cell: sorted(messages.items(), key=lambda kv: (-len(kv[1]), kv[0]))
            for cell, messages in sorted(cells.items(), key=lambda kv: (
                order.index(kv[0]) if kv[0] in order else len(order), kv[0]))}
    return groups


def feedback_link(report_dir: Path, student: str, assignment: str) -> str | None:
    """The student's feedback page relative to the report, if it was written."""
    rel = f"feedback/{quote(student, safe='')}/{quote(assignment, safe='')}/" \
          f"{quote(assignment, safe='')}.html"
    page = report_dir / "feedback" / student / assignment / f"{assignment}.html"
    return rel if page.is_file() and not page.is_symlink() else None


def _slug(text: str) -> str:
    return "a-" + re.sub(r"[^A-Za-z0-9_-]+", "-", text)


def _points(x: float) -> str:
    return f"{x:g}"


def write_report(path: Path, rows, problems, sandboxed: bool = True, limits=None) -> None:
    path = Path(path)
    report_dir = path.parent
    esc = html.escape
    by_assignment = defaultdict(list)
    for r in rows:
        by_assignment[r.assignment].append(r)
    assignments = sorted(by_assignment)
    students = sorted({r.student for r in rows} | {p.student for p in problems})
    flagged = [r for r in rows if r.status != "graded" or r.notes]
    pending = [r for r in rows if r.pending]
    n_pending = sum(len(r.pending) for r in pending)
    groups = failure_groups(report_dir / "course", rows) if rows else {}

    def link(student, assignment, text):
        href = feedback_link(report_dir, student, assignment)
        return f"<a href='{esc(href)}'>{text}</a>" if href else text

    parts = ["<!doctype html><html lang='en'><head><meta charset='utf-8'>",
             "<meta name='viewport' content='width=device-width, initial-scale=1'>",
             "<meta name='color-scheme' content='light dark'>",
             f"<title>Class report: {len(rows)} notebook(s) graded</title>",
             f"<style>{_CSS}</style></head><body><main>",
             "<h1>Class report</h1>",
             f"<p class='lede'>{len(rows)} notebook(s) graded: {len(students)} student(s), "
             f"{len(assignments)} assignment(s). {len(flagged)} flagged for review, "
             f"{len(problems)} submission problem(s), {n_pending} written answer(s) to grade "
             "by hand.</p>"]
    if sandboxed and limits is not None:
        parts.append("<p class='muted'>Every notebook ran in a sandbox of its own: no network, "
                     "no file of the run but its own, no other process; limits: "
                     f"{esc(limits.describe())}.</p>")
    if not sandboxed:
        parts.append("<p class='flag'><strong>Graded without the sandbox (--no-sandbox):</strong> "
                     "the students' code ran with the grader's rights and could reach the whole "
                     "run (the gradebook, the other submissions, these results).</p>")
    nav = [("review", "Flagged for review"), ("overview", "Assignments"),
           *[(_slug(a), a) for a in assignments], ("grades", "All grades")]
    parts.append("<nav aria-label='Sections'>" + "".join(
        f"<a href='#{esc(i)}'>{esc(t)}</a>" for i, t in nav) + "</nav>")

    # What needs the instructor.
    parts.append("<h2 id='review'>Flagged for review</h2>")
    if flagged or problems:
        parts.append("<div class='table-wrap'><table><thead><tr><th>student</th>"
                     "<th>assignment</th><th>why</th></tr></thead><tbody>")
        for r in flagged:
            notes = "".join(f"<li>{esc(n)}</li>" for n in r.notes)
            parts.append(f"<tr class='flag'><td class='student'>{esc(r.student)}</td><td>"
                         f"{link(r.student, r.assignment, esc(r.assignment))}</td>"
                         f"<td>{_status(r.status)}{':' if notes else ''}<ul class='notes'>"
                         f"{notes}</ul></td></tr>")
        for p in problems:
            parts.append(f"<tr class='flag'><td class='student'>{esc(p.student)}</td>"
                         f"<td>{esc(p.assignment)}</td><td>not graded: {esc(p.problem)}</td></tr>")
        parts.append("</tbody></table></div>")
    else:
        parts.append("<p>Nothing flagged: every notebook was graded normally.</p>")
    if pending:
        parts.append("<h3>Written answers to grade by hand</h3>"
                     f"<p>{n_pending} written answer(s) in {len(pending)} notebook(s) wait for "
                     "you: start <code>jupyter lab</code> in this run's <code>course/</code> "
                     "folder and open <em>Nbgrader &gt; Formgrader</em> (each answer's rubric "
                     "is in the source notebook). Until then they count in no total below.</p>")

    if rows:
        parts.append("<h2 id='overview'>Assignments</h2><p class='muted'>Points from the "
                     "autograder; a written answer still to grade by hand counts for nothing "
                     "yet.</p><div class='table-wrap'><table class='overview'><thead><tr>"
                     "<th>assignment</th><th class='num'>notebooks</th><th class='num'>median</th>"
                     "<th class='num'>full marks so far</th><th>lost most often</th></tr>"
                     "</thead><tbody>")
        for a in assignments:
            rs = by_assignment[a]
            auto_max = max(r.max_total for r in rs)
            full = sum(r.total >= _auto_max(r) for r in rs)
            losses = [x for x in _cell_losses(rs) if x[1]]
            worst = max(losses, key=lambda x: (x[1], x[1] / x[2])) if losses else None
            worst_text = (f"<code>{esc(worst[0])}</code> ({worst[1]} of {worst[2]})"
                          if worst else "nothing")
            parts.append(f"<tr><td><a href='#{_slug(a)}'>{esc(a)}</a></td>"
                         f"<td class='num'>{len(rs)}</td><td class='num'>"
                         f"{_points(statistics.median(r.total for r in rs))} / "
                         f"{_points(auto_max)}</td><td class='num'>{full} of {len(rs)}</td>"
                         f"<td>{worst_text}</td></tr>")
        parts.append("</tbody></table></div>")

        for a in assignments:
            rs = by_assignment[a]
            parts.append(f"<h2 id='{_slug(a)}'>{esc(a)}</h2><div class='charts'>"
                         "<figure class='hist'><figcaption>Points per student "
                         f"(out of {_points(max(r.max_total for r in rs))})</figcaption>"
                         f"{_histogram(a, rs)}</figure>"
                         f"<figure class='cells-chart'>{_cells_chart(a, rs, esc)}</figure>"
                         "</div>")
            parts += _failures_html(a, groups.get(a, {}), len(rs), link, esc)

        parts.append("<h2 id='grades'>All grades</h2><p class='muted'>Points from the "
                     "autograder per student and assignment; each links to the student's "
                     "feedback page. <em>+1 by hand</em>: a written answer still to grade in "
                     "the formgrader.</p><div class='table-wrap'>"
                     "<table class='grades'>"
                     "<thead><tr><th>student</th>"
                     + "".join(f"<th class='num'>{esc(a)}</th>" for a in assignments)
                     + "<th class='num'>total</th></tr></thead><tbody>")
        got = {(r.student, r.assignment): r for r in rows}
        missing = {(p.student, p.assignment): p for p in problems}
        for s in students:
            cells, total, top = [], 0.0, 0.0
            for a in assignments:
                r = got.get((s, a))
                if r is None:
                    why = "not graded" if (s, a) in missing else "no submission"
                    cells.append(f"<td class='num flag'>{why}</td>" if (s, a) in missing
                                 else f"<td class='num muted'>{why}</td>")
                    continue
                total += r.total
                top += _auto_max(r)
                marks = []
                if r.status != "graded":
                    marks.append(f"<span class='mark'>⚑ {esc(r.status)}</span>")
                if r.pending:
                    marks.append(f"<span title='{len(r.pending)} written answer(s) still to "
                                 f"grade by hand'>+{len(r.pending)} by hand</span>")
                if not sandboxed:
                    marks.append("(no sandbox)")
                text = f"{_points(r.total)} / {_points(_auto_max(r))}"
                extra = f"<br><small>{' '.join(marks)}</small>" if marks else ""
                cls = "num flag" if r.status != "graded" else "num"
                cells.append(f"<td class='{cls}'>{link(s, a, text)}{extra}</td>")
            parts.append(f"<tr><th scope='row'>{esc(s)}</th>{''.join(cells)}"
                         f"<td class='num'>{_points(total)} / {_points(top)}</td></tr>")
        parts.append("</tbody></table></div>")
    parts.append("</main></body></html>")
    from .grade import _write_fresh
    _write_fresh(path, "\n".join(parts))


def _not_attempted(message: str) -> bool:
    """A failure that says only that the student has not written the code yet."""
    return "NotImplementedError" in message


def _failures_html(assignment: str, cells: dict, n_rows: int, link, esc) -> list[str]:
    """The failure messages of one assignment, whole: grouped by cell, the cells most students
    lost first, identical messages once with the students who got them; the messages that only
    say a function is not implemented yet are folded into one line."""
    parts = [f"<h3>Failure messages in {esc(assignment)}</h3>"]
    real, todo = [], []
    for cell, messages in cells.items():
        kept = [(m, ss) for m, ss in messages if not _not_attempted(m)]
        todo += [(cell, m, ss) for m, ss in messages if _not_attempted(m)]
        if kept:
            real.append((cell, kept))
    real.sort(key=lambda cm: -len({s for _, ss in cm[1] for s in ss}))
    if not real and not todo:
        parts.append("<p>None: every test passed.</p>")
    elif not real:
        parts.append("<p>No mistakes to show: the only failures are code not written yet.</p>")
    for cell, messages in real:
        n = len({s for _, ss in messages for s in ss})
        parts.append(f"<section class='failure'><h4><code>{esc(cell or 'a cell')}</code>: "
                     f"a mistake of {n} of {n_rows} student(s)</h4>")
        shown, folded = messages[:MESSAGES_SHOWN], messages[MESSAGES_SHOWN:]
        parts += [_message(m, ss, assignment, link, esc) for m, ss in shown]
        if folded:
            parts.append(f"<details><summary>{len(folded)} other message(s)</summary>"
                         + "".join(_message(m, ss, assignment, link, esc) for m, ss in folded)
                         + "</details>")
        parts.append("</section>")
    if todo:
        who = sorted({s for _, _, ss in todo for s in ss})
        parts.append(f"<details class='todo'><summary>Not written yet: {len(todo)} message(s) "
                     f"that a function still raises NotImplementedError, from "
                     f"{len(who)} student(s): {esc(', '.join(who))}</summary>"
                     + "".join(f"<h4><code>{esc(c or 'a cell')}</code></h4>"
                               + _message(m, ss, assignment, link, esc) for c, m, ss in todo)
                     + "</details>")
    return parts


def _status(status: str) -> str:
    if status == "graded":
        return "graded, with notes"
    return f"<strong>{html.escape(status)}</strong>"


def _auto_max(row) -> float:
    """The points a row can have before its written answers are graded by hand."""
    return sum(p for c, p in row.max_scores.items() if c not in row.pending)


def _message(message: str, students: list[str], assignment: str, link, esc) -> str:
    who = ", ".join(link(s, assignment, esc(s)) for s in students)
    return (f"<pre class='msg'>{esc(message)}</pre>"
            f"<p class='who'>{len(students)} student(s): {who}</p>")
