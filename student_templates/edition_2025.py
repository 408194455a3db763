"""Neural network modules from scratch, the 2025-2026 edition: your implementation.

Replace every ``raise NotImplementedError(...)`` with your code, following the docstring
above it. Check your work with ``nngrade check <this file>``.

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

Graded end to end: the MNIST check trains your network with your classes for 2 epochs,
at most 60 s of training on one core, and needs 95% test accuracy. When the time is up,
the accuracy reached so far counts: keep every layer vectorised (a Python loop over
channels or positions may be too slow).
"""

import numpy as np
from scipy.special import erf  # the Gauss error function, for Gelu

# ---------------------------------------------------------------------------------------
# Base classes (given)
# ---------------------------------------------------------------------------------------


class Module:
    """Base class of all layers.

    ``forward``/``backward`` are the entry points called by users; subclasses implement
    ``updateOutput``, ``updateGradInput`` and, if they have parameters,
    ``accGradParameters``, ``zeroGradParameters``, ``getParameters`` and
    ``getGradParameters``.
    """

    def __init__(self):
        self.output = None
        self.gradInput = None
        self.training = True

    def forward(self, input):
        """Take an input and compute the corresponding output: calls ``updateOutput``, which
        stores it in ``self.output``, and returns it."""
        return self.updateOutput(input)

    def backward(self, input, gradOutput):
        """Back-propagate through the module: compute gradInput, then accumulate the
        gradients of the parameters. ``input`` must be the input of the last forward call.
        Calls ``updateGradInput`` then ``accGradParameters``, both with this ``gradOutput``,
        and returns ``self.gradInput``.
        """
        self.updateGradInput(input, gradOutput)
        self.accGradParameters(input, gradOutput)
        return self.gradInput

    def updateOutput(self, input):
        """Compute ``self.output`` from ``input``, store it and return it."""
        raise NotImplementedError

    def updateGradInput(self, input, gradOutput):
        """Compute ``self.gradInput`` (dLoss/dInput), store it and return it."""
        raise NotImplementedError

    def accGradParameters(self, input, gradOutput):
        """Compute the gradients of the parameters (no-op for parameter-free modules)."""
        pass

    def zeroGradParameters(self):
        """Reset the parameter gradients to zero (no-op for parameter-free modules)."""
        pass

    def getParameters(self):
        """Return a list of the parameter arrays (empty for parameter-free modules)."""
        return []

    def getGradParameters(self):
        """Return a list of the parameter gradients, in the order of ``getParameters``."""
        return []

    def train(self):
        """Switch to training mode (matters for Dropout and BatchNormalization)."""
        self.training = True

    def evaluate(self):
        """Switch to evaluation mode (matters for Dropout and BatchNormalization)."""
        self.training = False

    def __repr__(self):
        return "Module"


class Sequential(Module):
    """A container that applies its modules one after another."""

    def __init__(self):
        super().__init__()
        self.modules = []

    def add(self, module):
        """Append a module to the end of the chain."""
        self.modules.append(module)

    def updateOutput(self, input):
        """Forward pass through all modules in order.

        Inputs:
        - input: the input of the first module.

        Returns:
        - output: the output of the last module; store it in ``self.output``.

        Formula: y_0 = input, y_i = module_i.forward(y_{i-1}), output = y_n.

        Cache: nothing extra; every child keeps its own ``output``, which is exactly the
        input of the next child.

        Hint: call each child's ``forward`` (not ``updateOutput``) so that containers
        nest.
        """
        self.output = input
        for module in self.modules:
            self.output = module.forward(self.output)
        return self.output

    def backward(self, input, gradOutput):
        """Backward pass through all modules in reverse order.

        Inputs:
        - input: the input given to ``forward``.
        - gradOutput: dLoss/dOutput, shape of ``self.output``.

        Returns:
        - gradInput: dLoss/dInput, shape of ``input``; store it in ``self.gradInput``.

        Formula (chain rule), going from the last module to the first:
            g_n = gradOutput,  g_{i-1} = module_i.backward(y_{i-1}, g_i),  gradInput = g_0
        where y_{i-1} is the input module i saw in the forward pass: the ``output`` of
        module i-1, and ``input`` itself for the first module.

        Hint: call each child's ``backward`` (not only ``updateGradInput``), so that the
        parameter gradients are computed as well: module i's ``accGradParameters`` gets the
        same g_i as its ``updateGradInput``, not the gradient it propagates.
        """
        grad = gradOutput
        for i in reversed(range(len(self.modules))):
            module_input = self.modules[i - 1].output if i > 0 else input
            grad = self.modules[i].backward(module_input, grad)
        self.gradInput = grad
        return self.gradInput

    def zeroGradParameters(self):
        for module in self.modules:
            module.zeroGradParameters()

    def getParameters(self):
        """Return a list with one list of parameters per module."""
        return [module.getParameters() for module in self.modules]

    def getGradParameters(self):
        """Return a list with one list of parameter gradients per module."""
        return [module.getGradParameters() for module in self.modules]

    def train(self):
        self.training = True
        for module in self.modules:
            module.train()

    def evaluate(self):
        self.training = False
        for module in self.modules:
            module.evaluate()

    def __getitem__(self, x):
        return self.modules[x]

    def __repr__(self):
        return "\n".join(str(module) for module in self.modules)


