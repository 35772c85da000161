"""Kernels forked from a warm template: a kernel provisioner for jupyter_client.

Starting an ipykernel costs most of a second of CPU, nearly all of it importing ipykernel, numpy
and scipy; the checks themselves take milliseconds. So the grader's workers fork each kernel
from a template process that has imported them once: Python's own `multiprocessing` fork
server, preloaded with ipykernel and what the notebooks import. Every notebook still gets a
kernel process of its own, copied from a template that never runs student code, so nothing one
submission does can reach another.

A forked kernel takes the environment and working folder the kernel manager asks for, reseeds
numpy's global generator (as a fresh process would), and runs ipykernel's own `IPKernelApp` with
the usual command line. Unless AUTOGRADER_SANDBOX=off, it first enters a sandbox of its own
(sandbox.py): the forked process (the "keeper", the one the kernel manager knows) creates new
namespaces, its child (process 1 of the new PID namespace) builds the filesystem view, sets the
limits, drops every privilege and starts the kernel as its own child. The kernel then talks to
its client over Unix sockets in a folder of its own (transport "ipc"), the connection file
beside them. The keeper stays in the worker's process group, so killing a worker kills its
kernels too (the sandbox dies with its keeper); interrupts go to the kernel alone. Any other
kernel command is launched the usual way, and refused where a sandbox is wanted.

The grader's workers select it (`use()` sets JUPYTER_DEFAULT_PROVISIONER_NAME=autograder-fork;
the provisioner is registered as an entry point in pyproject.toml); nbgrader's own commands keep
jupyter_client's default.
"""
from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import signal
import sys
import time
from queue import Empty

from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.provisioning import LocalProvisioner

from . import sandbox

NAME = "autograder-fork"
# What every ipykernel imports as it starts (its debugger and history included).
KERNEL_MODULES = ["ipykernel.kernelapp", "ipykernel.ipkernel", "ipykernel.debugger",
                  "IPython.core.history", "psutil"]
_LAUNCHER = ["-m", "ipykernel_launcher"]
STARTUP_POLLS = 2000  # of 5 ms: how long to wait for a kernel to listen (it takes about 0.05 s)


def _context():
    return multiprocessing.get_context("forkserver")


def registered() -> bool:
    """Whether jupyter_client can find this provisioner (the repository is pip-installed)."""
    from importlib.metadata import entry_points
    return bool(entry_points(group="jupyter_client.kernel_provisioners", name=NAME))


class SandboxUnavailable(RuntimeError):
    """Kernels cannot be sandboxed on this machine (the message says how to enable it)."""


def sandbox_unavailable() -> str:
    """Why kernels cannot be sandboxed on this machine, and how to allow it; "" if they can."""
    if not registered():
        return ("kernels can only be sandboxed through the kernel provisioner autograder-fork, "
                "which is not installed: run `pip install -e .` in the repository "
                "(or --no-sandbox)")
    why = sandbox.check()
    return sandbox.HOW_TO_ENABLE.format(reason=why) if why else ""


def use(modules: list[str] = ()) -> None:
    """Make the kernels this process starts forked ones, and start the template now: it imports
    KERNEL_MODULES and `modules` (what the notebooks will import) in the background. Without the
    entry point, kernels start the usual way."""
    if not registered():
        return
    from multiprocessing import forkserver
    os.environ["JUPYTER_DEFAULT_PROVISIONER_NAME"] = NAME
    _context().set_forkserver_preload([*KERNEL_MODULES, *modules])
    # The template, whose memory every kernel starts from, never holds the worker's environment
    # (an instructor's token there would be in every kernel's memory): it starts with a kernel's.
    worker_env = dict(os.environ)
    os.environ.clear()
    os.environ.update(sandbox.kernel_env(worker_env))
    try:
        forkserver.ensure_running()
    finally:
        os.environ.clear()
        os.environ.update(worker_env)


def _start_kernel(argv: list[str], env: dict, cwd: str | None, listening,
                  parent: str | None = None) -> None:
    """Become an ordinary ipykernel process, as `python -m ipykernel_launcher ARGV` would be, in
    `cwd` with `env`; say on `listening` once its sockets are bound."""
    os.environ.clear()
    os.environ.update(env)
    if cwd:
        os.chdir(cwd)
    if "numpy" in sys.modules:
        sys.modules["numpy"].random.seed()  # as a fresh process would, from the OS
    import ipykernel_launcher
    sys.argv = [ipykernel_launcher.__file__, *argv]
    # ipykernel reads JPY_PARENT_PID when it is imported, which was in the template.
    from ipykernel.kernelapp import IPKernelApp
    app = IPKernelApp.instance()  # what IPKernelApp.launch_instance does, with a signal between
    # In a sandbox its parent is process 1, which never goes (when it does, so does the kernel):
    # ipykernel does not watch a parent with pid 1.
    app.initialize([*argv, f"--IPKernelApp.parent_handle={parent or env['JPY_PARENT_PID']}"])
    listening.send_bytes(b"")
    listening.close()
    app.start()


