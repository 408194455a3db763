"""Per-student feedback in Markdown, fit to send back: scores, then what to fix.

Hidden checks are named but their messages are withheld: they would give the hidden test away.
"""

from __future__ import annotations

import html
import re
from typing import Any

from autograder.batch.records import Record
from autograder.spec import Assignment

ADVICE = {
    "unreadable": "The file could not be read as a Python module or a Jupyter notebook. "
                  "Save it as UTF-8 text (`.py`) or as a valid notebook (`.ipynb`) and resubmit.",
    "ambiguous": "Your submission holds several candidate files and the grader will not guess "
                 "which one you meant. Resubmit exactly one `.py` or `.ipynb` file.",
    "missing": "No `.py` or `.ipynb` file was found in your submission.",
    "error": "Your code could not be run, so no check could use it. Run it top to bottom in a "
             "fresh interpreter (or *Restart & Run All* in Jupyter) and fix the first error.",
    "timeout": "At least one check ran out of time: look for an infinite loop, or for a Python "
               "loop over the batch where a vectorised NumPy expression is expected.",
    "crash": "Your code made the grading process die (memory exhausted, or the process exited) "
             "during at least one check.",
    "grader_error": "The grader failed on its side; your submission will be graded again. "
                    "Nothing to do for you.",
}


def render(record: Record, assignment: Assignment, max_score: float) -> str:
    names = html.escape(", ".join(s.name or s.id for s in record.students))
    lines = [f"# {assignment.title}: feedback for {names}", ""]
    if not record.result:
        lines += [f"**Not graded** (status: {record.status}): {_code(record.message)}", ""]
        lines += [ADVICE.get(record.status, ""), ""]
        lines += [f"Score: 0 / {max_score:g}", ""]
        return "\n".join(lines)
    result = record.result
    lines += [f"**Score: {result['score']:g} / {result['max_score']:g}** — "
              f"{_code(record.message)}", ""]
    if record.status in ADVICE:
        lines += [ADVICE[record.status], ""]
    lines += _table(result["components"])
    lines += _fixes(result["components"])
    notes = result.get("notes") or []
    if notes:
        lines += ["## Notes", "", *[f"- {_code(n)}" for n in notes], ""]
    return "\n".join(lines)


def _table(components: list[dict[str, Any]]) -> list[str]:
    lines = ["| Component | Points | |", "| --- | ---: | --- |"]
    for comp in components:
        full = comp["score"] == comp["max_score"]
        extra = f" (accuracy {comp['accuracy']:.2%})" if "accuracy" in comp else ""
        lines.append(f"| {comp['name']} | {comp['score']:g} / {comp['max_score']:g} | "
                     f"{'done' if full else 'to fix'}{extra} |")
    return lines + [""]


def _fixes(components: list[dict[str, Any]]) -> list[str]:
    lines: list[str] = []
    for comp in components:
        failed = [c for c in comp["checks"] if not c["passed"]]
        if not failed:
            continue
        lines += [f"### {comp['name']} ({comp['score']:g} / {comp['max_score']:g})", ""]
        public = [c for c in failed if c.get("visibility") != "hidden"]
        messages = {c["message"] for c in public}
        if len(public) > 1 and len(messages) == 1:
            lines += [f"All {len(public)} failing checks say:", "", *_block(messages.pop())]
        else:
            for check in public:
                lines += [f"- **{check['name']}** ({check['score']:g} / {check['max_score']:g})",
                          "", *_block(check["message"], indent="  ")]
        hidden = len(failed) - len(public)
        if hidden:
            lines += [f"- {hidden} hidden check{'s' * (hidden > 1)} failed (details are not "
                      "shown for hidden checks).", ""]
    return (["## What to fix", "", *lines]) if lines else []


def _block(text: str, indent: str = "") -> list[str]:
    if not text.strip():
        return []
    fence = "`" * max(3, _longest_backtick_run(text) + 1)
    return [indent + fence, *(indent + line for line in text.splitlines()), indent + fence, ""]


def _longest_backtick_run(text: str) -> int:
    longest = run = 0
    for char in text:
        run = run + 1 if char == "`" else 0
        longest = max(longest, run)
    return longest


def _code(text: str) -> str:
    """One line of text that may hold the student's own (exception messages, file names) as
    an inline code span: Markdown and any HTML in it show as typed, never rendered."""
    text = text.replace("\n", " ")
    if not text:
        return ""
    fence = "`" * (max((len(run) for run in re.findall("`+", text)), default=0) + 1)
    return f"{fence} {text} {fence}"
