"""Checks of layers and criterions against PyTorch and against their own forward.

Layers are driven through ``updateOutput`` / ``updateGradInput`` / ``accGradParameters``
directly, so a bug in the student's ``Module.forward`` costs points in ``Module`` only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np

from autograder.checks import (
    OVERFLOW,
    CheckFailed,
    Failures,
    Tolerance,
    all_close,
    as_array,
    assert_close,
    close,
    explained,
    fmt_shape,
    require,
)
from autograder.kinds.base import Context, call_array, check_kind, layer_args, make_array
from autograder.results import Cause
from autograder.sandbox import StudentError
from autograder.spec import eval_expr, param_shapes, shape_of
from autograder.wire import Handle


@dataclass
class Trial:
    """One random instance of a component with its inputs, as both sides see it."""

    handle: Handle
    x: np.ndarray
    target: np.ndarray | None
    params: dict[str, np.ndarray]
    dims: dict[str, Any]

    @property
    def args(self) -> tuple:
        return layer_args(self.x, self.target)


def is_criterion(ctx: Context) -> bool:
    return ctx.f.get("kind") == "criterion"


def setup(ctx: Context, rng: np.random.Generator, dims: dict[str, Any], dtype: Any) -> Trial:
    """A fresh instance with every precondition set by the grader (isolation): parameters,
    mode, and state such as moving statistics (spec ``state``; a rule with ``unset`` is left
    as the constructor made it, for the check of that very behaviour)."""
    x = ctx.make_input(rng, dims, dtype)
    params = ctx.make_params(rng, dims)
    preset: dict[str, Any] = dict(params)
    for name, rule in ctx.f.get("state", {}).items():
        if "unset" not in rule:
            preset[name] = make_array(rule.get("dist", "normal"), shape_of(rule["shape"], dims),
                                      rng)
    if "mode" in ctx.f:
        preset["training"] = ctx.f["mode"] == "train"
    handle = ctx.new(dims, preset)  # set right after construction, in the same request
    return Trial(handle, x, ctx.make_target(rng, x), params, dims)


def trial_dtype(ctx: Context, trial: int) -> Any:
    return np.float32 if ctx.f.get("float32", True) and trial % 2 == 0 else np.float64


def forward(ctx: Context, t: Trial) -> np.ndarray:
    return call_array(ctx, t.handle, "updateOutput", *t.args, fallback="output",
                      what="the output of updateOutput")


def grad_output(ctx: Context, rng: np.random.Generator, t: Trial, out: np.ndarray):
    if is_criterion(ctx):
        return None
    shape = (ctx.reference(t.x, t.params, t.dims, t.target)["output"].shape
             if "reference" in ctx.f else out.shape)
    return rng.standard_normal(shape).astype(t.x.dtype)


def backward_input(ctx: Context, t: Trial, g: np.ndarray | None,
                   out: Any = None) -> np.ndarray:
    """gradInput for gradOutput ``g``. Where the backward raises and the forward's ``out``
    has another shape than PyTorch's (which ``g`` has), the message starts with that shape:
    a blind round's Conv2d with the stride applied to the input was told only that its
    updateGradInput raised a broadcast error. The backward still runs: a right backward
    behind a forward of the wrong shape earns its checks."""
    args = t.args if g is None else (t.x, g)
    try:
        return call_array(ctx, t.handle, "updateGradInput", *args, fallback="gradInput",
                          what="gradInput")
    except StudentError as exc:
        expected = g.shape if g is not None else None
        if not isinstance(out, np.ndarray) or expected is None or out.shape == expected:
            raise
        raise CheckFailed(f"your forward's output has shape {fmt_shape(out.shape)} where "
                          f"PyTorch's has {fmt_shape(expected)}, on input "
                          f"{fmt_shape(t.x.shape)}; given gradOutput of PyTorch's shape, "
                          f"{ctx.raised(exc)}", Cause.EXCEPTION) from None


def hints(ctx: Context) -> dict:
    return ctx.f.get("hints", {})


def batch_of(t: Trial) -> int | None:
    return int(t.x.shape[0]) if t.x.ndim else None


# A forward right at ordinary inputs whose output overflows at this check's inputs (no max
# subtracted before exp, say) is one mistake, whether the output shows it or the gradInput a
# right backward computes from that output. Only a forward check charges it (OVERFLOW), and
# only when the forward's ordinary checks passed, so that a forward that is NaN everywhere
# excuses nothing; the key names the inputs' scale, so that it excuses a gradient check on
# inputs of that scale only, and only for a backward right in its ordinary checks or wrong
# there for a known reason, charged there (a red-team round excused a backward wrong
# everywhere, every example's output having overflowed; a second one found a fair backward
# with a known mistake charged for the overflow again).


# Only the stability checks (public, inputs scaled by at least this much) charge and excuse
# it: a red-team round made the forward NaN on purpose at other checks' inputs (exact 0/1
# probabilities, soft targets, odd sizes) to excuse unrelated gradient mistakes there.
LARGE_INPUTS = 100.0


def _overflows(ctx: Context, out: Any, expected: np.ndarray) -> bool:
    return (ctx.check.visibility == "public"
            and float(ctx.f.get("input_scale", 1.0)) >= LARGE_INPUTS
            and isinstance(out, np.ndarray) and out.shape == expected.shape
            and out.dtype.kind == "f" and bool(np.any(~np.isfinite(out) & np.isfinite(expected))))


def _wrong_only_where_it_overflowed(grad: Any, expected: np.ndarray, out: np.ndarray,
                                    tol: Tolerance) -> bool:
    """For an output shaped like the input: every wrong value of ``grad`` lies in an example
    (a row) whose output is not finite, where a right backward works from the overflow;
    the examples whose output is right have a right gradient."""
    if not isinstance(grad, np.ndarray) or grad.shape != expected.shape \
            or grad.dtype.kind != "f":
        return False
    if out.shape != grad.shape or out.ndim == 0:
        return True  # a loss: no example of the output to pair a gradient row with
    wrong = ~np.isclose(grad.astype(np.float64), expected, rtol=tol.rtol, atol=tol.atol)
    overflowed = ~np.isfinite(out).reshape(len(out), -1).all(axis=1)
    return bool(np.all(overflowed[wrong.reshape(len(wrong), -1).any(axis=1)]))


def _as_overflow(ctx: Context, exc: CheckFailed, note: str = "") -> CheckFailed:
    key = f"{OVERFLOW} (inputs scaled by {float(ctx.f.get('input_scale', 1.0)):g})"
    return CheckFailed(exc.message + note, exc.cause, (frozenset({key}),))


def _result(ctx: Context, name: str, named: bool | None = None) -> str | None:
    """What a wrong result of an ordinary check (or where ``named``) is named for later checks
    when no known mistake explains it (``assert_close``'s ``wrong``): the output, gradInput,
    or the parameter gradients, which one check compares together."""
    if not (ctx.check.ordinary if named is None else named):
        return None
    return {"output": "output", "input": "gradInput"}.get(name, "parameter gradients")


@check_kind("forward")
def check_forward(ctx: Context) -> None:
    for trial, rng, dims in ctx.trials():
        t = setup(ctx, rng, dims, trial_dtype(ctx, trial))
        out = forward(ctx, t)
        expected = ctx.reference(t.x, t.params, dims, t.target)["output"]
        try:
            assert_close(out, expected, ctx.tol_of(out, t.x.dtype), "the output",
                         ctx.where(t.x, t.params, dims=t.dims),
                         batch_of(t), hints(ctx),
                         ctx.mistakes(t.x, t.params, dims, t.target, None, "output"),
                         wrong=_result(ctx, "output"))
        except CheckFailed as exc:
            if explained(exc.mistakes) or ctx.forward_passed is not True \
                    or not _overflows(ctx, out, expected):
                raise
            raise _as_overflow(ctx, exc) from None


@check_kind("input_grad")
def check_input_grad(ctx: Context) -> None:
    for trial, rng, dims in ctx.trials():
        t = setup(ctx, rng, dims, trial_dtype(ctx, trial))
        out = forward(ctx, t)
        g = grad_output(ctx, rng, t, out)
        grad = backward_input(ctx, t, g, out)
        expected = ctx.reference(t.x, t.params, dims, t.target, g, grads=True)
        try:
            assert_close(grad, expected["input"], ctx.tol_of(grad, t.x.dtype), "gradInput",
                         ctx.where(t.x, t.params, dims=t.dims),
                         batch_of(t), hints(ctx),
                         ctx.mistakes(t.x, t.params, dims, t.target, g, "input"),
                         wrong=_result(ctx, "input"))
        except CheckFailed as exc:
            if explained(exc.mistakes) or ctx.input_grad_known is not True \
                    or not _overflows(ctx, out, expected["output"]) \
                    or not _wrong_only_where_it_overflowed(grad, expected["input"], out,
                                                           ctx.tol_of(grad, t.x.dtype)):
                raise
            raise _as_overflow(ctx, exc, "\n  your forward's output is not finite at this input, "
                                    "and the backward works from it") from None


@check_kind("param_grad")
def check_param_grad(ctx: Context) -> None:
    for trial, rng, dims in ctx.trials():
        t = setup(ctx, rng, dims, trial_dtype(ctx, trial))
        ctx.session.call(t.handle, "zeroGradParameters")
        out = forward(ctx, t)
        g = grad_output(ctx, rng, t, out)
        backward_input(ctx, t, g, out)
        ctx.session.call(t.handle, "accGradParameters", t.x, g)
        expected = ctx.reference(t.x, t.params, dims, t.target, g, grads=True)
        grads = ctx.session.get_attrs(t.handle, list(ctx.f["grads"].values()))
        where = ctx.where(t.x, t.params, "after zeroGradParameters and one backward", t.dims)
        # Every gradient compared: each wrong one's known mistake is charged here, once.
        all_close(*(_compare(ctx, t, g, expected, where, grads[grad_name], name, grad_name)
                    for name, grad_name in ctx.f["grads"].items()))


def _compare(ctx: Context, t: Trial, g: np.ndarray | None, expected: dict[str, np.ndarray],
             where: str, value: Any, name: str, what: str) -> Callable[[], None]:
    """The comparison of one result with the reference's ``name`` ("output", "input" or a
    parameter), with that result's known mistakes, for ``all_close`` to run."""
    return partial(assert_close, value, expected[name], ctx.tol_of(value, t.x.dtype), what,
                   where, batch_of(t), hints(ctx),
                   ctx.mistakes(t.x, t.params, t.dims, t.target,
                                None if name == "output" else g, name),
                   wrong=_result(ctx, name))


