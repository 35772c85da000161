"""The sandbox every kernel that runs student code runs in (Linux namespaces, entered directly).

A graded kernel is forked from a warm template (forkkernel.py). Before it runs a line of the
student's code, the forked process enters a sandbox of its own, as bubblewrap would build one,
but without an `exec` (so the template's imports stay warm):

- a new PID namespace, whose process 1 starts the kernel and reaps orphans: when the kernel goes,
  process 1 exits and the kernel of Linux kills every process the notebook started (daemons, fork
  bombs); a "keeper" process outside, the one its worker knows, forwards interrupts and reports
  how the kernel ended;
- new network, IPC and UTS namespaces: no network at all (not even the host's 127.0.0.1), no
  System V IPC or abstract Unix sockets shared with anyone;
- a new mount namespace whose root is an empty, read-only tmpfs into which only this is bound:
  the system (/usr, /etc, ...), the Python installation and the venv, read-only; the kernel's
  own folder of ZeroMQ sockets and connection file (and the issue-14 channel's folder), read-write;
  the notebook's folder, as a fresh size-limited tmpfs holding a copy of the submission's files
  (the only writable place besides a private /tmp); a private /dev and /proc. Of the repository,
  only `autograder/__init__.py` and `autograder/kernel_agent.py` are there: the hidden checks'
  sources, solutions/, the gradebook, other submissions, feedback and logs are not;
- an unprivileged uid of its own (as root: uid UID_BASE + the keeper's pid, so no two live
  kernels share one; without root: the caller's uid in a user namespace, with no capabilities),
  no_new_privs, and resource limits (Limits): memory, processes, CPU time, file size, disk, open
  files.

Needs root or unprivileged user namespaces. `check()` says whether it works here.
"""
from __future__ import annotations

import ctypes
import json
import os
import platform
import resource
import shutil
import signal
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from ..course import NOTEBOOK_TIMEOUT

ENV = "AUTOGRADER_SANDBOX"        # in a worker: "off", or the Limits as JSON (default: on)
KERNELS = "AUTOGRADER_KERNELS"    # where the per-kernel folders go (default: a temporary folder)
REPO = Path(__file__).resolve().parents[2]  # the checkout (autograder/isolation/ is two below)
# The only files of the repository a kernel can see (the checks' sources are not among them):
# the kernel's end of the trusted checker's channel (autograder/trusted/).
KERNEL_FILES = ("autograder/__init__.py", "autograder/trusted/__init__.py",
                "autograder/trusted/kernel_agent.py", "autograder/trusted/wire.py")
UID_BASE = 1_000_000_000          # as root, a kernel runs as UID_BASE + its keeper's pid
OOM_KERNEL, OOM_WORKER = 1000, 500  # /proc/<pid>/oom_score_adj: who the OOM killer takes first
CPU_EXIT = 152                    # a keeper's exit code when its kernel used up its CPU time
# What a kernel's environment keeps of its worker's (the rest may hold the instructor's secrets).
ENV_KEEP = ("PATH", "PYTHONPATH", "LANG", "LANGUAGE", "TZ", "PYTHONHASHSEED", "MPLBACKEND",
            "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
            "LOGITS_COURSE_ID",  # the student's own course id (variants.ID_ENV), set per kernel
            "PYDEVD_DISABLE_FILE_VALIDATION")  # debugpy's warning at start-up, in every log
ENV_KEEP_PREFIXES = ("LC_", "JPY_", "AUTOGRADER_")


@dataclass
class Limits:
    memory: int = 4 * 2 ** 30      # bytes of address space, per process (RLIMIT_AS)
    processes: int = 64            # processes and threads of the kernel's uid (RLIMIT_NPROC)
    cpu: int = NOTEBOOK_TIMEOUT    # CPU seconds per process (RLIMIT_CPU)
    file_size: int = 64 * 2 ** 20  # bytes, the largest file it may write (RLIMIT_FSIZE)
    disk: int = 128 * 2 ** 20      # bytes, of the scratch folder and of /tmp, each
    open_files: int = 256          # RLIMIT_NOFILE

    def to_json(self) -> str:
        """The one serialised form: in a worker's environment (`ENV`), to a forked kernel, to a
        Dask worker."""
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "Limits":
        return cls(**json.loads(text))

    def describe(self) -> str:
        return (f"memory {self.memory / 2 ** 30:g} GiB per process, {self.processes} processes, "
                f"{self.cpu} s of CPU per process, files up to {self.file_size / 2 ** 20:g} MiB, "
                f"{self.disk / 2 ** 20:g} MiB of disk, {self.open_files} open files")


