"""The late penalty: nbgrader's own late-submission plugin, with a penalty the instructor sets.

nbgrader's `AssignLatePenalties` (in the autograde pipeline, and run again by `python -m
autograder refresh` once hand grades are in) asks the plugin for each notebook submitted after
its due date (the assignment's due date plus the student's extension, in the gradebook) what to
take off its score. nbgrader's `LateSubmissionPlugin` offers nothing or everything; this one
takes a share of the score per day late, each day begun counting, up to a most. Set it in
autograder/nbgrader_config.py:

    c.LatePenalty.per_day = 0.1   # a tenth of the points per day late
    c.LatePenalty.most = 0.5      # never more than half

nbgrader's `c.LatePenalty.penalty_method = 'zero'` still takes everything.
"""
from __future__ import annotations

import math

from nbgrader.plugins import LateSubmissionPlugin
from traitlets import Float, TraitError, validate

DAY = 24 * 3600


class LatePenalty(LateSubmissionPlugin):
    """A share of a late notebook's score per day late (each day begun counts), at most `most`."""

    per_day = Float(0.0, help="the share of a late notebook's score taken off per day late, "
                    "each day begun counting (0.1: a tenth per day); 0: no penalty").tag(config=True)
    most = Float(1.0, help="the largest share taken off, however late (1: the whole score)"
                 ).tag(config=True)

    @validate("per_day", "most")
    def _a_share(self, proposal):
        value = proposal["value"]
        if not 0 <= value <= 1:
            raise TraitError(f"LatePenalty.{proposal['trait'].name} is a share of the score, "
                             f"from 0 to 1 (0.1 for a tenth); got {value!r}")
        return value

    def late_submission_penalty(self, student_id: str, score: float,
                                total_seconds_late: float) -> float | None:
        if self.penalty_method == "zero":
            return super().late_submission_penalty(student_id, score, total_seconds_late)
        if self.per_day <= 0 or total_seconds_late <= 0:
            return None
        days = math.ceil(total_seconds_late / DAY)
        return round(score * min(self.most, self.per_day * days), 6)
