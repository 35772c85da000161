"""The sandbox (autograder/sandbox.py) against a mischievous student: attack notebooks graded
beside honest classmates, in one run. Each attack gains nothing (an otherwise empty notebook
stays at 0 points), harms no classmate (their rows are exactly those of a run without the
attackers), leaves no process and no file outside the run, and is named in the report where
the sandbox saw it. Plus the sandbox's limits, one by one, on single kernels."""
import csv
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from nbclient.exceptions import DeadKernelError

from autograder import course, notebooks
from autograder.isolation import sandbox
from tests.adversarial import _released
from tests.test_adversarial import survivors

A = "logits"
HONEST = ("alice-correct", "bob-one-bug", "carol-untouched")
SECRET = "instructor-secret-7f3a9c"
DAEMON_DELAY = 4  # seconds the daemon waits before it strikes (after the run has ended)

# name -> (the code of the attacker's `predict` solution cell, what the report must say of it
# or None where the sandbox cannot see it: a path it cannot see is just not there)
ATTACKS = {
    "gradebook": ("""
import sqlite3
db = sqlite3.connect("file:{course}/gradebook.db?mode=rw", uri=True)
db.execute("UPDATE grade SET auto_score = 0")
db.commit()
""", "reached for a path outside the sandbox (OperationalError"),
    "daemon": ("""
import os, time
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        time.sleep({delay})
        for path in ["{out}/grades.csv", "/tmp/{marker}-daemon"]:
            try:
                open(path, "w").write("hacked")
            except OSError:
                pass
        os._exit(0)
    os._exit(0)
os.wait()
open("/tmp/{marker}-tmp", "w").write("a file in the sandbox's private /tmp")
""", "left 1 process"),
    "classmates-kernels": ("""
import glob, json, os
from jupyter_client import BlockingKernelClient
import ipykernel
mine = os.path.realpath(ipykernel.get_connection_file())
found = [f for f in glob.glob("{course}/kernels/*/connection.json")
         + glob.glob("/tmp/**/*.json", recursive=True)
         + glob.glob("/root/.local/share/jupyter/runtime/*.json")
         if os.path.realpath(f) != mine]
print("other kernels:", len(found))
for f in found:
    client = BlockingKernelClient(connection_file=f)
    client.load_connection_file()
    client.start_channels()
    client.execute("open('/tmp/{marker}-zmq', 'w').write('x')")
""", None),
    "edits-checks": ("""
open("{repo}/autograder/checks/logits.py", "a").write("\\nraise SystemExit\\n")
""", "reached for a path outside the sandbox (FileNotFoundError"),
    "kills": ("""
import os, signal
for pid in [int(p) for p in os.listdir("/proc") if p.isdigit()]:
    if pid != os.getpid():
        os.kill(pid, signal.SIGSTOP)
os.kill(0, signal.SIGSTOP)
os.kill(-1, signal.SIGKILL)
os.kill({test_pid}, signal.SIGSTOP)
""", "timeout"),  # kill(0, SIGSTOP) stops the kernel itself: the cell times out
    "symlinks": ("""
import os
for name in ["logits.ipynb", "logits.html", "grades.csv"]:
    if os.path.lexists(name):
        os.remove(name)
    os.symlink("{out}/grades.csv", name)
os.symlink("{course}/gradebook.db", "/tmp/db")
open("/tmp/db", "w").write("corrupt")
""", "tried what the sandbox refused (PermissionError"),
    "fork-bomb": ("""
import os, time
for i in range(1000):
    if os.fork() == 0:
        time.sleep(1000)
        os._exit(0)
""", "reached the sandbox's limit of 64 processes"),
    "background": ("""
import subprocess
subprocess.Popen(["sleep", "1000"])
""", "left 1 process"),
    "reads": ("""
import os
seen = {{}}
for path in ["{repo}/autograder/checks/logits.py", "{repo}/autograder/checks/_common.py",
             "{repo}/solutions/logits/logits.ipynb", "{course}/gradebook.db",
             "{course}/submitted/alice-correct/logits/logits.ipynb", "/etc/shadow"]:
    try:
        seen[path] = open(path, "rb").read(100)
    except OSError as err:
        seen[path] = type(err).__name__
print(seen)
print(dict(os.environ))
open("/etc/shadow").read()
""", "tried what the sandbox refused (PermissionError"),
    "network": ("""
import socket
socket.create_connection(("127.0.0.1", {port}), timeout=3).sendall(b"grades, please")
""", "tried what the sandbox refused (OSError"),
    "disk": ("""
with open("big.bin", "wb") as f:
    for i in range(300):
        f.write(b"x" * 2**20)
""", "reached the sandbox's limit of files of 64 MiB"),
    "floods-and-scripts": ("""
from IPython.display import HTML, Javascript, display
display(HTML('<script>window.pwned = 1</script><img src=x onerror="window.pwned = 2">'))
display(Javascript("window.pwned = 3"))
display({{"application/json": {{"k": "x" * 30_000_000}}}}, raw=True)
for i in range(3000):
    display(i)
raise ValueError("y" * 30_000_000)
""", "output cut"),
}


