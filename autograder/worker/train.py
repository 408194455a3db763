"""Train a student's network on MNIST and predict the test set.

Runs INSIDE the sandboxed worker, next to untrusted student code, and is loaded there by
file path: it may import only the standard library and numpy (never torch, never
``autograder``). It never sees test labels; the grader scores the returned predictions.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

NUM_CLASSES = 10
PREDICT_CHUNK = 1000


def _lookup(ns: Mapping[str, Any], name: str, role: str) -> Any:
    if name not in ns:
        raise NameError(f"{role} {name!r} is not defined by the submission")
    return ns[name]


def build_network(ns: Mapping[str, Any], cfg: Mapping[str, Any]) -> Any:
    """Instantiate the container and ``add`` each ``[name, *positional_args]`` layer."""
    net = _lookup(ns, cfg.get("container", "Sequential"), "container")()
    for i, spec in enumerate(cfg["layers"]):
        name, *args = [spec] if isinstance(spec, str) else spec
        net.add(_lookup(ns, name, f"layer {i}")(*args))
    return net


def _as_inputs(x: np.ndarray, input_shape: Any) -> np.ndarray:
    """Reshape uint8 images to (N, 784) or (N, *input_shape); kept uint8 to save memory."""
    x = np.asarray(x)
    shape = (len(x), -1) if input_shape is None else (len(x), *input_shape)
    try:
        return x.reshape(shape)
    except ValueError as e:
        raise ValueError(f"cannot reshape inputs {x.shape} to {shape}: {e}") from None


def _to_float(xb: np.ndarray) -> np.ndarray:
    # Scaled per batch: a float copy of all of MNIST would cost ~190 MB in the sandbox.
    out = xb.astype(np.float32)
    out /= 255
    return out


def _layers(net: Any) -> list[Any]:
    """The leaf modules of ``net``, descending into containers that keep ``modules``."""
    children = getattr(net, "modules", None)
    if not isinstance(children, list):
        return [net]
    return [leaf for child in children for leaf in _layers(child)]


def _cast_parameters(net: Any, dtype: np.dtype) -> None:
    """Rebind each layer attribute that holds a float parameter or gradient array to a
    ``dtype`` copy: a network created in float64 would upcast every float32 batch."""
    for layer in _layers(net):
        arrays = {id(a) for a in [*layer.getParameters(), *layer.getGradParameters()]
                  if isinstance(a, np.ndarray) and a.dtype.kind == "f"}
        for name, value in list(vars(layer).items()):
            if id(value) in arrays and value.dtype != dtype:
                setattr(layer, name, value.astype(dtype))


def _set_parameters(net: Any, init_params: Sequence[Sequence[Any]]) -> None:
    """Copy the grader's initial values into the arrays of ``getParameters()``, in place."""
    layers = net.getParameters()
    if len(layers) != len(init_params):
        raise ValueError(f"getParameters() lists {len(layers)} layers, the initial values "
                         f"{len(init_params)}")
    for i, (params, values) in enumerate(zip(layers, init_params, strict=True)):
        if len(params) != len(values):
            raise ValueError(f"layer {i}: getParameters() has {len(params)} arrays, the "
                             f"initial values {len(values)}")
        for j, (param, value) in enumerate(zip(params, values, strict=True)):
            if np.shape(param) != np.shape(value):
                raise ValueError(f"layer {i} parameter {j}: shape {np.shape(param)}, the "
                                 f"initial value has shape {np.shape(value)}")
            np.copyto(param, value, casting="same_kind")


def backward_without_input_gradient(net: Any, x: np.ndarray, grad: np.ndarray) -> None:
    """``net.backward(x, grad)`` minus the gradient with respect to ``x``, which nothing uses
    (PyTorch skips it for an input without ``requires_grad``): each module's ``backward``
    from the last to the second, then only ``accGradParameters`` of the first.

    Walks ``net.modules`` itself, feeding each module the previous module's ``output``, so
    the container's own ``backward`` is not exercised: for ``nngrade compare`` only."""
    modules = getattr(net, "modules", None)
    if not isinstance(modules, list) or not modules:
        raise ValueError("skipping the input gradient needs a container with a modules list")
    for i in range(len(modules) - 1, 0, -1):
        grad = modules[i].backward(modules[i - 1].output, grad)
    modules[0].accGradParameters(x, grad)


def _parameter_dtypes(net: Any) -> list[str]:
    found = {str(np.asarray(p).dtype) for params in net.getParameters() for p in params}
    return sorted(found)


def _class_scores(pred: Any, n: int, where: str) -> np.ndarray:
    pred = np.asarray(pred)
    if pred.ndim != 2 or pred.shape[0] != n:
        raise ValueError(f"network output during {where} has shape {pred.shape}, "
                         f"expected ({n}, {NUM_CLASSES})")
    return pred


def predict(net: Any, x: np.ndarray, chunk: int = PREDICT_CHUNK) -> np.ndarray:
    """Argmax class per row of ``x`` (uint8), forwarding ``chunk`` rows at a time."""
    out = np.empty(len(x), dtype=np.int64)
    for start in range(0, len(x), chunk):
        xb = _to_float(x[start:start + chunk])
        scores = _class_scores(net.forward(xb), len(xb), "prediction")
        out[start:start + chunk] = np.argmax(scores, axis=1)
    return out


