"""How a submission runs: nbgrader's Execute preprocessor, made to survive the kernel
(`KeepGoingExecute`) and to take every graded cell's score from the trusted checker
(`ResilientExecute`). Registered in autograder/nbgrader_config.py, so nbgrader's own `autograde`
runs them too.
"""
import os
import secrets
import time
from queue import Empty

from jupyter_core.utils import ensure_async
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbclient.util import run_sync
from nbformat import NotebookNode
from nbgrader.preprocessors import Execute
from traitlets import Bool, Unicode, default

from .. import course, notebooks, variants
from ..trusted import wire

KERNEL_DIED = "KernelDied"
TIMEOUT = "CellTimeoutError"  # nbgrader's name for a cell that ran past its time limit
CHECKS_ENV = "AUTOGRADER_CHECKS"  # "in-kernel": the old way, for benchmarks (see trusted_checks)
GRADER_NOTE = "[grader]"  # starts a note the executor adds to a graded cell's outputs
DISAGREED = "Review"      # the note's first word when the kernel and the checker disagreed
CHECK_FAILED = "CheckFailed"
STOPPED = ("KeyboardInterrupt", "MemoryError")  # errors that say why a cell stopped
NO_VERDICT = ("The hidden tests of this cell could not reach your code: your notebook did not "
              "answer the grader (did a cell replace how tests run, or stop the kernel?).")


def _error(ename: str, evalue: str) -> NotebookNode:
    return NotebookNode(output_type="error", ename=ename, evalue=evalue,
                        traceback=[f"{ename}: {evalue}"])


def _note(text: str) -> NotebookNode:
    return NotebookNode(output_type="stream", name="stdout", text=f"{GRADER_NOTE} {text}\n")


INLINE_FIGURES = "--IPKernelApp.matplotlib=inline"  # ipykernel's own switch (`--matplotlib`)
PRINTED = "(printed by the notebook) "  # before a printed line that looks like a grader's note


def drawn_and_printed(outputs) -> list:
    """What a graded cell keeps of the kernel's own run beside the checker's verdict: what it
    drew and printed (an experiment's figure, its numbers), never anything that scores. nbgrader
    scores a test cell from its outputs (an error or anything on stderr costs the points, a
    number returned as the cell's value gives partial credit), so errors and stderr go, a value
    is kept as a plain display, and a printed line that starts like a grader's note is marked
    as the notebook's. Bounded afterwards with every other output (outputs.py)."""
    kept = []
    for out in outputs:
        kind = out.get("output_type")
        if kind == "stream" and out.get("name") == "stdout":
            text = out.get("text", "")
            if isinstance(text, list):
                text = "".join(text)
            lines = [PRINTED + line if line.lstrip().startswith(GRADER_NOTE) else line
                     for line in text.splitlines(keepends=True)]
            kept.append(NotebookNode(output_type="stream", name="stdout", text="".join(lines)))
        elif kind in ("display_data", "execute_result"):
            kept.append(NotebookNode(output_type="display_data", data=out.get("data", {}),
                                     metadata=out.get("metadata", {})))
    return kept


class KeepGoingExecute(Execute):
    """nbgrader's Execute, which survives its kernel: a kernel that dies (os._exit, a segfault,
    the kernel killed for memory) or that ignores the interrupt after a cell's time limit does
    not abort the notebook. The cell where it happened gets an error saying so (`KernelDied`, or
    `CellTimeoutError` after the kernel is stopped), the cells after it are marked as not run,
    and everything before keeps its grade."""

    _dead = False

    async def async_execute_cell(self, cell, cell_index, execution_count=None, store_history=True):
        if cell.cell_type != "code":
            return cell
        if self._dead:
            cell.outputs = [_error(KERNEL_DIED, "not run: the kernel stopped in an earlier cell")]
            return cell
        try:
            return await super().async_execute_cell(cell, cell_index, execution_count, store_history)
        except DeadKernelError:
            self._dead = True
            cell.outputs.append(_error(KERNEL_DIED, "the Python kernel died while running this "
                                       "cell (a crash, os._exit, or too much memory)"))
            return cell
        except CellTimeoutError:  # past the time limit, and the interrupt did not stop it
            await self._stop_kernel()
            cell.outputs.append(_error(TIMEOUT, "this cell ran past the time limit and did not stop "
                                       "when interrupted (does it catch KeyboardInterrupt, e.g. "
                                       "with a bare `except:`?), so the kernel was stopped"))
            return cell

    execute_cell = run_sync(async_execute_cell)  # nbclient binds the sync wrapper at class level

    async def _stop_kernel(self):
        self._dead = True
        await ensure_async(self.km.shutdown_kernel(now=True))

    async def _after_interrupt(self, msg_id: str, grace: float = 5.0) -> None:
        """Wait briefly for the reply of an interrupted request; stop a kernel that ignores it."""
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            try:
                msg = await ensure_async(self.kc.shell_channel.get_msg(timeout=0.5))
            except Empty:
                continue
            if msg["parent_header"].get("msg_id") == msg_id:
                return
        await self._stop_kernel()

    def preprocess(self, nb, resources=None, km=None):
        self._dead = False
        try:
            return super().preprocess(nb, resources, km)
        except DeadKernelError:  # died outside a cell (e.g. at shutdown): keep what was graded
            return nb, resources


