"""Grades back into the LMS: `python -m autograder lms-export` writes a file that Canvas's,
Moodle's or Blackboard's gradebook imports as it is, from the instructor's own export of that
gradebook (the roster, lms.py) and the gradebooks of grading runs.

The file keeps the export's layout, which each LMS's importer reads back: the columns that say
who each student is, and one column per assignment graded, with its header as the LMS wrote it.
Only the students the runs graded have a row (a student left out keeps their grade in the LMS),
and their total is read from the run's gradebook when the file is written, hand grades
included. Where each format comes from:

- Canvas (instructure/canvas-lms, lib/gradebook_importer.rb): a header row whose first columns
  are `Student`, `ID`, then `SIS User ID` and `SIS Login ID` (and `Integration ID`, `Root
  Account`), ending with `Section`; each assignment column is `Title (assignment id)`, which
  the importer matches by its id (a header it does not know creates a new assignment); the
  `Points Possible` row is optional; a student is found by `ID`, then the SIS ids, then the
  name. A blank cell where Canvas holds a grade would change it, so no row has one.
- Moodle (moodle/moodle, grade/import/csv/classes/load_data.php): any columns, one of which
  the instructor maps to a user field (email address, ID number, username or user id) and one
  per grade item; a row whose user is not found stops the whole import, so only rows of the
  export are written; `-` or a blank cell clears a grade; `Last downloaded from this course`,
  when kept, makes Moodle refuse to overwrite a grade changed since the export.
- Blackboard (Grade Centre, Work Offline > Upload): `Last Name`, `First Name`, `Username`, and
  the column as downloaded, `Title [Total Pts: 10] |column id` (nbeaver/offline-grades-upload).
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

from .. import lms
from ..files import write_fresh
from . import rows as gradebook
from .rows import points


class ExportError(ValueError):
    """The import file cannot be written as asked (the message says what to do)."""


CANVAS_COLUMN = re.compile(r"^(?P<title>.*)\s+\((?P<id>\d+)\)$")
CANVAS_NOT_ASSIGNMENTS = ("Current Score", "Current Points", "Current Grade", "Final Score",
                          "Final Points", "Final Grade", "Override Score", "Override Grade",
                          "Override Status")  # as Canvas's importer leaves them out
MOODLE_COLUMN = re.compile(r"^(?:[^:]+:\s*)?(?P<title>.*?)\s+\((?P<kind>[^()]+)\)$")
BLACKBOARD_COLUMN = re.compile(r"^(?P<title>.*?)\s+\[Total Pts: (?P<max>[\d.]+)[^\]]*\]\s*\|\d+$")
BLACKBOARD_WHO = ("Last Name", "First Name", "Username")
HOW_TO_IMPORT = {
    "Canvas": "in Canvas: Grades > Import, choose this file, check the changes it shows",
    "Moodle": "in Moodle: Grades > Import > CSV file; map 'Email address' to 'Email address' "
              "(or ID number to ID number) and each column to its grade item",
    "Blackboard": "in Blackboard: Grade Centre > Work Offline > Upload",
}


@dataclass(frozen=True)
class Column:
    assignment: str
    index: int            # in the roster's header
    header: str
    out_of: float | None  # the points the LMS's column is out of, where the export says


def _key(name: str) -> str:
    return re.sub(r"[-_\s]+", " ", name.strip()).casefold()


def read_runs(folders) -> dict[str, dict[str, gradebook.Row]]:
    """assignment -> student -> Row, from the gradebook of each grading run's folder (as it is
    now: hand grades entered since the run included)."""
    from nbgrader.api import Gradebook
    found: dict[str, dict] = {}
    where: dict[str, Path] = {}
    for folder in folders:
        db = Path(folder) / "course" / "gradebook.db"
        if not db.is_file():
            raise ExportError(f"{folder} is not a grading run's folder (it has no "
                              "course/gradebook.db): pass the --out folder of `python -m "
                              "autograder grade`")
        url = f"sqlite:///{db}"
        with Gradebook(url) as gb:
            subs = [_Sub(s.student_id, a.name) for a in gb.assignments for s in a.submissions]
        for s in subs:
            if s.assignment in where and where[s.assignment] != Path(folder):
                raise ExportError(f"{s.assignment} is graded in both {where[s.assignment]} and "
                                  f"{folder}: export the run that counts")
            where[s.assignment] = Path(folder)
        for (student, assignment), row in gradebook.read(url, subs).items():
            found.setdefault(assignment, {})[student] = row
    return found


@dataclass(frozen=True)
class _Sub:
    student: str
    assignment: str


def columns(roster: lms.Roster, assignments, chosen: dict[str, str] | None = None) -> list[Column]:
    """The roster's column for each assignment: the one `chosen` names, else the one whose
    title is the assignment's name (case, spaces, '-' and '_' aside)."""
    chosen = chosen or {}
    header = roster.header
    found = []
    candidates = _assignment_columns(roster)
    for assignment in sorted(assignments):
        if assignment in chosen:
            if chosen[assignment] not in header:
                raise ExportError(f"--column {assignment}={chosen[assignment]!r}: "
                                  f"{roster.path.name} has no such column; its columns: "
                                  f"{_listing(candidates)}")
            index = header.index(chosen[assignment])
        else:
            hits = [i for i, title, _ in candidates if _key(title) == _key(assignment)]
            if len(hits) != 1:
                why = "no column" if not hits else f"{len(hits)} columns"
                raise ExportError(
                    f"{roster.path.name} has {why} for {assignment}: name the {roster.lms} "
                    f"assignment '{assignment}' and export the gradebook again, or pass "
                    f"--column {assignment}=HEADER with one of its columns: {_listing(candidates)}")
            index = hits[0]
        out_of = next((mx for i, _, mx in candidates if i == index), None)
        found.append(Column(assignment, index, header[index], out_of))
    return found


