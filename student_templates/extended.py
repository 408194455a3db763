"""Neural network modules from scratch: the extended track: your implementation.

Replace every ``raise NotImplementedError(...)`` with your code, following the docstring
above it. Check your work with ``nngrade check <this file>``.

Conventions used throughout:

* Inputs are batches: the first axis is the batch axis.
* ``gradOutput`` is dLoss/dOutput and has the shape of ``self.output``; ``gradInput`` is
  dLoss/dInput and has the shape of ``input``.
* Layers never divide by the batch size; only criterions do (their loss is a sum over
  everything but the batch, divided by the batch size).
* Vectorise over the batch: no Python loops over samples.
* Never modify ``input``, ``gradOutput`` or a criterion's ``target`` in place: the caller
  keeps them (``Sequential`` passes a module's output to the next module, and to its
  backward again); work on a copy or on new arrays.

Graded end to end: the MNIST check trains your network with your classes for 2 epochs,
at most 60 s of training on one core, and needs 95% test accuracy. When the time is up,
the accuracy reached so far counts: keep every layer vectorised (a Python loop over
channels or positions may be too slow).
"""

import numpy as np
from scipy.special import erf  # the Gauss error function, for GELU

# ---------------------------------------------------------------------------------------
# Base classes and layers of the core assignment (given)
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
        self.output = input @ self.W.T
        self.output += self.b  # in place: no second (batch, n_out) array
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
        self.gradInput = gradOutput @ self.W
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
        np.matmul(gradOutput.T, input, out=self.gradW)  # no temporary (n_out, n_in) array
        self.gradb[...] = gradOutput.sum(axis=0)

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
        self.output = np.maximum(input, 0)
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
        self.gradInput = gradOutput * (input > 0)
        return self.gradInput

    def __repr__(self):
        return "ReLU"


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
        shifted = input - input.max(axis=1, keepdims=True)
        self.output = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
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
        p = np.exp(self.output)
        self.gradInput = gradOutput - p * gradOutput.sum(axis=1, keepdims=True)
        return self.gradInput

    def __repr__(self):
        return "LogSoftMax"


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
        self.output = input.reshape(input.shape[0], -1)
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
        self.gradInput = gradOutput.reshape(input.shape)
        return self.gradInput

    def __repr__(self):
        return "Flatten"


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
        self.output = -np.sum(target * input) / input.shape[0]
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
        self.gradInput = -target / input.shape[0]
        return self.gradInput

    def __repr__(self):
        return "ClassNLLCriterion"


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
            var_index += 1


# ---------------------------------------------------------------------------------------
# Activation functions
# ---------------------------------------------------------------------------------------


class Sigmoid(Module):
    """Logistic sigmoid: y = 1 / (1 + exp(-x)), elementwise."""

    def updateOutput(self, input):
        """Forward pass.

        Inputs:
        - input: array of any shape.

        Returns:
        - output: array of the same shape, values in [0, 1]; store it in ``self.output``.

        Formula: output = 1 / (1 + exp(-input)).

        Cache: the output; the derivative is written in terms of it.

        Hint: exp(-x) overflows for x around -1000 and exp(x) for x around +1000. With
        z = exp(-|x|), which is always in (0, 1], sigmoid(x) = 1 / (1 + z) for x >= 0 and
        z / (1 + z) for x < 0.
        """
        raise NotImplementedError("write Sigmoid.updateOutput (see its docstring)")
        return self.output

    def updateGradInput(self, input, gradOutput):
        """Gradient with respect to the input.

        Inputs:
        - input, gradOutput: arrays of the same shape.

        Returns:
        - gradInput: array of the same shape; store it in ``self.gradInput``.

        Formula, with s = sigmoid(input): gradInput = gradOutput * s * (1 - s).
        """
        raise NotImplementedError("write Sigmoid.updateGradInput (see its docstring)")
        return self.gradInput

    def __repr__(self):
        return "Sigmoid"


