"""`python -m autograder grade`: autograde a class with nbgrader, in parallel, and write
grades.csv, per-student feedback and a class report; `python -m autograder refresh`: write them
again from the gradebook, after hand grading.

The work happens in an nbgrader course folder of its own, DIR/course/ (workspace.py), so
nbgrader's own commands (`nbgrader export`, the formgrader) work on the result afterwards,
wherever the folder is moved. Each submission is one job (jobs.py) on a local pool of supervised
workers (workers.py) or a Dask cluster (cluster.py); this process alone writes the results.

A run into a folder that an earlier run graded updates it: only the submissions that are new or
changed (their notebook or timestamp.txt), or those of the students named, are graded again, and
nbgrader's gradebook keeps every score and comment entered by hand. A hand grade whose answer a
resubmission changed is kept, and nbgrader's own mark of a cell that needs grading is set on it
(the formgrader shows it; the report and grades.csv say "answer changed since graded").
"""
from __future__ import annotations

import os
import shutil
import sqlite3
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

from .. import course, files, variants
from ..isolation import sandbox
from ..results import grades_csv, record, rows as gradebook
from .. import workspace
from . import deadlines, integrity, jobs
from .jobs import Job, Outcome

# collect imports nbformat (a second): grade() imports it once its workers are starting, so
# that both happen at the same time. Everything per submission happens in the workers.

NOTEBOOK_TIMEOUT, CELL_TIMEOUT = course.NOTEBOOK_TIMEOUT, course.CELL_TIMEOUT
UNSANDBOXED = "graded WITHOUT the sandbox (--no-sandbox): its code could reach the whole run"


class CannotUpdate(RuntimeError):
    """The output folder's run cannot take this run's grades (the message says what to do)."""


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
    students: tuple = ()       # grade only these students' submissions (else new or changed)
    extensions: Path | None = None  # the instructor's extensions file (deadlines.py)
    earlier: dict = field(default_factory=dict)  # (student, assignment) -> hand-graded answers
    deadlines: tuple = ({}, {})  # the extensions and the course's due dates (deadlines.py)
    graded: int = 0            # the notebooks graded by this run
    pool: int = 0              # the local workers it started


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
        shutil.rmtree(dest.parent, ignore_errors=True)  # a resubmission replaces all of it
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
    """What each job found, into the run's record (results/record.py), beside what earlier runs
    into this folder found for the submissions not graded again; then grades.csv, feedback/ and
    report.html from the gradebook and the record (`publish`)."""
    root = run.root
    run.graded = len(outcomes)
    _mark_changed_answers(run)
    rec = record.load(root)
    students = {s.student for s in subs} | {st for st, _ in rec.entries}
    for o in outcomes:
        o = _recover(root, o)
        twins = sorted(t for t in students
                       if t.lower() == o.job.student.lower() and t != o.job.student)
        notes, review = _notes(o, twins)
        notes += run.notes.get((o.job.student, o.job.assignment), [])
        seen = integrity.sandbox_notes(o.failures, workspace.path(root, "autograded", o.job.student,
                                                                  o.job.assignment))
        notes += seen
        if not run.sandboxed:
            notes.append(UNSANDBOXED)
        rec.entries[o.job.student, o.job.assignment] = record.Entry(
            o.job.student, o.job.assignment, "needs review" if review or seen else "graded",
            notes, list(o.failures), run.sandboxed)
    if not run.sandboxed:
        problems = [type(p)(**{**vars(p), "problem": f"{p.problem}; {UNSANDBOXED}"})
                    for p in problems]
    rec.problems = [vars(p) for p in problems]
    if run.sandboxed:
        rec.limits = run.limits.describe() if run.limits is not None else rec.limits
    record.save(root, rec)
    return publish(run.out)


def _problems(rec) -> list:
    from dataclasses import fields

    from .collect import Problem
    known = {f.name for f in fields(Problem)}
    return [Problem(**{k: v for k, v in p.items() if k in known}) for p in rec.problems]


