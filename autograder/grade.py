"""Grade one submission: every check of every component in an isolated worker, then MNIST."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import autograder.checks  # noqa: F401 - registers the check kinds
from autograder.checks.base import REGISTRY, Context
from autograder.compare import CheckFailed
from autograder.refcache import cache_dir
from autograder.sandbox import (
    BudgetExhausted,
    Limits,
    Session,
    StudentError,
    Worker,
    WorkerDied,
    WorkerFailure,
    WorkerTimeout,
)
from autograder.spec import Assignment, CheckSpec, Component
from autograder.submission import Submission


@dataclass
class CheckResult:
    name: str
    passed: bool
    score: float
    max_score: float
    message: str = ""
    visibility: str = "public"
    cause: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in ("name", "passed", "score", "max_score", "message")}


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

    def to_json(self) -> dict[str, Any]:
        out = {"name": self.name, "score": self.score, "max_score": self.max_score,
               "checks": [c.to_json() for c in self.checks]}
        if self.found_as:
            out["found_as"] = self.found_as
        return {**out, **self.extra}


@dataclass
class GradeResult:
    submission: str
    assignment: str
    components: list[ComponentResult]
    notes: list[str]
    seconds: float = 0.0

    @property
    def score(self) -> float:
        return sum(c.score for c in self.components)

    @property
    def max_score(self) -> float:
        return sum(c.max_score for c in self.components)

    def to_json(self) -> dict[str, Any]:
        return {"submission": self.submission, "assignment": self.assignment,
                "score": self.score, "max_score": self.max_score,
                "components": [c.to_json() for c in self.components], "notes": self.notes}


Progress = Callable[[str], None]


@dataclass
class Grader:
    assignment: Assignment
    seed: int | None = None
    mnist: bool = True
    limits: Limits | None = None
    visibilities: tuple[str, ...] = ("public", "hidden")
    progress: Progress | None = None
    check_timeout: float | None = None  # overrides the assignment's (tests, slow machines)
    load_timeout: float | None = None  # likewise, for each cell of top-level code
    parallel_mnist: bool = True  # train in a second worker during the checks (>= 2 cores)

    def grade(self, submission: Submission, only: list[str] | None = None) -> GradeResult:
        started = time.monotonic()
        with_mnist = self.mnist and bool(self.assignment.mnist) and \
            (only is None or "MNIST" in only)
        if with_mnist:
            from autograder import mnist_check  # it imports this module
        # With two cores the network trains in a second worker while the first runs the
        # checks: the wall time is the training's, not the training's plus the checks'.
        beside = with_mnist and self._can_train_beside()
        with ThreadPoolExecutor(1, thread_name_prefix="nngrade-mnist") if beside \
                else contextlib.nullcontext() as pool:
            trained = pool.submit(self._train_mnist, submission, started) if beside else None
            with self._session(submission, started) as session:
                run = _Run(self, submission, session)
                components = run.components([c for c in self.assignment.components
                                             if only is None or c.name in only])
                if with_mnist and not beside:
                    outcome = mnist_check.train_outcome(run)
            if beside:  # waited for only once the checks' worker (and its user) is released
                outcome = trained.result()
        if with_mnist:
            components.append(mnist_check.mnist_component(self.assignment.mnist, outcome,
                                                          components))
        return GradeResult(str(submission.path), self.assignment.name, components,
                           run.notes, time.monotonic() - started)

    def _can_train_beside(self) -> bool:
        """Two workers at once need two cores and a pool of users (a single named worker
        user serves one worker at a time)."""
        return self.parallel_mnist and (os.cpu_count() or 1) >= 2 and \
            self._limits().user in ("auto", None)

    @contextlib.contextmanager
    def _session(self, submission: Submission, started: float,
                 threads: int | None = None) -> Iterator[Session]:
        """A worker of its own for one submission, with the submission's time budget."""
        limits = self._limits()
        if threads is not None:
            limits = dataclasses.replace(limits, threads=threads)
        with Worker(limits, hidden=self._hidden(submission)) as worker:
            yield Session(worker, self.assignment.check_timeout,
                          budget_deadline=started + limits.submission_timeout,
                          budget=limits.submission_timeout)

    def _train_mnist(self, submission: Submission, started: float) -> Any:
        """The MNIST outcome, from a worker of its own (run beside the checks)."""
        from autograder import mnist_check

        # Two BLAS threads: the checks leave the second core after their first seconds.
        threads = max(self._limits().threads, 2)
        with self._session(submission, started, threads) as session:
            return mnist_check.train_outcome(_Run(self, submission, session))

    def _limits(self) -> Limits:
        """The given limits, with the assignment's forbidden imports when it names any."""
        limits = self.limits or Limits()
        forbidden = self.assignment.forbidden_imports or limits.forbidden_imports
        return dataclasses.replace(limits, forbidden_imports=tuple(forbidden))

    def _hidden(self, submission: Submission) -> tuple[str, ...]:
        """What student code must not see: the assignment, the solution, other submissions."""
        paths = [self.assignment.path.parent, submission.path.resolve().parent]
        if self.assignment.solution is not None:
            paths.append(self.assignment.solution)
        cache = cache_dir()  # expected values; created now so that it can be hidden now
        if cache is not None:
            with contextlib.suppress(OSError):
                cache.mkdir(parents=True, exist_ok=True, mode=0o700)
            paths.append(cache)
        return tuple(str(p) for p in paths)


