"""Grader-accuracy corpus: submissions built by patching the text of a reference solution.

One builder, and per assignment two data modules: ``<assignment>_bugs.py`` lists submissions
with exactly one realistic mistake, ``<assignment>_variants.py`` correct submissions written
differently (full marks expected). Each entry is a list of ``(old, new)`` text replacements
applied to the assignment's assembled reference (``Assignment.solution_text()``: for the
extended track, its own code plus what it takes from ``solutions/modules.py``); every ``old``
must occur exactly once, so a change to the solution breaks the corpus loudly instead of
silently producing a correct "bug".
"""

from __future__ import annotations

import functools
import re
import textwrap
from dataclasses import dataclass, field

from autograder.spec import load_assignment

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
    misleading: str | None = None  # a wrong diagnosis no failing check may give


@dataclass(frozen=True)
class Variant:
    """A correct submission written differently from the reference: full marks expected."""

    id: str
    description: str
    replacements: list[Replacement]
    found_as: dict[str, str] = field(default_factory=dict)  # component -> alias used


def apply(text: str, replacements: list[Replacement], label: str = "") -> str:
    for old, new in replacements:
        count = text.count(old)
        assert count == 1, f"{label}: expected exactly one occurrence, found {count}:\n{old}"
        text = text.replace(old, new)
    return text


@dataclass(frozen=True)
class Reference:
    """The reference solution of one assignment, and the patch builders over its text."""

    assignment: str

    def text(self) -> str:
        return _solution_text(self.assignment)

    def build(self, entry: Bug | Variant) -> str:
        return apply(self.text(), entry.replacements, entry.id)

    def region(self, qualname: str) -> str:
        """The code between the solution markers of ``Class.method`` or ``function``."""
        lines = self.text().splitlines(keepends=True)
        start = _definition_line(lines, qualname)
        begin = next(i for i in range(start, len(lines)) if lines[i].strip() == BEGIN)
        end = next(i for i in range(begin, len(lines)) if lines[i].strip() == END)
        return "".join(lines[begin + 1:end])

    def rewrite(self, qualname: str, code: str) -> Replacement:
        """Replace a whole solution region by ``code`` (dedented, re-indented to fit)."""
        old = self.region(qualname)
        indent = re.match(r"\s*", old).group(0)
        return old, textwrap.indent(textwrap.dedent(code).strip("\n") + "\n", indent)

    def within(self, qualname: str, old: str, new: str) -> Replacement:
        """Replace ``old`` (exactly once) inside one solution region only."""
        return self.edits(qualname, (old, new))

    def edits(self, qualname: str, *pairs: Replacement) -> Replacement:
        """Several replacements inside one solution region, each ``old`` occurring once there."""
        text = self.region(qualname)
        return text, apply(text, list(pairs), qualname)


MODULES = Reference("modules")
EXTENDED = Reference("extended")
EDITION = Reference("edition-2025")


@functools.cache
def _solution_text(assignment: str) -> str:
    return load_assignment(assignment).solution_text()


def _definition_line(lines: list[str], qualname: str) -> int:
    parts = qualname.split(".")
    if len(parts) == 1:
        pattern, start = rf"def {parts[0]}\(", 0
    else:
        start = next(i for i, ln in enumerate(lines) if re.match(rf"class {parts[0]}\b", ln))
        pattern = rf"    def {parts[1]}\("
    return next(i for i in range(start, len(lines)) if re.match(pattern, lines[i]))
