"""First stage of the worker: limits, private namespaces and the unprivileged user.

Started by the grader as ``python -I -S boot.py`` (standard library only, no site-packages,
no ``.pth`` files, not even as root). It applies the resource limits, optionally enters
private mount/IPC/network namespaces and carries out the grader's mount plan (hide the
grader's files, empty private ``/tmp``), drops to the worker user for good, then replaces
itself with the real worker (``main.py``). No student code has run yet at any point here.

Configuration comes as JSON in ``NNGRADE_BOOT``, which is removed from the environment.
"""

from __future__ import annotations

import ctypes
import json
import os
import resource
import sys

CLONE_NEWNS, CLONE_NEWIPC, CLONE_NEWNET = 0x00020000, 0x08000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
PR_SET_NO_NEW_PRIVS = 38
SAFE = MS_NOSUID | MS_NODEV
EXIT_BOOT_FAILED = 97

_libc = ctypes.CDLL(None, use_errno=True)


class BootError(Exception):
    pass


def _check(result: int, what: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _enc(text: str | None) -> bytes | None:
    return text.encode() if text is not None else None


def _mount(source: str | None, target: str, fstype: str | None, flags: int,
           data: str | None = None) -> None:
    enc = _enc
    _check(_libc.mount(enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data)),
           f"mount {target}")


def set_limits(limits: dict[str, list[int]]) -> None:
    for name, (soft, hard) in limits.items():
        resource.setrlimit(getattr(resource, name), (soft, hard))


def enter_namespaces(network: bool) -> None:
    flags = CLONE_NEWNS | CLONE_NEWIPC | (0 if network else CLONE_NEWNET)
    _check(_libc.unshare(flags), "unshare")
    _mount(None, "/", None, MS_REC | MS_PRIVATE)  # nothing propagates back to the host


# File systems of no device: kernel views and RAM, which hold nothing of a previous worker's
# (the plan gives the worker its own /tmp, /proc and home anyway).
VIRTUAL_FS = frozenset({"tmpfs", "ramfs", "proc", "sysfs", "devtmpfs", "devpts", "mqueue",
                        "cgroup", "cgroup2", "securityfs", "debugfs", "tracefs", "pstore",
                        "bpf", "hugetlbfs", "configfs", "fusectl", "binfmt_misc", "autofs",
                        "efivarfs", "nsfs", "rpc_pipefs"})
MS_NOATIME = 1024
PER_MOUNT = {"nosuid": MS_NOSUID, "nodev": MS_NODEV, "noexec": MS_NOEXEC}


def freeze_host_mounts() -> None:
    """Make the host's file systems read-only in the worker's mount namespace (this mount
    namespace only; the host keeps them writable). Reading a never-read file on a relatime
    mount sets its access time, which outlives the worker: a red-team round wrote a hidden
    input into the access times of /usr/share/doc files for the next submission to read."""
    with open("/proc/self/mountinfo") as fh:
        mounts = [line.split() for line in fh]
    for fields in mounts:
        point, options = fields[4].replace("\\040", " "), fields[5].split(",")
        fstype = fields[fields.index("-") + 1]
        if fstype in VIRTUAL_FS:
            continue
        flags = MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOATIME
        flags |= sum(flag for name, flag in PER_MOUNT.items() if name in options)
        try:
            _mount(None, point, None, flags)
        except OSError:
            pass  # a mount covered by another, or one the kernel will not change


# Device nodes whose times the kernel updates on use and every worker shares (devtmpfs
# and the host's devpts): a red-team round wrote a hidden input into /dev/ptmx's access and
# modification times for the next submission. Student code has no use for a terminal.
TERMINALS = ("/dev/ptmx", "/dev/tty", "/dev/pts")


