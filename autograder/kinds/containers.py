"""``Module``, ``Criterion`` and ``Sequential``, checked with the grader's own probe modules.

The probes (``autograder/worker/probes.py``) record every input they are given, so a bug in
the student's Linear cannot cost points here, and a wrong input fed to a child is visible.
The base classes are checked through probe subclasses of the student's own class, so a
broken ``Criterion.forward`` costs points in ``Criterion`` only (the criterion checks call
``updateOutput``/``updateGradInput`` directly).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import numpy as np

from autograder.checks import (
    EXACT,
    CheckFailed,
    Failures,
    all_close,
    as_array,
    assert_close,
    require,
)
from autograder.kinds.base import Context, call_array, check_kind
from autograder.results import Cause

# Known mistakes of a Sequential's backward, named wherever they show.
NO_ACC = "call child.backward (updateGradInput and accGradParameters)"
SKIPS_FIRST = ("the backward loop stops before the first child (index 0): its gradInput is "
               "the gradient the first child gets, not the one it passes back")


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
        # Every comparison of the trial made before it fails, so that a failure names all it
        # got wrong: only a trial whose every wrong result is a known mistake excuses the
        # hidden deeper chains (a red-team round hid another bug behind a named one).
        failures = Failures()
        failures.check(partial(assert_close, grad, grads[0], EXACT,
                               "the gradInput returned by backward", where,
                               mistakes=lambda grads=grads: [(grads[1], SKIPS_FIRST)]))
        for i, probe in enumerate(probes):
            failures.check(partial(_check_child, ctx, probe, i, seen, grads, where))
        failures.done()


def _check_child(ctx: Context, probe, i: int, seen: list[np.ndarray],
                 grads: list[np.ndarray], where: str) -> None:
    """Child i's backward got its forward input and its gradOutput, once; then its
    accGradParameters (each comparison run, so that the failure names every wrong one)."""
    got = ctx.session.get(probe, "seen_backward")
    if i == 0 and not got:
        raise CheckFailed(f"child 0 got no backward call: {SKIPS_FIRST}", Cause.SEQUENTIAL_CALLS,
                          (frozenset({f"mistake: {SKIPS_FIRST}"}),))
    require(len(got) == 1, f"child {i} got {len(got)} backward calls (expected one)",
            Cause.SEQUENTIAL_CALLS)
    child_input, child_grad = got[0]
    all_close(partial(assert_close, child_input, seen[i], EXACT,
                      f"the input passed to child {i}'s backward",
                      where + ": each child must get the input it saw in forward",
                      mistakes=lambda: _wrong_inputs(seen, i)),
              partial(assert_close, child_grad, grads[i + 1], EXACT,
                      f"the gradOutput passed to child {i}", where),
              partial(_check_acc, ctx, probe, i, seen[i], grads[i + 1], grads[i], where))


def _check_acc(ctx: Context, probe, i: int, child_input: np.ndarray, child_grad: np.ndarray,
               propagated: np.ndarray, where: str) -> None:
    """Child i's accGradParameters ran once, on its forward input and its own gradOutput."""
    acc = ctx.session.get(probe, "seen_acc")
    if not acc:
        raise CheckFailed(f"child {i}'s parameter gradients were not computed: {NO_ACC}",
                          Cause.SEQUENTIAL_ACC, (frozenset({f"mistake: {NO_ACC}"}),))
    require(len(acc) == 1, f"child {i}'s accGradParameters was called {len(acc)} times in one "
            "backward (expected once)", Cause.SEQUENTIAL_CALLS)
    assert_close(acc[0][0], child_input, EXACT, f"the input passed to child {i}'s "
                 "accGradParameters", where + ": the input it saw in forward")
    assert_close(acc[0][1], child_grad, EXACT, f"the gradOutput passed to child {i}'s "
                 "accGradParameters", where + ": it must be the gradient of the child's "
                 "output (the same gradOutput as its updateGradInput), not the gradient it "
                 "propagated to its input", mistakes=lambda: [(
                     propagated, "each child's accGradParameters was given the gradient the "
                     "child propagated to its input (its gradInput) instead of its gradOutput")])


@check_kind("sequential_stores")
def check_stores(ctx: Context) -> None:
    """forward and backward both return their result and store it in output / gradInput."""
    for _trial, rng, _dims in ctx.trials():
        seq, _probes, coefs = _chain(ctx, rng, _depth(ctx, rng))
        x = rng.standard_normal((int(rng.integers(2, 5)), int(rng.integers(2, 6))))
        _seen, expected = _inputs(coefs, x)
        g = rng.standard_normal(x.shape)
        grad = g
        for scale, _shift in coefs:
            grad = scale * grad
        check_stored(ctx, seq, (x,), expected, (x, g), grad,
                     f"for Sequential with {len(coefs)} children y = a*x + b",
                     {"backward": lambda grad=grad, first=coefs[0][0]: [(grad / first,
                                                                         SKIPS_FIRST)]})


