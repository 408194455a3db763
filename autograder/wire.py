"""Pickle-free framing between the grader and the worker that runs student code.

A message is one frame: an 8-byte header (JSON length, blob length, both uint32 big-endian),
the JSON text, then the raw bytes of every array it mentions, in order. Arrays appear in the
JSON as ``{"$nd": [dtype, shape]}``, tuples as ``{"$t": [...]}``; handles to objects that stay
in the worker as ``{"$h": id}``.
Only plain numeric dtypes cross: decoding never executes anything from the peer (no pickle,
no ``np.load``), and every array it returns is a fresh, plain ``numpy.ndarray``.

This file is also loaded by path inside the worker, so it imports only stdlib and NumPy.
"""

from __future__ import annotations

import json
import math
import struct
from typing import Any, BinaryIO

import numpy as np

HEADER = struct.Struct(">II")
MAX_JSON = 64 << 20
MAX_BLOBS = 1 << 31  # 2 GiB: MNIST training data is ~50 MB as uint8
ALLOWED_DTYPES = frozenset(
    np.dtype(t).str
    for t in (
        "bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
        "float16", "float32", "float64",
    )
)


class WireError(Exception):
    """A frame that is malformed, too large, or carries something other than plain data."""


class Opaque:
    """Stand-in for a value that cannot cross the wire (e.g. a student object)."""

    def __init__(self, type_name: str):
        self.type_name = type_name

    def __repr__(self) -> str:
        return f"<{self.type_name}>"


class Handle:
    """Reference to an object kept in the worker."""

    def __init__(self, ident: int):
        self.ident = ident

    def __repr__(self) -> str:
        return f"Handle({self.ident})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Handle) and other.ident == self.ident

    def __hash__(self) -> int:
        return hash(("Handle", self.ident))


def _encode(value: Any, blobs: list[memoryview]) -> Any:
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, float)) and type(value) in (int, float):
        return value if value == value and abs(value) != float("inf") else {"$f": repr(value)}
    if isinstance(value, np.generic) and type(value).__module__ == "numpy":
        return _encode(np.asarray(value).reshape(()), blobs) if value.dtype.kind in "biuf" \
            else {"$obj": type(value).__name__}
    if type(value) is np.ndarray and value.dtype.str in ALLOWED_DTYPES:
        blobs.append(memoryview(np.ascontiguousarray(value).reshape(-1).view(np.uint8)))
        return {"$nd": [value.dtype.str, list(value.shape)]}
    if isinstance(value, Handle):
        return {"$h": value.ident}
    if isinstance(value, Opaque):
        return {"$obj": value.type_name}
    if type(value) is list:
        return [_encode(v, blobs) for v in value]
    if type(value) is tuple:  # a pair such as Conv2d's stride=(1, 2) stays a tuple
        return {"$t": [_encode(v, blobs) for v in value]}
    if type(value) is dict and all(type(k) is str for k in value):
        return {"$d": {k: _encode(v, blobs) for k, v in value.items()}}
    return {"$obj": _describe(value)}


def _describe(value: Any) -> str:
    kind = type(value)
    if isinstance(value, np.ndarray):
        if kind is not np.ndarray:
            return f"ndarray subclass {kind.__module__}.{kind.__qualname__}"
        return f"ndarray of dtype {value.dtype}"
    return f"{kind.__module__}.{kind.__qualname__}" if kind.__module__ != "builtins" \
        else kind.__qualname__


def encode(message: Any) -> bytes:
    return b"".join(encode_parts(message))


def encode_parts(message: Any) -> list[bytes | memoryview]:
    """The frame as pieces to write one after the other: the arrays' memory itself, not a
    copy (a copy of MNIST's 47 MB costs more in fresh pages than in copying)."""
    blobs: list[memoryview] = []
    text = json.dumps(_encode(message, blobs), allow_nan=False).encode()
    return [HEADER.pack(len(text), sum(b.nbytes for b in blobs)) + text, *blobs]


