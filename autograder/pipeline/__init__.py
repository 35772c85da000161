"""nbgrader's side: the preprocessors of ours that nbgrader's own autograde and feedback run
(preprocessors.py: the trusted verdicts, dead kernels, restored test cells), the bounds on what a
notebook printed (outputs.py), and the feedback page's exporter (exporters.py, templates/).
They are registered in autograder/nbgrader_config.py."""