class ResilientExecute(KeepGoingExecute):
    """`KeepGoingExecute` whose graded cells are scored by the trusted checker.

    The hidden checks run in a trusted checker outside the kernel (`checker.Checker`, one per
    notebook): the kernel's hidden test cells ask it for their check, and after the notebook has
    run, every graded test cell's outputs are the checker's verdict (nothing on a pass, the
    check's message on a failure), which is what nbgrader's SaveAutoGrades scores. A cell whose
    check the kernel never asked for is checked once more, silently; a verdict that disagrees
    with what the kernel itself showed is noted in the cell, for review."""

    check_secret = Unicode("", help="seeds the checks' random inputs (empty: a fresh secret "
                           "per notebook); never given to the kernel").tag(config=True)
    course_id = Unicode("", help="the course id of the student being graded (set per "
                        "submission by the grading command; empty: from `course_ids`, else "
                        "from the course secret)").tag(config=True)
    course_ids = Unicode("", help="a grading run's course-ids.json (student -> course id)"
                         ).tag(config=True)
    trusted_checks = Bool(help="run the hidden checks in the trusted checker; False runs them "
                          "in the kernel, as plain nbgrader does (for benchmarks only, with "
                          "--no-sandbox: the student's code could then change its own score)"
                          ).tag(config=True)

    @default("trusted_checks")
    def _trusted_by_default(self):
        return os.environ.get(CHECKS_ENV) != "in-kernel"

    _checker = None
    _cid = ""

    async def async_start_new_kernel(self, **kwargs):
        # Figures drawn inline, as in JupyterLab: the kernel is forked from a template that
        # imported matplotlib before ipykernel could choose its backend (forkkernel.py), so
        # without this an experiment's plt.show() drew nothing into the graded notebook.
        if INLINE_FIGURES not in self.extra_arguments:
            self.extra_arguments = [*self.extra_arguments, INLINE_FIGURES]
        if self._checker is not None:
            env = dict(kwargs.get("env") or os.environ)
            env[wire.ENV] = self._checker.path
            if self._cid:  # the student's own numbers, unless the notebook typed an id
                env[variants.ID_ENV] = self._cid
            kwargs["env"] = env
            install = "--IPKernelApp.exec_lines=" \
                      "__import__('autograder.trusted.kernel_agent').trusted.kernel_agent.install()"
            if install not in self.extra_arguments:
                self.extra_arguments = [*self.extra_arguments, install]
        await super().async_start_new_kernel(**kwargs)

    start_new_kernel = run_sync(async_start_new_kernel)  # bound at class level, as below

    async def async_execute_cell(self, cell, cell_index, execution_count=None, store_history=True):
        checked = self._checked(cell) if cell.cell_type == "code" else None
        if checked:
            self._checker.expect(checked)
        try:
            return await super().async_execute_cell(cell, cell_index, execution_count,
                                                    store_history)
        finally:
            if checked:
                await self._settle(cell, checked)
                self._checker.expect(None)

    execute_cell = run_sync(async_execute_cell)

    def _checked(self, cell) -> str | None:
        """The grade id of a test cell whose score the checker decides."""
        gid = notebooks.grade_id(cell)
        if self._checker is None or not notebooks.is_test(cell):
            return None
        return gid if gid in self._checker.checks.TESTS else None

    async def _settle(self, cell, grade_id: str) -> None:
        """After a graded cell: note what the kernel showed, and if it never asked for its check,
        ask once more with the cell's own hidden region, run silently."""
        checker = self._checker
        self._kernel_failed[grade_id] = any(o.output_type == "error" for o in cell.outputs)
        checker.settle(self.timeout or course.CELL_TIMEOUT)
        if grade_id in checker.verdicts or self._dead:
            return
        hidden = notebooks.hidden_region(cell)
        if not hidden:
            return
        try:
            msg_id = self.kc.execute(hidden, silent=True, store_history=False)
            if await self.async_wait_for_reply(msg_id) is None:  # timed out, and interrupted
                await self._after_interrupt(msg_id)
        except DeadKernelError:
            self._dead = True
        checker.settle(self.timeout or course.CELL_TIMEOUT)

    def _apply_verdicts(self, nb) -> None:
        """Every checked test cell's outputs, from the checker's verdict."""
        checker = self._checker
        notes = {}
        for grade_id, text in checker.notes:
            notes.setdefault(grade_id, []).append(text)
        for cell in nb.cells:
            grade_id = self._checked(cell)
            if not grade_id:
                continue
            verdict = checker.verdicts.get(grade_id)
            # What stopped the cell (a time limit, a dead kernel, memory) stays beside a
            # failure, for the report; beside a pass it would cost the points, so it goes.
            stopped = [o for o in cell.outputs if o.output_type == "error"
                       and o.get("ename") in (KERNEL_DIED, TIMEOUT, *STOPPED)]
            # What the cell drew and printed stays (an experiment's figure and numbers).
            drawn = drawn_and_printed(cell.outputs)
            if verdict is None:
                cell.outputs = drawn + stopped + [_error(CHECK_FAILED, NO_VERDICT)]
            else:
                cell.outputs = drawn + ([] if verdict[0] else
                                        stopped + [_error(CHECK_FAILED, verdict[1])])
            kernel_failed = self._kernel_failed.get(grade_id)
            passed = verdict is not None and verdict[0]
            if kernel_failed is not None and kernel_failed == passed:
                shown = "a failure" if kernel_failed else "no failure"
                decided = "passed" if passed else "failed" if verdict else "never ran"
                cell.outputs.append(_note(
                    f"{DISAGREED}: your notebook's own run of this cell showed {shown}, but the "
                    f"grader's checks {decided}. The grader's verdict counts."))
            cell.outputs += [_note(text) for text in notes.pop(grade_id, [])]
        if notes:
            first = next((c for c in nb.cells if self._checked(c)), None)
            if first is not None:
                first.outputs += [_note(t) for texts in notes.values() for t in texts]

    def preprocess(self, nb, resources=None, km=None):
        self._kernel_failed = {}
        self._cid = self._student_course_id(resources)
        self._checker = self._open_checker(resources)
        try:
            nb, resources = super().preprocess(nb, resources, km)
            if self._checker is not None:
                self._apply_verdicts(nb)
                self._note_numbers(nb)
            return nb, resources
        finally:
            if self._checker is not None:
                self._checker.close()
                self._checker = None

    def _open_checker(self, resources):
        """The trusted checker for this notebook's assignment, if it has checks."""
        from ..trusted import checker
        assignment = ((resources or {}).get("nbgrader") or {}).get("assignment")
        if not self.trusted_checks or not assignment or not course.has_checks(assignment):
            return None
        secret = int(self.check_secret) if self.check_secret else secrets.randbits(63)
        numbers = variants.numbers(assignment, self._cid) if self._cid else None
        return checker.Checker(assignment, secret, timeout=float(self.timeout or course.CELL_TIMEOUT) + 5,
                               numbers=numbers)

    def _student_course_id(self, resources) -> str:
        """The graded student's course id: never what the notebook says (variants.py)."""
        student = ((resources or {}).get("nbgrader") or {}).get("student")
        if self.course_id or not student:
            return self.course_id
        if self.course_ids and os.path.isfile(self.course_ids):
            import json
            with open(self.course_ids) as f:
                return json.load(f).get("ids", {}).get(student, "")
        try:
            return variants.course_id(variants.read_secret(), student)
        except variants.NoSecret:
            return ""

    def _note_numbers(self, nb) -> None:
        """A notebook that drew its numbers from another course id is told so, in the cell that
        prints them: its questions were checked against its own student's numbers."""
        note = variants.mismatch_note(variants.typed_id(nb), self._cid) if self._cid else None
        if note is None:
            return
        where = next((c for c in nb.cells if notebooks.grade_id(c) == variants.NUMBERS_CELL),
                     None)
        if where is not None and where.cell_type == "code":
            where.outputs.append(_note(note[0].upper() + note[1:] + "."))


