"""The hidden checks: one module per assignment, one `check_*` function per graded test cell.

The hidden test cells of the source notebooks only call into these modules, so the checks are
ordinary, unit-tested Python (see tests/test_catalogs.py) and never appear in student feedback.
"""
from ._common import CheckFailed  # noqa: F401
