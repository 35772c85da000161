"""`python -m autograder grade`: autograde a class with nbgrader, in parallel, and write
grades.csv, per-student feedback and a class report.

The work happens in an nbgrader course folder of its own, DIR/course/ (gradebook.db, submitted/,
autograded/, feedback/), so nbgrader's own commands (`nbgrader export`, the formgrader)
work on the result afterwards, wherever the folder is moved.
"""
from __future__ import annotations

import csv
import io
import os
import shutil
import stat
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import course, jobs, sandbox, variants
from .jobs import Job, Outcome
from .workers import Pool

# collect imports nbformat (a second): grade() imports it once its workers are starting, so
# that both happen at the same time. Everything per submission happens in the workers.

NOTEBOOK_TIMEOUT = 600  # seconds for one notebook as a whole
CELL_TIMEOUT = 60       # seconds for one cell
UNSANDBOXED = "graded WITHOUT the sandbox (--no-sandbox): its code could reach the whole run"


class HandGradesKept(RuntimeError):
    """The output folder holds an earlier run's hand grades (the message says what to do)."""


def _hand_grades(db: Path) -> int:
    """How many scores and comments were entered by hand in the gradebook `db` (0 if none)."""
    if not db.is_file():
        return 0
    import sqlite3
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
            return sum(con.execute(query).fetchone()[0] for query in (
                "SELECT count(*) FROM grade WHERE manual_score IS NOT NULL",
                "SELECT count(*) FROM comment WHERE manual_comment IS NOT NULL "
                "AND manual_comment != ''"))
    except sqlite3.Error:  # not a gradebook of ours: nothing nbgrader graded by hand
        return 0


class SandboxUnavailable(RuntimeError):
    """Kernels cannot be sandboxed on this machine (the message says how to enable it)."""


def sandbox_unavailable() -> str:
    """Why kernels cannot be sandboxed on this machine, and how to allow it; "" if they can."""
    from .forkkernel import registered
    if not registered():
        return ("kernels can only be sandboxed through the kernel provisioner autograder-fork, "
                "which is not installed: run `pip install -e .` in the repository "
                "(or --no-sandbox)")
    why = sandbox.check()
    return sandbox.HOW_TO_ENABLE.format(reason=why) if why else ""


def grading_pool(root: Path, names: list[str], workers: int, notebook_timeout: float,
                 limits: sandbox.Limits | None) -> Pool:
    """The pool of grading processes for the course folder `root` (workers.py), whose kernels'
    template preloads what the assignments `names` and the trusted checks import."""
    return Pool(str(root), course.environment(), workers, notebook_timeout,
                preload=course.kernel_imports(names) + sandbox.trusted_imports()
                + ["autograder.forkkernel"], limits=limits)


@dataclass
class Row:
    student: str
    assignment: str
    scores: dict = field(default_factory=dict)   # test grade id -> points
    max_scores: dict = field(default_factory=dict)
    status: str = "graded"
    notes: list = field(default_factory=list)
    failures: list = field(default_factory=list)  # (grade id, error name, message) per error
    pending: list = field(default_factory=list)   # written answers still to grade by hand

    @property
    def total(self) -> float:
        return sum(self.scores.values())

    @property
    def max_total(self) -> float:
        return sum(self.max_scores.values())


def _course_settings() -> str:
    """The course's nbgrader settings (autograder/nbgrader_config.py) without its docstring,
    which describes the repository's layout, not a grading run's."""
    import ast
    text = course.COURSE_ROOT.joinpath("nbgrader_config.py").read_text()
    tree = ast.parse(text)
    first = tree.body[0] if tree.body else None
    if isinstance(first, ast.Expr) and isinstance(getattr(first, "value", None), ast.Constant):
        text = "\n".join(text.splitlines()[first.end_lineno:]).lstrip("\n")
    return text


