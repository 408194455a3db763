"""The architectures ``nngrade compare`` trains, and their shared initial parameters."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

ADAM = {"learning_rate": 1e-3, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8}


@dataclass(frozen=True)
class Arch:
    """A network as the worker builds it: ``[name, *args]`` per layer (homework API)."""

    name: str
    description: str
    layers: list[list[Any]]
    epochs: int  # compare's default
    input_shape: list[int] | None = None
    batch_size: int = 128
    criterion: str = "ClassNLLCriterion"
    optimizer: str = "adam_optimizer"
    optimizer_config: dict[str, float] = field(default_factory=lambda: dict(ADAM))
    lr_decay: float | None = None  # learning rate factor applied after every epoch

    def worker_config(self) -> dict[str, Any]:
        """The part of ``train_and_predict``'s cfg that describes the network and training."""
        return {"layers": self.layers, "input_shape": self.input_shape,
                "container": "Sequential", "criterion": self.criterion,
                "optimizer": self.optimizer, "optimizer_config": dict(self.optimizer_config),
                "batch_size": self.batch_size, "lr_decay": self.lr_decay}


ARCHS: dict[str, Arch] = {
    "mlp": Arch(
        "mlp", "Linear(784, 256)-BatchNorm-ReLU-Dropout(0.2)-Linear(256, 10)-LogSoftMax",
        [["Linear", 784, 256], ["BatchNormalization", 0.9], ["ReLU"], ["Dropout", 0.2],
         ["Linear", 256, 10], ["LogSoftMax"]],
        epochs=8, optimizer_config={**ADAM, "learning_rate": 2e-3}, lr_decay=0.75),
    "cnn": Arch(
        "cnn", "Conv2d(1, 16, 3)-ReLU-MaxPool2d(2)-Conv2d(16, 32, 3)-ReLU-MaxPool2d(2)-Flatten-"
               "Linear(1568, 10)-LogSoftMax",
        [["Conv2d", 1, 16, 3], ["ReLU"], ["MaxPool2d", 2], ["Conv2d", 16, 32, 3], ["ReLU"],
         ["MaxPool2d", 2], ["Flatten"], ["Linear", 32 * 7 * 7, 10], ["LogSoftMax"]],
        epochs=6, input_shape=[1, 28, 28], lr_decay=0.8),
}


def _uniform(rng: np.random.Generator, fan_in: int, *shape: int) -> np.ndarray:
    bound = 1.0 / np.sqrt(fan_in)  # PyTorch's default for Linear and Conv2d
    return rng.uniform(-bound, bound, size=shape).astype(np.float32)


def initial_parameters(layers: list[list[Any]], seed: int) -> list[list[np.ndarray]]:
    """float32 values for every layer's parameters, nested as ``getParameters()`` is."""
    rng = np.random.default_rng(seed)
    out: list[list[np.ndarray]] = []
    for name, *args in layers:
        if name == "Linear":
            n_in, n_out = args
            out.append([_uniform(rng, n_in, n_out, n_in), _uniform(rng, n_in, n_out)])
        elif name == "Conv2d":
            c_in, c_out, k = args
            fan_in = c_in * k * k
            out.append([_uniform(rng, fan_in, c_out, c_in, k, k), _uniform(rng, fan_in, c_out)])
        elif name == "ChannelwiseScaling":
            out.append([np.ones(args[0], np.float32), np.zeros(args[0], np.float32)])
        else:
            out.append([])
    return out


def product_flops(arch: Arch, first_input_gradient: bool = False) -> int:
    """FLOPs (2 per multiply-add) of the matrix products one training example costs: each
    Linear and Conv2d layer's forward pass, its weight gradient and its input gradient, but
    not the first layer's input gradient unless ``first_input_gradient`` (compare skips it on
    both sides, as PyTorch does for an input that needs no gradient). Element-wise work
    (activations, pooling, the optimizer) is not counted: this is what a "FLOP limit" divides
    by the machine's matrix-product speed."""
    shape = list(arch.input_shape or [arch.layers[0][1]])
    total = 0
    for index, (name, *args) in enumerate(arch.layers):
        if name == "Linear":
            multiply_adds = args[0] * args[1]
            shape = [args[1]]
        elif name == "Conv2d":  # stride 1, same padding: height and width are kept
            c_in, c_out, k = args
            multiply_adds = c_out * c_in * k * k * shape[1] * shape[2]
            shape = [c_out, shape[1], shape[2]]
        else:
            if name == "MaxPool2d":
                shape = [shape[0], shape[1] // args[0], shape[2] // args[0]]
            elif name == "Flatten":
                shape = [int(np.prod(shape))]
            continue
        products = 3 if index > 0 or first_input_gradient else 2
        total += 2 * multiply_adds * products
    return total
