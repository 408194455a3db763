"""``nngrade``: the command line (also ``python -m autograder``)."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from autograder.isolation import SandboxError
from autograder.spec import SpecError, load_assignment
from autograder.submission import SubmissionError, load_submission

# Each module defines ``register(subparsers)``, which adds its subcommand and sets
# ``func=<callable(args) -> int>`` as the parser default. Add a new command here.
COMMAND_MODULES: tuple[str, ...] = ("autograder.check_cmd", "autograder.release",
                                     "autograder.gradescope.command",
                                     "autograder.versus.command", "autograder.batch.cli")

EPILOG = """examples:
  nngrade grade examples/student_partial.py
  nngrade grade solutions/modules.py --json out.json
  nngrade grade homework.ipynb --no-mnist --seed 3
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nngrade", epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Autograder for 'neural networks from scratch' assignments: checks each "
                    "component against PyTorch and finite differences, then trains the "
                    "student's own network on MNIST.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    grade = sub.add_parser("grade", help="grade one submission (.py or .ipynb)",
                           description="Grade one submission: all checks, public and hidden, "
                                       "then the MNIST check. Exit status 0 whenever grading "
                                       "completed, whatever the score.")
    grade.add_argument("submission", help="the student's .py module or .ipynb notebook")
    grade.add_argument("--assignment", default="modules",
                       help="assignment name or path to its assignment.toml (default: modules)")
    grade.add_argument("--json", metavar="PATH", help="also write the result as JSON to PATH")
    grade.add_argument("--no-mnist", action="store_true", help="skip the MNIST training check")
    grade.add_argument("--seed", type=int, help="seed for the random test cases "
                       "(default: the assignment's)")
    grade.add_argument("--verbose", "-v", action="store_true", help="also list passed checks")
    grade.set_defaults(func=cmd_grade)
    for module in COMMAND_MODULES:
        importlib.import_module(module).register(sub)
    return parser


def cmd_grade(args: argparse.Namespace) -> int:
    from autograder.grade import Grader
    from autograder.report import render_table, write_json

    assignment = load_assignment(args.assignment)
    submission = load_submission(args.submission)
    progress = None
    if sys.stderr.isatty():
        def progress(name: str) -> None:
            print(f"\rchecking {name:<30}", end="", file=sys.stderr, flush=True)
    grader = Grader(assignment, seed=args.seed, mnist=not args.no_mnist, progress=progress)
    result = grader.grade(submission)
    if progress:
        print("\r" + " " * 40 + "\r", end="", file=sys.stderr)
    render_table(result, sys.stdout, show_passed=args.verbose)
    if args.json:
        write_json(result, args.json)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (SubmissionError, SpecError, SandboxError) as exc:
        print(f"nngrade: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # output piped into `head`
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
