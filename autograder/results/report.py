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

from .. import course, notebooks, workspace
from ..files import write_fresh
from .rows import CHANGED, duration, points

MAX_MESSAGE_LINES = 40
MAX_MESSAGE_CHARS = 4000
MESSAGES_SHOWN = 3  # distinct messages shown per cell; the others are folded away
# matplotlib draws with these stand-ins, which the page's colours replace (light or dark).
_INK, _BAR, _GRID = "#010203", "#040506", "#070809"

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


# The lines of a message that say where in the student's own cells their code raised (one
# student's own lines): a mistake is one group of the report whoever made it.
WHERE = re.compile(r"^  where:    .*\n(?: {12}In \[.*\n)*", re.M)


def _clip(message: str) -> str:
    message = WHERE.sub("", message)
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
    path = workspace.path(course_root, "autograded", row.student, row.assignment)
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


def rubric(assignment: str, cell: str) -> str:
    """The rubric of a written answer: its cell's text in the assignment's source notebook
    (solutions/), "" where there is none."""
    try:
        source = notebooks.read(course.source_notebook(assignment))
    except (OSError, ValueError):
        return ""
    return next((c.source for c in source.cells if notebooks.grade_id(c) == cell), "")


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
    page = workspace.path(report_dir, "feedback", student, assignment)
    return rel if page.is_file() and not page.is_symlink() else None


def _slug(text: str) -> str:
    return "a-" + re.sub(r"[^A-Za-z0-9_-]+", "-", text)


def _template():
    import jinja2
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(Path(__file__).with_name("templates")),
                             autoescape=True, trim_blocks=False)
    return env.get_template("report.html.j2")


def write_report(path: Path, rows, problems, sandboxed: bool = True, limits=None,
                 numbers=None) -> None:
    """Write report.html for `rows` (results/rows.py) and the submission `problems`; `numbers`
    maps (student, assignment) to the student's numbers (variants.py), for the cells lost
    unusually often with some numbers."""
    path = Path(path)
    report_dir = path.parent
    by_assignment = defaultdict(list)
    for r in rows:
        by_assignment[r.assignment].append(r)
    assignments = sorted(by_assignment)
    # A file whose name says no student's is a problem of nobody: not counted as a student.
    students = sorted({r.student for r in rows} | {p.student for p in problems if p.student})
    pending = [r for r in rows if r.pending]
    changed = [r for r in rows if r.changed]
    groups = failure_groups(report_dir / "course", rows) if rows else {}

    def href(student, assignment):
        return feedback_link(report_dir, student, assignment)

    def message(text, who, assignment):
        return {"text": text, "who": [(s, href(s, assignment)) for s in who]}

    overview, sections = [], []
    for a in assignments:
        rs = by_assignment[a]
        losses = _cell_losses(rs)
        lost = [x for x in losses if x[1]]
        worst = max(lost, key=lambda x: (x[1], x[1] / x[2])) if lost else None
        overview.append({"id": _slug(a), "name": a, "notebooks": len(rs),
                         "median": points(statistics.median(r.total for r in rs)),
                         "max": points(max(r.max_total for r in rs)),
                         "full": sum(r.total >= _auto_max(r) for r in rs),
                         "worst": worst[:3] if worst else None})
        real, todo = _failures(groups.get(a, {}))
        sections.append({
            "id": _slug(a), "name": a, "notebooks": len(rs),
            "max": points(max(r.max_total for r in rs)), "histogram": _histogram(a, rs),
            "cells": [{"cell": c, "share": lost_ / scored if scored else 0.0, "lost": lost_,
                       "scored": scored, "pending": waiting}
                      for c, lost_, scored, waiting in losses],
            "variants": hard_variants(rs, numbers or {}),
            "real": [{"cell": cell, "students": len({s for _, ss in msgs for s in ss}),
                      "shown": [message(m, ss, a) for m, ss in msgs[:MESSAGES_SHOWN]],
                      "folded": [message(m, ss, a) for m, ss in msgs[MESSAGES_SHOWN:]]}
                     for cell, msgs in real],
            "todo": [(cell, message(m, ss, a)) for cell, m, ss in todo],
            "todo_who": sorted({s for _, _, ss in todo for s in ss})})

    got = {(r.student, r.assignment): r for r in rows}
    missing = {(p.student, p.assignment) for p in problems}
    grades = []
    for s in students:
        cells, total, top = [], 0.0, 0.0
        for a in assignments:
            r = got.get((s, a))
            if r is None:
                cells.append({"missing": True, "problem": (s, a) in missing})
                continue
            total += r.total
            top += r.max_total
            cells.append({"missing": False, "href": href(s, a), "marks": _marks(r, sandboxed),
                          "text": f"{points(r.total)} / {points(r.max_total)}",
                          "flag": r.status != "graded"})
        grades.append({"student": s, "cells": cells, "total": points(total), "top": points(top)})

    page = _template().render(
        rows=len(rows), students=students, assignments=assignments,
        flagged=[{"student": r.student, "assignment": r.assignment, "status": r.status,
                  "notes": r.notes, "href": href(r.student, r.assignment)}
                 for r in rows if r.status != "graded" or r.notes],
        problems=problems, pending=sum(len(r.pending) for r in pending),
        pending_notebooks=len(pending), sandboxed=sandboxed,
        to_grade=[{"student": r.student, "assignment": r.assignment,
                   "cells": [(c, points(r.max_scores.get(c, 0))) for c in r.pending],
                   "href": href(r.student, r.assignment)} for r in pending],
        rubrics=[{"assignment": a, "cell": c, "text": rubric(a, c)}
                 for a, c in sorted({(r.assignment, c) for r in pending for c in r.pending})],
        changed=[{"student": r.student, "assignment": r.assignment, "cells": r.changed,
                  "href": href(r.student, r.assignment)} for r in changed],
        changed_text=CHANGED, late=sum(1 for r in rows if r.seconds_late > 0),
        limits=limits.describe() if hasattr(limits, "describe") else (limits or ""),
        nav=[("review", "Flagged for review"), ("overview", "Assignments"),
             *[(_slug(a), a) for a in assignments], ("grades", "All grades")],
        overview=overview, sections=sections, grades=grades)
    write_fresh(path, page)


