"""What learning platforms write: the names their submission downloads give each file, and the
gradebook exports that say who is who (the roster), read as each platform makes them.

Submission downloads (where each format is documented: the platform's own code where it is
public):

- Canvas, *Download Submissions* (instructure/canvas-lms, lib/content_zipper.rb,
  `get_filename` and `add_upload_submission`): flat files
  `<name>[_LATE]_<user id>_<attachment id>_<file name>`, where `<name>` is the student's
  sortable name ("Doe, Jane") lowercased with everything but letters, digits and `_` removed
  (`doejane`), `LATE` marks a submission after the due date and the attachment id grows with
  every upload; anonymous grading writes `anon_<anonymous id>` instead of the name and user id.
  A file uploaded again under the same name is renamed `softmax-1.ipynb`, `softmax-2.ipynb`
  (Attachment.make_unique_filename). A text entry is `<name>_<user id>_text.html`.
- Moodle, *Download all submissions* (moodle/moodle, mod/assign/locallib.php,
  `download_submissions`): one folder per student and plugin,
  `<Full Name>_<participant id>_assignsubmission_file_/<file name>` (the default since Moodle
  3.1), or flat files `<Full Name>_<participant id>_assignsubmission_file_<file name>`; the
  full name has its `_` replaced by spaces, and blind marking writes `Participant` instead.
  A file uploaded again under the same name is renamed `softmax (1).ipynb`
  (file_storage::get_unused_filename). The participant id is the assignment's own
  ("Participant 1005" in the grading worksheet), not the user's.
- Blackboard Learn, *Grade Centre > Assignment File Download*:
  `<assignment title>_<username>_attempt_<YYYY-MM-DD-hh-mm-ss>_<file name>`, and a receipt
  `<assignment title>_<username>_attempt_<YYYY-MM-DD-hh-mm-ss>.txt` per attempt (the layout
  kwurst/bb-file-cleanup's tests and vangef/BBGradebookOrganiser's guide show).

Roster exports:

- Canvas's gradebook export (*Grades > Export*): columns `Student` (the sortable name), `ID` (the
  user id of the file names), `SIS User ID`, `SIS Login ID`, `Section`, then one column per
  assignment, `Title (assignment id)`, and a `Points Possible` row; Canvas's importer
  (lib/gradebook_importer.rb) reads the same layout back.
- Moodle's grade export (*Grades > Export > Plain text file*, grade/export/txt): `First name`,
  `Last name`, `ID number`, `Institution`, `Department`, `Email address` (the profile fields the
  site exports), one column per grade item, `Assignment: title (Real)`, and `Last downloaded
  from this course`; its CSV import (grade/import/csv) finds each row's user by email address,
  ID number, username or user id.
- Blackboard's Grade Centre (*Work Offline > Download*): `Last Name`, `First Name`, `Username`,
  then `Title [Total Pts: 10] |column id` per column (as nbeaver/offline-grades-upload shows).
- nbgrader's own roster (`nbgrader db student import`): `id`, `first_name`, `last_name`,
  `email`, `lms_user_id`.

Which column holds each student's nbgrader id: `id` in nbgrader's roster, `SIS Login ID` in
Canvas's, `Username` in Blackboard's and in a Moodle export that has one, else `ID number`;
`--id-column` names another.
"""
from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

# --- file names ------------------------------------------------------------------------------

CANVAS = re.compile(r"^(?P<name>[^/]*?)(?P<late>_LATE)?_(?P<uid>\d+)_(?P<order>\d+)_(?P<file>.+)$")
CANVAS_ANONYMOUS = re.compile(r"^anon_(?P<uid>[A-Za-z0-9]+)_(?P<order>\d+)_(?P<file>.+)$")
CANVAS_TEXT = re.compile(r"^(?P<name>[^/]*?)(?P<late>_LATE)?_(?P<uid>\d+)_"
                         r"(?P<file>text|link)\.html$")
MOODLE_FOLDER = re.compile(r"^(?P<name>[^_/]+)_(?P<uid>\d+)_assignsubmission_(?P<plugin>[a-z]+)_$")
MOODLE_FLAT = re.compile(r"^(?P<name>[^_/]+)_(?P<uid>\d+)_assignsubmission_(?P<plugin>[a-z]+)_"
                         r"(?P<file>.+)$")
BLACKBOARD = re.compile(r"^(?P<head>.+)_attempt_(?P<order>\d{4}(?:-\d{2}){5})"
                        r"(?:_(?P<file>.+)|\.txt)$")
# A file name that LMSs made unique: `softmax-1.ipynb` (Canvas), `softmax (1).ipynb` (Moodle).
AGAIN = re.compile(r"^(?P<base>.*?)(?:-(?P<dash>\d{1,3})| \((?P<paren>\d{1,3})\))?$")


