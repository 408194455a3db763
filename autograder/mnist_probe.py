"""The MNIST check's probe: do the student's test predictions follow from its parameters?

The worker trains the student's network and predicts the test set, so student code could
answer from something other than its layers: a memory of the training images (a
nearest-neighbour lookup), or labels it carries. After a passing checkpoint the grader
therefore runs the reference solution's layers (trusted code, in the grader process) with
the parameters the student's network reports, on the same test images. A network whose
layers do what the homework says reaches about the same accuracy both ways; one that does
not learn in its parameters does not.

Layers that keep moving statistics (BatchNormalization) normalise with the test images' own
statistics here, so the probe needs nothing from the student but ``getParameters()``.
"""

from __future__ import annotations

import types
from collections.abc import Iterator
from typing import Any

import numpy as np

from autograder.checks import CheckFailed, as_array
from autograder.results import Cause
from autograder.spec import Assignment
from autograder.worker.train import build_network, flat_arrays

# The probe's accuracy may be this far below the threshold: it differs from the student's
# own evaluation only by the batch statistics of BatchNormalization and by rounding.
PROBE_MARGIN = 0.02
CHUNK = 1000  # test images per forward pass of the reference network
_NAMESPACES: dict[str, dict[str, Any]] = {}  # reference solution file -> its names


def probe_accuracy(assignment: Assignment, cfg: dict, parameters: object,
                   x_test: np.ndarray, y_test: np.ndarray, flipped: bool = False) -> float:
    """The test accuracy of the reference layers of ``cfg``'s network with ``parameters``
    (the worker's untrusted list of arrays, in ``getParameters()`` order); ``flipped``:
    with every convolution kernel (4-d parameter) turned by 180 degrees."""
    net = _reference_network(assignment, cfg)
    slots = flat_arrays(net.getParameters())
    given = _parameter_arrays(parameters, len(slots))
    for index, (slot, value) in enumerate(zip(slots, given, strict=True)):
        fitted = _fitted(value, slot.shape)
        if fitted is None:
            raise CheckFailed(
                f"getParameters() of the trained network gave an array of shape "
                f"{value.shape} as parameter {index}; the network's layers have "
                f"{slot.shape} there", Cause.GET_PARAMETERS)
        slot[...] = fitted[..., ::-1, ::-1] if flipped and fitted.ndim == 4 else fitted
    net.evaluate()
    for layer in _modules(net):
        if hasattr(layer, "moving_mean"):
            layer.training = True  # the test images' own statistics (module docstring)
    shape = (-1, *cfg["input_shape"]) if cfg.get("input_shape") else (len(x_test), -1)
    x = x_test.reshape(shape)
    predictions = np.concatenate([
        np.argmax(net.forward(x[i:i + CHUNK].astype(np.float64) / 255.0), axis=1)
        for i in range(0, len(x), CHUNK)])
    return float(np.mean(predictions == y_test))


def require_probe(assignment: Assignment, cfg: dict, parameters: object, accuracy: float,
                  x_test: np.ndarray, y_test: np.ndarray) -> float | None:
    """Fail the check when the reference layers with the student's parameters fall short
    of the threshold by more than ``PROBE_MARGIN``; else return the probe's accuracy. A
    probe that cannot run for a reason of the grader's own (not the parameters) leaves the
    pass as it is (None)."""
    threshold = float(cfg.get("threshold", 0.97))
    try:
        probe = probe_accuracy(assignment, cfg, parameters, x_test, y_test)
        if probe < threshold - PROBE_MARGIN and _has_kernels(parameters):
            # A Conv2d that convolves instead of correlating, in its forward and its
            # gradients alike, learns the flipped kernel: a layout to the probe (Conv2d's
            # own checks charge the flip), not predictions from elsewhere.
            probe = max(probe, probe_accuracy(assignment, cfg, parameters, x_test, y_test,
                                              flipped=True))
    except CheckFailed:
        raise
    except Exception:  # noqa: BLE001 - a fault of the grader's own: the student keeps the pass
        return None
    if probe < threshold - PROBE_MARGIN:
        raise CheckFailed(
            f"your network's test predictions score {accuracy:.2%}, but its layers' own "
            f"formulas with its trained parameters (getParameters()) score {probe:.2%}: "
            f"the predictions do not come from the network's parameters (the grader "
            f"recomputes them with the reference layers; threshold {threshold:.1%})",
            Cause.NOT_FROM_PARAMETERS)
    return probe


def _parameter_arrays(parameters: object, count: int) -> list[np.ndarray]:
    if not isinstance(parameters, list) or len(parameters) != count:
        found = len(parameters) if isinstance(parameters, list) else "no"
        raise CheckFailed(
            f"the trained network's getParameters() gave {found} arrays; its layers have "
            f"{count}", Cause.GET_PARAMETERS)
    return [as_array(p, "a parameter").astype(np.float64) for p in parameters]


def _has_kernels(parameters: object) -> bool:
    return isinstance(parameters, list) and any(
        isinstance(p, np.ndarray) and p.ndim == 4 for p in parameters)


def _fitted(value: np.ndarray, shape: tuple[int, ...]) -> np.ndarray | None:
    """``value`` as an array of ``shape``, when it holds the same parameter in a layout the
    layer's own checks already judge (the probe is about where predictions come from, not
    about layouts): the same shape, a broadcasting-equivalent one ((1, n) for (n,)), or a
    matrix stored transposed (a Linear keeping W as (n_in, n_out))."""
    if value.shape == shape:
        return value
    if value.size == int(np.prod(shape)) and \
            [d for d in value.shape if d != 1] == [d for d in shape if d != 1]:
        return value.reshape(shape)
    if value.ndim == 2 and value.shape == shape[::-1]:
        return value.T
    return None


def _reference_network(assignment: Assignment, cfg: dict) -> Any:
    """``cfg``'s network built from the reference solution (the spec's own layer names,
    which the reference defines), as the worker builds the student's."""
    key = str(assignment.solution)
    ns = _NAMESPACES.get(key)
    if ns is None:
        module = types.ModuleType(f"_nngrade_reference_{assignment.name.replace('-', '_')}")
        exec(compile(assignment.solution_text(), key, "exec"), module.__dict__)  # noqa: S102
        ns = _NAMESPACES[key] = module.__dict__
    return build_network(ns, cfg)


def _modules(net: Any) -> Iterator[Any]:
    """``net`` and every module inside it: containers' ``modules`` lists and attributes that
    are modules themselves (a residual block's branch)."""
    yield net
    children = getattr(net, "modules", None)
    inner = list(children) if isinstance(children, list) else []
    inner += [v for k, v in vars(net).items() if k != "modules" and hasattr(v, "forward")]
    for child in inner:
        yield from _modules(child)
