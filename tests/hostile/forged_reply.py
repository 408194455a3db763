"""Writes forged, well-formed protocol replies straight to the grader's pipe (found via the
gc) for requests not sent yet (guessing their ids), then returns a wrong answer."""

import gc as _gc
import io as _io
import json as _json
import struct as _struct

import numpy as _np

_HonestReLU = ReLU  # noqa: F821


def _forge():
    for obj in _gc.get_objects():
        if isinstance(obj, _io.BufferedWriter) and obj.fileno() > 2:
            for ident in range(1, 400):
                text = _json.dumps({"$d": {"ok": 1.0, "id": ident}}).encode()
                try:
                    obj.write(_struct.pack(">II", len(text), 0) + text)
                    obj.flush()
                except (OSError, ValueError):
                    return


class ReLU(_HonestReLU):
    def updateOutput(self, input):
        _forge()
        self.output = _np.zeros_like(input)
        return self.output
