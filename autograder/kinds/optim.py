"""Optimizers: several steps against the spec's stated update formula, state and in-place updates.

Variables are a list (one per layer) of lists of arrays, including a layer without
parameters, so state keyed by layer instead of by running variable index shows up. The
expected trajectory is computed here from the spec's ``update`` formula (per variable, with
``state`` names starting at zero); ``mistakes`` are wrong formulas whose trajectories name
the cause when a student's matches one.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from autograder.checks import CheckFailed, as_array, assert_close, close, require
from autograder.kinds.base import Context, check_kind
from autograder.results import Cause
from autograder.spec import SPEC_GLOBALS

Layout = list[list[tuple[int, ...]]]
Trajectory = list[list[list[np.ndarray]]]  # [step][layer][variable]


def _layout(rng: np.random.Generator) -> Layout:
    a, b, c = (int(n) for n in rng.integers(2, 6, 3))
    return [[(a, b), (a,)], [], [(c,)], [(b, c), (c,)]]


def _config(ctx: Context, rng: np.random.Generator) -> dict[str, float]:
    return {k: float(rng.uniform(*v)) if isinstance(v, list) else v
            for k, v in ctx.p.config.items()}


def trajectory(update: str, state_names: list[str], config: dict[str, float],
               start: list[list[np.ndarray]], grads: list[list[list[np.ndarray]]]) -> Trajectory:
    """Apply a per-variable update formula (trusted spec code) step by step."""
    code = compile(update, "<spec update>", "exec")
    xs = [[x.copy() for x in layer] for layer in start]
    states = [[{n: np.zeros_like(x) for n in state_names} for x in layer] for layer in start]
    steps = []
    for t, step_grads in enumerate(grads, start=1):
        for i, layer in enumerate(xs):
            for j, x in enumerate(layer):
                scope = {"sqrt": np.sqrt, "np": np, **config, **states[i][j],
                         "x": x, "g": step_grads[i][j], "t": t}
                with np.errstate(all="ignore"):  # a wrong formula may take sqrt(<0)
                    exec(code, dict(SPEC_GLOBALS), scope)  # noqa: S102 - instructor's spec
                layer[j] = scope["x"]
                states[i][j] = {n: scope[n] for n in state_names}
        steps.append([[x.copy() for x in layer] for layer in xs])
    return steps


def _matches(student: list[list[np.ndarray]], expected: list[list[np.ndarray]], tol) -> bool:
    return all(close(s, e, tol) for ls, le in zip(student, expected, strict=True)
               for s, e in zip(ls, le, strict=True))


def _diagnose(ctx: Context, step: int, student: list[list[np.ndarray]], config, start,
              grads) -> str:
    before = start if step == 1 else trajectory(ctx.p.update, ctx.p.state, config,
                                                start, grads[:step - 1])[-1]
    if _matches(student, before, ctx.tol("float64")):
        return ("the variables did not change: update them in place (x -= step); "
                "`x = x - step` only rebinds a local name")
    for mistake in ctx.p.mistakes:
        other = trajectory(mistake["update"], ctx.p.state, config, start, grads)
        if _matches(student, other[step - 1], ctx.tol("float64")):
            return mistake["message"]
    if step > 1 and _matches(student, _stateless(ctx, config, start, grads[:step]),
                             ctx.tol("float64")):
        return ("every step starts from fresh state, as if it were the first: the state "
                "(velocities, moments) is not kept between calls; update the arrays in the "
                "state dict in place (`v = decay * v + ...` only rebinds a local name)")
    if step > 1:
        return ("the first step was right and a later one is wrong: the state (velocities, "
                "moments, step count) is shared, reset, keyed wrongly or not written back; key "
                "it by the running variable index across all layers, and update its arrays in "
                "place (`m = beta1 * m + ...` only rebinds a local name)")
    return ""


def _stateless(ctx: Context, config, start, grads) -> list[list[np.ndarray]]:
    """The variables after ``grads``' steps, each taken with the state of a first step."""
    variables = start
    for grad in grads:
        variables = trajectory(ctx.p.update, ctx.p.state, config, variables, [grad])[-1]
    return variables


def _run(ctx: Context, rng: np.random.Generator, steps: int, inplace_only: bool) -> None:
    s = ctx.session
    config, shapes = _config(ctx, rng), _layout(rng)
    start = [[rng.standard_normal(sh) for sh in layer] for layer in shapes]
    grads = [[[rng.standard_normal(sh) for sh in layer] for layer in shapes]
             for _ in range(steps)]
    expected = trajectory(ctx.p.update, ctx.p.state, config, start, grads)
    handles = [[s.put(v) for v in layer] for layer in start]
    variables, state = s.put(handles), s.put({})
    originals = s.put(handles)  # the same arrays, in a list student code never sees
    for step in range(1, steps + 1):
        s.call(ctx.name, None, variables, grads[step - 1], dict(config), state)
        where = f"after step {step} (config {_fmt(config)}; variable shapes {shapes})"
        listed = _nested_arrays(s, variables, shapes)
        if inplace_only:
            _require_inplace(_nested_arrays(s, originals, shapes), listed, where)
            require(not _matches(listed, start if step == 1 else expected[step - 2],
                                 ctx.tol("float64")),
                    f"the variables did not change {where}: update them in place",
                    Cause.NOT_INPLACE)
            continue
        if not _matches(listed, expected[step - 1], ctx.tol("float64")):
            _explain(ctx, step, listed, expected[step - 1], where, config, start, grads)


def _explain(ctx: Context, step: int, listed, expected, where: str, config, start,
             grads) -> None:
    cause = _diagnose(ctx, step, listed, config, start, grads[:step])
    for i, layer in enumerate(expected):
        for j, want in enumerate(layer):
            try:
                assert_close(listed[i][j], want, ctx.tol("float64"), f"variables[{i}][{j}]",
                             where)
            except CheckFailed as exc:
                raise CheckFailed(exc.message.split("\n  likely cause")[0]
                                  + (f"\n  likely cause: {cause}" if cause else ""),
                                  Cause.OPTIMIZER_MISTAKE if cause else exc.cause) from None


def _nested_arrays(s: Any, nested: Any, shapes: list[list[tuple]]) -> list[list[np.ndarray]]:
    """``nested[i][j]`` for every variable, fetched in one request (one per array when
    student code left the lists in another shape)."""
    whole = s.get(nested)
    try:
        items = [[whole[i][j] for j in range(len(layer))] for i, layer in enumerate(shapes)]
    except (TypeError, IndexError, KeyError):
        items = [[s.get(nested, i, j) for j in range(len(layer))]
                 for i, layer in enumerate(shapes)]
    return [[as_array(v, f"variables[{i}][{j}]") for j, v in enumerate(layer)]
            for i, layer in enumerate(items)]


def _require_inplace(originals, listed, where: str) -> None:
    for i, layer in enumerate(originals):
        for j, original in enumerate(layer):
            require(np.array_equal(original, listed[i][j]),
                    f"variables[{i}][{j}] was replaced instead of updated in place {where}: "
                    "use `var -= step` or np.add(var, ..., out=var); the layers hold the "
                    "original arrays", Cause.NOT_INPLACE)


def _fmt(config: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v:.3g}" for k, v in config.items())


@check_kind("optimizer")
def check_optimizer(ctx: Context) -> None:
    for _trial, rng, _dims in ctx.trials():
        _run(ctx, rng, int(ctx.p.steps), inplace_only=False)


@check_kind("optimizer_inplace")
def check_inplace(ctx: Context) -> None:
    for _trial, rng, _dims in ctx.trials():
        _run(ctx, rng, 2, inplace_only=True)
