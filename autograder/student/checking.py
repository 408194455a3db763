"""Students' local checks: the public checks of some components, and the report they print.

Only public checks run (``Grader(visibilities=("public",))``), and hidden checks are dropped
from the results before anything is printed: their names never reach the student.
"""

from __future__ import annotations

import hashlib
import inspect
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autograder.grade import Grader
from autograder.kinds import USES
from autograder.results import Cause, CheckResult, ComponentResult
from autograder.spec import Assignment, SpecError, load_assignment
from autograder.student.namespace import submission_from_namespace
from autograder.submission import Submission

PUBLIC = ("public",)
NOT_IMPLEMENTED = "your code raised NotImplementedError"


# --- results ---------------------------------------------------------------------------


@dataclass
class CheckReport:
    """Public results of some components; ``str()`` is what ``nngrade check`` prints."""

    source: str  # file name, or "notebook"
    components: list[ComponentResult]  # public checks only
    notes: list[str] = field(default_factory=list)
    hidden_exist: bool = True

    @property
    def checks(self) -> list[CheckResult]:
        return [c for comp in self.components for c in comp.checks]

    @property
    def passed(self) -> int:
        return sum(c.passed for c in self.checks)

    @property
    def total(self) -> int:
        return len(self.checks)

    def status(self, name: str) -> str:
        """"passed", "not implemented", "missing" or "failed" for one component."""
        return component_status(next(c for c in self.components if c.name == name))

    def lines(self) -> list[str]:
        out = [f"note: {note}" for note in self.notes]
        width = max([len(_label(c)) for c in self.components] + [12])
        for comp in self.components:
            out.extend(_component_lines(comp, width))
        tail = f"public checks: {self.passed}/{self.total} passed"
        return out + [tail + ("; hidden checks run when you submit" if self.hidden_exist else "")]

    def __str__(self) -> str:
        return "\n".join(self.lines())

    __repr__ = __str__  # what a notebook cell shows


def component_status(comp: ComponentResult) -> str:
    failed = [c for c in comp.checks if not c.passed]
    if not failed:
        return "passed"
    if all(c.cause == Cause.MISSING for c in comp.checks):
        return "missing"
    if all(_not_implemented(c) for c in failed):
        return "not implemented"
    return "failed"


def _not_implemented(check: CheckResult) -> bool:
    return check.cause == Cause.EXCEPTION and check.message.startswith(NOT_IMPLEMENTED)


def status_text(comp: ComponentResult) -> str:
    """One line for a component that is missing or still a stub."""
    failed = next(c for c in comp.checks if not c.passed)
    if component_status(comp) == "missing":
        return f"missing: {failed.message}"
    # The stub's own message says which method to write.
    what = failed.message[len(NOT_IMPLEMENTED):].split(" (File ")[0].lstrip(": ")
    return f"not implemented: {what or 'a method raises NotImplementedError'}"


def _label(comp: ComponentResult) -> str:
    return comp.name + (f" (as {comp.found_as})" if comp.found_as else "")


def _component_lines(comp: ComponentResult, width: int) -> list[str]:
    label = f"{_label(comp):<{width}}"
    if not comp.checks:
        return [f"{label}  no public checks"]
    if component_status(comp) in ("missing", "not implemented"):
        return [f"{label}  {status_text(comp)}"]
    ok = sum(c.passed for c in comp.checks)
    lines = [f"{label}  {ok}/{len(comp.checks)} public checks passed"]
    for check in comp.checks:
        lines.append(f"    {'pass' if check.passed else 'FAIL'} {check.name}")
        if not check.passed or check.message:  # a pass says why: "not charged again: ..."
            lines.extend(f"         {line}" for line in check.message.splitlines())
    return lines


# --- running the public checks ---------------------------------------------------------


