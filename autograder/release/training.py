"""The notebook's MNIST section: the graded network trained with the student's code, then the
same network in PyTorch, with loss and accuracy curves and accuracy / time per epoch side by
side.

Everything comes from the assignment's ``[mnist]`` table (layers, criterion, optimizer,
epochs, batch size). Function cells only define functions (imports inside their bodies), so
they cost nothing when the grader runs a submitted notebook; the cells that do the work are
guarded. ``NNGRADE_QUICK=1`` in the environment trains one epoch on a small subset (tests).
"""

from __future__ import annotations

import json
from typing import Any

from nbformat.v4 import new_code_cell, new_markdown_cell

from autograder.spec import Assignment

GUARD = 'if __name__ == "__main__":  # skipped when the grader runs your notebook'
QUICK_SIZES = (2000, 500)  # train and test images with NNGRADE_QUICK=1

# NumPy layer -> (PyTorch expression, features after it) from (args, features before it).
_TORCH_LAYERS = {
    "Linear": lambda a, n: (f"nn.Linear({a[0]}, {a[1]})", a[1]),
    "BatchNormalization": lambda a, n: (
        f"nn.BatchNorm1d({n}, eps=1e-3, momentum={_num(1 - (a[0] if a else 0.0))}, "
        "affine=False)", n),
    "ChannelwiseScaling": lambda a, n: (f"ChannelwiseScaling({a[0]})", a[0]),
    "Dropout": lambda a, n: (f"nn.Dropout({_num(a[0] if a else 0.5)})", n),
    "ReLU": lambda a, n: ("nn.ReLU()", n),
    "LeakyReLU": lambda a, n: (f"nn.LeakyReLU({_num(a[0] if a else 0.03)})", n),
    "ELU": lambda a, n: (f"nn.ELU({_num(a[0] if a else 1.0)})", n),
    "SoftPlus": lambda a, n: ("nn.Softplus()", n),
    "SoftMax": lambda a, n: ("nn.Softmax(dim=1)", n),
    "LogSoftMax": lambda a, n: ("nn.LogSoftmax(dim=1)", n),
    "Conv2d": lambda a, n: (f"nn.Conv2d({a[0]}, {a[1]}, {a[2]}, padding={a[2] // 2})", None),
    "MaxPool2d": lambda a, n: (f"nn.MaxPool2d({a[0]})", None),
    "Flatten": lambda a, n: ("nn.Flatten()", None),
}
_TORCH_LOSSES = {
    "ClassNLLCriterion": "nn.NLLLoss()",
    "ClassNLLCriterionUnstable":
        "lambda p, labels: nn.functional.nll_loss(p.clamp(1e-15, 1 - 1e-15).log(), labels)",
    "MSECriterion": "lambda out, labels: ((out - nn.functional.one_hot(labels, 10).to(out.dtype))"
                    " ** 2).sum() / len(out)",
}
NUMPY_TRAIN = f"""{GUARD}
    try:
        numpy_history = train_numpy(DATA, EPOCHS, BATCH_SIZE)
    except NotImplementedError as exc:  # a component the network needs is still a stub
        numpy_history = None
        print(f"your network cannot train yet: {{exc}}")"""
_CHANNELWISE = '''
    class ChannelwiseScaling(nn.Module):
        def __init__(self, n):
            super().__init__()
            bound = n ** -0.5
            self.gamma = nn.Parameter(torch.empty(n).uniform_(-bound, bound))
            self.beta = nn.Parameter(torch.empty(n).uniform_(-bound, bound))

        def forward(self, x):
            return self.gamma * x + self.beta
'''


def training_cells(assignment: Assignment) -> list:
    cfg = assignment.mnist
    names = _canonical(assignment, cfg)
    return [
        new_markdown_cell(_about(cfg, names), id="mnist-about"),
        new_code_cell(_data_cell(cfg), id="mnist-data"),
        new_code_cell(_numpy_functions(cfg, names), id="mnist-numpy-functions"),
        new_code_cell(NUMPY_TRAIN, id="mnist-numpy-train"),
        *_torch_cells(cfg, names),
        new_markdown_cell("### Curves and comparison", id="mnist-compare-about"),
        new_code_cell(_compare_cell(), id="mnist-compare"),
    ]


def _torch_cells(cfg: dict, names: dict[str, str]) -> list:
    try:
        functions = _torch_functions(cfg, names)
    except ValueError as exc:  # a layer without a PyTorch twin: compare nothing
        return [new_markdown_cell(f"### PyTorch\n\nNo PyTorch comparison: {exc}.",
                                  id="mnist-torch-about"),
                new_code_cell(f"{GUARD}\n    torch_history = None", id="mnist-torch-train")]
    return [
        new_markdown_cell("### The same network in PyTorch\n\nSame layers, initialisation "
                          "ranges, loss, optimizer, batches and epochs, for comparison.",
                          id="mnist-torch-about"),
        new_code_cell(functions, id="mnist-torch-functions"),
        new_code_cell(f"{GUARD}\n    torch_history = train_torch(DATA, EPOCHS, BATCH_SIZE)",
                      id="mnist-torch-train"),
    ]


