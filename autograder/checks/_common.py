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
import re
import sys
import warnings
import weakref

import numpy as np

# What a check runs in (the checker sets it): re-exported for the checks and the catalogs.
from ..trusted.context import (CheckFailed, current_mode, current_numbers,  # noqa: F401
                               current_secret, seeded, variant)
from ..trusted.context import mode as _mode
from ..trusted.wire import STRICT  # the same errors count in the kernel (kernel_agent._call)


def fail(problem: str, *, expected=None, got=None, revisit: str) -> None:
    """Raise `CheckFailed` saying what went wrong, what was expected, what came back, what to revisit."""
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


def rng(seed: int = 0) -> np.random.Generator:
    """The checks' random generator number `seed`; while grading, mixed with the run's secret."""
    secret = current_secret()
    return np.random.default_rng(seed if secret is None else [secret, seed])


def public_rng(seed: int) -> np.random.Generator:
    """A generator the secret never changes: for what is part of the task rather than a question
    (the split of a public data set, which a student may know in advance), so that a check's
    verdict on such data is the same in every run."""
    return np.random.default_rng(seed)


def numbers() -> dict:
    """The numbers of the student whose notebook is being checked: their course id's, computed
    by the grader from the student id the submission came with, never read from the notebook."""
    values = current_numbers()
    if values is None:  # the checks run in the kernel (no trusted checker): its course id
        values = _numbers_from_environment(sys._getframe(1).f_globals.get("__name__", ""))
    if values is None:
        raise CheckFailed("The grader could not tell which numbers are yours (it has no course "
                          "id for you), so this question was not checked. Tell your instructor.")
    return dict(values)


def _numbers_from_environment(module: str) -> dict | None:
    """Where the checks run in the kernel itself (nbgrader by hand, the benchmarks' in-kernel
    set-up, a source notebook run to test it), the numbers of the course id the kernel was
    given (`variants.ID_ENV`): the kernel is trusted there anyway."""
    import os

    from .. import course, variants
    cid = os.environ.get(variants.ID_ENV)
    name = module.rsplit(".", 1)[-1]
    assignment = next((a for a in course.assignments() if course.module_name(a) == name), None)
    return variants.numbers(assignment, cid) if cid and assignment else None


@contextlib.contextmanager
def numpy_warnings_as_errors():
    """Overflow, invalid values and divide-by-zero raise instead of printing a warning.
    Underflow does not: a stable implementation underflows on purpose (exp(-1e4) is 0)."""
    with np.errstate(**STRICT), \
            warnings.catch_warnings(), _mode("strict"):
        warnings.simplefilter("error", RuntimeWarning)
        yield


# What an exception raised inside the student's code most likely means, by its kind (`error_kind`).
# A check may give its own hint for a kind (`call(..., hints={"matmul": ...})`): the mistake that
# its exercise makes likely, in the exercise's own names.
HINTS = {
    "matmul": "a matrix product whose inner sizes differ: A @ B needs the last axis of A as long "
              "as the second-to-last axis of B. Write each operand's shape next to the product: "
              "the operands are likely in the wrong order, or one of them needs a transpose (.T).",
    "broadcast": "arrays whose shapes do not line up element by element (numpy matches shapes "
                 "from the last axis). A reduction such as sum or max over an axis drops that "
                 "axis: keep it with keepdims=True, so that the result broadcasts back against "
                 "the array it came from. A vector of one value per column lines up with the "
                 "last axis as it is, not reshaped to a column.",
    "floating-point": "numpy's floating-point error (here overflow, division by zero and invalid "
                      "values count as errors): exp of a large number overflows (above about 709 "
                      "in float64, 88.7 in float32), log(0) is -inf, and inf/inf or 0/0 is nan. A "
                      "stable formula exponentiates only numbers <= 0 and never takes the log of "
                      "a probability that may have rounded to 0.",
    "axis": "an axis the array does not have: count its dimensions (ndim), and use axis=-1 for "
            "the last one whatever the number of batch axes.",
    "reshape": "a reshape to a size that is not the array's: derive the shape from the input "
               "(x.shape) instead of writing numbers.",
    "attribute": "an attribute that was never set: check its name against the contract (what "
                 "__init__ or forward stores, what backward reads).",
    "name": "a name that is not defined where your code runs: a helper that does not exist, a "
            "typo, or a variable set only in another cell.",
    "type": "a value of a type the operation cannot take: check what each function receives and "
            "returns (a numpy array, a number, a tuple).",
    "index": "an index past the end of an axis: check which axis you index and its length.",
}