def attacker(name: str) -> str:
    return f"x-{name}"


class Listener:
    """A TCP server on 127.0.0.1 (standing in for the internet) that counts connections."""

    def __init__(self):
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.connections = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            self.connections += 1
            conn.close()


def run_grader(subs: Path, out: Path, *extra) -> dict:
    env = dict(os.environ, INSTRUCTOR_API_TOKEN=SECRET)
    proc = subprocess.run([sys.executable, "-m", "autograder", "grade", "--submissions",
                           str(subs), "--out", str(out), "--assignment", A, "--cell-timeout",
                           "10", "--timeout", "120", *extra],
                          cwd=course.REPO, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    with open(out / "grades.csv") as f:
        return {row["student"]: row for row in csv.DictReader(f)}


def copy_honest(subs: Path) -> None:
    for student in HONEST:
        shutil.copytree(course.EXAMPLES / student / A, subs / student / A)


@pytest.fixture(scope="module")
def attacked(tmp_path_factory, graded_class):
    root = tmp_path_factory.mktemp("sandbox")
    marker = f"autograder-attack-{os.getpid()}"
    listener = Listener()
    # The honest students as the session's class run graded them, without attackers.
    with open(graded_class / "grades.csv") as f:
        baseline = {row["student"]: row for row in csv.DictReader(f)
                    if row["assignment"] == A and row["student"] in HONEST}

    subs, out = root / "subs", root / "out"
    copy_honest(subs)
    values = dict(course=out / "course", out=out, repo=course.REPO, marker=marker,
                  port=listener.port, delay=DAEMON_DELAY, test_pid=os.getpid())
    for name, (code, _) in ATTACKS.items():
        nb = notebooks.fill(_released(), {"predict": code.strip().format(**values)})
        path = subs / attacker(name) / A / f"{A}.ipynb"
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps(nb))
    # A submission folder with links in it: they are never copied, so never followed.
    (subs / attacker("symlinks") / A / "data.csv").symlink_to(out / "course" / "gradebook.db")
    (subs / attacker("symlinks") / A / "feedback").symlink_to(out)
    # A notebook that is a link to a classmate's: not graded.
    (subs / attacker("linked-notebook") / A).mkdir(parents=True)
    (subs / attacker("linked-notebook") / A / f"{A}.ipynb").symlink_to(
        subs / "alice-correct" / A / f"{A}.ipynb")
    started = time.monotonic()
    rows = run_grader(subs, out)
    seconds = time.monotonic() - started
    time.sleep(max(0.0, DAEMON_DELAY + 1 - seconds))  # the daemon's time has come
    return dict(baseline=baseline, rows=rows, out=out, marker=marker, listener=listener,
                grades_after=(out / "grades.csv").read_text())