class _Run:
    """The state of grading one submission: the worker session and what the code defines."""

    def __init__(self, grader: Grader, submission: Submission, session: Session):
        self.grader = grader
        self.assignment = grader.assignment
        self.submission = submission
        self.session = session
        self.notes: list[str] = list(submission.dropped)
        self.names: set[str] = set()
        self.load_failure: str | None = None
        self.load_errors: list[str] = []
        self.skipped_cells: dict[int, str] = {}
        self._load(first=True)

    # -- the worker -----------------------------------------------------------------
    def _load(self, first: bool = False) -> None:
        """Run the submission's top-level code cell by cell; a cell that hangs or kills the
        worker is skipped (and noted), and the others are loaded again in a fresh worker."""
        if first is False or not self.session.worker.alive():
            self.session.worker.start()
        sub = self.submission
        numbers = getattr(sub, "cell_numbers", None) or list(range(1, len(sub.cells) + 1))
        labels = [sub.filename if sub.kind == "py" else f"{sub.filename} cell {n}"
                  for n in numbers]
        self.session.deadline = None
        errors: list[str] = []
        loaded = False
        for i, (cell, label) in enumerate(zip(sub.cells, labels, strict=True)):
            if i in self.skipped_cells:
                continue
            try:
                info = self.session.load([cell], sub.filename, [label], append=loaded,
                                         timeout=self._load_timeout())
            except WorkerFailure as exc:
                what = "the module's top-level code" if sub.kind == "py" else label
                self.skipped_cells[i] = (f"{what} was skipped: {exc} (keep long-running code "
                                         "such as training out of the graded file)")
                self.load_failure = self.skipped_cells[i] if sub.kind == "py" else None
                if not self.session.worker.alive() or sub.kind != "py":
                    return self._load()
                return
            loaded = True
            self.names = set(info["names"])
            errors += [f"{label} raised {e['error']['type']}: {e['error']['message']} "
                       f"{_first_frame(e['error'].get('traceback', ''))}".rstrip()
                       for e in info["errors"]]
        if sub.kind != "py":
            self.load_failure = None
        if first or not self.load_errors:
            self.load_errors = errors + list(self.skipped_cells.values())
            self.notes = list(sub.dropped) + self.load_errors

    def _load_timeout(self) -> float:
        return self.grader.load_timeout or self.assignment.load_timeout

    def ensure_worker(self) -> None:
        if not self.session.worker.alive():
            self._load()

    def resolve(self, comp_names: tuple[str, ...]) -> str | None:
        return next((n for n in comp_names if n in self.names), None)

    # -- components -----------------------------------------------------------------
    def components(self, comps: list[Component]) -> list[ComponentResult]:
        """Grade components; every public check runs before any hidden one, so student code
        cannot carry what it saw in a hidden check into a public check's visible message."""
        results = [ComponentResult(c.name, c.points) for c in comps]
        names = [self.resolve(c.names) for c in comps]
        checks: list[dict[int, CheckResult]] = [{} for _ in comps]
        for phase in ("public", "hidden"):
            for comp, name, done in zip(comps, names, checks, strict=True):
                if self.grader.progress and phase == "public":
                    self.grader.progress(comp.name)
                for i, check in enumerate(comp.checks):
                    if check.visibility == phase:
                        done[i] = self._missing(comp, check) if name is None \
                            else self.run_check(check, name)
        for comp, result, name, done in zip(comps, results, names, checks, strict=True):
            result.checks = [done[i] for i in range(len(comp.checks))]
            result.found_as = name if name not in (None, comp.name) else None
        return results

    def _missing(self, comp: Component, check: CheckSpec) -> CheckResult:
        reason = self.load_failure or (
            f"not found: the submission does not define '{comp.name}'"
            + (f" (or {', '.join(comp.aliases)})" if comp.aliases else "")
            + (f"; note: {self.load_errors[0]}" if self.load_errors else ""))
        return _failed(check, reason, "missing")

    def run_check(self, check: CheckSpec, name: str) -> CheckResult:
        if check.visibility not in self.grader.visibilities:
            return _failed(check, "not run", "skipped")
        if self.session.out_of_time():
            return _failed(check, f"not run: the submission's total time budget of "
                           f"{self.session.budget:g} s is used up", "budget")
        self.ensure_worker()
        if self.load_failure:
            return _failed(check, self.load_failure, "load")
        seed = self.grader.seed if self.grader.seed is not None else self.assignment.seed
        ctx = Context(self.session, check, name, seed, self.assignment.tolerance,
                      self.assignment.solution, self.assignment.reference_code)
        timeout = float(self.grader.check_timeout or check.get("timeout")
                        or self.assignment.check_timeout)
        self.session.deadline = time.monotonic() + timeout
        try:
            REGISTRY[check.kind](ctx)
        except CheckFailed as exc:
            return _failed(check, exc.message, exc.cause)
        except StudentError as exc:
            return _failed(check, f"your code raised {exc.short()}", "exception")
        except WorkerTimeout as exc:
            if isinstance(exc, BudgetExhausted) or self.session.out_of_time():
                return _failed(check, f"stopped: the submission's total time budget of "
                               f"{self.session.budget:g} s is used up", "budget")
            return _failed(check, f"timed out after {timeout:g} s (an infinite loop, or far "
                           "too slow: vectorise over the batch)", "timeout")
        except WorkerDied as exc:
            tail = self.session.worker.output_tail(300).strip()
            return _failed(check, f"{exc} while running this check"
                           + (f"; last output: {tail[-200:]}" if tail else ""), "crash")
        except Exception as exc:  # noqa: BLE001 - a grader bug must not sink the whole grade
            return _failed(check, f"internal grader error ({type(exc).__name__}: {exc}); "
                           "please report it", "grader_error")
        finally:
            self.session.deadline = None
        return CheckResult(check.name, True, check.points, check.points, "", check.visibility)


def _failed(check: CheckSpec, message: str, cause: str | None) -> CheckResult:
    return CheckResult(check.name, False, 0.0, check.points, message, check.visibility, cause)


def _first_frame(traceback: str) -> str:
    lines = [ln.strip() for ln in traceback.strip().splitlines() if ln.strip()]
    return f"({lines[-2] if len(lines) >= 2 else lines[0]})" if lines else ""


