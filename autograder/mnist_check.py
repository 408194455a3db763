"""The end-to-end check: the student's own network trained on MNIST in the worker.

The worker gets training images and labels and the test images; only the grader holds the
test labels, so only the grader can compute the accuracy.
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from autograder import solution_source
from autograder.checks import CheckFailed, as_array
from autograder.definitions import parse
from autograder.loaded import LoadedSubmission
from autograder.mnist import load_mnist
from autograder.mnist_probe import require_probe
from autograder.results import Cause, CheckResult, ComponentResult
from autograder.sandbox import BudgetExhausted, StudentError, WorkerDied, WorkerTimeout
from autograder.spec import Assignment, network_names


def _training_config(run: LoadedSubmission, cfg: dict) -> dict:
    """The worker's config with every component name replaced by the one the student used."""
    network, missing = run.assignment.network_config(cfg, run.names)
    if missing:
        raise CheckFailed(f"cannot build the network: {', '.join(missing)} not defined",
                          Cause.MISSING)
    return {k: v for k, v in network.items()
            if k not in ("points", "threshold", "seed", "stop_margin", "recheck_above")}


PREDICT_SECONDS = 20.0  # kept from the submission's budget for predicting and scoring
CHECK_EVERY = 0.25  # the default of [mnist] check_every (epochs between checkpoints)
# A checkpoint predicts the test set only once the training batches since the last one are
# at most this far below the threshold.
TRAIN_ACCURACY_MARGIN = 0.02
# The default of [mnist] stop_margin: training stops at a checkpoint only this far above the
# threshold. Test accuracy moves by up to half a point between checkpoints, so a network
# that hovers at the threshold gets the verdict of its whole training.
STOP_MARGIN = 0.005
# The default of [mnist] recheck_above: a float32 training that ends less than this above the
# threshold is trained again in the submission's own dtype, like one less than stop_margin
# below it. float32 against float64 moved a finished training's accuracy by up to 0.18 point
# on the corpus (a buggy Dropout: 97.05 % against 96.87 %, on a host with AVX-512), so a
# float32 pass this close to the threshold may be a float64 fail.
RECHECK_ABOVE = 0.0025
# The default of [mnist] dtype: parameters are cast to it when the cast is transparent
# (worker/train.py: _cast_parameters); "native" keeps the submission's own.
DTYPE = "float32"


def needed_names(assignment: Assignment) -> set[str]:
    """Every name (canonical or alias) of the components the MNIST network uses, with the
    classes they inherit from in the reference (a ResidualBlock runs Residual's code)."""
    used = network_names(assignment.mnist or {"layers": [], "criterion": "", "optimizer": ""})
    bases = _class_bases(assignment.solution) if assignment.solution else {}
    names = set()
    while used:
        name = used.pop()
        if name in names:
            continue
        try:
            names.update(assignment.component(name).names)
        except KeyError:
            names.add(name)
        used.extend(bases.get(name, ()))
    return names


@functools.lru_cache(maxsize=8)
def _class_bases(solution: Path) -> dict[str, tuple[str, ...]]:
    """Each top-level class of the (trusted) reference and the names of its base classes;
    assembled once per process (12 ms for the extended track's, asked several times per
    grading)."""
    return {node.name: tuple(b.id for b in node.bases if isinstance(b, ast.Name))
            for node in parse(solution_source.assemble(solution)).body
            if isinstance(node, ast.ClassDef)}


def time_budget(cfg: dict) -> float:
    """``[mnist] time_budget``: seconds of training at most (check_params' default)."""
    return float(cfg.get("time_budget", 120.0))


def _training_seconds(run: LoadedSubmission, cfg: dict) -> float:
    """The spec's training time, cut to what is left of the submission's budget."""
    budget = time_budget(cfg)
    if run.session.budget_deadline is None:
        return budget
    left = run.session.budget_deadline - time.monotonic() - PREDICT_SECONDS
    if left <= 0:
        raise CheckFailed(f"not run: the submission's time budget of {run.session.budget:g} s "
                          "ran out", Cause.BUDGET)
    return min(budget, left)


