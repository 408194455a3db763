"""A second correct solution, written independently of ``solutions/modules.py``.

It fills the same solution regions with other code (other idioms, other names, other
structure), as a different student would. The similarity report must not flag it against
the reference; tests and the threshold measurement in docs/batch.md use it.
"""

from __future__ import annotations

import re
import textwrap

from paths import SOLUTION_TEXT

# One entry per "# BEGIN SOLUTION" region of the reference, in file order.
REGIONS = [
    # Sequential.updateOutput
    """
    result = input
    for layer in self.modules:
        result = layer.forward(result)
    self.output = result
    """,
    # Sequential.backward
    """
    seen = [input] + [layer.output for layer in self.modules[:-1]]
    delta = gradOutput
    for layer, layer_in in reversed(list(zip(self.modules, seen))):
        delta = layer.backward(layer_in, delta)
    self.gradInput = delta
    """,
    # Linear
    "self.output = np.dot(input, self.W.T) + self.b[np.newaxis, :]",
    "self.gradInput = np.dot(gradOutput, self.W)",
    """
    self.gradW[:] = np.einsum("bo,bi->oi", gradOutput, input)
    self.gradb[:] = np.sum(gradOutput, axis=0)
    """,
    # ChannelwiseScaling
    "self.output = self.gamma[np.newaxis, :] * input + self.beta[np.newaxis, :]",
    "self.gradInput = self.gamma[np.newaxis, :] * gradOutput",
    """
    self.gradGamma[:] = (input * gradOutput).sum(0)
    self.gradBeta[:] = gradOutput.sum(0)
    """,
    # SoftMax
    """
    e = np.exp(input - np.max(input, axis=-1, keepdims=True))
    self.output = e / np.sum(e, axis=-1, keepdims=True)
    """,
    """
    s = self.output
    inner = np.einsum("ij,ij->i", gradOutput, s)[:, np.newaxis]
    self.gradInput = s * gradOutput - s * inner
    """,
    # LogSoftMax
    """
    top = np.max(input, axis=-1, keepdims=True)
    log_norm = top + np.log(np.sum(np.exp(input - top), axis=-1, keepdims=True))
    self.output = input - log_norm
    """,
    """
    probs = np.exp(self.output)
    self.gradInput = gradOutput - probs * np.sum(gradOutput, axis=-1, keepdims=True)
    """,
    # BatchNormalization
    """
    width = input.shape[1]
    old_mean = self.moving_mean
    if old_mean is None:
        old_mean = np.zeros(width, dtype=input.dtype)
    old_var = self.moving_variance
    if old_var is None:
        old_var = np.ones(width, dtype=input.dtype)
    if self.training:
        mu = np.mean(input, axis=0)
        sigma2 = np.mean((input - mu) ** 2, axis=0)
        a = self.alpha
        self.moving_mean = a * old_mean + (1 - a) * mu
        self.moving_variance = a * old_var + (1 - a) * sigma2
    else:
        mu, sigma2 = old_mean, old_var
    self.std = np.sqrt(sigma2 + self.EPS)
    self.xhat = (input - mu) / self.std
    self.output = self.xhat
    """,
    """
    if not self.training:
        self.gradInput = gradOutput / self.std
    else:
        m = input.shape[0]
        total = gradOutput.sum(axis=0)
        weighted = (gradOutput * self.xhat).sum(axis=0)
        self.gradInput = (m * gradOutput - total - self.xhat * weighted) / (m * self.std)
    """,
    # Dropout
    """
    if not self.training:
        self.output = input
    else:
        keep = np.random.rand(*input.shape) >= self.p
        self.scale = (keep / (1.0 - self.p)).astype(input.dtype)
        self.output = input * self.scale
    """,
    """
    self.gradInput = gradOutput * self.scale if self.training else gradOutput
    """,
    # ReLU
    "self.output = input * (input > 0)",
    "self.gradInput = np.where(input > 0, gradOutput, 0.0)",
    # LeakyReLU
    """
    factor = np.ones_like(input)
    factor[input <= 0] = self.slope
    self.output = input * factor
    """,
    """
    factor = np.ones_like(input)
    factor[input <= 0] = self.slope
    self.gradInput = gradOutput * factor
    """,
    # ELU
    """
    neg = input <= 0
    self.output = input.copy()
    self.output[neg] = self.alpha * (np.exp(input[neg]) - 1)
    """,
    """
    deriv = np.ones_like(input)
    neg = input <= 0
    deriv[neg] = self.alpha * np.exp(input[neg])
    self.gradInput = gradOutput * deriv
    """,
    # SoftPlus
    "self.output = np.maximum(input, 0) + np.log1p(np.exp(-np.abs(input)))",
    """
    sig = np.empty_like(input)
    pos = input >= 0
    sig[pos] = 1 / (1 + np.exp(-input[pos]))
    ex = np.exp(input[~pos])
    sig[~pos] = ex / (1 + ex)
    self.gradInput = gradOutput * sig
    """,
    # MSECriterion
    """
    diff = input - target
    self.output = float(np.vdot(diff, diff)) / len(input)
    """,
    "self.gradInput = (input - target) * (2.0 / len(input))",
    # ClassNLLCriterionUnstable
    """
    safe = np.minimum(np.maximum(input, self.EPS), 1 - self.EPS)
    self.output = -float((target * np.log(safe)).sum()) / len(input)
    """,
    """
    safe = np.minimum(np.maximum(input, self.EPS), 1 - self.EPS)
    self.gradInput = -(target / safe) / len(input)
    """,
    # ClassNLLCriterion
    "self.output = -float(np.vdot(target, input)) / len(input)",
    "self.gradInput = target * (-1.0 / len(input))",
    # sgd_momentum
    """
    velocity *= config["momentum"]
    velocity += config["learning_rate"] * current_grad
    current_var -= velocity
    """,
    # adam_optimizer
    """
    b1, b2 = config["beta1"], config["beta2"]
    var_first_moment *= b1
    var_first_moment += (1 - b1) * current_grad
    var_second_moment *= b2
    var_second_moment += (1 - b2) * np.square(current_grad)
    step_no = state["t"]
    m_hat = var_first_moment / (1 - b1 ** step_no)
    v_hat = var_second_moment / (1 - b2 ** step_no)
    # the textbook form, with epsilon rescaled to match the specification's lr_t form
    eps_hat = config["epsilon"] / np.sqrt(1 - b2 ** step_no)
    current_var -= config["learning_rate"] * m_hat / (np.sqrt(v_hat) + eps_hat)
    """,
    # Conv2d (loops over the kernel offsets instead of strided windows)
    """
    n, _, h, w = input.shape
    k = self.kernel_size
    half = k // 2
    xp = np.pad(input, [(0, 0), (0, 0), (half, half), (half, half)])
    res = np.zeros((n, self.W.shape[0], h, w), dtype=np.result_type(input, self.W))
    for dy in range(k):
        for dx in range(k):
            patch = xp[:, :, dy:dy + h, dx:dx + w]
            res += np.einsum("nchw,oc->nohw", patch, self.W[:, :, dy, dx])
    self.output = res + self.b.reshape(1, -1, 1, 1)
    """,
    """
    n, _, h, w = input.shape
    k = self.kernel_size
    half = k // 2
    gx = np.zeros((n, input.shape[1], h + 2 * half, w + 2 * half),
                  dtype=np.result_type(gradOutput, self.W))
    for dy in range(k):
        for dx in range(k):
            gx[:, :, dy:dy + h, dx:dx + w] += np.einsum(
                "nohw,oc->nchw", gradOutput, self.W[:, :, dy, dx])
    self.gradInput = gx[:, :, half:half + h, half:half + w]
    """,
    """
    _, _, h, w = input.shape
    k = self.kernel_size
    half = k // 2
    xp = np.pad(input, [(0, 0), (0, 0), (half, half), (half, half)])
    for dy in range(k):
        for dx in range(k):
            patch = xp[:, :, dy:dy + h, dx:dx + w]
            self.gradW[:, :, dy, dx] = np.einsum("nohw,nchw->oc", gradOutput, patch)
    self.gradb[:] = gradOutput.sum(axis=(0, 2, 3))
    """,
    # MaxPool2d
    """
    n, c, h, w = input.shape
    s = self.kernel_size
    blocks = input.reshape(n, c, h // s, s, w // s, s).transpose(0, 1, 2, 4, 3, 5)
    flat = blocks.reshape(n, c, h // s, w // s, s * s)
    self.output = flat.max(axis=-1)
    winner = np.zeros(flat.shape, dtype=bool)
    np.put_along_axis(winner, flat.argmax(axis=-1)[..., None], True, axis=-1)
    self.winner = winner.reshape(n, c, h // s, w // s, s, s).transpose(0, 1, 2, 4, 3, 5)
    """,
    """
    grads = self.winner * gradOutput[:, :, :, None, :, None]
    self.gradInput = grads.reshape(input.shape)
    """,
    # Flatten
    "self.output = np.reshape(input, (len(input), -1))",
    "self.gradInput = np.reshape(gradOutput, np.shape(input))",
]

