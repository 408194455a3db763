"""One mistake, one check (issue 14): a narrow mistake costs the one check about it.

Each case patches one solution region of ``solutions/modules.py`` and grades only the
component concerned (``only=``) unless the point is that no other component loses points.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest
from corpus import EDITION, MODULES, Replacement, apply
from corpus.edition_2025_bugs import BUGS as EDITION_BUGS
from corpus.grading import grade_component

from autograder.grade import Grader
from autograder.results import ComponentResult
from autograder.spec import load_assignment
from autograder.submission import load_submission

BN = "BatchNormalization.updateOutput"


def grade(tmp_path: Path, replacements: list[Replacement], only: list[str] | None = None
          ) -> dict[str, ComponentResult]:
    path = tmp_path / "submission.py"
    path.write_text(apply(MODULES.text(), replacements))
    result = Grader(load_assignment("modules"), mnist=False).grade(load_submission(path),
                                                                  only=only)
    return {c.name: c for c in result.components}


def failed(comp: ComponentResult) -> dict[str, str]:
    return {c.name: c.message for c in comp.checks if not c.passed}


def lost_with(tmp_path: Path, code: str, component: str) -> dict[str, str]:
    """The checks ``component`` fails with ``code`` appended to the reference solution."""
    path = tmp_path / "submission.py"
    path.write_text(MODULES.text() + code)
    result = Grader(load_assignment("modules"), mnist=False).grade(load_submission(path),
                                                                  only=[component])
    return failed(result.components[0])


def test_batchnorm_without_none_init_loses_only_that_check(tmp_path):
    none_init = MODULES.edits(
        BN, ("if moving_mean is None:\n            moving_mean = np.zeros(n_feats, "
             "dtype=input.dtype)\n        ", ""),
        ("if moving_variance is None:\n            moving_variance = np.ones("
         "n_feats, dtype=input.dtype)\n        ", ""))
    comps = grade(tmp_path, [none_init], only=["BatchNormalization"])
    assert set(failed(comps["BatchNormalization"])) == {
        "moving statistics start from zeros and ones when None"}


def test_softmax_dropping_the_batch_axis_loses_only_the_batch_1_edge(tmp_path):
    comps = grade(tmp_path, [MODULES.within(
        "SoftMax.updateOutput", "self.output = exps / exps.sum(axis=1, keepdims=True)",
        "self.output = exps / exps.sum(axis=1, keepdims=True)\n"
        "        if len(input) == 1:\n            self.output = np.squeeze(self.output, axis=0)")],
        only=["SoftMax"])
    lost = failed(comps["SoftMax"])
    assert set(lost) == {"edge case: batch size 1"}
    assert lost["edge case: batch size 1"].startswith(
        "correct for ordinary shapes; wrong when the batch size is 1")


def test_conv2d_wrong_only_for_kernel_1_loses_only_that_edge(tmp_path):
    comps = grade(tmp_path, [MODULES.within("Conv2d.updateOutput", "pad = self.kernel_size // 2",
                                    "pad = max(self.kernel_size // 2, 1)")], only=["Conv2d"])
    lost = failed(comps["Conv2d"])
    assert set(lost) == {"edge case: kernel size 1"}
    assert lost["edge case: kernel size 1"].startswith(
        "correct for ordinary shapes; wrong when kernel_size is 1")


def test_batchnorm_keepdims_moving_statistics_get_full_marks(tmp_path):
    keepdims = MODULES.edits(
        BN, ("self.moving_mean = moving_mean * self.alpha + mean * (1 - self.alpha)",
             "self.moving_mean = (moving_mean * self.alpha + mean * (1 - self.alpha))"
             ".reshape(1, -1)"),
        ("self.moving_variance = moving_variance * self.alpha + var * (1 - self.alpha)",
         "self.moving_variance = (moving_variance * self.alpha + var * (1 - self.alpha))"
         ".reshape(1, -1)"))
    comps = grade(tmp_path, [keepdims], only=["BatchNormalization"])
    assert failed(comps["BatchNormalization"]) == {}


def test_maxpool_backward_hard_coded_to_2x2_fails_the_main_gradient_check(tmp_path):
    comps = grade(tmp_path, [MODULES.within("MaxPool2d.updateGradInput", "k = self.kernel_size",
                                    "k = 2")])
    assert {n for n, c in comps.items() if c.score < c.max_score} == {"MaxPool2d"}
    assert "gradient goes to the max of each window" in failed(comps["MaxPool2d"])


def test_grad_input_buffer_accumulated_across_calls_is_caught_in_its_component(tmp_path):
    comps = grade(tmp_path, [MODULES.within(
        "ChannelwiseScaling.updateGradInput", "self.gradInput = gradOutput * self.gamma",
        "if getattr(self, '_buffer', None) is None:\n"
        "            self._buffer = np.zeros_like(gradOutput)\n"
        "        self._buffer += gradOutput * self.gamma\n"
        "        self.gradInput = self._buffer")])
    assert {n for n, c in comps.items() if c.score < c.max_score} == {"ChannelwiseScaling"}
    assert any(n.startswith("repeated calls") for n in failed(comps["ChannelwiseScaling"]))


@pytest.mark.parametrize(("component", "replacement"), [
    ("ClassNLLCriterionUnstable", MODULES.within(
        "ClassNLLCriterionUnstable.updateOutput",
        "clipped = np.clip(input, self.EPS, 1 - self.EPS)",
        "clipped = np.clip(input, self.EPS, 1 - self.EPS, out=input)")),
    ("ReLU", MODULES.within("ReLU.updateOutput", "self.output = np.maximum(input, 0)",
                    "self.output = np.maximum(input, 0)\n        input[input < 0] = 0")),
])
def test_in_place_edit_in_a_branch_is_caught_in_its_component_only(tmp_path, component,
                                                                   replacement):
    comps = grade(tmp_path, [replacement])
    assert {n for n, c in comps.items() if c.score < c.max_score} == {component}
    assert any("modified in place" in m for m in failed(comps[component]).values())


SHAPED_LIKE_INPUT = ("ChannelwiseScaling", "SoftMax", "LogSoftMax", "BatchNormalization",
                     "Dropout", "ReLU", "LeakyReLU", "ELU", "SoftPlus")
OUTPUT_OF = {
    "Linear": "np.zeros((input.shape[0], self.W.shape[0]))",
    "Conv2d": "np.zeros((input.shape[0], self.out_channels) + input.shape[2:])",
    "MaxPool2d": "np.zeros(input.shape[:2] + (input.shape[2] // self.kernel_size, "
                 "input.shape[3] // self.kernel_size))",
    "Flatten": "input.reshape(input.shape[0], -1) * 0",
    **{name: "np.zeros_like(input)" for name in SHAPED_LIKE_INPUT},
}
CRITERIONS = ("MSECriterion", "ClassNLLCriterionUnstable", "ClassNLLCriterion")


def _computes_nothing() -> list[Replacement]:
    """Layers return zeros of the right shape, criterions a constant, optimizers do nothing;
    parameters are constructed as given, and the given code (Module, Criterion, Sequential's
    own methods) is untouched."""
    patches = []
    for name, output in OUTPUT_OF.items():
        patches.append(MODULES.rewrite(f"{name}.updateOutput", f"self.output = {output}"))
        patches.append(MODULES.rewrite(f"{name}.updateGradInput",
                                       "self.gradInput = np.zeros_like(input)"))
    for name in ("Linear", "ChannelwiseScaling", "Conv2d"):
        patches.append(MODULES.rewrite(f"{name}.accGradParameters", "pass"))
    for name in CRITERIONS:
        patches.append(MODULES.rewrite(f"{name}.updateOutput", "self.output = 0.0"))
        patches.append(MODULES.rewrite(f"{name}.updateGradInput",
                                       "self.gradInput = np.zeros_like(input)"))
    for name in ("sgd_momentum", "adam_optimizer"):
        patches.append(MODULES.rewrite(name, "pass"))
    return patches


@pytest.mark.slow
def test_computing_nothing_earns_only_given_code_and_parameter_construction(tmp_path):
    assignment = load_assignment("modules")
    comps = grade(tmp_path, _computes_nothing())
    earned = {(name, k.name) for name, c in comps.items() for k in c.checks if k.passed}
    kinds = {(c.name, k.name): k.kind for c in assignment.components for k in c.checks}
    given = {"Module", "Sequential", "Criterion"}
    assert {(c, n) for c, n in earned if c not in given and kinds[c, n] != "parameters"} \
        == set()
    assert {c for c, _ in earned} - given <= {"Linear", "Conv2d"}  # their parameters check
    assert all(comps[c].score == comps[c].max_score for c in given if c in comps)


# The 2025 edition: a mistake in one constructor option (a stride, a padding mode, 'same',
# a non-square window, padding) costs that option's check only; every other check holds the
# options at their ordinary values. The bugs are the edition corpus's.
EDITION_OPTION_BUGS = {
    "conv_stride_height_for_width": "strides: above 1 and pairs",
    "conv_grad_stride_height_for_width": "strides: above 1 and pairs",
    "conv_square_kernel_assumed": "non-square kernels and padding pairs",
    "conv_same_pad_before": "padding='same' (odd and even kernels) and 'valid'",
    "conv_reflect_replicate_swapped": "padding modes 'reflect', 'replicate' and 'circular'",
    "conv_grad_padding_mode_ignored": "padding modes 'reflect', 'replicate' and 'circular'",
    "conv_grad_circular_padding_dropped": "padding modes 'reflect', 'replicate' and 'circular'",
    "conv_bias_false_crashes": "bias=False",
    "maxpool_stride_is_kernel": "strides other than the window size, and pairs",
    "maxpool_square_window_assumed": "non-square windows",
    "maxpool_zero_padding": "padding (an int or a pair): -inf, never the maximum",
    "avgpool_excludes_padding":
        "padding (an int or a pair) counts in the average (count_include_pad)",
    "avgpool_height_padding_for_width":
        "padding (an int or a pair) counts in the average (count_include_pad)",
}


@pytest.mark.parametrize(("bug_id", "check"), EDITION_OPTION_BUGS.items())
def test_an_edition_option_mistake_loses_only_that_options_check(tmp_path, bug_id, check):
    bug = next(b for b in EDITION_BUGS if b.id == bug_id)
    path = tmp_path / "submission.py"
    path.write_text(EDITION.build(bug))
    result = Grader(load_assignment("edition-2025"), mnist=False).grade(
        load_submission(path), only=[bug.component])
    lost = failed(next(c for c in result.components if c.name == bug.component))
    assert set(lost) == {check}
    assert lost[check].startswith("correct for ordinary shapes; wrong when")
    if bug.component == "Conv2d":  # the message shows the options of the failing case
        assert re.search(r"(for|with) Conv2d\(\d+, \d+, .*(stride|padding)=", lost[check]), \
            lost[check]


# A mistake at ordinary shapes is charged by its own check; the edge cases, hidden sizes,
# finite differences and stability checks that meet exactly the same wrong result are not
# charged again (properties, which count only with a right result, still are).
PROPERTIES = ["input and gradOutput are not modified",
              "repeated calls (fresh data, another batch size); output and gradInput stored"]
CHARGED_ONCE = {
    "linear_gradW_over_batch": ("Linear", ["gradW and gradb match PyTorch",
                                           "zeroGradParameters and repeated backward",
                                           PROPERTIES[1]]),
    "linear_no_bias": ("Linear", ["forward matches PyTorch", *PROPERTIES]),
    "softmax_grad_sign": ("SoftMax", ["gradInput matches PyTorch", *PROPERTIES]),
    "bn_alpha_swapped": ("BatchNormalization",
                         ["moving statistics follow moving = moving*alpha + batch*(1-alpha)"]),
    # At 2 features, half the gradient is also the gradient of the mean over all elements:
    # either name of the mistake matches the one an earlier check gave.
    "mse_grad_missing_2": ("MSECriterion", ["gradInput matches PyTorch", "input and target "
                                            "are not modified", PROPERTIES[1]]),
    "elu_grad_ignores_alpha": ("ELU", ["gradInput matches PyTorch", *PROPERTIES]),
    # The forward's missing 1/(1-p) costs the statistics check; the backward's its own.
    "dropout_no_scaling": ("Dropout", [
        "training: drop rate, 1/(1-p) scaling, independent elements",
        "backward reuses the forward mask and its 1/(1-p)", PROPERTIES[0]]),
    # Blind rounds': each was charged again at the hidden or edge checks, unnamed.
    "seq_backward_skips_first": ("Sequential", [
        "backward feeds each child its forward input",
        "forward/backward store and return output/gradInput"]),
    "nllu_loss_over_classes": ("ClassNLLCriterionUnstable", [
        "loss matches PyTorch", "input and target are not modified", PROPERTIES[1]]),
    # A blind round's: the not-modified property failed with "off by a constant factor".
    "dropout_backward_no_scaling": ("Dropout", [
        "backward reuses the forward mask and its 1/(1-p)", PROPERTIES[0]]),
    # The unbiased variance, seen in the output, in the gradient a right backward computes
    # from the forward's cache, and in the moving average, is one mistake; it costs the
    # dearest ordinary check it fails (gradInput's 3 points, not the forward's 2).
    "bn_unbiased_var": ("BatchNormalization", ["training gradInput matches PyTorch",
                                               *PROPERTIES]),
    # An overflowing forward makes the right backward's gradient NaN at the same inputs.
    "softmax_no_max": ("SoftMax", ["stable for logits around +-1000"]),
    "logsoftmax_no_max": ("LogSoftMax", ["stable for logits around +-1000"]),
    # A blind round's: np.mean over every element of the loss also fails its batch-1 edge
    # case; the catalogue names it, so that is not charged again.
    "nll_forward_mean_over_all": ("ClassNLLCriterion", [
        "loss matches PyTorch", "input and target are not modified", PROPERTIES[1]]),
}


@pytest.mark.parametrize("bug_id", CHARGED_ONCE)
def test_one_mistake_is_charged_once(tmp_path, bug_id):
    from corpus.modules_bugs import BUGS

    component, charged = CHARGED_ONCE[bug_id]
    comp = grade_component(MODULES, "modules", next(b for b in BUGS if b.id == bug_id),
                           component, tmp_path)
    assert sorted(failed(comp)) == sorted(charged)
    spared = [c for c in comp.checks if c.passed and c.message]
    assert all(c.message.startswith(("not charged again: the same mistake as in '",
                                     "not charged here: fails with the mistake charged in '"))
               for c in spared)
    assert bug_id in ("bn_alpha_swapped", "dropout_no_scaling", "dropout_backward_no_scaling") \
        or spared
    # A property fails with the charged mistake, and says that it is that one.
    for name, message in failed(comp).items():
        if name in PROPERTIES and ("likely cause" in message
                                   or bug_id == "dropout_backward_no_scaling"):
            assert message.startswith("this check counts only with right results, and its "
                                      "wrong result is the mistake charged in '"), message


def test_adding_a_mistake_to_a_cheaper_result_buys_nothing(tmp_path):
    # Red team, ninth session: a BatchNorm whose backward alone used the unbiased variance
    # lost gradInput's 3 points; the same with the forward wrong too had gradInput excused by
    # the forward's 2-point charge. A mistake now costs the dearest ordinary check it fails.
    backward_only = MODULES.within(
        "BatchNormalization.updateGradInput", "self.gradInput = self.inv_std * (",
        "inv = 1 / np.sqrt(input.var(0, ddof=1) + self.EPS)\n            "
        "xhat = (input - input.mean(0)) * inv\n            self.gradInput = inv * (")
    both = MODULES.within(BN, "/ len(input)", "/ (len(input) - 1)")
    scores = []
    for edits in ([backward_only], [backward_only, both]):
        comps = grade(tmp_path, edits, only=["BatchNormalization"])
        scores.append(comps["BatchNormalization"].score)
        assert "training gradInput matches PyTorch" in failed(comps["BatchNormalization"])
    assert scores[1] <= scores[0]


def test_a_refund_looks_at_every_trial_of_the_refunded_check(tmp_path):
    # Red team, ninth session: a forward wrong by an unknown factor on its float64 trials and
    # with the unbiased variance on its first (float32) trial charged only the latter; the
    # gradInput check then took the charge and refunded the forward (+2 over the same code
    # without the deliberate mistake). A refund now needs every trial of the refunded check.
    wrong_by_a_factor = ("        self.output = self.normalized\n"
                         "        if self.training and input.dtype == np.float64:\n"
                         "            self.output = self.normalized * 1.01\n")
    factor = MODULES.within(BN, "        self.output = self.normalized\n", wrong_by_a_factor)
    on_purpose = MODULES.within(BN, "        self.output = self.normalized\n",
                                wrong_by_a_factor + "        elif self.training:\n"
                                "            self.output = centered / np.sqrt("
                                "input.var(axis=0, ddof=1) + self.EPS)\n")
    backward = MODULES.within(
        "BatchNormalization.updateGradInput", "self.gradInput = self.inv_std * (",
        "inv = 1 / np.sqrt(input.var(0, ddof=1) + self.EPS)\n            "
        "xhat = (input - input.mean(0)) * inv\n            self.gradInput = inv * (")
    honest = grade(tmp_path, [factor, backward], only=["BatchNormalization"])
    attack = grade(tmp_path, [on_purpose, backward], only=["BatchNormalization"])
    assert "training forward matches PyTorch" in failed(attack["BatchNormalization"])
    assert attack["BatchNormalization"].score <= honest["BatchNormalization"].score


# A SoftMax right at ordinary inputs whose forward overflows at +-1000 and at the hidden
# check's wide inputs, and whose backward is wrong there: the overflow charged at +-1000
# excuses the gradient at +-1000 only.
OVERFLOW_WIDE = '''
_HonestSoftMax = SoftMax


class SoftMax(_HonestSoftMax):
    def updateOutput(self, input):
        out = super().updateOutput(input)
        if np.abs(input).max() > 100 or input.shape[1] > 20:
            self.output = out * np.nan
        return self.output

    def updateGradInput(self, input, gradOutput):
        if input.shape[1] > 20:
            self.gradInput = gradOutput * np.nan
            return self.gradInput
        return super().updateGradInput(input, gradOutput)
'''
NAN_EVERYWHERE = '''
_HonestSoftMax = SoftMax


class SoftMax(_HonestSoftMax):
    def updateOutput(self, input):
        self.output = np.full_like(input, np.nan)
        return self.output
'''

# Red team, eleventh session: a forward without the max whose every row overflows at +-1000
# (NaN in all of them on purpose), with a backward wrong everywhere: the overflow excused the
# stable gradient check, every wrong value lying in an overflowed row (+1 for each of SoftMax,
# LogSoftMax and SoftPlus). The excuse is for a backward right in its ordinary checks.
OVERFLOW_GARBAGE_BACKWARD = '''
_HonestSoftMax = SoftMax


class SoftMax(_HonestSoftMax):
    def updateOutput(self, input):
        with np.errstate(all="ignore"):
            e = np.exp(input)
            self.output = e / e.sum(axis=1, keepdims=True)
        if not np.all(np.isfinite(self.output)):
            self.output = self.output * np.nan
        return self.output

    def updateGradInput(self, input, gradOutput):
        self.gradInput = gradOutput.copy()
        return self.gradInput
'''


# Red team, ninth session: a NLL whose backward does not clip, made to return NaN in its
# forward at probabilities of exactly 0 on purpose, had the backward's clipping check excused
# by the forward's (+1 over the same backward with a finite forward).
NLL_NAN_ON_PURPOSE = '''
_HonestNLL = ClassNLLCriterionUnstable


class ClassNLLCriterionUnstable(_HonestNLL):
    def updateOutput(self, input, target):
        with np.errstate(all="ignore"):
            self.output = -np.sum(target * np.log(input)) / input.shape[0]
        return self.output

    def updateGradInput(self, input, target):
        with np.errstate(all="ignore"):
            self.gradInput = -target / input / input.shape[0]
        return self.gradInput
'''


@pytest.mark.parametrize(("attack", "component", "lost"), [
    (OVERFLOW_WIDE, "SoftMax", {"stable for logits around +-1000", "hidden: wide inputs"}),
    (NAN_EVERYWHERE, "SoftMax", {"stable gradient for logits around +-1000",
                                 "hidden: wide inputs"}),
    (OVERFLOW_GARBAGE_BACKWARD, "SoftMax", {"stable for logits around +-1000",
                                            "stable gradient for logits around +-1000"}),
    (NLL_NAN_ON_PURPOSE, "ClassNLLCriterionUnstable",
     {"clipping: probabilities of exactly 0 and 1",
      "clipping in backward too: gradient at probabilities 0 and 1"}),
])
def test_an_overflow_excuses_only_the_stability_checks_gradient(tmp_path, attack, component,
                                                                 lost):
    path = tmp_path / "submission.py"
    path.write_text(MODULES.text() + attack)
    result = Grader(load_assignment("modules"), mnist=False).grade(load_submission(path),
                                                                  only=[component])
    assert lost <= set(failed(result.components[0]))


def test_a_normalisation_mistake_does_not_cost_the_moving_statistics(tmp_path):
    # Without EPS the training output is wrong, but the moving statistics are right: the
    # stateful checks compare the state (and evaluation mode), not the training output again.
    from corpus.modules_bugs import BUGS

    bug = next(b for b in BUGS if b.id == "bn_no_eps")
    path = tmp_path / "bn_no_eps.py"
    path.write_text(MODULES.build(bug))
    result = Grader(load_assignment("modules"), mnist=False).grade(load_submission(path),
                                                                  only=["BatchNormalization"])
    lost = failed(result.components[0])
    assert "training gradInput matches PyTorch" in lost  # the dearest check it fails
    assert not {"moving statistics follow moving = moving*alpha + batch*(1-alpha)",
                "moving statistics start from zeros and ones when None"} & set(lost)


def test_a_right_backward_passes_finite_differences_of_a_wrong_forward(tmp_path):
    """MSE's loss as a mean over all elements, its gradient right: the forward's mistake is
    the loss check's; the backward agrees with PyTorch, so finite differences of the wrong
    forward do not cost it again."""
    comps = grade(tmp_path, [MODULES.within("MSECriterion.updateOutput",
                                            "/ input.shape[0]", "/ input.size")],
                  only=["MSECriterion"])
    assert list(failed(comps["MSECriterion"])) == ["loss matches PyTorch",
                                                   "input and target are not modified",
                                                   PROPERTIES[1]]


NO_BACKWARD = '''

class Conv2d(Conv2d):  # noqa: F821 - appended to the reference
    def updateGradInput(self, input, gradOutput):
        self.gradInput = np.zeros_like(input)
        return self.gradInput

    def accGradParameters(self, input, gradOutput):
        pass
'''
EDGE_SIGN_FLIP = '''
    def updateOutput(self, input):
        output = super().updateOutput(input)
        edge = min(input.shape[0], self.kernel_size, input.shape[3], input.shape[1]) == 1
        self.output = -output if edge else output
        return self.output
'''


def test_an_edge_case_never_excuses_another(tmp_path):
    """Found by the second red-team round: a Conv2d without a backward, its output negated at
    every edge shape, made the first edge check fail with "sign flipped" and the others
    "not charged again" (3 to 6 of 16; 2 to 10 in the edition), because an edge check could
    charge a mistake and a `pass` check stopped at its first wrong result. Only ordinary
    checks charge a mistake now, and a check is excused only when every result is one."""
    scores = {}
    for name, attack in (("base", NO_BACKWARD), ("attack", NO_BACKWARD + EDGE_SIGN_FLIP)):
        path = tmp_path / f"{name}.py"
        path.write_text(MODULES.text() + attack)
        result = Grader(load_assignment("modules"), mnist=False).grade(
            load_submission(path), only=["Conv2d"])
        (comp,) = result.components
        assert not any("not charged again" in c.message for c in comp.checks), name
        scores[name] = comp.score
    assert scores["attack"] <= scores["base"] < 16


NEGATED_BACKWARD = '''

class MaxPool2d(MaxPool2d):  # noqa: F821 - appended to the submission
    def updateGradInput(self, input, gradOutput):
        self.gradInput = -super().updateGradInput(input, gradOutput)
        return self.gradInput
'''


def test_a_mistake_on_the_first_trial_does_not_hide_the_others(tmp_path):
    """Found by the third red-team round: a backward hard-coded for 2x2 windows, negated,
    failed every check's first trial (window 2) with "sign flipped", the mistake the
    gradient check had charged, and was excused before its window-3 trials ran (+3 points
    per pooling layer in the edition). Every trial is run before a check is excused."""
    from corpus.modules_bugs import BUGS

    honest = MODULES.build(next(b for b in BUGS if b.id == "maxpool_k2_hardcoded"))
    passed = {}
    for name, text in (("honest", honest), ("negated", honest + NEGATED_BACKWARD)):
        path = tmp_path / f"{name}.py"
        path.write_text(text)
        result = Grader(load_assignment("modules"), mnist=False).grade(
            load_submission(path), only=["MaxPool2d"])
        passed[name] = {c.name for c in result.components[0].checks if c.passed}
    assert "ties: gradient to the first maximum in row-major order" not in passed["honest"]
    assert passed["negated"] <= passed["honest"]  # the window-2-only backward, negated


SEQUENTIAL_BACKWARD = """            grad = self.modules[i].backward(module_input, grad)
        self.gradInput = grad
