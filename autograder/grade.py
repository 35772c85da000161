"""`python -m autograder grade`: autograde a class with nbgrader, in parallel, and write
grades.csv, per-student feedback and a class report.

The work happens in an nbgrader course folder of its own, DIR/course/ (gradebook.db, submitted/,
autograded/, feedback/), so nbgrader's own commands (`nbgrader export`, `nbgrader formgrader`)
work on the result afterwards.
"""
from __future__ import annotations

import csv
import os
import shutil
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from . import course
from .workers import Job, Outcome, Pool

# collect, integrity and notebooks import nbformat and nbgrader (seconds): grade() imports
# them once its workers are starting, so that both happen at the same time.

NOTEBOOK_TIMEOUT = 600  # seconds for one notebook as a whole
CELL_TIMEOUT = 60       # seconds for one cell


@dataclass
class Row:
    student: str
    assignment: str
    scores: dict = field(default_factory=dict)   # test grade id -> points
    max_scores: dict = field(default_factory=dict)
    status: str = "graded"
    notes: list = field(default_factory=list)

    @property
    def total(self) -> float:
        return sum(self.scores.values())

    @property
    def max_total(self) -> float:
        return sum(self.max_scores.values())


def _workspace(out: Path, cell_timeout: float) -> Path:
    """A fresh nbgrader course folder whose config loads the course's settings."""
    root = out / "course"
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    (root / "nbgrader_config.py").write_text(
        "# The grading run's nbgrader course: the course's settings, with this folder as root.\n"
        f"load_subconfig({str(course.COURSE_ROOT / 'nbgrader_config.py')!r})\n"
        "c = get_config()\n"
        f"c.CourseDirectory.root = {str(root)!r}\n"
        f"c.CourseDirectory.source_directory = {str(course.SOLUTIONS)!r}\n"
        "c.CourseDirectory.release_directory = 'release'\n"
        "# Several graders share this gradebook: wait for the lock instead of failing.\n"
        f"c.CourseDirectory.db_url = {'sqlite:///' + str(root / 'gradebook.db') + '?timeout=120'!r}\n"
        f"c.ResilientExecute.timeout = {int(cell_timeout)}\n")
    return root


def _prepare_gradebook(pool: Pool, root: Path, subs) -> None:
    """Create the gradebook and every student once, here, then run nbgrader's
    generate_assignment (which records each source's cells) in a warm worker, one assignment at
    a time. Workers creating the tables or the same student at the same time would collide."""
    from nbgrader.api import Gradebook
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        for student in sorted({s.student for s in subs}):
            gb.update_or_create_student(student)
    for assignment in sorted({s.assignment for s in subs}):  # one at a time: they are quick
        (outcome,) = pool.run([Job("generate", assignment, "")])
        if not outcome.success:
            raise RuntimeError(f"nbgrader generate_assignment {outcome.job.assignment} failed:\n"
                               f"{outcome.log}\n{outcome.error}")


def _progress(root: Path, total: int, log):
    """Log one line per finished job, and keep nbgrader's own log of it in course/logs/."""
    logs = root / "logs"
    logs.mkdir(exist_ok=True)
    done = [0]

    def report(o: Outcome):
        done[0] += 1
        (logs / f"{o.job.student}.{o.job.assignment}.{o.job.kind}.log").write_text(
            o.log + ("\n" + o.error if o.error else ""))
        mark = "ok" if o.success else "FAILED: " + (o.error.strip().splitlines() or [""])[-1][:100]
        log(f"  [{done[0]}/{total}] {o.job.kind} {o.job.student}/{o.job.assignment} "
            f"({o.seconds:.1f} s) {mark}")
    return report


def _graded_notebook(root: Path, s) -> Path:
    """Where nbgrader writes a submission's autograded notebook."""
    return root / "autograded" / s.student / s.assignment / f"{s.assignment}.ipynb"


def _autograde(pool, root, subs, notes, review, log):
    """Autograde every submission; add what happened, failures included, to `notes` and
    `review`."""
    from . import integrity, notebooks
    graded = pool.run([Job("autograde", s.assignment, s.student) for s in subs],
                      _progress(root, len(subs), log))
    failed = {(o.job.student, o.job.assignment): o for o in graded if not o.success}
    for s in subs:
        key = (s.student, s.assignment)
        graded_nb = _graded_notebook(root, s)
        if graded_nb.exists():
            more, flag = integrity.after_grading(notebooks.read(graded_nb))
            notes[key] += more
            review[key] = review[key] or flag
        if key in failed:
            review[key] = True
            err = failed[key].error.strip()
            notes[key].append(err.splitlines()[-1][:300] if err else "autograding failed")


