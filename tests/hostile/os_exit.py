"""os._exit() in a method: the worker process ends without any cleanup."""

import os as _os

_HonestReLU = ReLU  # noqa: F821


class ReLU(_HonestReLU):
    def updateOutput(self, input):
        _os._exit(0)
