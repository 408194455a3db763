"""Train a student's network on MNIST and predict the test set.

Runs INSIDE the sandboxed worker, next to untrusted student code, and is loaded there by
file path: it may import only the standard library and numpy (never torch, never
``autograder``). It never sees test labels; the grader scores the returned predictions.

``run_epochs`` is THE training loop: the grader's MNIST check, both sides of
``nngrade compare`` and the student notebook's MNIST section (which gets this file's source
from ``nngrade release``) all train through it.
"""

from __future__ import annotations

import math
import time
import types
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

NUM_CLASSES = 10
PREDICT_CHUNK = 1000


# -- the loop -----------------------------------------------------------------------------


def training_log() -> dict[str, Any]:
    """An empty log for ``epoch_steps`` (see ``run_epochs`` for its keys)."""
    return {"batch_losses": [], "epoch_losses": [], "train_accuracy": math.nan,
            "epoch_seconds": [], "epoch_cpu_seconds": [],
            "stopped_early": False, "epochs_done": 0, "batches_done": 0,
            "examples_seen": 0, "examples_correct": 0}


def epoch_steps(log: dict[str, Any], n: int, epochs: int, batch_size: int, seed: int,
                step: Callable[[np.ndarray], tuple[float, int]],
                after_epoch: Callable[[int, dict], None] | None = None,
                budget: float | None = None) -> Iterator[dict[str, Any]]:
    """``run_epochs`` one batch at a time: trains a batch, updates ``log`` (a
    ``training_log()``) and yields it; after an epoch's last batch, the epoch's entries and
    ``after_epoch`` come before the yield. Ends when training does (all epochs, or the
    budget).

    Time spent suspended at a yield (the caller evaluating a checkpoint) counts neither
    towards ``budget`` nor the epoch timings: the budget is for training.
    """
    order_rng = np.random.RandomState(seed)  # independent of what the network draws
    paused = [0.0, 0.0]  # wall and process seconds spent suspended at a yield

    def clock() -> tuple[float, float]:
        return time.perf_counter() - paused[0], time.process_time() - paused[1]

    start = clock()[0]
    for epoch in range(epochs):
        epoch_start, cpu_start = clock()
        order = order_rng.permutation(n)
        losses: list[float] = []
        correct = seen = 0
        for b, first in enumerate(range(0, n, batch_size)):
            done = log["batches_done"]
            elapsed = clock()[0] - start
            if budget is not None and elapsed + (elapsed / done if done else 0.0) >= budget:
                log["stopped_early"] = True
                break
            idx = order[first:first + batch_size]
            loss, hits = step(idx)
            if not math.isfinite(loss):
                raise FloatingPointError(f"loss became NaN/inf at epoch {epoch + 1} "
                                         f"batch {b + 1}")
            losses.append(loss)
            log["batch_losses"].append(loss)
            correct += hits
            seen += len(idx)
            log["batches_done"] += 1
            log["examples_seen"] += len(idx)
            log["examples_correct"] += hits
            if first + batch_size < n:  # the epoch's last batch is yielded below
                suspended = time.perf_counter(), time.process_time()
                yield log
                paused[0] += time.perf_counter() - suspended[0]
                paused[1] += time.process_time() - suspended[1]
        wall, cpu = clock()
        log["epoch_seconds"].append(wall - epoch_start)
        log["epoch_cpu_seconds"].append(cpu - cpu_start)
        if losses:
            log["epoch_losses"].append(float(np.mean(losses)))
            log["train_accuracy"] = correct / seen
        if log["stopped_early"]:
            return
        log["epochs_done"] += 1
        if after_epoch is not None:
            after_epoch(epoch, log)
        if losses:
            suspended = time.perf_counter(), time.process_time()
            yield log
            paused[0] += time.perf_counter() - suspended[0]
            paused[1] += time.process_time() - suspended[1]


