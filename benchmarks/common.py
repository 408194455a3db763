"""Shared helpers of the benchmark scripts: what the machine runs, and robust summaries.

Figures on a shared machine: every script measures ratios within one run, interleaves the
two sides, repeats and prints the median (and the spread). With one thread, process CPU
time is also printed: it counts the work done, not the time other jobs held the cores.
"""

from __future__ import annotations

import ctypes
import importlib.util
import os
import platform
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from autograder.compare.blas import CORETYPE, corename, coretype_note, openblas_libs  # noqa: E402

SOLUTION = REPO / "solutions" / "modules.py"

_UNSET = "NNGRADE_BENCH_UNSET"  # what own_session(own_blas_kernel=True) removed
BLAS_ENV = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")
_SET_THREADS = ("openblas_set_num_threads", "scipy_openblas_set_num_threads64_",
                "scipy_openblas_set_num_threads")


def load_module(path: Path, name: str):
    """A Python file run as a module in this process: the reference solution or the worker's
    training loop (trusted code; the grader runs student code in its worker only)."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def own_session(own_blas_kernel: bool = False) -> None:
    """Run the script in its own session. On Linux each session is a scheduling group
    (autogroup): the sandboxed worker gets one of its own, and a benchmark left in the shell's
    group would share its CPU with everything else started from that shell.

    ``own_blas_kernel``: run it without OPENBLAS_CORETYPE, so that OpenBLAS picks the kernel
    for this CPU (in this process and in the workers, which inherit the variable)."""
    if os.environ.get("NNGRADE_BENCH_SESSION"):
        return
    env = {**os.environ, "NNGRADE_BENCH_SESSION": "1"}
    if own_blas_kernel and CORETYPE in env:
        env[_UNSET] = f"{CORETYPE}={env.pop(CORETYPE)}"
    child = subprocess.Popen([sys.executable, *sys.argv], env=env, start_new_session=True)
    try:
        sys.exit(child.wait())
    except KeyboardInterrupt:  # the child is in another session: Ctrl-C does not reach it
        child.kill()
        sys.exit(130)


def pin_threads(n: int) -> None:
    """BLAS threads of this process (the worker gets ``Limits.threads``), set at run time."""
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[name] = str(n)  # for processes started from here
    for lib in openblas_libs():
        for symbol in _SET_THREADS:
            func = getattr(lib, symbol, None)
            if func is not None:
                func(ctypes.c_int(n))
                break


def _openblas_corename() -> str:
    """The kernel OpenBLAS picked (``Haswell``, ``Zen``...), via threadpoolctl if installed."""
    try:
        from threadpoolctl import threadpool_info

        found = [f"{i.get('internal_api')} {i.get('version')} {i.get('architecture')} "
                 f"({i.get('num_threads')} threads)" for i in threadpool_info()
                 if i.get("user_api") == "blas"]
        if found:
            return "; ".join(found) + " [threadpoolctl]"
    except ImportError:
        pass
    name = corename()
    if name is not None:
        return f"OpenBLAS kernel {name} [ctypes]"
    return "unknown BLAS (no OpenBLAS found; install threadpoolctl to see more)"


def _cpuinfo() -> dict[str, str]:
    """The first processor's fields of /proc/cpuinfo (empty where there is none)."""
    try:
        block = Path("/proc/cpuinfo").read_text().split("\n\n")[0]
    except OSError:
        return {}
    return {k.strip(): v.strip() for k, _, v in
            (line.partition(":") for line in block.splitlines()) if k.strip()}


def _vector_isa(flags: set[str]) -> str:
    """The widest x86 vector extension the CPU reports: it decides which kernels OpenBLAS and
    oneDNN pick, and so the NumPy/PyTorch ratio (one KVM host type may hide another)."""
    for flag, name in (("avx512f", "AVX-512"), ("avx2", "AVX2"), ("avx", "AVX")):
        if flag in flags:
            return name
    return "no AVX"


