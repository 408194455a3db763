"""sys.exit() in a method: the worker must survive and report it."""

import sys as _sys

_HonestReLU = ReLU  # noqa: F821


class ReLU(_HonestReLU):
    def updateOutput(self, input):
        _sys.exit(3)