def _workspace(out: Path, cell_timeout: float, names: list[str]) -> Path:
    """A fresh nbgrader course folder, in nbgrader's standard layout (source/, release/,
    submitted/, autograded/, feedback/, gradebook.db), that holds no absolute path: its
    nbgrader_config.py is the course's settings written out, then this run's, with every path
    derived from the file's own location (traitlets gives a config file its `__file__`). So the
    folder can be moved or archived as the record of a grading run, and still opens in nbgrader
    (`nbgrader export`, the formgrader through `jupyter lab` there)."""
    root = out / "course"
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    (root / "logs").mkdir()
    for name in names:  # the sources this run graded against, as nbgrader expects them
        shutil.copytree(course.SOLUTIONS / name, root / "source" / name)
    (root / "nbgrader_config.py").write_text(
        "# The nbgrader course of a grading run (`python -m autograder grade`): the course's\n"
        "# settings (autograder/nbgrader_config.py, copied), then this run's. Every path is\n"
        "# relative to this file, so the folder can be moved and still opens in nbgrader.\n\n"
        + _course_settings() +
        "\n\n# --- This grading run ----------------------------------------------------------\n"
        "import os as _os\n\n"
        "_here = _os.path.dirname(_os.path.abspath(__file__))\n"
        "c.CourseDirectory.root = _here\n"
        "c.CourseDirectory.source_directory = 'source'\n"
        "c.CourseDirectory.release_directory = 'release'\n"
        "# Several graders share this gradebook: wait for the lock instead of failing.\n"
        "c.CourseDirectory.db_url = ('sqlite:///' + _os.path.join(_here, 'gradebook.db')\n"
        "                            + '?timeout=120')\n"
        f"c.ResilientExecute.timeout = {int(cell_timeout)}\n"
        "# Speed, not grading: a graded kernel has nothing to save, so it is stopped at once; a\n"
        "# kernel's client is ready when its kernel is (kernels are forked, see forkkernel.py);\n"
        "# feedback templates are compiled once per worker, not once per notebook.\n"
        "c.ResilientExecute.shutdown_kernel = 'immediate'\n"
        "c.AsyncKernelManager.client_factory = 'autograder.forkkernel.ReadyClient'\n"
        "c.GenerateFeedback.exporter_class = 'autograder.exporters.FeedbackExporter'\n"
        "# Each student's course id (their numbers), never the secret (variants.py).\n"
        f"c.ResilientExecute.course_ids = _os.path.join(_here, '{variants.IDS_FILE}')\n")
    return root


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
        (logs / f"{o.job.student}.{o.job.assignment}.log").write_text(
            o.log + ("\n" + o.error if o.error else ""))
        mark = "ok" if o.success else "FAILED: " + (o.error.strip().splitlines() or [""])[-1][:100]
        left = (time.monotonic() - start) / done[0] * (total - done[0])
        log(f"  [{done[0]}/{total}] {o.job.student}/{o.job.assignment} ({o.seconds:.1f} s) {mark}"
            f" | about {_duration(left)} left")
    return report


def _regular_only(folder, names) -> list[str]:
    """copytree's `ignore`: leave out links (a submission's link would be followed by whoever
    reads it), devices, sockets and the notebooks (copied on their own)."""
    left = []
    for name in names:
        st = os.lstat(os.path.join(folder, name))
        if name.endswith(".ipynb") or not (stat.S_ISREG(st.st_mode) or stat.S_ISDIR(st.st_mode)):
            left.append(name)
    return left


def _copy_in(root: Path, subs) -> tuple[list, list]:
    """Each submission's whole folder into course/submitted/, as nbgrader expects: collect's
    timestamp.txt and submission_secret.txt (late penalties, release_feedback), any data files.
    Only regular files and folders are copied, never through a link; a notebook that is a link
    is not graded. Returns the submissions copied, and a problem for each one left out."""
    from .collect import Problem
    kept, problems = [], []
    for s in subs:
        dest = jobs.submitted(root, s.assignment, s.student)
        try:
            fd = os.open(s.path, os.O_RDONLY | os.O_NOFOLLOW)
        except OSError:
            problems.append(Problem(s.student, s.assignment, f"{s.path.name} is a link, not a "
                                    "notebook (links in a submission are never followed)"))
            continue
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(s.path.parent, dest.parent, dirs_exist_ok=True, ignore=_regular_only)
        with os.fdopen(fd, "rb") as fin, open(dest, "wb") as fout:
            shutil.copyfileobj(fin, fout)
        kept.append(s)
    return kept, problems