def _objective(outputs: list[Any], g: np.ndarray | None, what: str) -> np.ndarray:
    values = []
    for out in outputs:
        arr = as_array(out, what).astype(np.float64)
        if g is not None:
            require(arr.shape == g.shape, f"{what} has shape {fmt_shape(arr.shape)}, expected "
                    f"{fmt_shape(g.shape)}", Cause.SHAPE)
        values.append(float(arr.sum()) if g is None else float(np.sum(arr * g)))
    return np.array(values)


def _varied(t: Trial, name: str | None) -> np.ndarray:
    """What the finite differences move: the input (name None) or a parameter."""
    return t.x if name is None else t.params[name]


def _steps(ctx: Context, t: Trial, name: str | None, eps: float) -> list[Any]:
    """The forward's outputs with ``_varied(t, name)`` moved by +-eps, one element at a
    time, in pairs."""
    base = _varied(t, name)
    items = []
    for i in range(base.size):
        for sign in (1.0, -1.0):
            moved = base.copy()
            moved.flat[i] += sign * eps
            if name is None:
                items.append({"args": list(layer_args(moved, t.target))})
            else:
                items.append({"args": list(t.args), "set": {name: moved}})
    return ctx.session.eval_many(t.handle, "updateOutput", items, fallback="output")


def _numeric_grad(steps: list[Any], g: np.ndarray | None, shape: tuple[int, ...],
                  eps: float) -> np.ndarray:
    """Central differences of sum(g * forward) from ``_steps``."""
    values = _objective(steps, g, "the output of updateOutput").reshape(-1, 2)
    return ((values[:, 0] - values[:, 1]) / (2 * eps)).reshape(shape)


