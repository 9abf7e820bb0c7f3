"""What a run does with each row and job before it submits: why a job is skipped, which rows are
switched off (``enabled = no``), and the options a follow-up command needs to reach the same jobs.

The counts these feed, and the next steps drawn from them, are ``summary.RunSummary``'s.
"""

from __future__ import annotations

import shlex
from pathlib import Path

from sheet2video.plan.row_view import RowView
from sheet2video.run.ledger import Entry
from sheet2video.run.options import RunOptions

__all__ = ["CHANGED_IN_SYNC", "DONE", "FAILED_BEFORE", "NEW_IN_SYNC", "disabled_rows", "disabled_status",
           "repeat_options", "skip_reason"]

DONE = "unchanged and already finished"
FAILED_BEFORE = "failed before, not retried"
NEW_IN_SYNC = "new, sync submits nothing"
CHANGED_IN_SYNC = "changed since its video was made, sync submits nothing"


def skip_reason(entry: Entry | None, content_hash: str) -> str:
    """Why ``submitting.decide`` skipped a job (it does only for these four cases)."""
    if entry is None:
        return NEW_IN_SYNC
    if entry.content_hash != content_hash:
        return CHANGED_IN_SYNC
    return FAILED_BEFORE if entry.status == "Failed" else DONE


def disabled_rows(sheet, selection: set[int] | None, also_keys: set[str], key_column: str | None) -> list[tuple[int, str, str]]:
    """(row, key, enabled cell) of each selected row switched off with ``enabled = no`` — and of any
    disabled row sharing its key with a job, so rows sharing a key are matched in order on write."""
    found = []
    for row in sheet.rows:
        view = RowView(row, sheet.headers, [])
        if view.flag("enabled"):
            continue
        key = view.text(key_column) if key_column else ""
        if selection is None or row.number in selection or (key and key in also_keys):
            found.append((row.number, key or f"row{row.number}", view.text("enabled")))
    return found


def disabled_status(enabled: str) -> str:
    return f"skipped (enabled = {enabled.lower() or 'no'})"


def repeat_options(sheet: Path, options: RunOptions) -> str:
    """The sheet and the options a follow-up command needs to reach the same jobs."""
    words = [str(sheet)]
    if options.sheet_name is not None:
        words += ["--sheet", str(options.sheet_name)]
    if options.templates != "script":
        words += ["--templates", options.templates]
    for flag, value in (("--encoding", options.encoding), ("--delimiter", options.delimiter)):
        if value:
            words += [flag, "\\t" if value == "\t" else value]
    if options.backend == "aliyun":
        words += ["--backend", "aliyun"] + (["--region", options.region] if options.region else [])
    if options.endpoint:
        words += ["--endpoint", options.endpoint]
    if options.data is not None:
        words += ["--data", str(options.data)]
    return " ".join(shlex.quote(w) for w in words)
