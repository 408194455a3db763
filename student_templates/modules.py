"""Neural network modules from scratch: your implementation.

Replace every ``raise NotImplementedError(...)`` with your code, following the docstring
above it. Check your work with ``nngrade check <this file>``.

Every layer is a ``Module`` with a forward pass (``updateOutput``) and a backward pass
(``updateGradInput`` for the gradient w.r.t. the input, ``accGradParameters`` for the
gradient w.r.t. the parameters). Losses are ``Criterion`` objects.

Conventions used throughout:

* Inputs are batches: the first axis is the batch axis.
* ``gradOutput`` is dLoss/dOutput and has the shape of ``self.output``; ``gradInput`` is
  dLoss/dInput and has the shape of ``input``.
* Layers never divide by the batch size; only criterions do (their loss is a batch mean).
* Vectorise over the batch: no Python loops over samples.
* Never modify ``input``, ``gradOutput`` or a criterion's ``target`` in place: the caller
  keeps them (``Sequential`` passes a module's output to the next module, and to its
  backward again); work on a copy or on new arrays.

Graded end to end: the MNIST check trains your network with your classes for 4 epochs,
at most 240 s of training on one core, and needs 97% test accuracy. When the time is up,
the accuracy reached so far counts: keep every layer vectorised (a Python loop over
channels or positions may be too slow).
"""

import numpy as np

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
        raise NotImplementedError("write Sequential.updateOutput (see its docstring)")
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
        raise NotImplementedError("write Sequential.backward (see its docstring)")
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


# ---------------------------------------------------------------------------------------
# Layers with parameters
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


# ---------------------------------------------------------------------------------------
# Softmax layers
# ---------------------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------------------
# Normalisation and regularisation
# ---------------------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------------------
# Activation functions
# ---------------------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------------------
# Criterions (losses)
# ---------------------------------------------------------------------------------------


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
# Optimizers
# ---------------------------------------------------------------------------------------


def sgd_momentum(variables, gradients, config, state):
    """SGD with momentum; updates the variables in place.

    Inputs:
    - variables: list (one entry per layer) of lists of parameter arrays, as returned
      by ``Sequential.getParameters()``.
    - gradients: the matching gradients, from ``Sequential.getGradParameters()``.
    - config: dict with ``learning_rate`` and ``momentum``.
    - state: dict kept between calls; ``state['accumulated_grads'][i]`` is the velocity
      of the i-th variable (counting through all layers in order).

    Formula, for every variable x with gradient g and velocity v:
        v = momentum * v + learning_rate * g
        x = x - v

    Hint: update both x and v in place (``x -= v``, ``np.add(..., out=v)``): the
    arrays belong to the layers and the state, and ``x = x - v`` would only rebind a
    local name.
    """
    state.setdefault("accumulated_grads", {})

    var_index = 0
    for current_layer_vars, current_layer_grads in zip(variables, gradients, strict=True):
        for current_var, current_grad in zip(current_layer_vars, current_layer_grads, strict=True):
            velocity = state["accumulated_grads"].setdefault(var_index, np.zeros_like(current_grad))
            raise NotImplementedError("write sgd_momentum (see its docstring)")
            var_index += 1


def adam_optimizer(variables, gradients, config, state):
    """Adam; updates the variables in place.

    Inputs:
    - variables: list (one entry per layer) of lists of parameter arrays, as returned
      by ``Sequential.getParameters()``.
    - gradients: the matching gradients, from ``Sequential.getGradParameters()``.
    - config: dict with ``learning_rate``, ``beta1``, ``beta2`` and ``epsilon``.
    - state: dict kept between calls: ``state['m'][i]`` and ``state['v'][i]`` are the
      first and second moments of the i-th variable, ``state['t']`` the step count
      (incremented once per call, so t = 1 on the first step).

    Formula, for every variable x with gradient g:
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g ** 2
        lr_t = learning_rate * sqrt(1 - beta2 ** t) / (1 - beta1 ** t)
        x = x - lr_t * m / (sqrt(v) + epsilon)

    Hint: update m, v and x in place, as in ``sgd_momentum``; lr_t folds the bias
    correction of both moments into the learning rate.
    """
    state.setdefault("m", {})
    state.setdefault("v", {})
    state.setdefault("t", 0)
    state["t"] += 1
    for k in ["learning_rate", "beta1", "beta2", "epsilon"]:
        assert k in config, config.keys()

    var_index = 0
    for current_layer_vars, current_layer_grads in zip(variables, gradients, strict=True):
        for current_var, current_grad in zip(current_layer_vars, current_layer_grads, strict=True):
            if var_index not in state["m"]:  # the first step: both moments start at zero
                state["m"][var_index] = np.zeros_like(current_grad)
                state["v"][var_index] = np.zeros_like(current_grad)
            var_first_moment = state["m"][var_index]
            var_second_moment = state["v"][var_index]
            raise NotImplementedError("write adam_optimizer (see its docstring)")
            var_index += 1


