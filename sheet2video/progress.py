"""How a run talks to people: a live rich display on a terminal, plain log lines for cron and CI."""

from __future__ import annotations

import sys
import time

import click

from sheet2video.runner import Reporter
from sheet2video.summary_view import SUMMARY_JOBS, print_summary  # noqa: F401 (the end-of-run summary; cli and tests import it from here)


class PlainReporter(Reporter):
    """One timestamped line per event, on stderr (stdout stays free for --json)."""

    def __init__(self, quiet: bool = False):
        self.quiet = quiet
        self._last = ""

    def info(self, message: str) -> None:
        if not self.quiet:
            self._line(message)

    def warn(self, message: str) -> None:
        self._line(f"warning: {message}")  # even when quiet

    @staticmethod
    def _line(message: str) -> None:
        click.echo(f"{time.strftime('%H:%M:%S')} {message}", err=True)

    def progress(self, counts: dict[str, int], total: int) -> None:
        line = ", ".join(f"{n} {s.lower()}" for s, n in sorted(counts.items()))
        if line != self._last:
            self._last = line
            self.info(f"progress: {line} (of {total})")


class RichReporter(Reporter):
    """A progress bar with submitted / rendering / done / failed counts."""

    def __init__(self):
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.console = Console(stderr=True, log_path=False)
        self._progress = Progress(
            TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[detail]}"),
            TimeElapsedColumn(), console=self.console, transient=False,
        )
        self._task = None

    def info(self, message: str) -> None:
        self.console.log(message)

    def progress(self, counts: dict[str, int], total: int) -> None:
        if self._task is None:
            self._progress.start()
            self._task = self._progress.add_task("jobs", total=total, detail="")
        done = counts.get("Finished", 0) + counts.get("Failed", 0)
        detail = (f"submitted {counts.get('Init', 0) + counts.get('Submitting', 0)} · rendering {counts.get('Processing', 0)}"
                  f" · done {counts.get('Finished', 0)} · failed {counts.get('Failed', 0)}")
        self._progress.update(self._task, completed=done, total=total, detail=detail)

    def close(self) -> None:
        if self._task is not None:
            self._progress.stop()


def make_reporter(quiet: bool = False) -> Reporter:
    if not quiet and sys.stderr.isatty():
        return RichReporter()
    return PlainReporter(quiet)
