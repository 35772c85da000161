"""nbgrader configuration of the course. This folder is the nbgrader course root.

Sources live in ../solutions and student versions are released to ../exercises, so that the
repository shows the design: one source per exercise, one generated student version beside it.
Run nbgrader's own commands from this folder, e.g. `nbgrader generate_assignment logits`.
"""
import os

from nbgrader.preprocessors import ClearHiddenTests, GetGrades
from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor

from autograder.preprocessors import ShortenTracebacks

c = get_config()  # noqa: F821  (provided by nbgrader)

c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.course_id = "logits-to-probabilities"
c.CourseDirectory.source_directory = "../solutions"
c.CourseDirectory.release_directory = "../exercises"

# What a student sees in place of a solution region.
c.ClearSolutions.code_stub = {
    "python": "# YOUR CODE HERE\n"
              "raise NotImplementedError(\"Not implemented yet: replace this line with your code.\")"
}

# Autograding: a cell that runs longer than this is stopped and reported.
c.ExecutePreprocessor.timeout = 60
c.Execute.timeout = 60
# Long outputs are cut in the graded notebook and its feedback.
c.LimitOutput.max_lines = 300
c.LimitOutput.max_traceback = 60

# Feedback shows the student's code, outputs and failure messages, never the hidden tests' code
# (neither in the cells nor quoted by a traceback).
c.GenerateFeedback.preprocessors = [GetGrades, ClearHiddenTests, ShortenTracebacks,
                                    CSSHTMLHeaderPreprocessor]
