"""`python -m autograder grade`: autograde a class with nbgrader, in parallel, and write
grades.csv, per-student feedback and a class report.

The work happens in an nbgrader course folder of its own, DIR/course/ (workspace.py), so
nbgrader's own commands (`nbgrader export`, the formgrader) work on the result afterwards,
wherever the folder is moved. Each submission is one job (jobs.py) on a local pool of supervised
workers (workers.py) or a Dask cluster (cluster.py); this process alone writes the results.
"""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from .. import course, files, variants
from ..isolation import sandbox
from ..results import grades_csv, rows as gradebook
from .. import workspace
from . import integrity, jobs
from .jobs import Job, Outcome

# collect imports nbformat (a second): grade() imports it once its workers are starting, so
# that both happen at the same time. Everything per submission happens in the workers.

NOTEBOOK_TIMEOUT, CELL_TIMEOUT = course.NOTEBOOK_TIMEOUT, course.CELL_TIMEOUT
UNSANDBOXED = "graded WITHOUT the sandbox (--no-sandbox): its code could reach the whole run"


class HandGradesKept(RuntimeError):
    """The output folder holds an earlier run's hand grades (the message says what to do)."""


def _duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    hours, rest = divmod(seconds, 3600)
    return (f"{hours} h {rest // 60:02d} min" if hours else f"{rest // 60} min {rest % 60:02d} s")


def _progress(root: Path, total: int, log):
    """Log one line per finished job, with the count and an estimate of the time left (from the
    mean pace since the first job was handed out), and keep nbgrader's own log of it in
    course/logs/."""
    logs = root / "logs"
    logs.mkdir(exist_ok=True)
    done = [0]
    start = time.monotonic()

    def report(o: Outcome):
        done[0] += 1
        files.write_fresh(logs / f"{o.job.student}.{o.job.assignment}.log",
                          o.log + ("\n" + o.error if o.error else ""))
        mark = "ok" if o.success else "FAILED: " + (o.error.strip().splitlines() or [""])[-1][:100]
        left = (time.monotonic() - start) / done[0] * (total - done[0])
        log(files.safe_text(f"  [{done[0]}/{total}] {o.job.student}/{o.job.assignment} "
                            f"({o.seconds:.1f} s) {mark} | about {_duration(left)} left"))
    return report


@dataclass
class Run:
    """One grading run: where it writes, what it grades and how; shared by its steps."""
    out: Path                  # the results folder (grades.csv, feedback/, report.html)
    root: Path                 # its nbgrader course folder, out/course
    scratch: Path              # a temporary folder of its own, removed when it ends
    names: list                # the assignments
    secret: bytes              # the course secret (every student's numbers)
    notebook_timeout: float
    cell_timeout: float
    sandboxed: bool
    limits: sandbox.Limits | None
    log: object
    started: float
    notes: dict = field(default_factory=dict)  # (student, assignment) -> notes from copying in
    roster: object = None      # the LMS's roster export (lms.Roster), for an LMS download


def _copy_in(run: Run, subs) -> tuple[list, list]:
    """Each submission's whole folder into course/submitted/, as nbgrader expects: collect's
    timestamp.txt and submission_secret.txt (late penalties, release_feedback), any data files.
    Only regular files and folders are copied, never through a link and within bounds
    (files.py); a notebook that is a link is not graded. Returns the submissions copied, and a
    problem for each one left out."""
    from .collect import Problem
    kept, problems = [], []
    for s in subs:
        dest = workspace.path(run.root, "submitted", s.student, s.assignment)
        try:
            fd = os.open(s.path, os.O_RDONLY | os.O_NOFOLLOW)
        except OSError:
            problems.append(Problem(s.student, s.assignment, f"{s.path.name} is a link, not a "
                                    "notebook (links in a submission are never followed)"))
            continue
        os.close(fd)
        bounded = files.copy_regular(s.path.parent, dest.parent,
                                     leave_out=lambda rel: rel.endswith(".ipynb"))
        files.copy_file(s.path, dest)
        notes = list(s.notes) + ([f"files beside the notebook not copied: {', '.join(bounded)}"]
                                 if bounded else [])
        if notes:
            run.notes[s.student, s.assignment] = notes
        kept.append(s)
    return kept, problems


