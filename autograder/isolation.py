"""Grader-side isolation helpers: worker users, finding and killing their processes, cleanup.

When the grader runs as root, every worker runs as a dedicated unprivileged user taken from
a small pool (``nngrade-w0``, ``nngrade-w1``, ...). A pool slot is held by one worker at a
time (an ``flock`` on a root-only lock file), so "every process of that uid" is exactly
"every process this submission started", whatever it did to escape its process group
(``setsid``, double fork). Without a dedicated user (non-root development machines), the
per-worker token in the environment is the fallback marker.

Also builds the mount plan that ``worker/boot.py`` carries out in a private mount namespace.
"""

from __future__ import annotations

import fcntl
import importlib.util
import os
import pwd
import secrets
import shutil
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

USER_PREFIX = "nngrade-w"
LOCK_DIR = Path("/run/nngrade")
# Directories any user may write into: files the worker leaves there are removed afterwards.
SHARED_DIRS = ("/tmp", "/var/tmp", "/dev/shm", "/run/lock", "/var/lock")
# Never hidden: the worker needs them to run at all.
ESSENTIAL = ("/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin", "/etc", "/dev", "/proc",
             "/sys", "/run")
_USERADD_LOCK = threading.Lock()


class SandboxError(Exception):
    """The sandbox cannot be set up (a configuration problem, never the student's fault)."""


# -- worker users -------------------------------------------------------------------------
@dataclass
class Slot:
    """A worker user held exclusively while one submission is graded."""

    name: str
    uid: int
    gid: int
    lock_fd: int

    def release(self) -> None:
        if self.lock_fd >= 0:
            os.close(self.lock_fd)  # closing drops the flock
            self.lock_fd = -1


PID_COUNTER = "/proc/sys/kernel/ns_last_pid"


def scramble_pid_counter() -> None:
    """Set the host's last-allocated PID to a random value (root only). Workers share the
    PID counter, so a submission could move it as a hidden input said (by starting threads)
    and the next one read it off its own thread ids: a red-team round sent 12 bits so at full
    marks. A random start for every worker leaves nothing of the last one's counter."""
    try:
        with open("/proc/sys/kernel/pid_max") as fh:
            pid_max = int(fh.read())
        with open(PID_COUNTER, "w") as fh:
            fh.write(str(300 + secrets.randbelow(max(pid_max - 10_000, 1000))))
    except (OSError, ValueError):
        pass  # not root, or no such file: nothing to scramble with


def acquire_slot(user: str, slots: int, timeout: float) -> Slot:
    """Lock a free worker user (creating it if needed); wait up to ``timeout`` seconds."""
    names = [f"{USER_PREFIX}{i}" for i in range(slots)] if user == "auto" else [user]
    lock_dir = _lock_dir()
    deadline = time.monotonic() + timeout
    while True:
        for name in names:
            fd = os.open(lock_dir / f"{name}.lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            try:
                entry = _ensure_user(name, create=user == "auto")
            except BaseException:
                os.close(fd)
                raise
            return Slot(name, entry.pw_uid, entry.pw_gid, fd)
        if time.monotonic() > deadline:
            raise SandboxError(f"all {len(names)} worker users are busy "
                               "(raise Limits.user_slots to grade more submissions at once)")
        time.sleep(0.05)


def _lock_dir() -> Path:
    LOCK_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)
    st = LOCK_DIR.lstat()
    if st.st_uid != os.getuid() or st.st_mode & 0o077:
        raise SandboxError(f"{LOCK_DIR} must be a directory owned by the grader, mode 0700")
    return LOCK_DIR


def _ensure_user(name: str, create: bool) -> pwd.struct_passwd:
    with _USERADD_LOCK:
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            if not create:
                raise SandboxError(f"the worker user {name!r} does not exist") from None
            entry = _create_user(name)
    if entry.pw_uid == 0 or entry.pw_uid == os.getuid():
        raise SandboxError(f"the worker user {name!r} must be an unprivileged user of its own")
    return entry