def configured() -> Limits | None:
    """The sandbox's limits in this process (a worker), or None when it is turned off."""
    value = os.environ.get(ENV, "")
    if value == "off":
        return None
    return Limits.from_json(value) if value else Limits()


def setting(limits: Limits | None) -> str:
    """The value of AUTOGRADER_SANDBOX that configures these limits (None: no sandbox)."""
    return "off" if limits is None else limits.to_json()


# --- Linux system calls through libc ----------------------------------------------------------
CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = 0x10000000, 0x20000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
MS_NOATIME, MS_NODIRATIME, MS_RELATIME = 1024, 2048, 1 << 21
MNT_DETACH = 2
PR_SET_PDEATHSIG, PR_SET_NO_NEW_PRIVS = 1, 38
SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41}.get(platform.machine(), 155)
_libc = ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result < 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _b(s):
    return None if s is None else os.fsencode(s)


def _mount(source, target, fstype=None, flags=0, data=None) -> None:
    _check(_libc.mount(_b(source), _b(target), _b(fstype), ctypes.c_ulong(flags), _b(data)),
           f"mount {target}")


def _unshare(flags: int) -> None:
    _check(_libc.unshare(ctypes.c_int(flags)), "unshare")


def _prctl(option: int, value: int) -> None:
    _check(_libc.prctl(option, ctypes.c_ulong(value), 0, 0, 0), "prctl")


