"""Finding submissions: a folder laid out as nbgrader's `submitted/`, or an LMS download (a zip,
or the folder it unzips to) as Canvas, Moodle and Blackboard make it (their naming: lms.py).

A student is who the file's name says, mapped to an nbgrader id through the instructor's roster
export where the name is not one (lms.Roster). Of several uploads of one student's notebook the
latest is graded, and the others are reported as superseded, not as problems. Everything else
that is not a gradable notebook in the right place becomes a `Problem`, with the student's name
on it where the file says it and what to do, never an exception that stops the run.
"""
from __future__ import annotations

import dataclasses
import json
import re
import shutil
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from .. import files, lms

# nbgrader zip_collect's convention, for downloads no platform above named:
# "jane-doe_logits.ipynb", "jane-doe_anything_logits.ipynb".
LMS_NAME = re.compile(r"^(?P<student>[A-Za-z0-9][\w.\-]*?)_(?:.*_)?(?P<file>[\w\-]+)\.ipynb$")
SAFE_ID = re.compile(r"^[A-Za-z0-9][\w.\-]{0,99}$")
MAX_NOTEBOOK_BYTES = 20 * 2 ** 20
MAX_DOWNLOAD_ENTRIES = 100_000   # files and folders of a whole class's download
LISTED = 10                      # ignored files named one by one in the log
USER = {"Canvas": "Canvas user", "Moodle": "Moodle participant", "Blackboard": "Blackboard user"}


@dataclass(frozen=True)
class Submission:
    student: str
    assignment: str
    path: Path
    notes: tuple = ()    # for grades.csv and the report (a LATE mark, an upload left out)


@dataclass(frozen=True)
class Problem:
    student: str
    assignment: str
    problem: str


@dataclass
class Found:
    """What a folder or a download holds: the submissions to grade, what cannot be graded, and
    the rest, counted for the log (`summary`)."""
    submissions: list
    problems: list
    source: str                    # what was read, for the log
    assignments: list
    files: int = 0                 # files read, in an LMS download
    lms: bool = False              # read as an LMS download (else nbgrader's folder layout)
    platforms: set = field(default_factory=set)   # which LMSs named its files
    superseded: list = field(default_factory=list)  # (file, file graded instead, student)
    ignored: list = field(default_factory=list)     # files that are no submission, with why
    roster: str = ""               # the roster that named the students ("": their file names)

    def summary(self) -> list[str]:
        """The log's account of what was found: counts, then every problem with its fix, every
        superseded upload and the files ignored."""
        students = len({s.student for s in self.submissions})
        what = ", ".join(self.assignments)
        if not self.lms:
            lines = [f"Found {len(self.submissions)} submission(s) of {what} from {students} "
                     f"student(s) in {self.source}; {len(self.problems)} problem(s)."]
        else:
            made = f" (named by {', '.join(sorted(self.platforms))})" if self.platforms else ""
            lines = [f"Found {self.files} file(s) in {self.source}{made}: "
                     f"{len(self.submissions)} notebook(s) of {what} to grade, from {students} "
                     f"student(s); {len(self.superseded)} earlier upload(s) superseded, "
                     f"{len(self.ignored)} file(s) ignored; {len(self.problems)} problem(s)."]
        for p in self.problems:
            who = "/".join(x for x in (p.student, p.assignment) if x)
            lines.append(f"  not graded: {who + ': ' if who else ''}{p.problem}")
        for old, new, student in self.superseded:
            lines.append(f"  superseded: {old} ({student}'s earlier upload; graded {new})")
        if self.platforms and not self.roster and self.submissions:
            named = ", ".join(sorted({s.student for s in self.submissions})[:LISTED])
            lines.append(f"  no --roster: the students are named as the file names say ({named}"
                         f"{', ...' if students > LISTED else ''}); where those are not the ids "
                         "you gave `python -m autograder ids`, grade again with --roster and the "
                         "gradebook's export")
        if self.ignored:
            shown = "; ".join(self.ignored[:LISTED])
            more = f"; and {len(self.ignored) - LISTED} more" if len(self.ignored) > LISTED else ""
            lines.append(f"  ignored: {shown}{more}")
        return [files.safe_text(line) for line in lines]


