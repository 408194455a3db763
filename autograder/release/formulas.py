"""LaTeX formulas for the notebook's component cells (the docstrings hold the plain-text ones).

Notation: x the input, y the output, g = dL/dy the gradOutput, B the batch size, n the batch
index; a component without an entry gets no formula block.
"""

from __future__ import annotations

FORMULAS: dict[str, list[str]] = {
    "Module": [
        r"\texttt{forward}(x) = \texttt{updateOutput}(x), \qquad "
        r"\texttt{backward}(x, g) = \frac{\partial L}{\partial x} \text{ given } "
        r"g = \frac{\partial L}{\partial y}",
    ],
    "Sequential": [
        r"y_0 = x, \qquad y_i = f_i(y_{i-1}), \qquad y = y_m",
        r"g_m = g, \qquad g_{i-1} = f_i.\texttt{backward}(y_{i-1}, g_i), \qquad "
        r"\frac{\partial L}{\partial x} = g_0",
    ],
    "Linear": [
        r"Y = X W^\top + b",
        r"\frac{\partial L}{\partial X} = G W, \qquad \frac{\partial L}{\partial W} = G^\top X, "
        r"\qquad \frac{\partial L}{\partial b} = \sum_n G_{n,:}",
    ],
    "SoftMax": [
        r"p_{ni} = \frac{e^{x_{ni}}}{\sum_j e^{x_{nj}}}",
        r"\frac{\partial L}{\partial x_{ni}} = p_{ni} \Big( g_{ni} - \sum_j g_{nj}\, p_{nj} \Big)",
    ],
    "LogSoftMax": [
        r"y_{ni} = x_{ni} - \log \sum_j e^{x_{nj}}",
        r"\frac{\partial L}{\partial x_{ni}} = g_{ni} - p_{ni} \sum_j g_{nj}, \qquad "
        r"p = \mathrm{softmax}(x)",
    ],
    "BatchNormalization": [
        r"\mu = \frac{1}{B} \sum_n x_n, \qquad \sigma^2 = \frac{1}{B} \sum_n (x_n - \mu)^2, "
        r"\qquad \hat x_n = \frac{x_n - \mu}{\sqrt{\sigma^2 + \varepsilon}}",
        r"\mu_{\text{moving}} \leftarrow \alpha\, \mu_{\text{moving}} + (1 - \alpha)\, \mu, "
        r"\qquad \sigma^2_{\text{moving}} \leftarrow \alpha\, \sigma^2_{\text{moving}} "
        r"+ (1 - \alpha)\, \sigma^2",
        r"\frac{\partial L}{\partial x_n} = \frac{1}{\sqrt{\sigma^2 + \varepsilon}} \Big( g_n "
        r"- \frac{1}{B} \sum_k g_k - \hat x_n \frac{1}{B} \sum_k g_k \hat x_k \Big)",
    ],
    "ChannelwiseScaling": [
        r"y_{nj} = \gamma_j\, x_{nj} + \beta_j",
        r"\frac{\partial L}{\partial x_{nj}} = \gamma_j\, g_{nj}, \qquad "
        r"\frac{\partial L}{\partial \gamma_j} = \sum_n g_{nj}\, x_{nj}, \qquad "
        r"\frac{\partial L}{\partial \beta_j} = \sum_n g_{nj}",
    ],
    "Dropout": [
        r"y = \frac{m \odot x}{1 - p}, \quad m_i \sim \mathrm{Bernoulli}(1 - p) "
        r"\text{ (training)}, \qquad y = x \text{ (evaluation)}",
        r"\frac{\partial L}{\partial x} = \frac{m \odot g}{1 - p} \text{ (same mask } m)",
    ],
    "ReLU": [
        r"y = \max(x, 0), \qquad \frac{\partial L}{\partial x} = g \cdot [x > 0]",
    ],
    "LeakyReLU": [
        r"y = \begin{cases} x & x > 0 \\ a\, x & x \le 0 \end{cases}, \qquad "
        r"\frac{\partial L}{\partial x} = \begin{cases} g & x > 0 \\ a\, g & x \le 0 "
        r"\end{cases}",
    ],
    "ELU": [
        r"y = \begin{cases} x & x > 0 \\ \alpha (e^x - 1) & x \le 0 \end{cases}, \qquad "
        r"\frac{\partial L}{\partial x} = \begin{cases} g & x > 0 \\ \alpha e^x g & x \le 0 "
        r"\end{cases}",
    ],
    "SoftPlus": [
        r"y = \log(1 + e^x), \qquad \frac{\partial L}{\partial x} = g\, \sigma(x) "
        r"= \frac{g}{1 + e^{-x}}",
    ],
    "MSECriterion": [
        r"L = \frac{1}{B} \sum_{n,i} (x_{ni} - t_{ni})^2, \qquad "
        r"\frac{\partial L}{\partial x} = \frac{2}{B} (x - t)",
    ],
    "ClassNLLCriterionUnstable": [
        r"L = -\frac{1}{B} \sum_{n,i} t_{ni} \log \tilde p_{ni}, \qquad "
        r"\tilde p = \mathrm{clip}(p, \varepsilon, 1 - \varepsilon)",
        r"\frac{\partial L}{\partial p} = -\frac{1}{B} \frac{t}{\tilde p}",
    ],
    "ClassNLLCriterion": [
        r"L = -\frac{1}{B} \sum_{n,i} t_{ni}\, x_{ni} \quad (x = \log p), \qquad "
        r"\frac{\partial L}{\partial x} = -\frac{t}{B}",
    ],
    "sgd_momentum": [
        r"v \leftarrow \mu\, v + \eta\, g, \qquad \theta \leftarrow \theta - v",
    ],
    "adam_optimizer": [
        r"m \leftarrow \beta_1 m + (1 - \beta_1)\, g, \qquad "
        r"v \leftarrow \beta_2 v + (1 - \beta_2)\, g^2",
        r"\eta_t = \eta \frac{\sqrt{1 - \beta_2^t}}{1 - \beta_1^t}, \qquad "
        r"\theta \leftarrow \theta - \eta_t \frac{m}{\sqrt{v} + \epsilon}",
    ],
    "Conv2d": [
        r"y_{n,o,i,j} = b_o + \sum_{c,u,v} \tilde x_{n,c,i+u,j+v}\, W_{o,c,u,v} "
        r"\quad (\tilde x = x \text{ zero-padded by } \lfloor k/2 \rfloor)",
        r"\frac{\partial L}{\partial W_{o,c,u,v}} = \sum_{n,i,j} g_{n,o,i,j}\, "
        r"\tilde x_{n,c,i+u,j+v}, \qquad "
        r"\frac{\partial L}{\partial b_o} = \sum_{n,i,j} g_{n,o,i,j}",
    ],
    "MaxPool2d": [
        r"y_{n,c,i,j} = \max_{0 \le u, v < k} x_{n,c,ki+u,kj+v}",
        r"\frac{\partial L}{\partial x} = g \text{ at the (first) maximum of each window, "
        r"0 elsewhere}",
    ],
    "Flatten": [
        r"y = \mathrm{reshape}(x, (B, -1)), \qquad "
        r"\frac{\partial L}{\partial x} = \mathrm{reshape}(g, \mathrm{shape}(x))",
    ],
}
