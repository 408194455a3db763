"""Conv2d as the course first suggests (scipy.signal.correlate in loops over the batch and
the channels) against the reference's im2col, per layer of ``nngrade compare``'s CNN.

    .venv/bin/python benchmarks/conv_bench.py                # batch 128, 1 thread
    .venv/bin/python benchmarks/conv_bench.py --batch 32 --threads 2

Each layer runs forward + backward (gradInput and gradW/gradb) on float32 MNIST-shaped
input; both implementations are checked to agree first. Expected ratio: ~100-180x.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from common import SOLUTION, describe_machine, load_module, median, own_session, pin_threads, spread

from autograder.compare.archs import ARCHS


def _cnn_layers() -> list[tuple[int, int, int]]:
    """(in, out, height = width) of each Conv2d of compare's CNN (2x2 pooling after each)."""
    convs = [args for name, *args in ARCHS["cnn"].layers if name == "Conv2d"]
    assert all(k == KERNEL for _, _, k in convs)
    return [(c_in, c_out, 28 >> i) for i, (c_in, c_out, _) in enumerate(convs)]

KERNEL = 3


def _reference_conv():
    return load_module(SOLUTION, "reference").Conv2d


class ScipyConv2d:
    """The loop version: one 2-d correlation per (sample, output channel, input channel)."""

    def __init__(self, W, b):
        self.W, self.b = W, b

    def forward(self, x):
        from scipy import signal

        n, c_in, _, _ = x.shape
        pad = self.W.shape[-1] // 2
        xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
        out = np.zeros((n, len(self.W), *x.shape[2:]), x.dtype)
        for i in range(n):
            for o in range(len(self.W)):
                out[i, o] = self.b[o]
                for c in range(c_in):
                    out[i, o] += signal.correlate(xp[i, c], self.W[o, c], mode="valid")
        return out

    def backward(self, x, g):
        from scipy import signal

        n, c_in, _, _ = x.shape
        pad = self.W.shape[-1] // 2
        xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
        gp = np.pad(g, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
        grad_input = np.zeros_like(x)
        grad_w = np.zeros_like(self.W)
        for i in range(n):
            for o in range(len(self.W)):
                for c in range(c_in):
                    grad_input[i, c] += signal.correlate(gp[i, o], self.W[o, c, ::-1, ::-1],
                                                         mode="valid")
                    grad_w[o, c] += signal.correlate(xp[i, c], g[i, o], mode="valid")
        return grad_input, grad_w, g.sum(axis=(0, 2, 3))


def _time(func, repeats: int) -> tuple[list[float], list[float]]:
    walls, cpus = [], []
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        func()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return walls, cpus


def bench_layer(conv_cls, c_in: int, c_out: int, size: int, batch: int, repeats: int) -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch, c_in, size, size)).astype(np.float32)
    g = rng.standard_normal((batch, c_out, size, size)).astype(np.float32)
    ref = conv_cls(c_in, c_out, KERNEL)
    for name in ("W", "b", "gradW", "gradb"):
        setattr(ref, name, getattr(ref, name).astype(np.float32))
    loops = ScipyConv2d(ref.W, ref.b)

    def run_ref():
        out = ref.forward(x)
        return out, ref.backward(x, g), ref.gradW.copy(), ref.gradb.copy()

    def run_loops():
        out = loops.forward(x)
        return (out, *loops.backward(x, g))

    got, want = run_loops(), run_ref()
    for a, b in zip(got, want, strict=True):
        assert np.allclose(a, b, rtol=1e-3, atol=1e-3), "the two Conv2d disagree"
    ref_wall, ref_cpu = _time(run_ref, repeats * 5)
    loop_wall, loop_cpu = _time(run_loops, repeats)
    ratios = [t / median(ref_wall) for t in loop_wall]
    cpu_ratio = median(loop_cpu) / median(ref_cpu)
    print(f"\nConv2d({c_in}, {c_out}, {KERNEL}) on ({batch}, {c_in}, {size}, {size}), "
          "forward + backward")
    print(f"  im2col (reference)  {spread([1e3 * t for t in ref_wall], '{:.1f}')} ms")
    print(f"  scipy.signal loops  {spread([1e3 * t for t in loop_wall], '{:.0f}')} ms")
    print(f"  loops / im2col: wall {spread(ratios, '{:.0f}')}x, CPU {cpu_ratio:.0f}x "
          f"({batch * c_in * c_out * 3} correlate calls per forward + backward)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3, help="loop runs (im2col: 5x more)")
    args = parser.parse_args()
    own_session()
    pin_threads(args.threads)
    print(describe_machine())
    conv_cls = _reference_conv()
    for c_in, c_out, size in _cnn_layers():
        bench_layer(conv_cls, c_in, c_out, size, args.batch, args.repeats)


if __name__ == "__main__":
    main()
