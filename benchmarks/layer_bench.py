"""Where a minibatch's time goes: each layer of the reference, forward and backward.

    .venv/bin/python benchmarks/layer_bench.py               # MLP and CNN, 1 thread
    .venv/bin/python benchmarks/layer_bench.py --arch cnn --threads 2
    git show HEAD~3:solutions/modules.py > /tmp/old.py      # an older reference
    .venv/bin/python benchmarks/layer_bench.py --solution /tmp/old.py

Runs the reference solution in this process (trusted code; ``nngrade compare`` runs it in the
worker) on compare's networks, float32, batch 128, and prints the median per-layer thread CPU
time over --steps minibatches next to PyTorch's whole training step. The lines marked
"API" are work PyTorch does not do: the first layer's gradInput, which the homework's
``Sequential.backward`` computes and PyTorch skips for an input without ``requires_grad``.
"""

from __future__ import annotations

import argparse
import contextlib
import time
from pathlib import Path

import numpy as np
from common import REPO, SOLUTION, describe_machine, load_module, median, own_session, pin_threads

from autograder.compare.archs import ARCHS, initial_parameters
from autograder.worker.main import warm_blas


def _batches(arch, steps: int):
    from autograder.mnist import load_mnist

    x, y = load_mnist("train")
    shape = (-1,) if arch.input_shape is None else tuple(arch.input_shape)
    for step in range(steps):
        idx = np.arange(step * arch.batch_size, (step + 1) * arch.batch_size)
        yield x[idx].reshape(len(idx), *shape), y[idx]


def profile_numpy(arch, steps: int, solution: Path) -> None:
    train = load_module(REPO / "autograder" / "worker" / "train.py", "_bench_train")
    ns = vars(load_module(solution, "_bench_reference"))
    net = train.build_network(ns, arch.worker_config())
    train._cast_parameters(net, np.dtype(np.float32))
    train._set_parameters(net, initial_parameters(arch.layers, 0))
    criterion, state, eye = ns[arch.criterion](), {}, np.eye(10, dtype=np.float32)
    layers = net.modules
    forward = [[] for _ in layers]
    backward = [[] for _ in layers]
    input_grad, optimizer = [], []
    clock = time.thread_time
    for xb, yb in _batches(arch, steps):
        xb = xb.astype(np.float32) / 255
        net.zeroGradParameters()
        out = xb
        for i, layer in enumerate(layers):
            start = clock()
            out = layer.forward(out)
            forward[i].append(clock() - start)
        grad = criterion.backward(out, eye[yb])
        for i in reversed(range(len(layers))):
            start = clock()
            grad = layers[i].backward(layers[i - 1].output if i else xb, grad)
            backward[i].append(clock() - start)
        start = clock()
        layers[0].updateGradInput(xb, layers[1].gradInput)  # the API-only part, again
        input_grad.append(clock() - start)
        start = clock()
        ns[arch.optimizer](net.getParameters(), net.getGradParameters(),
                           dict(arch.optimizer_config), state)
        optimizer.append(clock() - start)
    total = 0.0
    print(f"\n{arch.name.upper()} reference (NumPy float32), ms per minibatch of "
          f"{arch.batch_size}, median of {steps}:")
    for i, layer in enumerate(layers):
        f, b = 1e3 * median(forward[i][2:]), 1e3 * median(backward[i][2:])
        total += f + b
        print(f"  {str(layer):40s} forward {f:6.2f}  backward {b:6.2f}")
    opt = 1e3 * median(optimizer[2:])
    api = 1e3 * median(input_grad[2:])
    print(f"  {arch.optimizer:40s} {opt:6.2f}")
    print(f"  total {total + opt:.2f} ms; API: the first layer's gradInput {api:.2f} ms of it")


def profile_torch(arch, steps: int, threads: int, operators: bool) -> None:
    import torch

    from autograder.compare import torch_net

    torch.set_num_threads(threads)
    model = torch_net.build(arch, initial_parameters(arch.layers, 0))
    opt = torch_net.optimizer(arch, model)
    profiler = torch.profiler.profile() if operators else contextlib.nullcontext()
    with profiler:
        times = _torch_steps(arch, model, opt, steps, threads)
    print(f"  PyTorch, whole training step: {1e3 * median(times[2:]):.2f} ms")
    if operators:  # per-operator self CPU time, per step
        table = profiler.key_averages().table(sort_by="self_cpu_time_total", row_limit=12)
        print(f"  PyTorch operators over {steps} steps (divide by {steps} for per step):")
        print(table)


def _torch_steps(arch, model, opt, steps: int, threads: int) -> list[float]:
    import torch

    times = []
    for xb, yb in _batches(arch, steps):
        start = time.thread_time() if threads == 1 else time.perf_counter()
        x = torch.from_numpy(np.array(xb)).float().div_(255)
        opt.zero_grad()
        loss = torch.nn.functional.nll_loss(model(x), torch.from_numpy(yb.astype(np.int64)))
        loss.backward()
        opt.step()
        loss.item()
        times.append((time.thread_time() if threads == 1 else time.perf_counter()) - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--arch", nargs="+", choices=sorted(ARCHS), default=["mlp", "cnn"])
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--torch-operators", action="store_true",
                        help="also print PyTorch's time per operator (torch.profiler)")
    parser.add_argument("--solution", type=Path, default=SOLUTION,
                        help="the NumPy modules to profile (default: the reference)")
    parser.add_argument("--own-blas-kernel", action="store_true",
                        help="run without OPENBLAS_CORETYPE, so that OpenBLAS picks its kernel "
                             "for this CPU (a machine that sets it for an older core can halve "
                             "NumPy's products)")
    args = parser.parse_args()
    own_session(own_blas_kernel=args.own_blas_kernel)
    pin_threads(args.threads)
    warm_blas(np)  # as the worker does before any student code (benchmarks/blas_warmup_bench.py)
    print(describe_machine())
    if args.threads > 1:
        print("(thread CPU time misses the BLAS helper threads: with --threads > 1 the "
              "NumPy figures are a lower bound, PyTorch's are wall time)")
    for name in args.arch:
        profile_numpy(ARCHS[name], args.steps, args.solution)
        profile_torch(ARCHS[name], args.steps, args.threads, args.torch_operators)


if __name__ == "__main__":
    main()
