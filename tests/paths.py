"""Paths the tests share: the repository and its reference files (no fixtures, no state)."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
AUTOGRADER = REPO / "autograder"
SOLUTION = REPO / "solutions" / "modules.py"  # the classic reference, a complete module
SOLUTION_TEXT = SOLUTION.read_text()
EXTENDED_SPEC = REPO / "assignments" / "extended" / "assignment.toml"
TEMPLATE = REPO / "student_templates" / "modules.py"
TRAIN_PY = AUTOGRADER / "worker" / "train.py"
HOSTILE = REPO / "tests" / "hostile"