class Tanh(Module):
    """Hyperbolic tangent, elementwise."""

    def updateOutput(self, input):
        """Forward pass.

        Inputs:
        - input: array of any shape.

        Returns:
        - output: array of the same shape, values in [-1, 1]; store it in ``self.output``.

        Formula: output = (exp(x) - exp(-x)) / (exp(x) + exp(-x)).

        Hint: written like this it is inf / inf = nan for |x| around 1000; ``np.tanh`` is
        stable.
        """
        raise NotImplementedError("write Tanh.updateOutput (see its docstring)")
        return self.output

    def updateGradInput(self, input, gradOutput):
        """Gradient with respect to the input.

        Inputs:
        - input, gradOutput: arrays of the same shape.

        Returns:
        - gradInput: array of the same shape; store it in ``self.gradInput``.

        Formula, with y = tanh(input): gradInput = gradOutput * (1 - y ** 2).
        """
        raise NotImplementedError("write Tanh.updateGradInput (see its docstring)")
        return self.gradInput

    def __repr__(self):
        return "Tanh"


class GELU(Module):
    """Gaussian error linear unit, the exact form (PyTorch's default): y = x * Phi(x), with
    Phi the cumulative distribution function of the standard normal distribution.
    """

    def updateOutput(self, input):
        """Forward pass.

        Inputs:
        - input: array of any shape.

        Returns:
        - output: array of the same shape; store it in ``self.output``.

        Formula: output = x * Phi(x),  Phi(x) = (1 + erf(x / sqrt(2))) / 2.

        Hint: ``erf`` (imported from ``scipy.special``) works elementwise on arrays. Do not
        use the tanh approximation 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))): it
        differs from the exact form by up to about 1e-3.
        """
        raise NotImplementedError("write GELU.updateOutput (see its docstring)")
        return self.output

    def updateGradInput(self, input, gradOutput):
        """Gradient with respect to the input.

        Inputs:
        - input, gradOutput: arrays of the same shape.

        Returns:
        - gradInput: array of the same shape; store it in ``self.gradInput``.

        Formula (product rule), with phi(x) = exp(-x^2 / 2) / sqrt(2 pi) the standard
        normal density:
            gradInput = gradOutput * (Phi(x) + x * phi(x))
        """
        raise NotImplementedError("write GELU.updateGradInput (see its docstring)")
        return self.gradInput

    def __repr__(self):
        return "GELU"


class SiLU(Module):
    """Sigmoid linear unit, also called Swish: y = x * sigmoid(x)."""

    def updateOutput(self, input):
        """Forward pass.

        Inputs:
        - input: array of any shape.

        Returns:
        - output: array of the same shape; store it in ``self.output``.

        Formula: output = x * sigmoid(x) = x / (1 + exp(-x)).

        Hint: compute the sigmoid stably, as in ``Sigmoid`` (or as
        exp(-logaddexp(0, -x))); x * exp(x) / (1 + exp(x)) is nan for x around 1000.
        """
        raise NotImplementedError("write SiLU.updateOutput (see its docstring)")
        return self.output

    def updateGradInput(self, input, gradOutput):
        """Gradient with respect to the input.

        Inputs:
        - input, gradOutput: arrays of the same shape.

        Returns:
        - gradInput: array of the same shape; store it in ``self.gradInput``.

        Formula (product rule), with s = sigmoid(x):
            gradInput = gradOutput * (s + x * s * (1 - s)) = gradOutput * s * (1 + x (1 - s))
        """
        raise NotImplementedError("write SiLU.updateGradInput (see its docstring)")
        return self.gradInput

    def __repr__(self):
        return "SiLU"


# ---------------------------------------------------------------------------------------
# Normalisation
# ---------------------------------------------------------------------------------------