def _failures(cells: dict):
    """One assignment's failure messages: those of real mistakes, by cell, the cells most
    students lost first; and those that only say a function is not implemented yet."""
    real, todo = [], []
    for cell, messages in cells.items():
        kept = [(m, ss) for m, ss in messages if not _not_attempted(m)]
        todo += [(cell, m, ss) for m, ss in messages if _not_attempted(m)]
        if kept:
            real.append((cell, kept))
    real.sort(key=lambda cm: -len({s for _, ss in cm[1] for s in ss}))
    return real, todo


def hard_variants(rows, numbers: dict, least: int = 3) -> list[dict]:
    """Cells lost unusually often by the students who had one value of one of their numbers
    (at least `least` of them, all losing it, against at most half of the others): a variant
    that is harder than the others is a bug in the exercise."""
    found = []
    for cell in _cell_order(rows):
        scored = [r for r in rows if cell in r.scores and (r.student, r.assignment) in numbers]
        by_value = defaultdict(list)
        for r in scored:
            for name, value in numbers[r.student, r.assignment].items():
                by_value[name, repr(value)].append(r)
        for (name, value), group in sorted(by_value.items()):
            others = [r for r in scored if r not in group]
            lost = sum(r.scores[cell] < r.max_scores[cell] for r in group)
            lost_others = sum(r.scores[cell] < r.max_scores[cell] for r in others)
            if len(group) >= least and lost == len(group) and others and \
                    lost_others <= len(others) / 2:
                found.append({"cell": cell, "numbers": f"{name} = {value}", "lost": lost,
                              "students": len(group), "others": f"{lost_others} of {len(others)}"})
    return found


def _not_attempted(message: str) -> bool:
    """A failure that says only that the student has not written the code yet."""
    return "NotImplementedError" in message


def _marks(r, sandboxed: bool) -> list[dict]:
    """What the grades table says beside a student's points: a status other than graded, what
    is still to grade by hand (answers, and the points they are worth), a hand grade whose
    answer changed, lateness and its penalty, an extension."""
    marks = []
    if r.status != "graded":
        marks.append({"kind": "status", "text": r.status})
    if r.pending:
        n = len(r.pending)
        marks.append({"kind": "pending", "text": f"{n} answer{'s' if n > 1 else ''} "
                      f"({points(r.pending_points)} points) to grade by hand"})
    if r.changed:
        marks.append({"kind": "status", "text": f"{CHANGED} ({', '.join(r.changed)})"})
    if r.seconds_late > 0:
        marks.append({"kind": "late", "text": r.late + (f", \u2212{points(r.penalty)} points"
                                                        if r.penalty else ", no penalty")})
    if r.extension:
        marks.append({"kind": "text",
                      "text": f"extension of {duration(r.extension.total_seconds())}"})
    if not sandboxed:
        marks.append({"kind": "text", "text": "(no sandbox)"})
    return marks


def _auto_max(row) -> float:
    """The points a row can have before its written answers are graded by hand."""
    return sum(p for c, p in row.max_scores.items() if c not in row.pending)