class Criterion:
    """Base class of all losses. A criterion maps (input, target) to a scalar loss;
    ``backward`` returns dLoss/dInput.
    """

    def __init__(self):
        self.output = None
        self.gradInput = None

    def forward(self, input, target):
        """Compute the loss: calls ``updateOutput`` once and returns its result."""
        return self.updateOutput(input, target)

    def backward(self, input, target):
        """Compute dLoss/dInput: calls ``updateGradInput`` once and returns its result."""
        return self.updateGradInput(input, target)

    def updateOutput(self, input, target):
        """Compute the loss, store it in ``self.output`` and return it."""
        raise NotImplementedError

    def updateGradInput(self, input, target):
        """Compute dLoss/dInput, store it in ``self.gradInput`` and return it."""
        raise NotImplementedError

    def __repr__(self):
        return "Criterion"


# ---------------------------------------------------------------------------------------
# Layers and criterions as in the classic edition
# ---------------------------------------------------------------------------------------


class Linear(Module):
    """Fully connected layer: y = x W^T + b.

    Parameters: ``W`` of shape (n_out, n_in) and ``b`` of shape (n_out,), initialised
    uniformly in [-1/sqrt(n_in), 1/sqrt(n_in)]; their gradients ``gradW`` and ``gradb``.
    """

    def __init__(self, n_in, n_out):
        super().__init__()
        stdv = 1.0 / np.sqrt(n_in)
        self.W = np.random.uniform(-stdv, stdv, size=(n_out, n_in))
        self.b = np.random.uniform(-stdv, stdv, size=n_out)
        self.gradW = np.zeros_like(self.W)
        self.gradb = np.zeros_like(self.b)

    def updateOutput(self, input):
        """Forward pass.

        Inputs:
        - input: array of shape (batch, n_in).

        Returns:
        - output: array of shape (batch, n_out); store it in ``self.output``.

        Formula: output = input @ W.T + b   (b is broadcast over the batch).

        Cache: nothing; the backward pass receives ``input`` again.
        """
        raise NotImplementedError("write Linear.updateOutput (see its docstring)")
        return self.output

    def updateGradInput(self, input, gradOutput):
        """Gradient with respect to the input.

        Inputs:
        - input: array of shape (batch, n_in).
        - gradOutput: array of shape (batch, n_out).

        Returns:
        - gradInput: array of shape (batch, n_in); store it in ``self.gradInput``.

        Formula: gradInput = gradOutput @ W.

        Hint: check the shapes; a matrix product of (batch, n_out) and (n_out, n_in)
        is the only combination that gives (batch, n_in).
        """
        raise NotImplementedError("write Linear.updateGradInput (see its docstring)")
        return self.gradInput

    def accGradParameters(self, input, gradOutput):
        """Gradients with respect to the parameters.

        Inputs:
        - input: array of shape (batch, n_in).
        - gradOutput: array of shape (batch, n_out).

        Sets:
        - gradW, shape (n_out, n_in): gradOutput.T @ input   (sum over the batch)
        - gradb, shape (n_out,):      gradOutput.sum(axis=0)

        Hint: sum over the batch, don't average: dividing by the batch size is the job
        of the criterion. Writing into the existing arrays (``self.gradW[...] = ...``)
        saves a new array per call; the training loop fetches ``getGradParameters()``
        after every backward, so new arrays work too.
        """
        raise NotImplementedError("write Linear.accGradParameters (see its docstring)")

    def zeroGradParameters(self):
        self.gradW.fill(0)
        self.gradb.fill(0)

    def getParameters(self):
        return [self.W, self.b]

    def getGradParameters(self):
        return [self.gradW, self.gradb]

    def __repr__(self):
        n_out, n_in = self.W.shape
        return f"Linear {n_in} -> {n_out}"