def _write_fresh(path: Path, text: str) -> None:
    """Write a result file as a new file renamed into place: a link planted at `path` is
    replaced, never followed."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
        f.write(text)
    os.replace(tmp, path)


def _complete(root: Path, o: Outcome) -> Outcome:
    """For a job that did not complete (it raised, or its worker died or was stopped): what can
    still be learnt from the submission and from whatever nbgrader wrote before it stopped."""
    if o.completed:
        return o
    try:
        o.notes, _, _ = jobs.inspect(root, o.job.assignment, o.job.student, o.job.course_id)
        more, _, o.failures = jobs.read_graded(root, o.job.assignment, o.job.student)
        o.notes += more
    except Exception as err:  # a notebook nbgrader half-wrote: say so, keep going
        o.notes.append(f"could not read the notebook back ({type(err).__name__})")
    o.held = True  # feedback, if it was begun at all, is incomplete
    shutil.rmtree(root / "feedback" / o.job.student / o.job.assignment, ignore_errors=True)
    return o


def _notes(o: Outcome, duplicates: list[str]) -> tuple[list[str], bool]:
    """What grades.csv and the report say about one graded submission, and whether to review it."""
    notes = list(o.notes)
    if duplicates:
        notes.append(f"possible duplicate student: {', '.join(duplicates)} differs only in case")
    if not o.success:
        err = o.error.strip()
        notes.append(err.splitlines()[-1][:300] if err else "autograding failed")
    if o.held:
        notes.append("feedback held back for review")
    if o.feedback_error:
        notes.append("no feedback: " + o.feedback_error[:200])
    return notes, o.review or bool(duplicates) or not o.success


def _import_for_results() -> None:
    import nbgrader.api  # noqa: F401  (the gradebook)
    from . import report
    report.pyplot()


def _read_gradebook(root: Path, subs) -> dict:
    from nbgrader.api import Gradebook, MissingEntry
    rows, max_scores = {}, {}
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        for s in subs:
            if s.assignment not in max_scores:
                max_scores[s.assignment] = {cell.name: cell.max_score for cell in
                                            gb.find_notebook(s.assignment, s.assignment).grade_cells}
            row = Row(s.student, s.assignment, max_scores=dict(max_scores[s.assignment]),
                      scores={name: 0.0 for name in max_scores[s.assignment]})
            try:
                sub_nb = gb.find_submission_notebook(s.assignment, s.assignment, s.student)
            except MissingEntry:
                row.status = "not graded"
                row.scores = {name: 0.0 for name in row.max_scores}
            else:
                for grade in sub_nb.grades:
                    if grade.needs_manual_grade and grade.manual_score is None:  # written answer
                        del row.scores[grade.name]
                        row.pending.append(grade.name)
                    else:
                        row.scores[grade.name] = float(grade.score or 0.0)
            rows[s.student, s.assignment] = row
    return rows


def _write_csv(path: Path, rows: list[Row], problems) -> None:
    cells = []
    for row in rows:
        cells += [c for c in row.max_scores if c not in cells]
    with io.StringIO(newline="") as f:
        w = csv.writer(f)
        w.writerow(["student", "assignment", *cells, "total", "max_total", "status", "notes"])
        for row in sorted(rows, key=lambda r: (r.student, r.assignment)):
            w.writerow([row.student, row.assignment,
                        *[_fmt(row.scores[c]) if c in row.scores else "" for c in cells],
                        _fmt(row.total), _fmt(row.max_total), row.status,
                        "; ".join([*row.notes, *(f"{c}: written answer, to grade by hand in the "
                                                 "formgrader" for c in row.pending)])])
        for p in problems:
            w.writerow([p.student, p.assignment, *[""] * len(cells), "", "", "not graded", p.problem])
        _write_fresh(path, f.getvalue())


def _fmt(x: float) -> str:
    return f"{x:g}"


def _write_results(root: Path, out: Path, subs, outcomes, problems,
                   sandboxed: bool = True, limits: sandbox.Limits | None = None) -> list[Row]:
    """grades.csv, feedback/ and report.html from the gradebook and what each job found."""
    rows = _read_gradebook(root, subs)
    students = {s.student for s in subs}
    for o in outcomes:
        row = rows[o.job.student, o.job.assignment]
        o = _complete(root, o)
        twins = sorted(t for t in students
                       if t.lower() == o.job.student.lower() and t != o.job.student)
        row.notes, review = _notes(o, twins)
        row.failures = o.failures
        seen = _sandbox_notes(root, o)
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
    if (root / "feedback").exists():
        shutil.copytree(root / "feedback", fb_out, ignore=_regular_only_pages)
    all_rows = list(rows.values())
    _write_csv(out / "grades.csv", all_rows, problems)
    from .report import write_report
    write_report(out / "report.html", all_rows, problems, sandboxed=sandboxed, limits=limits)
    return all_rows


def _regular_only_pages(folder, names) -> list[str]:
    """copytree's `ignore` for feedback/: only regular files and folders, never a link."""
    return [n for n in names if not (stat.S_ISREG(os.lstat(os.path.join(folder, n)).st_mode)
                                     or stat.S_ISDIR(os.lstat(os.path.join(folder, n)).st_mode))]


