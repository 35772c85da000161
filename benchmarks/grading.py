"""Benchmark: our grading command against plain, sequential nbgrader, measured in one run.

    .venv/bin/python benchmarks/grading.py [--students 40] [--assignment logits] [--workers 2]

It builds N synthetic submissions of one assignment (a third correct, a third with one
catalogued bug, a third broken: untouched, or a syntax error), then times on the same files:

1. plain nbgrader, sequential, with nbgrader's own commands: generate_assignment, autograde,
   generate_feedback (the same work our command does, with the course's configuration, so the
   same preprocessors and grades);
2. `python -m autograder grade --workers W` (autograde, feedback, grades.csv, report.html), which
   adds only speed: parallel workers, forked kernels, templates compiled once; run --pairs times
   in each of three set-ups, interleaved (A B C, then C B A, ...): as before issues 13 and 14
   ("in-kernel": --no-sandbox, and the hidden checks run in the student's kernel, as plain
   nbgrader runs them), with the trusted checker but --no-sandbox ("unsandboxed"), and as
   shipped, with the trusted checker and every kernel in its sandbox ("ours"), to print what
   each costs per notebook (the other figures of "ours" are those of the last);
3. the floor: starting a kernel and running an empty notebook, and the checks' own compute
   (the hidden checks run in-process on the reference solution).

and prints the ratio and the cost per notebook in core-seconds (cores x wall time / notebooks),
over the whole run and over its grading phase alone (as our command reports it), against the
floor plus the checks. "Cores busy" comes from the machine's own CPU counters, so it counts
every process a run started, kernels included. Not a test: the numbers depend on the machine.
"""
from __future__ import annotations

import argparse
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import nbformat  # noqa: E402
import psutil  # noqa: E402
from nbclient import NotebookClient  # noqa: E402

from autograder import course, notebooks  # noqa: E402
from tests.catalog import catalog, run_checks  # noqa: E402


def make_submissions(root: Path, assignment: str, n: int) -> None:
    released = notebooks.read(course.student_notebook(assignment))
    reference = notebooks.solution_cells(notebooks.read(course.source_notebook(assignment)))
    bugs = catalog(assignment).BUGS
    pick = random.Random(0)
    for i in range(n):
        kind = ("correct", "bug", "broken")[i % 3]
        answers = dict(reference)
        if kind == "bug":
            bug = pick.choice(bugs)
            answers[bug.cell] = bug.code
        elif kind == "broken":
            answers = {} if i % 2 else {next(iter(reference)): "def oops(:\n    pass\n"}
        nb = notebooks.fill(released, answers)
        path = root / f"student{i:03d}-{kind}" / assignment / f"{assignment}.ipynb"
        path.parent.mkdir(parents=True)
        nbformat.write(nb, str(path))


BUSY = {}  # label -> core-seconds the whole machine was busy during that run


def timed(cmd, cwd, label, env=None) -> tuple[float, str]:
    """Wall seconds and standard output of a command. The machine's busy core-seconds meanwhile
    (its kernels and helper processes included, wherever they are parented) add to BUSY[label]."""
    before = psutil.cpu_times()
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env={**course.environment(), **(env or {})}, check=True,
                          text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = psutil.cpu_times()
    idle = (after.idle + after.iowait) - (before.idle + before.iowait)
    BUSY[label] = BUSY.get(label, 0.0) + sum(after) - sum(before) - idle
    return wall, proc.stdout


def plain_nbgrader(subs: Path, work: Path, assignment: str) -> float:
    """nbgrader's own commands, one after the other, in a course folder of their own."""
    root = work / "plain"
    shutil.copytree(subs, root / "submitted")
    (root / "nbgrader_config.py").write_text(
        f"load_subconfig({str(course.COURSE_ROOT / 'nbgrader_config.py')!r})\n"
        f"c = get_config()\nc.CourseDirectory.root = {str(root)!r}\n"
        f"c.CourseDirectory.source_directory = {str(course.SOLUTIONS)!r}\n"
        "c.CourseDirectory.release_directory = 'release'\n"
        f"c.CourseDirectory.db_url = 'sqlite:///{root}/gradebook.db'\n")
    nbg = str(Path(sys.executable).parent / "nbgrader")
    return sum(timed([nbg, step, assignment, "--force"], root, "plain")[0]
               for step in ("generate_assignment", "autograde", "generate_feedback"))


SETUPS = ("in-kernel", "unsandboxed", "ours")


