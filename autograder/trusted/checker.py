"""The trusted checker: the hidden checks run here, in the grader's worker, never in the kernel.

Per notebook, the executor (`preprocessors.ResilientExecute`) opens a `Checker`: a Unix socket
in a folder of its own, whose path the kernel gets in its environment (`kernel_agent.ENV`). When a
hidden test cell calls `hidden.check_x(obj)`, the kernel's stub asks for that check; the checker
runs it here with `RemoteObject`s in place of the student's objects, so each call, attribute
read or callback crosses the channel as plain data (see `kernel_agent`), and records the verdict
for the graded cell that is running. The executor then writes the cell's outputs from the
verdict, which is what nbgrader scores. Nothing the notebook does to numpy, to the checks, to
IPython or to what a cell displays changes what is computed here.

The checks' random inputs come from `checks._common.rng`, seeded here with a secret the kernel never
sees, so an answer replayed from another run fails; the questions' numbers (`checks._common.numbers`) are
the student's own, from the course id the grader computed (autograder/variants.py).
"""
from __future__ import annotations

import builtins
import os
import re
import shutil
import socket
import tempfile
import threading

import numpy as np

from .. import course
from . import context, wire

# A student's exception crosses as its type name and message; these come back as themselves
# (the checks tell NotImplementedError and numpy's floating-point errors apart), any other as
# StudentError. Nothing the student raises can pass for a check's own CheckFailed.
_KNOWN = {name: getattr(builtins, name) for name in (
    "ArithmeticError", "AssertionError", "AttributeError", "FloatingPointError", "IndexError",
    "KeyError", "LookupError", "MemoryError", "NameError", "NotImplementedError",
    "OverflowError", "RecursionError", "RuntimeError", "RuntimeWarning", "TypeError",
    "UnboundLocalError", "ValueError", "ZeroDivisionError")}


class StudentError(Exception):
    """An exception the student's code raised, of a type we do not rebuild."""


class ChannelBroken(wire.ChannelClosed):
    """The kernel stopped answering in the middle of a check."""


def _rebuild(error: dict) -> Exception:
    kind, message = str(error.get("type", "Exception")), str(error.get("message", ""))
    cls = _KNOWN.get(kind)
    err = cls(message) if cls else StudentError(f"{kind}: {message}" if message else kind)
    err.raised_at = raised_at(error)
    return err


_FUNCTION = re.compile(r"<?[A-Za-z_][\w.]{0,79}>?")


def raised_at(error: dict) -> tuple[tuple, int]:
    """Where the student's code raised, as the kernel tells it (kernel_agent.cell_frames): at
    most wire.MAX_FRAMES frames of the student's cells, each (execution count, line, function,
    source line), and how many outer ones were left out. Text from the kernel that only the
    student reads, in their own feedback: bounded, printable, and a malformed frame dropped."""
    frames, skipped = error.get("frames"), error.get("skipped")
    kept = []
    for frame in frames[-wire.MAX_FRAMES:] if isinstance(frames, list) else ():
        if not (isinstance(frame, list) and len(frame) == 4):
            continue
        count, line, function, code = frame
        if type(count) is int and type(line) is int and 0 < count < 10**7 and \
                0 < line < 10**7 and isinstance(function, str) and \
                _FUNCTION.fullmatch(function) and isinstance(code, str):
            code = "".join(c if c.isprintable() else " " for c in code[:wire.MAX_CODE])
            kept.append((count, line, function, code.strip()))
    skipped = skipped if type(skipped) is int and 0 <= skipped < 10**7 else 0
    return tuple(kept), skipped if kept else 0