class LayerNorm(Module):
    """Layer normalisation of a (batch, features) input: every sample is normalised over
    its own features (the last axis), then scaled and shifted per feature. Unlike batch
    normalisation it has no running statistics: training and evaluation are the same.

    Parameters ``gamma`` (ones) and ``beta`` (zeros) of shape (n_features,), gradients
    ``gradGamma`` and ``gradBeta``. EPS = 1e-5, as in ``torch.nn.LayerNorm``.
    """

    EPS = 1e-5

    def __init__(self, n_features):
        super().__init__()
        self.gamma = np.ones(n_features)
        self.beta = np.zeros(n_features)
        self.gradGamma = np.zeros_like(self.gamma)
        self.gradBeta = np.zeros_like(self.beta)

    def updateOutput(self, input):
        """Forward pass.

        Inputs:
        - input: array of shape (batch, n_features).

        Returns:
        - output: array of shape (batch, n_features); store it in ``self.output``.

        Formula, with the statistics of each row (axis 1), the variance biased (divide by
        n_features, not n_features - 1):
            mean = input.mean(1),  var = input.var(1)
            xhat = (input - mean) / sqrt(var + EPS)
            output = gamma * xhat + beta

        Cache: xhat and 1 / sqrt(var + EPS) for the backward pass.

        Hint: ``keepdims=True`` keeps the row statistics broadcastable against the input.
        """
        raise NotImplementedError("write LayerNorm.updateOutput (see its docstring)")
        return self.output

    def updateGradInput(self, input, gradOutput):
        """Gradient with respect to the input.

        Inputs:
        - input, gradOutput: arrays of shape (batch, n_features).

        Returns:
        - gradInput: array of shape (batch, n_features); store it in ``self.gradInput``.

        Formula, with gx = gradOutput * gamma (the gradient w.r.t. xhat) and means over
        the features (axis 1):
            gradInput = (gx - gx.mean(1) - xhat * (gx * xhat).mean(1)) / sqrt(var + EPS)

        Hint: it is batch normalisation's gradient with the roles of the axes swapped;
        the mean and the variance of a row depend on every element of that row.
        """
        raise NotImplementedError("write LayerNorm.updateGradInput (see its docstring)")
        return self.gradInput

    def accGradParameters(self, input, gradOutput):
        """Gradients with respect to the parameters.

        Inputs:
        - input, gradOutput: arrays of shape (batch, n_features).

        Sets:
        - gradGamma, shape (n_features,): sum over the batch of gradOutput * xhat
        - gradBeta, shape (n_features,):  sum over the batch of gradOutput

        Hint: use the xhat cached by the forward pass; sum over the batch (no division)
        and write into the existing arrays.
        """
        raise NotImplementedError("write LayerNorm.accGradParameters (see its docstring)")

    def zeroGradParameters(self):
        self.gradGamma.fill(0)
        self.gradBeta.fill(0)

    def getParameters(self):
        return [self.gamma, self.beta]

    def getGradParameters(self):
        return [self.gradGamma, self.gradBeta]

    def __repr__(self):
        return f"LayerNorm({len(self.gamma)})"


# ---------------------------------------------------------------------------------------
# Criterions (losses)
# ---------------------------------------------------------------------------------------


class BCECriterion(Criterion):
    """Binary cross-entropy of probabilities (e.g. the output of ``Sigmoid``) and targets
    in [0, 1] of the same shape. Like every criterion of this homework, the loss is summed
    over all elements and divided by the batch size only: it is
    ``F.binary_cross_entropy(input, target, reduction="sum") / batch``, NOT PyTorch's
    default mean over all elements. The input is clipped to [EPS, 1 - EPS] (EPS = 1e-15,
    as in ``ClassNLLCriterionUnstable``) so that log(0) never happens.
    """

    EPS = 1e-15

    def updateOutput(self, input, target):
        """Loss.

        Inputs:
        - input: probabilities, shape (batch, n).
        - target: targets in [0, 1] (usually 0 or 1), shape (batch, n).

        Returns:
        - output: scalar; store it in ``self.output``.

        Formula, with p = clip(input, EPS, 1 - EPS):
            loss = -sum(target * log(p) + (1 - target) * log(1 - p)) / batch

        Hint: in float32, 1 - 1e-15 rounds to 1, so the clip cannot prevent log(0) for an
        input of exactly 1; the graded cases with exact 0 and 1 are float64.
        """
        raise NotImplementedError("write BCECriterion.updateOutput (see its docstring)")
        return self.output

    def updateGradInput(self, input, target):
        """Gradient of the loss with respect to the input.

        Inputs:
        - input: probabilities, shape (batch, n).
        - target: targets, shape (batch, n).

        Returns:
        - gradInput: array of shape (batch, n); store it in ``self.gradInput``.

        Formula, with p = clip(input, EPS, 1 - EPS) (the clip is treated as the identity,
        as in ``ClassNLLCriterionUnstable``):
            gradInput = (p - target) / (p * (1 - p)) / batch

        Hint: clip exactly as in the forward pass so that you never divide by zero.
        """
        raise NotImplementedError("write BCECriterion.updateGradInput (see its docstring)")
        return self.gradInput

    def __repr__(self):
        return "BCECriterion"


