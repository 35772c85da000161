"""Benchmark: our grading command against plain, sequential nbgrader, measured in one run.

    .venv/bin/python benchmarks/grading.py [--students 40] [--assignment logits] [--workers 2]

It builds N synthetic submissions of one assignment (a third correct, a third with one
catalogued bug, a third broken: untouched, or a syntax error), then times on the same files:

1. plain nbgrader, sequential, with nbgrader's own commands: generate_assignment, autograde,
   generate_feedback (the same work our command does, with the course's configuration, so the
   same preprocessors and grades);
2. `python -m autograder grade --workers W` (autograde, feedback, grades.csv, report.html), which
   adds only speed: parallel workers, forked kernels, templates compiled once; run --pairs times
   with --no-sandbox and as often with every kernel in its sandbox (the default), interleaved,
   to print what the sandbox costs per notebook (the figures of "ours" are those with it);
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


def timed(cmd, cwd, label) -> tuple[float, str]:
    """Wall seconds and standard output of a command. The machine's busy core-seconds meanwhile
    (its kernels and helper processes included, wherever they are parented) add to BUSY[label]."""
    before = psutil.cpu_times()
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=course.environment(), check=True, text=True,
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


def ours(subs: Path, work: Path, assignment: str, workers: int,
         sandbox: bool = True) -> tuple[float, dict]:
    """Wall seconds of our command, and its own account of them (setting up, grading, results);
    with every kernel in its sandbox, or (`sandbox=False`) with --no-sandbox."""
    label = "ours" if sandbox else "unsandboxed"
    wall, out = timed([sys.executable, "-m", "autograder", "grade", "--submissions", str(subs),
                       "--out", str(work / label), "--assignment", assignment,
                       "--workers", str(workers), *([] if sandbox else ["--no-sandbox"])],
                      REPO, label)
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
                    help="runs of our command with and without the sandbox, in the order "
                         "without, with, with, without, ... (means are printed)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        make_submissions(work / "subs", args.assignment, args.students)
        t_floor, t_checks = floor(), checks_compute(args.assignment)
        t_plain = plain_nbgrader(work / "subs", work, args.assignment)
        runs = {False: [], True: []}
        for i in range(2 * args.pairs):  # ABBA: neither comes first or last every time
            sandboxed = i % 4 in (1, 2)
            runs[sandboxed].append(ours(work / "subs", work, args.assignment, args.workers,
                                        sandbox=sandboxed))
    t_bare, bare = _mean(runs[False])
    t_ours, phases = _mean(runs[True])
    for label in ("ours", "unsandboxed"):
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
    bare_nb, bare_steady = t_bare * w / n, bare["grading"] * w / n
    print(f"the sandbox's cost (mean of {args.pairs} runs each, in the order without, with, with, "
          f"without): without it (--no-sandbox) {t_bare:.1f} s, {bare_nb:.2f} core-s per "
          f"notebook ({bare_steady:.2f} while grading); with it {per_nb:.2f} ({steady:.2f}): "
          f"{100 * (per_nb / bare_nb - 1):+.1f} % per notebook "
          f"({100 * (steady / bare_steady - 1):+.1f} % while grading); busy core-seconds per "
          f"notebook {BUSY['unsandboxed'] / n:.2f} without, {BUSY['ours'] / n:.2f} with "
          f"({100 * (BUSY['ours'] / BUSY['unsandboxed'] - 1):+.1f} %)")


if __name__ == "__main__":
    main()
