"""Supervised worker processes that run nbgrader's own machinery, in parallel.

Each worker is a long-lived process (so nbgrader is imported once, not once per notebook) in its
own process group, with the kernels it starts: they are forked from a warm template
(forkkernel.py), and they stay in that group. Unless `limits` is None, every kernel runs in a
sandbox of its own (sandbox.py) with those limits, its sockets in a folder under
course/kernels/. The supervisor hands out one job (jobs.py) at a time and kills a worker, with
its kernels, when a job runs past its deadline or the worker dies; the job is then reported as
not completed and a fresh worker takes the next one. `run` hands out a list of jobs; `run_one`
lets several threads (a Dask worker's, distributed.py) share one pool. The gradebook
is one SQLite file opened with a long busy timeout, so concurrent writers wait for each other
instead of failing.
"""
from __future__ import annotations

import multiprocessing as mp
import os
import queue
import resource
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from multiprocessing.connection import wait
from pathlib import Path

from ..isolation import sandbox
from .jobs import Job, Outcome

PREPARE_TIMEOUT = 600  # seconds: nbgrader generating the assignments of a grading run


def _serve(conn, course_root: str, env: dict, memory_limit: int, preload: list[str]) -> None:
    """Worker loop: receive a Job, run it through nbgrader's API, send back an Outcome."""
    os.setsid()  # its own process group: killing it also kills the kernels it started
    threading.Thread(target=_go_with, args=(os.getppid(),), daemon=True).start()
    with open("/proc/self/oom_score_adj", "w") as f:  # out of memory, a worker goes before
        f.write(str(sandbox.OOM_WORKER))               # the supervisor (its kernels before it)
    # The sandbox shows kernels every folder on sys.path: never the course folder (gradebook,
    # submissions, sources) nor one above it. A Dask worker puts its local directory, where its
    # course folder is (distributed.py), on sys.path.
    here = os.path.realpath(course_root) + os.sep
    sys.path[:] = [p for p in sys.path
                   if not p or not here.startswith(os.path.realpath(p) + os.sep)]
    # The kernels inherit this address-space limit: a memory bomb gets a MemoryError.
    resource.setrlimit(resource.RLIMIT_AS, (memory_limit, memory_limit))
    os.environ.update(env)
    # One BLAS thread per kernel (its template loads numpy with this environment): a run has a
    # worker per core, and OpenBLAS's own threads would only contend with them. An instructor's
    # setting wins.
    for threads in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(threads, "1")
    os.chdir(course_root)
    # nbgrader's, SQLAlchemy's and the kernels' own chatter goes to a log, not the terminal.
    os.makedirs(os.path.join(course_root, "logs"), exist_ok=True)
    log = os.open(os.path.join(course_root, "logs", f"worker-{os.getpid()}.log"),
                  os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(log, 1)
    os.dup2(log, 2)
    _quiet()
    from .. import course
    from ..isolation import forkkernel
    forkkernel.use(preload)  # the kernels' template imports them while this imports nbgrader
    course.skip_slow_optional_imports()
    from . import jobs
    api = jobs.api(course_root)
    while True:
        job = conn.recv()
        if job is None:
            return
        start = time.monotonic()
        try:
            outcome = jobs.run(api, Path(course_root), job)
        except Exception as err:  # nbgrader itself failed on this submission
            outcome = Outcome(job, False, f"{type(err).__name__}: {err}", completed=False)
        outcome.seconds = time.monotonic() - start
        conn.send(outcome)


def _quiet() -> None:
    """Keep the worker's log to what an instructor needs when something went wrong: not the
    warnings nbgrader's own gradebook code trips on every notebook (SQLAlchemy 2's "not in
    session"), nbformat's about cells without ids, nor debugpy's about frozen modules, which
    every kernel's template prints as it imports ipykernel."""
    import warnings
    warnings.filterwarnings("ignore", message=r"Object of type <\w+> not in session")
    warnings.filterwarnings("ignore", message=r"Cell is missing an id field")
    os.environ["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"


def _go_with(supervisor: int) -> None:
    """In a worker: when its supervisor is gone (the command killed, even with SIGKILL), take
    the worker's process group with it: the kernels' template and every kernel's keeper (whose
    sandbox follows its keeper, sandbox.py)."""
    while os.getppid() == supervisor:
        time.sleep(0.5)
    os.killpg(0, signal.SIGKILL)


@dataclass
class _Worker:
    proc: mp.Process
    conn: object
    job: Job | None = None
    started: float = 0.0
    deadline: float = 0.0


@dataclass
class Pool:
    course_root: str
    env: dict
    workers: int
    job_timeout: float
    preload: list = field(default_factory=list)  # what the kernels will import
    memory_limit: int = sandbox.Limits().memory  # the worker's own, inherited by its kernels
    limits: sandbox.Limits | None = field(default_factory=sandbox.Limits)  # None: no sandbox
    _ctx: object = field(default_factory=lambda: mp.get_context("spawn"))
    _pool: list = field(default_factory=list)  # the running workers, once entered
    _lock: object = field(default_factory=threading.Lock)  # run_one: hands out idle workers
    _idle: object = None

    def _start(self) -> _Worker:
        parent, child = self._ctx.Pipe()
        # Not a daemon: it starts processes of its own (the kernels' template). __exit__ kills it.
        env = dict(self.env)  # the kernels' sandbox (sandbox.py), and where their sockets go
        env[sandbox.ENV] = sandbox.setting(self.limits)
        env[sandbox.KERNELS] = os.path.join(self.course_root, "kernels")
        proc = self._ctx.Process(target=_serve,
                                 args=(child, self.course_root, env, self.memory_limit,
                                       self.preload))
        proc.start()
        child.close()
        return _Worker(proc, parent)

    @staticmethod
    def _kill(worker: _Worker) -> None:
        try:
            os.killpg(worker.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        worker.proc.join(5)

    def __enter__(self) -> "Pool":
        """Start the workers now: they import nbgrader while the caller prepares the jobs."""
        self._pool = [self._start() for _ in range(max(1, self.workers))]
        return self

    def stop(self) -> None:
        """Ask every worker to finish (it takes them half a second), once no job will follow."""
        for w in self._pool:
            try:
                w.conn.send(None)
            except (BrokenPipeError, OSError):
                pass

    def __exit__(self, *exc) -> None:
        """Stop the workers, give them five seconds together, then kill what is left."""
        self.stop()
        deadline = time.monotonic() + 5
        for w in self._pool:
            w.proc.join(max(0.0, deadline - time.monotonic()))
            self._kill(w)

    def _verdict(self, w: _Worker, ready) -> tuple[Outcome | None, bool]:
        """What became of worker `w`'s job, given what `wait` found `ready`: its Outcome (None
        while it runs), and whether the worker was lost (died, or stopped past the deadline)."""
        outcome, lost = None, False
        if w.conn in ready:
            try:
                outcome = w.conn.recv()
            except (EOFError, OSError):
                pass
        if outcome is None and (not w.proc.is_alive() or w.proc.sentinel in ready):
            outcome, lost = Outcome(w.job, False, "the grading process died "
                                    f"(exit code {w.proc.exitcode})", completed=False), True
        elif outcome is None and time.monotonic() > w.deadline:
            outcome, lost = Outcome(w.job, False, f"stopped after {w.deadline - w.started:.0f} "
                                    "s: the notebook as a whole ran past the time limit",
                                    completed=False), True
        if outcome is not None:
            outcome.seconds = outcome.seconds or time.monotonic() - w.started
        return outcome, lost

    def _send(self, w: _Worker, job: Job) -> None:
        w.job, w.started = job, time.monotonic()
        # The time limit is a notebook's; preparing the course (nbgrader generates every
        # assignment, which takes longer on a busy machine) gets at least PREPARE_TIMEOUT.
        limit = self.job_timeout if job.kind == "grade" else max(self.job_timeout, PREPARE_TIMEOUT)
        w.deadline = w.started + limit
        w.conn.send(job)

    def run(self, jobs: list[Job], on_done=None) -> list[Outcome]:
        """Run every job; never raises for a job's sake. Returns one Outcome per job."""
        pending = list(jobs)
        outcomes: list[Outcome] = []
        pool = self._pool  # replaced workers are swapped in place
        for i, w in enumerate(pool):
            if not w.proc.is_alive():  # lost at the end of an earlier run
                pool[i] = self._start()
        while pending or any(w.job for w in pool):
            for w in pool:
                if w.job is None and pending:
                    self._send(w, pending.pop(0))
            busy = [w for w in pool if w.job]
            ready = wait([w.conn for w in busy] + [w.proc.sentinel for w in busy], timeout=1.0)
            for i, w in enumerate(pool):
                if w.job is None:
                    continue
                outcome, lost = self._verdict(w, ready)
                if outcome is None:
                    continue
                outcomes.append(outcome)
                if on_done:
                    on_done(outcome)
                if lost:
                    self._kill(w)
                    if pending:  # else a fresh one would only be stopped again
                        pool[i] = self._start()
                        continue
                w.job = None
        return outcomes

    def run_one(self, job: Job) -> Outcome:
        """Run one job on a worker of its own; any number of threads may call this at once
        (each waits for an idle worker). The same limits as `run`: a worker that dies or runs
        past the deadline is killed with its kernels and replaced. Never raises for the job's
        sake. Not to be mixed with a `run` in progress."""
        with self._lock:
            if self._idle is None:
                self._idle = queue.SimpleQueue()
                for i in range(len(self._pool)):
                    self._idle.put(i)
        i = self._idle.get()
        try:
            w = self._pool[i]
            if not w.proc.is_alive():
                w = self._pool[i] = self._start()
            self._send(w, job)
            while True:
                left = max(0.0, min(1.0, w.deadline - time.monotonic()))
                outcome, lost = self._verdict(w, wait([w.conn, w.proc.sentinel], timeout=left))
                if outcome is not None:
                    break
            w.job = None
            if lost:
                self._kill(w)
                self._pool[i] = self._start()
            return outcome
        finally:
            self._idle.put(i)


def grading_pool(root: Path, names: list[str], workers: int, notebook_timeout: float,
                 limits: sandbox.Limits | None, tmp: Path | None = None) -> Pool:
    """The pool of grading processes for the course folder `root`, whose kernels' template
    preloads what the assignments `names` and the trusted checks import; with `tmp`, the
    workers' temporary files (checkers' sockets, multiprocessing's folders) go there."""
    from .. import course
    env = course.environment()
    if tmp is not None:
        env["TMPDIR"] = str(tmp)
    return Pool(str(root), env, workers, notebook_timeout,
                preload=course.kernel_imports(names) + sandbox.trusted_imports()
                + ["autograder.isolation.forkkernel"], limits=limits)
