"""A reference solution assembled from parts: given code is written once, in one file.

An assignment's solution file may take top-level definitions from another solution file
instead of repeating them. A directive comment at top level names the source file (relative
to the including file) and the definitions; the definitions are copied in its place, in the
order named::

    # nngrade: give modules.py Module Sequential Linear
    # nngrade: include modules.py SoftMax

``give`` copies the solved code without its ``# BEGIN SOLUTION`` / ``# END SOLUTION``
markers: the definition is given to students. ``include`` keeps the markers: students write
it, as in the source's assignment. Consecutive directive lines form one block, with
definitions two blank lines apart. The including file supplies its own imports.

Everything that reads a reference solution (release, batch similarity, compare, the tests)
goes through :func:`assemble`; the trusted side only: student code is never assembled.

    python -m autograder.solution_source solutions/extended.py > /tmp/extended_full.py
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

from autograder.definitions import parse

DIRECTIVE = re.compile(r"^# nngrade:\s*(?P<verb>\w+)\s+(?P<source>\S+)\s*(?P<names>.*)$")
VERBS = ("give", "include")
_MARKER = re.compile(r"^[ \t]*#\s*(BEGIN|END) SOLUTION\b")


class SolutionSourceError(ValueError):
    """A directive is malformed, or names a file or definition that does not exist."""


def assemble(path: Path) -> str:
    """The full text of the solution at ``path``, every directive replaced by its code."""
    return _assemble(Path(path).resolve(), ())


def sources(path: Path) -> list[Path]:
    """``path`` and every solution file it draws from, directly or not (no duplicates)."""
    found: list[Path] = []
    pending = [Path(path).resolve()]
    while pending:
        current = pending.pop()
        if current in found:
            continue
        found.append(current)
        for _verb, source, _names, _line in directives(current.read_text(encoding="utf-8")):
            pending.append((current.parent / source).resolve())
    return found


def directives(text: str) -> list[tuple[str, str, list[str], int]]:
    """Each directive of ``text``: (verb, source file, names, 0-based line index)."""
    found = []
    for index, line in enumerate(text.split("\n")):
        match = DIRECTIVE.match(line)
        if match:
            found.append((match["verb"], match["source"], match["names"].split(), index))
    return found


def _assemble(path: Path, stack: tuple[Path, ...]) -> str:
    if path in stack:
        chain = " -> ".join(p.name for p in (*stack, path))
        raise SolutionSourceError(f"circular solution includes: {chain}")
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SolutionSourceError(f"cannot read solution {path}: {exc.strerror}") from None
    lines = text.split("\n")
    found = directives(text)
    blocks: dict[int, list[str]] = {}  # first line of a block -> its definitions
    previous = -2
    for verb, source, names, index in found:
        if verb not in VERBS or not names:
            raise SolutionSourceError(f"{path.name}:{index + 1}: expected "
                                      f"'# nngrade: give|include FILE NAME...'")
        start = index if index != previous + 1 else max(k for k in blocks if k < index)
        source_text = _assemble((path.parent / source).resolve(), (*stack, path))
        parts = definitions(source_text, names, f"{path.name}:{index + 1}: {source}")
        blocks.setdefault(start, []).extend(
            _without_markers(p) if verb == "give" else p for p in parts)
        previous = index
    directive_lines = {index for *_, index in found}
    out = []
    for index, line in enumerate(lines):
        if index in blocks:
            out.append("\n\n\n".join(blocks[index]))
        elif index not in directive_lines:
            out.append(line)
    return "\n".join(out)


def definitions(text: str, names: list[str], where: str = "<source>") -> list[str]:
    """The source text of each named top-level class, function or assignment, in that order."""
    lines = text.split("\n")
    spans = {}
    for node in parse(text).body:
        for name in _defined_names(node):
            first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
            spans[name] = (first - 1, _end_with_comments(lines, node))
    missing = [n for n in names if n not in spans]
    if missing:
        raise SolutionSourceError(f"{where} defines no {', '.join(missing)} at top level")
    return ["\n".join(lines[slice(*spans[name])]) for name in names]


def _end_with_comments(lines: list[str], node: ast.stmt) -> int:
    """The end of ``node`` including the comments indented into its body after its last
    statement (a trailing ``# END SOLUTION``)."""
    end = node.end_lineno
    for index in range(node.end_lineno, len(lines)):
        stripped = lines[index].lstrip()
        if not stripped:
            continue
        if not stripped.startswith("#") or len(lines[index]) - len(stripped) <= node.col_offset:
            break
        end = index + 1
    return end


def _defined_names(node: ast.stmt) -> list[str]:
    if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
        return [node.name]
    if isinstance(node, ast.Assign | ast.AnnAssign):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        return [t.id for t in targets if isinstance(t, ast.Name)]
    return []


def _without_markers(code: str) -> str:
    return "\n".join(line for line in code.split("\n") if not _MARKER.match(line))


if __name__ == "__main__":
    sys.stdout.write(assemble(Path(sys.argv[1])))
