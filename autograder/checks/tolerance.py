"""How close is close enough: tolerances that scale with the values compared."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Tolerance:
    rtol: float
    atol: float

    def allowed(self, expected: np.ndarray) -> np.ndarray:
        # Relative to each value and to the array's scale: float32 code accumulates rounding
        # error proportional to the largest terms involved, not to each (possibly tiny) result.
        scale = float(np.max(np.abs(expected))) if expected.size else 0.0
        return self.atol + self.rtol * (np.abs(expected) + scale)

    def __str__(self) -> str:
        return f"atol {self.atol:g} + rtol {self.rtol:g}"


EXACT = Tolerance(1e-9, 1e-12)  # the grader's own probes compute in float64, exactly


def close(actual: np.ndarray, expected: np.ndarray, tol: Tolerance) -> bool:
    """Same shape and every value within ``tol`` of the expected one (NaN is never close)."""
    if actual.shape != expected.shape:
        return False
    with np.errstate(all="ignore"):
        return bool(np.all(np.abs(actual - expected) <= tol.allowed(expected)))