def test_honest_classmates_grades_are_exactly_those_of_a_run_without_attackers(attacked):
    for student in HONEST:
        row = attacked["rows"][student]
        alone = attacked["baseline"][student]
        assert row == {column: alone.get(column, "") for column in row}, student


@pytest.mark.parametrize("name", list(ATTACKS))
def test_each_attack_gains_nothing_and_is_named_where_seen(attacked, name):
    row = attacked["rows"][attacker(name)]
    assert float(row["total"]) == 0, row
    expected = ATTACKS[name][1]
    if expected:
        assert expected in row["notes"], row
    assert attacker(name) in (attacked["out"] / "report.html").read_text()


def test_nothing_outlives_the_run_and_nothing_is_written_outside_it(attacked):
    out, marker = attacked["out"], attacked["marker"]
    assert not survivors(out)  # the kernels' folders are there, in their sandboxes' view
    for suffix in ("daemon", "tmp", "zmq", "pth"):
        assert not Path(f"/tmp/{marker}-{suffix}").exists(), suffix
    import sysconfig
    assert not Path(sysconfig.get_paths()["purelib"], f"{marker}.pth").exists()
    assert "hacked" not in (out / "grades.csv").read_text()
    assert (out / "grades.csv").read_text() == attacked["grades_after"]
    assert "raise SystemExit" not in (course.COURSE_ROOT / "checks" / "logits.py").read_text()
    assert not list((out / "course" / "kernels").iterdir())  # every kernel's folder is gone


def test_no_network_no_secrets_no_hidden_files(attacked):
    out = attacked["out"]
    assert attacked["listener"].connections == 0
    graded = (out / "course" / "autograded" / attacker("reads") / A / f"{A}.ipynb").read_text()
    assert SECRET not in graded
    assert "def check_" not in graded and "BEGIN SOLUTION" not in graded
    # Each path the probe tried (the checks, the solutions, the gradebook, a classmate's
    # notebook) is not there at all: the probe ran, and found nothing of the run.
    for path in ("autograder/checks/logits.py", "autograder/checks/_common.py",
                 "solutions/logits/logits.ipynb", "gradebook.db",
                 "submitted/alice-correct/logits/logits.ipynb"):
        assert re.search(re.escape(path) + r"': 'FileNotFoundError'", graded), path
    kernels = (out / "course" / "autograded" / attacker("classmates-kernels") / A
               / f"{A}.ipynb").read_text()
    assert "other kernels: 0" in kernels


def test_links_in_a_submission_are_not_followed(attacked):
    out = attacked["out"]
    linked = attacked["rows"][attacker("linked-notebook")]
    assert linked["status"] == "not graded" and "is a link" in linked["notes"], linked
    folder = out / "course" / "submitted" / attacker("symlinks") / A
    assert not any(p.is_symlink() for p in folder.rglob("*"))
    assert not any(p.is_symlink() for p in (out / "feedback").rglob("*"))
    assert not (out / "grades.csv").is_symlink()


def test_outputs_are_bounded_and_inert(attacked):
    out = attacked["out"]
    graded = out / "course" / "autograded" / attacker("floods-and-scripts") / A / f"{A}.ipynb"
    assert graded.stat().st_size < 6_000_000
    cell = next(c for c in json.loads(graded.read_text())["cells"]
                if c["metadata"].get("nbgrader", {}).get("grade_id") == "predict")
    assert len(cell["outputs"]) <= 100 + 2, len(cell["outputs"])  # 3000 displays, cut to 100
    page = out / "feedback" / attacker("floods-and-scripts") / A / f"{A}.html"
    if page.exists():
        html = page.read_text()
        assert len(html) < 8_000_000
        assert not re.search(r"<script[^>]*>[^<]*pwned", html)  # no live script of the student's
        assert not re.search(r"<img[^>]*onerror", html)          # no live event handler