def run_epochs(n: int, epochs: int, batch_size: int, seed: int,
               step: Callable[[np.ndarray], tuple[float, int]],
               after_epoch: Callable[[int, dict], None] | None = None,
               budget: float | None = None) -> dict[str, Any]:
    """Train ``epochs`` epochs over ``n`` examples in shuffled minibatches.

    The order comes from ``np.random.RandomState(seed)`` (one permutation per epoch), so
    every framework sees the same batches. ``step(indices)`` trains on one batch and returns
    its loss and its number of correct predictions; ``after_epoch(epoch, log)`` runs after
    each complete epoch, outside the timings. ``budget`` (seconds): a batch is not started
    if the mean batch time so far says it would end past it.

    Returns ``batch_losses``, ``epoch_losses`` (mean per epoch; after an early stop the last
    entry covers the partial epoch), ``train_accuracy`` (the last epoch's batches; NaN if
    none ran), ``epoch_seconds`` and ``epoch_cpu_seconds`` (wall and process time),
    ``stopped_early``, ``epochs_done`` (complete epochs) and ``batches_done``.
    """
    log = training_log()
    for _ in epoch_steps(log, n, epochs, batch_size, seed, step, after_epoch, budget):
        pass
    return log


def to_float(xb: np.ndarray) -> np.ndarray:
    # Scaled per batch: a float copy of all of MNIST would cost ~190 MB in the sandbox.
    out = xb.astype(np.float32)
    out /= 255
    return out


def class_scores(pred: Any, n: int, where: str) -> np.ndarray:
    pred = np.asarray(pred)
    if pred.ndim != 2 or pred.shape[0] != n:
        raise ValueError(f"network output during {where} has shape {pred.shape}, "
                         f"expected ({n}, {NUM_CLASSES})")
    return pred


def numpy_step(net: Any, criterion: Any, optimizer: Callable, config: dict, state: dict,
               x: np.ndarray, y: np.ndarray,
               backward: Callable | None = None) -> Callable[[np.ndarray], tuple[float, int]]:
    """``run_epochs``'s step for a homework network on uint8 images ``x`` and int labels
    ``y``; ``backward`` replaces ``net.backward`` (default)."""
    eye = np.eye(NUM_CLASSES, dtype=np.float32)
    backward = backward or net.backward

    def step(idx: np.ndarray) -> tuple[float, int]:
        xb, yb = to_float(x[idx]), eye[y[idx]]
        net.zeroGradParameters()
        pred = net.forward(xb)
        loss = float(criterion.forward(pred, yb))
        if not math.isfinite(loss):
            return loss, 0  # run_epochs stops here, before anything is updated
        backward(xb, criterion.backward(pred, yb))
        optimizer(net.getParameters(), net.getGradParameters(), config, state)
        scores = class_scores(pred, len(idx), "training")
        return loss, int(np.sum(np.argmax(scores, axis=1) == y[idx]))

    return step


def predict(net: Any, x: np.ndarray, chunk: int = PREDICT_CHUNK) -> np.ndarray:
    """Argmax class per row of ``x`` (uint8), forwarding ``chunk`` rows at a time."""
    out = np.empty(len(x), dtype=np.int64)
    for start in range(0, len(x), chunk):
        xb = to_float(x[start:start + chunk])
        scores = class_scores(net.forward(xb), len(xb), "prediction")
        out[start:start + chunk] = np.argmax(scores, axis=1)
    return out


def grader_adam(variables: list, gradients: list, config: dict, state: dict) -> None:
    """Adam (with the homework's bias correction folded into the learning rate), updating
    the parameter arrays in place: the grader's own optimizer (``optimizer = "grader:adam"``)
    for an edition whose students write no graded optimizer. Same signature and config as
    the classic homework's ``adam_optimizer``."""
    state.setdefault("m", {})
    state.setdefault("v", {})
    state["t"] = state.get("t", 0) + 1
    lr, beta1, beta2 = config["learning_rate"], config["beta1"], config["beta2"]
    t = state["t"]
    lr_t = lr * math.sqrt(1 - beta2 ** t) / (1 - beta1 ** t)
    pairs = [(x, g) for xs, gs in zip(variables, gradients, strict=True)
             for x, g in zip(xs, gs, strict=True)]
    for i, (x, g) in enumerate(pairs):
        m = state["m"].setdefault(i, np.zeros_like(g))
        v = state["v"].setdefault(i, np.zeros_like(g))
        np.add(beta1 * m, (1 - beta1) * g, out=m)
        np.add(beta2 * v, (1 - beta2) * g * g, out=v)
        x -= lr_t * m / (np.sqrt(v) + config["epsilon"])


GRADER_OPTIMIZERS = {"grader:adam": grader_adam}


# -- what grading needs -------------------------------------------------------------------


