"""Scores decided outside the student's process: the trusted checker (checker.py) runs the hidden
checks (autograder/checks/) and drives the student's objects through a data-only channel
(wire.py) whose kernel end is kernel_agent.py. A sandboxed kernel sees only this package's
__init__.py, wire.py and kernel_agent.py: keep this file free of imports."""
