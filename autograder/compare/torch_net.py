"""The PyTorch side of ``nngrade compare``: the network of ``torch_layers`` with the shared
initial values, trained by the worker's ``run_epochs`` (same batches in the same order)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from autograder.compare.archs import Arch
from autograder.compare.torch_layers import (
    torch_loss,
    torch_network,
    torch_optimizer,
    torch_predict,
    torch_step,
)
from autograder.worker.train import run_epochs


def build(arch: Arch, init: list[list[np.ndarray]]) -> nn.Sequential:
    """The network with ``init`` copied into each layer's parameters (weight, bias order)."""
    model = torch_network(arch.layers)
    with torch.no_grad():
        for module, values in zip(model, init, strict=True):
            params = list(module.parameters())
            if len(params) != len(values):
                raise ValueError(f"{module}: {len(params)} parameters, {len(values)} values")
            for param, value in zip(params, values, strict=True):
                param.copy_(torch.from_numpy(value))
    return model


def optimizer(arch: Arch, model: nn.Module) -> torch.optim.Optimizer:
    return torch_optimizer(arch.optimizer, arch.optimizer_config, model.parameters())


def _images(x: np.ndarray, arch: Arch) -> torch.Tensor:
    shape = (-1,) if arch.input_shape is None else tuple(arch.input_shape)
    return torch.from_numpy(np.array(x).reshape(len(x), *shape))  # a writable copy


def train(arch: Arch, init: list[list[np.ndarray]], x_train: np.ndarray, y_train: np.ndarray,
          x_test: np.ndarray, seed: int, epochs: int, threads: int) -> dict[str, Any]:
    """Train as ``train_and_predict`` does with compare's options; the same keys."""
    torch.set_num_threads(threads)
    torch.manual_seed(seed)  # Dropout masks
    model = build(arch, init)
    opt = optimizer(arch, model)
    xs, xt = _images(x_train, arch), _images(x_test, arch)
    ys = torch.from_numpy(np.asarray(y_train).astype(np.int64))
    epoch_predictions: list[np.ndarray] = []

    def after_epoch(epoch: int, log: dict) -> None:
        for group in opt.param_groups if arch.lr_decay is not None else []:
            group["lr"] *= arch.lr_decay
        epoch_predictions.append(torch_predict(model, xt))

    model.train()
    step = torch_step(model, opt, torch_loss(arch.criterion), xs, ys)
    log = run_epochs(len(xs), epochs, arch.batch_size, seed, step, after_epoch)
    return {**log, "predictions": epoch_predictions[-1] if epochs else torch_predict(model, xt),
            "epoch_predictions": epoch_predictions,
            "batch_losses": np.asarray(log["batch_losses"], np.float32),
            "parameter_dtypes": sorted({str(p.dtype).removeprefix("torch.")
                                        for p in model.parameters()})}
