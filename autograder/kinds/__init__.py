"""Check kinds, registered by name; an assignment spec refers to them by ``kind``."""

from autograder.kinds import containers, labels, layer, optim, residual, stateful, stochastic  # noqa: F401
from autograder.kinds.base import REGISTRY, USES

__all__ = ["REGISTRY", "USES"]