def _canonical(assignment: Assignment, cfg: dict) -> dict[str, str]:
    """Spec names (which may be aliases) of the network's parts to canonical component names."""
    names = [layer[0] for layer in cfg["layers"]]
    names += [cfg.get("container", "Sequential"), cfg["criterion"], cfg["optimizer"]]
    out = {}
    for name in names:
        try:
            out[name] = assignment.component(name).name
        except KeyError:
            out[name] = name
    return out


def _layer_call(name: str, args: list[Any]) -> str:
    return f"{name}({', '.join(_num(a) if isinstance(a, float) else repr(a) for a in args)})"


def _num(value: float) -> str:
    return repr(round(float(value), 12))


def _about(cfg: dict, names: dict[str, str]) -> str:
    layers = " → ".join(_layer_call(names[layer[0]], layer[1:]) for layer in cfg["layers"])
    opt = ", ".join(f"{k}={v!r}" for k, v in cfg.get("optimizer_config", {}).items())
    return "\n\n".join([
        "## Train your network on MNIST",
        f"The graded network: `{layers}`, trained with `{names[cfg['criterion']]}` and "
        f"`{names[cfg['optimizer']]}` ({opt}) for {cfg.get('epochs', 1)} epochs in batches of "
        f"{cfg.get('batch_size', 128)}. When you submit, the grader trains it the same way "
        f"with your classes and needs a test accuracy of at least "
        f"{float(cfg.get('threshold', 0.97)):.0%}.",
        "Below: your NumPy network, the same network in PyTorch, their loss and accuracy "
        "curves, and the test accuracy and seconds per epoch side by side. Set the "
        "environment variable `NNGRADE_QUICK=1` for a quick run (one epoch on a small "
        "subset).",
    ])


def _data_cell(cfg: dict) -> str:
    n_train, n_test = QUICK_SIZES
    shape = cfg.get("input_shape")
    reshape = "(len(x), -1)" if not shape else "(len(x), " + ", ".join(map(str, shape)) + ")"
    return f'''{GUARD}
    import os

    from autograder.mnist import load_mnist  # the MNIST files ship with nngrade

    QUICK = os.environ.get("NNGRADE_QUICK") == "1"  # one epoch on a small subset
    EPOCHS = 1 if QUICK else {int(cfg.get("epochs", 1))}
    BATCH_SIZE = {int(cfg.get("batch_size", 128))}
    DATA = []
    for split, size in (("train", {n_train}), ("test", {n_test})):
        x, y = load_mnist(split)
        if QUICK:
            x, y = x[:size], y[:size]
        DATA += [x.reshape{reshape}.astype(np.float32) / 255, y.astype(np.int64)]
    print("train images", DATA[0].shape, "test images", DATA[2].shape)'''


def _numpy_functions(cfg: dict, names: dict[str, str]) -> str:
    adds = "\n".join(f"    net.add({_layer_call(names[layer[0]], layer[1:])})"
                     for layer in cfg["layers"])
    config = json.dumps(dict(cfg.get("optimizer_config", {})))
    return f'''def accuracy(predict, x, labels, chunk=1000):
    """Fraction of correct argmax predictions, ``predict`` applied ``chunk`` rows at a time."""
    hits = sum(int((predict(x[i:i + chunk]).argmax(axis=1) == labels[i:i + chunk]).sum())
               for i in range(0, len(x), chunk))
    return hits / len(x)


def train_numpy(data, epochs, batch_size, seed={int(cfg.get("seed", 0))}):
    """Train the graded network built from your classes; returns the curves and timings."""
    import time

    x_train, y_train, x_test, y_test = data
    np.random.seed(seed)  # your initialisers and Dropout draw from numpy's global RNG
    net = {names[cfg.get("container", "Sequential")]}()
{adds}
    criterion = {names[cfg["criterion"]]}()
    config, state = {config}, {{}}
    onehot = np.eye(10, dtype=np.float32)
    order_rng = np.random.RandomState(seed)
    history = {{"loss": [], "train_acc": [], "test_acc": [], "seconds": []}}
    for epoch in range(epochs):
        started = time.perf_counter()
        net.train()
        order = order_rng.permutation(len(x_train))
        losses = []
        for first in range(0, len(order), batch_size):
            batch = order[first:first + batch_size]
            xb, tb = x_train[batch], onehot[y_train[batch]]
            net.zeroGradParameters()
            scores = net.forward(xb)
            losses.append(float(criterion.forward(scores, tb)))
            net.backward(xb, criterion.backward(scores, tb))
            {names[cfg["optimizer"]]}(net.getParameters(), net.getGradParameters(), config, state)
        history["seconds"].append(time.perf_counter() - started)
        history["loss"] += losses
        net.evaluate()
        history["train_acc"].append(accuracy(net.forward, x_train, y_train))
        history["test_acc"].append(accuracy(net.forward, x_test, y_test))
        print(f"epoch {{epoch + 1}}: loss {{np.mean(losses):.4f}}, "
              f"test accuracy {{history['test_acc'][-1]:.2%}}, {{history['seconds'][-1]:.1f}} s")
    return history'''