@check_kind("finite_diff")
def check_finite_diff(ctx: Context) -> None:
    """The backward against finite differences of the student's own forward, so that a
    backward consistent with a wrong forward still earns this check. A backward that matches
    PyTorch passes without them: the forward's mistake is the forward check's to charge.

    Every step of the input and of the parameters is evaluated before the backward sees
    gradOutput: a red-team round's forward answered the steps from a linear model of its own
    (wrong) backward, which it cannot build without gradOutput. Their differences are taken
    only for a gradient that does not match PyTorch's (a forward of the wrong shape has
    none, and a right backward behind it passes)."""
    for _trial, rng, dims in ctx.trials():
        t = setup(ctx, rng, dims, np.float64)
        out = forward(ctx, t)
        # Code that computes in float32 internally gets a step and tolerance to match.
        low = out.dtype != np.float64
        eps, tol = (1e-2, Tolerance(3e-2, 1e-3)) if low else (1e-5, ctx.tol("finite_diff"))
        g = grad_output(ctx, rng, t, out)
        g = None if g is None else g.astype(np.float64)
        steps = {name: _steps(ctx, t, name, eps) for name in [None, *ctx.f.get("grads", {})]}
        forward(ctx, t)  # caches from the last perturbed forward must not leak into backward
        grad = backward_input(ctx, t, g, out)
        where = ctx.where(t.x, t.params, "your backward against finite differences of "
                          "your own forward", t.dims)
        reference = ctx.reference(t.x, t.params, t.dims, t.target, g, grads=True) \
            if "reference" in ctx.f else {}
        right = _matches(out, reference, "output", ctx)
        failures = Failures()  # every gradient compared, even after a wrong one
        if not _matches(grad, reference, "input", ctx):
            failures.check(partial(_against_numeric, ctx, t, g, grad, None, steps[None],
                                   reference, right, eps, tol, where))
        if ctx.f.get("grads"):
            ctx.session.call(t.handle, "zeroGradParameters")
            ctx.session.call(t.handle, "accGradParameters", t.x, g)
            grads = ctx.session.get_attrs(t.handle, list(ctx.f["grads"].values()))
            for name, grad_name in ctx.f["grads"].items():
                if not _matches(grads[grad_name], reference, name, ctx):
                    failures.check(partial(_against_numeric, ctx, t, g, grads[grad_name], name,
                                           steps[name], reference, right, eps, tol, where))
        failures.done()


