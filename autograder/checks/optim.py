"""Optimizers: several steps against the reference formulas, state and in-place updates.

Variables are a list (one per layer) of lists of arrays, including a layer without
parameters, so state keyed by layer instead of by running variable index shows up.
"""

from __future__ import annotations

import numpy as np

from autograder.checks.base import Context, check_kind, require
from autograder.compare import as_array, assert_close
from autograder.references import load_solution


def _layout(rng: np.random.Generator) -> list[list[tuple[int, ...]]]:
    a, b, c = (int(n) for n in rng.integers(2, 6, 3))
    return [[(a, b), (a,)], [], [(c,)], [(b, c), (c,)]]


def _config(ctx: Context, rng: np.random.Generator) -> dict[str, float]:
    return {k: float(rng.uniform(*v)) if isinstance(v, list) else v
            for k, v in ctx.f.get("config", {}).items()}


def _run(ctx: Context, rng: np.random.Generator, steps: int, inplace_only: bool) -> None:
    s = ctx.session
    reference = getattr(load_solution(ctx.solution), ctx.check.component)
    config = _config(ctx, rng)
    shapes = _layout(rng)
    expected = [[rng.standard_normal(sh) for sh in layer] for layer in shapes]
    handles = [[s.put(v) for v in layer] for layer in expected]
    variables = s.put(handles)
    state, ref_state = s.put({}), {}
    for step in range(1, steps + 1):
        grads = [[rng.standard_normal(sh) for sh in layer] for layer in shapes]
        s.call(ctx.name, None, variables, grads, dict(config), state)
        reference(expected, [[g.copy() for g in layer] for layer in grads], dict(config),
                  ref_state)
        for i, layer in enumerate(expected):
            for j, want in enumerate(layer):
                what = f"variables[{i}][{j}]"
                where = (f"after step {step} (config {_fmt(config)}; variable shapes "
                         f"{shapes})")
                if inplace_only:
                    got = as_array(s.get(handles[i][j]), what)
                    listed = as_array(s.get(variables, i, j), what)
                    require(np.array_equal(got, listed),
                            f"{what} was replaced instead of updated in place {where}: use "
                            "`var -= step` or np.add(var, ..., out=var); the layers hold the "
                            "original arrays", "not_inplace")
                    continue
                assert_close(s.get(variables, i, j), want, ctx.tol("float64"), what, where)


def _fmt(config: dict[str, float]) -> str:
    return ", ".join(f"{k}={v:.3g}" for k, v in config.items())


@check_kind("optimizer")
def check_optimizer(ctx: Context) -> None:
    for _trial, rng, _dims in ctx.trials():
        _run(ctx, rng, int(ctx.f.get("steps", 4)), inplace_only=False)


@check_kind("optimizer_inplace")
def check_inplace(ctx: Context) -> None:
    for _trial, rng, _dims in ctx.trials():
        _run(ctx, rng, 2, inplace_only=True)
