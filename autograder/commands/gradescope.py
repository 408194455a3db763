"""``nngrade gradescope``: build the autograder zip, and optionally try it on a submission."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from autograder.commands import add_assignment_argument, positive_float
from autograder.gradescope.bundle import BundleError, build_bundle
from autograder.gradescope.results import DEFAULT_HIDDEN_VISIBILITY, VISIBILITIES
from autograder.gradescope.run import PLATFORM_TIMEOUT
from autograder.spec import load_assignment

EPILOG = """examples:
  nngrade gradescope -o autograder.zip
  nngrade gradescope -o autograder.zip --try solutions/modules.py
  NNGRADE_SKIP_MNIST=1 nngrade gradescope -o autograder.zip --try homework.ipynb
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "gradescope", help="build a Gradescope autograder zip",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Build the zip to upload as a Gradescope programming assignment's "
                    "autograder: the engine and the full assignment (hidden checks included); "
                    "run_autograder grades each submission with it.")
    add_assignment_argument(parser)
    parser.add_argument("-o", "--output", default="autograder.zip", type=Path,
                        help="where to write the zip (default: autograder.zip)")
    parser.add_argument("--hidden-visibility", choices=VISIBILITIES,
                        default=DEFAULT_HIDDEN_VISIBILITY,
                        help="when students see hidden checks' results (default: "
                             f"{DEFAULT_HIDDEN_VISIBILITY}); their points always count")
    parser.add_argument("--torch-index-url", default="", metavar="URL",
                        help="package index to install torch from in setup.sh, e.g. PyTorch's "
                             "CPU-only wheel index (default: the default index)")
    parser.add_argument("--platform-timeout", type=positive_float, default=PLATFORM_TIMEOUT,
                        metavar="S", help="the autograder timeout set on the platform, in "
                        f"seconds (default: {PLATFORM_TIMEOUT:g}, Gradescope's default); "
                        "grading keeps a margin below it so that results are always written")
    parser.add_argument("--try", dest="try_path", type=Path, metavar="PATH",
                        help="then run the bundle on PATH (a submission file or directory) in "
                             "a temporary /autograder tree and print results.json")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    assignment = load_assignment(args.assignment)
    try:
        names = build_bundle(assignment, args.output, args.hidden_visibility,
                             args.torch_index_url, args.platform_timeout)
    except BundleError as exc:
        print(f"nngrade gradescope: error: {exc}", file=sys.stderr)
        return 2
    size = args.output.stat().st_size / 1e6
    print(f"wrote {args.output} ({len(names)} files, {size:.1f} MB) for assignment "
          f"{assignment.name}: {assignment.max_score:g} points", file=sys.stderr)
    return try_bundle(args.output, args.try_path) if args.try_path else 0


def try_bundle(bundle: Path, submission: Path) -> int:
    from autograder.gradescope.local import lay_out, run_autograder

    if not submission.exists():
        print(f"nngrade gradescope: error: {submission}: no such file", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="nngrade-gradescope-") as tmp:
        root = lay_out(bundle, Path(tmp) / "autograder", submission)
        proc = run_autograder(root)
        print(proc.stdout, end="", file=sys.stderr)  # the instructors' log
        print(proc.stderr, end="", file=sys.stderr)
        results = root / "results" / "results.json"
        if proc.returncode != 0 or not results.is_file():
            print(f"run_autograder failed (exit status {proc.returncode})", file=sys.stderr)
            return 1
        print(json.dumps(json.loads(results.read_text()), indent=2))
    return 0
