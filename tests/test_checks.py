"""The checking vocabulary tested directly (autograder/checks): tolerances, assert_close and
its messages, and the diagnoses of common mistakes, on arrays drawn by hypothesis."""

from __future__ import annotations

import re
from functools import partial

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from autograder.checks import CheckFailed, Tolerance, all_close, assert_close, close
from autograder.checks.diagnoses import diagnose
from autograder.results import Cause

TOL = Tolerance(rtol=1e-5, atol=1e-7)
tolerances = st.builds(Tolerance, rtol=st.floats(1e-8, 1e-2), atol=st.floats(1e-12, 1e-3))
values = st.floats(-100, 100, allow_nan=False, allow_infinity=False)


def arrays(min_dims: int = 1, max_dims: int = 3, **shape) -> st.SearchStrategy[np.ndarray]:
    return hnp.arrays(np.float64, hnp.array_shapes(min_dims=min_dims, max_dims=max_dims,
                                                   max_side=6, **shape), elements=values)


def nonzero(a: np.ndarray) -> bool:
    return bool(np.abs(a).max() > 1e-3)


# -- Tolerance, close, assert_close ------------------------------------------------------------


@given(arrays(), tolerances)
def test_an_array_is_close_to_itself(a, tol):
    assert close(a, a.copy(), tol)
    assert assert_close(a, a.copy(), tol, "output", "here") is None


@given(arrays(), tolerances)
def test_the_allowed_error_is_at_least_atol_and_grows_with_the_values(a, tol):
    allowed = tol.allowed(a)
    assert allowed.shape == a.shape and np.all(allowed >= tol.atol)
    assert np.all(tol.allowed(2 * a) >= allowed)


@given(arrays(), tolerances, st.data(), st.floats(2, 1e3))
def test_a_perturbation_beyond_tolerance_fails_and_the_message_names_the_worst_index(
        a, tol, data, factor):
    index = tuple(data.draw(st.integers(0, n - 1)) for n in a.shape)
    actual = a.copy()
    actual[index] += factor * tol.allowed(a)[index] + 1e-6
    assert not close(actual, a, tol)
    with pytest.raises(CheckFailed) as failed:
        assert_close(actual, a, tol, "output", "for a batch of 3")
    message = failed.value.message
    assert message.startswith("output is wrong for a batch of 3")
    at = "[" + ", ".join(str(i) for i in index) + "]"
    assert f" at {at}:" in message
    assert f"1 of {a.size} values outside tolerance ({tol})" in message


@given(arrays(), tolerances)
def test_nan_is_never_close(a, tol):
    actual = a.copy()
    actual.flat[0] = np.nan
    assert not close(actual, a, tol)


@given(arrays(min_dims=2, max_dims=2), tolerances)
def test_another_shape_is_never_close(a, tol):
    assume(a.shape[0] != a.shape[1])
    assert not close(a.T, a, tol)
    with pytest.raises(CheckFailed, match=re.escape("shape: expected")):
        assert_close(a.T, a, tol, "output", "here")


def test_a_scalar_loss_may_come_as_shape_1():
    assert assert_close(np.array([2.5]), np.asarray(2.5), TOL, "loss", "here") is None
    assert assert_close(2.5, np.asarray(2.5), TOL, "loss", "here") is None


@pytest.mark.parametrize(("value", "cause"), [(None, Cause.RETURNED_NONE),
                                              ([1.0, 2.0], Cause.BAD_TYPE),
                                              (np.array(["a"]), Cause.BAD_TYPE)])
def test_what_is_not_a_numeric_array_is_named(value, cause):
    with pytest.raises(CheckFailed) as failed:
        assert_close(value, np.zeros(1), TOL, "output", "here")
    assert failed.value.cause == cause and "output" in failed.value.message


# -- diagnose ----------------------------------------------------------------------------------


def cause_of(actual: np.ndarray, expected: np.ndarray, batch: int | None = None,
             mistakes: list | None = None) -> str | None:
    return diagnose(actual, expected, TOL, batch, {}, mistakes or [])[0]


@given(arrays(), st.integers(2, 64))
def test_scaled_by_the_batch_size_is_times_batch(e, batch):
    assume(nonzero(e))
    assert cause_of(e * batch, e, batch) == Cause.TIMES_BATCH
    assert cause_of(e / batch, e, batch) == Cause.OVER_BATCH


@given(arrays())
def test_negated_is_sign_flip(e):
    assume(nonzero(e) and not (e.ndim == 2 and close(-e, e.T, TOL)))
    assert cause_of(-e, e) == Cause.SIGN_FLIP
    assert cause_of(-e, e, batch=1) == Cause.SIGN_FLIP


@given(arrays(), st.floats(3.0, 100.0))
def test_an_arbitrary_factor_is_named_only_over_several_values(e, c):
    assume(nonzero(e))
    expected = cause_of(e * c, e, batch=1)
    assert expected == (Cause.FACTOR if np.count_nonzero(e) > 1 else None)


@given(arrays(min_dims=2, max_dims=2))
def test_transposed_is_transposed(e):
    assume(not close(e.T, e, TOL) if e.shape[0] == e.shape[1] else e.shape != (1, 1))
    assert cause_of(e.T.copy(), e) == Cause.TRANSPOSED


@given(hnp.arrays(np.float64, st.tuples(*[st.integers(1, 4)] * 4),
                  elements=st.floats(-10, 10, width=32)))
def test_image_axes_in_another_order_are_named(e):
    """A blind round's Conv2d returned (n, c, w, h): "check which axes you sum over" sent the
    student to the sums."""
    swapped = e.transpose(0, 1, 3, 2)
    assume(not close(swapped, e, TOL) if swapped.shape == e.shape else True)
    assume(np.count_nonzero(e) > 1)
    cause, sentence = diagnose(swapped.copy(), e, TOL, None, {}, [])
    assert cause == Cause.TRANSPOSED and "axes are in the wrong order" in sentence


@given(arrays())
def test_all_zeros_is_zeros(e):
    assume(nonzero(e))
    cause, sentence = diagnose(np.zeros_like(e), e, TOL, None, {}, [])
    assert cause == Cause.ZEROS and "all zeros" in sentence


@given(arrays(), st.sampled_from([np.nan, np.inf, -np.inf]), st.data())
def test_nan_or_inf_is_nonfinite(e, bad, data):
    actual = e.copy()
    actual.flat[data.draw(st.integers(0, e.size - 1))] = bad
    cause, sentence = diagnose(actual, e, TOL, 4, {"nonfinite": "clip the logits"}, [])
    assert cause == Cause.NONFINITE and sentence.endswith("clip the logits")


@given(arrays())
def test_a_known_mistake_is_named_first(e):
    wrong = e + 1.0
    assert diagnose(wrong, e, TOL, 4, {}, [(wrong, "forgot the bias")]) == \
        (Cause.SPEC_MISTAKE, "forgot the bias")


def test_a_failure_names_every_wrong_result():
    """A blind round's Linear divided gradW and gradb by the batch: only gradW was named, and
    gradb showed up once gradW was fixed."""
    e = np.arange(1.0, 7.0).reshape(2, 3)
    with pytest.raises(CheckFailed) as info:
        all_close(partial(assert_close, e / 2, e, TOL, "gradW", "here", 2),
                  partial(assert_close, e[0] / 2, e[0], TOL, "gradb", "here", 2))
    first, *rest = info.value.message.splitlines()
    assert first.startswith("gradW is wrong here")
    assert any(line.startswith("  also: gradb is wrong here; likely cause:") for line in rest)