class RemoteObject:
    """A student's object that stays in the kernel: calls and attribute reads go through the
    channel. Special methods are not forwarded (numpy sees an opaque object), so an object that
    pretends to be an array or a number is not one here."""

    __slots__ = ("_session", "_handle", "_type", "_callable")

    def __init__(self, session, handle: int, type_name: str, is_callable: bool):
        for name, value in zip(self.__slots__, (session, handle, type_name, is_callable)):
            object.__setattr__(self, name, value)

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return self._session.request({"op": "getattr", "h": self._handle, "name": name})[0]

    def __setattr__(self, name, value):
        blobs: list[bytes] = []
        self._session.request({"op": "setattr", "h": self._handle, "name": name,
                               "value": self._session.encode(value, blobs)}, blobs)

    def __call__(self, *args, **kwargs):
        return self.measured_call(args, kwargs, measure=False)[0]

    def measured_call(self, args, kwargs, measure: bool | str = True,
                      budget: float | None = None):
        """The call's result and, with `measure`, the peak memory it allocated in the kernel
        (bytes, tracemalloc), or with measure="cpu" the kernel's CPU seconds in it: properties
        only the kernel can observe, so the student can fake them."""
        session = self._session
        blobs: list[bytes] = []
        value, header, reply_blobs = session.request(
            {"op": "call", "h": self._handle, "mode": context.current_mode(), "measure": measure,
             "budget": budget, "args": session.encode(list(args), blobs),
             "kwargs": session.encode(kwargs, blobs)},
            blobs)
        after = session.decode(header.get("after", {"v": None}), reply_blobs)
        for passed, changed in zip(args, after or ()):
            _write_back(passed, changed)
        if measure == "cpu":
            cpu = header.get("cpu")
            return value, (float(cpu) if isinstance(cpu, (int, float)) else None)
        peak = header.get("peak")
        return value, (int(peak) if isinstance(peak, (int, float)) else None)

    def timed_call(self, args, kwargs, budget: float | None = None):
        """The call's result and the CPU seconds the kernel spent in it (stopped at `budget`:
        kernel_agent.cpu_seconds)."""
        return self.measured_call(args, kwargs, measure="cpu", budget=budget)

    def __repr__(self):
        return f"<{self._type} object from your notebook>"

    def __bool__(self):
        return True


def _write_back(passed, changed) -> None:
    """A call that changed an array argument in the kernel changes it here too, so that the
    checks see an in-place modification exactly as they would in one process."""
    if type(passed) is np.ndarray and type(changed) is np.ndarray and \
            changed.shape == passed.shape and changed.dtype == passed.dtype and \
            passed.flags.writeable and not np.array_equal(passed, changed, equal_nan=True):
        np.copyto(passed, changed)


class Session:
    """One connection from the kernel: requests out, answers (and callbacks) in."""

    def __init__(self, sock):
        self.sock = sock
        self.callbacks: list = []

    def encode(self, value, blobs):
        return wire.encode(value, blobs, self._reference)

    def _reference(self, value):
        if isinstance(value, RemoteObject):
            return {"h": value._handle}
        if callable(value):
            self.callbacks.append(value)
            return {"cb": len(self.callbacks) - 1}
        raise TypeError(f"cannot send a {type(value).__name__} to the notebook")

    def _resolve(self, tag, body):
        if tag == "h" and isinstance(body, list) and len(body) == 3 and type(body[0]) is int:
            return RemoteObject(self, body[0], str(body[1])[:100], bool(body[2]))
        raise wire.ChannelClosed("malformed value")

    def decode(self, data, blobs):
        return wire.decode(data, blobs, self._resolve)

    def receive(self):
        try:
            return wire.recv(self.sock)
        except (OSError, ValueError, KeyError, TypeError, wire.ChannelClosed) as err:
            raise ChannelBroken(f"your notebook stopped answering ({type(err).__name__})") from None

    def request(self, header: dict, blobs=()):
        """Send a request; serve the kernel's callbacks until its answer: (value, header, blobs)."""
        try:
            wire.send(self.sock, header, list(blobs))
        except OSError as err:
            raise ChannelBroken(f"your notebook stopped answering ({type(err).__name__})") from None
        while True:
            msg, got = self.receive()
            op = msg.get("op")
            if op == "value":
                return self.decode(msg.get("value"), got), msg, got
            if op == "raised":
                raise _rebuild(msg.get("error") or {})
            if op == "callback":
                self._callback(msg, got)
                continue
            raise ChannelBroken("your notebook answered out of turn")

    def _callback(self, msg, got) -> None:
        number = msg.get("cb")
        out: list[bytes] = []
        try:
            fn = self.callbacks[number]
            value = fn(*self.decode(msg.get("args"), got), **self.decode(msg.get("kwargs"), got))
            reply = {"op": "return", "value": self.encode(value, out)}
        except (TypeError, IndexError, ValueError, ArithmeticError) as err:
            reply, out = {"op": "return", "error": wire.error_info(err)}, []
        wire.send(self.sock, reply, out)


