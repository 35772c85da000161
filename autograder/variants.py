"""Numbers of their own: every student's questions and experiment are a variant of their own.

A student's *course id* is their nbgrader student id and a code, `alice-K7Q2MX`: the code is an
HMAC of the id under the course secret, a file only the instructor keeps (`SECRET_FILE`). The
instructor hands each student their id (`python -m autograder ids`); on a JupyterHub it can come
in the environment (`ID_ENV`). Each notebook draws the student's numbers from it with its own
`numbers_of(course_id)` (a locked cell of the notebook, public: the numbers of an id are no
secret, the id's code is). Without the secret nobody can make another student's code, so nobody
can compute another student's numbers; with it, the grader and the instructor can.

The grader never reads a notebook's id: it computes the submission's own course id from the
student id the submission came with (folder, exchange, LMS file) and the secret, and the trusted
checker checks every question against that id's numbers (`numbers`). A notebook that used
another id gets a note saying so (`typed_id`).
"""
from __future__ import annotations

import ast
import functools
import hashlib
import hmac
import json
import os
import secrets
from pathlib import Path

from . import course

SECRET_FILE = course.COURSE_ROOT / "course-secret"  # the default; kept out of git
SECRET_ENV = "COURSE_SECRET_FILE"                    # another place for it
ID_ENV = "LOGITS_COURSE_ID"      # a kernel's course id: set by the grader, or by a JupyterHub
ID_CELL = "COURSE_ID"            # the name the notebook's first code cell assigns
NUMBERS_CELL = "numbers"         # grade id of the locked cell that defines numbers_of
IDS_FILE = "course-ids.json"     # in a grading run's course folder: student -> course id
_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"      # no 0/O, 1/I/L
CODE_LENGTH = 6


class NoSecret(RuntimeError):
    """The course secret is missing or unreadable (the message says what to do)."""


class SecretChanged(RuntimeError):
    """The course secret is not the one earlier submissions were graded with."""


def secret_path() -> Path:
    return Path(os.environ.get(SECRET_ENV) or SECRET_FILE)


def read_secret(path: Path | None = None) -> bytes:
    path = Path(path or secret_path())
    try:
        value = path.read_text().strip()
    except OSError:
        raise NoSecret(f"no course secret at {path}: create it once per course with "
                       "`python -m autograder ids --students ...` (which prints every student's "
                       "course id), keep it, and never share it") from None
    if len(value) < 32:
        raise NoSecret(f"the course secret at {path} is too short (at least 32 characters)")
    return value.encode()


def create_secret(path: Path | None = None) -> Path:
    """A new course secret at `path` (refused if one is there: ids made with it would change)."""
    path = Path(path or secret_path())
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(secrets.token_hex(32) + "\n")
    return path


def fingerprint(secret: bytes) -> str:
    """Names a secret without revealing it (for the record of what graded what)."""
    return hmac.new(secret, b"fingerprint", hashlib.sha256).hexdigest()[:16]


def course_id(secret: bytes, student: str) -> str:
    """`student-CODE`: the student's id and a code only the secret can make."""
    digest = int.from_bytes(hmac.new(secret, b"course-id/" + student.encode(),
                                     hashlib.sha256).digest(), "big")
    code = []
    for _ in range(CODE_LENGTH):
        digest, i = divmod(digest, len(_ALPHABET))
        code.append(_ALPHABET[i])
    return f"{student}-{''.join(code)}"


def student_of(cid: str) -> str:
    return cid.rsplit("-", 1)[0]


def course_ids(secret: bytes, students) -> dict[str, str]:
    return {s: course_id(secret, s) for s in students}


# --- the record of the secret a course graded with --------------------------------------------

def _record(path: Path) -> Path:
    return path.with_name(path.name + ".graded")


def check_unchanged(secret: bytes, path: Path | None = None) -> None:
    """Refuse a secret other than the one this course graded with; record it the first time."""
    record = _record(Path(path or secret_path()))
    mine = fingerprint(secret)
    if record.exists():
        theirs = record.read_text().strip()
        if theirs != mine:
            raise SecretChanged(
                f"the course secret changed: submissions of this course were graded with the "
                f"secret {theirs} (fingerprint), and {Path(path or secret_path())} is {mine}. Every "
                "student's course id, and so every student's numbers, would change. Put the "
                "original secret file back (or set COURSE_SECRET_FILE to it).")
        return
    record.write_text(mine + "\n")


