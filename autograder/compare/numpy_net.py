"""The NumPy side: the submission (or the reference solution, loaded as a submission) trained
by ``train_and_predict`` inside the sandboxed worker. Nothing from it is imported here."""

from __future__ import annotations

from typing import Any

import numpy as np

from autograder.compare.archs import Arch
from autograder.sandbox import Limits, Session, StudentError, Worker, WorkerFailure
from autograder.spec import Assignment
from autograder.submission import Submission


class CompareError(Exception):
    """The NumPy side could not be trained; the message says why."""


def worker_config(arch: Arch, assignment: Assignment, defined: set[str], epochs: int,
                  init: list[list[np.ndarray]], input_gradient: bool) -> dict[str, Any]:
    network, missing = assignment.network_config(arch.worker_config(), defined)
    if missing:
        raise CompareError(f"the submission does not define {', '.join(missing)}")
    return {**network, "epochs": epochs, "dtype": "float32", "init_params": init,
            "eval_each_epoch": True, "input_gradient": input_gradient}


def train(submission: Submission, assignment: Assignment, arch: Arch,
          init: list[list[np.ndarray]], x_train: np.ndarray, y_train: np.ndarray,
          x_test: np.ndarray, seed: int, epochs: int, threads: int,
          timeout: float, input_gradient: bool = False) -> dict[str, Any]:
    """Load the submission in a fresh worker and train; returns ``train_and_predict``'s
    dict. ``input_gradient``: compute the first layer's gradInput, as the homework's
    ``Sequential.backward`` does (PyTorch does not). Raises ``CompareError`` if the code
    does not load, lacks a layer, or fails."""
    limits = Limits(threads=threads, forbidden_imports=assignment.forbidden_imports,
                    cpu_seconds=int(timeout * threads) + 60)
    with Worker(limits) as worker:
        session = Session(worker)
        labels = [submission.filename] * len(submission.cells)
        try:
            info = session.load(submission.cells, submission.filename, labels,
                                timeout=assignment.load_timeout)
            errors = [f"{e['error']['type']}: {e['error']['message']}" for e in info["errors"]]
            if errors:
                raise CompareError(f"{submission.filename} raised {'; '.join(errors)}")
            cfg = worker_config(arch, assignment, set(info["names"]), epochs, init,
                                input_gradient)
            return session.train(timeout=timeout, cfg=cfg, x_train=_flat(x_train),
                                 y_train=np.ascontiguousarray(y_train), seed=seed,
                                 x_test=_flat(x_test))
        except StudentError as exc:
            raise CompareError(f"training raised {exc.short()}") from None
        except WorkerFailure as exc:
            raise CompareError(f"the worker failed: {exc}") from None


def _flat(x: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(x.reshape(len(x), -1))
