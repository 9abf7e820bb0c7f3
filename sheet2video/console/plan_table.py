"""What ``sheet2video plan`` (and ``run --dry-run``) prints: one line per job, and where its videos go."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from sheet2video.cloud.models import job_mode
from sheet2video.console.progress import SUMMARY_JOBS
from sheet2video.plan.outputs import planned_outputs, shown

__all__ = ["print_plan"]


def print_plan(sheet_data, planned, endpoint: str | None = None) -> None:
    console = Console()
    columns = ("job", "rows", "mode", "groups", "titles", "speech", "videos", "output")
    lines = []
    for job in planned[:SUMMARY_JOBS]:
        inputs = job.parsed("InputConfig")
        output = job.parsed("OutputConfig")
        lines.append((
            job.key,
            ",".join(map(str, job.rows)),
            job_mode(inputs),
            str(len(inputs.get("MediaGroupArray") or [])),
            str(len(inputs.get("TitleArray") or [])),
            str(len(inputs.get("SpeechTextArray") or []) or sum(len(g.get("SpeechTextArray") or []) for g in inputs.get("MediaGroupArray") or [])),
            str(output.get("Count", 1)),
            shown(planned_outputs(job, endpoint)),
        ))
    title = f"{sheet_data.path.name} — {len(planned)} job(s), all rows valid"
    more = f"the first {SUMMARY_JOBS} of {len(planned)} jobs; --out - or --out DIR gives them all" if len(planned) > SUMMARY_JOBS else None
    table = Table(*columns, title=title, caption=more)
    for line in lines:
        table.add_row(*line)
    if console.measure(table, options=console.options.update_width(10_000)).maximum <= console.width:
        console.print(table)
    else:  # a narrow terminal: a list, so that no job name or path is cut
        console.print(title, style="italic", highlight=False)
        for line in lines:
            facts = ", ".join(f"{value} {name}" for name, value in zip(columns[3:7], line[3:7]))
            console.print(f"[bold]{line[0]}[/] (row {line[1]}, {line[2]}): {facts}", highlight=False)
            for path in line[7].split("\n"):
                console.print(f"  {path}", highlight=False, soft_wrap=True)
        if more:
            console.print(more, highlight=False)
    total = sum(job.parsed("OutputConfig").get("Count", 1) for job in planned)
    where = " (paths relative to the sheet's folder)" if not endpoint else ""
    console.print(f"{total} video(s) would be made{where}. Use --out - to see the exact API parameters.")
