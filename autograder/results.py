"""The result model: what grading a submission produced, and its lossless JSON form.

Every consumer (terminal table, ``nngrade check``, Gradescope, batch) reads these types; none
imports the orchestrator for them. ``to_json`` / ``from_json`` round-trip exactly, visibility
and cause of every check included.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Cause(StrEnum):
    """Why a check failed: an id that reports, hidden-check sentences and statistics key on.

    A ``StrEnum``: a cause compares equal to its id and serialises as it."""

    # diagnoses of a wrong array (autograder.checks.diagnoses)
    TIMES_BATCH = "times_batch"
    OVER_BATCH = "over_batch"
    SIGN_FLIP = "sign_flip"
    FACTOR_2 = "factor_2"
    FACTOR_HALF = "factor_half"
    FACTOR = "factor"
    TRANSPOSED = "transposed"
    TRANSPOSED_SHAPE = "transposed_shape"
    RESHAPED = "reshaped"
    SHAPE = "shape"
    ZEROS = "zeros"
    NONFINITE = "nonfinite"
    SPEC_MISTAKE = "spec_mistake"
    # what student code returned
    RETURNED_NONE = "returned_none"
    BAD_TYPE = "bad_type"
    # layer protocol
    MUTATES_INPUT = "mutates_input"
    GRAD_ACCUMULATION = "grad_accumulation"
    ZERO_GRAD = "zero_grad"
    PARAM_SHAPE = "param_shape"
    GET_PARAMETERS = "get_parameters"
    INIT = "init"
    # optimizers
    NOT_INPLACE = "not_inplace"
    OPTIMIZER_MISTAKE = "optimizer_mistake"
    # running student code
    EXCEPTION = "exception"
    TIMEOUT = "timeout"
    CRASH = "crash"
    NOT_A_FUNCTION = "not_a_function"  # the forward near an input is not the forward at it
    MISSING = "missing"
    LOAD = "load"
    GRADER_ERROR = "grader_error"
    SKIPPED = "skipped"
    BUDGET = "budget"
    # containers and base classes
    SEQUENTIAL_CALLS = "sequential_calls"
    SEQUENTIAL_ACC = "sequential_acc"
    RESIDUAL_CALLS = "residual_calls"
    RESIDUAL_ACC = "residual_acc"
    CONTAINER_PARAMS = "container_params"
    CONTAINER_GETITEM = "container_getitem"
    CONTAINER_PROPAGATION = "container_propagation"
    CONTAINER_MODE = "container_mode"
    MODULE_INIT = "module_init"
    MODULE_BACKWARD = "module_backward"
    MODULE_MODE = "module_mode"
    MODULE_PARAMS = "module_params"
    NOT_STORED = "not_stored"  # a result returned but not kept in output / gradInput
    CRITERION_BASE = "criterion_base"
    # the MNIST check
    NOT_FROM_PARAMETERS = "not_from_parameters"  # predictions the parameters do not give
    # dropout
    DROPOUT_SCALE = "dropout_scale"
    DROPOUT_RATE = "dropout_rate"
    DROPOUT_INDEPENDENCE = "dropout_independence"
    DROPOUT_STALE_MASK = "dropout_stale_mask"
    DROPOUT_MASK_NOT_REUSED = "dropout_mask_not_reused"
    # the end-to-end check
    ACCURACY = "accuracy"


def as_cause(value: str | None) -> Cause | None:
    """A cause id read back from JSON (an unknown id from an older grader stays a string)."""
    if value is None:
        return None
    try:
        return Cause(value)
    except ValueError:
        return value  # type: ignore[return-value]


@dataclass
class CheckResult:
    name: str
    passed: bool
    score: float
    max_score: float
    message: str = ""
    visibility: str = "public"
    cause: Cause | None = None
    # The exactly known mistakes its wrong results matched (grading only, not saved).
    mistakes: tuple[frozenset[str], ...] = field(default=(), compare=False)

    def to_json(self) -> dict[str, Any]:
        out = {"name": self.name, "passed": self.passed, "score": self.score,
               "max_score": self.max_score, "message": self.message,
               "visibility": self.visibility}
        if self.cause is not None:
            out["cause"] = str(self.cause)
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CheckResult:
        return cls(data["name"], bool(data["passed"]), float(data["score"]),
                   float(data["max_score"]), data.get("message", ""),
                   data.get("visibility", "public"), as_cause(data.get("cause")))


@dataclass
class ComponentResult:
    name: str
    max_score: float
    checks: list[CheckResult] = field(default_factory=list)
    found_as: str | None = None  # the alias the submission used, if not the canonical name
    extra: dict[str, Any] = field(default_factory=dict)  # MNIST: accuracy, threshold, seconds

    @property
    def score(self) -> float:
        return sum(c.score for c in self.checks)

    @property
    def trained(self) -> bool:
        """MNIST: the network trained to an accuracy (passed, or fell short of the
        threshold), not stopped by a crash, a timeout or a missing component."""
        check = self.checks[0] if self.checks else None
        return "accuracy" in self.extra and check is not None and (
            check.passed or check.cause == Cause.ACCURACY)

    def to_json(self) -> dict[str, Any]:
        out = {"name": self.name, "score": self.score, "max_score": self.max_score,
               "checks": [c.to_json() for c in self.checks]}
        if self.found_as:
            out["found_as"] = self.found_as
        return {**out, **self.extra}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ComponentResult:
        known = {"name", "score", "max_score", "checks", "found_as"}
        return cls(data["name"], float(data["max_score"]),
                   [CheckResult.from_json(c) for c in data.get("checks", [])],
                   data.get("found_as"), {k: v for k, v in data.items() if k not in known})


@dataclass
class GradeResult:
    submission: str
    assignment: str
    components: list[ComponentResult]
    notes: list[str]
    seconds: float = 0.0  # wall time of the grading
    budget: float = 0.0  # the submission's time budget in seconds (0: unknown)

    @property
    def score(self) -> float:
        return sum(c.score for c in self.components)

    @property
    def max_score(self) -> float:
        return sum(c.max_score for c in self.components)

    @property
    def checks(self) -> list[tuple[ComponentResult, CheckResult]]:
        return [(c, k) for c in self.components for k in c.checks]

    def component(self, name: str) -> ComponentResult:
        return next(c for c in self.components if c.name == name)

    def to_json(self) -> dict[str, Any]:
        return {"submission": self.submission, "assignment": self.assignment,
                "score": self.score, "max_score": self.max_score,
                "components": [c.to_json() for c in self.components], "notes": self.notes,
                "seconds": round(self.seconds, 3), "budget": self.budget,
                "budget_used": self.budget_used}

    @property
    def budget_used(self) -> float:
        """The share of the time budget the grading took (0 when the budget is unknown)."""
        return round(self.seconds / self.budget, 4) if self.budget else 0.0

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> GradeResult:
        return cls(data["submission"], data["assignment"],
                   [ComponentResult.from_json(c) for c in data.get("components", [])],
                   list(data.get("notes", [])), float(data.get("seconds", 0.0)),
                   float(data.get("budget", 0.0)))

    def summary(self) -> str:
        """One line: the score and the components that lost points."""
        losing = [c.name for c in self.components if c.score < c.max_score]
        tail = f"; lost points in {', '.join(losing)}" if losing else "; full marks"
        return f"{self.assignment}: {self.score:g} / {self.max_score:g}{tail}"


def failed(name: str, points: float, visibility: str, message: str,
           cause: Cause | None) -> CheckResult:
    """A failed check's result: no points, the message and its cause. The message is cut to
    ``MESSAGE_LINES`` lines of at most ``MESSAGE_WIDTH`` characters: whatever student code
    managed to put in it, it cannot flood a report or a results file."""
    lines = [line if len(line) <= MESSAGE_WIDTH else line[:MESSAGE_WIDTH - 3] + "..."
             for line in message.splitlines()[:MESSAGE_LINES]]
    return CheckResult(name, False, 0.0, points, "\n".join(lines), visibility, cause)


MESSAGE_LINES, MESSAGE_WIDTH = 20, 1000
