"""API contracts of the containers and the given base classes, and the course's libraries.

Each case is a small patch of solutions/modules.py with one mistake; the grader must catch it
in its component and in no other. The given base classes (Module, Criterion) are checked
through the grader's probe subclasses, so their bugs cost points there only.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from corpus import MODULES, Replacement, apply

from autograder.grade import Grader
from autograder.results import GradeResult
from autograder.spec import load_assignment
from autograder.submission import load_submission

SHIM_NOTE = "skimage.util.pad was removed in scikit-image 0.19; graded with numpy.pad"

CASES: dict[str, tuple[str, list[Replacement], str]] = {
    # id: (component, patch, a phrase a failing check of that component must say)
    "seq_no_store_output": ("Sequential", [MODULES.rewrite("Sequential.updateOutput", """
        out = input
        for module in self.modules:
            out = module.forward(out)
        return out
        """)], "self.output is None"),
    "seq_no_store_grad_input": ("Sequential", [MODULES.rewrite("Sequential.backward", """
        grad = gradOutput
        for i in reversed(range(len(self.modules))):
            module_input = self.modules[i - 1].output if i > 0 else input
            grad = self.modules[i].backward(module_input, grad)
        return grad
        """)], "self.gradInput is None"),
    "seq_acc_propagated_grad": ("Sequential", [MODULES.rewrite("Sequential.backward", """
        grad = gradOutput
        for i in reversed(range(len(self.modules))):
            module_input = self.modules[i - 1].output if i > 0 else input
            grad_input = self.modules[i].updateGradInput(module_input, grad)
            self.modules[i].accGradParameters(module_input, grad_input)
            grad = grad_input
        self.gradInput = grad
        """)], "accGradParameters was given the gradient"),
    "criterion_forward_no_return": ("Criterion", [(
        "        return self.updateOutput(input, target)\n",
        "        self.updateOutput(input, target)\n")], "forward() returned None"),
    "criterion_backward_wrong_method": ("Criterion", [(
        "        return self.updateGradInput(input, target)\n",
        "        return self.updateOutput(input, target)\n")], "must call updateGradInput"),
    "module_forward_drops_output": ("Module", [(
        "        return self.updateOutput(input)\n",
        "        output = self.updateOutput(input)\n        self.output = None\n"
        "        return output\n")], "self.output is None"),
    "module_backward_returns_nothing": ("Module", [(
        "        self.accGradParameters(input, gradOutput)\n        return self.gradInput\n",
        "        self.accGradParameters(input, gradOutput)\n")], "backward()'s return value"),
}


def _grade(path: Path, assignment=None) -> GradeResult:
    return Grader(assignment or load_assignment("modules"), mnist=False).grade(
        load_submission(path))


def _losers(result: GradeResult) -> list[str]:
    return [c.name for c in result.components if c.score < c.max_score]


def _messages(result: GradeResult, component: str) -> str:
    comp = next(c for c in result.components if c.name == component)
    return "\n".join(f"{k.name}: {k.message}" for k in comp.checks if not k.passed)


@pytest.mark.parametrize("case", list(CASES))
def test_contract_bug_is_caught_in_its_component_only(tmp_path, case):
    component, patch, phrase = CASES[case]
    path = tmp_path / f"{case}.py"
    path.write_text(apply(MODULES.text(), patch, case))
    result = _grade(path)
    assert _losers(result) == [component], (
        f"{case}: lost points in {_losers(result)}\n"
        + "\n".join(_messages(result, c) for c in _losers(result)))
    assert phrase in _messages(result, component), _messages(result, component)


def test_criterion_is_graded_in_both_assignments():
    for name in ("modules", "extended"):
        comp = load_assignment(name).component("Criterion")
        assert comp.kind == "criterion_base" and comp.points > 0


# -- the course's libraries ------------------------------------------------------------------
def _skimage_submission(tmp_path: Path) -> Path:
    text = MODULES.text()
    conv = text.index("class Conv2d(")
    end = text.index("\nclass ", conv + 1)
    body = text[conv:end]
    assert "np.pad(" in body
    text = text[:conv] + body.replace("np.pad(", "skimage.util.pad(") + text[end:]
    text = text.replace("import numpy as np\n", "import numpy as np\nimport skimage\n", 1)
    path = tmp_path / "skimage_pad.py"
    path.write_text(text)
    return path


def test_skimage_util_pad_is_shimmed_and_noted(tmp_path):
    result = _grade(_skimage_submission(tmp_path))
    assert _losers(result) == [], _messages(result, "Conv2d")
    assert any(SHIM_NOTE in note for note in result.notes), result.notes


def test_without_the_shim_skimage_util_pad_fails_clearly(tmp_path):
    assignment = dataclasses.replace(load_assignment("modules"), shims=())
    result = _grade(_skimage_submission(tmp_path), assignment)
    assert _losers(result) == ["Conv2d"]
    assert "module 'skimage.util' has no attribute 'pad'" in _messages(result, "Conv2d")
    assert not any(SHIM_NOTE in note for note in result.notes)


def test_the_reference_gets_no_shim_note():
    result = Grader(load_assignment("modules"), mnist=False).grade(
        load_submission(Path(__file__).resolve().parents[1] / "solutions" / "modules.py"),
        only=["Conv2d"])
    assert result.notes == []


def test_forbidden_imports_stay_forbidden_beside_allowed_packages(tmp_path):
    path = tmp_path / "torch_user.py"
    path.write_text(MODULES.text().replace("import numpy as np\n",
                                            "import numpy as np\nimport skimage\nimport torch\n",
                                            1))
    result = Grader(load_assignment("modules"), mnist=False).grade(load_submission(path),
                                                                   only=["Linear"])
    assert result.components[0].score == 0
    assert any("torch" in note and "not allowed" in note for note in result.notes), result.notes