def resolve_components(assignment: Assignment, names: list[str] | None) -> list[str] | None:
    """Canonical component names for names or aliases (any case); None means all."""
    if not names:
        return None
    by_name = {n.lower(): c.name for c in assignment.components for n in c.names}
    unknown = [n for n in names if n.lower() not in by_name]
    if unknown:
        known = ", ".join(c.name for c in assignment.components)
        raise SpecError(f"unknown component {', '.join(map(repr, unknown))} (known: {known})")
    return list(dict.fromkeys(by_name[n.lower()] for n in names))


def check_submission(submission: Submission, assignment: Assignment,
                     components: list[str] | None = None,
                     progress: Callable[[str], None] | None = None) -> CheckReport:
    """Run the public checks of ``components`` (default all) on a loaded submission."""
    grader = Grader(assignment, mnist=False, visibilities=PUBLIC, progress=progress)
    result = grader.grade(submission, only=components)
    public = []
    for comp in result.components:
        checks = [c for c in comp.checks if c.visibility in PUBLIC]  # hidden: not even named
        public.append(ComponentResult(comp.name, sum(c.max_score for c in checks), checks,
                                      comp.found_as))
    hidden = any(k.hidden for c in assignment.components for k in c.checks)
    return CheckReport(submission.filename, public, list(result.notes), hidden)


# --- notebooks: check cells ------------------------------------------------------------

class ReportCache:
    """The last reports by (assignment, component, code): otter's test cases of one component
    and ``check_all`` after the individual checks do not run the checks again."""

    def __init__(self, size: int = 64):
        self.size = size
        self._reports: OrderedDict[tuple[str, str, str], CheckReport] = OrderedDict()

    def get(self, key: tuple[str, str, str], compute: Callable[[], CheckReport]) -> CheckReport:
        if key not in self._reports:
            self._reports[key] = compute()
            while len(self._reports) > self.size:
                self._reports.popitem(last=False)
        self._reports.move_to_end(key)
        return self._reports[key]

    def clear(self) -> None:
        self._reports.clear()


# One per kernel: a notebook's check cells and otter's test cases share it.
REPORTS = ReportCache()


def check_notebook_component(name: str, namespace_or_source: Mapping[str, Any] | str,
                             assignment: str | Assignment = "modules") -> CheckReport:
    """Public checks of one component against a notebook namespace (or Python source).

    Results are cached per (component, code): otter's test cases of one component and
    ``check_all`` after the individual checks do not run the checks again.
    """
    spec = assignment if isinstance(assignment, Assignment) else load_assignment(assignment)
    component = resolve_components(spec, [name])[0]
    if isinstance(namespace_or_source, str):
        digest = hashlib.sha256(namespace_or_source.encode()).hexdigest()
        submission = Submission(Path("notebook.py"), "py", [namespace_or_source],
                                "notebook.py", [], [1], digest)
    else:
        comp = spec.component(component)
        used = [name for check in comp.checks for name in USES.get(check.kind, ())]
        submission = submission_from_namespace(namespace_or_source, [*comp.names, *used])
    key = (str(spec.path), component, submission.sha256())
    return REPORTS.get(key, lambda: check_submission(submission, spec, [component]))


class NotebookChecker:
    """The built-in ``grader``: ``check(name)`` and ``check_all()``, like ``otter.Notebook``."""

    def __init__(self, assignment: str = "modules"):
        self.assignment = load_assignment(assignment)

    def check(self, name: str, global_env: Mapping[str, Any] | None = None) -> CheckReport:
        env = global_env if global_env is not None else inspect.currentframe().f_back.f_globals
        return check_notebook_component(name, env, self.assignment)

    def check_all(self, global_env: Mapping[str, Any] | None = None) -> CheckReport:
        env = global_env if global_env is not None else inspect.currentframe().f_back.f_globals
        reports = [check_notebook_component(c.name, env, self.assignment)
                   for c in self.assignment.components]
        notes = list(dict.fromkeys(n for r in reports for n in r.notes))
        return CheckReport("notebook", [c for r in reports for c in r.components], notes,
                           any(r.hidden_exist for r in reports))