def _create_user(name: str) -> pwd.struct_passwd:
    useradd = shutil.which("useradd") or "/usr/sbin/useradd"
    cmd = [useradd, "--system", "--no-create-home", "--home-dir", "/nonexistent",
           "--shell", "/usr/sbin/nologin", "--user-group", name]
    for _ in range(20):  # useradd fails while another process holds /etc/passwd's lock
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
        except OSError as exc:
            done = subprocess.CompletedProcess(cmd, 127, "", str(exc))
        try:
            return pwd.getpwnam(name)
        except KeyError:
            time.sleep(0.1)
    raise SandboxError(
        f"cannot create the worker user {name!r} ({done.stderr.strip() or done.returncode}): "
        f"create it yourself (useradd --system --user-group {name}), or run student code "
        "as the grader's own user with Limits(user=None) (not isolated)")


# -- processes ----------------------------------------------------------------------------
def find_processes(uid: int | None = None, token: str | None = None) -> list[int]:
    """Live processes (a zombie with a running thread counts) running as ``uid``; without a
    uid, the grader's own processes that carry ``NNGRADE_TOKEN=token`` in their
    environment."""
    marker = f"NNGRADE_TOKEN={token}\0".encode() if token else None
    wanted = str(uid if uid is not None else os.getuid())
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        state, uids = _state_and_uids(entry.path)
        if not _alive(entry.path, state) or wanted not in uids:
            continue
        # A worker user cannot change its uid (no_new_privs); without one, the token decides.
        if uid is not None or (marker is not None and _has_marker(entry.path, marker)):
            found.append(int(entry.name))
    return found


def _alive(proc_dir: str, state: str) -> bool:
    """Whether any thread of the process runs: a thread-group leader that exited alone (the
    raw exit syscall) shows "Z" while its other threads go on, so a zombie counts as dead only
    when every thread of it is."""
    if state in ("", "X"):
        return False
    if state != "Z":
        return True
    try:
        tasks = os.listdir(f"{proc_dir}/task")
    except OSError:
        return False
    return any(_state_and_uids(f"{proc_dir}/task/{tid}")[0] not in ("", "Z", "X")
               for tid in tasks)


def _state_and_uids(proc_dir: str) -> tuple[str, list[str]]:
    """The state letter and the real/effective/saved/fs uids from /proc/<pid>/status."""
    try:
        with open(f"{proc_dir}/status", "rb") as fh:
            text = fh.read(4096)
    except OSError:
        return "", []
    state = text.partition(b"\nState:\t")[2][:1].decode()
    uids = text.partition(b"\nUid:\t")[2].partition(b"\n")[0].decode().split()
    return state, uids


def _has_marker(proc_dir: str, marker: bytes) -> bool:
    try:
        with open(f"{proc_dir}/environ", "rb") as fh:
            return marker in fh.read() + b"\0"
    except OSError:
        return False


def kill_processes(uid: int | None = None, token: str | None = None) -> int:
    """SIGKILL every matching process until none is left (they may be forking meanwhile)."""
    killed = 0
    for _ in range(200):
        pids = find_processes(uid, token)
        if not pids:
            return killed
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
                killed += 1
            except (ProcessLookupError, PermissionError):
                pass
        time.sleep(0.005)
    raise SandboxError(f"processes of uid {uid} / token {token} keep coming back: {pids[:10]}")


# -- files --------------------------------------------------------------------------------
def remove_owned(uid: int, roots: tuple[str, ...] = SHARED_DIRS) -> list[str]:
    """Delete what ``uid`` left in the world-writable directories; returns the paths."""
    removed: list[str] = []
    for root in dict.fromkeys(os.path.realpath(r) for r in roots):
        _remove_owned_in(root, uid, removed, depth=0)
    return removed


def _remove_owned_in(directory: str, uid: int, removed: list[str], depth: int) -> None:
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return
    for entry in entries:
        try:
            st = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if st.st_uid == uid:
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path, ignore_errors=True)
            else:
                _unlink(entry.path)
            removed.append(entry.path)
        elif entry.is_dir(follow_symlinks=False) and st.st_mode & 0o002 and depth < 8:
            _remove_owned_in(entry.path, uid, removed, depth + 1)  # e.g. /tmp/.X11-unix


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


