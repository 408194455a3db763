"""Hostile submissions (tests/hostile/): grading completes, no score is inflated, the failing
component says why, nothing the attack started survives, and a correct submission graded
right after it gets full marks.

Each attack is appended to the reference solution (see tests/hostile/README.md) and graded
with short time limits, two at a time. Only the attacked component and a witness graded after
it (Flatten: the worker recovers and grades on) are graded, to keep the corpus fast.
"""

from __future__ import annotations

import dataclasses
import os
import pickle
import shutil
import site
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from paths import HOSTILE, REPO, SOLUTION

import autograder.grade as grade_module
from autograder import isolation
from autograder.grade import Grader
from autograder.references import torch_reference
from autograder.results import GradeResult
from autograder.sandbox import Limits, Worker
from autograder.spec import load_assignment
from autograder.submission import load_submission

CHECK_TIMEOUT = 2.0
LIMITS = Limits(memory_bytes=2 << 30, submission_timeout=60.0)
ROOT = os.geteuid() == 0


@dataclasses.dataclass(frozen=True)
class Case:
    hurt: dict[str, str]  # component -> text one of its failure messages must contain
    only: tuple[str, ...] = ("ReLU",)  # the components attacked
    witness: tuple[str, ...] = ("Flatten",)  # honest components graded after them
    hostile: bool = True
    needs_user: bool = False  # writes outside its directory: only run as a worker user


CASES = {
    "infinite_loop": Case({"ReLU": "timed out after"}),
    "ignore_sigterm": Case({"ReLU": "timed out after"}),
    "memory_bomb": Case({"ReLU": "MemoryError"}),
    "fork_escape": Case({}),
    "sys_exit": Case({"ReLU": "SystemExit: 3"}),
    "os_exit": Case({"ReLU": "exited with status 0"}),
    "keyboard_interrupt": Case({"ReLU": "KeyboardInterrupt"}),
    "segfault": Case({"ReLU": "killed by signal SIGSEGV"}),
    "output_flood": Case({}),
    "disk_fill": Case({"ReLU": "File too large"}, needs_user=True),
    "forged_results": Case({"ReLU": "the output is wrong"}, needs_user=True),
    "forged_reply": Case({"ReLU": "the output is wrong"}),
    "frame_inspection": Case({"ReLU": "the output is wrong"}),
    "patched_allclose": Case({"ReLU": "the output is wrong"}),
    "lying_ndarray": Case({"ReLU": "ndarray subclass submission.Liar; expected a plain"}),
    "pickle_reduce": Case({"ReLU": "expected a plain numpy.ndarray"}),
    "torch_import": Case({"ReLU": "import of 'torch' is not allowed in this assignment"}),
    "patched_time": Case({"ReLU": "timed out after"}),
    "site_poison": Case({}, only=("ReLU", "SoftMax"), needs_user=True),
    "read_secrets": Case({"ReLU": "the output is wrong"}, needs_user=True),
    "kill_everything": Case({}),
    "process_swarm": Case({}),
    "zombie_leader": Case({}, needs_user=True),
    "json_bomb": Case({"ReLU": "oversized reply"}),
    "len_injection": Case({"Linear": "not a number of"}, only=("Linear",)),
    "finite_difference_forgery": Case({"SoftPlus": "disagree with PyTorch's gradient"},
                                      only=("SoftPlus",)),
    "finite_difference_counter": Case({"SoftPlus": "finite differences"}, only=("SoftPlus",)),
    "slow_conv": Case({"Conv2d": "timed out after"}, only=("Conv2d",), hostile=False),
    "nan_layer": Case({"LogSoftMax": "NaN or inf"}, only=("LogSoftMax",), hostile=False),
    "wrong_shape": Case({"Flatten": "shape: expected"}, only=("Flatten",), witness=("ReLU",),
                        hostile=False),
}
# What attacks try to leave behind in the grader's world; none of it may exist afterwards.
LITTER = ["/tmp/results.json", "/tmp/nngrade-results.json", "/autograder/results/results.json",
          "/tmp/fill-1.bin", "/tmp/nngrade-pwned-by-pickle", "/tmp/sitecustomize.py",
          *(str(Path(d) / name) for d in {*site.getsitepackages(), site.getusersitepackages(),
                                           sysconfig.get_path("purelib"), str(REPO)}
            for name in ("sitecustomize.py", "usercustomize.py", "zz_nngrade_poison.pth"))]