@dataclass
class Outcome:
    """What training the student's network gave: an accuracy, or a message and its cause.
    ``epochs_trained`` is where training stopped, as the worker reported it (untrusted,
    shown only); ``early`` says the grader stopped it at a checkpoint before the end."""

    accuracy: float = 0.0
    seconds: float = 0.0
    message: str = ""
    cause: str | None = None
    epochs_trained: float | None = None
    early: bool = False
    note: str = ""
    cast: bool = False  # trained in the [mnist] dtype, not the submission's own
    probe: float | None = None  # the reference layers' accuracy with the trained parameters
    out_of_time: bool = False  # the training time budget ended training before its epochs


@dataclass
class _Checkpoint:
    """One checked reply of ``train`` / ``train_more``."""

    accuracy: float
    batches_done: int
    finished: bool
    dtypes: tuple[str, ...] = ()  # what the worker says the network trained in (untrusted)
    parameters: object = None  # the worker's getParameters() arrays there (untrusted)
    out_of_time: bool = False  # the worker says its time budget stopped training (shown only)


def _dtypes(reply: dict) -> tuple[str, ...]:
    found = reply.get("parameter_dtypes")
    if not isinstance(found, list) or len(found) > 8:
        return ()
    return tuple(d[:16] for d in found if isinstance(d, str))


def _checkpoint(reply: object, y_test: np.ndarray, batches_before: int) -> _Checkpoint:
    """The worker's reply at a checkpoint, scored; anything malformed is rejected (the
    worker is untrusted), and so is a checkpoint that trained nothing before the end."""
    if not isinstance(reply, dict):
        raise CheckFailed("training returned no result", Cause.BAD_TYPE)
    finished, done, seconds = (reply.get(k) for k in ("finished", "batches_done", "seconds"))
    if type(finished) is not bool or type(done) is not int \
            or not (done > batches_before or finished and done >= batches_before) \
            or seconds is not None and type(seconds) not in (int, float):
        raise CheckFailed("training sent a malformed checkpoint", Cause.BAD_TYPE)
    out_of_time = reply.get("stopped_early") is True
    if reply.get("predictions") is None and not finished:  # skipped: far from the threshold
        return _Checkpoint(0.0, done, finished, _dtypes(reply), None, out_of_time)
    predictions = as_array(reply.get("predictions"), "the predicted labels")
    if predictions.shape != y_test.shape:
        raise CheckFailed(f"expected {len(y_test)} predicted labels, got shape "
                          f"{predictions.shape}", Cause.SHAPE)
    return _Checkpoint(float(np.mean(predictions == y_test)), done, finished,
                       _dtypes(reply), reply.get("parameters"), out_of_time)


def _max_checkpoints(cfg: dict, every: float) -> int:
    """How many checkpoints training has at most: one every ``every`` epochs, and the end."""
    return 1 if every <= 0 else int(np.ceil(int(cfg.get("epochs", 1)) / every - 1e-9)) + 1


def prefetch() -> None:
    """Start reading the MNIST files (0.4 s of decompressing) while workers start."""
    threading.Thread(target=lambda: [load_mnist(split) for split in ("train", "test")],
                     name="nngrade-mnist-data", daemon=True).start()


def _dtype(cfg: dict) -> str | None:
    dtype = str(cfg.get("dtype", DTYPE))
    return None if dtype == "native" else dtype