def test_the_command_refuses_without_a_sandbox_and_says_how(tmp_path, monkeypatch):
    """Where namespaces cannot be made, `grade` exits with a message naming the way out; with
    --no-sandbox it grades, and says so on every row."""
    from autograder.isolation.forkkernel import SandboxUnavailable
    from autograder.run import command as grade
    monkeypatch.setattr(sandbox, "check", lambda: "unshare: Operation not permitted")
    with pytest.raises(SandboxUnavailable, match="--no-sandbox"):
        grade.grade(tmp_path / "none", tmp_path / "out", [A], log=lambda *a: None)
    subs = tmp_path / "subs"
    shutil.copytree(course.EXAMPLES / "alice-correct" / A, subs / "alice-correct" / A)
    rows = run_grader(subs, tmp_path / "out2", "--no-sandbox")
    assert grade.UNSANDBOXED in rows["alice-correct"]["notes"]
    assert "without the sandbox" in (tmp_path / "out2" / "report.html").read_text()
    assert "(no sandbox)" in (tmp_path / "out2" / "report.html").read_text()


# --- The limits, on single kernels ----------------------------------------------------------
@pytest.fixture
def limited(monkeypatch, tmp_path):
    """Kernels forked from a template, in sandboxes with small limits."""
    from jupyter_client.provisioning.factory import KernelProvisionerFactory

    from autograder.isolation import forkkernel
    limits = sandbox.Limits(memory=2 * 2 ** 30, processes=32, cpu=2, file_size=2 ** 20,
                            disk=4 * 2 ** 20, open_files=64)
    monkeypatch.setenv(sandbox.ENV, sandbox.setting(limits))
    monkeypatch.setenv(sandbox.KERNELS, str(tmp_path / "kernels"))
    forkkernel.use(["numpy"])
    monkeypatch.setattr(KernelProvisionerFactory.instance(), "default_provisioner_name",
                        forkkernel.NAME)
    return limits


def test_each_limit_stops_what_goes_past_it(limited, tmp_path):
    from tests.test_forkkernel import execute
    (tmp_path / "work").mkdir()
    out = execute("import os\nprint(os.getuid() >= 1_000_000_000 or os.getuid() == os.geteuid(),"
                  " os.getpid())",
                  "fs = [open('/dev/null') for _ in range(100)]",
                  "open('f', 'wb').write(b'x' * 2**21)",
                  "open('/tmp/f1', 'wb').write(b'x' * 2**19)\n"
                  "[open(f'/tmp/g{i}', 'wb').write(b'x' * 2**19) for i in range(20)]",
                  "import threading, time\n"
                  "[threading.Thread(target=time.sleep, args=(5,)).start() for _ in range(64)]",
                  "b = bytearray(3 * 2**30)",
                  cwd=tmp_path / "work", timeout=20, allow_errors=True)
    assert out[0] == ["True 2"]  # its own uid; process 2 of its PID namespace, after init
    assert out[1] == ["OSError"]             # [Errno 24] Too many open files
    assert out[2] == ["OSError"]             # [Errno 27] File too large
    assert out[3] == ["OSError"]             # [Errno 28] No space left on device
    assert out[4] == ["RuntimeError"]        # can't start new thread
    assert out[5] == ["MemoryError"]
    assert not (tmp_path / "work" / "f").exists()  # the scratch folder was a copy


def test_a_kernel_past_its_cpu_time_is_stopped(limited, tmp_path):
    from nbclient.exceptions import DeadKernelError

    from autograder.isolation import forkkernel
    from tests.test_forkkernel import execute
    with pytest.raises(DeadKernelError):
        execute("while True:\n    pass", cwd=tmp_path, timeout=20)
    assert sandbox.limit_reached(sandbox.CPU_EXIT) == "the sandbox's CPU-time limit (2 s)"
    assert forkkernel.ENDINGS[str(tmp_path)] == "the sandbox's CPU-time limit (2 s)"


