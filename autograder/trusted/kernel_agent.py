"""The kernel's end of the channel to the trusted checker.

The hidden checks do not run in the student's kernel. When a hidden test cell calls
`hidden.check_x(obj)`, the kernel's `autograder.checks` is a stub (installed by `install()` at
kernel start) that asks the trusted checker (checker.py), over a Unix socket, to run that check.
The checker then drives the student's objects remotely: the kernel executes the calls it asks
for and answers with plain data (wire.py), until the checker sends its verdict. Whatever the
kernel does, it can only send data; the verdict and the score are decided outside it.
"""
from __future__ import annotations

import linecache
import os
import socket
import sys
import types

from .wire import (ENV, MAX_CODE, MAX_FRAMES, STRICT, ChannelClosed, decode, encode, error_info,
                   recv, send)


# -- the kernel's side --------------------------------------------------------------------------

class _Agent:
    """Runs in the kernel's main thread while a check runs: answers the checker's requests."""

    def __init__(self, sock):
        self.sock = sock
        self.objects: dict[int, object] = {}

    def handle(self, value):
        self.objects[id(value)] = value
        return {"h": [id(value), type(value).__name__, callable(value)]}

    def resolve(self, tag, body):
        if tag == "h" and isinstance(body, int) and body in self.objects:
            return self.objects[body]
        if tag == "cb" and isinstance(body, int):
            return _Callback(self, body)
        raise ChannelClosed("malformed value")

    def encode(self, value, blobs):
        return encode(value, blobs, self.handle)

    def serve(self):
        """Answer requests until the checker's verdict (returned) or the end of a callback."""
        while True:
            msg, blobs = recv(self.sock)
            op = msg.get("op")
            if op in ("verdict", "return"):
                return msg, blobs
            try:
                header, value, after = self._do(op, msg, blobs)
                out: list[bytes] = []
                header["value"] = self.encode(value, out)
                header["after"] = self.encode(after, out)
            except ChannelClosed:
                raise
            except Exception as err:  # noqa: BLE001  the student's code may raise anything
                header, out = {"op": "raised", "error": _raised(err)}, []
            send(self.sock, header, out)

    def _do(self, op, msg, blobs):
        """One request: (reply header, value, the array arguments after a call)."""
        target = self.resolve("h", msg.get("h"))
        if op == "getattr":
            return {"op": "value"}, getattr(target, str(msg["name"])), None
        if op == "setattr":
            setattr(target, str(msg["name"]), decode(msg["value"], blobs, self.resolve))
            return {"op": "value"}, None, None
        if op == "call":
            args = decode(msg["args"], blobs, self.resolve)
            kwargs = decode(msg["kwargs"], blobs, self.resolve)
            measure = msg.get("measure")
            budget = msg.get("budget") if isinstance(msg.get("budget"), (int, float)) else None
            result, measured = _call(target, args, kwargs, msg.get("mode"), measure, budget)
            # Arrays the call may have changed in place, so that the checker sees it did.
            after = [a if type(a).__name__ == "ndarray" else None for a in args]
            return {"op": "value", "cpu" if measure == "cpu" else "peak": measured}, result, after
        raise ChannelClosed(f"unknown request {op!r}")


def _call(target, args, kwargs, mode, measure, budget=None):
    """Call the student's `target` as the checker asks: numpy's floating-point warnings raise
    (mode "strict") or are silenced ("quiet"); with `measure`, also the peak memory in bytes that
    the call allocated (tracemalloc, which numpy reports to), or with measure="cpu" the CPU
    seconds the kernel spent in it."""
    import contextlib
    import warnings

    import numpy as np
    with contextlib.ExitStack() as stack:
        if mode == "strict":
            stack.enter_context(np.errstate(**STRICT))
            stack.enter_context(warnings.catch_warnings())
            warnings.simplefilter("error", RuntimeWarning)
        elif mode == "quiet":
            stack.enter_context(np.errstate(all="ignore"))
            stack.enter_context(warnings.catch_warnings())
            warnings.simplefilter("ignore", RuntimeWarning)
        if not measure:
            return target(*args, **kwargs), None
        if measure == "cpu":
            return cpu_seconds(target, *args, budget=budget, **kwargs)
        return peak_memory(target, *args, **kwargs)


class _OverBudget(BaseException):
    """Raised in the measured code when it has used up its CPU-time budget."""


def cpu_seconds(fn, *args, budget: float | None = None, **kwargs):
    """fn's result, and the CPU seconds this process spent in it (a busy machine slows the
    clock on the wall, not this). With `budget` (seconds; in the main thread), a call that
    spends it is stopped there, and the result is None with at least `budget` seconds: a
    Python loop over a million elements need not run for half a minute to be known as one."""
    import signal
    import threading
    import time
    armed = [budget is not None and threading.current_thread() is threading.main_thread()]
    timer = armed[0]

    def stop(*_):
        if armed[0]:
            raise _OverBudget
    if timer:
        previous = signal.signal(signal.SIGPROF, stop)
        signal.setitimer(signal.ITIMER_PROF, budget, 0.05)  # again, should the code catch it
    start, stopped = time.process_time(), False
    try:
        try:
            result = fn(*args, **kwargs)
        finally:
            armed[0] = False
    except _OverBudget:
        result, stopped = None, True
    finally:
        if timer:
            signal.setitimer(signal.ITIMER_PROF, 0)
            signal.signal(signal.SIGPROF, previous)
    taken = time.process_time() - start
    return (None, max(taken, budget)) if stopped else (result, taken)