def _against_numeric(ctx: Context, t: Trial, g: np.ndarray | None, value: Any, name: str | None,
                     steps: list[Any], reference: dict[str, np.ndarray], right: bool,
                     eps: float, tol: Tolerance, where: str) -> None:
    """gradInput (``name`` None) or a parameter's gradient against finite differences of the
    student's forward (its ``steps``), which must be one function of its input (``right``:
    it is PyTorch's at the input)."""
    key = "input" if name is None else name
    numeric = _numeric_grad(steps, g, _varied(t, name).shape, eps)
    if name is None:
        _require_input_dependence(ctx, t, g, numeric)
    what = "gradInput" if name is None else ctx.f["grads"][name]
    if right:  # first: else a forward keeping state between calls reads as a wrong backward
        _require_one_function(reference[key], numeric, tol)
    # Where the forward is right, its finite differences are PyTorch's gradient: a wrong
    # backward here is the one the ordinary gradient check found (``unexplained``), if it is
    # an attempt at the gradient at all (not zeros or noise, which earn nothing here).
    assert_close(value, numeric, tol, what, where, batch_of(t), hints(ctx),
                 ctx.mistakes(t.x, t.params, t.dims, t.target, g, key),
                 wrong=_result(ctx, key, named=right and _an_attempt(value, numeric, g)))
    if not right:
        _require_wrong_forward(ctx)


