"""Kernels forked from a warm template: a kernel provisioner for jupyter_client.

Starting an ipykernel costs most of a second of CPU, nearly all of it importing ipykernel, numpy
and scipy; the checks themselves take milliseconds. So the grader's workers fork each kernel
from a template process that has imported them once: Python's own `multiprocessing` fork
server, preloaded with ipykernel and what the notebooks import. Every notebook still gets a
kernel process of its own, copied from a template that never runs student code, so nothing one
submission does can reach another.

A forked kernel takes the environment and working folder the kernel manager asks for, reseeds
numpy's global generator (as a fresh process would), and runs ipykernel's own `IPKernelApp` with
the usual command line. It stays in the worker's process group, so killing a worker kills its
kernels too; interrupts go to the kernel process alone. Any other kernel command is launched the
usual way.

The grader's workers select it (`use()` sets JUPYTER_DEFAULT_PROVISIONER_NAME=autograder-fork;
the provisioner is registered as an entry point in pyproject.toml); nbgrader's own commands keep
jupyter_client's default.
"""
from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
import sys
import time
from queue import Empty

from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.provisioning import LocalProvisioner

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


def use(modules: list[str] = ()) -> None:
    """Make the kernels this process starts forked ones, and start the template now: it imports
    KERNEL_MODULES and `modules` (what the notebooks will import) in the background. Without the
    entry point, kernels start the usual way."""
    if not registered():
        return
    from multiprocessing import forkserver
    os.environ["JUPYTER_DEFAULT_PROVISIONER_NAME"] = NAME
    _context().set_forkserver_preload([*KERNEL_MODULES, *modules])
    forkserver.ensure_running()


def _run_kernel(argv: list[str], env: dict, cwd: str | None, listening) -> None:
    """In the forked child: become an ordinary ipykernel process, as `python -m ipykernel_launcher
    ARGV` would be, in `cwd` with `env`; say on `listening` once its sockets are bound."""
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
    app.initialize([*argv, f"--IPKernelApp.parent_handle={env['JPY_PARENT_PID']}"])
    listening.send_bytes(b"")
    listening.close()
    app.start()


class _ForkedProcess:
    """The part of subprocess.Popen's interface that LocalProvisioner uses."""

    stdin = stdout = stderr = None

    def __init__(self, process):
        self._process = process
        self.pid = process.pid

    def poll(self):
        return self._process.exitcode

    def wait(self, timeout=None):
        self._process.join(timeout)
        return self._process.exitcode

    def send_signal(self, signum):
        os.kill(self.pid, signum)

    def kill(self):
        self.send_signal(signal.SIGKILL)

    def terminate(self):
        self.send_signal(signal.SIGTERM)


class ForkProvisioner(LocalProvisioner):
    """jupyter_client's LocalProvisioner, with the ipykernel process forked from the template."""

    async def launch_kernel(self, cmd: list[str], **kwargs):
        if cmd[1:3] != _LAUNCHER or os.path.realpath(cmd[0]) != os.path.realpath(sys.executable):
            return await super().launch_kernel(cmd, **kwargs)
        env = dict(kwargs.get("env") or os.environ, JPY_PARENT_PID=str(os.getpid()))
        ctx = _context()
        listening, tell = ctx.Pipe(duplex=False)
        process = ctx.Process(target=_run_kernel, name="kernel",
                              args=(cmd[3:], env, kwargs.get("cwd"), tell))
        process.start()
        tell.close()
        # Return once its sockets are bound: a client that connects earlier is refused and
        # retries only a tenth of a second later (ZeroMQ's reconnect interval).
        for _ in range(STARTUP_POLLS):
            if listening.poll() or process.exitcode is not None:
                break
            await asyncio.sleep(0.005)
        listening.close()
        self.process = _ForkedProcess(process)
        self.pid, self.pgid = process.pid, None  # no group of its own: signals go to it alone
        self.cwd = kwargs.get("cwd") or os.getcwd()
        return self.connection_info

    async def kill(self, restart: bool = False) -> None:
        """SIGKILL, then wait (briefly) until it is gone: the kernel manager checks right away,
        and otherwise sleeps a tenth of a second before it looks again."""
        await super().kill(restart)
        for _ in range(200):
            if self.process is None or self.process.poll() is not None:
                return
            await asyncio.sleep(0.005)


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