def publish(out: Path) -> list:
    """grades.csv, feedback/ and report.html of the run in `out`, from its gradebook (scores,
    hand grades, timestamps, due dates, extensions, late penalties) and its record (notes,
    problems); returns the rows."""
    out = Path(out)
    root = out / "course"
    rec = record.load(root)
    db_url = f"sqlite:///{root / 'gradebook.db'}"
    pairs = [SimpleNamespace(student=st, assignment=a)
             for st, a in sorted(set(rec.entries) | set(gradebook.submissions(db_url)))]
    rows = gradebook.read(db_url, pairs)
    for key, row in rows.items():
        entry = rec.entries.get(key)
        if entry is not None:
            row.notes, row.failures = list(entry.notes), list(entry.failures)
            row.status = entry.status if row.status == "graded" else row.status
        for cell in row.changed:
            row.status = "needs review"
            row.notes.append(f"{cell}: hand grade kept, {gradebook.CHANGED}: grade it again in "
                             "the formgrader")
    fb_out = out / "feedback"
    if fb_out.is_symlink() or fb_out.is_file():
        fb_out.unlink()
    elif fb_out.exists():
        shutil.rmtree(fb_out)
    if (root / "feedback").exists():  # only the grader's own pages, never a submission's file
        files.copy_regular(root / "feedback", fb_out, leave_out=_not_a_feedback_page)
    all_rows = list(rows.values())
    problems = _problems(rec)
    grades_csv.write(out / "grades.csv", all_rows, problems)
    ids = variants.read_ids(root).get("ids", {})
    numbers = {(r.student, r.assignment): variants.numbers(r.assignment, ids[r.student])
               for r in all_rows if r.student in ids and variants.has_numbers(r.assignment)}
    from ..results.report import write_report
    write_report(out / "report.html", all_rows, problems, sandboxed=rec.sandboxed,
                 limits=rec.limits, numbers=numbers)
    return all_rows


def grade(submissions: Path, out: Path, assignments: list[str] | None = None,
          workers: int | None = None, notebook_timeout: float = NOTEBOOK_TIMEOUT,
          cell_timeout: float = CELL_TIMEOUT, log=print, sandboxed: bool = True,
          limits: sandbox.Limits | None = None, scheduler: str | None = None,
          replace: bool = False, roster=None, students=(), extensions: Path | None = None
          ) -> list:
    """Grade the submissions under `submissions`; write grades.csv, feedback/ and report.html.
    Every kernel runs in a sandbox (sandbox.py) with `limits`, unless `sandboxed` is False;
    SandboxUnavailable says why it cannot run here. With `scheduler` (a Dask scheduler's
    address), the jobs run on that Dask cluster (cluster.py) instead of `workers` local
    processes; this process alone writes the results. `roster` (lms.Roster) says who is who in
    an LMS download.

    Into an `out` that an earlier run graded, only the submissions new or changed since are
    graded, or with `students` only theirs; every other grade, and every hand grade and comment,
    stays (`replace` starts afresh instead, deleting them). CannotUpdate when the earlier run
    graded an assignment against a source that has changed since. Due dates, timestamps and
    the extensions in `extensions` (default: deadlines.EXTENSIONS) set what is late
    (deadlines.py). Returns the rows of every submission in `out`."""
    names = assignments or course.assignments()
    unknown = set(names) - set(course.assignments())
    if unknown:
        raise ValueError(f"unknown assignment(s) {sorted(unknown)}; known: {course.assignments()}")
    workers = workers or os.cpu_count() or 1
    os.environ["PATH"] = course.environment()["PATH"]  # nbgrader runs `alembic` from this venv
    out = Path(out).resolve()
    secret = variants.read_secret()  # NoSecret: every student's numbers come from it
    earlier = variants.read_ids(out / "course").get("fingerprint")
    if earlier and earlier != variants.fingerprint(secret) and not replace:
        raise variants.SecretChanged(
            f"{out} was graded with another course secret (fingerprint {earlier}, now "
            f"{variants.fingerprint(secret)}): put the original secret file back, or grade into "
            "another --out")
    variants.check_unchanged(secret)
    update = workspace.is_run(out / "course") and not replace
    if update:
        changed = workspace.changed_sources(out / "course", names)
        if changed:
            hand = gradebook.hand_grades(out / "course" / "gradebook.db")
            raise CannotUpdate(
                f"{out} graded {', '.join(changed)} against a source that has changed since "
                f"(solutions/ against {out / 'course' / 'source'}): its grades and these would not "
                "be comparable. Grade into another --out, or pass --replace to grade everyone "
                f"afresh into this one" + (
                    f", which deletes the {hand} score(s) or comment(s) entered by hand (export "
                    f"them first: cd {out / 'course'} && nbgrader export)" if hand else "") + ".")
    extensions = Path(extensions) if extensions else deadlines.EXTENSIONS
    ext = deadlines.read_extensions(extensions)  # a malformed file stops the run before it starts
    due = deadlines.course_due_dates()
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
    folder = (workspace.update if update else workspace.create)(out / "course", cell_timeout, names)
    run = Run(out, folder, Path(tempfile.mkdtemp(prefix="autograder-run-")), names, secret,
              notebook_timeout, cell_timeout, sandboxed, limits if sandboxed else None, log,
              started, roster=roster, students=tuple(students or ()),
              extensions=extensions)
    run.deadlines = (ext, due)
    try:
        if scheduler:
            all_rows, times, where = _grade_on_cluster(run, scheduler, Path(submissions))
        else:
            all_rows, times = _grade_here(run, Path(submissions), workers)
            where = f"{run.pool} worker(s)"
    finally:  # what the workers and their checkers left in the temporary folder goes too,
        shutil.rmtree(run.scratch, ignore_errors=True)  # and the kernels' last memory cgroups
        from ..isolation import cgroup
        cgroup.remove(sandbox.CGROUPS)
    ready, graded = times
    end = time.monotonic()
    log(f"Graded {run.graded} notebook(s) with {where} in {end - started:.1f} s "
        f"(setting up {ready - started:.1f} s, grading {graded - ready:.1f} s, "
        f"results {end - graded:.1f} s)" + (f"; {len(all_rows) - run.graded} kept their grades"
                                            if len(all_rows) > run.graded else "") + ".")
    log(f"Wrote {out / 'grades.csv'}, {out / 'feedback'}/ and {out / 'report.html'}.")
    _pending(all_rows, out, log)
    return all_rows


