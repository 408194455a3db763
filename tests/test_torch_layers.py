"""autograder/compare/torch_layers.py: the one homework-to-PyTorch mapping."""

from __future__ import annotations

import numpy as np
import pytest

from autograder.compare import torch_layers
from autograder.release.source import definitions

torch = pytest.importorskip("torch")

ARGS = {"Linear": [6, 4], "BatchNormalization": [0.9], "ChannelwiseScaling": [6],
        "Conv2d": [1, 2, 3], "ResidualBlock": [2], "Dropout": [0.2], "LeakyReLU": [],
        "MaxPool2d": [2], "AvgPool2d": [2]}


@pytest.mark.parametrize("name", sorted(torch_layers.LAYERS))
def test_every_listed_layer_has_a_module(name):
    module, _ = torch_layers.torch_layer(name, ARGS.get(name, []), 6)
    assert isinstance(module, torch.nn.Module)


def test_an_unlisted_layer_is_refused():
    with pytest.raises(ValueError, match="no PyTorch equivalent"):
        torch_layers.torch_layer("RNN", [3, 4], None)


def test_channelwise_scaling_draws_in_the_homework_range():
    torch.manual_seed(0)
    module, features = torch_layers.torch_layer("ChannelwiseScaling", [16], 16)
    bound = 1 / np.sqrt(16)
    for param in (module.gamma, module.beta):
        assert float(param.detach().abs().max()) <= bound and float(param.detach().std()) > 0
    assert features == 16


def test_conv2d_three_arguments_keep_the_size_five_are_explicit():
    x = torch.zeros(1, 1, 28, 28)
    same, _ = torch_layers.torch_layer("Conv2d", [1, 2, 3], None)
    strided, _ = torch_layers.torch_layer("Conv2d", [1, 2, 3, 2, 1], None)
    assert same(x).shape == (1, 2, 28, 28) and strided(x).shape == (1, 2, 14, 14)


def test_the_released_source_is_the_module_source():
    code = definitions("compare/torch_layers.py", ["torch_layer", "torch_network"])
    namespace = {"np": np}
    exec("from collections.abc import Callable\nfrom typing import Any\n" + code, namespace)
    net = namespace["torch_network"]([["Linear", 6, 4], ["ReLU"], ["LogSoftMax"]])
    assert net(torch.zeros(2, 6)).shape == (2, 4)
