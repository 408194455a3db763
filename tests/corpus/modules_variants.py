"""Correct submissions written differently from the reference: each must get full marks."""

from __future__ import annotations

import re

from corpus import MODULES, Replacement, Variant

region, rewrite, within = MODULES.region, MODULES.rewrite, MODULES.within

SCIPY_IMPORT = ("import numpy as np\n", "import numpy as np\nfrom scipy import signal, special\n")


def _prepend(qualname: str, code: str) -> Replacement:
    old = region(qualname)
    indent = re.match(r"\s*", old).group(0)
    return old, "".join(indent + line + "\n" for line in code.splitlines()) + old


def _float64(qualname: str) -> Replacement:
    """Cast every array argument of the method to float64 before using it."""
    cls, method = qualname.split(".")
    names = ["input"]
    if "Criterion" in cls:
        names.append("target")
    elif method != "updateOutput":
        names.append("gradOutput")
    return _prepend(qualname, "\n".join(f"{n} = np.asarray({n}, dtype=np.float64)"
                                        for n in names))


FLOAT64_METHODS = [
    f"{cls}.{method}"
    for cls in ("Linear", "ChannelwiseScaling", "Conv2d")
    for method in ("updateOutput", "updateGradInput", "accGradParameters")
] + [
    f"{cls}.{method}"
    for cls in ("SoftMax", "LogSoftMax", "BatchNormalization", "Dropout", "ReLU", "LeakyReLU",
                "ELU", "SoftPlus", "MSECriterion", "ClassNLLCriterionUnstable",
                "ClassNLLCriterion", "MaxPool2d", "Flatten")
    for method in ("updateOutput", "updateGradInput")
]

CONV_SCIPY = [
    SCIPY_IMPORT,
    rewrite("Conv2d.updateOutput", """
        pad = self.kernel_size // 2
        padded = np.pad(input, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
        batch, _, h, w = input.shape
        self.output = np.zeros((batch, self.out_channels, h, w))
        for n in range(batch):
            for o in range(self.out_channels):
                self.output[n, o] = self.b[o]
                for c in range(self.in_channels):
                    self.output[n, o] += signal.correlate2d(padded[n, c], self.W[o, c], "valid")
    """),
    rewrite("Conv2d.updateGradInput", """
        self.gradInput = np.zeros(input.shape)
        for n in range(input.shape[0]):
            for c in range(self.in_channels):
                for o in range(self.out_channels):
                    self.gradInput[n, c] += signal.convolve2d(gradOutput[n, o], self.W[o, c],
                                                              "same")
    """),
    rewrite("Conv2d.accGradParameters", """
        pad = self.kernel_size // 2
        padded = np.pad(input, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
        self.gradW.fill(0)
        for n in range(input.shape[0]):
            for o in range(self.out_channels):
                for c in range(self.in_channels):
                    self.gradW[o, c] += signal.correlate2d(padded[n, c], gradOutput[n, o],
                                                           "valid")
        self.gradb[...] = gradOutput.sum(axis=(0, 2, 3))
    """),
]

# im2col by fancy indexing: rows[y, i] = y + i index the padded image for output y, offset i.
IM2COL = """
        n, c, h, w = input.shape
        k, out = self.kernel_size, self.out_channels
        p = k // 2
        rows = (np.arange(h)[:, None] + np.arange(k))[:, None, :, None]
        cols = (np.arange(w)[:, None] + np.arange(k))[None, :, None, :]
"""

CONV_IM2COL = [
    rewrite("Conv2d.updateOutput", IM2COL + """
        xp = np.pad(input, ((0, 0), (0, 0), (p, p), (p, p)))
        patches = xp[:, :, rows, cols].transpose(0, 2, 3, 1, 4, 5).reshape(n * h * w, -1)
        result = patches @ self.W.reshape(out, -1).T + self.b
        self.output = result.reshape(n, h, w, out).transpose(0, 3, 1, 2)
    """),
    rewrite("Conv2d.updateGradInput", IM2COL + """
        g = gradOutput.transpose(0, 2, 3, 1).reshape(n * h * w, out)
        dpatches = (g @ self.W.reshape(out, -1)).reshape(n, h, w, c, k, k)
        dxp = np.zeros((n, c, h + 2 * p, w + 2 * p))
        np.add.at(dxp, (slice(None), slice(None), rows, cols), dpatches.transpose(0, 3, 1, 2, 4, 5))
        self.gradInput = dxp[:, :, p:p + h, p:p + w]
    """),
    rewrite("Conv2d.accGradParameters", IM2COL + """
        xp = np.pad(input, ((0, 0), (0, 0), (p, p), (p, p)))
        patches = xp[:, :, rows, cols].transpose(0, 2, 3, 1, 4, 5).reshape(n * h * w, -1)
        g = gradOutput.transpose(0, 2, 3, 1).reshape(n * h * w, out)
        self.gradW[...] = (patches.T @ g).T.reshape(self.gradW.shape)
        self.gradb[...] = g.sum(axis=0)
    """),
]