def train_and_predict(ns: Mapping[str, Any], cfg: Mapping[str, Any], x_train: np.ndarray,
                      y_train: np.ndarray, x_test: np.ndarray, seed: int) -> dict:
    """Train ``cfg``'s network built from ``ns`` and return test predictions plus a log.

    Returns ``predictions`` (int64, one per test image), ``epoch_losses`` (mean minibatch
    loss per epoch; when stopped early the last entry covers the partial epoch),
    ``train_accuracy`` (on the last epoch's minibatches; NaN if no batch ran),
    ``seconds`` (total wall time), ``stopped_early``, ``epochs_done`` (complete epochs) and
    ``batches_done``. ``cfg["time_budget"]`` (seconds, optional) bounds the training loop:
    a batch is not started if the mean batch time so far says it would end past the
    budget. Exceptions from student code propagate to the caller.

    Options for ``nngrade compare`` (all optional): ``dtype`` ("float32") casts the
    network's float parameters and gradients after construction; ``init_params`` (one list
    of arrays per layer, as ``getParameters()`` nests them) is copied into the parameters
    in place; ``lr_decay`` multiplies ``optimizer_config["learning_rate"]`` by itself after
    every epoch; ``input_gradient`` (default true): false replaces ``net.backward`` with
    ``backward_without_input_gradient``; ``eval_each_epoch`` adds ``epoch_predictions``
    (test predictions after each complete epoch), ``batch_losses`` (float32, every
    minibatch) and ``parameter_dtypes``.
    Always added: ``epoch_seconds`` and ``epoch_cpu_seconds`` (wall and process CPU time
    of each epoch's training, evaluation excluded).
    """
    start = time.perf_counter()
    input_shape = cfg.get("input_shape")
    x_train = _as_inputs(x_train, input_shape)
    x_test = _as_inputs(x_test, input_shape)
    y_train = np.asarray(y_train).astype(np.int64).reshape(-1)
    if len(y_train) != len(x_train):
        raise ValueError(f"{len(x_train)} training images but {len(y_train)} labels")
    eye = np.eye(NUM_CLASSES, dtype=np.float32)

    # Student initialisers (and Dropout masks) draw from the global numpy RNG.
    np.random.seed(seed)
    net = build_network(ns, cfg)
    if cfg.get("dtype"):
        _cast_parameters(net, np.dtype(cfg["dtype"]))
    if cfg.get("init_params") is not None:
        _set_parameters(net, cfg["init_params"])
    criterion = _lookup(ns, cfg["criterion"], "criterion")()
    optimizer = _lookup(ns, cfg["optimizer"], "optimizer")
    opt_config = dict(cfg.get("optimizer_config", {}))
    opt_state: dict = {}
    order_rng = np.random.RandomState(seed)  # independent of what student code draws

    epochs = int(cfg.get("epochs", 1))
    batch_size = int(cfg.get("batch_size", 128))
    budget = cfg.get("time_budget")
    lr_decay = cfg.get("lr_decay")
    eval_each_epoch = bool(cfg.get("eval_each_epoch"))
    backward = net.backward if cfg.get("input_gradient", True) else \
        (lambda x, g: backward_without_input_gradient(net, x, g))
    epoch_losses: list[float] = []
    epoch_seconds: list[float] = []
    epoch_cpu_seconds: list[float] = []
    epoch_predictions: list[np.ndarray] = []
    batch_losses: list[float] = []
    train_accuracy = math.nan
    stopped_early = False
    epochs_done = batches_done = 0
    train_start = time.perf_counter()

    net.train()
    for epoch in range(epochs):
        epoch_start, epoch_cpu_start = time.perf_counter(), time.process_time()
        order = order_rng.permutation(len(x_train))
        losses: list[float] = []
        correct = seen = 0
        for b, first in enumerate(range(0, len(order), batch_size)):
            if budget is not None:
                elapsed = time.perf_counter() - train_start
                per_batch = elapsed / batches_done if batches_done else 0.0
                if elapsed + per_batch >= budget:
                    stopped_early = True
                    break
            idx = order[first:first + batch_size]
            xb, yb = _to_float(x_train[idx]), eye[y_train[idx]]

            net.zeroGradParameters()
            pred = net.forward(xb)
            loss = float(criterion.forward(pred, yb))
            if not math.isfinite(loss):
                raise FloatingPointError(f"loss became NaN/inf at epoch {epoch + 1} "
                                         f"batch {b + 1}")
            grad = criterion.backward(pred, yb)
            backward(xb, grad)
            optimizer(net.getParameters(), net.getGradParameters(), opt_config, opt_state)

            losses.append(loss)
            scores = _class_scores(pred, len(idx), "training")
            correct += int(np.sum(np.argmax(scores, axis=1) == y_train[idx]))
            seen += len(idx)
            batches_done += 1
        epoch_seconds.append(time.perf_counter() - epoch_start)
        epoch_cpu_seconds.append(time.process_time() - epoch_cpu_start)
        batch_losses.extend(losses)
        if losses:
            epoch_losses.append(float(np.mean(losses)))
            train_accuracy = correct / seen
        if stopped_early:
            break
        epochs_done += 1
        if lr_decay is not None:
            opt_config["learning_rate"] *= float(lr_decay)
        if eval_each_epoch:
            net.evaluate()
            epoch_predictions.append(predict(net, x_test))
            net.train()

    if epoch_predictions and not stopped_early:
        predictions = epoch_predictions[-1]  # the network has not changed since
    else:
        net.evaluate()
        predictions = predict(net, x_test)
    extra = {"epoch_predictions": epoch_predictions,
             "batch_losses": np.asarray(batch_losses, dtype=np.float32),
             "parameter_dtypes": _parameter_dtypes(net)} if eval_each_epoch else {}
    return {
        "predictions": predictions,
        "epoch_losses": epoch_losses,
        "train_accuracy": train_accuracy,
        "seconds": time.perf_counter() - start,
        "stopped_early": stopped_early,
        "epochs_done": epochs_done,
        "batches_done": batches_done,
        "epoch_seconds": epoch_seconds,
        "epoch_cpu_seconds": epoch_cpu_seconds,
        **extra,
    }