# -- the mount plan -----------------------------------------------------------------------
def forbidden_locations(names: tuple[str, ...]) -> list[str]:
    """Where the grader's interpreter would import each forbidden top-level package from."""
    found = []
    for name in names:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            continue
        if spec is None:
            continue
        found += list(spec.submodule_search_locations or [])
        if spec.origin and spec.origin not in ("built-in", "frozen") and \
                not spec.submodule_search_locations:
            found.append(spec.origin)
    return found


def outside_system(root: str = "/") -> list[str]:
    """Deny by default: every entry of the file system's top level that is neither a system
    directory (``ESSENTIAL``) nor a shared temporary one, so that student code sees no copy of
    a solution wherever it lies (``/work``, ``/srv``, ``/autograder``, ...). A top-level
    directory that holds a shared one (``/var``) is hidden entry by entry instead."""
    hidden: list[str] = []
    for path in _entries(root):
        if path in ESSENTIAL or path in SHARED_DIRS or _system_link(path):
            continue
        if any(_under(shared, path) for shared in SHARED_DIRS):
            hidden += [p for p in _entries(path) if p not in SHARED_DIRS and not _system_link(p)]
        else:
            hidden.append(path)
    return hidden


def _entries(directory: str) -> list[str]:
    try:
        return sorted(os.path.join(directory, name) for name in os.listdir(directory))
    except OSError:
        return []


def _system_link(path: str) -> bool:
    """A symbolic link into a system or shared directory (``/bin -> usr/bin``)."""
    real = os.path.realpath(path)
    return os.path.islink(path) and any(_under(real, d) for d in (*ESSENTIAL, *SHARED_DIRS))


def _under(path: str, parent: str) -> bool:
    return path == parent or path.startswith(parent.rstrip("/") + "/")


def mount_plan(hide: list[str], fresh: list[str], expose: list[str], home: str,
               uid: int, gid: int, tmp_bytes: int) -> list[dict]:
    """Operations for ``worker/boot.py``: hide ``hide``, give ``fresh`` an empty private
    tmpfs, keep ``expose`` (read-only) reachable beneath them, and ``home`` a private tmpfs."""
    real = _existing(expose)
    hidden = [p for p in _existing(hide) if not _essential(p) and p not in real]
    fresh = _existing(fresh)
    inner = _outermost([p for p in hidden if any(_under(p, e) for e in real)])
    covers = _outermost([p for p in hidden if p not in inner] + fresh)
    reexpose = [e for e in real if any(_under(e, c) and e != c for c in covers)]
    ops: list[dict] = [{"op": "keep", "path": e} for e in reexpose]
    for path in covers:
        if path in fresh:  # RAM-backed: only /tmp gets the full size
            size = tmp_bytes if path == "/tmp" else max(tmp_bytes // 8, 1 << 20)
            ops.append({"op": "tmpfs", "path": path, "data": f"size={size},mode=1777"})
        elif os.path.isdir(path):
            ops.append({"op": "tmpfs", "path": path, "data": "size=1m,mode=0755"})
        else:
            ops.append({"op": "mask", "path": path})
    for path in reexpose:
        ops += [{"op": "mkdirs", "path": path}, {"op": "bind", "path": path}]
    ops += [{"op": "mask", "path": p} for p in inner]
    ops += [{"op": "readonly", "path": p} for p in covers
            if p not in fresh and os.path.isdir(p)]
    ops.append({"op": "tmpfs", "path": home,
                "data": f"size={tmp_bytes},mode=0700,uid={uid},gid={gid}"})
    ops.append({"op": "proc"})
    return ops


def _existing(paths: list[str]) -> list[str]:
    out = []
    for path in paths:
        real = os.path.realpath(path)
        if os.path.lexists(real) and real not in out:
            out.append(real)
    return out


def _essential(path: str) -> bool:
    return path == "/" or any(_under(e, path) for e in ESSENTIAL)


def _outermost(paths: list[str]) -> list[str]:
    """The paths not inside another one of them, shortest first."""
    out: list[str] = []
    for path in sorted(set(paths), key=len):
        if not any(_under(path, p) for p in out):
            out.append(path)
    return out