def _recover(root: Path, o: Outcome) -> Outcome:
    """For a job that did not complete (it raised, or its worker died or was stopped): what can
    still be learnt from the submission and from whatever nbgrader wrote before it stopped."""
    if o.completed:
        return o
    try:
        o.notes, _ = jobs.before_grading(root, o.job)
        more, _, o.failures = jobs.after_grading(root, o.job)
        o.notes += more
    except Exception as err:  # a notebook nbgrader half-wrote: say so, keep going
        o.notes.append(f"could not read the notebook back ({type(err).__name__})")
    o.feedback_error = o.feedback_error or "the grading job did not complete"
    shutil.rmtree(workspace.path(root, "feedback", o.job.student, o.job.assignment).parent,
                  ignore_errors=True)
    return o


def _notes(o: Outcome, duplicates: list[str]) -> tuple[list[str], bool]:
    """What grades.csv and the report say about one graded submission, and whether to review it."""
    notes = list(o.notes)
    if duplicates:
        notes.append(f"possible duplicate student: {', '.join(duplicates)} differs only in case")
    if not o.success:
        err = o.error.strip()
        notes.append(err.splitlines()[-1][:300] if err else "autograding failed")
    if o.feedback_error:
        notes.append("no feedback: " + o.feedback_error[:200])
    return notes, o.review or bool(duplicates) or not o.success


def _import_for_results() -> None:
    import nbgrader.api  # noqa: F401  (the gradebook)

    from ..results import report
    report.pyplot()


RELEASE_FEEDBACK_READS = ("timestamp.txt", "submission_secret.txt")


def _not_a_feedback_page(rel: str) -> bool:
    """For feedback/: anything but <student>/<assignment>/<assignment>.html, nbgrader's
    timestamp.txt and submission_secret.txt beside it (release_feedback reads both) and their
    folders (nbgrader's feedback copies every other file of the submission beside the page, a
    student's HTML included)."""
    parts = rel.split("/")
    return len(parts) > 3 or len(parts) == 3 and parts[2] not in (f"{parts[1]}.html",
                                                                  *RELEASE_FEEDBACK_READS)


def _write_results(run: Run, subs, outcomes, problems) -> list:
    """grades.csv, feedback/ and report.html from the gradebook and what each job found."""
    root, out, sandboxed, limits = run.root, run.out, run.sandboxed, run.limits
    rows = gradebook.read(f"sqlite:///{root / 'gradebook.db'}", subs)
    students = {s.student for s in subs}
    for o in outcomes:
        row = rows[o.job.student, o.job.assignment]
        o = _recover(root, o)
        twins = sorted(t for t in students
                       if t.lower() == o.job.student.lower() and t != o.job.student)
        row.notes, review = _notes(o, twins)
        row.notes += run.notes.get((o.job.student, o.job.assignment), [])
        row.failures = o.failures
        seen = integrity.sandbox_notes(o.failures, workspace.path(root, "autograded", o.job.student,
                                                                  o.job.assignment))
        row.notes += seen
        if review or seen:
            row.status = "needs review"
    if not sandboxed:
        for row in rows.values():
            row.notes.append(UNSANDBOXED)
        problems = [type(p)(**{**vars(p), "problem": f"{p.problem}; {UNSANDBOXED}"})
                    for p in problems]
    fb_out = out / "feedback"
    if fb_out.is_symlink() or fb_out.is_file():
        fb_out.unlink()
    elif fb_out.exists():
        shutil.rmtree(fb_out)
    if (root / "feedback").exists():  # only the grader's own pages, never a submission's file
        files.copy_regular(root / "feedback", fb_out, leave_out=_not_a_feedback_page)
    all_rows = list(rows.values())
    grades_csv.write(out / "grades.csv", all_rows, problems)
    ids = variants.read_ids(root).get("ids", {})
    numbers = {(r.student, r.assignment): variants.numbers(r.assignment, ids[r.student])
               for r in all_rows if r.student in ids and variants.has_numbers(r.assignment)}
    from ..results.report import write_report
    write_report(out / "report.html", all_rows, problems, sandboxed=sandboxed, limits=limits,
                 numbers=numbers)
    return all_rows


