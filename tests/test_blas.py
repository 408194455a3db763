"""Which OpenBLAS kernel NumPy runs, and compare's note when OPENBLAS_CORETYPE forces one
(autograder/compare/blas.py). The variable is the machine's: these tests never set it."""

from __future__ import annotations

import json
import os

import pytest

from autograder.cli import main
from autograder.compare import blas


def _kernels(forced: str, own: str):
    """kernel_with as if OpenBLAS ran ``forced`` under OPENBLAS_CORETYPE and ``own`` without."""
    return lambda env: forced if blas.CORETYPE in env else own


@pytest.mark.skipif(blas.corename() is None, reason="NumPy does not run OpenBLAS here")
def test_a_fresh_process_with_this_environment_runs_this_processs_kernel():
    assert blas.kernel_with(os.environ) == blas.corename()


def test_no_note_without_the_variable(monkeypatch):
    monkeypatch.setattr(blas, "kernel_with", _kernels("Haswell", "SkylakeX"))
    assert blas.coretype_note({"PATH": "/usr/bin"}) is None


def test_no_note_when_the_variable_names_the_kernel_openblas_picks_anyway(monkeypatch):
    monkeypatch.setattr(blas, "kernel_with", _kernels("Haswell", "Haswell"))
    assert blas.coretype_note({blas.CORETYPE: "Haswell"}) is None


def test_the_note_names_the_forced_and_the_own_kernel(monkeypatch):
    monkeypatch.setattr(blas, "kernel_with", _kernels("Haswell", "SkylakeX"))
    note = blas.coretype_note({blas.CORETYPE: "Haswell", "PATH": "/usr/bin"})
    assert "Haswell" in note and "SkylakeX" in note and "OPENBLAS_CORETYPE=Haswell" in note


def test_no_note_when_a_kernel_cannot_be_read(monkeypatch):
    monkeypatch.setattr(blas, "kernel_with", lambda env: None if blas.CORETYPE in env else "Zen")
    assert blas.coretype_note({blas.CORETYPE: "Haswell"}) is None


def test_compare_prints_the_note_and_records_the_kernel(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(blas, "coretype_note", lambda: "note: forced kernel")
    status = main(["compare", "--arch", "mlp", "--epochs", "1", "--train-size", "256",
                   "--test-size", "100", "--out", str(tmp_path)])
    assert status == 0
    assert "note: forced kernel" in capsys.readouterr().out
    summary = json.loads((tmp_path / "mlp_summary.json").read_text())
    assert summary["openblas_kernel"] == blas.corename()
    assert summary["openblas_coretype"] == os.environ.get(blas.CORETYPE)