def _sandbox_notes(root: Path, o: Outcome) -> list[str]:
    """What the sandbox saw of a submission: the cells where it reached a limit or tried what the
    sandbox refused, and the processes it left running (from its autograded notebook)."""
    from .outputs import ABSENT_MARK, LIMIT_MARK, METADATA, REFUSED_MARK
    notes = []
    for gid, ename, line in o.failures:
        if LIMIT_MARK in line:
            notes.append(f"{gid or 'a cell'}: reached the sandbox's limit of "
                         f"{line.split(LIMIT_MARK, 1)[1].split(')')[0]}")
        elif REFUSED_MARK in line:
            notes.append(f"{gid or 'a cell'}: tried what the sandbox refused ({ename}: "
                         f"{line.split(REFUSED_MARK, 1)[1][:80]})")
        elif ABSENT_MARK in line:
            notes.append(f"{gid or 'a cell'}: reached for a path outside the sandbox ({ename}: "
                         f"{line.split(ABSENT_MARK, 1)[1][:80]})")
    try:
        import json
        path = jobs.autograded(root, o.job.assignment, o.job.student)
        left = json.loads(path.read_text()).get("metadata", {}).get(METADATA, {}).get(
            "processes_left_running", 0) if path.is_file() else 0
    except (OSError, ValueError, AttributeError):
        left = 0
    if left:
        notes.append(f"the notebook left {left} process(es) running, stopped by the sandbox")
    return list(dict.fromkeys(notes))


def grade(submissions: Path, out: Path, assignments: list[str] | None = None,
          workers: int | None = None, notebook_timeout: float = NOTEBOOK_TIMEOUT,
          cell_timeout: float = CELL_TIMEOUT, log=print, sandboxed: bool = True,
          limits: sandbox.Limits | None = None, scheduler: str | None = None,
          replace: bool = False) -> list[Row]:
    """Grade every submission under `submissions`; write grades.csv, feedback/ and report.html.
    Every kernel runs in a sandbox (sandbox.py) with `limits`, unless `sandboxed` is False;
    SandboxUnavailable says why it cannot run here. With `scheduler` (a Dask scheduler's
    address), the jobs run on that Dask cluster (distributed.py) instead of `workers` local
    processes; this process alone writes the results. An earlier run's folder in `out` whose
    gradebook holds scores entered by hand is only replaced with `replace` (HandGradesKept)."""
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
    hand = _hand_grades(out / "course" / "gradebook.db")
    if hand and not replace:
        raise HandGradesKept(
            f"{out / 'course' / 'gradebook.db'} holds {hand} score(s) or comment(s) entered by "
            "hand in the formgrader, which a new run into this folder would delete. Export them "
            f"first (cd {out / 'course'} && nbgrader export), then grade into another --out, or "
            "pass --replace to delete them.")
    out.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()

    from .forkkernel import registered
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
    root = _workspace(out, cell_timeout, names)
    if scheduler:
        all_rows, times, where = _grade_on_cluster(scheduler, root, out, Path(submissions), names,
                                                   notebook_timeout, cell_timeout, sandboxed,
                                                   limits, log, started, secret)
    else:
        all_rows, times = _grade_here(root, out, Path(submissions), names, workers,
                                      notebook_timeout, sandboxed, limits, log, started, secret)
        where = f"{workers} worker(s)"
    ready, graded = times
    end = time.monotonic()
    log(f"Graded {len(all_rows)} notebook(s) with {where} in {end - started:.1f} s "
        f"(setting up {ready - started:.1f} s, grading {graded - ready:.1f} s, "
        f"results {end - graded:.1f} s).")
    log(f"Wrote {out / 'grades.csv'}, {out / 'feedback'}/ and {out / 'report.html'}.")
    return all_rows


