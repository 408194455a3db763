"""Not hostile: a correct Conv2d in pure-Python loops, all three passes. Small checks pass; the
hidden MNIST-sized check (a forward and a backward pass) times out. The grader must say so and
grade on. Slow backward passes too, so that the hidden check takes well over the hostile
test's check timeout even on a fast machine, while the slowest public check (finite
differences: many forward passes on tiny inputs) stays well under it."""

import numpy as _np

_HonestConv2d = Conv2d  # noqa: F821


class Conv2d(_HonestConv2d):
    def updateOutput(self, input):
        n, c_in, h, w = input.shape
        k = self.W.shape[-1]
        p = k // 2
        x = _np.pad(input, ((0, 0), (0, 0), (p, p), (p, p)))
        out = _np.zeros((n, self.W.shape[0], h, w))
        for b in range(n):
            for o in range(self.W.shape[0]):
                for i in range(h):
                    for j in range(w):
                        total = self.b[o]
                        for c in range(c_in):
                            for u in range(k):
                                for v in range(k):
                                    total += x[b, c, i + u, j + v] * self.W[o, c, u, v]
                        out[b, o, i, j] = total
        self.output = out
        return self.output

    def updateGradInput(self, input, gradOutput):
        n, c_in, h, w = input.shape
        k = self.W.shape[-1]
        p = k // 2
        grad = _np.zeros((n, c_in, h + 2 * p, w + 2 * p))
        for b in range(n):
            for o in range(self.W.shape[0]):
                for i in range(h):
                    for j in range(w):
                        g = gradOutput[b, o, i, j]
                        for c in range(c_in):
                            for u in range(k):
                                for v in range(k):
                                    grad[b, c, i + u, j + v] += g * self.W[o, c, u, v]
        self.gradInput = grad[:, :, p:p + h, p:p + w]
        return self.gradInput

    def accGradParameters(self, input, gradOutput):
        n, c_in, h, w = input.shape
        k = self.W.shape[-1]
        p = k // 2
        x = _np.pad(input, ((0, 0), (0, 0), (p, p), (p, p)))
        for b in range(n):
            for o in range(self.W.shape[0]):
                for i in range(h):
                    for j in range(w):
                        g = gradOutput[b, o, i, j]
                        self.gradb[o] += g
                        for c in range(c_in):
                            for u in range(k):
                                for v in range(k):
                                    self.gradW[o, c, u, v] += g * x[b, c, i + u, j + v]
