"""Due dates, submission times and extensions, with nbgrader's own gradebook fields.

- An assignment's **due date** is the one the instructor sets in the course's gradebook
  (`nbgrader db assignment add logits --duedate="2026-03-02 17:00:00 Europe/London"` in
  autograder/, or *Edit* in the formgrader there): a grading run copies it into its own
  gradebook, and again at every `refresh`, so a changed due date reaches every grade.
- A submission's **time** is nbgrader's: the `timestamp.txt` that `nbgrader collect` (or
  `nbgrader zip_collect`) writes beside the notebook, which nbgrader's autograde records.
- **Extensions** come from a file the instructor keeps, `autograder/extensions.csv` (or
  `--extensions FILE`): one row per student and assignment, the columns `student`,
  `assignment` and any of `weeks`, `days`, `hours`, `minutes` (nbgrader's `grant_extension`).
  A student left out of the file has no extension.
- The **penalty** is nbgrader's `AssignLatePenalties` with the plugin configured in
  autograder/nbgrader_config.py (pipeline/late.py); nbgrader computes how late from the three
  above (`SubmittedAssignment.total_seconds_late`).
"""
from __future__ import annotations

import csv
import datetime
import io
import sqlite3
import warnings
from pathlib import Path

from .. import course

EXTENSIONS = course.COURSE_ROOT / "extensions.csv"
UNITS = ("weeks", "days", "hours", "minutes")


def course_due_dates(db: Path | None = None) -> dict[str, datetime.datetime | None]:
    """assignment -> its due date (UTC) in the course's own gradebook, read only."""
    db = Path(db or course.COURSE_ROOT / "gradebook.db")
    if not db.is_file():
        return {}
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
            found = con.execute("SELECT name, duedate FROM assignment").fetchall()
    except sqlite3.Error as err:
        raise ValueError(f"{db}: cannot read the course's gradebook for the due dates ({err})")
    return {name: datetime.datetime.fromisoformat(due) if due else None for name, due in found}


def read_extensions(path: Path | None) -> dict[tuple[str, str], dict[str, float]]:
    """(student, assignment) -> nbgrader's grant_extension arguments, from the instructor's
    file (none if there is no file); a malformed file is refused, naming the row and the fix."""
    if path is None or not Path(path).is_file():
        return {}
    path = Path(path)
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    header = [h.strip() for h in (rows[0].keys() if rows else [])]
    example = "student,assignment,hours\nalice,logits,48"
    if rows and not ({"student", "assignment"} <= set(header) and set(UNITS) & set(header)):
        raise ValueError(f"{path}: expected the columns student, assignment and one or more of "
                         f"{', '.join(UNITS)}; found {', '.join(header)}. For example:\n{example}")
    found = {}
    for line, row in enumerate(rows, start=2):
        row = {(k or "").strip(): (v or "").strip() for k, v in row.items()}
        student, assignment = row.get("student", ""), row.get("assignment", "")
        if not student or not assignment:
            raise ValueError(f"{path}, row {line}: no student or assignment")
        length = {}
        for unit in UNITS:
            text = row.get(unit, "")
            if not text:
                continue
            try:
                length[unit] = float(text)
            except ValueError:
                raise ValueError(f"{path}, row {line}: {unit} {text!r} is not a number "
                                 f"(write 48 for 48 {unit})") from None
            if length[unit] < 0:
                raise ValueError(f"{path}, row {line}: a negative extension ({unit} {text})")
        if (student, assignment) in found:
            raise ValueError(f"{path}, row {line}: a second row for {student} and {assignment}")
        found[student, assignment] = length
    return found


def apply(db_url: str, pairs, extensions: dict, due: dict, log=print) -> None:
    """Into a run's gradebook: each assignment's due date, and each submission's extension (or
    none), for the (student, assignment) `pairs`; what was applied is logged."""
    from nbgrader.api import Gradebook
    from sqlalchemy.exc import SAWarning
    pairs = sorted(set(pairs))
    names = sorted({a for _, a in pairs})
    # nbgrader's add_submission makes SQLAlchemy warn about its own session, three times a
    # submission, with nothing to act on.
    with warnings.catch_warnings(), Gradebook(db_url) as gb:
        warnings.simplefilter("ignore", SAWarning)
        for name in names:
            gb.update_or_create_assignment(name, duedate=due.get(name))
        given, undated = 0, []
        for student, assignment in pairs:
            gb.update_or_create_submission(assignment, student)
            length = extensions.get((student, assignment), {})
            if not due.get(assignment) and any(length.values()):
                undated.append(f"{student}/{assignment}")  # nbgrader needs a date to extend
                length = {}
            gb.grant_extension(assignment, student, **{k: v for k, v in length.items() if v})
            given += any(length.values())
    for name in names:
        log(f"Due date of {name}: " + (f"{due[name]:%Y-%m-%d %H:%M} UTC" if due.get(name) else
                                      "none (set one with `nbgrader db assignment add "
                                      f"{name} --duedate=...` in autograder/)") + ".")
    if undated:
        log(f"Extensions ignored, their assignment has no due date: {', '.join(undated)}.")
    unknown = sorted(set(extensions) - set(pairs))
    if given or unknown:
        log(f"Extensions: {given} given" + (
            "; for no submission here: " + ", ".join(f"{s}/{a}" for s, a in unknown)
            if unknown else "") + ".")
