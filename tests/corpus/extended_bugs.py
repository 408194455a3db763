"""Extended-track submissions with exactly one realistic mistake each.

``causes`` / ``message``: what a good diagnosis says (a cause id of a failing check, or a
substring of a failing check's name or message).
"""

from __future__ import annotations

from corpus import EXTENDED, Bug

edits, rewrite, within = EXTENDED.edits, EXTENDED.rewrite, EXTENDED.within

ACTIVATIONS = [
    Bug("sigmoid_exp_ratio", "Sigmoid", "exp(x) / (1 + exp(x)): inf / inf at x = +1000",
        [rewrite("Sigmoid.updateOutput",
                 "self.output = np.exp(input) / (1 + np.exp(input))")],
        causes={"nonfinite"}),
    Bug("sigmoid_grad_no_one_minus", "Sigmoid", "gradient gradOutput * s, without (1 - s)",
        [within("Sigmoid.updateGradInput", "gradOutput * s * (1 - s)", "gradOutput * s")],
        causes={"spec_mistake"}, message="s * (1 - s)"),
    Bug("tanh_exp_formula", "Tanh", "tanh written with exponentials: nan for |x| ~ 1000",
        [rewrite("Tanh.updateOutput", """
            e_pos, e_neg = np.exp(input), np.exp(-input)
            self.output = (e_pos - e_neg) / (e_pos + e_neg)
        """)],
        causes={"nonfinite"}),
    Bug("tanh_grad_of_input", "Tanh", "derivative 1 - input**2 instead of 1 - output**2",
        [within("Tanh.updateGradInput", "self.output**2", "input**2")],
        causes={"spec_mistake"}),
    Bug("gelu_tanh_approximation", "GELU",
        "the tanh approximation and its derivative, consistently in both passes",
        [rewrite("GELU.updateOutput", """
            inner = np.sqrt(2 / np.pi) * (input + 0.044715 * input**3)
            self.output = 0.5 * input * (1 + np.tanh(inner))
        """),
         rewrite("GELU.updateGradInput", """
            inner = np.sqrt(2 / np.pi) * (input + 0.044715 * input**3)
            th = np.tanh(inner)
            d_inner = np.sqrt(2 / np.pi) * (1 + 3 * 0.044715 * input**2)
            self.gradInput = gradOutput * (0.5 * (1 + th) + 0.5 * input * (1 - th**2) * d_inner)
        """)],
        causes={"spec_mistake"}, message="tanh approximation"),
    Bug("gelu_grad_cdf_only", "GELU", "gradient Phi(x), the x * phi(x) term forgotten",
        [within("GELU.updateGradInput", "(cdf + input * pdf)", "cdf")],
        causes={"spec_mistake"}),
    Bug("silu_exp_ratio", "SiLU", "x * exp(x) / (1 + exp(x)): nan at x = +1000",
        [rewrite("SiLU.updateOutput",
                 "self.output = input * np.exp(input) / (1 + np.exp(input))")],
        causes={"nonfinite"}),
    Bug("silu_grad_sigmoid_only", "SiLU", "gradient gradOutput * sigmoid(x), no product rule",
        [within("SiLU.updateGradInput", "gradOutput * s * (1 + input * (1 - s))",
                "gradOutput * s")],
        causes={"spec_mistake"}, message="product rule"),
]

LAYERNORM = [
    Bug("ln_batch_axis", "LayerNorm", "statistics over the batch axis, as in batch norm",
        [within("LayerNorm.updateOutput", """\
        mean = input.mean(axis=1, keepdims=True)
        var = input.var(axis=1, keepdims=True)
""", """\
        mean = input.mean(axis=0, keepdims=True)
        var = input.var(axis=0, keepdims=True)
""")],
        causes={"spec_mistake"}, message="axis 0"),
    Bug("ln_unbiased_var", "LayerNorm", "the row variance with ddof=1; the backward right for it",
        [within("LayerNorm.updateOutput", "var = input.var(axis=1, keepdims=True)",
                "var = input.var(axis=1, ddof=1, keepdims=True)")],
        causes={"spec_mistake"}, message="unbiased variance"),
    Bug("ln_gamma_starts_zero", "LayerNorm", "gamma starts as zeros, not ones",
        [("        self.gamma = np.ones(n_features)\n        self.beta = np.zeros(n_features)\n",
          "        self.gamma = np.zeros(n_features)\n        self.beta = np.zeros(n_features)\n")],
        message="right after LayerNorm("),
    Bug("ln_grad_no_variance_path", "LayerNorm",
        "gradInput ignores that the row variance depends on the input",
        [within("LayerNorm.updateGradInput",
                "(centered - xhat * (gx * xhat).mean(axis=1, keepdims=True))", "centered")]),
    Bug("ln_gradgamma_without_xhat", "LayerNorm", "gradGamma forgets the factor xhat",
        [within("LayerNorm.accGradParameters", "np.sum(gradOutput * self.normalized, axis=0)",
                "np.sum(gradOutput, axis=0)")]),
]

