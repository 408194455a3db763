"""A persistent cache of reference results, so grading pays PyTorch's start-up once.

Every reference value depends only on the spec and the seeded test data, never on the
student's code, so it can be computed once per assignment and seed and reused by every
submission graded after. Entries are keyed by a hash of everything that goes in (the
expression, helper code, arrays, dims, the PyTorch version) and stored in the pickle-free
``autograder.wire`` format, written atomically by the grader. The directory holds
expected values: it must not be readable by student code (``Grader`` hides it from the worker).

``NNGRADE_CACHE=off`` disables the cache; ``NNGRADE_CACHE=DIR`` moves it.
"""

from __future__ import annotations

import functools
import hashlib
import os
import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from autograder import wire
from autograder.distributions import installed_version

Result = dict[str, np.ndarray]


def cache_dir() -> Path | None:
    return _cache_dir(os.environ.get("NNGRADE_CACHE", ""), os.environ.get("XDG_CACHE_HOME"),
                      os.path.expanduser("~"))


@functools.lru_cache(maxsize=8)  # looked up for every reference value of a grading
def _cache_dir(setting: str, xdg_cache: str | None, home: str) -> Path | None:
    if setting.lower() in ("off", "0", "no"):
        return None
    if setting:
        return Path(setting)
    return Path(xdg_cache or os.path.join(home, ".cache")) / "nngrade" / "references"


@functools.lru_cache(maxsize=1)
def _torch_version() -> str:
    return installed_version("torch") or "none"


def _feed(h: Any, value: Any) -> None:
    if isinstance(value, np.ndarray):
        h.update(f"nd{value.dtype.str}{value.shape}".encode())
        h.update(np.ascontiguousarray(value).tobytes())
    elif isinstance(value, dict):
        for k in sorted(value):
            h.update(f"k{k!r}".encode())
            _feed(h, value[k])
    else:
        h.update(f"v{value!r}".encode())


def key_of(**inputs: Any) -> str:
    h = hashlib.sha256(f"nngrade-ref-1/torch-{_torch_version()}".encode())
    _feed(h, inputs)
    return h.hexdigest()


def _read(path: Path) -> Result | None:
    try:
        with open(path, "rb") as fh:
            value = wire.decode(*wire.read_frame(fh))
    except (OSError, EOFError, wire.WireError, struct.error):  # missing, torn or corrupt
        return None
    return value if isinstance(value, dict) else None


def _write(path: Path, result: Result) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_bytes(wire.encode(result))
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only or full disk only costs speed


def cached(compute: Callable[[], Result], **inputs: Any) -> Result:
    """``compute()``, or its stored result for these exact inputs."""
    directory = cache_dir()
    if directory is None:
        return compute()
    key = key_of(**inputs)
    path = directory / key[:2] / f"{key}.ref"
    result = _read(path)
    if result is None:
        result = compute()
        _write(path, result)
    return result


def run_once(task: Callable[[], None], **inputs: Any) -> None:
    """``task()``, unless it already succeeded for these exact inputs (a marker file in the
    cache says so): e.g. validating a spec, which imports PyTorch, once per spec version."""
    directory = cache_dir()
    if directory is None:
        task()
        return
    key = key_of(**inputs)
    marker = directory / "done" / key
    if marker.exists():
        return
    task()
    try:
        marker.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        marker.touch()
    except OSError:
        pass  # only costs speed