class SoftMax(Module):
    """Softmax over the features (axis 1) of a (batch, features) input."""

    def updateOutput(self, input):
        """Forward pass.

        Inputs:
        - input: array of shape (batch, n_feats).

        Returns:
        - output: array of shape (batch, n_feats), every row sums to 1; store it in
          ``self.output``.

        Formula: output[n, i] = exp(x[n, i]) / sum_j exp(x[n, j]).

        Cache: the output itself (``self.output``) is all the backward pass needs.

        Hint: softmax is invariant to subtracting a constant from a row; subtract the
        row max before exponentiating so that ``np.exp`` cannot overflow.
        """
        raise NotImplementedError("write SoftMax.updateOutput (see its docstring)")
        return self.output

    def updateGradInput(self, input, gradOutput):
        """Gradient with respect to the input.

        Inputs:
        - input, gradOutput: arrays of shape (batch, n_feats).

        Returns:
        - gradInput: array of shape (batch, n_feats); store it in ``self.gradInput``.

        Formula, with p = softmax(input) and g = gradOutput (Jacobian
        dp_j/dx_i = p_j (delta_ij - p_i)):
            gradInput[n, i] = p[n, i] * (g[n, i] - sum_j g[n, j] * p[n, j])

        Hint: never build the (n_feats, n_feats) Jacobian; use ``keepdims=True`` for
        the row sum so it broadcasts.
        """
        raise NotImplementedError("write SoftMax.updateGradInput (see its docstring)")
        return self.gradInput

    def __repr__(self):
        return "SoftMax"


class LogSoftMax(Module):
    """Log-softmax over the features (axis 1) of a (batch, features) input."""

    def updateOutput(self, input):
        """Forward pass.

        Inputs:
        - input: array of shape (batch, n_feats).

        Returns:
        - output: array of shape (batch, n_feats); store it in ``self.output``.

        Formula: output[n, i] = x[n, i] - log(sum_j exp(x[n, j])).

        Cache: the output; softmax(input) = exp(self.output) in the backward pass.

        Hint: subtract the row max m first: log-sum-exp(x) = m + log(sum_j exp(x_j - m)).
        Computing log(softmax(x)) instead gives -inf when a probability underflows.
        """
        raise NotImplementedError("write LogSoftMax.updateOutput (see its docstring)")
        return self.output

    def updateGradInput(self, input, gradOutput):
        """Gradient with respect to the input.

        Inputs:
        - input, gradOutput: arrays of shape (batch, n_feats).

        Returns:
        - gradInput: array of shape (batch, n_feats); store it in ``self.gradInput``.

        Formula, with p = softmax(input) and g = gradOutput
        (d out_j / d x_i = delta_ij - p_i):
            gradInput[n, i] = g[n, i] - p[n, i] * sum_j g[n, j]
        """
        raise NotImplementedError("write LogSoftMax.updateGradInput (see its docstring)")
        return self.gradInput

    def __repr__(self):
        return "LogSoftMax"


