"""Build the student bundle in memory, check it for leaks, write it; the CLI command."""

from __future__ import annotations

import os
import textwrap
from dataclasses import dataclass
from pathlib import Path

from autograder.mnist_check import time_budget
from autograder.release.leaks import find_leaks, given_away
from autograder.release.notebook import build_notebook, notebook_text
from autograder.release.otter_tests import otter_test_files
from autograder.release.public_spec import public_spec
from autograder.release.strip import MarkerError, find_regions
from autograder.release.student import student_module
from autograder.spec import ASSIGNMENTS_DIR, REPO_ROOT, Assignment, SpecError, load_assignment

TEMPLATES_DIR = REPO_ROOT / "student_templates"

README = """# {title}

Your files:

- `{stem}.ipynb`: the notebook. Each component has a description, a code cell to complete
  and a check cell; at the end your network trains on MNIST next to the same network in
  PyTorch.
- `{stem}.py`: the same components as a plain module, if you prefer an editor.
- `tests/`: the public checks, for `grader.check(...)` in the notebook (otter-grader).

Replace every `raise NotImplementedError(...)` with your code, following the docstrings.

## Check your work

In the notebook, run a component's cell and then its check cell. From a terminal:

    nngrade check {stem}.ipynb              # or {stem}.py
    nngrade check {stem}.py Linear SoftMax  # only some components

Each check prints `pass` or `FAIL`; a failure says what differs, for which input shapes,
and the likely cause. A component you have not started is reported as "not implemented".
These are the public checks only: hidden checks and the MNIST training check (at least
{threshold} test accuracy within {budget} of training) run when you submit, so passing
everything here does not guarantee full marks.

## Submit

Submit `{stem}.ipynb` (or `{stem}.py`). When graded, cells under
`if __name__ == "__main__":` are skipped; the rest may use NumPy but not PyTorch. A cell
whose top-level code runs longer than {load} s (a training loop) is cut: only its imports,
classes and functions are kept. Put experiments under the `__main__` guard.
"""


@dataclass(frozen=True)
class Release:
    assignment: Assignment
    files: dict[str, str]  # path inside the bundle -> text
    module_name: str  # e.g. "modules.py"
    notebook_name: str  # e.g. "modules.ipynb"
    warnings: tuple[str, ...] = ()  # e.g. given code that another assignment grades


def build_release(assignment: Assignment) -> Release:
    """Every file of the bundle, generated deterministically from the solution and the spec."""
    if assignment.solution is None or not assignment.solution.is_file():
        raise SpecError(f"{assignment.name}: no reference solution file to release from")
    reference = assignment.solution_text()
    stem = assignment.solution.stem
    try:
        module = student_module(reference, assignment.title, str(assignment.solution),
                                mnist_paragraph(assignment))
    except MarkerError as exc:
        raise SpecError(str(exc)) from None
    regions = [r.owner for r in find_regions(reference)]
    threshold = float((assignment.mnist or {}).get("threshold", 0.97))
    files = {
        f"{stem}.py": module,
        f"{stem}.ipynb": notebook_text(build_notebook(module, assignment, regions)),
        "README.md": README.format(title=assignment.title, stem=stem,
                                   threshold=f"{threshold:.0%}",
                                   budget=f"{_budget(assignment):g} s",
                                   load=f"{assignment.load_timeout:g}"),
        **otter_test_files(assignment),
        "assignment.toml": public_spec(assignment),
    }
    leaks = find_leaks(files, reference, assignment)
    if leaks:
        raise SpecError("the student bundle would leak:\n  " + "\n  ".join(leaks))
    return Release(assignment, files, f"{stem}.py", f"{stem}.ipynb",
                   tuple(shared_with_other_assignments(module, assignment)))


def shared_with_other_assignments(module: str, assignment: Assignment) -> list[str]:
    """A warning per assignment of the repository whose graded solutions ``module`` (the
    stub of ``assignment``) hands out as given code: a course must not release both."""
    warnings = []
    for path in sorted(ASSIGNMENTS_DIR.glob("*/assignment.toml")):
        if path.resolve() == assignment.path.resolve():
            continue
        try:
            other = load_assignment(path, check_references=False)
            reference = other.solution_text()
        except (SpecError, OSError):
            continue  # another assignment's problems are its own release's business
        if other.solution == assignment.solution:
            continue
        names = given_away(module, reference)
        if names:
            warnings.append(
                f"this bundle's given code contains the solutions of {', '.join(names)}, which "
                f"assignment {other.name!r} grades: do not release both to the same class")
    return warnings


def _budget(assignment: Assignment) -> float:
    return time_budget(assignment.mnist or {})


def mnist_paragraph(assignment: Assignment) -> str:
    """The stub's sentence on the MNIST check: what trains, how long at most, what counts."""
    cfg = assignment.mnist
    if not cfg:
        return ""
    epochs = int(cfg.get("epochs", 1))
    text = (f"Graded end to end: the MNIST check trains your network with your classes for "
            f"{epochs} epoch{'s' if epochs != 1 else ''}, at most {_budget(assignment):g} s of "
            f"training on one core, and needs {float(cfg.get('threshold', 0.97)):.0%} test "
            "accuracy. When the time is up, the accuracy reached so far counts: keep every "
            "layer vectorised (a Python loop over channels or positions may be too slow).")
    return textwrap.fill(text, width=88)


def committed_files(release: Release) -> dict[Path, str]:
    """The copies kept in the repository: the stub module and the notebook."""
    return {
        TEMPLATES_DIR / release.module_name: release.files[release.module_name],
        release.assignment.path.parent / release.notebook_name:
            release.files[release.notebook_name],
    }


def stale_committed(release: Release) -> list[Path]:
    """Committed copies that differ from what the generator makes now (or are missing)."""
    return [path for path, text in committed_files(release).items()
            if not path.is_file() or path.read_bytes() != text.encode("utf-8")]


def write_release(release: Release, out_dir: str | Path) -> list[Path]:
    out = Path(out_dir)
    written = []
    for name, text in release.files.items():
        written.append(write_file(out / name, text))
    return written


def write_file(path: Path, text: str) -> Path:
    """Atomically (a concurrent reader never sees half a file), as bytes (no newline changes)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(text.encode("utf-8"))
    os.replace(tmp, path)
    return path


def _rel(path: Path) -> str:
    try:
        return str(path.relative_to(REPO_ROOT))
    except ValueError:
        return str(path)