JACOBIANS = [
    rewrite("SoftMax.updateGradInput", """
        p = self.output
        jacobian = np.einsum("ni,ij->nij", p, np.eye(p.shape[1])) - np.einsum("ni,nj->nij", p, p)
        self.gradInput = np.einsum("nij,ni->nj", jacobian, gradOutput)
    """),
    rewrite("LogSoftMax.updateGradInput", """
        p = np.exp(self.output)
        jacobian = np.eye(p.shape[1])[None] - p[:, None, :]  # d out_i / d x_j = delta_ij - p_j
        self.gradInput = np.einsum("nij,ni->nj", jacobian, gradOutput)
    """),
    # The step-by-step computational graph of the batch-norm lecture notes.
    within("BatchNormalization.updateGradInput", """\
            xhat = self.normalized
            centered = gradOutput - gradOutput.mean(axis=0)
            self.gradInput = self.inv_std * (centered - xhat * (gradOutput * xhat).mean(axis=0))
""", """\
            n = input.shape[0]
            x_mu = input - input.mean(axis=0)
            var = input.var(axis=0)
            dvar = np.sum(gradOutput * x_mu, axis=0) * -0.5 * (var + self.EPS) ** -1.5
            dmean = -np.sum(gradOutput * self.inv_std, axis=0) + dvar * np.mean(-2 * x_mu, axis=0)
            self.gradInput = gradOutput * self.inv_std + dvar * 2 * x_mu / n + dmean / n
"""),
]

SCIPY_SPECIAL = [
    SCIPY_IMPORT,
    rewrite("SoftMax.updateOutput", "self.output = special.softmax(input, axis=1)"),
    rewrite("LogSoftMax.updateOutput",
            "self.output = input - special.logsumexp(input, axis=1, keepdims=True)"),
    rewrite("LogSoftMax.updateGradInput", """
        p = special.softmax(input, axis=1)
        self.gradInput = gradOutput - p * gradOutput.sum(axis=1, keepdims=True)
    """),
    rewrite("SoftPlus.updateOutput",
            "self.output = np.maximum(input, 0) + np.log1p(np.exp(-np.abs(input)))"),
    rewrite("SoftPlus.updateGradInput", "self.gradInput = gradOutput * special.expit(input)"),
]

TORCH_ACCUMULATE = [
    rewrite("Linear.accGradParameters", """
        self.gradW += gradOutput.T @ input
        self.gradb += gradOutput.sum(axis=0)
    """),
    rewrite("ChannelwiseScaling.accGradParameters", """
        self.gradGamma += np.sum(gradOutput * input, axis=0)
        self.gradBeta += np.sum(gradOutput, axis=0)
    """),
    within("Conv2d.accGradParameters", """\
        self.gradW[...] = gradW.transpose(0, 3, 1, 2)
        self.gradb[...] = both[:, -1]
""", """\
        self.gradW += gradW.transpose(0, 3, 1, 2)
        self.gradb += both[:, -1]
"""),
]

ACTIVATIONS = [
    rewrite("ELU.updateGradInput",
            "self.gradInput = gradOutput * np.where(input > 0, 1.0, self.output + self.alpha)"),
    rewrite("LeakyReLU.updateOutput", "self.output = np.maximum(input, self.slope * input)"),
    rewrite("LeakyReLU.updateGradInput",
            "self.gradInput = gradOutput * np.where(input > 0, 1.0, self.slope)"),
    rewrite("ReLU.updateGradInput", """
        self.gradInput = gradOutput.copy()
        self.gradInput[input <= 0] = 0
    """),
]

CRITERIONS = [
    rewrite("MSECriterion.updateOutput",
            "self.output = float(np.mean((input - target) ** 2) * input.shape[1])"),
    within("ClassNLLCriterionUnstable.updateOutput",
           "self.output = -np.sum(target * np.log(clipped)) / input.shape[0]",
           "self.output = float(-np.sum(target * np.log(clipped)) / input.shape[0])"),
    rewrite("ClassNLLCriterion.updateOutput", """
        labels = target.argmax(axis=1)
        self.output = float(-input[np.arange(len(input)), labels].mean())
    """),
    rewrite("ClassNLLCriterion.updateGradInput", """
        labels = target.argmax(axis=1)
        self.gradInput = np.zeros_like(input)
        self.gradInput[np.arange(len(input)), labels] = -1.0 / len(input)
    """),
]

DROPOUT_RAND = [
    rewrite("Dropout.updateOutput", """
        if self.training:
            self.mask = np.random.rand(*input.shape) > self.p
            self.output = input * self.mask / (1 - self.p)
        else:
            self.output = input
    """),
]

SEQUENTIAL_UPDATE_METHODS = [
    rewrite("Sequential.updateOutput", """
        x = input
        for module in self.modules:
            x = module.updateOutput(x)
        self.output = x
    """),
    rewrite("Sequential.backward", """
        inputs = [input] + [module.output for module in self.modules[:-1]]
        grad = gradOutput
        for module, module_input in zip(reversed(self.modules), reversed(inputs)):
            new_grad = module.updateGradInput(module_input, grad)
            module.accGradParameters(module_input, grad)
            grad = new_grad
        self.gradInput = grad
    """),
]

