"""Submissions with exactly one realistic mistake each, as patches of the reference solution.

``causes`` / ``message``: what a good diagnosis says (a cause id of a failing check, or a
substring of a failing check's name or message); entries without them only count for
detection and attribution. ``misleading``: a wrong diagnosis seen for this mistake before,
which no failing check may give.
"""

from __future__ import annotations

from corpus import MODULES, Bug

edits, rewrite, within = MODULES.edits, MODULES.rewrite, MODULES.within

# Frequently patched solution lines.
LINEAR_ACC = (
    "        np.matmul(gradOutput.T, input, out=self.gradW)  # no temporary (n_out, n_in) array\n"
    "        self.gradb[...] = gradOutput.sum(axis=0)\n"
)
SGD_STEP = (
    "            np.add(\n"
    '                config["momentum"] * velocity,\n'
    '                config["learning_rate"] * current_grad,\n'
    "                out=velocity,\n"
    "            )\n"
    "            current_var -= velocity\n"
)
SGD_LOOP = (
    '    state.setdefault("accumulated_grads", {})\n\n'
    "    var_index = 0\n"
    "    for current_layer_vars, current_layer_grads in zip(variables, gradients, strict=True):\n"
)
ADAM_LOOP = (
    '        assert k in config, config.keys()\n\n'
    "    var_index = 0\n"
    "    for current_layer_vars, current_layer_grads in zip(variables, gradients, strict=True):\n"
)


def _by_layer(loop: str) -> str:
    """Key the optimizer state by the layer's index instead of the running variable index."""
    head = loop.split("    var_index = 0\n")[0]
    return head + (
        "    for var_index, (current_layer_vars, current_layer_grads) in enumerate(\n"
        "            zip(variables, gradients, strict=True)):\n")


MODULE = [
    Bug("module_backward_no_acc", "Module",
        "Module.backward calls updateGradInput only, never accGradParameters",
        [("        self.updateGradInput(input, gradOutput)\n"
          "        self.accGradParameters(input, gradOutput)\n"
          "        return self.gradInput\n",
          "        return self.updateGradInput(input, gradOutput)\n")],
        causes={"module_backward"}),
    Bug("module_forward_no_return", "Module",
        "Module.forward computes the output but forgets to return it",
        [("        return self.updateOutput(input)\n", "        self.updateOutput(input)\n")],
        causes={"returned_none"}),
    Bug("module_starts_in_eval", "Module", "Module.__init__ sets training = False",
        [("        self.gradInput = None\n        self.training = True\n\n"
          "    def forward(self, input):\n",
          "        self.gradInput = None\n        self.training = False\n\n"
          "    def forward(self, input):\n")],
        causes={"module_init"}),
]

SEQUENTIAL = [
    Bug("seq_backward_own_output", "Sequential",
        "backward feeds module i its own output instead of its input",
        [rewrite("Sequential.backward", """
            grad = gradOutput
            for i in reversed(range(len(self.modules))):
                grad = self.modules[i].backward(self.modules[i].output, grad)
            self.gradInput = grad
        """)],
        message="was given child"),
    Bug("seq_backward_first_input", "Sequential",
        "backward feeds every module the container's input",
        [within("Sequential.backward", "self.modules[i].backward(module_input, grad)",
                "self.modules[i].backward(input, grad)")],
        message="was given child"),
    Bug("seq_backward_update_grad_only", "Sequential",
        "backward calls updateGradInput only, so parameter gradients are never computed",
        [within("Sequential.backward", "self.modules[i].backward(module_input, grad)",
                "self.modules[i].updateGradInput(module_input, grad)")],
        causes={"sequential_acc"}),
    Bug("seq_backward_skips_first", "Sequential",
        "the backward loop stops at index 1: the first child is never back-propagated",
        [within("Sequential.backward", "for i in reversed(range(len(self.modules))):",
                "for i in range(len(self.modules) - 1, 0, -1):")],
        message="stops before the first child"),
    Bug("seq_train_not_propagated", "Sequential",
        "train() sets the container's flag but does not propagate it to the children",
        [("    def train(self):\n"
          "        self.training = True\n"
          "        for module in self.modules:\n"
          "            module.train()\n",
          "    def train(self):\n"
          "        self.training = True\n")],
        causes={"container_mode"}),
    Bug("seq_flat_parameters", "Sequential",
        "getParameters returns one flat list instead of one list per module",
        [("        return [module.getParameters() for module in self.modules]\n",
          "        return [p for module in self.modules for p in module.getParameters()]\n")],
        causes={"container_params"}),
]

