"""nbgrader configuration of the course. This folder is the nbgrader course root.

Sources live in ../solutions and student versions are released to ../exercises, so that the
repository shows the design: one source per exercise, one generated student version beside it.
Run nbgrader's own commands from this folder, e.g. `nbgrader generate_assignment logits`.
"""
import os

from nbconvert.preprocessors import ClearMetadataPreprocessor, CSSHTMLHeaderPreprocessor
from nbconvert.preprocessors.sanitize import SanitizeHTML
from nbgrader.preprocessors import (AssignLatePenalties, CheckCellMetadata, ClearOutput,
                                    DeduplicateIds, GetGrades, IgnorePattern, LimitOutput,
                                    OverwriteCells, OverwriteKernelspec, SaveAutoGrades)

from autograder.course import CELL_TIMEOUT
from autograder.pipeline.execute import ResilientExecute
from autograder.pipeline.outputs import BoundOutputs, LimitOutputSize, NameSandboxLimits
from autograder.pipeline.preprocessors import (ClearHiddenTests, RestoreTestCells,
                                               ShortenTracebacks)

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

# Autograding is nbgrader's pipeline with three of our preprocessors (autograder/pipeline/):
# deleted or renamed test cells are put back before nbgrader restores every test cell's source,
# a kernel that dies costs only the cells from there on, and huge outputs are cut.
c.Autograde.sanitize_preprocessors = [ClearOutput, DeduplicateIds, OverwriteKernelspec,
                                      RestoreTestCells, OverwriteCells, CheckCellMetadata]
# The kernel runs in a sandbox (autograder/isolation/sandbox.py); an error a sandbox limit caused names it,
# and whatever the notebook printed is bounded (autograder/pipeline/outputs.py).
c.Autograde.autograde_preprocessors = [ResilientExecute, IgnorePattern, ClearMetadataPreprocessor,
                                       NameSandboxLimits, LimitOutputSize, BoundOutputs,
                                       LimitOutput, SaveAutoGrades, AssignLatePenalties,
                                       CheckCellMetadata]
# A cell that runs longer than this is interrupted and reported (CellTimeoutError).
c.ResilientExecute.timeout = CELL_TIMEOUT

# Late submissions: nbgrader compares each submission's timestamp (written by `nbgrader collect`)
# with the assignment's due date (`nbgrader db assignment add logits --duedate=...`, here) plus
# the student's extension (extensions.csv, here), and takes off what this plugin says: a share
# of the notebook's score per day late, each day begun counting (autograder/pipeline/late.py).
c.AssignLatePenalties.plugin_class = "autograder.pipeline.late.LatePenalty"
c.LatePenalty.per_day = 0.0  # e.g. 0.1: a tenth of the points per day late; 0: none
c.LatePenalty.most = 1.0     # the largest share taken off, however late
# Long outputs are cut in the graded notebook and its feedback.
c.LimitOutput.max_lines = 300
c.LimitOutput.max_traceback = 60
c.LimitOutputSize.max_chars = 20000

# Feedback shows the student's code, outputs and failure messages, never the hidden tests' code
# (neither in the cells nor quoted by a traceback), and nothing in it runs: HTML and Markdown
# are cleaned of scripts and event handlers (bleach), JavaScript, SVG and widget outputs dropped.
c.GenerateFeedback.preprocessors = [GetGrades, ClearHiddenTests, ShortenTracebacks, SanitizeHTML,
                                    CSSHTMLHeaderPreprocessor]
# Feedback pages carry their math as MathML (no script, no network: they read offline, as an
# attachment, and in JupyterLab's untrusted HTML viewer); see autograder/pipeline/exporters.py.
c.GenerateFeedback.exporter_class = "autograder.pipeline.exporters.FeedbackExporter"
