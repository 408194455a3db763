"""``nngrade grade-batch``: grade a whole class's submissions (``autograder.batch``)."""

from __future__ import annotations

import argparse
import os
import sys

from autograder.batch.inputs import InputError
from autograder.batch.runner import BatchOptions, run_batch
from autograder.batch.similarity import THRESHOLD
from autograder.commands import add_assignment_argument, positive_float

EPILOG = """examples:
  nngrade grade-batch submissions/ --out graded/
  nngrade grade-batch gradescope_export.zip --out graded/ --jobs 2 --no-mnist
  nngrade grade-batch submissions/ --out graded/ --dask tcp://scheduler:8786

Rerunning the same command grades only what is new or changed; --force regrades all.
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "grade-batch", help="grade a directory or zip of submissions (gradebook, feedback, "
                            "report)",
        description="Grade every submission in SUBMISSIONS: a directory of files "
                    "(alice.py, bob.ipynb), of per-student directories or zips, a zip of "
                    "either, or a Gradescope 'Export Submissions' download. Writes "
                    "grades.csv, results/<id>.json, feedback/<id>.md and report.html into "
                    "DIR. Each result is kept as soon as it is done: an interrupted run "
                    "resumes where it stopped.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("submissions", metavar="SUBMISSIONS",
                        help="directory or .zip of submissions")
    parser.add_argument("--out", required=True, metavar="DIR", help="output directory")
    add_assignment_argument(parser)
    parser.add_argument("--jobs", "-j", type=int, default=0, metavar="N",
                        help=f"submissions graded at once (default: one per core, "
                             f"{os.cpu_count()} here)")
    parser.add_argument("--force", action="store_true",
                        help="regrade everything, even results that are up to date")
    parser.add_argument("--no-mnist", action="store_true", help="skip the MNIST training check")
    parser.add_argument("--seed", type=int, help="seed for the random test cases")
    parser.add_argument("--budget", type=positive_float, metavar="S",
                        help="seconds one submission may take in all, checks and MNIST "
                             "training (default: 540, which fits a 10-minute platform limit)")
    parser.add_argument("--check-timeout", type=float, metavar="S",
                        help="seconds allowed per check (default: the assignment's)")
    parser.add_argument("--dask", metavar="ADDRESS",
                        help="grade on a dask.distributed cluster (scheduler address), or "
                             "'local' for a local one; needs nngrade[dask]")
    parser.add_argument("--similarity-threshold", type=float, default=THRESHOLD, metavar="J",
                        help=f"Jaccard index from which a pair is flagged (default {THRESHOLD})")
    parser.add_argument("--template", metavar="PATH",
                        help="the file students started from, for the similarity report "
                             "(default: the solution with its solution regions removed)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.jobs < 0:
        print("nngrade: error: --jobs must be positive", file=sys.stderr)
        return 2
    options = BatchOptions(assignment=args.assignment, jobs=args.jobs, mnist=not args.no_mnist,
                           force=args.force, seed=args.seed, check_timeout=args.check_timeout,
                           budget=args.budget,
                           dask=args.dask, threshold=args.similarity_threshold,
                           template=args.template)
    try:
        summary = run_batch(args.submissions, args.out, options)
    except InputError as exc:
        print(f"nngrade: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\nnngrade: interrupted; finished results are kept in "
              f"{args.out}/results: run the same command again to grade the rest",
              file=sys.stderr)
        return 130
    flagged = sum(p.jaccard >= options.threshold for p in summary.pairs)
    print(f"{len(summary.records)} submissions: {summary.graded} graded, {summary.reused} "
          f"reused; {flagged} similar pair(s) flagged", file=sys.stderr)
    for name in ("grades.csv", "report.html", "results/", "feedback/"):
        print(f"  {summary.out / name}")
    return 0

