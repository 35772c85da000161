"""Where things are, and how to run nbgrader's own commands on them."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
COURSE_ROOT = REPO / "autograder"          # nbgrader course root (nbgrader_config.py)
SOLUTIONS = REPO / "solutions"             # nbgrader sources: the one source of truth
EXERCISES = REPO / "exercises"             # student versions, generated from SOLUTIONS
EXAMPLES = REPO / "examples" / "submissions"

# How long a submission may run when graded (python -m autograder grade, and nbgrader's own
# autograde with the course's settings); the sandbox's CPU limit per process is the first.
NOTEBOOK_TIMEOUT = 600  # seconds for one notebook as a whole
CELL_TIMEOUT = 60       # seconds for one cell


def assignments() -> list[str]:
    """Every assignment with a source notebook, in chapter order (the order of _toc.yml)."""
    found = sorted(p.parent.name for p in SOLUTIONS.glob("*/*.ipynb") if p.stem == p.parent.name)
    order = {name: i for i, name in enumerate(
        ["logits", "sigmoid", "binary-loss", "softmax", "cross-entropy", "multilabel", "calibration"])}
    return sorted(found, key=lambda a: (order.get(a, len(order)), a))


def module_name(assignment: str) -> str:
    """`binary_loss` for `binary-loss`: the name of an assignment's checks module."""
    return assignment.replace("-", "_")


def has_checks(assignment: str) -> bool:
    return (COURSE_ROOT / "checks" / f"{module_name(assignment)}.py").is_file()


def checks(assignment: str):
    """The assignment's hidden checks (`autograder.checks.<module_name>`)."""
    import importlib
    return importlib.import_module(f"autograder.checks.{module_name(assignment)}")


def source_notebook(assignment: str) -> Path:
    return SOLUTIONS / assignment / f"{assignment}.ipynb"


def student_notebook(assignment: str) -> Path:
    return EXERCISES / assignment / f"{assignment}.ipynb"


def skip_slow_optional_imports() -> None:
    """jsonschema (under nbformat) imports the optional rfc3987_syntax, which compiles Lark
    grammars for about 1.7 s of CPU at import (python-jsonschema/jsonschema#1428); the schemas of
    nbformat and nbgrader never check IRIs. The grader's own processes go without it."""
    sys.modules.setdefault("rfc3987_syntax", None)  # `import rfc3987_syntax` raises ImportError


def kernel_imports(names: list[str]) -> list[str]:
    """The modules the kernels grading these assignments will import: those that the source
    notebooks' code and the assignments' hidden checks import, except the course's own."""
    import ast
    import json
    sources = []
    for name in names:  # plain JSON: nbformat takes a second to import, before workers start
        nb = json.loads(source_notebook(name).read_text())
        sources += ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]
        sources.append((COURSE_ROOT / "checks" / f"{module_name(name)}.py").read_text())
    sources.append((COURSE_ROOT / "checks" / "_common.py").read_text())
    found = set()
    for source in sources:
        try:
            tree = ast.parse(source)
        except SyntaxError:  # IPython syntax (a magic): its imports are not worth the trouble
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.add(node.module)
    return sorted(m for m in found if m.split(".")[0] not in ("autograder", "__future__"))


def environment() -> dict:
    """The environment nbgrader and its kernels run in: this venv's tools first on PATH, and the
    repository importable so that hidden test cells can `import autograder.checks`."""
    env = dict(os.environ)
    bin_dir = str(Path(sys.executable).parent)
    env["PATH"] = bin_dir + os.pathsep + env.get("PATH", "")
    env["PYTHONPATH"] = str(REPO) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def nbgrader(*args: str, cwd: Path = COURSE_ROOT, check: bool = True) -> subprocess.CompletedProcess:
    """Run one of nbgrader's own commands (`nbgrader generate_assignment ...`) in a course root."""
    cmd = [str(Path(sys.executable).parent / "nbgrader"), *args]
    proc = subprocess.run(cmd, cwd=cwd, env=environment(), capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise RuntimeError(f"`nbgrader {' '.join(args)}` failed in {cwd}:\n{proc.stdout}\n{proc.stderr}")
    return proc


def kernel_metadata() -> dict:
    """The notebook metadata that the course's kernel reports: the python3 kernelspec and the
    `language_info` of this Python's ipykernel (its version included). JupyterLab writes both
    into a notebook it opens and compares them as JSON, so a notebook that carries anything else
    (nbgrader's bare {"name": "python"}, another Python's version) is marked unsaved before any
    edit. A student whose Python differs from the course's sees that mark, and nothing else."""
    from ipykernel.ipkernel import IPythonKernel
    return {"kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python",
                           "name": "python3"},
            "language_info": json.loads(json.dumps(IPythonKernel.language_info))}


def stamp_kernel_metadata(path: Path) -> None:
    """Give the notebook at `path` the kernel's metadata (`kernel_metadata`), keeping the rest."""
    import nbformat
    nb = nbformat.read(str(path), as_version=4)
    nb.metadata.update(kernel_metadata())
    nbformat.write(nb, str(path))


def generate_student_versions(names: list[str] | None = None, release_dir: Path = EXERCISES) -> None:
    """`nbgrader generate_assignment` for each assignment, writing the student versions to
    release_dir/<assignment>/<assignment>.ipynb (by default the committed ones in exercises/),
    with the kernel's metadata, so that JupyterLab opens them unmodified."""
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        # A throw-away gradebook: generating the student versions must not touch any real one.
        for name in names or assignments():
            nbgrader("generate_assignment", name, "--force",
                     f"--CourseDirectory.release_directory={release_dir}",
                     f"--CourseDirectory.db_url=sqlite:///{tmp}/gradebook.db")
            stamp_kernel_metadata(release_dir / name / f"{name}.ipynb")
