"""The campaign report: ``<sheet stem>.report.html`` next to the sheet, one card per video.

``write_report(sheet)`` rebuilds it from the sheet's ledger (gather.py: the data; page.py: the
HTML; words.py: statuses and errors in plain words; details.py: what each video used, recorded
by the runner; edits.py: its edit list, one line per shot; zones.py: the apps' safe-zone bands,
shown by a toggle). Every ``run`` / ``sync`` calls it at the end; ``sheet2video report`` on demand.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from sheet2video.report.details import video_details
from sheet2video.report.gather import ReportData, gather, has_runs
from sheet2video.report.page import render_page

__all__ = ["ReportData", "gather", "has_runs", "render_page", "report_path", "video_details", "write_report"]


def report_path(sheet_path: Path) -> Path:
    return sheet_path.resolve().parent / f"{sheet_path.stem}.report.html"


def write_report(sheet_path: Path) -> Path:
    """Write the report atomically (a reader never sees half a file); OSError when it cannot."""
    dest = report_path(sheet_path)
    page = render_page(gather(sheet_path))
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(page)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a report is for sharing
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return dest
