"""Where the videos of a planned job will be: what ``plan`` shows is where a run puts them.

The embedded engine writes output ``i`` of ``OutputConfig.MediaURL`` to
``<sheet folder>/videos/<engine.media.output_relpath(MediaURL, i)>`` and the runner writes that path,
relative to the sheet, into the sheet (``backends.Backend.video_ref``). A shared engine
(``sheet2video serve``) keeps each job's videos under ``outputs/<JobId>/`` and answers presigned URLs
``<endpoint>/outputs/<JobId>/<path>?Expires=…&Signature=…``; the JobId is known once submitted, so the
plan shows ``<JobId>``. An http(s) or oss URL is where the cloud (or a shared engine) puts the file:
``{index}`` replaced by 0, 1, … as IMS does.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from urllib.parse import quote

from sheet2video.plan.campaign import PlannedJob
from sheet2video.engine.media.sources import output_relpath
from sheet2video.errors import RenderError

__all__ = ["LOCAL_OUTPUTS", "planned_outputs", "shown"]

# the embedded engine's outputs folder next to the sheet: backends.open_backend's EngineConfig(outputs=…);
# tests/run/test_preflight.py checks that plan and run agree
LOCAL_OUTPUTS = "videos"


def planned_outputs(job: PlannedJob, endpoint: str | None = None) -> list[str]:
    """The path (relative to the sheet's folder) or URL of each video ``job`` makes, in index order:
    a relative MediaURL is rendered by the embedded engine, or by the engine at ``endpoint``
    (``sheet2video serve``, which answers ``<endpoint>/outputs/<JobId>/<path>``, presigned)."""
    output = job.parsed("OutputConfig") or {}
    url = str(output.get("MediaURL", ""))
    count = int(output.get("Count", 1))
    if "://" in url:
        return [url.replace("{index}", str(i)) for i in range(count)]
    try:
        relpaths = [output_relpath(url, i) for i in range(count)]
    except RenderError as error:  # the engine will refuse it at submit, with this message
        return [f"({error.message})"]
    if endpoint:
        return [f"{endpoint.rstrip('/')}/outputs/<JobId>/{quote(p)}" for p in relpaths]
    return [str(PurePosixPath(LOCAL_OUTPUTS, p)) for p in relpaths]


def shown(paths: list[str], at_most: int = 3) -> str:
    """Paths one per line for a table cell; a long list ends with how many more."""
    more = f"\n… {len(paths) - at_most} more" if len(paths) > at_most else ""
    return "\n".join(paths[:at_most]) + more