class BatchNormalization(Module):
    """Batch normalisation of a (batch, features) input, without the affine part
    (follow it with ``ChannelwiseScaling`` for that).

    ``alpha`` is the weight of the old value in the moving averages:
    moving = moving * alpha + batch_statistic * (1 - alpha).
    """

    EPS = 1e-3

    def __init__(self, alpha=0.0):
        super().__init__()
        self.alpha = alpha
        self.moving_mean = None
        self.moving_variance = None

    def updateOutput(self, input):
        """Forward pass.

        Inputs:
        - input: array of shape (batch, n_feats).

        Returns:
        - output: array of shape (batch, n_feats); store it in ``self.output``.

        Training mode: with the batch statistics over axis 0
            mean = input.mean(0),  var = input.var(0)   (biased: divide by batch)
            output = (input - mean) / sqrt(var + EPS)
        then update the moving statistics with the biased batch variance:
            moving_mean     = moving_mean * alpha     + mean * (1 - alpha)
            moving_variance = moving_variance * alpha + var  * (1 - alpha)
        If the moving statistics are still ``None``, start from zeros (mean) and ones
        (variance), of shape (n_feats,), before the first update.

        Evaluation mode: normalise with ``moving_mean`` and ``moving_variance`` instead
        (zeros and ones if they are still ``None``); do not update them.

        Cache: the normalised input and 1 / sqrt(var + EPS) for the backward pass.
        """
        raise NotImplementedError("write BatchNormalization.updateOutput (see its docstring)")
        return self.output

    def updateGradInput(self, input, gradOutput):
        """Gradient with respect to the input.

        Inputs:
        - input, gradOutput: arrays of shape (batch, n_feats).

        Returns:
        - gradInput: array of shape (batch, n_feats); store it in ``self.gradInput``.

        Training mode: the batch mean and variance depend on the input too. With
        xhat = the normalised input and g = gradOutput (means over the batch axis):
            gradInput = (g - g.mean(0) - xhat * (g * xhat).mean(0)) / sqrt(var + EPS)
        Evaluation mode: the statistics are constants, so
            gradInput = g / sqrt(moving_variance + EPS)

        Hint: derive the training formula on paper through the computational graph
        x -> (mean, var) -> xhat; both paths from x to xhat contribute.
        """
        raise NotImplementedError("write BatchNormalization.updateGradInput (see its docstring)")
        return self.gradInput

    def __repr__(self):
        return "BatchNormalization"


class ChannelwiseScaling(Module):
    """Per-feature affine transform: y = gamma * x + beta.

    Usually placed after ``BatchNormalization`` to restore the representational power
    of the layer. Parameters ``gamma`` and ``beta`` of shape (n_out,), gradients
    ``gradGamma`` and ``gradBeta``.
    """

    def __init__(self, n_out):
        super().__init__()
        val = 1.0 / np.sqrt(n_out)
        self.gamma = np.random.uniform(-val, val, size=n_out)
        self.beta = np.random.uniform(-val, val, size=n_out)
        self.gradGamma = np.zeros_like(self.gamma)
        self.gradBeta = np.zeros_like(self.beta)

    def updateOutput(self, input):
        """Forward pass.

        Inputs:
        - input: array of shape (batch, n_out).

        Returns:
        - output: array of shape (batch, n_out); store it in ``self.output``.

        Formula: output[n, j] = gamma[j] * input[n, j] + beta[j].

        Cache: nothing.
        """
        raise NotImplementedError("write ChannelwiseScaling.updateOutput (see its docstring)")
        return self.output

    def updateGradInput(self, input, gradOutput):
        """Gradient with respect to the input.

        Inputs:
        - input, gradOutput: arrays of shape (batch, n_out).

        Returns:
        - gradInput: array of shape (batch, n_out); store it in ``self.gradInput``.

        Formula: gradInput = gradOutput * gamma   (broadcast over the batch).
        """
        raise NotImplementedError("write ChannelwiseScaling.updateGradInput (see its docstring)")
        return self.gradInput

    def accGradParameters(self, input, gradOutput):
        """Gradients with respect to the parameters.

        Inputs:
        - input, gradOutput: arrays of shape (batch, n_out).

        Sets:
        - gradGamma, shape (n_out,): sum over the batch of gradOutput * input
        - gradBeta, shape (n_out,):  sum over the batch of gradOutput

        Hint: as in ``Linear``, sum over the batch (no division) and write into the
        existing arrays.
        """
        raise NotImplementedError("write ChannelwiseScaling.accGradParameters (see its docstring)")

    def zeroGradParameters(self):
        self.gradGamma.fill(0)
        self.gradBeta.fill(0)

    def getParameters(self):
        return [self.gamma, self.beta]

    def getGradParameters(self):
        return [self.gradGamma, self.gradBeta]

    def __repr__(self):
        return "ChannelwiseScaling"


