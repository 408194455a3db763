"""NumPy (reference or a submission, in the worker) against PyTorch: both trainings, the
same initial parameters, batches and order. ``nngrade compare`` is its command."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

import numpy as np

from autograder.compare import blas, numpy_net, tables
from autograder.compare.archs import Arch, initial_parameters, product_flops
from autograder.mnist import load_mnist
from autograder.spec import load_assignment
from autograder.submission import load_submission, submission_from_text

SECONDS_PER_FULL_EPOCH = 600.0  # worker timeout allowance: a slow but correct submission


def load_data(train_size: int | None, test_size: int | None) -> tuple[np.ndarray, ...]:
    x_train, y_train = load_mnist("train")
    x_test, y_test = load_mnist("test")
    return x_train[:train_size], y_train[:train_size], x_test[:test_size], y_test[:test_size]


def compare(arch: Arch, args: argparse.Namespace,
            data: tuple[np.ndarray, ...]) -> tuple[tables.Side, tables.Side]:
    """Both trainings; the NumPy one first (the grader process has not imported torch)."""
    from autograder.compare import torch_net  # torch takes seconds to import

    assignment = load_assignment(args.assignment)
    path = args.submission or assignment.solution
    submission = load_submission(path) if args.submission \
        else submission_from_text(assignment.solution_text(), path)
    epochs = args.epochs if args.epochs is not None else arch.epochs
    x_train, y_train, x_test, y_test = data
    init = initial_parameters(arch.layers, args.seed)
    timeout = args.timeout or 120 + SECONDS_PER_FULL_EPOCH * epochs * len(x_train) / 60000
    reply = numpy_net.train(submission, assignment, arch, init, x_train, y_train, x_test,
                            args.seed, epochs, args.threads, timeout,
                            input_gradient=args.full_backward)
    label = "NumPy (reference)" if args.submission is None else f"NumPy ({Path(path).name})"
    # --full-backward: the NumPy side also computes the first layer's input gradient.
    numpy_side = tables.Side.from_reply(
        label, reply, y_test, len(x_train) * product_flops(arch, args.full_backward))
    torch_reply = torch_net.train(arch, init, x_train, y_train, x_test, args.seed, epochs,
                                  args.threads)
    torch_side = tables.Side.from_reply(f"PyTorch {torch_net.torch.__version__}", torch_reply,
                                        y_test, len(x_train) * product_flops(arch))
    return numpy_side, torch_side


def settings(arch: Arch, args: argparse.Namespace, epochs: int, train_size: int,
              test_size: int) -> dict[str, Any]:
    return {"arch": arch.name, "description": arch.description, "epochs": epochs,
            "batch_size": arch.batch_size, "optimizer": arch.optimizer,
            "optimizer_config": arch.optimizer_config, "threads": args.threads,
            "seed": args.seed, "train_size": train_size, "test_size": test_size,
            "submission": args.submission or "reference",
            "first_layer_gradinput": "computed" if args.full_backward else "skipped",
            # The worker inherits OPENBLAS_CORETYPE (sandbox.PASS_THROUGH_ENV), so it runs
            # the kernel this process does.
            "openblas_kernel": blas.corename(),
            "openblas_coretype": os.environ.get(blas.CORETYPE)}
