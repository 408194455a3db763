"""A cell's definitions without its other top-level code, for cells too slow to run whole;
and which names a cell defines, for messages about a name that is missing.

Notebooks mix the homework's classes with experiments: a training loop after a class in the
same cell, twenty cells of plots. In Jupyter the class exists as soon as its statement ran;
a grader that only knows "this cell ran past its time limit" would lose the class with the
loop. So a cell that times out is run again as its definitions only: imports, ``def`` and
``class`` statements, and assignments that call nothing (constants, aliases such as
``Sequential = MySequential``). Everything else becomes blank lines, so that line numbers in
tracebacks still match the student's cell. Text in, text out: nothing is executed here.
"""

from __future__ import annotations

import ast
import re
import threading
from dataclasses import dataclass

_DEFINING = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_ASSIGNING = (ast.Assign, ast.AnnAssign, ast.AugAssign)
# CPython 3.11's parser is not safe to call from two threads at once ("AST constructor
# recursion depth mismatch"), and a grading checks in two threads.
_PARSING = threading.Lock()
_DEF_LINE = re.compile(r"^(?:class|def|async def)[ \t]+(\w+)", re.MULTILINE)


@dataclass(frozen=True)
class Definitions:
    code: str  # the cell with every other top-level statement blanked out
    names: tuple[str, ...]  # the functions and classes it defines, for the note


def parse(code: str) -> ast.Module:
    """``ast.parse``, one thread at a time."""
    with _PARSING:
        return ast.parse(code)


def definitions_only(code: str, keep_prefix: bool = False) -> Definitions:
    """The definitions of ``code``; empty if it does not parse or defines nothing.

    ``keep_prefix``: also every statement before the first loop, ``with`` block or bare call
    (``train(net)``), where the time most likely went; so ``f = partial(np.logaddexp, 0)``
    above the class that uses it stays. The caller falls back to the strict form when this
    one is too slow as well."""
    try:
        tree = parse(code)
    except (SyntaxError, ValueError, RecursionError):  # ValueError: a NUL byte
        return Definitions("", ())
    first_action = next((i for i, node in enumerate(tree.body) if _acts(node)),
                        len(tree.body)) if keep_prefix else 0
    kept = [node for i, node in enumerate(tree.body) if i < first_action or _defines(node)]
    if not kept:
        return Definitions("", ())
    lines = code.split("\n")
    keep: set[int] = set()
    for node in kept:
        first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
        keep.update(range(first - 1, node.end_lineno or node.lineno))
    text = "\n".join(line if i in keep else "" for i, line in enumerate(lines))
    names = tuple(node.name for node in kept if hasattr(node, "name"))
    return Definitions(text, names)


def _defines(node: ast.stmt) -> bool:
    if isinstance(node, _DEFINING):
        return True
    if isinstance(node, _ASSIGNING):
        return node.value is not None and not _calls(node.value)
    if isinstance(node, ast.Try):  # try: import x / except ImportError: x = None
        parts = node.body + node.orelse + node.finalbody + [
            stmt for handler in node.handlers for stmt in handler.body]
        return all(isinstance(s, ast.Pass) or _defines(s) for s in parts)
    return False


def _acts(node: ast.stmt) -> bool:
    """A statement that is likely to be where a slow cell spends its time."""
    return isinstance(node, (ast.For, ast.AsyncFor, ast.While, ast.With, ast.AsyncWith)) or (
        isinstance(node, ast.Expr) and _calls(node.value))


def _calls(node: ast.AST) -> bool:
    return any(isinstance(sub, (ast.Call, ast.Await, ast.Yield, ast.YieldFrom))
               for sub in ast.walk(node))


def defined_names(code: str) -> tuple[set[str], set[str]]:
    """(names the top level binds, names bound only under ``if __name__ == "__main__":``).
    Code that does not parse: the names its ``class`` and ``def`` lines would bind."""
    try:
        tree = parse(code)
    except (SyntaxError, ValueError, RecursionError):
        return set(_DEF_LINE.findall(code)), set()
    top: set[str] = set()
    guarded: set[str] = set()
    for node in tree.body:
        if _main_guard(node):
            guarded.update(_bound_in_block(node.body + node.orelse))
        else:
            top.update(_bound(node))
    return top, guarded - top


def _bound_in_block(body: list[ast.stmt]) -> set[str]:
    """Names a block binds at its own level, through if/for/while/with/try but not inside
    the functions and classes it defines."""
    names: set[str] = set()
    for node in body:
        names |= _bound(node)
        for field in ("body", "orelse", "finalbody"):
            inner = getattr(node, field, None)
            if isinstance(inner, list) and not isinstance(node, (
                    ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names |= _bound_in_block(inner)
        for handler in getattr(node, "handlers", []):
            names |= _bound_in_block(handler.body)
    return names


def _main_guard(node: ast.stmt) -> bool:
    return isinstance(node, ast.If) and "__main__" in ast.unparse(node.test) \
        and "__name__" in ast.unparse(node.test)


def _bound(node: ast.AST) -> set[str]:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {node.name}
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return {(a.asname or a.name).split(".")[0] for a in node.names}
    if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        return {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
    return set()
