"""The gradebook read back: one `Row` per student and assignment, the points of each graded
cell (what grades.csv, the report and the feedback show), and the hand grades it holds."""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Row:
    student: str
    assignment: str
    scores: dict = field(default_factory=dict)   # test grade id -> points
    max_scores: dict = field(default_factory=dict)
    status: str = "graded"
    notes: list = field(default_factory=list)
    failures: list = field(default_factory=list)  # (grade id, error name, message) per error
    pending: list = field(default_factory=list)   # written answers still to grade by hand

    @property
    def total(self) -> float:
        return sum(self.scores.values())

    @property
    def max_total(self) -> float:
        return sum(self.max_scores.values())


def points(x: float) -> str:
    """Points as grades.csv and the report write them: 2, 1.5, 0."""
    return f"{x:g}"


def read(db_url: str, submissions) -> dict:
    """(student, assignment) -> Row, from nbgrader's gradebook, for each submission (something
    with `.student` and `.assignment`); a written answer not yet graded by hand is `pending`."""
    from nbgrader.api import Gradebook, MissingEntry
    rows, max_scores = {}, {}
    with Gradebook(db_url) as gb:
        for s in submissions:
            if s.assignment not in max_scores:
                max_scores[s.assignment] = {cell.name: cell.max_score for cell in
                                            gb.find_notebook(s.assignment, s.assignment).grade_cells}
            row = Row(s.student, s.assignment, max_scores=dict(max_scores[s.assignment]),
                      scores={name: 0.0 for name in max_scores[s.assignment]})
            try:
                sub_nb = gb.find_submission_notebook(s.assignment, s.assignment, s.student)
            except MissingEntry:
                row.status = "not graded"
            else:
                for grade in sub_nb.grades:
                    if grade.needs_manual_grade and grade.manual_score is None:  # written answer
                        del row.scores[grade.name]
                        row.pending.append(grade.name)
                    else:
                        row.scores[grade.name] = float(grade.score or 0.0)
            rows[s.student, s.assignment] = row
    return rows


def hand_grades(db: Path) -> int:
    """How many scores and comments were entered by hand in the gradebook `db` (0 if none)."""
    if not Path(db).is_file():
        return 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
            return sum(con.execute(query).fetchone()[0] for query in (
                "SELECT count(*) FROM grade WHERE manual_score IS NOT NULL",
                "SELECT count(*) FROM comment WHERE manual_comment IS NOT NULL "
                "AND manual_comment != ''"))
    except sqlite3.Error:  # not a gradebook of ours: nothing nbgrader graded by hand
        return 0
