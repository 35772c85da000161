"""What one worker job does, through nbgrader's API (`NbGraderAPI`) in the grading run's course.

- `prepare`: create the gradebook and every student, then `generate_assignment` for each
  assignment (which records the sources' cells). One job, in one worker, before any grading, so
  that no two processes create the same tables or students at once.
- `grade`: everything one submission needs, so that submissions flow through the workers with
  no barrier between steps: compare it with the released notebook, `autograde` it, read what
  happened in the autograded notebook, and `generate_feedback`.

`before_grading` and `after_grading` are also what the command uses for a job that did not
complete.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .. import course, workspace


@dataclass
class Job:
    kind: str                  # "prepare" or "grade"
    assignment: str = ""       # grade: the submission's assignment
    student: str = ""          # grade: the submission's student
    assignments: tuple = ()    # prepare: every assignment to grade
    students: tuple = ()       # prepare: every student
    course_id: str = ""        # grade: the student's course id (variants.py), never the notebook's


@dataclass
class Outcome:
    """What a job found. grades.csv's row for the submission (results/rows.py `Row`) is read
    from the gradebook, then takes the notes, the review flag and the failures from here."""
    job: Job
    success: bool              # nbgrader's own verdict on the job (autograde, for `grade`)
    error: str = ""
    log: str = ""
    seconds: float = 0.0
    completed: bool = True     # False when the job raised, or its worker died or was stopped
    notes: list = field(default_factory=list)     # what the instructor should know
    review: bool = False       # needs an instructor's eye
    failures: list = field(default_factory=list)  # (grade id, error name, first line) per error
    feedback_error: str = ""   # why the submission has no feedback page


def before_grading(root: Path, job: Job) -> tuple[list[str], bool]:
    """Notes on the submission in the course folder (integrity.before_grading), whether it calls
    a library function its exercise forbids (the checks' `FORBIDDEN`), whether it drew its
    numbers from another course id than the student's; and whether to review it."""
    from .. import notebooks, variants
    from . import integrity
    nb = notebooks.read(workspace.path(root, "submitted", job.student, job.assignment))
    notes, review = integrity.before_grading(
        nb, notebooks.read(course.student_notebook(job.assignment)))
    notes += integrity.library_calls(nb, getattr(course.checks(job.assignment), "FORBIDDEN", {}))
    other = variants.mismatch_note(variants.typed_id(nb), job.course_id) if job.course_id else None
    return notes + ([other] if other else []), review


def after_grading(root: Path, job: Job) -> tuple[list[str], bool, list]:
    """Notes, review flag and failure messages from the autograded notebook, if there is one."""
    from .. import notebooks
    from . import integrity
    path = workspace.path(root, "autograded", job.student, job.assignment)
    if not path.exists():
        return [], False, []
    nb = notebooks.read(path)
    notes, review = integrity.after_grading(nb)
    return notes, review, integrity.failures(nb)


def api(course_root: str):
    """nbgrader's API (`NbGraderAPI`) on a grading run's course folder, with its settings."""
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config import Config
    from traitlets.config.loader import PyFileConfigLoader
    config = PyFileConfigLoader("nbgrader_config.py", path=str(course_root)).load_config()
    config.merge(Config({"CourseDirectory": {"root": str(course_root)}}))
    return NbGraderAPI(CourseDirectory(config=config), config=config)


def run(api, root: Path, job: Job) -> Outcome:
    """Do one job with nbgrader's API in the grading run's course folder `root`."""
    if job.kind == "prepare":
        return _prepare(api, job)
    return _grade(api, root, job)


def stamp_new_gradebook(db_url: str) -> None:
    """Record nbgrader's database revision in a new gradebook, as nbgrader's Gradebook does when
    it finds no tables, but read in-process with alembic's API instead of by running
    `alembic heads` in a subprocess (a second or two). Gradebook then creates the other tables."""
    from alembic.script import ScriptDirectory
    from nbgrader.dbutil import ALEMBIC_DIR
    from sqlalchemy import create_engine, text
    from sqlalchemy import inspect as inspect_db
    engine = create_engine(db_url)
    with engine.begin() as db:
        if not inspect_db(db).get_table_names():
            head = ScriptDirectory(ALEMBIC_DIR).get_current_head()
            db.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)"))
            db.execute(text("INSERT INTO alembic_version (version_num) VALUES (:v)"), {"v": head})
    engine.dispose()


def _prepare(api, job: Job) -> Outcome:
    from nbgrader.api import Gradebook
    stamp_new_gradebook(api.coursedir.db_url)
    with Gradebook(api.coursedir.db_url) as gb:
        for student in job.students:
            gb.update_or_create_student(student)
    logs = []
    for assignment in job.assignments:
        result = api.generate_assignment(assignment, force=True)
        logs.append(result.get("log") or "")
        if not result.get("success"):
            return Outcome(job, False, f"nbgrader generate_assignment {assignment} failed:\n"
                           f"{result.get('error')}", "\n".join(logs))
    return Outcome(job, True, log="\n".join(logs))


def _grade(api, root: Path, job: Job) -> Outcome:
    try:
        notes, review = before_grading(root, job)
    except Exception as err:  # whatever it is, it is still graded, and an instructor looks
        notes, review = [f"could not compare with the released notebook ({err!r:.200})"], True
    # The checker checks the questions against this student's numbers (variants.py).
    api.config.ResilientExecute.course_id = job.course_id
    result = api.autograde(job.assignment, job.student, force=True, create=True)
    outcome = Outcome(job, bool(result.get("success")), result.get("error") or "",
                      result.get("log") or "", notes=notes, review=review)
    more, flag, outcome.failures = after_grading(root, job)
    outcome.notes += more
    outcome.review = outcome.review or flag
    if workspace.path(root, "autograded", job.student, job.assignment).exists():
        fb = api.generate_feedback(job.assignment, job.student, force=True)
        if not fb.get("success"):
            outcome.feedback_error = (fb.get("error") or "feedback failed").strip()
        outcome.log += "\n" + (fb.get("log") or "")
    return outcome
