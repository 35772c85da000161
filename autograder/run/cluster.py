"""Grading on a Dask cluster: `python -m autograder grade --scheduler ADDRESS`.

The jobs of a grading run go to a running Dask cluster (`dask scheduler` and `dask worker` on a
few servers, or a cluster that dask-kubernetes or dask-jobqueue started) through
`distributed.Client`. The workers share no filesystem with the command:

- The command registers a worker plugin (`GradingPlugin`). On every worker, now and whenever one
  joins, it builds a private nbgrader course folder under the Dask worker's local directory
  (`generate_assignment` for every assignment of the course, from the worker's own checkout) and
  starts today's local `workers.Pool` there, one spawned grading process per worker thread. So
  student code never runs in the Dask worker's process: the sandbox, RLIMIT_AS, the per-notebook
  timeout and the killing of runaway kernels are exactly those of a run on one machine.
- A job (`grade_job`) carries the submission's bytes (the notebook and the regular files beside
  it) and the command's course version (`course_version`: a hash of the hidden checks, the
  course's nbgrader settings and the source and released notebooks). A worker whose own version
  differs refuses it (`CourseVersionMismatch`, naming both). The worker grades the submission in
  its course folder with the same job as a local run (`jobs.run`: compare, autograde, feedback)
  and returns the autograded folder, the Outcome and the feedback folder, then forgets them.
- The command alone writes its course folder and gradebook (`record`): it writes the returned
  files, then does to its gradebook what nbgrader's `autograde` does (the submission row with its
  timestamp, then nbgrader's own SaveAutoGrades and AssignLatePenalties preprocessors on the
  autograded notebook). One writer, one result per submission: nothing is graded twice into the
  gradebook, and the result is the same nbgrader course folder as a local run's.

Faults. Dask moves the tasks of a worker that dies (killed, out of memory, its machine gone) to
another worker. A task that was running on two workers that died is not tried a third time: the
run sets the scheduler's `allowed_failures` to 1 (the scheduler's setting, for every client of
that scheduler; `distributed.scheduler.allowed-failures` in Dask's configuration is the same
thing), Dask raises `KilledWorker` for it, and its row says that it killed two workers.
"""
from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import threading
import time
import uuid
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path

from distributed.diagnostics.plugin import WorkerPlugin

from .. import course, files, workspace
from ..isolation import sandbox
from . import jobs
from .jobs import Job, Outcome

ALLOWED_FAILURES = 1  # a task is retried once after the death of a worker that was running it


class CourseVersionMismatch(RuntimeError):
    """A worker's course (checks, settings, notebooks) is not the command's."""


class WorkerNotReady(RuntimeError):
    """A worker could not prepare itself for grading (the message says why)."""


def _mismatch(address: str, worker_version: str, command_version: str) -> str:
    return (f"worker {address} has course version {worker_version}, the grading command has "
            f"{command_version}: the checks, settings or notebooks differ between the two "
            "checkouts. Update the worker's checkout to the command's (git pull, then restart "
            "the `dask worker`), or run the command from the workers' version.")


