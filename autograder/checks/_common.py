"""Helpers shared by every hidden check.

A check calls the student's code through `call`, compares what came back with an independent oracle
through the `expect_*` helpers, and on the first mismatch raises `CheckFailed` with a message
written for the student: what was expected, what came back, and which idea to revisit.

When grading, the checks run in the trusted checker (autograder/checker.py), not in the student's
kernel: the student's functions and objects arrive as `RemoteObject`s whose calls cross a data-only
channel, and `rng` is seeded with a secret the kernel never sees. The same checks also run in
one process, on plain Python objects (the catalogs' tests do), with the seeds as written.
"""
from __future__ import annotations

import contextlib
import contextvars
import warnings

import numpy as np


class CheckFailed(AssertionError):
    """A hidden check failed. Its message is written for the student, not for us."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


def fail(problem: str, *, expected=None, got=None, revisit: str) -> None:
    """Raise `CheckFailed` saying what went wrong, what was expected, what came back, what to revisit."""
    __tracebackhide__ = True  # noqa: F841  (IPython and pytest hide this frame)
    lines = [problem]
    if expected is not None:
        lines.append(f"  expected: {expected}")
    if got is not None:
        lines.append(f"  got:      {got}")
    lines.append(f"  revisit:  {revisit}")
    raise CheckFailed("\n".join(lines))


def describe(x) -> str:
    """A short, readable description of a value for a failure message."""
    if isinstance(x, np.ndarray):
        body = np.array2string(x, precision=4, threshold=8, edgeitems=2, separator=", ")
        body = " ".join(body.split())
        return f"array of shape {x.shape}, dtype {x.dtype}: {body}"
    if isinstance(x, (np.generic, int, float, bool)):
        return f"{type(x).__name__} {x!r}"
    if hasattr(type(x), "measured_call"):  # a student's object, in the kernel (checker.py)
        return repr(x)
    return f"{type(x).__name__}: {x!r}"[:200]


_SECRET: contextvars.ContextVar = contextvars.ContextVar("secret", default=None)
_MODE: contextvars.ContextVar = contextvars.ContextVar("mode", default=None)


def rng(seed: int = 0) -> np.random.Generator:
    """The checks' random generator number `seed`; while grading, mixed with the run's secret."""
    secret = _SECRET.get()
    return np.random.default_rng(seed if secret is None else [secret, seed])


def public_rng(seed: int) -> np.random.Generator:
    """A generator the secret never changes: for what is part of the task rather than a question
    (the split of a public data set, which a student may know in advance), so that a check's
    verdict on such data is the same in every run."""
    return np.random.default_rng(seed)


@contextlib.contextmanager
def seeded(secret: int):
    """Within this block, `rng(k)` draws from a stream that depends on `secret` too."""
    token = _SECRET.set(secret)
    try:
        yield
    finally:
        _SECRET.reset(token)


@contextlib.contextmanager
def _mode(mode: str):
    """How numpy's floating-point warnings count in the student's code: here, and (through
    `current_mode`) in the kernel, where a remote call runs."""
    token = _MODE.set(mode)
    try:
        yield
    finally:
        _MODE.reset(token)


def current_mode() -> str | None:
    return _MODE.get()


@contextlib.contextmanager
def numpy_warnings_as_errors():
    """Overflow, invalid values and divide-by-zero raise instead of printing a warning.
    Underflow does not: a stable implementation underflows on purpose (exp(-1e4) is 0)."""
    with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"), \
            warnings.catch_warnings(), _mode("strict"):
        warnings.simplefilter("error", RuntimeWarning)
        yield


def call(fn, *args, what: str, revisit: str, strict: bool = False, hint: str = "", **kwargs):
    """Call student code; turn any exception into a failure message that names the call.

    With strict=True, numpy's floating-point warnings (overflow, invalid value, divide by zero)
    count as failures too: a stable implementation never triggers them. `hint` is added to the
    message when one does.
    """
    __tracebackhide__ = True  # noqa: F841
    guard = numpy_warnings_as_errors() if strict else contextlib.nullcontext()
    try:
        with guard:
            return fn(*args, **kwargs)
    except CheckFailed:
        raise
    except NotImplementedError:
        fail(f"{what} is not implemented yet.",
             expected="your code in place of `raise NotImplementedError()`",
             got="NotImplementedError", revisit=revisit)
    except (FloatingPointError, RuntimeWarning) as err:
        fail(f"{what} triggered a numpy floating-point warning: {err}. "
             "A numerically stable implementation never overflows or takes log(0)."
             + (f" {hint}" if hint else ""),
             expected="finite values and no overflow, divide-by-zero or invalid-value warning",
             got="a numpy floating-point warning", revisit=revisit)
    except Exception as err:  # the student's code may raise anything
        fail(f"{what} raised {type(err).__name__}: {err}", revisit=revisit)


def strict_call(fn, *args, **kwargs):
    """`call` with numpy's overflow, invalid-value and divide-by-zero warnings as failures."""
    __tracebackhide__ = True  # noqa: F841
    return call(fn, *args, strict=True, **kwargs)


