"""Run student code in a separate, limited worker process and talk to it over pipes.

The grader process never imports student code. Every request is a pickle-free frame
(``autograder.wire``); every answer is validated data. A crash, a timeout or an exception in
the worker becomes a Python exception here that the check turns into a failed check.

Isolation (docs/security.md): resource limits; when the grader is root, a dedicated
unprivileged user per worker (``autograder.isolation``) and, where the kernel allows, private
mount/IPC/network namespaces in which the grader's files are hidden and ``/tmp`` is empty
and private. Student output goes through a pipe into a bounded buffer, never to disk.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
import select
import shutil
import signal
import site
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autograder import isolation, wire
from autograder.hangs import Hangs, HungMethod
from autograder.isolation import SandboxError, Slot
from autograder.wire import Handle

PACKAGE = Path(__file__).resolve().parent
WORKER_DIR = PACKAGE / "worker"
WORKER_FILES = [*sorted(WORKER_DIR.glob("*.py")), PACKAGE / "wire.py"]
REPO_ROOT = PACKAGE.parent
PASS_THROUGH_ENV = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "LD_LIBRARY_PATH")
EXIT_BOOT_FAILED = 97  # worker/boot.py: the sandbox could not be set up
__all__ = ["BudgetExhausted", "HungMethod", "Limits", "SandboxError", "Session", "StudentError",
           "Worker", "WorkerDied", "WorkerFailure", "WorkerTimeout"]


@dataclass(frozen=True)
class Limits:
    """Resource limits and isolation of one worker. Defaults fit a 2-core, 24 GB machine.

    ``user``: "auto" runs student code as a dedicated user from a pool (``nngrade-w0`` ...,
    created if missing) when the grader is root, else as the grader's own user; None never
    switches users (development machines; not isolated); any other name is an existing user
    to use (one submission at a time). ``namespace``: "auto" uses private mount/IPC/network
    namespaces when the kernel allows it (root with CAP_SYS_ADMIN), "required" fails
    otherwise, "off" never does.
    """

    memory_bytes: int = 6 << 30  # RLIMIT_AS of each worker process
    cpu_seconds: int = 900  # RLIMIT_CPU of each worker process
    file_bytes: int = 64 << 20  # RLIMIT_FSIZE: the largest file student code can write
    processes: int = 32  # RLIMIT_NPROC (processes + threads), only with a worker user
    log_bytes: int = 1 << 20  # student stdout/stderr kept by the grader (the last bytes)
    reply_bytes: int = 256 << 20  # the largest reply the grader accepts
    # The JSON part of a reply (arrays travel apart, as raw bytes): decoding JSON of nested
    # empty lists takes about 50 times its size in the grader, so it is kept small.
    reply_json_bytes: int = 2 << 20
    tmp_bytes: int = 128 << 20  # size of the private /tmp and home (namespace mode)
    start_timeout: float = 30.0
    submission_timeout: float = 540.0  # wall clock for one submission (fits a 10-min platform)
    threads: int = 1
    forbidden_imports: tuple[str, ...] = ("torch", "tensorflow", "jax", "autograder", "solutions")
    shims: tuple[tuple[str, str], ...] = ()  # (removed api, replacement), as module.attr
    user: str | None = "auto"
    user_slots: int = 8  # worker users in the pool: submissions graded at once on one machine
    namespace: str = "auto"
    network: bool = False  # (namespace mode) whether student code may use the network
    hidden_paths: tuple[str, ...] = ()  # more paths to hide from student code (namespace mode)

    def switches_user(self) -> bool:
        return self.user is not None and os.geteuid() == 0

    def rlimits(self) -> dict[str, tuple[int, int]]:
        """(soft, hard) per limit. Past the soft CPU limit comes SIGXCPU, 5 s later SIGKILL."""
        limits = {"RLIMIT_CORE": (0, 0), "RLIMIT_AS": (self.memory_bytes,) * 2,
                  "RLIMIT_CPU": (self.cpu_seconds, self.cpu_seconds + 5),
                  "RLIMIT_FSIZE": (self.file_bytes,) * 2}
        if self.switches_user():  # counted per user: only meaningful for a dedicated one
            limits["RLIMIT_NPROC"] = (self.processes,) * 2
        return limits


class WorkerFailure(Exception):
    """The worker could not answer: it died or ran out of time. It must be restarted."""


class WorkerDied(WorkerFailure):
    pass


class WorkerTimeout(WorkerFailure):
    pass


class BudgetExhausted(WorkerTimeout):
    """The submission's total time budget is used up: no more requests are sent."""