@dataclass(frozen=True)
class LmsFile:
    """What a file's name says, as one platform names the files of its download."""
    lms: str            # "Canvas", "Moodle" or "Blackboard"
    name: str           # the student as the name says it: a name, or a username
    lms_id: str         # Canvas's user id, Moodle's participant id, Blackboard's username
    file: str           # the file as the student uploaded it (renamed if uploaded again)
    order: tuple = ()   # sorts a student's uploads from first to last, where the name says
    late: bool = False  # Canvas marked it LATE
    anonymous: bool = False   # Canvas's anonymous grading or Moodle's blind marking
    receipt: bool = False     # Blackboard's attempt receipt, not the student's file
    text_entry: bool = False  # a text or link typed in the LMS, not a file
    candidates: tuple = ()    # Blackboard: other readings of `<title>_<username>`


def parse(relpath: str) -> LmsFile | None:
    """How Canvas, Moodle or Blackboard named this file of a download (a path relative to the
    download's top), or None for a name none of them gives."""
    parts = relpath.split("/")
    for i, part in enumerate(parts[:-1]):
        m = MOODLE_FOLDER.match(part)
        if m:
            return _moodle(m, "/".join(parts[i + 1:]))
    base = parts[-1]
    m = MOODLE_FLAT.match(base)
    if m:
        return _moodle(m, m["file"])
    m = BLACKBOARD.match(base)
    if m:
        heads = m["head"].split("_")
        readings = tuple("_".join(heads[i:]) for i in range(len(heads) - 1, 0, -1))
        if not readings:
            return None
        return LmsFile("Blackboard", readings[0], readings[0], m["file"] or "", (m["order"],),
                       receipt=m["file"] is None, candidates=readings)
    m = CANVAS_ANONYMOUS.match(base)
    if m:
        return LmsFile("Canvas", "anon_" + m["uid"], "", m["file"], (int(m["order"]),),
                       anonymous=True)
    m = CANVAS_TEXT.match(base)
    if m:
        return LmsFile("Canvas", m["name"], m["uid"], base, late=bool(m["late"]), text_entry=True)
    m = CANVAS.match(base)
    if m and m["name"]:
        return LmsFile("Canvas", m["name"], m["uid"], m["file"], (int(m["order"]),),
                       late=bool(m["late"]))
    return None


def _moodle(m, file: str) -> LmsFile:
    name = m["name"].strip()
    return LmsFile("Moodle", name, m["uid"], file, anonymous=name == "Participant",
                   text_entry=m["plugin"] != "file")


def uploaded_again(file: str) -> tuple[str, int]:
    """A file name without the suffix an LMS adds to a name uploaded again, and that suffix's
    number (0 for none): `softmax-2.ipynb` -> (`softmax.ipynb`, 2)."""
    stem, dot, ext = file.rpartition(".")
    if not dot:
        stem, ext = file, ""
    m = AGAIN.match(stem)
    again = int(m["dash"] or m["paren"] or 0)
    return (m["base"] + dot + ext if again else file), again


def name_key(name: str) -> str:
    """A person's name as the platforms' file names keep it, for matching: letters and digits
    only, case ignored (`Doe, Jane` and Canvas's `doejane` are the same key)."""
    return re.sub(r"[\W_]+", "", unicodedata.normalize("NFKC", name)).casefold()


# --- rosters ---------------------------------------------------------------------------------

# Where each platform's roster export is, for the messages that ask for one.
EXPORT_MENU = {
    "Canvas": "Canvas's gradebook export (Grades > Export > Export Entire Gradebook)",
    "Moodle": "Moodle's grade export (Grades > Export > Plain text file)",
    "Blackboard": "Blackboard's Grade Centre download (Work Offline > Download)",
}

class RosterError(ValueError):
    """A roster file that cannot be read as one of the exports above (the message says why)."""


@dataclass(frozen=True)
class Person:
    student: str        # the nbgrader id ("" where the roster leaves it empty)
    lms_id: str         # the id the LMS's file names carry ("" where the roster has none)
    label: str          # how to name the person in a message
    row: int            # the index of the person's row in Roster.rows


@dataclass
class Roster:
    path: Path
    lms: str                 # "Canvas", "Moodle", "Blackboard" or "nbgrader"
    header: list
    rows: list               # every row of a person, as read
    id_column: str
    points_row: list | None = None   # Canvas's "Points Possible"
    people: list = field(default_factory=list)
    _by_id: dict = field(default_factory=dict)
    _by_name: dict = field(default_factory=dict)
    _by_student: dict = field(default_factory=dict)

    def by_lms_id(self, lms_id: str) -> list[Person]:
        return self._by_id.get(lms_id, [])

    def by_name(self, name: str) -> list[Person]:
        return self._by_name.get(name_key(name), [])

    def by_student(self, student: str) -> list[Person]:
        return self._by_student.get(student, [])

    @property
    def has_lms_ids(self) -> bool:
        return bool(self._by_id)


