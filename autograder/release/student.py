"""The student module: the reference with its solutions stripped, and its parts for notebooks."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from autograder.release.strip import find_regions, strip_solutions

_BANNER = re.compile(r"^#\s*-{5,}\s*$")


@dataclass(frozen=True)
class Definition:
    """A top-level class or function of the module, with the lines above it that belong to it."""

    name: str
    source: str
    node: ast.ClassDef | ast.FunctionDef
    section: str  # title of the banner comment it sits under ("" before any banner)
    to_write: tuple[str, ...]  # methods (or the function itself) holding a solution region


@dataclass(frozen=True)
class ModuleParts:
    docstring: str
    setup: str  # the top-level statements before the first definition (imports)
    definitions: list[Definition]


def student_module(reference: str, title: str, filename: str = "<reference>",
                   grading: str = "") -> str:
    """The file students get: solutions stripped and the reference's module docstring reworded;
    ``grading``, a paragraph on how the whole file is graded, ends the docstring."""
    stub = strip_solutions(reference, filename)
    tree = ast.parse(stub)
    doc = ast.get_docstring(tree, clean=True)
    if doc is None or "\\" in doc or '"""' in doc:  # keep what we cannot safely rewrite
        return stub
    first = tree.body[0]
    lines = stub.split("\n")
    new_doc = f'"""{student_docstring(doc, title, grading)}\n"""'
    return "\n".join(lines[:first.lineno - 1] + [new_doc] + lines[first.end_lineno:])


def student_docstring(doc: str, title: str, grading: str = "") -> str:
    """Replace the first paragraph and drop the ones about the reference or its solutions;
    add ``grading`` at the end."""
    paragraphs = [p for p in doc.split("\n\n")[1:] if "solution" not in p.lower()]
    head = (f"{title}: your implementation.\n\n"
            "Replace every ``raise NotImplementedError(...)`` with your code, following the "
            "docstring\nabove it. Check your work with ``nngrade check <this file>``.")
    return "\n\n".join([head, *paragraphs, *([grading] if grading else [])])


def docstring_body(doc: str) -> list[str]:
    """The paragraphs of a module docstring after its title, minus instructor and stub notes."""
    return [p for p in doc.split("\n\n")[1:]
            if "solution" not in p.lower() and "NotImplementedError" not in p]


def split_module(text: str, regions: list[str] | None = None) -> ModuleParts:
    """Cut a module into its docstring, its setup statements and its top-level definitions.

    ``regions`` are the owners (``Linear.updateOutput``) of the solution regions; by default
    those of ``text`` itself (a stub has none left, so pass the reference's).
    """
    tree = ast.parse(text)
    lines = text.split("\n")
    body = list(tree.body)
    docstring = ""
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
            and isinstance(body[0].value.value, str):
        docstring = ast.get_docstring(tree, clean=True) or ""
        body = body[1:]
    first_def = next((i for i, n in enumerate(body) if _is_definition(n)), len(body))
    setup = "\n".join(_source(lines, n) for n in body[:first_def])
    methods = [r.owner for r in find_regions(text)] if regions is None else list(regions)
    owners = {m.split(".")[0] for m in methods}
    definitions: list[Definition] = []
    section = ""
    previous_end = body[first_def - 1].end_lineno if first_def else (
        tree.body[0].end_lineno if docstring else 0)
    for node in body[first_def:]:
        start = _start(node)
        gap = lines[previous_end:start - 1]
        section = _banner_title(gap) or section
        comments = _leading_comments(gap)
        source = "\n".join(comments + lines[start - 1:node.end_lineno])
        if not _is_definition(node):
            raise ValueError(f"line {node.lineno}: only classes and functions may follow the "
                             "first definition (a notebook cell per definition)")
        to_write = tuple(dict.fromkeys((m.split(".", 1)[1] if "." in m else m)
                                       for m in methods if m.split(".")[0] == node.name))
        definitions.append(Definition(node.name, source, node, section,
                                      to_write if node.name in owners else ()))
        previous_end = node.end_lineno
    return ModuleParts(docstring, setup, definitions)


def _is_definition(node: ast.stmt) -> bool:
    return isinstance(node, (ast.ClassDef, ast.FunctionDef))


def _start(node: ast.stmt) -> int:
    decorators = getattr(node, "decorator_list", [])
    return min([node.lineno] + [d.lineno for d in decorators])


def _source(lines: list[str], node: ast.stmt) -> str:
    return "\n".join(lines[_start(node) - 1:node.end_lineno])


def _banner_title(gap: list[str]) -> str:
    """The text of a ``# ----`` / ``# Title`` / ``# ----`` block, if the gap holds one."""
    if not any(_BANNER.match(line.strip()) for line in gap):
        return ""
    words = [line.strip().lstrip("#").strip() for line in gap
             if line.strip().startswith("#") and not _BANNER.match(line.strip())]
    return " ".join(w for w in words if w)


def _leading_comments(gap: list[str]) -> list[str]:
    """Comment lines directly above a definition (no blank line between) stay with it."""
    kept: list[str] = []
    for line in reversed(gap):
        if not line.strip().startswith("#") or _BANNER.match(line.strip()):
            break
        kept.insert(0, line)
    return kept
