"""``Module`` and ``Sequential``, checked with the grader's own probe modules.

The probes (``autograder/worker/probes.py``) record every input they are given, so a bug in
the student's Linear cannot cost points here, and a wrong input fed to a child is visible.
"""

from __future__ import annotations

import numpy as np

from autograder.checks import EXACT, as_array, assert_close, require
from autograder.kinds.base import Context, call_array, check_kind
from autograder.results import Cause


def _chain(ctx: Context, rng: np.random.Generator, depth: int):
    s = ctx.session
    seq = s.new(ctx.name)
    coefs = [(float(rng.uniform(0.5, 2.0) * rng.choice([-1, 1])), float(rng.uniform(-1, 1)))
             for _ in range(depth)]
    probes = []
    for scale, shift in coefs:
        probe = s.new("probe:Recorder", scale, shift)
        s.call(seq, "add", probe)
        probes.append(probe)
    return seq, probes, coefs


def _depth(ctx: Context, rng: np.random.Generator) -> int:
    lo, hi = ctx.p.depth
    return int(rng.integers(lo, hi + 1))


def _inputs(coefs, x):
    """What each child must see in forward, and the final output."""
    seen = []
    for scale, shift in coefs:
        seen.append(x)
        x = scale * x + shift
    return seen, x


@check_kind("sequential_forward")
def check_forward(ctx: Context) -> None:
    for _trial, rng, _dims in ctx.trials():
        seq, probes, coefs = _chain(ctx, rng, _depth(ctx, rng))
        x = rng.standard_normal((int(rng.integers(1, 5)), int(rng.integers(1, 6))))
        out = call_array(ctx, seq, "forward", x, fallback="output", what="Sequential output")
        seen, expected = _inputs(coefs, x)
        where = f"for {len(coefs)} children y = a*x + b"
        assert_close(out, expected, EXACT, "the output of forward", where)
        for i, probe in enumerate(probes):
            got = ctx.session.get(probe, "seen_forward")
            require(len(got) == 1, f"child {i} was called {len(got)} times in one forward "
                    "(expected once)", Cause.SEQUENTIAL_CALLS)
            assert_close(got[0], seen[i], EXACT, f"the input given to child {i}", where)


@check_kind("sequential_backward")
def check_backward(ctx: Context) -> None:
    s = ctx.session
    for _trial, rng, _dims in ctx.trials():
        seq, probes, coefs = _chain(ctx, rng, _depth(ctx, rng))
        x = rng.standard_normal((int(rng.integers(1, 5)), int(rng.integers(1, 6))))
        s.call(seq, "forward", x)
        g = rng.standard_normal(x.shape)
        grad = call_array(ctx, seq, "backward", x, g, fallback="gradInput",
                          what="Sequential gradInput")
        seen, _ = _inputs(coefs, x)
        grads = [g]
        for scale, _shift in reversed(coefs):
            grads.append(scale * grads[-1])
        grads = grads[::-1]  # grads[0]: gradInput of the chain; grads[i + 1]: child i's gradOutput
        where = f"for {len(coefs)} children y = a*x + b"
        assert_close(grad, grads[0], EXACT, "the gradInput returned by backward", where)
        for i, probe in enumerate(probes):
            got = s.get(probe, "seen_backward")
            require(len(got) == 1, f"child {i} got {len(got)} backward calls (expected one)",
                    Cause.SEQUENTIAL_CALLS)
            child_input, child_grad = got[0]
            assert_close(child_input, seen[i], EXACT, f"the input passed to child {i}'s "
                         "backward", where + ": each child must get the input it saw in forward",
                         mistakes=lambda i=i, seen=seen: _wrong_inputs(seen, i))
            assert_close(child_grad, grads[i + 1], EXACT,
                         f"the gradOutput passed to child {i}", where)
            events = s.get(probe, "events")
            require("acc" in events, f"child {i}'s parameter gradients were not computed: "
                    "call child.backward (updateGradInput and accGradParameters)",
                    Cause.SEQUENTIAL_ACC)


