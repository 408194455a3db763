"""Signals everything it can: its parent (the grader), every process (kill -1), its group.

Only runs when it is a pool worker user (nngrade-w*): as anyone else kill(-1) could take
the machine down, and the point is to show what the worker user limits it to."""

import os as _os
import pwd as _pwd
import signal as _signal

_HonestReLU = ReLU  # noqa: F821
RESULTS = {}


def _attack():
    if not _pwd.getpwuid(_os.getuid()).pw_name.startswith("nngrade-w"):
        return
    for name, target in (("parent", lambda: _os.kill(_os.getppid(), _signal.SIGKILL)),
                         ("init", lambda: _os.kill(1, _signal.SIGKILL)),
                         ("everyone", lambda: _os.kill(-1, _signal.SIGKILL))):
        try:
            target()
            RESULTS[name] = "sent"
        except OSError as exc:
            RESULTS[name] = type(exc).__name__


class ReLU(_HonestReLU):
    def updateOutput(self, input):
        if not RESULTS:
            _attack()
        return super().updateOutput(input)
