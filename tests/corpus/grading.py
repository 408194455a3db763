"""Grading corpus entries: what the per-assignment corpus tests share."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from autograder.grade import Grader
from autograder.results import GradeResult
from autograder.spec import Assignment
from autograder.submission import load_submission
from corpus import Bug, Reference, Variant


def grade_entries(reference: Reference, assignment: Assignment, reference_path: Path,
                  entries: list[Bug | Variant], folder: Path) -> dict[str, GradeResult]:
    """Each entry's grade (without MNIST) by id, and the reference's as "reference"; two
    gradings at a time."""

    def grade(entry: Bug | Variant | None) -> GradeResult:
        path = reference_path
        if entry is not None:
            path = folder / f"{entry.id}.py"
            path.write_text(reference.build(entry))
        return Grader(assignment, mnist=False).grade(load_submission(path))

    every: list[Bug | Variant | None] = [None, *entries]  # None: the reference
    with ThreadPoolExecutor(2) as pool:
        return dict(zip([e.id if e else "reference" for e in every], pool.map(grade, every),
                        strict=True))


def losers(result: GradeResult) -> set[str]:
    """The components that lost points."""
    return {c.name for c in result.components if c.score < c.max_score}


def failures(result: GradeResult) -> list[tuple[str, str, str]]:
    """(component, check, message) of every failing check."""
    return [(c.name, k.name, k.message) for c in result.components for k in c.checks
            if not k.passed]


def diagnosed(bug: Bug, result: GradeResult) -> bool:
    """Whether a failing check gives the diagnosis the bug records (cause or message)."""
    failed = [k for c in result.components for k in c.checks if not k.passed]
    text = " ".join(f"{k.name} {k.message}" for k in failed)
    return ((bug.causes is None or any(k.cause in bug.causes for k in failed))
            and (bug.message is None or bug.message in text))


def grade_component(reference: Reference, assignment: str, entry: Bug | Variant,
                    component: str, tmp_path: Path):
    """One corpus entry graded (no MNIST) for one component: its ComponentResult."""
    from autograder.spec import load_assignment

    path = tmp_path / f"{entry.id}.py"
    path.write_text(reference.build(entry))
    result = Grader(load_assignment(assignment), mnist=False).grade(load_submission(path),
                                                                   only=[component])
    (comp,) = result.components
    return comp