def check_stored(ctx: Context, handle, forward_args: tuple, output, backward_args: tuple,
                 grad_input, where: str, mistakes: dict[str, Callable] | None = None) -> None:
    """The module contract: forward returns output and stores it in ``self.output``; backward
    returns gradInput and stores it in ``self.gradInput`` (a container nested in another is
    read through these attributes). ``mistakes``: per method, the known wrong values of the
    container's value checks, so that a wrong value is named here as it is there."""
    s = ctx.session
    # updateOutput, not forward: the container's own method (forward is Module's, whose bugs
    # cost points in Module only); containers implement backward themselves.
    for method, args, attr, expected in (("updateOutput", forward_args, "output", output),
                                         ("backward", backward_args, "gradInput", grad_input)):
        returned = s.call(handle, method, *args)
        require(returned is not None, f"{method}() returned None: return self.{attr}",
                Cause.NOT_STORED)
        assert_close(as_array(returned, f"{method}()'s return value"), expected, EXACT,
                     f"the value returned by {method}()", where,
                     mistakes=(mistakes or {}).get(method))
        stored = s.get(handle, attr)
        require(stored is not None, f"{method}() returned its result but self.{attr} is None: "
                f"store it in self.{attr} (a container nested in another Sequential is read "
                f"through its {attr})", Cause.NOT_STORED)
        assert_close(as_array(stored, f"self.{attr}"), expected, EXACT,
                     f"self.{attr} after {method}()", where + f": store the result in "
                     f"self.{attr} (a nested container is read through it)")


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


def _module_probe(ctx: Context):
    s = ctx.session
    return s.call("probe:module_probe", None, s.get(ctx.name, keep=True), keep=True)


@check_kind("module_forward")
def check_module_forward(ctx: Context) -> None:
    """Module.forward returns updateOutput's result and leaves it in self.output; the
    training flag and modes (the rest of Module's protocol, apart from backward)."""
    s = ctx.session
    check_module_modes(ctx)
    for _trial, rng, _dims in ctx.trials():
        probe = _module_probe(ctx)
        x = rng.standard_normal((3, 4))
        out = as_array(s.call(probe, "forward", x), "forward()'s return value")
        assert_close(out, 2 * x + 1, EXACT, "forward()'s return value",
                     "(must return updateOutput(input))")
        assert_close(as_array(s.get(probe, "output"), "self.output"), 2 * x + 1, EXACT,
                     "self.output after forward()", "(updateOutput stores it; forward must "
                     "not change it)")


@check_kind("module_backward")
def check_module_backward(ctx: Context) -> None:
    """Module.backward calls updateGradInput then accGradParameters and returns gradInput."""
    s = ctx.session
    for _trial, rng, _dims in ctx.trials():
        probe = _module_probe(ctx)
        x = rng.standard_normal((3, 4))
        g = rng.standard_normal((3, 4))
        grad = s.call(probe, "backward", x, g)
        events = s.get(probe, "events")
        require(events == ["updateGradInput", "accGradParameters"],
                f"backward() must call updateGradInput then accGradParameters; it called "
                f"{events}", Cause.MODULE_BACKWARD)
        assert_close(as_array(grad, "backward()'s return value"), 3 * g, EXACT,
                     "backward()'s return value", "(must be gradInput)")
        assert_close(as_array(s.get(probe, "gradInput"), "self.gradInput"), 3 * g, EXACT,
                     "self.gradInput after backward()", "(updateGradInput stores it; "
                     "backward must not change it)")


def check_module_modes(ctx: Context) -> None:
    """Module starts in training mode; train/evaluate switch it; no parameters."""
    s = ctx.session
    for _trial, _rng, _dims in ctx.trials():
        probe = _module_probe(ctx)
        require(s.get(probe, "training") is True, "Module() must start with training = True",
                Cause.MODULE_INIT)
        s.call(probe, "evaluate")
        require(s.get(probe, "training") is False, "evaluate() must set training = False",
                Cause.MODULE_MODE)
        s.call(probe, "train")
        require(s.get(probe, "training") is True, "train() must set training = True",
                Cause.MODULE_MODE)
        for getter in ("getParameters", "getGradParameters"):
            require(s.call(probe, getter) == [], f"Module.{getter}() must return []",
                    Cause.MODULE_PARAMS)


def _criterion_check(ctx: Context, method: str, update: str, attr: str, expected) -> None:
    """Criterion.<method>(input, target) calls <update> once and returns its result, on a
    probe subclass of the student's class (loss sum((x - t)**2), gradient 2 * (x - t))."""
    s = ctx.session
    for _trial, rng, _dims in ctx.trials():
        probe = s.call("probe:criterion_probe", None, s.get(ctx.name, keep=True), keep=True)
        require(attr in s.call(probe, "__dir__"), f"Criterion() must set self.{attr} "
                "(to None)", Cause.CRITERION_BASE)
        x = rng.standard_normal((3, 4))
        t = rng.standard_normal((3, 4))
        value = s.call(probe, method, x, t)
        events = s.get(probe, "events")
        require(events == [update], f"{method}(input, target) must call {update} once; it "
                f"called {events}", Cause.CRITERION_BASE)
        require(value is not None, f"{method}() returned None: return the value of "
                f"{update}(input, target)", Cause.CRITERION_BASE)
        assert_close(as_array(value, f"{method}()'s return value"), expected(x, t), EXACT,
                     f"{method}()'s return value", f"(must return {update}(input, target))")


@check_kind("criterion_forward")
def check_criterion_forward(ctx: Context) -> None:
    _criterion_check(ctx, "forward", "updateOutput", "output",
                     lambda x, t: float(np.sum((x - t) ** 2)))


@check_kind("criterion_backward")
def check_criterion_backward(ctx: Context) -> None:
    _criterion_check(ctx, "backward", "updateGradInput", "gradInput", lambda x, t: 2 * (x - t))
