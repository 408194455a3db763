"""The homework's layers, losses and optimizers in PyTorch: the ONE mapping.

``nngrade compare`` builds its PyTorch side with it, and ``nngrade release`` copies these
definitions (read from this file, not imported) into the student notebook's MNIST section,
so the module imports torch inside its functions: releasing needs no torch.

Initialisation: PyTorch's own for Linear and Conv2d (the homework's ranges); ChannelwiseScaling
draws gamma and beta uniform in [-1/sqrt(n), 1/sqrt(n)], as the homework's does (compare
overwrites every parameter with its shared initial values anyway). Mapping notes
(docs/performance.md): ``BatchNormalization(alpha)`` is ``BatchNorm1d(affine=False,
eps=1e-3, momentum=1 - alpha)``; PyTorch keeps the *unbiased* variance as its running
statistic (the homework the biased one), which changes evaluation by a factor n / (n - 1)
~ 1.008 on the variance at batch 128, and training not at all. ``torch.optim.Adam`` adds
epsilon to sqrt(v_hat) where the homework's lr_t form adds it to sqrt(v): the same update up
to an epsilon of 1e-8 * sqrt(1 - beta2^t). Dropout masks come from different generators, so
the two runs agree in distribution, not bit for bit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

# What the functions below map (``nngrade release`` decides from these, without torch).
LAYERS = frozenset({"Linear", "BatchNormalization", "ChannelwiseScaling", "Conv2d",
                    "ResidualBlock", "ReLU", "LogSoftMax", "SoftMax", "Dropout", "LeakyReLU",
                    "ELU", "SoftPlus", "Flatten", "MaxPool2d", "AvgPool2d", "Gelu"})
LOSSES = frozenset({"ClassNLLCriterion", "ClassNLLCriterionUnstable", "MSECriterion"})
OPTIMIZERS = frozenset({"adam_optimizer", "sgd_momentum", "grader_adam"})


def torch_layer(name: str, args: list, features: int | None) -> tuple[Any, int | None]:
    """The PyTorch module for the homework layer ``name(*args)`` and the feature count after
    it (``features``: before it; None when the output is not (batch, features))."""
    import torch
    from torch import nn

    class ChannelwiseScaling(nn.Module):
        def __init__(self, n):
            super().__init__()
            bound = n ** -0.5  # the homework's range
            self.gamma = nn.Parameter(torch.empty(n).uniform_(-bound, bound))
            self.beta = nn.Parameter(torch.empty(n).uniform_(-bound, bound))

        def forward(self, x):
            return x * self.gamma + self.beta

    class Residual(nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, x):
            return x + self.inner(x)

    if name == "Linear":
        return nn.Linear(*args), args[1]
    if name == "BatchNormalization":  # alpha: the weight of the old running statistics
        alpha = args[0] if args else 0.0
        return nn.BatchNorm1d(features, eps=1e-3, momentum=1 - alpha, affine=False), features
    if name == "ChannelwiseScaling":
        return ChannelwiseScaling(args[0]), args[0]
    if name == "Conv2d":  # three arguments: the classic homework's "same" convolution
        c_in, c_out, k, *rest = args
        stride, padding = rest[0] if rest else 1, rest[1] if len(rest) > 1 else k // 2
        return nn.Conv2d(c_in, c_out, k, stride=stride, padding=padding), None
    if name == "ResidualBlock":  # Residual(Sequential(Conv2d(c, c, 3, 1, 1), ReLU()))
        c = args[0]
        return Residual(nn.Sequential(nn.Conv2d(c, c, 3, padding=1), nn.ReLU())), None
    simple = {"ReLU": nn.ReLU, "LogSoftMax": lambda: nn.LogSoftmax(dim=1),
              "SoftMax": lambda: nn.Softmax(dim=1), "Dropout": nn.Dropout,
              "LeakyReLU": lambda slope=0.03: nn.LeakyReLU(slope), "ELU": nn.ELU,
              "SoftPlus": nn.Softplus, "Flatten": nn.Flatten, "MaxPool2d": nn.MaxPool2d,
              "AvgPool2d": nn.AvgPool2d, "Gelu": nn.GELU}
    if name not in simple:
        raise ValueError(f"no PyTorch equivalent for layer {name!r}")
    shaped = name in ("Flatten", "MaxPool2d", "AvgPool2d")
    return simple[name](*args), None if shaped else features


def torch_network(layers: list) -> Any:
    """``nn.Sequential`` of ``torch_layer`` for each ``[name, *args]``."""
    from torch import nn

    modules, features = [], None
    for name, *args in layers:
        module, features = torch_layer(name, args, features)
        modules.append(module)
    return nn.Sequential(*modules)


def torch_loss(name: str) -> Callable:
    """The homework criterion ``name`` as a function of (output, int labels)."""
    from torch import nn

    if name == "ClassNLLCriterion":
        return nn.NLLLoss()
    if name == "ClassNLLCriterionUnstable":
        return lambda p, labels: nn.functional.nll_loss(p.clamp(1e-15, 1 - 1e-15).log(), labels)
    if name == "MSECriterion":
        return lambda out, labels: ((out - nn.functional.one_hot(labels, 10).to(out.dtype))
                                    ** 2).sum() / len(out)
    raise ValueError(f"no PyTorch equivalent for the criterion {name!r}")


def torch_optimizer(name: str, config: dict, parameters: Any) -> Any:
    """The homework optimizer ``name`` with its ``config`` as a ``torch.optim`` optimizer."""
    import torch

    if name in ("adam_optimizer", "grader_adam"):  # grader_adam: the grader's own Adam
        return torch.optim.Adam(parameters, lr=config["learning_rate"],
                                betas=(config["beta1"], config["beta2"]),
                                eps=config["epsilon"])
    if name == "sgd_momentum":  # v = m v + lr g; x -= v  is  b = m b + g; x -= lr b
        return torch.optim.SGD(parameters, lr=config["learning_rate"],
                               momentum=config["momentum"])
    raise ValueError(f"no PyTorch equivalent for the optimizer {name!r}")


def torch_step(model: Any, optimizer: Any, loss_fn: Callable, x: Any, y: Any) -> Callable:
    """``run_epochs``'s step for a PyTorch model on uint8 image and int64 label tensors."""
    import torch

    def step(idx: np.ndarray) -> tuple[float, int]:
        idx = torch.from_numpy(idx)
        xb, yb = x[idx].float().div_(255), y[idx]  # scaled per batch, as the worker does
        optimizer.zero_grad()
        pred = model(xb)
        loss = loss_fn(pred, yb)
        loss.backward()
        optimizer.step()
        return loss.item(), int((pred.argmax(1) == yb).sum())

    return step


def torch_predict(model: Any, x: Any, chunk: int = 1000) -> np.ndarray:
    """Argmax class per row of the uint8 tensor ``x``, in evaluation mode."""
    import torch

    model.eval()
    with torch.no_grad():
        out = [model(x[i:i + chunk].float().div_(255)).argmax(1)
               for i in range(0, len(x), chunk)]
    model.train()
    return torch.cat(out).numpy().astype(np.int64)
