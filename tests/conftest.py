import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
# Kernels started by the tests import the checks package from this checkout.
os.environ["PYTHONPATH"] = str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")
os.environ["PATH"] = str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"]

from autograder import course, variants  # noqa: E402  (needs the checkout on sys.path)

# Every grading run of the tests uses a course secret of the test session's own (never the
# instructor's file in autograder/), which the commands they start inherit.
_SECRET_DIR = Path(tempfile.mkdtemp(prefix="course-secret-"))
os.environ[variants.SECRET_ENV] = str(_SECRET_DIR / "course-secret")
variants.create_secret()

HTML = course.REPO / "_build" / "html"


_BUILD: dict = {}  # the book's build, started in the background once the tests are collected


def _start_book_build() -> None:
    if "proc" not in _BUILD:
        jb = Path(sys.executable).parent / "jupyter-book"
        log = tempfile.TemporaryFile(mode="w+")
        _BUILD["log"] = log
        _BUILD["proc"] = subprocess.Popen([str(jb), "build", ".", "-W", "-n", "--keep-going"],
                                          cwd=course.REPO, stdout=log, stderr=subprocess.STDOUT,
                                          text=True)


def pytest_collection_modifyitems(session, config, items):
    """The book takes minutes to build (every chapter executes): when a selected test needs it,
    it builds in the background from the start, and the tests that need it run last."""
    needs = [item for item in items if "book" in getattr(item, "fixturenames", ())]
    if needs:
        _start_book_build()
        items[:] = [i for i in items if i not in needs] + needs


@pytest.fixture(scope="session")
def book():
    """The book, built once per session with warnings as errors: the path of its HTML output."""
    _start_book_build()
    proc, log = _BUILD["proc"], _BUILD["log"]
    proc.wait(timeout=1500)
    log.seek(0)
    output = log.read()
    assert proc.returncode == 0, output[-12000:]
    return HTML



@pytest.fixture(scope="session")
def graded_class(tmp_path_factory):
    """The example class (examples/submissions/: three students, every assignment) graded once
    per session with the README's command and two workers: the results folder, which the tests
    that only read a graded class share (never write into it, but beside it)."""
    out = tmp_path_factory.mktemp("graded-class") / "grades"
    proc = subprocess.run([sys.executable, "-m", "autograder", "grade", "--submissions",
                           str(course.EXAMPLES), "--out", str(out), "--workers", "2"],
                          cwd=course.REPO, capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out


# Debian's Chromium, started by the browser tests (tests/test_browser.py, test_report.py and the
# JupyterLab walkthroughs in lab.py); installed by `make browser`.
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="session")
def chromium():
    """One headless Chromium for the whole session, through Playwright's sync API.

    One, because a started sync Playwright keeps its asyncio loop marked as running in the main
    thread until it stops: a second `sync_playwright()` opened while a session-wide one is alive
    refuses to start ("Sync API inside the asyncio loop"). Fails, never skips, when Chromium is
    missing."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"Debian's Chromium is not installed at {CHROMIUM}: run `make browser` "
                    "(apt-get install chromium) before the browser tests", pytrace=False)
    from playwright.sync_api import sync_playwright
    with sync_playwright() as pw:
        try:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                                         args=CHROMIUM_ARGS)
        except Exception as exc:  # a broken install must fail loudly, not skip
            pytest.fail(f"could not start {CHROMIUM}: {exc}", pytrace=False)
        yield browser
        browser.close()


def _sandboxed_processes() -> set[int]:
    """The processes running as a sandboxed kernel's uid (as root, each kernel has one of its
    own from sandbox.UID_BASE): found by the owner of /proc/<pid>, which costs a millisecond."""
    from autograder.isolation import sandbox
    found = set()
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid >= sandbox.UID_BASE:
                    found.add(int(entry.name))
            except OSError:
                continue
    return found


@pytest.fixture(autouse=True)
def no_process_of_a_run_outlives_its_test():
    """Every sandboxed process a test's grading runs started is gone when the test ends (a
    regression that leaves kernels running, or a daemon a notebook started, fails the test that
    made it)."""
    import time
    before = _sandboxed_processes()
    yield
    deadline = time.monotonic() + 10  # a stopped kernel takes a moment to go
    while (new := _sandboxed_processes() - before) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not new, f"sandboxed processes outlived the test that started them: {sorted(new)}"