def _wrong_inputs(seen: list[np.ndarray], i: int) -> list[tuple[np.ndarray, str]]:
    return [(seen[j], f"child {i} was given child {j}'s input: iterate backwards feeding "
             "module i the output of module i-1 (module 0 gets the input)")
            for j in range(len(seen)) if j != i]


@check_kind("sequential_parameters")
def check_parameters(ctx: Context) -> None:
    s = ctx.session
    for _trial, rng, _dims in ctx.trials():
        seq, probes, coefs = _chain(ctx, rng, 3)
        params = s.call(seq, "getParameters")
        require(isinstance(params, list) and len(params) == 3 and all(
            isinstance(p, list) and len(p) == 1 for p in params),
            "getParameters() must return a list with one list per child "
            f"(e.g. [[W1, b1], [], ...]); got {_shape_of_nested(params)}", Cause.CONTAINER_PARAMS)
        for i, (scale, _shift) in enumerate(coefs):
            assert_close(params[i][0], np.full(2, scale), EXACT, f"getParameters()[{i}][0]",
                         "(the child's own parameter array)")
        grads = s.call(seq, "getGradParameters")
        require(isinstance(grads, list) and len(grads) == 3,
                "getGradParameters() must return a list with one list per child",
                Cause.CONTAINER_PARAMS)
        s.call(seq, "zeroGradParameters")
        _require_event(ctx, probes, "zero", "zeroGradParameters() must call it on every child")
        s.call(seq, "evaluate")
        _require_mode(ctx, seq, probes, False, "evaluate")
        s.call(seq, "train")
        _require_mode(ctx, seq, probes, True, "train")
        for i in range(3):
            scale = s.get(seq, i, "scale")
            require(scale == coefs[i][0], f"seq[{i}] is not the {i}-th added module",
                    Cause.CONTAINER_GETITEM)


def _require_event(ctx: Context, probes, event: str, message: str) -> None:
    for i, probe in enumerate(probes):
        require(event in ctx.session.get(probe, "events"), f"child {i}: {message}",
                Cause.CONTAINER_PROPAGATION)


def _require_mode(ctx: Context, seq, probes, training: bool, method: str) -> None:
    require(ctx.session.get(seq, "training") is training,
            f"after {method}() the container's own training flag is not {training}",
            Cause.CONTAINER_MODE)
    for i, probe in enumerate(probes):
        require(ctx.session.get(probe, "training") is training,
                f"{method}() was not propagated to child {i}: call it on every child",
                Cause.CONTAINER_MODE)


def _shape_of_nested(value) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_shape_of_nested(v) for v in value) + "]"
    return type(value).__name__ if not isinstance(value, np.ndarray) else "array"


@check_kind("module_base")
def check_module(ctx: Context) -> None:
    s = ctx.session
    for _trial, rng, _dims in ctx.trials():
        base = s.get(ctx.name, keep=True)
        probe = s.call("probe:module_probe", None, base, keep=True)
        require(s.get(probe, "training") is True, "Module() must start with training = True",
                Cause.MODULE_INIT)
        x = rng.standard_normal((3, 4))
        out = as_array(s.call(probe, "forward", x), "forward()'s return value")
        assert_close(out, 2 * x + 1, EXACT, "forward()'s return value",
                     "(must return updateOutput(input))")
        g = rng.standard_normal((3, 4))
        events_before = len(s.get(probe, "events"))
        grad = as_array(s.call(probe, "backward", x, g), "backward()'s return value")
        events = s.get(probe, "events")[events_before:]
        require(events == ["updateGradInput", "accGradParameters"],
                f"backward() must call updateGradInput then accGradParameters; it called "
                f"{events}", Cause.MODULE_BACKWARD)
        assert_close(grad, 3 * g, EXACT, "backward()'s return value", "(must be gradInput)")
        s.call(probe, "evaluate")
        require(s.get(probe, "training") is False, "evaluate() must set training = False",
                Cause.MODULE_MODE)
        s.call(probe, "train")
        require(s.get(probe, "training") is True, "train() must set training = True",
                Cause.MODULE_MODE)
        for getter in ("getParameters", "getGradParameters"):
            require(s.call(probe, getter) == [], f"Module.{getter}() must return []",
                    Cause.MODULE_PARAMS)