class CrossEntropyCriterion(Criterion):
    """Cross-entropy of raw scores (logits) and class labels: LogSoftMax followed by
    ClassNLLCriterion in one stable step, like ``torch.nn.CrossEntropyLoss``. The target is
    either a 1-d array of class indices or a one-hot matrix.
    """

    def updateOutput(self, input, target):
        """Loss.

        Inputs:
        - input: logits, shape (batch, n_classes).
        - target: class indices, integer array of shape (batch,), or one-hot labels of
          shape (batch, n_classes).

        Returns:
        - output: scalar; store it in ``self.output``.

        Formula, with t the one-hot form of the target and
        log_softmax(x)[n, i] = x[n, i] - log(sum_j exp(x[n, j])):
            loss = -sum(t * log_softmax(input)) / batch

        Cache: softmax(input) for the backward pass (optional).

        Hint: tell the two target forms apart by ``target.ndim``; ``np.eye(n_classes)
        [target]`` turns indices into one-hot rows. Subtract each row's maximum before
        exponentiating: logits of +-1000 must not give inf or nan.
        """
        raise NotImplementedError("write CrossEntropyCriterion.updateOutput (see its docstring)")
        return self.output

    def updateGradInput(self, input, target):
        """Gradient of the loss with respect to the input.

        Inputs:
        - input: logits, shape (batch, n_classes).
        - target: class indices of shape (batch,) or one-hot labels (batch, n_classes).

        Returns:
        - gradInput: array of shape (batch, n_classes); store it in ``self.gradInput``.

        Formula: gradInput = (softmax(input) - t) / batch, t the one-hot target.
        """
        raise NotImplementedError("write CrossEntropyCriterion.updateGradInput (see its docstring)")
        return self.gradInput

    def __repr__(self):
        return "CrossEntropyCriterion"


# ---------------------------------------------------------------------------------------
# Optimizers
# ---------------------------------------------------------------------------------------


def adamw(variables, gradients, config, state):
    """AdamW: Adam with decoupled weight decay (as ``torch.optim.AdamW``); updates the
    variables in place.

    Inputs:
    - variables, gradients: as for ``adam_optimizer`` (one list per layer).
    - config: dict with ``learning_rate``, ``beta1``, ``beta2``, ``epsilon`` and
      ``weight_decay``.
    - state: dict kept between calls: ``state['m'][i]`` and ``state['v'][i]`` are the
      moments of the i-th variable (counting through all layers in order), ``state['t']``
      the step count (incremented once per call, so t = 1 on the first step).

    Formula, for every variable x with gradient g:
        x = x - learning_rate * weight_decay * x
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g ** 2
        lr_t = learning_rate * sqrt(1 - beta2 ** t) / (1 - beta1 ** t)
        x = x - lr_t * m / (sqrt(v) + epsilon)

    The decay shrinks x directly (first, from its value before the step); it is not added
    to the gradient, so it does not pass through m and v. That is the difference from
    Adam with L2 regularisation (g + weight_decay * x).

    Hint: as ``adam_optimizer``, with one more in-place line; lr_t folds the bias
    correction of both moments into the learning rate.
    """
    state.setdefault("m", {})
    state.setdefault("v", {})
    state.setdefault("t", 0)
    state["t"] += 1
    for k in ["learning_rate", "beta1", "beta2", "epsilon", "weight_decay"]:
        assert k in config, config.keys()

    var_index = 0
    for current_layer_vars, current_layer_grads in zip(variables, gradients, strict=True):
        for current_var, current_grad in zip(current_layer_vars, current_layer_grads, strict=True):
            if var_index not in state["m"]:  # the first step: both moments start at zero
                state["m"][var_index] = np.zeros_like(current_grad)
                state["v"][var_index] = np.zeros_like(current_grad)
            var_first_moment = state["m"][var_index]
            var_second_moment = state["v"][var_index]
            raise NotImplementedError("write adamw (see its docstring)")
            var_index += 1


