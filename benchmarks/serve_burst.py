"""Benchmark: the deadline burst for `python -m autograder serve`, time from submit to feedback.

    .venv/bin/python benchmarks/serve_burst.py [--students 300] [--window 300] [--workers 2]
                                               [--batch B] [--scheduler tcp://HOST:8786]

N students submit one notebook of `logits` each at random times within the window (a third
correct, a third with the first catalogued bug, a third untouched, from examples/submissions/).
Each submission is written into a temporary exchange's inbound folder as `nbgrader submit` writes
it (the notebook, then timestamp.txt, then submission_secret.txt; running nbgrader's own submit
300 times would spend the cores the service needs). The service runs as a subprocess, as an
instructor runs it, and the benchmark notes when each student's feedback page appears in the
exchange's feedback folder (where *Fetch Feedback* reads it). It prints the median and 95th
percentile of the time from submit to feedback, the throughput, and a paper estimate for 3,000
students from the measured cost per notebook. Not a test: the numbers depend on the machine.
"""
from __future__ import annotations

import argparse
import os
import random
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from nbgrader.utils import notebook_hash  # noqa: E402

from autograder import course, variants  # noqa: E402

COURSE = "logits-to-probabilities"
KINDS = ("alice-correct", "bob-one-bug", "carol-untouched")


def submitter(inbound: Path, plan: list[tuple[float, str]], start: float, sent: dict):
    """Write each student's submission at its planned time, as nbgrader submit does."""
    for at, student in plan:
        time.sleep(max(0.0, start + at - time.monotonic()))
        now = time.time()
        stamp = (time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(now))
                 + f".{int(now % 1 * 1e6):06d} UTC")
        folder = inbound / f"{student}+logits+{stamp}+{secrets.token_urlsafe(8)}"
        folder.mkdir()
        kind = KINDS[int(student[1:]) % len(KINDS)]
        (folder / "logits.ipynb").write_bytes(
            (course.EXAMPLES / kind / "logits" / "logits.ipynb").read_bytes())
        (folder / "timestamp.txt").write_text(stamp)
        secret = secrets.token_hex(64)
        (folder / "submission_secret.txt").write_text(secret)
        sent[student] = (time.monotonic(), notebook_hash(secret=secret, notebook_id="logits"))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--students", type=int, default=300)
    ap.add_argument("--window", type=float, default=300.0, help="seconds the submissions span")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--batch", type=int)
    ap.add_argument("--scheduler")
    ap.add_argument("--seed", type=int, default=25)
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="serve-burst-"))
    os.environ.setdefault(variants.SECRET_ENV, str(tmp / "course-secret"))
    if not Path(os.environ[variants.SECRET_ENV]).exists():
        variants.create_secret()
    exchange, out = tmp / "exchange", tmp / "grades"
    inbound = exchange / COURSE / "inbound"
    inbound.mkdir(parents=True)
    feedback = exchange / COURSE / "feedback"
    rng = random.Random(args.seed)
    students = [f"s{i:04d}" for i in range(args.students)]
    plan = sorted((rng.uniform(0, args.window), s) for s in students)

    cmd = [sys.executable, "-m", "autograder", "serve", "--out", str(out), "--assignment",
           "logits", "--exchange", str(exchange), "--workers", str(args.workers),
           "--interval", "0.5"]
    cmd += ["--batch", str(args.batch)] if args.batch else []
    cmd += ["--scheduler", args.scheduler] if args.scheduler else []
    log = open(tmp / "serve.log", "w")
    cpu0 = os.times()
    service = subprocess.Popen(cmd, cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
                               start_new_session=True)
    sent: dict = {}
    got: dict = {}
    start = time.monotonic()
    thread = threading.Thread(target=submitter, args=(inbound, plan, start, sent), daemon=True)
    thread.start()
    try:
        while len(got) < len(students):
            if service.poll() is not None:
                print(f"the service stopped (exit {service.returncode}); see {tmp / 'serve.log'}")
                return 1
            for student, (t, checksum) in list(sent.items()):
                if student not in got and (feedback / f"{checksum}.html").exists():
                    got[student] = time.monotonic() - t
            time.sleep(0.2)
    finally:
        os.killpg(service.pid, signal.SIGTERM)
        service.wait()
    total = time.monotonic() - start
    lat = sorted(got.values())
    p95 = lat[min(len(lat) - 1, int(round(0.95 * len(lat))) - 1)]
    children = os.times()
    cpu = (children.children_user + children.children_system
           - cpu0.children_user - cpu0.children_system)
    print(f"{len(students)} students within {args.window:.0f} s, {args.workers} worker(s)"
          + (f" on {args.scheduler}" if args.scheduler else f" on {os.cpu_count()} core(s)"))
    print(f"submit to feedback: median {statistics.median(lat):.1f} s, 95th percentile "
          f"{p95:.1f} s, longest {lat[-1]:.1f} s")
    print(f"all feedback {total - args.window:.1f} s after the window closed; the service's CPU "
          f"{cpu:.0f} core-s ({cpu / len(students):.2f} core-s per notebook, every batch's "
          "setting up included)")
    if args.scheduler:
        print("(on Dask the CPU above is the service's alone, its single writer's: the workers' "
              "is not counted; no estimate from it)")
        print(f"(the service's log: {tmp / 'serve.log'})")
        return 0
    per = cpu / len(students)
    print(f"paper estimate, 3,000 students within 5 min: {3000 * per:.0f} core-s, i.e. about "
          f"{3000 * per / 300:.0f} cores busy to keep up (a Dask cluster of that size, with "
          f"--scheduler), or on {os.cpu_count()} core(s) the last feedback "
          f"{3000 * per / (os.cpu_count() or 1) / 60:.0f} min after the deadline")
    print(f"(the service's log: {tmp / 'serve.log'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