def quiet_call(fn, *args, what: str, revisit: str, **kwargs):
    """`call` with numpy's warnings silenced: to look at what an unstable version returns."""
    __tracebackhide__ = True  # noqa: F841
    with np.errstate(all="ignore"), warnings.catch_warnings(), _mode("quiet"):
        warnings.simplefilter("ignore", RuntimeWarning)
        return call(fn, *args, what=what, revisit=revisit, **kwargs)


def measured_call(fn, *args, what: str, revisit: str):
    """`call`, returning (result, the peak memory in bytes the call allocated). For a student's
    object in the kernel the kernel measures it (tracemalloc, which numpy reports to): only the
    kernel can see it, so a determined student could fake it."""
    __tracebackhide__ = True  # noqa: F841
    remote = getattr(type(fn), "measured_call", None)
    if remote is not None:
        return call(remote, fn, args, {}, what=what, revisit=revisit)
    from ..kernel_agent import peak_memory
    return peak_memory(call, fn, *args, what=what, revisit=revisit)


def as_float(x):
    """x as a float64 array, or None when it is not numbers."""
    try:
        return np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        return None


def matches(got, expected, rtol: float = 1e-6, atol: float = 1e-10) -> bool:
    """Whether got has expected's shape and values: used to recognise a known mistake."""
    got = as_float(got)
    expected = np.asarray(expected, dtype=np.float64)
    with np.errstate(all="ignore"):
        return got is not None and got.shape == expected.shape and bool(
            np.allclose(got, expected, rtol=rtol, atol=atol))


def expect_shape(got, shape, *, what: str, revisit: str) -> None:
    __tracebackhide__ = True  # noqa: F841
    got_shape = np.shape(got)
    if got_shape != tuple(shape):
        fail(f"{what} has the wrong shape.", expected=f"shape {tuple(shape)}",
             got=f"shape {got_shape} ({describe(np.asarray(got))})", revisit=revisit)


def expect_dtype(got, dtype, *, what: str, revisit: str) -> None:
    __tracebackhide__ = True  # noqa: F841
    got_dtype = np.asarray(got).dtype
    if got_dtype != np.dtype(dtype):
        fail(f"{what} has the wrong dtype.", expected=f"dtype {np.dtype(dtype)}",
             got=f"dtype {got_dtype}", revisit=revisit)


def expect_close(got, expected, *, what: str, revisit: str, rtol: float = 1e-7,
                 atol: float = 1e-12) -> None:
    """Shape first, then values (NaN never matches); the message shows the worst element."""
    __tracebackhide__ = True  # noqa: F841
    expected = np.asarray(expected)
    try:
        got_arr = np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError):
        fail(f"{what} is not an array of numbers.", expected=describe(expected), got=describe(got),
             revisit=revisit)
    expect_shape(got_arr, expected.shape, what=what, revisit=revisit)
    exp = expected.astype(np.float64)
    with np.errstate(all="ignore"):
        ok = np.isclose(got_arr, exp, rtol=rtol, atol=atol) | (np.isinf(exp) & (got_arr == exp))
    if not np.all(ok):
        bad = np.unravel_index(np.argmin(ok), ok.shape) if ok.ndim else ()
        where = f" (first difference at index {tuple(int(i) for i in bad)}: expected " \
                f"{exp[bad]:.6g}, got {got_arr[bad]:.6g})" if ok.ndim else ""
        fail(f"{what} has wrong values{where}.", expected=describe(expected),
             got=describe(np.asarray(got)), revisit=revisit)


def expect_unchanged(originals: dict, *, what: str, revisit: str) -> None:
    """`originals` maps a name to (the array passed in, a copy taken before the call)."""
    __tracebackhide__ = True  # noqa: F841
    for name, (passed, copy) in originals.items():
        if not np.array_equal(passed, copy, equal_nan=True):
            fail(f"{what} modified its input `{name}` in place. Your function must leave its "
                 "inputs as they were: work on a copy or build a new array.",
                 expected=f"{name} unchanged: {describe(copy)}", got=describe(passed),
                 revisit=revisit)


def snapshot(**arrays) -> dict:
    """Remember inputs before a call, for `expect_unchanged`."""
    return {name: (a, np.array(a, copy=True)) for name, a in arrays.items()}


def central_difference(f, x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """The checks' own numerical gradient of a scalar function (an oracle, float64)."""
    x = np.array(x, dtype=np.float64, copy=True)
    grad = np.empty_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + eps
        up = f(x)
        x[i] = old - eps
        down = f(x)
        x[i] = old
        grad[i] = (up - down) / (2 * eps)
    return grad

