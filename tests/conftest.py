import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
# Kernels started by the tests import the checks package from this checkout.
os.environ["PYTHONPATH"] = str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")
os.environ["PATH"] = str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"]

from autograder import course  # noqa: E402  (needs the checkout on sys.path)

HTML = course.REPO / "_build" / "html"


@pytest.fixture(scope="session")
def book():
    """Build the book once per session, warnings as errors; the path of its HTML output."""
    jb = Path(sys.executable).parent / "jupyter-book"
    proc = subprocess.run([str(jb), "build", ".", "-W", "-n", "--keep-going"], cwd=course.REPO,
                          capture_output=True, text=True, timeout=1500)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-6000:]
    return HTML