CRITERIONS = [
    Bug("bce_no_clip", "BCECriterion", "no clipping: log(0) and division by 0",
        [within("BCECriterion.updateOutput", "np.clip(input, self.EPS, 1 - self.EPS)",
                "input"),
         within("BCECriterion.updateGradInput", "np.clip(input, self.EPS, 1 - self.EPS)",
                "input")],
        causes={"nonfinite"}),
    Bug("bce_mean_over_all", "BCECriterion",
        "PyTorch's default reduction: a mean over all elements, in both passes",
        [within("BCECriterion.updateOutput", "-np.sum(log_likelihood) / input.shape[0]",
                "-np.mean(log_likelihood)"),
         within("BCECriterion.updateGradInput", "/ input.shape[0]", "/ input.size")],
        causes={"spec_mistake"}, message="batch * n"),
    Bug("ce_no_max_shift", "CrossEntropyCriterion",
        "log-sum-exp without subtracting the row maximum",
        [within("CrossEntropyCriterion.updateOutput",
                "shifted = input - input.max(axis=1, keepdims=True)", "shifted = input"),
         within("CrossEntropyCriterion.updateGradInput",
                "exps = np.exp(input - input.max(axis=1, keepdims=True))",
                "exps = np.exp(input)")],
        causes={"nonfinite"}),
    Bug("ce_onehot_only", "CrossEntropyCriterion",
        "treats every target as one-hot: class-index targets are not converted",
        [within("CrossEntropyCriterion.updateOutput",
                "np.eye(input.shape[1])[target] if np.ndim(target) == 1 else target", "target"),
         within("CrossEntropyCriterion.updateGradInput",
                "np.eye(input.shape[1])[target] if np.ndim(target) == 1 else target", "target")],
        message="class-index"),
    Bug("ce_grad_not_over_batch", "CrossEntropyCriterion",
        "the gradient is not divided by the batch size",
        [within("CrossEntropyCriterion.updateGradInput", "(probs - onehot) / input.shape[0]",
                "probs - onehot")],
        causes={"spec_mistake", "times_batch"}),
]

OPTIMIZERS = [
    Bug("adamw_l2_coupled", "adamw", "weight decay added to the gradient (Adam + L2)",
        [rewrite("adamw", """
            lr, t = config["learning_rate"], state["t"]
            beta1, beta2 = config["beta1"], config["beta2"]
            grad = current_grad + config["weight_decay"] * current_var
            np.add(beta1 * var_first_moment, (1 - beta1) * grad, out=var_first_moment)
            np.add(beta2 * var_second_moment, (1 - beta2) * grad**2, out=var_second_moment)
            lr_t = lr * np.sqrt(1 - beta2**t) / (1 - beta1**t)
            step = lr_t * var_first_moment / (np.sqrt(var_second_moment) + config["epsilon"])
            current_var -= step
        """)],
        causes={"optimizer_mistake"}, message="L2"),
    Bug("adamw_decay_after_step", "adamw", "weight decay applied after the Adam step",
        [edits("adamw", ("""\
            current_var -= lr * config["weight_decay"] * current_var
""", ""), ("""\
            current_var -= step
""", """\
            current_var -= step
            current_var -= lr * config["weight_decay"] * current_var
"""))],
        causes={"optimizer_mistake"}, message="after the Adam step"),
    Bug("rmsprop_eps_inside_sqrt", "rmsprop", "sqrt(v + eps) instead of sqrt(v) + eps",
        [within("rmsprop", "(np.sqrt(mean_square) + config[\"epsilon\"])",
                "np.sqrt(mean_square + config[\"epsilon\"])")],
        causes={"optimizer_mistake"}),
    Bug("rmsprop_rebinds_state", "rmsprop",
        "v = decay * v + ... rebinds a local name: the running average is never stored",
        [within("rmsprop",
                "np.add(decay * mean_square, (1 - decay) * current_grad**2, out=mean_square)",
                "mean_square = decay * mean_square + (1 - decay) * current_grad**2")],
        message="starts from fresh state"),
]