# How far a wrong gradient must point the right way to count as an attempt at it (a cosine):
# one step's share of an RNN's gradient, a factor, a missing term pass; zeros, a constant
# and noise do not.
ATTEMPT = 0.5


def _an_attempt(value: Any, expected: np.ndarray, g: np.ndarray | None) -> bool:
    """Whether ``value`` points at least roughly where ``expected`` does, and, for a
    gradInput shaped like gradOutput, is nearer to it than any multiple of gradOutput (which
    a layer returning gradOutput untouched would be: a red-team round earned Sigmoid's finite
    differences that way, its derivative being positive)."""
    if not isinstance(value, np.ndarray) or value.shape != expected.shape \
            or value.dtype.kind != "f" or not np.all(np.isfinite(value)):
        return False
    got, want = value.astype(np.float64).ravel(), expected.ravel()
    norms = float(np.linalg.norm(got) * np.linalg.norm(want))
    if norms == 0 or float(got @ want) < ATTEMPT * norms:
        return False
    if g is None or g.shape != expected.shape or not np.any(g):
        return True
    passed = g.astype(np.float64).ravel()
    nearest = passed * float(passed @ want) / float(passed @ passed)
    return float(np.linalg.norm(got - want)) < float(np.linalg.norm(nearest - want))


def _matches(value: Any, reference: dict[str, np.ndarray], name: str, ctx: Context) -> bool:
    """Whether the student's array is the reference's ``name`` (False without one)."""
    if name not in reference or not isinstance(value, np.ndarray) \
            or value.shape != reference[name].shape:
        return False
    return close(value.astype(np.float64), reference[name], ctx.tol_of(value, np.float64))


def _require_wrong_forward(ctx: Context) -> None:
    """Agreeing with a forward that is wrong here earns this check only if the forward is
    wrong in its own check too. A forward right there and wrong only here (one that can tell
    this check's calls from the others') would otherwise vouch for any backward."""
    require(not ctx.forward_passed,
            "your forward passes its own check but is wrong at this check's input, so its "
            "finite differences cannot vouch for a backward that disagrees with PyTorch's: the "
            "forward must compute the same function of its input on every call",
            Cause.NOT_A_FUNCTION)


def _require_one_function(expected: np.ndarray, numeric: np.ndarray, tol: Tolerance) -> None:
    """A forward that is right at the input has the reference's derivative there. Otherwise
    the forward answers inputs near the one it saw last differently (a linear model of a
    wrong backward, say), and agreeing with that backward is worth nothing."""
    loose = Tolerance(2 * tol.rtol, 2 * tol.atol)  # both sides carry the steps' error
    require(numeric.shape == expected.shape and close(numeric, expected, loose),
            "your forward is right at this input, but its finite differences (steps of the "
            "input around it) disagree with PyTorch's gradient: the forward must compute the "
            "same function of its input on every call, whatever it was called with before",
            Cause.NOT_A_FUNCTION)


def _require_input_dependence(ctx: Context, t: Trial, g: np.ndarray | None,
                              numeric: np.ndarray) -> None:
    """A forward that ignores its input (a constant, zeros) agrees with a zero backward:
    that agreement is worth nothing, so the forward must move where the reference's does."""
    if np.any(numeric) or "reference" not in ctx.f:
        return
    expected = ctx.reference(t.x, t.params, t.dims, t.target, g, grads=True)["input"]
    require(not np.any(np.abs(expected) > 1e-6), "your forward does not change when its "
            "input changes (a constant output, where PyTorch's changes), so finite differences "
            "cannot check your backward: compute the forward first, or, if it is computed, see "
            "what the forward's own check says", Cause.ZEROS)