def rmsprop(variables, gradients, config, state):
    """RMSprop (as ``torch.optim.RMSprop`` without momentum, with alpha = decay_rate);
    updates the variables in place.

    Inputs:
    - variables, gradients: as for ``adam_optimizer`` (one list per layer).
    - config: dict with ``learning_rate``, ``decay_rate`` and ``epsilon``.
    - state: dict kept between calls: ``state['v'][i]`` is the running average of the
      squared gradient of the i-th variable (counting through all layers in order).

    Formula, for every variable x with gradient g (v starts at zero):
        v = decay_rate * v + (1 - decay_rate) * g ** 2
        x = x - learning_rate * g / (sqrt(v) + epsilon)

    Hint: update v and x in place, as in ``adam_optimizer``; there is no bias correction.
    """
    state.setdefault("v", {})
    for k in ["learning_rate", "decay_rate", "epsilon"]:
        assert k in config, config.keys()

    var_index = 0
    for current_layer_vars, current_layer_grads in zip(variables, gradients, strict=True):
        for current_var, current_grad in zip(current_layer_vars, current_layer_grads, strict=True):
            mean_square = state["v"].setdefault(var_index, np.zeros_like(current_grad))
            raise NotImplementedError("write rmsprop (see its docstring)")
            var_index += 1


# ---------------------------------------------------------------------------------------
# Convolutional layers
# ---------------------------------------------------------------------------------------