def _inspect(subs):
    """Notes and review flags from comparing each submission with its released version, and
    the submissions whose feedback is held back."""
    from . import integrity, notebooks
    notes, review, held = {}, {}, set()
    released = {}
    lower = Counter(s.student.lower() for s in {s.student: s for s in subs}.values())
    for s in subs:
        key = (s.student, s.assignment)
        if s.assignment not in released:
            released[s.assignment] = notebooks.read(course.student_notebook(s.assignment))
        notes[key], review[key], hold = integrity.before_grading(notebooks.read(s.path),
                                                                 released[s.assignment])
        if hold:
            held.add(key)
        if lower[s.student.lower()] > 1:
            others = sorted({t.student for t in subs if t.student.lower() == s.student.lower()}
                            - {s.student})
            notes[key].append(f"possible duplicate student: {', '.join(others)} differs only in case")
            review[key] = True
    return notes, review, held


def _read_gradebook(root: Path, subs) -> dict:
    from nbgrader.api import Gradebook, MissingEntry
    rows = {}
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        for s in subs:
            row = Row(s.student, s.assignment)
            notebook = gb.find_notebook(s.assignment, s.assignment)
            for cell in notebook.grade_cells:
                row.max_scores[cell.name] = cell.max_score
            try:
                sub_nb = gb.find_submission_notebook(s.assignment, s.assignment, s.student)
            except MissingEntry:
                row.status = "not graded"
                row.scores = {name: 0.0 for name in row.max_scores}
            else:
                for grade in sub_nb.grades:
                    row.scores[grade.name] = float(grade.score or 0.0)
            rows[s.student, s.assignment] = row
    return rows


def _write_csv(path: Path, rows: list[Row], problems) -> None:
    cells = []
    for row in rows:
        cells += [c for c in row.max_scores if c not in cells]
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["student", "assignment", *cells, "total", "max_total", "status", "notes"])
        for row in sorted(rows, key=lambda r: (r.student, r.assignment)):
            w.writerow([row.student, row.assignment,
                        *[_fmt(row.scores[c]) if c in row.max_scores else "" for c in cells],
                        _fmt(row.total), _fmt(row.max_total), row.status, "; ".join(row.notes)])
        for p in problems:
            w.writerow([p.student, p.assignment, *[""] * len(cells), "", "", "not graded", p.problem])


def _fmt(x: float) -> str:
    return f"{x:g}"


def grade(submissions: Path, out: Path, assignments: list[str] | None = None,
          workers: int | None = None, notebook_timeout: float = NOTEBOOK_TIMEOUT,
          cell_timeout: float = CELL_TIMEOUT, log=print) -> list[Row]:
    """Grade every submission under `submissions`; write grades.csv, feedback/ and report.html."""
    names = assignments or course.assignments()
    unknown = set(names) - set(course.assignments())
    if unknown:
        raise ValueError(f"unknown assignment(s) {sorted(unknown)}; known: {course.assignments()}")
    workers = workers or os.cpu_count() or 1
    os.environ["PATH"] = course.environment()["PATH"]  # nbgrader runs `alembic` from this venv
    out = Path(out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()

    root = _workspace(out, cell_timeout)
    with Pool(str(root), course.environment(), workers, notebook_timeout) as pool:
        from . import collect
        subs, problems = collect.find(Path(submissions), names)
        log(f"Found {len(subs)} submission(s) of {', '.join(names)}; {len(problems)} problem(s).")
        notes, review, held = _inspect(subs)
        _prepare_gradebook(pool, root, subs)
        for s in subs:
            dest = root / "submitted" / s.student / s.assignment / f"{s.assignment}.ipynb"
            dest.parent.mkdir(parents=True, exist_ok=True)
            # The whole folder, as nbgrader expects: collect's timestamp.txt and
            # submission_secret.txt (late penalties, release_feedback) and any data files.
            shutil.copytree(s.path.parent, dest.parent, dirs_exist_ok=True,
                            ignore=lambda d, names: [n for n in names if n.endswith(".ipynb")])
            shutil.copyfile(s.path, dest)
        log(f"Set up the gradebook in {time.monotonic() - started:.1f} s.")
        _autograde(pool, root, subs, notes, review, log)
        feedback = pool.run([Job("feedback", s.assignment, s.student) for s in subs
                             if (s.student, s.assignment) not in held and
                             _graded_notebook(root, s).exists()],
                            _progress(root, len(subs), log))

    rows = _read_gradebook(root, subs)
    for key, row in rows.items():
        row.notes += notes[key] + (["feedback held back for review"] if key in held else [])
        if review[key]:
            row.status = "needs review"
    for o in feedback:
        if not o.success:
            rows[o.job.student, o.job.assignment].notes.append("no feedback: " + o.error[:200])

    fb_out = out / "feedback"
    if fb_out.exists():
        shutil.rmtree(fb_out)
    if (root / "feedback").exists():
        shutil.copytree(root / "feedback", fb_out)
    all_rows = list(rows.values())
    _write_csv(out / "grades.csv", all_rows, problems)
    from .report import write_report
    write_report(out / "report.html", all_rows, problems, root)
    log(f"Graded {len(subs)} notebook(s) with {workers} worker(s) in "
        f"{time.monotonic() - started:.1f} s.")
    log(f"Wrote {out / 'grades.csv'}, {fb_out}/ and {out / 'report.html'}.")
    return all_rows


if __name__ == "__main__":  # pragma: no cover
    sys.exit("use: python -m autograder grade ...")
