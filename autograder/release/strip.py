"""Turn a reference file into a student stub: every solution region becomes a ``raise``.

A region is the lines between a ``# BEGIN SOLUTION`` marker line and the next
``# END SOLUTION`` marker line. It is replaced by one
``raise NotImplementedError("<where>: ...")`` line at the BEGIN marker's indentation, so the
code after the region (often ``return self.output``) stays syntactically valid and unreached.
Works on any Python file that uses the markers; it reads lines only and never imports.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

BEGIN = re.compile(r"^(?P<indent>[ \t]*)#\s*BEGIN SOLUTION\b")
END = re.compile(r"^[ \t]*#\s*END SOLUTION\b")
_DEF = re.compile(r"^(?P<indent>[ \t]*)(?:async\s+)?(?P<kind>def|class)\s+(?P<name>\w+)")


class MarkerError(ValueError):
    """Unbalanced or nested solution markers; the message names the file and line numbers."""


@dataclass(frozen=True)
class Region:
    begin: int  # 1-based line number of the BEGIN marker
    end: int  # 1-based line number of the END marker
    indent: str
    owner: str  # dotted name of the enclosing class/def, "" at module level
    lines: tuple[str, ...]  # the solution lines between the markers


def find_regions(text: str, filename: str = "<text>") -> list[Region]:
    """Every solution region, in order; raises MarkerError on unbalanced or nested markers."""
    lines = text.split("\n")
    regions: list[Region] = []
    open_at: int | None = None
    for number, line in enumerate(lines, start=1):
        if BEGIN.match(line):
            if open_at is not None:
                raise MarkerError(f"{filename}:{number}: BEGIN SOLUTION inside the region "
                                  f"opened at line {open_at} (regions cannot nest)")
            open_at = number
        elif END.match(line):
            if open_at is None:
                raise MarkerError(f"{filename}:{number}: END SOLUTION without a BEGIN SOLUTION")
            indent = BEGIN.match(lines[open_at - 1]).group("indent")
            regions.append(Region(open_at, number, indent, _owner(lines, open_at - 1),
                                  tuple(lines[open_at:number - 1])))
            open_at = None
    if open_at is not None:
        raise MarkerError(f"{filename}:{open_at}: BEGIN SOLUTION is never closed "
                          "by an END SOLUTION")
    return regions


def strip_solutions(text: str, filename: str = "<text>", line_length: int = 100) -> str:
    """``text`` with each region (markers included) replaced by a NotImplementedError line.

    The raise is split over two lines when one would be longer than ``line_length``.
    """
    lines = text.split("\n")
    out: list[str] = []
    last = 0
    for region in find_regions(text, filename):
        out.extend(lines[last:region.begin - 1])
        message = json.dumps(stub_message(region))  # a valid Python string, double quotes
        line = f"{region.indent}raise NotImplementedError({message})"
        if len(line) > line_length:
            line = f"{region.indent}raise NotImplementedError(\n{region.indent}    {message})"
        out.append(line)
        last = region.end
    out.extend(lines[last:])
    return "\n".join(out)


def stub_message(region: Region) -> str:
    """The pointer a student sees when running the stub: what to write, where to read up."""
    return f"write {region.owner} (see its docstring)" if region.owner else "write this part"


def _owner(lines: list[str], index: int) -> str:
    """Dotted name of the defs/classes enclosing line ``index``, found by indentation."""
    names: list[str] = []
    width = len(BEGIN.match(lines[index]).group("indent").expandtabs())
    for line in reversed(lines[:index]):
        match = _DEF.match(line)
        if match and len(match.group("indent").expandtabs()) < width:
            names.append(match.group("name"))
            width = len(match.group("indent").expandtabs())
            if width == 0:
                break
    return ".".join(reversed(names))
