"""KeyboardInterrupt raised from a method, and a real SIGINT sent to the worker itself."""

import os as _os
import signal as _signal

_HonestReLU = ReLU  # noqa: F821


class ReLU(_HonestReLU):
    calls = 0

    def updateOutput(self, input):
        ReLU.calls += 1
        if ReLU.calls % 2:
            raise KeyboardInterrupt
        _os.kill(_os.getpid(), _signal.SIGINT)
        return super().updateOutput(input)
