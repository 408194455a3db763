"""``nngrade check``: the public checks, run locally, saying what is wrong and why."""

from __future__ import annotations

import argparse
from pathlib import Path

from autograder.commands import add_assignment_argument, terminal_progress
from autograder.spec import load_assignment
from autograder.student.checking import check_submission, resolve_components
from autograder.submission import load_submission


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "check", help="run the public checks on your work (.py or .ipynb)",
        description="Run the public checks locally: a pass/FAIL line per check, what is wrong "
                    "for each failure, and a one-line 'not implemented' for untouched "
                    "components. Hidden checks and the MNIST check run only when you "
                    "submit. Exit status 0 whatever the result.")
    parser.add_argument("submission", help="your .py module or .ipynb notebook")
    parser.add_argument("components", nargs="*", metavar="COMPONENT",
                        help="only these components (default: all), e.g. Linear SoftMax")
    add_assignment_argument(
        parser, default=None,
        help="assignment name or path to its assignment.toml (default: the released "
             "assignment.toml next to your file, else in the current directory, else modules)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print the report; exit 0 whatever it says."""
    assignment = load_assignment(args.assignment or released_assignment(Path(args.submission)))
    components = resolve_components(assignment, args.components)
    submission = load_submission(args.submission)
    with terminal_progress() as progress:
        report = check_submission(submission, assignment, components, progress)
    print(f"{submission.filename}: public checks of '{assignment.name}' (hidden checks and "
          "the MNIST training check run when you submit)")
    print(report)
    return 0


def released_assignment(submission: Path) -> str:
    """The ``assignment.toml`` of the release the student works in: next to the file, else
    in the current directory; else the default assignment."""
    for folder in (submission.resolve().parent, Path.cwd()):
        if (folder / "assignment.toml").is_file():
            return str(folder / "assignment.toml")
    return "modules"