COALESCE_BYTES = 1 << 20


def _coalesced(parts: list[bytes | memoryview]) -> list[bytes | memoryview]:
    """A small frame as one piece: each write can wake the worker, and a wake-up costs up to
    80 µs on a virtual machine (2-3 per request otherwise); big arrays stay uncopied."""
    if len(parts) > 1 and sum(memoryview(p).nbytes for p in parts) <= COALESCE_BYTES:
        return [b"".join(parts)]
    return parts


class StudentError(Exception):
    """Student code raised an exception; the worker is still usable."""

    def __init__(self, exc_type: str, message: str, traceback: str = ""):
        super().__init__(f"{exc_type}: {message}")
        self.exc_type = exc_type
        self.message = message
        self.traceback = traceback

    def short(self) -> str:
        """"Type: message (File ..., line n, in Class.method)", at the innermost frame of the
        submission's code: where the exception came from, not the container that called it."""
        files = [ln.strip() for ln in self.traceback.splitlines() if ln.strip().startswith("File")]
        where = files[-1] if files else ""
        # One line: the message is the student's text, and a line break in it could start a
        # line of a report that looks like the grader's ("All checks passed").
        message = " ".join(line.strip() for line in self.message.splitlines() if line.strip())
        text = f"{self.exc_type}: {message}".strip().rstrip(":")
        return f"{text} ({where})" if where else text


def _site_dirs() -> list[str]:
    """The grader's site-packages (never the repository: the worker must not import it)."""
    dirs = [*site.getsitepackages(), *(p for p in sys.path if p.endswith("-packages"))]
    return [d for d in dict.fromkeys(dirs) if os.path.isdir(d)]


def _python_dirs() -> list[str]:
    prefixes = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
                str(Path(os.path.realpath(sys.executable)).parent.parent)}
    return sorted(prefixes) + _site_dirs()


