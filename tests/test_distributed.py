"""Grading on a Dask cluster (`python -m autograder grade --scheduler`, autograder/distributed.py):
a real `dask scheduler` and two `dask worker` processes on 127.0.0.1, each in a folder of its
own, grade three assignments of the example class; one worker is killed (SIGKILL) in the middle
of that run. The run loses nothing, grades nothing twice, and its grades.csv and gradebook are a
local run's. A worker whose course differs refuses the jobs; a submission that kills two workers
is reported by name. And (issue 15) a grading run's course folder can be moved and still opens in nbgrader.

One cluster serves the whole file (its workers prepare themselves once); the local run that
the cluster's results are compared with is the one whose folder is moved at the end."""
import csv
import os
import re
import shlex
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from autograder import course
from autograder.isolation import sandbox
from autograder.run import cluster as distributed
from tests import examples
from tests import lab

DASK = Path(sys.executable).parent / "dask"
PROGRESS = re.compile(r"^  \[(\d+)/(\d+)\] (\S+)/(\S+) \(.*\) (ok|FAILED.*) \| about (.+) left$")
# The cluster grades three of the example class's assignments (12 notebooks: enough to kill a
# worker in the middle of the run), and is compared with the same part of the local run.
ON_CLUSTER = ("logits", "softmax", "calibration")
CLASS = len(examples.STUDENTS) * len(ON_CLUSTER)
OTHERS = set(course.assignments()) - set(ON_CLUSTER)


class Cluster:
    def __init__(self, base: Path):
        self.base, self.procs = base, []
        self.address = f"tcp://127.0.0.1:{lab.free_port()}"

    def start(self, *args, name: str) -> None:
        folder = self.base / name
        folder.mkdir()
        log = open(self.base / f"{name}.log", "w")
        self.procs.append(subprocess.Popen(
            [str(DASK), *args, "--no-dashboard"], cwd=folder, stdout=log,
            stderr=subprocess.STDOUT, start_new_session=True))

    def client(self):
        from distributed import Client
        return Client(self.address, timeout=60)

    def worker_pids(self) -> dict:
        with self.client() as client:
            client.wait_for_workers(2, timeout=180)
            return client.run(os.getpid)

    def stop(self) -> None:
        for proc in reversed(self.procs):  # workers (their nannies) first, then the scheduler
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for proc in reversed(self.procs):
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def readme_cluster_commands() -> tuple[list[str], list[str]]:
    """The README's `dask scheduler` and `dask worker` commands (section "Grading on a Dask
    cluster"), as this file runs them: so README and reality cannot drift."""
    section = lab.guide_section("Grading on a Dask cluster")
    lines = [line.strip() for line in section.splitlines()]
    commands = [next((shlex.split(line) for line in lines
                      if line.startswith(f".venv/bin/dask {kind} ")), None)
                for kind in ("scheduler", "worker")]
    assert all(commands), f"the README no longer gives both dask commands:\n{section}"
    return commands


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A Dask scheduler and two workers (each with a nanny and a local directory of its own; one
    thread, and two), started with the README's commands, on 127.0.0.1 and a free port."""
    scheduler, worker = readme_cluster_commands()
    c = Cluster(tmp_path_factory.mktemp("dask"))
    port = c.address.rsplit(":", 1)[1]

    def local(args, **values):  # the README's example host, port and values -> this machine's
        out = []
        for arg in args[1:]:  # after `.venv/bin/dask`
            if out and out[-1] in values:
                arg = values[out[-1]]
            elif arg == "8786":
                arg = port
            else:
                arg = arg.replace("10.0.0.5:8786", f"127.0.0.1:{port}").replace("10.0.0.5",
                                                                                "127.0.0.1")
            out.append(arg)
        return out

    c.start(*local(scheduler), name="scheduler")
    time.sleep(1)
    for name, threads in (("worker1", "1"), ("worker2", "2")):  # 2: two jobs at once share
        c.start(*local(worker, **{"--nthreads": threads,  # its pool
                                  "--local-directory": str(c.base / name)}),
                "--host", "127.0.0.1", "--name", name, name=name)
    try:
        c.worker_pids()
        yield c
    finally:
        c.stop()


