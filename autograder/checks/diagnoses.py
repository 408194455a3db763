"""Catalogue of common mistakes: given a wrong answer and the right one, name the likely cause.

Generic detectors look only at the two arrays (and the batch size); component-specific
mistakes come from the assignment spec as alternative references whose output the wrong
answer matches.
"""

from __future__ import annotations

import itertools

import numpy as np

from autograder.checks.tolerance import Tolerance, close
from autograder.results import Cause


def diagnose(actual: np.ndarray, expected: np.ndarray, tol: Tolerance, batch: int | None,
             hints: dict, mistakes: list[tuple[np.ndarray, str]]) -> tuple[str | None, str]:
    """Return (cause id, sentence) of the best-matching known mistake, or (None, "")."""
    actual = actual.astype(np.float64)
    for other, message in mistakes:
        if close(actual, other, tol):
            return Cause.SPEC_MISTAKE, message
    if not np.all(np.isfinite(actual)):
        return Cause.NONFINITE, "NaN or inf in the result" + (
            f": {hints['nonfinite']}" if "nonfinite" in hints else "")
    if actual.shape != expected.shape:
        return _shape_cause(actual, expected, tol)
    if expected.ndim == 2 and expected.shape[0] == expected.shape[1] \
            and close(actual, expected.T, tol):
        return Cause.TRANSPOSED, "the result is transposed"
    order = _axes_order(actual, expected, tol) if expected.ndim > 2 else None
    if order is not None:  # square images: (h, w) swapped keeps the shape
        return Cause.TRANSPOSED, _wrong_order(order)
    if not np.any(actual) and np.any(expected):
        return Cause.ZEROS, "all zeros: not computed, or reset after computing"
    return _factor_cause(actual, expected, tol, batch)


def _shape_cause(actual, expected, tol) -> tuple[str | None, str]:
    if actual.ndim == 2 and actual.shape == expected.shape[::-1]:
        if close(actual.T, expected, tol):
            return Cause.TRANSPOSED, "the result is transposed"
        return Cause.TRANSPOSED_SHAPE, "the result has the transposed shape"
    order = _axes_order(actual, expected, tol)
    if order is not None:
        return Cause.TRANSPOSED, _wrong_order(order)
    if actual.size == expected.size and close(actual.reshape(expected.shape), expected, tol):
        return Cause.RESHAPED, "right values, wrong shape: reshape to the expected shape"
    images = expected.ndim == 4  # convolutions, pooling
    if actual.ndim == expected.ndim and sorted(actual.shape) == sorted(expected.shape):
        return Cause.SHAPE, ("wrong shape: axes have each other's sizes: check the transpose "
                             "order" + (", and which padding or stride goes with the height "
                                        "and which with the width" if images else ""))
    sizes = (", the padding and the output size (h + 2 * padding - k) // stride + 1"
             if images else "")
    return Cause.SHAPE, f"wrong shape: check which axes you sum over{sizes}"


def _wrong_order(order: tuple[int, ...]) -> str:
    return (f"the axes are in the wrong order: the result is the right one transposed to axes "
            f"{order}; check the transpose order")


def _axes_order(actual, expected, tol) -> tuple[int, ...] | None:
    """The permutation of the expected result's axes (not the identity) that ``actual`` is,
    if any (an (n, c, w, h) image batch for (n, c, h, w), say)."""
    if actual.ndim != expected.ndim or actual.ndim > 6:
        return None
    for order in itertools.permutations(range(expected.ndim)):
        if order != tuple(range(expected.ndim)) and \
                tuple(expected.shape[i] for i in order) == actual.shape and \
                close(actual, expected.transpose(order), tol):
            return order
    return None


FACTORS = (
    (-1.0, "sign_flip", "sign flipped"),
    (2.0, "factor_2", "twice the right value (accumulated twice, or a factor 2 too many)"),
    (0.5, "factor_half", "half the right value (a factor 2 missing)"),
)


def _factor_cause(actual, expected, tol, batch) -> tuple[str | None, str]:
    denom = float(np.sum(expected * expected))
    if denom == 0.0:
        return None, ""
    c = float(np.sum(actual * expected)) / denom
    if not close(actual, c * expected, tol):
        return None, ""
    if batch and batch > 1:
        if abs(c - batch) <= 1e-3 * batch:
            return Cause.TIMES_BATCH, (
                f"off by a factor of the batch size ({batch}): criterions average over "
                "the batch, layers must not (only criterions divide by the batch size)")
        if abs(c * batch - 1) <= 1e-3:
            return Cause.OVER_BATCH, (
                f"divided by the batch size ({batch}): only criterions divide by the batch size")
    for factor, cause_id, text in FACTORS:
        if abs(c - factor) <= 1e-3 * abs(factor):  # float32 results give an inexact factor
            return cause_id, text
    if np.count_nonzero(expected) < 2:  # one value is some factor of any other: no cause
        return None, ""
    return Cause.FACTOR, f"off by a constant factor {c:.4g}"
