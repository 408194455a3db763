"""``Residual(module)``, checked around the grader's own probe module.

The container is built as ``Residual(probe)`` with a ``probe:Recorder`` (y = a*x + b, one
parameter; ``autograder/worker/probes.py``), which records every input it is given, so a
bug in the student's other layers cannot cost points here. A ``Sequential`` inside (the
submission's given container, holding probes) checks what the end-to-end network relies on:
backward through a container, and one flat parameter list.
"""

from __future__ import annotations

import numpy as np

from autograder.checks import EXACT, CheckFailed, assert_close, require
from autograder.kinds.base import Context, call_array, check_kind
from autograder.kinds.containers import check_stored
from autograder.results import Cause
from autograder.sandbox import StudentError
from autograder.wire import Handle


def _probe(ctx: Context, rng: np.random.Generator) -> tuple[Handle, float, float]:
    scale = float(rng.uniform(0.5, 2.0) * rng.choice([-1, 1]))
    shift = float(rng.uniform(-1, 1))
    return ctx.session.new("probe:Recorder", scale, shift), scale, shift


def _input(rng: np.random.Generator) -> np.ndarray:
    """A (batch, features) or an image-shaped (batch, c, h, w) input: the probe takes any."""
    batch = int(rng.integers(1, 5))
    if rng.random() < 0.5:
        return rng.standard_normal((batch, int(rng.integers(1, 7))))
    return rng.standard_normal((batch, *(int(n) for n in rng.integers(1, 5, 3))))


def _where(x: np.ndarray, scale: float, shift: float) -> str:
    return f"for Residual(module) with module y = {scale:.3g}*x + {shift:.3g}, input {x.shape}"


def _forward_mistakes(x: np.ndarray, inner: np.ndarray) -> list[tuple[np.ndarray, str]]:
    return [(inner, "the skip connection is missing: output = input + module.forward(input)"),
            (x, "the module is skipped: output = input + module.forward(input)")]


def _backward_mistakes(g: np.ndarray, inner: np.ndarray) -> list[tuple[np.ndarray, str]]:
    """``inner``: the module's own gradInput for gradOutput ``g``."""
    return [(inner, "the skip path's gradient is missing: gradInput = gradOutput + "
             "module.backward(input, gradOutput)"),
            (g, "the module's gradient is missing: gradInput = gradOutput + "
             "module.backward(input, gradOutput)")]


@check_kind("residual_forward")
def check_forward(ctx: Context) -> None:
    s = ctx.session
    for _trial, rng, _dims in ctx.trials():
        probe, scale, shift = _probe(ctx, rng)
        res = s.new(ctx.name, probe)
        x = _input(rng)
        inner = scale * x + shift
        out = call_array(ctx, res, "forward", x, fallback="output", what="Residual output")
        where = _where(x, scale, shift)
        assert_close(out, x + inner, EXACT, "the output of forward", where,
                     mistakes=lambda x=x, inner=inner: _forward_mistakes(x, inner))
        seen = s.get(probe, "seen_forward")
        require(len(seen) == 1, f"the module was called {len(seen)} times in one forward "
                "(expected once)", Cause.RESIDUAL_CALLS)
        assert_close(seen[0], x, EXACT, "the input given to the module", where)
        assert_close(s.get(probe, "output"), inner, EXACT, "the module's own output after "
                     "forward", where + ": it was modified in place (out = module.forward(x); "
                     "out += x); build a new array with input + module.forward(input)")


@check_kind("residual_backward", uses=("Sequential",))
def check_backward(ctx: Context) -> None:
    s = ctx.session
    for _trial, rng, _dims in ctx.trials():
        probe, scale, shift = _probe(ctx, rng)
        res = s.new(ctx.name, probe)
        x = _input(rng)
        s.call(res, "forward", x)
        g = rng.standard_normal(x.shape)
        grad = call_array(ctx, res, "backward", x, g, fallback="gradInput",
                          what="Residual gradInput")
        where = _where(x, scale, shift)
        assert_close(grad, g + scale * g, EXACT, "the gradInput returned by backward", where,
                     mistakes=lambda g=g, inner=scale * g: _backward_mistakes(g, inner))
        seen = s.get(probe, "seen_backward")
        require(len(seen) == 1, f"the module got {len(seen)} backward calls (expected one)",
                Cause.RESIDUAL_CALLS)
        module_input, module_grad = seen[0]
        assert_close(module_input, x, EXACT, "the input passed to the module's backward",
                     where + ": it must be the input the module saw in forward",
                     mistakes=lambda x=x, inner=scale * x + shift: [
                         (inner, "the module was given its own output instead of its input"),
                         (x + inner, "the module was given the Residual's output instead of "
                          "its input")])
        assert_close(module_grad, g, EXACT, "the gradOutput passed to the module", where)
        require("acc" in s.get(probe, "events"), "the module's parameter gradients were not "
                "computed: call module.backward (updateGradInput and accGradParameters)",
                Cause.RESIDUAL_ACC)
        _check_nested_backward(ctx, rng)