def _drop_capabilities() -> None:
    """capset(2) with empty sets (in a user namespace, where setuid would not drop them)."""
    header = (ctypes.c_uint32 * 2)(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3, this thread
    data = (ctypes.c_uint32 * 6)()
    _check(_libc.capset(header, data), "capset")


def _locked_flags(path: str) -> int:
    """The mount flags of `path` that a remount must keep (they may be locked)."""
    f = os.statvfs(path).f_flag
    return ((MS_NOSUID if f & os.ST_NOSUID else 0) | (MS_NODEV if f & os.ST_NODEV else 0)
            | (MS_NOEXEC if f & os.ST_NOEXEC else 0) | (MS_NOATIME if f & os.ST_NOATIME else 0)
            | (MS_NODIRATIME if f & os.ST_NODIRATIME else 0)
            | (MS_RELATIME if f & getattr(os, "ST_RELATIME", 4096) else 0))


# --- The keeper and the kernel's process ------------------------------------------------------
def use_user_namespace() -> bool:
    """Root builds the sandbox with real uids; anyone else inside a user namespace."""
    return os.geteuid() != 0 or os.environ.get("AUTOGRADER_SANDBOX_USERNS") == "1"


CGROUPS = "autograder-k"  # a sandbox's memory cgroup: autograder-k<its keeper's pid>


def cgroup_name(keeper_pid: int) -> str:
    return f"{CGROUPS}{keeper_pid}"


def enter_keeper(limits: Limits) -> None:
    """In the keeper (the forked process the worker knows): a memory cgroup of its own where
    the machine allows one (cgroup.py: every page of the sandbox counts, memfds included); new
    PID, network, IPC and UTS namespaces (and a user namespace when not root); its next child
    is the sandbox's process 1."""
    from . import cgroup
    cgroup.confine(cgroup_name(os.getpid()), limits.memory)
    # When memory runs out, the machine's OOM killer takes a sandbox's processes (they inherit
    # this) before a grader's worker (OOM_WORKER) and long before the supervisor.
    Path("/proc/self/oom_score_adj").write_text(str(OOM_KERNEL))
    userns = use_user_namespace()
    uid, gid = os.geteuid(), os.getegid()
    _unshare(CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS
             | (CLONE_NEWUSER if userns else 0))
    if userns:
        Path("/proc/self/setgroups").write_text("deny")
        Path("/proc/self/uid_map").write_text(f"{uid} {uid} 1")
        Path("/proc/self/gid_map").write_text(f"{gid} {gid} 1")


def kernel_uid(keeper_pid: int) -> int:
    return os.geteuid() if use_user_namespace() else UID_BASE + keeper_pid


def hand_over(folder: str, uid: int) -> None:
    """In the keeper, as root: the kernel's uid owns its socket folder and connection file (the
    worker takes the folder back once the kernel listens). The issue-14 channel's socket is the
    checker's to open to others (it is world-writable in a folder the kernel can only enter)."""
    if os.geteuid() != 0 or uid == os.geteuid():
        return
    for path in [folder, *(os.path.join(folder, n) for n in os.listdir(folder))]:
        os.chown(path, uid, uid, follow_symlinks=False)


def kernel_env(env: dict) -> dict:
    """The kernel's environment: what it needs of the worker's, and a home in its private /tmp."""
    kept = {k: v for k, v in env.items()
            if (k in ENV_KEEP or k.startswith(ENV_KEEP_PREFIXES)) and k != ENV}
    # Its uid has no name in /etc/passwd: getpass.getuser() reads these first.
    return {**kept, "HOME": "/tmp", "TMPDIR": "/tmp", "MPLCONFIGDIR": "/tmp/matplotlib",
            "USER": "student", "LOGNAME": "student",
            "IPYTHONDIR": "/tmp/.ipython", "JUPYTER_RUNTIME_DIR": "/tmp/jupyter"}


def _bound_prefixes() -> list[str]:
    """The folders bound read-only: the system, Python and the venv (what sys.path needs)."""
    repo, venv = str(REPO), os.path.realpath(sys.prefix)
    wanted = ["/usr", "/etc", sys.base_prefix, sys.prefix, os.path.realpath(sys.base_prefix),
              venv, os.path.dirname(os.path.realpath(sys.executable))]
    for entry in sys.path:  # site-packages outside the venv, e.g. a user's
        real = os.path.realpath(entry) if entry else ""
        if real.startswith(repo + "/") and not real.startswith(venv + "/"):
            continue  # of the repository itself, only KERNEL_FILES
        wanted.append(real)
    chosen: list[str] = []
    for path in sorted({os.path.normpath(p) for p in wanted if p and os.path.isdir(p)}):
        if path == "/" or path == repo or repo.startswith(path + "/"):
            continue  # never the repository as a whole, nor a folder above it
        if not any(path.startswith(c + "/") for c in chosen):
            chosen.append(path)
    return chosen


def _populate(src: str, dst: str, uid: int, budget: int, skip: str) -> None:
    """Copy the regular files and folders under src to dst (files.walk_regular: never a link, a
    device, a socket, nor the folder `skip`), owned by uid, as far as `budget` bytes last."""
    from ..files import copy_file, walk_regular
    for path, rel, is_dir, size in walk_regular(src, skip=skip):
        target = os.path.join(dst, rel)
        try:
            if is_dir:
                os.mkdir(target, 0o700)
            elif size <= budget:
                copy_file(path, target)
                budget -= size
            else:
                continue
            os.chown(target, uid, uid, follow_symlinks=False)
        except OSError:  # unreadable, or the scratch folder is full: what fits is there
            continue


def enter_kernel(folder: str, cwd: str | None, limits: Limits, uid: int, keeper_alive: int,
                 keep_fds=(), env: dict | None = None) -> None:
    """In the sandbox's process 1, still privileged: build its filesystem view, set its limits
    and drop every privilege. `folder` holds the kernel's sockets and connection file; `env` is
    the kernel's environment (the folder of its AUTOGRADER_CHANNEL socket is bound too);
    `keeper_alive` is the read end of a pipe whose write end only the keeper holds."""
    import select
    os.setsid()  # out of its worker's process group: kill(0, ...) reaches only the sandbox
    userns = use_user_namespace()
    _unshare(CLONE_NEWNS)
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    root = os.path.join(folder, "root")
    os.makedirs(root, exist_ok=True)
    _mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "size=4m,mode=755")

    def inside(path: str) -> str:
        return root + os.path.normpath(path)

    def bind(src: str, writable: bool = False, device: bool = False) -> None:
        target = inside(src)
        if os.path.isdir(src):
            os.makedirs(target, exist_ok=True)
        else:
            os.makedirs(os.path.dirname(target), exist_ok=True)
            open(target, "a").close()
        # Read-only system folders with what is mounted below them; writable folders alone.
        _mount(src, target, None, MS_BIND | (0 if writable else MS_REC))
        flags = MS_BIND | MS_REMOUNT | MS_NOSUID | _locked_flags(src) | (0 if device else MS_NODEV)
        _mount(None, target, None, flags | (0 if writable else MS_RDONLY))

    owner = f",uid={uid},gid={uid}" if not userns else ""

    def tmpfs(path: str, options: str, flags: int = MS_NOSUID | MS_NODEV) -> None:
        os.makedirs(inside(path), exist_ok=True)
        _mount("tmpfs", inside(path), "tmpfs", flags, options)

    def dev(_):
        tmpfs("/dev", "size=64k,mode=755", MS_NOSUID | MS_NOEXEC)
        for name in ("null", "zero", "full", "random", "urandom"):
            bind(f"/dev/{name}", writable=True, device=True)
        for name, target in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"),
                             ("stdout", "/proc/self/fd/1"), ("stderr", "/proc/self/fd/2")):
            os.symlink(target, inside(f"/dev/{name}"))

    def scratch(path):
        tmpfs(path, f"size={limits.disk},mode=700{owner}")
        if os.path.isdir(path):
            _populate(path, inside(path), uid, limits.disk // 2, folder)

    def proc(_):
        os.makedirs(inside("/proc"))
        _mount("proc", inside("/proc"), "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)

    for path in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(path):
            os.symlink(os.readlink(path), inside(path))
    plan = [(path, bind) for path in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
            if os.path.isdir(path) and not os.path.islink(path)]
    plan += [(path, bind) for path in _bound_prefixes()]
    plan += [(str(REPO / name), bind) for name in KERNEL_FILES if (REPO / name).is_file()]
    plan += [(folder, lambda p: bind(p, writable=True)), ("/dev", dev), ("/proc", proc),
             ("/dev/shm", lambda p: tmpfs(p, f"size={limits.disk},mode=1777")),
             ("/tmp", lambda p: tmpfs(p, f"size={limits.disk},mode=1777"))]
    from ..trusted.wire import ENV as CHANNEL
    channel = (env or {}).get(CHANNEL)
    if channel and os.path.isdir(os.path.dirname(channel)):
        plan.append((os.path.dirname(channel), lambda p: bind(p, writable=True)))
    if cwd:
        plan.append((cwd, scratch))
    # Outer folders first, so that nothing mounted later hides what is mounted inside it.
    for path, step in sorted(plan, key=lambda item: os.path.normpath(item[0]).count("/")):
        step(os.path.normpath(path))
    os.makedirs(inside(str(REPO / "autograder")), exist_ok=True)
    # The kernel's standard streams go nowhere (ipykernel captures them); no other descriptor of
    # the template or its worker stays open.
    null = os.open("/dev/null", os.O_RDWR)
    os.dup2(null, 0)
    if os.environ.get("AUTOGRADER_SANDBOX_DEBUG"):  # the kernel's stray output, for debugging
        null = os.open(os.path.join(folder, "kernel.log"), os.O_WRONLY | os.O_CREAT, 0o644)
    for fd in (1, 2):
        os.dup2(null, fd)
    keep = {0, 1, 2, keeper_alive, *keep_fds}
    for name in os.listdir("/proc/self/fd"):
        if int(name) not in keep:
            try:
                os.close(int(name))
            except OSError:
                pass
    # Into the new root; the old one is detached, so nothing can reach it again.
    os.chdir(root)
    _check(_libc.syscall(SYS_PIVOT_ROOT, b".", b"."), "pivot_root")
    _check(_libc.umount2(b".", MNT_DETACH), "umount old root")
    os.chdir("/")
    _mount(None, "/", None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)
    try:
        _libc.sethostname(b"sandbox", 7)
    except Exception:  # cosmetic
        pass
    for kind, value in ((resource.RLIMIT_AS, limits.memory),
                        (resource.RLIMIT_NPROC, limits.processes),
                        (resource.RLIMIT_FSIZE, limits.file_size),
                        (resource.RLIMIT_NOFILE, limits.open_files),
                        (resource.RLIMIT_CORE, 0)):
        resource.setrlimit(kind, (value, value))
    resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu, limits.cpu + 5))
    if userns:
        _drop_capabilities()
    else:
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)  # from root to a uid of its own: every capability goes
    _prctl(PR_SET_NO_NEW_PRIVS, 1)
    # When the keeper goes, so does the sandbox (set only now: a change of uid clears it).
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if select.select([keeper_alive], [], [], 0)[0]:  # it went before this process could know
        os._exit(1)
    os.close(keeper_alive)
    if cwd:
        os.chdir(cwd)


