"""What every check kind shares: its context, random inputs, and calls into the worker."""

from __future__ import annotations

import dataclasses
import re
import zlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np

from autograder.checks import CheckFailed, Tolerance, as_array, fmt_shape
from autograder.checks.data import make_array
from autograder.references import torch_reference
from autograder.results import Cause
from autograder.sandbox import Session, StudentError
from autograder.spec import CheckSpec, eval_expr, param_shapes, sample_dims, shape_of
from autograder.wire import Handle

CheckFn = Callable[["Context"], None]
REGISTRY: dict[str, CheckFn] = {}
# Student classes a kind builds besides the component itself (a Residual around the
# student's Sequential): a notebook's local check must send their cells too.
USES: dict[str, tuple[str, ...]] = {}


def check_kind(name: str, uses: tuple[str, ...] = ()) -> Callable[[CheckFn], CheckFn]:
    """Register a check kind under the name the spec uses; ``uses``: the student classes it
    builds besides the component."""

    def register(fn: CheckFn) -> CheckFn:
        REGISTRY[name] = fn
        USES[name] = uses
        return fn

    return register


def run_kind(ctx: Context) -> None:
    """Run a check; an edge-case check (spec key ``edge``) says what passed and what not.

    An edge-case check is its kind run with ``edge_dims`` laid over the component's ordinary
    dims. When it fails, the same kind runs once on the ordinary dims, so the message can say
    "correct for ordinary shapes; wrong when the batch size is 1" (one mistake, one check).
    """
    edge = ctx.f.get("edge")
    if edge is None:
        REGISTRY[ctx.check.kind](ctx)
        return
    try:
        REGISTRY[ctx.check.kind](_with_dims(ctx, ctx.f.get("edge_dims", {}), ctx.check.trials))
    except (CheckFailed, StudentError) as exc:
        detail, cause = ((exc.message, exc.cause) if isinstance(exc, CheckFailed)
                         else (ctx.raised(exc), Cause.EXCEPTION))  # before _passes makes more
        if not _passes(ctx):  # wrong for ordinary shapes too: the main checks' message
            if isinstance(exc, CheckFailed):
                raise
            raise CheckFailed(detail, cause) from exc
        raise CheckFailed(f"correct for ordinary shapes; wrong when {edge}\n{detail}",
                          cause) from exc


def _with_dims(ctx: Context, over: dict[str, Any], trials: int) -> Context:
    dims = {**ctx.p.dims, **over}
    check = dataclasses.replace(ctx.check, fields={**ctx.f, "dims": dims}, trials=trials,
                                params=dataclasses.replace(ctx.p, dims=dims))
    return dataclasses.replace(ctx, check=check)


def _passes(ctx: Context) -> bool:
    """Whether the check's kind passes on the ordinary dims, with data of its own (a re-run
    with the check's own seeds could be told from the first run by student code), in two
    trials: float32 and float64 (a float32 trial alone passes small errors)."""
    ordinary = dataclasses.replace(ctx, only_trial=None, check=dataclasses.replace(
        ctx.check, name=f"{ctx.check.name} (ordinary shapes)"))
    try:
        REGISTRY[ctx.check.kind](_with_dims(ordinary, {}, 2))
    except (CheckFailed, StudentError):
        return False
    return True


# (batch, n) against (batch,): a sum, mean or max over axis 1 that dropped its axis, which
# broadcasts (wrongly) only when batch == n, so square inputs pass and the rest crash.
_DROPPED_AXIS = re.compile(r"could not be broadcast together with shapes "
                           r"\((\d+),\s*(\d+)\)\s*\(\1,\)|\((\d+),\)\s*\(\3,\s*\d+\)")


def _exception_cause(message: str) -> str:
    if _DROPPED_AXIS.search(message):
        return ("\n  likely cause: a sum, mean or max over axis 1 without keepdims=True: "
                "(batch,) does not broadcast against (batch, n) (it only seems to work when "
                "batch == n)")
    return ""


