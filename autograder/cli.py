"""``nngrade``: the command line (also ``python -m autograder``); the commands themselves
are in ``autograder.commands``."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from autograder.commands import COMMANDS
from autograder.isolation import SandboxError
from autograder.spec import SpecError
from autograder.submission import SubmissionError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nngrade",
        description="Autograder for 'neural networks from scratch' assignments: checks each "
                    "component against PyTorch and finite differences, then trains the "
                    "student's own network on MNIST. 'nngrade COMMAND --help' for more.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"autograder.commands.{name}").register(sub)
    return parser


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
