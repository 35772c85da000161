"""What a grading run knows beyond its gradebook, kept in its course folder
(`course/grading-record.json`), so that a later run into the same folder and `python -m
autograder refresh` write the same grades.csv and report.html: for each submission the notes,
the review flag and the first lines of its failures; the submissions that could not be graded;
whether the run was sandboxed, and with which limits.

Scores, hand grades, comments, timestamps, due dates, extensions and late penalties are never
here: they live in nbgrader's gradebook, and are read back from it every time (rows.py).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from ..files import write_fresh

FILE = "grading-record.json"
VERSION = 1


@dataclass
class Entry:
    student: str
    assignment: str
    status: str = "graded"                         # or "needs review"
    notes: list = field(default_factory=list)
    failures: list = field(default_factory=list)   # [grade id, error name, first line]
    sandboxed: bool = True


@dataclass
class Record:
    entries: dict = field(default_factory=dict)    # (student, assignment) -> Entry
    problems: list = field(default_factory=list)   # dicts of collect.Problem's fields
    limits: str = ""                               # the sandbox's limits, as the report says them

    @property
    def sandboxed(self) -> bool:
        return all(e.sandboxed for e in self.entries.values())


def load(root: Path) -> Record:
    """The record of the run whose course folder is `root` (empty if there is none)."""
    path = Path(root) / FILE
    if not path.is_file() or path.is_symlink():
        return Record()
    data = json.loads(path.read_text(encoding="utf-8"))
    entries = {}
    for e in data.get("entries", []):
        entry = Entry(**{k: v for k, v in e.items() if k in Entry.__dataclass_fields__})
        entry.failures = [tuple(f) for f in entry.failures]
        entries[entry.student, entry.assignment] = entry
    return Record(entries, list(data.get("problems", [])), str(data.get("limits", "")))


def save(root: Path, record: Record) -> None:
    data = {"version": VERSION,
            "entries": [vars(e) | {"failures": [list(f) for f in e.failures]}
                        for _, e in sorted(record.entries.items())],
            "problems": record.problems, "limits": record.limits}
    write_fresh(Path(root) / FILE, json.dumps(data, indent=1, default=str))
