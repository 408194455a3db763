"""A notebook's code as a Submission, rebuilt from the live namespace of its kernel.

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

import ast
import builtins
import hashlib
import inspect
import linecache
import symtable
import sys
import types
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from autograder.submission import BODY_CELL_MAGICS, Submission, clean_cell

# Names IPython (or the notebook's setup cell) puts in the namespace: never student code.
NOTEBOOK_NAMES = frozenset({"In", "Out", "get_ipython", "exit", "quit", "display", "grader"})


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
        elif _exporter(obj):  # a ufunc such as scipy.special.erf: no importable __qualname__
            self.imports.append(f"from {_exporter(obj)} import {obj.__name__} as {name}")
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
        source, _ = clean_cell(source, 0)  # IPython's own lines (!pip, obj?) as a notebook's
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
        # A class without methods of its own, or run by a cell magic (%%time: its code is
        # "<timed exec>", which linecache does not hold): the last history cell defining it.
        for index in range(len(self.history) - 1, 0, -1):
            cell = _magic_body(str(self.history[index]))
            if name in _names(cell)[1]:
                return f"In[{index}]", cell
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


def _exporter(obj: Any) -> str | None:
    """The shortest public module already imported that exports ``obj`` under its
    ``__name__`` (``scipy.special`` for its ``erf`` ufunc), or None."""
    name = getattr(obj, "__name__", None)
    if not isinstance(name, str) or not name.isidentifier():
        return None
    found = [module for module, value in list(sys.modules.items())
             if value is not None and not any(p.startswith("_") for p in module.split("."))
             and module != "__main__" and getattr(value, name, None) is obj]
    return min(found, key=lambda m: (m.count("."), len(m))) if found else None


def _magic_body(cell: str) -> str:
    """The body of a history cell that IPython turned into
    ``get_ipython().run_cell_magic('time', '', body)`` for a %%time / %%timeit / %%capture
    cell; any other cell as it is."""
    try:
        tree = ast.parse(cell)
    except SyntaxError:
        return cell
    if len(tree.body) == 1 and isinstance(tree.body[0], ast.Expr):
        call = tree.body[0].value
        if isinstance(call, ast.Call) and getattr(call.func, "attr", "") == "run_cell_magic" \
                and len(call.args) == 3 and all(isinstance(a, ast.Constant) for a in call.args) \
                and call.args[0].value in BODY_CELL_MAGICS:
            return str(call.args[2].value)
    return cell


def _literal(obj: Any) -> bool:
    try:
        return ast.literal_eval(repr(obj)) == obj
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return False
