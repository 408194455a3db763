"""The PyTorch side: the homework's layers mapped to ``torch.nn``, trained like the worker.

Mapping notes (docs/performance.md): ``BatchNormalization(alpha)`` is
``BatchNorm1d(affine=False, eps=1e-3, momentum=1 - alpha)``; PyTorch keeps the *unbiased*
variance as its running statistic (the homework the biased one), which changes evaluation by
a factor n / (n - 1) ~ 1.008 on the variance at batch 128, and training not at all.
``torch.optim.Adam`` adds epsilon to sqrt(v_hat) where the homework's lr_t form adds it to
sqrt(v): the same update up to an epsilon of 1e-8 * sqrt(1 - beta2^t). Dropout masks come
from different generators, so the two runs agree in distribution, not bit for bit.
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np
import torch
from torch import nn

from autograder.compare.archs import Arch

PREDICT_CHUNK = 1000


class ChannelwiseScaling(nn.Module):
    def __init__(self, n: int):
        super().__init__()
        self.gamma = nn.Parameter(torch.ones(n))
        self.beta = nn.Parameter(torch.zeros(n))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.gamma + self.beta


def _layer(name: str, args: list[Any], features: int | None) -> tuple[nn.Module, int | None]:
    """The torch module for one homework layer, and the feature count after it."""
    if name == "Linear":
        return nn.Linear(*args), args[1]
    if name == "BatchNormalization":
        alpha = args[0] if args else 0.0
        return nn.BatchNorm1d(features, eps=1e-3, momentum=1 - alpha, affine=False), features
    if name == "ChannelwiseScaling":
        return ChannelwiseScaling(args[0]), args[0]
    if name == "Conv2d":
        c_in, c_out, k = args
        return nn.Conv2d(c_in, c_out, k, padding=k // 2), features
    simple = {"ReLU": nn.ReLU, "LogSoftMax": lambda: nn.LogSoftmax(dim=1),
              "SoftMax": lambda: nn.Softmax(dim=1), "Flatten": nn.Flatten,
              "Dropout": nn.Dropout, "MaxPool2d": nn.MaxPool2d, "ELU": nn.ELU,
              "LeakyReLU": nn.LeakyReLU, "SoftPlus": nn.Softplus}
    if name not in simple:
        raise ValueError(f"no PyTorch equivalent for layer {name!r}")
    return simple[name](*args), features


def build(arch: Arch, init: list[list[np.ndarray]]) -> nn.Sequential:
    """The network with ``init`` copied into each layer's parameters (weight, bias order)."""
    modules, features = [], None
    for name, *args in arch.layers:
        module, features = _layer(name, args, features)
        modules.append(module)
    model = nn.Sequential(*modules)
    with torch.no_grad():
        for module, values in zip(model, init, strict=True):
            params = list(module.parameters())
            if len(params) != len(values):
                raise ValueError(f"{module}: {len(params)} parameters, {len(values)} values")
            for param, value in zip(params, values, strict=True):
                param.copy_(torch.from_numpy(value))
    return model


def optimizer(arch: Arch, model: nn.Module) -> torch.optim.Optimizer:
    cfg = arch.optimizer_config
    if arch.optimizer == "adam_optimizer":
        return torch.optim.Adam(model.parameters(), lr=cfg["learning_rate"],
                                betas=(cfg["beta1"], cfg["beta2"]), eps=cfg["epsilon"])
    if arch.optimizer == "sgd_momentum":
        # v = m v + lr g; x -= v  is torch's  b = m b + g; x -= lr b  for a constant lr.
        return torch.optim.SGD(model.parameters(), lr=cfg["learning_rate"],
                               momentum=cfg["momentum"])
    raise ValueError(f"no PyTorch equivalent for optimizer {arch.optimizer!r}")


def _to_float(xb: torch.Tensor) -> torch.Tensor:
    return xb.float().div_(255)  # as the worker: uint8 scaled per batch


@torch.no_grad()
def predict(model: nn.Module, x: torch.Tensor) -> np.ndarray:
    model.eval()
    out = [model(_to_float(x[i:i + PREDICT_CHUNK])).argmax(1) for i in
           range(0, len(x), PREDICT_CHUNK)]
    model.train()
    return torch.cat(out).numpy().astype(np.int64)


def train(arch: Arch, init: list[list[np.ndarray]], x_train: np.ndarray, y_train: np.ndarray,
          x_test: np.ndarray, seed: int, epochs: int, threads: int) -> dict[str, Any]:
    """Train as ``train_and_predict`` does (same batches in the same order); same keys."""
    torch.set_num_threads(threads)
    torch.manual_seed(seed)  # Dropout masks
    model = build(arch, init)
    opt = optimizer(arch, model)
    shape = (-1,) if arch.input_shape is None else tuple(arch.input_shape)
    xs = torch.from_numpy(np.array(x_train).reshape(len(x_train), *shape))  # writable copies
    xt = torch.from_numpy(np.array(x_test).reshape(len(x_test), *shape))
    ys = torch.from_numpy(np.asarray(y_train).astype(np.int64))
    order_rng = np.random.RandomState(seed)
    epoch_seconds, epoch_cpu_seconds, epoch_losses, batch_losses = [], [], [], []
    epoch_predictions = []
    train_accuracy = math.nan
    model.train()
    for _ in range(epochs):
        start, cpu_start = time.perf_counter(), time.process_time()
        order = torch.from_numpy(order_rng.permutation(len(xs)))
        losses, correct = [], 0
        for first in range(0, len(order), arch.batch_size):
            idx = order[first:first + arch.batch_size]
            xb, yb = _to_float(xs[idx]), ys[idx]
            opt.zero_grad()
            pred = model(xb)
            loss = nn.functional.nll_loss(pred, yb)
            loss.backward()
            opt.step()
            losses.append(loss.item())
            correct += int((pred.argmax(1) == yb).sum())
        epoch_seconds.append(time.perf_counter() - start)
        epoch_cpu_seconds.append(time.process_time() - cpu_start)
        for group in opt.param_groups if arch.lr_decay is not None else []:
            group["lr"] *= arch.lr_decay
        batch_losses.extend(losses)
        epoch_losses.append(float(np.mean(losses)))
        train_accuracy = correct / len(xs)
        epoch_predictions.append(predict(model, xt))
    return {"predictions": epoch_predictions[-1] if epochs else predict(model, xt),
            "epoch_losses": epoch_losses, "train_accuracy": train_accuracy,
            "epochs_done": epochs, "epoch_seconds": epoch_seconds,
            "epoch_cpu_seconds": epoch_cpu_seconds,
            "epoch_predictions": epoch_predictions,
            "batch_losses": np.asarray(batch_losses, np.float32),
            "parameter_dtypes": sorted({str(p.dtype).removeprefix("torch.")
                                        for p in model.parameters()})}
