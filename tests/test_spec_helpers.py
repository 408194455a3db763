"""Small helpers of the spec and of the check kinds tested directly: sample_dims (sizes of a
trial) and make_array (test data of a named distribution), on inputs drawn by hypothesis."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from autograder.kinds.base import make_array
from autograder.spec import sample_dims

seeds = st.integers(0, 2**32 - 1)
trials = st.integers(0, 5)


@st.composite
def int_ranges(draw) -> list[int]:
    lo = draw(st.integers(1, 50))
    return [lo, lo + draw(st.integers(0, 50))]


@given(int_ranges(), int_ranges(), seeds, trials)
def test_int_ranges_give_ints_within_the_bounds(batch, n, seed, trial):
    dims = sample_dims({"batch": batch, "n": n}, np.random.default_rng(seed), trial)
    for name, (lo, hi) in (("batch", batch), ("n", n)):
        assert isinstance(dims[name], int) and lo <= dims[name] <= hi


@given(st.lists(st.integers(1, 9), min_size=1, max_size=4), trials)
def test_cycle_takes_the_trials_value_so_every_value_is_exercised(values, trial):
    """Degenerate sizes are edge-case checks of their own: no size is forced on a trial,
    and ``cycle`` gives trial i the i-th value."""
    dims = sample_dims({"k": {"cycle": values}}, np.random.default_rng(0), trial)
    assert dims["k"] == values[trial % len(values)]


@given(st.floats(-10, 10), st.floats(0, 10), seeds, trials)
def test_float_ranges_are_uniform_within_the_bounds(lo, width, seed, trial):
    x = sample_dims({"x": [lo, lo + width]}, np.random.default_rng(seed), trial)["x"]
    assert isinstance(x, float) and lo <= x <= lo + width


@given(int_ranges(), seeds, trials)
def test_expressions_are_evaluated_over_the_sizes_drawn_before(n, seed, trial):
    spec = {"n": n, "k": 3, "m": "2 * n + k", "root": "sqrt(n)", "half": "max(1, n // 2)"}
    dims = sample_dims(spec, np.random.default_rng(seed), trial)
    assert dims["k"] == 3 and dims["m"] == 2 * dims["n"] + 3
    assert dims["root"] == pytest.approx(dims["n"] ** 0.5)
    assert dims["half"] == max(1, dims["n"] // 2)


# -- make_array --------------------------------------------------------------------------------

shapes = st.lists(st.integers(1, 6), min_size=1, max_size=4).map(tuple)
matrices = st.tuples(st.integers(1, 8), st.integers(1, 8))
scales = st.floats(0.1, 10)
ANY_SHAPE = ("normal", "nonzero", "distinct", "positive", "ties")
ROWS = ("probs", "logprobs", "onehot", "hard_probs")


@given(st.sampled_from(ANY_SHAPE), shapes, seeds, scales)
def test_arrays_have_the_requested_shape(kind, shape, seed, scale):
    x = make_array(kind, shape, np.random.default_rng(seed), scale)
    assert x.shape == shape and x.dtype == np.float64 and np.all(np.isfinite(x))


@given(st.sampled_from(ROWS), matrices, seeds)
def test_rows_of_probabilities_sum_to_one(kind, shape, seed):
    x = make_array(kind, shape, np.random.default_rng(seed))
    p = np.exp(x) if kind == "logprobs" else x
    assert x.shape == shape
    assert np.all(p >= 0) and np.all(p <= 1) and np.allclose(p.sum(axis=1), 1)
    if kind in ("onehot", "hard_probs"):
        assert set(np.unique(p)) <= {0.0, 1.0}


@given(shapes, seeds, scales)
def test_distinct_has_no_ties(shape, seed, scale):
    x = make_array("distinct", shape, np.random.default_rng(seed), scale)
    gaps = np.diff(np.sort(x.ravel()))
    assert np.unique(x).size == x.size
    assert gaps.size == 0 or gaps.min() >= 4 * scale / x.size * (1 - 1e-9)


@given(shapes, seeds, scales)
def test_nonzero_keeps_away_from_zero(shape, seed, scale):
    x = make_array("nonzero", shape, np.random.default_rng(seed), scale)
    assert np.abs(x).min() >= 0.05 * scale * (1 - 1e-9)


@given(shapes, seeds, scales)
def test_positive_is_a_variance_range(shape, seed, scale):
    x = make_array("positive", shape, np.random.default_rng(seed), scale)
    assert np.all(x >= 0.5 * scale) and np.all(x <= 2.0 * scale)


@given(shapes, seeds, st.floats(-5, 5))
def test_normal_shift_moves_the_data(shape, seed, shift):
    plain = make_array("normal", shape, np.random.default_rng(seed))
    shifted = make_array("normal", shape, np.random.default_rng(seed), shift=shift)
    assert np.allclose(shifted - plain, shift)


def test_an_unknown_distribution_is_an_error():
    with pytest.raises(ValueError, match="unknown distribution 'cauchy'"):
        make_array("cauchy", (2, 2), np.random.default_rng(0))