def error_kind(err: BaseException) -> str | None:
    """The kind of a student's exception, for `HINTS`: from its type name and its message (in
    the trusted checker a student's exception arrives as exactly these two)."""
    name, message = _error_name(err), str(err)
    if name in ("FloatingPointError", "RuntimeWarning"):
        return "floating-point"
    if "did not contain a loop" in message:
        return "type"
    if message.startswith("matmul:") or " not aligned" in message:
        return "matmul"
    if "could not be broadcast" in message:
        return "broadcast"
    if name == "AxisError" or "out of bounds for array of dimension" in message:
        return "axis"
    if "cannot reshape" in message:
        return "reshape"
    return {"AttributeError": "attribute", "NameError": "name", "UnboundLocalError": "name",
            "TypeError": "type", "UFuncTypeError": "type", "IndexError": "index"}.get(name)


def _error_name(err: BaseException) -> str:
    """The type name the student's code raised (the checker rebuilds an unknown type as a
    StudentError whose message starts with the original name)."""
    name = type(err).__name__
    if name == "StudentError":
        return str(err).split(":", 1)[0]
    return name


def raised(err: BaseException) -> str:
    """`Type: first line of the message`, without numpy's gufunc signature: what a student needs
    of an exception, never a traceback."""
    name, message = _error_name(err), str(err)
    if type(err).__name__ == "StudentError" and ":" in message:
        message = message.split(":", 1)[1]
    lines = message.strip().splitlines()
    first = re.sub(r",? with gufunc signature \S+", "", lines[0] if lines else "").strip()
    return f"{name}: {first}" if first else name


def inputs(args, kwargs) -> str:
    """What a call was given, by shape and dtype: 'an array of shape (5, 4), float64; axis=0'."""
    def one(x):
        if isinstance(x, np.ndarray):
            return f"an array of shape {x.shape}, {x.dtype}"
        if isinstance(x, (np.generic, int, float, bool, str)) or x is None:
            return repr(x.item() if isinstance(x, np.generic) else x)
        if isinstance(x, (list, tuple)):
            return f"a {type(x).__name__} of {len(x)}"
        if hasattr(type(x), "measured_call"):  # a student's object, in the kernel (checker.py)
            return repr(x)
        if isinstance(x, type):
            return f"the class {x.__name__}"
        return "a function" if callable(x) else f"a {type(x).__name__} object"
    parts = [one(a) for a in args] + [f"{k}={one(v)}" for k, v in kwargs.items()]
    return "; ".join(parts) if parts else "no arguments"


def where(err: BaseException) -> list[str]:
    """The lines of a failure message that show where in the student's own cells `err` was
    raised, outermost first, the line that raised last: `In [5] line 7, in softmax: e = ...`
    (the cell's execution count, as the notebook shows it). Over the channel, the kernel sent
    them with the exception (checker.raised_at); where the checks run in the kernel itself, the
    traceback has them; elsewhere (no IPython, no cells) there are none."""
    from ..trusted.kernel_agent import cell_frames
    frames, skipped = getattr(err, "raised_at", None) or cell_frames(err)
    shown = [f"In [{count}] line {line}, in {function}" + (f": {code}" if code else "")
             for count, line, function, code in frames]
    if shown and skipped:
        shown.insert(0, f"(and {skipped} outer call{'s' if skipped > 1 else ''} of your code "
                        "before these)")
    return [("  where:    " if i == 0 else " " * 12) + text for i, text in enumerate(shown)]


def call(fn, *args, what: str, revisit: str, strict: bool = False, hint: str = "",
         hints: dict | None = None, _shown: tuple | None = None, **kwargs):
    """Call student code; turn any exception into a failure message that says what was called,
    with what (shapes and dtypes), where in the student's cells it raised (`where`), what was
    raised (its type and first line), the likely mistake (`hints[kind]`, or the general
    `HINTS[kind]`) and where to revisit it.

    With strict=True, numpy's floating-point warnings (overflow, invalid value, divide by zero)
    count as failures too: a stable implementation never triggers them. `hint` is the likely
    mistake when one does (the same as hints={"floating-point": hint}).
    """
    guard = numpy_warnings_as_errors() if strict else contextlib.nullcontext()
    given, given_kw = _fresh(args), {k: _fresh(v) for k, v in kwargs.items()}
    try:
        with guard:
            return fn(*given, **given_kw)
    except CheckFailed:
        raise
    except NotImplementedError:
        fail(f"{what} is not implemented yet.",
             expected="your code in place of `raise NotImplementedError()`",
             got="NotImplementedError", revisit=revisit)
    except Exception as err:  # the student's code may raise anything
        kind = error_kind(err)
        mine = dict(hints or {})
        if hint:
            mine.setdefault("floating-point", hint)
        likely = mine.get(kind) or HINTS.get(kind)
        if kind == "floating-point":
            problem = (f"{what} triggered a numpy floating-point error ({raised(err)}): a "
                       "numerically stable implementation never overflows or takes log(0).")
        else:
            problem = f"{what} raised {raised(err)}."
        shown = (args, kwargs) if _shown is None else _shown
        lines = [problem, f"  inputs:   {inputs(*shown)}", *where(err)]
        if likely:
            lines.append(f"  likely:   {likely}")
        lines.append(f"  revisit:  {revisit}")
        raise CheckFailed("\n".join(lines), _error_name(err), kind) from None
    finally:
        _note_changes(args, given)
        _note_changes(tuple(kwargs.values()), tuple(given_kw.values()))


# Student code never gets the checks' own arrays: `call` hands it copies, so that what a check
# computes its expectations from stays as the check drew it, whatever the student's code does
# (zeroing an input in place cannot make a wrong answer right). A copy the student changed is
# remembered against the check's array, which is how `expect_unchanged` still sees in-place
# changes. Keyed by id, with a weak reference so that an id reused by a new array never counts.
_CHANGED: dict = {}


def _fresh(value):
    """A copy of an array (or of the arrays of a tuple or list) that student code receives."""
    if type(value) is np.ndarray:
        return value.copy()
    if type(value) in (tuple, list):
        return type(value)(_fresh(v) for v in value)
    return value


def _note_changes(originals, copies) -> None:
    for original, copy in zip(originals, copies):
        if type(original) in (tuple, list):
            _note_changes(original, copy)
        elif type(original) is np.ndarray and copy is not original and \
                not np.array_equal(copy, original, equal_nan=True):
            key = id(original)
            _CHANGED[key] = (weakref.ref(original, lambda _, k=key: _CHANGED.pop(k, None)), copy)


def changed_in_place(original: np.ndarray):
    """What student code made of the check's array `original` (through the copy it was given),
    or None if it left it unchanged."""
    entry = _CHANGED.get(id(original))
    return entry[1] if entry is not None and entry[0]() is original else None


def strict_call(fn, *args, **kwargs):
    """`call` with numpy's overflow, invalid-value and divide-by-zero warnings as failures."""
    return call(fn, *args, strict=True, **kwargs)


def quiet_call(fn, *args, what: str, revisit: str, **kwargs):
    """`call` with numpy's warnings silenced: to look at what an unstable version returns."""
    with np.errstate(all="ignore"), warnings.catch_warnings(), _mode("quiet"):
        warnings.simplefilter("ignore", RuntimeWarning)
        return call(fn, *args, what=what, revisit=revisit, **kwargs)


def measured_call(fn, *args, what: str, revisit: str, hints: dict | None = None):
    """`call`, returning (result, the peak memory in bytes the call allocated). For a student's
    object in the kernel the kernel measures it (tracemalloc, which numpy reports to): only the
    kernel can see it, so a determined student could fake it."""
    remote = getattr(type(fn), "measured_call", None)
    if remote is not None:
        return call(remote, fn, args, {}, what=what, revisit=revisit, hints=hints,
                    _shown=(args, {}))
    from ..trusted.kernel_agent import peak_memory
    return peak_memory(call, fn, *args, what=what, revisit=revisit, hints=hints)


def batched_call(fn, *args, reference, what: str, revisit: str, hints: dict | None = None,
                 ratio: float = 10.0, floor: float = 0.3):
    """`call` on a large input (a million elements, or half a million short rows), failing as
    well when it takes the time of a Python loop over the elements or rows (a for loop, a
    comprehension, `np.vectorize`, `np.apply_along_axis`): more CPU seconds than both `floor`
    and `ratio` times what `reference()`, the checks' own whole-array computation, takes. A loop
    runs the interpreter once per element or row and takes from ten to a hundred times longer.
    CPU seconds, which a busy machine does not inflate; for a student's code in the kernel the
    kernel measures them, as it does peak memory, so a determined student could fake them.
    A call is stopped once it has spent three times what it may (a loop over a million
    elements would take from 5 to 30 s to finish, and is known as one after a second)."""
    from ..trusted.kernel_agent import cpu_seconds
    remote = getattr(type(fn), "timed_call", None)

    def timed(budget):  # a call past its budget is stopped there (kernel_agent.cpu_seconds)
        if remote is not None:
            return call(remote, fn, args, {}, budget, what=what, revisit=revisit, hints=hints,
                        _shown=(args, {}))
        return cpu_seconds(call, fn, *args, budget=budget, what=what, revisit=revisit,
                           hints=hints)
    budget = 3 * floor
    out, taken = timed(budget)
    if taken is None or taken <= floor:
        return out
    whole = min(cpu_seconds(reference)[1] for _ in range(3))
    limit = max(floor, ratio * whole)
    stopped = taken >= budget  # then `taken` is only a lower bound
    # Again if the first call paid for fresh memory (page faults count as CPU), or was stopped
    # before three times the limit (known only now).
    if (not stopped and limit < taken <= 3 * limit) or (stopped and 3 * limit > budget):
        budget = 3 * limit
        out, again = timed(budget)
        if again is not None:
            taken = again if stopped else min(taken, again)
    if taken > limit:
        more = "more than " if taken >= budget else ""
        fail(f"{what} took {more}{taken:.2f} s of CPU, where whole-array numpy takes "
             f"{whole:.3f} s: "
             "the cost of a Python loop over the elements or rows (a for loop, a comprehension, "
             "np.vectorize or np.apply_along_axis), which runs the interpreter once per element "
             "or row. The exercise asks for numpy operations on whole arrays.",
             expected=f"at most {limit:.2f} s", revisit=revisit,
             got=f"{more}{taken:.2f} s" + (" (stopped there)" if more else ""))
    return out


def answer(fn, name: str, *, revisit: str, numbers: bool = True, count: int | None = None,
           strict: bool = False):
    """What a question's answer function `name()` returns (it takes no argument), through `call`.
    With numbers=False, the value as it came back. Otherwise as float64 finite numbers: an array
    of any shape, or with `count`, a flat array of that many (a tuple of numbers); anything else
    fails with a message that says what the question wants."""
    name = name.removesuffix("()")
    out = call(fn, what=f"{name}()", revisit=revisit, strict=strict)
    if not numbers:
        return out
    values = as_float(out)
    if count is not None and values is not None:
        values = values.reshape(-1)
    if values is None or not np.all(np.isfinite(values)) or \
            count is not None and values.shape != (count,):
        wanted = f"a tuple of {count} numbers" if count is not None else "a finite number"
        fail(f"{name}() should return {wanted}.",
             expected=f"{count} numbers" if count is not None else "a number",
             got=describe(out), revisit=revisit)
    return values


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
    got_shape = np.shape(got)
    if got_shape != tuple(shape):
        fail(f"{what} has the wrong shape.", expected=f"shape {tuple(shape)}",
             got=f"shape {got_shape} ({describe(np.asarray(got))})", revisit=revisit)


def expect_dtype(got, dtype, *, what: str, revisit: str) -> None:
    got_dtype = np.asarray(got).dtype
    if got_dtype != np.dtype(dtype):
        fail(f"{what} has the wrong dtype.", expected=f"dtype {np.dtype(dtype)}",
             got=f"dtype {got_dtype}", revisit=revisit)


def expect_close(got, expected, *, what: str, revisit: str, rtol: float = 1e-7,
                 atol: float = 1e-12) -> None:
    """Shape first, then values (NaN never matches); the message shows the worst element."""
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
    for name, (passed, copy) in originals.items():
        changed = changed_in_place(passed)
        if changed is None and not np.array_equal(passed, copy, equal_nan=True):
            changed = passed
        if changed is not None:
            fail(f"{what} modified its input `{name}` in place. Your function must leave its "
                 "inputs as they were: work on a copy or build a new array.",
                 expected=f"{name} unchanged: {describe(copy)}", got=describe(changed),
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