def _exit_code(status: int, usage, limits: Limits) -> int:
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        if sig == signal.SIGXCPU or usage.ru_utime + usage.ru_stime >= limits.cpu:
            return CPU_EXIT
        return 128 + sig
    return os.WEXITSTATUS(status)


def init(start_kernel, limits: Limits) -> int:
    """The sandbox's process 1: start the kernel (process 2), forward interrupts to it (a
    terminate request kills it), reap every orphan, and once the kernel is gone return its exit
    code (CPU_EXIT when it was stopped for its CPU time); the kernel of Linux then stops every
    other process of the sandbox. Process 1 of a namespace gets no signal it has no handler for,
    SIGXCPU included, hence a process of its own for the kernel."""
    kernel = os.fork()
    if kernel == 0:
        code = 0
        try:
            start_kernel()
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else 1
        except BaseException:
            code = 1
        os._exit(code)
    signal.signal(signal.SIGINT, lambda *_: os.kill(kernel, signal.SIGINT))
    signal.signal(signal.SIGTERM, lambda *_: os.kill(kernel, signal.SIGKILL))
    signal.signal(signal.SIGHUP, lambda *_: os.kill(kernel, signal.SIGKILL))
    while True:
        try:
            pid, status, usage = os.wait4(-1, 0)
        except ChildProcessError:
            return 1
        if pid == kernel:
            return _exit_code(status, usage, limits)


