"""How far a run is and how long it still needs: the numbers both progress displays show.

The estimate is the rate at which this run has finished jobs so far (jobs a previous run already
finished do not count: they took no time here), applied to the jobs still open.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

__all__ = ["DONE", "time_left", "clock_text", "Snapshot", "Pace"]

DONE = ("Finished", "Failed")


def time_left(done: int, total: int, elapsed: float, done_at_start: int = 0) -> float | None:
    """Seconds until ``total`` jobs are done at the rate seen so far; None before the first finishes."""
    finished_here = done - done_at_start
    if done >= total:
        return 0.0
    if finished_here <= 0 or elapsed <= 0:
        return None
    return (total - done) * elapsed / finished_here


def clock_text(seconds: float | None) -> str:
    """0:07, 4:05, 1:02:03; ``-:--`` when unknown."""
    if seconds is None:
        return "-:--"
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


@dataclass
class Snapshot:
    done: int
    total: int
    failed: int
    rendering: int
    waiting: int       # not rendering yet (to submit, or submitted and queued)
    elapsed: float
    left: float | None

    def line(self) -> str:
        """The plain-text form: ``7/20 done (1 failed) · 2 rendering · 11 waiting · 1:10 elapsed · about 2:10 left``."""
        failed = f" ({self.failed} failed)" if self.failed else ""
        left = "done" if self.done >= self.total else (
            f"about {clock_text(self.left)} left" if self.left is not None else "time left: after the first video")
        return (f"{self.done}/{self.total} done{failed} · {self.rendering} rendering · {self.waiting} waiting"
                f" · {clock_text(self.elapsed)} elapsed · {left}")


class Pace:
    """Turns the runner's status counts into a Snapshot; the clock starts at the first count."""

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self.clock = clock
        self.started: float | None = None
        self.done_at_start = 0

    def snapshot(self, counts: dict[str, int], total: int) -> Snapshot:
        done = sum(counts.get(s, 0) for s in DONE)
        now = self.clock()
        if self.started is None:
            self.started, self.done_at_start = now, done
        elapsed = now - self.started
        rendering = counts.get("Processing", 0)
        return Snapshot(done, total, counts.get("Failed", 0), rendering, max(0, total - done - rendering), elapsed,
                        time_left(done, total, elapsed, self.done_at_start))