def find(path: Path, assignments: list[str], workdir: Path | None = None,
         roster: lms.Roster | None = None) -> Found:
    """All gradable submissions under `path` (a folder or a .zip) for the given assignments; a
    zip is unpacked, and an LMS download's notebooks copied, in `workdir` (which the caller
    removes; by default a new temporary folder). `roster` maps the names an LMS gives files to
    nbgrader ids."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"--submissions {path}: no such file or folder")
    if path.is_file() and zipfile.is_zipfile(path):
        tmp = Path(workdir or tempfile.mkdtemp(prefix="submissions-"))
        return _from_zip(path, assignments, tmp, roster)
    if path.is_file():
        raise ValueError(f"--submissions {path}: expected a folder or a .zip file")
    if not _looks_like_layout(path, assignments) and _looks_like_lms(path):
        tmp = Path(workdir or tempfile.mkdtemp(prefix="submissions-"))
        return _from_lms_files(path, assignments, tmp / "layout", roster, str(path))
    subs, problems = _from_folder(path, assignments)
    return Found(subs, problems, str(path), list(assignments))


def _from_folder(root: Path, assignments: list[str]):
    subs, problems = [], []
    for student_dir in sorted(p for p in root.iterdir() if not p.name.startswith(".")):
        student = student_dir.name
        if not student_dir.is_dir():
            problems.append(Problem(student, "", f"stray file {student_dir.name} at the top level "
                                    "(expected <student>/<assignment>/<assignment>.ipynb)"))
            continue
        if not SAFE_ID.match(student):
            problems.append(Problem(student, "", "student folder name has unusual characters; skipped"))
            continue
        found_any = False
        for assignment in assignments:
            folder = student_dir / assignment
            if not folder.is_dir():
                continue
            found_any = True
            sub, problem = _check_notebook(student, assignment, folder)
            subs += [sub] if sub else []
            problems += [problem] if problem else []
        if not found_any:
            entries = sorted(p.name for p in student_dir.iterdir())
            problems.append(Problem(student, "", "no assignment folder found" + (
                f" (found: {', '.join(entries[:5])})" if entries else " (the folder is empty)")))
    return subs, problems


def _check_notebook(student: str, assignment: str, folder: Path):
    expected = folder / f"{assignment}.ipynb"
    if not expected.exists():
        others = sorted(p.name for p in folder.glob("*.ipynb"))
        what = f"found {', '.join(others)} instead" if others else "the folder has no notebook"
        return None, Problem(student, assignment, f"no {expected.name} ({what}); notebooks must "
                                                  "keep their released name")
    if expected.stat().st_size > MAX_NOTEBOOK_BYTES:
        return None, Problem(student, assignment, f"{expected.name} is larger than "
                                                  f"{MAX_NOTEBOOK_BYTES // 2 ** 20} MB; not graded")
    data = expected.read_bytes()
    depth = files.json_depth(data)
    if depth > files.MAX_JSON_DEPTH:
        return None, Problem(student, assignment, f"{expected.name} nests {depth} levels deep "
                                                  f"(a notebook needs fewer than "
                                                  f"{files.MAX_JSON_DEPTH}); not graded")
    try:
        nb = nbformat.reads(data.decode("utf-8"), as_version=4)
        nbformat.validate(nb)
    except (json.JSONDecodeError, UnicodeDecodeError, nbformat.ValidationError, ValueError,
            KeyError, TypeError, AttributeError, RecursionError) as err:
        return None, Problem(student, assignment, f"{expected.name} is not a valid notebook "
                                                  f"({type(err).__name__}: {str(err)[:120]})")
    return Submission(student, assignment, expected), None


def _from_zip(archive: Path, assignments: list[str], tmp: Path, roster):
    """An LMS zip: either the nbgrader folder layout inside, or files named by the LMS."""
    unsafe = []
    with zipfile.ZipFile(archive) as zf:
        for info in zf.infolist():
            name = Path(info.filename)
            if info.is_dir() or not name.parts or name.parts[0] == "__MACOSX" or \
                    name.name.startswith("."):
                continue  # no resource forks, no hidden files
            if name.is_absolute() or ".." in name.parts:
                unsafe.append(Problem("", "", f"{info.filename}: its path leaves the archive; not "
                                      "read (download the archive from the LMS again)"))
                continue
            target = tmp / "unzipped" / name
            target.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(info) as src, open(target, "wb") as dst:
                shutil.copyfileobj(src, dst, length=2 ** 20)
    unzipped = tmp / "unzipped"
    if not unzipped.exists():
        return Found([], [Problem("", "", f"{archive.name} contains no files")] + unsafe,
                     archive.name, list(assignments), files=len(unsafe), lms=True)
    # A single top-level folder is unwrapped (many LMSs add one), unless it is a student's own.
    tops = list(unzipped.iterdir())
    root = unzipped
    if (len(tops) == 1 and tops[0].is_dir() and not _looks_like_layout(unzipped, assignments)
            and not lms.parse(tops[0].name + "/x")):
        root = tops[0]
    if _looks_like_layout(root, assignments):
        subs, problems = _from_folder(root, assignments)
        return Found(subs, unsafe + problems, archive.name, list(assignments))
    found = _from_lms_files(root, assignments, tmp / "layout", roster, archive.name)
    found.problems[:0] = unsafe
    found.files += len(unsafe)
    return found


def _looks_like_layout(root: Path, assignments: list[str]) -> bool:
    return any((d / a).is_dir() for d in root.iterdir() if d.is_dir() for a in assignments)


def _looks_like_lms(root: Path) -> bool:
    """Whether a folder is an unzipped LMS download: a file its platform named, or a file
    named `<student>_..._<assignment>.ipynb` at its top."""
    for _, rel, is_dir, _ in files.walk_regular(root, max_entries=MAX_DOWNLOAD_ENTRIES):
        if not is_dir and (lms.parse(rel) or ("/" not in rel and LMS_NAME.match(rel))):
            return True
    return False


def _key(name: str) -> str:
    return re.sub(r"[-_\s]+", "-", name.strip()).casefold()


def _assignment_of(file: str, assignments: list[str]) -> tuple[str | None, int]:
    """The assignment a notebook's file name is of (None if none), and the number an LMS added
    to the name when it was uploaded again (`softmax-2.ipynb`: 2)."""
    plain, again = lms.uploaded_again(file.rsplit("/", 1)[-1])
    if not plain.lower().endswith(".ipynb"):
        return None, again
    stem = _key(plain[:-len(".ipynb")])
    return next((a for a in assignments if _key(a) == stem), None), again


@dataclass
class _Upload:
    rel: str              # path in the download
    path: Path
    named: lms.LmsFile | None   # None: nbgrader zip_collect's naming
    again: int = 0

    @property
    def order(self):
        return ((self.named.order if self.named else ()), self.again)


def _who(f: lms.LmsFile, roster: lms.Roster | None) -> tuple[str | None, str]:
    """The nbgrader id of the student an LMS's file name names, or None and why not (with what
    the instructor can do)."""
    if f.anonymous:
        return None, {
            "Canvas": "Canvas's anonymous grading hides whose file this is: turn it off for the "
                      "assignment (or post its grades), download the submissions again and grade "
                      "that download",
            "Moodle": "Moodle's blind marking hides whose file this is: reveal the student "
                      "identities (the assignment's settings menu) and download the submissions "
                      "again"}[f.lms]
    export = lms.EXPORT_MENU[f.lms]
    if roster is None:
        if SAFE_ID.match(f.name):
            return f.name, ""
        return None, (f"{f.lms} names this student '{f.name}', which is not a student id: "
                      f"grade again with --roster and {export}, which maps names to nbgrader ids")
    readings = f.candidates or (f.name,)
    people, by = [], f"the name '{f.name}'"
    if f.lms in ("Canvas", "Blackboard") and roster.has_lms_ids:
        by = f"{f.lms} user {f.lms_id}" if f.lms == "Canvas" else f"username '{f.name}'"
        people = next((roster.by_lms_id(r) for r in ((f.lms_id,) if f.lms == "Canvas" else readings)
                       if roster.by_lms_id(r)), [])
    elif f.lms == "Blackboard":
        by = f"username '{f.name}'"
        people = next((roster.by_student(r) for r in readings if roster.by_student(r)), [])
    else:
        people = roster.by_name(f.name)
    where = roster.path.name
    if not people:
        return None, (f"{by} is not in {where} ({roster.lms}'s export): export it again from "
                      f"{f.lms} (a student who enrolled after the export is missing from it), "
                      "or put this notebook in a folder <student>/<assignment>/<assignment>.ipynb "
                      "and grade that folder")
    if len({p.student for p in people}) > 1:
        which = ", ".join(f"{p.label}: {p.student or 'no id'}" for p in people)
        return None, (f"{by} matches {len(people)} students in {where} ({which}): put this "
                      "notebook in a folder <student>/<assignment>/<assignment>.ipynb and grade "
                      "that folder")
    person = people[0]
    if not person.student:
        return None, (f"{where} has no {roster.id_column} for {person.label}: fill it in with "
                      "their nbgrader id, or pass --id-column with the column that holds it")
    if not SAFE_ID.match(person.student):
        return None, (f"{where} gives {person.label} the id '{person.student}' in its column "
                      f"{roster.id_column}, which is not a student id (letters, digits, '.', '_' "
                      "and '-'): pass --id-column with the column of nbgrader ids")
    return person.student, ""


def _from_lms_files(root: Path, assignments: list[str], layout: Path, roster, source: str):
    """Files named by Canvas, Moodle or Blackboard (lms.parse), or `<student>_..._<assignment>
    .ipynb`: one submission per student and assignment, the latest upload where there are
    several."""
    found = Found([], [], source, list(assignments), lms=True,
                  roster=roster.path.name if roster else "")
    uploads: dict[tuple[str, str], list[_Upload]] = {}
    identities: dict[str, set] = {}      # student -> the LMS users read as them
    others: dict[str, list[str]] = {}    # student -> their files that are no notebook of ours
    left_out: list[str] = []
    for path, rel, is_dir, _ in files.walk_regular(root, max_entries=MAX_DOWNLOAD_ENTRIES,
                                                   left_out=left_out):
        if is_dir or any(part.startswith(".") or part == "__MACOSX" for part in rel.split("/")):
            continue
        found.files += 1
        named = lms.parse(rel)
        if named is None:
            generic = LMS_NAME.match(rel.rsplit("/", 1)[-1])
            assignment, again = _assignment_of(generic["file"] + ".ipynb", assignments) \
                if generic else (None, 0)
            if generic and assignment and SAFE_ID.match(generic["student"]):
                uploads.setdefault((generic["student"], assignment), []).append(
                    _Upload(rel, Path(path), None, again))
            elif rel.lower().endswith(".ipynb"):
                found.problems.append(Problem("", "", (
                    f"{rel}: cannot tell whose notebook this is from its name (expected a name as "
                    "Canvas, Moodle or Blackboard give files, or <student>_<assignment>.ipynb): "
                    "rename it <student>_<assignment>.ipynb, or put it in a folder "
                    "<student>/<assignment>/<assignment>.ipynb and grade that folder")))
            else:
                found.ignored.append(f"{rel} (no notebook, and its name says no student's)")
            continue
        found.platforms.add(named.lms)
        if named.receipt:
            found.ignored.append(f"{rel} (Blackboard's receipt of an attempt)")
            continue
        student, why = _who(named, roster)
        if student is None:
            found.problems.append(Problem("", "", f"{rel}: {why}"))
            continue
        identities.setdefault(student, set()).add((named.lms, named.lms_id))
        assignment, again = (None, 0) if named.text_entry else \
            _assignment_of(named.file, assignments)
        if assignment is None:
            others.setdefault(student, []).append(rel)
            continue
        uploads.setdefault((student, assignment), []).append(_Upload(rel, Path(path), named, again))
    if left_out:
        found.problems.append(Problem("", "", f"{source}: {', '.join(sorted(set(left_out)))}; the "
                                      "rest was not read (grade the download in parts)"))

    shared = {s for s, ids in identities.items() if len(ids) > 1}
    for student in sorted(shared):
        ids = sorted(identities[student])
        platform = ids[0][0]
        users = " and ".join(f"{USER[p]} {i}" for p, i in ids)
        if platform == "Moodle" or roster is None and platform == "Blackboard":
            fix = (f"{platform} gives them the same name: put each one's notebook in a folder "
                   "<student>/<assignment>/<assignment>.ipynb and grade that folder")
        elif roster is None:
            fix = (f"grade again with --roster and {lms.EXPORT_MENU[platform]}, whose IDs tell "
                   "them apart")
        else:
            fix = (f"{roster.path.name} gives them the same {roster.id_column}: correct it and "
                   "grade again")
        found.problems.append(Problem(student, "", f"{users} are both read as {student}, so "
                                      f"none of their files was graded: {fix}"))
    for (student, assignment), ups in sorted(uploads.items()):
        if student in shared:
            continue
        sub, problem = _one_upload(student, assignment, ups, layout, found)
        found.submissions += [sub] if sub else []
        found.problems += [problem] if problem else []
    graded = {s.student for s in found.submissions} | {p.student for p in found.problems}
    for student, names in sorted(others.items()):
        if student not in graded and student not in shared:
            found.problems.append(Problem(student, "", (
                f"no notebook of {', '.join(assignments)} among their files ({', '.join(names)}): "
                f"ask them to upload {' or '.join(a + '.ipynb' for a in assignments)}, the "
                "notebook as released (a renamed notebook can be renamed back and graded from a "
                "folder <student>/<assignment>/<assignment>.ipynb)")))
        else:
            found.ignored += [f"{name} (beside {student}'s notebook)" for name in names]
    return found


def _one_upload(student: str, assignment: str, ups: list[_Upload], layout: Path, found: Found):
    """The upload that counts of one student's notebook (the latest), checked and copied into
    the folder layout; the others are superseded, or named in a note where the names cannot
    tell which one is the latest."""
    ups = sorted(ups, key=lambda u: (u.order, u.rel))
    top = [u for u in ups if u.order == ups[-1].order]
    latest, notes = top[0], []
    found.superseded += [(u.rel, latest.rel, student) for u in ups if u.order != latest.order]
    if len(top) > 1:
        notes.append(f"{len(top)} files for this notebook, and their names do not say which is "
                     f"the latest: graded {latest.rel}, not {', '.join(u.rel for u in top[1:])} "
                     "(remove the files that do not count and grade again)")
    if latest.named and latest.named.late:
        notes.append(f"{latest.named.lms} marked this submission LATE (after its due date)")
    dest = layout / student / assignment / f"{assignment}.ipynb"
    dest.parent.mkdir(parents=True, exist_ok=True)
    files.copy_file(latest.path, dest)
    sub, problem = _check_notebook(student, assignment, dest.parent)
    if problem:
        return None, dataclasses.replace(problem, problem=f"{latest.rel}: {problem.problem}")
    return dataclasses.replace(sub, notes=tuple(notes)), None