LINEAR = [
    Bug("linear_no_bias", "Linear", "forward forgets the bias",
        [within("Linear.updateOutput", "        self.output += self.b", "")],
        message="bias b is not added"),
    Bug("linear_W_untransposed", "Linear",
        "W stored as (n_in, n_out) and used untransposed throughout",
        [("self.W = np.random.uniform(-stdv, stdv, size=(n_out, n_in))",
          "self.W = np.random.uniform(-stdv, stdv, size=(n_in, n_out))"),
         within("Linear.updateOutput", "input @ self.W.T", "input @ self.W"),
         within("Linear.updateGradInput", "gradOutput @ self.W", "gradOutput @ self.W.T"),
         within("Linear.accGradParameters", "gradOutput.T, input,", "input.T, gradOutput,")],
        causes={"param_shape"}, message="untransposed"),
    Bug("linear_gradW_transposed", "Linear",
        "gradW = input.T @ gradOutput (rebinding): right only in shape for square layers",
        [(LINEAR_ACC, "        self.gradW = input.T @ gradOutput\n"
                      "        self.gradb[...] = gradOutput.sum(axis=0)\n")],
        causes={"transposed", "transposed_shape"}),
    Bug("linear_gradW_over_batch", "Linear", "gradW divided by the batch size",
        [(LINEAR_ACC, "        self.gradW[...] = gradOutput.T @ input / input.shape[0]\n"
                      "        self.gradb[...] = gradOutput.sum(axis=0)\n")],
        causes={"over_batch"}),
    Bug("linear_gradb_mean", "Linear", "gradb averaged over the batch instead of summed",
        [(LINEAR_ACC, "        self.gradW[...] = gradOutput.T @ input\n"
                      "        self.gradb[...] = gradOutput.mean(axis=0)\n")],
        causes={"over_batch"}),
    Bug("linear_zero_grad_discarded", "Linear",
        "zeroGradParameters computes zeros but never stores them",
        [("        self.gradW.fill(0)\n        self.gradb.fill(0)\n\n"
          "    def getParameters(self):\n        return [self.W, self.b]\n\n"
          "    def getGradParameters(self):\n        return [self.gradW, self.gradb]\n\n"
          "    def __repr__(self):\n        n_out, n_in",
          "        np.zeros_like(self.gradW)\n        np.zeros_like(self.gradb)\n\n"
          "    def getParameters(self):\n        return [self.W, self.b]\n\n"
          "    def getGradParameters(self):\n        return [self.gradW, self.gradb]\n\n"
          "    def __repr__(self):\n        n_out, n_in")],
        causes={"zero_grad"}),
]