class Dropout(Module):
    """Inverted dropout: in training, zero each input with probability ``p`` and scale
    the survivors by 1 / (1 - p), so that evaluation mode is the identity.
    """

    def __init__(self, p=0.5):
        super().__init__()
        self.p = p
        self.mask = None

    def updateOutput(self, input):
        """Forward pass.

        Inputs:
        - input: array of any shape.

        Returns:
        - output: array of the same shape; store it in ``self.output``.

        Training mode: draw a fresh mask on every call, mask ~ Bernoulli(1 - p) (1 =
        keep), and output = input * mask / (1 - p).
        Evaluation mode: output = input.

        Cache: the mask in ``self.mask``; the backward pass must reuse it.

        Hint: ``np.random.binomial(1, 1 - p, size=input.shape)``, or the faster
        ``np.random.random_sample(input.shape) < 1 - p``; cast the mask to ``input.dtype``
        so float32 inputs stay float32.
        """
        raise NotImplementedError("write Dropout.updateOutput (see its docstring)")
        return self.output

    def updateGradInput(self, input, gradOutput):
        """Gradient with respect to the input.

        Inputs:
        - input, gradOutput: arrays of the same shape.

        Returns:
        - gradInput: array of the same shape; store it in ``self.gradInput``.

        Training mode: gradInput = gradOutput * mask / (1 - p), with the mask of the
        last forward pass (do not draw a new one).
        Evaluation mode: gradInput = gradOutput.
        """
        raise NotImplementedError("write Dropout.updateGradInput (see its docstring)")
        return self.gradInput

    def __repr__(self):
        return "Dropout"


class ReLU(Module):
    """Rectified linear unit: y = max(x, 0), elementwise."""

    def updateOutput(self, input):
        """Forward pass.

        Inputs:
        - input: array of any shape.

        Returns:
        - output: array of the same shape; store it in ``self.output``.

        Formula: output = max(input, 0).

        Hint: ``np.maximum`` (elementwise), not ``np.max`` (a reduction).
        """
        raise NotImplementedError("write ReLU.updateOutput (see its docstring)")
        return self.output

    def updateGradInput(self, input, gradOutput):
        """Gradient with respect to the input.

        Inputs:
        - input, gradOutput: arrays of the same shape.

        Returns:
        - gradInput: array of the same shape; store it in ``self.gradInput``.

        Formula: gradInput = gradOutput where input > 0, else 0 (0 at input == 0, as
        in PyTorch).
        """
        raise NotImplementedError("write ReLU.updateGradInput (see its docstring)")
        return self.gradInput

    def __repr__(self):
        return "ReLU"


class LeakyReLU(Module):
    """Leaky ReLU: y = x for x > 0, slope * x otherwise."""

    def __init__(self, slope=0.03):
        super().__init__()
        self.slope = slope

    def updateOutput(self, input):
        """Forward pass.

        Inputs:
        - input: array of any shape.

        Returns:
        - output: array of the same shape; store it in ``self.output``.

        Formula: output = input where input > 0, else slope * input.
        """
        raise NotImplementedError("write LeakyReLU.updateOutput (see its docstring)")
        return self.output

    def updateGradInput(self, input, gradOutput):
        """Gradient with respect to the input.

        Inputs:
        - input, gradOutput: arrays of the same shape.

        Returns:
        - gradInput: array of the same shape; store it in ``self.gradInput``.

        Formula: gradInput = gradOutput where input > 0, else slope * gradOutput
        (slope at input == 0, as in PyTorch).
        """
        raise NotImplementedError("write LeakyReLU.updateGradInput (see its docstring)")
        return self.gradInput

    def __repr__(self):
        return "LeakyReLU"


