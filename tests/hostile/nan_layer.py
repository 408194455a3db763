"""Not hostile: LogSoftMax as log(softmax(x)) without the max shift: inf/inf = NaN for large
logits. The stability checks must fail with a clear message; the others pass."""

import numpy as _np

_HonestLogSoftMax = LogSoftMax  # noqa: F821


class LogSoftMax(_HonestLogSoftMax):
    def updateOutput(self, input):
        e = _np.exp(input)
        self.output = _np.log(e / e.sum(axis=1, keepdims=True))
        return self.output