def describe_machine() -> str:
    import numpy as np

    info = _cpuinfo()
    model = info.get("model name") or platform.processor() or "unknown CPU"
    if "cpu family" in info:  # a KVM guest's model name is often just the vendor's line
        model += (f" (family {info['cpu family']} model {info.get('model', '?')}, "
                  f"{_vector_isa(set(info.get('flags', '').split()))})")
    env = ", ".join(f"{k}={os.environ[k]}" for k in BLAS_ENV if k in os.environ) or "none set"
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3]) if Path(
        "/proc/loadavg").exists() else "?"
    lines = [f"machine: {model}, {os.cpu_count()} cores, load average {load}",
             f"python {platform.python_version()}, numpy {np.__version__}; "
             f"{_openblas_corename()}",
             f"BLAS environment: {env}"]
    if _UNSET in os.environ:
        lines.append(f"  ({os.environ[_UNSET]} was unset for this run: --own-blas-kernel)")
    note = coretype_note()
    if note:
        lines.append(f"  {note}")
    if "torch" in sys.modules:
        torch = sys.modules["torch"]
        backends = [name for name, on in (("oneDNN", torch.backends.mkldnn.is_available()),
                                          ("MKL", torch.backends.mkl.is_available())) if on]
        lines.append(f"torch {torch.__version__} ({' + '.join(backends) or 'no MKL/oneDNN'}, "
                     f"CPU capability {torch.backends.cpu.get_cpu_capability()})")
    return "\n".join(lines)


def gemm_gflops(threads: int, n: int = 1024, repeats: int = 10) -> dict[str, float]:
    """GFLOP/s of the best of ``repeats`` float32 n x n products, in NumPy and (if imported)
    PyTorch, with ``threads`` threads each: the machine's matrix-product speed right now,
    which a FLOP limit divides by. Square products run faster than a network's skinny ones,
    so a limit drawn from them is one no network reaches."""
    import time

    import numpy as np

    pin_threads(threads)
    a = np.random.default_rng(0).random((n, n), dtype=np.float32)
    sides = {"NumPy": lambda: a @ a}
    if "torch" in sys.modules:
        torch = sys.modules["torch"]
        torch.set_num_threads(threads)
        t = torch.from_numpy(a)
        sides["PyTorch"] = lambda: t @ t
    speeds = {}
    for name, product in sides.items():
        product()  # the first call pays for packing buffers and page faults
        best = float("inf")
        for _ in range(repeats):
            start = time.perf_counter()
            product()
            best = min(best, time.perf_counter() - start)
        speeds[name] = 2 * n ** 3 / best / 1e9
    return speeds


def median(values: list[float]) -> float:
    return statistics.median(values)


def spread(values: list[float], fmt: str = "{:.2f}") -> str:
    """``median [min-max] (n)``."""
    return (f"{fmt.format(median(values))} [{fmt.format(min(values))}-"
            f"{fmt.format(max(values))}] (n={len(values)})")


def verdict(value: float, target: float, smaller_is_better: bool = True) -> str:
    met = value <= target if smaller_is_better else value >= target
    return "meets target" if met else "MISSES target"


def _descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*/children"):
            try:
                todo.extend(int(child) for child in task.read_text().split())
            except OSError:  # the process ended meanwhile
                pass
    return found


def _rss_bytes(pid: int) -> int:
    try:
        fields = Path(f"/proc/{pid}/statm").read_text().split()
    except OSError:
        return 0
    return int(fields[1]) * os.sysconf("SC_PAGE_SIZE")


def run_with_peak_memory(args: list[str], cwd: Path = REPO,
                         interval: float = 0.02) -> tuple[float, int, subprocess.CompletedProcess]:
    """Run ``args``; return its wall seconds, the peak of the summed resident memory of the
    process and all its descendants (sampled every ``interval`` s: a peak shorter than that
    can be missed) and the completed process. Linux only."""
    import tempfile
    import time

    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        child = subprocess.Popen(args, cwd=cwd, stdout=out, stderr=err, text=True)
        peak = 0
        while child.poll() is None:
            peak = max(peak, sum(_rss_bytes(p) for p in _descendants(child.pid)))
            time.sleep(interval)
        seconds = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        done = subprocess.CompletedProcess(args, child.returncode, out.read(), err.read())
    return seconds, peak, done