def _decode(node: Any, blob: memoryview, pos: list[int]) -> Any:
    if isinstance(node, list):
        return [_decode(v, blob, pos) for v in node]
    if not isinstance(node, dict):
        return node
    if "$nd" in node:
        return _decode_array(node["$nd"], blob, pos)
    if "$h" in node:
        return Handle(int(node["$h"]))
    if "$obj" in node:
        return Opaque(str(node["$obj"])[:200])
    if "$f" in node:
        return float(node["$f"])
    if "$t" in node and isinstance(node["$t"], list):
        return tuple(_decode(v, blob, pos) for v in node["$t"])
    if "$d" in node and isinstance(node["$d"], dict):
        return {str(k): _decode(v, blob, pos) for k, v in node["$d"].items()}
    raise WireError(f"unknown node {sorted(node)[:5]!r}")


def _decode_array(meta: Any, blob: memoryview, pos: list[int]) -> np.ndarray:
    """A fresh, plain ndarray of a whitelisted dtype: never a subclass, never objects."""
    if not isinstance(meta, list) or len(meta) != 2 or not isinstance(meta[1], list):
        raise WireError("bad array header")
    dtype_str, shape = meta
    if dtype_str not in ALLOWED_DTYPES:
        raise WireError(f"dtype {str(dtype_str)[:40]!r} is not allowed")
    if len(shape) > 32 or not all(type(n) is int and n >= 0 for n in shape):
        raise WireError(f"bad shape {shape[:33]!r}")
    dtype = np.dtype(dtype_str)
    nbytes = math.prod(shape) * dtype.itemsize  # Python ints: no overflow
    start = pos[0]
    if start + nbytes > len(blob):
        raise WireError("array data truncated")
    pos[0] = start + nbytes
    array = np.frombuffer(blob, dtype=dtype, count=math.prod(shape), offset=start)
    # A frame read into its own bytearray (read_frame) is owned by the decoded values: its
    # arrays are writable views of it, unless misaligned (after an odd-sized array), which
    # some compiled code does not expect. Anything else is copied.
    keep = array.flags.writeable and array.flags.aligned
    return array.reshape(shape) if keep else array.reshape(shape).copy()


def decode(text: bytes, blob: bytes) -> Any:
    """Decode a frame. Total: any input gives plain data or raises WireError."""
    pos = [0]
    try:
        value = _decode(json.loads(text), memoryview(blob), pos)
    except (ValueError, TypeError, KeyError, AttributeError, RecursionError,
            OverflowError) as exc:
        raise WireError(f"malformed message: {type(exc).__name__}: {str(exc)[:200]}") from None
    if pos[0] != len(blob):
        raise WireError("unexpected trailing array data")
    return value


def _read_exact(stream: BinaryIO, n: int) -> bytes:
    chunks, left = [], n
    while left:
        chunk = stream.read(left)
        if not chunk:
            raise EOFError("peer closed the channel")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _read_into(stream: BinaryIO, n: int) -> bytearray:
    """``n`` bytes read straight into one fresh buffer (no chunks joined afterwards)."""
    buffer = bytearray(n)
    view, filled = memoryview(buffer), 0
    while filled < n:
        got = stream.readinto(view[filled:])
        if not got:
            raise EOFError("peer closed the channel")
        filled += got
    return buffer


def read_frame(stream: BinaryIO) -> tuple[bytes, bytearray]:
    """Read one frame's JSON text and blob bytes, enforcing the size caps; the blob is a
    bytearray that the decoded arrays may share."""
    n_text, n_blob = HEADER.unpack(_read_exact(stream, HEADER.size))
    if n_text > MAX_JSON or n_blob > MAX_BLOBS:
        raise WireError(f"frame too large ({n_text} + {n_blob} bytes)")
    return _read_exact(stream, n_text), _read_into(stream, n_blob)


def write_message(stream: BinaryIO, message: Any) -> None:
    stream.write(encode(message))
    stream.flush()
