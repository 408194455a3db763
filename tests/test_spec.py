"""The assignment spec loader: typed check parameters, and authoring mistakes caught on load."""

from __future__ import annotations

import dataclasses
import re
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.check_params import KIND_PARAMS, render_reference, type_error
from autograder.kinds import REGISTRY
from autograder.spec import ASSIGNMENTS_DIR, REPO_ROOT, SpecError, load_assignment

MODULES = ASSIGNMENTS_DIR / "modules" / "assignment.toml"
LINEAR_FORWARD = '{ kind = "forward", name = "forward matches PyTorch", points = 2, trials = 6 }'


def _load_edited(tmp_path: Path, old: str, new: str) -> tuple[str, str]:
    """Load modules' spec with the first ``old`` replaced by ``new``: the error and the text."""
    text = MODULES.read_text()
    assert old in text
    text = text.replace(old, new, 1)
    path = tmp_path / "assignment.toml"
    path.write_text(text)
    with pytest.raises(SpecError) as info:
        load_assignment(path)
    return str(info.value), text


def _line(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def _located(message: str) -> int:
    match = re.match(r".*assignment\.toml:(\d+): ", message)
    assert match, message
    return int(match.group(1))


def test_both_assignments_load_with_typed_parameters():
    for name in ("modules", "extended"):
        for comp in load_assignment(name).components:
            for check in comp.checks:
                assert type(check.params) is KIND_PARAMS[check.kind], (comp.name, check.name)


def test_parameters_merge_the_component_and_the_check():
    softmax = load_assignment("modules").component("SoftMax")
    scales = {c.name: c.params.input_scale for c in softmax.checks}
    assert scales["forward matches PyTorch"] == 3.0  # the component's
    assert scales["stable for logits around +-1000"] == 1000.0  # the check's own
    assert softmax.checks[0].params.input_shift == 0.0  # the declared default


def test_a_component_key_goes_to_the_checks_that_read_it():
    """BatchNorm's state_update is component-level, read only by its stateful checks."""
    bn = load_assignment("modules").component("BatchNormalization")
    stateful = next(c for c in bn.checks if c.kind == "stateful")
    forward = next(c for c in bn.checks if c.kind == "forward")
    assert set(stateful.params.state_update) == {"moving_mean", "moving_variance"}
    assert not hasattr(forward.params, "state_update")


def test_unknown_check_key_names_the_line_and_the_fix(tmp_path):
    message, text = _load_edited(tmp_path, LINEAR_FORWARD,
                                 LINEAR_FORWARD[:-2] + ", input_scal = 2.0 }")
    assert message.endswith(": component Linear, check \"forward matches PyTorch\": unknown "
                            "key 'input_scal' (did you mean 'input_scale'?)"), message
    assert _located(message) == _line(text, "input_scal =")


def test_unknown_component_key_names_the_line_and_the_fix(tmp_path):
    message, text = _load_edited(tmp_path, 'input_scale = 3.0\nreference = "torch.softmax',
                                 'input_scael = 3.0\nreference = "torch.softmax')
    assert "component SoftMax: unknown key 'input_scael' (did you mean 'input_scale'?)" \
        in message, message
    assert _located(message) == _line(text, "input_scael")


def test_a_parameter_of_another_kind_is_named(tmp_path):
    message, _ = _load_edited(tmp_path, LINEAR_FORWARD, LINEAR_FORWARD[:-2] + ", depth = [2, 4] }")
    assert "unknown key 'depth'" in message
    assert "a parameter of sequential_backward" in message and "not of kind 'forward'" in message


def test_unknown_check_kind_names_the_line_and_the_fix(tmp_path):
    message, text = _load_edited(tmp_path, LINEAR_FORWARD,
                                 LINEAR_FORWARD.replace('"forward"', '"forwrad"'))
    assert "check \"forward matches PyTorch\": unknown check kind 'forwrad' " \
           "(did you mean 'forward'?)" in message, message
    assert _located(message) == _line(text, "forwrad")


@pytest.mark.parametrize(("old", "new", "needle", "expected"), [
    ('input_scale = 3.0\nreference = "torch.softmax', 'input_scale = "3"\nreference = '
     '"torch.softmax', 'input_scale = "3"', "key 'input_scale': expected float, got str '3'"),
    (LINEAR_FORWARD, LINEAR_FORWARD[:-2] + ", float32 = 0 }", "float32 = 0",
     "key 'float32': expected bool, got int 0"),
    ('grads = { W = "gradW", b = "gradb" }', 'grads = { W = "gradW", b = 1 }', "b = 1",
     "key 'grads': 'b': expected str, got int 1"),
    (LINEAR_FORWARD, LINEAR_FORWARD.replace("trials = 6", "trials = 2.5"), "trials = 2.5",
     "key 'trials': expected int, got float 2.5"),
])
def test_wrong_type_names_the_line(tmp_path, old, new, needle, expected):
    message, text = _load_edited(tmp_path, old, new)
    assert expected in message, message
    assert _located(message) == _line(text, needle)


def test_type_checks():
    assert type_error(3, float) is None  # TOML integers are numbers
    assert type_error(True, float) is not None
    assert type_error(None, str | None) is None
    assert type_error(["batch", 3], list[str | int]) is None
    assert type_error(["batch", 3.5], list[str | int]) == \
        "item 1: expected str | int, got float 3.5"


def test_every_kind_declares_its_parameters_with_help():
    assert set(KIND_PARAMS) == set(REGISTRY)
    for kind, cls in KIND_PARAMS.items():
        for f in dataclasses.fields(cls):
            assert f.metadata.get("help", "").strip(), (kind, f.name)


def test_spec_reference_is_generated():
    """docs/spec_reference.md is `python -m autograder.check_params` output: regenerate it."""
    assert (REPO_ROOT / "docs" / "spec_reference.md").read_text() == render_reference()


def test_the_loader_does_not_import_the_check_kinds():
    code = "import sys, autograder.spec; assert 'autograder.kinds' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


# --- the 2025-2026 edition: an assignment that extends another --------------------------

EDITION = ASSIGNMENTS_DIR / "edition-2025" / "assignment.toml"
CONV_DIMS = 'dims = { batch = [2, 3], c_in = [2, 3]'
CONV_REFERENCE = 'reference = "conv(x, weight, bias if has_bias else None, stride,'


def _edition_edited(tmp_path: Path, old: str, new: str) -> tuple[str, str]:
    text = EDITION.read_text()
    assert old in text
    text = text.replace(old, new, 1)
    path = tmp_path / "assignment.toml"
    path.write_text(text)
    with pytest.raises(SpecError) as info:
        load_assignment(path)
    return str(info.value), text


def test_the_edition_unknown_key_names_the_line_and_the_fix(tmp_path):
    message, text = _edition_edited(tmp_path, "init_kwargs = {", "init_kwarg = {")
    assert _located(message) == _line(text, "init_kwarg = {")
    assert "unknown key 'init_kwarg'" in message and "did you mean 'init_kwargs'" in message


def test_the_edition_unknown_check_kind_names_the_line_and_the_fix(tmp_path):
    old = '{ kind = "input_grad", name = "gradInput matches PyTorch", points = 2, trials = 6'
    message, text = _edition_edited(tmp_path, old, old.replace("input_grad", "input_gard"))
    assert _located(message) == _line(text, "input_gard")
    assert "unknown check kind 'input_gard'" in message and "did you mean 'input_grad'" in message


def test_an_undefined_dimension_names_the_line_and_the_closest_size(tmp_path):
    old = 'input = ["batch", "c_in", "h", "w"]\n# The course assigns'
    message, text = _edition_edited(tmp_path, old, old.replace('"c_in", "h"', '"c_inn", "h"'))
    assert _located(message) == _line(text, '"c_inn"')
    assert "dimension 'c_inn'" in message and "did you mean 'c_in'" in message


def test_a_failing_reference_expression_names_the_line_and_the_closest_name(tmp_path):
    message, text = _edition_edited(tmp_path, CONV_REFERENCE + " padding,",
                                    CONV_REFERENCE + " paddng,")
    assert _located(message) == _line(text, "paddng")
    assert "fails on a sample input" in message and "did you mean 'padding'" in message


def test_sizes_pytorch_rejects_are_caught_on_load(tmp_path):
    """Reflect padding wider than the image: PyTorch raises, so grading would give everyone
    zero for Conv2d."""
    message, _ = _edition_edited(tmp_path, 'h = [5, 8], w = [5, 8] }', 'h = [1, 1], w = [5, 8] }')
    assert "fails on a sample input" in message and "Conv2d" in message


def test_drop_of_an_unknown_component_is_named(tmp_path):
    message, _ = _edition_edited(tmp_path, '"MaxPool2d", "Flatten"]', '"MaxPool2D", "Flatten"]')
    assert "drop" in message and "did you mean 'MaxPool2d'" in message


def test_the_classic_has_an_alias_and_the_edition_inherits_from_it():
    classic = load_assignment("classic")
    assert classic.name == "modules" and classic.path == MODULES
    edition = load_assignment("edition-2025")
    assert edition.component("SoftMax") == classic.component("SoftMax")
    assert edition.mnist["criterion"] == classic.mnist["criterion"]  # inherited
    assert edition.mnist["optimizer"] == "grader:adam"  # overridden


def test_json_schema_is_generated_and_both_assignments_validate():
    import json
    import tomllib

    import jsonschema

    from autograder.check_params import render_schema

    path = REPO_ROOT / "docs" / "assignment.schema.json"
    assert path.read_text() == render_schema(), "python -m autograder.check_params --schema"
    schema = json.loads(path.read_text())
    for spec in (MODULES, EDITION, ASSIGNMENTS_DIR / "extended" / "assignment.toml"):
        jsonschema.validate(tomllib.loads(spec.read_text()), schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"assignment": {"extend": "modules"}}, schema)