class Checker:
    """The trusted side of one notebook's channel. `expect(grade_id)` before a graded cell runs,
    `settle()` after it; `verdicts` maps grade id -> (passed, message), `notes` holds
    (grade id or None, what happened) for the instructor."""

    def __init__(self, assignment: str, secret: int, timeout: float, numbers: dict | None = None):
        self.checks = course.checks(assignment)
        self.module = self.checks.__name__.rsplit(".", 1)[1]
        self.secret, self.timeout, self.numbers = secret, timeout, numbers
        self.verdicts: dict[str, tuple[bool, str]] = {}
        self.notes: list[tuple[str | None, str]] = []
        self._current: str | None = None
        self._busy = threading.Condition()
        self._running = 0
        self.folder = tempfile.mkdtemp(prefix="checker-")
        self.path = os.path.join(self.folder, "checks.sock")
        self._server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._server.bind(self.path)
        os.chmod(self.folder, 0o755)
        os.chmod(self.path, 0o777)  # the sandboxed kernel runs as another user
        self._server.listen(4)
        self._thread = threading.Thread(target=self._accept, name="checker", daemon=True)
        self._thread.start()

    def expect(self, grade_id: str | None) -> None:
        with self._busy:
            self._current = grade_id

    def settle(self, timeout: float) -> None:
        """Wait until no check is running (a check still talking to the kernel records its
        verdict first)."""
        with self._busy:
            self._busy.wait_for(lambda: self._running == 0, timeout)

    def close(self) -> None:
        try:
            self._server.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._server.close()
        shutil.rmtree(self.folder, ignore_errors=True)

    def _accept(self) -> None:
        while True:
            try:
                sock, _ = self._server.accept()
            except OSError:
                return
            with self._busy:
                self._running += 1
                grade_id = self._current
            try:
                sock.settimeout(self.timeout)
                self._serve(sock, grade_id)
            except Exception as err:  # noqa: BLE001  nothing from the kernel stops the checker
                self.notes.append((grade_id, f"the channel to the grader failed ({type(err).__name__})"))
            finally:
                sock.close()
                with self._busy:
                    self._running -= 1
                    self._busy.notify_all()

    def _serve(self, sock, grade_id: str | None) -> None:
        session = Session(sock)
        msg, blobs = session.receive()
        check = self.checks.TESTS.get(grade_id) if grade_id else None
        asked = str(msg.get("check", ""))[:200]
        if msg.get("op") != "check" or check is None or asked != f"{self.module}.{check.__name__}":
            where = f"in cell {grade_id}" if grade_id else "outside its test cell"
            self.notes.append((grade_id, f"the notebook asked for the hidden check {asked!r} {where} "
                               "(refused)"))
            wire.send(sock, {"op": "verdict", "passed": False,
                             "message": "The grader's checks run only in their own test cell."})
            return
        if grade_id in self.verdicts:  # asked again in the same cell: the first answer stands
            passed, message = self.verdicts[grade_id]
        else:
            passed, message = self._run(check, session, msg, blobs)
            self.verdicts[grade_id] = (passed, message)
        try:
            wire.send(sock, {"op": "verdict", "passed": passed, "message": message})
        except OSError:  # the kernel is gone (interrupted, stopped): the verdict stands anyway
            pass

    def _run(self, check, session, msg, blobs) -> tuple[bool, str]:
        try:
            args = session.decode(msg.get("args"), blobs)
            if not isinstance(args, list):
                raise wire.ChannelClosed("malformed request")
            with context.seeded(self.secret), context.variant(self.numbers):
                check(*args)
            return True, ""
        except context.CheckFailed as failure:
            return False, str(failure)
        except wire.ChannelClosed as err:
            return False, (f"The hidden tests of this cell could not finish: {err}. This happens "
                           "when a cell runs past its time limit or the kernel stops.")
        except Exception as err:  # noqa: BLE001  e.g. a check that met an object it did not expect
            return False, (f"The hidden tests of this cell could not use what your code returned "
                           f"({type(err).__name__}: {str(err)[:300]}).")
