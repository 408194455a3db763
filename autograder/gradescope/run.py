"""The bundle's per-submission entry point (``run_autograder`` execs this module).

It grades the single ``.py`` or ``.ipynb`` file under ``$ROOT/submission``, runs every check,
public and hidden, and writes ``$ROOT/results/results.json`` from this process only, after
grading and atomically, over anything the submission may have put there. Its stdout is the
instructors' log (``results/stdout`` on Gradescope): the full report, hidden details included.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import sys
import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from autograder.choose import choose
from autograder.gradescope.results import (
    DEFAULT_HIDDEN_VISIBILITY,
    VISIBILITIES,
    build_results,
    failure_results,
    printable,
    validate,
    write_results,
)
from autograder.spec import Assignment, load_assignment
from autograder.submission import KINDS, SubmissionError, load_submission

ROOT_ENV = "NNGRADE_AUTOGRADER_ROOT"
SKIP_MNIST_ENV = "NNGRADE_SKIP_MNIST"
CONFIG_NAME = "nngrade-bundle.json"
PLATFORM_TIMEOUT = 600.0  # Gradescope's default autograder timeout (10 minutes)
# Upload and editor debris that is never the submission.
IGNORED_PARTS = frozenset({"__MACOSX", "__pycache__", ".ipynb_checkpoints"})
INTERNAL_ERROR = ("The autograder failed on this submission because of an internal error, not "
                  "because of your code. Please tell the course staff; you may resubmit.")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder.gradescope.run")
    parser.add_argument("--root", default=os.environ.get(ROOT_ENV, "/autograder"),
                        help=f"the autograder directory (default: ${ROOT_ENV} or /autograder)")
    root = Path(parser.parse_args(argv).root)
    started = time.monotonic()
    results_dir = secure_results_dir(root)
    try:
        results = grade_root(root, started)
    except Exception:  # noqa: BLE001 - the student still gets a results file that says so
        traceback.print_exc(file=sys.stdout)
        results = failure_results(INTERNAL_ERROR)
    finish(results_dir / "results.json", results)
    return 0


def secure_results_dir(root: Path) -> Path:
    """Create the results directory, owned by root when we are root, and drop stale results."""
    results = root / "results"
    results.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        # Student code runs as an unprivileged user (autograder.sandbox): it can neither write
        # the results nor read the hidden configuration.
        os.chown(results, 0, 0)
        os.chmod(results, 0o755)
        if (root / "source").is_dir():
            os.chmod(root / "source", 0o700)
    stale = results / "results.json"
    if stale.is_dir() and not stale.is_symlink():
        shutil.rmtree(stale)
    else:
        stale.unlink(missing_ok=True)
    return results


def finish(path: Path, results: dict[str, Any]) -> None:
    try:
        validate(results)
    except Exception:  # noqa: BLE001 - a grader bug: log it, still write a valid file
        traceback.print_exc(file=sys.stdout)
        results = failure_results(INTERNAL_ERROR)
    write_results(path, results)
    print(f"wrote {path}: score {results['score']:g}", flush=True)


def grading_budget(platform_timeout: float) -> float:
    """Seconds for grading within the platform's limit: a margin (at least a minute, or a
    tenth) is kept for starting the container and writing results.json."""
    return platform_timeout - max(60.0, platform_timeout / 10)


def grade_root(root: Path, started: float) -> dict[str, Any]:
    source = root / "source"
    config = json.loads((source / CONFIG_NAME).read_text())
    assignment = bundled_assignment(source, config)
    visibility = config.get("hidden_visibility", DEFAULT_HIDDEN_VISIBILITY)
    if visibility not in VISIBILITIES:
        raise ValueError(f"{CONFIG_NAME}: hidden_visibility must be one of {VISIBILITIES}")
    submission_dir = root / "submission"
    found, others = find_submissions(submission_dir)
    choice = choose(found, submission_dir, _stem(assignment),
                    [name for c in assignment.components for name in c.names])
    if choice.path is None:
        message = choose_message(found, others, submission_dir, choice.note)
        print(message, flush=True)
        return failure_results(message)
    path = choice.path
    notes = [printable(choice.note)] if choice.note else []
    for note in notes:
        print(note, flush=True)
    shown = printable(path.relative_to(submission_dir).as_posix())
    try:
        submission = load_submission(path)
    except SubmissionError as exc:
        message = f"Your submission could not be read: {str(exc).replace(str(path), shown)}"
        print(message, flush=True)
        return failure_results(message)
    budget = grading_budget(float(config.get("platform_timeout", PLATFORM_TIMEOUT)))
    return grade_submission(assignment, submission, shown, visibility, started, budget, notes)


def _stem(assignment: Assignment) -> str:
    """The name of the released files (``modules`` for modules.py and modules.ipynb): the
    spec's solution file, which the bundle's reference_solution.py stands in for."""
    return Path(str(assignment.raw.get("assignment", {}).get("solution", ""))).stem


def grade_submission(assignment: Assignment, submission: Any, shown: str, visibility: str,
                     started: float, budget: float | None = None,
                     notes: list[str] | None = None) -> dict[str, Any]:
    from autograder.grade import Grader
    from autograder.render import render_table

    skip_mnist = os.environ.get(SKIP_MNIST_ENV, "") not in ("", "0")
    grader = Grader(assignment, mnist=not skip_mnist, budget=budget,
                    progress=lambda name: print(f"checking {name}", flush=True))
    result = grader.grade(submission)
    render_table(result, sys.stdout, show_passed=True)
    print(f"grading took {result.seconds:.1f} s, {result.budget_used:.0%} of the "
          f"{result.budget:g} s budget", flush=True)
    notes = list(notes or [])
    if skip_mnist and assignment.mnist:
        notes.append(f"the MNIST check was skipped ({SKIP_MNIST_ENV} is set)")
    return build_results(result, assignment.title, shown,
                         visibility, notes)


def bundled_assignment(source: Path, config: dict[str, Any]) -> Assignment:
    """The hidden assignment, with the bundled reference solution (only the MNIST check's
    probe runs it: the checks compare with PyTorch)."""
    solution = source / config["solution"] if config.get("solution") else None
    return dataclasses.replace(load_assignment(source / config["assignment"]),
                               solution=solution)


def find_submissions(directory: Path) -> tuple[list[Path], list[str]]:
    """Gradable files (regular files, no links) under ``directory``, and the other files."""
    found: list[Path] = []
    others: list[str] = []
    if not directory.is_dir():
        return found, others
    top = directory.resolve()
    for path in sorted(directory.rglob("*")):
        rel = path.relative_to(directory)
        if any(part.startswith(".") or part in IGNORED_PARTS for part in rel.parts):
            if path.is_file() and rel.name.startswith(".") and path.suffix.lower() in KINDS:
                others.append(f"{rel.as_posix()} (a hidden file, ignored)")
            continue
        # A link could point at grader files, which this (root) process can read.
        if path.is_symlink() or not path.resolve().is_relative_to(top):
            others.append(f"{rel.as_posix()} (a link, ignored)")
        elif path.is_file():
            if path.suffix.lower() in KINDS:
                found.append(path)
            else:
                others.append(rel.as_posix())
    return found, others


def choose_message(found: list[Path], others: list[str], directory: Path, why: str = "") -> str:
    accepted = "one Python module (.py) or one Jupyter notebook (.ipynb)"
    if not found:
        seen = (f" (found: {', '.join(printable(o) for o in others[:20])})" if others
                else " (it is empty)")
        return (f"No .py or .ipynb file was found in your submission{seen}. "
                f"Submit {accepted}; the file name does not matter.")
    names = ", ".join(printable(p.relative_to(directory).as_posix()) for p in found[:20])
    return (f"Your submission has {len(found)} .py/.ipynb files ({names}); {printable(why)}. "
            f"Submit {accepted}, and nothing else.")


if __name__ == "__main__":
    sys.exit(main())
