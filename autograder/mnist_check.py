"""The end-to-end check: the student's own network trained on MNIST in the worker.

The worker gets training images and labels and the test images; only the grader holds the
test labels, so only the grader can compute the accuracy.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from autograder.checks import CheckFailed, as_array
from autograder.loaded import LoadedSubmission
from autograder.mnist import load_mnist
from autograder.results import Cause, CheckResult, ComponentResult
from autograder.sandbox import BudgetExhausted, StudentError, WorkerDied, WorkerTimeout
from autograder.spec import Assignment, network_names


def _training_config(run: LoadedSubmission, cfg: dict) -> dict:
    """The worker's config with every component name replaced by the one the student used."""
    network, missing = run.assignment.network_config(cfg, run.names)
    if missing:
        raise CheckFailed(f"cannot build the network: {', '.join(missing)} not defined",
                          Cause.MISSING)
    return {k: v for k, v in network.items() if k not in ("points", "threshold", "seed")}


PREDICT_SECONDS = 20.0  # kept from the submission's budget for predicting and scoring


def needed_names(assignment: Assignment) -> set[str]:
    """Every name (canonical or alias) of the components the MNIST network uses."""
    names = set()
    for name in network_names(assignment.mnist or {"layers": [], "criterion": "",
                                                   "optimizer": ""}):
        try:
            names.update(assignment.component(name).names)
        except KeyError:
            names.add(name)
    return names


def _training_seconds(run: LoadedSubmission, cfg: dict) -> float:
    """The spec's training time, cut to what is left of the submission's budget."""
    budget = float(cfg.get("time_budget", 120.0))
    if run.session.budget_deadline is None:
        return budget
    left = run.session.budget_deadline - time.monotonic() - PREDICT_SECONDS
    if left <= 0:
        raise CheckFailed(f"not run: the submission's time budget of {run.session.budget:g} s "
                          "ran out", Cause.BUDGET)
    return min(budget, left)


def _accuracy(run: LoadedSubmission, cfg: dict) -> tuple[float, float]:
    x_train, y_train = load_mnist("train")
    x_test, y_test = load_mnist("test")
    train_cfg = _training_config(run, cfg)
    run.ensure_worker()
    budget = _training_seconds(run, cfg)
    train_cfg["time_budget"] = budget
    reply = run.session.train(
        timeout=budget + PREDICT_SECONDS, cfg=train_cfg,
        x_train=np.ascontiguousarray(x_train.reshape(len(x_train), -1)),
        y_train=np.ascontiguousarray(y_train), seed=int(cfg.get("seed", 0)),
        x_test=np.ascontiguousarray(x_test.reshape(len(x_test), -1)))
    if not isinstance(reply, dict):
        raise CheckFailed("training returned no result", Cause.BAD_TYPE)
    predictions = as_array(reply.get("predictions"), "the predicted labels")
    if predictions.shape != y_test.shape:
        raise CheckFailed(f"expected {len(y_test)} predicted labels, got shape "
                          f"{predictions.shape}", Cause.SHAPE)
    seconds = reply.get("seconds")
    return float(np.mean(predictions == y_test)), float(seconds) if seconds else 0.0


@dataclass
class Outcome:
    """What training the student's network gave: an accuracy, or a message and its cause."""

    accuracy: float = 0.0
    seconds: float = 0.0
    message: str = ""
    cause: str | None = None


def train_outcome(run: LoadedSubmission) -> Outcome:
    """Train the network in ``run``'s worker and score its test predictions; not at all when
    a component it needs hung in a check, and only within the submission's budget."""
    run.session.deadline = None
    needed = needed_names(run.assignment)
    hung = run.session.hangs.message_for(needed)
    if hung:
        return Outcome(message=hung, cause=Cause.TIMEOUT)
    try:
        accuracy, seconds = _accuracy(run, run.assignment.mnist)
    except CheckFailed as exc:
        return Outcome(message=exc.message, cause=exc.cause)
    except StudentError as exc:
        return Outcome(message=f"training raised {exc.short()}", cause=Cause.EXCEPTION)
    except (WorkerTimeout, WorkerDied) as exc:
        return _stopped(run, needed, exc)
    return Outcome(accuracy, seconds)


def _stopped(run: LoadedSubmission, needed: set[str], exc: Exception) -> Outcome:
    """Why the training worker stopped: a hang seen by the checks, the budget, or itself."""
    hung = run.session.hangs.message_for(needed)
    if hung:  # the checks' worker saw a needed method hang and stopped this one
        return Outcome(message=hung, cause=Cause.TIMEOUT)
    if isinstance(exc, BudgetExhausted) or run.session.out_of_time():
        return Outcome(message=f"stopped: the submission's time budget of "
                       f"{run.session.budget:g} s ran out", cause=Cause.BUDGET)
    if isinstance(exc, WorkerTimeout):
        return Outcome(message="training exceeded the time budget", cause=Cause.TIMEOUT)
    return Outcome(message=f"{exc} during training", cause=Cause.CRASH)


def mnist_component(cfg: dict, outcome: Outcome,
                    components: list[ComponentResult]) -> ComponentResult:
    """The MNIST component's result; a failure names the failing components it uses."""
    points = float(cfg.get("points", 0))
    threshold = float(cfg.get("threshold", 0.97))
    result = ComponentResult("MNIST", points)
    name = f"test accuracy of your network >= {threshold:.1%}"
    message, cause = outcome.message, outcome.cause
    passed = not message and outcome.accuracy >= threshold
    if not message and not passed:
        message = f"test accuracy {outcome.accuracy:.2%} is below the threshold {threshold:.1%}"
        cause = Cause.ACCURACY
    if not passed:
        broken = _broken(cfg, components)
        if broken:
            message += f"; components the network uses that fail checks: {', '.join(broken)}"
    result.checks = [CheckResult(name, passed, points if passed else 0.0, points, message,
                                 "public", cause)]
    result.extra = {"accuracy": round(outcome.accuracy, 6), "threshold": threshold,
                    "seconds": round(outcome.seconds, 3)}
    return result


def _broken(cfg: dict, components: list[ComponentResult]) -> list[str]:
    needed = set(network_names(cfg))
    return [c.name for c in components if c.name in needed and c.score < c.max_score]