def _pending(rows, out: Path, log, refreshed: bool = False) -> None:
    """Say what is still to grade by hand, and what to run afterwards."""
    pending = [r for r in rows if r.pending]
    changed = [r for r in rows if r.changed]
    if pending:
        log(f"{sum(len(r.pending) for r in pending)} written answer(s) to grade by hand in the "
            f"formgrader (jupyter lab in {out / 'course'}): "
            + ", ".join(f"{r.student}/{r.assignment}" for r in pending[:10])
            + (f" and {len(pending) - 10} more" if len(pending) > 10 else "") + ".")
    if changed:
        log(f"{len(changed)} notebook(s) with a hand grade whose answer changed since it was "
            "graded (kept; grade it again in the formgrader): "
            + ", ".join(f"{r.student}/{r.assignment} ({', '.join(r.changed)})" for r in changed)
            + ".")
    if (pending or changed) and refreshed:
        log("Their feedback shows them as not graded yet (0 points): grade them, then refresh "
            "again before you release it.")
    elif pending or changed:
        log(f"Then run `python -m autograder refresh {out}` before you release the feedback.")


def _collect(run: Run, submissions: Path):
    """The submissions to grade (all of them into a new folder; into an earlier run's, those
    new or changed, or the students named), copied into the run's course folder; what could
    not be graded; the prepare job; and every student's course id (also written to the folder,
    for the record)."""
    from . import collect
    found = collect.find(submissions, run.names, run.scratch / "unzipped", run.roster)
    for line in found.summary():
        run.log(line)
    subs, problems = found.submissions, found.problems
    chosen = _choose(run, subs, submissions)
    run.earlier = _hand_graded_answers(run.root, chosen)
    chosen, linked = _copy_in(run, chosen)
    everyone = sorted({s.student for s in subs} | {st for st, _ in record.load(run.root).entries}
                      | set(variants.read_ids(run.root).get("ids", {})))
    known = _assignments_in(run.root)
    prepare = Job("prepare", assignments=tuple(sorted({s.assignment for s in chosen} - known)),
                  students=tuple(sorted({s.student for s in chosen})))
    variants.write_ids(run.root, run.secret, everyone)
    return chosen, [*problems, *linked], prepare, variants.course_ids(run.secret, everyone)


def _choose(run: Run, subs, submissions: Path) -> list:
    """What this run grades: the named students' submissions, or those new or changed since
    the folder was last graded (all of them, into a new folder)."""
    if run.students:
        named = set(run.students)
        missing = sorted(named - {s.student for s in subs})
        if missing:
            have = sorted({s.student for s in subs})
            raise ValueError(
                f"--student {', '.join(missing)}: no submission of {', '.join(run.names)} in "
                f"{submissions} (it has {len(have)} student(s)"
                + (f": {', '.join(have[:20])}{' ...' if len(have) > 20 else ''}" if have else "")
                + ")")
        chosen = [s for s in subs if s.student in named]
        run.log(f"Grading the {len(chosen)} submission(s) of {', '.join(sorted(named))} named "
                "with --student; every other grade stays as it is.")
        return chosen
    chosen = [s for s in subs if _changed(run.root, s)]
    if len(chosen) < len(subs) or _assignments_in(run.root):
        run.log(f"{len(chosen)} of {len(subs)} submission(s) new or changed since {run.out} was "
                "graded: grading those; the others keep their grades, hand grades and comments.")
    return chosen


