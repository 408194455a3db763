"""MNIST loader for the grader process: a hand-written IDX reader plus checksum checks.

The four gzip files ship inside the package (``autograder/data/mnist``) because graders
often run offline; nothing here touches the network or torchvision.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import threading
import zlib
from collections.abc import Mapping
from pathlib import Path

import numpy as np

DATA_DIR = Path(__file__).parent / "data" / "mnist"

FILES: dict[str, tuple[str, str]] = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}

# sha256 of the UNCOMPRESSED bytes: gzip headers (mtime, name) differ between mirrors of the
# same data, the IDX payload does not.
SHA256: dict[str, str] = {
    "train-images-idx3-ubyte.gz":
        "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte.gz":
        "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte.gz":
        "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte.gz":
        "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}

IMAGE_SHAPE = (28, 28)
NUM_CLASSES = 10

# IDX type codes (third magic byte); only uint8 is valid for MNIST, the rest name the error.
_IDX_TYPES = {0x08: "uint8", 0x09: "int8", 0x0B: "int16", 0x0C: "int32",
              0x0D: "float32", 0x0E: "float64"}


class MnistError(Exception):
    """The MNIST data is missing or damaged; the message names the file and the fix."""


def _fix_hint(data_dir: Path, *names: str) -> str:
    if data_dir.resolve() == DATA_DIR.resolve():
        paths = " and ".join(f"autograder/data/mnist/{n}" for n in names)
        return f"reinstall the package or restore {paths} (the data ships with the grader)"
    copies = "an intact copy" if len(names) == 1 else "intact copies"
    return f"replace {' and '.join(str(data_dir / n) for n in names)} with {copies}"


def read_idx(data: bytes, source: str = "IDX data") -> np.ndarray:
    """Parse uncompressed IDX bytes into a read-only uint8 array shaped by the header dims.

    ``source`` only labels error messages (e.g. the file name).
    """
    if len(data) < 4:
        raise MnistError(f"{source}: {len(data)} bytes, too short for the 4-byte IDX magic")
    zero0, zero1, code, ndim = data[:4]
    if zero0 != 0 or zero1 != 0:
        raise MnistError(f"{source}: bad IDX magic {data[:4].hex()} "
                         "(the first two bytes must be zero); not an IDX file")
    if code != 0x08:
        kind = _IDX_TYPES.get(code, "unknown")
        raise MnistError(f"{source}: IDX type code 0x{code:02x} ({kind}); MNIST files must be "
                         "0x08 (uint8)")
    if ndim == 0:
        raise MnistError(f"{source}: IDX header declares 0 dimensions")
    header_len = 4 + 4 * ndim
    if len(data) < header_len:
        raise MnistError(f"{source}: truncated IDX header ({len(data)} bytes, "
                         f"{header_len} needed for {ndim} dimensions)")
    dims = tuple(int(d) for d in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    expected = int(np.prod(dims, dtype=np.int64))
    payload = len(data) - header_len
    if payload != expected:
        what = "truncated" if payload < expected else "trailing bytes"
        raise MnistError(f"{source}: {what}: header dims {dims} need {expected} payload bytes, "
                         f"found {payload}")
    arr = np.frombuffer(data, dtype=np.uint8, offset=header_len).reshape(dims)
    arr.flags.writeable = False
    return arr


def _read_gz(path: Path, data_dir: Path) -> bytes:
    name = path.name
    if not path.is_file():
        raise MnistError(f"{name}: missing (looked for {path}); {_fix_hint(data_dir, name)}")
    try:
        with gzip.open(path, "rb") as f:
            return f.read()
    # BadGzipFile is an OSError; a cut-off stream raises EOFError, corrupt deflate zlib.error.
    except (OSError, EOFError, zlib.error) as e:
        raise MnistError(f"{name}: not a valid gzip file ({e}); "
                         f"{_fix_hint(data_dir, name)}") from e


def _verify(name: str, raw: bytes, checksums: Mapping[str, str], data_dir: Path) -> None:
    expected = checksums.get(name)
    if expected is None:
        return
    actual = hashlib.sha256(raw).hexdigest()
    if actual != expected.lower():
        raise MnistError(f"{name}: sha256 mismatch of the uncompressed bytes: expected "
                         f"{expected}, got {actual}; {_fix_hint(data_dir, name)}")


def _load_file(data_dir: Path, name: str, checksums: Mapping[str, str],
               shape_tail: tuple[int, ...]) -> np.ndarray:
    raw = _read_gz(data_dir / name, data_dir)
    # Checksum first: for the packaged files a mismatch is the most useful diagnosis.
    _verify(name, raw, checksums, data_dir)
    try:
        arr = read_idx(raw, source=name)
    except MnistError as e:
        raise MnistError(f"{e}; {_fix_hint(data_dir, name)}") from None
    if arr.shape[1:] != shape_tail:
        expected = "(N, " + ", ".join(map(str, shape_tail)) + ")" if shape_tail else "(N,)"
        raise MnistError(f"{name}: shape {arr.shape}, expected {expected}; "
                         f"{_fix_hint(data_dir, name)}")
    return arr


@functools.lru_cache(maxsize=4)
def _load_cached(split: str, data_dir: Path,
                 checksums: tuple[tuple[str, str], ...]) -> tuple[np.ndarray, np.ndarray]:
    table = dict(checksums)
    image_name, label_name = FILES[split]
    images = _load_file(data_dir, image_name, table, IMAGE_SHAPE)
    labels = _load_file(data_dir, label_name, table, ())
    if len(images) != len(labels):
        raise MnistError(f"{image_name} has {len(images)} images but {label_name} has "
                         f"{len(labels)} labels; {_fix_hint(data_dir, image_name, label_name)}")
    if labels.size and int(labels.max()) >= NUM_CLASSES:
        raise MnistError(f"{label_name}: label {int(labels.max())} outside 0..{NUM_CLASSES - 1}; "
                         f"{_fix_hint(data_dir, label_name)}")
    return images, labels


def load_mnist(split: str = "train", data_dir: Path | None = None,
               checksums: Mapping[str, str] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Return read-only ``(images uint8 (N, 28, 28), labels uint8 (N,))`` for a split.

    ``split`` is "train" (60000) or "test" (10000). ``data_dir`` defaults to the packaged
    copy. Checksum rule: ``checksums=None`` means the packaged ``SHA256`` table, for any
    ``data_dir`` (a copy of the real MNIST anywhere passes); otherwise only files named in
    the given mapping are verified, so ``checksums={}`` disables verification (synthetic
    test data). Results are cached per (split, resolved dir, checksum table), so a file
    changed on disk after a successful load is not re-read in the same process.
    """
    if split not in FILES:
        raise ValueError(f"split must be one of {sorted(FILES)}, got {split!r}")
    directory = (DATA_DIR if data_dir is None else Path(data_dir)).resolve()
    table = SHA256 if checksums is None else checksums
    with _LOADING:  # a load started early (mnist_check.prefetch) is waited for, not repeated
        return _load_cached(split, directory, tuple(sorted(table.items())))


_LOADING = threading.Lock()