def _lookup(ns: Mapping[str, Any], name: str, role: str) -> Any:
    if name in GRADER_OPTIMIZERS:  # the grader's own code, not the submission's
        return GRADER_OPTIMIZERS[name]
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


def _network(ns: Mapping[str, Any], cfg: Mapping[str, Any], seed: int) -> Any:
    """``cfg``'s network, its parameters cast to ``cfg["dtype"]`` (if set) when the cast is
    transparent (``_cast_parameters``); else built again as the submission makes it."""
    np.random.seed(seed)  # student initialisers (and Dropout masks) draw from it
    net = build_network(ns, cfg)
    if cfg.get("dtype") and not _cast_parameters(net, np.dtype(cfg["dtype"])):
        np.random.seed(seed)
        net = build_network(ns, cfg)
    return net


def _as_inputs(x: np.ndarray, input_shape: Any) -> np.ndarray:
    """Reshape uint8 images to (N, 784) or (N, *input_shape); kept uint8 to save memory."""
    x = np.asarray(x)
    shape = (len(x), -1) if input_shape is None else (len(x), *input_shape)
    try:
        return x.reshape(shape)
    except ValueError as e:
        raise ValueError(f"cannot reshape inputs {x.shape} to {shape}: {e}") from None


def _labels(y: np.ndarray, n: int) -> np.ndarray:
    y = np.asarray(y).astype(np.int64).reshape(-1)
    if len(y) != n:
        raise ValueError(f"{n} training images but {len(y)} labels")
    return y


def checkpoint_batches(every: float, batches_per_epoch: int, done: int) -> int | None:
    """The batch count of the first checkpoint after ``done`` batches, one every ``every``
    epochs (the k-th after ceil(k * every * batches_per_epoch) batches); None when
    ``every`` is 0: only the end of training is a checkpoint."""
    if every <= 0:
        return None
    k = int(done / (every * batches_per_epoch))
    while math.ceil(round(k * every * batches_per_epoch, 6)) <= done:
        k += 1
    return math.ceil(round(k * every * batches_per_epoch, 6))


class Training:
    """One network's training on MNIST, advanced checkpoint by checkpoint.

    ``cfg["check_every"]`` (epochs, 0 or unset: only at the end) sets the checkpoints;
    ``advance()`` trains up to the next one and returns the test predictions there, so that
    the grader, which alone holds the test labels, can stop as soon as they are good enough.
    Exceptions from student code propagate to the caller.
    """

    def __init__(self, ns: Mapping[str, Any], cfg: Mapping[str, Any], x_train: np.ndarray,
                 y_train: np.ndarray, x_test: np.ndarray, seed: int):
        self.start = time.perf_counter()
        self.cfg = cfg
        x_train = _as_inputs(x_train, cfg.get("input_shape"))
        self.x_test = _as_inputs(x_test, cfg.get("input_shape"))
        y_train = _labels(y_train, len(x_train))
        self.net = net = _network(ns, cfg, seed)
        compare_options(net, cfg)
        criterion = _lookup(ns, cfg["criterion"], "criterion")()
        config = dict(cfg.get("optimizer_config", {}))
        step = numpy_step(net, criterion, _lookup(ns, cfg["optimizer"], "optimizer"), config,
                          {}, x_train, y_train, _backward(net, cfg))
        self.epoch_predictions: list[np.ndarray] = []
        batch_size = int(cfg.get("batch_size", 128))
        self.batches_per_epoch = max(1, math.ceil(len(x_train) / batch_size))
        self.every = float(cfg.get("check_every") or 0.0)
        self.log = training_log()
        self.finished = False
        self.last: tuple[int, np.ndarray] | None = None  # (batches_done, its predictions)
        # A checkpoint whose training batches were below this accuracy skips predicting the
        # test set (nothing to gain: the test accuracy is not near the threshold yet).
        self.gate = float(cfg.get("predict_from_train_accuracy") or 0.0)
        self.counted = (0, 0)  # examples seen and correct at the last checkpoint
        net.train()
        self.steps = epoch_steps(
            self.log, len(x_train), int(cfg.get("epochs", 1)), batch_size, seed, step,
            _after_epoch(net, cfg, config, self.x_test, self.epoch_predictions),
            cfg.get("time_budget"))

    def advance(self) -> dict[str, Any]:
        """Train to the next checkpoint (or the end) and predict the test set there.

        Returns ``predictions`` (int64, one per test image), ``parameters`` (the arrays of
        ``getParameters()`` they were predicted with; both None at a checkpoint that skips
        predicting), ``finished``, ``seconds`` (wall time since training began),
        ``parameter_dtypes`` (what the network trains in) and the log (see ``run_epochs``;
        ``batch_losses`` only with ``eval_each_epoch``)."""
        if self.finished:
            raise RuntimeError("training has already finished")
        target = checkpoint_batches(self.every, self.batches_per_epoch,
                                    self.log["batches_done"])
        for log in self.steps:
            if target is not None and log["batches_done"] >= target:
                break
        else:
            self.finished = True
        if not self.finished and self.log["epochs_done"] == int(self.cfg.get("epochs", 1)):
            self.finished = next(self.steps, None) is None  # at the very end: nothing left
        # Predict always at the end; before, only if the batches since the last checkpoint
        # were at least ``gate`` accurate (in training mode).
        seen, correct = self.log["examples_seen"], self.log["examples_correct"]
        worth = self.finished or correct - self.counted[1] >= self.gate * (seen - self.counted[0])
        self.counted = (seen, correct)
        return {"predictions": self._predictions() if worth else None,
                "parameters": _flat_parameters(self.net) if worth else None,
                "finished": self.finished,
                "seconds": time.perf_counter() - self.start,
                **_report(dict(self.log), self.net, self.cfg, self.epoch_predictions)}

    def _predictions(self) -> np.ndarray:
        done = self.log["batches_done"]
        if self.last is not None and self.last[0] == done:
            return self.last[1]  # the network has not changed since
        at_epoch_end = done == self.log["epochs_done"] * self.batches_per_epoch
        if self.epoch_predictions and at_epoch_end and not self.log["stopped_early"]:
            predictions = self.epoch_predictions[-1]  # compare predicted after this epoch
        else:
            self.net.evaluate()
            predictions = predict(self.net, self.x_test)
            if not self.finished:
                self.net.train()
        self.last = (done, predictions)
        return predictions


