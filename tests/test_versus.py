"""``nngrade compare`` and the worker options it relies on (init_params, dtype, curves)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
from paths import SOLUTION, TRAIN_PY

from autograder.cli import main
from autograder.compare import torch_net
from autograder.compare.archs import ARCHS, initial_parameters, product_flops
from autograder.mnist import load_mnist


def _load(path: Path, name: str):
    # By file path, as the worker loads train.py; the reference is trusted test code here.
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


train = _load(TRAIN_PY, "_versus_train")
reference = vars(_load(SOLUTION, "_versus_reference"))


@pytest.fixture(scope="module")
def mnist():
    x_train, y_train = load_mnist("train")
    x_test, y_test = load_mnist("test")
    return x_train[:512], y_train[:512], x_test[:200], y_test[:200]


def _compare(tmp_path: Path, arch: str, *extra: str) -> tuple[int, dict]:
    status = main(["compare", "--arch", arch, "--epochs", "2", "--train-size", "384",
                   "--test-size", "200", "--out", str(tmp_path), *extra])
    summary = tmp_path / f"{arch}_summary.json"
    return status, json.loads(summary.read_text()) if summary.exists() else {}


@pytest.mark.parametrize("arch", ["mlp", "cnn"])
def test_compare_trains_both_sides_alike(tmp_path, capsys, arch):
    status, summary = _compare(tmp_path, arch)
    out = capsys.readouterr().out
    assert status == 0
    assert "test accuracy" in out and "time per epoch" in out and "NumPy/PyTorch" in out
    assert (tmp_path / f"{arch}_curves.png").read_bytes()[:4] == b"\x89PNG"
    numpy_side, torch_side = summary["numpy"], summary["torch"]
    for side in (numpy_side, torch_side):
        assert len(side["epoch_accuracies"]) == len(side["epoch_seconds"]) == 2
        assert all(0 <= a <= 1 for a in side["epoch_accuracies"])
        assert side["parameter_dtypes"] == ["float32"]
        assert side["seconds_per_epoch"] > 0 and side["cpu_seconds_per_epoch"] > 0
    assert summary["train_size"] == 384 and summary["test_size"] == 200
    assert "matrix-product GFLOP/s" in out
    for side in (numpy_side, torch_side):
        assert side["product_flops_per_epoch"] == 384 * product_flops(ARCHS[arch])
        assert side["product_gflops"] == pytest.approx(
            side["product_flops_per_epoch"] / side["seconds_per_epoch"] / 1e9)
    # Same initial parameters, batches and order: the CNN (no dropout) follows the same
    # trajectory up to float32 rounding; the MLP's dropout masks differ between frameworks.
    tolerance = 1e-3 if arch == "cnn" else 0.05
    assert np.allclose(numpy_side["epoch_losses"], torch_side["epoch_losses"], rtol=tolerance)


def test_full_backward_counts_the_first_layers_input_gradient_on_the_numpy_side(tmp_path):
    status, summary = _compare(tmp_path, "mlp", "--full-backward")
    assert status == 0 and summary["first_layer_gradinput"] == "computed"
    mlp = ARCHS["mlp"]
    assert summary["numpy"]["product_flops_per_epoch"] == 384 * product_flops(mlp, True)
    assert summary["torch"]["product_flops_per_epoch"] == 384 * product_flops(mlp)


def test_compare_reports_a_submission_that_lacks_a_layer(tmp_path, capsys):
    text = SOLUTION.read_text().replace("class MaxPool2d(Module):", "class MaxPool(Module):")
    submission = tmp_path / "student.py"
    submission.write_text(text)
    status, summary = _compare(tmp_path, "cnn", "--submission", str(submission))
    assert status == 1 and summary == {}
    assert "does not define MaxPool2d" in capsys.readouterr().err


@pytest.mark.parametrize("arch", ["mlp", "cnn"])
def test_torch_network_computes_the_reference_network(mnist, arch):
    """Same parameters, same function: the layer mapping (BatchNorm eps, padding...)."""
    spec = ARCHS[arch]
    init = initial_parameters(spec.layers, seed=3)
    net = train.build_network(reference, spec.worker_config())
    train._cast_parameters(net, np.dtype(np.float32))
    train._set_parameters(net, init)
    model = torch_net.build(spec, init)
    x = mnist[0][:64].astype(np.float32) / 255
    x = x.reshape(64, -1) if spec.input_shape is None else x.reshape(64, *spec.input_shape)
    net.evaluate()
    model.eval()
    expected = model(torch_net.torch.from_numpy(x)).detach().numpy()
    assert np.allclose(net.forward(x), expected, atol=1e-4)


def test_initial_parameters_follow_pytorch_default_bounds():
    init = initial_parameters(ARCHS["cnn"].layers, seed=0)
    conv_w, conv_b = init[0]
    assert conv_w.shape == (16, 1, 3, 3) and conv_w.dtype == np.float32
    assert np.abs(conv_w).max() <= 1 / 3 and np.abs(conv_b).max() <= 1 / 3
    assert [len(p) for p in init] == [2, 0, 0, 2, 0, 0, 0, 2, 0]
    again = initial_parameters(ARCHS["cnn"].layers, seed=0)
    assert all(np.array_equal(a, b) for la, lb in zip(init, again, strict=True)
               for a, b in zip(la, lb, strict=True))


def test_product_flops_count_each_layers_three_products():
    # Per example, 2 FLOPs per multiply-add; the first layer has no input gradient.
    assert product_flops(ARCHS["mlp"]) == 2 * (2 * 784 * 256 + 3 * 256 * 10)
    # The second convolution runs on the pooled 14 x 14 maps, the Linear on 7 x 7 x 32.
    assert product_flops(ARCHS["cnn"]) == 2 * (2 * 16 * 9 * 28 * 28 + 3 * 32 * 16 * 9 * 14 * 14
                                               + 3 * 32 * 7 * 7 * 10)
    # With the first layer's input gradient: issue 17's "about 372 GFLOP" per CNN epoch.
    epoch = 60000 * product_flops(ARCHS["cnn"], first_input_gradient=True)
    assert round(epoch / 1e9) == 371


def _cfg(arch: str = "mlp", **extra) -> dict:
    return {**ARCHS[arch].worker_config(), "epochs": 1, **extra}


def test_init_params_are_copied_in_place_and_cast(mnist):
    x_train, y_train, x_test, _ = mnist
    init = initial_parameters(ARCHS["mlp"].layers, seed=1)
    seen = {}

    def spy(variables, gradients, config, state):
        if not seen:
            seen["dtypes"] = {v.dtype for layer in variables for v in layer}
            seen["first"] = variables[0][0].copy()
        reference["adam_optimizer"](variables, gradients, config, state)

    cfg = _cfg(optimizer="spy", init_params=init, dtype="float32", batch_size=64)
    result = train.train_and_predict({**reference, "spy": spy}, cfg, *mnist[:3], seed=0)
    assert seen["dtypes"] == {np.dtype(np.float32)}
    # The optimizer saw the grader's values (updated only after the first step).
    assert np.array_equal(seen["first"], init[0][0])
    assert result["epochs_done"] == 1 and "epoch_predictions" not in result
    assert len(result["epoch_seconds"]) == len(result["epoch_cpu_seconds"]) == 1
    assert x_train.shape[0] == y_train.shape[0] and len(result["predictions"]) == len(x_test)


def test_init_params_of_the_wrong_shape_are_refused(mnist):
    init = initial_parameters(ARCHS["mlp"].layers, seed=1)
    init[0][0] = init[0][0][:, :100]
    with pytest.raises(ValueError, match=r"layer 0 parameter 0: shape \(256, 784\)"):
        train.train_and_predict(reference, _cfg(init_params=init), *mnist[:3], seed=0)
    with pytest.raises(ValueError, match="lists 6 layers, the initial values 5"):
        train.train_and_predict(reference, _cfg(init_params=init[:5]), *mnist[:3], seed=0)


def test_eval_each_epoch_and_lr_decay(mnist):
    rates = []

    def spy(variables, gradients, config, state):
        rates.append(config["learning_rate"])
        reference["adam_optimizer"](variables, gradients, config, state)

    cfg = _cfg(optimizer="spy", epochs=3, batch_size=256, eval_each_epoch=True, lr_decay=0.5)
    result = train.train_and_predict({**reference, "spy": spy}, cfg, *mnist[:3], seed=0)
    lr = cfg["optimizer_config"]["learning_rate"]
    assert sorted(set(rates), reverse=True) == [lr, lr / 2, lr / 4]
    assert len(result["epoch_predictions"]) == 3
    assert np.array_equal(result["epoch_predictions"][-1], result["predictions"])
    assert result["batch_losses"].dtype == np.float32 and len(result["batch_losses"]) == 6
    assert result["parameter_dtypes"] == ["float64"]  # no dtype configured


def test_skipping_the_input_gradient_changes_nothing_but_the_work(mnist):
    """``input_gradient: false`` trains exactly as ``Sequential.backward`` does, without
    calling the first layer's ``updateGradInput``."""
    calls = []

    class CountingLinear(reference["Linear"]):
        def updateGradInput(self, input, gradOutput):
            calls.append(input.shape[1])
            return super().updateGradInput(input, gradOutput)

    ns = {**reference, "Linear": CountingLinear}
    full = train.train_and_predict(ns, _cfg(batch_size=128), *mnist[:3], seed=3)
    first_layer_calls = calls.count(784)
    calls.clear()
    skipped = train.train_and_predict(ns, _cfg(batch_size=128, input_gradient=False),
                                      *mnist[:3], seed=3)
    assert first_layer_calls == 4 and calls.count(784) == 0 and len(calls) == 4
    assert np.array_equal(full["predictions"], skipped["predictions"])
    assert full["epoch_losses"] == skipped["epoch_losses"]


def test_skipping_the_input_gradient_needs_a_module_list():
    with pytest.raises(ValueError, match="modules list"):
        train.backward_without_input_gradient(object(), np.zeros((1, 2)), np.zeros((1, 2)))