def test_of_the_repository_a_kernel_sees_only_the_channels_end(limited, tmp_path):
    """The checks, solutions and catalogs are not in a kernel's view; the four files of the
    channel's kernel end are (the positive control: a walk that sees nothing proves nothing)."""
    from tests.test_forkkernel import execute
    (tmp_path / "w").mkdir()
    out = execute("import os\nseen = []\n"
                  f"for folder, dirs, names in os.walk({str(course.REPO)!r}):\n"
                  "    dirs[:] = [d for d in dirs if d != '.venv']\n"
                  f"    seen += [os.path.relpath(os.path.join(folder, n), {str(course.REPO)!r})"
                  " for n in names]\n"
                  "print(sorted(seen))",
                  cwd=tmp_path / "w")
    assert out == [[str(["autograder/__init__.py", "autograder/trusted/__init__.py",
                         "autograder/trusted/kernel_agent.py", "autograder/trusted/wire.py"])]]


def test_two_kernels_share_nothing(limited, tmp_path):
    from tests.test_forkkernel import execute
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    probe = ("import os\nopen('mine', 'w').write('x')\nopen('/tmp/mine', 'w').write('x')\n"
             "print(sorted(os.listdir('.')), sorted(os.listdir('/tmp')), os.getpid(), "
             "sorted(p for p in os.listdir('/proc') if p.isdigit()))")
    # /tmp shows where the kernel's own folder is mounted (autograder-k<random>), if it is there
    own = re.compile(r"autograder-k\w+")
    first = own.sub("autograder-k*", str(execute(probe, cwd=tmp_path / "a")))
    second = own.sub("autograder-k*", str(execute(probe, cwd=tmp_path / "b")))
    assert first == second  # each its own folder, /tmp and PID namespace (in which it is 1)
    assert first.startswith("[[\"['mine'] [") and first.endswith(" 2 ['1', '2']\"]]")


def test_the_user_namespace_variant_isolates_the_same_way(limited, tmp_path, monkeypatch):
    """Without root, the sandbox is built inside a user namespace (here forced, as root)."""
    from tests.test_forkkernel import execute
    monkeypatch.setenv("AUTOGRADER_SANDBOX_USERNS", "1")
    (tmp_path / "a").mkdir()
    out = execute("import os, socket\nopen('mine', 'w').write('x')\n"
                  "print(sorted(os.listdir('.')), os.getpid(), os.path.exists("
                  f"{str(course.REPO / 'autograder' / 'checks')!r}))",
                  "socket.create_connection(('127.0.0.1', 22), timeout=1)",
                  "open('/usr/x', 'w')",
                  cwd=tmp_path / "a", allow_errors=True)
    assert out == [["['mine'] 2 False"], ["OSError"], ["OSError"]]
    assert not (tmp_path / "a" / "mine").exists()


def test_memory_that_no_process_maps_counts_too(limited, tmp_path, monkeypatch):
    """Pages written to memfds and never mapped are in no process's address space (RLIMIT_AS
    does not see them, RLIMIT_FSIZE only bounds each file): the sandbox's memory cgroup counts
    them, so 256 MiB of them fit in a 1.5 GiB limit and 3 GiB do not (the kernel is stopped,
    or its writes refused), instead of filling the machine. This machine lets the grader make
    the cgroup."""
    from autograder.isolation import cgroup
    from tests.test_forkkernel import execute
    assert cgroup.available() == "", cgroup.available()
    limits = sandbox.Limits(memory=3 * 2 ** 29, file_size=64 * 2 ** 20, open_files=256)
    monkeypatch.setenv(sandbox.ENV, sandbox.setting(limits))

    def hoard(mib):
        return ("import os\nheld = []\nchunk = b'x' * 2**24\n"
                f"for i in range({mib} // 16):\n"
                "    held.append(os.memfd_create(f'm{i}'))\n"
                "    os.write(held[-1], chunk)\n"
                "print('held', 16 * len(held), 'MiB')")
    assert execute(hoard(256), cwd=tmp_path, timeout=60) == [["held 256 MiB"]]
    try:
        out = execute(hoard(3072), cwd=tmp_path, timeout=60, allow_errors=True)
    except DeadKernelError:
        out = [["the kernel was stopped"]]
    assert out != [["held 3072 MiB"]], out
    cgroup.remove(sandbox.CGROUPS)  # what the kernels' own clean-up could not take yet
    from tests.conftest import _owned_elsewhere

    def ours(folder):  # not a cgroup of the kernels another worker's tests run meanwhile
        procs = [int(p) for p in (folder / "cgroup.procs").read_text().split()]
        return not procs or not all(_owned_elsewhere(p) for p in procs)
    leftovers = [p.name for p in cgroup._own()[0].glob(f"{sandbox.CGROUPS}*") if ours(p)]
    assert not leftovers, leftovers  # each sandbox's cgroup goes with it