def grade(submissions: Path, out: Path, assignments: list[str] | None = None,
          workers: int | None = None, notebook_timeout: float = NOTEBOOK_TIMEOUT,
          cell_timeout: float = CELL_TIMEOUT, log=print, sandboxed: bool = True,
          limits: sandbox.Limits | None = None, scheduler: str | None = None,
          replace: bool = False, roster=None) -> list:
    """Grade every submission under `submissions`; write grades.csv, feedback/ and report.html.
    Every kernel runs in a sandbox (sandbox.py) with `limits`, unless `sandboxed` is False;
    SandboxUnavailable says why it cannot run here. With `scheduler` (a Dask scheduler's
    address), the jobs run on that Dask cluster (cluster.py) instead of `workers` local
    processes; this process alone writes the results. An earlier run's folder in `out` whose
    gradebook holds scores entered by hand is only replaced with `replace` (HandGradesKept).
    `roster` (lms.Roster) says who is who in an LMS download."""
    names = assignments or course.assignments()
    unknown = set(names) - set(course.assignments())
    if unknown:
        raise ValueError(f"unknown assignment(s) {sorted(unknown)}; known: {course.assignments()}")
    workers = workers or os.cpu_count() or 1
    os.environ["PATH"] = course.environment()["PATH"]  # nbgrader runs `alembic` from this venv
    out = Path(out).resolve()
    secret = variants.read_secret()  # NoSecret: every student's numbers come from it
    earlier = variants.read_ids(out / "course").get("fingerprint")
    if earlier and earlier != variants.fingerprint(secret):
        raise variants.SecretChanged(
            f"{out} was graded with another course secret (fingerprint {earlier}, now "
            f"{variants.fingerprint(secret)}): put the original secret file back, or grade into "
            "another --out")
    variants.check_unchanged(secret)
    hand = gradebook.hand_grades(out / "course" / "gradebook.db")
    if hand and not replace:
        raise HandGradesKept(
            f"{out / 'course' / 'gradebook.db'} holds {hand} score(s) or comment(s) entered by "
            "hand in the formgrader, which a new run into this folder would delete. Export them "
            f"first (cd {out / 'course'} && nbgrader export), then grade into another --out, or "
            "pass --replace to delete them.")
    out.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()

    from ..isolation.forkkernel import SandboxUnavailable, registered, sandbox_unavailable
    if sandboxed:
        limits = limits or sandbox.Limits(cpu=int(notebook_timeout))
    if sandboxed and not scheduler:  # on a cluster, each worker checks that it can
        why = sandbox_unavailable()
        if why:
            raise SandboxUnavailable(why)
    if not sandboxed:
        log(f"warning: every notebook is {UNSANDBOXED}")
        if not registered() and not scheduler:
            log("warning: kernels start the slow way (the kernel provisioner autograder-fork is "
                "not installed: run `pip install -e .` in the repository)")
    run = Run(out, workspace.create(out / "course", cell_timeout, names),
              Path(tempfile.mkdtemp(prefix="autograder-run-")), names, secret,
              notebook_timeout, cell_timeout, sandboxed, limits if sandboxed else None, log,
              started, roster=roster)
    try:
        if scheduler:
            all_rows, times, where = _grade_on_cluster(run, scheduler, Path(submissions))
        else:
            all_rows, times = _grade_here(run, Path(submissions), workers)
            where = f"{workers} worker(s)"
    finally:  # what the workers and their checkers left in the temporary folder goes too,
        shutil.rmtree(run.scratch, ignore_errors=True)  # and the kernels' last memory cgroups
        from ..isolation import cgroup
        cgroup.remove(sandbox.CGROUPS)
    ready, graded = times
    end = time.monotonic()
    log(f"Graded {len(all_rows)} notebook(s) with {where} in {end - started:.1f} s "
        f"(setting up {ready - started:.1f} s, grading {graded - ready:.1f} s, "
        f"results {end - graded:.1f} s).")
    log(f"Wrote {out / 'grades.csv'}, {out / 'feedback'}/ and {out / 'report.html'}.")
    return all_rows


