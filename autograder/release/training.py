"""The notebook's MNIST section: the graded network trained with the student's code, then the
same network in PyTorch, with loss and accuracy curves and accuracy / time per epoch side by
side.

Everything comes from the assignment's ``[mnist]`` table (layers, criterion, optimizer,
epochs, batch size). The training loop and the NumPy step are the grader's own
(autograder/worker/train.py), the PyTorch layers ``nngrade compare``'s
(autograder/compare/torch_layers.py): their definitions are copied verbatim into guarded
cells. The cells that define or do anything are guarded, so they cost nothing when the
grader runs a submitted notebook. ``NNGRADE_QUICK=1`` in the environment trains one epoch on
a small subset (tests).
"""

from __future__ import annotations

import json
from typing import Any

from nbformat.v4 import new_code_cell, new_markdown_cell

from autograder.compare import torch_layers
from autograder.release.source import definitions, indent
from autograder.spec import GRADER_PREFIX, Assignment

GUARD = 'if __name__ == "__main__":  # skipped when the grader runs your notebook'
QUICK_SIZES = (2000, 500)  # train and test images with NNGRADE_QUICK=1
WORKER = "worker/train.py"  # the grader's MNIST training: the loop and the NumPy step
TORCH = "compare/torch_layers.py"  # nngrade compare's homework-to-PyTorch mapping
LOOP_NAMES = ["NUM_CLASSES", "PREDICT_CHUNK", "training_log", "epoch_steps", "run_epochs",
              "to_float", "class_scores", "numpy_step", "predict"]
TORCH_NAMES = ["torch_layer", "torch_network", "torch_loss", "torch_optimizer", "torch_step",
               "torch_predict"]
NUMPY_TRAIN = f"""{GUARD}
    try:
        numpy_history = train_numpy(DATA, EPOCHS, BATCH_SIZE)
    except NotImplementedError as exc:  # a component the network needs is still a stub
        numpy_history = None
        print(f"your network cannot train yet: {{exc}}")"""


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
        if name.startswith(GRADER_PREFIX):  # "grader:adam": train.py's grader_adam
            out[name] = name.replace(":", "_")
            continue
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
        DATA += [x.reshape{reshape}.copy(), y.astype(np.int64)]  # uint8, scaled per batch
    print("train images", DATA[0].shape, "test images", DATA[2].shape)'''


def _shared(relative: str, names: list[str], imports: list[str], about: str) -> str:
    """Guarded verbatim copies of nngrade's definitions (their annotations need ``imports``)."""
    body = "\n".join([f"# {about}, copied by nngrade release", f"# from autograder/{relative}.",
                      *imports, "", "", definitions(relative, names)])
    return f"{GUARD}\n{indent(body)}"


EPOCH_HOOK = '''def epoch_hook(history, predict, data):
        """``run_epochs``' after_epoch: train and test accuracy (evaluation mode), a line."""
        x_train, y_train, x_test, y_test = data

        def after_epoch(epoch, log):
            history["train_acc"].append(float(np.mean(predict(x_train) == y_train)))
            history["test_acc"].append(float(np.mean(predict(x_test) == y_test)))
            print(f"epoch {epoch + 1}: loss {log['epoch_losses'][-1]:.4f}, test accuracy "
                  f"{history['test_acc'][-1]:.2%}, {log['epoch_seconds'][-1]:.1f} s")

        return after_epoch'''


def _numpy_functions(cfg: dict, names: dict[str, str]) -> str:
    adds = "\n".join(f"        net.add({_layer_call(names[layer[0]], layer[1:])})"
                     for layer in cfg["layers"])
    config = json.dumps(dict(cfg.get("optimizer_config", {})))
    grader_optimizer = [names[cfg["optimizer"]]] if cfg["optimizer"].startswith(GRADER_PREFIX) \
        else []
    shared = _shared(WORKER, [*LOOP_NAMES, *grader_optimizer], ["import math", "import time",
                                          "from collections.abc import Callable, Iterator",
                                          "from typing import Any"],
                     "The training loop the grader runs")
    return f'''{shared}


    {EPOCH_HOOK}


    def train_numpy(data, epochs, batch_size, seed={int(cfg.get("seed", 0))}):
        """Train the graded network built from your classes as the grader does; returns
        the curves and timings."""
        x_train, y_train = data[:2]
        np.random.seed(seed)  # your initialisers and Dropout draw from numpy's global RNG
        net = {names[cfg.get("container", "Sequential")]}()
{adds}
        config = {config}
        step = numpy_step(net, {names[cfg["criterion"]]}(), {names[cfg["optimizer"]]}, config, {{}},
                          x_train, y_train)

        def evaluate(x):
            net.evaluate()
            labels = predict(net, x)
            net.train()
            return labels

        history = {{"train_acc": [], "test_acc": []}}
        net.train()
        log = run_epochs(len(x_train), epochs, batch_size, seed, step,
                         epoch_hook(history, evaluate, data))
        return {{**history, "loss": log["batch_losses"], "seconds": log["epoch_seconds"]}}'''


def _torch_functions(cfg: dict, names: dict[str, str]) -> str:
    layers = [[names[layer[0]], *layer[1:]] for layer in cfg["layers"]]
    unknown = sorted({layer[0] for layer in layers} - torch_layers.LAYERS)
    if unknown:
        raise ValueError(f"no PyTorch equivalent for {', '.join(unknown)} in the MNIST network")
    criterion, optimizer = names[cfg["criterion"]], names[cfg["optimizer"]]
    if criterion not in torch_layers.LOSSES or optimizer not in torch_layers.OPTIMIZERS:
        raise ValueError(f"no PyTorch equivalent for {criterion} with {optimizer}")
    config = json.dumps(dict(cfg.get("optimizer_config", {})))
    rows = "\n".join(f"            {json.dumps(layer)}," for layer in layers)
    shared = _shared(TORCH, TORCH_NAMES, ["from collections.abc import Callable, Iterator",
                                          "from typing import Any"],
                     "The homework's layers in PyTorch as nngrade compare builds them")
    return f'''{shared}


    def train_torch(data, epochs, batch_size, seed={int(cfg.get("seed", 0))}):
        """Train the PyTorch twin through the same loop as ``train_numpy``; same curves."""
        import torch

        x_train, y_train = (torch.from_numpy(a) for a in data[:2])
        torch.manual_seed(seed)
        layers = [
{rows}
        ]
        config = {config}
        net = torch_network(layers)
        optimizer = torch_optimizer({json.dumps(optimizer)}, config, net.parameters())
        step = torch_step(net, optimizer, torch_loss({json.dumps(criterion)}), x_train, y_train)
        history = {{"train_acc": [], "test_acc": []}}
        net.train()
        log = run_epochs(len(x_train), epochs, batch_size, seed, step,
                         epoch_hook(history, lambda x: torch_predict(net, torch.from_numpy(x)),
                                    data))
        return {{**history, "loss": log["batch_losses"], "seconds": log["epoch_seconds"]}}'''


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
