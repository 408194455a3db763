"""Dropout: checked by its statistics, never against a fixed mask (students sample differently).

Bounds are six binomial standard deviations, so a correct implementation fails a trial with
probability below 1e-8: the checks cannot flake.
"""

from __future__ import annotations

import math

import numpy as np

from autograder.checks import CheckFailed, Tolerance, assert_close, fmt_shape, require
from autograder.kinds.base import Context, call_array, check_kind
from autograder.kinds.layer import Trial, untouched_pass
from autograder.results import Cause

SIGMAS = 6.0
STATS_SHAPE = (200, 300)


def _dropout(ctx: Context, p: float, training: bool):
    handle = ctx.session.new(ctx.name, p)
    ctx.session.set(handle, "training", training)
    return handle


def _forward(ctx: Context, handle, x: np.ndarray) -> np.ndarray:
    out = call_array(ctx, handle, "updateOutput", x, fallback="output",
                     what="the output of updateOutput")
    return _same_shape(out, x)


def _same_shape(out: np.ndarray, x: np.ndarray) -> np.ndarray:
    require(out.shape == x.shape, f"output shape {fmt_shape(out.shape)} differs from the input "
            f"shape {fmt_shape(x.shape)}", Cause.SHAPE)
    return out.astype(np.float64)


def _mask(out: np.ndarray, x: np.ndarray, p: float) -> np.ndarray:
    """Recover the keep-mask from output / input, requiring values 0 or 1/(1-p)."""
    ratio = out / x
    kept = np.isclose(ratio, 1.0 / (1.0 - p), rtol=1e-4)
    dropped = np.isclose(ratio, 0.0, atol=1e-6)
    if np.all(np.isclose(ratio[~dropped], 1.0, rtol=1e-4)) and not np.all(kept | dropped):
        cause = ("kept values are not scaled: inverted dropout multiplies kept values "
                 "by 1/(1-p) in training")
    elif np.all(np.isclose(ratio[~dropped], 1.0 / p, rtol=1e-4)) and not np.all(kept | dropped):
        cause = "kept values scaled by 1/p instead of 1/(1-p): p is the probability to DROP"
    else:
        cause = "each output must be 0 or input/(1-p)"
    require(bool(np.all(kept | dropped)), f"training output for p={p:.3g}: {cause}",
            Cause.DROPOUT_SCALE)
    return kept


def _kept(out: np.ndarray, x: np.ndarray, p: float, scaled: bool = True) -> np.ndarray:
    """The keep-mask of a training output, which must keep something (an all-zero output is
    not dropout; the drop rate itself is the statistics check's). ``scaled=False``: the mask
    is where the output is not zero, however kept values are scaled (the scaling is the
    statistics check's, so that it costs no other check)."""
    kept = _mask(out, x, p) if scaled else ~np.isclose(out, 0.0, atol=1e-12)
    require(bool(kept.any()), f"the training output dropped all {kept.size} values with "
            f"p={p:.3g}: nothing was computed, or everything was dropped",
            Cause.DROPOUT_RATE)
    return kept


def _binomial_ok(observed: float, prob: float, n: int) -> bool:
    return abs(observed - prob) <= SIGMAS * math.sqrt(prob * (1 - prob) / n) + 1.0 / n


@check_kind("dropout_eval")
def check_eval(ctx: Context) -> None:
    for _trial, rng, dims in ctx.trials():
        handle = _dropout(ctx, dims["p"], training=False)
        x = ctx.make_input(rng, dims)
        out = _forward(ctx, handle, x)
        assert_close(out, x, ctx.tol("float64"), "the output in evaluation mode",
                     f"for p={dims['p']:.3g} (must be the identity: no mask, no scaling)")
        g = rng.standard_normal(x.shape)
        grad = call_array(ctx, handle, "updateGradInput", x, g, fallback="gradInput")
        assert_close(grad, g, ctx.tol("float64"), "gradInput in evaluation mode",
                     "(must equal gradOutput)")


