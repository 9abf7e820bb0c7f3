"""How a run talks to people: a live rich display on a terminal, plain log lines for cron and CI."""

from __future__ import annotations

import sys
import time
from collections import Counter

import click

from sheet2video.runner import Reporter, RunSummary


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


SUMMARY_JOBS = 30  # rows of a summary table: a longer one is slow to draw and nobody reads it


def print_summary(summary: RunSummary) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(stderr=True)
    table = Table(title=f"{summary.sheet.name}: {summary.finished} finished, {summary.failed} failed, "
                        f"{summary.pending} pending, {summary.skipped} skipped")
    for column in ("job", "rows", "status", "videos", "error"):
        table.add_column(column, overflow="fold")
    results = summary.results
    if len(results) > SUMMARY_JOBS:  # a long run: what needs attention first, the rest is in the sheet
        results = sorted(results, key=lambda r: {"Failed": 0, "Finished": 2}.get(r.status, 1))
        hidden = Counter(r.status.lower() for r in results[SUMMARY_JOBS:])
        table.caption = (f"{sum(hidden.values())} more job(s) not shown ({', '.join(f'{n} {s}' for s, n in sorted(hidden.items()))});"
                         " every row's result is in the sheet")
        results = results[:SUMMARY_JOBS]
    for result in results:
        table.add_row(result.job, ",".join(map(str, result.rows)), result.status,
                      "\n".join(result.videos[:3]) + (f"\n… {len(result.videos) - 3} more" if len(result.videos) > 3 else ""),
                      result.error)
    console.print(table)
    written = summary.written
    if written is not None:
        if written.results_copy:
            console.print(f"[yellow]{written.reason}[/]; results written to {written.path}")
        else:
            console.print(f"results written to {written.path}" + (f" (backup: {written.backup})" if written.backup else ""))
    console.print(f"{summary.videos} video(s). Ledger: {summary.ledger}")
