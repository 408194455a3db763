"""Criterions given class indices as the target: the layer checks with integer labels.

A spec's ``target`` names a distribution of arrays shaped like the input; a loss such as
cross-entropy also accepts a 1-d array of class indices. ``forward_labels``,
``input_grad_labels``, ``finite_diff_labels`` and ``no_mutation_labels`` run the layer check
of the same name with such a target: one int64 label in [0, n_classes) per row of the
(batch, n_classes) input. References see it as ``t`` (float64; use ``t.long()``).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from autograder.kinds import layer  # noqa: F401 - registers the kinds wrapped here
from autograder.kinds.base import REGISTRY, CheckFn, Context, check_kind


@dataclass
class LabelContext(Context):
    def make_target(self, rng: np.random.Generator, x: np.ndarray) -> np.ndarray:
        return rng.integers(0, x.shape[1], x.shape[0]).astype(np.int64)


def _with_labels(kind: str) -> CheckFn:
    inner = REGISTRY[kind]

    def run(ctx: Context) -> None:
        inner(LabelContext(**{f.name: getattr(ctx, f.name) for f in fields(ctx)}))

    return run


for _kind in ("forward", "input_grad", "finite_diff", "no_mutation"):
    check_kind(f"{_kind}_labels")(_with_labels(_kind))
