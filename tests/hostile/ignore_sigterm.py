"""A loop that ignores SIGTERM, SIGINT and SIGHUP (and blocks them), for at most 60 s."""

import signal as _signal
import time as _time

for _sig in (_signal.SIGTERM, _signal.SIGINT, _signal.SIGHUP):
    _signal.signal(_sig, _signal.SIG_IGN)
_signal.pthread_sigmask(_signal.SIG_BLOCK, {_signal.SIGTERM, _signal.SIGINT, _signal.SIGHUP})

_HonestReLU = ReLU  # noqa: F821


class ReLU(_HonestReLU):
    def updateOutput(self, input):
        end = _time.monotonic() + 60
        while _time.monotonic() < end:
            _time.sleep(0.001)
        return super().updateOutput(input)