# The columns of each export that identify the LMS, and where each reads ids and names.
_FORMATS = {
    # lms: (columns that must be there, LMS id column, name columns, default id columns)
    "Canvas": (("Student", "ID"), "ID", (("Student",),), ("SIS Login ID",)),
    "Moodle": (("First name", "Last name"), None,
               (("First name", "Last name"), ("Last name", "First name")),
               ("Username", "ID number")),
    "Blackboard": (("Last Name", "First Name", "Username"), "Username",
                   (("First Name", "Last Name"), ("Last Name", "First Name")), ("Username",)),
    "nbgrader": (("id",), "lms_user_id",
                 (("first_name", "last_name"), ("last_name", "first_name")), ("id",)),
}


def _decode(data: bytes, path: Path) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # Blackboard's .xls downloads: UTF-16
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise RosterError(f"{path}: not UTF-8 text; export it again as CSV in UTF-8 (Moodle: "
                          "the export's encoding option; a spreadsheet: Save as CSV UTF-8)"
                          ) from None


def _which(header: list[str]) -> str | None:
    cells = [h.strip() for h in header]
    if len(cells) > 1 and cells[0] == "Student" and cells[1] == "ID":  # as Canvas's importer
        return "Canvas"
    for lms, (needed, *_rest) in _FORMATS.items():
        if lms != "Canvas" and all(n in cells for n in needed):
            return lms
    return None


def read_roster(path, id_column: str | None = None) -> Roster:
    """The roster in `path`: Canvas's, Moodle's or Blackboard's gradebook export, or nbgrader's
    student list; `id_column` names the column of nbgrader ids when it is not the default."""
    path = Path(path)
    try:
        text = _decode(path.read_bytes(), path)
    except OSError as err:
        raise RosterError(f"--roster {path}: {err.strerror or err}") from None
    first = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first.count)
    table = [row for row in csv.reader(io.StringIO(text), delimiter=delimiter) if any(row)]
    if not table:
        raise RosterError(f"{path} is empty: export the gradebook from the LMS again")
    header = [h.strip() for h in table[0]]
    lms = _which(header)
    if lms is None:
        raise RosterError(
            f"{path}: not a roster this grader reads; expected Canvas's gradebook export "
            "(Student, ID, SIS User ID, SIS Login ID, Section, ...), Moodle's grade export "
            "(First name, Last name, ID number, Email address, ...), Blackboard's Grade Centre "
            "(Last Name, First Name, Username, ...) or nbgrader's student list (id, first_name, "
            f"last_name, email, lms_user_id); its columns are: {', '.join(header[:8])}")
    _needed, lms_id_column, name_columns, defaults = _FORMATS[lms]
    if id_column is None:
        id_column = next((c for c in defaults if c in header), defaults[-1])
    if id_column not in header:
        raise RosterError(f"{path} ({lms}'s export) has no column {id_column!r} for the students' "
                          f"nbgrader ids; name the one that holds them with --id-column (its "
                          f"columns: {', '.join(header[:8])})")
    roster = Roster(path, lms, header, [], id_column)
    col = {h: i for i, h in reversed(list(enumerate(header)))}

    def cell(row, name):
        i = col.get(name)
        return row[i].strip() if i is not None and i < len(row) else ""

    for row in table[1:]:
        row = row + [""] * (len(header) - len(row))
        if lms == "Canvas" and "Points Possible" in row[0]:
            roster.points_row = row
            continue
        if lms == "Canvas" and all(re.fullmatch(r"\s*(Muted|Manual Posting.*)?\s*", c, re.I)
                                   for c in row):
            continue  # Canvas's row of muted or manually posted assignments
        index = len(roster.rows)
        roster.rows.append(row)
        names = [" ".join(cell(row, c) for c in cols).strip() for cols in name_columns]
        lms_id = cell(row, lms_id_column) if lms_id_column else ""
        label = names[0] or lms_id or f"row {index + 2}"
        person = Person(cell(row, id_column), lms_id, label, index)
        roster.people.append(person)
        if lms_id:
            roster._by_id.setdefault(lms_id, []).append(person)
        for key in {name_key(n) for n in names if name_key(n)}:
            roster._by_name.setdefault(key, []).append(person)
        if person.student:
            roster._by_student.setdefault(person.student, []).append(person)
    return roster
