"""Check the reference solution (solutions/modules.py) against PyTorch and the formulas.

Every layer is compared with float64 PyTorch autograd: forward output, gradInput and
parameter gradients, on a few shapes including batch size 1, non-square layers and odd
spatial sizes.
"""

import ast
import re
import sys
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from paths import SOLUTION

from solutions import modules as M

SOLUTION_FILE = SOLUTION
RTOL, ATOL = 1e-10, 1e-12


@pytest.fixture(autouse=True)
def _seed():
    np.random.seed(0)
    torch.manual_seed(0)


def tensor(a, requires_grad=False):
    return torch.tensor(np.asarray(a), dtype=torch.float64, requires_grad=requires_grad)


def close(actual, expected, rtol=RTOL, atol=ATOL):
    if isinstance(expected, torch.Tensor):
        expected = expected.detach().numpy()
    np.testing.assert_allclose(np.asarray(actual), expected, rtol=rtol, atol=atol)


def torch_forward_backward(fn, x, grad_output, *params):
    """Run fn(x, *params) under autograd; return output, dx and the param grads."""
    xt = tensor(x, requires_grad=True)
    pts = [tensor(p, requires_grad=True) for p in params]
    out = fn(xt, *pts)
    out.backward(tensor(grad_output))
    return out, xt.grad, [p.grad for p in pts]


def with_zeros(x, every=5):
    """Put exact zeros into x (checks the gradient convention at the kink)."""
    x = x.copy()
    x.flat[::every] = 0.0
    return x


# ---------------------------------------------------------------------------------------
# Source structure: solution regions and imports
# ---------------------------------------------------------------------------------------

BEGIN, END = "# BEGIN SOLUTION", "# END SOLUTION"


def solution_regions(lines):
    """Return (begin, end) line indices of the regions; assert they are well formed."""
    regions, start = [], None
    for i, line in enumerate(lines):
        stripped = line.strip()
        if stripped == BEGIN:
            assert start is None, f"nested region at line {i + 1}"
            start = i
        elif stripped == END:
            assert start is not None, f"END without BEGIN at line {i + 1}"
            indent = len(lines[start]) - len(lines[start].lstrip())
            assert len(line) - len(line.lstrip()) == indent, f"indentation, line {i + 1}"
            assert has_code(lines[start + 1 : i]), f"empty region at line {i + 1}"
            regions.append((start, i))
            start = None
        else:
            assert "BEGIN SOLUTION" not in line and "END SOLUTION" not in line, i + 1
    assert start is None, "unterminated region"
    return regions


def has_code(body):
    return any(line.strip() for line in body)


def strip_solutions(source):
    lines = source.splitlines()
    out, previous = [], 0
    for begin, end in solution_regions(lines):
        indent = lines[begin][: len(lines[begin]) - len(lines[begin].lstrip())]
        out += lines[previous:begin] + [f"{indent}raise NotImplementedError"]
        previous = end + 1
    return "\n".join(out + lines[previous:]) + "\n"


def test_solution_regions_are_well_formed_and_cover_every_student_method():
    source = SOLUTION_FILE.read_text()
    template = strip_solutions(source)
    compile(template, "template.py", "exec")

    student_methods = {"updateOutput", "updateGradInput", "accGradParameters", "backward"}
    given_classes = {"Module", "Criterion"}
    tree = ast.parse(source)
    lines = source.splitlines()
    regions = solution_regions(lines)

    def has_region(node):
        return any(node.lineno - 1 < b < node.end_lineno for b, _ in regions)

    nodes = []
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name not in given_classes:
            nodes += [
                item
                for item in node.body
                if isinstance(item, ast.FunctionDef) and item.name in student_methods
            ]
        elif isinstance(node, ast.FunctionDef):
            nodes.append(node)
    assert nodes
    missing = [f"{n.name}@{n.lineno}" for n in nodes if not has_region(n)]
    assert not missing, missing


