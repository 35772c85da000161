"""report.html: a self-contained class report (figures inlined as SVG, so it works offline)."""
from __future__ import annotations

import html
import io
from collections import Counter
from pathlib import Path


def _svg(fig) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    svg = buf.getvalue()
    return svg[svg.index("<svg"):]


def pyplot():
    """matplotlib.pyplot, drawing off-screen in the report's style."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    plt.style.use("petroff10")
    plt.rcParams["svg.hashsalt"] = "report"
    return plt


def _figures(rows) -> list[tuple[str, str]]:
    plt = pyplot()
    figs = []
    by_assignment = {}
    for r in rows:
        by_assignment.setdefault(r.assignment, []).append(r)
    for assignment, rs in sorted(by_assignment.items()):
        fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.2))
        scores = [r.total for r in rs]
        top = max(r.max_total for r in rs) or 1
        ax1.hist(scores, bins=min(20, int(top) + 1), range=(0, top))
        ax1.set(title=f"{assignment}: score distribution", xlabel="points", ylabel="students")
        cells = list(rs[0].max_scores)
        rate = [sum(c in r.scores and r.scores[c] < r.max_scores[c] for r in rs) / len(rs)
                for c in cells]
        ax2.barh(cells, rate)
        ax2.set(title="failure rate per graded cell", xlabel="share of students losing points",
                xlim=(0, 1))
        ax2.invert_yaxis()
        alt = (f"Histogram of total points for {assignment} over {len(rs)} students, and a bar "
               f"chart of the share of students losing points on each of its {len(cells)} cells.")
        figs.append((alt, _svg(fig)))
        plt.close(fig)
    return figs


def _failure_messages(rows) -> Counter:
    """The most frequent first lines of failure messages in the autograded notebooks."""
    return Counter(f"{r.assignment} / {grade_id}: {ename}: {line}"
                   for r in rows for grade_id, ename, line in r.failures)


def write_report(path: Path, rows, problems, sandboxed: bool = True, limits=None) -> None:
    esc = html.escape
    parts = ["<!doctype html><html lang='en'><head><meta charset='utf-8'>",
             "<title>Class report</title><style>body{font-family:system-ui,sans-serif;"
             "max-width:70rem;margin:2rem auto;padding:0 1rem}table{border-collapse:collapse}"
             "td,th{border:1px solid #ccc;padding:.2rem .5rem;text-align:left}"
             ".flag{background:#fff3cd}svg{max-width:100%;height:auto}</style></head><body>",
             "<h1>Class report</h1>",
             f"<p>{len(rows)} graded notebook(s), {len(problems)} submission problem(s).</p>"]
    if sandboxed and limits is not None:
        parts.append("<p>Every notebook ran in a sandbox of its own: no network, no file of the "
                     "run but its own, no other process; limits: "
                     f"{esc(limits.describe())}.</p>")
    if not sandboxed:
        parts.append("<p class='flag'><strong>Graded without the sandbox (--no-sandbox):</strong> "
                     "the students' code ran with the grader's rights and could reach the whole "
                     "run (the gradebook, the other submissions, these results).</p>")
    flagged = [r for r in rows if r.status != "graded" or r.notes]
    parts.append("<h2>Flagged for review</h2>")
    if flagged or problems:
        parts.append("<table><tr><th>student</th><th>assignment</th><th>why</th></tr>")
        for r in flagged:
            parts.append(f"<tr class='flag'><td>{esc(r.student)}</td><td>{esc(r.assignment)}</td>"
                         f"<td>{esc(r.status)}: {esc('; '.join(r.notes))}</td></tr>")
        for p in problems:
            parts.append(f"<tr class='flag'><td>{esc(p.student)}</td><td>{esc(p.assignment)}</td>"
                         f"<td>not graded: {esc(p.problem)}</td></tr>")
        parts.append("</table>")
    else:
        parts.append("<p>Nothing flagged.</p>")
    pending = [r for r in rows if r.pending]
    if pending:
        parts.append("<h2>Written answers to grade by hand</h2>"
                     f"<p>{sum(len(r.pending) for r in pending)} written answer(s) in "
                     f"{len(pending)} notebook(s) wait for you: start <code>jupyter lab</code> in "
                     "this run's <code>course/</code> folder and open <em>Nbgrader &gt; "
                     "Formgrader</em> (each answer's rubric is in the source notebook).</p>")
    if rows:
        parts.append("<h2>Scores</h2>")
        for alt, svg in _figures(rows):
            parts.append(f"<figure role='img' aria-label='{esc(alt)}'>{svg}</figure>")
        parts.append("<h2>Most frequent failure messages</h2><table><tr><th>count</th>"
                     "<th>assignment / cell: message</th></tr>")
        for msg, n in _failure_messages(rows).most_common(15):
            parts.append(f"<tr><td>{n}</td><td>{esc(msg)}</td></tr>")
        parts.append("</table><h2>All grades</h2><table><tr><th>student</th><th>assignment</th>"
                     "<th>points</th><th>status</th></tr>")
        for r in sorted(rows, key=lambda r: (r.assignment, r.student)):
            parts.append(f"<tr><td>{esc(r.student)}</td><td>{esc(r.assignment)}</td>"
                         f"<td>{r.total:g} / {r.max_total:g}</td><td>{esc(r.status)}"
                         f"{'' if sandboxed else ' (no sandbox)'}</td></tr>")
        parts.append("</table>")
    parts.append("</body></html>")
    from .grade import _write_fresh
    _write_fresh(Path(path), "\n".join(parts))
