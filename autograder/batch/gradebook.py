"""``grades.csv``: one row per student, ready for a spreadsheet or an LMS import."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from autograder.batch.records import Record, write_atomic
from autograder.spec import Assignment

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# A spreadsheet whose locale separates with ';' starts a cell after every ';' it meets outside
# quotes, and after a field's closing quote it reads on to the next ';' (so it can meet one
# inside a later quoted field): a formula character after a ';' (and blanks or quotes) is
# neutralised as well.
_FORMULA_AFTER_SEMICOLON = re.compile(r';(?=[\s"]*[=+\-@\t\r])')


def component_names(assignment: Assignment, mnist: bool) -> list[str]:
    names = [c.name for c in assignment.components]
    return names + (["MNIST"] if mnist and assignment.mnist else [])


def rows(records: list[Record], assignment: Assignment, mnist: bool) -> list[dict[str, str]]:
    names = component_names(assignment, mnist)
    out = []
    for record in records:
        scores = {c["name"]: c["score"] for c in (record.result or {}).get("components", [])}
        graded = record.result is not None
        for student in record.students:
            row = {"id": student.id, "name": student.name, "email": student.email,
                   "total": _num(record.score) if graded else "",
                   "max_score": _num(record.result["max_score"]) if graded else ""}
            row.update({n: _num(scores[n]) if n in scores else "" for n in names})
            row.update(status=record.status, message=record.message, submission=record.source,
                       seconds=_num(round(record.seconds, 1)) if graded else "",
                       budget_used=_budget_used(record) if graded else "")
            out.append(row)
    return sorted(out, key=lambda r: r["id"])


def write_csv(records: list[Record], path: Path, assignment: Assignment, mnist: bool) -> None:
    table = rows(records, assignment, mnist)
    fields = ["id", "name", "email", "total", "max_score", *component_names(assignment, mnist),
              "status", "message", "submission", "seconds", "budget_used"]
    buffer = io.StringIO()
    # Every field quoted: a spreadsheet that splits on ';' (its locale's separator) would
    # otherwise start a cell at "=cmd" inside an unquoted "x;=cmd|..." that students named.
    writer = csv.DictWriter(buffer, fieldnames=fields, quoting=csv.QUOTE_ALL)
    writer.writeheader()
    for row in table:
        writer.writerow({k: _safe_cell(v) for k, v in row.items()})
    write_atomic(path, buffer.getvalue())


def _budget_used(record: Record) -> str:
    """The share of its time budget a submission took, as a percentage (slow ones stand out)."""
    used = (record.result or {}).get("budget_used")
    return f"{100 * float(used):.0f}%" if used else ""


def _num(value: float) -> str:
    return f"{float(value):g}"


def _safe_cell(value: str) -> str:
    """Names and messages come from students: never let a spreadsheet run them as formulas."""
    if value and value.startswith(FORMULA_START) and not _is_number(value):
        value = "'" + value
    return _FORMULA_AFTER_SEMICOLON.sub(";'", value)


def _is_number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True
