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


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser of every command, or only of ``command`` (its imports alone are paid:
    a grading does not import the release or compare machinery)."""
    parser = argparse.ArgumentParser(
        prog="nngrade",
        description="Autograder for 'neural networks from scratch' assignments: checks each "
                    "component against PyTorch and finite differences, then trains the "
                    "student's own network on MNIST. 'nngrade COMMAND --help' for more.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    module = (command or "").replace("-", "_")
    for name in [module] if module in COMMANDS else COMMANDS:
        importlib.import_module(f"autograder.commands.{name}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser(argv[0] if argv else None).parse_args(argv)
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
