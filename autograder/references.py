"""Expected values, computed in the grader process only: PyTorch in float64."""

from __future__ import annotations

import functools
import math
from types import ModuleType
from typing import Any

import numpy as np

from autograder.check_params import SPEC_GLOBALS
from autograder.refcache import cached


@functools.lru_cache(maxsize=1)
def _torch() -> tuple[ModuleType, ModuleType]:
    import torch
    import torch.nn.functional as F

    torch.set_num_threads(1)
    return torch, F


def torch_reference(expr: str, x: np.ndarray, params: dict[str, np.ndarray],
                    dims: dict[str, Any], target: np.ndarray | None = None,
                    grad_output: np.ndarray | None = None,
                    grads: bool = False, definitions: str = "") -> dict[str, np.ndarray]:
    """Evaluate a spec expression in float64; with ``grads``, also d(sum(g * out))/d(inputs).

    Returns ``{"output": ..., "input": dx, <param>: dparam}`` as float64 arrays.
    ``definitions`` is the assignment's ``[reference] code``: helper functions (e.g. a
    recurrent network unrolled over time) that expressions may call. Results are cached
    (``autograder.refcache``): they depend on these arguments only.
    """
    return cached(
        lambda: _evaluate(expr, x, params, dims, target, grad_output, grads, definitions),
        expr=expr, x=np.asarray(x, dtype=np.float64), params=params, dims=dims,
        target=target, grad_output=grad_output, grads=grads, definitions=definitions)


def _evaluate(expr: str, x: np.ndarray, params: dict[str, np.ndarray], dims: dict[str, Any],
              target: np.ndarray | None, grad_output: np.ndarray | None, grads: bool,
              definitions: str) -> dict[str, np.ndarray]:
    torch, F = _torch()
    helpers = _definitions(definitions)
    tx = torch.tensor(np.asarray(x, dtype=np.float64), requires_grad=grads)
    tparams = {k: torch.tensor(np.asarray(v, dtype=np.float64), requires_grad=grads)
               for k, v in params.items()}
    scope = {**helpers, "x": tx, **dims, **tparams}
    if target is not None:
        scope["t"] = torch.tensor(np.asarray(target, dtype=np.float64))
    if grad_output is not None:
        scope["g"] = torch.tensor(np.asarray(grad_output, dtype=np.float64))
    out = eval(expr, dict(SPEC_GLOBALS), scope)  # noqa: S307 - instructor-written spec
    result = {"output": out.detach().numpy().copy()}
    if grads:
        g = torch.ones_like(out) if grad_output is None else torch.tensor(
            np.asarray(grad_output, dtype=np.float64))
        out.backward(g)
        result["input"] = tx.grad.numpy().copy()
        result.update({k: v.grad.numpy().copy() for k, v in tparams.items()})
    return result


@functools.lru_cache(maxsize=8)
def _definitions(code: str) -> dict[str, Any]:
    torch, F = _torch()
    scope: dict[str, Any] = {"torch": torch, "F": F, "math": math, "np": np}
    if code:
        exec(compile(code, "<assignment reference code>", "exec"), scope)  # noqa: S102
    return scope
