"""One submission's outcome, as kept on disk: ``results/<key>.json``.

The file is the ``nngrade grade --json`` object plus a ``batch`` object (who, status, what it
was graded with, per-check visibility and cause). It is written atomically, so a result is on
disk whole or not at all; a later run reuses it when the cache key still matches.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autograder.batch.inputs import Entry, Student
from autograder.results import Cause

# Statuses of results that are worth keeping; anything else is retried by the next run.
FINAL_STATUSES = frozenset({"ok", "timeout", "crash", "error"})
# Statuses of inputs that were never graded (decided again by every run: it is cheap).
INPUT_STATUSES = frozenset({"unreadable", "ambiguous", "missing"})


@dataclass
class Record:
    key: str
    source: str
    students: list[Student]
    status: str
    message: str = ""
    result: dict[str, Any] | None = None  # GradeResult.to_json()
    seconds: float = 0.0
    cache: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    submitted_at: str = ""
    graded_at: str = ""
    worker: str = ""

    @property
    def graded(self) -> bool:
        return self.result is not None and bool(self.result.get("components"))

    @property
    def score(self) -> float:
        return float(self.result["score"]) if self.result else 0.0

    def to_json(self, max_score: float, assignment: str) -> dict[str, Any]:
        base = self.result or {"submission": self.source, "assignment": assignment,
                               "score": 0.0, "max_score": max_score, "components": [],
                               "notes": [self.message] if self.message else []}
        batch = {"key": self.key, "source": self.source, "status": self.status,
                 "message": self.message, "students": [vars(s) for s in self.students],
                 "seconds": self.seconds, "cache": self.cache,
                 "notes": self.notes, "submitted_at": self.submitted_at,
                 "graded_at": self.graded_at, "worker": self.worker}
        return {**base, "batch": batch}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Record:
        batch = data.pop("batch")
        return cls(key=batch["key"], source=batch["source"],
                   students=[Student(**s) for s in batch["students"]], status=batch["status"],
                   message=batch["message"], result=data if data.get("components") else None,
                   seconds=batch["seconds"], cache=batch["cache"],
                   notes=batch.get("notes", []), submitted_at=batch.get("submitted_at", ""),
                   graded_at=batch.get("graded_at", ""), worker=batch.get("worker", ""))


def input_record(entry: Entry, status: str, message: str) -> Record:
    return Record(entry.key, entry.source, entry.students, status, message, notes=entry.notes,
                  submitted_at=entry.submitted_at)


# --- status ----------------------------------------------------------------------------------


def classify(result: dict[str, Any]) -> tuple[str, str]:
    """(status, one-line message) for a finished grade (``GradeResult.to_json()``)."""
    flat = [(comp["name"], check, check.get("cause"))
            for comp in result["components"] for check in comp["checks"]]
    failed = [(comp, check, cause) for comp, check, cause in flat if not check["passed"]]
    if flat and failed and all(cause in (Cause.MISSING, Cause.LOAD) for _, _, cause in failed) \
            and len(failed) == len(flat) and result["notes"]:
        return "error", _first_line(result["notes"][0])
    for status, cause in (("timeout", Cause.TIMEOUT), ("crash", Cause.CRASH)):
        hit = sorted({comp for comp, _, c in failed if c == cause})
        if hit:
            return status, f"{cause} in {_names(hit)}"
    if not failed:
        return "ok", "all checks passed"
    comps = sorted({comp for comp, _, _ in failed})
    return "ok", f"{len(failed)} of {len(flat)} checks failed ({_names(comps)})"


def _names(names: list[str], limit: int = 4) -> str:
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


def _first_line(text: str, limit: int = 200) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= limit else line[: limit - 3] + "..."


# --- disk ------------------------------------------------------------------------------------


def write_atomic(path: Path, text: str) -> None:
    """Write beside the target, then rename: a reader (or a killed run) never sees half."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def save(record: Record, directory: Path, max_score: float, assignment: str) -> Path:
    path = directory / f"{record.key}.json"
    write_atomic(path, json.dumps(record.to_json(max_score, assignment), indent=1) + "\n")
    return path


def load(directory: Path, key: str) -> Record | None:
    """The stored record, or None if there is none or it cannot be read (then it is redone)."""
    try:
        return Record.from_json(json.loads((directory / f"{key}.json").read_text()))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def clean_temporaries(directory: Path) -> None:
    """Half-written files of a run that was killed."""
    for tmp in directory.glob(".*.tmp"):
        tmp.unlink(missing_ok=True)
