"""Reading campaign sheets (.xlsx/.xlsm, .csv/.tsv) into rows of text, as the user sees them.

Every row keeps its spreadsheet row number (header = row 1) so every later message can point at
it. Values come out as text the way a person reads the cell: ``2`` not ``2.0``, dates as ISO
text, formulas as their cached values, blanks as "". Headers are trimmed and matched
case-insensitively.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from sheet2video.errors import SheetError
from sheet2video.sheets.read_csv import read_csv_records
from sheet2video.sheets.read_excel import excel_grid

__all__ = ["EXCEL_SUFFIXES", "CSV_SUFFIXES", "Row", "Sheet", "read_sheet", "header_index", "normalise_header", "is_media_column"]

EXCEL_SUFFIXES = (".xlsx", ".xlsm")
CSV_SUFFIXES = (".csv", ".tsv", ".txt")


@dataclass
class Row:
    number: int                 # spreadsheet row number (header = 1)
    values: dict[str, str]      # lower-cased header -> cell text
    shown: dict[str, str] = field(default_factory=dict)  # column -> the text the cell shows, where the
                                                         # value differs (a link's text, a picture's name)

    def get(self, column: str, default: str = "") -> str:
        return self.values.get(column.lower(), default)

    def display(self, column: str) -> str:
        """The text the cell shows, for messages (a link's text rather than its target)."""
        return self.shown.get(column.lower()) or self.get(column)


@dataclass
class Sheet:
    path: Path
    name: str                   # worksheet name (the file name for CSV)
    headers: list[str]          # trimmed, as written
    rows: list[Row] = field(default_factory=list)
    fingerprint: str = ""       # sha256 of the file's bytes when read
    hidden_rows: list[int] = field(default_factory=list)  # rows hidden (or filtered out) in the workbook
    notices: list[str] = field(default_factory=list)  # what reading decided that the user should know
                                                      # (the header row found, the encoding guessed, …)

    @property
    def columns(self) -> list[str]:
        return [h.lower() for h in self.headers]


def read_sheet(
    path: str | Path,
    *,
    sheet: str | int | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
) -> Sheet:
    """Read a campaign sheet. Raises SheetError with one clear line on any problem."""
    path = Path(path)
    if not path.exists():
        raise SheetError(f"{path}: no such file")
    if path.is_dir():
        raise SheetError(f"{path}: is a folder, not a sheet")
    data = path.read_bytes()
    suffix = path.suffix.lower()
    hidden: list[int] = []
    links: dict[tuple[int, int], str] = {}
    if suffix in EXCEL_SUFFIXES:
        grid = excel_grid(path, data, sheet)
        name, hidden, links = grid.name, grid.hidden, grid.links
        records = list(enumerate(grid.cells, start=1))
    elif suffix in CSV_SUFFIXES:
        name = path.name
        records = read_csv_records(path, data, encoding, delimiter or ("\t" if suffix == ".tsv" else None))
    elif suffix == ".xls":
        raise SheetError(f"{path}: old .xls workbooks are not supported; save it as .xlsx in Excel")
    else:
        raise SheetError(f"{path}: unknown sheet type {suffix!r}; use .xlsx, .xlsm, .csv or .tsv")
    result = _to_sheet(path, name, records, links)
    result.fingerprint = hashlib.sha256(data).hexdigest()
    result.hidden_rows = hidden
    return result


def header_index(records: list[tuple[int, list[str]]]) -> int:
    """Which of the (non-blank) records holds the column names."""
    return 0


def normalise_header(text: str) -> str:
    """The name a header cell is matched by."""
    return text.strip().lower()


def is_media_column(name: str) -> bool:
    """Columns whose cells name media files: a hyperlink there means its target, not its text."""
    return name == "media" or name.startswith("media:") or name in _MEDIA_COLUMNS


_MEDIA_COLUMNS = frozenset({"logo", "music", "bgm", "background", "background_image", "background_music"})


def _to_sheet(path: Path, name: str, records: list[tuple[int, list[str]]],
              links: dict[tuple[int, int], str] | None = None) -> Sheet:
    """Turn (row number, cells) records into a Sheet: header from the first non-blank record."""
    records = [(n, cells) for n, cells in records if any(c.strip() for c in cells)]
    if not records:
        raise SheetError(f"{path}: the sheet is empty; the first row must hold the column names")
    start = header_index(records)
    header_number, header_cells = records[start]
    headers = [h.strip() for h in header_cells]
    seen: dict[str, int] = {}
    for index, header in enumerate(headers):
        if not header:
            continue
        key = normalise_header(header)
        if key in seen:
            raise SheetError(
                f"duplicate column {header!r} (columns {_column_letter(seen[key])} and {_column_letter(index)})",
                row=header_number,
            )
        seen[key] = index
    links = links or {}
    rows = []
    for number, cells in records[start + 1:]:
        values, shown = {}, {}
        for index, key in ((i, normalise_header(h)) for i, h in enumerate(headers) if h):
            values[key] = cells[index] if index < len(cells) else ""
            target = links.get((number, index + 1))
            if target and is_media_column(key) and target != values[key].strip():
                values[key], shown[key] = target, values[key]
        if any(v.strip() for v in values.values()):
            rows.append(Row(number, values, shown))
    return Sheet(path=path, name=name, headers=[h for h in headers if h], rows=rows)


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters
