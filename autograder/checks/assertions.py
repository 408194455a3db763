"""Assertions on what student code returned: ``CheckFailed`` with what was expected, what
came, where, and the likely cause."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from autograder.checks.diagnoses import diagnose
from autograder.checks.tolerance import Tolerance, close
from autograder.results import Cause
from autograder.wire import Handle, Opaque


class CheckFailed(Exception):
    """A trial of a check failed; ``message`` is shown to the student, ``cause`` is an id.
    ``mistakes``: which result matched which exactly known mistake (``mistake_keys``: the
    mistake's names, several where sizes make them one), one entry per wrong result; empty
    unless every wrong result is such a mistake."""

    def __init__(self, message: str, cause: Cause | None = None,
                 mistakes: tuple[frozenset[str], ...] = ()):
        super().__init__(message)
        self.message = message
        self.cause = cause
        self.mistakes = mistakes


# Diagnoses that identify a mistake exactly (the wrong result equals the mistake's result),
# rather than describe a symptom (a shape, NaN, an arbitrary factor).
EXACT_MISTAKES = frozenset({Cause.SPEC_MISTAKE, Cause.TIMES_BATCH, Cause.OVER_BATCH,
                            Cause.SIGN_FLIP, Cause.FACTOR_2, Cause.FACTOR_HALF,
                            Cause.TRANSPOSED, Cause.RESHAPED})
# The mistake of a forward right at ordinary inputs whose output is not finite at a check's
# (larger) inputs. Only a forward check charges it (kinds/layer.py): a gradInput that is NaN
# because the forward's output was is excused by it, never the other way round.
OVERFLOW = "the output: not finite where PyTorch's is, though right at ordinary inputs"
# The name of a result wrong at a component's ordinary inputs for no known reason (``wrong``
# in ``assert_close``). Only the finite-difference check is excused by it, and only where the
# student's forward is right: there its finite differences are PyTorch's gradient, so a
# wrong backward is the one the ordinary gradient check already charged, seen again.
UNEXPLAINED = "unexplained: "


def unexplained(what: str) -> str:
    return f"{UNEXPLAINED}{what}"


def explained(mistakes: tuple[frozenset[str], ...]) -> bool:
    """Whether every wrong result of a failure is a known mistake (not only unexplained)."""
    return bool(mistakes) and all(any(not k.startswith(UNEXPLAINED) for k in names)
                                  for names in mistakes)


# At batch size 2, dividing by the batch is halving, and multiplying by it doubling.
SAME_AT_BATCH_2 = {Cause.OVER_BATCH: Cause.FACTOR_HALF, Cause.TIMES_BATCH: Cause.FACTOR_2}


def mistake_keys(what: str, cause_id: str | None, cause: str,
                 batch: int | None = None) -> frozenset[str]:
    """The names of the exact mistake ``what`` (the output, gradInput, gradW, ...) matched:
    empty for any other failure. A spec mistake is named by its sentence alone, whatever
    result shows it: one wrong formula seen in the output, in the gradient a backward computes
    from the forward's cache and in a moving average is one mistake (the spec gives each of
    those results the same sentence). The generic ones are named by their id and the result
    (a sign flip in the output and one in gradInput are two mistakes; their sentences name the
    batch size, which differs between checks)."""
    if cause_id not in EXACT_MISTAKES:
        return frozenset()
    if cause_id == Cause.SPEC_MISTAKE:
        return frozenset({f"mistake: {cause}"})
    same = SAME_AT_BATCH_2.get(cause_id) if batch == 2 else None
    return frozenset(f"{what}: {c}" for c in (cause_id, same) if c)


def fmt_shape(shape: tuple[int, ...]) -> str:
    return "(" + ", ".join(str(n) for n in shape) + ("," if len(shape) == 1 else "") + ")"


def as_array(value: Any, what: str) -> np.ndarray:
    """Accept plain numeric arrays and Python/NumPy scalars; reject anything else clearly."""
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "biuf":
            raise CheckFailed(f"{what} has dtype {value.dtype}; expected a numeric array",
                              Cause.BAD_TYPE)
        return value
    if isinstance(value, (bool, int, float)):
        return np.asarray(float(value))
    if value is None:
        raise CheckFailed(f"{what} is None: did you forget to return it or to set it?",
                          Cause.RETURNED_NONE)
    if isinstance(value, Opaque):
        raise CheckFailed(f"{what} is a {value.type_name}; expected a plain numpy.ndarray",
                          Cause.BAD_TYPE)
    if isinstance(value, Handle):
        raise CheckFailed(f"{what} is an object; expected a numpy.ndarray", Cause.BAD_TYPE)
    kind = type(value).__name__
    raise CheckFailed(f"{what} is a {kind}; expected a numpy.ndarray", Cause.BAD_TYPE)


def assert_close(actual: Any, expected: np.ndarray, tol: Tolerance, what: str,
                 where: str, batch: int | None = None, hints: dict | None = None,
                 mistakes: Callable[[], list[tuple[np.ndarray, str]]] | None = None,
                 state: bool = False, wrong: str | None = None) -> None:
    """Raise CheckFailed with expected/actual, the worst element and a likely cause.

    ``state``: an internal array nobody downstream sees in its own shape (moving statistics);
    a broadcasting-equivalent shape, e.g. (1, n) for (n,), is accepted. ``wrong``: the
    failure also carries the key ``unexplained(wrong)``, whatever its cause.
    """
    actual = as_array(actual, what)
    expected = np.asarray(expected, dtype=np.float64)
    if actual.shape != expected.shape and actual.size == expected.size == 1:
        actual = actual.reshape(expected.shape)  # a loss may come as shape () or (1,)
    if state and actual.shape != expected.shape and same_broadcast(actual.shape, expected.shape):
        actual = actual.reshape(expected.shape)
    if close(actual, expected, tol):
        return
    # Every exact mistake the result is: with few features, the mean over all elements and a
    # missing factor 2 give one gradient, and either may be what an earlier check named. The
    # likely cause shown is the first (a spec mistake before a generic one, as ``diagnose``).
    spec = [m for other, m in (mistakes() if mistakes else []) if close(actual, other, tol)]
    generic = diagnose(actual, expected, tol, batch, hints or {}, [])
    cause_id, cause = (Cause.SPEC_MISTAKE, spec[0]) if spec else generic
    lines = [f"{what} is wrong {where}"]
    if actual.shape != expected.shape:
        lines.append(f"  shape: expected {fmt_shape(expected.shape)}, "
                     f"got {fmt_shape(actual.shape)}")
    else:
        lines.append(_worst(actual.astype(np.float64), expected, tol))
    if cause:
        lines.append(f"  likely cause: {cause}")
    keys = frozenset().union(*(mistake_keys(what, c, text, batch) for c, text in
                               [*((Cause.SPEC_MISTAKE, m) for m in spec), generic]))
    keys |= {unexplained(wrong)} if wrong else frozenset()
    raise CheckFailed("\n".join(lines), cause_id, (keys,) if keys else ())


class Failures:
    """Comparisons that run on after a failure: ``done`` raises the first failure, carrying
    the known mistakes of all of them (none unless every failure is one), so that a check
    excused for its first wrong result is never excused for a later one nobody compared."""

    def __init__(self) -> None:
        self.found: list[CheckFailed] = []

    def check(self, compare: Callable[[], None]) -> None:
        try:
            compare()
        except CheckFailed as exc:
            self.found.append(exc)

    def done(self) -> None:
        if not self.found:
            return
        first = self.found[0]
        exact = all(f.mistakes for f in self.found)
        first.mistakes = tuple(k for f in self.found for k in f.mistakes) if exact else ()
        # The others in a line each: two mistakes in one component are two things to fix.
        first.message += "".join(f"\n  also: {_summary(f.message)}" for f in self.found[1:])
        raise first


def _summary(message: str) -> str:
    """A failure's first line, with its likely cause."""
    lines = message.splitlines()
    cause = next((ln.strip() for ln in lines[1:] if ln.strip().startswith("likely cause")), "")
    return lines[0] + (f"; {cause}" if cause else "") if lines else ""


