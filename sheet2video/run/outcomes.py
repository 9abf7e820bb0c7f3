"""What a run did with each row and job, in counts that add up, and what the user should do next.

Two ledgers of the same jobs, each adding up to ``jobs``:

* this run's action: submitted + refused + resumed (in flight from an earlier run) + unsent
  (left for a later run) + skipped (each with its reason);
* where each job stands now: finished + failed + pending (rendering + not submitted).

And ``rows = rows in jobs + disabled rows`` (``enabled = no``). A failed job is never "done".
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import TYPE_CHECKING

from sheet2video.plan.campaign import RowView

if TYPE_CHECKING:
    from sheet2video.run.ledger import Entry
    from sheet2video.run.runner import RunOptions, RunSummary

DONE = "unchanged and already finished"
FAILED_BEFORE = "failed before, not retried"
NEW_IN_SYNC = "new, sync submits nothing"
CHANGED_IN_SYNC = "changed since its video was made, sync submits nothing"
NEXT_STEPS_SHOWN = 5  # failed rows named one by one; more are summed up


def skip_reason(entry: Entry | None, content_hash: str) -> str:
    """Why ``decide`` skipped a job (it does only for these four cases)."""
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


def next_steps(summary: RunSummary) -> list[str]:
    """One line per thing to do, most urgent first; a single line when there is nothing to do."""
    args = summary.repeat or shlex.quote(str(summary.sheet))
    steps = []
    failed = [r for r in summary.results if r.status == "Failed"]
    if failed:
        rows = sorted(n for r in failed for n in r.rows[:1])
        if len(failed) == 1:
            what = f"row {rows[0]} ({_short(failed[0].error) or 'see its error column'})"
        else:
            shown = ", ".join(map(str, rows[:NEXT_STEPS_SHOWN])) + (f" and {len(rows) - NEXT_STEPS_SHOWN} more" if len(rows) > NEXT_STEPS_SHOWN else "")
            what = f"rows {shown} (their error column says why)"
        steps.append(f"fix {what}, then rerun: sheet2video run {args} --retry-failed")
    if summary.rendering:
        steps.append(f"{_jobs(summary.rendering)} still rendering: run 'sheet2video sync {args}' later")
    if summary.unsent:
        steps.append(f"{_jobs(summary.unsent)} not submitted yet: run 'sheet2video run {args}' again")
    stale = summary.skipped_reasons.get(NEW_IN_SYNC, 0) + summary.skipped_reasons.get(CHANGED_IN_SYNC, 0)
    if stale:
        steps.append(f"{_jobs(stale)} new or changed: run 'sheet2video run {args}' to make their videos")
    written = summary.written
    if written is not None and written.results_copy:
        steps.append(f"results are in {written.path.name}: close {summary.sheet.name} (or make it writable), "
                     f"then run 'sheet2video sync {args}' to write them into it")
    if not steps:
        steps.append("nothing to do: every job finished" if summary.jobs else "nothing to do: no enabled rows")
    return steps


def _jobs(n: int) -> str:
    return f"{n} job{'s' if n != 1 else ''}"


def _short(error: str, limit: int = 70) -> str:
    """The first line of an error, cut at a word, so a next step stays one readable line."""
    line = error.strip().splitlines()[0] if error.strip() else ""
    if len(line) <= limit:
        return line
    cut = line[:limit].rsplit(" ", 1)[0]
    return cut + " …"