def _say_why(folder: str) -> None:
    """A kernel that could not start leaves its traceback in its folder, for its worker's log."""
    import traceback
    try:
        with open(os.path.join(folder, "failed.txt"), "w") as f:
            f.write(traceback.format_exc()[-5000:])
    except OSError:
        pass


def _start_or_say_why(argv, env, cwd, listening, folder) -> None:
    try:
        _start_kernel(argv, env, cwd, listening, parent="1")
    except SystemExit:
        raise
    except BaseException:
        _say_why(folder)
        raise


def _run_kernel(argv: list[str], env: dict, cwd: str | None, listening, folder: str | None = None,
                limits: str | None = None) -> None:
    """In the forked child. Without a sandbox: the kernel itself. With one (`folder` holds its
    sockets): this process is the keeper; its child, process 1 of the sandbox (sandbox.py),
    enters it and starts the kernel, before anything of the student's runs."""
    if folder is None:
        return _start_kernel(argv, env, cwd, listening)
    limits = sandbox.Limits.from_json(limits)
    sandbox.enter_keeper(limits)
    uid = sandbox.kernel_uid(os.getpid())
    sandbox.hand_over(folder, uid)
    alive_r, alive_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            os.close(alive_w)
            sandbox.enter_kernel(folder, cwd, limits, uid, alive_r, keep_fds=[listening.fileno()],
                                 env=env)
            code = sandbox.init(lambda: _start_or_say_why(argv, sandbox.kernel_env(env), cwd,
                                                          listening, folder), limits)
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else 1
        except BaseException:
            code = 1
            _say_why(folder)
        os._exit(code)
    os.close(alive_r)
    listening.close()
    code = sandbox.keep(pid, limits)
    os._exit(code)  # the exit code the worker sees; nothing of the template's to clean up


# How the sandboxed kernels that stopped ended, by their working folder: the limit they reached
# ("" if none), and how many processes they left running (which the sandbox stopped). The
# preprocessor that reports them (outputs.NameSandboxLimits) runs in this process.
ENDINGS: dict[str, str] = {}
LEFT_RUNNING: dict[str, int] = {}


class _ForkedProcess:
    """The part of subprocess.Popen's interface that LocalProvisioner uses."""

    stdin = stdout = stderr = None

    def __init__(self, process, cwd: str | None = None):
        self._process = process
        self._cwd = cwd
        self.pid = process.pid

    def _ended(self, code):
        if code is not None and self._cwd:
            ENDINGS[self._cwd] = sandbox.limit_reached(code)
        return code

    def poll(self):
        return self._ended(self._process.exitcode)

    def wait(self, timeout=None):
        self._process.join(timeout)
        return self._ended(self._process.exitcode)

    def send_signal(self, signum):
        if self._process.exitcode is None:  # a keeper that was killed is gone already
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signum)

    def kill(self):
        self.send_signal(signal.SIGKILL)

    def terminate(self):
        self.send_signal(signal.SIGTERM)


_FOLDERS: set[str] = set()  # the kernel folders this process made and has not removed yet


def _remove_folders() -> None:
    import shutil
    for folder in list(_FOLDERS):
        shutil.rmtree(folder, ignore_errors=True)
        _FOLDERS.discard(folder)


def _kernel_folder() -> str:
    """A new folder for one kernel's sockets and connection file, with a short path (a Unix
    socket's path has at most 107 bytes). Removed when the kernel is cleaned up, or at the
    latest when this process exits."""
    import atexit
    import tempfile
    if not _FOLDERS:
        atexit.register(_remove_folders)
    base = os.environ.get(sandbox.KERNELS)
    folder = None
    if base:
        os.makedirs(base, mode=0o700, exist_ok=True)
        folder = tempfile.mkdtemp(prefix="k", dir=base)
        if len(folder) > 80:
            os.rmdir(folder)
            folder = None
    folder = folder or tempfile.mkdtemp(prefix="autograder-k")
    _FOLDERS.add(folder)
    return folder


