"""Grading-time reliability (issue 15): a hang is waited for once, the budget cuts work off
with every earned point kept, process swarms cost nothing, and a result is always written."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.grade import Grader
from autograder.results import Cause, GradeResult
from autograder.spec import load_assignment
from autograder.submission import load_submission

REPO = Path(__file__).resolve().parents[1]
SOLUTION = REPO / "solutions" / "modules.py"
HOSTILE = REPO / "tests" / "hostile"
ASSIGNMENT = load_assignment("modules")


def attacked(tmp_path: Path, attack: str) -> Path:
    path = tmp_path / f"{attack}.py"
    path.write_text(SOLUTION.read_text() + "\n\n" + (HOSTILE / f"{attack}.py").read_text())
    return path


def messages(result: GradeResult, component: str) -> list[str]:
    return [k.message for k in result.component(component).checks if not k.passed]


def test_a_hanging_method_is_waited_for_once(tmp_path):
    grader = Grader(ASSIGNMENT, mnist=False, check_timeout=2.0)
    result = grader.grade(load_submission(attacked(tmp_path, "infinite_loop")),
                          only=["ReLU", "Flatten"])
    relu = messages(result, "ReLU")
    assert len(relu) == len(ASSIGNMENT.component("ReLU").checks)  # each calls updateOutput
    assert sum("timed out after 2 s" in m for m in relu) == 1
    assert sum("`ReLU.updateOutput` did not return within 2 s in an earlier check" in m
               for m in relu) == len(relu) - 1
    assert result.component("Flatten").score == result.component("Flatten").max_score


@pytest.mark.slow
def test_mnist_is_not_trained_with_a_component_that_hangs(tmp_path):
    grader = Grader(ASSIGNMENT, check_timeout=3.0)
    result = grader.grade(load_submission(attacked(tmp_path, "infinite_loop")),
                          only=["ReLU", "MNIST"])
    (mnist,) = result.component("MNIST").checks
    assert not mnist.passed and mnist.cause == Cause.TIMEOUT
    assert mnist.message.startswith("not run: `ReLU.updateOutput` did not return within 3 s")
    assert result.seconds < ASSIGNMENT.mnist["time_budget"]  # the training was stopped


def test_the_budget_cuts_off_checks_and_keeps_the_points_earned(tmp_path):
    grader = Grader(ASSIGNMENT, mnist=False, check_timeout=30.0, budget=8.0)
    result = grader.grade(load_submission(attacked(tmp_path, "infinite_loop")),
                          only=["Linear", "ReLU", "Flatten"])
    public = [k for k in result.component("Linear").checks if k.visibility == "public"]
    assert all(k.passed for k in public)  # graded before the budget ran out (hidden: after)
    cut = [k for c in ("ReLU", "Flatten") for k in result.component(c).checks]
    assert all(k.cause == Cause.BUDGET and k.score == 0 for k in cut)
    assert any(k.message.startswith("not run: the submission's total time budget of 8 s")
               for k in cut)
    assert result.budget == 8.0 and result.to_json()["budget_used"] > 0.9


@pytest.mark.slow
def test_a_process_swarm_costs_nothing_mnist_included(tmp_path):
    """40 detached children that exit at once: reaped, so the worker's process slots (and its
    BLAS threads for the training) stay free; the same score as the honest code."""
    result = Grader(ASSIGNMENT).grade(load_submission(attacked(tmp_path, "process_swarm")),
                                      only=["ReLU", "Flatten", "MNIST"])
    assert result.score == result.max_score, [messages(result, c.name)
                                              for c in result.components]
    assert result.notes == []


def test_grade_always_writes_a_result(tmp_path, monkeypatch):
    """A grader failure is not the student's: the JSON says so, and exit status 1 (2 stays
    for usage errors)."""
    out = tmp_path / "out.json"
    env = {**os.environ, "NNGRADE_CACHE": "off", "XDG_CACHE_HOME": str(tmp_path)}
    # A tolerance table that breaks the grader itself (not the submission's code).
    spec = tmp_path / "assignment.toml"
    text = (REPO / "assignments" / "modules" / "assignment.toml").read_text()
    spec.write_text(text.replace('float64 = { rtol = 1e-5, atol = 1e-7 }',
                                 'float64 = { rtol = "x", atol = 1e-7 }'))
    proc = subprocess.run([sys.executable, "-m", "autograder", "grade", str(SOLUTION),
                           "--assignment", str(spec), "--no-mnist", "--json", str(out)],
                          capture_output=True, text=True, env=env, cwd=REPO, timeout=300)
    assert proc.returncode in (0, 1), proc.stderr
    data = json.loads(out.read_text())
    assert data["max_score"] > 0 and "components" in data
    usage = subprocess.run([sys.executable, "-m", "autograder", "grade", "/no/such/file.py"],
                           capture_output=True, text=True, env=env, cwd=REPO, timeout=60)
    assert usage.returncode == 2 and "error" in usage.stderr


def test_budget_must_be_positive():
    proc = subprocess.run([sys.executable, "-m", "autograder", "grade", str(SOLUTION),
                           "--budget", "0"], capture_output=True, text=True, cwd=REPO,
                          timeout=60)
    assert proc.returncode == 2 and "greater than 0" in proc.stderr