SOFTMAX = [
    Bug("softmax_no_max", "SoftMax", "exponentiates without subtracting the row maximum",
        [within("SoftMax.updateOutput", "input - input.max(axis=1, keepdims=True)", "input")],
        causes={"nonfinite"}),
    Bug("softmax_axis0", "SoftMax", "softmax taken over the batch axis",
        [rewrite("SoftMax.updateOutput", """
            shifted = input - input.max(axis=0, keepdims=True)
            exps = np.exp(shifted)
            self.output = exps / exps.sum(axis=0, keepdims=True)
        """)],
        message="over axis 0"),
    Bug("softmax_grad_diagonal", "SoftMax",
        "gradient uses only the diagonal of the Jacobian: p * gradOutput",
        [rewrite("SoftMax.updateGradInput", "self.gradInput = self.output * gradOutput")]),
    Bug("softmax_grad_sign", "SoftMax", "gradient with the sign flipped",
        [rewrite("SoftMax.updateGradInput", """
            p = self.output
            self.gradInput = p * (np.sum(gradOutput * p, axis=1, keepdims=True) - gradOutput)
        """)],
        causes={"sign_flip"}, misleading="constant factor -1"),
    Bug("softmax_grad_batch_sum", "SoftMax",
        "the sum of gradOutput * p is taken over the whole batch (right for batch size 1)",
        [within("SoftMax.updateGradInput", "np.sum(gradOutput * p, axis=1, keepdims=True)",
                "np.sum(gradOutput * p)")]),
    Bug("softmax_shift_in_place", "SoftMax",
        "subtracts the row maximum from the caller's input in place",
        [within("SoftMax.updateOutput", "shifted = input - input.max(axis=1, keepdims=True)",
                "input -= input.max(axis=1, keepdims=True)\n        shifted = input")],
        causes={"mutates_input"}),
]

LOGSOFTMAX = [
    Bug("logsoftmax_grad_sum_no_keepdims", "LogSoftMax",
        "the row sum of gradOutput without keepdims: crashes unless batch == n",
        [within("LogSoftMax.updateGradInput", "gradOutput.sum(axis=1, keepdims=True)",
                "gradOutput.sum(axis=1)")],
        message="without keepdims=True"),
    Bug("logsoftmax_log_of_softmax", "LogSoftMax",
        "log(softmax(x)): -inf when a probability underflows",
        [rewrite("LogSoftMax.updateOutput", """
            exps = np.exp(input - input.max(axis=1, keepdims=True))
            self.output = np.log(exps / exps.sum(axis=1, keepdims=True))
        """)],
        causes={"nonfinite"}),
    Bug("logsoftmax_no_max", "LogSoftMax", "log-sum-exp without subtracting the maximum",
        [rewrite("LogSoftMax.updateOutput",
                 "self.output = input - np.log(np.exp(input).sum(axis=1, keepdims=True))")],
        causes={"nonfinite"}),
    Bug("logsoftmax_grad_batch_sum", "LogSoftMax",
        "gradOutput summed over the whole batch instead of per row",
        [within("LogSoftMax.updateGradInput", "gradOutput.sum(axis=1, keepdims=True)",
                "gradOutput.sum()")]),
    Bug("logsoftmax_grad_softmax_formula", "LogSoftMax",
        "uses the softmax gradient formula with p = exp(output)",
        [rewrite("LogSoftMax.updateGradInput", """
            p = np.exp(self.output)
            self.gradInput = p * (gradOutput - np.sum(gradOutput * p, axis=1, keepdims=True))
        """)],
        misleading="over axis 0"),
]

BATCHNORM = [
    Bug("bn_alpha_swapped", "BatchNormalization",
        "moving statistics weight the new batch by alpha instead of 1 - alpha",
        [edits("BatchNormalization.updateOutput",
               ("moving_mean * self.alpha + mean * (1 - self.alpha)",
                "moving_mean * (1 - self.alpha) + mean * self.alpha"),
               ("moving_variance * self.alpha + var * (1 - self.alpha)",
                "moving_variance * (1 - self.alpha) + var * self.alpha"))],
        message="alpha swapped"),
    Bug("bn_unbiased_var", "BatchNormalization", "normalizes with the unbiased variance",
        [within("BatchNormalization.updateOutput", "/ len(input)", "/ (len(input) - 1)")],
        message="unbiased"),
    Bug("bn_moving_unbiased", "BatchNormalization",
        "moving variance updated with the unbiased batch variance",
        [within("BatchNormalization.updateOutput", "+ var * (1 - self.alpha)",
                "+ input.var(axis=0, ddof=1) * (1 - self.alpha)")],
        message="unbiased variance (ddof=1)"),
    Bug("bn_eval_batch_stats", "BatchNormalization",
        "evaluation mode still normalizes with the batch statistics",
        [within("BatchNormalization.updateOutput", "        if self.training:\n",
                "        if True:\n"),
         within("BatchNormalization.updateGradInput", "if self.training:", "if True:")],
        message="uses the batch statistics"),
    Bug("bn_eval_grad_training_formula", "BatchNormalization",
        "backward always uses the training-mode formula, also in evaluation mode",
        [within("BatchNormalization.updateGradInput", "if self.training:", "if True:")]),
    Bug("bn_grad_no_variance_path", "BatchNormalization",
        "gradInput ignores the dependence of the variance on the input",
        [within("BatchNormalization.updateGradInput",
                "(centered - xhat * (gradOutput * xhat).mean(axis=0))", "centered")]),
    Bug("bn_no_eps", "BatchNormalization", "divides by sqrt(var) without EPS",
        [within("BatchNormalization.updateOutput", "np.sqrt(var + self.EPS)", "np.sqrt(var)")],
        message="EPS missing"),
]