# ---------------------------------------------------------------------------------------
# Convolutional layers
# ---------------------------------------------------------------------------------------


class Conv2d(Module):
    """2-d convolution (really a cross-correlation, like ``torch.nn.Conv2d``) with
    stride 1 and zero padding ``kernel_size // 2``, so the output has the same height
    and width as the input. The kernel size must be odd.

    Parameters: ``W`` of shape (out_channels, in_channels, k, k) and ``b`` of shape
    (out_channels,), uniform in [-1/sqrt(in_channels), 1/sqrt(in_channels)]; their
    gradients ``gradW`` and ``gradb``.
    """

    def __init__(self, in_channels, out_channels, kernel_size):
        super().__init__()
        assert kernel_size % 2 == 1, kernel_size
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = kernel_size

        stdv = 1.0 / np.sqrt(in_channels)
        self.W = np.random.uniform(
            -stdv, stdv, size=(out_channels, in_channels, kernel_size, kernel_size)
        )
        self.b = np.random.uniform(-stdv, stdv, size=(out_channels,))
        self.gradW = np.zeros_like(self.W)
        self.gradb = np.zeros_like(self.b)

    def updateOutput(self, input):
        """Forward pass.

        Inputs:
        - input: array of shape (batch, in_channels, h, w).

        Returns:
        - output: array of shape (batch, out_channels, h, w); store it in
          ``self.output``.

        Formula, with k = kernel_size, p = k // 2 and xp = input zero-padded by p on
        both sides of h and w:
            output[n, o, y, x] = b[o] + sum_{c, i, j} xp[n, c, y + i, x + j] * W[o, c, i, j]

        Cache: nothing; the backward pass receives ``input`` again.

        Hint: PyTorch's Conv2d is a cross-correlation: don't flip the kernel. Pad with
        ``np.pad``, take all k x k windows at once with
        ``np.lib.stride_tricks.sliding_window_view(xp, (k, k), axis=(2, 3))`` (shape
        (batch, in, h, w, k, k)) and contract (c, i, j) with ``np.tensordot``; no
        Python loop over the batch or over positions.
        """
        raise NotImplementedError("write Conv2d.updateOutput (see its docstring)")
        return self.output

    def updateGradInput(self, input, gradOutput):
        """Gradient with respect to the input.

        Inputs:
        - input: array of shape (batch, in_channels, h, w).
        - gradOutput: array of shape (batch, out_channels, h, w).

        Returns:
        - gradInput: array of shape (batch, in_channels, h, w); store it in
          ``self.gradInput``.

        Formula: the "full" correlation of gradOutput with the flipped kernel. With
        gp = gradOutput zero-padded by p = k // 2 and Wf = W[:, :, ::-1, ::-1]:
            gradInput[n, c, y, x] = sum_{o, i, j} gp[n, o, y + i, x + j] * Wf[o, c, i, j]

        Hint: it is the forward computation again, applied to the padded gradOutput,
        with the kernel flipped spatially and the channel axes swapped (contract over
        the output channels).
        """
        raise NotImplementedError("write Conv2d.updateGradInput (see its docstring)")
        return self.gradInput

    def accGradParameters(self, input, gradOutput):
        """Gradients with respect to the parameters.

        Inputs:
        - input: array of shape (batch, in_channels, h, w).
        - gradOutput: array of shape (batch, out_channels, h, w).

        Sets, with xp the zero-padded input as in the forward pass:
        - gradW[o, c, i, j] = sum_{n, y, x} gradOutput[n, o, y, x] * xp[n, c, y + i, x + j]
        - gradb[o] = sum_{n, y, x} gradOutput[n, o, y, x]

        Hint: reuse the windows of the forward pass and contract over (batch, y, x).
        Write into the existing arrays, and don't divide by the batch size.
        """
        raise NotImplementedError("write Conv2d.accGradParameters (see its docstring)")

    def zeroGradParameters(self):
        self.gradW.fill(0)
        self.gradb.fill(0)

    def getParameters(self):
        return [self.W, self.b]

    def getGradParameters(self):
        return [self.gradW, self.gradb]

    def __repr__(self):
        return (
            f"Conv2d {self.in_channels} -> {self.out_channels}, "
            f"kernel {self.kernel_size}x{self.kernel_size}"
        )


