"""The grading run: `python -m autograder grade` (command.py), from finding the submissions
(collect.py) to one job per submission (jobs.py) on local supervised workers (workers.py) or a
Dask cluster (cluster.py), in a course folder of the run's own (workspace.py)."""
