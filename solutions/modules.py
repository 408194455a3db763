"""Reference solution: neural-network building blocks in NumPy (Torch7-style API).

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

The code inside the marked solution regions is what students write; the student
template replaces each region with ``raise NotImplementedError``.
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
        # BEGIN SOLUTION
        self.output = input
        for module in self.modules:
            self.output = module.forward(self.output)
        # END SOLUTION
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
        # BEGIN SOLUTION
        grad = gradOutput
        for i in reversed(range(len(self.modules))):
            module_input = self.modules[i - 1].output if i > 0 else input
            grad = self.modules[i].backward(module_input, grad)
        self.gradInput = grad
        # END SOLUTION
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
        # BEGIN SOLUTION
        self.output = input @ self.W.T
        self.output += self.b  # in place: no second (batch, n_out) array
        # END SOLUTION
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
        # BEGIN SOLUTION
        self.gradInput = gradOutput @ self.W
        # END SOLUTION
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
        # BEGIN SOLUTION
        np.matmul(gradOutput.T, input, out=self.gradW)  # no temporary (n_out, n_in) array
        self.gradb[...] = gradOutput.sum(axis=0)
        # END SOLUTION

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
        # BEGIN SOLUTION
        self.output = input * self.gamma + self.beta
        # END SOLUTION
        return self.output

    def updateGradInput(self, input, gradOutput):
        """Gradient with respect to the input.

        Inputs:
        - input, gradOutput: arrays of shape (batch, n_out).

        Returns:
        - gradInput: array of shape (batch, n_out); store it in ``self.gradInput``.

        Formula: gradInput = gradOutput * gamma   (broadcast over the batch).
        """
        # BEGIN SOLUTION
        self.gradInput = gradOutput * self.gamma
        # END SOLUTION
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
        # BEGIN SOLUTION
        self.gradGamma[...] = np.sum(gradOutput * input, axis=0)
        self.gradBeta[...] = np.sum(gradOutput, axis=0)
        # END SOLUTION

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
        # BEGIN SOLUTION
        shifted = input - input.max(axis=1, keepdims=True)
        exps = np.exp(shifted)
        self.output = exps / exps.sum(axis=1, keepdims=True)
        # END SOLUTION
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
        # BEGIN SOLUTION
        p = self.output
        self.gradInput = p * (gradOutput - np.sum(gradOutput * p, axis=1, keepdims=True))
        # END SOLUTION
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
        # BEGIN SOLUTION
        shifted = input - input.max(axis=1, keepdims=True)
        self.output = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        # END SOLUTION
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
        # BEGIN SOLUTION
        p = np.exp(self.output)
        self.gradInput = gradOutput - p * gradOutput.sum(axis=1, keepdims=True)
        # END SOLUTION
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
        # BEGIN SOLUTION
        n_feats = input.shape[1]
        moving_mean = self.moving_mean
        if moving_mean is None:
            moving_mean = np.zeros(n_feats, dtype=input.dtype)
        moving_variance = self.moving_variance
        if moving_variance is None:
            moving_variance = np.ones(n_feats, dtype=input.dtype)
        if self.training:
            mean = input.mean(axis=0)
            centered = input - mean
            # The biased variance, the mean of centered ** 2: einsum squares and sums in one
            # pass where input.var(axis=0) takes several.
            var = np.einsum("ij,ij->j", centered, centered) / len(input)
            self.moving_mean = moving_mean * self.alpha + mean * (1 - self.alpha)
            self.moving_variance = moving_variance * self.alpha + var * (1 - self.alpha)
        else:
            mean, var = moving_mean, moving_variance
            centered = input - mean
        self.inv_std = 1.0 / np.sqrt(var + self.EPS)
        self.normalized = centered * self.inv_std
        self.output = self.normalized
        # END SOLUTION
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
        # BEGIN SOLUTION
        if self.training:
            xhat = self.normalized
            centered = gradOutput - gradOutput.mean(axis=0)
            self.gradInput = self.inv_std * (centered - xhat * (gradOutput * xhat).mean(axis=0))
        else:
            self.gradInput = gradOutput * self.inv_std
        # END SOLUTION
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
        # BEGIN SOLUTION
        if self.training:
            # One float32 uniform per value from a Generator: twice as fast as
            # np.random.random_sample, which is several times faster than binomial. Seeded
            # from the global RNG once, so np.random.seed still makes the masks reproducible.
            if getattr(self, "_generator", None) is None:
                self._generator = np.random.default_rng(np.random.randint(2**31))
            keep = self._generator.random(input.shape, dtype=np.float32) < 1 - self.p
            self.mask = keep.astype(input.dtype)
            self.output = input * self.mask / (1 - self.p)
        else:
            self.output = input
        # END SOLUTION
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
        # BEGIN SOLUTION
        if self.training:
            self.gradInput = gradOutput * self.mask / (1 - self.p)
        else:
            self.gradInput = gradOutput
        # END SOLUTION
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
        # BEGIN SOLUTION
        self.output = np.maximum(input, 0)
        # END SOLUTION
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
        # BEGIN SOLUTION
        self.gradInput = gradOutput * (input > 0)
        # END SOLUTION
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
        # BEGIN SOLUTION
        self.output = np.where(input > 0, input, self.slope * input)
        # END SOLUTION
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
        # BEGIN SOLUTION
        self.gradInput = np.where(input > 0, gradOutput, self.slope * gradOutput)
        # END SOLUTION
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
        # BEGIN SOLUTION
        negative_part = self.alpha * np.expm1(np.minimum(input, 0))
        self.output = np.where(input > 0, input, negative_part)
        # END SOLUTION
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
        # BEGIN SOLUTION
        slope = np.where(input > 0, 1, self.alpha * np.exp(np.minimum(input, 0)))
        self.gradInput = gradOutput * slope
        # END SOLUTION
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
        # BEGIN SOLUTION
        self.output = np.logaddexp(0, input)
        # END SOLUTION
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
        # BEGIN SOLUTION
        sigmoid = np.exp(-np.logaddexp(0, -input))
        self.gradInput = gradOutput * sigmoid
        # END SOLUTION
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
        # BEGIN SOLUTION
        self.output = np.sum((input - target) ** 2) / input.shape[0]
        # END SOLUTION
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
        # BEGIN SOLUTION
        self.gradInput = 2 * (input - target) / input.shape[0]
        # END SOLUTION
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
        # BEGIN SOLUTION
        clipped = np.clip(input, self.EPS, 1 - self.EPS)
        self.output = -np.sum(target * np.log(clipped)) / input.shape[0]
        # END SOLUTION
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
        # BEGIN SOLUTION
        clipped = np.clip(input, self.EPS, 1 - self.EPS)
        self.gradInput = -target / clipped / input.shape[0]
        # END SOLUTION
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
        # BEGIN SOLUTION
        self.output = -np.sum(target * input) / input.shape[0]
        # END SOLUTION
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
        # BEGIN SOLUTION
        self.gradInput = -target / input.shape[0]
        # END SOLUTION
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
            # BEGIN SOLUTION
            np.add(
                config["momentum"] * velocity,
                config["learning_rate"] * current_grad,
                out=velocity,
            )
            current_var -= velocity
            # END SOLUTION
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
            # BEGIN SOLUTION
            beta1, beta2, t = config["beta1"], config["beta2"], state["t"]
            lr_t = config["learning_rate"] * np.sqrt(1 - beta2**t) / (1 - beta1**t)
            lr_t = float(lr_t)  # a NumPy float64 scalar would make float32 steps float64
            # Every pass writes into one buffer, allocated once. m += (1 - beta1) * (g - m) is
            # beta1 * m + (1 - beta1) * g, and likewise for v and g ** 2.
            step = np.subtract(current_grad, var_first_moment)
            step *= 1 - beta1
            var_first_moment += step
            np.multiply(current_grad, current_grad, out=step)
            step -= var_second_moment
            step *= 1 - beta2
            var_second_moment += step
            # step = lr_t * m / (sqrt(v) + epsilon)
            np.sqrt(var_second_moment, out=step)
            step += config["epsilon"]
            np.divide(var_first_moment, step, out=step)
            step *= lr_t
            current_var -= step
            # END SOLUTION
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
        # BEGIN SOLUTION
        pad = self.kernel_size // 2
        k = self.kernel_size
        batch, _, h, w = input.shape
        rows = k * k * self.in_channels
        # im2col: cols (k*k*in + 1, n*h*w), every output pixel's window in (i, j, c) order over
        # a last row of ones. It is copied along whichever axis gives the longer contiguous
        # runs: an offset's row of w pixels (channel-major, for few input channels, the first
        # convolution) or a window row's k * in values (channels-last; cols is then the
        # transpose of a (n*h*w, k*k*in + 1) array). The padded input and cols are scratch
        # arrays kept between passes (new arrays this size cost the kernel a page fault per
        # 4 KiB on every pass): their padding and ones are written once, the inside each time.
        channel_major = k * self.in_channels < w
        padded_shape = ((self.in_channels, batch, h + 2 * pad, w + 2 * pad) if channel_major
                        else (batch, h + 2 * pad, w + 2 * pad, self.in_channels))
        scratch = getattr(self, "_scratch", None)
        if scratch is None or scratch[0].shape != padded_shape or scratch[0].dtype != input.dtype:
            cols_shape = (rows + 1, batch * h * w) if channel_major else (batch * h * w, rows + 1)
            scratch = self._scratch = (np.zeros(padded_shape, input.dtype),
                                       np.ones(cols_shape, input.dtype))
        padded, cols = scratch
        view = np.lib.stride_tricks.sliding_window_view
        if channel_major:
            padded[:, :, pad:pad + h, pad:pad + w] = input.transpose(1, 0, 2, 3)
            windows = view(padded, (k, k), axis=(2, 3)).transpose(4, 5, 0, 1, 2, 3)
        else:
            padded[:, pad:pad + h, pad:pad + w] = input.transpose(0, 2, 3, 1)
            windows = view(padded, (k, k), axis=(1, 2)).transpose(4, 5, 3, 0, 1, 2)
            cols = cols.T
        # windows is (k, k, in, n, h, w) either way; reshaping cols' rows splits its two axes,
        # so it stays a view of cols.
        np.copyto(cols[:-1].reshape(windows.shape), windows)
        self._cols = (input, cols)  # for accGradParameters
        # One product (n*h*w, k*k*in + 1) @ (k*k*in + 1, out), whose last row of weights is the
        # bias (against the ones), gives the output channels-last, (n, h, w, out), viewed as
        # (n, out, h, w): ReLU and MaxPool2d keep that memory order, so the next convolution
        # copies its channels-last windows from contiguous memory.
        weights = self.W.transpose(0, 2, 3, 1).reshape(self.out_channels, rows)  # (i, j, c)
        out = cols.T @ np.concatenate([weights, self.b[:, None]], axis=1).T
        self.output = out.reshape(batch, h, w, self.out_channels).transpose(0, 3, 1, 2)
        # END SOLUTION
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
        # BEGIN SOLUTION
        pad = self.kernel_size // 2
        k = self.kernel_size
        # Output pixel (y, x) read input (y + i - pad, x + j - pad) through W[..., i, j], so it
        # sends gradOutput @ W[:, :, i, j] back there: one matrix product and one shifted add
        # per offset (i, j). Swapping the channel axes and shifting by +i is the "flipped
        # kernel" of the formula above. Both run on a flat grid of pixels, channels-last: each
        # image as (h + pad) rows of (w + pad) pixels, where the pad pixels after a row are
        # also the left padding of the next row and the pad rows after an image the top padding
        # of the next. Offset (i, j) is then one shift of the whole grid by i * row + j pixels:
        # one contiguous add, and no (n, h, w, k, k, in) array of all contributions.
        batch, _, h, w = gradOutput.shape
        row = w + pad
        size = batch * (h + pad) * row
        lead = pad * row + pad  # the top and left padding of the first image
        # A scratch array, as in the forward pass, keyed by its whole layout: another
        # (batch, h, w) with the same size would find its old values in the padding.
        shape = (batch, h + pad, row, self.out_channels)
        grid = getattr(self, "_grad_grid", None)
        if grid is None or grid.shape != shape or grid.dtype != gradOutput.dtype:
            grid = self._grad_grid = np.zeros(shape, gradOutput.dtype)
        grid[:, :h, :w] = gradOutput.transpose(0, 2, 3, 1)
        grad = grid.reshape(size, self.out_channels)
        flat = np.zeros((size + 2 * lead, self.in_channels), grad.dtype)
        for i in range(k):
            for j in range(k):
                flat[i * row + j:i * row + j + size] += grad @ self.W[:, :, i, j]
        image = flat[lead:lead + size].reshape(batch, h + pad, row, self.in_channels)
        self.gradInput = image[:, :h, :w].transpose(0, 3, 1, 2)
        # END SOLUTION
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
        # BEGIN SOLUTION
        pad = self.kernel_size // 2
        k = self.kernel_size
        cols_input, cols = getattr(self, "_cols", (None, None))
        if cols_input is not input:  # not the last forward's input: im2col again
            padded = np.pad(input, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
            windows = np.lib.stride_tricks.sliding_window_view(padded, (k, k), axis=(2, 3))
            windows = windows.transpose(4, 5, 1, 0, 2, 3).reshape(k * k * self.in_channels, -1)
            cols = np.concatenate([windows, np.ones((1, windows.shape[1]), windows.dtype)])
        # (out, n*h*w) @ (n*h*w, k*k*in + 1): the sum over (n, y, x) is the product's inner
        # axis; the last column, the sum against the row of ones, is gradb.
        grad = gradOutput.transpose(0, 2, 3, 1).reshape(-1, self.out_channels)  # (n*h*w, out)
        # Few outputs over a long inner axis (the first convolution's: 16 x 10 sums of 100k
        # terms) run faster in blocks of at most 10**6 multiply-adds, where OpenBLAS uses its
        # small-matrix kernel instead of packing both operands.
        block = 10**6 // (grad.shape[1] * len(cols))
        if block >= 4096:
            both = sum(grad[start:start + block].T @ cols[:, start:start + block].T
                       for start in range(0, len(grad), block))
        else:
            both = (cols @ grad).T
        gradW = both[:, :-1].reshape(self.out_channels, k, k, self.in_channels)  # (i, j, c)
        self.gradW[...] = gradW.transpose(0, 3, 1, 2)
        self.gradb[...] = both[:, -1]
        # END SOLUTION

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
        # BEGIN SOLUTION
        batch, channels, h, w = input.shape
        k = self.kernel_size
        assert h % k == 0 and w % k == 0, (input.shape, k)
        # input[:, :, i::k, j::k] is the (i, j) element of every window: k * k elementwise
        # passes give the maximum. Each such strided view is first copied into one contiguous
        # buffer, because NumPy vectorises comparisons on contiguous memory only; every working
        # array follows the output's memory order (empty_like, zeros_like), so that no pass
        # mixes a channel-major array with a row-major one. Scan the positions in row-major
        # order, keeping the running maximum and where it was first reached: a position
        # replaces it only if strictly greater, so ties keep the first.
        self.output = input[:, :, ::k, ::k].copy(order="K")  # keeps the input's memory order
        index_type = np.min_scalar_type(k * k)
        self.max_indices = np.zeros_like(self.output, dtype=index_type)
        greater = np.empty_like(self.output, dtype=bool)
        candidate = np.empty_like(self.output)
        for position in range(1, k * k):
            np.copyto(candidate, input[:, :, position // k::k, position % k::k])
            np.greater(candidate, self.output, out=greater)
            np.maximum(self.output, candidate, out=self.output)
            # Positions only grow, so the last position that was greater is the largest one:
            # a maximum of greater * position, without branches (np.copyto with where= costs
            # a mispredicted branch per value, ~30x slower here). Read as uint8, the booleans
            # multiply without a conversion pass.
            np.maximum(self.max_indices, greater.view(np.uint8) * index_type.type(position),
                       out=self.max_indices)
        # END SOLUTION
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
        # BEGIN SOLUTION
        batch, channels, h, w = input.shape
        k = self.kernel_size
        # Each window's gradient goes to its argmax, written into the strided views of an
        # input-shaped buffer (empty_like keeps the input's memory order).
        grad = np.empty_like(input, dtype=gradOutput.dtype)
        grad = grad.reshape(batch, channels, h // k, k, w // k, k)
        # The mask of each position in gradOutput's memory order (a channel-major gradOutput
        # from a Conv2d's backward pass makes a row-major mask a strided one, 1.5x slower).
        matches = np.empty_like(gradOutput, dtype=bool)
        for i in range(k):
            for j in range(k):
                np.equal(self.max_indices, i * k + j, out=matches)
                np.multiply(gradOutput, matches, out=grad[:, :, :, i, :, j])
        grad_windows = grad.transpose(0, 1, 2, 4, 3, 5)  # (batch, channels, h/k, w/k, k, k)
        self.gradInput = grad_windows.transpose(0, 1, 2, 4, 3, 5).reshape(input.shape)
        # END SOLUTION
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
        # BEGIN SOLUTION
        self.output = input.reshape(input.shape[0], -1)
        # END SOLUTION
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
        # BEGIN SOLUTION
        self.gradInput = gradOutput.reshape(input.shape)
        # END SOLUTION
        return self.gradInput

    def __repr__(self):
        return "Flatten"
