"""The benchmarks' machine description: which host a figure came from (issue 17)."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks import common


@pytest.mark.parametrize(("flags", "isa"), [
    ("fpu sse2 avx avx2 fma avx512f avx512bw", "AVX-512"),
    ("fpu sse2 avx fma avx2", "AVX2"),
    ("fpu sse2 avx", "AVX"),
    ("fpu sse2", "no AVX"),
])
def test_vector_isa_is_the_widest_extension(flags, isa):
    assert common._vector_isa(set(flags.split())) == isa


def test_machine_line_names_family_model_and_isa(monkeypatch):
    monkeypatch.setattr(common, "_cpuinfo", lambda: {
        "model name": "AMD EPYC", "cpu family": "25", "model": "17",
        "flags": "sse2 avx avx2 avx512f"})
    first = common.describe_machine().splitlines()[0]
    assert first.startswith("machine: AMD EPYC (family 25 model 17, AVX-512), ")


def test_machine_line_without_cpuinfo_falls_back(monkeypatch):
    monkeypatch.setattr(common, "_cpuinfo", dict)
    assert "family" not in common.describe_machine().splitlines()[0]


@pytest.mark.skipif(not Path("/proc/cpuinfo").exists(), reason="no /proc/cpuinfo (not Linux)")
def test_cpuinfo_reads_the_first_processor():
    assert common._cpuinfo()["processor"] == "0"


def test_gemm_gflops_reports_a_speed_per_library(monkeypatch):
    monkeypatch.setattr(common, "pin_threads", lambda n: None)  # keep this process's BLAS
    monkeypatch.delitem(common.sys.modules, "torch", raising=False)
    speeds = common.gemm_gflops(1, n=64, repeats=2)
    assert list(speeds) == ["NumPy"] and speeds["NumPy"] > 0.01


def test_load_module_runs_the_reference_in_this_process():
    reference = common.load_module(common.SOLUTION, "_test_reference")
    assert reference.__name__ == "_test_reference"
    assert callable(reference.adam_optimizer) and callable(reference.Linear)