def _listing(candidates) -> str:
    return ", ".join(repr(t) for _, t, _ in candidates[:12]) or "none"


def _assignment_columns(roster: lms.Roster) -> list[tuple[int, str, float | None]]:
    """(index, title, points it is out of or None) of each column of the export that an import
    can fill."""
    out = []
    for i, h in enumerate(roster.header):
        if roster.lms == "Canvas":
            m = CANVAS_COLUMN.match(h)
            if i > _canvas_last_who(roster) and m and not h.startswith(CANVAS_NOT_ASSIGNMENTS):
                pp = roster.points_row[i].strip() if roster.points_row else ""
                out.append((i, m["title"], float(pp) if re.fullmatch(r"\d+(\.\d+)?", pp) else None))
        elif roster.lms == "Moodle":
            m = MOODLE_COLUMN.match(h)
            if m and m["kind"] == "Real":
                out.append((i, m["title"], None))
        elif roster.lms == "Blackboard":
            m = BLACKBOARD_COLUMN.match(h)
            if m:
                out.append((i, m["title"], float(m["max"])))
    return out


def _canvas_last_who(roster: lms.Roster) -> int:
    if "Section" not in roster.header:
        raise ExportError(f"{roster.path.name} has no column Section, which Canvas's import needs "
                          "after the student's columns: export the entire gradebook again")
    return roster.header.index("Section")


def _who_columns(roster: lms.Roster) -> list[int]:
    """The columns that say who each row is, kept as the export has them."""
    header = roster.header
    if roster.lms == "Canvas":
        return list(range(_canvas_last_who(roster) + 1))
    if roster.lms == "Moodle":
        return [i for i, h in enumerate(header) if not MOODLE_COLUMN.match(h)]
    if roster.lms == "Blackboard":
        return [header.index(h) for h in BLACKBOARD_WHO]
    raise ExportError(f"{roster.path.name} is nbgrader's student list, which no LMS imports: pass "
                      f"the LMS's own gradebook export ({'; '.join(lms.EXPORT_MENU.values())})")


