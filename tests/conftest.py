import fcntl
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
# Kernels started by the tests import the checks package from this checkout.
os.environ["PYTHONPATH"] = str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")
os.environ["PATH"] = str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"]
# One BLAS thread per process (set before numpy loads here, and inherited by every command and
# kernel the tests start): the workers share two cores, and OpenBLAS's own threads only spin
# against them (the cross-entropy page guard took 19 s of CPU with them, 12 s without).
for _threads in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_threads, "1")

from autograder import course, variants  # noqa: E402  (needs the checkout on sys.path)

# Every grading run of the tests uses a course secret of the test session's own (never the
# instructor's file in autograder/), which the commands they start inherit, and so do the
# session's pytest-xdist workers (started by this process, with its environment).
_FIRST = not os.environ.get("LOGITS_TESTS_SECRET")  # the session's main process
if _FIRST:
    os.environ["LOGITS_TESTS_SECRET"] = str(Path(tempfile.mkdtemp(prefix="course-secret-"))
                                            / "course-secret")
os.environ[variants.SECRET_ENV] = os.environ["LOGITS_TESTS_SECRET"]
if _FIRST:
    variants.create_secret()

HTML = course.REPO / "_build" / "html"


# One session may run in several processes (`make test` runs three pytest-xdist workers): what
# the session makes once (the book, the graded class) the first worker that needs it makes,
# under a lock, and the others wait for it and share it. RUN names the session.
RUN = os.environ.get("PYTEST_XDIST_TESTRUNUID") or f"pid-{os.getpid()}"
_BUILD: dict = {}  # the book's build, started in the background once the tests are collected
_BUILD_RESULT = course.REPO / "_build" / ".tests-book-build.json"


def _start_book_build() -> None:
    """Build the book in the background, unless a worker of this session builds or built it."""
    if _BUILD:
        return
    _BUILD_RESULT.parent.mkdir(exist_ok=True)
    lock = _BUILD["lock"] = open(_BUILD_RESULT.with_suffix(".lock"), "a")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return  # another worker is building it
    if _built_by_this_run():
        fcntl.flock(lock, fcntl.LOCK_UN)
        return
    _BUILD_RESULT.unlink(missing_ok=True)
    log = tempfile.TemporaryFile(mode="w+")
    jb = Path(sys.executable).parent / "jupyter-book"
    proc = subprocess.Popen([str(jb), "build", ".", "-W", "-n", "--keep-going"], cwd=course.REPO,
                            stdout=log, stderr=subprocess.STDOUT, text=True)

    def finish():
        try:
            proc.wait(timeout=1500)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.seek(0)
        _BUILD_RESULT.write_text(json.dumps({"run": RUN, "returncode": proc.returncode,
                                             "log": log.read()[-12000:]}))
        fcntl.flock(lock, fcntl.LOCK_UN)
    _BUILD["thread"] = threading.Thread(target=finish, daemon=True)
    _BUILD["thread"].start()


def _built_by_this_run() -> dict | None:
    try:
        record = json.loads(_BUILD_RESULT.read_text())
    except (OSError, ValueError):
        return None
    return record if record.get("run") == RUN else None


# The test modules whose tests share a fixture of the module (a grading run, a Dask cluster, a
# JupyterLab session whose state passes from test to test), or a costly session fixture only they
# use (test_browser's one visit of every page): with pytest-xdist (`make test`), each runs in one
# worker, in order; every other test goes to whichever worker is free.
SHARED_MODULES = {f"tests/test_{name}.py" for name in (
    "adversarial", "browser", "copying", "distributed", "grading", "lab_student", "report",
    "sandbox", "trusted_checks", "walkthroughs")}


def pytest_xdist_make_scheduler(config, log):
    from xdist.scheduler import LoadScopeScheduling

    class SharedModulesTogether(LoadScopeScheduling):
        def _split_scope(self, nodeid):
            module = nodeid.split("::", 1)[0]
            return module if module in SHARED_MODULES else nodeid
    return SharedModulesTogether(config, log)


