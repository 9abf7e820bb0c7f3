"""What a run did, in counts that add up, and what the user should do next.

Two ledgers of the same jobs, each adding up to ``jobs``:

* this run's action: submitted + refused + resumed (in flight from an earlier run) + unsent
  (left for a later run) + skipped (each with its reason, see ``outcomes.py``);
* where each job stands now: finished + failed + pending (rendering + not submitted).

And ``rows = rows in jobs + disabled rows`` (``enabled = no``). A failed job is never "done".
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sheet2video.run.outcomes import CHANGED_IN_SYNC, NEW_IN_SYNC
from sheet2video.sheets.write import WriteOutcome

__all__ = ["NEXT_STEPS_SHOWN", "RowResult", "RunSummary", "next_steps_for"]

NEXT_STEPS_SHOWN = 5  # failed rows named one by one; more are summed up


@dataclass
class RowResult:
    job: str
    rows: list[int]
    status: str
    videos: list[str]
    error: str


@dataclass
class RunSummary:
    sheet: Path
    ledger: Path
    rows: int = 0
    jobs: int = 0
    submitted: int = 0
    skipped: int = 0
    finished: int = 0
    failed: int = 0
    pending: int = 0
    videos: int = 0
    results: list[RowResult] = field(default_factory=list)
    written: WriteOutcome | None = None
    storage: dict[str, int] | None = None  # cloud runs from local files: files uploaded, registered, downloaded
    # how the counts add up (see the module's docstring): rows = rows_in_jobs + disabled;
    # jobs = submitted + refused + resumed + unsent + skipped = finished + failed + pending
    rows_in_jobs: int = 0
    disabled: int = 0                      # rows with enabled = no
    disabled_rows: list[int] = field(default_factory=list)
    resumed: int = 0                       # in flight from an earlier run, followed to the end
    refused: int = 0                       # sent, and refused by the service (Failed)
    unsent: int = 0                        # meant to be submitted, left for the next run (--no-wait, --timeout)
    skipped_reasons: dict[str, int] = field(default_factory=dict)
    rendering: int = 0                     # pending: submitted, not finished yet
    not_submitted: int = 0                 # pending: no job for the row's current content
    repeat: str = ""                       # the sheet and options a follow-up command needs
    report: Path | None = None             # the HTML report, None when it could not be written

    @property
    def next_steps(self) -> list[str]:
        return next_steps_for(self)

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "sheet": str(self.sheet), "ledger": str(self.ledger), "rows": self.rows, "jobs": self.jobs,
            "submitted": self.submitted, "skipped": self.skipped, "finished": self.finished, "failed": self.failed,
            "pending": self.pending, "videos": self.videos,
            "written": str(self.written.path) if self.written else None,
            "results_copy": bool(self.written and self.written.results_copy),
            "report": str(self.report) if self.report else None,
            "errors": [{"job": r.job, "rows": r.rows, "error": r.error} for r in self.results if r.error],
            "jobs_detail": [{"job": r.job, "rows": r.rows, "status": r.status, "videos": r.videos} for r in self.results],
            **({"storage": self.storage} if self.storage is not None else {}),
            "rows_in_jobs": self.rows_in_jobs, "disabled": self.disabled, "disabled_rows": self.disabled_rows,
            "resumed": self.resumed, "refused": self.refused, "unsent": self.unsent, "skipped_reasons": self.skipped_reasons,
            "rendering": self.rendering, "not_submitted": self.not_submitted, "next_steps": self.next_steps,
        }


def next_steps_for(summary: RunSummary) -> list[str]:
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
