"""The result columns: which exist, where they go (reused when present, else appended after the
user's last column, in RESULT_COLUMNS order)."""

from __future__ import annotations

RESULT_COLUMNS = ("job_id", "status", "videos", "media_ids", "durations", "error", "updated_at")


def layout(plan, header: dict[str, int], last_col: int) -> dict[str, tuple[int, bool]]:
    """Result column name -> (column number, newly added), in RESULT_COLUMNS order. Column numbers
    count like ``header`` and ``last_col`` do (1-based in a workbook, 0-based in a CSV)."""
    wanted = {name for update, _ in plan for name in update.values}
    columns = {}
    for name in RESULT_COLUMNS:
        if name not in wanted:
            continue
        if name in header:
            columns[name] = (header[name], False)
        else:
            last_col += 1
            columns[name] = (last_col, True)
    return columns
