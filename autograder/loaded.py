"""A submission loaded in its worker: the session, what its code defines, how loading went.

The grader (``autograder.grade``) runs checks against it and the MNIST check trains it; both
take it as an argument, so neither imports the other.
"""

from __future__ import annotations

import functools
import time

from autograder.definitions import defined_names, definitions_only
from autograder.distributions import installed_version
from autograder.sandbox import BudgetExhausted, Session, StudentError, WorkerFailure
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
        self.reduced: dict[int, str] = {}  # cell -> its definitions only (autograder.definitions)
        self.reduced_notes: dict[int, str] = {}
        self.cell_errors: dict[int, str] = {}  # cell -> what its top-level code raised
        self.load_spent = 0.0  # seconds of top-level code so far
        self.ran: set[int] = set()  # cells that ran to the end in some pass
        self.settled = False  # the first load is over: later reloads change no note
        self._load(first=True)
        self.settled = True

    # -- the worker -----------------------------------------------------------------
    def _load(self, first: bool = False) -> None:
        """Run the submission's top-level code cell by cell (a module is one cell).

        A cell that hangs or kills the worker runs again, in a fresh worker, smaller
        (``_reduce``: a class followed by a training loop keeps the class, as in Jupyter);
        when nothing smaller is left, it is skipped. All of it is noted. A notebook's
        top-level code has ``2 * load_timeout`` in all: past that, the later cells with loops
        or calls run reduced at once, instead of each waiting for its own timeout (twenty
        cells of experiments would use up the whole budget). Once the submission's time
        budget is used up, no cell runs any more (a pass per cell would restart the worker
        once per cell). Only the first load writes notes: a reload after a hidden check
        killed the worker must not show what its code raises (it may carry hidden inputs
        through state that outlives a worker)."""
        while self._load_pass(first):
            first = False

    def _load_pass(self, first: bool) -> bool:
        """One pass over the cells; True when a cell was reduced or skipped in a way that
        needs a fresh worker and another pass."""
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
            what = "the module's top-level code" if sub.kind == "py" else label
            # Time counts across the restarts a slow cell causes (each of twenty slow cells
            # would otherwise get its own allowance), for cells that have not run yet.
            if sub.kind != "py" and i not in self.reduced and i not in self.ran and \
                    self.load_spent > 2 * self.load_timeout:
                self._reduce(i, cell, f"{what} ran as its definitions only: the notebook's "
                             f"top-level code had used its {2 * self.load_timeout:g} s",
                             strict=False)  # a cell without loops or calls runs whole
            started = time.monotonic()
            try:
                info = self.session.load([self.reduced.get(i, cell)], sub.filename, [label],
                                         append=loaded, timeout=self.load_timeout,
                                         notebook=sub.kind != "py")
            except WorkerFailure as exc:
                self.load_spent += time.monotonic() - started
                note = (f"{what} ran past the time limit or stopped the worker ({exc}): only "
                        "its definitions were kept (keep long-running code such as training "
                        "out of the graded file)")
                if isinstance(exc, BudgetExhausted):
                    self.skipped_cells[i] = f"{what} and the cells after it were not run: {exc}"
                    self.load_failure = self.skipped_cells[i]
                    self._note(first, errors)
                    return False
                if self._reduce(i, cell, note):
                    return True
                self.reduced.pop(i, None)
                self.skipped_cells[i] = (f"{what} was skipped: {exc} (keep long-running code "
                                         "such as training out of the graded file)")
                self.load_failure = self.skipped_cells[i] if sub.kind == "py" else None
                if not self.session.worker.alive() or sub.kind != "py":
                    return True
                self._note(first, errors)
                return False
            self.load_spent += time.monotonic() - started
            self.ran.add(i)
            loaded = True
            self.names = set(info["names"])
            for e in info["errors"]:
                errors.append(f"{label} raised {e['error']['type']}: {e['error']['message']} "
                              f"{_first_frame(e['error'].get('traceback', ''))}".rstrip())
                self.cell_errors[i] = errors[-1]
        if sub.kind != "py":
            self.load_failure = None
        self._note(first, errors)
        return False

    def _note(self, first: bool, errors: list[str]) -> None:
        if self.settled:
            return
        if first or not self.load_errors:
            self.load_errors = errors + list(self.reduced_notes.values()) + list(
                self.skipped_cells.values())
            self.notes = list(self.submission.dropped) + self.load_errors

    def _reduce(self, i: int, cell: str, note: str, strict: bool = True) -> bool:
        """Run a smaller cell ``i`` from now on: first its definitions with the statements
        before its first loop or call, then (``strict``) its definitions only; False when
        nothing smaller is left."""
        candidates = [definitions_only(cell, keep_prefix=True)]
        candidates += [definitions_only(cell)] if strict else []
        current = self.reduced.get(i, cell)
        after = next((k + 1 for k, c in enumerate(candidates) if c.code == current), 0)
        found = next((c for c in candidates[after:] if c.code and c.code != current), None)
        if found is None:
            return False
        self.reduced[i] = found.code
        names = f" ({', '.join(found.names)})" if found.names else ""
        self.reduced_notes[i] = note.replace("definitions", f"definitions{names}", 1)
        return True

    def ensure_worker(self) -> None:
        if not self.session.worker.alive():
            self._load()

    def add_environment_notes(self) -> None:
        """Notes on the environment: the compatibility shims the code used (asked from the
        worker: a worker restarted after a crash only knows its own calls) and the allowed
        packages missing where the grader runs. Called before any hidden check: which shims
        a hidden check made the code call would carry its inputs into a visible note."""
        used: set[str] = set()
        if self.session.worker.alive():
            try:
                used = set(self.session.shims_used())
            except (WorkerFailure, StudentError):
                pass
        self.notes += [s.note for s in self.assignment.shims if s.api in used]
        self.notes += [f"{name}, which this assignment allows, is not installed where "
                       "the grader runs (install the grader with its dependencies)"
                       for name in self.assignment.packages if not _installed(name)]

    def resolve(self, comp_names: tuple[str, ...]) -> str | None:
        return next((n for n in comp_names if n in self.names), None)

    @functools.cached_property
    def _cell_names(self) -> list[tuple[set[str], set[str]]]:
        return [defined_names(cell) for cell in self.submission.cells]

    def why_undefined(self, name: str) -> str:
        """Why the submission's code, read as text, did not define ``name``: only under a
        ``__main__`` guard, or the cell that defines it raised, was cut short or skipped;
        "" if no cell defines it at all (not written)."""
        for i, (top, guarded) in enumerate(self._cell_names):
            if name in top:
                return self.skipped_cells.get(i) or self.reduced_notes.get(i) \
                    or self.cell_errors.get(i, "")
            if name in guarded:
                return (f"'{name}' is defined only under `if __name__ == \"__main__\":`, "
                        "which the grader does not run")
        return ""


def _first_frame(traceback: str) -> str:
    lines = [ln.strip() for ln in traceback.strip().splitlines() if ln.strip()]
    return f"({lines[-2] if len(lines) >= 2 else lines[0]})" if lines else ""




def _installed(distribution: str) -> bool:
    return installed_version(distribution) is not None
