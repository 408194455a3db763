"""Random test data of the named distributions a spec's ``input_dist`` and ``target`` use.

A leaf module (NumPy only): the check kinds draw their inputs with it, and the spec loader
draws the same inputs to try each reference expression before any grading.
"""

from __future__ import annotations

import numpy as np


def make_array(kind: str, shape: tuple[int, ...], rng: np.random.Generator,
               scale: float = 1.0, shift: float = 0.0) -> np.ndarray:
    """Random test data of a named distribution (see the spec's ``input_dist``)."""
    if kind == "normal":
        return rng.standard_normal(shape) * scale + shift
    if kind == "nonzero":  # away from kinks (ReLU at 0) so that gradients are defined
        x = rng.standard_normal(shape) * scale
        return x + np.where(x >= 0, 0.05, -0.05) * scale
    if kind in ("probs", "logprobs"):
        z = rng.standard_normal(shape) * 2
        logp = z - z.max(axis=1, keepdims=True)
        logp -= np.log(np.exp(logp).sum(axis=1, keepdims=True))
        return logp if kind == "logprobs" else np.exp(logp)
    if kind == "hard_probs":  # exact zeros and ones: log(0) must be clipped
        return np.eye(shape[1])[rng.integers(0, shape[1], shape[0])]
    if kind == "binary":  # independent exact zeros and ones (any shape, one column too)
        return rng.integers(0, 2, shape).astype(np.float64)
    if kind == "onehot":
        return np.eye(shape[1])[rng.integers(0, shape[1], shape[0])]
    if kind == "distinct":  # no two values closer than 1/size: max positions are unambiguous
        n = int(np.prod(shape))
        return (rng.permutation(n).reshape(shape) - n / 2) / max(n, 1) * 4 * scale
    if kind == "positive":  # variances
        return rng.uniform(0.5, 2.0, shape) * scale
    if kind == "branches":  # every branch of a mask: exact zeros, ties, both signs, extremes
        x = rng.standard_normal(shape) * scale
        flat = x.reshape(-1)
        flat[::4] = 0.0
        flat[1::4] = np.where(rng.random(flat[1::4].shape) < 0.5, -1.0, 1.0) * scale
        return x
    if kind == "ties":
        return rng.integers(0, 3, shape).astype(np.float64)
    raise ValueError(f"unknown distribution {kind!r}")
