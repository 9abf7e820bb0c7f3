"""One token bucket for both sides of the API: the runner waits for a token, the engine refuses."""

from __future__ import annotations

import threading
import time
from typing import Callable

__all__ = ["TokenBucket"]


class TokenBucket:
    """At most ``rate`` events per second on average, bursts up to ``burst`` (default one second's worth)."""

    def __init__(self, rate: float, burst: float | None = None, *, initial: float | None = None,
                 sleep: Callable[[float], None] = time.sleep):
        self.rate = rate
        self.capacity = burst or max(1.0, rate)
        self.tokens = self.capacity if initial is None else initial
        self.stamp = time.monotonic()
        self.sleep = sleep
        self.lock = threading.Lock()

    def _refill(self) -> None:
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now

    def take(self) -> bool:
        """Take a token if one is there (the engine: answer Throttling.User otherwise)."""
        with self.lock:
            self._refill()
            if self.tokens >= 1:
                self.tokens -= 1
                return True
            return False

    def wait(self) -> None:
        """Block until a token is there, then take it (the runner: never exceed the limit)."""
        with self.lock:
            while True:
                self._refill()
                if self.tokens >= 1:
                    self.tokens -= 1
                    return
                self.sleep((1 - self.tokens) / self.rate)