def _changed(root: Path, s) -> bool:
    """Whether a submission differs from the copy an earlier run graded: its notebook, or the
    time nbgrader's collect gave it (timestamp.txt), byte for byte; new is changed."""
    graded = workspace.path(root, "submitted", s.student, s.assignment)
    pairs = [(Path(s.path), graded),
             (Path(s.path).parent / "timestamp.txt", graded.parent / "timestamp.txt")]
    for new, old in pairs:
        mine = new.read_bytes() if new.is_file() and not new.is_symlink() else None
        theirs = old.read_bytes() if old.is_file() and not old.is_symlink() else None
        if mine != theirs or mine is None and new == Path(s.path):
            return True
    return False


def _assignments_in(root: Path) -> set:
    """The assignments the run's gradebook holds (none for a new folder)."""
    db = Path(root) / "gradebook.db"
    if not db.is_file():
        return set()
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
            return {name for (name,) in con.execute("SELECT name FROM assignment")}
    except sqlite3.Error:
        return set()


def _db(root: Path) -> str:
    """The run's gradebook, waiting for a lock (a formgrader may be open on it)."""
    return f"sqlite:///{Path(root) / 'gradebook.db'}?timeout=120"


def _answers(path: Path) -> dict:
    """grade id -> source of each answer (solution) cell of a submitted notebook."""
    from .. import notebooks
    try:
        nb = notebooks.read(path)
    except Exception:  # unreadable: every answer counts as changed
        return {}
    return {notebooks.grade_id(c): c.source for c in nb.cells
            if notebooks.nbgrader_meta(c).get("solution") and notebooks.grade_id(c)}


def _hand_graded_answers(root: Path, chosen) -> dict:
    """For each submission about to be graded again: its answers as last graded, and for each
    cell graded by hand, whether nbgrader marked it as needing a grade (so that marks stay)."""
    from nbgrader.api import Gradebook, MissingEntry
    earlier = {}
    if not _assignments_in(root):
        return earlier
    with Gradebook(_db(root)) as gb:
        for s in chosen:
            try:
                sub_nb = gb.find_submission_notebook(s.assignment, s.assignment, s.student)
            except MissingEntry:
                continue
            hand = {g.name: bool(g.needs_manual_grade) for g in sub_nb.grades
                    if g.manual_score is not None}
            if hand:
                earlier[s.student, s.assignment] = (
                    hand, _answers(workspace.path(root, "submitted", s.student, s.assignment)))
    return earlier


def _mark_changed_answers(run: Run) -> None:
    """After a resubmission is graded: every hand grade stays (nbgrader keeps it), and nbgrader
    marks each as needing a grade. That mark stays only where the answer changed (for a written
    answer, its cell; for a test cell scored by hand, any answer of the notebook), and goes back
    to what it was elsewhere; the formgrader clears it when the grade is saved again."""
    from nbgrader.api import Gradebook, MissingEntry
    if not run.earlier:
        return
    with Gradebook(_db(run.root)) as gb:
        for (student, assignment), (hand, before) in run.earlier.items():
            now = _answers(workspace.path(run.root, "submitted", student, assignment))
            changed = {gid for gid in set(before) | set(now) if before.get(gid) != now.get(gid)}
            try:
                sub_nb = gb.find_submission_notebook(assignment, assignment, student)
            except MissingEntry:
                continue
            for grade in sub_nb.grades:
                if grade.manual_score is None or grade.name not in hand:
                    continue
                if not before or not now:  # a notebook that cannot be read: look again
                    answer_changed = True
                elif grade.name in before or grade.name in now:  # the answer itself
                    answer_changed = grade.name in changed
                else:  # a test cell scored by hand: any answer may change what it tests
                    answer_changed = bool(changed)
                grade.needs_manual_grade = answer_changed or hand[grade.name]
            gb.db.commit()


def _deadlines(run: Run, subs) -> None:
    """Due dates and extensions into the run's gradebook, before any notebook is graded (the
    penalty is assigned as it is graded, and the feedback says it)."""
    ext, due = run.deadlines
    pairs = {(s.student, s.assignment) for s in subs} | set(record.load(run.root).entries) | \
        set(gradebook.submissions(_db(run.root)))
    deadlines.apply(_db(run.root), pairs, ext, due, run.log)