class Conv2d(Module):
    """2-d convolution (a cross-correlation, like ``torch.nn.Conv2d``) with any kernel
    size, a stride and zero padding. The output has height (h + 2 * padding - k) // stride
    + 1, and likewise for the width; rows and columns that do not fill a last window are
    ignored, as in PyTorch.

    Parameters: ``W`` of shape (out_channels, in_channels, k, k) and ``b`` of shape
    (out_channels,), uniform in [-1/sqrt(in_channels), 1/sqrt(in_channels)]; their
    gradients ``gradW`` and ``gradb``.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0):
        super().__init__()
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = kernel_size
        self.stride = stride
        self.padding = padding

        stdv = 1.0 / np.sqrt(in_channels)
        self.W = np.random.uniform(
            -stdv, stdv, size=(out_channels, in_channels, kernel_size, kernel_size)
        )
        self.b = np.random.uniform(-stdv, stdv, size=(out_channels,))
        self.gradW = np.zeros_like(self.W)
        self.gradb = np.zeros_like(self.b)

    def _windows(self, input):
        """All k x k windows the kernel visits: shape (batch, in, out_h, out_w, k, k)."""
        raise NotImplementedError("write Conv2d._windows (see its docstring)")

    def updateOutput(self, input):
        """Forward pass.

        Inputs:
        - input: array of shape (batch, in_channels, h, w).

        Returns:
        - output: array of shape (batch, out_channels, out_h, out_w), with
          out_h = (h + 2 p - k) // s + 1 and out_w = (w + 2 p - k) // s + 1; store it in
          ``self.output``.

        Formula, with k = kernel_size, s = stride, p = padding and xp = input zero-padded
        by p on both sides of h and w:
            output[n, o, y, x] = b[o] + sum_{c, i, j} xp[n, c, s*y + i, s*x + j] * W[o, c, i, j]

        Cache: nothing; the backward pass receives ``input`` again.

        Hint: ``np.lib.stride_tricks.sliding_window_view(xp, (k, k), axis=(2, 3))`` gives
        every stride-1 window; keep every s-th one with ``[:, :, ::s, ::s]``, then contract
        (c, i, j) with ``np.tensordot``. Don't flip the kernel. ``np.tensordot(W, windows,
        ...)`` (kernel first, result (out, batch, out_h, out_w)) is faster than windows
        first: numpy copies the windows into the order of the contraction, and this order
        copies whole rows at a time.
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

        Formula: every output position (y, x) sends gradOutput[n, o, y, x] * W[o, c, i, j]
        back to the padded input position (s*y + i, s*x + j); positions reached by
        several windows add up, positions in the padding are dropped:
            gpad[n, c, s*y + i, s*x + j] += sum_o gradOutput[n, o, y, x] * W[o, c, i, j]
            gradInput = gpad[:, :, p:p + h, p:p + w]

        Hint: contract the output channels first: ``np.tensordot(W, gradOutput,
        axes=([0], [1]))`` has shape (in, k, k, batch, out_h, out_w). Then add its
        [:, i, j] slices into a zero array of the padded shape, laid out (in, batch,
        h + 2p, w + 2p), with one loop over the k * k kernel offsets (i, j):
        ``gpad[:, :, i:i + s*out_h:s, j:j + s*out_w:s] += ...``; crop the padding and
        transpose back. Loop over the kernel, never over the batch or the positions.
        """
        raise NotImplementedError("write Conv2d.updateGradInput (see its docstring)")
        return self.gradInput

    def accGradParameters(self, input, gradOutput):
        """Gradients with respect to the parameters.

        Inputs:
        - input: array of shape (batch, in_channels, h, w).
        - gradOutput: array of shape (batch, out_channels, out_h, out_w).

        Sets, with xp the zero-padded input as in the forward pass:
        - gradW[o, c, i, j] = sum_{n, y, x} gradOutput[n, o, y, x] * xp[n, c, s*y + i, s*x + j]
        - gradb[o] = sum_{n, y, x} gradOutput[n, o, y, x]

        Hint: reuse the strided windows of the forward pass and contract over
        (batch, y, x), windows first (``np.tensordot(windows, gradOutput, ...)`` has shape
        (in, k, k, out); transpose it). Write into the existing arrays, and don't divide
        by the batch size.
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
            f"Conv2d {self.in_channels} -> {self.out_channels}, kernel {self.kernel_size}, "
            f"stride {self.stride}, padding {self.padding}"
        )


class AvgPool2d(Module):
    """Average pooling over non-overlapping k x k windows (stride = kernel_size). Rows and
    columns that do not fill a last window are ignored (and get a zero gradient), as in
    ``torch.nn.AvgPool2d``.
    """

    def __init__(self, kernel_size):
        super().__init__()
        self.kernel_size = kernel_size

    def updateOutput(self, input):
        """Forward pass.

        Inputs:
        - input: array of shape (batch, channels, h, w).

        Returns:
        - output: array of shape (batch, channels, h // k, w // k); store it in
          ``self.output``.

        Formula: output[n, c, y, x] = mean_{i, j < k} input[n, c, k*y + i, k*x + j].

        Hint: crop to (h // k) * k rows and (w // k) * k columns, then
        ``reshape(batch, channels, h // k, k, w // k, k)`` puts every window on axes 3
        and 5.
        """
        raise NotImplementedError("write AvgPool2d.updateOutput (see its docstring)")
        return self.output

    def updateGradInput(self, input, gradOutput):
        """Gradient with respect to the input.

        Inputs:
        - input: array of shape (batch, channels, h, w).
        - gradOutput: array of shape (batch, channels, h // k, w // k).

        Returns:
        - gradInput: array of shape (batch, channels, h, w); store it in
          ``self.gradInput``.

        Formula: every input position of a window gets gradOutput / (k * k) of its
        window; the ignored rows and columns get 0.

        Hint: ``np.repeat`` along axes 2 and 3 spreads each value over its window.
        """
        raise NotImplementedError("write AvgPool2d.updateGradInput (see its docstring)")
        return self.gradInput

    def __repr__(self):
        return f"AvgPool2d, kernel {self.kernel_size}x{self.kernel_size}"


