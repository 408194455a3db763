"""``nngrade check``: the public checks, run locally, saying what is wrong and why.

Students run it on a module or a notebook (``nngrade check modules.py [COMPONENT ...]``) or
from the check cells of the released notebook. Only public checks run
(``Grader(visibilities=("public",))``), and hidden checks are dropped from the results before
anything is printed: their names never reach the student.

How a notebook check cell finds the code to check
-------------------------------------------------
The grader runs code in a sandboxed worker, so live objects cannot be handed over: it needs
source. A check cell passes its global namespace (``grader.check("Linear")`` takes it from
the calling frame, as otter does). From the namespace we take the component's class, find
the cell that defined it through the ``co_filename`` of its methods (IPython keeps every
executed cell in ``linecache`` under that name), and do the same for every global name that
cell uses (base classes, helpers), adding ``import`` lines for modules and literal constants.
So the check sees exactly the definitions the kernel holds now: it works headless under
nbclient, needs no saved notebook file, and cells run out of order, re-run, or training
loops elsewhere in the notebook do not matter. ``nngrade check modules.ipynb`` instead
checks the saved file, cell by cell, as the grader will.
"""

from __future__ import annotations

import argparse
import ast
import builtins
import hashlib
import inspect
import linecache
import symtable
import sys
import types
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autograder.grade import CheckResult, ComponentResult, Grader
from autograder.spec import Assignment, SpecError, load_assignment
from autograder.submission import Submission, load_submission

PUBLIC = ("public",)
NOT_IMPLEMENTED = "your code raised NotImplementedError"
# Names IPython (or the notebook's setup cell) puts in the namespace: never student code.
NOTEBOOK_NAMES = frozenset({"In", "Out", "get_ipython", "exit", "quit", "display", "grader"})
_CACHE_SIZE = 64


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
    if all(c.cause == "missing" for c in comp.checks):
        return "missing"
    if all(_not_implemented(c) for c in failed):
        return "not implemented"
    return "failed"


def _not_implemented(check: CheckResult) -> bool:
    return check.cause == "exception" and check.message.startswith(NOT_IMPLEMENTED)


def _status_text(comp: ComponentResult) -> str:
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
        return [f"{label}  {_status_text(comp)}"]
    ok = sum(c.passed for c in comp.checks)
    lines = [f"{label}  {ok}/{len(comp.checks)} public checks passed"]
    for check in comp.checks:
        lines.append(f"    {'pass' if check.passed else 'FAIL'} {check.name}")
        if not check.passed:
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


def cmd_check(args: argparse.Namespace) -> int:
    """``nngrade check FILE [COMPONENT ...]``: print the report; exit 0 whatever it says."""
    assignment = load_assignment(args.assignment)
    components = resolve_components(assignment, args.components)
    submission = load_submission(args.submission)
    progress = None
    if sys.stderr.isatty():
        def progress(name: str) -> None:
            print(f"\rchecking {name:<30}", end="", file=sys.stderr, flush=True)
    report = check_submission(submission, assignment, components, progress)
    if progress:
        print("\r" + " " * 40 + "\r", end="", file=sys.stderr)
    print(f"{submission.filename}: public checks of '{assignment.name}' (hidden checks and "
          "the MNIST training check run when you submit)")
    print(report)
    return 0


def register(sub: Any) -> None:
    """Add ``nngrade check`` to the CLI's subparsers."""
    check = sub.add_parser(
        "check", help="run the public checks on your work (.py or .ipynb)",
        description="Run the public checks locally: a pass/FAIL line per check, what is wrong "
                    "for each failure, and a one-line 'not implemented' for untouched "
                    "components. Hidden checks and the MNIST check run only when you "
                    "submit. Exit status 0 whatever the result.")
    check.add_argument("submission", help="your .py module or .ipynb notebook")
    check.add_argument("components", nargs="*", metavar="COMPONENT",
                       help="only these components (default: all), e.g. Linear SoftMax")
    check.add_argument("--assignment", default="modules",
                       help="assignment name or path to its assignment.toml (default: modules)")
    check.set_defaults(func=cmd_check)


# --- notebooks: source from the live namespace ------------------------------------------


def submission_from_namespace(env: Mapping[str, Any], roots: list[str],
                              filename: str = "notebook") -> Submission:
    """The cells that define ``roots`` and everything they use, as a Submission."""
    collector = _Collector(env)
    for name in roots:
        collector.visit(name)
    cells = ([("imports", "\n".join(collector.imports) + "\n")] if collector.imports else [])
    cells += collector.cells
    sources = [source for _, source in cells]
    digest = hashlib.sha256("\0".join(sources).encode()).hexdigest()
    return Submission(path=Path(filename), kind="ipynb", cells=sources, filename=filename,
                      dropped=collector.notes, cell_numbers=[label for label, _ in cells],
                      digest=digest)


