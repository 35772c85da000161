"""The example submissions in examples/submissions/, generated from the sources and the catalogs
(`make examples`, which runs `python -m tests.examples`).

Four students hand in every assignment:
- `alice-correct`: the reference solution, typed into the student version, and a written answer
  in every written-answer cell (graded by hand, so its text does not matter here);
- `bob-one-bug`: the same, with the first catalogued bug of each assignment (tests/catalog/);
- `carol-untouched`: the student version as released;
- `dan-copier`: the student version with every graded cell that the catalogs can fill by
  copying what the book and the notebook show (tests/catalog/COPIED): it must earn no more than
  `carol-untouched` (issue 20; tests/test_grading.py).
"""
from __future__ import annotations

import shutil

import nbformat

from autograder import course, notebooks
from tests.catalog import catalog, copies

STUDENTS = ("alice-correct", "bob-one-bug", "carol-untouched", "dan-copier")
WRITTEN = "My written answer, as a student would type it in this cell."


def first_bug(assignment: str):
    """The first catalogued bug of an assignment (tests/catalog/<assignment>.py)."""
    return catalog(assignment).BUGS[0]


def answers(student: str, assignment: str) -> dict[str, str]:
    if student == "carol-untouched":
        return {}
    if student == "dan-copier":
        return copies(assignment)
    source = notebooks.read(course.source_notebook(assignment))
    solutions = notebooks.solution_cells(source)
    solutions.update({notebooks.grade_id(c): WRITTEN for c in source.cells if notebooks.is_written(c)})
    if student == "bob-one-bug":
        bug = first_bug(assignment)
        solutions[bug.cell] = bug.code
    return solutions


def write_examples(dest=course.EXAMPLES) -> None:
    if dest.exists():
        shutil.rmtree(dest)
    for assignment in course.assignments():
        released = notebooks.read(course.student_notebook(assignment))
        for student in STUDENTS:
            nb = notebooks.fill(released, answers(student, assignment))
            path = dest / student / assignment / f"{assignment}.ipynb"
            path.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(nb, str(path))


if __name__ == "__main__":
    write_examples()
    print(f"Example submissions written to {course.EXAMPLES}/")