def peak_memory(fn, *args, **kwargs):
    """fn's result, and the peak memory in bytes it allocated (tracemalloc, which numpy reports to)."""
    import tracemalloc
    started = not tracemalloc.is_tracing()
    if started:
        tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        result = fn(*args, **kwargs)
        return result, tracemalloc.get_traced_memory()[1] - base
    finally:
        if started:
            tracemalloc.stop()


def _raised(err: BaseException) -> dict:
    """What crosses the channel of an exception the student's code raised: its type name, its
    message and where in the student's cells it was raised (`cell_frames`)."""
    info = error_info(err)
    try:
        frames, skipped = cell_frames(err)
    except Exception:  # noqa: BLE001  a traceback or compiler the student's code tampered with
        frames, skipped = [], 0
    if frames:
        info.update(frames=frames, skipped=skipped)
    return info


def cell_frames(err: BaseException, compiler=None) -> tuple[list, int]:
    """Where the student's code raised `err`: the frames of its traceback that run the code of a
    notebook cell, outermost first, each as [the cell's execution count, line, function, source
    line], plain data with no file name (no frame of the grader's, numpy's or Python's own code
    is a cell's), and how many outer ones were left out (the innermost MAX_FRAMES are kept).
    IPython's compiler (`compiler`, else the running shell's) names the code of each cell; where
    no IPython runs, no code is a cell's."""
    name_of = getattr(compiler or _cell_compiler(), "format_code_name", None)
    if name_of is None:
        return [], 0
    frames, seen, tb = [], 0, err.__traceback__
    while tb is not None:
        code = tb.tb_frame.f_code
        named = name_of(code.co_filename)   # ("Cell", "In[5]") for a cell's code, else None
        count = named[1][3:-1] if named and str(named[1]).startswith("In[") else ""
        if count.isdigit():
            line = linecache.getline(code.co_filename, tb.tb_lineno).strip()
            frames.append([int(count), tb.tb_lineno, code.co_name[:80], line[:MAX_CODE]])
            del frames[:-MAX_FRAMES]        # a recursion 3000 deep keeps no more than these
            seen += 1
        tb = tb.tb_next
    return frames, seen - len(frames)


def _cell_compiler():
    """The running IPython's compiler, which names the code of each cell (None outside one)."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return getattr(shell, "compile", None)


class _Callback:
    """A function of the checker's (e.g. the f given to numerical_gradient), called from the
    kernel: the call goes back through the channel."""

    def __init__(self, agent: _Agent, number: int):
        self._agent, self._number = agent, number

    def __call__(self, *args, **kwargs):
        blobs: list[bytes] = []
        send(self._agent.sock, {"op": "callback", "cb": self._number,
                                "args": self._agent.encode(list(args), blobs),
                                "kwargs": self._agent.encode(kwargs, blobs)}, blobs)
        msg, blobs = self._agent.serve()
        if msg.get("error"):
            raise RuntimeError(f"the grader's function raised {msg['error'].get('type')}")
        return decode(msg["value"], blobs, self._agent.resolve)


class CheckFailed(AssertionError):
    """What the kernel shows when the trusted checker's verdict is a failure."""


def request_check(check: str, args: tuple) -> None:
    """Ask the trusted checker to run `check` (e.g. "logits.check_linear_forward") on `args`;
    serve its requests; raise CheckFailed with its message if the verdict is a failure."""
    path = os.environ.get(ENV)
    if not path:
        raise RuntimeError("the hidden tests run only in the grader")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(path)
        agent = _Agent(sock)
        blobs: list[bytes] = []
        send(sock, {"op": "check", "check": check,
                    "args": agent.encode(list(args), blobs)}, blobs)
        msg, _ = agent.serve()
    finally:
        sock.close()
    if not msg.get("passed"):
        raise CheckFailed(str(msg.get("message", "failed")))


class _Assignment(types.ModuleType):
    """`autograder.checks.<assignment>` in the kernel: every `check_*` asks the checker."""

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        check = f"{self.__name__.rsplit('.', 1)[1]}.{name}"
        return lambda *args: request_check(check, args)


class _Checks(types.ModuleType):
    """`autograder.checks` in the kernel: its submodules are `_Assignment` stubs."""

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        module = _Assignment(f"{self.__name__}.{name}")
        sys.modules[module.__name__] = module
        setattr(self, name, module)
        return module


def install() -> None:
    """In a grading kernel (one whose environment names the channel): make `autograder.checks`
    the stub, before any student code runs. Elsewhere (a student's own kernel) do nothing."""
    if not os.environ.get(ENV):
        return
    import autograder
    stub = _Checks("autograder.checks")
    stub.__path__ = []  # a package with no files: nothing is imported from disk
    for name in [n for n in sys.modules if n.startswith("autograder.checks")]:
        del sys.modules[name]
    sys.modules["autograder.checks"] = stub
    autograder.checks = stub