@check_kind("no_mutation")
def check_no_mutation(ctx: Context) -> None:
    """The caller's arrays keep shape, dtype and values, and the results are right.

    Each trial calls forward/backward twice: on ordinary data, whose output and gradInput must
    also match the reference (a property counts only with a right result), and on data of the
    spec's ``mutation_dist`` (exact zeros, ties, values outside clip ranges), which reaches the
    branches where in-place edits hide; there only the caller's arrays are compared.
    """
    for trial, rng, dims in ctx.trials():
        dtype = trial_dtype(ctx, trial)
        t = setup(ctx, rng, dims, dtype)
        out, grad, g = untouched_pass(ctx, rng, t)
        if "reference" in ctx.f:
            _check_values(ctx, t, g, out, grad, "while checking that no input is modified")
        if "mutation_dist" in ctx.f:
            t = setup(ctx, rng, dims, dtype)
            t.x = make_array(ctx.f["mutation_dist"], t.x.shape, rng,
                             ctx.f.get("input_scale", 1.0)).astype(dtype)
            t.target = ctx.make_target(rng, t.x)
            untouched_pass(ctx, rng, t)


def untouched_pass(ctx: Context, rng: np.random.Generator, t: Trial):
    """forward, backward (and accGradParameters) on caller arrays that must come back intact."""
    s = ctx.session
    g = None if is_criterion(ctx) else rng.standard_normal(_out_shape(ctx, t)).astype(t.x.dtype)
    second = t.target if g is None else g
    hx, h2 = s.put(t.x), s.put(second)
    out = as_array(s.call(t.handle, "updateOutput", *((hx,) if t.target is None else (hx, h2)),
                          fallback="output"), "the output of updateOutput")
    grad = as_array(s.call(t.handle, "updateGradInput", hx, h2, fallback="gradInput"),
                    "gradInput")
    if ctx.f.get("grads"):
        s.call(t.handle, "accGradParameters", hx, h2)
    for handle, original, what in ((hx, t.x, "input"),
                                   (h2, second, "target" if g is None else "gradOutput")):
        after = as_array(s.get(handle), what)
        same = (after.shape == original.shape and after.dtype == original.dtype
                and np.array_equal(after, original))
        require(same, f"the caller's {what} {fmt_shape(original.shape)} {original.dtype} was "
                f"modified in place by forward/backward (now {fmt_shape(after.shape)} "
                f"{after.dtype}): work on a copy (e.g. np.maximum(x, 0) instead of "
                f"x[x < 0] = 0, np.clip(x, a, b) without out=x)", Cause.MUTATES_INPUT)
    return out, grad, g


def _out_shape(ctx: Context, t: Trial) -> tuple[int, ...]:
    if "reference" in ctx.f:
        return ctx.reference(t.x, t.params, t.dims, t.target)["output"].shape
    return t.x.shape


def _check_values(ctx: Context, t: Trial, g: np.ndarray | None, out: Any, grad: Any,
                  extra: str, param_grads: bool = False) -> None:
    """Output, gradInput (and parameter gradients) of one pass against the reference."""
    expected = ctx.reference(t.x, t.params, t.dims, t.target, g, grads=True)
    where = ctx.where(t.x, t.params, extra, t.dims)
    compared = [_compare(ctx, t, g, expected, where, out, "output", "the output"),
                _compare(ctx, t, g, expected, where, grad, "input", "gradInput")]
    grad_names = ctx.f.get("grads", {}) if param_grads else {}
    if grad_names:
        grads = ctx.session.get_attrs(t.handle, list(grad_names.values()))
        compared += [_compare(ctx, t, g, expected, where, grads[grad_name], name, grad_name)
                     for name, grad_name in grad_names.items()]
    all_close(*compared)  # every result compared: each one's mistake is known


