"""Benchmark: the local pool against the same jobs on a Dask cluster of two workers, in one run.

    .venv/bin/python benchmarks/dask_grading.py [--students 40] [--assignment logits] [--pairs 2]

It builds N synthetic submissions of one assignment (as benchmarks/grading.py does: a third
correct, a third with a catalogued bug, a third broken), starts a real `dask scheduler` and two
`dask worker --nthreads 1` on 127.0.0.1 (each with a local directory of its own), and times,
interleaved (local, Dask, Dask, local, ...):

- `python -m autograder grade --workers 2` (the local pool of two grading processes);
- `python -m autograder grade --scheduler ADDRESS` (the same jobs on the two Dask workers, each
  with a pool of one grading process), its workers already prepared by a first, untimed run
  (what one worker's preparation costs is printed apart: it is paid once per worker).

It prints the cost per notebook in core-seconds (2 cores x wall time / notebooks) of each, over
the grading phase (as the command reports it) and over the whole run, their ratio (Dask's
overhead per notebook), and the single writer's cost per notebook (the command writing each
returned result into its course folder and gradebook). Not a test: the numbers depend on the
machine, and on this one the single writer shares the two cores with the workers.
"""
from __future__ import annotations

import argparse
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from grading import make_submissions  # noqa: E402

from autograder import course  # noqa: E402

DASK = Path(sys.executable).parent / "dask"


def start_cluster(base: Path, workers: int = 2) -> tuple[str, list]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    procs = []

    def start(*args, name):
        folder = base / name
        folder.mkdir(parents=True)
        procs.append(subprocess.Popen([str(DASK), *args, "--no-dashboard"], cwd=folder,
                                      stdout=open(base / f"{name}.log", "w"),
                                      stderr=subprocess.STDOUT, start_new_session=True,
                                      env=course.environment()))
    start("scheduler", "--host", "127.0.0.1", "--port", str(port), name="scheduler")
    time.sleep(1)
    for i in range(workers):
        start("worker", address, "--host", "127.0.0.1", "--nthreads", "1",
              "--local-directory", str(base / f"worker{i}"), name=f"worker{i}")
    from distributed import Client
    with Client(address, timeout=60) as client:
        client.wait_for_workers(workers, timeout=180)
    return address, procs


def stop_cluster(procs: list) -> None:
    for proc in reversed(procs):
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    for proc in reversed(procs):
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def run(subs: Path, out: Path, assignment: str, *args: str) -> dict:
    """Wall seconds of one run of the command, with its own account of its phases."""
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "autograder", "grade", "--submissions", str(subs),
                           "--out", str(out), "--assignment", assignment, *args], cwd=REPO,
                          env=course.environment(), text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if proc.returncode:
        sys.exit(f"{' '.join(args)} failed:\n{proc.stdout}")
    wall = time.perf_counter() - start
    found = {k: float(v) for k, v in
             re.findall(r"(setting up|grading|results) ([\d.]+) s\b", proc.stdout)}
    found["wall"] = wall
    writer = re.search(r"in ([\d.]+) s \((\d+) ms per notebook, (\d+) ms of CPU; one writer\)",
                       proc.stdout)
    if writer:
        found["writer"] = float(writer.group(1))
        found["writer cpu"] = float(writer.group(3)) / 1000
    ready = re.search(r"ready in ([\d.]+) s", proc.stdout)
    if ready:
        found["ready"] = float(ready.group(1))
    return found


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--students", type=int, default=40)
    ap.add_argument("--assignment", default="logits")
    ap.add_argument("--pairs", type=int, default=2,
                    help="runs of each set-up, interleaved local, Dask, Dask, local, ...")
    args = ap.parse_args()
    n, cores = args.students, 2
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        make_submissions(work / "subs", args.assignment, n)
        address, procs = start_cluster(work / "dask")
        try:
            # The workers prepare themselves once (course folder, pool): the first run pays it.
            first = run(work / "subs", work / "warm", args.assignment, "--scheduler", address)
            runs = {"local": [], "dask": []}
            for i in range(args.pairs):
                for setup in (("local", "dask") if i % 2 == 0 else ("dask", "local")):
                    extra = ("--workers", "2") if setup == "local" else ("--scheduler", address)
                    runs[setup].append(run(work / "subs", work / f"{setup}{i}",
                                           args.assignment, *extra))
        finally:
            stop_cluster(procs)

    def mean(setup, key):
        return statistics.mean(r[key] for r in runs[setup])

    print(f"{n} submissions of {args.assignment!r}; local pool of 2 processes against 2 Dask "
          f"workers of 1 thread; {os.cpu_count()} cores; means of {args.pairs} runs each")
    print(f"first Dask run, the workers preparing themselves: ready in {first['ready']:.1f} s "
          f"(once per worker), whole run {first['wall']:.1f} s")
    for setup in ("local", "dask"):
        print(f"  {setup:5s}: whole run {mean(setup, 'wall'):6.1f} s, setting up "
              f"{mean(setup, 'setting up'):5.1f} s, grading {mean(setup, 'grading'):6.1f} s, "
              f"results {mean(setup, 'results'):4.1f} s; "
              f"{cores * mean(setup, 'grading') / n:.3f} core-s per notebook while grading")
    grading = mean("dask", "grading") / mean("local", "grading")
    whole = mean("dask", "wall") / mean("local", "wall")
    print(f"Dask / local, per notebook while grading: {grading:.3f} ({100 * (grading - 1):+.1f} %)"
          f"; whole run: {whole:.3f} ({100 * (whole - 1):+.1f} %)")
    writer, cpu = mean("dask", "writer") / n, mean("dask", "writer cpu")
    print(f"single writer (results into the command's course folder and gradebook): "
          f"{1000 * writer:.0f} ms per notebook ({1000 * cpu:.0f} ms of CPU), so at most "
          f"{1 / cpu:.0f} notebooks per second on a free core")


if __name__ == "__main__":
    main()
