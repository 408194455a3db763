"""Definitions copied verbatim from nngrade's own modules into generated code: read from the
file, not imported, so releasing a notebook imports neither torch nor the worker."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1]  # the autograder package


def definitions(relative: str, names: list[str]) -> str:
    """The source of the top-level functions, classes and assignments ``names`` of the file
    ``relative`` (to the package), decorators and comments included, in ``names``' order."""
    text = (PACKAGE / relative).read_text()
    lines = text.splitlines()
    found: dict[str, tuple[bool, str]] = {}  # name -> (a def or class?, its source)
    for node in ast.parse(text).body:
        for name in _names(node):
            first = min([d.lineno for d in getattr(node, "decorator_list", [])] + [node.lineno])
            found[name] = (hasattr(node, "body"), "\n".join(lines[first - 1:node.end_lineno]))
    missing = [name for name in names if name not in found]
    if missing:
        raise KeyError(f"{relative} defines no {', '.join(missing)}")
    out = found[names[0]][1]
    for before, name in zip(names, names[1:], strict=False):  # constants one per line
        out += "\n\n\n" if found[before][0] or found[name][0] else "\n"
        out += found[name][1]
    return out


def _names(node: ast.stmt) -> list[str]:
    if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
        return [node.name]
    if isinstance(node, (ast.Assign, ast.AnnAssign)):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        return [t.id for t in targets if isinstance(t, ast.Name)]
    return []


def indent(code: str, prefix: str = "    ") -> str:
    """``code`` indented by ``prefix`` (blank lines stay empty)."""
    return "\n".join(prefix + line if line.strip() else "" for line in code.split("\n"))