@dataclass
class Context:
    session: Session
    check: CheckSpec
    name: str  # the name the submission defines (canonical or alias)
    seed: int
    tolerances: dict[str, dict[str, float]]
    solution: Path | None
    definitions: str = ""  # the assignment's [reference] code, for reference expressions
    # The constructor calls made so far, as a student would write them ("Conv2d(3, 2,
    # stride=2)"): a message about an exception names the instance that raised it. Shared by
    # the copies ``_with_dims`` makes.
    made: list[str] = dataclasses.field(default_factory=list)
    # Whether the component's ordinary forward checks passed, and whether its ordinary
    # gradInput checks passed or failed only with known mistakes (None: none has run yet).
    forward_passed: bool | None = None
    input_grad_known: bool | None = None
    only_trial: int | None = None  # run this trial of the check alone (the same data)

    @property
    def p(self) -> Any:  # the check kind's parameters class (autograder/check_params.py)
        return self.check.params

    @property
    def f(self) -> Mapping[str, Any]:
        """Deprecated, read-only: the untyped keys; read the typed ``p`` instead."""
        return MappingProxyType(self.check.fields)

    def rng(self, trial: int) -> np.random.Generator:
        key = f"{self.check.component}/{self.check.name}/{trial}".encode()
        return np.random.default_rng([self.seed, zlib.crc32(key)])

    def trials(self) -> Iterator[tuple[int, np.random.Generator, dict[str, Any]]]:
        for trial in range(self.check.trials):
            if self.only_trial is not None and trial != self.only_trial:
                continue
            rng = self.rng(trial)
            dims = sample_dims(self.p.dims, rng, trial)
            self.session.seed(int(rng.integers(2**31)))  # student randomness is reproducible
            yield trial, rng, dims

    def tol(self, kind: str | np.dtype) -> Tolerance:
        key = kind if isinstance(kind, str) else np.dtype(kind).name
        t = self.tolerances.get(key) or self.tolerances.get("float64") or {}
        return Tolerance(float(t.get("rtol", 1e-5)), float(t.get("atol", 1e-7)))

    def tol_of(self, value: Any, dtype: np.dtype) -> Tolerance:
        """The tolerance for the student's ``value`` computed from inputs of ``dtype``: the
        inputs', with the absolute part of the value's own dtype where it is less precise.
        No docstring asks for float64 arithmetic, and a blind round's float32 code lost
        BatchNorm's gradInput on some seeds where the result cancels to about 1e-4 (an error
        of 1.7e-7 against float64's atol of 1e-7). The relative part stays the inputs': a
        result cast to float32 on purpose must not hide a formula that is 1e-4 off."""
        own = self.tol(dtype)
        if isinstance(value, np.ndarray) and value.dtype.kind == "f" \
                and value.dtype.itemsize < np.dtype(dtype).itemsize:
            return Tolerance(own.rtol, max(own.atol, self.tol(value.dtype).atol))
        return own

    # -- building blocks ------------------------------------------------------------
    def new(self, dims: dict[str, Any], preset: dict[str, Any] | None = None) -> Handle:
        """A fresh instance: ``init`` positional and ``init_kwargs`` keyword arguments, each
        a name of the dims (an int, a pair, a string, a boolean) or a literal value; then
        each ``preset`` attribute set, in order."""
        args, kwargs = self._init_args(dims)
        if args or kwargs:
            self.made.append(self.constructor(dims))
        return self.session.new(self.name, *args, preset_attrs=preset, **kwargs)

    def _init_args(self, dims: dict[str, Any]) -> tuple[list[Any], dict[str, Any]]:
        args = [dims[a] if isinstance(a, str) else a for a in self.p.init]
        kwargs = {k: dims[v] if isinstance(v, str) else v
                  for k, v in getattr(self.p, "init_kwargs", {}).items()}
        return args, kwargs

    def raised(self, exc: StudentError) -> str:
        """The message for an exception from student code, with the instance it came from."""
        short = exc.short()
        return f"your code raised {short}" + (f", with {self.made[-1]}" if self.made
                                              else "") + _exception_cause(short)

    def make_input(self, rng: np.random.Generator, dims: dict[str, Any],
                   dtype: Any = np.float64) -> np.ndarray:
        return make_array(self.p.input_dist, shape_of(self.p.input, dims),
                          rng, self.p.input_scale, self.p.input_shift
                          ).astype(dtype)

    def make_target(self, rng: np.random.Generator, x: np.ndarray) -> np.ndarray | None:
        kind = self.p.target
        return None if kind is None else make_array(kind, x.shape, rng).astype(x.dtype)

    def make_params(self, rng: np.random.Generator, dims: dict[str, Any]) -> dict[str, np.ndarray]:
        return {name: rng.standard_normal(shape)
                for name, shape in param_shapes(self.p.params, dims).items()}

    def reference(self, x, params, dims, target=None, grad_output=None, grads=False,
                  expr: str | None = None) -> dict[str, np.ndarray]:
        with self.session.paused():  # the grader's own time is not the student's
            return torch_reference(expr or self.p.reference, x, params, dims, target,
                                   grad_output, grads, self.definitions)

    def mistakes(self, x, params, dims, target, grad_output, key: str
                 ) -> Callable[[], list[tuple[np.ndarray, str]]]:
        """Lazily: what each known mistake in the spec would have produced for ``key``."""

        def compute() -> list[tuple[np.ndarray, str]]:
            found = []
            for m in self.p.mistakes:
                if "when" in m and not eval_expr(m["when"], dims):
                    continue
                if key not in m.get("applies_to", [key]):
                    continue
                # A forward-level mistake (``reference``) implies wrong gradients by autograd;
                # an ``input_grad`` mistake is a wrong gradInput formula over g directly.
                direct = "input_grad" in m
                if direct and key != "input":
                    continue
                try:
                    ref = self.reference(x, params, dims, target, grad_output,
                                         grads=key != "output" and not direct,
                                         expr=m["input_grad" if direct else "reference"])
                except Exception:  # noqa: BLE001 - a mistake that does not apply here
                    continue
                value = ref["output"] if direct else ref.get(key)
                if value is not None:
                    found.append((value, m["message"]))
            return found

        return compute

    def where(self, x: np.ndarray, params: dict[str, np.ndarray] | None = None,
              extra: str = "", dims: dict[str, Any] | None = None) -> str:
        """"for Conv2d(1, 3, 3, stride=2) on input (1, 1, 5, 4) float32, W (3, 1, 3, 3), ...":
        the constructor call (given ``dims``) says what the shapes cannot (stride, p, k)."""
        parts = [f"input {fmt_shape(x.shape)} {x.dtype}"]
        parts += [f"{k} {fmt_shape(v.shape)}" for k, v in (params or {}).items()]
        made = f"{self.constructor(dims)} on " if dims is not None and any(
            self._init_args(dims)) else ""
        return f"for {made}" + ", ".join(parts) + (f" ({extra})" if extra else "")

    def constructor(self, dims: dict[str, Any]) -> str:
        """The call ``new`` makes for ``dims``, as the student would write it."""
        args, kwargs = self._init_args(dims)
        shown = [repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()]
        return f"{self.name}({', '.join(shown)})"


def call_array(ctx: Context, target: Handle, method: str, *args: Any,
               fallback: str | None = None, what: str = "") -> np.ndarray:
    """Call a student method that must produce an array; a student exception fails the check."""
    return as_array(ctx.session.call(target, method, *args, fallback=fallback),
                    what or f"{method}()")


def layer_args(x: np.ndarray, target: np.ndarray | None) -> tuple:
    return (x,) if target is None else (x, target)