def _grade_here(run: Run, submissions: Path, workers: int):
    """The jobs on this machine, in a pool of `workers` processes (workers.py). Into a new
    folder the workers start while the submissions are found; into one graded before, where a
    few (or none) may need grading, no more workers start than there are notebooks to grade."""
    from .workers import grading_pool
    found = _collect(run, submissions) if _assignments_in(run.root) else None
    if found is not None and not found[0]:
        return _nothing_to_grade(run, found)
    if found is not None:
        workers = min(workers, len(found[0]))
    run.pool = workers
    with grading_pool(run.root, run.names, workers, run.notebook_timeout, run.limits,
                      tmp=run.scratch) as pool:
        subs, problems, prepare, ids = found or _collect(run, submissions)
        (prepared,) = pool.run([prepare])
        if not prepared.success:
            raise RuntimeError(f"{prepared.log}\n{prepared.error}")
        _deadlines(run, subs)
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


def _nothing_to_grade(run: Run, found):
    """Nothing new or changed: the gradebook takes the due dates and extensions (they may have
    changed), and the results are written again; no worker starts."""
    subs, problems, prepare, _ = found
    prepared = jobs.run(jobs.api(str(run.root)), run.root, prepare)
    if not prepared.success:
        raise RuntimeError(f"{prepared.log}\n{prepared.error}")
    _deadlines(run, subs)
    ready = time.monotonic()
    return _write_results(run, subs, [], problems), (ready, ready)


def _grade_on_cluster(run: Run, scheduler: str, submissions: Path):
    """The jobs on the Dask cluster at `scheduler` (cluster.py); this process sets up its
    own gradebook (the prepare job, here) and alone writes every result into it."""
    from . import cluster
    subs, problems, prepare, ids = _collect(run, submissions)
    prepared = jobs.run(jobs.api(str(run.root)), run.root, prepare)
    if not prepared.success:
        raise RuntimeError(f"{prepared.log}\n{prepared.error}")
    _deadlines(run, subs)
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


def refresh(out: Path, log=print, extensions: Path | None = None) -> list:
    """After hand grading (or any change in the gradebook, a due date or an extension): each
    student's feedback, grades.csv and report.html of the run in `out`, written again from its
    gradebook with nbgrader's own machinery. Due dates and extensions are read again
    (deadlines.py), each late notebook's penalty is assigned again on its score as it is now,
    hand grades included (nbgrader's AssignLatePenalties), and every feedback page is generated
    again (nbgrader's generate_feedback). No student code runs. Returns the rows."""
    out = Path(out).resolve()
    root = out / "course"
    if not workspace.is_run(root):
        raise FileNotFoundError(f"{out}: no grading run here (no {root / 'gradebook.db'}); give "
                                "the --out folder of `python -m autograder grade`")
    os.environ["PATH"] = course.environment()["PATH"]  # nbgrader runs `alembic` from this venv
    started = time.monotonic()
    ext = deadlines.read_extensions(Path(extensions) if extensions else deadlines.EXTENSIONS)
    rec = record.load(root)
    pairs = sorted(set(rec.entries) | set(gradebook.submissions(_db(root))))
    deadlines.apply(_db(root), pairs, ext, deadlines.course_due_dates(), log)
    import nbformat
    from nbgrader.preprocessors import AssignLatePenalties
    api = jobs.api(str(root))
    late = AssignLatePenalties(config=api.config)
    written, failed = 0, []
    for student, assignment in pairs:
        if not workspace.path(root, "autograded", student, assignment).is_file():
            continue  # never graded, or its grading failed: nothing to give feedback on
        late.preprocess(nbformat.v4.new_notebook(), {"nbgrader": {
            "notebook": assignment, "assignment": assignment, "student": student,
            "db_url": _db(root)}})
        result = api.generate_feedback(assignment, student, force=True)
        entry = rec.entries.get((student, assignment))
        if entry is not None:
            entry.notes = [n for n in entry.notes if not n.startswith("no feedback: ")]
        if result.get("success"):
            written += 1
        else:
            error = (result.get("error") or "feedback failed").strip()
            failed.append(f"{student}/{assignment}")
            if entry is not None:
                entry.notes.append("no feedback: " + error[:200])
    record.save(root, rec)
    rows = publish(out)
    log(f"Refreshed {written} feedback page(s), {out / 'grades.csv'} and {out / 'report.html'} "
        f"from the gradebook in {time.monotonic() - started:.1f} s"
        + (f"; no feedback for {', '.join(failed)} (see grades.csv)" if failed else "") + ".")
    _pending(rows, out, log, refreshed=True)
    return rows


if __name__ == "__main__":  # pragma: no cover
    sys.exit("use: python -m autograder grade ... (or refresh DIR)")