def _check_nested_backward(ctx: Context, rng: np.random.Generator) -> None:
    """Residual(Sequential(m1, m2)), as in a residual block: a container has only backward."""
    s = ctx.session
    res, probes, (a1, a2) = _nested(ctx, rng)
    x = _input(rng)
    s.call(res, "forward", x)
    g = rng.standard_normal(x.shape)
    try:
        grad = call_array(ctx, res, "backward", x, g, fallback="gradInput",
                          what="Residual gradInput")
    except StudentError as exc:
        raise CheckFailed(f"for Residual(Sequential(m1, m2)) your code raised {exc.short()}; "
                          "call module.backward(input, gradOutput): a container such as "
                          "Sequential implements backward, not updateGradInput",
                          Cause.EXCEPTION) from None
    assert_close(grad, g + a1 * a2 * g, EXACT, "the gradInput returned by backward",
                 f"for Residual(Sequential(m1, m2)), m_i(x) = a_i*x + b_i, input {x.shape}",
                 mistakes=lambda g=g, inner=a1 * a2 * g: _backward_mistakes(g, inner))
    for i, probe in enumerate(probes):
        require("acc" in s.get(probe, "events"), f"child {i} of the Sequential inside got no "
                "parameter gradients: call module.backward", Cause.RESIDUAL_ACC)


@check_kind("residual_stores")
def check_stores(ctx: Context) -> None:
    """forward and backward both return their result and store it in output / gradInput."""
    for _trial, rng, _dims in ctx.trials():
        probe, scale, shift = _probe(ctx, rng)
        res = ctx.session.new(ctx.name, probe)
        x = _input(rng)
        g = rng.standard_normal(x.shape)
        check_stored(ctx, res, (x,), x + scale * x + shift, (x, g), g + scale * g,
                     _where(x, scale, shift), mistakes={
                         "updateOutput": lambda x=x, inner=scale * x + shift: _forward_mistakes(
                             x, inner),
                         "backward": lambda g=g, inner=scale * g: _backward_mistakes(g, inner)})


@check_kind("residual_parameters", uses=("Sequential",))
def check_parameters(ctx: Context) -> None:
    s = ctx.session
    for _trial, rng, _dims in ctx.trials():
        probe, _scale, _shift = _probe(ctx, rng)
        res = s.new(ctx.name, probe)
        for getter, attr in (("getParameters", "w"), ("getGradParameters", "gradw")):
            _require_flat(ctx, res, getter, [(probe, attr)], "the module's")
        s.call(res, "zeroGradParameters")
        require("zero" in s.get(probe, "events"), "zeroGradParameters() was not passed on to "
                "the module", Cause.CONTAINER_PROPAGATION)
        for method, training in (("evaluate", False), ("train", True)):
            s.call(res, method)
            require(s.get(res, "training") is training, f"after {method}() the Residual's own "
                    f"training flag is not {training}", Cause.CONTAINER_MODE)
            require(s.get(probe, "training") is training, f"{method}() was not passed on to "
                    "the module", Cause.CONTAINER_MODE)
        _check_nested(ctx, rng)


def _nested(ctx: Context, rng: np.random.Generator
            ) -> tuple[Handle, list[Handle], list[float]]:
    """Residual(Sequential(p1, p2)) with two probes; also their scales."""
    s = ctx.session
    seq = s.new("Sequential")
    made = [_probe(ctx, rng) for _ in range(2)]
    for probe, _scale, _shift in made:
        s.call(seq, "add", probe)
    return s.new(ctx.name, seq), [m[0] for m in made], [m[1] for m in made]


def _check_nested(ctx: Context, rng: np.random.Generator) -> None:
    """Residual(Sequential(p1, p2)): one flat list [p1.w, p2.w], as optimizers expect."""
    res, probes, _scales = _nested(ctx, rng)
    for getter, attr in (("getParameters", "w"), ("getGradParameters", "gradw")):
        _require_flat(ctx, res, getter, [(p, attr) for p in probes],
                      "for Residual(Sequential(m1, m2)), the children's")


def _require_flat(ctx: Context, res: Handle, getter: str, expected: list[tuple[Handle, str]],
                  whose: str) -> None:
    s = ctx.session
    listed = s.call(res, getter, keep=True)
    value = s.get(listed)
    names = [attr for _handle, attr in expected]
    require(isinstance(value, list) and len(value) == len(expected)
            and all(isinstance(v, np.ndarray) for v in value),
            f"{getter}() must return {whose} arrays as one flat list {names} (the optimizers "
            f"expect one flat list per layer; see flatten_parameters); got {_describe(value)}",
            Cause.CONTAINER_PARAMS)
    for i, (handle, attr) in enumerate(expected):
        require(s.shares((listed, i), (handle, attr)), f"{getter}()[{i}] is not {whose} "
                f"own {attr} array (a copy?): optimizers update these arrays in place",
                Cause.GET_PARAMETERS)


def _describe(value) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_describe(v) for v in value) + "]"
    return "array" if isinstance(value, np.ndarray) else type(value).__name__

