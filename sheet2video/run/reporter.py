"""How a run speaks: the interface the run loop talks to, and a silent default."""

from __future__ import annotations

__all__ = ["Reporter"]


class Reporter:
    """What the runner tells a person or a log; the CLI supplies a rich or a plain one."""

    def info(self, message: str) -> None: ...

    def warn(self, message: str) -> None:
        """Something the user should know even with --quiet or --json (it stops nothing)."""
        self.info(f"warning: {message}")

    def progress(self, counts: dict[str, int], total: int) -> None: ...

    def close(self) -> None: ...