def _torch_functions(cfg: dict, names: dict[str, str]) -> str:
    layers, features = [], None
    for layer in cfg["layers"]:
        name = names[layer[0]]
        if name not in _TORCH_LAYERS:
            raise ValueError(f"no PyTorch equivalent for layer {name!r} in the MNIST network")
        expr, features = _TORCH_LAYERS[name](layer[1:], features)
        layers.append(f"        {expr},")
    criterion = names[cfg["criterion"]]
    if criterion not in _TORCH_LOSSES:
        raise ValueError(f"no PyTorch equivalent for the criterion {criterion!r}")
    helper = _CHANNELWISE if any(names[layer[0]] == "ChannelwiseScaling"
                                 for layer in cfg["layers"]) else ""
    layer_lines = "\n".join(layers)
    return f'''def build_torch(seed):
    """The graded network, its loss and its optimizer in PyTorch."""
    import torch
    from torch import nn
{helper}
    torch.manual_seed(seed)
    net = nn.Sequential(
{layer_lines}
    )
    loss_fn = {_TORCH_LOSSES[criterion]}
    optimizer = {_torch_optimizer(cfg, names)}
    return net, loss_fn, optimizer


def train_torch(data, epochs, batch_size, seed={int(cfg.get("seed", 0))}):
    """Train the PyTorch twin exactly like ``train_numpy``; same curves and timings."""
    import time

    import torch

    x_train, y_train, x_test, y_test = (torch.from_numpy(a) for a in data)
    net, loss_fn, optimizer = build_torch(seed)

    def predict(x):
        with torch.no_grad():
            return net(x).numpy()

    order_rng = np.random.RandomState(seed)
    history = {{"loss": [], "train_acc": [], "test_acc": [], "seconds": []}}
    for epoch in range(epochs):
        started = time.perf_counter()
        net.train()
        order = torch.from_numpy(order_rng.permutation(len(x_train)))
        for first in range(0, len(order), batch_size):
            batch = order[first:first + batch_size]
            optimizer.zero_grad()
            loss = loss_fn(net(x_train[batch]), y_train[batch])
            loss.backward()
            optimizer.step()
            history["loss"].append(loss.item())
        history["seconds"].append(time.perf_counter() - started)
        net.eval()
        history["train_acc"].append(accuracy(predict, x_train, y_train.numpy()))
        history["test_acc"].append(accuracy(predict, x_test, y_test.numpy()))
        print(f"epoch {{epoch + 1}}: test accuracy {{history['test_acc'][-1]:.2%}}, "
              f"{{history['seconds'][-1]:.1f}} s")
    return history'''


def _torch_optimizer(cfg: dict, names: dict[str, str]) -> str:
    c = cfg.get("optimizer_config", {})
    name = names[cfg["optimizer"]]
    if name == "adam_optimizer":
        return (f"torch.optim.Adam(net.parameters(), lr={c['learning_rate']!r}, "
                f"betas=({c['beta1']!r}, {c['beta2']!r}), eps={c['epsilon']!r})")
    if name == "sgd_momentum":  # v = m*v + lr*g; x -= v  is torch's SGD with lr folded in
        return (f"torch.optim.SGD(net.parameters(), lr={c['learning_rate']!r}, "
                f"momentum={c['momentum']!r})")
    raise ValueError(f"no PyTorch equivalent for the optimizer {name!r}")


def _compare_cell() -> str:
    return f'''{GUARD}
    import matplotlib.pyplot as plt

    runs = {{"yours (NumPy)": numpy_history, "PyTorch": torch_history}}
    runs = {{label: history for label, history in runs.items() if history is not None}}
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(12, 4))
    for color, (label, history) in enumerate(runs.items()):
        ax_loss.plot(history["loss"], f"C{{color}}", label=label, alpha=0.7)
        epochs = range(1, len(history["test_acc"]) + 1)
        ax_acc.plot(epochs, history["test_acc"], f"C{{color}}o-", label=f"{{label}}, test")
        ax_acc.plot(epochs, history["train_acc"], f"C{{color}}x--", label=f"{{label}}, train")
    ax_loss.set(xlabel="batch", ylabel="training loss", title="loss")
    ax_acc.set(xlabel="epoch", ylabel="accuracy", title="accuracy")
    for ax in (ax_loss, ax_acc):
        ax.legend()
    fig.tight_layout()
    fig.savefig("mnist_curves.png", dpi=80)
    plt.show()

    rows = {{"test accuracy": lambda h: f"{{h['test_acc'][-1]:.2%}}",
            "seconds / epoch": lambda h: f"{{np.mean(h['seconds']):.2f}}"}}
    print(f"{{'':<16}}" + "".join(f"{{label:>15}}" for label in runs))
    for row, value in rows.items():
        print(f"{{row:<16}}" + "".join(f"{{value(h):>15}}" for h in runs.values()))'''