_REGION = re.compile(r"^([ \t]*)# BEGIN SOLUTION\n.*?^[ \t]*# END SOLUTION\n", re.M | re.S)


def independent_solution() -> str:
    """The reference file with every solution region replaced by the code above."""
    regions = iter(REGIONS)

    def fill(match: re.Match[str]) -> str:
        code = textwrap.dedent(next(regions)).strip("\n")
        return textwrap.indent(code, match.group(1)) + "\n"

    text = _REGION.sub(fill, SOLUTION_TEXT)
    assert next(regions, None) is None, "one code block per solution region"
    return text

# A copier's disguise: every local name of the reference's solution regions changed.
RENAMES = {
    "module": "layer", "grad": "g", "module_input": "prev_out", "shifted": "z", "exps": "ez",
    "p": "probs", "n_feats": "nf", "moving_mean": "run_mu", "moving_variance": "run_var",
    "mean": "mu", "var": "v2", "xhat": "xn", "centered": "gc", "negative_part": "negs",
    "slope": "dslope", "sigmoid": "sg", "clipped": "cl", "pad": "pd", "padded": "xpad",
    "windows": "wins", "out": "res", "flipped": "wflip", "batch": "nb", "channels": "nch",
    "h": "hh", "w": "ww", "k": "ks", "one_hot": "sel", "grad_windows": "gwin", "beta1": "b_1",
    "beta2": "b_2", "t": "tt", "lr_t": "rate", "step": "delta",
}


def renamed_copy(source: str) -> str:
    """``source`` with the local names of its solution regions renamed, its comments reworded
    and blank lines added: the same code, disguised."""
    def disguise(match: re.Match[str]) -> str:
        body = match.group(0)
        for old, new in RENAMES.items():
            body = re.sub(rf"(?<![.\w\"']){old}\b(?!=)", new, body)
        body = re.sub(r"#(?! (BEGIN|END) SOLUTION).*", "# my own work", body)
        return body.replace("\n", "\n\n", 2)

    return _REGION.sub(disguise, source)