def write_ids(folder: Path, secret: bytes, students) -> Path:
    """The course ids of a grading run's students, in its course folder (never the secret)."""
    path = Path(folder) / IDS_FILE
    path.write_text(json.dumps({"fingerprint": fingerprint(secret),
                                "ids": course_ids(secret, sorted(students))}, indent=1))
    return path


def read_ids(folder: Path) -> dict:
    path = Path(folder) / IDS_FILE
    return json.loads(path.read_text()) if path.is_file() else {}


# --- a notebook's numbers ---------------------------------------------------------------------

@functools.lru_cache(maxsize=None)
def numbers_function(assignment: str):
    """The notebook's own `numbers_of(course_id)`, compiled from the source notebook: its locked
    `numbers` cell and the `drawing` helper of its imports cell (only those definitions run)."""
    from . import notebooks
    nb = notebooks.read(course.source_notebook(assignment))
    wanted = {"drawing", "numbers_of"}
    body: list[ast.stmt] = [ast.Import(names=[ast.alias("hashlib")])]
    for cell, tree in notebooks.code_trees(nb):
        if notebooks.is_solution(cell) or notebooks.is_test(cell):
            continue
        body += [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name in wanted]
    module = ast.fix_missing_locations(ast.Module(body=body, type_ignores=[]))
    namespace: dict = {}
    exec(compile(module, f"<{assignment}: numbers_of>", "exec"), namespace)
    if "numbers_of" not in namespace:
        return None
    return namespace["numbers_of"]


def has_numbers(assignment: str) -> bool:
    return numbers_function(assignment) is not None


def numbers(assignment: str, cid: str) -> dict | None:
    """The numbers of course id `cid` in this assignment's notebook (None if it has none)."""
    fn = numbers_function(assignment)
    return None if fn is None else fn(cid)


def describe(values: dict) -> str:
    """`C = 7, T = 1.6`: a student's numbers exactly as the notebook's `your_numbers` prints
    them (Python's own str of each value, so that nothing is rounded)."""
    return ", ".join(f"{k} = {v}" for k, v in values.items())


def typed_id(nb) -> str | None:
    """The course id a notebook typed (its first `COURSE_ID = "..."`), if any."""
    from . import notebooks
    for cell, tree in notebooks.code_trees(nb):
        for node in tree.body:
            if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == ID_CELL
                                                    for t in node.targets) \
                    and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
                return node.value.value.strip() or None
    return None


def mismatch_note(typed: str | None, cid: str) -> str | None:
    """What a student and the instructor read when the notebook used another id's numbers."""
    if typed is None or typed == cid:
        return None
    return (f"your notebook used the numbers of course id {typed}, but it was submitted as "
            f"{student_of(cid)}: its questions and experiment were checked against the numbers "
            f"of {student_of(cid)}'s course id")


# --- the instructor's commands (`python -m autograder ids`, `numbers`) ------------------------

def roster(path: Path) -> list[str]:
    """Student ids from a CSV file with a column `id` (as `nbgrader db student import` reads),
    or from a file of one id per line."""
    import csv
    text = Path(path).read_text()
    rows = list(csv.DictReader(text.splitlines()))
    if rows and "id" in rows[0]:
        return [r["id"].strip() for r in rows if r["id"].strip()]
    return [line.strip() for line in text.splitlines() if line.strip()]


def print_ids(students, out=print) -> int:
    """Every student's course id as CSV (`student,course_id`), creating the secret if none."""
    path = secret_path()
    if not path.exists():
        create_secret(path)
        out(f"# created the course secret {path}: keep it for the whole course (every course id "
            "depends on it) and never share it")
    secret = read_secret(path)
    out("student,course_id")
    for student, cid in course_ids(secret, students).items():
        out(f"{student},{cid}")
    return 0


def print_numbers(student: str, assignments, out=print) -> int:
    """A student's course id, and per assignment their numbers and the right answers."""
    secret = read_secret()
    cid = course_id(secret, student)
    out(f"{student}: course id {cid}")
    for assignment in assignments:
        values = numbers(assignment, cid)
        if values is None:
            continue
        out(f"\n{assignment}: {describe(values)}")
        checks = course.checks(assignment)
        for test, oracle in getattr(checks, "ANSWERS", {}).items():
            out(f"  {test}: {oracle(values)!r}")
    return 0