def test_only_numpy_and_stdlib_are_imported():
    tree = ast.parse(SOLUTION_FILE.read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module.split(".")[0])
    assert imported <= {"numpy"} | set(sys.stdlib_module_names), imported


def test_strip_solutions_helper_on_a_toy_source():
    source = "def f(x):\n    # BEGIN SOLUTION\n    y = x\n    # END SOLUTION\n    return y\n"
    template = strip_solutions(source)
    assert re.search(r"^    raise NotImplementedError$", template, re.M)
    assert "y = x" not in template


# ---------------------------------------------------------------------------------------
# Parameter-free layers against PyTorch
# ---------------------------------------------------------------------------------------

ELEMENTWISE = [
    (M.ReLU, F.relu),
    (lambda: M.LeakyReLU(), lambda x: F.leaky_relu(x, 0.03)),
    (lambda: M.LeakyReLU(slope=0.2), lambda x: F.leaky_relu(x, 0.2)),
    (lambda: M.ELU(), F.elu),
    (lambda: M.ELU(alpha=0.7), lambda x: F.elu(x, alpha=0.7)),
    (M.SoftPlus, F.softplus),
    (M.SoftMax, lambda x: torch.softmax(x, dim=1)),
    (M.LogSoftMax, lambda x: torch.log_softmax(x, dim=1)),
]
ROW_SHAPES = [(1, 5), (4, 7), (3, 1)]


@pytest.mark.parametrize("make, torch_fn", ELEMENTWISE)
@pytest.mark.parametrize("shape", ROW_SHAPES)
def test_parameter_free_layer_matches_torch(make, torch_fn, shape):
    x = with_zeros(np.random.randn(*shape) * 3)
    g = np.random.randn(*shape)
    layer = make()
    out = layer.forward(x)
    grad = layer.backward(x, g)
    assert out is layer.output and grad is layer.gradInput
    t_out, t_grad, _ = torch_forward_backward(torch_fn, x, g)
    close(out, t_out)
    close(grad, t_grad)


@pytest.mark.parametrize("make, torch_fn", ELEMENTWISE)
def test_extreme_inputs_are_stable(make, torch_fn):
    x = np.array([[-1000.0, -50.0, 0.0, 50.0, 1000.0], [1000.0, 999.0, 998.0, 0.5, -1000.0]])
    g = np.random.randn(*x.shape)
    layer = make()
    with warnings.catch_warnings(), np.errstate(over="raise", divide="raise", invalid="raise"):
        warnings.simplefilter("error")
        out = layer.forward(x)
        grad = layer.backward(x, g)
    assert np.all(np.isfinite(out)) and np.all(np.isfinite(grad))
    if torch_fn is not F.softplus:  # torch's softplus is linear above its threshold 20
        t_out, t_grad, _ = torch_forward_backward(torch_fn, x, g)
        close(out, t_out)
        close(grad, t_grad)


@pytest.mark.parametrize("shape", [(1, 2, 3, 4), (5, 3), (2, 1, 5)])
def test_flatten(shape):
    x = np.random.randn(*shape)
    layer = M.Flatten()
    out = layer.forward(x)
    assert out.shape == (shape[0], int(np.prod(shape[1:])))
    close(out, torch.flatten(tensor(x), 1))
    g = np.random.randn(*out.shape)
    grad = layer.backward(x, g)
    assert grad.shape == shape
    close(grad.reshape(out.shape), g)


def test_float32_is_preserved_by_parameter_free_layers():
    x = np.random.randn(4, 2, 6, 6).astype(np.float32)
    flat = x.reshape(4, -1)
    cases = [
        (M.ReLU(), flat),
        (M.LeakyReLU(), flat),
        (M.ELU(), flat),
        (M.SoftPlus(), flat),
        (M.SoftMax(), flat),
        (M.LogSoftMax(), flat),
        (M.BatchNormalization(alpha=0.9), flat),
        (M.Dropout(0.3), flat),
        (M.MaxPool2d(2), x),
        (M.Flatten(), x),
    ]
    for layer, inp in cases:
        for mode in (layer.train, layer.evaluate):
            mode()
            out = layer.forward(inp)
            grad = layer.backward(inp, np.ones_like(out))
            assert out.dtype == np.float32, layer
            assert grad.dtype == np.float32, layer


