"""Grade one submission: every check of every component in an isolated worker, then MNIST.

``Grader`` is the orchestrator; ``CheckRunner`` runs one submission's checks in its worker.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from concurrent import futures
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import autograder.kinds  # noqa: F401 - registers the check kinds
from autograder import mnist_check
from autograder.checks import OVERFLOW, UNEXPLAINED, CheckFailed, explained
from autograder.hangs import Hangs, HungMethod
from autograder.kinds.base import Context, run_kind
from autograder.loaded import LoadedSubmission
from autograder.refcache import cache_dir
from autograder.results import Cause, CheckResult, ComponentResult, GradeResult, failed
from autograder.sandbox import (
    BudgetExhausted,
    Limits,
    Session,
    StudentError,
    Worker,
    WorkerDied,
    WorkerTimeout,
)
from autograder.spec import Assignment, CheckSpec, Component
from autograder.submission import Submission

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
    parallel_checks: bool = True  # without MNIST: half of the checks in a second worker
    budget: float | None = None  # seconds for the whole submission (default: the limits')
    # Stop MNIST training at the first checkpoint ([mnist] check_every) whose predictions
    # clear the threshold by [mnist] stop_margin; False: train every epoch (benchmarks).
    mnist_early_stop: bool = True

    def grade(self, submission: Submission, only: list[str] | None = None) -> GradeResult:
        started = time.monotonic()
        with_mnist = self.mnist and bool(self.assignment.mnist) and \
            (only is None or "MNIST" in only)
        selected = [c for c in self.assignment.components if only is None or c.name in only]
        # With two cores the network trains in a second worker while the first runs the
        # checks: the wall time is the training's, not the training's plus the checks'.
        # Without training, the second core runs half of the checks instead.
        beside = with_mnist and self._can_train_beside()
        groups = _halves(selected) if not with_mnist and len(selected) > 1 and \
            self._can_split_checks() else [selected]
        hangs = Hangs()  # a method that hangs in one worker is not waited for again
        if with_mnist:
            mnist_check.prefetch()
        with ThreadPoolExecutor(1, thread_name_prefix="nngrade-second") \
                if beside or len(groups) > 1 else contextlib.nullcontext() as pool:
            reserve = self._hidden_reserve(selected)
            trained = pool.submit(self._train_mnist, submission, started, hangs, reserve) \
                if beside else None
            # Hidden checks start only once the training has ended: student code that saw a
            # hidden input could otherwise pass it to the training's visible outcome (a
            # lock on a shared file reaches the other worker).
            phases = _Phases(len(groups), after=trained)
            others = [pool.submit(self._check, submission, started, hangs, g, phases)
                      for g in groups[1:]]
            try:
                first = self._check(submission, started, hangs, groups[0], phases,
                                    train_after=reserve if with_mnist and not beside
                                    else None)
            except threading.BrokenBarrierError:  # the other worker's failure is the news
                for other in others:
                    other.result()
                raise
            checked = [first] + [other.result() for other in others]
            # waited for only once the checks' worker (and its user) is released
            outcome = trained.result() if trained else first.outcome
        order = {c.name: i for i, c in enumerate(selected)}
        components = sorted((c for part in checked for c in part.components),
                            key=lambda c: order[c.name])
        notes = list(dict.fromkeys(n for part in checked for n in part.notes))
        if with_mnist:
            components.append(mnist_check.mnist_component(
                self.assignment.mnist, outcome, components,
                mnist_check.needed_names(self.assignment)))
        return GradeResult(str(submission.path), self.assignment.name, components,
                           notes, time.monotonic() - started, self.total_budget())

    def _check(self, submission: Submission, started: float, hangs: Hangs,
               components: list[Component], phases: _Phases, train_after: float | None = None
               ) -> _Checked:
        """Grade ``components`` in a worker of their own; with ``train_after`` (seconds kept
        for the hidden checks), train there between the public and the hidden checks, before
        student code has seen a hidden input (the training's outcome is shown in full)."""
        with phases.guard(), self._session(submission, started, hangs) as session:
            run = self._load(submission, session)
            trained: list[mnist_check.Outcome] = []

            def between() -> None:
                run.add_environment_notes()  # before student code sees a hidden input
                phases.wait()
                if train_after is None:
                    return
                deadline = session.budget_deadline
                if deadline is not None:
                    session.budget_deadline = deadline - train_after
                try:
                    trained.append(mnist_check.train_outcome(run, self.mnist_early_stop))
                finally:
                    session.budget_deadline = deadline

            results = CheckRunner(self, run).components(components, between)
        return _Checked(results, run.notes, trained[0] if trained else None)

    def total_budget(self) -> float:
        """Seconds one submission may take, checks and MNIST training together."""
        return float(self.budget or self._limits().submission_timeout)

    def _can_train_beside(self) -> bool:
        return self.parallel_mnist and self._two_workers()

    def _can_split_checks(self) -> bool:
        return self.parallel_checks and self._two_workers()

    def _two_workers(self) -> bool:
        """Two workers at once need two cores and a pool of users (a single named worker
        user serves one worker at a time)."""
        return (os.cpu_count() or 1) >= 2 and self._limits().user in ("auto", None)

    def _hidden_reserve(self, components: list[Component]) -> float:
        """Seconds of the budget the MNIST training leaves to the hidden checks, which start
        only once it has ended: their time limits, at most a quarter of the budget."""
        if "hidden" not in self.visibilities:
            return 0.0
        limit = float(self.check_timeout or self.assignment.check_timeout)
        total = sum(float(self.check_timeout or check.params.timeout or limit)
                    for comp in components for check in comp.checks
                    if check.visibility == "hidden")
        return min(total, self.total_budget() / 4)

    @contextlib.contextmanager
    def _session(self, submission: Submission, started: float, hangs: Hangs,
                 reserve: float = 0.0) -> Iterator[Session]:
        """A worker of its own for one submission, with the submission's time budget less
        ``reserve`` seconds."""
        limits = self._limits()
        budget = self.total_budget()
        with Worker(limits, hidden=self._hidden(submission)) as worker:
            yield Session(worker, self.assignment.check_timeout,
                          budget_deadline=started + budget - reserve, budget=budget, hangs=hangs,
                          check_timeout=float(self.check_timeout
                                              or self.assignment.check_timeout))

    def _train_mnist(self, submission: Submission, started: float, hangs: Hangs,
                     reserve: float) -> mnist_check.Outcome:
        """The MNIST outcome, from a worker of its own (run beside the checks), ending
        ``reserve`` seconds before the submission's budget; stopped as soon as a component
        the network needs hangs in a check."""
        # The limits' BLAS threads (one by default): a second thread beside the checks'
        # worker spins against it (the first quarter epoch took 1.2 s instead of 0.42 s),
        # and gains little once the checks are done (0.37 s against 0.39 s per quarter).
        needed = mnist_check.needed_names(self.assignment)
        with self._session(submission, started, hangs, reserve) as session:
            hangs.listen(lambda key: session.worker.interrupt()
                         if key.split(".")[0] in needed else None)
            return mnist_check.train_outcome(self._load(submission, session),
                                            self.mnist_early_stop)

    def _load(self, submission: Submission, session: Session) -> LoadedSubmission:
        return LoadedSubmission(self.assignment, submission, session, self.load_timeout)

    def _limits(self) -> Limits:
        """The given limits, with the assignment's forbidden imports when it names any."""
        limits = self.limits or Limits()
        forbidden = self.assignment.forbidden_imports or limits.forbidden_imports
        shims = tuple((s.api, s.replacement) for s in self.assignment.shims)
        return dataclasses.replace(limits, forbidden_imports=tuple(forbidden), shims=shims)

    def _hidden(self, submission: Submission) -> tuple[str, ...]:
        """What student code must not see: the assignment, the solution, other submissions."""
        paths = [self.assignment.path.parent, submission.path.resolve().parent]
        paths.extend(self.assignment.solution_files())
        cache = cache_dir()  # expected values; created now so that it can be hidden now
        if cache is not None:
            with contextlib.suppress(OSError):
                cache.mkdir(parents=True, exist_ok=True, mode=0o700)
            paths.append(cache)
        return tuple(str(p) for p in paths)


@dataclass
class CheckRunner:
    """Runs the checks of a grader's assignment against one loaded submission."""

    grader: Grader
    run: LoadedSubmission

    def components(self, comps: list[Component],
                   before_hidden: Callable[[], None] | None = None) -> list[ComponentResult]:
        """Grade components; every public check runs before any hidden one, so student code
        cannot carry what it saw in a hidden check into a public check's visible message.
        ``before_hidden`` runs between the two phases (waiting for another worker's)."""
        results = [ComponentResult(c.name, c.points) for c in comps]
        names = [self.run.resolve(c.names) for c in comps]
        checks: list[dict[int, CheckResult]] = [{} for _ in comps]
        charged = [_Charged() for _ in comps]
        for phase in ("public", "hidden"):
            if phase == "hidden" and before_hidden is not None:
                before_hidden()
            for comp, name, done, seen in zip(comps, names, checks, charged, strict=True):
                if self.grader.progress and phase == "public":
                    self.grader.progress(comp.name)
                for i, check in enumerate(comp.checks):
                    if check.visibility == phase:
                        done[i] = self._missing(comp, check) if name is None \
                            else self._charged_once(check, name, seen)
        for comp, result, name, done, seen in zip(comps, results, names, checks, charged,
                                                  strict=True):
            result.checks = [seen.refunded.get(check.name, done[i])
                             for i, check in enumerate(comp.checks)]
            result.found_as = name if name not in (None, comp.name) else None
        return results

    def _missing(self, comp: Component, check: CheckSpec) -> CheckResult:
        why = next(filter(None, map(self.run.why_undefined, comp.names)), "")
        reason = self.run.load_failure or (
            f"not found: the submission does not define '{comp.name}'"
            + (f" (or {', '.join(comp.aliases)})" if comp.aliases else "")
            + (f"; {why}" if why else ""))
        return _failed(check, reason, Cause.MISSING)

    def _charged_once(self, check: CheckSpec, name: str, seen: _Charged) -> CheckResult:
        """The check's result, not charged again for a mistake already charged: a check stops
        at its first failing trial, so every trial is run alone first and each must pass or
        fail with a charged mistake (else a trial it could handle, made to fail with a cheap
        mistake on purpose, would hide the trials it cannot)."""
        result = self.run_check(check, name, seen)
        excused = seen.excusable(check, result) and all(
            seen.excusable(check, one) or one.passed
            for one in (self.run_check(check, name, seen, trial)
                        for trial in range(check.trials)))
        if not excused and seen.charges(check, result) and explained(result.mistakes):
            # A charge may be refunded later (a dearer check takes it): only if every trial
            # of this one, run alone, shows no other failure than charged mistakes.
            seen.trials[check.name] = [self.run_check(check, name, seen, trial)
                                       for trial in range(check.trials)]
        return seen.charge_once(check, result, excused)

    def run_check(self, check: CheckSpec, name: str, seen: _Charged | None = None,
                  only_trial: int | None = None) -> CheckResult:
        if check.visibility not in self.grader.visibilities:
            return _failed(check, "not run", Cause.SKIPPED)
        if self.run.session.out_of_time():
            return _failed(check, f"not run: the submission's total time budget of "
                           f"{self.run.session.budget:g} s is used up", Cause.BUDGET)
        self.run.ensure_worker()
        if self.run.load_failure:
            return _failed(check, self.run.load_failure, Cause.LOAD)
        seed = self.grader.seed if self.grader.seed is not None else self.run.assignment.seed
        ctx = Context(self.run.session, check, name, seed, self.run.assignment.tolerance,
                      self.run.assignment.solution, self.run.assignment.reference_code,
                      forward_passed=seen.forward_passed if seen else None,
                      input_grad_known=seen.input_grad_known if seen else None,
                      only_trial=only_trial)
        timeout = float(self.grader.check_timeout or check.params.timeout
                        or self.run.assignment.check_timeout)
        self.run.session.deadline = time.monotonic() + timeout
        try:
            run_kind(ctx)
        except CheckFailed as exc:
            return dataclasses.replace(_failed(check, exc.message, exc.cause),
                                       mistakes=exc.mistakes)
        except HungMethod as exc:
            return _failed(check, exc.message, Cause.TIMEOUT)
        except StudentError as exc:
            undefined = re.search(r"name '(\w+)' is not defined", exc.short())
            why = self.run.why_undefined(undefined.group(1)) if undefined else ""
            return _failed(check, ctx.raised(exc) + (f" ({why})" if why else ""),
                           Cause.EXCEPTION)
        except WorkerTimeout as exc:
            if isinstance(exc, BudgetExhausted) or self.run.session.out_of_time():
                return _failed(check, f"stopped: the submission's total time budget of "
                               f"{self.run.session.budget:g} s is used up", Cause.BUDGET)
            return _failed(check, f"timed out after {timeout:g} s (an infinite loop, or far "
                           "too slow: vectorise over the batch)", Cause.TIMEOUT)
        except WorkerDied as exc:
            tail = self.run.session.worker.output_tail(300).strip()
            return _failed(check, f"{exc} while running this check"
                           + (f"; last output: {tail[-200:]}" if tail else ""), Cause.CRASH)
        except Exception as exc:  # noqa: BLE001 - a grader bug must not sink the whole grade
            return _failed(check, f"internal grader error ({type(exc).__name__}: {exc}); "
                           "please report it", Cause.GRADER_ERROR)
        finally:
            self.run.session.deadline = None
        return CheckResult(check.name, True, check.points, check.points, "", check.visibility)


# The kinds whose failures charge a mistake and can be excused for one: those that compare
# every result of a trial even after a wrong one (``Failures``), so that a failure's known
# mistakes are all it got wrong. Sequential's backward names a mistake only once every
# child's gradInput and gradOutput were right (it stops at any other failure), and not a
# property (inputs kept, repeated calls, gradients reset), which counts only with a right
# result.
EXCUSABLE_KINDS = frozenset({"forward", "input_grad", "param_grad", "pass", "finite_diff",
                             "stateful", "forward_labels", "input_grad_labels",
                             "finite_diff_labels", "sequential_backward", "dropout_backward"})
FINITE_DIFFERENCES = frozenset({"finite_diff", "finite_diff_labels"})


@dataclass
class _Charged:
    """What a component's checks so far tell the next ones: the known mistakes its ordinary
    checks lost points for, whether its ordinary forward checks passed, and whether its
    ordinary gradInput checks passed or failed only with known mistakes."""

    mistakes: dict[str, str] = dataclasses.field(default_factory=dict)  # mistake -> check
    forward_passed: bool | None = None
    input_grad_known: bool | None = None
    # The failures that charged a mistake, by check name; and the earlier results a dearer
    # check took the charge from, which the component's results show instead.
    charging: dict[str, tuple[CheckSpec, CheckResult]] = dataclasses.field(default_factory=dict)
    refunded: dict[str, CheckResult] = dataclasses.field(default_factory=dict)
    trials: dict[str, list[CheckResult]] = dataclasses.field(default_factory=dict)  # run alone

    @staticmethod
    def charges(check: CheckSpec, result: CheckResult) -> bool:
        """Whether ``result``, not excused, charges its mistakes (an ordinary check's)."""
        return (not result.passed and bool(result.mistakes) and check.kind in EXCUSABLE_KINDS
                and check.ordinary)

    def excusable(self, check: CheckSpec, result: CheckResult) -> bool:
        """A failure whose every wrong result is exactly a known mistake already charged, or,
        in the finite differences only, a result already charged as wrong for no known
        reason (``UNEXPLAINED``: the kind names it only where the forward is right, so that
        the finite differences are PyTorch's gradient)."""
        usable = {k for k in self.mistakes if check.kind in FINITE_DIFFERENCES
                  or not k.startswith(UNEXPLAINED)}
        return (not result.passed and bool(result.mistakes)
                and check.kind in EXCUSABLE_KINDS
                and all(names & usable for names in result.mistakes))

    def charge_once(self, check: CheckSpec, result: CheckResult, excused: bool) -> CheckResult:
        """One mistake costs one check: an ``excused`` failure (every trial ``excusable``) is
        not charged again: the same wrong formula at an edge case, a hidden size, in the
        finite differences. Only ``EXCUSABLE_KINDS`` charge and are excused, and only a mistake
        made at ordinary shapes (a public check, not an edge case) excuses others: an edge
        case or a hidden check that finds one first is charged for it and excuses nothing."""
        if check.ordinary and check.kind == "forward":
            self.forward_passed = self.forward_passed is not False and result.passed
        if check.ordinary and check.kind == "input_grad":  # passed, or wrong for named reasons
            known = result.passed or explained(result.mistakes)
            self.input_grad_known = self.input_grad_known is not False and known
        if result.passed or not result.mistakes:
            return result
        if check.kind not in EXCUSABLE_KINDS:
            return self._a_property_of(result)
        if excused and check.ordinary and explained(result.mistakes) \
                and check.points > self._charged_points(result):
            return self._take_the_charge(check, result)
        if not excused:
            if self.charges(check, result):
                for name in frozenset().union(*result.mistakes):
                    if check.kind == "forward" or not name.startswith(OVERFLOW):
                        self.mistakes.setdefault(name, check.name)
                self.charging[check.name] = (check, result)
            return result
        key = min(result.mistakes[0] & self.mistakes.keys(), key=_known_first)
        return _not_again(check, result, self.mistakes[key], key=key)

    def _charged_points(self, result: CheckResult) -> float:
        chargers = {self.mistakes[k] for names in result.mistakes
                    for k in names & self.mistakes.keys()}
        return max(self.charging[name][0].points for name in chargers)

    def _take_the_charge(self, check: CheckSpec, result: CheckResult) -> CheckResult:
        """A mistake costs the dearest ordinary check it fails: this one, dearer than the
        check that charged it first, is charged, and that one no longer is (else adding the
        mistake to a cheaper result, a forward say, would buy off a dearer one)."""
        for names in result.mistakes:
            for key in names & self.mistakes.keys():
                self.mistakes[key] = check.name
        self.charging[check.name] = (check, result)
        def now_its(mistakes: tuple[frozenset[str], ...]) -> bool:
            """Every wrong result is a known mistake this check now holds (an unexplained one
            is only named, and may hide another mistake: a red-team round had a check
            refunded whose other trials were wrong for another reason)."""
            return bool(mistakes) and all(any(self.mistakes.get(k) == check.name
                                              and not k.startswith(UNEXPLAINED) for k in names)
                                          for names in mistakes)

        moved = []
        for name, (spec, earlier) in list(self.charging.items()):
            # Every trial of the earlier check: a check stops at its first failing trial, so
            # its result alone could hide a later trial wrong for another reason.
            alone = self.trials.get(name)
            if name != check.name and alone is not None and now_its(earlier.mistakes) \
                    and all(one.passed or now_its(one.mistakes) for one in alone):
                del self.charging[name]
                self.refunded[name] = _not_again(spec, earlier, check.name, dearer=True)
                moved.append(name)
                for key, charger in self.mistakes.items():  # its other names of the mistake
                    if charger == name:
                        self.mistakes[key] = check.name
        if not moved:
            return result
        # The student reads this check's failure first: it must say where else the mistake
        # shows, which may be where it is made (a forward's statistics, say).
        return dataclasses.replace(result, message=result.message + "\n  the same mistake "
                                   f"also fails {', '.join(repr(n) for n in moved)}, not "
                                   "charged there: a mistake costs the dearest check it fails")


    def _a_property_of(self, result: CheckResult) -> CheckResult:
        """A property (inputs kept, repeated calls, gradients reset) counts only with a right
        result, so a mistake already charged fails it again; its message says so, so that the
        check's name does not send the student looking for a second mistake."""
        if not all(names & self.mistakes.keys() for names in result.mistakes):
            return result
        first = self.mistakes[min(result.mistakes[0] & self.mistakes.keys())]
        return dataclasses.replace(result, message=(
            f"this check counts only with right results, and its wrong result is the mistake "
            f"charged in '{first}':\n{result.message}"))


def _known_first(key: str) -> tuple[bool, str]:
    """Sorts a known mistake's name before an unexplained result's."""
    return key.startswith(UNEXPLAINED), key


def _not_again(check: CheckSpec, result: CheckResult, first: str,
               dearer: bool = False, key: str | None = None) -> CheckResult:
    """``result`` passed, as the same mistake as the one charged in ``first`` (``dearer``: a
    dearer check that took the charge from this one), named by the charged spec mistake
    ``key`` when there is one (at some sizes two mistakes give one result, and the likely
    cause shown first may be the other)."""
    named = key.removeprefix("mistake: ") if key and key.startswith("mistake: ") else None
    cause = named or next((line.split("likely cause: ", 1)[1]
                           for line in result.message.splitlines() if "likely cause: " in line),
                          min(result.mistakes[0], key=_known_first))
    cause = cause.removeprefix("mistake: ")
    if cause.startswith(UNEXPLAINED):
        cause = (f"the same wrong {cause.removeprefix(UNEXPLAINED)}: your forward is right "
                 "here, so its finite differences are PyTorch's gradient")
    said = (f"not charged here: fails with the mistake charged in '{first}' (a mistake costs "
            f"the dearest check it fails)" if dearer else
            f"not charged again: the same mistake as in '{first}'")
    return CheckResult(check.name, True, check.points, check.points, f"{said} ({cause})",
                       check.visibility)


@dataclass
class _Checked:
    """What one worker's share of a submission's grading gave."""

    components: list[ComponentResult]
    notes: list[str]
    outcome: mnist_check.Outcome | None = None


class _Phases:
    """Keeps the workers of one submission in step: no worker starts its hidden checks
    before every worker has finished its public ones, nor before the MNIST training
    (``after``) has ended (a hidden input seen in one worker could otherwise reach a
    visible message of another through student code)."""

    def __init__(self, parties: int, after: Future | None = None):
        self._barrier = threading.Barrier(parties) if parties > 1 else None
        self._after = after

    def wait(self) -> None:
        if self._barrier is not None:
            self._barrier.wait()
        if self._after is not None:
            futures.wait([self._after])  # its worker is gone once it is done

    @contextlib.contextmanager
    def guard(self) -> Iterator[None]:
        """A worker that fails releases the others instead of leaving them waiting."""
        try:
            yield
        except BaseException:
            if self._barrier is not None:
                self._barrier.abort()
            raise


def _halves(components: list[Component]) -> list[list[Component]]:
    """Two groups of about equal work (by number of check trials), each in spec order."""
    groups: list[list[Component]] = [[], []]
    loads = [0, 0]
    for comp in sorted(components, key=_work, reverse=True):
        i = loads.index(min(loads))
        groups[i].append(comp)
        loads[i] += _work(comp)
    order = {c.name: i for i, c in enumerate(components)}
    return [sorted(g, key=lambda c: order[c.name]) for g in groups if g]


def _work(component: Component) -> int:
    return sum(max(1, check.trials) for check in component.checks)


def grader_failure(assignment: Assignment, submission: str, error: str,
                   mnist: bool = True) -> GradeResult:
    """A result for a submission the grader itself failed on: every check at 0 points with
    the reason, so that a result is written whatever happened."""
    message = f"not graded: internal grader error ({error}); please report it"
    components = [ComponentResult(c.name, c.points, [_failed(k, message, Cause.GRADER_ERROR)
                                                     for k in c.checks])
                  for c in assignment.components]
    if mnist and assignment.mnist:
        points = float(assignment.mnist.get("points", 0))
        components.append(ComponentResult("MNIST", points, [failed(
            "test accuracy of your network", points, "public", message, Cause.GRADER_ERROR)]))
    return GradeResult(submission, assignment.name, components, [message])


def _failed(check: CheckSpec, message: str, cause: Cause | None) -> CheckResult:
    return failed(check.name, check.points, check.visibility, message, cause)