def train_and_predict(ns: Mapping[str, Any], cfg: Mapping[str, Any], x_train: np.ndarray,
                      y_train: np.ndarray, x_test: np.ndarray, seed: int) -> dict:
    """Train ``cfg``'s network built from ``ns`` to the end and return test predictions
    plus a log: ``Training(...).advance()`` with no checkpoint before the end.

    Returns ``predictions`` (int64, one per test image), ``seconds`` (total wall time) and
    ``run_epochs``'s log; ``cfg["time_budget"]`` is its budget. ``compare_options``
    describes the keys only ``nngrade compare`` sets. Exceptions from student code
    propagate to the caller.
    """
    return Training(ns, {**cfg, "check_every": 0}, x_train, y_train, x_test, seed).advance()


# -- what only ``nngrade compare`` uses ---------------------------------------------------


def compare_options(net: Any, cfg: Mapping[str, Any]) -> None:
    """Apply ``nngrade compare``'s options (all optional) to a freshly built ``net``.

    ``init_params`` (one list of arrays per layer, as ``getParameters()`` nests them) is
    copied into the parameters in place. Read elsewhere: ``dtype`` (``_network``; the MNIST
    check sets it too); ``lr_decay`` multiplies the learning rate by
    itself after every epoch; ``input_gradient`` false replaces ``net.backward`` with
    ``backward_without_input_gradient``; ``eval_each_epoch`` adds ``epoch_predictions``
    (test predictions after each complete epoch) and ``batch_losses`` (float32) to the
    reply.
    """
    if cfg.get("init_params") is not None:
        _set_parameters(net, cfg["init_params"])


def _backward(net: Any, cfg: Mapping[str, Any]) -> Callable:
    if cfg.get("input_gradient", True):
        return net.backward
    return lambda x, grad: backward_without_input_gradient(net, x, grad)


def _after_epoch(net: Any, cfg: Mapping[str, Any], config: dict, x_test: np.ndarray,
                 epoch_predictions: list[np.ndarray]) -> Callable[[int, dict], None]:
    lr_decay, evaluate = cfg.get("lr_decay"), bool(cfg.get("eval_each_epoch"))

    def after_epoch(epoch: int, log: dict) -> None:
        if lr_decay is not None:
            config["learning_rate"] *= float(lr_decay)
        if evaluate:
            net.evaluate()
            epoch_predictions.append(predict(net, x_test))
            net.train()

    return after_epoch


