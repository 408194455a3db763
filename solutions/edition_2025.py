"""Neural network modules from scratch, the 2025-2026 edition: layers in NumPy.

The Torch7-style API of the classic homework: every layer is a ``Module`` with a forward
pass (``updateOutput``) and a backward pass (``updateGradInput`` for the gradient with
respect to the input, ``accGradParameters`` for the gradients with respect to the
parameters); losses are ``Criterion`` objects. This edition adds ``Gelu``, ``AvgPool2d``,
``GlobalAvgPool2d`` and ``GlobalMaxPool2d``, and its ``Conv2d``, ``MaxPool2d`` and
``Flatten`` take PyTorch's arguments (``Conv2d(in_channels, out_channels, kernel_size,
stride=1, padding=0, bias=True, padding_mode='zeros')``, ``MaxPool2d(kernel_size, stride,
padding)``, ``Flatten(start_dim=0, end_dim=-1)``). You write no optimizer that is graded:
the end-to-end MNIST check trains your network with the grader's own Adam.

Every layer has the semantics of its PyTorch namesake (``torch.nn.GELU()``,
``torch.nn.Conv2d``, ``torch.nn.MaxPool2d``, ``torch.nn.AvgPool2d``, ``torch.flatten``):
the tests compare your layers with PyTorch's.

Conventions used throughout:

* Inputs are batches: the first axis is the batch axis; images are (batch, channels, h, w).
* ``gradOutput`` is dLoss/dOutput and has the shape of ``self.output``; ``gradInput`` is
  dLoss/dInput and has the shape of ``input``.
* Layers never divide by the batch size; only criterions do.
* Vectorise over the batch: no Python loops over samples (a loop over the k x k kernel
  offsets is fine).
* Never modify ``input`` or ``gradOutput`` in place; float32 inputs give float32 outputs.

The base classes are given. The code inside the marked solution regions is what you write;
the student template replaces each region with ``raise NotImplementedError``.
"""

import numpy as np
from scipy.special import erf  # the Gauss error function, for Gelu

# ---------------------------------------------------------------------------------------
# Base classes (given)
# ---------------------------------------------------------------------------------------


# nngrade: give modules.py Module Sequential Criterion


# ---------------------------------------------------------------------------------------
# Layers and criterions as in the classic edition
# ---------------------------------------------------------------------------------------


# nngrade: include modules.py Linear SoftMax LogSoftMax BatchNormalization ChannelwiseScaling
# nngrade: include modules.py Dropout ReLU LeakyReLU ELU SoftPlus MSECriterion
# nngrade: include modules.py ClassNLLCriterionUnstable ClassNLLCriterion


# ---------------------------------------------------------------------------------------
# New and changed in this edition
# ---------------------------------------------------------------------------------------


def _as_pair(value):
    """An int or a pair of ints -> a tuple (for_height, for_width), as PyTorch accepts."""
    if isinstance(value, (tuple, list)):
        assert len(value) == 2, value
        return int(value[0]), int(value[1])
    return int(value), int(value)


# ---------------------------------------------------------------------------------------
# Activation
# ---------------------------------------------------------------------------------------


class Gelu(Module):
    """Gaussian error linear unit, the exact form (``torch.nn.GELU()``): y = x * Phi(x),
    with Phi the cumulative distribution function of the standard normal distribution.
    """

    SQRT_HALF = 0.7071067811865476  # 1 / sqrt(2), a Python float: keeps float32 float32
    INV_SQRT_2PI = 0.3989422804014327  # 1 / sqrt(2 pi)

    def updateOutput(self, input):
        """Forward pass.

        Inputs:
        - input: array of any shape.

        Returns:
        - output: array of the same shape; store it in ``self.output``.

        Formula: output = x * Phi(x),  Phi(x) = (1 + erf(x / sqrt(2))) / 2.

        Cache: Phi(x), which the backward pass needs too.

        Hint: ``erf`` (imported from ``scipy.special``) works elementwise on arrays. Do not
        use the tanh approximation 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))): it
        differs from the exact form by up to about 1e-3. Multiply by Python floats, not
        NumPy float64 scalars such as ``np.sqrt(2)``, so that float32 inputs stay float32.
        """
        # BEGIN SOLUTION
        cdf = erf(input * self.SQRT_HALF)
        cdf += 1
        cdf *= 0.5
        self._cdf = (input, cdf)  # for updateGradInput
        self.output = input * cdf
        # END SOLUTION
        return self.output

    def updateGradInput(self, input, gradOutput):
        """Gradient with respect to the input.

        Inputs:
        - input, gradOutput: arrays of the same shape.

        Returns:
        - gradInput: array of the same shape; store it in ``self.gradInput``.

        Formula (product rule), with phi(x) = exp(-x^2 / 2) / sqrt(2 pi) the standard
        normal density (the derivative of Phi):
            gradInput = gradOutput * (Phi(x) + x * phi(x))
        """
        # BEGIN SOLUTION
        forward_input, cdf = getattr(self, "_cdf", (None, None))
        if input is not forward_input:  # not the input of the last forward pass
            cdf = 0.5 * (1 + erf(input * self.SQRT_HALF))
        slope = np.exp(-0.5 * input * input)
        slope *= self.INV_SQRT_2PI
        slope *= input
        slope += cdf
        self.gradInput = gradOutput * slope
        # END SOLUTION
        return self.gradInput

    def __repr__(self):
        return "Gelu"


# ---------------------------------------------------------------------------------------
# Convolution
# ---------------------------------------------------------------------------------------


class Conv2d(Module):
    """2-d convolution (a cross-correlation), like ``torch.nn.Conv2d`` without dilation and
    groups.

    Hyper-parameters, stored as attributes:
    - ``in_channels``, ``out_channels``.
    - ``kernel_size``: an int k (a k x k kernel) or a pair (kh, kw); stored as a pair.
    - ``stride``: an int or a pair (sh, sw); stored as a pair.
    - ``padding``: an int or a pair (ph, pw), the padding on both sides of h and of w
      (stored as a pair); or ``'same'`` (stride 1 only): the output has the size of the
      input; the total padding k - 1 of an axis is split as (k - 1) // 2 before and the
      rest after, so an even kernel pads one more row/column at the bottom/right, as in
      PyTorch; or ``'valid'``, no padding.
    - ``padding_mode``: what the padding contains: ``'zeros'``, ``'reflect'`` (mirror
      without repeating the edge: ``np.pad`` mode ``'reflect'``), ``'replicate'`` (repeat
      the edge: ``'edge'``) or ``'circular'`` (wrap around: ``'wrap'``).

    Parameters: ``weight`` of shape (out_channels, in_channels, kh, kw) and ``bias`` of
    shape (out_channels,), or ``bias = None`` if ``bias=False``; both uniform in
    [-1/sqrt(fan_in), 1/sqrt(fan_in)], fan_in = in_channels * kh * kw, as in PyTorch. They
    may be replaced by other arrays of the same shapes (e.g. a PyTorch layer's weights).
    Their gradients: ``gradWeight`` and ``gradBias`` (``None`` without a bias).

    The output has height (h + pad_top + pad_bottom - kh) // sh + 1, and likewise for the
    width; rows and columns that do not fill a last window are ignored, as in PyTorch.
    """

    PADDING_MODES = {"zeros": "constant", "reflect": "reflect", "replicate": "edge",
                     "circular": "wrap"}  # PyTorch name -> np.pad mode

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 bias=True, padding_mode="zeros"):
        super().__init__()
        if padding_mode not in self.PADDING_MODES:
            raise ValueError(f"padding_mode must be one of {list(self.PADDING_MODES)}, "
                             f"got {padding_mode!r}")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = _as_pair(kernel_size)
        self.stride = _as_pair(stride)
        self.padding_mode = padding_mode
        kh, kw = self.kernel_size
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"padding must be an int, a pair, 'same' or 'valid', "
                                 f"got {padding!r}")
            if padding == "same" and self.stride != (1, 1):
                raise ValueError("padding='same' is not supported for strided convolutions")
            self.padding = padding
        else:
            self.padding = _as_pair(padding)
        # The padding (before, after) of the height and of the width.
        if self.padding == "same":
            self.pad_h = ((kh - 1) // 2, kh - 1 - (kh - 1) // 2)
            self.pad_w = ((kw - 1) // 2, kw - 1 - (kw - 1) // 2)
        elif self.padding == "valid":
            self.pad_h, self.pad_w = (0, 0), (0, 0)
        else:
            self.pad_h = (self.padding[0], self.padding[0])
            self.pad_w = (self.padding[1], self.padding[1])

        stdv = 1.0 / np.sqrt(in_channels * kh * kw)
        self.weight = np.random.uniform(-stdv, stdv, size=(out_channels, in_channels, kh, kw))
        self.bias = np.random.uniform(-stdv, stdv, size=out_channels) if bias else None
        self.gradWeight = np.zeros_like(self.weight)
        self.gradBias = np.zeros_like(self.bias) if bias else None

    def _columns(self, input):
        """im2col: the padded input's windows, one column per output position.

        Returns an array of shape (in_channels, kh, kw, batch, out_h, out_w):
        cols[c, i, j, n, y, x] = xp[n, c, sh*y + i, sw*x + j], with xp the padded input.
        """
        # BEGIN SOLUTION
        (kh, kw), (sh, sw) = self.kernel_size, self.stride
        # Channel-major (in, batch, h, w): every (i, j) slice of the columns is then one
        # long contiguous copy, and the forward product comes out channel-major too.
        padded = np.pad(input.transpose(1, 0, 2, 3), ((0, 0), (0, 0), self.pad_h, self.pad_w),
                        mode=self.PADDING_MODES[self.padding_mode])
        windows = np.lib.stride_tricks.sliding_window_view(padded, (kh, kw), axis=(2, 3))
        windows = windows[:, :, ::sh, ::sw]  # (in, batch, out_h, out_w, kh, kw)
        return np.ascontiguousarray(windows.transpose(0, 4, 5, 1, 2, 3))
        # END SOLUTION

    def updateOutput(self, input):
        """Forward pass.

        Inputs:
        - input: array of shape (batch, in_channels, h, w).

        Returns:
        - output: array of shape (batch, out_channels, out_h, out_w), with
          out_h = (h + pad_top + pad_bottom - kh) // sh + 1 and likewise out_w; store it
          in ``self.output``.

        Formula, with xp = input padded by ``pad_h`` = (pad_top, pad_bottom) rows and
        ``pad_w`` = (pad_left, pad_right) columns, filled as ``padding_mode`` says:
            output[n, o, y, x] = bias[o]
                + sum_{c, i, j} xp[n, c, sh*y + i, sw*x + j] * weight[o, c, i, j]
        (no bias term if ``bias`` is None).

        Cache: the columns (im2col) of ``input``, for ``accGradParameters``.

        Hint: pad with ``np.pad`` (modes 'constant', 'reflect', 'edge', 'wrap'), take all
        stride-1 windows with ``np.lib.stride_tricks.sliding_window_view(xp, (kh, kw),
        axis=(2, 3))``, keep every sh-th / sw-th with ``[:, :, ::sh, ::sw]``, and contract
        (c, i, j) with one matrix product: weight reshaped to (out, in*kh*kw) times the
        columns reshaped to (in*kh*kw, batch*out_h*out_w). Don't flip the kernel, and
        don't loop over the batch or the positions.
        """
        # BEGIN SOLUTION
        cols = self._columns(input)
        self._cols = (input, cols)  # for accGradParameters
        _, _, _, batch, out_h, out_w = cols.shape
        # Compute in the input's precision: float32 inputs give a float32 output.
        dtype = input.dtype if np.issubdtype(input.dtype, np.floating) else np.float64
        weights = self.weight.reshape(self.out_channels, -1).astype(dtype, copy=False)
        out = weights @ cols.reshape(weights.shape[1], -1)  # (out, batch*out_h*out_w)
        if self.bias is not None:
            out += self.bias.astype(dtype, copy=False)[:, None]
        self.output = out.reshape(self.out_channels, batch, out_h, out_w).transpose(1, 0, 2, 3)
        # END SOLUTION
        return self.output

    def updateGradInput(self, input, gradOutput):
        """Gradient with respect to the input.

        Inputs:
        - input: array of shape (batch, in_channels, h, w).
        - gradOutput: array of shape (batch, out_channels, out_h, out_w).

        Returns:
        - gradInput: array of shape (batch, in_channels, h, w); store it in
          ``self.gradInput``.

        Formula: every output position (y, x) sends gradOutput[n, o, y, x] *
        weight[o, c, i, j] back to the padded position (sh*y + i, sw*x + j); positions
        reached by several windows add up:
            gpad[n, c, sh*y + i, sw*x + j] += sum_o gradOutput[n, o, y, x] * weight[o, c, i, j]
        Then undo the padding: an input position gets its own gpad value plus the gpad
        values of every padding position that is a copy of it ('reflect', 'replicate',
        'circular'); with 'zeros' the padding positions are simply dropped.

        Hint: one matrix product weight.T (in*kh*kw, out) @ gradOutput (out,
        batch*out_h*out_w) gives every contribution; add its [:, i, j] slices into a zero
        array of the padded shape with one loop over the kh * kw offsets (col2im):
        ``gpad[:, :, i:i + sh*out_h:sh, j:j + sw*out_w:sw] += ...``. To undo a padding,
        ``np.pad(np.arange(h), pad_h, mode)`` tells which input row each padded row copies;
        do the rows, then the columns (the 2-d padding is the 1-d padding of each axis).
        """
        # BEGIN SOLUTION
        (kh, kw), (sh, sw) = self.kernel_size, self.stride
        batch, channels, h, w = input.shape
        out_h, out_w = gradOutput.shape[2:]
        dtype = gradOutput.dtype if np.issubdtype(gradOutput.dtype, np.floating) else np.float64
        weights = self.weight.reshape(self.out_channels, -1).astype(dtype, copy=False)
        grad = gradOutput.transpose(1, 0, 2, 3).reshape(self.out_channels, -1)
        cols = (weights.T @ grad).reshape(channels, kh, kw, batch, out_h, out_w)
        (top, bottom), (left, right) = self.pad_h, self.pad_w
        gpad = np.zeros((channels, batch, h + top + bottom, w + left + right), cols.dtype)
        for i in range(kh):
            for j in range(kw):
                gpad[:, :, i:i + sh * out_h:sh, j:j + sw * out_w:sw] += cols[:, i, j]

        # Fold the padding back, one axis at a time: keep the interior, and add every padding
        # row (then column) to the input row it copies.
        mode = self.PADDING_MODES[self.padding_mode]
        for axis, size, (before, after) in ((2, h, self.pad_h), (3, w, self.pad_w)):
            inner = [slice(None)] * 4
            inner[axis] = slice(before, before + size)
            folded = gpad[tuple(inner)]
            if mode != "constant" and before + after > 0:
                folded = folded.copy()
                source = np.pad(np.arange(size), (before, after), mode=mode)
                for position in [*range(before), *range(before + size, before + size + after)]:
                    dst, src = [slice(None)] * 4, [slice(None)] * 4
                    dst[axis], src[axis] = source[position], position
                    folded[tuple(dst)] += gpad[tuple(src)]
            gpad = folded
        self.gradInput = gpad.transpose(1, 0, 2, 3)
        # END SOLUTION
        return self.gradInput

    def accGradParameters(self, input, gradOutput):
        """Gradients with respect to the parameters.

        Inputs:
        - input: array of shape (batch, in_channels, h, w).
        - gradOutput: array of shape (batch, out_channels, out_h, out_w).

        Sets, with xp the padded input as in the forward pass:
        - gradWeight[o, c, i, j] =
              sum_{n, y, x} gradOutput[n, o, y, x] * xp[n, c, sh*y + i, sw*x + j]
        - gradBias[o] = sum_{n, y, x} gradOutput[n, o, y, x]   (if there is a bias)

        Hint: reuse the columns of the forward pass; one matrix product gradOutput
        (out, batch*out_h*out_w) @ columns.T contracts over (batch, y, x). Write into the
        existing arrays, and don't divide by the batch size.

        Not graded in this edition (as in the course's own tests, the checks compare the
        output and gradInput); a network with a Conv2d needs it to train.
        """
        # BEGIN SOLUTION
        forward_input, cols = getattr(self, "_cols", (None, None))
        if input is not forward_input:  # not the input of the last forward pass: im2col again
            cols = self._columns(input)
        # The parameters may have been replaced (e.g. by float32 arrays): follow their shape
        # and dtype, as PyTorch's .grad does.
        if self.gradWeight is None or self.gradWeight.shape != self.weight.shape or \
                self.gradWeight.dtype != self.weight.dtype:
            self.gradWeight = np.zeros_like(self.weight)
        grad = gradOutput.transpose(1, 0, 2, 3).reshape(self.out_channels, -1)
        self.gradWeight[...] = (grad @ cols.reshape(-1, grad.shape[1]).T).reshape(self.weight.shape)
        if self.bias is not None:
            if self.gradBias is None or self.gradBias.shape != self.bias.shape or \
                    self.gradBias.dtype != self.bias.dtype:
                self.gradBias = np.zeros(self.bias.shape, self.bias.dtype)
            self.gradBias[...] = gradOutput.sum(axis=(0, 2, 3))
        # END SOLUTION

    def zeroGradParameters(self):
        self.gradWeight.fill(0)
        if self.gradBias is not None:
            self.gradBias.fill(0)

    def getParameters(self):
        return [self.weight] if self.bias is None else [self.weight, self.bias]

    def getGradParameters(self):
        return [self.gradWeight] if self.bias is None else [self.gradWeight, self.gradBias]

    def __repr__(self):
        return (
            f"Conv2d {self.in_channels} -> {self.out_channels}, kernel {self.kernel_size}, "
            f"stride {self.stride}, padding {self.padding}, padding_mode {self.padding_mode}, "
            f"bias {self.bias is not None}"
        )


# ---------------------------------------------------------------------------------------
# Pooling
# ---------------------------------------------------------------------------------------


class MaxPool2d(Module):
    """Max pooling over k x k windows with a stride and padding, like
    ``torch.nn.MaxPool2d(kernel_size, stride, padding)`` (no dilation, ceil_mode=False).

    ``kernel_size``, ``stride`` and ``padding`` are ints or pairs (for the height and the
    width), stored as pairs. The padding is -inf, so it is never the maximum; as in PyTorch
    it must be at most half the kernel size. The output has height
    (h + 2 * ph - kh) // sh + 1, and likewise for the width.
    """

    def __init__(self, kernel_size, stride, padding):
        super().__init__()
        self.kernel_size = _as_pair(kernel_size)
        self.stride = _as_pair(stride)
        self.padding = _as_pair(padding)
        for k, p in zip(self.kernel_size, self.padding, strict=True):
            if p > k // 2:
                raise ValueError("pad should be at most half of effective kernel size, "
                                 f"got kernel_size={kernel_size} and padding={padding}")

    def updateOutput(self, input):
        """Forward pass.

        Inputs:
        - input: array of shape (batch, channels, h, w).

        Returns:
        - output: array of shape (batch, channels, out_h, out_w); store it in
          ``self.output``.

        Formula, with xp = input padded by (ph, pw) with -inf on both sides:
            output[n, c, y, x] = max_{i < kh, j < kw} xp[n, c, sh*y + i, sw*x + j]

        Cache: the position i * kw + j of the maximum inside each window, for the backward
        pass. If a window holds several equal maxima, keep the first in row-major order (as
        PyTorch does); a NaN counts as a maximum (it propagates, as in PyTorch).

        Hint: xp[:, :, i:i + sh*out_h:sh, j:j + sw*out_w:sw] is the (i, j) element of every
        window at once, a strided view: the maximum is kh * kw elementwise passes keeping a
        running maximum and where it was reached (replace it only if strictly greater). No
        loop over the batch or the positions.
        """
        # BEGIN SOLUTION
        (kh, kw), (sh, sw), (ph, pw) = self.kernel_size, self.stride, self.padding
        padded = np.pad(input, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=-np.inf)
        out_h = (padded.shape[2] - kh) // sh + 1
        out_w = (padded.shape[3] - kw) // sw + 1

        def window_element(i, j):
            return padded[:, :, i:i + sh * out_h:sh, j:j + sw * out_w:sw]

        self.output = window_element(0, 0).copy()
        index_type = np.min_scalar_type(kh * kw)
        self.max_indices = np.zeros(self.output.shape, index_type)
        replace = np.empty(self.output.shape, bool)
        for position in range(1, kh * kw):
            candidate = window_element(position // kw, position % kw)
            np.greater(candidate, self.output, out=replace)
            replace |= np.isnan(candidate)
            # np.maximum propagates NaN, like PyTorch. Positions only grow, so the index of
            # the last replacement is a running maximum of replace * position (branch-free,
            # much faster than boolean-mask assignment).
            np.maximum(self.output, candidate, out=self.output)
            np.maximum(self.max_indices, replace * index_type.type(position),
                       out=self.max_indices)
        # END SOLUTION
        return self.output

    def updateGradInput(self, input, gradOutput):
        """Gradient with respect to the input.

        Inputs:
        - input: array of shape (batch, channels, h, w).
        - gradOutput: array of shape (batch, channels, out_h, out_w).

        Returns:
        - gradInput: array of shape (batch, channels, h, w); store it in
          ``self.gradInput``.

        Formula: each window's gradOutput goes to the position of its (first) maximum;
        when windows overlap (stride < kernel size), a position that is the maximum of
        several windows gets the sum of their gradients. Gradients of the padding are
        dropped.

        Hint: build the gradient of the padded input with one loop over the kh * kw window
        offsets, adding ``gradOutput * (max_indices == i * kw + j)`` into the same strided
        views as in the forward pass (``+=``, not ``=``: windows may overlap); then crop
        the padding.
        """
        # BEGIN SOLUTION
        (kh, kw), (sh, sw), (ph, pw) = self.kernel_size, self.stride, self.padding
        batch, channels, h, w = input.shape
        out_h, out_w = gradOutput.shape[2:]
        gpad = np.zeros((batch, channels, h + 2 * ph, w + 2 * pw), gradOutput.dtype)
        for i in range(kh):
            for j in range(kw):
                gpad[:, :, i:i + sh * out_h:sh, j:j + sw * out_w:sw] += (
                    gradOutput * (self.max_indices == i * kw + j))
        self.gradInput = gpad[:, :, ph:ph + h, pw:pw + w]
        # END SOLUTION
        return self.gradInput

    def __repr__(self):
        return (f"MaxPool2d, kernel {self.kernel_size}, stride {self.stride}, "
                f"padding {self.padding}")


class AvgPool2d(Module):
    """Average pooling over k x k windows with a stride and zero padding, like
    ``torch.nn.AvgPool2d(kernel_size, stride, padding)`` with its defaults
    ``count_include_pad=True`` (the zeros of the padding count in the average: every
    window is divided by kh * kw) and ``ceil_mode=False``.

    ``kernel_size``, ``stride`` and ``padding`` are ints or pairs, stored as pairs; as in
    PyTorch the padding must be at most half the kernel size.
    """

    def __init__(self, kernel_size, stride, padding):
        super().__init__()
        self.kernel_size = _as_pair(kernel_size)
        self.stride = _as_pair(stride)
        self.padding = _as_pair(padding)
        for k, p in zip(self.kernel_size, self.padding, strict=True):
            if p > k // 2:
                raise ValueError("pad should be at most half of kernel size, "
                                 f"got kernel_size={kernel_size} and padding={padding}")

    def updateOutput(self, input):
        """Forward pass.

        Inputs:
        - input: array of shape (batch, channels, h, w).

        Returns:
        - output: array of shape (batch, channels, out_h, out_w), out_h =
          (h + 2 * ph - kh) // sh + 1 and likewise out_w; store it in ``self.output``.

        Formula, with xp = input zero-padded by (ph, pw) on both sides:
            output[n, c, y, x] = sum_{i < kh, j < kw} xp[n, c, sh*y + i, sw*x + j] / (kh * kw)

        Cache: nothing.

        Hint: as in ``MaxPool2d``, xp[:, :, i:i + sh*out_h:sh, j:j + sw*out_w:sw] is the
        (i, j) element of every window; sum the kh * kw views.
        """
        # BEGIN SOLUTION
        (kh, kw), (sh, sw), (ph, pw) = self.kernel_size, self.stride, self.padding
        padded = np.pad(input, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
        out_h = (padded.shape[2] - kh) // sh + 1
        out_w = (padded.shape[3] - kw) // sw + 1
        total = padded[:, :, 0:sh * out_h:sh, 0:sw * out_w:sw].copy()
        for position in range(1, kh * kw):
            i, j = divmod(position, kw)
            total += padded[:, :, i:i + sh * out_h:sh, j:j + sw * out_w:sw]
        total /= kh * kw
        self.output = total
        # END SOLUTION
        return self.output

    def updateGradInput(self, input, gradOutput):
        """Gradient with respect to the input.

        Inputs:
        - input: array of shape (batch, channels, h, w).
        - gradOutput: array of shape (batch, channels, out_h, out_w).

        Returns:
        - gradInput: array of shape (batch, channels, h, w); store it in
          ``self.gradInput``.

        Formula: every position of a window gets gradOutput / (kh * kw) of that window;
        overlapping windows add up; the padding's share is dropped.

        Hint: add gradOutput / (kh * kw) into the strided views of a zero array of the
        padded shape (one loop over the kh * kw offsets), then crop the padding.
        """
        # BEGIN SOLUTION
        (kh, kw), (sh, sw), (ph, pw) = self.kernel_size, self.stride, self.padding
        batch, channels, h, w = input.shape
        out_h, out_w = gradOutput.shape[2:]
        share = gradOutput / (kh * kw)
        gpad = np.zeros((batch, channels, h + 2 * ph, w + 2 * pw), share.dtype)
        for i in range(kh):
            for j in range(kw):
                gpad[:, :, i:i + sh * out_h:sh, j:j + sw * out_w:sw] += share
        self.gradInput = gpad[:, :, ph:ph + h, pw:pw + w]
        # END SOLUTION
        return self.gradInput

    def __repr__(self):
        return (f"AvgPool2d, kernel {self.kernel_size}, stride {self.stride}, "
                f"padding {self.padding}")


class GlobalAvgPool2d(Module):
    """Global average pooling: the mean of every channel over the whole image,
    (batch, channels, h, w) -> (batch, channels).
    """

    def updateOutput(self, input):
        """Forward pass.

        Inputs:
        - input: array of shape (batch, channels, h, w).

        Returns:
        - output: array of shape (batch, channels); store it in ``self.output``.

        Formula: output[n, c] = sum_{y, x} input[n, c, y, x] / (h * w).

        Cache: nothing.
        """
        # BEGIN SOLUTION
        self.output = input.mean(axis=(2, 3))
        # END SOLUTION
        return self.output

    def updateGradInput(self, input, gradOutput):
        """Gradient with respect to the input.

        Inputs:
        - input: array of shape (batch, channels, h, w).
        - gradOutput: array of shape (batch, channels).

        Returns:
        - gradInput: array of shape (batch, channels, h, w); store it in
          ``self.gradInput``.

        Formula: gradInput[n, c, y, x] = gradOutput[n, c] / (h * w).

        Hint: give gradOutput two trailing axes of size 1 and broadcast; return a real
        array, not the read-only view of ``np.broadcast_to``.
        """
        # BEGIN SOLUTION
        batch, channels, h, w = input.shape
        share = gradOutput.reshape(batch, channels, 1, 1) / (h * w)
        self.gradInput = np.empty(input.shape, share.dtype)
        self.gradInput[...] = share
        # END SOLUTION
        return self.gradInput

    def __repr__(self):
        return "GlobalAvgPool2d"


class GlobalMaxPool2d(Module):
    """Global max pooling: the maximum of every channel over the whole image,
    (batch, channels, h, w) -> (batch, channels).
    """

    def updateOutput(self, input):
        """Forward pass.

        Inputs:
        - input: array of shape (batch, channels, h, w).

        Returns:
        - output: array of shape (batch, channels); store it in ``self.output``.

        Formula: output[n, c] = max_{y, x} input[n, c, y, x].

        Cache: the position y * w + x of each maximum (the first in row-major order if
        there are ties, as ``np.argmax`` and PyTorch's max pooling do).

        Hint: reshape to (batch, channels, h * w) and use ``argmax`` over the last axis;
        ``np.take_along_axis`` then reads the maxima.
        """
        # BEGIN SOLUTION
        batch, channels, h, w = input.shape
        flat = input.reshape(batch, channels, h * w)
        self.max_indices = flat.argmax(axis=2)
        self.output = np.take_along_axis(flat, self.max_indices[:, :, None], axis=2)[:, :, 0]
        # END SOLUTION
        return self.output

    def updateGradInput(self, input, gradOutput):
        """Gradient with respect to the input.

        Inputs:
        - input: array of shape (batch, channels, h, w).
        - gradOutput: array of shape (batch, channels).

        Returns:
        - gradInput: array of shape (batch, channels, h, w); store it in
          ``self.gradInput``.

        Formula: gradInput[n, c] is gradOutput[n, c] at the cached position of the
        maximum and 0 elsewhere.

        Hint: ``np.put_along_axis`` writes into a zero array of shape (batch, channels,
        h * w).
        """
        # BEGIN SOLUTION
        batch, channels, h, w = input.shape
        grad = np.zeros((batch, channels, h * w), gradOutput.dtype)
        np.put_along_axis(grad, self.max_indices[:, :, None],
                          gradOutput.reshape(batch, channels, 1), axis=2)
        self.gradInput = grad.reshape(input.shape)
        # END SOLUTION
        return self.gradInput

    def __repr__(self):
        return "GlobalMaxPool2d"


# ---------------------------------------------------------------------------------------
# Reshaping
# ---------------------------------------------------------------------------------------


class Flatten(Module):
    """Merge the axes start_dim..end_dim (both included, negative values count from the
    end) into one, like ``torch.flatten(input, start_dim, end_dim)``. Note the defaults:
    ``start_dim=0`` flattens the batch axis too, as ``torch.flatten`` does (unlike
    ``torch.nn.Flatten``, whose default is 1); use ``Flatten(1)`` before a ``Linear``.
    """

    def __init__(self, start_dim=0, end_dim=-1):
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def updateOutput(self, input):
        """Forward pass.

        Inputs:
        - input: array of shape (d0, d1, ..., d_{m-1}).

        Returns:
        - output: array of shape (d0, ..., d_{s-1}, d_s * ... * d_e, d_{e+1}, ...), with s
          and e the start and end axes made non-negative (s = start_dim + m if start_dim
          < 0); store it in ``self.output``. A 0-d input gives a 1-d array of one element.

        Cache: nothing; the backward pass only has to undo the reshape.

        Hint: ``reshape`` with the new shape; check s <= e as PyTorch does.
        """
        # BEGIN SOLUTION
        ndim = max(input.ndim, 1)  # torch.flatten treats a scalar as a 1-d tensor
        start = self.start_dim + ndim if self.start_dim < 0 else self.start_dim
        end = self.end_dim + ndim if self.end_dim < 0 else self.end_dim
        if not (0 <= start < ndim and 0 <= end < ndim):
            raise IndexError(f"Dimension out of range (start_dim={self.start_dim}, "
                             f"end_dim={self.end_dim}, input.ndim={input.ndim})")
        if start > end:
            raise ValueError("flatten() has invalid args: start_dim cannot come after end_dim")
        shape = np.shape(input) or (1,)
        merged = int(np.prod(shape[start:end + 1]))  # not -1: an axis may have size 0
        self.output = np.reshape(input, shape[:start] + (merged,) + shape[end + 1:])
        # END SOLUTION
        return self.output

    def updateGradInput(self, input, gradOutput):
        """Gradient with respect to the input.

        Inputs:
        - input: array of the original shape.
        - gradOutput: array of the flattened shape.

        Returns:
        - gradInput: array of shape ``input.shape``; store it in ``self.gradInput``.

        Formula: gradInput = gradOutput reshaped to ``input.shape``.
        """
        # BEGIN SOLUTION
        self.gradInput = np.reshape(gradOutput, np.shape(input))
        # END SOLUTION
        return self.gradInput

    def __repr__(self):
        return f"Flatten {self.start_dim}..{self.end_dim}"
