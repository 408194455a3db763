"""Correct 2025-2026 edition submissions written differently from the reference (full marks
expected): Conv2d by loops over the kernel offsets, by scipy.signal, by explicit sliding
windows; pooling and the rest in other NumPy idioms. Conv2d's checks cover every padding
mode, stride pairs and both bias settings, so each variant is tested on all of them.
"""

from __future__ import annotations

from corpus import EDITION, Variant

rewrite = EDITION.rewrite

CONV_LOOPS = rewrite("Conv2d.updateOutput", """
    (kh, kw), (sh, sw) = self.kernel_size, self.stride
    xp = np.pad(input, ((0, 0), (0, 0), self.pad_h, self.pad_w),
                mode=self.PADDING_MODES[self.padding_mode])
    out_h = (xp.shape[2] - kh) // sh + 1
    out_w = (xp.shape[3] - kw) // sw + 1
    weight = self.weight.astype(input.dtype, copy=False)
    out = np.zeros((input.shape[0], self.out_channels, out_h, out_w), input.dtype)
    for i in range(kh):
        for j in range(kw):
            patch = xp[:, :, i:i + sh * out_h:sh, j:j + sw * out_w:sw]
            out += np.einsum("nchw,oc->nohw", patch, weight[:, :, i, j])
    if self.bias is not None:
        out += self.bias.astype(input.dtype, copy=False)[None, :, None, None]
    self.output = out
""")

CONV_SCIPY = rewrite("Conv2d.updateOutput", """
    from scipy.signal import correlate2d

    (kh, kw), (sh, sw) = self.kernel_size, self.stride
    xp = np.pad(input, ((0, 0), (0, 0), self.pad_h, self.pad_w),
                mode=self.PADDING_MODES[self.padding_mode])
    out_h = (xp.shape[2] - kh) // sh + 1
    out_w = (xp.shape[3] - kw) // sw + 1
    out = np.zeros((input.shape[0], self.out_channels, out_h, out_w))
    for n in range(input.shape[0]):
        for o in range(self.out_channels):
            for c in range(self.in_channels):
                full = correlate2d(xp[n, c], self.weight[o, c], mode="valid")
                out[n, o] += full[::sh, ::sw][:out_h, :out_w]
            if self.bias is not None:
                out[n, o] += self.bias[o]
    self.output = out.astype(input.dtype)
""")

CONV_GRAD_SCATTER = rewrite("Conv2d.updateGradInput", """
    from numpy.lib.stride_tricks import sliding_window_view

    (kh, kw), (sh, sw) = self.kernel_size, self.stride
    batch, channels, h, w = input.shape
    out_h, out_w = gradOutput.shape[2:]
    (top, bottom), (left, right) = self.pad_h, self.pad_w
    # Which input pixel each padded pixel copies: pad an index image the same way.
    index = np.arange(h * w).reshape(h, w)
    source = np.pad(index, (self.pad_h, self.pad_w),
                    mode=self.PADDING_MODES[self.padding_mode])
    inside = np.pad(np.ones((h, w), bool), (self.pad_h, self.pad_w))
    if self.padding_mode != "zeros":
        inside[:] = True
    windows = sliding_window_view(source, (kh, kw))[::sh, ::sw][:out_h, :out_w]
    valid = sliding_window_view(inside, (kh, kw))[::sh, ::sw][:out_h, :out_w]
    contrib = np.einsum("noyx,ocij->ncyxij", gradOutput, self.weight)
    grad = np.zeros((batch, channels, h * w), contrib.dtype)
    for i in range(kh):
        for j in range(kw):
            where = windows[:, :, i, j][valid[:, :, i, j]]
            np.add.at(grad, (slice(None), slice(None), where),
                      contrib[:, :, :, :, i, j][:, :, valid[:, :, i, j]])
    self.gradInput = grad.reshape(input.shape).astype(gradOutput.dtype)
""")

MAXPOOL_WINDOWS = rewrite("MaxPool2d.updateOutput", """
    from numpy.lib.stride_tricks import sliding_window_view

    (kh, kw), (sh, sw), (ph, pw) = self.kernel_size, self.stride, self.padding
    padded = np.pad(input, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=-np.inf)
    windows = sliding_window_view(padded, (kh, kw), axis=(2, 3))[:, :, ::sh, ::sw]
    flat = windows.reshape(*windows.shape[:4], kh * kw)
    self.max_indices = flat.argmax(axis=-1)
    self.output = np.take_along_axis(flat, self.max_indices[..., None], axis=-1)[..., 0]
""")

GELU_NORM = [
    rewrite("Gelu.updateOutput", """
        from scipy.stats import norm

        self.output = (input * norm.cdf(input)).astype(input.dtype)
    """),
    rewrite("Gelu.updateGradInput", """
        from scipy.stats import norm

        slope = norm.cdf(input) + input * norm.pdf(input)
        self.gradInput = (gradOutput * slope).astype(gradOutput.dtype)
    """),
]

POOLS_OTHER = [
    rewrite("AvgPool2d.updateOutput", """
        from numpy.lib.stride_tricks import sliding_window_view

        (kh, kw), (sh, sw), (ph, pw) = self.kernel_size, self.stride, self.padding
        padded = np.pad(input, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
        windows = sliding_window_view(padded, (kh, kw), axis=(2, 3))[:, :, ::sh, ::sw]
        self.output = windows.mean(axis=(-2, -1)).astype(input.dtype)
    """),
    rewrite("GlobalAvgPool2d.updateOutput", """
        self.output = input.sum(axis=3).sum(axis=2) / (input.shape[2] * input.shape[3])
    """),
    rewrite("GlobalMaxPool2d.updateGradInput", """
        batch, channels, h, w = input.shape
        rows, cols = np.divmod(self.max_indices, w)
        grad = np.zeros(input.shape, gradOutput.dtype)
        n, c = np.indices((batch, channels))
        grad[n, c, rows, cols] = gradOutput
        self.gradInput = grad
    """),
]

FLATTEN_MINUS_ONE = [
    rewrite("Flatten.updateOutput", """
        ndim = input.ndim
        start, end = self.start_dim % ndim, self.end_dim % ndim
        shape = input.shape
        self.output = input.reshape(shape[:start] + (-1,) + shape[end + 1:])
    """),
]

VARIANTS = [
    Variant("conv_loops_einsum", "Conv2d by a loop over the kernel offsets and einsum",
            [CONV_LOOPS]),
    Variant("conv_scipy_correlate", "Conv2d by scipy.signal.correlate2d per image and channel",
            [CONV_SCIPY]),
    Variant("conv_grad_scatter", "Conv2d gradInput scattered through an index image of the "
            "padding (np.add.at)", [CONV_GRAD_SCATTER]),
    Variant("maxpool_sliding_windows", "MaxPool2d by sliding_window_view and argmax",
            [MAXPOOL_WINDOWS]),
    Variant("gelu_scipy_stats", "Gelu by scipy.stats.norm", GELU_NORM),
    Variant("pools_and_flatten_idioms", "AvgPool2d by windows, other global pooling and "
            "Flatten idioms", [*POOLS_OTHER, *FLATTEN_MINUS_ONE]),
]
