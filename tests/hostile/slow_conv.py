"""Not hostile: a correct Conv2d in pure-Python loops, all three passes. Small checks pass; the
hidden MNIST-sized check (a forward and a backward pass) times out. The grader must say so and
grade on. Slow backward passes too, so that the hidden check takes well over the hostile
test's check timeout even on a fast machine, while the slowest public check (finite
differences: many forward passes on tiny inputs) stays well under it."""

from itertools import product as _product

import numpy as _np

_HonestConv2d = Conv2d  # noqa: F821


class Conv2d(_HonestConv2d):
    def _taps(self, input):
        """Every (output pixel, input tap) pair: b, o, i, j, then c, u, v; and the padding."""
        n, c_in, h, w = input.shape
        c_out, _, k, _ = self.W.shape
        pixels = _product(range(n), range(c_out), range(h), range(w))
        return ((pixel, _product(range(c_in), range(k), range(k))) for pixel in pixels), k // 2

    def _padded(self, input, p):
        return _np.pad(input, ((0, 0), (0, 0), (p, p), (p, p)))

    def updateOutput(self, input):
        taps, p = self._taps(input)
        x = self._padded(input, p)
        out = _np.zeros((input.shape[0], self.W.shape[0], *input.shape[2:]))
        for (b, o, i, j), window in taps:
            total = self.b[o]
            for c, u, v in window:
                total += x[b, c, i + u, j + v] * self.W[o, c, u, v]
            out[b, o, i, j] = total
        self.output = out
        return self.output

    def updateGradInput(self, input, gradOutput):
        taps, p = self._taps(input)
        grad = _np.zeros_like(self._padded(input, p), dtype=float)
        for (b, o, i, j), window in taps:
            for c, u, v in window:
                grad[b, c, i + u, j + v] += gradOutput[b, o, i, j] * self.W[o, c, u, v]
        h, w = input.shape[2:]
        self.gradInput = grad[:, :, p:p + h, p:p + w]
        return self.gradInput

    def accGradParameters(self, input, gradOutput):
        taps, p = self._taps(input)
        x = self._padded(input, p)
        for (b, o, i, j), window in taps:
            self.gradb[o] += gradOutput[b, o, i, j]
            for c, u, v in window:
                self.gradW[o, c, u, v] += gradOutput[b, o, i, j] * x[b, c, i + u, j + v]
