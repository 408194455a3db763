"""Which OpenBLAS kernel NumPy's matrix products run on, and what ``OPENBLAS_CORETYPE`` does
to it.

OpenBLAS picks its kernels for the CPU it finds, unless ``OPENBLAS_CORETYPE`` names one. A
machine that sets it for an older core (``Haswell``, AVX2) on a CPU with full-width AVX-512
halves NumPy's products: measured here, 138 against 259 GFLOP/s for a 1024 x 1024 float32
product, one thread (docs/performance.md). ``nngrade compare`` states the kernel and, when the
variable forces one OpenBLAS would not pick, what it would pick instead. The setting itself is
the machine's: nothing here changes it.
"""

from __future__ import annotations

import ctypes
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

CORETYPE = "OPENBLAS_CORETYPE"
# The symbol differs between OpenBLAS builds: plain, and the scipy-openblas wheels NumPy ships
# (64-bit integer interface, with and without the suffix).
_CORENAME = ("openblas_get_corename", "scipy_openblas_get_corename64_",
             "scipy_openblas_get_corename")
_PROBE = "from autograder.compare.blas import corename; print(corename() or '')"


def openblas_libs() -> list[ctypes.CDLL]:
    """The OpenBLAS libraries loaded into this process (after importing NumPy); Linux only,
    read from /proc/self/maps (an empty list elsewhere)."""
    import numpy  # noqa: F401 - loads its OpenBLAS

    maps = Path("/proc/self/maps")
    if not maps.exists():
        return []
    paths = {line.split()[-1] for line in maps.read_text().splitlines()
             if "openblas" in line.lower() and line.split()[-1].startswith("/")}
    return [ctypes.CDLL(path) for path in sorted(paths)]


def corename() -> str | None:
    """The kernel this process's OpenBLAS runs (``Haswell``, ``SkylakeX``, ``Zen``...), or
    None when NumPy uses another BLAS or the platform does not say."""
    for lib in openblas_libs():
        for symbol in _CORENAME:
            func = getattr(lib, symbol, None)
            if func is not None:
                func.restype = ctypes.c_char_p
                return func().decode()
    return None


def kernel_with(env: Mapping[str, str]) -> str | None:
    """The kernel OpenBLAS picks in a fresh Python process with environment ``env``."""
    root = str(Path(__file__).resolve().parents[2])
    env = {**env, "PYTHONPATH": os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))}
    try:
        done = subprocess.run([sys.executable, "-c", _PROBE], env=env, capture_output=True,
                              text=True, timeout=60, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() or None


def coretype_note(environ: Mapping[str, str] = os.environ) -> str | None:
    """A sentence for compare's output when ``OPENBLAS_CORETYPE`` makes NumPy run another
    kernel than OpenBLAS would choose for this CPU; None when it is unset or changes nothing
    (or when either kernel cannot be read)."""
    forced = environ.get(CORETYPE)
    if not forced:
        return None
    used = corename() if environ is os.environ else kernel_with(environ)  # this process's
    own = kernel_with({k: v for k, v in environ.items() if k != CORETYPE})
    if used is None or own is None or used == own:
        return None
    return (f"note: NumPy's products run OpenBLAS's {used} kernel because {CORETYPE}={forced} "
            f"is set; without it OpenBLAS picks {own} on this CPU, which can change the "
            f"NumPy side's time a lot (unset {CORETYPE} to measure that)")
