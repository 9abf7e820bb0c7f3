"""The end of a run as a person reads it: counts that add up, the jobs (those that need attention
first when there are many), where the results went, and what to do next."""

from __future__ import annotations

from collections import Counter

from sheet2video.run.summary import RunSummary
from sheet2video.console.tables import print_table, say

__all__ = ["SUMMARY_JOBS", "VIDEOS_SHOWN", "count_lines", "print_summary"]

SUMMARY_JOBS = 30  # rows of a summary table: a longer one is slow to draw and nobody reads it
VIDEOS_SHOWN = 3   # per job in the table; the sheet has every one


def count_lines(summary: RunSummary) -> list[str]:
    """Three lines, each adding up: rows, what this run did with the jobs, where the jobs stand."""
    s = summary
    rows = f"{s.sheet.name}: {_n(s.rows, 'row')}"
    if s.disabled:
        listed = ", ".join(map(str, s.disabled_rows[:10])) + (" …" if len(s.disabled_rows) > 10 else "")
        rows += f" — {s.rows_in_jobs} in {_n(s.jobs, 'job')}, {s.disabled} skipped (enabled = no: row{'s' if s.disabled > 1 else ''} {listed})"
    else:
        rows += f" in {_n(s.jobs, 'job')}"
    actions = [f"{s.submitted} submitted"]
    actions += [f"{n} {what}" for n, what in ((s.refused, "refused"), (s.resumed, "followed from an earlier run"),
                                              (s.unsent, "left for the next run")) if n]
    if s.skipped:
        reasons = ", ".join(f"{n} {why}" for why, n in s.skipped_reasons.items())
        actions.append(f"{s.skipped} skipped ({reasons})" if reasons else f"{s.skipped} skipped")
    pending = f"{s.pending} pending"
    if s.pending:
        pending += f" ({', '.join(x for x in (f'{s.rendering} rendering' if s.rendering else '', f'{s.not_submitted} not submitted' if s.not_submitted else '') if x)})"
    states = f"now: {s.finished} finished, {s.failed} failed, {pending} · {_n(s.videos, 'video')}"
    return [rows, "this run: " + ", ".join(actions), states]


def print_summary(summary: RunSummary, console=None) -> None:
    from rich.console import Console

    console = console or Console(stderr=True)
    for line in count_lines(summary):
        say(console, line, indent="  ")
    results = summary.results
    caption = None
    if len(results) > SUMMARY_JOBS:  # a long run: what needs attention first, the rest is in the sheet
        results = sorted(results, key=lambda r: {"Failed": 0, "Finished": 2}.get(r.status, 1))
        hidden = Counter(r.status.lower() for r in results[SUMMARY_JOBS:])
        caption = (f"{sum(hidden.values())} more job(s) not shown ({', '.join(f'{n} {s}' for s, n in sorted(hidden.items()))});"
                   " every row's result is in the sheet")
        results = results[:SUMMARY_JOBS]
    if results:
        rows = [[r.job, ",".join(map(str, r.rows)), r.status,
                 "\n".join(r.videos[:VIDEOS_SHOWN]) + (f"\n… {len(r.videos) - VIDEOS_SHOWN} more" if len(r.videos) > VIDEOS_SHOWN else ""),
                 r.error] for r in results]
        print_table(console, ["job", "rows", "status", "videos", "error"], rows, wrap=("error",), caption=caption, inline=3)
    written = summary.written
    if written is not None:
        if written.results_copy:
            say(console, f"{written.reason}; results written to {written.path}", indent="  ", style="yellow")
        else:
            say(console, f"results written to {written.path}" + (f" (backup: {written.backup})" if written.backup else ""), indent="  ")
    say(console, f"ledger: {summary.ledger}", indent="  ")
    if summary.report is not None:
        say(console, f"report: {summary.report} (open it in a browser to see every video)", indent="  ")
    for step in summary.next_steps:
        say(console, f"next: {step}", indent="  ", style="bold")


def _n(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"