# ---------------------------------------------------------------------------------------
# Residual connections
# ---------------------------------------------------------------------------------------


def flatten_parameters(nested):
    """[[W1, b1], [], [W2]] -> [W1, b1, W2]: the same arrays, in order, in one flat list."""
    flat = []
    for item in nested:
        if isinstance(item, list):
            flat.extend(flatten_parameters(item))
        else:
            flat.append(item)
    return flat


class Residual(Module):
    """A skip connection around a module: y = x + module(x). The module must keep the
    shape of its input.

    It behaves like one layer: its parameters are the inner module's, as ONE flat list
    (a ``Sequential`` inside returns one list per child; the optimizers expect one flat
    list per layer, so use ``flatten_parameters``). zeroGradParameters, train and
    evaluate are passed on to the inner module.
    """

    def __init__(self, module):
        super().__init__()
        self.module = module

    def updateOutput(self, input):
        """Forward pass.

        Inputs:
        - input: array of any shape the inner module accepts.

        Returns:
        - output: array of the same shape; store it in ``self.output``.

        Formula: output = input + module.forward(input).

        Hint: build a new array (``input + ...``): ``out = module.forward(input);
        out += input`` would change the inner module's own ``output`` in place.
        """
        raise NotImplementedError("write Residual.updateOutput (see its docstring)")
        return self.output

    def backward(self, input, gradOutput):
        """Backward pass (parameter gradients included, like ``Sequential.backward``).

        Inputs:
        - input: the input given to ``forward``.
        - gradOutput: dLoss/dOutput, shape of ``self.output``.

        Returns:
        - gradInput: dLoss/dInput, shape of ``input``; store it in ``self.gradInput``.

        Formula: the gradient flows through both paths and adds up:
            gradInput = gradOutput + module.backward(input, gradOutput)

        Hint: call the module's ``backward`` with the input it saw in the forward pass,
        so that its parameter gradients are computed too.
        """
        raise NotImplementedError("write Residual.backward (see its docstring)")
        return self.gradInput

    def zeroGradParameters(self):
        raise NotImplementedError("write Residual.zeroGradParameters (see its docstring)")

    def getParameters(self):
        """The inner module's parameters, as one flat list of arrays."""
        raise NotImplementedError("write Residual.getParameters (see its docstring)")

    def getGradParameters(self):
        """The inner module's parameter gradients, flat, in the order of getParameters."""
        raise NotImplementedError("write Residual.getGradParameters (see its docstring)")

    def train(self):
        raise NotImplementedError("write Residual.train (see its docstring)")

    def evaluate(self):
        raise NotImplementedError("write Residual.evaluate (see its docstring)")

    def __repr__(self):
        inner = "\n".join("  " + line for line in str(self.module).splitlines())
        return f"Residual(\n{inner}\n)"


class ResidualBlock(Residual):
    """Residual(Sequential(Conv2d(c, c, 3, padding=1), ReLU())): the block of the MNIST
    network, buildable from its number of channels alone.
    """

    def __init__(self, channels):
        inner = Sequential()
        inner.add(Conv2d(channels, channels, 3, stride=1, padding=1))
        inner.add(ReLU())
        super().__init__(inner)


# ---------------------------------------------------------------------------------------
# Recurrent layers
# ---------------------------------------------------------------------------------------