ALIASES = [
    ("class SoftMax(Module):", "class Softmax(Module):"),
    ("class LogSoftMax(Module):", "class LogSoftmax(Module):"),
    ("def adam_optimizer(", "def adam("),
]

MAXPOOL_LOOPS = [
    rewrite("MaxPool2d.updateOutput", """
        k = self.kernel_size
        assert input.shape[2] % k == 0 and input.shape[3] % k == 0, (input.shape, k)
        best = input[:, :, ::k, ::k].copy()
        index = np.zeros(best.shape, dtype=int)
        for i in range(k):
            for j in range(k):
                candidate = input[:, :, i::k, j::k]
                better = candidate > best  # strict: ties keep the first in row-major order
                best = np.where(better, candidate, best)
                index = np.where(better, i * k + j, index)
        self.max_indices = index
        self.output = best
    """),
    rewrite("MaxPool2d.updateGradInput", """
        k = self.kernel_size
        self.gradInput = np.zeros(input.shape, dtype=gradOutput.dtype)
        for i in range(k):
            for j in range(k):
                self.gradInput[:, :, i::k, j::k] = gradOutput * (self.max_indices == i * k + j)
    """),
]

OPTIMIZERS_INPLACE_OPERATORS = [
    rewrite("sgd_momentum", """
        velocity *= config["momentum"]
        velocity += config["learning_rate"] * current_grad
        current_var -= velocity
    """),
    rewrite("adam_optimizer", """
        beta1, beta2, t = config["beta1"], config["beta2"], state["t"]
        var_first_moment *= beta1
        var_first_moment += (1 - beta1) * current_grad
        var_second_moment *= beta2
        var_second_moment += (1 - beta2) * current_grad * current_grad
        lr_t = config["learning_rate"] * (1 - beta2**t) ** 0.5 / (1 - beta1**t)
        current_var -= lr_t * var_first_moment / (var_second_moment**0.5 + config["epsilon"])
    """),
]

VARIANTS = [
    Variant("float64_internal", "every layer and criterion casts its inputs to float64",
            [_float64(q) for q in FLOAT64_METHODS]),
    Variant("conv_scipy_loops", "Conv2d with scipy.signal loops over batch and channels",
            CONV_SCIPY),
    Variant("conv_im2col", "Conv2d by im2col with fancy indexing and np.add.at", CONV_IM2COL),
    Variant("jacobian_algebra", "explicit Jacobians (einsum) and the step-by-step BN graph",
            JACOBIANS),
    Variant("scipy_special", "softmax, logsumexp and expit from scipy.special", SCIPY_SPECIAL),
    Variant("torch_style_accumulate", "parameter gradients accumulated with +=",
            TORCH_ACCUMULATE),
    Variant("activations_alt", "ELU gradient through its output, LeakyReLU via np.maximum",
            ACTIVATIONS),
    Variant("criterions_alt", "MSE via mean * features, NLL by indexing, Python float losses",
            CRITERIONS),
    Variant("dropout_rand", "Dropout mask from np.random.rand(...) > p (a boolean mask)",
            DROPOUT_RAND),
    Variant("sequential_update_methods",
            "Sequential calls updateOutput / updateGradInput + accGradParameters",
            SEQUENTIAL_UPDATE_METHODS),
    Variant("aliases", "Softmax, LogSoftmax and adam instead of the canonical names", ALIASES,
            found_as={"SoftMax": "Softmax", "LogSoftMax": "LogSoftmax",
                      "adam_optimizer": "adam"}),
    Variant("maxpool_offset_loops", "MaxPool2d by a loop over the k*k window offsets",
            MAXPOOL_LOOPS),
    Variant("optimizers_inplace_operators", "sgd and Adam written with *=, += and ** 0.5",
            OPTIMIZERS_INPLACE_OPERATORS),
    # The homework loop calls getGradParameters() after every backward, so new arrays are fine.
    Variant("linear_accgrad_rebinds", "accGradParameters assigns new gradW/gradb arrays",
            [rewrite("Linear.accGradParameters", """
                self.gradW = gradOutput.T @ input
                self.gradb = gradOutput.sum(axis=0)
            """)]),
    Variant("cws_zero_grad_rebinds", "+= accumulation; zeroGradParameters assigns new zeros",
            [rewrite("ChannelwiseScaling.accGradParameters", """
                self.gradGamma += np.sum(gradOutput * input, axis=0)
                self.gradBeta += np.sum(gradOutput, axis=0)
            """),
             ("        self.gradGamma.fill(0)\n        self.gradBeta.fill(0)\n",
              "        self.gradGamma = np.zeros_like(self.gamma)\n"
              "        self.gradBeta = np.zeros_like(self.beta)\n")]),
]