def all_close(*comparisons: Callable[[], None]) -> None:
    """Run every comparison (each an ``assert_close``), then raise as ``Failures.done``."""
    failures = Failures()
    for compare in comparisons:
        failures.check(compare)
    failures.done()


def same_broadcast(a: tuple[int, ...], b: tuple[int, ...]) -> bool:
    """Shapes that differ only by axes of length 1 (they broadcast against a batch alike
    when the leading axes are the ones added)."""
    return tuple(n for n in a if n != 1) == tuple(n for n in b if n != 1) and (
        a[len(a) - len(b):] == b if len(a) >= len(b) else b[len(b) - len(a):] == a)


def _worst(actual: np.ndarray, expected: np.ndarray, tol: Tolerance) -> str:
    with np.errstate(all="ignore"):
        err = np.abs(actual - expected)
        bad = ~(err <= tol.allowed(expected))
    err = np.where(np.isnan(err), np.inf, err)
    idx = np.unravel_index(int(np.argmax(err)), err.shape) if err.ndim else ()
    at = "[" + ", ".join(str(int(i)) for i in idx) + "]" if idx else ""
    return (f"  max abs error {float(err[idx]):.3g}{' at ' + at if at else ''}: "
            f"expected {float(expected[idx]):.6g}, got {float(actual[idx]):.6g}; "
            f"{int(bad.sum())} of {bad.size} values outside tolerance ({tol})")


def require(condition: bool, message: str, cause: Cause | None = None) -> None:
    """Fail the check with ``message`` unless ``condition`` holds."""
    if not condition:
        raise CheckFailed(message, cause)