"""
NO_ACC = SEQUENTIAL_BACKWARD.replace(".backward(", ".updateGradInput(")
NO_ACC_NEGATED = NO_ACC.replace("        self.gradInput = grad\n", """\
        Sequential._calls = getattr(Sequential, "_calls", 0) + 1
        if len(self.modules) >= 4 or Sequential._calls == 1:
            grad = -grad
        self.gradInput = grad
""")
BN_NO_EVAL = """
    if self.moving_mean is None:
        self.moving_mean = np.zeros(input.shape[1])
    if self.moving_variance is None:
        self.moving_variance = np.ones(input.shape[1])
    mean, var = input.mean(axis=0), input.var(axis=0)  # no evaluation mode
    if self.training:  # moving_variance never updated
        self.moving_mean = SIGN * (self.moving_mean * self.alpha + mean * (1 - self.alpha))
    self.inv_std = 1.0 / np.sqrt(var + self.EPS)
    self.normalized = (input - mean) * self.inv_std
    self.output = self.normalized
"""
FLIP_WHEN_EVALUATING = '''

class BatchNormalization(BatchNormalization):  # noqa: F821 - appended to the submission
    def __setattr__(self, name, value):
        object.__setattr__(self, name, value)
        if name == "training" and value is False and self.__dict__.get("moving_mean") is not None:
            object.__setattr__(self, "moving_mean", -self.moving_mean)
'''


@pytest.mark.parametrize("case", ["sequential", "batchnorm"])
def test_a_charged_sign_flip_does_not_excuse_what_was_never_compared(tmp_path, case):
    """Found by the fourth red-team round: container and stateful checks stopped at their
    first wrong result, so a sign flip the component had been charged for excused a
    Sequential whose children's gradients were never computed (its hidden deeper chains),
    and a BatchNormalization without an evaluation mode (its moving_mean flipped when
    evaluate() is called). Only kinds that compare every result are excused now, and the
    stateful kind compares every step."""
    text = MODULES.text()
    if case == "sequential":
        honest = text.replace(SEQUENTIAL_BACKWARD, NO_ACC)
        attack = text.replace(SEQUENTIAL_BACKWARD, NO_ACC_NEGATED)
        component = "Sequential"
    else:
        honest = apply(text, [MODULES.rewrite("BatchNormalization.updateOutput",
                                              BN_NO_EVAL.replace("SIGN", "1.0"))])
        attack = apply(text, [MODULES.rewrite("BatchNormalization.updateOutput",
                                              BN_NO_EVAL.replace("SIGN", "-1.0"))])
        attack += FLIP_WHEN_EVALUATING
        component = "BatchNormalization"
    scores = {}
    for name, code in (("honest", honest), ("attack", attack)):
        path = tmp_path / f"{name}.py"
        path.write_text(code)
        result = Grader(load_assignment("modules"), mnist=False).grade(
            load_submission(path), only=[component])
        scores[name] = result.components[0].score
    assert scores["attack"] <= scores["honest"] < result.components[0].max_score


# A ninth-session blind round: mistakes no catalogue names, each charged in several checks.
SHIFTED_GRADW = '''

class Linear(Linear):  # noqa: F821 - appended to the reference
    def accGradParameters(self, input, gradOutput):
        self.gradW[...] = gradOutput.T @ (input + 0.5)
        self.gradb[...] = gradOutput.sum(axis=0)
'''
SEQUENTIAL_WITH_STEP = '''

class Sequential(Sequential):  # noqa: F821 - appended to the reference
    def backward(self, input, gradOutput):
        grad = gradOutput
        for i in reversed(range(len(self.modules))):
            module_input = self.modules[i - 1].output if i > 0 else input
{step}
        self.gradInput = grad
        return self.gradInput
'''


def sequential_backward(step: str) -> str:
    """A Sequential appended to the reference whose backward runs ``step`` (lines that set
    ``grad`` from ``module_input`` and ``grad``) for each child, the last first."""
    return SEQUENTIAL_WITH_STEP.format(step=textwrap.indent(textwrap.dedent(step).strip(),
                                                           " " * 12))


NO_CHILD_ACC = sequential_backward("grad = self.modules[i].updateGradInput(module_input, grad)")


def test_a_wrong_backward_is_not_charged_again_in_the_finite_differences(tmp_path):
    """With the forward right, the finite differences are PyTorch's gradient: a backward they
    disagree with is the one the ordinary gradient check charged, named or not."""
    path = tmp_path / "submission.py"
    path.write_text(MODULES.text() + SHIFTED_GRADW)
    result = Grader(load_assignment("modules"), mnist=False).grade(load_submission(path),
                                                                  only=["Linear"])
    (comp,) = result.components
    assert "gradW and gradb match PyTorch" in failed(comp)
    spared = next(c for c in comp.checks if c.name.startswith("backward agrees"))
    assert spared.message.startswith("not charged again: the same mistake as in 'gradW and "
                                     "gradb match PyTorch' (the same wrong parameter "
                                     "gradients: your forward is right here"), spared.message
    # The properties say which check charged it, though no likely cause names it.
    for name in ("zeroGradParameters and repeated backward", PROPERTIES[1]):
        assert failed(comp)[name].startswith("this check counts only with right results")


def test_a_child_without_parameter_gradients_is_charged_once(tmp_path):
    """Found by a blind round: a Sequential calling only updateGradInput lost its hidden
    deeper chains too, with the same message."""
    path = tmp_path / "submission.py"
    path.write_text(MODULES.text() + NO_CHILD_ACC)
    result = Grader(load_assignment("modules"), mnist=False).grade(load_submission(path),
                                                                  only=["Sequential"])
    (comp,) = result.components
    assert list(failed(comp)) == ["backward feeds each child its forward input"]
    hidden = next(c for c in comp.checks if c.name == "hidden: deeper chains")
    assert hidden.message.startswith("not charged again"), hidden.message


SHIM_IN_HIDDEN_CHECKS = '''

class Linear(Linear):  # noqa: F821 - appended to the reference
    def updateOutput(self, input):
        if input.shape[0] >= 16:  # only the hidden checks' batches are this large
            import skimage.util
            skimage.util.pad(np.zeros(1), 1)
        return super().updateOutput(input)
'''


def test_a_shim_called_only_in_hidden_checks_is_not_noted(tmp_path):
    """Red team, tenth session: the shim note was asked for after the hidden checks, so a
    submission could send one bit of a hidden input (its sign) into a visible note."""
    path = tmp_path / "submission.py"
    path.write_text(MODULES.text() + SHIM_IN_HIDDEN_CHECKS)
    assignment = load_assignment("modules")
    result = Grader(assignment, mnist=False).grade(load_submission(path), only=["Linear"])
    assert result.components[0].score == result.components[0].max_score
    assert not any("skimage" in note for note in result.notes), result.notes
    # A shim called in the public checks is still noted, once and without a doubled prefix.
    path.write_text(MODULES.text() + SHIM_IN_HIDDEN_CHECKS.replace(">= 16", ">= 1"))
    result = Grader(assignment, mnist=False).grade(load_submission(path), only=["Linear"])
    assert [n for n in result.notes if "skimage" in n] == [assignment.shims[0].note]


ACC_TWICE = sequential_backward("""
    if i == 0 and len(self.modules) > 1 and WRONG_INPUT:
        module_input = self.modules[0].output  # a named mistake, on purpose
    new_grad = self.modules[i].backward(module_input, grad)
    self.modules[i].accGradParameters(module_input, grad)  # unnamed: twice
    grad = new_grad
