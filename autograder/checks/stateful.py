"""Stateful behaviour (e.g. BatchNorm's moving statistics) against the reference solution.

The same sequence of operations runs on the student's object in the worker and on the
solution's object here in the grader; the listed attributes are compared after each step.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from autograder.checks.base import Context, check_kind, make_array, require
from autograder.compare import assert_close
from autograder.references import load_solution
from autograder.spec import shape_of


def _apply(ctx: Context, handle, ref: Any, op: str, x: np.ndarray, g: np.ndarray) -> None:
    s = ctx.session
    if op in ("train", "evaluate"):
        s.set(handle, "training", op == "train")
        ref.training = op == "train"
    elif op == "forward":
        s.call(handle, "updateOutput", x)
        ref.updateOutput(x)
    elif op == "backward":
        s.call(handle, "updateGradInput", x, g)
        ref.updateGradInput(x, g)
    else:
        raise ValueError(f"unknown stateful op {op!r}")


@check_kind("stateful")
def check_stateful(ctx: Context) -> None:
    require(ctx.solution is not None, "no reference solution configured for a stateful check")
    solution = load_solution(ctx.solution)
    cls = getattr(solution, ctx.check.component)
    s = ctx.session
    for _trial, rng, dims in ctx.trials():
        init = [dims[a] if isinstance(a, str) else a for a in ctx.f.get("init", [])]
        handle, ref = ctx.new(dims), cls(*init)
        for name, rule in ctx.f.get("state", {}).items():
            value = make_array(rule.get("dist", "normal"), shape_of(rule["shape"], dims), rng)
            s.set(handle, name, value)
            setattr(ref, name, value.copy())
        history = []
        x = ctx.make_input(rng, dims)
        for op in ctx.f["sequence"]:
            if op == "forward":
                x = ctx.make_input(rng, dims)
            g = rng.standard_normal(x.shape)
            before = {a: np.array(getattr(ref, a, None), dtype=np.float64)
                      for a in ctx.f["compare"]}
            _apply(ctx, handle, ref, op, x, g)
            history.append(op)
            _compare(ctx, handle, ref, op, history, x, dims, before)


def _compare(ctx: Context, handle, ref: Any, op: str, history: list[str], x: np.ndarray,
             dims: dict[str, Any], before: dict[str, np.ndarray]) -> None:
    relevant = {"forward": ("output",), "backward": ("gradInput",)}.get(op, ())
    params = ", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}"
                       for k, v in dims.items() if k in ctx.f.get("init", []))
    for attr in ctx.f["compare"]:
        if attr in ("output", "gradInput") and attr not in relevant:
            continue
        expected = np.asarray(getattr(ref, attr), dtype=np.float64)
        assert_close(ctx.session.get(handle, attr), expected, ctx.tol("float64"), attr,
                     f"after {' -> '.join(history)} ({params}; input {x.shape})",
                     mistakes=lambda a=attr: _mistakes(ctx, a, op, before, x, dims))


def _mistakes(ctx: Context, attr: str, op: str, before: dict[str, np.ndarray], x: np.ndarray,
              dims: dict[str, Any]) -> list[tuple[np.ndarray, str]]:
    """Known wrong updates, as spec formulas over the old value, the input and the dims."""
    found = []
    for m in ctx.f.get("state_mistakes", []):
        if m["attr"] != attr or m.get("after", "forward") != op:
            continue
        scope = {"np": np, "x": x.astype(np.float64), "old": before.get(attr), **dims}
        try:
            found.append((np.asarray(eval(m["formula"], {"__builtins__": {}}, scope)),  # noqa: S307
                          m["message"]))
        except Exception:  # noqa: BLE001 - e.g. old is None on a first update
            continue
    return found