class ForkProvisioner(LocalProvisioner):
    """jupyter_client's LocalProvisioner, with the ipykernel process forked from the template,
    and (unless AUTOGRADER_SANDBOX=off) sandboxed: it talks to its client over Unix sockets in
    a folder of its own, the one folder of the worker's that the sandbox can see."""

    _folder: str | None = None
    _limits: object = None

    async def pre_launch(self, **kwargs):
        self._limits = sandbox.configured()
        km = self.parent
        if self._limits is not None and km is not None:
            self._folder = _kernel_folder()
            km.transport, km.cache_ports = "ipc", False
            km.ip = os.path.join(self._folder, "kernel")
            km.connection_file = os.path.join(self._folder, "connection.json")
            for port in ("shell_port", "iopub_port", "stdin_port", "hb_port", "control_port"):
                setattr(km, port, 0)
            km._connection_file_written = False
        return await super().pre_launch(**kwargs)

    async def launch_kernel(self, cmd: list[str], **kwargs):
        forkable = (cmd[1:3] == _LAUNCHER
                    and os.path.realpath(cmd[0]) == os.path.realpath(sys.executable))
        if not forkable:
            if self._folder is not None:
                raise RuntimeError(f"only ipykernel ({sys.executable} -m ipykernel_launcher) can "
                                   f"run in the sandbox, not {cmd[0]}")
            return await super().launch_kernel(cmd, **kwargs)
        env = dict(kwargs.get("env") or os.environ, JPY_PARENT_PID=str(os.getpid()))
        if self._folder is not None:  # a sandboxed kernel never holds more than its own
            env = sandbox.kernel_env(env)
        ctx = _context()
        listening, tell = ctx.Pipe(duplex=False)
        limits = None if self._folder is None else self._limits.to_json()
        process = ctx.Process(target=_run_kernel, name="kernel",
                              args=(cmd[3:], env, kwargs.get("cwd"), tell, self._folder, limits))
        process.start()
        tell.close()
        # Return once its sockets are bound: a client that connects earlier is refused and
        # retries only a tenth of a second later (ZeroMQ's reconnect interval).
        for _ in range(STARTUP_POLLS):
            if listening.poll() or process.exitcode is not None:
                break
            await asyncio.sleep(0.005)
        listening.close()
        why = os.path.join(self._folder or "", "failed.txt")
        if self._folder is not None and os.path.exists(why):
            with open(why) as f:
                self.log.error("The sandboxed kernel could not start:\n%s", f.read())
        if self._folder is not None and os.geteuid() == 0:
            # The kernel has bound its sockets: from now on it can change nothing in the folder.
            os.chown(self._folder, 0, 0)
            os.chmod(self._folder, 0o755)
        self.process = _ForkedProcess(process, kwargs.get("cwd"))
        self.pid, self.pgid = process.pid, None  # no group of its own: signals go to it alone
        self.cwd = kwargs.get("cwd") or os.getcwd()
        return self.connection_info

    def _count_left_running(self) -> None:
        """How many processes the kernel started are still running (the sandbox stops them with
        it): the keeper's descendants but the sandbox's process 1 and the kernel."""
        cwd = getattr(self.process, "_cwd", None)
        if self._folder is None or self.process is None or not cwd:
            return
        import psutil
        try:
            LEFT_RUNNING[cwd] = max(0, len(psutil.Process(self.pid).children(recursive=True)) - 2)
        except psutil.Error:
            pass

    async def kill(self, restart: bool = False) -> None:
        """SIGKILL, then wait (briefly) until it is gone: the kernel manager checks right away,
        and otherwise sleeps a tenth of a second before it looks again."""
        self._count_left_running()
        await super().kill(restart)
        for _ in range(200):
            if self.process is None or self.process.poll() is not None:
                return
            await asyncio.sleep(0.005)

    async def cleanup(self, restart: bool = False) -> None:
        await super().cleanup(restart)
        if self._folder is not None and not restart:
            from . import cgroup
            cgroup.remove(sandbox.CGROUPS)  # this kernel's, and any an earlier one left
            import shutil
            shutil.rmtree(self._folder, ignore_errors=True)
            _FOLDERS.discard(self._folder)
            self._folder = None


class ReadyClient(AsyncKernelClient):
    """jupyter_client's AsyncKernelClient, ready as soon as its kernel is.

    jupyter_client's wait_for_ready ends by waiting for 0.2 s of silence on iopub. By the
    messaging protocol, the output of a request ends with an `idle` status whose parent is that
    request; this one is ready when the kernel_info request's `idle` status has arrived, which
    also shows that iopub is connected. Like jupyter_client's, it asks again when iopub missed
    the status (a subscription still on its way) and gives up when the kernel is dead.
    """

    async def _answer_to(self, channel, request: str, wanted, timeout: float):
        """The first message on `channel` whose parent is `request` and that `wanted` accepts."""
        until = time.monotonic() + timeout
        while True:
            msg = await channel.get_msg(timeout=max(0.0, until - time.monotonic()))
            if msg["parent_header"].get("msg_id") == request and wanted(msg):
                return msg

    async def wait_for_ready(self, timeout: float | None = None) -> None:
        deadline = time.monotonic() + (float("inf") if timeout is None else timeout)
        while True:
            request = self.kernel_info()
            try:
                reply = await self._answer_to(self.shell_channel, request,
                                              lambda m: m["msg_type"] == "kernel_info_reply", 1)
                await self._answer_to(self.iopub_channel, request,
                                      lambda m: m["msg_type"] == "status"
                                      and m["content"].get("execution_state") == "idle", 0.2)
                self._handle_kernel_info_reply(reply)
                return
            except Empty:
                pass
            if not await self.is_alive():
                raise RuntimeError("Kernel died before replying to kernel_info")
            if time.monotonic() > deadline:
                raise RuntimeError(f"Kernel didn't respond in {timeout:.0f} seconds")