class ELU(Module):
    """Exponential linear unit: y = x for x > 0, alpha * (exp(x) - 1) otherwise."""

    def __init__(self, alpha=1.0):
        super().__init__()
        self.alpha = alpha

    def updateOutput(self, input):
        """Forward pass.

        Inputs:
        - input: array of any shape.

        Returns:
        - output: array of the same shape; store it in ``self.output``.

        Formula: output = input where input > 0, else alpha * (exp(input) - 1).

        Hint: ``np.where`` evaluates both branches, so exp of a large positive input
        overflows (with a warning) even though it is not selected. Exponentiate
        ``np.minimum(input, 0)`` instead, and use ``np.expm1`` for exp(x) - 1.
        """
        raise NotImplementedError("write ELU.updateOutput (see its docstring)")
        return self.output

    def updateGradInput(self, input, gradOutput):
        """Gradient with respect to the input.

        Inputs:
        - input, gradOutput: arrays of the same shape.

        Returns:
        - gradInput: array of the same shape; store it in ``self.gradInput``.

        Formula: gradInput = gradOutput where input > 0,
        else gradOutput * alpha * exp(input).
        """
        raise NotImplementedError("write ELU.updateGradInput (see its docstring)")
        return self.gradInput

    def __repr__(self):
        return "ELU"


class SoftPlus(Module):
    """SoftPlus: y = log(1 + exp(x)), a smooth approximation of ReLU."""

    def updateOutput(self, input):
        """Forward pass.

        Inputs:
        - input: array of any shape.

        Returns:
        - output: array of the same shape; store it in ``self.output``.

        Formula: output = log(1 + exp(input)).

        Hint: exp overflows for large inputs; ``np.logaddexp(0, x)`` computes
        log(exp(0) + exp(x)) stably.
        """
        raise NotImplementedError("write SoftPlus.updateOutput (see its docstring)")
        return self.output

    def updateGradInput(self, input, gradOutput):
        """Gradient with respect to the input.

        Inputs:
        - input, gradOutput: arrays of the same shape.

        Returns:
        - gradInput: array of the same shape; store it in ``self.gradInput``.

        Formula: gradInput = gradOutput * sigmoid(input),
        sigmoid(x) = 1 / (1 + exp(-x)).

        Hint: 1 / (1 + exp(-x)) overflows for very negative x; note that
        sigmoid(x) = exp(-log(1 + exp(-x))) = exp(-logaddexp(0, -x)).
        """
        raise NotImplementedError("write SoftPlus.updateGradInput (see its docstring)")
        return self.gradInput

    def __repr__(self):
        return "SoftPlus"


class MSECriterion(Criterion):
    """Mean squared error, summed over the features and averaged over the batch."""

    def updateOutput(self, input, target):
        """Loss.

        Inputs:
        - input, target: arrays of shape (batch, n_feats).

        Returns:
        - output: scalar; store it in ``self.output``.

        Formula: loss = sum((input - target) ** 2) / batch.
        """
        raise NotImplementedError("write MSECriterion.updateOutput (see its docstring)")
        return self.output

    def updateGradInput(self, input, target):
        """Gradient of the loss with respect to the input.

        Inputs:
        - input, target: arrays of shape (batch, n_feats).

        Returns:
        - gradInput: array of shape (batch, n_feats); store it in ``self.gradInput``.

        Formula: gradInput = 2 * (input - target) / batch.

        Hint: criterions are the only place where you divide by the batch size.
        """
        raise NotImplementedError("write MSECriterion.updateGradInput (see its docstring)")
        return self.gradInput

    def __repr__(self):
        return "MSECriterion"