class RNN(Module):
    """A tanh recurrent layer (Elman network), unrolled over the time axis:
        h_0 = 0,  h_t = tanh(x_t W_ih^T + h_{t-1} W_hh^T + b),  t = 1 .. T
    and the output is every hidden state h_1 .. h_T.

    Parameters: ``W_ih`` of shape (n_hidden, n_in), ``W_hh`` of shape (n_hidden, n_hidden)
    and one bias ``b`` of shape (n_hidden,), uniform in [-1/sqrt(n_hidden),
    1/sqrt(n_hidden)] (as ``torch.nn.RNN``, which has two biases with the same sum); their
    gradients ``gradW_ih``, ``gradW_hh`` and ``gradb``.
    """

    def __init__(self, n_in, n_hidden):
        super().__init__()
        stdv = 1.0 / np.sqrt(n_hidden)
        self.W_ih = np.random.uniform(-stdv, stdv, size=(n_hidden, n_in))
        self.W_hh = np.random.uniform(-stdv, stdv, size=(n_hidden, n_hidden))
        self.b = np.random.uniform(-stdv, stdv, size=n_hidden)
        self.gradW_ih = np.zeros_like(self.W_ih)
        self.gradW_hh = np.zeros_like(self.W_hh)
        self.gradb = np.zeros_like(self.b)

    def updateOutput(self, input):
        """Forward pass.

        Inputs:
        - input: array of shape (batch, T, n_in): T time steps of n_in features.

        Returns:
        - output: array of shape (batch, T, n_hidden); output[:, t - 1] = h_t. Store it in
          ``self.output``.

        Formula: h_0 = 0,  h_t = tanh(x_t @ W_ih.T + h_{t-1} @ W_hh.T + b),
        with x_t = input[:, t - 1].

        Cache: all hidden states h_0 .. h_T (h_0 too: the backward pass needs h_{t-1}).

        Hint: a loop over the T time steps is necessary (each step needs the previous
        one); vectorise over the batch inside it.
        """
        raise NotImplementedError("write RNN.updateOutput (see its docstring)")
        return self.output

    def updateGradInput(self, input, gradOutput):
        """Gradient with respect to the input: backpropagation through time.

        Inputs:
        - input: array of shape (batch, T, n_in).
        - gradOutput: array of shape (batch, T, n_hidden): dLoss/dh_t for every t.

        Returns:
        - gradInput: array of shape (batch, T, n_in); store it in ``self.gradInput``.

        Formula, going backwards from t = T to 1, with da_{T+1} = 0:
            dh_t = gradOutput[:, t - 1] + da_{t+1} @ W_hh   (h_t feeds the output and h_{t+1})
            da_t = dh_t * (1 - h_t ** 2)                    (through tanh)
            gradInput[:, t - 1] = da_t @ W_ih

        Cache: every da_t (shape (batch, T, n_hidden)) for ``accGradParameters``.

        Hint: the gradient reaching h_t comes from two places, the output at step t and
        the next step; forgetting the second is "truncated" backpropagation.
        """
        raise NotImplementedError("write RNN.updateGradInput (see its docstring)")
        return self.gradInput

    def accGradParameters(self, input, gradOutput):
        """Gradients with respect to the parameters.

        Inputs:
        - input: array of shape (batch, T, n_in).
        - gradOutput: array of shape (batch, T, n_hidden).

        Sets, with the da_t cached by ``updateGradInput`` (``backward`` calls it first):
        - gradW_ih = sum_t da_t.T @ x_t
        - gradW_hh = sum_t da_t.T @ h_{t-1}
        - gradb    = sum_t da_t.sum(axis=0)

        Hint: the same weights are used at every step, so their gradient is the sum over
        the steps; ``np.tensordot`` over the (batch, time) axes does it without a loop.
        Write into the existing arrays.
        """
        raise NotImplementedError("write RNN.accGradParameters (see its docstring)")

    def zeroGradParameters(self):
        self.gradW_ih.fill(0)
        self.gradW_hh.fill(0)
        self.gradb.fill(0)

    def getParameters(self):
        return [self.W_ih, self.W_hh, self.b]

    def getGradParameters(self):
        return [self.gradW_ih, self.gradW_hh, self.gradb]

    def __repr__(self):
        n_hidden, n_in = self.W_ih.shape
        return f"RNN {n_in} -> {n_hidden}"
