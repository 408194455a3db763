"""What a student bundle must never contain: solution code and hidden-check parameters.

``find_leaks`` runs before ``nngrade release`` writes anything, and in the test suite.
"""

from __future__ import annotations

import json
import re
from typing import Any

from autograder.release.strip import find_regions
from autograder.spec import Assignment

MIN_LENGTH = 16  # shorter solution lines ("p = self.output") say nothing
TRIVIAL = frozenset({"return self.output", "return self.gradInput", "else:", "pass"})
CHECK_KEYS = {"kind", "name", "points", "visibility", "trials"}


def normalise(line: str) -> str:
    return " ".join(line.split())


def solution_lines(reference: str) -> set[str]:
    """Normalised lines of the solution regions that are not also given outside them."""
    regions = find_regions(reference)
    inside = {normalise(line) for r in regions for line in r.lines}
    region_numbers = {n for r in regions for n in range(r.begin, r.end + 1)}
    outside = {normalise(line) for n, line in enumerate(reference.split("\n"), start=1)
               if n not in region_numbers}
    return {line for line in inside - outside if _telling(line)}


def _telling(line: str) -> bool:
    """A normalised line long and specific enough to give a solution away."""
    return len(line) >= MIN_LENGTH and line not in TRIVIAL and not line.startswith("#")


def hidden_markers(assignment: Assignment) -> set[str]:
    """Names of hidden checks and renderings of their own parameters; the assignment seed."""
    markers = {str(assignment.seed)}
    public_values: set[str] = set()
    hidden_values: set[str] = set()
    for component in assignment.raw.get("components", []):
        for check in component.get("checks", []):
            values = _renderings({k: v for k, v in check.items() if k not in CHECK_KEYS})
            if check.get("visibility") == "hidden":
                markers.add(check.get("name", check["kind"]))
                hidden_values |= values
            else:
                public_values |= values
    return markers | (hidden_values - public_values)


def _renderings(value: Any) -> set[str]:
    """How a parameter would look if written out: lists as [a, b] and (a, b), numbers, text."""
    if isinstance(value, dict):
        return set().union(*(_renderings(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        inner = ", ".join(map(str, value))
        nested = set().union(*(_renderings(v) for v in value if isinstance(v, (list, dict))))
        return {f"[{inner}]", f"({inner})"} | nested
    if isinstance(value, float):
        return {repr(value)}
    return set()  # ints, bools and strings alone are too common to mean anything


def given_away(module: str, other_reference: str) -> list[str]:
    """Components whose solution in ``other_reference`` (another assignment's reference)
    ``module`` hands out as given code: the classes and functions (``Linear``, not
    ``Linear.updateOutput``) of which at least half of the solution lines, and at least two,
    appear in it."""
    shown = {normalise(line) for line in module.split("\n")}
    lines_of: dict[str, set[str]] = {}
    for region in find_regions(other_reference):
        owner = region.owner.split(".")[0] or "module-level code"
        lines_of.setdefault(owner, set()).update(filter(_telling, map(normalise, region.lines)))
    return [owner for owner, lines in lines_of.items()
            if len(lines & shown) >= max(2, len(lines) / 2)]


def find_leaks(files: dict[str, str], reference: str, assignment: Assignment) -> list[str]:
    """One message per leak found in ``files`` (relative path -> text)."""
    solution = solution_lines(reference)
    markers = hidden_markers(assignment)
    leaks = []
    for path, text in sorted(files.items()):
        lines = _released_lines(path, text)
        for number, line in enumerate(lines, start=1):
            for sol in solution:
                if sol in line:
                    leaks.append(f"{path}:{number}: solution line {sol!r}")
        joined = "\n".join(lines)
        for marker in sorted(markers):
            if re.search(rf"(?<![\w.]){re.escape(marker)}(?![\w.])", joined):
                leaks.append(f"{path}: hidden check parameter {marker!r}")
    return leaks


def _released_lines(path: str, text: str) -> list[str]:
    if path.endswith(".ipynb"):  # cell sources, not JSON escapes
        cells = json.loads(text)["cells"]
        text = "\n".join("".join(c["source"]) if isinstance(c["source"], list) else c["source"]
                         for c in cells)
    return [normalise(line) for line in text.split("\n")]