# ---------------------------------------------------------------------------------------
# Layers with parameters
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("batch, n_in, n_out", [(1, 3, 5), (4, 7, 2), (6, 4, 4)])
def test_linear_matches_torch(batch, n_in, n_out):
    layer = M.Linear(n_in, n_out)
    assert layer.W.shape == (n_out, n_in) and layer.b.shape == (n_out,)
    bound = 1 / np.sqrt(n_in)
    assert np.all(np.abs(layer.W) <= bound) and np.all(np.abs(layer.b) <= bound)
    x, g = np.random.randn(batch, n_in), np.random.randn(batch, n_out)

    gradW, gradb = layer.getGradParameters()
    layer.zeroGradParameters()
    out = layer.forward(x)
    grad = layer.backward(x, g)
    t_out, t_grad, (t_gW, t_gb) = torch_forward_backward(F.linear, x, g, layer.W, layer.b)
    close(out, t_out)
    close(grad, t_grad)
    close(layer.gradW, t_gW)
    close(layer.gradb, t_gb)
    assert layer.getParameters()[0] is layer.W and layer.getParameters()[1] is layer.b
    assert layer.getGradParameters()[0] is layer.gradW

    layer.zeroGradParameters()
    assert gradW is layer.gradW and gradb is layer.gradb  # zeroed in place
    assert not gradW.any() and not gradb.any()


@pytest.mark.parametrize("batch, n", [(1, 4), (5, 3), (3, 1)])
def test_channelwise_scaling_matches_torch(batch, n):
    layer = M.ChannelwiseScaling(n)
    x, g = np.random.randn(batch, n), np.random.randn(batch, n)
    layer.zeroGradParameters()
    out = layer.forward(x)
    grad = layer.backward(x, g)
    t_out, t_grad, (t_gg, t_gb) = torch_forward_backward(
        lambda x, gamma, beta: x * gamma + beta, x, g, layer.gamma, layer.beta
    )
    close(out, t_out)
    close(grad, t_grad)
    close(layer.gradGamma, t_gg)
    close(layer.gradBeta, t_gb)
    assert layer.getParameters() == [layer.gamma, layer.beta]
    assert layer.getGradParameters()[1] is layer.gradBeta
    layer.zeroGradParameters()
    assert not layer.gradGamma.any() and not layer.gradBeta.any()


CONV_CASES = [
    # batch, in, out, kernel, h, w
    (1, 1, 1, 3, 5, 5),
    (2, 3, 4, 5, 7, 6),
    (3, 2, 5, 1, 4, 9),
    (1, 4, 2, 3, 1, 8),
]