def _collect(root: Path, submissions: Path, names: list[str], log, secret: bytes):
    """The submissions, copied into the run's course folder; what could not be graded; the
    prepare job; and every student's course id (also written to the folder, for the record)."""
    from . import collect
    subs, problems = collect.find(submissions, names)
    log(f"Found {len(subs)} submission(s) of {', '.join(names)}; {len(problems)} problem(s).")
    subs, linked = _copy_in(root, subs)
    students = tuple(sorted({s.student for s in subs}))
    prepare = Job("prepare", assignments=tuple(sorted({s.assignment for s in subs})),
                  students=students)
    variants.write_ids(root, secret, students)
    return subs, [*problems, *linked], prepare, variants.course_ids(secret, students)


def _grade_here(root, out, submissions, names, workers, notebook_timeout, sandboxed, limits,
                log, started, secret):
    """The jobs on this machine, in a pool of `workers` processes (workers.py)."""
    with grading_pool(root, names, workers, notebook_timeout,
                      limits if sandboxed else None) as pool:
        subs, problems, prepare, ids = _collect(root, submissions, names, log, secret)
        (prepared,) = pool.run([prepare])
        if not prepared.success:
            raise RuntimeError(f"{prepared.log}\n{prepared.error}")
        ready = time.monotonic()
        log(f"Set up the gradebook in {ready - started:.1f} s.")
        # Meanwhile this process only waits: it imports what the results need.
        threading.Thread(target=_import_for_results, daemon=True).start()
        outcomes = pool.run([Job("grade", s.assignment, s.student, course_id=ids[s.student])
                             for s in subs],
                            _progress(root, len(subs), log))
        graded = time.monotonic()
        pool.stop()  # the workers wind down while the results are written
        all_rows = _write_results(root, out, subs, outcomes, problems, sandboxed, limits)
    return all_rows, (ready, graded)


def _grade_on_cluster(scheduler, root, out, submissions, names, notebook_timeout, cell_timeout,
                      sandboxed, limits, log, started, secret):
    """The jobs on the Dask cluster at `scheduler` (distributed.py); this process sets up its
    own gradebook (the prepare job, here) and alone writes every result into it."""
    from dataclasses import asdict

    from . import distributed
    subs, problems, prepare, ids = _collect(root, submissions, names, log, secret)
    prepared = jobs.run(jobs.api(str(root)), root, prepare)
    if not prepared.success:
        raise RuntimeError(f"{prepared.log}\n{prepared.error}")
    log(f"Set up the gradebook in {time.monotonic() - started:.1f} s.")
    settings = distributed.Settings(float(notebook_timeout), float(cell_timeout),
                                    asdict(limits) if sandboxed else None,
                                    distributed.course_version())
    outcomes, ready, writing = distributed.grade(
        scheduler, root, subs, settings, lambda: _progress(root, len(subs), log), log, ids=ids)
    graded = time.monotonic()
    all_rows = _write_results(root, out, subs, outcomes, problems, sandboxed, limits)
    n = max(1, len(outcomes))
    log(f"Wrote {len(outcomes)} result(s) into the gradebook in {writing[0]:.1f} s "
        f"({1000 * writing[0] / n:.0f} ms per notebook, {1000 * writing[1] / n:.0f} ms of CPU; "
        "one writer).")
    return all_rows, (ready, graded), f"the Dask cluster at {scheduler}"


if __name__ == "__main__":  # pragma: no cover
    sys.exit("use: python -m autograder grade ...")
