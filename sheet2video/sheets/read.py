"""Reading campaign sheets (.xlsx/.xlsm, .csv/.tsv) into rows of text, as the user sees them.

Every row keeps its spreadsheet row number (header = row 1) so every later message can point at
it. Values come out as text the way a person reads the cell: ``2`` not ``2.0``, dates as ISO
text, formulas as their cached values, blanks as "". Headers are matched NFKC-folded, trimmed
and case-insensitively (``headers``); title rows above them are skipped. A workbook of several
worksheets read without ``--sheet`` gives the sheet whose headers are campaign columns.
.xls and .ods workbooks are read as they are; their results go to ``<stem>.results.xlsx``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from sheet2video.errors import SheetError
from sheet2video.sheets.converted import CONVERTED_SUFFIXES, results_workbook_path
from sheet2video.sheets.headers import (HEADER_SEARCH_ROWS, display_header, header_index, header_score, normalise_header,
                                        normalised_notice)
from sheet2video.sheets.read_csv import read_csv_records
from sheet2video.sheets.read_excel import ExcelGrid, excel_grid, worksheet_heads

__all__ = ["EXCEL_SUFFIXES", "CSV_SUFFIXES", "CONVERTED_SUFFIXES", "Row", "Sheet", "read_sheet", "campaign_sheet",
           "header_index", "normalise_header", "is_media_column"]

EXCEL_SUFFIXES = (".xlsx", ".xlsm")
CSV_SUFFIXES = (".csv", ".tsv", ".txt")


@dataclass
class Row:
    number: int                 # spreadsheet row number (header = 1)
    values: dict[str, str]      # normalised header (sheets.headers) -> cell text
    shown: dict[str, str] = field(default_factory=dict)  # column -> the text the cell shows, where the
                                                         # value differs (a link's text, a picture's name)
    decimal_comma: bool = False  # numbers are written 1,5 (a semicolon CSV): RowView.number reads them

    def get(self, column: str, default: str = "") -> str:
        return self.values.get(column.lower(), default)

    def display(self, column: str) -> str:
        """The text the cell shows, for messages (a link's text rather than its target)."""
        return self.shown.get(column.lower()) or self.get(column)


@dataclass
class Sheet:
    path: Path
    name: str                   # worksheet name (the file name for CSV)
    headers: list[str]          # as displayed: NFKC-folded, trimmed, case kept (lower() = the Row.values key)
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
    notices: list[str] = []
    decimal_comma = False
    if suffix in EXCEL_SUFFIXES or suffix in CONVERTED_SUFFIXES:
        grid, chosen = _campaign_grid(path, data, sheet)
        name, hidden, links = grid.name, grid.hidden, grid.links
        records = list(enumerate(grid.cells, start=1))
        notices += [chosen] if chosen else []
        if suffix in CONVERTED_SUFFIXES:
            notices.append(f"{path.name} is not written to; results go to {results_workbook_path(path).name} next to it")
    elif suffix in CSV_SUFFIXES:
        name = path.name
        csv_file = read_csv_records(path, data, encoding, delimiter or ("\t" if suffix == ".tsv" else None))
        records, decimal_comma = csv_file.records, csv_file.delimiter == ";"
        notices += [csv_file.notice] if csv_file.notice else []
    else:
        raise SheetError(f"{path}: unknown sheet type {suffix!r}; use .xlsx, .xlsm, .xls, .ods, .csv or .tsv")
    result = _to_sheet(path, name, records, links)
    result.fingerprint = hashlib.sha256(data).hexdigest()
    result.hidden_rows = hidden
    result.notices[:0] = notices
    for row in result.rows:
        row.decimal_comma = decimal_comma
    return result


def campaign_sheet(path: Path, data: bytes, sheet: str | int | None) -> str | int | None:
    """The worksheet ``read_sheet`` reads for ``--sheet``: the one given, else the one chosen by its
    headers (so writing back writes the sheet that was read)."""
    return sheet if sheet is not None else _chosen_sheet(path, data)[0]


def _campaign_grid(path: Path, data: bytes, sheet: str | int | None) -> tuple[ExcelGrid, str | None]:
    """The worksheet to read, and a notice when it was chosen by its headers."""
    if sheet is not None:
        return excel_grid(path, data, sheet), None
    chosen, notice = _chosen_sheet(path, data)
    return excel_grid(path, data, chosen), notice


def _chosen_sheet(path: Path, data: bytes) -> tuple[str | None, str | None]:
    """Without ``--sheet``: the one sheet whose header row holds the most campaign column names (two
    or more), judged from each sheet's first rows only, and a notice when it is not the first; None
    for a workbook of one sheet (or none: ``excel_grid`` then says why)."""
    # a header among the first HEADER_SEARCH_ROWS non-blank rows: twice as many rows leaves room for blanks
    heads = worksheet_heads(path, data, HEADER_SEARCH_ROWS * 2)
    if len(heads) < 2:
        return next(iter(heads), None), None
    names = list(heads)
    scores = {n: _head_score(rows) for n, rows in heads.items()}
    best = max(scores.values())
    matching = [n for n in names if scores[n] == best]
    if best >= 2 and len(matching) == 1:
        chosen = matching[0]
        others = ", ".join(n for n in names if n != chosen)
        return chosen, None if chosen == names[0] else f'sheet "{chosen}" chosen (its columns match); other sheets: {others}'
    if best >= 2:
        raise SheetError(f"{path}: sheets {', '.join(matching)} all look like campaigns; pass --sheet NAME to pick one")
    raise SheetError(f"{path}: no sheet has campaign columns (id, media:<group>, titles, …); sheets: "
                     f"{', '.join(names)}; pass --sheet NAME to pick one")


def _head_score(rows: list[list[str]]) -> int:
    records = [(n, cells) for n, cells in enumerate(rows, start=1) if any(c.strip() for c in cells)]
    return header_score(records[header_index(records)][1]) if records else 0


def is_media_column(name: str) -> bool:
    """Columns whose cells name media files: a hyperlink there means its target, not its text."""
    return name == "media" or name.startswith("media:") or name in _MEDIA_COLUMNS


_MEDIA_COLUMNS = frozenset({"logo", "music", "bgm", "background", "background_image", "background_music"})


def _to_sheet(path: Path, name: str, records: list[tuple[int, list[str]]],
              links: dict[tuple[int, int], str] | None = None) -> Sheet:
    """Turn (row number, cells) records into a Sheet: the header is the record ``header_index`` finds."""
    records = [(n, cells) for n, cells in records if any(c.strip() for c in cells)]
    if not records:
        raise SheetError(f"{path}: the sheet is empty; the first row must hold the column names")
    start = header_index(records)
    header_number, header_cells = records[start]
    notices = [] if start == 0 else [f"the column names are on row {header_number}; rows above it (a title) are ignored"]
    notices += filter(None, [normalised_notice(header_cells)])
    headers = [display_header(h) for h in header_cells]
    seen: dict[str, int] = {}
    for index, header in enumerate(headers):
        if not header:
            continue
        key = normalise_header(header)
        if key in seen:
            raise SheetError(
                f"duplicate column {header_cells[index].strip()!r} (columns {_column_letter(seen[key])} and {_column_letter(index)})",
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
    return Sheet(path=path, name=name, headers=[h for h in headers if h], rows=rows, notices=notices)


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters
