"""2025-2026 edition submissions with exactly one realistic mistake each: mostly in the new
and changed layers, a few in the components it shares with the classic homework.

``causes`` / ``message``: what a good diagnosis says (a cause id of a failing check, or a
substring of a failing check's name or message).
"""

from __future__ import annotations

from corpus import EDITION, Bug
from corpus.modules_bugs import BUGS as CLASSIC_BUGS

edits, rewrite, within = EDITION.edits, EDITION.rewrite, EDITION.within

CONV = [
    Bug("conv_flipped_kernel", "Conv2d", "true convolution: the kernel flipped in forward",
        [within("Conv2d.updateOutput", "weights = self.weight.reshape",
                "weights = self.weight[:, :, ::-1, ::-1].reshape")],
        message="flipped kernel"),
    Bug("conv_same_pad_before", "Conv2d", "padding='same', even kernel: the extra row on top",
        [("self.pad_h = ((kh - 1) // 2, kh - 1 - (kh - 1) // 2)",
          "self.pad_h = (kh - 1 - (kh - 1) // 2, (kh - 1) // 2)"),
         ("self.pad_w = ((kw - 1) // 2, kw - 1 - (kw - 1) // 2)",
          "self.pad_w = (kw - 1 - (kw - 1) // 2, (kw - 1) // 2)")],
        message="even kernel"),
    Bug("conv_reflect_replicate_swapped", "Conv2d",
        "np.pad modes for reflect and replicate swapped",
        [('"reflect": "reflect", "replicate": "edge"',
          '"reflect": "edge", "replicate": "reflect"')],
        message="confused"),
    Bug("conv_no_bias", "Conv2d", "the bias is never added",
        [within("Conv2d.updateOutput", "out += self.bias.astype(dtype, copy=False)[:, None]",
                "pass")],
        message="bias is not added"),
    Bug("conv_stride_height_for_width", "Conv2d", "the height's stride used for the width too",
        [within("Conv2d._columns", "windows[:, :, ::sh, ::sw]", "windows[:, :, ::sh, ::sh]")]),
    Bug("conv_grad_padding_mode_ignored", "Conv2d",
        "gradInput drops the padding's gradient as if the padding were zeros",
        [within("Conv2d.updateGradInput", 'if mode != "constant" and before + after > 0:',
                "if False:")]),
    Bug("conv_grad_stride_height_for_width", "Conv2d",
        "col2im steps the width by the height stride",
        [within("Conv2d.updateGradInput", "j:j + sw * out_w:sw] += cols[:, i, j]",
                "j:j + sh * out_w:sh] += cols[:, i, j]")]),
    Bug("conv_grad_crop_after", "Conv2d", "gradInput cropped at the wrong offset (uneven padding)",
        [within("Conv2d.updateGradInput", "inner[axis] = slice(before, before + size)",
                "inner[axis] = slice(after, after + size)")]),
    Bug("conv_bias_false_crashes", "Conv2d", "bias=False: adds None",
        [within("Conv2d.updateOutput", "if self.bias is not None:", "if True:")],
        causes={"exception"}),
    Bug("conv_square_kernel_assumed", "Conv2d", "windows of kh x kh: a non-square kernel fails",
        [within("Conv2d._columns", "(padded, (kh, kw), axis=(2, 3))",
                "(padded, (kh, kh), axis=(2, 3))")],
        message="not square"),
    Bug("conv_grad_circular_padding_dropped", "Conv2d",
        "gradInput folds back reflect and replicate padding, not circular",
        [within("Conv2d.updateGradInput", 'if mode != "constant" and before + after > 0:',
                'if mode in ("reflect", "edge") and before + after > 0:')],
        message="circular"),
]

POOL = [
    Bug("maxpool_grad_all_ties", "MaxPool2d", "gradient to every tied maximum",
        [rewrite("MaxPool2d.updateGradInput", """
            (kh, kw), (sh, sw), (ph, pw) = self.kernel_size, self.stride, self.padding
            batch, channels, h, w = input.shape
            out_h, out_w = gradOutput.shape[2:]
            pads = ((0, 0), (0, 0), (ph, ph), (pw, pw))
            padded = np.pad(input, pads, constant_values=-np.inf)
            gpad = np.zeros(padded.shape, gradOutput.dtype)
            for i in range(kh):
                for j in range(kw):
                    window = padded[:, :, i:i + sh * out_h:sh, j:j + sw * out_w:sw]
                    gpad[:, :, i:i + sh * out_h:sh, j:j + sw * out_w:sw] += (
                        gradOutput * (window == self.output))
            self.gradInput = gpad[:, :, ph:ph + h, pw:pw + w]
        """)],
        message="every tied maximum"),
    Bug("maxpool_zero_padding", "MaxPool2d", "padded with zeros instead of -inf",
        [within("MaxPool2d.updateOutput", "constant_values=-np.inf", "constant_values=0")],
        message="-inf"),
    Bug("maxpool_last_tie", "MaxPool2d", "the last tied maximum wins",
        [within("MaxPool2d.updateOutput", "np.greater(candidate", "np.greater_equal(candidate")],
        message="ties"),
    Bug("maxpool_stride_is_kernel", "MaxPool2d", "stride taken as the window size",
        [within("MaxPool2d.updateOutput",
                "(kh, kw), (sh, sw), (ph, pw) = self.kernel_size, self.stride, self.padding",
                "(kh, kw), (sh, sw), (ph, pw) = self.kernel_size, self.kernel_size, "
                "self.padding")]),
    Bug("maxpool_square_window_assumed", "MaxPool2d", "kh x kh windows: kernel_size[0] for both",
        [within("MaxPool2d.updateOutput",
                "(kh, kw), (sh, sw), (ph, pw) = self.kernel_size, self.stride, self.padding",
                "(kh, kw), (sh, sw), (ph, pw) = (self.kernel_size[0],) * 2, self.stride, "
                "self.padding")],
        message="window is not square"),
    Bug("avgpool_excludes_padding", "AvgPool2d", "the average leaves the padding out",
        [rewrite("AvgPool2d.updateOutput", """
            (kh, kw), (sh, sw), (ph, pw) = self.kernel_size, self.stride, self.padding
            pads = ((0, 0), (0, 0), (ph, ph), (pw, pw))
            padded = np.pad(input, pads)
            inside = np.pad(np.ones_like(input), pads)
            out_h = (padded.shape[2] - kh) // sh + 1
            out_w = (padded.shape[3] - kw) // sw + 1
            total, count = 0, 0
            for position in range(kh * kw):
                i, j = divmod(position, kw)
                total = total + padded[:, :, i:i + sh * out_h:sh, j:j + sw * out_w:sw]
                count = count + inside[:, :, i:i + sh * out_h:sh, j:j + sw * out_w:sw]
            self.output = total / count
        """)],
        message="count_include_pad"),
    Bug("avgpool_height_padding_for_width", "AvgPool2d", "the height's padding used for the width",
        [within("AvgPool2d.updateOutput", "(ph, ph), (pw, pw)))", "(ph, ph), (ph, ph)))")],
        message="a pair"),
    Bug("avgpool_grad_not_divided", "AvgPool2d", "gradInput not divided by the window size",
        [within("AvgPool2d.updateGradInput", "share = gradOutput / (kh * kw)",
                "share = gradOutput")]),
    Bug("avgpool_misses_last_element", "AvgPool2d", "off by one: the last window element skipped",
        [within("AvgPool2d.updateOutput", "for position in range(1, kh * kw):",
                "for position in range(1, kh * kw - 1):")]),
    Bug("gap_keepdims", "GlobalAvgPool2d", "output (batch, channels, 1, 1)",
        [within("GlobalAvgPool2d.updateOutput", "input.mean(axis=(2, 3))",
                "input.mean(axis=(2, 3), keepdims=True)")],
        causes={"reshaped"}),
    Bug("gap_grad_divided_by_h", "GlobalAvgPool2d", "gradient divided by h only",
        [within("GlobalAvgPool2d.updateGradInput", "/ (h * w)", "/ h")]),
    Bug("gmp_last_tie", "GlobalMaxPool2d", "the last tied maximum gets the gradient",
        [within("GlobalMaxPool2d.updateOutput", "self.max_indices = flat.argmax(axis=2)",
                "self.max_indices = flat.shape[2] - 1 - flat[:, :, ::-1].argmax(axis=2)")],
        message="ties"),
    Bug("gmp_grad_all_ties", "GlobalMaxPool2d", "gradient to every tied maximum",
        [rewrite("GlobalMaxPool2d.updateGradInput", """
            hit = input == self.output[:, :, None, None]
            self.gradInput = gradOutput[:, :, None, None] * hit
        """)]),
    Bug("gmp_grad_flat", "GlobalMaxPool2d", "gradInput left as (batch, channels, h*w)",
        [within("GlobalMaxPool2d.updateGradInput", "self.gradInput = grad.reshape(input.shape)",
                "self.gradInput = grad")],
        causes={"reshaped"}),
]

OTHER = [
    Bug("gelu_tanh_approximation", "Gelu", "the tanh approximation, consistently in both passes",
        [rewrite("Gelu.updateOutput", """
            inner = np.sqrt(2 / np.pi) * (input + 0.044715 * input**3)
            self.output = 0.5 * input * (1 + np.tanh(inner))
        """),
         rewrite("Gelu.updateGradInput", """
            inner = np.sqrt(2 / np.pi) * (input + 0.044715 * input**3)
            th = np.tanh(inner)
            d_inner = np.sqrt(2 / np.pi) * (1 + 3 * 0.044715 * input**2)
            self.gradInput = gradOutput * (0.5 * (1 + th) + 0.5 * input * (1 - th**2) * d_inner)
        """)],
        message="tanh approximation"),
    Bug("gelu_grad_cdf_only", "Gelu", "gradient Phi(x): the x * phi(x) term forgotten",
        [within("Gelu.updateGradInput", "slope = np.exp(-0.5 * input * input)",
                "slope = 0 * input")],
        message="product rule"),
    Bug("gelu_erf_without_sqrt2", "Gelu", "Phi(x) = (1 + erf(x)) / 2",
        [within("Gelu.updateOutput", "cdf = erf(input * self.SQRT_HALF)", "cdf = erf(input)")]),
    Bug("gelu_grad_in_place", "Gelu", "gradOutput multiplied in place",
        [within("Gelu.updateGradInput", "self.gradInput = gradOutput * slope",
                "gradOutput *= slope\n        self.gradInput = gradOutput")],
        causes={"mutates_input"}),
    Bug("flatten_keeps_batch", "Flatten", "start_dim=0 treated as 1",
        [within("Flatten.updateOutput",
                "start = self.start_dim + ndim if self.start_dim < 0 else self.start_dim",
                "start = self.start_dim + ndim if self.start_dim < 0 else max(self.start_dim, 1)")],
        message="batch axis is kept"),
    Bug("flatten_end_exclusive", "Flatten", "end_dim taken as exclusive",
        [edits("Flatten.updateOutput", ("shape[start:end + 1]", "shape[start:end]"),
               ("shape[end + 1:]", "shape[end:]"))]),
    Bug("flatten_grad_2d", "Flatten", "gradInput reshaped to (batch, -1)",
        [within("Flatten.updateGradInput", "np.reshape(gradOutput, np.shape(input))",
                "np.reshape(gradOutput, (np.shape(input)[0], -1))")],
        causes={"reshaped"}),
]

# A few mistakes in the components shared with the classic homework: the same text, the
# same checks, caught the same way.
SHARED_IDS = ("linear_no_bias", "linear_W_untransposed", "softmax_axis0", "bn_unbiased_var",
              "relu_in_place", "nll_mean_over_all")
SHARED = [b for b in CLASSIC_BUGS if b.id in SHARED_IDS]

BUGS = [*CONV, *POOL, *OTHER, *SHARED]
