"""The reference cache returns exactly what PyTorch computed, and recovers from bad files."""

from __future__ import annotations

import numpy as np
import pytest

from autograder import refcache
from autograder.references import torch_reference


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("NNGRADE_CACHE", str(tmp_path / "refs"))
    return tmp_path / "refs"


def _linear(x: np.ndarray) -> dict[str, np.ndarray]:
    w, b = np.arange(6.0).reshape(2, 3), np.ones(2)
    return torch_reference("F.linear(x, W, b)", x, {"W": w, "b": b}, {},
                           grad_output=np.ones((x.shape[0], 2)), grads=True)


def test_a_cached_result_is_identical_and_skips_the_computation(cache, monkeypatch):
    x = np.random.default_rng(0).standard_normal((4, 3))
    first = _linear(x)
    assert len(list(cache.rglob("*.ref"))) == 1
    monkeypatch.setattr("autograder.references._evaluate",
                        lambda *a: pytest.fail("computed again despite the cache"))
    second = _linear(x)
    assert first.keys() == second.keys()
    assert all(np.array_equal(first[k], second[k]) for k in first)


def test_other_inputs_get_other_entries(cache):
    _linear(np.zeros((2, 3)))
    _linear(np.ones((2, 3)))
    _linear(np.ones((2, 3), dtype=np.float32))  # same values as float64: same key
    assert len(list(cache.rglob("*.ref"))) == 2


def test_a_corrupt_entry_is_recomputed(cache):
    x = np.ones((2, 3))
    expected = _linear(x)
    (entry,) = cache.rglob("*.ref")
    entry.write_bytes(b"\x00\x00\x00\x05garbage")
    again = _linear(x)
    assert np.array_equal(again["input"], expected["input"])


def test_the_cache_can_be_switched_off(tmp_path, monkeypatch):
    monkeypatch.setenv("NNGRADE_CACHE", "off")
    assert refcache.cache_dir() is None
    monkeypatch.setenv("HOME", str(tmp_path))
    _linear(np.ones((2, 3)))
    assert not list(tmp_path.rglob("*.ref"))


def test_run_once_runs_a_task_once_per_inputs_and_again_after_a_failure(cache):
    runs: list[str] = []

    def task(label: str, fail: bool = False):
        def run() -> None:
            runs.append(label)
            if fail:
                raise ValueError(label)
        return run

    refcache.run_once(task("a"), spec="one")
    refcache.run_once(task("b"), spec="one")  # done already for these inputs
    refcache.run_once(task("c"), spec="two")
    with pytest.raises(ValueError):
        refcache.run_once(task("d", fail=True), spec="three")
    refcache.run_once(task("e"), spec="three")  # a failure leaves no marker
    assert runs == ["a", "c", "d", "e"]


def test_run_once_without_a_cache_always_runs(monkeypatch):
    monkeypatch.setenv("NNGRADE_CACHE", "off")
    runs: list[int] = []
    for _ in range(2):
        refcache.run_once(lambda: runs.append(1), spec="one")
    assert runs == [1, 1]


def test_an_unchanged_spec_is_validated_once_per_cache(cache, monkeypatch):
    from autograder import spec

    spec.load_assignment("modules")
    monkeypatch.setattr(spec, "_check_all", lambda keyed: pytest.fail("validated again"))
    spec.load_assignment("modules")
