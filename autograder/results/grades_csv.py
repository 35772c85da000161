"""grades.csv: one row per student and assignment, a column of points per graded cell, the
total, a status and notes; a row per submission that could not be graded."""
from __future__ import annotations

import csv
import io
from pathlib import Path

from ..files import write_fresh
from .rows import points

# A cell that starts with one of these is a formula to a spreadsheet (=HYPERLINK(...)): a name
# a student chose is written with a leading apostrophe, which spreadsheets show as text.
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _text(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA) else value

PENDING = "written answer, to grade by hand in the formgrader"


def write(path: Path, rows, problems) -> None:
    cells = []
    for row in rows:
        cells += [c for c in row.max_scores if c not in cells]
    with io.StringIO(newline="") as f:
        w = csv.writer(f)
        w.writerow(["student", "assignment", *cells, "total", "max_total", "status", "notes"])
        for row in sorted(rows, key=lambda r: (r.student, r.assignment)):
            w.writerow([_text(row.student), _text(row.assignment),
                        *[points(row.scores[c]) if c in row.scores else "" for c in cells],
                        points(row.total), points(row.max_total), row.status,
                        _text("; ".join([*row.notes, *(f"{c}: {PENDING}" for c in row.pending)]))])
        for p in problems:
            w.writerow([_text(p.student), _text(p.assignment), *[""] * len(cells), "", "",
                        "not graded", _text(p.problem)])
        write_fresh(path, f.getvalue())