def ours(subs: Path, work: Path, assignment: str, workers: int,
         setup: str = "ours") -> tuple[float, dict]:
    """Wall seconds of our command, and its own account of them (setting up, grading, results),
    in one of SETUPS."""
    env = {"AUTOGRADER_CHECKS": "in-kernel"} if setup == "in-kernel" else {}
    wall, out = timed([sys.executable, "-m", "autograder", "grade", "--submissions", str(subs),
                       "--out", str(work / setup), "--assignment", assignment,
                       "--workers", str(workers), "--replace",  # every time the whole class
                       *([] if setup == "ours" else ["--no-sandbox"])],
                      REPO, setup, env)
    phases = dict(re.findall(r"(setting up|grading|results) ([\d.]+) s\b", out))
    return wall, {k: float(v) for k, v in phases.items()}


def floor(repeats: int = 7) -> float:
    """Seconds to start a kernel and run a notebook with one empty cell (median, after one
    warm-up run)."""
    times = []
    for _ in range(repeats + 1):
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("")])
        start = time.perf_counter()
        NotebookClient(nb, kernel_name="python3").execute()
        times.append(time.perf_counter() - start)
    return statistics.median(times[1:])


def checks_compute(assignment: str, repeats: int = 3) -> float:
    start = time.perf_counter()
    for _ in range(repeats):
        run_checks(assignment)
    return (time.perf_counter() - start) / repeats


def _mean(runs: list) -> tuple[float, dict]:
    """The mean wall time and phases of several runs of our command."""
    walls = [wall for wall, _ in runs]
    phases = {k: statistics.mean(p[k] for _, p in runs) for k in runs[0][1]}
    return statistics.mean(walls), phases


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--students", type=int, default=40)
    ap.add_argument("--assignment", default="logits")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--pairs", type=int, default=2,
                    help="runs of our command in each set-up, in the order A B C, C B A, ... "
                         "(means are printed)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        make_submissions(work / "subs", args.assignment, args.students)
        t_floor, t_checks = floor(), checks_compute(args.assignment)
        t_plain = plain_nbgrader(work / "subs", work, args.assignment)
        runs = {setup: [] for setup in SETUPS}
        for i in range(args.pairs):  # A B C, C B A: none comes first or last every time
            for setup in (SETUPS if i % 2 == 0 else SETUPS[::-1]):
                runs[setup].append(ours(work / "subs", work, args.assignment, args.workers, setup))
    t_ours, phases = _mean(runs["ours"])
    for label in SETUPS:
        BUSY[label] /= args.pairs
    n, w = args.students, args.workers
    base = t_floor + t_checks
    per_nb = t_ours * w / n                   # core-seconds a notebook costs, set-up included
    steady = phases["grading"] * w / n        # the same, once the workers are grading
    print(f"{n} submissions of {args.assignment!r}, {w} workers, {psutil.cpu_count()} cores")
    print(f"plain nbgrader (generate + autograde + feedback, sequential): {t_plain:7.1f} s "
          f"({t_plain / n:.2f} s per notebook)")
    print(f"python -m autograder grade --workers {w}:                      {t_ours:7.1f} s "
          f"({t_ours / n:.2f} s per notebook)")
    print(f"  of which setting up {phases['setting up']:.1f} s, grading {phases['grading']:.1f} s, "
          f"results {phases['results']:.1f} s")
    print(f"speed-up over plain nbgrader:                                 {t_plain / t_ours:7.2f}x")
    print(f"cores busy on average: plain {BUSY['plain'] / t_plain:.2f}, "
          f"ours {BUSY['ours'] / t_ours:.2f}; busy core-seconds per notebook: "
          f"plain {BUSY['plain'] / n:.2f}, ours {BUSY['ours'] / n:.2f}")
    print(f"floor: kernel start + empty notebook {t_floor:.2f} s; checks' own compute "
          f"{t_checks:.2f} s; floor + checks {base:.2f} s")
    print(f"our cost per notebook, {w} cores x wall / notebooks: {per_nb:.2f} core-s, "
          f"{per_nb / base:.2f}x (floor + checks)")
    print(f"  the same while grading (set-up and results left out): {steady:.2f} core-s, "
          f"{steady / base:.2f}x (floor + checks)")
    print(f"what the trusted checker and the sandbox cost (mean of {args.pairs} runs each):")
    old = None
    for setup in SETUPS:
        wall, ph = _mean(runs[setup])
        cost, busy = (wall * w / n, ph["grading"] * w / n), BUSY[setup] / n
        old = old or (cost, busy)
        print(f"  {setup:12s} {wall:6.1f} s, {cost[0]:.2f} core-s per notebook "
              f"({cost[1]:.2f} while grading), busy {busy:.2f} core-s: "
              f"{100 * (cost[0] / old[0][0] - 1):+.1f} % per notebook, "
              f"{100 * (cost[1] / old[0][1] - 1):+.1f} % while grading, "
              f"{100 * (busy / old[1] - 1):+.1f} % busy, against in-kernel")


if __name__ == "__main__":
    main()