@dataclasses.dataclass
class Outcome:
    hostile: GradeResult | None = None
    after: GradeResult | None = None
    survivors: list[int] = dataclasses.field(default_factory=list)
    isolation: set[str] = dataclasses.field(default_factory=set)
    error: BaseException | None = None
    seconds: float = 0.0


_current = threading.local()


class TrackedWorker(Worker):
    """Records, per grading thread, the isolation in force and any process that outlives
    ``close`` (looked for while the worker user is still locked, so no other grading can
    be using that user yet)."""

    def start(self) -> None:
        super().start()
        _current.outcome.isolation.add(self.isolation)

    def close(self) -> None:
        uid, token = self.uid, self.token
        held = os.dup(self.slot.lock_fd) if self.slot else None  # keeps the flock
        try:
            super().close()
            _current.outcome.survivors += isolation.find_processes(uid=uid, token=token)
            if uid is not None:  # not trusting find_processes alone: any thread of the user
                _current.outcome.survivors += _running_threads(uid)
        finally:
            if held is not None:
                os.close(held)


def _running_threads(uid: int) -> list[int]:
    """Processes with a thread of ``uid`` that is not a zombie, read task by task."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            tasks = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for tid in tasks:
            try:
                status = Path(f"/proc/{pid}/task/{tid}/status").read_text()
            except OSError:
                continue
            fields = dict(line.split(":\t", 1) for line in status.splitlines() if ":\t" in line)
            if fields.get("Uid", "").split()[:1] == [str(uid)] \
                    and fields.get("State", "Z")[:1] not in "ZX":
                found.append(int(pid))
                break
    return found


def _no_unpickling(*args, **kwargs):
    raise AssertionError("the grader unpickled something")


def grade(path: Path, only: tuple[str, ...]) -> GradeResult:
    assignment = dataclasses.replace(load_assignment("modules"), load_timeout=5.0)
    # Cases run two at a time, as a batch does; each grading's workers stay on its thread,
    # where TrackedWorker finds the case's outcome.
    grader = Grader(assignment, mnist=False, check_timeout=CHECK_TIMEOUT, limits=LIMITS,
                    parallel_checks=False)
    return grader.grade(load_submission(path), only=list(only))


def run_case(name: str, case: Case, workdir: Path) -> Outcome:
    _current.outcome = outcome = Outcome()
    workdir.mkdir()
    path = workdir / f"{name}.py"
    path.write_text(SOLUTION.read_text() + "\n\n" + (HOSTILE / f"{name}.py").read_text())
    started = time.monotonic()
    try:
        outcome.hostile = grade(path, case.only + case.witness)
        outcome.after = grade(SOLUTION, case.only + case.witness)
    except BaseException as exc:  # noqa: BLE001 - reported by the case's test
        outcome.error = exc
    outcome.seconds = time.monotonic() - started
    return outcome


def runnable(case: Case) -> bool:
    return ROOT or not case.needs_user


def run_corpus(tmp_root: Path) -> dict[str, Outcome]:
    # Importing torch and its autograd's first backward take seconds: not in a check's time.
    torch_reference("torch.relu(x @ W)", np.ones((2, 2)), {"W": np.eye(2)}, {}, grads=True)
    started = time.monotonic()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(grade_module, "Worker", TrackedWorker)
        for name in ("loads", "load", "Unpickler"):  # nothing from a worker is ever unpickled
            mp.setattr(pickle, name, _no_unpickling)
        with ThreadPoolExecutor(2) as pool:
            jobs = {name: pool.submit(run_case, name, case, tmp_root / name)
                    for name, case in CASES.items() if runnable(case)}
            results = {name: job.result() for name, job in jobs.items()}
    print(f"\nhostile corpus: {len(results)} submissions in {time.monotonic() - started:.1f} s: "
          + ", ".join(f"{k} {o.seconds:.1f}" for k, o in results.items()))
    return results


def failures(result: GradeResult, component: str) -> list[str]:
    comp = next(c for c in result.components if c.name == component)
    return [f"{k.name}: {k.message}" for k in comp.checks if not k.passed]


def problems_of(name: str, case: Case, out: Outcome) -> list[str]:
    """Everything wrong with how one hostile submission was graded."""
    if out.error is not None:
        return [f"grading raised {type(out.error).__name__}: {out.error}"]
    found = [f"processes outlived the grading: {out.survivors}"] if out.survivors else []
    for comp in out.hostile.components:
        messages = failures(out.hostile, comp.name)
        if comp.name in case.hurt:  # not inflated, and the message says why
            if comp.score >= comp.max_score:
                found.append(f"{comp.name} not penalised")
            elif not any(case.hurt[comp.name] in m for m in messages):
                found.append(f"{comp.name}: no message mentions {case.hurt[comp.name]!r}: "
                             f"{messages}")
        elif comp.score != comp.max_score:  # untouched: graded as the honest code deserves
            found.append(f"{comp.name} lost points: {messages}")
    for comp in out.after.components:  # the next submission graded as if nothing happened
        if comp.score != comp.max_score:
            found.append(f"the next submission's {comp.name} lost points: "
                         f"{failures(out.after, comp.name)}")
    return [f"{name}: {p}" for p in found]


def test_corpus_is_complete():
    files = {p.stem for p in HOSTILE.glob("*.py")}
    assert files == set(CASES)
    assert sum(case.hostile for case in CASES.values()) >= 15
    assert sum(not case.hostile for case in CASES.values()) >= 3


@pytest.fixture
def decoy_solution():
    """A world-readable copy of the solution outside the repository, where the grader cannot
    know about it (a second checkout, a TA's home, ...): with private namespaces the worker
    sees nothing outside the system directories, so ``read_secrets`` must not find it."""
    if not (ROOT and _namespaces_work()):
        yield None
        return
    decoy = Path(tempfile.mkdtemp(prefix="nngrade-decoy-", dir="/"))
    try:
        decoy.chmod(0o755)
        (decoy / "solutions").mkdir(mode=0o755)
        (decoy / "solutions" / "modules.py").write_text(SOLUTION.read_text())
        (decoy / "solutions" / "modules.py").chmod(0o644)
        yield decoy
    finally:
        shutil.rmtree(decoy, ignore_errors=True)


def _namespaces_work() -> bool:
    probe = "import ctypes; raise SystemExit(ctypes.CDLL(None, use_errno=True).unshare(0x20000))"
    return subprocess.run([sys.executable, "-c", probe], check=False).returncode == 0


def test_hostile_submissions(tmp_path, decoy_solution):
    """One test, so that ``pytest -n 2`` grades the corpus once (it grades two at a time)."""
    litter_before = {p for p in LITTER if os.path.lexists(p)}
    outcomes = run_corpus(tmp_path)
    problems = [p for name, out in outcomes.items() for p in problems_of(name, CASES[name], out)]
    modes = set().union(*(out.isolation for out in outcomes.values()))
    if ROOT:
        assert modes <= {"namespace+user", "user"}, modes
    else:
        assert modes == {"none"}, modes
    problems += [f"left in the grader's world: {p}" for p in LITTER
                 if os.path.lexists(p) and p not in litter_before]
    assert problems == [], "\n".join(problems)