def _grade(out: Path, *args: str, kill_after: int = 0, cluster: Cluster | None = None):
    """Run the grading command; with `kill_after`, SIGKILL one Dask worker once that many jobs
    have finished. Returns the command's output lines and the killed worker's pid."""
    cmd = [sys.executable, "-m", "autograder", "grade", "--submissions", str(course.EXAMPLES),
           "--out", str(out), *args]
    proc = subprocess.Popen(cmd, cwd=course.REPO, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    timer = threading.Timer(1200, proc.kill)
    timer.start()
    lines, killed = [], None
    pids = cluster.worker_pids() if kill_after else {}
    for line in proc.stdout:
        lines.append(line.rstrip("\n"))
        m = PROGRESS.match(lines[-1])
        if kill_after and killed is None and m and int(m.group(1)) >= kill_after:
            killed = sorted(pids.values())[0]
            os.kill(killed, signal.SIGKILL)
    proc.wait()
    timer.cancel()
    assert proc.returncode == 0, "\n".join(lines)
    return lines, killed


@pytest.fixture(scope="module")
def local(graded_class):
    """The same class graded on this machine (the session's shared run)."""
    return graded_class


@pytest.fixture(scope="module")
def on_cluster(cluster, tmp_path_factory):
    """The example class graded on the cluster (ON_CLUSTER); one of its two workers is killed
    (SIGKILL) after the third result, while both are grading."""
    out = tmp_path_factory.mktemp("cluster") / "grades"
    chosen = [arg for a in ON_CLUSTER for arg in ("--assignment", a)]
    lines, killed = _grade(out, "--scheduler", cluster.address, *chosen, kill_after=3,
                           cluster=cluster)
    return out, lines, killed


def _rows(path: Path) -> list[dict]:
    with open(path) as f:
        return sorted((r for r in csv.DictReader(f) if r["assignment"] not in OTHERS),
                      key=lambda r: (r["student"], r["assignment"]))


def _submissions(course_folder: Path) -> list[tuple]:
    """(student, assignment, grades recorded) for every submission in a gradebook."""
    with sqlite3.connect(course_folder / "gradebook.db") as db:
        return sorted(row for row in db.execute(
            "SELECT s.student_id, a.name, COUNT(g.id) FROM submitted_assignment s "
            "JOIN assignment a ON a.id = s.assignment_id "
            "JOIN submitted_notebook n ON n.assignment_id = s.id "
            "JOIN grade g ON g.notebook_id = n.id GROUP BY s.id").fetchall()
            if row[1] not in OTHERS)


def _scores(course_folder: Path) -> list[tuple]:
    with sqlite3.connect(course_folder / "gradebook.db") as db:
        return sorted(row for row in db.execute(
            "SELECT s.student_id, a.name, c.name, g.auto_score, g.manual_score, "
            "g.needs_manual_grade, n.late_submission_penalty "
            "FROM grade g JOIN submitted_notebook n ON g.notebook_id = n.id "
            "JOIN submitted_assignment s ON n.assignment_id = s.id "
            "JOIN assignment a ON s.assignment_id = a.id "
            "JOIN base_cell c ON g.cell_id = c.id").fetchall() if row[1] not in OTHERS)


def test_a_worker_killed_mid_run_loses_nothing_and_grades_nothing_twice(on_cluster, local,
                                                                        cluster):
    out, lines, killed = on_cluster
    assert killed is not None
    with pytest.raises(ProcessLookupError):  # it is gone; its nanny started another worker
        os.kill(killed, 0)
    done = [PROGRESS.match(line) for line in lines if PROGRESS.match(line)]
    assert len(done) == CLASS, "\n".join(lines)
    assert sorted(m.group(3, 4) for m in done) == sorted(
        (s, a) for s in examples.STUDENTS for a in ON_CLUSTER)  # each one once
    assert all(m.group(5) == "ok" for m in done), "\n".join(lines)
    assert [int(m.group(1)) for m in done] == list(range(1, CLASS + 1))
    # One submission per student and assignment in the gradebook, with all its grades.
    assert _submissions(out / "course") == _submissions(local / "course")
    assert len(_submissions(out / "course")) == CLASS


def test_the_cluster_grades_exactly_as_a_local_run(on_cluster, local):
    out, lines, _ = on_cluster
    ours = _rows(out / "grades.csv")
    assert ours == [{column: row[column] for column in ours[0]}  # its cells' columns
                    for row in _rows(local / "grades.csv")]
    assert _scores(out / "course") == _scores(local / "course")
    for folder in ("feedback", "course/autograded", "course/submitted", "course/source"):
        ours = sorted(p.relative_to(out / folder) for p in (out / folder).rglob("*"))
        assert ours == sorted(p.relative_to(local / folder) for p in (local / folder).rglob("*")
                              if not OTHERS & set(p.relative_to(local / folder).parts))
    assert any("one writer)" in line for line in lines)


def test_the_run_sets_one_retry_after_a_dead_worker(on_cluster, cluster):
    with cluster.client() as client:
        assert client.run_on_scheduler(
            lambda dask_scheduler: dask_scheduler.allowed_failures) == 1


def _settings() -> distributed.Settings:
    """The settings of a run with the command's defaults (the plugin the runs registered)."""
    return distributed.Settings(600.0, 60.0, sandbox.Limits(cpu=600).to_json(),
                                distributed.course_version())


def test_a_worker_refuses_a_job_of_another_course_version(on_cluster, cluster, tmp_path,
                                                          monkeypatch):
    from autograder.run.jobs import Job
    with cluster.client() as client:
        client.wait_for_workers(2, timeout=180)
        future = client.submit(distributed.grade_job, _settings().name, "0123456789abcdef",
                               Job("grade", "logits", "alice-correct"), {}, pure=False)
        with pytest.raises(distributed.CourseVersionMismatch) as err:
            future.result(timeout=120)
    message = str(err.value)
    assert "0123456789abcdef" in message and distributed.course_version() in message
    assert "update the worker's checkout" in message.lower()
    # The command checks every worker before it sends a job.
    monkeypatch.setattr(distributed, "course_version", lambda: "fedcba9876543210")
    from autograder.run.command import grade
    one = tmp_path / "subs" / "alice-correct" / "logits"
    shutil.copytree(course.EXAMPLES / "alice-correct" / "logits", one)
    with pytest.raises(distributed.CourseVersionMismatch, match="fedcba9876543210"):
        grade(tmp_path / "subs", tmp_path / "out", ["logits"], scheduler=cluster.address,
              log=lambda *a: None)


def test_a_submission_that_kills_two_workers_is_reported_by_name(on_cluster, cluster, tmp_path,
                                                                 monkeypatch):
    """Its task makes each worker that runs it exit (as an out-of-memory kill would): Dask
    retries it once on another worker, then gives up, and its row says so."""
    real = distributed.grade_job

    def deadly(plugin, version, job, files):
        if job.student == "mallory":
            os._exit(1)
        return real(plugin, version, job, files)

    monkeypatch.setattr(distributed, "TASK", deadly)
    one = tmp_path / "subs" / "mallory" / "logits"
    shutil.copytree(course.EXAMPLES / "alice-correct" / "logits", one)
    from autograder.run.command import grade
    with cluster.client() as client:
        client.wait_for_workers(2, timeout=180)
    (row,) = grade(tmp_path / "subs", tmp_path / "out", ["logits"], scheduler=cluster.address,
                   log=lambda *a: None)
    assert row.student == "mallory" and row.status == "needs review"
    assert any("killed 2 Dask workers" in note for note in row.notes), row.notes
    (csv_row,) = _rows(tmp_path / "out" / "grades.csv")
    assert "killed 2 Dask workers" in csv_row["notes"]


def test_a_grading_runs_course_folder_can_be_moved_and_opened_in_nbgrader(local, tmp_path):
    """Issue 15: the course folder holds no absolute path, and no worker log in its root."""
    config = (local / "course" / "nbgrader_config.py").read_text()
    assert str(course.REPO) not in config and str(local) not in config
    assert not list((local / "course").glob("worker-*.log"))
    assert list((local / "course" / "logs").glob("worker-*.log"))
    archive = tmp_path / "archive"
    shutil.copytree(local, tmp_path / "graded-here")  # (the session's run stays for others)
    shutil.move(tmp_path / "graded-here", archive)  # gone from where it was graded
    proc = course.nbgrader("export", "--to", str(tmp_path / "export.csv"),
                           cwd=archive / "course")
    assert proc.returncode == 0
    with open(tmp_path / "export.csv") as f:
        exported = list(csv.DictReader(f))
    assert len(exported) == len(examples.STUDENTS) * len(course.assignments())
    with open(archive / "grades.csv") as f:
        totals = {(r["student"], r["assignment"]): float(r["total"]) for r in csv.DictReader(f)}
    assert {(r["student_id"], r["assignment"]): float(r["raw_score"]) for r in exported} == totals
