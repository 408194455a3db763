"""Expected values, computed in the grader process only: PyTorch in float64, or the solution."""

from __future__ import annotations

import functools
import importlib.util
import math
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from autograder.spec import SPEC_GLOBALS


@functools.lru_cache(maxsize=1)
def _torch() -> tuple[ModuleType, ModuleType]:
    import torch
    import torch.nn.functional as F

    torch.set_num_threads(1)
    return torch, F


def warm_up_references() -> None:
    """Import PyTorch and run one backward pass, so that no check pays for either."""
    torch_reference("x * x", np.ones(2), {}, {}, grads=True)


def torch_reference(expr: str, x: np.ndarray, params: dict[str, np.ndarray],
                    dims: dict[str, Any], target: np.ndarray | None = None,
                    grad_output: np.ndarray | None = None,
                    grads: bool = False, definitions: str = "") -> dict[str, np.ndarray]:
    """Evaluate a spec expression in float64; with ``grads``, also d(sum(g * out))/d(inputs).

    Returns ``{"output": ..., "input": dx, <param>: dparam}`` as float64 arrays.
    ``definitions`` is the assignment's ``[reference] code``: helper functions (e.g. a
    recurrent network unrolled over time) that expressions may call.
    """
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


@functools.lru_cache(maxsize=4)
def load_solution(path: Path) -> ModuleType:
    """Import the reference solution (trusted) by path, for stateful references."""
    spec = importlib.util.spec_from_file_location(f"_nngrade_solution_{abs(hash(path))}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
