"""A segmentation fault through ctypes (reading address 0)."""

import ctypes as _ctypes

_HonestReLU = ReLU  # noqa: F821


class ReLU(_HonestReLU):
    def updateOutput(self, input):
        _ctypes.string_at(0)
        return super().updateOutput(input)
