"""Not hostile: a correct Conv2d forward in pure-Python loops. Small checks pass; the hidden
MNIST-sized check times out. The grader must say so and grade on."""

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
