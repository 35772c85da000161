"""grades.csv: one row per student and assignment, a column of points per graded cell, the
total (after any late penalty), a status, when it was submitted against its due date (the
extension included), how late, the extension, the late penalty, and notes; a row per submission
that could not be graded."""
from __future__ import annotations

import csv
import io
from pathlib import Path

from ..files import write_fresh
from .rows import duration, points, when

# A cell that starts with one of these is a formula to a spreadsheet (=HYPERLINK(...)): a name
# a student chose is written with a leading apostrophe, which spreadsheets show as text.
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _text(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA) else value

PENDING = "written answer, to grade by hand in the formgrader"
COLUMNS_AFTER = ["total", "max_total", "status", "submitted", "due", "late", "extension",
                 "late_penalty", "notes"]


def notes(row) -> str:
    """The row's notes, then what is still to do by hand."""
    return "; ".join([*row.notes, *(f"{c}: {PENDING}" for c in row.pending)])


def write(path: Path, rows, problems) -> None:
    cells = []
    for row in rows:
        cells += [c for c in row.max_scores if c not in cells]
    with io.StringIO(newline="") as f:
        w = csv.writer(f)
        w.writerow(["student", "assignment", *cells, *COLUMNS_AFTER])
        for row in sorted(rows, key=lambda r: (r.student, r.assignment)):
            w.writerow([_text(row.student), _text(row.assignment),
                        *[points(row.scores[c]) if c in row.scores else "" for c in cells],
                        points(row.total), points(row.max_total), row.status,
                        when(row.submitted), when(row.due), row.late,
                        duration(row.extension.total_seconds()) if row.extension else "",
                        points(row.penalty) if row.penalty else "", _text(notes(row))])
        for p in problems:
            w.writerow([_text(p.student), _text(p.assignment), *[""] * len(cells), "", "",
                        "not graded", "", "", "", "", "", _text(p.problem)])
        write_fresh(path, f.getvalue())