def keep(pid: int, limits: Limits) -> int:
    """The keeper's loop: forward interrupts to the sandbox's process 1 (a terminate request
    kills it), wait for it, and return the exit code to report."""
    signal.signal(signal.SIGINT, lambda *_: os.kill(pid, signal.SIGINT))
    signal.signal(signal.SIGTERM, lambda *_: os.kill(pid, signal.SIGKILL))
    signal.signal(signal.SIGHUP, lambda *_: os.kill(pid, signal.SIGKILL))
    while True:
        try:
            _, status, usage = os.wait4(pid, 0)
            break
        except ChildProcessError:
            return 1
    return _exit_code(status, usage, limits)


def limit_reached(exitcode: int | None) -> str:
    """Which limit stopped a kernel, from its keeper's exit code ("" if none did)."""
    limits = configured()
    if exitcode == CPU_EXIT and limits:
        return f"the sandbox's CPU-time limit ({limits.cpu} s)"
    return ""


# --- Whether it works here ----------------------------------------------------------------------
HOW_TO_ENABLE = (
    "Kernels run student code in a sandbox made of Linux namespaces, which this machine refused "
    "({reason}). Run the grader as root, or let unprivileged users create user namespaces "
    "(Debian/Ubuntu: `sysctl -w kernel.unprivileged_userns_clone=1` and "
    "`sysctl -w user.max_user_namespaces=10000`; Ubuntu 24.04: "
    "`sysctl -w kernel.apparmor_restrict_unprivileged_userns=0`); in a container, run it with "
    "`--cap-add SYS_ADMIN --security-opt seccomp=unconfined --security-opt apparmor=unconfined` "
    "(see docs/guarantees.md in the repository). Or grade without the sandbox, trusting "
    "every submission: --no-sandbox.")


def check() -> str:
    """'' if a sandbox can be built here, else why not (a process is forked to find out)."""
    import tempfile
    folder = tempfile.mkdtemp(prefix="autograder-probe-")
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover (child)
        os.close(read)
        code = 0
        try:
            enter_keeper(Limits())
            alive_r, alive_w = os.pipe()
            inner = os.fork()
            if inner == 0:
                try:
                    os.close(alive_w)
                    enter_kernel(folder, None, Limits(), kernel_uid(os.getppid()), alive_r,
                                 keep_fds=[write])
                    hidden = not os.path.exists(REPO / "autograder" / "checks")
                    os.write(write, b"ok" if os.getpid() == 1 and hidden
                             else b"the sandbox's view of the files is wrong")
                except BaseException as err:
                    os.write(write, f"{type(err).__name__}: {err}"[:500].encode())
                os._exit(0)
            os.waitpid(inner, 0)
        except BaseException as err:
            os.write(write, f"{type(err).__name__}: {err}"[:500].encode())
            code = 1
        os._exit(code)
    os.close(write)
    answer = b""
    while chunk := os.read(read, 4096):
        answer += chunk
    os.close(read)
    os.waitpid(pid, 0)
    shutil.rmtree(folder, ignore_errors=True)
    from . import cgroup
    cgroup.remove(CGROUPS)
    return "" if answer == b"ok" else (answer.decode(errors="replace") or "no answer")


# --- What the kernels import before entering it ---------------------------------------------
def trusted_imports() -> list[str]:
    """The grader's own modules a kernel needs, imported by the kernels' template (their files
    are in the sandbox too): `autograder.trusted.kernel_agent`, the kernel's side of the channel
    to the trusted checker. Never the checks: they run outside the kernel, and a kernel must
    hold nothing of them, not even in memory."""
    return [m for m in ("autograder", "autograder.trusted.kernel_agent") if _importable(m)]


def _importable(module: str) -> bool:
    from importlib.util import find_spec
    try:
        return find_spec(module) is not None
    except (ImportError, ValueError):
        return False
