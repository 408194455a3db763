"""``nngrade compare``: NumPy (reference or a submission, in the worker) against PyTorch."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np

from autograder.mnist import load_mnist
from autograder.spec import load_assignment
from autograder.submission import load_submission
from autograder.versus import numpy_net, report
from autograder.versus.archs import ARCHS, Arch, initial_parameters

SECONDS_PER_FULL_EPOCH = 600.0  # worker timeout allowance: a slow but correct submission


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "compare", help="train the same network in NumPy and in PyTorch, side by side",
        description="Train one architecture on MNIST with the NumPy reference solution (or "
                    "--submission, run in the sandboxed worker) and with PyTorch on the CPU: "
                    "same initial parameters, batches, data order and optimizer settings. "
                    "Prints test accuracy and time per epoch; writes curves (PNG) and a JSON "
                    "summary to --out.")
    p.add_argument("--arch", choices=sorted(ARCHS), default="mlp",
                   help="; ".join(f"{a.name}: {a.description}" for a in ARCHS.values()))
    p.add_argument("--epochs", type=int, help=f"default: mlp {ARCHS['mlp'].epochs}, "
                   f"cnn {ARCHS['cnn'].epochs}")
    p.add_argument("--out", default="compare-out", help="directory for the PNG and JSON "
                   "(default: compare-out)")
    p.add_argument("--threads", type=int, default=1,
                   help="BLAS / intra-op threads for both sides (default: 1)")
    p.add_argument("--submission", help="a student's .py or .ipynb in place of the reference")
    p.add_argument("--assignment", default="modules", help="assignment (default: modules)")
    p.add_argument("--train-size", type=int, help="train on the first N images only")
    p.add_argument("--test-size", type=int, help="evaluate on the first N test images only")
    p.add_argument("--seed", type=int, default=0, help="initialisation, data order (default 0)")
    p.add_argument("--full-backward", action="store_true",
                   help="train with the container's own backward, which also computes the "
                        "first layer's gradInput (the homework API does; PyTorch does not, so "
                        "by default the NumPy side skips it too)")
    p.add_argument("--timeout", type=float, help="seconds allowed for the NumPy training "
                   f"(default: {SECONDS_PER_FULL_EPOCH:g} per epoch of 60000 images + 120)")
    p.set_defaults(func=run)


def _data(train_size: int | None, test_size: int | None) -> tuple[np.ndarray, ...]:
    x_train, y_train = load_mnist("train")
    x_test, y_test = load_mnist("test")
    return x_train[:train_size], y_train[:train_size], x_test[:test_size], y_test[:test_size]


def compare(arch: Arch, args: argparse.Namespace,
            data: tuple[np.ndarray, ...]) -> tuple[report.Side, report.Side]:
    """Both trainings; the NumPy one first (the grader process has not imported torch)."""
    from autograder.versus import torch_net  # torch takes seconds to import

    assignment = load_assignment(args.assignment)
    path = args.submission or assignment.solution
    submission = load_submission(path)
    epochs = args.epochs if args.epochs is not None else arch.epochs
    x_train, y_train, x_test, y_test = data
    init = initial_parameters(arch.layers, args.seed)
    timeout = args.timeout or 120 + SECONDS_PER_FULL_EPOCH * epochs * len(x_train) / 60000
    reply = numpy_net.train(submission, assignment, arch, init, x_train, y_train, x_test,
                            args.seed, epochs, args.threads, timeout,
                            input_gradient=args.full_backward)
    label = "NumPy (reference)" if args.submission is None else f"NumPy ({Path(path).name})"
    numpy_side = report.Side.from_reply(label, reply, y_test)
    torch_reply = torch_net.train(arch, init, x_train, y_train, x_test, args.seed, epochs,
                                  args.threads)
    torch_side = report.Side.from_reply(f"PyTorch {torch_net.torch.__version__}", torch_reply,
                                        y_test)
    return numpy_side, torch_side


def run(args: argparse.Namespace) -> int:
    arch = ARCHS[args.arch]
    data = _data(args.train_size, args.test_size)
    try:
        numpy_side, torch_side = compare(arch, args, data)
    except numpy_net.CompareError as exc:
        print(f"nngrade compare: {exc}", file=sys.stderr)
        return 1
    settings = _settings(arch, args, len(numpy_side.epoch_seconds), len(data[0]),
                         len(data[2]))
    title = (f"{arch.name.upper()} on MNIST: {settings['epochs']} epochs, batch "
             f"{arch.batch_size}, {settings['train_size']} training / {settings['test_size']} "
             f"test images, {args.threads} thread(s), seed {args.seed}, first layer's "
             f"gradInput {settings['first_layer_gradinput']}")
    report.render_table(title, numpy_side, torch_side, sys.stdout)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    png, summary = out / f"{arch.name}_curves.png", out / f"{arch.name}_summary.json"
    report.plot_curves(f"{arch.description}\n{title}", [numpy_side, torch_side], png)
    report.write_json(report.summary(settings, numpy_side, torch_side), summary)
    print(f"curves: {png}\nsummary: {summary}")
    return 0


def _settings(arch: Arch, args: argparse.Namespace, epochs: int, train_size: int,
              test_size: int) -> dict[str, Any]:
    return {"arch": arch.name, "description": arch.description, "epochs": epochs,
            "batch_size": arch.batch_size, "optimizer": arch.optimizer,
            "optimizer_config": arch.optimizer_config, "threads": args.threads,
            "seed": args.seed, "train_size": train_size, "test_size": test_size,
            "submission": args.submission or "reference",
            "first_layer_gradinput": "computed" if args.full_backward else "skipped"}