# Not bugs, so not here: rebinding gradW/gradb in accGradParameters or zeroGradParameters
# (the homework's training loop calls getGradParameters() after every backward; see the
# variants), and the start values of BatchNorm's moving statistics (the API leaves them open).

CHANNELWISE = [
    Bug("cws_gradgamma_no_input", "ChannelwiseScaling",
        "gradGamma forgets the factor input",
        [within("ChannelwiseScaling.accGradParameters", "np.sum(gradOutput * input, axis=0)",
                "np.sum(gradOutput, axis=0)")]),
    Bug("cws_grad_mean", "ChannelwiseScaling", "parameter gradients averaged over the batch",
        [rewrite("ChannelwiseScaling.accGradParameters", """
            self.gradGamma[...] = np.mean(gradOutput * input, axis=0)
            self.gradBeta[...] = np.mean(gradOutput, axis=0)
        """)],
        causes={"over_batch"}),
    Bug("cws_accumulate_no_zero", "ChannelwiseScaling",
        "accumulates with += (Torch style) but zeroGradParameters does nothing",
        [rewrite("ChannelwiseScaling.accGradParameters", """
            self.gradGamma += np.sum(gradOutput * input, axis=0)
            self.gradBeta += np.sum(gradOutput, axis=0)
        """),
         ("        self.gradGamma.fill(0)\n        self.gradBeta.fill(0)\n", "        pass\n")],
        causes={"zero_grad"}),
    Bug("cws_forward_in_place", "ChannelwiseScaling",
        "forward scales the caller's input array in place",
        [rewrite("ChannelwiseScaling.updateOutput", """
            input *= self.gamma
            input += self.beta
            self.output = input
        """)],
        causes={"mutates_input"}),
]

