"""The grader's own stand-in modules, used inside the worker to check containers in isolation.

A ``Recorder`` behaves like a simple layer (y = scale * x + shift, one parameter) and records
every input it is given, so a container check does not depend on the student's Linear, and
can tell exactly which input each child was fed.
"""

from __future__ import annotations

from typing import Any

import numpy as np


class Recorder:
    def __init__(self, scale: float, shift: float):
        self.scale = float(scale)
        self.shift = float(shift)
        self.output = None
        self.gradInput = None
        self.training = True
        self.w = np.full(2, self.scale)
        self.gradw = np.zeros(2)
        self.seen_forward: list[np.ndarray] = []
        self.seen_backward: list[list[np.ndarray]] = []
        self.seen_acc: list[list[np.ndarray]] = []  # (input, gradOutput) of accGradParameters
        self.events: list[str] = []

    def forward(self, input: np.ndarray) -> np.ndarray:
        return self.updateOutput(input)

    def backward(self, input: np.ndarray, gradOutput: np.ndarray) -> np.ndarray:
        self.updateGradInput(input, gradOutput)
        self.accGradParameters(input, gradOutput)
        return self.gradInput

    def updateOutput(self, input: np.ndarray) -> np.ndarray:
        self.events.append("forward")
        self.seen_forward.append(np.array(input, dtype=np.float64, copy=True))
        self.output = self.scale * np.asarray(input, dtype=np.float64) + self.shift
        return self.output

    def updateGradInput(self, input: np.ndarray, gradOutput: np.ndarray) -> np.ndarray:
        self.events.append("backward")
        self.seen_backward.append([
            np.array(input, dtype=np.float64, copy=True),
            np.array(gradOutput, dtype=np.float64, copy=True),
        ])
        self.gradInput = self.scale * np.asarray(gradOutput, dtype=np.float64)
        return self.gradInput

    def accGradParameters(self, input: np.ndarray, gradOutput: np.ndarray) -> None:
        self.events.append("acc")
        self.seen_acc.append([
            np.array(input, dtype=np.float64, copy=True),
            np.array(gradOutput, dtype=np.float64, copy=True),
        ])
        self.gradw += float(np.sum(gradOutput))

    def zeroGradParameters(self) -> None:
        self.events.append("zero")
        self.gradw.fill(0.0)

    def getParameters(self) -> list[np.ndarray]:
        return [self.w]

    def getGradParameters(self) -> list[np.ndarray]:
        return [self.gradw]

    def train(self) -> None:
        self.events.append("train")
        self.training = True

    def evaluate(self) -> None:
        self.events.append("evaluate")
        self.training = False


def module_probe(base: type) -> Any:
    """An instance of a subclass of the student's ``Module`` whose update methods record calls."""

    class ModuleProbe(base):
        def updateOutput(self, input):
            self.events.append("updateOutput")
            self.output = 2.0 * np.asarray(input, dtype=np.float64) + 1.0
            return self.output

        def updateGradInput(self, input, gradOutput):
            self.events.append("updateGradInput")
            self.gradInput = 3.0 * np.asarray(gradOutput, dtype=np.float64)
            return self.gradInput

        def accGradParameters(self, input, gradOutput):
            self.events.append("accGradParameters")

    probe = ModuleProbe.__new__(ModuleProbe)
    probe.events = []
    ModuleProbe.__init__(probe)
    return probe


def criterion_probe(base: type) -> Any:
    """An instance of a subclass of the student's ``Criterion``: loss = sum((x - t)**2),
    gradInput = 2 * (x - t); its update methods record calls."""

    class CriterionProbe(base):
        def updateOutput(self, input, target):
            self.events.append("updateOutput")
            diff = np.asarray(input, dtype=np.float64) - np.asarray(target, dtype=np.float64)
            self.output = float(np.sum(diff * diff))
            return self.output

        def updateGradInput(self, input, target):
            self.events.append("updateGradInput")
            diff = np.asarray(input, dtype=np.float64) - np.asarray(target, dtype=np.float64)
            self.gradInput = 2.0 * diff
            return self.gradInput

    probe = CriterionProbe.__new__(CriterionProbe)
    probe.events = []
    CriterionProbe.__init__(probe)
    return probe
