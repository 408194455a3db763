"""Grader-accuracy corpus of the extended track: patches of ``solutions/extended.py``.

Built like ``tests/corpus`` (which patches ``solutions/modules.py``): every entry is a list
of ``(old, new)`` text replacements, and every ``old`` must occur exactly once, so a change
to the solution breaks the corpus loudly instead of silently producing a correct "bug".
``bugs.py`` holds submissions with one mistake each, ``variants.py`` correct ones written
differently.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOLUTION = ROOT / "solutions" / "extended.py"
BEGIN, END = "# BEGIN SOLUTION", "# END SOLUTION"

Replacement = tuple[str, str]


@dataclass(frozen=True)
class Bug:
    id: str
    component: str  # the component that must lose points (and the only one)
    description: str
    replacements: list[Replacement]
    causes: set[str] | None = None  # diagnosis cause ids, one of which should be reported
    message: str | None = None  # or a substring a failing check's message should contain


@dataclass(frozen=True)
class Variant:
    """A correct submission written differently from the reference: full marks expected."""

    id: str
    description: str
    replacements: list[Replacement]


def solution_text() -> str:
    return SOLUTION.read_text()


def apply(text: str, replacements: list[Replacement], label: str = "") -> str:
    for old, new in replacements:
        count = text.count(old)
        assert count == 1, f"{label}: expected exactly one occurrence, found {count}:\n{old}"
        text = text.replace(old, new)
    return text


def build(entry: Bug | Variant) -> str:
    return apply(solution_text(), entry.replacements, entry.id)


def region(qualname: str) -> str:
    """The code between the solution markers of ``Class.method`` or ``function``."""
    lines = solution_text().splitlines(keepends=True)
    start = _definition_line(lines, qualname)
    begin = next(i for i in range(start, len(lines)) if lines[i].strip() == BEGIN)
    end = next(i for i in range(begin, len(lines)) if lines[i].strip() == END)
    return "".join(lines[begin + 1:end])


def rewrite(qualname: str, code: str) -> Replacement:
    """Replace a whole solution region by ``code`` (dedented, re-indented to fit)."""
    old = region(qualname)
    indent = re.match(r"\s*", old).group(0)
    return old, textwrap.indent(textwrap.dedent(code).strip("\n") + "\n", indent)


def within(qualname: str, old: str, new: str) -> Replacement:
    """Replace ``old`` (exactly once) inside one solution region only."""
    return edits(qualname, (old, new))


def edits(qualname: str, *pairs: Replacement) -> Replacement:
    """Several replacements inside one solution region, each ``old`` occurring once there."""
    text = region(qualname)
    return text, apply(text, list(pairs), qualname)


def _definition_line(lines: list[str], qualname: str) -> int:
    parts = qualname.split(".")
    if len(parts) == 1:
        pattern, start = rf"def {parts[0]}\(", 0
    else:
        start = next(i for i, ln in enumerate(lines) if re.match(rf"class {parts[0]}\b", ln))
        pattern = rf"    def {parts[1]}\("
    return next(i for i in range(start, len(lines)) if re.match(pattern, lines[i]))