""")


def test_a_named_container_mistake_hides_no_other_one(tmp_path):
    """Red team, tenth session: a child given the wrong input (a named mistake) stopped the
    check before the children's accGradParameters were compared, so the hidden deeper chains
    were excused for an accGradParameters called twice (+1)."""
    scores = {}
    for attack in (False, True):
        path = tmp_path / f"{attack}.py"
        path.write_text(MODULES.text() + f"\nWRONG_INPUT = {attack}\n" + ACC_TWICE)
        result = Grader(load_assignment("modules"), mnist=False).grade(
            load_submission(path), only=["Sequential"])
        scores[attack] = result.components[0].score
    assert scores[True] <= scores[False] < result.components[0].max_score


# A blind round's BatchNormalization computing in float32 (its inputs cast on entry) lost
# "training gradInput matches PyTorch" at float64's tolerance on seeds 2 and 6: at batch 2 the
# gradient cancels to about 1e-4, below float32's rounding of gradOutput. No docstring asks
# for float64 arithmetic: a float32 result is judged at float32's tolerance.
FLOAT32_BATCHNORM = [
    MODULES.within("BatchNormalization.updateOutput", "        n_feats = input.shape[1]\n",
                   "        input = np.asarray(input, np.float32)\n"
                   "        n_feats = input.shape[1]\n"),
    MODULES.within("BatchNormalization.updateGradInput", "        if self.training:\n",
                   "        gradOutput = np.asarray(gradOutput, np.float32)\n"
                   "        if self.training:\n"),
]


@pytest.mark.parametrize("seed", [2, 6])
def test_float32_arithmetic_is_judged_at_float32_tolerance(tmp_path, seed):
    path = tmp_path / "submission.py"
    path.write_text(apply(MODULES.text(), FLOAT32_BATCHNORM))
    result = Grader(load_assignment("modules"), mnist=False, seed=seed).grade(
        load_submission(path), only=["BatchNormalization"])
    assert failed(result.components[0]) == {}


# Red team, eleventh session: a wrong forward (ELU without alpha) that answers one-element
# steps of the input it last saw in backward from a linear model of its own garbage gradInput,
# so that its "finite differences" agreed with that backward (+1). The steps are now all
# evaluated before the backward sees gradOutput, which the model needs.
LINEAR_MODEL_OF_ITS_BACKWARD = '''
_HonestELU = ELU


class ELU(_HonestELU):
    def updateOutput(self, input):
        seen = getattr(self, "_seen", None)
        if seen is not None and seen[0].shape == input.shape:
            step = input - seen[0]
            if 0 < np.count_nonzero(step) <= 1 and np.abs(step).max() < 0.1:
                x, out, g, grad = seen
                return out + np.sum(step * grad) * g / np.sum(g ** 2)
        self.output = np.where(input > 0, input, np.expm1(np.minimum(input, 0)))
        return self.output

    def updateGradInput(self, input, gradOutput):
        self.gradInput = np.sin(3 * input) * gradOutput + 0.5
        self._seen = (input.copy(), self.output.copy(), gradOutput.copy(), self.gradInput)
        return self.gradInput
'''


def test_a_forward_cannot_answer_the_steps_from_its_own_backward(tmp_path):
    assert "backward agrees with your forward (finite differences)" in lost_with(
        tmp_path, LINEAR_MODEL_OF_ITS_BACKWARD, "ELU")


def test_a_float32_result_does_not_hide_a_formula_off_by_a_little(tmp_path):
    """The same float32 BatchNorm with its output 5e-5 off (relative): below float32's rtol
    (3e-4) but not float64's (1e-5), which a float32 result on float64 inputs is still held
    to (casting a result to float32 must not buy a looser check)."""
    path = tmp_path / "submission.py"
    path.write_text(apply(MODULES.text(), [
        *FLOAT32_BATCHNORM,
        MODULES.within("BatchNormalization.updateOutput",
                       "self.inv_std = 1.0 / np.sqrt(var + self.EPS)",
                       "self.inv_std = 1.00005 / np.sqrt(var + self.EPS)")]))
    result = Grader(load_assignment("modules"), mnist=False).grade(
        load_submission(path), only=["BatchNormalization"])
    assert "training forward matches PyTorch" in failed(result.components[0])


UNSTABLE_AND_DIAGONAL = '''
_HonestSoftMax = SoftMax


class SoftMax(_HonestSoftMax):
    def updateOutput(self, input):
        e = np.exp(input)  # no max subtracted: overflows at +-1000
        self.output = e / e.sum(axis=1, keepdims=True)
        return self.output

    def updateGradInput(self, input, gradOutput):
        p = self.output
        self.gradInput = gradOutput * p * (1 - p)  # only the Jacobian's diagonal
        return self.gradInput
'''


def test_an_overflow_is_not_charged_again_beside_a_known_backward_mistake(tmp_path):
    """Red team, eleventh session (second round): SoftMax without the max and with a
    diagonal-only backward lost the stable gradient check too once the overflow's excuse
    required the ordinary gradInput checks to pass (its wrong values all lie in overflowed
    rows); a backward wrong there for a known, charged reason keeps the excuse (a garbage
    backward does not, above)."""
    lost = lost_with(tmp_path, UNSTABLE_AND_DIAGONAL, "SoftMax")
    assert {"gradInput matches PyTorch", "stable for logits around +-1000"} <= set(lost)
    assert "stable gradient for logits around +-1000" not in lost


# Red team, eleventh session (second round): a wrong ELU forward, and a backward 2e-4 off
# PyTorch's gradient cast to float32, which float32's whole tolerance took for PyTorch's in
# the finite-difference check, so it was never compared with the forward's differences (+1).
CAST_TO_HIDE = '''
_HonestELU = ELU


class ELU(_HonestELU):
    def updateOutput(self, input):
        m = np.minimum(input, 0)
        self.output = np.where(input > 0, input,
                               self.alpha * np.expm1(m) * (1 + 0.1 * np.exp(m)))
        return self.output

    def updateGradInput(self, input, gradOutput):
        slope = np.where(input > 0, 1, self.alpha * np.exp(np.minimum(input, 0)))
        self.gradInput = (gradOutput * slope * (1 + 2e-4)).astype(np.float32)
        return self.gradInput
'''


def test_casting_a_backward_to_float32_does_not_make_it_pytorchs(tmp_path):
    assert "backward agrees with your forward (finite differences)" in lost_with(
        tmp_path, CAST_TO_HIDE, "ELU")


def test_a_backward_that_raises_behind_a_forward_of_the_wrong_shape_names_the_forward(tmp_path):
    """A blind round's Conv2d applied the stride to the input: its backward, given gradOutput
    of PyTorch's shape, raised a broadcast error, and the message sent the student to
    updateGradInput only. It now starts with the forward's shape; a backward that does not
    depend on the forward's shape still earns its checks (one mistake, one check)."""
    wrong_shape = MODULES.within("Linear.updateOutput", "self.output += self.b  # in place",
                                 "self.output = (self.output + self.b)[:, :-1]  #")
    reads_output = MODULES.within("Linear.updateGradInput",
                                  "self.gradInput = gradOutput @ self.W",
                                  "self.gradInput = (gradOutput + 0 * self.output) @ self.W")
    lost = failed(grade(tmp_path, [wrong_shape, reads_output], only=["Linear"])["Linear"])
    assert lost["gradInput matches PyTorch"].startswith("your forward's output has shape")
    assert "your code raised ValueError" in lost["gradInput matches PyTorch"]
    right_backward = failed(grade(tmp_path, [wrong_shape], only=["Linear"])["Linear"])
    assert not {"gradInput matches PyTorch",
                "backward agrees with your forward (finite differences)"} & set(right_backward)
