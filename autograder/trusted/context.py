"""What a hidden check runs in, set by the trusted checker (checker.py) around each check and by
the catalogs' tests around theirs: the run's secret (which seeds the checks' `rng`), the graded
student's numbers (variants.py), how numpy's floating-point warnings count in the student's code
(`mode`), and `CheckFailed`, the one way a check fails. The checks (autograder/checks/_common.py)
read them; the checker sets them.
"""
from __future__ import annotations

import contextlib
import contextvars

_SECRET: contextvars.ContextVar = contextvars.ContextVar("secret", default=None)
_MODE: contextvars.ContextVar = contextvars.ContextVar("mode", default=None)
_NUMBERS: contextvars.ContextVar = contextvars.ContextVar("numbers", default=None)


class CheckFailed(AssertionError):
    """A hidden check failed. Its message is written for the student, not for us. When the
    student's code raised, `error` is the exception's type name and `kind` its kind (`HINTS`)."""

    def __init__(self, message: str, error: str | None = None, kind: str | None = None):
        super().__init__(message)
        self.message, self.error, self.kind = message, error, kind

    def __str__(self) -> str:
        return self.message


@contextlib.contextmanager
def seeded(secret: int):
    """Within this block, `rng(k)` draws from a stream that depends on `secret` too."""
    token = _SECRET.set(secret)
    try:
        yield
    finally:
        _SECRET.reset(token)


@contextlib.contextmanager
def variant(values: dict | None):
    """Within this block, `numbers()` is this student's numbers (autograder/variants.py)."""
    token = _NUMBERS.set(values)
    try:
        yield
    finally:
        _NUMBERS.reset(token)


@contextlib.contextmanager
def mode(mode: str):
    """How numpy's floating-point warnings count in the student's code: here, and (through
    `current_mode`) in the kernel, where a remote call runs."""
    token = _MODE.set(mode)
    try:
        yield
    finally:
        _MODE.reset(token)


def current_mode() -> str | None:
    return _MODE.get()


def current_secret() -> int | None:
    return _SECRET.get()


def current_numbers() -> dict | None:
    return _NUMBERS.get()