def build(roster: lms.Roster, results: dict, chosen: dict[str, str] | None = None,
          runs: str = "the runs") -> tuple[str, list[str]]:
    """The import file's text and what the instructor should know about it: `results` is
    assignment -> student -> Row (read_runs)."""
    who = _who_columns(roster)
    cols = columns(roster, results, chosen)
    pending = sorted(f"{r.student}/{r.assignment}" for c in cols
                     for r in results[c.assignment].values() if r.pending)
    if pending:
        raise ExportError(
            f"{len(pending)} notebook(s) have written answers not graded by hand yet "
            f"({', '.join(pending[:10])}{', ...' if len(pending) > 10 else ''}): grade them in "
            "the formgrader (start jupyter lab in the run's course/ folder) and export again; "
            "their totals would leave them out")
    notes = []
    for c in cols:
        top = max((r.max_total for r in results[c.assignment].values()), default=0.0)
        if c.out_of is not None and abs(c.out_of - top) > 1e-9:
            raise ExportError(
                f"{roster.lms}'s column {c.header!r} is out of {points(c.out_of)} points and "
                f"{c.assignment} out of {points(top)}: set the {roster.lms} assignment's points to "
                f"{points(top)} and export the gradebook again")
        if roster.lms == "Moodle":
            notes.append(f"{c.assignment} is out of {points(top)} points: its Moodle grade item "
                         f"must have that maximum grade")
    out = io.StringIO(newline="")
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow([roster.header[i] for i in who] + [c.header for c in cols])
    if roster.points_row is not None:
        w.writerow([roster.points_row[i] for i in who] + [roster.points_row[c.index] for c in cols])
    written, placed = 0, set()
    for person in roster.people:
        mine = {c.assignment: results[c.assignment].get(person.student) for c in cols}
        if not person.student or not any(mine.values()):
            continue
        if len(roster.by_student(person.student)) > 1:
            continue  # named below
        row = roster.rows[person.row]
        cells = []
        for c in cols:
            r = mine[c.assignment]
            graded = r is not None and r.status != "not graded"
            cells.append(points(r.total) if graded else row[c.index])
            placed |= {(person.student, c.assignment)} if graded else set()
        w.writerow([row[i] for i in who] + cells)
        written += 1
    twice = sorted({p.student for p in roster.people if len(roster.by_student(p.student)) > 1})
    for student in twice:
        notes.append(f"not exported: {student}, whose id is on {len(roster.by_student(student))} "
                     f"rows of {roster.path.name} (column {roster.id_column}): correct them")
    left = sorted(f"{s}/{a}" for a in results for s, r in results[a].items()
                  if a in {c.assignment for c in cols} and (s, a) not in placed
                  and s not in twice)
    if left:
        notes.append(f"not exported: {', '.join(left)}: no row of {roster.path.name} has that id "
                     f"in its column {roster.id_column} (or the notebook was not graded); add the "
                     "student in the LMS and export the gradebook again")
    nobody = sum(1 for p in roster.people if p.student and not any(
        results[c.assignment].get(p.student) for c in cols))
    if nobody:
        notes.append(f"{nobody} student(s) of {roster.path.name} have no grade in {runs}: their "
                     f"{roster.lms} grades stay as they are")
    flagged = sorted(f"{r.student}/{r.assignment}" for c in cols
                     for r in results[c.assignment].values() if r.status == "needs review")
    if flagged:
        notes.append(f"exported as graded, though flagged for review in report.html: "
                     f"{', '.join(flagged)}")
    notes.insert(0, f"{written} student(s), column(s) {', '.join(repr(c.header) for c in cols)}; "
                    f"import it {HOW_TO_IMPORT[roster.lms]}")
    return out.getvalue(), notes


def export(roster_path: Path, folders, out: Path, chosen: dict[str, str] | None = None,
           id_column: str | None = None, log=print) -> int:
    """`python -m autograder lms-export`: write `out` for the LMS whose export `roster_path` is."""
    roster = lms.read_roster(roster_path, id_column)
    if Path(out).resolve() == Path(roster_path).resolve():
        raise ExportError(f"--out {out} is the roster itself: write the import file elsewhere")
    results = read_runs(folders)
    if not results:
        raise ExportError(f"no graded notebook in {', '.join(map(str, folders))}")
    text, notes = build(roster, results, chosen, runs=", ".join(map(str, folders)))
    write_fresh(out, text)
    log(f"Wrote {out} for {roster.lms}'s gradebook: {notes[0]}.")
    for note in notes[1:]:
        log(f"  {note}")
    return 0