class _Collector:
    """Depth first over global names: a cell is added after the cells it depends on."""

    def __init__(self, env: Mapping[str, Any]):
        self.env = env
        self.module = env.get("__name__", "__main__")
        self.history = list(env.get("In") or [])
        self.seen: set[str] = set()
        self.files: set[str] = set()
        self.imports: list[str] = []
        self.cells: list[tuple[str, str]] = []
        self.notes: list[str] = []

    def visit(self, name: str) -> None:
        if name in self.seen or name in NOTEBOOK_NAMES or name.startswith("__"):
            return
        self.seen.add(name)
        if name not in self.env:
            return  # a builtin, or not defined (the check says so)
        obj = self.env[name]
        if isinstance(obj, types.ModuleType):
            alias = "" if obj.__name__ == name else f" as {name}"
            self.imports.append(f"import {obj.__name__}{alias}")
        elif getattr(obj, "__module__", None) == self.module and (
                inspect.isclass(obj) or inspect.isfunction(obj)):
            self._add_cell(name, obj)
        elif _importable(obj):
            self.imports.append(f"from {obj.__module__} import {obj.__qualname__} as {name}")
        elif _literal(obj) and not hasattr(builtins, name):
            self.imports.append(f"{name} = {obj!r}")
        else:
            self.notes.append(f"could not include '{name}' ({type(obj).__name__}) in the "
                              "checked code; define it in a cell of its own")

    def _add_cell(self, name: str, obj: Any) -> None:
        key, source = self._source(name, obj)
        if key is None:
            self.notes.append(f"could not find the cell that defines '{name}'")
            return
        if key in self.files:
            return
        self.files.add(key)
        used, bound = _names(source)
        self.seen.update(bound)  # defined by this very cell
        for dep in sorted(used - bound):
            self.visit(dep)
        self.cells.append((self._cell_label(source), source))

    def _source(self, name: str, obj: Any) -> tuple[str | None, str]:
        for code in _code_objects(obj):
            lines = linecache.getlines(code.co_filename)
            if lines:
                return code.co_filename, "".join(lines)
        # A class without methods of its own: the last history cell that defines it.
        for index in range(len(self.history) - 1, 0, -1):
            if name in _names(self.history[index])[1]:
                return f"In[{index}]", self.history[index]
        return None, ""

    def _cell_label(self, source: str) -> str:
        """Jupyter's ``[n]`` for the cell, so tracebacks point at what the student sees."""
        text = source.strip()
        for index in range(len(self.history) - 1, 0, -1):
            if str(self.history[index]).strip() == text:
                return f"[{index}]"
        return f"[{len(self.cells) + 1}]" if self.history else str(len(self.cells) + 1)


def _code_objects(obj: Any) -> list[types.CodeType]:
    if inspect.isfunction(obj):
        return [obj.__code__]
    prefix = obj.__qualname__ + "."
    codes = []
    for value in vars(obj).values():
        value = getattr(value, "__func__", getattr(value, "fget", value))
        if inspect.isfunction(value) and value.__qualname__.startswith(prefix):
            codes.append(value.__code__)
    return codes


def _names(source: str) -> tuple[set[str], set[str]]:
    """(global names the code reads, names its top level binds); empty if it does not parse.

    Locals of functions do not count: a method's ``x`` is not the notebook's global ``x``.
    """
    try:
        table = symtable.symtable(source, "<cell>", "exec")
    except SyntaxError:
        return set(), set()
    bound = {s.get_name() for s in table.get_symbols()
             if s.is_assigned() or s.is_imported() or s.is_namespace()}
    used: set[str] = set()
    tables = [table]
    while tables:
        scope = tables.pop()
        top = scope is table
        used.update(s.get_name() for s in scope.get_symbols()
                    if s.is_referenced() and (top or s.is_global()))
        tables.extend(scope.get_children())
    return used, bound


def _importable(obj: Any) -> bool:
    module = sys.modules.get(getattr(obj, "__module__", None) or "")
    qualname = getattr(obj, "__qualname__", "")
    if module is None or not qualname or "<" in qualname or module.__name__ == "__main__":
        return False
    target: Any = module
    for part in qualname.split("."):
        target = getattr(target, part, None)
    return target is obj


def _literal(obj: Any) -> bool:
    try:
        return ast.literal_eval(repr(obj)) == obj
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return False


# --- notebooks: check cells and otter ---------------------------------------------------

_cache: OrderedDict[tuple[str, str, str], CheckReport] = OrderedDict()


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
        roots = list(spec.component(component).names)
        submission = submission_from_namespace(namespace_or_source, roots)
    key = (str(spec.path), component, submission.sha256())
    if key not in _cache:
        _cache[key] = check_submission(submission, spec, [component])
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    _cache.move_to_end(key)
    return _cache[key]


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


def notebook_grader(tests_dir: str = "tests", assignment: str = "modules") -> Any:
    """``otter.Notebook`` when otter is installed and the otter tests are present, else ours."""
    if Path(tests_dir).is_dir() and any(Path(tests_dir).glob("*.py")):
        try:
            import otter
        except ImportError:
            pass
        else:
            return otter.Notebook(tests_dir=tests_dir)
    return NotebookChecker(assignment)


def otter_case(env: Mapping[str, Any], component: str, check: str,
               assignment: str = "modules") -> None:
    """Body of one generated otter test case: raise AssertionError if ``check`` failed."""
    comp = check_notebook_component(component, env, assignment).components[0]
    result = next((c for c in comp.checks if c.name == check), None)
    if result is None:
        raise AssertionError(f"{component} has no public check named {check!r}; "
                             "re-download the tests folder")
    if result.passed:
        return
    if component_status(comp) in ("not implemented", "missing"):
        raise AssertionError(f"{component} is {_status_text(comp)}")
    raise AssertionError(result.message)
