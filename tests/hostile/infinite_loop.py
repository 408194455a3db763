"""Infinite loop: ReLU.updateOutput spins (for at most 60 s of wall clock)."""

import time as _time

_HonestReLU = ReLU  # noqa: F821 - defined by the honest code this file is appended to


class ReLU(_HonestReLU):
    def updateOutput(self, input):
        end = _time.monotonic() + 60
        while _time.monotonic() < end:
            pass
        return super().updateOutput(input)