def run_plan(ops: list[dict]) -> None:
    """Carry out ``isolation.mount_plan``: a list of simple mount operations, in order."""
    freeze_host_mounts()
    for path in TERMINALS:
        if os.path.exists(path):
            try:
                _mask(path)
            except OSError:
                pass  # a kernel that refuses: the terminal stays (docs/security.md)
    kept: dict[str, int] = {}
    for op in ops:
        kind, path = op["op"], op.get("path", "")
        if kind == "keep":
            kept[path] = os.open(path, os.O_PATH)  # reachable even once covered
        elif kind == "tmpfs":
            _mount("tmpfs", path, "tmpfs", SAFE, op["data"])
        elif kind == "mkdirs":
            os.makedirs(path, mode=0o755, exist_ok=True)
        elif kind == "bind":
            _mount(f"/proc/self/fd/{kept[path]}", path, None, MS_BIND | MS_REC)
            _mount(None, path, None, MS_REMOUNT | MS_BIND | MS_RDONLY | SAFE)
        elif kind == "mask":
            _mask(path)
        elif kind == "readonly":
            _mount(None, path, None, MS_REMOUNT | MS_RDONLY | SAFE, "size=1m,mode=0755")
        elif kind == "proc":
            _private_proc()
        else:
            raise BootError(f"unknown mount operation {kind!r}")
    for fd in kept.values():
        os.close(fd)


def _mask(path: str) -> None:
    """Hide a file or directory. A hidden package keeps an ``__init__.py`` that refuses to
    import (an empty directory would still import, as an empty namespace package)."""
    if os.path.isdir(path):
        package = os.path.exists(os.path.join(path, "__init__.py"))
        _mount("tmpfs", path, "tmpfs", SAFE | MS_NOEXEC, "size=16k,mode=0555")
        if package:
            name = os.path.basename(path)
            with open(os.path.join(path, "__init__.py"), "w") as fh:
                fh.write(f"raise ImportError({name!r} ' is not available to student code')\n")
        _mount(None, path, None, MS_REMOUNT | MS_RDONLY | SAFE | MS_NOEXEC,
               "size=16k,mode=0555")
    else:
        _mount("/dev/null", path, None, MS_BIND)
        _mount(None, path, None, MS_REMOUNT | MS_BIND | MS_RDONLY | SAFE)


def _private_proc() -> None:
    """A /proc that shows only the worker user's own processes (per-mount since Linux 5.8;
    ``hidepid=invisible`` does not parse on older kernels, where we keep the host's /proc)."""
    try:
        _mount("proc", "/proc", "proc", SAFE | MS_NOEXEC, "hidepid=invisible")
    except OSError:
        pass


def drop_privileges(uid: int, gid: int) -> None:
    _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl(NO_NEW_PRIVS)")
    os.setgroups([])
    os.setgid(gid)
    os.setuid(uid)
    if os.getuid() != uid or os.geteuid() != uid or os.getgid() != gid:
        raise BootError("could not switch to the worker user")
    try:
        os.setuid(0)
    except PermissionError:
        return
    raise BootError("the worker can regain root privileges")


# keyctl(2): the kernel keyrings of a user outlive its processes, so a worker could leave
# data there for the next worker of the same user (a restart after a hidden check, or the
# next submission); each worker empties them before any student code runs.
KEYCTL = {"x86_64": 250, "aarch64": 219}
KEYCTL_GET_PERSISTENT, KEYCTL_CLEAR = 22, 7
KEY_SPEC_USER_KEYRING, KEY_SPEC_USER_SESSION_KEYRING = -4, -5


def clear_keyrings() -> None:
    """Empty the user's keyring, user-session keyring and persistent keyring (where the kernel
    has keys at all; a seccomp filter that refuses keyctl leaves nothing to clear)."""
    number = KEYCTL.get(os.uname().machine)
    if number is None:
        return
    keyctl = _libc.syscall
    keyctl.restype = ctypes.c_long
    rings = [KEY_SPEC_USER_KEYRING, KEY_SPEC_USER_SESSION_KEYRING]
    persistent = keyctl(ctypes.c_long(number), ctypes.c_long(KEYCTL_GET_PERSISTENT),
                        ctypes.c_long(-1), ctypes.c_long(KEY_SPEC_USER_KEYRING))
    if persistent > 0:
        rings.insert(0, persistent)
    for ring in rings:
        keyctl(ctypes.c_long(number), ctypes.c_long(KEYCTL_CLEAR), ctypes.c_long(ring))