def pytest_collection_modifyitems(session, config, items):
    """The book takes minutes to build (every chapter executes): when a selected test needs it,
    it builds in the background from the start, and the tests that need it run last. A module
    whose tests share a fixture of the module and is not in SHARED_MODULES is refused."""
    needs = [item for item in items if "book" in getattr(item, "fixturenames", ())]
    if needs:
        _start_book_build()
        items[:] = [i for i in items if i not in needs] + needs
    loose = sorted({item.nodeid.split("::", 1)[0] for item in items
                    if _uses_a_module_fixture(item)} - SHARED_MODULES)
    if loose:
        raise pytest.UsageError(f"{', '.join(loose)}: its tests share a fixture of the module; "
                                "add it to SHARED_MODULES in tests/conftest.py")


def _uses_a_module_fixture(item) -> bool:
    # pytest's own record of the fixtures an item uses (no public API gives their scopes)
    return any(d.scope in ("module", "class") for defs in item._fixtureinfo.name2fixturedefs.values()
               for d in defs)


@pytest.fixture(scope="session")
def book():
    """The book, built once per session with warnings as errors: the path of its HTML output."""
    _start_book_build()
    if "thread" in _BUILD:
        _BUILD["thread"].join()
    else:  # another worker builds it: its lock is released when the build is done
        fcntl.flock(_BUILD["lock"], fcntl.LOCK_EX)
        fcntl.flock(_BUILD["lock"], fcntl.LOCK_UN)
    record = _built_by_this_run()
    assert record, "the book's build of this session left no result"
    assert record["returncode"] == 0, record["log"]
    return HTML


def _shared(tmp_path_factory) -> Path:
    """A folder of this session that all its workers see."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@pytest.fixture(scope="session")
def graded_class(tmp_path_factory):
    """The example class (examples/submissions/: four students, every assignment) graded once
    per session with the README's command and two workers: the results folder, which the tests
    that only read a graded class share (never write into it, but beside it)."""
    folder = _shared(tmp_path_factory) / "graded-class"
    folder.mkdir(exist_ok=True)
    out, done = folder / "grades", folder / "done"
    with open(folder / "lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            shutil.rmtree(out, ignore_errors=True)
            proc = subprocess.run([sys.executable, "-m", "autograder", "grade", "--submissions",
                                   str(course.EXAMPLES), "--out", str(out), "--workers", "2"],
                                  cwd=course.REPO, capture_output=True, text=True, timeout=1200)
            assert proc.returncode == 0, proc.stdout + proc.stderr
            done.touch()
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
    own from sandbox.UID_BASE): found by the owner of /proc/<pid>, which costs a millisecond.
    Not those another pytest-xdist worker of the session started (their ancestors include the
    session's main process but not this worker), nor the kernels of a JupyterLab server that
    lives from test to test (`lab.SERVERS`); an orphan counts for every worker. Not a
    zombie either: it has exited, and only waits for a parent to collect it (a container whose
    first process collects no orphan keeps such an entry for good)."""
    from autograder.isolation import sandbox
    found = set()
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid >= sandbox.UID_BASE and not _exited(int(entry.name)) \
                        and not _owned_elsewhere(int(entry.name)):
                    found.add(int(entry.name))
            except OSError:
                continue
    return found


def _stat(pid: int) -> list[str]:
    """The fields of /proc/<pid>/stat after the command's name: state, parent's pid, ..."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def _exited(pid: int) -> bool:
    return _stat(pid)[0] in ("Z", "X")


def _owned_elsewhere(pid: int) -> bool:
    from tests import lab
    worker = bool(os.environ.get("PYTEST_XDIST_WORKER"))
    me, main = os.getpid(), os.getppid()
    while pid > 1:
        if pid in lab.SERVERS:
            return True
        if pid == me:
            return False
        if pid == main and worker:
            return True
        try:
            pid = int(_stat(pid)[1])
        except OSError:
            return False
    return False


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
