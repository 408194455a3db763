"""The MNIST check's probe (autograder/mnist_probe.py): a pass must follow from the network's
trained parameters, so a network that answers from a memory of the training set fails."""

from __future__ import annotations

import numpy as np
import pytest
from paths import SOLUTION_TEXT

from autograder import mnist_probe
from autograder.checks import CheckFailed
from autograder.grade import Grader
from autograder.mnist import load_mnist
from autograder.results import Cause
from autograder.spec import load_assignment
from autograder.submission import load_submission
from autograder.worker.train import flat_arrays

MODULES = load_assignment("modules")
CFG = MODULES.mnist


def _initial_parameters() -> list[np.ndarray]:
    net = mnist_probe._reference_network(MODULES, CFG)
    return [p.copy() for p in flat_arrays(net.getParameters())]


@pytest.fixture(scope="module")
def test_set() -> tuple[np.ndarray, np.ndarray]:
    return load_mnist("test")


def test_untrained_parameters_score_about_chance(test_set):
    accuracy = mnist_probe.probe_accuracy(MODULES, CFG, _initial_parameters(), *test_set)
    assert accuracy < 0.3


def test_a_pass_with_untrained_parameters_fails_and_says_why(test_set):
    with pytest.raises(CheckFailed) as info:
        mnist_probe.require_probe(MODULES, CFG, _initial_parameters(), 0.98, *test_set)
    assert info.value.cause == Cause.NOT_FROM_PARAMETERS
    assert "score 98.00%" in info.value.message
    assert "do not come from the network's parameters" in info.value.message


@pytest.mark.parametrize(("edit", "says"), [
    (lambda ps: None, "gave no arrays"),
    (lambda ps: ps[:-1], "gave 5 arrays; its layers have 6"),
    (lambda ps: [*ps, np.zeros(3)], "gave 7 arrays; its layers have 6"),
    (lambda ps: [ps[0].reshape(64, 1568), *ps[1:]], "shape (64, 1568) as parameter 0"),
    (lambda ps: [np.array(["a"] * ps[0].size).reshape(ps[0].shape), *ps[1:]], "parameter"),
])
def test_parameters_not_those_of_the_network_fail(test_set, edit, says):
    with pytest.raises(CheckFailed) as info:
        mnist_probe.require_probe(MODULES, CFG, edit(_initial_parameters()), 0.98, *test_set)
    assert says in info.value.message


def test_layouts_the_layers_own_checks_judge_are_read_as_the_same_parameters(test_set):
    """W kept as (n_in, n_out), a bias as (1, n): the probe is about where the predictions
    come from; the layout costs points in the layer's own checks only."""
    params = _initial_parameters()
    relaid = [params[0].T.copy(), params[1].reshape(1, -1), *params[2:]]
    assert mnist_probe.probe_accuracy(MODULES, CFG, relaid, *test_set) \
        == mnist_probe.probe_accuracy(MODULES, CFG, params, *test_set)


EXTENDED = load_assignment("extended")


def test_kernels_turned_by_180_degrees_are_read_as_the_same_parameters(test_set):
    """A Conv2d that convolves (flips its kernel) in its forward and gradients alike learns
    the flipped kernel: the probe reads it flipped back. The flip itself costs Conv2d's own
    checks."""
    net = mnist_probe._reference_network(EXTENDED, EXTENDED.mnist)
    params = [p.copy() for p in flat_arrays(net.getParameters())]
    assert any(p.ndim == 4 for p in params)
    turned = [p[..., ::-1, ::-1].copy() if p.ndim == 4 else p for p in params]
    x, y = test_set[0][:2000], test_set[1][:2000]
    as_is = mnist_probe.probe_accuracy(EXTENDED, EXTENDED.mnist, params, x, y)
    assert mnist_probe.probe_accuracy(EXTENDED, EXTENDED.mnist, turned, x, y,
                                      flipped=True) == as_is
    assert mnist_probe.probe_accuracy(EXTENDED, EXTENDED.mnist, turned, x, y) != as_is


@pytest.mark.parametrize(("kernels", "passes"), [(True, True), (False, False)])
def test_the_probe_tries_flipped_kernels_only_when_short(monkeypatch, test_set, kernels,
                                                         passes):
    monkeypatch.setattr(mnist_probe, "probe_accuracy",
                        lambda *args, flipped=False: 0.96 if flipped else 0.40)
    params = [np.zeros((2, 1, 3, 3)) if kernels else np.zeros((2, 3)), np.zeros(2)]
    if passes:
        assert mnist_probe.require_probe(EXTENDED, {"threshold": 0.95}, params, 0.96,
                                         *test_set) == 0.96
    else:
        with pytest.raises(CheckFailed):
            mnist_probe.require_probe(EXTENDED, {"threshold": 0.95}, params, 0.96, *test_set)


def test_a_fault_of_the_graders_own_keeps_the_pass(monkeypatch, test_set):
    def broken(*args):
        raise KeyError("a layer the reference does not define")

    monkeypatch.setattr(mnist_probe, "_reference_network", broken)
    assert mnist_probe.require_probe(MODULES, CFG, [], 0.98, *test_set) is None


# Written by a black-box attack round (sixth session on issue 17): no layer learns; the
# container remembers every training batch, the criterion pairs it with its labels, and in
# evaluation mode the "network" answers by nearest neighbours in a 45-dimensional PCA space.
MEMORISER = '''

_MEMORY = {"x": [], "y": [], "last": None}


def _remembering_forward(self, input):
    if self.training:
        _MEMORY["last"] = np.array(input, dtype=np.float32)
        self.output = np.full((len(input), 10), -np.log(10.0), dtype=input.dtype)
    else:
        self.output = _nearest(np.asarray(input, np.float32)).astype(input.dtype)
    return self.output


def _nearest(x, k=4, dims=45):
    data, labels = np.concatenate(_MEMORY["x"]), np.concatenate(_MEMORY["y"])
    mean = data.mean(0)
    basis = np.linalg.eigh((data - mean).T @ (data - mean))[1][:, ::-1][:, :dims]
    z, q = (data - mean) @ basis, (x - mean) @ basis
    distance = (z * z).sum(1)[None, :] - 2 * q @ z.T
    nearest = np.argpartition(distance, k, axis=1)[:, :k]
    votes = np.zeros((len(x), 10))
    np.add.at(votes, (np.repeat(np.arange(len(x)), k), labels[nearest].ravel()), 1.0)
    return np.log(votes / k + 1e-9)


def _remembering_loss(self, input, target):
    if _MEMORY["last"] is not None:
        _MEMORY["x"].append(_MEMORY["last"])
        _MEMORY["y"].append(np.argmax(target, 1))
        _MEMORY["last"] = None
    self.output = float(-np.sum(target * input) / len(input))
    return self.output


Sequential.updateOutput = _remembering_forward
Sequential.backward = lambda self, input, gradOutput: np.zeros_like(input)
ClassNLLCriterion.updateOutput = _remembering_loss
'''


@pytest.mark.slow
def test_a_network_that_memorises_the_training_set_fails_the_mnist_check(tmp_path):
    path = tmp_path / "memoriser.py"
    path.write_text(SOLUTION_TEXT + MEMORISER)
    result = Grader(MODULES).grade(load_submission(path), only=["MNIST"])
    check = result.components[-1].checks[0]
    assert result.components[-1].score == 0 and check.cause == Cause.NOT_FROM_PARAMETERS
    own = float(check.message.split("predictions score ")[1].split("%")[0])
    assert own >= 97.0  # the attack works: without the probe it would pass