CONV = [
    Bug("conv_padding_k_half", "Conv2d",
        "padding k // 2 as in the core assignment, ignoring the padding argument",
        [within("Conv2d._windows", "k, s, p = self.kernel_size, self.stride, self.padding",
                "k, s, p = self.kernel_size, self.stride, self.kernel_size // 2"),
         within("Conv2d.updateGradInput",
                "k, s, p = self.kernel_size, self.stride, self.padding",
                "k, s, p = self.kernel_size, self.stride, self.kernel_size // 2")],
        causes={"shape"}),
    Bug("conv_grad_input_stride_1", "Conv2d",
        "gradInput scatters as if the stride were 1 (right for stride 1 only)",
        [within("Conv2d.updateGradInput",
                "gpad[:, :, i:i + s * out_h:s, j:j + s * out_w:s] += per_offset[:, i, j]",
                "gpad[:, :, i:i + out_h, j:j + out_w] += per_offset[:, i, j]")]),
    Bug("conv_gradW_layout", "Conv2d", "gradW left as (in, out, k, k): channels transposed",
        [within("Conv2d.accGradParameters", "grad.transpose(3, 0, 1, 2)",
                "grad.transpose(0, 3, 1, 2).reshape(self.gradW.shape)")]),
    Bug("avgpool_sum", "AvgPool2d", "window sums instead of means, in both passes",
        [within("AvgPool2d.updateOutput", ".mean(axis=(3, 5))", ".sum(axis=(3, 5))"),
         within("AvgPool2d.updateGradInput", " / (k * k)", "")],
        causes={"spec_mistake"}, message="k * k"),
    Bug("avgpool_needs_divisible", "AvgPool2d",
        "reshapes without cropping, as MaxPool2d does: fails when h or w is not a multiple of k",
        [within("AvgPool2d.updateOutput", "cropped = input[:, :, :out_h * k, :out_w * k]",
                "cropped = input"),
         rewrite("AvgPool2d.updateGradInput", """
            k = self.kernel_size
            self.gradInput = gradOutput.repeat(k, axis=2).repeat(k, axis=3) / (k * k)
        """)],
        message="not divisible"),
]

RESIDUAL = [
    Bug("residual_no_skip_gradient", "Residual",
        "backward returns only the module's gradInput (the skip path's gradient is lost)",
        [rewrite("Residual.backward",
                 "self.gradInput = self.module.backward(input, gradOutput)")],
        causes={"spec_mistake"}, message="skip path"),
    Bug("residual_in_place_add", "Residual",
        "out = module.forward(x); out += x changes the module's own output",
        [rewrite("Residual.updateOutput", """
            self.output = self.module.forward(input)
            self.output += input
        """)],
        message="in place"),
    Bug("residual_module_update_methods", "Residual",
        "backward calls the module's updateGradInput and accGradParameters: fine for a layer, "
        "but a Sequential inside has only backward",
        [rewrite("Residual.backward", """
            module_grad = self.module.updateGradInput(input, gradOutput)
            self.module.accGradParameters(input, gradOutput)
            self.gradInput = gradOutput + module_grad
        """)],
        message="Sequential implements backward"),
    Bug("residual_nested_parameters", "Residual",
        "getParameters returns the module's list as is: nested for a Sequential inside",
        [rewrite("Residual.getParameters", "return self.module.getParameters()"),
         rewrite("Residual.getGradParameters", "return self.module.getGradParameters()")],
        causes={"container_params"}),
]

RNN = [
    Bug("rnn_truncated_bptt", "RNN",
        "backward ignores the gradient coming from the next time step",
        [within("RNN.updateGradInput", "grad_h = gradOutput[:, t] + from_next",
                "grad_h = gradOutput[:, t]")],
        causes={"spec_mistake"}, message="through time"),
    Bug("rnn_gradWhh_current_state", "RNN", "gradW_hh multiplies da_t by h_t instead of h_{t-1}",
        [within("RNN.accGradParameters", "self.hidden[:, :-1]", "self.hidden[:, 1:]")]),
    Bug("rnn_state_kept_between_calls", "RNN",
        "h_0 is the last hidden state of the previous call (same batch size), not zeros",
        [within("RNN.updateOutput",
                "        self.hidden = np.zeros((batch, steps + 1, n_hidden), dtype=dtype)\n",
                "        last = getattr(self, 'hidden', None)\n"
                "        self.hidden = np.zeros((batch, steps + 1, n_hidden), dtype=dtype)\n"
                "        if last is not None and last.shape[0] == batch:\n"
                "            self.hidden[:, 0] = last[:, -1]\n")],
        message="the same function of its input on every call"),
    Bug("rnn_param_grads_assigned_in_loop", "RNN",
        "parameter gradients assigned (=) at every step of a time loop: only the last is left",
        [rewrite("RNN.accGradParameters", """
            for t in range(input.shape[1]):
                self.gradW_ih[...] = self.grad_pre[:, t].T @ input[:, t]
                self.gradW_hh[...] = self.grad_pre[:, t].T @ self.hidden[:, t]
                self.gradb[...] = self.grad_pre[:, t].sum(axis=0)
        """)],
        causes={"spec_mistake"}, message="summed over the steps"),
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

BUGS = ACTIVATIONS + LAYERNORM + CRITERION_BASE + CRITERIONS + OPTIMIZERS + CONV + RESIDUAL + RNN
