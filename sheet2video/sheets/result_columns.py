"""The result columns: which exist, where they go, and what each cell holds.

The RESULT_COLUMNS keep their text meaning (multi-value cells one value per line), so scripts
and formulas reading them keep working. On top of that:

* once a row makes more than one video (or the sheet already has them), every variant gets its own
  pair of cells, ``video_<k>`` (a link to that one file) and ``duration_<k>`` (seconds, a number):
  every video is one click away and every length is a number a formula can use;
* a single ``durations`` value is a number, ``updated_at`` a date (both as text in a CSV);
* new columns are appended after the user's last column; existing ones are reused where they are.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

__all__ = [
    "RESULT_COLUMNS",
    "VARIANT_COLUMN",
    "LINKED",
    "is_result_column",
    "ResultCell",
    "result_cells",
    "layout",
    "column_names",
]

RESULT_COLUMNS = ("job_id", "status", "videos", "media_ids", "durations", "error", "updated_at",
                  "video_urls")  # video_urls: cloud runs with --download (videos then holds the local paths)
VARIANT_COLUMN = re.compile(r"(video|duration)_([1-9][0-9]{0,2})")
LINKED = ("videos", "video")  # columns (or variant kinds) whose cell links to its first video


def is_result_column(name: str) -> bool:
    return name in RESULT_COLUMNS or VARIANT_COLUMN.fullmatch(name) is not None


@dataclass(frozen=True)
class ResultCell:
    text: str                      # what a CSV holds, and a workbook when the cell is text
    number: float | None = None    # a workbook number (seconds)
    when: datetime | None = None   # a workbook date (local time, as a person reads the clock)
    link: bool = False             # the cell links to the first video it names


def result_cells(plan, header: dict[str, int]) -> list[tuple[int, dict[str, ResultCell]]]:
    """(row, {column name: cell}) for each located update, variant cells included."""
    existing = max((int(m.group(2)) for name in header if (m := VARIANT_COLUMN.fullmatch(name))), default=0)
    most = max((len(_lines(u.values["videos"])) for u, _ in plan if "videos" in u.values), default=0)
    variants = max(existing, most) if existing or most > 1 else 0
    out = []
    for update, row in plan:
        cells = {name: _typed(name, value) for name, value in update.values.items()}
        if variants and "videos" in update.values:
            videos = _lines(update.values["videos"])
            lengths = _lines(update.values.get("durations", ""))
            for k in range(1, variants + 1):
                cells[f"video_{k}"] = ResultCell(videos[k - 1] if k <= len(videos) else "", link=True)
                length = lengths[k - 1] if k <= len(lengths) else ""
                cells[f"duration_{k}"] = ResultCell(length, number=_number(length))
        out.append((row, cells))
    return out


def layout(names: list[str], header: dict[str, int], last_col: int) -> dict[str, tuple[int, bool]]:
    """Column name -> (column number, newly added): RESULT_COLUMNS first, then the variant pairs.
    Column numbers count like ``header`` and ``last_col`` do (1-based in a workbook, 0-based in a CSV)."""
    def order(name: str) -> tuple:
        match = VARIANT_COLUMN.fullmatch(name)
        return (1, int(match.group(2)), match.group(1) != "video") if match else (0, RESULT_COLUMNS.index(name), False)

    columns = {}
    for name in sorted(set(names), key=order):
        if name in header:
            columns[name] = (header[name], False)
        else:
            last_col += 1
            columns[name] = (last_col, True)
    return columns


def column_names(cells: list[tuple[int, dict[str, ResultCell]]]) -> list[str]:
    return [name for _, row in cells for name in row]


def _typed(name: str, value: str) -> ResultCell:
    if name == "durations":
        return ResultCell(value, number=_number(value))
    if name == "updated_at":
        return ResultCell(value, when=_local_time(value))
    return ResultCell(value, link=name in LINKED)


def _lines(value: str) -> list[str]:
    return [line.strip() for line in value.splitlines() if line.strip()]


def _number(value: str) -> float | None:
    try:
        return float(value.strip()) if value.strip() and "\n" not in value.strip() else None
    except ValueError:
        return None


def _local_time(value: str) -> datetime | None:
    """``2026-05-09T10:00:00Z`` (the ledger's UTC) → the same moment on this computer's clock."""
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone().replace(tzinfo=None)
    return moment.replace(microsecond=0)