DROPOUT = [
    Bug("dropout_eval_not_identity", "Dropout", "applies a mask in evaluation mode too",
        [rewrite("Dropout.updateOutput", """
            self.mask = np.random.binomial(1, 1 - self.p, size=input.shape).astype(input.dtype)
            self.output = input * self.mask / (1 - self.p)
        """),
         rewrite("Dropout.updateGradInput",
                 "self.gradInput = gradOutput * self.mask / (1 - self.p)")],
        message="evaluation mode"),
    Bug("dropout_new_mask_backward", "Dropout", "backward draws a new mask",
        [within("Dropout.updateGradInput", "gradOutput * self.mask / (1 - self.p)",
                "gradOutput * np.random.binomial(1, 1 - self.p, size=gradOutput.shape)"
                " / (1 - self.p)")],
        causes={"dropout_mask_not_reused"}),
    Bug("dropout_scale_over_p", "Dropout", "survivors scaled by 1/p instead of 1/(1-p)",
        [within("Dropout.updateOutput", "input * self.mask / (1 - self.p)",
                "input * self.mask / self.p"),
         within("Dropout.updateGradInput", "gradOutput * self.mask / (1 - self.p)",
                "gradOutput * self.mask / self.p")],
        message="1/p instead of 1/(1-p)"),
    Bug("dropout_mask_shared_over_batch", "Dropout",
        "mask of shape (1, n): every sample drops the same features",
        [within("Dropout.updateOutput", "random(input.shape, dtype=np.float32)",
                "random((1, input.shape[1]), dtype=np.float32)")],
        causes={"dropout_independence"}, misleading="drop probability must be p"),
    Bug("dropout_keep_with_p", "Dropout", "keeps with probability p instead of 1 - p",
        [within("Dropout.updateOutput", "< 1 - self.p\n", "< self.p\n")],
        causes={"dropout_rate"}),
    Bug("dropout_no_scaling", "Dropout", "no 1/(1-p) scaling in training",
        [within("Dropout.updateOutput", "input * self.mask / (1 - self.p)", "input * self.mask"),
         within("Dropout.updateGradInput", "gradOutput * self.mask / (1 - self.p)",
                "gradOutput * self.mask")],
        message="not scaled"),
    Bug("dropout_backward_no_scaling", "Dropout",
        "the backward forgets 1/(1-p); the forward has it",
        [within("Dropout.updateGradInput", "gradOutput * self.mask / (1 - self.p)",
                "gradOutput * self.mask")],
        causes={"dropout_scale"}),
    Bug("dropout_mask_drawn_once", "Dropout", "the mask is drawn on the first forward only",
        [within("Dropout.updateOutput", "            self.mask = keep.astype(input.dtype)",
                "            if self.mask is None or self.mask.shape != input.shape:\n"
                "                self.mask = keep.astype(input.dtype)")],
        causes={"dropout_stale_mask"}),
]

ACTIVATIONS = [
    Bug("relu_in_place", "ReLU", "input[input < 0] = 0 modifies the caller's array",
        [rewrite("ReLU.updateOutput", """
            input[input < 0] = 0
            self.output = input
        """)],
        causes={"mutates_input"}),
    Bug("relu_grad_clips_gradoutput", "ReLU", "gradInput = max(gradOutput, 0)",
        [rewrite("ReLU.updateGradInput", "self.gradInput = np.maximum(gradOutput, 0)")]),
    Bug("leaky_grad_no_slope", "LeakyReLU", "gradient 0 instead of slope for negative inputs",
        [within("LeakyReLU.updateGradInput", "self.slope * gradOutput", "0")]),
    Bug("leaky_grad_one_at_zero", "LeakyReLU", "input >= 0: gradient 1 instead of slope at 0",
        [within("LeakyReLU.updateGradInput", "input > 0", "input >= 0")]),
    Bug("leaky_forward_constant", "LeakyReLU", "outputs the slope itself for negative inputs",
        [within("LeakyReLU.updateOutput", "self.slope * input", "self.slope")]),
    Bug("elu_alpha_outside_brackets", "ELU", "alpha * exp(x) - 1 on the negative side",
        [within("ELU.updateOutput", "self.alpha * np.expm1(np.minimum(input, 0))",
                "self.alpha * np.exp(np.minimum(input, 0)) - 1")],
        causes={"spec_mistake"}, message="the brackets"),
    Bug("elu_grad_ignores_alpha", "ELU",
        "gradient through the output as output + 1 (right only for alpha = 1)",
        [rewrite("ELU.updateGradInput",
                 "self.gradInput = gradOutput * np.where(input > 0, 1, self.output + 1)")]),
    Bug("elu_mask_product_nan", "ELU",
        "masks by multiplication: exp overflows to inf and inf * 0 = nan",
        [rewrite("ELU.updateOutput", """
            positive = input * (input > 0)
            self.output = positive + self.alpha * (np.exp(input) - 1) * (input <= 0)
        """)],
        causes={"nonfinite"}),
    Bug("softplus_naive", "SoftPlus", "log(1 + exp(x)) overflows",
        [rewrite("SoftPlus.updateOutput", "self.output = np.log(1 + np.exp(input))")],
        causes={"nonfinite"}),
    Bug("softplus_grad_overflow", "SoftPlus", "sigmoid as exp(x) / (1 + exp(x)): inf / inf",
        [rewrite("SoftPlus.updateGradInput",
                 "self.gradInput = gradOutput * np.exp(input) / (1 + np.exp(input))")],
        causes={"nonfinite"}),
]