def _accuracy(run: LoadedSubmission, cfg: dict, early_stop: bool = True,
              dtype: str | None = None) -> Outcome:
    """Train in the worker checkpoint by checkpoint, scoring each checkpoint's predictions,
    until they reach the threshold plus ``stop_margin`` (with ``early_stop``) or training
    ends; ``dtype``: cast the parameters to it (``_dtype``)."""
    x_train, y_train = load_mnist("train")
    x_test, y_test = load_mnist("test")
    train_cfg = _training_config(run, cfg)
    train_cfg["dtype"] = dtype
    every = max(0.0, float(cfg.get("check_every", CHECK_EVERY))) if early_stop else 0.0
    train_cfg["check_every"] = every
    threshold = float(cfg.get("threshold", 0.97))
    stop_at = threshold + float(cfg.get("stop_margin", STOP_MARGIN))
    # Predicting the test set at a checkpoint costs a fifth of a quarter epoch's training:
    # skipped while the training batches are clearly below the threshold. Skipping can only
    # move the outcome towards full training's.
    train_cfg["predict_from_train_accuracy"] = threshold - TRAIN_ACCURACY_MARGIN
    run.ensure_worker()
    budget = _training_seconds(run, cfg)
    train_cfg["time_budget"] = budget
    # The worker stops training at its budget, then predicts the test set: for a slow
    # network (loops in a layer) on a loaded machine that takes a good part of the budget.
    wait = budget + max(PREDICT_SECONDS, budget / 2)
    started = time.monotonic()  # the time shown is the grader's: the worker's could be faked
    reply = run.session.train(
        timeout=wait, cfg=train_cfg,
        x_train=np.ascontiguousarray(x_train.reshape(len(x_train), -1)),
        y_train=np.ascontiguousarray(y_train), seed=int(cfg.get("seed", 0)),
        x_test=np.ascontiguousarray(x_test.reshape(len(x_test), -1)))
    point = _checkpoint(reply, y_test, 0)
    for _ in range(_max_checkpoints(cfg, every) - 1):
        if point.finished or point.accuracy >= stop_at:
            break
        # The worker's budget is for training alone, without the checkpoints' predictions:
        # each request may take all of it (the submission's budget bounds them together).
        try:
            reply = run.session.train_more(timeout=wait)
        except WorkerTimeout:
            if point.parameters is None or run.session.hangs.message_for(needed_names(
                    run.assignment)):
                raise
            # Out of time after a scored checkpoint: the accuracy reached there counts.
            point = dataclasses.replace(point, finished=True, out_of_time=True)
            break
        point = _checkpoint(reply, y_test, point.batches_done)
    seconds = time.monotonic() - started
    if not point.finished and point.accuracy < stop_at:
        raise CheckFailed("training sent more checkpoints than its schedule has",
                          Cause.BAD_TYPE)
    probe = None
    if point.accuracy >= threshold:  # a pass must follow from the trained parameters
        probe = require_probe(run.assignment, cfg, point.parameters, point.accuracy, x_test,
                              y_test)
    batches_per_epoch = -(-len(x_train) // int(cfg.get("batch_size", 128)))
    return Outcome(point.accuracy, seconds,
                   epochs_trained=round(point.batches_done / batches_per_epoch, 2),
                   early=not point.finished, cast=dtype is not None and point.dtypes == (dtype,),
                   probe=probe, out_of_time=point.out_of_time)


def train_outcome(run: LoadedSubmission, early_stop: bool = True) -> Outcome:
    """Train the network in ``run``'s worker and score its test predictions; not at all when
    a component it needs hung in a check, and only within the submission's budget. With
    ``early_stop``, training stops at the first checkpoint whose predictions clear the
    threshold by ``stop_margin``; without, it runs all its epochs (one checkpoint, at the
    end). In the ``[mnist] dtype`` (float32) first; in the submission's own dtype again if
    that raised or ended just below or just above the threshold."""
    run.session.deadline = None
    needed = needed_names(run.assignment)
    hung = run.session.hangs.message_for(needed)
    if hung:
        return Outcome(message=hung, cause=Cause.TIMEOUT)
    started = time.monotonic()
    try:
        return _fast_then_native(run, run.assignment.mnist, early_stop)
    except CheckFailed as exc:
        return Outcome(message=exc.message, cause=exc.cause)
    except StudentError as exc:
        return Outcome(message=f"training raised {exc.short()}", cause=Cause.EXCEPTION)
    except (WorkerTimeout, WorkerDied) as exc:
        return dataclasses.replace(_stopped(run, needed, exc),
                                   seconds=time.monotonic() - started)


def _fast_then_native(run: LoadedSubmission, cfg: dict, early_stop: bool) -> Outcome:
    """Training in the ``[mnist] dtype``; again in the submission's own dtype, which decides,
    if that raised (an overflow, a dtype the code insists on) or ended close to the
    threshold on either side (``_close_to_threshold``)."""
    dtype = _dtype(cfg)
    try:
        outcome = _accuracy(run, cfg, early_stop, dtype)
    except StudentError as exc:
        if dtype is None:
            raise
        return _native(run, cfg, early_stop, f"training in {dtype} raised {exc.short()}")
    if outcome.cast and _close_to_threshold(cfg, outcome.accuracy):
        return _native_or(outcome, run, cfg, early_stop,
                          f"training in {dtype} reached {outcome.accuracy:.2%}")
    return outcome


def _close_to_threshold(cfg: dict, accuracy: float) -> bool:
    """Below the threshold by less than ``stop_margin``, or above it by less than
    ``recheck_above``: within what the dtype can change, on either side. (A training stopped
    early is at least ``stop_margin`` above: with the defaults, never a near miss.)"""
    threshold = float(cfg.get("threshold", 0.97))
    below = float(cfg.get("stop_margin", STOP_MARGIN))
    above = float(cfg.get("recheck_above", RECHECK_ABOVE))
    return threshold - below <= accuracy < threshold + above


def _native(run: LoadedSubmission, cfg: dict, early_stop: bool, why: str) -> Outcome:
    """The outcome of training in the submission's own dtype, which decides."""
    outcome = _accuracy(run, cfg, early_stop, None)
    outcome.note = f"{why}; trained again with the parameters' own dtype"
    return outcome


def _native_or(near_miss: Outcome, run: LoadedSubmission, cfg: dict, early_stop: bool,
               why: str) -> Outcome:
    """The near miss trained again in the submission's own dtype; the near miss itself if
    the submission's time budget does not allow it."""
    try:
        return _native(run, cfg, early_stop, why)
    except BudgetExhausted:
        pass
    except CheckFailed as exc:
        if exc.cause != Cause.BUDGET:
            raise
    near_miss.note = "no time was left to train it again in the parameters' own dtype"
    return near_miss


def _stopped(run: LoadedSubmission, needed: set[str], exc: Exception) -> Outcome:
    """Why the training worker stopped: a hang seen by the checks, the budget, or itself."""
    hung = run.session.hangs.message_for(needed)
    if hung:  # the checks' worker saw a needed method hang and stopped this one
        return Outcome(message=hung, cause=Cause.TIMEOUT)
    if isinstance(exc, BudgetExhausted) or run.session.out_of_time():
        return Outcome(message=f"stopped: the submission's time budget of "
                       f"{run.session.budget:g} s ran out", cause=Cause.BUDGET)
    if isinstance(exc, WorkerTimeout):
        budget = time_budget(run.assignment.mnist)
        return Outcome(message=f"training did not reach a checkpoint within its time budget "
                               f"({budget:g} s of training, then predicting the test set); "
                               "likely cause: a layer too slow (Python loops over channels or "
                               "positions)", cause=Cause.TIMEOUT)
    return Outcome(message=f"{exc} during training", cause=Cause.CRASH)


def mnist_component(cfg: dict, outcome: Outcome, components: list[ComponentResult],
                    needed: set[str] | None = None) -> ComponentResult:
    """The MNIST component's result; a failure names the failing components it uses
    (``needed``: ``needed_names``; by default the network's own names)."""
    points = float(cfg.get("points", 0))
    threshold = float(cfg.get("threshold", 0.97))
    result = ComponentResult("MNIST", points)
    name = f"test accuracy of your network >= {threshold:.1%}"
    message, cause = outcome.message, outcome.cause
    passed = not message and outcome.accuracy >= threshold
    epochs = int(cfg.get("epochs", 1))
    if not message and not passed:
        message = f"test accuracy {outcome.accuracy:.2%} is below the threshold {threshold:.1%}"
        cause = Cause.ACCURACY
        if outcome.out_of_time and outcome.epochs_trained is not None:
            message += (f", reached when the training time budget of "
                        f"{time_budget(cfg):g} s ended training after "
                        f"{outcome.epochs_trained:g} of {epochs} epochs; likely cause: a layer "
                        "too slow (Python loops over channels or positions)")
    if passed and outcome.early:
        message = (f"reached after {outcome.epochs_trained:g} of {epochs} epochs: training "
                   "stopped there")
    if outcome.note:
        message = "; ".join(m for m in (message, outcome.note) if m)
    if not passed:
        broken = _broken(needed or set(network_names(cfg)), components)
        if broken:
            message += f"; components the network uses that fail checks: {', '.join(broken)}"
    result.checks = [CheckResult(name, passed, points if passed else 0.0, points, message,
                                 "public", cause)]
    result.extra = {"accuracy": round(outcome.accuracy, 6), "threshold": threshold,
                    "seconds": round(outcome.seconds, 3)}
    if outcome.epochs_trained is not None:
        result.extra.update(epochs_trained=outcome.epochs_trained, epochs=epochs)
    if outcome.probe is not None:
        result.extra["probe_accuracy"] = round(outcome.probe, 6)
    return result


def _broken(needed: set[str], components: list[ComponentResult]) -> list[str]:
    return [c.name for c in components if c.name in needed and c.score < c.max_score]
