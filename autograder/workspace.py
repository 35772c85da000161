"""The course folder of a grading run, `DIR/course/`: nbgrader's standard layout (source/,
release/, submitted/, autograded/, feedback/, gradebook.db, logs/), and paths within it.

It holds no absolute path: its nbgrader_config.py is the course's settings written out, then this
run's, with every path derived from the file's own location (traitlets gives a config file its
`__file__`). So the folder can be moved or archived as the record of a grading run, and still
opens in nbgrader (`nbgrader export`, the formgrader through `jupyter lab` there).
"""
from __future__ import annotations

import ast
import shutil
from pathlib import Path

from . import course, variants


NO_EXCHANGE = "no-exchange-here--release-and-collect-from-autograder"


def path(root: Path, kind: str, student: str, assignment: str) -> Path:
    """A submission's notebook in the course folder `root`: kind is "submitted", "autograded" or
    "feedback" (an .html page there), as nbgrader lays them out."""
    suffix = ".html" if kind == "feedback" else ".ipynb"
    return Path(root) / kind / student / assignment / f"{assignment}{suffix}"


def _course_settings() -> str:
    """The course's nbgrader settings (autograder/nbgrader_config.py) without its docstring,
    which describes the repository's layout, not a grading run's."""
    text = course.COURSE_ROOT.joinpath("nbgrader_config.py").read_text()
    tree = ast.parse(text)
    first = tree.body[0] if tree.body else None
    if isinstance(first, ast.Expr) and isinstance(getattr(first, "value", None), ast.Constant):
        text = "\n".join(text.splitlines()[first.end_lineno:]).lstrip("\n")
    return text


def is_run(folder: Path) -> bool:
    """Whether `folder` holds a grading run's course (its gradebook)."""
    db = Path(folder) / "gradebook.db"
    return db.is_file() and not db.is_symlink()


def changed_sources(folder: Path, names: list[str]) -> list[str]:
    """Of the assignments `names` that the run in `folder` graded, those whose source (in
    solutions/) is no longer the one it graded against (in its source/)."""
    changed = []
    for name in names:
        graded, now = Path(folder) / "source" / name, course.SOLUTIONS / name
        if graded.is_dir() and _files(graded) != _files(now):
            changed.append(name)
    return changed


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file() and ".ipynb_checkpoints" not in p.parts}


def create(folder: Path, cell_timeout: float, names: list[str]) -> Path:
    """A fresh course folder at `folder` (replacing one there), for the assignments `names`."""
    root = Path(folder)
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    return update(root, cell_timeout, names)


def update(folder: Path, cell_timeout: float, names: list[str]) -> Path:
    """The course folder of an earlier run at `folder`, to grade more into: the sources of the
    assignments `names` it does not have yet are added (those it has stay, see
    `changed_sources`), and its settings are written again (the course's may have changed: a
    late penalty, say). Everything nbgrader wrote (the gradebook, submitted/, autograded/,
    feedback/) stays."""
    root = Path(folder)
    (root / "logs").mkdir(parents=True, exist_ok=True)
    for name in names:  # the sources this run grades against, as nbgrader expects them
        if not (root / "source" / name).is_dir():
            shutil.copytree(course.SOLUTIONS / name, root / "source" / name)
    (root / "nbgrader_config.py").write_text(
        "# The nbgrader course of a grading run (`python -m autograder grade`): the course's\n"
        "# settings (autograder/nbgrader_config.py, copied), then this run's. Every path is\n"
        "# relative to this file, so the folder can be moved and still opens in nbgrader.\n\n"
        + _course_settings() +
        "\n\n# --- This grading run ----------------------------------------------------------\n"
        "import os as _os\n\n"
        "_here = _os.path.dirname(_os.path.abspath(__file__))\n"
        "c.CourseDirectory.root = _here\n"
        "c.CourseDirectory.source_directory = 'source'\n"
        "c.CourseDirectory.release_directory = 'release'\n"
        "# This folder grades; the course root (autograder/) releases and collects. An exchange\n"
        "# that is not there turns the formgrader's Release and Collect off here (nbgrader says\n"
        "# so), so that no click here releases this run's files or collects into it.\n"
        f"c.Exchange.root = _os.path.join(_here, '{NO_EXCHANGE}')\n"
        "# Several graders share this gradebook: wait for the lock instead of failing.\n"
        "c.CourseDirectory.db_url = ('sqlite:///' + _os.path.join(_here, 'gradebook.db')\n"
        "                            + '?timeout=120')\n"
        f"c.ResilientExecute.timeout = {int(cell_timeout)}\n"
        "# Speed, not grading: a graded kernel has nothing to save, so it is stopped at once; a\n"
        "# kernel's client is ready when its kernel is (kernels are forked, see forkkernel.py);\n"
        "# feedback templates are compiled once per worker, not once per notebook.\n"
        "c.ResilientExecute.shutdown_kernel = 'immediate'\n"
        "c.AsyncKernelManager.client_factory = 'autograder.isolation.forkkernel.ReadyClient'\n"
        "c.GenerateFeedback.exporter_class = 'autograder.pipeline.exporters.FeedbackExporter'\n"
        "# Each student's course id (their numbers), never the secret (variants.py).\n"
        f"c.ResilientExecute.course_ids = _os.path.join(_here, '{variants.IDS_FILE}')\n")
    return root
