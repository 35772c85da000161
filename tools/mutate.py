"""Break one promise of the grader at a time and see which test notices (a maintainer's tool).

Each mutation below is a small, realistic regression that breaks exactly one promise of
docs/guarantees.md (or of the exercises' contract): a line of the grader changed. For each, the
tests that cover the promise run; the mutation is *caught* when at least one of them fails. The
table it prints is the one in docs/guarantees.md ("Tests that fail when a promise breaks").

    .venv/bin/python tools/mutate.py                 # every mutation (about 20 minutes)
    .venv/bin/python tools/mutate.py 3 7             # mutations 3 and 7
    .venv/bin/python tools/mutate.py --clone /tmp/m  # keep the scratch clone for the next time

The mutations are applied to a scratch clone of this checkout's last commit (uncommitted changes
are not in it), with a virtual environment of its own (`make venv mathjax` there, a few minutes
the first time): the environment installs its own checkout, so the grader's processes, and the
sandboxes they build, run the mutated code. Run it when no other test run is going: its
sandboxes are processes that another run's checks would count.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Mutation:
    promise: str        # what breaks, in the words of the docs
    path: str           # the file changed
    old: str            # a piece of it, exactly once in the file
    new: str            # what it becomes
    tests: tuple        # pytest node ids (or files) that cover the promise


MUTATIONS = [
    Mutation("a comment entered by hand counts as a hand grade",
             "autograder/results/rows.py", '"SELECT count(*) FROM comment WHERE manual_comment '
             'IS NOT NULL "', '"SELECT 0 FROM comment WHERE manual_comment IS NOT NULL "',
             ("tests/test_grading.py::test_a_comment_entered_by_hand_counts_as_a_hand_grade",)),
    Mutation("in-place changes made in the kernel reach the checker",
             "autograder/trusted/kernel_agent.py",
             'after = [a if type(a).__name__ == "ndarray" else None for a in args]',
             "after = [None for a in args]",
             ("tests/test_trusted_checks.py::test_in_place_and_loop_bugs_lose_their_cells_when_graded",)),
    Mutation("a deleted test cell is put back and graded",
             "autograder/pipeline/preprocessors.py", "            if name in present:\n",
             "            if True:\n",
             ("tests/test_adversarial.py::test_a_deleted_test_cell_is_put_back_and_graded",)),
    Mutation("the pages guard tries a page's classes",
             "tests/pages_teach.py", '    if kind == "class":\n        return inspect.isclass(obj)',
             '    if kind == "class":\n        return False',
             ("tests/test_pages_teach.py::test_the_guard_catches_a_planted_class",)),
    Mutation("the sigmoid's limits at +-inf are exact",
             "autograder/checks/sigmoid.py",
             "if not (np.shape(out) == (3,) and np.array_equal(np.asarray(out, dtype=float), "
             "expected)):",
             "if not (np.shape(out) == (3,)):",
             ("tests/test_catalogs.py::test_catalogued_bug_loses_points_where_it_should",)),
    Mutation("a kernel sees nothing of the repository but the channel's files",
             "autograder/isolation/sandbox.py", 'KERNEL_FILES = ("autograder/__init__.py", ',
             'KERNEL_FILES = ("autograder/__init__.py", "autograder/checks/logits.py", ',
             ("tests/test_sandbox.py::test_of_the_repository_a_kernel_sees_only_the_channels_end",)),
    Mutation("at most 100 outputs per cell",
             "autograder/pipeline/outputs.py", 'max_outputs = Integer(100,',
             'max_outputs = Integer(100_000,',
             ("tests/test_sandbox.py::test_outputs_are_bounded_and_inert",)),
    Mutation("a kernel that dies costs only the cells from there on",
             "autograder/pipeline/execute.py",
             "        except DeadKernelError:\n            self._dead = True\n            cell.outputs",
             "        except DeadKernelError:\n            raise\n            cell.outputs",
             ("tests/test_adversarial.py::test_each_bad_submission_is_graded_as_far_as_possible_"
              "and_named",)),
    Mutation("no frame of a kernel holds the worker's environment",
             "autograder/isolation/forkkernel.py",
             "            env = sandbox.kernel_env(env)\n", "            pass\n",
             ("tests/test_adversarial.py::test_the_kernel_holds_no_secret_of_the_grader",)),
    Mutation("student code never gets a check's own arrays",
             "autograder/checks/_common.py", "    if type(value) is np.ndarray:\n        return "
             "value.copy()\n", "    if type(value) is np.ndarray:\n        return value\n",
             ("tests/test_adversarial.py::test_forged_inputs_earn_nothing",  # through the channel
              "tests/test_catalogs.py::test_catalogued_bug_loses_points_where_it_should"
              "[logits:linear:zeroes its inputs in place and returns zeros]")),  # in-process
    Mutation("feedback pages run nothing and load nothing",
             "autograder/pipeline/exporters.py", "        return safe_page(output), resources",
             "        return output, resources",
             ("tests/test_adversarial.py::test_feedback_runs_nothing_and_loads_nothing",)),
    Mutation("a name is never a formula in grades.csv",
             "autograder/results/grades_csv.py",
             "return \"'\" + value if value.startswith(_FORMULA) else value", "return value",
             ("tests/test_adversarial.py::test_a_name_is_never_a_formula_in_grades_csv",)),
    Mutation("a run leaves nothing in the temporary folder",
             "autograder/run/command.py", "        shutil.rmtree(run.scratch, ignore_errors=True)",
             "        pass",
             ("tests/test_adversarial.py::test_the_run_ends_with_its_results_and_nothing_left_"
              "behind",)),
    Mutation("a notebook nested too deep is refused before it is parsed",
             "autograder/run/collect.py", "    if depth > files.MAX_JSON_DEPTH:",
             "    if False:",
             ("tests/test_adversarial.py::test_each_bad_submission_is_graded_as_far_as_possible_"
              "and_named",)),
    Mutation("a sandbox's memory is bounded as a whole",
             "autograder/isolation/sandbox.py",
             "    cgroup.confine(cgroup_name(os.getpid()), limits.memory)", "    pass",
             ("tests/test_sandbox.py::test_memory_that_no_process_maps_counts_too",)),
    Mutation("answers are checked against the submission's own student's numbers",
             "autograder/pipeline/execute.py",
             "        self._cid = self._student_course_id(resources)",
             "        self._cid = variants.typed_id(nb) or self._student_course_id(resources)",
             ("tests/test_variants.py::test_a_class_that_passed_answers_around",)),
    Mutation("nothing a student reads gives an expression of an answer away",
             "tests/expression_guard.py", "WEIGHT = 2\n", "WEIGHT = 99\n",
             ("tests/test_copying.py::test_the_guard_finds_a_planted_copy_wherever_it_is_read",)),
    Mutation("a sandbox goes with its keeper",
             "autograder/isolation/sandbox.py", "    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)",
             "    pass",
             ("tests/test_sandbox.py::test_a_sandbox_goes_with_its_keeper",)),
    Mutation("a killed grading command leaves no process behind",
             "autograder/run/workers.py",
             "    threading.Thread(target=_go_with, args=(os.getppid(),), daemon=True).start()",
             "    pass",
             ("tests/test_sandbox.py::test_a_killed_command_leaves_no_process_behind",)),
]


def scratch_clone(where: Path | None) -> Path:
    """A clone of this checkout's last commit at `where` (a new temporary folder if None; made
    again from the last commit if it is there), with its own virtual environment."""
    where = where or Path(tempfile.mkdtemp(prefix="mutate-")) / "repo"
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True,
                          text=True, check=True).stdout.strip()
    if not (where / ".git").exists():
        subprocess.run(["git", "clone", "-q", str(REPO), str(where)], check=True)
    subprocess.run(["git", "fetch", "-q", str(REPO), head], cwd=where, check=True)
    subprocess.run(["git", "reset", "-q", "--hard", head], cwd=where, check=True)
    subprocess.run(["make", "-s", "venv", "mathjax"], cwd=where, check=True)
    return where


def run(mutation: Mutation, clone: Path) -> tuple[bool, str, float]:
    """Apply `mutation` to the clone, run its tests there, put the file back; (caught, the
    first failing test or "", seconds)."""
    path = clone / mutation.path
    text = path.read_text()
    if text.count(mutation.old) != 1:
        raise SystemExit(f"mutation {mutation.promise!r}: its text is not in {mutation.path} "
                         "exactly once (the code moved: update tools/mutate.py)")
    start = time.monotonic()
    try:
        path.write_text(text.replace(mutation.old, mutation.new))
        proc = subprocess.run([str(clone / ".venv" / "bin" / "python"), "-m", "pytest", "-q",
                               "-x", "-p", "no:cacheprovider", "-n", "0", *mutation.tests],
                              cwd=clone, capture_output=True, text=True)
    finally:
        path.write_text(text)
    failed = [line.split(" ")[1] for line in proc.stdout.splitlines()
              if line.startswith(("FAILED ", "ERROR "))]
    return proc.returncode != 0, (failed[0] if failed else ""), time.monotonic() - start


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("numbers", nargs="*", type=int, help="the mutations to apply (all)")
    parser.add_argument("--clone", type=Path, help="where the scratch clone is (or goes)")
    args = parser.parse_args(argv)
    chosen = args.numbers or list(range(1, len(MUTATIONS) + 1))
    clone = scratch_clone(args.clone)
    rows = ["| # | promise | mutation (file) | caught by | seconds |", "|---|---|---|---|---|"]
    missed = 0
    for number in chosen:
        m = MUTATIONS[number - 1]
        caught, test, seconds = run(m, clone)
        missed += not caught
        rows.append(f"| {number} | {m.promise} | `{m.path}` | "
                    f"{('`' + test.split('::')[-1] + '`') if caught else '**not caught**'} "
                    f"| {seconds:.0f} |")
        print(rows[-1], flush=True)
    print("\n".join(rows))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
