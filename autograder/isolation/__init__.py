"""What keeps a student's code away from the run: each kernel in a sandbox of its own
(sandbox.py), forked from a warm template that never runs student code (forkkernel.py)."""
