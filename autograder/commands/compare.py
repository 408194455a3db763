"""``nngrade compare``: train the same network in NumPy and in PyTorch, side by side."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from autograder.commands import add_assignment_argument
from autograder.compare import blas, numpy_net, tables
from autograder.compare.archs import ARCHS
from autograder.compare.training import SECONDS_PER_FULL_EPOCH, compare, load_data, settings


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
    add_assignment_argument(p)
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


def run(args: argparse.Namespace) -> int:
    arch = ARCHS[args.arch]
    data = load_data(args.train_size, args.test_size)
    try:
        numpy_side, torch_side = compare(arch, args, data)
    except numpy_net.CompareError as exc:
        print(f"nngrade compare: {exc}", file=sys.stderr)
        return 1
    used = settings(arch, args, len(numpy_side.epoch_seconds), len(data[0]), len(data[2]))
    title = (f"{arch.name.upper()} on MNIST: {used['epochs']} epochs, batch "
             f"{arch.batch_size}, {used['train_size']} training / {used['test_size']} "
             f"test images, {args.threads} thread(s), seed {args.seed}, first layer's "
             f"gradInput {used['first_layer_gradinput']}")
    tables.render_table(title, numpy_side, torch_side, sys.stdout)
    note = blas.coretype_note()
    if note:
        print(note)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    png, summary = out / f"{arch.name}_curves.png", out / f"{arch.name}_summary.json"
    tables.plot_curves(f"{arch.description}\n{title}", [numpy_side, torch_side], png)
    tables.write_json(tables.summary(used, numpy_side, torch_side), summary)
    print(f"curves: {png}\nsummary: {summary}")
    return 0
