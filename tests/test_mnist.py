"""The packaged MNIST files and the hand-written IDX/gzip loader."""

from __future__ import annotations

import gzip
import hashlib
import struct
from pathlib import Path

import numpy as np
import pytest

from autograder.mnist import (
    DATA_DIR,
    FILES,
    SHA256,
    MnistError,
    load_mnist,
    read_idx,
)

TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
IMAGES, LABELS = FILES["train"]


def idx_bytes(arr: np.ndarray, code: int = 0x08) -> bytes:
    """Serialise ``arr`` as IDX: two zero bytes, type code, ndim, big-endian uint32 dims."""
    header = bytes([0, 0, code, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape)
    return header + arr.astype(np.uint8).tobytes()


def write_gz(path: Path, raw: bytes) -> None:
    path.write_bytes(gzip.compress(raw))


def make_data_dir(tmp_path: Path, n_images: int = 5, n_labels: int | None = None) -> Path:
    """A tiny 'train' split in tmp_path; returns the directory."""
    rng = np.random.default_rng(0)
    n_labels = n_images if n_labels is None else n_labels
    write_gz(tmp_path / IMAGES, idx_bytes(rng.integers(0, 256, (n_images, 28, 28))))
    write_gz(tmp_path / LABELS, idx_bytes(rng.integers(0, 10, (n_labels,))))
    return tmp_path


def raises_naming(name: str, match: str):
    return pytest.raises(MnistError, match=rf"(?s){name}.*{match}")


# --- the real, packaged data -------------------------------------------------------------


def test_packaged_files_present_with_readme():
    for name in SHA256:
        assert (DATA_DIR / name).is_file(), name
    readme = (DATA_DIR / "README.md").read_text()
    for name, digest in SHA256.items():
        assert name in readme and digest in readme


@pytest.mark.parametrize("split, counts", [("train", TRAIN_COUNTS), ("test", TEST_COUNTS)])
def test_real_data_shapes_and_label_counts(split, counts):
    images, labels = load_mnist(split)
    n = sum(counts)
    assert images.shape == (n, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (n,) and labels.dtype == np.uint8
    assert np.bincount(labels, minlength=10).tolist() == counts
    assert not images.flags.writeable and not labels.flags.writeable


def test_real_train_pixel_statistics():
    images, _ = load_mnist("train")
    x = images.astype(np.float64) / 255
    assert round(float(x.mean()), 3) == round(0.1307, 3)
    assert round(float(x.std()), 3) == round(0.3081, 3)


def test_cached_and_read_only():
    a = load_mnist("test")
    assert load_mnist("test", DATA_DIR) is a
    with pytest.raises(ValueError):
        a[0][0, 0, 0] = 1


def test_bad_split():
    with pytest.raises(ValueError, match="split"):
        load_mnist("validation")


# --- read_idx on bytes --------------------------------------------------------------------


def test_read_idx_roundtrip():
    arr = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    out = read_idx(idx_bytes(arr))
    assert out.dtype == np.uint8 and np.array_equal(out, arr)


@pytest.mark.parametrize("data, match", [
    (b"\x00\x00", "too short"),
    (b"\x01\x00\x08\x01" + struct.pack(">I", 1) + b"\x00", "bad IDX magic"),
    (b"\x00\x00\x0d\x01" + struct.pack(">I", 1) + b"\x00" * 4, r"0x0d \(float32\)"),
    (b"\x00\x00\x08\x00", "0 dimensions"),
    (b"\x00\x00\x08\x03" + struct.pack(">I", 1), "truncated IDX header"),
    (b"\x00\x00\x08\x01" + struct.pack(">I", 3) + b"\x00", "truncated"),
    (b"\x00\x00\x08\x01" + struct.pack(">I", 1) + b"\x00\x00", "trailing bytes"),
])
def test_read_idx_rejects(data, match):
    with pytest.raises(MnistError, match=match):
        read_idx(data, source="x.idx")


# --- load_mnist on synthetic files --------------------------------------------------------


def test_synthetic_dir_loads_without_checksums(tmp_path):
    images, labels = load_mnist("train", make_data_dir(tmp_path, 5), checksums={})
    assert images.shape == (5, 28, 28) and labels.shape == (5,)


def test_custom_checksum_table_accepted(tmp_path):
    d = make_data_dir(tmp_path, 3)
    table = {n: hashlib.sha256(gzip.decompress((d / n).read_bytes())).hexdigest()
             for n in (IMAGES, LABELS)}
    assert load_mnist("train", d, checksums=table)[0].shape == (3, 28, 28)


def test_default_checksums_apply_to_any_dir(tmp_path):
    # checksums=None means the packaged table even for a custom dir: fake data is rejected.
    with raises_naming(IMAGES, "sha256 mismatch"):
        load_mnist("train", make_data_dir(tmp_path))


def test_checksum_mismatch_names_file_and_digests(tmp_path):
    d = make_data_dir(tmp_path)
    actual = hashlib.sha256(gzip.decompress((d / LABELS).read_bytes())).hexdigest()
    with raises_naming(LABELS, f"expected {'0' * 64}, got {actual}"):
        load_mnist("train", d, checksums={LABELS: "0" * 64})


def test_missing_file(tmp_path):
    d = make_data_dir(tmp_path)
    (d / LABELS).unlink()
    with raises_naming(LABELS, "missing"):
        load_mnist("train", d, checksums={})


def test_not_gzip(tmp_path):
    d = make_data_dir(tmp_path)
    (d / IMAGES).write_bytes(b"this is not gzip data at all")
    with raises_naming(IMAGES, "not a valid gzip"):
        load_mnist("train", d, checksums={})


def test_truncated_gzip_stream(tmp_path):
    d = make_data_dir(tmp_path)
    blob = (d / IMAGES).read_bytes()
    (d / IMAGES).write_bytes(blob[: len(blob) // 2])
    with raises_naming(IMAGES, "not a valid gzip"):
        load_mnist("train", d, checksums={})


def test_truncated_payload(tmp_path):
    d = make_data_dir(tmp_path, 4)
    raw = gzip.decompress((d / IMAGES).read_bytes())
    write_gz(d / IMAGES, raw[:-100])
    with raises_naming(IMAGES, "truncated"):
        load_mnist("train", d, checksums={})


def test_bad_magic(tmp_path):
    d = make_data_dir(tmp_path)
    raw = bytearray(gzip.decompress((d / LABELS).read_bytes()))
    raw[0] = 0x1F
    write_gz(d / LABELS, bytes(raw))
    with raises_naming(LABELS, "bad IDX magic"):
        load_mnist("train", d, checksums={})


def test_wrong_image_shape(tmp_path):
    d = make_data_dir(tmp_path)
    write_gz(d / IMAGES, idx_bytes(np.zeros((5, 32, 32))))
    with raises_naming(IMAGES, r"expected \(N, 28, 28\)"):
        load_mnist("train", d, checksums={})


def test_count_mismatch(tmp_path):
    d = make_data_dir(tmp_path, n_images=5, n_labels=4)
    with raises_naming(IMAGES, f"5 images but {LABELS} has 4 labels"):
        load_mnist("train", d, checksums={})


def test_label_out_of_range(tmp_path):
    d = make_data_dir(tmp_path, 3)
    write_gz(d / LABELS, idx_bytes(np.array([1, 2, 12])))
    with raises_naming(LABELS, "outside 0..9"):
        load_mnist("train", d, checksums={})


def test_packaged_dir_hint_says_reinstall():
    # The hint for the packaged directory must tell the user how to restore it.
    from autograder.mnist import _fix_hint

    assert "autograder/data/mnist/" + IMAGES in _fix_hint(DATA_DIR, IMAGES)
    assert "reinstall" in _fix_hint(DATA_DIR, IMAGES)