CRITERIONS = [
    Bug("mse_no_batch_division", "MSECriterion", "loss and gradient not divided by the batch",
        [within("MSECriterion.updateOutput", " / input.shape[0]", ""),
         within("MSECriterion.updateGradInput", " / input.shape[0]", "")],
        message="not divided by the batch size"),
    Bug("mse_mean", "MSECriterion", "np.mean over batch and features",
        [rewrite("MSECriterion.updateOutput", "self.output = np.mean((input - target) ** 2)"),
         rewrite("MSECriterion.updateGradInput",
                 "self.gradInput = 2 * (input - target) / input.size")],
        message="divided by batch * features"),
    Bug("mse_grad_missing_2", "MSECriterion", "gradient without the factor 2",
        [within("MSECriterion.updateGradInput", "2 * (input - target)", "(input - target)")],
        causes={"factor_half"}),
    Bug("nllu_no_clip", "ClassNLLCriterionUnstable", "no clipping: log(0) and 1/0",
        [within("ClassNLLCriterionUnstable.updateOutput",
                "np.clip(input, self.EPS, 1 - self.EPS)", "input"),
         within("ClassNLLCriterionUnstable.updateGradInput",
                "np.clip(input, self.EPS, 1 - self.EPS)", "input")],
        causes={"nonfinite"}),
    Bug("nllu_loss_over_classes", "ClassNLLCriterionUnstable",
        "the loss divided by the number of classes instead of the batch size",
        [within("ClassNLLCriterionUnstable.updateOutput",
                "np.log(clipped)) / input.shape[0]", "np.log(clipped)) / input.shape[1]")],
        causes={"spec_mistake"}, message="number of classes"),
    Bug("nllu_no_batch_division", "ClassNLLCriterionUnstable", "not divided by the batch",
        [within("ClassNLLCriterionUnstable.updateOutput", " / input.shape[0]", ""),
         within("ClassNLLCriterionUnstable.updateGradInput", " / input.shape[0]", "")],
        causes={"times_batch"}, message="not divided by the batch size"),
    Bug("nllu_grad_unclipped", "ClassNLLCriterionUnstable",
        "clips in the forward pass only: the gradient divides by 0 for probabilities of 0",
        [within("ClassNLLCriterionUnstable.updateGradInput",
                "np.clip(input, self.EPS, 1 - self.EPS)", "input")],
        causes={"nonfinite"}),
    Bug("nll_sign", "ClassNLLCriterion", "loss and gradient with the sign flipped",
        [within("ClassNLLCriterion.updateOutput", "-np.sum", "np.sum"),
         within("ClassNLLCriterion.updateGradInput", "-target", "target")],
        causes={"sign_flip"}, message="sign flipped"),
    Bug("nll_grad_no_batch_division", "ClassNLLCriterion", "gradient not divided by the batch",
        [within("ClassNLLCriterion.updateGradInput", " / input.shape[0]", "")],
        causes={"times_batch"}, message="not divided by the batch size"),
    Bug("nll_forward_mean_over_all", "ClassNLLCriterion",
        "loss with np.mean over batch and classes; the gradient right",
        [rewrite("ClassNLLCriterion.updateOutput", "self.output = -np.mean(target * input)")],
        causes={"spec_mistake"}, message="averaged over every element"),
    Bug("nll_mean_over_all", "ClassNLLCriterion", "np.mean over batch and classes",
        [rewrite("ClassNLLCriterion.updateOutput", "self.output = -np.mean(target * input)"),
         rewrite("ClassNLLCriterion.updateGradInput",
                 "self.gradInput = -target / input.size")],
        causes={"factor", "factor_half"}),
]

