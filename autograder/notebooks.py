"""Reading and filling exercise notebooks by their nbgrader grade ids."""
from __future__ import annotations

import re
from pathlib import Path

import nbformat

_SOLUTION_MARKERS = re.compile(r"^[ \t]*### (BEGIN|END) SOLUTION[ \t]*\n?", re.MULTILINE)
_HIDDEN_TESTS = re.compile(r"^[ \t]*### BEGIN HIDDEN TESTS.*?### END HIDDEN TESTS[ \t]*\n?",
                           re.MULTILINE | re.DOTALL)


def read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(str(path), as_version=4)


def nbgrader_meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def grade_id(cell) -> str | None:
    return nbgrader_meta(cell).get("grade_id")


def is_solution(cell) -> bool:
    return cell.cell_type == "code" and bool(nbgrader_meta(cell).get("solution"))


def is_written(cell) -> bool:
    """A manually graded written answer (a markdown solution cell)."""
    return cell.cell_type == "markdown" and bool(nbgrader_meta(cell).get("solution"))


def is_test(cell) -> bool:
    meta = nbgrader_meta(cell)
    return cell.cell_type == "code" and bool(meta.get("grade")) and not meta.get("solution")


def reference_code(cell) -> str:
    """A source solution cell as a student who got everything right would write it."""
    return _SOLUTION_MARKERS.sub("", cell.source)


def hidden_region(cell) -> str:
    match = _HIDDEN_TESTS.search(cell.source)
    return match.group(0) if match else ""


def solution_cells(nb) -> dict[str, str]:
    """grade id -> reference code, for every solution cell of a source notebook."""
    return {grade_id(c): reference_code(c) for c in nb.cells if is_solution(c)}


def test_cells(nb) -> dict[str, dict]:
    """grade id -> nbgrader metadata (points, ...), for every autograded test cell."""
    return {grade_id(c): nbgrader_meta(c) for c in nb.cells if is_test(c)}


def code_trees(nb):
    """(cell, its syntax tree) for every code cell of `nb` that parses as Python."""
    import ast
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        try:
            yield cell, ast.parse(cell.source)
        except (SyntaxError, ValueError):  # an IPython magic, a half-typed line
            continue


def fill(student_nb, answers: dict[str, str]):
    """A copy of a student notebook with the given solution cells answered, as a student would."""
    nb = nbformat.from_dict(student_nb)
    answerable = [c for c in nb.cells if is_solution(c) or is_written(c)]
    unknown = set(answers) - {grade_id(c) for c in answerable}
    if unknown:
        raise KeyError(f"no solution cells with grade ids {sorted(unknown)}")
    for cell in answerable:
        if grade_id(cell) in answers:
            cell.source = answers[grade_id(cell)].strip("\n")
    return nb
