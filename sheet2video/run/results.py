"""Writing results back: what the ledger knows goes into the sheet (paced between chunks, see
:class:`SavePacer`), into the run's summary and into the HTML report — also when Ctrl+C stops a run."""

from __future__ import annotations

from pathlib import Path

from sheet2video.errors import Sheet2VideoError
from sheet2video.run.context import RunContext
from sheet2video.run.interrupts import Interrupted
from sheet2video.run.job_answers import result_values
from sheet2video.run.ledger import SUBMITTING
from sheet2video.run.outcomes import disabled_status
from sheet2video.run.reporter import Reporter
from sheet2video.run.summary import RowResult, RunSummary
from sheet2video.sheets.write import RowUpdate, WriteOutcome, write_back

__all__ = ["SAVE_TIME_SHARE", "SavePacer", "interrupted", "summarise", "write_report", "write_results"]

SAVE_TIME_SHARE = 0.1  # status saves between chunks take at most about this share of a run's time


class SavePacer:
    """When to write statuses back between chunks. A small sheet saves in milliseconds, after every
    chunk; a 10,000-row workbook takes seconds, and saving it after every 10 submits would spend
    most of the run saving. So a save is due only once the time since the last one ended is at least
    (1/share − 1) × what that save took. The ledger, not the sheet, is what makes reruns safe."""

    def __init__(self, share: float = SAVE_TIME_SHARE):
        self.gap_per_second_saving = 1 / share - 1
        self._ended = float("-inf")
        self._took = 0.0

    def due(self, now: float) -> bool:
        return now - self._ended >= self.gap_per_second_saving * self._took

    def saved(self, started: float, ended: float) -> None:
        self._took, self._ended = ended - started, ended


def write_results(context: RunContext) -> WriteOutcome | None:
    """Every job's status, videos and error into its rows, and "skipped" into the rows switched off."""
    if context.options.preview:  # drafts are never written into the result columns
        return None
    updates = []
    for job in context.planned:
        entry = context.entry(job.key)
        if entry is None:
            continue
        values = result_values(entry)
        if context.cloud:
            values = context.cloud.sheet_values(values)
        for number in job.rows:
            updates.append(RowUpdate(row=number, key=job.key, values=values))
    for number, key, enabled in context.disabled:
        updates.append(RowUpdate(row=number, key=key, values={"status": disabled_status(enabled)}))
    o = context.options
    return write_back(context.sheet_path, updates, sheet=o.sheet_name, key_column=context.template_set.key_column,
                      encoding=o.encoding, delimiter=o.delimiter, backups=context.backups)


def summarise(context: RunContext, summary: RunSummary) -> None:
    """Where each job stands now: the finished / failed / pending counts and one result per job."""
    for job in context.planned:
        entry = context.entry(job.key)
        stale = entry is None or entry.content_hash != job.content_hash  # no job for what the row says now
        status = "NotSubmitted" if stale else entry.status
        if status == "Finished":
            summary.finished += 1
        elif status == "Failed":
            summary.failed += 1
        else:
            summary.pending += 1
            if status in ("NotSubmitted", SUBMITTING):
                summary.not_submitted += 1
            else:
                summary.rendering += 1
        videos = [] if stale else entry.videos
        summary.videos += len(videos)
        summary.results.append(RowResult(job.key, job.rows, status, videos, "" if stale else entry.error))


def write_report(sheet_path: Path, reporter: Reporter) -> Path | None:
    """The HTML report next to the sheet; a failure to write it costs nothing else (the sheet and
    ledger are already saved) and is one warning."""
    import sqlite3

    from sheet2video.report import report_path, write_report as write_html_report

    try:
        path = write_html_report(sheet_path)
    except (OSError, sqlite3.Error) as error:
        reporter.warn(f"the report {report_path(sheet_path).name} could not be written "
                      f"({getattr(error, 'strerror', None) or error}); the results are saved")
        return None
    return path  # the summary names it


def interrupted(context: RunContext) -> Interrupted:
    """Ctrl+C: write the sheet with what the ledger knows (the ledger is committed per step)."""
    unwritten = ""
    try:
        write_results(context)
    except Sheet2VideoError as error:
        unwritten = f"; the sheet was not written ({error})"
    write_report(context.sheet_path, context.reporter)  # what is done so far is there to look at, too
    entries = [context.entry(job.key) for job in context.planned]
    statuses = [e.status for e in entries if e is not None]
    finished, failed = statuses.count("Finished"), statuses.count("Failed")
    also = f", {failed} failed" if failed else ""
    return Interrupted(f"interrupted: {finished} of {len(context.planned)} jobs finished{also}{unwritten}; rerun to continue")
