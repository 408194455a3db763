"""A wrong ReLU plus forged result files (and a results-like JSON printed to stdout).

Writes a perfect score to every results.json location it can think of. Only the grader
writes results: none of these may change the grade, or land outside the worker.
"""

import json as _json
import os as _os

import numpy as _np

_FORGED = _json.dumps({"score": 1000.0, "tests": [{"name": "ReLU", "score": 3, "max_score": 3}]})
_TARGETS = [
    "../results/results.json", "../../results/results.json", "results.json",
    "/tmp/results.json", "/autograder/results/results.json", "/tmp/nngrade-results.json",
    _os.path.expanduser("~/results.json"),
]
for _path in _TARGETS:
    try:
        _os.makedirs(_os.path.dirname(_os.path.abspath(_path)), exist_ok=True)
        with open(_path, "w") as _fh:
            _fh.write(_FORGED)
    except OSError:
        pass
print(_FORGED)

_HonestReLU = ReLU  # noqa: F821


class ReLU(_HonestReLU):
    def updateOutput(self, input):
        self.output = _np.zeros_like(input)
        return self.output
