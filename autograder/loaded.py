"""A submission loaded in its worker: the session, what its code defines, how loading went.

The grader (``autograder.grade``) runs checks against it and the MNIST check trains it; both
take it as an argument, so neither imports the other.
"""

from __future__ import annotations

from autograder.distributions import installed_version
from autograder.sandbox import Session, StudentError, WorkerFailure
from autograder.spec import Assignment
from autograder.submission import Submission


class LoadedSubmission:
    """The state of grading one submission: the worker session and what the code defines."""

    def __init__(self, assignment: Assignment, submission: Submission, session: Session,
                 load_timeout: float | None = None):
        self.assignment = assignment
        self.load_timeout = load_timeout or assignment.load_timeout
        self.submission = submission
        self.session = session
        self.notes: list[str] = list(submission.dropped)
        self.names: set[str] = set()
        self.load_failure: str | None = None
        self.load_errors: list[str] = []
        self.skipped_cells: dict[int, str] = {}
        self._load(first=True)

    # -- the worker -----------------------------------------------------------------
    def _load(self, first: bool = False) -> None:
        """Run the submission's top-level code cell by cell; a cell that hangs or kills the
        worker is skipped (and noted), and the others are loaded again in a fresh worker."""
        if first is False or not self.session.worker.alive():
            self.session.worker.start()
        sub = self.submission
        numbers = getattr(sub, "cell_numbers", None) or list(range(1, len(sub.cells) + 1))
        labels = [sub.filename if sub.kind == "py" else f"{sub.filename} cell {n}"
                  for n in numbers]
        self.session.deadline = None
        errors: list[str] = []
        loaded = False
        for i, (cell, label) in enumerate(zip(sub.cells, labels, strict=True)):
            if i in self.skipped_cells:
                continue
            try:
                info = self.session.load([cell], sub.filename, [label], append=loaded,
                                         timeout=self.load_timeout)
            except WorkerFailure as exc:
                what = "the module's top-level code" if sub.kind == "py" else label
                self.skipped_cells[i] = (f"{what} was skipped: {exc} (keep long-running code "
                                         "such as training out of the graded file)")
                self.load_failure = self.skipped_cells[i] if sub.kind == "py" else None
                if not self.session.worker.alive() or sub.kind != "py":
                    return self._load()
                return
            loaded = True
            self.names = set(info["names"])
            errors += [f"{label} raised {e['error']['type']}: {e['error']['message']} "
                       f"{_first_frame(e['error'].get('traceback', ''))}".rstrip()
                       for e in info["errors"]]
        if sub.kind != "py":
            self.load_failure = None
        if first or not self.load_errors:
            self.load_errors = errors + list(self.skipped_cells.values())
            self.notes = list(sub.dropped) + self.load_errors

    def ensure_worker(self) -> None:
        if not self.session.worker.alive():
            self._load()

    def add_environment_notes(self) -> None:
        """Notes on the environment: the compatibility shims the code used (asked from the
        worker: a worker restarted after a crash only knows its own calls) and the allowed
        packages missing where the grader runs."""
        used: set[str] = set()
        if self.session.worker.alive():
            try:
                used = set(self.session.shims_used())
            except (WorkerFailure, StudentError):
                pass
        self.notes += [f"note: {s.note}" for s in self.assignment.shims if s.api in used]
        self.notes += [f"note: {name}, which this assignment allows, is not installed where "
                       "the grader runs (install the grader with its dependencies)"
                       for name in self.assignment.packages if not _installed(name)]

    def resolve(self, comp_names: tuple[str, ...]) -> str | None:
        return next((n for n in comp_names if n in self.names), None)


def _first_frame(traceback: str) -> str:
    lines = [ln.strip() for ln in traceback.strip().splitlines() if ln.strip()]
    return f"({lines[-2] if len(lines) >= 2 else lines[0]})" if lines else ""




def _installed(distribution: str) -> bool:
    return installed_version(distribution) is not None
