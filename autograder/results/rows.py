"""The gradebook read back: one `Row` per student and assignment, the points of each graded
cell (what grades.csv, the report and the feedback show), when it was submitted against its due
date (nbgrader's timestamp, due date, extension and late penalty), and the hand grades it holds."""
from __future__ import annotations

import datetime
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

CHANGED = "answer changed since graded"  # a hand grade kept through a resubmission


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
    by_hand: list = field(default_factory=list)   # cells whose score was entered by hand
    changed: list = field(default_factory=list)   # of those, answers changed since (CHANGED)
    submitted: datetime.datetime | None = None    # nbgrader's timestamp (UTC), if known
    due: datetime.datetime | None = None          # the due date, extension included (UTC)
    extension: datetime.timedelta | None = None   # the student's extension, if any
    seconds_late: float = 0.0
    penalty: float = 0.0                          # points taken off for lateness

    @property
    def raw_total(self) -> float:
        """The points of the graded cells, before any late penalty."""
        return sum(self.scores.values())

    @property
    def total(self) -> float:
        """The points that count: the graded cells' less the late penalty."""
        return max(0.0, self.raw_total - self.penalty)

    @property
    def max_total(self) -> float:
        return sum(self.max_scores.values())

    @property
    def pending_points(self) -> float:
        return sum(self.max_scores.get(c, 0.0) for c in self.pending)

    @property
    def late(self) -> str:
        """'late by 1 day 2 h' for a late submission, else ''."""
        return f"late by {duration(self.seconds_late)}" if self.seconds_late > 0 else ""


def points(x: float) -> str:
    """Points as grades.csv and the report write them: 2, 1.5, 0."""
    return f"{round(x, 6):g}"


def duration(seconds: float) -> str:
    """A lateness or an extension as people say it: 45 min, 3 h 05 min, 2 days 4 h."""
    minutes = max(1, round(seconds / 60)) if seconds > 0 else 0
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days} day{'s' if days > 1 else ''}" + (f" {hours} h" if hours else "")
    if hours:
        return f"{hours} h {minutes:02d} min" if minutes else f"{hours} h"
    return f"{minutes} min"


def when(moment: datetime.datetime | None) -> str:
    """A UTC time as grades.csv writes it: 2026-03-02 17:00:00 UTC."""
    return f"{moment:%Y-%m-%d %H:%M:%S} UTC" if moment else ""


def read(db_url: str, submissions) -> dict:
    """(student, assignment) -> Row, from nbgrader's gradebook, for each submission (something
    with `.student` and `.assignment`). A written answer not yet graded by hand is `pending`; a
    score entered by hand that nbgrader marks as needing a grade again (a resubmission changed
    its answer, see run/command.py) is `changed`."""
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
                sub = gb.find_submission(s.assignment, s.student)
                sub_nb = gb.find_submission_notebook(s.assignment, s.assignment, s.student)
            except MissingEntry:
                row.status = "not graded"
            else:
                due = sub.assignment.duedate
                row.submitted, row.extension = sub.timestamp, sub.extension if due else None
                row.due = due + row.extension if due and row.extension else due
                row.seconds_late = max(0.0, (row.submitted - row.due).total_seconds()) \
                    if row.submitted and row.due else 0.0
                row.penalty = float(sub_nb.late_submission_penalty or 0.0)
                for grade in sub_nb.grades:
                    if grade.needs_manual_grade and grade.manual_score is None:  # written answer
                        del row.scores[grade.name]
                        row.pending.append(grade.name)
                        continue
                    row.scores[grade.name] = float(grade.score or 0.0)
                    if grade.manual_score is not None:
                        row.by_hand.append(grade.name)
                        if grade.needs_manual_grade:
                            row.changed.append(grade.name)
            rows[s.student, s.assignment] = row
    return rows


def submissions(db_url: str) -> list[tuple[str, str]]:
    """(student, assignment) of every submission the gradebook holds."""
    from nbgrader.api import Gradebook
    with Gradebook(db_url) as gb:
        return sorted((sub.student.id, sub.assignment.name) for a in gb.assignments
                      for sub in a.submissions)


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