OPTIMIZERS = [
    Bug("sgd_state_by_layer", "sgd_momentum", "velocity keyed by layer, not by variable",
        [(SGD_LOOP, _by_layer(SGD_LOOP)),
         ("            var_index += 1\n\n\ndef adam_optimizer",
          "\n\ndef adam_optimizer")]),
    Bug("sgd_momentum_sign", "sgd_momentum", "v = momentum * v - lr * g, then var -= v",
        [within("sgd_momentum", 'config["learning_rate"] * current_grad',
                '-config["learning_rate"] * current_grad')],
        message="sign flipped"),
    Bug("sgd_rebinds_variable", "sgd_momentum", "var = var - v rebinds a local name",
        [within("sgd_momentum", "current_var -= velocity",
                "current_var = current_var - velocity")],
        causes={"not_inplace"}, message="in place"),
    Bug("sgd_rebinds_velocity", "sgd_momentum",
        "velocity = momentum * velocity + lr * g: the state never changes",
        [(SGD_STEP,
          '            velocity = config["momentum"] * velocity + config["learning_rate"]'
          " * current_grad\n"
          "            current_var -= velocity\n")],
        message="keep a velocity"),
    Bug("adam_no_bias_correction", "adam_optimizer", "lr_t = learning_rate",
        [within("adam_optimizer",
                'config["learning_rate"] * np.sqrt(1 - beta2**t) / (1 - beta1**t)',
                'config["learning_rate"]')],
        message="no bias correction"),
    Bug("adam_eps_inside_sqrt", "adam_optimizer", "sqrt(v + eps) instead of sqrt(v) + eps",
        [within("adam_optimizer", 'np.sqrt(var_second_moment, out=step)\n'
                '            step += config["epsilon"]\n',
                'np.add(var_second_moment, config["epsilon"], out=step)\n'
                '            np.sqrt(step, out=step)\n')],
        message="inside the square root"),
    Bug("adam_eps_after_bias_correction", "adam_optimizer",
        "paper/PyTorch form m_hat / (sqrt(v_hat) + eps): the assignment's lr_t formula "
        "adds eps to the uncorrected sqrt(v)",
        [within("adam_optimizer", """\
            np.sqrt(var_second_moment, out=step)
            step += config["epsilon"]
            np.divide(var_first_moment, step, out=step)
            step *= lr_t
""", """\
            m_hat = var_first_moment / (1 - beta1**t)
            v_hat = var_second_moment / (1 - beta2**t)
            step = config["learning_rate"] * m_hat / (np.sqrt(v_hat) + config["epsilon"])
""")],
        message="Algorithm 1"),
    Bug("adam_state_by_layer", "adam_optimizer", "moments keyed by layer, not by variable",
        [(ADAM_LOOP, _by_layer(ADAM_LOOP)),
         ("            var_index += 1\n\n\n# ------", "\n\n# ------")]),
    Bug("adam_t_per_variable", "adam_optimizer", "the step count t is incremented per variable",
        [('    state["t"] += 1\n    for k in', "    for k in"),
         within("adam_optimizer", 'beta1, beta2, t = config["beta1"], config["beta2"], '
                'state["t"]', 'state["t"] += 1\n            beta1, beta2, t = config["beta1"], '
                'config["beta2"], state["t"]')]),
    Bug("adam_rebinds_variable", "adam_optimizer", "var = var - step rebinds a local name",
        [within("adam_optimizer", "current_var -= step", "current_var = current_var - step")],
        causes={"not_inplace"}, message="in place"),
]

