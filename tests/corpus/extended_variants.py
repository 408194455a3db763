"""Correct extended-track submissions written differently from the reference."""

from __future__ import annotations

from corpus import EXTENDED, Variant

rewrite = EXTENDED.rewrite

SCIPY = ("import numpy as np\n", "import numpy as np\nfrom scipy import special\n")

VARIANTS = [
    Variant("scipy_special", "sigmoid by special.expit, Phi by special.ndtr", [
        SCIPY,
        rewrite("Sigmoid.updateOutput", "self.output = special.expit(input)"),
        rewrite("GELU.updateOutput", "self.output = input * special.ndtr(input)"),
        rewrite("GELU.updateGradInput", """
            pdf = np.exp(-0.5 * input**2) / np.sqrt(2 * np.pi)
            self.gradInput = gradOutput * (special.ndtr(input) + input * pdf)
        """),
        rewrite("SiLU.updateOutput", "self.output = input * special.expit(input)"),
        rewrite("SiLU.updateGradInput", """
            s = special.expit(input)
            self.gradInput = gradOutput * (s + input * s * (1 - s))
        """),
    ]),
    Variant("ce_by_indexing", "cross-entropy by label indexing and logsumexp", [
        SCIPY,
        rewrite("CrossEntropyCriterion.updateOutput", """
            labels = target if np.ndim(target) == 1 else np.argmax(target, axis=1)
            picked = input[np.arange(len(input)), labels]
            self.output = float(np.mean(special.logsumexp(input, axis=1) - picked))
        """),
        rewrite("CrossEntropyCriterion.updateGradInput", """
            labels = target if np.ndim(target) == 1 else np.argmax(target, axis=1)
            grad = special.softmax(input, axis=1)
            grad[np.arange(len(input)), labels] -= 1
            self.gradInput = grad / len(input)
        """),
    ]),
    Variant("conv_per_offset", "Conv2d forward and gradW by a loop over kernel offsets", [
        rewrite("Conv2d.updateOutput", """
            k, s, p = self.kernel_size, self.stride, self.padding
            xp = np.pad(input, ((0, 0), (0, 0), (p, p), (p, p)))
            out_h = (input.shape[2] + 2 * p - k) // s + 1
            out_w = (input.shape[3] + 2 * p - k) // s + 1
            out = np.zeros((len(input), self.out_channels, out_h, out_w))
            for i in range(k):
                for j in range(k):
                    patch = xp[:, :, i:i + s * out_h:s, j:j + s * out_w:s]
                    out += np.einsum("nchw,oc->nohw", patch, self.W[:, :, i, j])
            self.output = out + self.b[:, None, None]
        """),
        rewrite("Conv2d.accGradParameters", """
            k, s, p = self.kernel_size, self.stride, self.padding
            xp = np.pad(input, ((0, 0), (0, 0), (p, p), (p, p)))
            out_h, out_w = gradOutput.shape[2:]
            for i in range(k):
                for j in range(k):
                    patch = xp[:, :, i:i + s * out_h:s, j:j + s * out_w:s]
                    self.gradW[:, :, i, j] = np.einsum("nohw,nchw->oc", gradOutput, patch)
            self.gradb[...] = gradOutput.sum(axis=(0, 2, 3))
        """),
    ]),
]
