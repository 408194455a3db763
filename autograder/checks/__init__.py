"""The checking vocabulary: tolerances, assertions and diagnoses of wrong answers.

A leaf package: it imports nothing of the engine but the result model and the wire types,
so that every check kind, the MNIST check and the tests can use it without import circles.
The check kinds themselves live in ``autograder.kinds``.
"""

from autograder.checks.assertions import (
    OVERFLOW,
    UNEXPLAINED,
    CheckFailed,
    Failures,
    all_close,
    as_array,
    assert_close,
    explained,
    fmt_shape,
    require,
)
from autograder.checks.tolerance import EXACT, Tolerance, close

__all__ = ["EXACT", "OVERFLOW", "UNEXPLAINED", "CheckFailed", "Failures", "Tolerance",
           "all_close", "as_array", "assert_close", "close", "explained", "fmt_shape", "require"]
