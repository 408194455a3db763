"""The worker sandbox: limits, isolation, output capture, the wire, and what the grader trusts."""

from __future__ import annotations

import dataclasses
import os
import random
import re
import shutil
import stat
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest
from paths import REPO, SOLUTION

from autograder import isolation, wire
from autograder.grade import Grader
from autograder.sandbox import (
    Limits,
    SandboxError,
    Session,
    StudentError,
    Worker,
    WorkerDied,
    WorkerTimeout,
    _clean_load,
)
from autograder.spec import load_assignment
from autograder.submission import load_submission

ROOT = os.geteuid() == 0
root_only = pytest.mark.skipif(not ROOT, reason="the worker user needs a root grader")


def worker_call(code: str, fn: str = "probe", *args, limits: Limits | None = None,
                hidden: tuple[str, ...] = (), timeout: float = 20.0):
    """Run ``code`` in a fresh worker and return ``fn(*args)`` and the worker."""
    with Worker(limits or Limits(), hidden=hidden) as worker:
        session = Session(worker, timeout)
        info = session.load([code], "probe.py")
        assert info["errors"] == [], info["errors"]
        return session.call(fn, None, *args), worker


def isolated() -> bool:
    with Worker() as worker:
        return "namespace" in worker.isolation


# -- environment and directories ----------------------------------------------------------
ALLOWED_ENV = {"PATH", "HOME", "TMPDIR", "LANG", "PYTHONHASHSEED", "PYTHONDONTWRITEBYTECODE",
               "NNGRADE_TOKEN", "NNGRADE_FORBIDDEN", "NNGRADE_SITE", "NNGRADE_ISOLATION",
               "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
               "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "LD_LIBRARY_PATH"}

ENV_PROBE = """
import os, sys
def probe():
    found = {"env": sorted(os.environ), "cwd": os.getcwd(), "home": os.environ["HOME"],
             "files": sorted(os.listdir(".")), "uid": os.getuid(),
             "path": [p for p in sys.path if "site-packages" in p or "/work" in p]}
    open("left-behind.txt", "w").write("x")
    return found
"""


def test_environment_is_scrubbed_and_directory_fresh(monkeypatch):
    monkeypatch.setenv("NNGRADE_TEST_SECRET", "hunter2")
    first, _ = worker_call(ENV_PROBE)
    second, _ = worker_call(ENV_PROBE)
    assert set(first["env"]) <= ALLOWED_ENV
    assert first["files"] == second["files"] == []  # fresh and empty, every time
    assert first["cwd"] == first["home"] != second["cwd"]
    assert not any(p.rstrip("/") == str(REPO) for p in first["path"])  # no grader package
    if ROOT:
        assert first["uid"] != 0


def test_restart_gives_a_fresh_directory():
    with Worker() as worker:
        session = Session(worker, 20)
        session.load([ENV_PROBE], "probe.py")
        before = session.call("probe", None)
        worker.start()
        session.load([ENV_PROBE], "probe.py")
        after = session.call("probe", None)
    assert before["files"] == after["files"] == []


KEYRING = """
import ctypes
_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long
def put():  # add_key("user", ..., KEY_SPEC_USER_KEYRING): outlives the process
    r = _libc.syscall(248, b"user", b"nngrade-test", b"hidden", ctypes.c_size_t(6),
                      ctypes.c_int(-4))
    return r if r >= 0 else -ctypes.get_errno()
"""


@root_only
@pytest.mark.skipif(os.uname().machine != "x86_64", reason="x86-64 syscall numbers")
def test_student_code_cannot_use_the_kernel_keyrings():
    # The kernel keyrings of a user outlive its processes: a red team carried a hidden input
    # to a restarted worker's notes and, by taking the Write permission off the keyring so
    # that it could not be cleared, to the next submission. The worker refuses the key
    # system calls (seccomp) and empties the keyrings before student code runs.
    with Worker() as worker:
        session = Session(worker, 20)
        session.load([KEYRING], "probe.py")
        assert session.call("put", None) == -1  # EPERM


@root_only
def test_reading_a_host_file_leaves_no_access_time(tmp_path):
    # With relatime, reading a file whose access time is older than its modification time
    # sets it, and it outlives the worker: a red team wrote a hidden input into the access
    # times of /usr/share/doc files for the next submission of a batch to read. The host's
    # file systems are read-only (no access times) in the worker's mount namespace.
    if not isolated():
        pytest.skip("no mount namespace here")
    folder = Path(tempfile.mkdtemp(prefix="nngrade-atime-", dir="/usr/share"))
    try:
        folder.chmod(0o755)
        probe = folder / "file"
        probe.write_text("x")
        probe.chmod(0o644)
        past = time.time() - 7200
        os.utime(probe, (past - 100, past))
        result, _ = worker_call(f"def probe():\n    return open({str(probe)!r}).read()\n")
        assert result == "x"
        assert probe.stat().st_atime == pytest.approx(past - 100, abs=1)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@root_only
def test_a_worker_starts_from_a_random_pid_and_has_no_terminal(monkeypatch):
    # Workers share the host's PID counter and its devices: a red team moved the counter by
    # starting threads as a hidden input said, and wrote one into /dev/ptmx's times; the
    # next submission of the batch read both back at full marks.
    if not isolated():
        pytest.skip("no mount namespace here")
    with open(isolation.PID_COUNTER, "w") as fh:
        fh.write("20000")
    monkeypatch.setattr(isolation.secrets, "randbelow", lambda n: 5000)
    code = ("import os\ndef probe():\n    try:\n        os.openpty()\n    except OSError as e:"
            "\n        return os.getpid(), str(e)\n    return os.getpid(), 'a terminal'\n")
    (pid, terminal), _ = worker_call(code)
    assert 5300 < pid < 5300 + 200, pid
    assert terminal != "a terminal"


SHM = """
import ctypes
_libc = ctypes.CDLL(None, use_errno=True)
def put():  # shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600): a segment outlives its process
    r = _libc.shmget(0, 4096, 0o1600)
    if r < 0:
        return -ctypes.get_errno()
    _libc.shmctl(r, 0, None)  # IPC_RMID: a failing test leaves no segment behind
    return r
"""


@root_only
def test_student_code_cannot_create_sysv_shared_memory():
    # Without an IPC namespace a SysV segment outlives the worker and nothing removes it: a
    # red team left a hidden input in one for the next submission to show. Refused (seccomp)
    # in every mode with a worker user, so the default mode shows it too.
    if os.uname().machine not in ("x86_64", "aarch64"):
        pytest.skip("no filter for this architecture")
    result, worker = worker_call(SHM, "put")
    assert "user" in worker.isolation
    assert result == -1  # EPERM


def test_the_store_call_filter_refuses_exactly_the_store_calls():
    from autograder.worker.boot import SECCOMP_RET_ALLOW, store_syscall_filter

    def run(program, arch, number):  # a tiny BPF interpreter for the opcodes used
        a, pc = 0, 0
        while True:
            code, jt, jf, k = program[pc]
            if code == 0x20:
                a = {4: arch, 0: number}[k]
            elif code == 0x54:
                a &= k
            elif code == 0x15:
                pc += jt if a == k else jf
            elif code == 0x06:
                return k
            pc += 1

    # add_key, request_key, keyctl, shmget, semget, msgget, mq_open (and i386's ipc)
    refused = {"x86_64": ((0xC000003E, {248, 249, 250, 29, 64, 68, 240}),
                          (0x40000003, {286, 287, 288, 395, 393, 399, 277, 117})),
               "aarch64": ((0xC00000B7, {217, 218, 219, 194, 190, 186, 180}),)}
    for machine, arches in refused.items():
        program = store_syscall_filter(machine)
        for arch, numbers in arches:
            for number in range(500):
                assert (run(program, arch, number) != SECCOMP_RET_ALLOW) == (number in numbers), \
                    (machine, hex(arch), number)
    x86 = store_syscall_filter("x86_64")
    assert run(x86, 0xC000003E, 0x40000000 | 29) != SECCOMP_RET_ALLOW  # x32 entry
    assert run(x86, 0xC00000B7, 219) == SECCOMP_RET_ALLOW  # another arch: not filtered


@root_only
def test_worker_cannot_read_root_only_files():
    # /run is a system directory the worker still sees: only the file's mode protects it.
    base = Path(tempfile.mkdtemp(prefix="nngrade-secret-", dir="/run"))
    try:
        base.chmod(0o755)  # only the file's own mode protects it
        secret = base / "answers.txt"
        secret.write_text("the answers")
        secret.chmod(0o600)
        code = f"def probe():\n    try:\n        return open({str(secret)!r}).read()\n" \
               "    except OSError as exc:\n        return type(exc).__name__\n"
        result, worker = worker_call(code)
        assert result == "PermissionError", worker.isolation
    finally:
        for p in base.iterdir():
            p.unlink()
        base.rmdir()


READ_PROBE = """
def probe(paths):
    out = {}
    for path in paths:
        try:
            with open(path) as fh:
                out[path] = "read %d chars" % len(fh.read())
        except OSError as exc:
            out[path] = type(exc).__name__
    return out
"""


def test_grader_files_are_hidden(tmp_path):
    if not isolated():
        pytest.skip("private namespaces not available")
    other = tmp_path / "other_student.py"
    other.write_text("answers = 42\n")
    other.chmod(0o644)
    paths = [str(SOLUTION), str(REPO / "assignments" / "modules" / "assignment.toml"),
             str(REPO / "autograder" / "grade.py"), str(other)]
    result, _ = worker_call(READ_PROBE, "probe", paths, hidden=(str(tmp_path),))
    assert result == {p: "FileNotFoundError" for p in paths}


@root_only
def test_site_packages_are_not_writable():
    site_dir = [p for p in sys.path if p.endswith("site-packages")][0]
    code = f"""
def probe():
    out = []
    for name in ("sitecustomize.py", "zz_evil.pth", "numpy/evil.py"):
        try:
            open({site_dir!r} + "/" + name, "w").write("x")
            out.append("WROTE " + name)
        except OSError as exc:
            out.append(type(exc).__name__)
    return out
"""
    result, _ = worker_call(code)
    assert not any(r.startswith("WROTE") for r in result), result
    assert not os.path.exists(os.path.join(site_dir, "zz_evil.pth"))


def test_user_opt_out_runs_as_the_grader():
    result, worker = worker_call(ENV_PROBE, limits=Limits(user=None))
    assert result["uid"] == os.getuid() and "user" not in worker.isolation


def _reachable_by_others(path: str) -> bool:
    parts = Path(os.path.realpath(path)).parents
    return all(p.stat().st_mode & 0o001 for p in parts) and os.stat(path).st_mode & 0o005 == 5


@root_only
def test_user_without_namespace():
    """Without private namespaces only the worker user isolates (e.g. Docker without
    CAP_SYS_ADMIN): then the Python installation must be readable by other users."""
    limits = Limits(namespace="off")
    if _reachable_by_others(os.path.realpath(sys.executable)):
        result, worker = worker_call(ENV_PROBE, limits=limits)
        assert worker.isolation == "user" and result["uid"] != 0
    else:
        with pytest.raises(SandboxError, match="cannot reach the Python installation"):
            Worker(limits).start()


def test_missing_user_is_a_setup_error_not_a_student_error():
    if not ROOT:
        pytest.skip("users are only switched by a root grader")
    with pytest.raises(SandboxError, match="does not exist"):
        Worker(Limits(user="nngrade-no-such-user")).start()


@root_only
def test_concurrent_workers_get_their_own_users():
    with Worker() as a, Worker() as b:
        assert a.uid != b.uid
        with pytest.raises(SandboxError, match="busy"):  # a user serves one worker at a time
            Worker(Limits(user=a.slot.name, start_timeout=0.5)).start()


# -- resource limits ----------------------------------------------------------------------
def test_memory_limit_raises_memory_error():
    code = "import numpy as np\ndef probe():\n    return np.ones(3 << 30).sum()\n"
    with pytest.raises(StudentError, match="MemoryError"):
        worker_call(code, limits=Limits(memory_bytes=1 << 30))


def test_cpu_limit_kills_with_a_clear_message():
    code = "def probe():\n    while True:\n        pass\n"
    with pytest.raises(WorkerDied, match=r"SIGXCPU \(CPU time limit\)"):
        worker_call(code, limits=Limits(cpu_seconds=1))


def test_file_size_limit_is_an_error_not_a_crash():
    code = """
def probe():
    try:
        with open("big.bin", "wb") as fh:
            for _ in range(20):
                fh.write(b"0" * (1 << 20))
    except OSError as exc:
        return str(exc), __import__("os").path.getsize("big.bin")
"""
    (message, size), worker = worker_call(code, limits=Limits(file_bytes=4 << 20))
    assert "File too large" in message and size == 4 << 20


@root_only
def test_process_limit_stops_a_fork_bomb():
    code = """
import os, time
def probe():
    pids = []
    try:
        for _ in range(20):
            pid = os.fork()
            if pid == 0:
                time.sleep(30)
                os._exit(0)
            pids.append(pid)
    except OSError as exc:
        return len(pids), type(exc).__name__
    return len(pids), None
"""
    (forked, error), worker = worker_call(code, limits=Limits(processes=6))
    assert forked < 6 and error == "BlockingIOError"


ESCAPE = """
import os, time
def probe(scrub):
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            env = {} if scrub else dict(os.environ)
            os.execve("/bin/sleep", ["sleep", "60"], env)
        os._exit(0)
    os.wait()
    end = time.monotonic() + 60
    while time.monotonic() < end:
        pass
"""


def test_timeout_kills_escaped_processes():
    scrub = ROOT  # without a worker user, only the token gives escaped processes away
    with Worker() as worker:
        session = Session(worker, 20)
        session.load([ESCAPE], "escape.py")
        uid, token = worker.uid, worker.token
        started = time.monotonic()
        with pytest.raises(WorkerTimeout):
            session.call("probe", None, scrub, timeout=1.5)
        assert time.monotonic() - started < 5
        assert not worker.alive()
        assert isolation.find_processes(uid=uid, token=token) == []


# -- student output -------------------------------------------------------------------------
def test_output_is_captured_and_capped():
    code = """
import os, sys
def probe():
    line = "y" * (1 << 20) + "\\n"
    for _ in range(100):
        print(line, end="")
        os.write(2, line.encode())
    print("the end")
    return 1
"""
    limits = Limits(log_bytes=1 << 16)
    result, worker = worker_call(code, limits=limits)
    assert result == 1
    assert worker.output_seen > 200 << 20
    assert len(worker._output) <= 2 * limits.log_bytes + (1 << 20)
    assert worker.output_tail(100).endswith("the end\n")


def test_crash_message_carries_the_last_output():
    code = "import os\ndef probe():\n    print('about to leave', flush=True)\n    os._exit(3)\n"
    with Worker() as worker:
        session = Session(worker, 20)
        session.load([code], "probe.py")
        with pytest.raises(WorkerDied, match="exited with status 3"):
            session.call("probe", None)
        assert "about to leave" in worker.output_tail()


# -- forbidden imports ------------------------------------------------------------------------
IMPORT_PROBE = """
import importlib, sys
def probe():
    out = {}
    for how, attempt in (("import", lambda: __import__("torch")),
                         ("importlib", lambda: importlib.import_module("torch.nn")),
                         ("autograder", lambda: importlib.import_module("autograder.grade")),
                         ("solutions", lambda: importlib.import_module("solutions.modules"))):
        try:
            attempt()
            out[how] = "imported"
        except ImportError as exc:
            out[how] = str(exc)
    out["loaded"] = sorted(m for m in sys.modules if m.split(".")[0] in ("torch", "autograder"))
    sys.meta_path[:] = [f for f in sys.meta_path if "Forbidden" not in type(f).__name__]
    try:
        import torch  # noqa: F401 - with the courtesy hook removed
        out["unhooked"] = "imported"
    except ImportError as exc:
        out["unhooked"] = str(exc)
    return out
"""


def test_forbidden_imports_fail_clearly():
    result, worker = worker_call(IMPORT_PROBE)
    for how in ("import", "importlib", "autograder", "solutions"):
        assert "is not allowed in this assignment" in result[how], result
    assert result["loaded"] == []
    if "namespace" in worker.isolation:  # the files themselves are out of reach
        assert result["unhooked"] == "torch is not available to student code"


def grade_text(tmp_path: Path, text: str, only: list[str], parallel_checks: bool = True,
               **limits) -> object:
    path = tmp_path / "modules.py"
    path.write_text(text)
    assignment = dataclasses.replace(load_assignment("modules"), load_timeout=10.0)
    grader = Grader(assignment, mnist=False, check_timeout=3.0, limits=Limits(**limits),
                    parallel_checks=parallel_checks)
    return grader.grade(load_submission(path), only=only)


def test_top_level_forbidden_import_explains_the_missing_components(tmp_path):
    result = grade_text(tmp_path, "import numpy as np\nimport torch\n" + SOLUTION.read_text(),
                        ["ReLU"])
    relu = result.components[0]
    assert relu.score == 0
    assert all("import of 'torch' is not allowed" in c.message for c in relu.checks)
    assert any("modules.py line 2" in n or "line 2" in n for n in result.notes), result.notes


def test_submission_budget_fails_the_rest_fast(tmp_path):
    loop = "\nclass ReLU(ReLU):\n    def updateOutput(self, input):\n        while True:\n" \
           "            pass\n"
    started = time.monotonic()
    # One worker, so that Flatten's checks come after ReLU's hang and find the budget gone.
    result = grade_text(tmp_path, SOLUTION.read_text() + loop, ["ReLU", "Flatten"],
                        parallel_checks=False, submission_timeout=2.0)  # < the 3 s timeout
    assert time.monotonic() - started < 20
    messages = [c.message for comp in result.components for c in comp.checks]
    assert any("timed out" in m or "time budget" in m for m in messages[:1])
    assert "total time budget of 2 s is used up" in messages[-1]
    assert result.score == 0


def test_a_used_up_budget_stops_a_notebook_of_many_cells(tmp_path):
    # Red team, ninth session: twenty slow cells, then 1,500 one-line cells; once the budget
    # was gone, every remaining cell cost a worker restart and a level of recursion (697 s
    # against a 600 s platform limit, then RecursionError). Now loading stops there.
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    cells = [new_code_cell(SOLUTION.read_text())]
    cells += [new_code_cell(f"class Slow{i}:\n    import time\n    time.sleep(30)")
              for i in range(3)]
    cells += [new_code_cell(f"x{i} = {i}") for i in range(1500)]
    path = tmp_path / "modules.ipynb"
    path.write_text(nbformat.writes(new_notebook(cells=cells)))
    # Two slow cells wait out their 1 s each before the notebook's 2 s of top-level time is
    # gone, so a 2 s budget is used up by then on any machine (with 4 s, a fast machine
    # loaded the 1,500 short cells inside the budget and the test found nothing to stop).
    assignment = dataclasses.replace(load_assignment("modules"), load_timeout=1.0)
    grader = Grader(assignment, mnist=False, check_timeout=3.0,
                    limits=Limits(submission_timeout=2.0))
    started = time.monotonic()
    result = grader.grade(load_submission(path), only=["ReLU"])
    assert time.monotonic() - started < 60
    assert any("were not run" in note for note in result.notes), result.notes


# -- what the grader trusts ---------------------------------------------------------------------
def test_grader_never_unpickles():
    """No grader module can turn worker bytes into objects: no pickle, no allow_pickle."""
    pattern = re.compile(r"\bimport (c?pickle|dill|cloudpickle|marshal|shelve|joblib)\b|"
                         r"\bfrom (c?pickle|dill|cloudpickle|marshal|shelve|joblib) import|"
                         r"allow_pickle\s*=\s*True|\bnp\.load\(|\bnumpy\.load\(")
    offenders = [str(p.relative_to(REPO)) for p in (REPO / "autograder").rglob("*.py")
                 if pattern.search(p.read_text())]
    assert offenders == []


def test_decode_is_total():
    """Any frame decodes to plain data (fresh plain arrays of numeric dtypes) or WireError."""
    rng = random.Random(5)
    good = wire.encode({"a": [np.arange(6.0).reshape(2, 3), 1, "x", None, wire.Handle(3)]})
    n_text, _ = wire.HEADER.unpack(good[:wire.HEADER.size])
    text, blob = good[8:8 + n_text], good[8 + n_text:]
    _assert_plain(wire.decode(text, blob))
    nasty = [b"[" * 50000 + b"]" * 50000, b'{"$nd": ["<f8", [4611686018427387904, 8]]}',
             b'{"$nd": ["|O8", [1]]}', b'{"$nd": [1]}', b'{"$d": [1]}', b'{"$h": "x"}',
             b'{"$zz": 1}', b"9" * 6000, b"\xff\xfe", b'{"$f": "nan"}']
    mutated = [bytes(rng.choice(b'{}[]":,$ndhobjf0123<>f8|O') if rng.random() < 0.1 else c
                     for c in text) for _ in range(300)]
    for candidate in nasty + mutated:
        try:
            value = wire.decode(candidate, blob)
        except wire.WireError:
            continue
        _assert_plain(value)


def test_a_frame_read_from_a_stream_shares_one_buffer_and_bytes_are_copied():
    """read_frame's buffer is owned by the decoded arrays (no copy of MNIST-sized data):
    each array writable and aligned, none aliasing another; a frame given as bytes (the
    grader's replies from the untrusted worker) decodes to copies."""
    import io

    values = [np.ones(3, np.uint8), np.arange(4.0), np.arange(5, dtype=np.float32),
              np.arange(3.0), np.zeros((0, 2))]
    frame = wire.encode(values)
    shared = wire.decode(*wire.read_frame(io.BytesIO(frame)))
    assert all(np.array_equal(a, b) and a.dtype == b.dtype for a, b in
               zip(shared, values, strict=True))
    assert all(a.flags.writeable and a.flags.aligned for a in shared)
    shared[1] += 1  # writes stay in their own array
    assert np.array_equal(shared[0], values[0]) and np.array_equal(shared[3], values[3])
    n_text, _ = wire.HEADER.unpack(frame[:wire.HEADER.size])
    copied = wire.decode(frame[8:8 + n_text], frame[8 + n_text:])
    assert all(a.flags.owndata or a.size == 0 for a in copied)


def _assert_plain(value) -> None:
    if isinstance(value, (list, dict)):
        for item in value.values() if isinstance(value, dict) else value:
            _assert_plain(item)
    elif isinstance(value, np.ndarray):
        assert type(value) is np.ndarray and value.dtype.kind in "biuf" and value.flags.owndata
    else:
        assert value is None or type(value) in (bool, int, float, str, wire.Handle, wire.Opaque)


def test_malformed_load_reply_is_rejected():
    with pytest.raises(WorkerDied, match="malformed"):
        _clean_load({"names": 5, "errors": []}, 1)
    with pytest.raises(WorkerDied, match="malformed"):
        _clean_load({"names": [], "errors": [{"cell": 7, "error": {}}]}, 1)
    clean = _clean_load({"names": ["A", 3], "errors": [{"cell": 0, "error": {"type": "X" * 500}}]},
                        1)
    assert clean["names"] == ["A"] and len(clean["errors"][0]["error"]["type"]) == 100


# -- the mount plan -----------------------------------------------------------------------------
def test_mount_plan_hides_and_reexposes(tmp_path):
    repo, venv = tmp_path / "repo", tmp_path / "repo" / ".venv"
    torch_dir = venv / "site-packages" / "torch"
    for d in (torch_dir, repo / "solutions"):
        d.mkdir(parents=True)
    plan = isolation.mount_plan(
        hide=[str(repo), str(repo / "solutions"), str(torch_dir), "/", "/usr", "/nonexistent"],
        fresh=[], expose=[str(venv)], home="/tmp/h", uid=1, gid=1, tmp_bytes=1)
    ops = [(op["op"], op.get("path")) for op in plan]
    assert ops == [("keep", str(venv)), ("tmpfs", str(repo)), ("mkdirs", str(venv)),
                   ("bind", str(venv)), ("mask", str(torch_dir)), ("readonly", str(repo)),
                   ("tmpfs", "/tmp/h"), ("proc", None)]


def test_remove_owned_only_touches_that_user(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)
    (shared / "mine").write_text("x")
    nested = shared / "sticky"
    nested.mkdir()
    nested.chmod(0o1777)
    (nested / "deep").write_text("x")
    me = os.getuid()
    removed = isolation.remove_owned(me + 1, roots=(str(shared),))
    assert removed == [] and (shared / "mine").exists()
    removed = isolation.remove_owned(me, roots=(str(shared),))
    assert sorted(removed) == [str(shared / "mine"), str(nested)]
    assert stat.S_ISDIR(shared.stat().st_mode)


def test_everything_outside_the_system_directories_is_hidden():
    """Deny by default: a copy of the solution anywhere outside /usr, /etc, /tmp, ... is hidden
    (the repository's own top-level directory included, wherever it was cloned)."""
    hidden = isolation.outside_system()
    assert not any(p in isolation.ESSENTIAL or p in isolation.SHARED_DIRS for p in hidden)
    assert "/var/tmp" not in hidden and all(not p.startswith("/tmp") for p in hidden)
    top = "/" + Path(__file__).resolve().parts[1]
    if top not in (*isolation.ESSENTIAL, "/tmp", "/var"):
        assert top in hidden
    if os.path.isdir("/var/lib"):
        assert "/var/lib" in hidden


def test_a_small_request_is_one_write_and_a_big_array_is_not_copied(monkeypatch):
    """Each write can wake the worker: a small frame goes in one piece; an array of more
    than ``COALESCE_BYTES`` is written from its own memory."""
    import autograder.sandbox as sandbox_module

    writes: list[int] = []
    real_write = os.write

    def counting_write(fd, data):
        written = real_write(fd, data)
        writes.append(written)
        return written

    big = np.arange(sandbox_module.COALESCE_BYTES // 8 + 1, dtype=np.float64)
    with Worker(Limits()) as worker:
        session = Session(worker, 20)
        session.load(["def total(x):\n    return float(x.sum())\n"], "probe.py")
        monkeypatch.setattr(sandbox_module.os, "write", counting_write)
        assert session.call("total", None, np.ones(3)) == 3.0
        assert len(writes) == 1
        writes.clear()
        assert session.call("total", None, big) == float(big.sum())
        assert len(writes) >= 2 and sum(writes[1:]) == big.nbytes  # the blob on its own
