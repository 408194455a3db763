"""Stateful behaviour (e.g. BatchNorm's moving statistics), against formulas in the spec.

A sequence of operations (``forward``, ``backward``, ``train``, ``evaluate``) runs on the
student's object in the worker while the grader tracks the expected state:

- ``state_update``: NumPy formulas for each state attribute after a training forward, over
  ``old`` (its previous value), ``x`` (the input) and the dims;
- ``eval_reference``: a PyTorch expression for the evaluation-mode output, which may use the
  current state by name; its gradient follows by autograd. The training-mode output is not
  compared here: the component's forward checks own it, so a mistake in the normalisation
  (no EPS, say) does not also cost the checks of the moving statistics;
- ``state_mistakes``: known wrong formulas that name the cause of a mismatch;
- ``state``: each attribute's shape and distribution, set before the first operation, or
  ``unset``: a formula for the value the docstring says ``None`` stands for (the attribute is
  left as the constructor made it: the check of initialising from ``None``). With an empty
  ``sequence`` only that start is checked (``gamma`` ones, ``beta`` zeros), after one
  evaluation-mode forward whose output is not compared: a wrong forward pass does not cost it
  too, and code that computes nothing does not pass it.

State is unobservable by the rest of a network, so any shape that broadcasts the same way
passes (``(1, n)`` for ``(n,)``): only the values are compared.

No reference solution is imported: the grader needs only the spec.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import numpy as np

from autograder.checks import Failures, assert_close
from autograder.kinds.base import Context, check_kind, make_array
from autograder.spec import SPEC_GLOBALS, shape_of


def _formula(expr: str, scope: dict[str, Any]) -> np.ndarray:
    return np.asarray(eval(expr, dict(SPEC_GLOBALS), {"np": np, **scope}),  # noqa: S307
                      dtype=np.float64)


@check_kind("stateful")
def check_stateful(ctx: Context) -> None:
    s = ctx.session
    for _trial, rng, dims in ctx.trials():
        handle = ctx.new(dims)
        state = {}
        for name, rule in ctx.f.get("state", {}).items():
            if "unset" in rule:  # left as the constructor made it; the docstring's start value
                state[name] = _formula(rule["unset"], dict(dims))
                continue
            state[name] = make_array(rule.get("dist", "normal"), shape_of(rule["shape"], dims),
                                     rng)
            s.set(handle, name, state[name])
        training, history = True, []
        failures = Failures()  # every result of the trial compared, even after a wrong one
        s.set(handle, "training", True)  # not the student's Module default: isolation
        x = ctx.make_input(rng, dims)
        if not ctx.f["sequence"]:  # the constructor's start alone, whatever forward computes
            # One evaluation-mode forward first, its output not compared: code that computes
            # nothing (the constructor is often given code) must not pass.
            s.set(handle, "training", False)
            s.call(handle, "updateOutput", x, fallback="output")
            for name in state:
                failures.check(partial(_check, ctx, name, s.get(handle, name), state[name],
                                       f"right after {ctx.constructor(dims)}", x, state, dims,
                                       "init", state=True))
        for op in ctx.f["sequence"]:
            history.append(op)
            where = _where(ctx, history, dims, x)
            before = dict(state)
            if op in ("train", "evaluate"):
                training = op == "train"
                s.set(handle, "training", training)
            elif op == "forward":
                x = ctx.make_input(rng, dims)
                where = _where(ctx, history, dims, x)
                out = s.call(handle, "updateOutput", x, fallback="output")
                if not training:  # the training output is the forward checks' own behaviour
                    expected = _reference(ctx, training, x, state, dims)["output"]
                    failures.check(partial(_check, ctx, "output", out, expected, where, x,
                                           before, dims, op))
                else:
                    scope = {**dims, "x": x.astype(np.float64)}
                    state = {k: _formula(f, {**scope, "old": before[k]})
                             for k, f in ctx.f.get("state_update", {}).items()}
            elif op == "backward":
                g = rng.standard_normal(x.shape)
                got = s.call(handle, "updateGradInput", x, g, fallback="gradInput")
                expected = _reference(ctx, training, x, state, dims, g)["input"]
                failures.check(partial(_check, ctx, "gradInput", got, expected, where, x,
                                       before, dims, op))
            else:
                raise ValueError(f"unknown stateful op {op!r}")
            for name in state:
                got = s.get(handle, name)
                failures.check(partial(_check, ctx, name, got, state[name], where, x, before,
                                       dims, op, state=True))
                state[name] = _followed(got, state[name])
        failures.done()


def _followed(got: Any, expected: np.ndarray) -> np.ndarray:
    """The state the next operation is judged from: the student's own when it is a finite
    array of the right size (a wrong update is charged at the step that made it, and each
    later step is judged from where the student's state is: one mistake, not one per step),
    else the expected one."""
    if not isinstance(got, np.ndarray) or got.dtype.kind not in "fiu" \
            or got.size != expected.size or not np.all(np.isfinite(got)):
        return expected
    return got.astype(np.float64).reshape(expected.shape)


def _reference(ctx: Context, training: bool, x: np.ndarray, state: dict[str, np.ndarray],
               dims: dict[str, Any], g: np.ndarray | None = None) -> dict[str, np.ndarray]:
    expr = ctx.f["reference"] if training else ctx.f["eval_reference"]
    return ctx.reference(x, state, dims, grad_output=g, grads=g is not None, expr=expr)


def _where(ctx: Context, history: list[str], dims: dict[str, Any], x: np.ndarray) -> str:
    params = ", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}"
                       for k, v in dims.items() if k in ctx.f.get("init", []))
    return f"after {' -> '.join(history)} ({params}; input {tuple(x.shape)})"


def _check(ctx: Context, attr: str, got: Any, expected: np.ndarray, where: str, x: np.ndarray,
           before: dict[str, np.ndarray], dims: dict[str, Any], op: str,
           state: bool = False) -> None:
    assert_close(got, expected, ctx.tol("float64"), attr, where,
                 mistakes=lambda: _mistakes(ctx, attr, op, before, x, dims), state=state)


def _mistakes(ctx: Context, attr: str, op: str, before: dict[str, np.ndarray], x: np.ndarray,
              dims: dict[str, Any]) -> list[tuple[np.ndarray, str]]:
    """Known wrong updates, as spec formulas over the old value, the input and the dims."""
    found = []
    for m in ctx.f.get("state_mistakes", []):
        if m["attr"] != attr or m.get("after", "forward") != op:
            continue
        scope = {**dims, **before, "x": x.astype(np.float64), "old": before.get(attr)}
        try:
            found.append((_formula(m["formula"], scope), m["message"]))
        except Exception:  # noqa: BLE001 - a formula that does not apply to this state
            continue
    return found
