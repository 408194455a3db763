"""Side-by-side table, curves (PNG) and a JSON summary of one comparison."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import numpy as np


@dataclass
class Side:
    """One framework's run, summarised from ``train_and_predict``'s dict and test labels."""

    label: str
    epoch_seconds: list[float]
    epoch_cpu_seconds: list[float]
    epoch_losses: list[float]
    batch_losses: np.ndarray
    epoch_accuracies: list[float]
    dtypes: list[str]
    epoch_flops: float | None = None  # of the matrix products one epoch computes

    @classmethod
    def from_reply(cls, label: str, reply: dict[str, Any], y_test: np.ndarray,
                   epoch_flops: float | None = None) -> Side:
        accuracies = [float(np.mean(np.asarray(p) == y_test)) for p in reply["epoch_predictions"]]
        return cls(label, [float(s) for s in reply["epoch_seconds"]],
                   [float(s) for s in reply.get("epoch_cpu_seconds", [])],
                   [float(v) for v in reply["epoch_losses"]],
                   np.asarray(reply["batch_losses"], dtype=np.float64), accuracies,
                   list(reply.get("parameter_dtypes", [])), epoch_flops)

    @property
    def accuracy(self) -> float:
        return self.epoch_accuracies[-1] if self.epoch_accuracies else float("nan")

    @property
    def seconds_per_epoch(self) -> float:
        """Median over epochs: robust to one epoch slowed by another process."""
        return _median(self.epoch_seconds)

    @property
    def cpu_seconds_per_epoch(self) -> float:
        """Process CPU time: with one thread, the work done, whatever else the machine runs."""
        return _median(self.epoch_cpu_seconds)

    @property
    def product_gflops(self) -> float | None:
        """The matrix products' FLOPs over the median epoch time: the speed the whole training
        step reaches, measured against the part of its work that a FLOP limit counts."""
        if self.epoch_flops is None:
            return None
        return self.epoch_flops / self.seconds_per_epoch / 1e9


def _median(values: list[float]) -> float:
    return float(np.median(values)) if values else float("nan")


def render_table(title: str, numpy_side: Side, torch_side: Side, out: TextIO) -> None:
    ratio = numpy_side.seconds_per_epoch / torch_side.seconds_per_epoch
    cpu_ratio = numpy_side.cpu_seconds_per_epoch / torch_side.cpu_seconds_per_epoch
    rows = [
        ("", numpy_side.label, torch_side.label, "NumPy/PyTorch"),
        ("test accuracy", f"{numpy_side.accuracy:.2%}", f"{torch_side.accuracy:.2%}",
         f"{numpy_side.accuracy - torch_side.accuracy:+.2%}"),
        ("time per epoch (median)", f"{numpy_side.seconds_per_epoch:.2f} s",
         f"{torch_side.seconds_per_epoch:.2f} s", f"{ratio:.2f}x"),
        ("CPU time per epoch (median)", f"{numpy_side.cpu_seconds_per_epoch:.2f} s",
         f"{torch_side.cpu_seconds_per_epoch:.2f} s", f"{cpu_ratio:.2f}x"),
        ("total training time", f"{sum(numpy_side.epoch_seconds):.1f} s",
         f"{sum(torch_side.epoch_seconds):.1f} s", ""),
        ("last epoch train loss", f"{numpy_side.epoch_losses[-1]:.4f}",
         f"{torch_side.epoch_losses[-1]:.4f}", ""),
        ("parameter dtype", ",".join(numpy_side.dtypes), ",".join(torch_side.dtypes), ""),
    ]
    if numpy_side.epoch_flops and torch_side.epoch_flops:
        rows.insert(4, ("matrix-product GFLOP/s", f"{numpy_side.product_gflops:.1f}",
                        f"{torch_side.product_gflops:.1f}", ""))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    print(title, file=out)
    for row in rows:
        print("  ".join(cell.ljust(w) if i == 0 else cell.rjust(w)
                        for i, (cell, w) in enumerate(zip(row, widths, strict=True))).rstrip(),
              file=out)


def _smooth(values: np.ndarray, window: int) -> np.ndarray:
    if len(values) < window or window < 2:
        return values
    return np.convolve(values, np.ones(window) / window, mode="valid")


def plot_curves(title: str, sides: list[Side], path: Path) -> None:
    """Training loss (per minibatch, moving average) and test accuracy per epoch."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(11, 4), constrained_layout=True)
    for side in sides:
        batches_per_epoch = len(side.batch_losses) / max(len(side.epoch_losses), 1)
        window = max(1, int(batches_per_epoch // 10))
        smooth = _smooth(side.batch_losses, window)
        x = (np.arange(len(smooth)) + window) / batches_per_epoch
        ax_loss.plot(x, smooth, label=side.label, linewidth=1)
        epochs = np.arange(1, len(side.epoch_accuracies) + 1)
        ax_acc.plot(epochs, np.asarray(side.epoch_accuracies) * 100, marker="o",
                    label=f"{side.label} ({side.accuracy:.2%})")
    losses = np.concatenate([s.batch_losses for s in sides])
    spans_decades = losses.size and losses.min() > 0 and losses.max() / losses.min() > 10
    ax_loss.set(xlabel="epoch", ylabel="training loss (NLL, moving average)",
                yscale="log" if spans_decades else "linear", title="training loss")
    ax_acc.set(xlabel="epoch", ylabel="test accuracy (%)", title="test accuracy")
    ax_acc.xaxis.get_major_locator().set_params(integer=True)
    for ax in (ax_loss, ax_acc):
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(title)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def summary(settings: dict[str, Any], numpy_side: Side, torch_side: Side) -> dict[str, Any]:
    def side(s: Side) -> dict[str, Any]:
        return {"label": s.label, "test_accuracy": s.accuracy,
                "epoch_accuracies": s.epoch_accuracies, "epoch_seconds": s.epoch_seconds,
                "seconds_per_epoch": s.seconds_per_epoch,
                "epoch_cpu_seconds": s.epoch_cpu_seconds,
                "cpu_seconds_per_epoch": s.cpu_seconds_per_epoch, "epoch_losses": s.epoch_losses,
                "parameter_dtypes": s.dtypes, "product_flops_per_epoch": s.epoch_flops,
                "product_gflops": s.product_gflops}

    return {**settings, "numpy": side(numpy_side), "torch": side(torch_side),
            "time_ratio": numpy_side.seconds_per_epoch / torch_side.seconds_per_epoch,
            "cpu_time_ratio": numpy_side.cpu_seconds_per_epoch / torch_side.cpu_seconds_per_epoch}


def write_json(data: dict[str, Any], path: Path) -> None:
    path.write_text(json.dumps(data, indent=2) + "\n")