def test_a_sandbox_goes_with_its_keeper(limited, tmp_path):
    """If the process that keeps a sandbox is killed (its worker killed, the machine out of
    memory), every process inside goes too: the kernel and what the kernel started."""
    from jupyter_client.manager import KernelManager

    from tests.conftest import _stat
    km = KernelManager(kernel_name="python3")
    km.start_kernel(cwd=str(tmp_path))
    client = km.client()
    client.start_channels()

    def alive(pids):
        return {p for p in pids if os.path.exists(f"/proc/{p}") and _stat(p)[0] not in "ZX"}
    try:
        client.wait_for_ready(timeout=30)
        client.execute_interactive("import os, time\nif os.fork() == 0:\n    time.sleep(1000)",
                                   timeout=30)
        keeper = km.provisioner.pid
        family = _family(keeper)  # the sandbox's process 1, the kernel, the kernel's child
        assert len(family) == 4, family
        os.kill(keeper, 9)
        deadline = time.monotonic() + 10
        while (left := alive(family)) and time.monotonic() < deadline:
            time.sleep(0.1)
        for pid in left:  # for the next tests' sake
            os.kill(pid, 9)
        assert not left, f"{len(left)} process(es) of the sandbox outlived its keeper"
    finally:
        client.stop_channels()
        km.shutdown_kernel(now=True)


def _family(pid: int) -> set[int]:
    """`pid` and every process descended from it."""
    import psutil
    try:
        root = psutil.Process(pid)
        return {pid} | {p.pid for p in root.children(recursive=True)}
    except psutil.NoSuchProcess:
        return set()


def _uid(pid: int) -> int:
    import psutil
    try:
        return psutil.Process(pid).uids().real
    except psutil.NoSuchProcess:
        return -1


def test_a_killed_command_leaves_no_process_behind(tmp_path):
    """An instructor's Ctrl-C, a closed terminal or `kill -9` on `python -m autograder grade`
    in the middle of a run: its workers, their kernels' template, the keepers and the sandboxes
    go with it (nothing keeps running, or holds a cgroup, once the command is gone)."""
    import psutil
    nb = notebooks.fill(_released(), {"predict": "import time\ntime.sleep(1000)"})
    path = tmp_path / "subs" / "sleeper" / A / f"{A}.ipynb"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(nb))
    proc = subprocess.Popen([sys.executable, "-m", "autograder", "grade", "--submissions",
                             str(tmp_path / "subs"), "--out", str(tmp_path / "out"),
                             "--assignment", A, "--workers", "1"], cwd=course.REPO,
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while not any(_uid(p) >= sandbox.UID_BASE for p in _family(proc.pid)):
            assert time.monotonic() < deadline and proc.poll() is None, "no kernel started"
            time.sleep(0.2)
        family = _family(proc.pid)
    finally:
        proc.kill()
        proc.wait()
    deadline = time.monotonic() + 10
    while (left := {p for p in family if psutil.pid_exists(p)
                    and psutil.Process(p).status() != psutil.STATUS_ZOMBIE}) \
            and time.monotonic() < deadline:
        time.sleep(0.2)
    named = [" ".join(psutil.Process(p).cmdline())[:80] for p in left]
    for pid in left:  # for the next tests' sake
        os.kill(pid, 9)
    assert not left, named