def _full_pass(ctx: Context, rng: np.random.Generator, t: Trial, extra: str
               ) -> tuple[np.ndarray, np.ndarray]:
    """zeroGradParameters, forward, backward, accGradParameters; every result checked.
    Returns the output and gradInput the methods returned."""
    if ctx.f.get("grads"):
        ctx.session.call(t.handle, "zeroGradParameters")
    out = forward(ctx, t)
    g = grad_output(ctx, rng, t, out)
    grad = backward_input(ctx, t, g, out)
    if ctx.f.get("grads"):
        ctx.session.call(t.handle, "accGradParameters", t.x, g)
    _check_values(ctx, t, g, out, grad, extra, param_grads=True)
    return out, grad


def _require_stored(ctx: Context, t: Trial, out: np.ndarray, grad: np.ndarray) -> None:
    """``self.output`` and ``self.gradInput`` hold what the methods returned: containers and
    ``Module.forward``/``backward`` read them."""
    stored = ctx.session.get_attrs(t.handle, ["output", "gradInput"])
    for attr, returned, method in (("output", out, "updateOutput"),
                                   ("gradInput", grad, "updateGradInput")):
        kept = stored[attr]
        same = kept is not None and np.array_equal(
            as_array(kept, f"self.{attr}").astype(np.float64), returned.astype(np.float64))
        require(same, f"self.{attr} does not hold what {method} returned (right values, not "
                f"stored): store the result in self.{attr} as well as returning it, and do not "
                f"change it in place later (a backward that writes into self.output does)",
                Cause.NOT_STORED)


@check_kind("pass")
def check_pass(ctx: Context) -> None:
    """One forward/backward with output, gradInput and parameter gradients checked (the kind
    of the edge-case checks: one degenerate size, every result)."""
    for trial, rng, dims in ctx.trials():
        t = setup(ctx, rng, dims, trial_dtype(ctx, trial))
        _full_pass(ctx, rng, t, "")


@check_kind("repeated")
def check_repeated(ctx: Context) -> None:
    """The same instance driven on fresh data twice, then on another batch size: stale caches,
    a gradInput buffer accumulated into, masks or shapes kept from the first call all fail;
    so does a result returned but not stored in ``self.output`` / ``self.gradInput``."""
    for trial, rng, dims in ctx.trials():
        t = setup(ctx, rng, dims, trial_dtype(ctx, trial))
        other = {**dims, "batch": dims["batch"] + int(ctx.f.get("batch_step", 3))}
        for n, call_dims in enumerate((dims, dims, other), start=1):
            t.dims = call_dims
            t.x = ctx.make_input(rng, call_dims, t.x.dtype)
            t.target = ctx.make_target(rng, t.x)
            out, grad = _full_pass(ctx, rng, t, f"call {n} of 3 on the same instance; "
                                   f"earlier calls had batch {dims['batch']}")
            _require_stored(ctx, t, out, grad)


