"""Small nbgrader preprocessors of our own, each with one job (in the style of nbgrader's):
test cells put back before nbgrader restores them, and tracebacks shortened in feedback.
Registered in autograder/nbgrader_config.py."""
from nbformat import NotebookNode
from nbgrader import preprocessors as nbgrader_preprocessors
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.preprocessors import NbGraderPreprocessor
from nbgrader.utils import is_grade, is_locked
from traitlets import List

from .. import course


def _priority():
    """nbgrader's preprocessors have a `display_data_priority` that is not configurable, which
    nbconvert's HTML exporter configures for all of them: traitlets then warned in every
    feedback log that `ClearHiddenTests` and `ShortenTracebacks` do not recognise it. Declared
    configurable here (the value is never used), the warnings go."""
    return List(NbGraderPreprocessor.class_traits()["display_data_priority"].default()
                ).tag(config=True)


class ClearHiddenTests(nbgrader_preprocessors.ClearHiddenTests):
    """nbgrader's ClearHiddenTests (its settings apply), without a warning in every log."""

    display_data_priority = _priority()


class RestoreTestCells(NbGraderPreprocessor):
    """Make the notebook's autograded test cells exactly the source's: a test cell that was
    deleted is put back (after the cell it followed in the source), and a locked grade cell with a
    grade id the source does not know is removed. nbgrader's OverwriteCells, which runs next,
    then restores the source and metadata of every test cell, hidden tests included.

    A test cell as it was released (the source's without its hidden tests) gets its hidden
    tests back here, so that OverwriteCells finds it unchanged: it warned "Attribute 'checksum'
    for cell ... has changed!" for every test cell of every notebook, an untouched one too, which
    hid the warnings about cells a student did change (those it still gives)."""

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
        self._hidden_tests_back(nb, known, tests)
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

    def _hidden_tests_back(self, nb, known, tests) -> None:
        clear = nbgrader_preprocessors.ClearHiddenTests(parent=self)
        for cell in nb.cells:
            name = cell.metadata.get("nbgrader", {}).get("grade_id")
            if name not in tests or cell.cell_type != "code":
                continue
            released = NotebookNode(cell_type="code", source=known[name].source, metadata={})
            clear._remove_hidden_test_region(released)
            if cell.source == released.source:
                cell.source = known[name].source

    @staticmethod
    def _source_order(assignment, known) -> list[str]:
        from .. import notebooks
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

    display_data_priority = _priority()

    def preprocess_cell(self, cell, resources, index):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                output["traceback"] = [f"{output.get('ename', 'Error')}: {output.get('evalue', '')}"]
        return cell, resources
