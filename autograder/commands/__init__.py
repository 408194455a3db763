"""The ``nngrade`` commands: one module per user job, each ``register(subparsers)`` (its
arguments, with help) and ``run(args) -> int`` (a thin shell over a library function that
tests call directly). ``autograder.cli`` assembles them."""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Callable, Iterator

# Module names under autograder.commands, in the order ``nngrade --help`` lists them.
COMMANDS: tuple[str, ...] = ("grade", "check", "release", "gradescope", "grade_batch",
                             "compare")


def add_assignment_argument(parser: argparse.ArgumentParser,
                            default: str | None = "modules",
                            help: str = "assignment name or path to its assignment.toml "  # noqa: A002
                                        "(default: modules)") -> None:
    parser.add_argument("--assignment", default=default, help=help)


def positive_float(text: str) -> float:
    """An argparse type: a number of seconds greater than zero."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be greater than 0, not {text}")
    return value


@contextlib.contextmanager
def terminal_progress() -> Iterator[Callable[[str], None] | None]:
    """A one-line "checking <component>" progress display on a terminal, else nothing."""
    if not sys.stderr.isatty():
        yield None
        return

    def show(name: str) -> None:
        print(f"\rchecking {name:<30}", end="", file=sys.stderr, flush=True)

    try:
        yield show
    finally:
        print("\r" + " " * 40 + "\r", end="", file=sys.stderr)