def _report(log: dict[str, Any], net: Any, cfg: Mapping[str, Any],
            epoch_predictions: list[np.ndarray]) -> dict[str, Any]:
    """The log without ``batch_losses`` unless compare asked for the curves."""
    batch_losses = log.pop("batch_losses")
    log["parameter_dtypes"] = _parameter_dtypes(net)
    if not cfg.get("eval_each_epoch"):
        return log
    return {**log, "epoch_predictions": epoch_predictions,
            "batch_losses": np.asarray(batch_losses, dtype=np.float32)}


def flat_arrays(value: Any) -> list[np.ndarray]:
    """The arrays of ``getParameters()``'s nested lists, in order (views, not copies)."""
    if isinstance(value, (list, tuple)):
        return [array for item in value for array in flat_arrays(item)]
    return [np.asarray(value)]


def _flat_parameters(net: Any) -> list[np.ndarray] | None:
    """Every array of ``net.getParameters()``: the grader checks that the test predictions
    follow from them (autograder/mnist_probe.py)."""
    try:
        return flat_arrays(net.getParameters())
    except Exception:  # noqa: BLE001 - the grader says what is missing
        return None


def _layers(net: Any) -> list[Any]:
    """The leaf modules of ``net``, descending into containers that keep ``modules``."""
    children = getattr(net, "modules", None)
    if not isinstance(children, list):
        return [net]
    return [leaf for child in children for leaf in _layers(child)]


def _cast_parameters(net: Any, dtype: np.dtype) -> bool:
    """Rebind each layer attribute that holds a float parameter or gradient array to a
    ``dtype`` copy (one copy per array, however many attributes name it): a network created
    in float64 would upcast every float32 batch.

    Returns False, with nothing changed, when the cast could not be transparent: a
    parameter array also held inside a list, dict, tuple or plain object, or viewed by
    another array (the forward pass might read the old array while the optimizer updates
    the new one). True once ``getParameters()`` and ``getGradParameters()`` return ``dtype``
    arrays; False if they still do not (they read the arrays from somewhere else): then the
    network is partly cast, and the caller builds it again."""
    layers = _layers(net)
    params = {id(a): a for layer in layers for a in _float_arrays(layer)}
    owners = {id(owner) for owner in [net, *layers]}
    if any(_held_elsewhere(vars(owner), params, owners) for owner in [net, *layers]
           if hasattr(owner, "__dict__")):
        return False
    copies: dict[int, np.ndarray] = {}
    for layer in layers:
        for name, value in list(vars(layer).items()):
            if id(value) in params and value.dtype != dtype:
                if id(value) not in copies:  # tied weights stay tied
                    copies[id(value)] = value.astype(dtype)
                setattr(layer, name, copies[id(value)])
    return all(a.dtype == dtype for layer in layers for a in _float_arrays(layer))


def _float_arrays(layer: Any) -> list[np.ndarray]:
    return [a for a in [*layer.getParameters(), *layer.getGradParameters()]
            if isinstance(a, np.ndarray) and a.dtype.kind == "f"]


def _held_elsewhere(attributes: Mapping[str, Any], params: Mapping[int, np.ndarray],
                    layers: set[int], depth: int = 3) -> bool:
    """Whether a parameter array is held inside a container or a plain object among
    ``attributes`` (the ``layers``, ids, are checked on their own), or viewed by an array
    there; a plain attribute holding the array itself is fine."""
    def inside(value: Any, level: int) -> bool:
        if isinstance(value, np.ndarray):
            return level > 0 and id(value) in params or id(value) not in params and any(
                np.may_share_memory(value, p) for p in params.values())
        if level >= depth or id(value) in layers:
            return False
        if isinstance(value, dict):
            items = list(value.values())
        elif isinstance(value, (list, tuple)):
            items = list(value)
        elif isinstance(getattr(value, "__dict__", None), dict) and not isinstance(
                value, (type, types.ModuleType, types.FunctionType, types.MethodType)):
            items = list(vars(value).values())  # e.g. self.cache = SimpleNamespace(W=...)
        else:
            return False
        return any(inside(v, level + 1) for v in items)

    return any(inside(v, 0) for v in attributes.values())


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