@check_kind("dropout_stats")
def check_stats(ctx: Context) -> None:
    for _trial, rng, dims in ctx.trials():
        p = dims["p"]
        handle = _dropout(ctx, p, training=True)
        x = rng.uniform(0.5, 2.0, STATS_SHAPE)
        kept = _mask(_forward(ctx, handle, x), x, p)
        # Independence first: a mask shared across rows has too few draws for a rate test.
        agree = p * p + (1 - p) ** 2  # two independent elements share their fate
        for axis, what in ((0, "rows (samples)"), (1, "columns (features)")):
            a, b = (kept[:-1], kept[1:]) if axis == 0 else (kept[:, :-1], kept[:, 1:])
            same = float(np.mean(a == b))
            require(_binomial_ok(same, agree, a.size),
                    f"neighbouring {what} share their mask {same:.1%} of the time, expected "
                    f"{agree:.1%} for independent elements: draw one Bernoulli value per "
                    f"element, with the input's full shape", Cause.DROPOUT_INDEPENDENCE)
        rate = 1.0 - kept.mean()
        require(_binomial_ok(rate, p, kept.size),
                f"dropped {rate:.1%} of {kept.size} values with p={p:.3g}: the drop "
                f"probability must be p (keep with probability 1-p)", Cause.DROPOUT_RATE)


@check_kind("dropout_fresh")
def check_fresh(ctx: Context) -> None:
    for _trial, rng, dims in ctx.trials():
        p = float(np.clip(dims["p"], 0.2, 0.8))
        handle = _dropout(ctx, p, training=True)
        x = rng.uniform(0.5, 2.0, STATS_SHAPE)
        first = _kept(_forward(ctx, handle, x), x, p, scaled=False)
        second = _kept(_forward(ctx, handle, x), x, p, scaled=False)
        same = float(np.mean(first == second))
        require(_binomial_ok(same, p * p + (1 - p) ** 2, first.size),
                f"two training forwards share {same:.1%} of their mask: draw a fresh mask on "
                "every forward pass", Cause.DROPOUT_STALE_MASK)


NO_SCALE = "it is gradOutput * mask, without the factor 1/(1-p) of the forward pass"


def _require_scaled(grad: np.ndarray, g: np.ndarray, kept: np.ndarray, where: str) -> None:
    """The backward's factor 1/(1-p), a known mistake wherever it is missing (``kept``: the
    0/1 mask)."""
    if grad.shape == kept.shape and np.allclose(grad, g * kept):
        raise CheckFailed(f"gradInput is wrong {where}: {NO_SCALE}", Cause.DROPOUT_SCALE,
                          (frozenset({f"mistake: {NO_SCALE}"}),))


@check_kind("dropout_backward")
def check_backward(ctx: Context) -> None:
    for _trial, rng, dims in ctx.trials():
        p = dims["p"]
        handle = _dropout(ctx, p, training=True)
        shape = (dims["batch"] * 8, dims["n"] * 8)  # enough values for a drop-rate bound
        x = rng.uniform(0.5, 2.0, shape) * rng.choice([-1, 1], (1, shape[1]))
        kept = _kept(_forward(ctx, handle, x), x, p, scaled=False)
        g = rng.standard_normal(x.shape)
        grad = call_array(ctx, handle, "updateGradInput", x, g, fallback="gradInput")
        expected = g * kept / (1.0 - p)
        where = f"for input {fmt_shape(x.shape)}, p={p:.3g}"
        if grad.shape == expected.shape and not np.allclose(grad, expected):
            other_mask = np.isclose(grad, 0) | np.isclose(grad, g / (1 - p))
            require(not np.all(other_mask), f"gradInput is wrong {where}: backward uses a "
                    "different mask than forward: keep the forward mask and reuse it",
                    Cause.DROPOUT_MASK_NOT_REUSED)
        _require_scaled(grad, g, kept, where)
        assert_close(grad, expected, Tolerance(1e-6, 1e-9), "gradInput",
                     where + " (gradOutput * mask / (1-p), with the forward mask)", x.shape[0])


@check_kind("dropout_no_mutation")
def check_no_mutation(ctx: Context) -> None:
    """A training forward and backward leave the caller's input and gradOutput intact, and
    compute dropout (a property counts only with a right result: a layer that returns zeros
    keeps its inputs intact too)."""
    for _trial, rng, dims in ctx.trials():
        p = float(np.clip(dims["p"], 0.1, 0.8))
        handle = _dropout(ctx, p, training=True)
        x = rng.uniform(0.5, 2.0, (40, 50)) * rng.choice([-1, 1], (40, 50))
        out, grad, g = untouched_pass(ctx, rng, Trial(handle, x, None, {}, dims))
        kept = _kept(_same_shape(out.astype(np.float64), x), x, p)
        _require_scaled(grad, g, kept, f"for input {fmt_shape(x.shape)}, p={p:.3g}")
        assert_close(grad, g * kept / (1.0 - p), Tolerance(1e-6, 1e-9), "gradInput",
                     f"for input {fmt_shape(x.shape)}, p={p:.3g} (gradOutput * mask / (1-p), "
                     "with the forward mask)", x.shape[0])
