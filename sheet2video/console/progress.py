"""How a run talks to people: a live rich display on a terminal, plain log lines for cron and CI."""

from __future__ import annotations

import sys
import time
from typing import Callable

import click

from sheet2video.console.eta import Pace, clock_text
from sheet2video.run.reporter import Reporter
from sheet2video.console.summary import SUMMARY_JOBS, print_summary  # noqa: F401 (the end-of-run summary; cli and tests import it from here)

__all__ = ["PLAIN_EVERY", "PlainReporter", "RichReporter", "make_reporter", "SUMMARY_JOBS", "print_summary"]

PLAIN_EVERY = 10.0  # seconds between two plain progress lines


class PlainReporter(Reporter):
    """One timestamped line per event, on stderr (stdout stays free for --json); progress at most
    every ``every`` seconds (and when the last job is done), so a cron log stays short."""

    def __init__(self, quiet: bool = False, every: float = PLAIN_EVERY, clock: Callable[[], float] = time.monotonic):
        self.quiet = quiet
        self.every = every
        self._pace = Pace(clock)
        self._shown: tuple[str, float] | None = None  # the last progress line and when

    def info(self, message: str) -> None:
        if not self.quiet:
            self._line(message)

    def warn(self, message: str) -> None:
        self._line(f"warning: {message}")  # even when quiet

    @staticmethod
    def _line(message: str) -> None:
        click.echo(f"{time.strftime('%H:%M:%S')} {message}", err=True)

    def progress(self, counts: dict[str, int], total: int) -> None:
        snap = self._pace.snapshot(counts, total)
        line = snap.line()
        now = self._pace.clock()
        due = self._shown is None or now - self._shown[1] >= self.every or snap.done >= total
        if due and (self._shown is None or line.split(" · ")[:3] != self._shown[0].split(" · ")[:3]):
            self._shown = (line, now)
            self.info(f"progress: {line}")


class RichReporter(Reporter):
    """A live bar: jobs done of all, what is rendering and waiting, elapsed time and the time left."""

    def __init__(self, console=None, clock: Callable[[], float] = time.monotonic):
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        self.console = console or Console(stderr=True, log_path=False)
        self._pace = Pace(clock)
        self._progress = Progress(
            TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[detail]}"),
            TextColumn("{task.fields[clock]}"), console=self.console, transient=False, get_time=clock,
        )
        self._task = None

    def info(self, message: str) -> None:
        self.console.log(message)

    def progress(self, counts: dict[str, int], total: int) -> None:
        snap = self._pace.snapshot(counts, total)
        if self._task is None:
            self._progress.start()
            self._task = self._progress.add_task("jobs", total=total, detail="", clock="")
        failed = f" · [red]{snap.failed} failed[/]" if snap.failed else ""
        left = "done" if snap.done >= total else f"~{clock_text(snap.left)} left" if snap.left is not None else "-:-- left"
        self._progress.update(self._task, completed=snap.done, total=total,
                              detail=f"rendering {snap.rendering} · waiting {snap.waiting}{failed}",
                              clock=f"{clock_text(snap.elapsed)} elapsed · {left}")

    def close(self) -> None:
        if self._task is not None:
            self._progress.stop()


def make_reporter(quiet: bool = False) -> Reporter:
    if not quiet and sys.stderr.isatty():
        return RichReporter()
    return PlainReporter(quiet)
