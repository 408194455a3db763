"""Grade one submission: the unit of work, the same on a local thread and on a dask worker.

A task is plain data (no open files, no Assignment object), so that it can be shipped to
another machine; when ``data`` is given the file is recreated there under its own name.
Grading itself runs in ``Grader``'s isolated worker subprocess, as for ``nngrade grade``.
"""

from __future__ import annotations

import functools
import hashlib
import socket
import tempfile
import traceback
from pathlib import Path
from typing import Any

import numpy as np

import autograder
from autograder.batch.records import classify
from autograder.grade import Grader
from autograder.references import torch_reference
from autograder.spec import load_assignment
from autograder.submission import SubmissionError, load_submission


def make_task(path: Path, assignment: str, options: dict[str, Any],
              ship: bool = False) -> dict[str, Any]:
    """``ship``: send the file's bytes along (the worker may not see this file system)."""
    task: dict[str, Any] = {"path": str(path), "assignment": assignment, "options": options}
    if ship:
        task["data"] = path.read_bytes()
    return task


def grade_task(task: dict[str, Any]) -> dict[str, Any]:
    """Returns the grade as JSON-ready data, or ``{"error": ...}``; never raises."""
    try:
        if "data" not in task:
            return _grade(Path(task["path"]), task)
        with tempfile.TemporaryDirectory(prefix="nngrade-batch-") as tmp:
            path = Path(tmp) / Path(task["path"]).name
            path.write_bytes(task["data"])
            return _grade(path, task)
    except SubmissionError as exc:
        return {"error": str(exc), "status": "unreadable", **_identity()}
    except Exception as exc:  # noqa: BLE001 - one broken grade must not stop the batch
        tail = traceback.format_exc(limit=-3).strip().splitlines()
        return {"error": f"internal grader error: {type(exc).__name__}: {exc}",
                "status": "grader_error", "traceback": tail[-6:], **_identity()}


def _grade(path: Path, task: dict[str, Any]) -> dict[str, Any]:
    assignment = load_assignment(task["assignment"])
    opts = task["options"]
    grader = Grader(assignment, seed=opts.get("seed"), mnist=opts.get("mnist", True),
                    check_timeout=opts.get("check_timeout"), budget=opts.get("budget"),
                    parallel_mnist=False, parallel_checks=False)  # the batch keeps every core busy
    submission = load_submission(path)
    # Import PyTorch before any check's clock starts: with several grades starting at once,
    # the import (seconds, under one lock) would otherwise eat into a short check timeout.
    _warm_up()
    result = grader.grade(submission)
    data = result.to_json()
    status, message = classify(data)
    return {"result": data, "seconds": result.seconds, "status": status,
            "message": message, **_identity(),
            "assignment_sha256": hashlib.sha256(assignment.path.read_bytes()).hexdigest()}


@functools.lru_cache(maxsize=1)
def _warm_up() -> None:
    """Import PyTorch and run autograd once (its first backward also takes seconds)."""
    torch_reference("x * 2", np.ones((1, 1)), {}, {}, grads=True)


def _identity() -> dict[str, str]:
    return {"grader_version": autograder.__version__, "worker": socket.gethostname()}