@dataclass
class Worker:
    """One worker process (restartable) with a fresh working directory.

    One ``Worker`` serves one submission: its worker user and token are kept across restarts,
    and ``close`` (or leaving the ``with`` block) kills everything it started and removes
    what it left behind."""

    limits: Limits = field(default_factory=Limits)
    hidden: tuple[str, ...] = ()  # paths to hide: the assignment, the solution, submissions
    proc: subprocess.Popen | None = None
    base: Path | None = None  # root of this worker's files: worker/ (code) and home/
    token: str = ""  # NNGRADE_TOKEN in the environment of everything the worker starts
    slot: Slot | None = None  # the worker user, held until close()
    isolation: str = ""  # what boot.py reported: "namespace+user", "user", "none", ...
    _buffer: bytes = b""
    _output: bytearray = field(default_factory=bytearray)
    output_seen: int = 0  # bytes of student output so far (only the last log_bytes are kept)
    _output_open: bool = False

    @property
    def workdir(self) -> Path | None:
        return self.base / "home" if self.base else None

    @property
    def uid(self) -> int | None:
        return self.slot.uid if self.slot else None

    # -- lifecycle ------------------------------------------------------------------
    def start(self) -> None:
        self.stop()
        if not self.token:
            self.token = secrets.token_hex(16)
            if self.limits.switches_user():
                self.slot = isolation.acquire_slot(self.limits.user, self.limits.user_slots,
                                                   self.limits.start_timeout)
                self._clean_user()  # a crashed grader may have left some behind
        self._make_dirs()
        if self.limits.switches_user():
            isolation.scramble_pid_counter()
        self.proc = subprocess.Popen(
            [sys.executable, "-I", "-S", str(self.base / "worker" / "boot.py")],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            cwd=self.base, env=self._env(), start_new_session=True,
        )
        os.set_blocking(self.proc.stdin.fileno(), False)
        _grow_pipe(self.proc.stderr.fileno())
        self._buffer, self._output_open = b"", True
        self._output.clear()  # a crash message shows this worker's output, not the last one's
        self._await_ready()

    def _make_dirs(self) -> None:
        self.base = Path(tempfile.mkdtemp(prefix="nngrade-"))
        self.base.chmod(0o711)  # the worker user may pass through, not list
        code = self.base / "worker"
        code.mkdir(mode=0o755)
        for path in WORKER_FILES:
            shutil.copyfile(path, code / path.name)
            (code / path.name).chmod(0o644)
        home = self.base / "home"
        home.mkdir(mode=0o700)
        if self.slot:
            os.chown(home, self.slot.uid, self.slot.gid)

    def _env(self) -> dict[str, str]:
        env = {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "HOME": str(self.workdir),
            "TMPDIR": "/tmp",
            "LANG": "C.UTF-8",
            "PYTHONHASHSEED": "0",
            "PYTHONDONTWRITEBYTECODE": "1",
            "NNGRADE_TOKEN": self.token,
            "NNGRADE_FORBIDDEN": ",".join(self.limits.forbidden_imports),
            "NNGRADE_SHIMS": json.dumps([list(s) for s in self.limits.shims]),
            "NNGRADE_SITE": os.pathsep.join(_site_dirs()),
            "NNGRADE_BOOT": json.dumps(self._boot_config()),
        }
        for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            env[name] = str(self.limits.threads)
        env.update({k: os.environ[k] for k in PASS_THROUGH_ENV if k in os.environ})
        return env

    def _boot_config(self) -> dict[str, Any]:
        namespace = self.limits.namespace if os.geteuid() == 0 else "off"
        uid, gid = (self.slot.uid, self.slot.gid) if self.slot else (os.getuid(), os.getgid())
        plan = []
        if namespace != "off":
            plan = isolation.mount_plan(
                hide=[*self._hidden_paths()], fresh=list(isolation.SHARED_DIRS),
                expose=[*_python_dirs(), str(self.base)], home=str(self.workdir),
                uid=uid, gid=gid, tmp_bytes=self.limits.tmp_bytes)
        return {"rlimits": self.limits.rlimits(), "namespace": namespace,
                "network": self.limits.network, "plan": plan,
                "uid": self.slot.uid if self.slot else None,
                "gid": self.slot.gid if self.slot else None,
                "home": str(self.workdir), "python": sys.executable,
                "main": str(self.base / "worker" / "main.py")}

    def _hidden_paths(self) -> list[str]:
        # outside_system() covers /root, /home and most checkouts; the repository and the home
        # directory are named too in case they lie inside a system directory.
        forbidden = isolation.forbidden_locations(self.limits.forbidden_imports)
        return [str(REPO_ROOT), str(Path.home()), *isolation.outside_system(), *forbidden,
                *self.hidden, *self.limits.hidden_paths]

    def _await_ready(self) -> None:
        try:
            reply = self._receive(time.monotonic() + self.limits.start_timeout)
        except WorkerFailure as exc:
            text = self.output_tail(2000).strip()
            setup_failed = self.proc is not None and self.proc.returncode == EXIT_BOOT_FAILED
            self.stop()
            if setup_failed:
                raise SandboxError(text or "the worker could not be set up") from None
            raise SandboxError(f"the worker did not start ({exc})"
                               + (f": {text}" if text else "")) from None
        ready = reply.get("ok") if isinstance(reply, dict) else None
        if not isinstance(ready, dict) or (self.slot and ready.get("uid") != self.slot.uid):
            self.stop()
            raise SandboxError(f"the worker did not start properly: {reply!r}")
        self.isolation = str(ready.get("isolation"))
        if self.limits.namespace == "required" and "namespace" not in self.isolation:
            self.stop()
            raise SandboxError("private namespaces are required but not available")

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def interrupt(self) -> None:
        """SIGKILL the worker from another thread: its pending request fails at once (``close``
        still cleans up after it)."""
        proc = self.proc
        if proc is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)

    def stop(self) -> None:
        """Kill the worker and everything it started; remove its files. The user is kept."""
        if self.proc is not None:
            self._kill_all()
            self._drain_output()
            for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
                try:
                    stream.close()
                except OSError:
                    pass
            self.proc = None
        if self.base is not None:
            shutil.rmtree(self.base, ignore_errors=True)
            self.base = None

    def close(self) -> None:
        """Stop, clean up after the worker user and give it back to the pool."""
        self.stop()
        if self.slot is not None:
            self._clean_user()
            self.slot.release()
            self.slot = None
        elif self.token:
            isolation.kill_processes(token=self.token)
        self.token = ""

    def _clean_user(self) -> None:
        isolation.kill_processes(uid=self.slot.uid, token=self.token)
        isolation.remove_owned(self.slot.uid)

    def _kill_all(self) -> None:
        """SIGKILL the process group, then whatever escaped it (by worker user or token)."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        isolation.kill_processes(uid=self.uid, token=self.token)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass

    def __enter__(self) -> Worker:
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- student output -------------------------------------------------------------
    def output_tail(self, limit: int = 2000) -> str:
        """The end of what student code printed (only the last ``log_bytes`` are kept)."""
        return bytes(self._output[-min(limit, self.limits.log_bytes):]).decode("utf-8",
                                                                                "replace")

    def _pump_output(self) -> None:
        try:
            data = os.read(self.proc.stderr.fileno(), 1 << 20)
        except (OSError, ValueError):
            data = b""
        if not data:
            self._output_open = False
            return
        self.output_seen += len(data)
        self._output += data
        if len(self._output) > 2 * self.limits.log_bytes:  # trim now and then, not per read
            del self._output[:-self.limits.log_bytes]

    def _drain_output(self) -> None:
        """Read what is left once the worker is dead (an orphan cannot hold us: all killed)."""
        deadline = time.monotonic() + 1.0
        while self._output_open and time.monotonic() < deadline:
            ready, _, _ = select.select([self.proc.stderr], [], [], 0.1)
            if not ready:
                return
            self._pump_output()

    # -- requests -------------------------------------------------------------------
    def request(self, message: dict, timeout: float) -> Any:
        if not self.alive():
            raise WorkerDied("the worker is not running")
        deadline = time.monotonic() + timeout
        # A random id: frames student code writes to the protocol pipe ahead of time (it can)
        # cannot answer a request they did not see; stale and unsolicited ones are skipped.
        ident = secrets.randbits(52)
        for part in _coalesced(wire.encode_parts({**message, "id": ident})):
            self._send(part, deadline)
        reply = self._receive(deadline)
        while isinstance(reply, dict) and reply.get("id") != ident:
            reply = self._receive(deadline)
        if not isinstance(reply, dict):
            raise WorkerDied("the worker sent a malformed reply")
        if "error" in reply:
            err = reply["error"] if isinstance(reply["error"], dict) else {}
            raise StudentError(
                str(err.get("type", "Error"))[:100], str(err.get("message", ""))[:2000],
                str(err.get("traceback", ""))[-4000:],
            )
        return reply.get("ok")

    def _send(self, data: bytes | memoryview, deadline: float) -> None:
        """Write a request without ever blocking: a worker that stops reading times out."""
        view, fd = memoryview(data), self.proc.stdin.fileno()
        writable = True  # a request usually fits the pipe: write first, wait only when full
        while view:
            if writable:
                try:
                    view = view[os.write(fd, view[:1 << 20]):]
                    continue
                except BlockingIOError:
                    pass
                except OSError:  # broken pipe: it died
                    raise self._died() from None
            writable, _ = self._wait([self.proc.stdin], deadline)

    def _wait(self, writers: list, deadline: float) -> tuple[bool, bool]:
        """Wait for ``writers`` (or the reply pipe) to be ready, draining student output."""
        left = deadline - time.monotonic()
        if left <= 0:
            self._kill_all()
            raise WorkerTimeout("time limit exceeded")
        readers = [self.proc.stdout] + ([self.proc.stderr] if self._output_open else [])
        ready_r, ready_w, _ = select.select(readers if not writers else readers[1:],
                                            writers, [], min(left, 1.0))
        if self.proc.stderr in ready_r:
            self._pump_output()
        return bool(ready_w), self.proc.stdout in ready_r

    def _receive(self, deadline: float) -> Any:
        header = self._read(wire.HEADER.size, deadline)
        n_text, n_blob = wire.HEADER.unpack(header)
        if n_text > self.limits.reply_json_bytes or n_blob > self.limits.reply_bytes:
            self._kill_all()
            raise WorkerDied(f"the worker sent an oversized reply ({n_text + n_blob} bytes)")
        text = self._read(n_text, deadline)
        blob = self._read(n_blob, deadline)
        try:
            return wire.decode(text, blob)
        except wire.WireError as exc:
            self._kill_all()
            raise WorkerDied(f"the worker sent invalid data ({exc})") from None

    def _read(self, n: int, deadline: float) -> bytes:
        fd = self.proc.stdout.fileno()
        chunks = [self._buffer]
        have = len(self._buffer)
        while have < n:
            _, readable = self._wait([], deadline)
            if not readable:
                continue
            chunk = os.read(fd, max(1 << 16, min(n - have, 1 << 24)))
            if not chunk:
                raise self._died()
            chunks.append(chunk)
            have += len(chunk)
        data = b"".join(chunks)
        self._buffer = data[n:]
        return data[:n]

    def _died(self) -> WorkerDied:
        try:
            code = self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            code = None
        self._kill_all()
        self._drain_output()
        code = self.proc.returncode if code is None else code
        return WorkerDied(f"the worker process {_how(code)}")


def _grow_pipe(fd: int) -> None:
    """A 1 MiB pipe: a student printing megabytes costs fewer wake-ups."""
    try:
        fcntl.fcntl(fd, 1031, 1 << 20)  # F_SETPIPE_SZ (Linux)
    except OSError:
        pass


def _how(code: int | None) -> str:
    if code is None:
        return "stopped answering"
    if code >= 0:
        return (f"exited with status {code} (student code must not call exit() or "
                "os._exit())")
    name = signal.Signals(-code).name if -code in signal.valid_signals() else str(-code)
    hints = {signal.SIGXCPU: " (CPU time limit)", signal.SIGXFSZ: " (file size limit)",
             signal.SIGSEGV: " (a crash in native code)", signal.SIGKILL: ""}
    return f"was killed by signal {name}{hints.get(-code, '')}"


@dataclass
class Session:
    """Typed helpers over ``Worker.request`` used by the checks."""

    worker: Worker
    timeout: float = 10.0
    deadline: float | None = None  # monotonic time by which the current check must end
    budget_deadline: float | None = None  # monotonic time by which the submission must end
    budget: float = 0.0  # the submission's total budget in seconds (for messages)
    hangs: Hangs = field(default_factory=Hangs)  # shared with the submission's other worker
    check_timeout: float = 0.0  # a request given at least half of this that times out hangs
    _classes: dict[int, str] = field(default_factory=dict)  # handle -> class it was made from
    _seed: int | None = None  # sent along with the next request

    def out_of_time(self) -> bool:
        return self.budget_deadline is not None and time.monotonic() >= self.budget_deadline

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """Grader-side work (e.g. computing references) does not use up the student's time."""
        started = time.monotonic()
        try:
            yield
        finally:
            spent = time.monotonic() - started
            if self.deadline is not None:
                self.deadline += spent
            if self.budget_deadline is not None:
                self.budget_deadline += spent

    def _req(self, op: str, **fields: Any) -> Any:
        timeout = fields.pop("timeout", None) or self.timeout
        if self.deadline is not None:
            timeout = min(timeout, max(0.0, self.deadline - time.monotonic()))
        if self.budget_deadline is not None:
            if self.out_of_time():
                raise BudgetExhausted(f"the submission's total time budget of {self.budget:g} s "
                                      "is used up")
            timeout = min(timeout, self.budget_deadline - time.monotonic())
        key = self._method_key(op, fields)
        if key is not None and self.hangs.seconds(key) is not None:
            raise HungMethod(self.hangs.message(key))
        if self._seed is not None:
            fields["reseed"], self._seed = self._seed, None
        try:
            return self.worker.request({"op": op, **fields}, timeout)
        except WorkerTimeout:
            # Only a request given a fair share of a check's time counts as a hang: one that
            # started late in a slow check says nothing about the method itself.
            if key is not None and not self.out_of_time() and self.check_timeout \
                    and timeout >= self.check_timeout / 2:
                self.hangs.record(key, round(self.check_timeout, 1))
            raise

    def _method_key(self, op: str, fields: dict[str, Any]) -> str | None:
        """``Class.method`` of student code that a request runs, when the grader knows it."""
        target = fields.get("target")
        owner = target if isinstance(target, str) else \
            self._classes.get(target.ident) if isinstance(target, Handle) else None
        if op == "new":
            return f"{fields['name']}.__init__"
        if owner is None or owner.startswith("probe:") or op not in ("call", "eval_many"):
            return None
        return f"{owner}.{fields['method']}" if fields.get("method") else owner

    def load(self, cells: list[str], filename: str, labels: list[str] | None = None,
             timeout: float | None = None, append: bool = False,
             notebook: bool = False) -> dict:
        """Execute the submission's cells (after those loaded before, with ``append``);
        returns the names defined and per-cell errors. ``notebook``: the names Jupyter
        provides (``display``) are there, as in the kernel."""
        info = self._req("load", cells=cells, filename=filename, labels=labels, timeout=timeout,
                         append=append, notebook=notebook)
        return _clean_load(info, len(cells))

    def seed(self, seed: int) -> None:
        """Seed the worker's ``random`` and ``np.random`` before the next request runs (the
        seed travels with it: one round trip fewer per check trial)."""
        self._seed = int(seed)

    def new(self, name: str, *args: Any, preset_attrs: dict[str, Any] | None = None,
            **kwargs: Any) -> Handle:
        """``name(*args, **kwargs)`` in the worker, then each ``preset_attrs`` attribute set
        on it (one round trip for what the grader sets before a check)."""
        fields = {"set": preset_attrs} if preset_attrs else {}
        handle = self._req("new", name=name, args=list(args), kwargs=kwargs, **fields)
        if isinstance(handle, Handle) and not name.startswith("probe:"):
            self._classes[handle.ident] = name
        return handle

    def put(self, value: Any) -> Handle:
        return self._req("put", value=value)

    def get(self, target: Handle | str, *path: str | int, keep: bool = False) -> Any:
        return self._req("get", target=target, path=list(path), keep=keep)

    def get_attrs(self, target: Handle, names: list[str]) -> dict[str, Any]:
        """Several attributes of ``target`` in one round trip."""
        values = self._req("get_attrs", target=target, names=list(names))
        if not isinstance(values, dict) or set(values) != set(names):
            raise WorkerDied("the worker sent a malformed reply to 'get_attrs'")
        return values

    def set(self, target: Handle, attr: str, value: Any) -> None:
        self._req("set", target=target, attr=attr, value=value)

    def call(self, target: Handle | str, method: str | None, *args: Any,
             keep: bool = False, fallback: str | None = None,
             timeout: float | None = None) -> Any:
        """Call ``target.method(*args)``; a None result is replaced by ``target.<fallback>``."""
        return self._req("call", target=target, method=method, args=list(args), keep=keep,
                         fallback=fallback, timeout=timeout)

    def shares(self, a: tuple, b: tuple) -> bool:
        """Whether ``a[0].<a[1:]>`` and ``b[0].<b[1:]>`` share memory in the worker."""
        return self._req("shares", a={"target": a[0], "path": list(a[1:])},
                         b={"target": b[0], "path": list(b[1:])})

    def eval_many(self, target: Handle, method: str, items: list[dict],
                  fallback: str | None = None) -> list[Any]:
        return self._req("eval_many", target=target, method=method, items=items,
                         fallback=fallback)

    def shims_used(self) -> list[str]:
        """The compatibility shims student code called (an untrusted list of names)."""
        used = self._req("shims_used")
        return [u for u in used if isinstance(u, str)] if isinstance(used, list) else []

    def train(self, timeout: float, **fields: Any) -> dict:
        """Build the MNIST network and train it to its first checkpoint (the worker's reply,
        untrusted: the caller checks it)."""
        return self._req("train", timeout=timeout, **fields)

    def train_more(self, timeout: float) -> dict:
        """Train the network of ``train`` on to its next checkpoint (untrusted reply)."""
        return self._req("train_more", timeout=timeout)


def _clean_load(info: Any, n_cells: int) -> dict:
    """The load reply as the grader expects it (the worker is untrusted: check its shape)."""
    if not isinstance(info, dict) or not isinstance(info.get("names"), list) \
            or not isinstance(info.get("errors"), list):
        raise WorkerDied("the worker sent a malformed reply to 'load'")
    errors = []
    for err in info["errors"]:
        cell = err.get("cell") if isinstance(err, dict) else None
        detail = err.get("error") if isinstance(err, dict) else None
        if type(cell) is not int or not 0 <= cell < n_cells or not isinstance(detail, dict):
            raise WorkerDied("the worker sent a malformed reply to 'load'")
        errors.append({"cell": cell, "error": {
            "type": str(detail.get("type", "Error"))[:100],
            "message": str(detail.get("message", ""))[:2000],
            "traceback": str(detail.get("traceback", ""))[-4000:]}})
    return {"names": [n for n in info["names"] if isinstance(n, str)], "errors": errors}
