"""``nngrade grade``: grade one submission, all checks and the MNIST check."""

from __future__ import annotations

import argparse
import sys

from autograder.commands import add_assignment_argument, positive_float, terminal_progress
from autograder.grade import Grader, grader_failure
from autograder.render import render_table, write_json
from autograder.spec import load_assignment
from autograder.submission import load_submission

EPILOG = """examples:
  nngrade grade examples/student_partial.py
  nngrade grade solutions/modules.py --json out.json
  nngrade grade homework.ipynb --no-mnist --seed 3
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "grade", help="grade one submission (.py or .ipynb)", epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Grade one submission: all checks, public and hidden, then the MNIST "
                    "check. Exit status 0 whenever grading completed, whatever the score; 1 "
                    "when the grader itself failed (a result saying so is still written); 2 "
                    "for usage errors (no such file, unknown assignment).")
    parser.add_argument("submission", help="the student's .py module or .ipynb notebook")
    add_assignment_argument(parser)
    parser.add_argument("--json", metavar="PATH", help="also write the result as JSON to PATH")
    parser.add_argument("--no-mnist", action="store_true", help="skip the MNIST training check")
    parser.add_argument("--seed", type=int, help="seed for the random test cases "
                        "(default: the assignment's)")
    parser.add_argument("--budget", type=positive_float, metavar="S",
                        help="seconds the submission may take in all, checks and MNIST "
                             "training; checks not run by then score 0 (default: 540)")
    parser.add_argument("--verbose", "-v", action="store_true", help="also list passed checks")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    assignment = load_assignment(args.assignment)
    submission = load_submission(args.submission)
    status = 0
    with terminal_progress() as progress:
        grader = Grader(assignment, seed=args.seed, mnist=not args.no_mnist, progress=progress,
                        budget=args.budget)
        try:
            result = grader.grade(submission)
        except Exception as exc:  # noqa: BLE001 - the grader failed, not the student: say so
            result = grader_failure(assignment, str(submission.path),
                                    f"{type(exc).__name__}: {exc}", mnist=not args.no_mnist)
            status = 1
    if args.json:  # first: printing can fail (stdout piped into `head` and closed)
        write_json(result, args.json)
    render_table(result, sys.stdout, show_passed=args.verbose)
    return status
