"""The bridge to otter-grader: the released notebook's ``grader`` and its test cases.

Generated otter test files (``autograder.release.otter_tests``) call ``otter_case``, which
runs nngrade's public checks of one component (once per code version, see ``REPORTS``) and
turns a failed check into otter's AssertionError.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from autograder.student.checking import (
    NotebookChecker,
    check_notebook_component,
    component_status,
    status_text,
)


def notebook_grader(tests_dir: str = "tests", assignment: str = "modules") -> Any:
    """``otter.Notebook`` when otter is installed and the otter tests are present, else ours."""
    if Path(tests_dir).is_dir() and any(Path(tests_dir).glob("*.py")):
        try:
            import otter
        except ImportError:
            pass
        else:
            return otter.Notebook(tests_dir=tests_dir)
    return NotebookChecker(assignment)


def otter_case(env: Mapping[str, Any], component: str, check: str,
               assignment: str = "modules") -> None:
    """Body of one generated otter test case: raise AssertionError if ``check`` failed."""
    comp = check_notebook_component(component, env, assignment).components[0]
    result = next((c for c in comp.checks if c.name == check), None)
    if result is None:
        raise AssertionError(f"{component} has no public check named {check!r}; "
                             "re-download the tests folder")
    if result.passed:
        return
    if component_status(comp) in ("not implemented", "missing"):
        raise AssertionError(f"{component} is {status_text(comp)}")
    raise AssertionError(result.message)
