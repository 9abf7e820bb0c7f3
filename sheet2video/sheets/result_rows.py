"""Finding each update's row again at write time: by key when the sheet has a key column, else by
row number — so rows inserted, deleted or sorted since the sheet was read are never written wrong."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Callable

__all__ = ["RowUpdate", "locate"]

_ROW_KEY = re.compile(r"row(\d+)")


@dataclass
class RowUpdate:
    row: int                # spreadsheet row number when the sheet was read (header = row 1)
    key: str                # the key column's value, or "row<N>" when the row has none
    values: dict[str, str]  # result column -> text (multi-value cells: one value per line)


def locate(
    updates: list[RowUpdate],
    *,
    keyed: bool,
    first_row: int,
    last_row: int,
    key_of: Callable[[int], str] | None,
    is_blank: Callable[[int], bool],
) -> tuple[list[tuple[RowUpdate, int]], list[str]]:
    """Each update -> the row it belongs to now, or its key in the skipped list.

    With a key column, the n-th update (in row order) carrying key K goes to the n-th data row
    whose key is K. Updates keyed ``row<N>`` (rows without a key) go to row N, if that row still
    has data and (when there is a key column) still has no other key.
    """
    rows_by_key: dict[str, list[int]] = defaultdict(list)
    if key_of is not None:
        for r in range(first_row, last_row + 1):
            key = key_of(r)
            if key:
                rows_by_key[key].append(r)
    seen: Counter[str] = Counter()
    plan, skipped = [], []
    for update in sorted(updates, key=lambda u: u.row):
        key = update.key.strip()
        if keyed and not _ROW_KEY.fullmatch(key):
            rows = rows_by_key.get(key, [])
            index = seen[key]
            seen[key] += 1
            if index < len(rows):
                plan.append((update, rows[index]))
            else:
                skipped.append(update.key)
            continue
        r = update.row
        if r < first_row or r > last_row or is_blank(r):
            skipped.append(update.key)
        elif key_of is not None and key_of(r) not in ("", key):
            skipped.append(update.key)  # another keyed row sits there now
        else:
            plan.append((update, r))
    return plan, skipped