@pytest.mark.parametrize("batch, c_in, c_out, k, h, w", CONV_CASES)
def test_conv2d_matches_torch(batch, c_in, c_out, k, h, w):
    layer = M.Conv2d(c_in, c_out, k)
    assert layer.W.shape == (c_out, c_in, k, k) and layer.b.shape == (c_out,)
    assert np.all(np.abs(layer.W) <= 1 / np.sqrt(c_in))
    x, g = np.random.randn(batch, c_in, h, w), np.random.randn(batch, c_out, h, w)
    layer.zeroGradParameters()
    out = layer.forward(x)
    grad = layer.backward(x, g)

    def conv(x, W, b):
        return F.conv2d(x, W, b, padding=k // 2)

    t_out, t_grad, (t_gW, t_gb) = torch_forward_backward(conv, x, g, layer.W, layer.b)
    assert out.shape == (batch, c_out, h, w) and grad.shape == x.shape
    close(out, t_out)
    close(grad, t_grad)
    close(layer.gradW, t_gW)
    close(layer.gradb, t_gb)
    layer.zeroGradParameters()
    assert not layer.gradW.any() and not layer.gradb.any()


def test_conv2d_reused_across_shapes_matches_a_fresh_layer():
    """The layer keeps scratch arrays between passes (padded input, columns, gradOutput
    grid); a pass with another shape or dtype must not see the last one's values. The
    first two shapes give gradOutput grids of the same size, (2, 3, 3) and (8, 1, 1) with
    padding 1, so only their layout tells them apart; a width of 8 switches im2col from
    channels-last windows (k * in = 6 values per run) to channel-major ones (8) and back."""
    layer = M.Conv2d(2, 3, 3)
    for batch, h, w, dtype in [(2, 3, 3, np.float64), (8, 1, 1, np.float64),
                               (2, 3, 3, np.float32), (1, 5, 4, np.float64),
                               (2, 3, 8, np.float64), (2, 3, 3, np.float64)]:
        x = np.random.randn(batch, 2, h, w).astype(dtype)
        g = np.random.randn(batch, 3, h, w).astype(dtype)
        fresh = M.Conv2d(2, 3, 3)
        fresh.W, fresh.b = layer.W.copy(), layer.b.copy()
        for each in (layer, fresh):
            each.zeroGradParameters()
            each.forward(x)
            each.backward(x, g)
        np.testing.assert_array_equal(layer.output, fresh.output)
        np.testing.assert_array_equal(layer.gradInput, fresh.gradInput)
        np.testing.assert_array_equal(layer.gradW, fresh.gradW)
        np.testing.assert_array_equal(layer.gradb, fresh.gradb)


@pytest.mark.parametrize("w", [3, 9])  # channels-last windows, then channel-major ones
def test_conv2d_gradients_of_another_input_than_the_last_forward(w):
    """accGradParameters reuses the forward pass's columns only for the input they came from;
    for any other input it builds them again (a check may call it that way)."""
    layer = M.Conv2d(2, 3, 3)
    x, other = np.random.randn(2, 2, 4, w), np.random.randn(2, 2, 4, w)
    g = np.random.randn(2, 3, 4, w)
    layer.forward(x)
    layer.accGradParameters(other, g)
    _, _, (t_gW, t_gb) = torch_forward_backward(
        lambda x, W, b: F.conv2d(x, W, b, padding=1), other, g, layer.W, layer.b)
    close(layer.gradW, t_gW)
    close(layer.gradb, t_gb)


def test_conv2d_rejects_even_kernels():
    with pytest.raises(AssertionError):
        M.Conv2d(1, 1, 2)


@pytest.mark.parametrize(
    "shape, k", [((1, 1, 4, 4), 2), ((2, 3, 6, 9), 3), ((3, 2, 2, 4), 2), ((2, 2, 3, 3), 1)]
)
def test_maxpool_matches_torch_with_ties(shape, k):
    x = np.random.randint(0, 3, size=shape).astype(np.float64)  # many ties
    out_shape = (shape[0], shape[1], shape[2] // k, shape[3] // k)
    g = np.random.randn(*out_shape)
    layer = M.MaxPool2d(k)
    out = layer.forward(x)
    grad = layer.backward(x, g)
    t_out, t_grad, _ = torch_forward_backward(lambda x: F.max_pool2d(x, k), x, g)
    assert out.shape == out_shape
    close(out, t_out)
    close(grad, t_grad)

    # exactly one position per window receives the gradient, the first maximum
    ones = layer.backward(x, np.ones(out_shape))
    per_window = ones.reshape(*out_shape[:2], out_shape[2], k, out_shape[3], k).sum((3, 5))
    close(per_window, np.ones(out_shape))


def test_maxpool_first_maximum_of_a_constant_window():
    x = np.full((1, 1, 2, 2), 7.0)
    layer = M.MaxPool2d(2)
    layer.forward(x)
    grad = layer.backward(x, np.array([[[[3.0]]]]))
    close(grad, np.array([[[[3.0, 0.0], [0.0, 0.0]]]]))


# ---------------------------------------------------------------------------------------
# BatchNormalization and Dropout
# ---------------------------------------------------------------------------------------

EPS_BN = M.BatchNormalization.EPS


@pytest.mark.parametrize("batch, n", [(2, 3), (5, 4), (8, 1)])
def test_batchnorm_training_matches_torch(batch, n):
    x, g = np.random.randn(batch, n) * 2 + 1, np.random.randn(batch, n)
    layer = M.BatchNormalization(alpha=0.9)
    out = layer.forward(x)
    grad = layer.backward(x, g)
    t_out, t_grad, _ = torch_forward_backward(
        lambda x: F.batch_norm(x, None, None, training=True, eps=EPS_BN), x, g
    )
    close(out, t_out)
    close(grad, t_grad, atol=1e-10)


def test_batchnorm_batch_of_one():
    x = np.random.randn(1, 4)
    layer = M.BatchNormalization(alpha=0.5)
    close(layer.forward(x), np.zeros((1, 4)))
    close(layer.backward(x, np.random.randn(1, 4)), np.zeros((1, 4)))
    close(layer.moving_mean, 0.5 * x[0])
    close(layer.moving_variance, np.full(4, 0.5))


@pytest.mark.parametrize("alpha", [0.0, 0.9])
def test_batchnorm_moving_statistics_and_evaluation(alpha):
    n = 3
    layer = M.BatchNormalization(alpha=alpha)
    assert layer.EPS == 1e-3 and layer.alpha == alpha
    assert layer.moving_mean is None and layer.moving_variance is None

    mean, var = np.zeros(n), np.ones(n)
    for batch in (4, 7, 2):
        x = np.random.randn(batch, n) * 3 + 2
        layer.forward(x)
        mean = mean * alpha + x.mean(0) * (1 - alpha)
        var = var * alpha + ((x - x.mean(0)) ** 2).mean(0) * (1 - alpha)
        close(layer.moving_mean, mean)
        close(layer.moving_variance, var)

    layer.evaluate()
    x, g = np.random.randn(5, n), np.random.randn(5, n)
    out = layer.forward(x)
    grad = layer.backward(x, g)
    close(layer.moving_mean, mean)  # no update in evaluation mode
    close(out, (x - mean) / np.sqrt(var + EPS_BN))
    t_out, t_grad, _ = torch_forward_backward(
        lambda x: F.batch_norm(x, tensor(mean), tensor(var), training=False, eps=EPS_BN), x, g
    )
    close(out, t_out)
    close(grad, t_grad)


def test_batchnorm_evaluation_before_training_uses_zeros_and_ones():
    layer = M.BatchNormalization()
    layer.evaluate()
    x, g = np.random.randn(3, 2), np.random.randn(3, 2)
    close(layer.forward(x), x / np.sqrt(1 + EPS_BN))
    close(layer.backward(x, g), g / np.sqrt(1 + EPS_BN))


@pytest.mark.parametrize("p", [0.2, 0.5, 0.9])
def test_dropout_training(p):
    n = 20_000
    x = np.random.randn(100, n // 100)
    layer = M.Dropout(p)
    assert layer.p == p
    out = layer.forward(x)
    mask = layer.mask
    assert mask.shape == x.shape and set(np.unique(mask)) <= {0, 1}
    bound = 6 * np.sqrt(p * (1 - p) / n)
    assert abs(mask.mean() - (1 - p)) < bound
    close(out, x * mask / (1 - p))

    g = np.random.randn(*x.shape)
    grad = layer.backward(x, g)
    assert layer.mask is mask  # backward reuses the forward mask
    close(grad, g * mask / (1 - p))

    layer.forward(x)
    assert not np.array_equal(layer.mask, mask)  # fresh mask on every forward


def test_dropout_masks_follow_the_global_seed():
    """The reference draws from its own Generator, seeded from np.random: seeding np.random
    before building the layer (as the MNIST check and compare do) fixes every mask."""
    x = np.random.randn(64, 32).astype(np.float32)
    masks = []
    for _ in range(2):
        np.random.seed(7)
        layer = M.Dropout(0.3)
        masks.append([layer.forward(x).copy(), layer.forward(x).copy()])
    np.testing.assert_array_equal(masks[0], masks[1])
    assert not np.array_equal(masks[0][0], masks[0][1])
    assert masks[0][0].dtype == np.float32


def test_dropout_evaluation_is_identity():
    x, g = np.random.randn(6, 5), np.random.randn(6, 5)
    layer = M.Dropout(0.5)
    layer.evaluate()
    np.testing.assert_array_equal(layer.forward(x), x)
    np.testing.assert_array_equal(layer.backward(x, g), g)


def test_dropout_with_p_zero_is_identity_in_training():
    x, g = np.random.randn(6, 5), np.random.randn(6, 5)
    layer = M.Dropout(0.0)
    close(layer.forward(x), x)
    close(layer.backward(x, g), g)


# ---------------------------------------------------------------------------------------
# Criterions
# ---------------------------------------------------------------------------------------


def one_hot(labels, n_classes):
    return np.eye(n_classes)[labels]


def criterion_vs_torch(criterion, torch_loss, x, target):
    loss = criterion.forward(x, target)
    grad = criterion.backward(x, target)
    assert loss == criterion.output and grad is criterion.gradInput
    xt = tensor(x, requires_grad=True)
    t_loss = torch_loss(xt)
    t_loss.backward()
    assert np.ndim(loss) == 0
    close(loss, t_loss)
    close(grad, xt.grad)


@pytest.mark.parametrize("batch, n", [(1, 4), (5, 3)])
def test_mse_matches_torch(batch, n):
    x, target = np.random.randn(batch, n), np.random.randn(batch, n)
    criterion_vs_torch(
        M.MSECriterion(),
        lambda xt: F.mse_loss(xt, tensor(target), reduction="sum") / batch,
        x,
        target,
    )


@pytest.mark.parametrize("batch, n", [(1, 4), (6, 3)])
def test_class_nll_matches_torch(batch, n):
    labels = np.random.randint(0, n, size=batch)
    logp = torch.log_softmax(tensor(np.random.randn(batch, n)), 1).numpy()
    criterion_vs_torch(
        M.ClassNLLCriterion(),
        lambda xt: F.nll_loss(xt, torch.tensor(labels)),
        logp,
        one_hot(labels, n),
    )


@pytest.mark.parametrize("batch, n", [(1, 4), (6, 3)])
def test_class_nll_unstable_matches_torch(batch, n):
    labels = np.random.randint(0, n, size=batch)
    probs = torch.softmax(tensor(np.random.randn(batch, n)), 1).numpy()
    criterion_vs_torch(
        M.ClassNLLCriterionUnstable(),
        lambda xt: F.nll_loss(torch.log(xt), torch.tensor(labels)),
        probs,
        one_hot(labels, n),
    )


def test_class_nll_unstable_clips_zero_probabilities():
    criterion = M.ClassNLLCriterionUnstable()
    assert criterion.EPS == 1e-15
    probs = np.array([[0.0, 1.0], [0.5, 0.5]])
    target = one_hot(np.array([0, 1]), 2)
    with np.errstate(all="raise"):
        loss = criterion.forward(probs, target)
        grad = criterion.backward(probs, target)
    close(loss, -(np.log(1e-15) + np.log(0.5)) / 2)
    close(grad, np.array([[-1 / 1e-15, 0.0], [0.0, -1 / 0.5]]) / 2)


# ---------------------------------------------------------------------------------------
# Sequential
# ---------------------------------------------------------------------------------------


def torch_params(module):
    return [tensor(p, requires_grad=True) for p in module.getParameters()]


def test_sequential_mlp_matches_torch():
    net = M.Sequential()
    for layer in (M.Linear(6, 5), M.ReLU(), M.Linear(5, 4), M.LogSoftMax()):
        net.add(layer)
    criterion = M.ClassNLLCriterion()
    x, labels = np.random.randn(7, 6), np.random.randint(0, 4, size=7)
    target = one_hot(labels, 4)

    net.zeroGradParameters()
    out = net.forward(x)
    loss = criterion.forward(out, target)
    grad = net.backward(x, criterion.backward(out, target))
    assert out is net.output and grad is net.gradInput

    (W1, b1), (W2, b2) = torch_params(net[0]), torch_params(net[2])
    xt = tensor(x, requires_grad=True)
    t_out = torch.log_softmax(F.linear(F.relu(F.linear(xt, W1, b1)), W2, b2), 1)
    t_loss = F.nll_loss(t_out, torch.tensor(labels))
    t_loss.backward()
    close(out, t_out)
    close(loss, t_loss)
    close(grad, xt.grad)
    for ours, theirs in zip(net.getGradParameters(), [[W1, b1], [], [W2, b2], []], strict=True):
        assert len(ours) == len(theirs)
        for a, b in zip(ours, theirs, strict=True):
            close(a, b.grad)


def test_sequential_convnet_matches_torch():
    net = M.Sequential()
    layers = [
        M.Conv2d(2, 3, 3),
        M.LeakyReLU(0.1),
        M.MaxPool2d(2),
        M.Flatten(),
        M.Linear(3 * 2 * 3, 5),
        M.BatchNormalization(alpha=0.5),
        M.ChannelwiseScaling(5),
        M.Dropout(0.5),
        M.ELU(),
        M.Linear(5, 3),
        M.SoftMax(),
    ]
    for layer in layers:
        net.add(layer)
    net.evaluate()
    net[5].train()  # batch statistics, but no dropout
    assert not net.training and not net[7].training and net[5].training

    x, g = np.random.randn(4, 2, 5, 7)[..., :4, :6], np.random.randn(4, 3)
    out = net.forward(x)
    grad = net.backward(x, g)

    (cW, cb), (W1, b1), (gamma, beta), (W2, b2) = (torch_params(net[i]) for i in (0, 4, 6, 9))
    xt = tensor(x, requires_grad=True)
    h = F.max_pool2d(F.leaky_relu(F.conv2d(xt, cW, cb, padding=1), 0.1), 2)
    h = F.linear(torch.flatten(h, 1), W1, b1)
    h = F.batch_norm(h, None, None, training=True, eps=EPS_BN) * gamma + beta
    t_out = torch.softmax(F.linear(F.elu(h), W2, b2), 1)
    t_out.backward(tensor(g))
    close(out, t_out)
    close(grad, xt.grad, atol=1e-10)
    for module, params in zip(
        (net[0], net[4], net[6], net[9]),
        ((cW, cb), (W1, b1), (gamma, beta), (W2, b2)),
        strict=True,
    ):
        for ours, theirs in zip(module.getGradParameters(), params, strict=True):
            close(ours, theirs.grad, atol=1e-10)


def test_sequential_containers():
    inner = M.Sequential()
    inner.add(M.Dropout(0.5))
    net = M.Sequential()
    net.add(M.Linear(2, 3))
    net.add(inner)
    assert net[1] is inner and net[-1] is inner
    assert len(net.getParameters()) == 2 and net.getParameters()[1] == [[]]
    net.evaluate()
    assert not net.training and not inner.training and not inner[0].training
    x = np.random.randn(3, 2)
    close(net.forward(x), x @ net[0].W.T + net[0].b)  # nested, dropout off
    net.train()
    assert net.training and inner.training and inner[0].training
    assert isinstance(repr(net), str)


# ---------------------------------------------------------------------------------------
# Optimizers
# ---------------------------------------------------------------------------------------


def make_problem():
    """Three layers of variables (one without parameters) and three steps of gradients."""
    variables = [[np.random.randn(3, 2), np.random.randn(3)], [], [np.random.randn(4)]]
    grads = [[[np.random.randn(*v.shape) for v in layer] for layer in variables] for _ in range(3)]
    return variables, grads


def run_optimizer(optimizer, config, variables, grads_per_step):
    """Run the optimizer on copies; check the caller's arrays are updated in place."""
    ours = [[v.copy() for v in layer] for layer in variables]
    originals = [list(layer) for layer in ours]
    state = {}
    for grads in grads_per_step:
        optimizer(ours, grads, config, state)
    for layer, original in zip(ours, originals, strict=True):
        for v, o in zip(layer, original, strict=True):
            assert v is o
    return ours, state


def test_sgd_momentum_matches_formula_and_torch():
    variables, grads_per_step = make_problem()
    config = {"learning_rate": 0.1, "momentum": 0.9}
    ours, state = run_optimizer(M.sgd_momentum, config, variables, grads_per_step)
    assert sorted(state["accumulated_grads"]) == [0, 1, 2]

    flat = [v.copy() for layer in variables for v in layer]
    velocity = [np.zeros_like(v) for v in flat]
    for grads in grads_per_step:
        for i, g in enumerate(g for layer in grads for g in layer):
            velocity[i] = config["momentum"] * velocity[i] + config["learning_rate"] * g
            flat[i] = flat[i] - velocity[i]
    ours_flat = [v for layer in ours for v in layer]
    for a, b in zip(ours_flat, flat, strict=True):
        close(a, b)
    for i, v in enumerate(velocity):
        close(state["accumulated_grads"][i], v)

    # torch keeps buf = momentum * buf + g and steps by lr * buf: v_ours = lr * buf_torch
    params = [tensor(v, requires_grad=True) for layer in variables for v in layer]
    opt = torch.optim.SGD(params, lr=config["learning_rate"], momentum=config["momentum"])
    for grads in grads_per_step:
        for p, g in zip(params, (g for layer in grads for g in layer), strict=True):
            p.grad = tensor(g)
        opt.step()
    for a, p in zip(ours_flat, params, strict=True):
        close(a, p)


def test_adam_matches_formula_and_torch():
    variables, grads_per_step = make_problem()
    config = {"learning_rate": 0.01, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8}
    ours, state = run_optimizer(M.adam_optimizer, config, variables, grads_per_step)
    assert state["t"] == 3 and sorted(state["m"]) == [0, 1, 2] and sorted(state["v"]) == [0, 1, 2]

    b1, b2, eps, lr = config["beta1"], config["beta2"], config["epsilon"], config["learning_rate"]
    flat = [v.copy() for layer in variables for v in layer]
    m = [np.zeros_like(v) for v in flat]
    v = [np.zeros_like(x) for x in flat]
    for t, grads in enumerate(grads_per_step, start=1):
        for i, g in enumerate(g for layer in grads for g in layer):
            m[i] = b1 * m[i] + (1 - b1) * g
            v[i] = b2 * v[i] + (1 - b2) * g * g
            lr_t = lr * np.sqrt(1 - b2**t) / (1 - b1**t)
            flat[i] = flat[i] - lr_t * m[i] / (np.sqrt(v[i]) + eps)
    ours_flat = [x for layer in ours for x in layer]
    for a, b in zip(ours_flat, flat, strict=True):
        close(a, b)
    for i in range(len(flat)):
        close(state["m"][i], m[i])
        close(state["v"][i], v[i])

    # With epsilon = 0 the homework's update is exactly torch's (they place eps differently).
    config0 = dict(config, epsilon=0.0)
    ours0, _ = run_optimizer(M.adam_optimizer, config0, variables, grads_per_step)
    params = [tensor(x, requires_grad=True) for layer in variables for x in layer]
    opt = torch.optim.Adam(params, lr=lr, betas=(b1, b2), eps=0.0)
    for grads in grads_per_step:
        for p, g in zip(params, (g for layer in grads for g in layer), strict=True):
            p.grad = tensor(g)
        opt.step()
    for a, p in zip((x for layer in ours0 for x in layer), params, strict=True):
        close(a, p, rtol=1e-9)
