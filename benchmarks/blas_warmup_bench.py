"""Why the worker runs one 512 x 512 product before any student code (``warm_blas``).

    .venv/bin/python benchmarks/blas_warmup_bench.py       # 1 thread, 5 processes per case

Each measurement is a fresh process (OpenBLAS's state is per process) that runs a small
product, then ``warm_blas`` or not, then times one of the large products of compare's
networks (float32, batch 128): one product per process, so that no earlier large product
warms the buffer for a later one. Seen here with one thread: when the first product a
process runs is small (as in a network whose first layer is a small convolution),
OpenBLAS's larger products stay up to 2.5x slower for the whole process.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

from common import REPO, describe_machine, own_session, pin_threads, spread

# name: (rows, inner, columns, transposes) of the products in compare's MLP and CNN
PRODUCTS = {
    "CNN conv2 gradW (32x25088 @ 25088x144)": (32, 25088, 144, "NT"),
    "CNN conv2 forward (32x144 @ 144x25088)": (32, 144, 25088, "NN"),
    "CNN conv2 gradInput cols (144x32 @ 32x25088)": (144, 32, 25088, "TN"),
    "MLP forward (128x784 @ 784x256)": (128, 784, 256, "NT"),
}

CHILD = """
import json, sys, time
import numpy as np
sys.path.insert(0, {repo!r})
from autograder.worker.main import warm_blas
np.ones((4, 4), np.float32) @ np.ones((4, 4), np.float32)  # a small first product
if {warm}:
    warm_blas(np)
rng = np.random.default_rng(0)
m, k, n, t = {product!r}
a = rng.random((m, k) if t[0] == "N" else (k, m), dtype=np.float32)
b = rng.random((k, n) if t[1] == "N" else (n, k), dtype=np.float32)
a, b = (a if t[0] == "N" else a.T), (b if t[1] == "N" else b.T)
a @ b
start = time.perf_counter()
for _ in range(5):
    a @ b
print(json.dumps((time.perf_counter() - start) / 5))
"""


def _run(product: tuple, warm: bool) -> float:
    code = CHILD.format(repo=str(REPO), warm=warm, product=product)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    return json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=5, help="fresh processes per side")
    args = parser.parse_args()
    own_session()
    pin_threads(args.threads)
    print(describe_machine())
    print(f"\nthreads={args.threads}, {args.repeats} fresh processes per side and product, "
          "ms per product")
    print(f"  {'product':46s} {'cold':>22s} {'warm_blas':>22s} {'cold/warm':>20s}")
    for name, product in PRODUCTS.items():
        runs = {False: [], True: []}
        for _ in range(args.repeats):  # interleaved: both sides see the same load
            for warm in (False, True):
                runs[warm].append(1e3 * _run(product, warm))
        cold, warm = runs[False], runs[True]
        ratio = [c / w for c, w in zip(cold, warm, strict=True)]
        print(f"  {name:46s} {spread(cold):>22s} {spread(warm):>22s} {spread(ratio):>20s}")


if __name__ == "__main__":
    main()
