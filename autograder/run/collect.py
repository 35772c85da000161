"""Finding submissions: a folder laid out as nbgrader's `submitted/`, or an LMS zip download.

Everything that is not a gradable notebook in the right place becomes a `Problem` with the
student's name on it, never an exception that stops the run.
"""
from __future__ import annotations

import json
import re
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import nbformat

from .. import files

# An LMS download names each file after the student, e.g. Moodle/Canvas style
# "jane-doe_12345_assignsubmission_file_logits.ipynb" or "jane-doe_logits.ipynb".
LMS_NAME = re.compile(r"^(?P<student>[A-Za-z0-9][\w.\-]*?)_(?:.*_)?(?P<file>[\w\-]+)\.ipynb$")
SAFE_ID = re.compile(r"^[A-Za-z0-9][\w.\-]{0,99}$")
MAX_NOTEBOOK_BYTES = 20 * 2 ** 20


@dataclass(frozen=True)
class Submission:
    student: str
    assignment: str
    path: Path


@dataclass(frozen=True)
class Problem:
    student: str
    assignment: str
    problem: str


def find(path: Path, assignments: list[str], workdir: Path | None = None
         ) -> tuple[list[Submission], list[Problem]]:
    """All gradable submissions under `path` (a folder or a .zip) for the given assignments; a
    zip is unpacked in `workdir` (which the caller removes; by default a new temporary folder)."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"--submissions {path}: no such file or folder")
    if path.is_file() and zipfile.is_zipfile(path):
        return _from_zip(path, assignments, Path(workdir or tempfile.mkdtemp(prefix="submissions-")))
    if path.is_file():
        raise ValueError(f"--submissions {path}: expected a folder or a .zip file")
    return _from_folder(path, assignments)


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


def _from_zip(archive: Path, assignments: list[str], tmp: Path):
    """An LMS zip: either the nbgrader folder layout inside, or flat files named after students."""
    with zipfile.ZipFile(archive) as zf:
        for info in zf.infolist():
            name = Path(info.filename)
            if info.is_dir() or name.is_absolute() or ".." in name.parts or \
                    name.parts[0] == "__MACOSX" or name.name.startswith("."):
                continue  # no path traversal, no resource forks
            target = tmp / "unzipped" / name
            target.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(info) as src, open(target, "wb") as dst:
                shutil.copyfileobj(src, dst, length=2 ** 20)
    unzipped = tmp / "unzipped"
    if not unzipped.exists():
        return [], [Problem("", "", f"{archive.name} contains no files")]
    # A single top-level folder is unwrapped (many LMSs add one).
    tops = [p for p in unzipped.iterdir()]
    root = tops[0] if len(tops) == 1 and tops[0].is_dir() and not _looks_like_layout(unzipped, assignments) else unzipped
    if _looks_like_layout(root, assignments):
        return _from_folder(root, assignments)
    return _from_flat_files(root, assignments, tmp / "layout")


def _looks_like_layout(root: Path, assignments: list[str]) -> bool:
    return any((d / a).is_dir() for d in root.iterdir() if d.is_dir() for a in assignments)


def _from_flat_files(root: Path, assignments: list[str], layout: Path):
    """Files named like `<student>_..._<assignment>.ipynb` (nbgrader zip_collect's convention)."""
    problems, seen = [], {}
    for f in sorted(p for p in root.rglob("*") if p.is_file()):
        m = LMS_NAME.match(f.name)
        assignment = next((a for a in assignments if m and m.group("file").endswith(a)), None)
        if not m or not assignment:
            problems.append(Problem("", "", f"{f.relative_to(root)}: cannot tell the student and "
                                    "assignment from this file name; skipped"))
            continue
        student = m.group("student")
        if (student, assignment) in seen:
            problems.append(Problem(student, assignment, f"two files for the same student: "
                                    f"{seen[student, assignment]} and {f.name}; graded the first"))
            continue
        seen[student, assignment] = f.name
        dest = layout / student / assignment / f"{assignment}.ipynb"
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(f, dest)
    if not layout.exists():
        return [], problems
    subs, more = _from_folder(layout, assignments)
    return subs, problems + more
