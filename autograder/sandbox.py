"""Run student code in a separate, limited worker process and talk to it over pipes.

The grader process never imports student code. Every request is a pickle-free frame
(``autograder.wire``); every answer is validated data. A crash, a timeout or an exception in
the worker becomes a Python exception here that the check turning it into a failed check.
"""

from __future__ import annotations

import os
import resource
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autograder import wire
from autograder.wire import Handle

WORKER_MAIN = Path(__file__).resolve().parent / "worker" / "main.py"
PASS_THROUGH_ENV = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "LD_LIBRARY_PATH")


@dataclass(frozen=True)
class Limits:
    """Resource limits of one worker. Defaults fit a 2-core, 24 GB machine."""

    memory_bytes: int = 6 << 30
    cpu_seconds: int = 900
    file_bytes: int = 64 << 20
    log_bytes: int = 1 << 20
    start_timeout: float = 30.0
    threads: int = 1
    forbidden_imports: tuple[str, ...] = ("torch", "tensorflow", "jax", "autograder", "solutions")


class WorkerFailure(Exception):
    """The worker could not answer: it died or ran out of time. It must be restarted."""


class WorkerDied(WorkerFailure):
    pass


class WorkerTimeout(WorkerFailure):
    pass


class StudentError(Exception):
    """Student code raised an exception; the worker is still usable."""

    def __init__(self, exc_type: str, message: str, traceback: str = ""):
        super().__init__(f"{exc_type}: {message}")
        self.exc_type = exc_type
        self.message = message
        self.traceback = traceback

    def short(self) -> str:
        where = self.traceback.strip().splitlines()[0].strip() if self.traceback.strip() else ""
        text = f"{self.exc_type}: {self.message}".strip().rstrip(":")
        return f"{text} ({where})" if where else text


def _set_limits(limits: Limits) -> None:
    """Runs in the child before exec: resource limits apply to student code and its children."""
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
    resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds + 5))
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_bytes, limits.file_bytes))


@dataclass
class Worker:
    """One worker process (restartable) with a fresh working directory."""

    limits: Limits = field(default_factory=Limits)
    proc: subprocess.Popen | None = None
    workdir: Path | None = None
    _buffer: bytes = b""

    # -- lifecycle ------------------------------------------------------------------
    def start(self) -> None:
        self.stop()
        self.workdir = Path(tempfile.mkdtemp(prefix="nngrade-"))
        env = {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "HOME": str(self.workdir),
            "LANG": "C.UTF-8",
            "PYTHONHASHSEED": "0",
            "PYTHONDONTWRITEBYTECODE": "1",
            "NNGRADE_LOG": str(self.workdir / "output.log"),
            "NNGRADE_FORBIDDEN": ",".join(self.limits.forbidden_imports),
        }
        for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            env[name] = str(self.limits.threads)
        env.update({k: os.environ[k] for k in PASS_THROUGH_ENV if k in os.environ})
        limits = self.limits
        self.proc = subprocess.Popen(
            [sys.executable, "-I", str(WORKER_MAIN)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            cwd=self.workdir,
            env=env,
            start_new_session=True,
            preexec_fn=lambda: _set_limits(limits),
        )
        self._buffer = b""
        self._receive(time.monotonic() + limits.start_timeout)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        if self.proc is not None:
            self._kill_group()
            for stream in (self.proc.stdin, self.proc.stdout):
                try:
                    stream.close()
                except OSError:
                    pass
            self.proc = None
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None

    def _kill_group(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass

    def __enter__(self) -> Worker:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def output_tail(self, limit: int = 2000) -> str:
        """The end of what student code printed (the log is capped by RLIMIT_FSIZE)."""
        log = self.workdir / "output.log" if self.workdir else None
        if log is None or not log.exists():
            return ""
        with open(log, "rb") as fh:
            fh.seek(max(0, log.stat().st_size - limit))
            return fh.read().decode("utf-8", "replace")

    # -- requests -------------------------------------------------------------------
    def request(self, message: dict, timeout: float) -> Any:
        if not self.alive():
            raise WorkerDied("the worker is not running")
        try:
            self.proc.stdin.write(wire.encode(message))
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            raise self._died() from None
        reply = self._receive(time.monotonic() + timeout)
        if not isinstance(reply, dict):
            raise WorkerDied("the worker sent a malformed reply")
        if "error" in reply:
            err = reply["error"] if isinstance(reply["error"], dict) else {}
            raise StudentError(
                str(err.get("type", "Error")), str(err.get("message", "")),
                str(err.get("traceback", "")),
            )
        return reply.get("ok")

    def _receive(self, deadline: float) -> Any:
        header = self._read(wire.HEADER.size, deadline)
        n_text, n_blob = wire.HEADER.unpack(header)
        if n_text > wire.MAX_JSON or n_blob > wire.MAX_BLOBS:
            self._kill_group()
            raise WorkerDied("the worker sent an oversized reply")
        text = self._read(n_text, deadline)
        blob = self._read(n_blob, deadline)
        try:
            return wire.decode(text, blob)
        except wire.WireError as exc:
            self._kill_group()
            raise WorkerDied(f"the worker sent invalid data ({exc})") from None

    def _read(self, n: int, deadline: float) -> bytes:
        fd = self.proc.stdout.fileno()
        chunks = [self._buffer]
        have = len(self._buffer)
        while have < n:
            left = deadline - time.monotonic()
            if left <= 0:
                self._kill_group()
                raise WorkerTimeout("time limit exceeded")
            ready, _, _ = select.select([fd], [], [], min(left, 1.0))
            if not ready:
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
            self._kill_group()
            code = self.proc.returncode
        self._kill_group()
        if code is not None and code < 0:
            name = signal.Signals(-code).name if -code in signal.valid_signals() else str(-code)
            how = f"killed by signal {name}"
            if -code == signal.SIGXCPU:
                how += " (CPU time limit)"
        else:
            how = f"exited with status {code}"
        return WorkerDied(f"the worker process {how}")


@dataclass
class Session:
    """Typed helpers over ``Worker.request`` used by the checks."""

    worker: Worker
    timeout: float = 10.0
    deadline: float | None = None  # monotonic time by which the current check must end

    def _req(self, op: str, **fields: Any) -> Any:
        timeout = fields.pop("timeout", None) or self.timeout
        if self.deadline is not None:
            timeout = min(timeout, max(0.0, self.deadline - time.monotonic()))
        return self.worker.request({"op": op, **fields}, timeout)

    def load(self, cells: list[str], filename: str, labels: list[str] | None = None,
             timeout: float | None = None) -> dict:
        """Execute the submission's cells; returns the names defined and per-cell errors."""
        return self._req("load", cells=cells, filename=filename, labels=labels, timeout=timeout)

    def seed(self, seed: int) -> None:
        self._req("seed", seed=int(seed))

    def new(self, name: str, *args: Any, **kwargs: Any) -> Handle:
        return self._req("new", name=name, args=list(args), kwargs=kwargs)

    def put(self, value: Any) -> Handle:
        return self._req("put", value=value)

    def get(self, target: Handle | str, *path: str | int, keep: bool = False) -> Any:
        return self._req("get", target=target, path=list(path), keep=keep)

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

    def train(self, timeout: float, **fields: Any) -> dict:
        return self._req("train", timeout=timeout, **fields)