def _collect(run: Run, submissions: Path):
    """The submissions, copied into the run's course folder; what could not be graded; the
    prepare job; and every student's course id (also written to the folder, for the record)."""
    from . import collect
    found = collect.find(submissions, run.names, run.scratch / "unzipped", run.roster)
    for line in found.summary():
        run.log(line)
    subs, problems = found.submissions, found.problems
    subs, linked = _copy_in(run, subs)
    students = tuple(sorted({s.student for s in subs}))
    prepare = Job("prepare", assignments=tuple(sorted({s.assignment for s in subs})),
                  students=students)
    variants.write_ids(run.root, run.secret, students)
    return subs, [*problems, *linked], prepare, variants.course_ids(run.secret, students)


def _grade_here(run: Run, submissions: Path, workers: int):
    """The jobs on this machine, in a pool of `workers` processes (workers.py)."""
    from .workers import grading_pool
    with grading_pool(run.root, run.names, workers, run.notebook_timeout, run.limits,
                      tmp=run.scratch) as pool:
        subs, problems, prepare, ids = _collect(run, submissions)
        (prepared,) = pool.run([prepare])
        if not prepared.success:
            raise RuntimeError(f"{prepared.log}\n{prepared.error}")
        ready = time.monotonic()
        run.log(f"Set up the gradebook in {ready - run.started:.1f} s.")
        # Meanwhile this process only waits: it imports what the results need.
        threading.Thread(target=_import_for_results, daemon=True).start()
        outcomes = pool.run([Job("grade", s.assignment, s.student, course_id=ids[s.student])
                             for s in subs],
                            _progress(run.root, len(subs), run.log))
        graded = time.monotonic()
        pool.stop()  # the workers wind down while the results are written
        all_rows = _write_results(run, subs, outcomes, problems)
    return all_rows, (ready, graded)


def _grade_on_cluster(run: Run, scheduler: str, submissions: Path):
    """The jobs on the Dask cluster at `scheduler` (cluster.py); this process sets up its
    own gradebook (the prepare job, here) and alone writes every result into it."""
    from . import cluster
    subs, problems, prepare, ids = _collect(run, submissions)
    prepared = jobs.run(jobs.api(str(run.root)), run.root, prepare)
    if not prepared.success:
        raise RuntimeError(f"{prepared.log}\n{prepared.error}")
    run.log(f"Set up the gradebook in {time.monotonic() - run.started:.1f} s.")
    settings = cluster.Settings(float(run.notebook_timeout), float(run.cell_timeout),
                                run.limits.to_json() if run.sandboxed else None,
                                cluster.course_version())
    outcomes, ready, writing = cluster.grade(
        scheduler, run.root, subs, settings, lambda: _progress(run.root, len(subs), run.log),
        run.log, ids=ids)
    graded = time.monotonic()
    all_rows = _write_results(run, subs, outcomes, problems)
    n = max(1, len(outcomes))
    run.log(f"Wrote {len(outcomes)} result(s) into the gradebook in {writing[0]:.1f} s "
            f"({1000 * writing[0] / n:.0f} ms per notebook, {1000 * writing[1] / n:.0f} ms of "
            "CPU; one writer).")
    return all_rows, (ready, graded), f"the Dask cluster at {scheduler}"


if __name__ == "__main__":  # pragma: no cover
    sys.exit("use: python -m autograder grade ...")
