"""``nngrade release``: the student bundle, and the committed templates, from the solution."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from autograder.commands import add_assignment_argument
from autograder.release.bundle import (
    build_release,
    committed_files,
    stale_committed,
    write_file,
    write_release,
)
from autograder.spec import REPO_ROOT, SpecError, load_assignment


def register(sub: Any) -> None:
    """Add ``nngrade release`` to the CLI's subparsers."""
    release = sub.add_parser(
        "release", help="write the student bundle (stubs, notebook, public tests)",
        description="Write the student bundle to DIR: the stub module, the notebook, otter "
                    "test files for the public checks and a README; regenerate the committed "
                    "student_templates/ module and assignment notebook. Refuses to write "
                    "anything containing a solution line or a hidden-check parameter.")
    add_assignment_argument(release)
    release.add_argument("--out", metavar="DIR", help="directory for the student bundle")
    release.add_argument("--check", action="store_true",
                         help="write nothing; exit 1 if the committed template or notebook "
                              "is out of date")
    release.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    release = build_release(load_assignment(args.assignment))
    for warning in release.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if args.check:
        stale = stale_committed(release)
        for path in stale:
            print(f"stale: {_rel(path)} (run: nngrade release --out DIR)", file=sys.stderr)
        print("committed templates up to date" if not stale else f"{len(stale)} stale file(s)")
        return 1 if stale else 0
    if not args.out:
        raise SpecError("release: --out DIR is required (or --check)")
    for path in write_release(release, args.out):
        print(f"wrote {path}")
    stale = stale_committed(release)
    for path, text in committed_files(release).items():
        write_file(path, text)
        print(f"{'updated' if path in stale else 'unchanged'} {_rel(path)}")
    return 0


def _rel(path: Path) -> str:
    try:
        return str(path.relative_to(REPO_ROOT))
    except ValueError:
        return str(path)
