"""Progress on stderr: a redrawn bar on a terminal, one plain line per submission otherwise."""

from __future__ import annotations

import sys
import time
from collections import Counter
from typing import TextIO

BAR_WIDTH = 24


def _clock(seconds: float) -> str:
    seconds = int(max(0, seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


class Progress:
    """Counts finished submissions; the ETA comes from this run's own throughput."""

    def __init__(self, total: int, reused: int, ungradable: int = 0,
                 stream: TextIO | None = None, tty: bool | None = None):
        """``reused``: up-to-date results from earlier runs; ``ungradable``: bad inputs."""
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty() if tty is None else tty
        self.total, self.reused, self.done = total, reused + ungradable, 0
        self.statuses: Counter[str] = Counter()
        self.started = time.monotonic()
        todo = total - self.reused
        skipped = [f"{reused} up to date"] * bool(reused) + \
            [f"{ungradable} not gradable"] * bool(ungradable)
        self._say(f"grading {todo} of {total} submission{'s' * (total != 1)}"
                  + (f" ({', '.join(skipped)})" if skipped else ""))
        self._draw("")

    def eta(self) -> float | None:
        todo = self.total - self.reused
        if not self.done or self.done >= todo:
            return None
        return (time.monotonic() - self.started) / self.done * (todo - self.done)

    def update(self, label: str, status: str, detail: str = "") -> None:
        self.done += 1
        self.statuses[status] += 1
        self._draw(f"{label}: {status}" + (f" {detail}" if detail else ""))

    def close(self) -> None:
        if self.tty:
            print(file=self.stream, flush=True)
        counts = ", ".join(f"{n} {s}" for s, n in sorted(self.statuses.items()))
        self._say(f"graded {self.done} in {_clock(time.monotonic() - self.started)}"
                  + (f" ({counts})" if counts else ""))

    def _line(self) -> str:
        todo = max(1, self.total - self.reused)
        finished = self.reused + self.done
        eta = self.eta()
        tail = f"elapsed {_clock(time.monotonic() - self.started)}"
        tail += f"  ETA {_clock(eta)}" if eta is not None else ""
        return f"{finished}/{self.total} ({self.done / todo:.0%} of this run)  {tail}"

    def _draw(self, last: str) -> None:
        if self.tty:
            frac = (self.reused + self.done) / max(1, self.total)
            filled = int(frac * BAR_WIDTH)
            bar = "#" * filled + "-" * (BAR_WIDTH - filled)
            text = f"[{bar}] {self._line()}  {last}"[:160]
            print(f"\r\x1b[K{text}", end="", file=self.stream, flush=True)
        elif last:
            print(f"[{self._line()}] {last}", file=self.stream, flush=True)

    def _say(self, text: str) -> None:
        if self.tty:
            print(f"\r\x1b[K{text}", file=self.stream, flush=True)
        else:
            print(text, file=self.stream, flush=True)