class ClassNLLCriterionUnstable(Criterion):
    """Negative log-likelihood of probabilities (e.g. the output of ``SoftMax``) and
    one-hot targets. "Unstable" because log and division are applied to probabilities
    that may underflow to 0; the input is clipped to [EPS, 1 - EPS] to avoid inf/nan.
    """

    EPS = 1e-15

    def updateOutput(self, input, target):
        """Loss.

        Inputs:
        - input: probabilities, shape (batch, n_classes).
        - target: one-hot labels, shape (batch, n_classes).

        Returns:
        - output: scalar; store it in ``self.output``.

        Formula, with p = clip(input, EPS, 1 - EPS):
            loss = -sum(target * log(p)) / batch
        """
        raise NotImplementedError(
            "write ClassNLLCriterionUnstable.updateOutput (see its docstring)")
        return self.output

    def updateGradInput(self, input, target):
        """Gradient of the loss with respect to the input.

        Inputs:
        - input: probabilities, shape (batch, n_classes).
        - target: one-hot labels, shape (batch, n_classes).

        Returns:
        - gradInput: array of shape (batch, n_classes); store it in ``self.gradInput``.

        Formula, with p = clip(input, EPS, 1 - EPS):
            gradInput = -target / p / batch

        Hint: clip exactly as in the forward pass so that you never divide by zero.
        """
        raise NotImplementedError(
            "write ClassNLLCriterionUnstable.updateGradInput (see its docstring)")
        return self.gradInput

    def __repr__(self):
        return "ClassNLLCriterionUnstable"


class ClassNLLCriterion(Criterion):
    """Negative log-likelihood of log-probabilities (e.g. the output of ``LogSoftMax``)
    and one-hot targets. Stable: no log and no division is needed.
    """

    def updateOutput(self, input, target):
        """Loss.

        Inputs:
        - input: log-probabilities, shape (batch, n_classes).
        - target: one-hot labels, shape (batch, n_classes).

        Returns:
        - output: scalar; store it in ``self.output``.

        Formula: loss = -sum(target * input) / batch.
        """
        raise NotImplementedError("write ClassNLLCriterion.updateOutput (see its docstring)")
        return self.output

    def updateGradInput(self, input, target):
        """Gradient of the loss with respect to the input.

        Inputs:
        - input: log-probabilities, shape (batch, n_classes).
        - target: one-hot labels, shape (batch, n_classes).

        Returns:
        - gradInput: array of shape (batch, n_classes); store it in ``self.gradInput``.

        Formula: gradInput = -target / batch.
        """
        raise NotImplementedError("write ClassNLLCriterion.updateGradInput (see its docstring)")
        return self.gradInput

    def __repr__(self):
        return "ClassNLLCriterion"


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
        raise NotImplementedError("write Gelu.updateOutput (see its docstring)")
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
        raise NotImplementedError("write Gelu.updateGradInput (see its docstring)")
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
        raise NotImplementedError("write Conv2d._columns (see its docstring)")

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
        raise NotImplementedError("write Conv2d.updateOutput (see its docstring)")
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
        raise NotImplementedError("write Conv2d.updateGradInput (see its docstring)")
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
        raise NotImplementedError("write Conv2d.accGradParameters (see its docstring)")

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
        raise NotImplementedError("write MaxPool2d.updateOutput (see its docstring)")
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
        raise NotImplementedError("write MaxPool2d.updateGradInput (see its docstring)")
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
        raise NotImplementedError("write AvgPool2d.updateOutput (see its docstring)")
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
        raise NotImplementedError("write AvgPool2d.updateGradInput (see its docstring)")
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
        raise NotImplementedError("write GlobalAvgPool2d.updateOutput (see its docstring)")
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
        raise NotImplementedError("write GlobalAvgPool2d.updateGradInput (see its docstring)")
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
        raise NotImplementedError("write GlobalMaxPool2d.updateOutput (see its docstring)")
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
        raise NotImplementedError("write GlobalMaxPool2d.updateGradInput (see its docstring)")
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
        raise NotImplementedError("write Flatten.updateOutput (see its docstring)")
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
        raise NotImplementedError("write Flatten.updateGradInput (see its docstring)")
        return self.gradInput

    def __repr__(self):
        return f"Flatten {self.start_dim}..{self.end_dim}"
