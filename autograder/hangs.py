"""Methods of student code that did not return in time, shared by one submission's workers.

When a method hangs (an infinite loop, a blocking C call), every later check that would call
it is reported at once instead of waiting for its own timeout, and the MNIST training, which
runs the same code in a second worker, is stopped when it needs that component.
"""

from __future__ import annotations

import threading
from collections.abc import Callable


class Hangs:
    """``Class.method`` (or a function's name) -> the seconds it was given and did not return
    within. Thread-safe: the checks and the MNIST training record and read it concurrently."""

    def __init__(self) -> None:
        self._found: dict[str, float] = {}
        self._listeners: list[Callable[[str], None]] = []
        self._lock = threading.Lock()

    def record(self, key: str, seconds: float) -> None:
        with self._lock:
            if key in self._found:
                return
            self._found[key] = seconds
            listeners = list(self._listeners)
        for listener in listeners:
            listener(key)

    def seconds(self, key: str) -> float | None:
        with self._lock:
            return self._found.get(key)

    def owners(self) -> set[str]:
        """The classes (and functions) with a method that hung."""
        with self._lock:
            return {key.split(".")[0] for key in self._found}

    def listen(self, listener: Callable[[str], None]) -> None:
        """Call ``listener(key)`` for every hang recorded from now on."""
        with self._lock:
            self._listeners.append(listener)

    def message(self, key: str) -> str:
        return (f"not run: `{key}` did not return within {self.seconds(key):g} s in an "
                "earlier check")

    def message_for(self, names: set[str]) -> str | None:
        """The not-run message for work that needs any of ``names``, or None."""
        with self._lock:
            key = next((k for k in self._found if k.split(".")[0] in names), None)
        return None if key is None else self.message(key)


class HungMethod(Exception):
    """A request would call a method that hung before: not sent, reported at once."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message
