"""Processes that try to outlive the grader: setsid + double fork, SIGTERM ignored.

The first forward spawns 5 grandchildren (at most) in new sessions, re-parented to init.
Three sleep in Python; two exec /bin/sleep with an empty environment, so that they no longer
carry the worker's token: only the worker user gives them away. All sleep at most 120 s.
"""

import os as _os
import signal as _signal
import time as _time

_HonestReLU = ReLU  # noqa: F821
_spawned = []


def _escape(scrub_env):
    pid = _os.fork()
    if pid:
        _os.waitpid(pid, 0)  # the middle process exits at once
        return
    _os.setsid()
    if _os.fork():
        _os._exit(0)
    _signal.signal(_signal.SIGTERM, _signal.SIG_IGN)
    _signal.signal(_signal.SIGHUP, _signal.SIG_IGN)
    if scrub_env:
        try:
            _os.execve("/bin/sleep", ["sleep", "120"], {})
        finally:
            _os._exit(0)
    _time.sleep(120)
    _os._exit(0)


class ReLU(_HonestReLU):
    def updateOutput(self, input):
        while len(_spawned) < 5:
            _spawned.append(1)
            _escape(scrub_env=len(_spawned) > 3)
        return super().updateOutput(input)