CONV = [
    Bug("conv_true_convolution", "Conv2d",
        "flips the kernel (a true convolution), consistently in all three passes",
        [within("Conv2d.updateOutput", "weights = self.W.transpose(",
                "weights = self.W[:, :, ::-1, ::-1].transpose("),
         within("Conv2d.updateGradInput", "grad @ self.W[:, :, i, j]",
                "grad @ self.W[:, :, k - 1 - i, k - 1 - j]"),
         within("Conv2d.accGradParameters", "gradW.transpose(0, 3, 1, 2)",
                "gradW.transpose(0, 3, 1, 2)[:, :, ::-1, ::-1]")],
        message="flipped kernel"),
    Bug("conv_padding_hardcoded", "Conv2d", "padding 1 hard-coded (right for k = 3 only)",
        [within(f"Conv2d.{m}", "pad = self.kernel_size // 2", "pad = 1")
         for m in ("updateOutput", "updateGradInput", "accGradParameters")],
        causes={"shape"}, message="padding"),
    Bug("conv_gradW_channels_swapped", "Conv2d",
        "gradW laid out as (in, out, k, k): in/out channels transposed",
        [within("Conv2d.accGradParameters", "self.gradW[...] = gradW.transpose(0, 3, 1, 2)",
                "self.gradW = gradW.transpose(3, 0, 1, 2)")]),
    Bug("conv_gradinput_not_flipped", "Conv2d", "gradInput correlates with the unflipped kernel",
        [within("Conv2d.updateGradInput", "grad @ self.W[:, :, i, j]",
                "grad @ self.W[:, :, k - 1 - i, k - 1 - j]")],
        misleading="do not flip the kernel"),
    Bug("conv_gradb_over_batch", "Conv2d", "gradb divided by the batch size",
        [within("Conv2d.accGradParameters", "self.gradb[...] = both[:, -1]",
                "self.gradb[...] = both[:, -1] / input.shape[0]")],
        causes={"over_batch"}),
]

POOLING = [
    Bug("maxpool_last_max", "MaxPool2d", "gradient to the last maximum of a window on ties",
        [within("MaxPool2d.updateOutput", "np.greater(candidate, self.output, out=greater)",
                "np.greater_equal(candidate, self.output, out=greater)")],
        message="ties"),
    Bug("maxpool_every_max", "MaxPool2d", "gradient to every maximum of a window (input == max)",
        [rewrite("MaxPool2d.updateGradInput", """
            batch, channels, h, w = input.shape
            k = self.kernel_size
            upsampled = self.output.repeat(k, axis=2).repeat(k, axis=3)
            mask = input == upsampled
            self.gradInput = mask * gradOutput.repeat(k, axis=2).repeat(k, axis=3)
        """)],
        message="ties"),
    Bug("maxpool_k2_hardcoded", "MaxPool2d", "window size 2 hard-coded",
        [within("MaxPool2d.updateOutput", "        k = self.kernel_size\n", "        k = 2\n"),
         within("MaxPool2d.updateGradInput", "        k = self.kernel_size\n",
                "        k = 2\n")]),
    Bug("maxpool_grad_no_transpose_back", "MaxPool2d",
        "backward reshapes the windows back without undoing the transpose",
        [within("MaxPool2d.updateGradInput",
                "grad_windows.transpose(0, 1, 2, 4, 3, 5).reshape(input.shape)",
                "grad_windows.reshape(input.shape)")]),
    Bug("flatten_squeeze", "Flatten", "squeezes the result: batch size 1 loses its axis",
        [within("Flatten.updateOutput", "input.reshape(input.shape[0], -1)",
                "input.reshape(input.shape[0], -1).squeeze()")],
        causes={"reshaped"}),
    Bug("flatten_grad_not_reshaped", "Flatten", "gradInput keeps the flattened shape",
        [rewrite("Flatten.updateGradInput", "self.gradInput = gradOutput")],
        causes={"reshaped"}),
]

CRITERION_BASE = [
    Bug("criterion_forward_no_return", "Criterion",
        "Criterion.forward computes the loss but forgets to return it",
        [("        return self.updateOutput(input, target)\n",
          "        self.updateOutput(input, target)\n")],
        causes={"criterion_base"}),
    Bug("criterion_backward_calls_update_output", "Criterion",
        "Criterion.backward calls updateOutput instead of updateGradInput",
        [("        return self.updateGradInput(input, target)\n",
          "        return self.updateOutput(input, target)\n")],
        causes={"criterion_base"}),
]

BUGS = (MODULE + SEQUENTIAL + LINEAR + SOFTMAX + LOGSOFTMAX + BATCHNORM + CHANNELWISE
        + DROPOUT + ACTIVATIONS + CRITERION_BASE + CRITERIONS + OPTIMIZERS + CONV + POOLING)