class MaxPool2d(Module):
    """Max pooling over non-overlapping k x k windows (stride = kernel_size). The
    height and width of the input must be divisible by the kernel size.
    """

    def __init__(self, kernel_size):
        super().__init__()
        self.kernel_size = kernel_size

    def updateOutput(self, input):
        """Forward pass.

        Inputs:
        - input: array of shape (batch, channels, h, w), h and w divisible by k.

        Returns:
        - output: array of shape (batch, channels, h // k, w // k); store it in
          ``self.output``.

        Formula: output[n, c, y, x] = max_{i, j < k} input[n, c, k*y + i, k*x + j].

        Cache: the position of the maximum inside each window (e.g. the argmax over
        the flattened k*k window) for the backward pass.

        Hint: ``input.reshape(batch, channels, h // k, k, w // k, k)`` puts every
        window on axes 3 and 5; transpose them next to each other and flatten them to
        one axis of size k*k, then ``argmax`` over it.
        """
        raise NotImplementedError("write MaxPool2d.updateOutput (see its docstring)")
        return self.output

    def updateGradInput(self, input, gradOutput):
        """Gradient with respect to the input.

        Inputs:
        - input: array of shape (batch, channels, h, w).
        - gradOutput: array of shape (batch, channels, h // k, w // k).

        Returns:
        - gradInput: array of shape (batch, channels, h, w); store it in
          ``self.gradInput``.

        Formula: each window's gradOutput goes to the position of its maximum; every
        other position gets 0. If a window has several equal maxima, only the first in
        row-major order gets the gradient (as in PyTorch).

        Hint: ``np.argmax`` returns the first maximum, so a one-hot mask built from the
        cached argmax handles ties; ``input == max`` would select all tied positions.
        Undo the reshape/transpose of the forward pass to get back to (h, w).
        """
        raise NotImplementedError("write MaxPool2d.updateGradInput (see its docstring)")
        return self.gradInput

    def __repr__(self):
        return f"MaxPool2d, kernel {self.kernel_size}x{self.kernel_size}"


class Flatten(Module):
    """Flatten all axes but the batch axis: (batch, ...) -> (batch, features)."""

    def updateOutput(self, input):
        """Forward pass.

        Inputs:
        - input: array of shape (batch, d1, d2, ...).

        Returns:
        - output: array of shape (batch, d1 * d2 * ...); store it in ``self.output``.

        Hint: keep the batch axis explicit, ``input.reshape(input.shape[0], -1)``; the
        backward pass only has to undo the reshape.
        """
        raise NotImplementedError("write Flatten.updateOutput (see its docstring)")
        return self.output

    def updateGradInput(self, input, gradOutput):
        """Gradient with respect to the input.

        Inputs:
        - input: array of shape (batch, d1, d2, ...).
        - gradOutput: array of shape (batch, d1 * d2 * ...).

        Returns:
        - gradInput: array of shape (batch, d1, d2, ...); store it in
          ``self.gradInput``.

        Formula: gradInput = gradOutput reshaped to ``input.shape``.
        """
        raise NotImplementedError("write Flatten.updateGradInput (see its docstring)")
        return self.gradInput

    def __repr__(self):
        return "Flatten"
