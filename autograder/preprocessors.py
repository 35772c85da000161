"""nbgrader preprocessors of our own, each with one job (in the style of nbgrader's).

They are registered in nbgrader_config.py, so nbgrader's own `autograde` and `generate_feedback`
use them as well as our grading command.
"""
from jupyter_core.utils import ensure_async
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbclient.util import run_sync
from nbformat import NotebookNode
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.preprocessors import Execute, NbGraderPreprocessor
from nbgrader.utils import is_grade, is_locked
from traitlets import Integer

from . import course

KERNEL_DIED = "KernelDied"
TIMEOUT = "CellTimeoutError"  # nbgrader's name for a cell that ran past its time limit
OUTPUT_CUT = "[output cut by the grader:"


def _error(ename: str, evalue: str) -> NotebookNode:
    return NotebookNode(output_type="error", ename=ename, evalue=evalue,
                        traceback=[f"{ename}: {evalue}"])


class ResilientExecute(Execute):
    """nbgrader's Execute, except that a kernel that dies (os._exit, a segfault, the kernel
    killed for memory) or that ignores the interrupt after a cell's time limit does not abort
    the notebook: the cell where it happened gets an error saying so (`KernelDied`, or
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
            self._dead = True
            await ensure_async(self.km.shutdown_kernel(now=True))
            cell.outputs.append(_error(TIMEOUT, "this cell ran past the time limit and did not stop "
                                       "when interrupted (does it catch KeyboardInterrupt, e.g. "
                                       "with a bare `except:`?), so the kernel was stopped"))
            return cell

    execute_cell = run_sync(async_execute_cell)  # nbclient binds the sync wrapper at class level

    def preprocess(self, nb, resources=None, km=None):
        self._dead = False
        try:
            return super().preprocess(nb, resources, km)
        except DeadKernelError:  # died outside a cell (e.g. at shutdown): keep what was graded
            return nb, resources


class LimitOutputSize(NbGraderPreprocessor):
    """Cut any single output's text to `max_chars` characters (nbgrader's LimitOutput counts
    lines, and 100 MB printed on one line is one line)."""

    max_chars = Integer(20000, help="characters kept of each output").tag(config=True)

    def _cut(self, text: str) -> str:
        if len(text) <= self.max_chars:
            return text
        return text[:self.max_chars] + f"\n{OUTPUT_CUT} {len(text):,} characters in all]\n"

    def preprocess_cell(self, cell, resources, index):
        for output in cell.get("outputs", []):
            if "text" in output:
                output["text"] = self._cut(output["text"])
            for mime, value in output.get("data", {}).items():
                if isinstance(value, str):
                    output["data"][mime] = self._cut(value)
            if "evalue" in output:
                output["evalue"] = self._cut(output["evalue"])
        return cell, resources


class RestoreTestCells(NbGraderPreprocessor):
    """Make the notebook's autograded test cells exactly the source's: a test cell that was
    deleted is put back (after the cell it followed in the source), and a locked grade cell with a
    grade id the source does not know is removed. nbgrader's OverwriteCells, which runs next,
    then restores the source and metadata of every test cell, hidden tests included."""

    def preprocess(self, nb, resources):
        assignment = resources["nbgrader"]["assignment"]
        notebook = resources["nbgrader"]["notebook"]
        with Gradebook(resources["nbgrader"]["db_url"]) as gb:
            try:
                source = gb.find_notebook(notebook, assignment)
            except MissingEntry:
                return nb, resources
            known = {c.name: c for c in source.source_cells}
            points = {c.name: c.max_score for c in source.grade_cells}
            tests = [name for name in points if known.get(name) is not None and known[name].locked
                     and known[name].cell_type == "code"]
            order = self._source_order(assignment, known)
        present = {cell.metadata.get("nbgrader", {}).get("grade_id") for cell in nb.cells}
        nb.cells = [c for c in nb.cells if not (
            is_grade(c) and is_locked(c) and c.metadata["nbgrader"].get("grade_id") not in known)]
        for name in tests:
            if name in present:
                continue
            src = known[name]
            cell = NotebookNode(cell_type=src.cell_type, source=src.source, metadata=NotebookNode(
                nbgrader=NotebookNode(grade=True, solution=False, locked=True, grade_id=name,
                                      points=points[name], schema_version=3, task=False)))
            if src.cell_type == "code":
                cell.outputs, cell.execution_count = [], None
            nb.cells.insert(self._position(nb, name, order), cell)
            self.log.warning("Test cell %s was missing; put it back", name)
        return nb, resources

    @staticmethod
    def _source_order(assignment, known) -> list[str]:
        from . import notebooks
        path = course.source_notebook(assignment)
        if not path.exists():
            return list(known)
        return [notebooks.grade_id(c) for c in notebooks.read(path).cells]

    @staticmethod
    def _position(nb, name, order) -> int:
        """Just after the nearest cell that preceded `name` in the source and is still here."""
        ids = [c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells]
        before = order[:order.index(name)] if name in order else []
        for prev in reversed(before):
            if prev in ids:
                return ids.index(prev) + 1
        return len(nb.cells)


class ShortenTracebacks(NbGraderPreprocessor):
    """In feedback, an error shows only its type and message, which our checks write for the
    student. Tracebacks would quote the source lines around the failure, hidden tests included."""

    def preprocess_cell(self, cell, resources, index):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                output["traceback"] = [f"{output.get('ename', 'Error')}: {output.get('evalue', '')}"]
        return cell, resources
