"""Render a grade for people (terminal table) and for programs (JSON)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, TextIO

from autograder.results import ComponentResult, GradeResult


def _fmt(points: float) -> str:
    return f"{points:g}"


def _component_line(comp: ComponentResult, width: int) -> str:
    mark = "ok" if comp.score == comp.max_score else "FAIL"
    label = comp.name + (f" (as {comp.found_as})" if comp.found_as else "")
    line = f"{label:<{width}} {_fmt(comp.score):>5} / {_fmt(comp.max_score):<5} {mark}"
    if "accuracy" in comp.extra and not comp.trained:
        line += "   did not train to an accuracy (below)"  # a crash, a timeout, a missing layer
    elif "accuracy" in comp.extra:
        line += (f"   accuracy {comp.extra['accuracy']:.2%} (threshold "
                 f"{comp.extra['threshold']:.1%}), {comp.extra['seconds']:.1f} s")
        if "epochs_trained" in comp.extra:
            line += f", {comp.extra['epochs_trained']:g} of {comp.extra['epochs']} epochs"
    return line


def _render_checks(comp: ComponentResult, out: TextIO, show_passed: bool) -> None:
    failed = [c for c in comp.checks if not c.passed]
    if len(failed) > 1 and len({c.message for c in failed}) == 1 and not show_passed:
        # One root cause (not found, not implemented, crash on import): say it once.
        print(f"    FAIL all {len(failed)} failing checks: {failed[0].message}", file=out)
        return
    for check in comp.checks:
        if check.passed and not show_passed:
            continue
        tag = "pass" if check.passed else "FAIL"
        hidden = " [hidden]" if check.visibility == "hidden" else ""
        print(f"    {tag} {check.name}{hidden} ({_fmt(check.score)}/"
              f"{_fmt(check.max_score)})", file=out)
        for line in check.message.splitlines():
            print(f"         {line}", file=out)


def render_table(result: GradeResult, out: TextIO, show_passed: bool = False) -> None:
    width = max([len(c.name) + (len(c.found_as) + 6 if c.found_as else 0)
                 for c in result.components] + [10])
    print(f"{result.assignment}: {os.path.basename(result.submission)}", file=out)
    for note in result.notes:
        print(f"  note: {note}", file=out)
    print(f"{'component':<{width}} {'score':>13}", file=out)
    print("-" * (width + 20), file=out)
    for comp in result.components:
        print(_component_line(comp, width), file=out)
        _render_checks(comp, out, show_passed)
    print("-" * (width + 20), file=out)
    used = f", {result.budget_used:.0%} of the {result.budget:g} s budget" \
        if result.budget else ""
    print(f"{'total':<{width}} {_fmt(result.score):>5} / {_fmt(result.max_score)}"
          f"   ({result.seconds:.1f} s{used})", file=out)


def to_json(result: GradeResult) -> dict[str, Any]:
    return result.to_json()


def write_json(result: GradeResult, path: str | Path) -> None:
    """Write atomically, so that a reader never sees half a file."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(to_json(result), indent=2) + "\n")
    os.replace(tmp, path)