def course_version() -> str:
    """A hash of what decides a grade: the hidden checks (autograder/checks/*.py), the course's
    nbgrader settings, and every assignment's source and released notebooks and files."""
    paths = sorted((course.COURSE_ROOT / "checks").glob("*.py"))
    paths.append(course.COURSE_ROOT / "nbgrader_config.py")
    for name in course.assignments():
        for folder in (course.SOLUTIONS / name, course.EXERCISES / name):
            paths += sorted(p for p in folder.rglob("*") if p.is_file()
                            and "__pycache__" not in p.parts
                            and ".ipynb_checkpoints" not in p.parts)
    digest = hashlib.sha256()
    for path in paths:
        digest.update(str(path.relative_to(course.REPO)).encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


@dataclass(frozen=True)
class Settings:
    """What a worker grades with: the same for every worker of a run."""
    notebook_timeout: float
    cell_timeout: float
    limits: str | None   # sandbox.Limits.to_json(); None: no sandbox (--no-sandbox)
    version: str = ""    # the command's course version

    @property
    def name(self) -> str:
        """The plugin's name: runs with the same settings and course version share the workers'
        warm pools; another version or other settings get a plugin (and a pool) of their own."""
        text = repr(sorted(asdict(self).items()))
        return "autograder-" + hashlib.sha256(text.encode()).hexdigest()[:10]


class GradingPlugin(WorkerPlugin):
    """Prepares a Dask worker for grading, once: a private course folder under the worker's
    local directory, and a local `workers.Pool` of one grading process per worker thread.

    One plugin per settings and course version (its name). When a plugin of another version or
    other settings is set up, an idle one stops its pool (it stays registered with the
    scheduler, so it starts again if a run of its own sends it a job)."""

    idempotent = True  # a second run with the same settings keeps the warm pool

    def __init__(self, settings: Settings):
        self.settings = settings
        self.name = settings.name
        self.version = ""
        self.error = ""
        self.pool = None
        self.root: Path | None = None
        self.address = ""
        self.active = 0  # jobs in progress
        self._where = ("", 1)  # the worker's local directory and threads
        self._ready = threading.Event()
        self._lock = threading.Lock()  # the pool's state and `active`
        self._locks: dict = {}

    def __getstate__(self):  # what the command sends: the settings only
        return {"settings": self.settings}

    def __setstate__(self, state):
        self.__init__(state["settings"])

    async def setup(self, worker):
        self.address = worker.address
        self._where = (worker.local_directory, worker.state.nthreads)
        others = [p for p in worker.plugins.values()
                  if isinstance(p, GradingPlugin) and p is not self]
        # Off the worker's event loop: starting the pool and generating the assignments take
        # seconds, during which the worker keeps answering the scheduler.
        await asyncio.to_thread(self._setup, others)

    def _setup(self, others) -> None:
        try:
            for other in others:
                other.suspend()
            self.version = course_version()
            if self.version == self.settings.version:  # else every job is refused
                with self._lock:
                    self._start()
        except Exception as err:
            self.error = f"{type(err).__name__}: {err}"
        finally:
            self._ready.set()

    def _start(self) -> None:
        """The course folder and the pool (with self._lock held)."""
        local_directory, threads = self._where
        limits = (None if self.settings.limits is None
                  else sandbox.Limits.from_json(self.settings.limits))
        from ..isolation.forkkernel import sandbox_unavailable
        from .workers import grading_pool
        why = sandbox_unavailable() if limits is not None else ""
        if why:
            raise WorkerNotReady(why)
        import multiprocessing as mp
        # A worker started by a nanny is a daemonic process, which multiprocessing forbids to
        # start processes (Dask's setting distributed.worker.daemon=False does the same). The
        # pool's processes are stopped by teardown, or end on their own when this process goes
        # (their pipe closes).
        mp.current_process()._config["daemon"] = False
        self.root = workspace.create(Path(local_directory) / self.name / "course",
                                     self.settings.cell_timeout, course.assignments())
        os.environ["PATH"] = course.environment()["PATH"]
        self.pool = grading_pool(self.root, course.assignments(), max(1, threads),
                                 self.settings.notebook_timeout, limits).__enter__()
        (prepared,) = self.pool.run([Job("prepare", assignments=tuple(course.assignments()))])
        if not prepared.success:
            raise WorkerNotReady(f"nbgrader could not prepare the course:\n{prepared.error}")

    def suspend(self) -> None:
        """Stop the pool if no job is in progress (it starts again at the next job)."""
        with self._lock:
            if self.pool is not None and not self.active:
                self.pool.__exit__(None, None, None)
                self.pool = None

    def teardown(self, worker):
        with self._lock:
            if self.pool is not None:
                self.pool.__exit__(None, None, None)
                self.pool = None

    def state(self) -> dict:
        self._ready.wait()
        return {"version": self.version, "error": self.error}

    def grade(self, version: str, job: Job, payload: dict[str, bytes]) -> dict:
        """Grade one submission (its files) in this worker's course folder."""
        self._ready.wait()
        if self.error:
            raise WorkerNotReady(f"worker {self.address} cannot grade: {self.error}")
        if version != self.version:
            raise CourseVersionMismatch(_mismatch(self.address, self.version, version))
        with self._lock:
            if self.pool is None:  # suspended by another run's plugin: start again
                self._start()
            lock = self._locks.setdefault((job.student, job.assignment), threading.Lock())
            self.active += 1
        try:
            with lock:  # two runs may send the same submission to this worker
                return self._grade(job, payload)
        finally:
            with self._lock:
                self.active -= 1

    def _grade(self, job: Job, payload: dict[str, bytes]) -> dict:
        folders = {kind: workspace.path(self.root, kind, job.student, job.assignment).parent
                   for kind in ("submitted", "autograded", "feedback")}
        for folder in folders.values():
            shutil.rmtree(folder, ignore_errors=True)
        files.write_regular(folders["submitted"], payload)
        try:
            outcome = self.pool.run_one(job)
            return {"outcome": outcome, "autograded": files.read_regular(folders["autograded"]),
                    "feedback": files.read_regular(folders["feedback"]), "worker": self.address}
        finally:  # the worker keeps nothing of a submission once its result is returned
            for folder in folders.values():
                shutil.rmtree(folder, ignore_errors=True)


def grade_job(plugin: str, version: str, job: Job, payload: dict[str, bytes]) -> dict:
    """The Dask task: grade one submission on this worker, through its GradingPlugin."""
    from distributed import get_worker
    worker = get_worker()
    found = worker.plugins.get(plugin)
    if found is None:
        raise WorkerNotReady(f"worker {worker.address} has no plugin {plugin}")
    return found.grade(version, job, payload)


TASK = grade_job  # what the command submits (a test puts a wrapper here)


def _plugin_state(plugin: str, dask_worker=None) -> dict:
    found = dask_worker.plugins.get(plugin)
    return found.state() if found is not None else {"version": "", "error": "no plugin"}


def _set_allowed_failures(n: int, dask_scheduler=None) -> int:
    dask_scheduler.allowed_failures = n
    return n


def record(root: Path, api, result: dict) -> Outcome:
    """Write one returned result into the command's course folder and gradebook (the single
    writer): the autograded and feedback folders, then what nbgrader's `autograde` writes to
    the gradebook, with nbgrader's own code (converters/autograde.py `init_assignment`: the
    submission with its timestamp; then the two preprocessors of its pipeline that write to the
    gradebook, SaveAutoGrades and AssignLatePenalties, on the autograded notebook)."""
    import nbformat
    from nbgrader.api import Gradebook
    from nbgrader.preprocessors import AssignLatePenalties, SaveAutoGrades
    from sqlalchemy.exc import SAWarning
    warnings.simplefilter("ignore", SAWarning)  # nbgrader's own, as in its autograde's log
    outcome: Outcome = result["outcome"]
    job = outcome.job
    for kind in ("autograded", "feedback"):
        folder = workspace.path(root, kind, job.student, job.assignment).parent
        if result[kind]:
            files.write_regular(folder, result[kind])
        else:
            shutil.rmtree(folder, ignore_errors=True)
    coursedir = api.coursedir
    submitted = coursedir.format_path(coursedir.submitted_directory, job.student, job.assignment)
    timestamp = coursedir.get_existing_timestamp(submitted)
    with Gradebook(coursedir.db_url, coursedir.course_id) as gb:
        gb.update_or_create_student(job.student)
        if timestamp:
            gb.update_or_create_submission(job.assignment, job.student, timestamp=timestamp)
        else:
            gb.update_or_create_submission(job.assignment, job.student)
    path = workspace.path(root, "autograded", job.student, job.assignment)
    if path.is_file():
        nb = nbformat.read(str(path), as_version=4)  # as nbgrader reads it
        resources = {"nbgrader": {"student": job.student, "assignment": job.assignment,
                                  "notebook": path.stem, "db_url": coursedir.db_url}}
        for preprocessor in (SaveAutoGrades, AssignLatePenalties):
            nb, resources = preprocessor(config=api.config).preprocess(nb, resources)
    return outcome


def _lost(job: Job, err: BaseException) -> Outcome:
    from distributed.scheduler import KilledWorker
    if isinstance(err, KilledWorker):
        why = (f"killed {err.allowed_failures + 1} Dask workers while grading it (the last: "
               f"{err.last_worker.address}); not tried again")
    else:
        why = f"{type(err).__name__}: {err}"
    return Outcome(job, False, why, completed=False)


def grade(scheduler: str, root: Path, subs, settings: Settings, progress, log=print,
          timeout: float = 60, ids: dict | None = None) -> tuple[list[Outcome], float, list]:
    """Grade the submissions copied into `root` (the command's course folder, prepared: its
    gradebook knows the assignments) on the Dask cluster at `scheduler`. Returns one Outcome per
    submission, when the workers were ready (time.monotonic()), and the seconds spent writing
    results (wall time, and this thread's CPU time). `progress()` returns the function called
    with each Outcome, once grading starts."""
    from distributed import Client, as_completed
    version = settings.version or course_version()
    api = jobs.api(str(root))
    # What `record` needs, imported now rather than at the first result.
    import nbformat  # noqa: F401
    import nbgrader.preprocessors  # noqa: F401
    start = time.monotonic()
    with Client(scheduler, timeout=timeout) as client:
        client.run_on_scheduler(_set_allowed_failures, ALLOWED_FAILURES)
        plugin = GradingPlugin(settings)
        client.register_plugin(plugin)
        states = client.run(_plugin_state, plugin.name)
        if not states:
            raise WorkerNotReady(f"the Dask cluster at {scheduler} has no worker")
        for address, state in sorted(states.items()):
            if state["error"]:
                raise WorkerNotReady(f"worker {address} cannot grade: {state['error']}")
            if state["version"] != version:
                raise CourseVersionMismatch(_mismatch(address, state["version"], version))
        threads = sum(client.nthreads().values())
        ready = time.monotonic()
        log(f"Dask cluster at {scheduler}: {len(states)} worker(s), {threads} thread(s), "
            f"course version {version}; ready in {ready - start:.1f} s.")
        on_done = progress()
        # At most a few tasks per thread in flight: the submissions' bytes of a class of any
        # size never sit in the scheduler's memory at once.
        window = max(8, 4 * threads)
        todo = list(subs)
        futures: dict = {}
        outcomes: list[Outcome] = []
        writing = [0.0, 0.0]  # wall and CPU seconds of this thread, writing results

        def submit(s):
            job = Job("grade", s.assignment, s.student, course_id=(ids or {}).get(s.student, ""))
            payload = files.read_regular(workspace.path(root, "submitted", s.student,
                                                        s.assignment).parent)
            key = f"grade-{s.assignment}-{s.student}-{uuid.uuid4().hex[:8]}"
            future = client.submit(TASK, plugin.name, version, job, payload, key=key, pure=False)
            futures[future] = job
            return future

        done = as_completed([submit(s) for s in todo[:window]], with_results=True,
                            raise_errors=False)
        todo = todo[window:]
        try:
            for future, result in done:
                job = futures.pop(future)
                if future.status == "error":
                    err = result[1]
                    if isinstance(err, (CourseVersionMismatch, WorkerNotReady)):
                        raise err
                    outcome = _lost(job, err)
                else:
                    wall, cpu = time.monotonic(), time.thread_time()
                    try:
                        outcome = record(root, api, result)
                    except Exception as err:  # e.g. a file name refused: say so, keep going
                        outcome = Outcome(job, False, f"its result could not be recorded "
                                          f"({type(err).__name__}: {err})", completed=False)
                    writing[0] += time.monotonic() - wall
                    writing[1] += time.thread_time() - cpu
                future.release()  # its result leaves the worker: a worker lost now costs nothing
                outcomes.append(outcome)
                on_done(outcome)
                if todo:
                    done.add(submit(todo.pop(0)))
        finally:
            if futures:
                client.cancel(list(futures))
    return outcomes, ready, writing
