"""Authoring check of an assignment: every reference expression runs on sample inputs.

A reference expression with a typo (``paddng``), a helper called wrongly or sizes that PyTorch
rejects (``padding='same'`` with a stride) would otherwise fail in the middle of grading,
as a zero for every student. Each check's trials are drawn exactly as grading draws them
and its ``reference`` is evaluated in PyTorch; the first failure stops the load with the
file, the line and, for a misspelt name, the closest name in scope.
"""

from __future__ import annotations

import functools
import json
import zlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from autograder.spec import (
    Assignment,
    CheckSpec,
    SpecError,
    _Source,
    _suggest,
    param_shapes,
    sample_dims,
)


def check_references(assignment: Assignment, sources: dict[str, _Source]) -> None:
    """Raise SpecError at the first reference expression that fails on a sample input."""
    try:
        import torch  # noqa: F401 - only to know whether references can be evaluated
    except ImportError:  # a student's environment without PyTorch: nothing to check against
        return
    _check_all(_Keyed(json.dumps(assignment.raw, sort_keys=True, default=str),
                      (assignment, sources)))


@dataclass(frozen=True)
class _Keyed:
    """Hashed and compared by ``key`` only: the same spec text is checked once per process."""

    key: str
    value: Any = field(compare=False)


@functools.lru_cache(maxsize=16)
def _check_all(keyed: _Keyed) -> None:
    assignment, sources = keyed.value
    for component in assignment.components:
        for check in component.checks:
            if getattr(check.params, "reference", None) and getattr(check.params, "input",
                                                                   None):
                _check_one(assignment, check, sources[component.name])


def _check_one(assignment: Assignment, check: CheckSpec, source: _Source) -> None:
    from autograder.kinds.base import make_array  # the grader's own data, as in grading
    from autograder.references import torch_reference

    p = check.params
    spec_dims = {**p.dims, **p.edge_dims}
    for trial in range(check.trials):
        name = f"{check.component}/{check.name}/{trial}".encode()
        rng = np.random.default_rng([assignment.seed, zlib.crc32(name)])
        try:
            dims = sample_dims(spec_dims, rng, trial)
        except Exception as exc:  # noqa: BLE001 - the instructor's expression, reported
            raise _error(source, check, "dims", f"dims: {_what(exc, spec_dims)}") from None
        params: dict[str, np.ndarray] = {}
        try:
            x = make_array(p.input_dist, tuple(_size(n, dims) for n in p.input), rng,
                           p.input_scale, p.input_shift)
            params = {k: rng.standard_normal(s) for k, s in param_shapes(getattr(p, "params", {}),
                                                                  dims).items()}
            kind = getattr(p, "target", None)
            target = None if kind is None else make_array(kind, x.shape, rng)
            state = {k: make_array(r.get("dist", "normal"), tuple(_size(n, dims)
                                                                 for n in r["shape"]), rng)
                     for k, r in getattr(p, "state", {}).items() if "shape" in r}
            torch_reference(p.reference, x, {**state, **params}, dims, target,
                            definitions=assignment.reference_code)
        except Exception as exc:  # noqa: BLE001 - the instructor's expression, reported
            scope = [*dims, *params, "x", "t", "torch", "F", "math", "np",
                     *_helper_names(assignment.reference_code)]
            raise _error(source, check, "reference",
                         f"the reference expression fails on a sample input (sizes "
                         f"{_shown(dims)}): {_what(exc, scope)}") from None


def _size(name: Any, dims: dict[str, Any]) -> int:
    return int(dims[name]) if isinstance(name, str) else int(name)


def _what(exc: Exception, scope: Any) -> str:
    text = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    if isinstance(exc, NameError) and exc.name:
        text += _suggest(exc.name, scope)
    return text


def _shown(dims: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in dims.items())


@functools.lru_cache(maxsize=8)
def _helper_names(code: str) -> tuple[str, ...]:
    import ast

    try:
        tree = ast.parse(code)
    except SyntaxError:
        return ()
    return tuple(n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef)))


def _error(source: _Source, check: CheckSpec, key: str, message: str) -> SpecError:
    raw = {"name": check.name, "kind": check.kind}
    in_check = source.line_has(check.component, raw, key)
    return source.error(check.component, raw if in_check else None, key, message)
