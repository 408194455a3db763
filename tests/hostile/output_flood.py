"""200 MB of output: 100 MB through print() and 100 MB straight to the file descriptors."""

import os as _os
import sys as _sys

_HonestReLU = ReLU  # noqa: F821
_flooded = []


class ReLU(_HonestReLU):
    def updateOutput(self, input):
        if not _flooded:
            _flooded.append(True)
            chunk = "x" * (1 << 20) + "\n"
            for _ in range(50):
                print(chunk, end="")
                _sys.stderr.write(chunk)
            _sys.stdout.flush()
            for _ in range(50):
                _os.write(1, chunk.encode())
                _os.write(2, chunk.encode())
        return super().updateOutput(input)