# seccomp: the system calls that reach a store outliving the worker are refused outright
# (EPERM). Keys: a worker could take the Write permission off its own user keyring, which then
# cannot be cleared for the next worker of that user (a red-team round carried a hidden input
# to the next submission that way). SysV shared memory, semaphores and message queues, and
# POSIX message queues: without an IPC namespace they outlive the worker and nothing removes
# them (a red-team round left a hidden input in a shared-memory segment for the next
# submission); NumPy, OpenBLAS and SciPy do not use them. Per audit architecture: add_key,
# request_key, keyctl, shmget, semget, msgget, mq_open (x86-64 also refuses them through the
# i386 entry, where ipc(2) multiplexes the SysV calls).
STORE_SYSCALLS = {
    "x86_64": ((0xC000003E, (248, 249, 250, 29, 64, 68, 240)),
               (0x40000003, (286, 287, 288, 395, 393, 399, 277, 117))),
    "aarch64": ((0xC00000B7, (217, 218, 219, 194, 190, 186, 180)),),
}
PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 22, 2
SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO, EPERM = 0x7FFF0000, 0x00050000, 1
BPF_LD_W_ABS, BPF_JEQ_K, BPF_AND_K, BPF_RET_K = 0x20, 0x15, 0x54, 0x06
X32_BIT_CLEARED = 0xBFFFFFFF  # x32 system calls carry bit 30 on the x86-64 architecture


class _Filter(ctypes.Structure):
    _fields_ = [("code", ctypes.c_ushort), ("jt", ctypes.c_ubyte), ("jf", ctypes.c_ubyte),
                ("k", ctypes.c_uint)]


class _Program(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(_Filter))]


def store_syscall_filter(machine: str) -> list[tuple[int, int, int, int]]:
    """The BPF program (code, jt, jf, k): for each architecture, load the system call number
    and return EPERM for its cross-process store calls; allow everything else."""
    program: list[tuple[int, int, int, int]] = []
    for arch, numbers in STORE_SYSCALLS.get(machine, ()):
        # A = arch; if it is another one, skip the rest of this block
        program += [(BPF_LD_W_ABS, 0, 0, 4),
                    (BPF_JEQ_K, 0, 4 + len(numbers), arch),
                    (BPF_LD_W_ABS, 0, 0, 0),
                    (BPF_AND_K, 0, 0, X32_BIT_CLEARED)]
        for i, number in enumerate(numbers):  # jump to this block's RET ERRNO on a match
            program.append((BPF_JEQ_K, len(numbers) - i, 0, number))
        program.append((BPF_RET_K, 0, 0, SECCOMP_RET_ALLOW))
        program.append((BPF_RET_K, 0, 0, SECCOMP_RET_ERRNO | EPERM))
    return program + [(BPF_RET_K, 0, 0, SECCOMP_RET_ALLOW)]


def refuse_store_syscalls() -> bool:
    """Install the filter (no_new_privs is set already); False where seccomp is missing."""
    program = store_syscall_filter(os.uname().machine)
    filters = (_Filter * len(program))(*(_Filter(*op) for op in program))
    prog = _Program(len(program), filters)
    return _libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(prog), 0, 0) == 0


def boot(cfg: dict) -> str:
    """Everything before the real worker starts; returns the isolation actually in force."""
    set_limits(cfg["rlimits"])
    mode = "none"
    if cfg["namespace"] != "off":
        try:
            enter_namespaces(cfg["network"])
            mode = "namespace"
        except OSError as exc:
            if cfg["namespace"] == "required":
                raise BootError(f"cannot create a private namespace ({exc}); run the grader as "
                                "root with CAP_SYS_ADMIN, or Limits(namespace='auto')") from None
    if mode == "namespace":
        run_plan(cfg["plan"])
    if cfg.get("uid") is not None:
        drop_privileges(cfg["uid"], cfg["gid"])
        clear_keyrings()
        refuse_store_syscalls()
        mode = "user" if mode == "none" else mode + "+user"
    os.chdir(cfg["home"])
    return mode


def main() -> None:
    cfg = json.loads(os.environ.pop("NNGRADE_BOOT"))
    try:
        os.environ["NNGRADE_ISOLATION"] = boot(cfg)
        argv = [cfg["python"], "-I", "-S", cfg["main"]]
        os.execve(argv[0], argv, dict(os.environ))
    except (OSError, BootError) as exc:
        hint = ""
        if isinstance(exc, PermissionError) and cfg.get("uid") is not None:
            hint = (" -- the worker user cannot reach the Python installation: make it "
                    "readable by other users, allow private namespaces, or use "
                    "Limits(user=None)")
        print(f"nngrade worker setup failed: {exc}{hint}", file=sys.stderr, flush=True)
        os._exit(EXIT_BOOT_FAILED)


if __name__ == "__main__":
    main()