@check_kind("grad_reset")
def check_grad_reset(ctx: Context) -> None:
    s = ctx.session
    for _trial, rng, dims in ctx.trials():
        t = setup(ctx, rng, dims, np.float64)
        out = forward(ctx, t)
        g = grad_output(ctx, rng, t, out)
        backward_input(ctx, t, g, out)
        s.call(t.handle, "zeroGradParameters")
        s.call(t.handle, "accGradParameters", t.x, g)
        once = {n: as_array(s.get(t.handle, gn), gn) for n, gn in ctx.f["grads"].items()}
        expected = ctx.reference(t.x, t.params, dims, t.target, g, grads=True)
        for name, grad_name in ctx.f["grads"].items():  # the property counts when right
            assert_close(once[name], expected[name], ctx.tol_of(once[name], t.x.dtype),
                         grad_name,
                         ctx.where(t.x, t.params, "after zeroGradParameters and one backward",
                                   t.dims),
                         batch_of(t), hints(ctx),
                         ctx.mistakes(t.x, t.params, dims, t.target, g, name),
                         wrong=_result(ctx, name))
        s.call(t.handle, "zeroGradParameters")
        for grad_name in ctx.f["grads"].values():
            zeroed = as_array(s.get(t.handle, grad_name), grad_name)
            require(not np.any(zeroed), f"{grad_name} is not zero after zeroGradParameters()",
                    Cause.ZERO_GRAD)
        s.call(t.handle, "accGradParameters", t.x, g)
        s.call(t.handle, "accGradParameters", t.x, g)
        for name, grad_name in ctx.f["grads"].items():
            twice = as_array(s.get(t.handle, grad_name), grad_name)
            tol = ctx.tol("float64")
            ok = twice.shape == once[name].shape and any(
                np.allclose(twice, k * once[name], rtol=tol.rtol, atol=tol.atol) for k in (1, 2))
            require(ok, f"{grad_name} after two accGradParameters calls is neither the "
                    "gradient (overwrite) nor twice it (accumulate, Torch style): "
                    "gradients are accumulated or reset wrongly", Cause.GRAD_ACCUMULATION)


@check_kind("parameters")
def check_parameters(ctx: Context) -> None:
    s = ctx.session
    for _trial, _rng, dims in ctx.trials():
        handle = ctx.new(dims)
        bound = eval_expr(ctx.f["init_bound"], dims) if "init_bound" in ctx.f else None
        shapes = param_shapes(ctx.p.params, dims)
        names = list(shapes)
        for name, want in shapes.items():
            value = as_array(s.get(handle, name), name)
            require(value.shape == want, f"{name} has shape {fmt_shape(value.shape)}, expected "
                    f"{fmt_shape(want)} for init args {ctx.f.get('init')} = "
                    f"{[dims.get(a, a) for a in ctx.f.get('init', [])]}", Cause.PARAM_SHAPE)
            if bound is not None:
                _check_uniform(name, value, bound)
        for name, grad_name in ctx.f.get("grads", {}).items():
            grad = as_array(s.get(handle, grad_name), grad_name)
            require(grad.shape == shapes[name],
                    f"{grad_name} must have the shape of {name}", Cause.PARAM_SHAPE)
        for getter, attrs in (("getParameters", names),
                              ("getGradParameters", list(ctx.f.get("grads", {}).values()))):
            listed = s.call(handle, getter, keep=True)
            count = s.call(listed, "__len__")
            shown = count if type(count) is int else "a list whose length is not a number of"
            require(count == len(attrs), f"{getter}() returned {shown} arrays, expected "
                    f"{len(attrs)}: [{', '.join(attrs)}]", Cause.GET_PARAMETERS)
            for i, attr in enumerate(attrs):
                require(s.shares((listed, i), (handle, attr)),
                        f"{getter}()[{i}] is not the layer's own {attr} array (a copy?): "
                        "optimizers update these arrays in place", Cause.GET_PARAMETERS)


def _check_uniform(name: str, value: np.ndarray, bound: float) -> None:
    require(bool(np.all(np.abs(value) <= bound * (1 + 1e-9))),
            f"{name} initial values exceed the bound +-{bound:.4g} of uniform(-1/sqrt(fan_in), "
            f"1/sqrt(fan_in)) (max |{name}| = {float(np.max(np.abs(value))):.4g})", Cause.INIT)
    if value.size >= 64:  # a correct uniform init fails this with probability < 2 * 0.75**64
        spread = float(value.max()) > bound / 2 and float(value.min()) < -bound / 2
        require(spread, f"{name} initial values do not look uniform in +-{bound:.4g} "
                f"(range {float(value.min()):.3g} .. {float(value.max()):.3g})", Cause.INIT)

