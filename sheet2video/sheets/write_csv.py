"""Writing results into a CSV / TSV: its encoding, BOM, delimiter, line endings and every value
kept; result text that a spreadsheet would run as a formula (``= + - @``) neutralised with ``'``."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from sheet2video.errors import SheetError
from sheet2video.sheets.encodings import decode_text
from sheet2video.sheets.headers import header_index, normalise_header
from sheet2video.sheets.read_csv import sniff_delimiter
from sheet2video.sheets.result_columns import column_names, is_result_column, layout, result_cells
from sheet2video.sheets.result_rows import RowUpdate, locate

__all__ = ["apply_csv"]

_CSV_NEUTRALISE = ("=", "+", "-", "@", "\t", "\r")


def apply_csv(data: bytes, target: Path, updates: list[RowUpdate], *, key_column: str | None,
              encoding: str | None, delimiter: str | None) -> tuple[bytes, int, list[str]]:
    """The CSV ``data`` with ``updates`` written in: (new bytes, rows written, keys not found)."""
    if delimiter is not None and len(delimiter) != 1:
        raise SheetError(f"delimiter must be one character, not {delimiter!r}")
    decoded = decode_text(target, data, encoding)  # as read_sheet decoded it: the same codec and BOM
    text, codec, bom = decoded.text, decoded.codec, decoded.bom
    delimiter = delimiter or ("\t" if target.suffix.lower() == ".tsv" else sniff_delimiter(text))
    newline = _line_ending(text)
    trailing = text.endswith(("\n", "\r"))
    dialect = dict(delimiter=delimiter, quotechar='"', doublequote=True, skipinitialspace=False)
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), strict=False, **dialect))
    except csv.Error as error:
        raise SheetError(f"{target}: cannot parse the CSV ({error})") from None

    nonblank = [i for i, rec in enumerate(records) if any(v.strip() for v in rec)]
    if not nonblank:
        raise SheetError(f"{target}: the sheet is empty; the first row must hold the column names")
    h = nonblank[header_index([(i, records[i]) for i in nonblank])]  # the header read_sheet found
    header = {}
    for c, name in enumerate(records[h]):
        if name.strip():
            header.setdefault(normalise_header(name), c)
    last_col = max((c for rec in records for c, v in enumerate(rec) if v != ""), default=-1)
    result_cols = {c for name, c in header.items() if is_result_column(name)}

    def cell(r: int, c: int) -> str:
        rec = records[r - 1]
        return rec[c] if c < len(rec) else ""

    key_col = header.get(normalise_header(key_column)) if key_column else None
    plan, skipped = locate(
        updates,
        keyed=bool(key_column),
        first_row=h + 2,
        last_row=len(records),
        key_of=(lambda r: cell(r, key_col).strip()) if key_col is not None else None,
        is_blank=lambda r: not any(c not in result_cols and v.strip() for c, v in enumerate(records[r - 1])),
    )
    if not plan:
        return b"", 0, skipped

    cells_by_row = result_cells(plan, header)
    columns = layout(column_names(cells_by_row), header, last_col)  # 0-based here: last_col + 1 is the first free one
    expected = [list(rec) for rec in records]
    for name, (col, new) in columns.items():
        if new:
            _put(expected[h], col, name)
    written = set()
    for r, row_cells in cells_by_row:
        for name, result in row_cells.items():
            _put(expected[r - 1], columns[name][0], _clean_csv(result.text, codec))
        written.add(r)

    buffer = io.StringIO(newline="")
    csv.writer(buffer, quoting=csv.QUOTE_MINIMAL, lineterminator=newline, **dialect).writerows(expected)
    out = buffer.getvalue()
    if not trailing and out.endswith(newline):
        out = out[: -len(newline)]
    if list(csv.reader(io.StringIO(out, newline=""), strict=False, **dialect)) != expected:
        raise SheetError(f"{target}: the CSV cannot be rewritten without changing its values; nothing was written")
    try:
        encoded = out.encode(codec)
    except UnicodeEncodeError as error:
        raise SheetError(f"{target}: cannot write {error.object[error.start]!r} as {codec}; nothing was written") from None
    return bom + encoded, len(written), skipped


def _line_ending(text: str) -> str:
    lf = text.find("\n")
    if lf > 0 and text[lf - 1] == "\r":
        return "\r\n"
    if lf < 0 and "\r" in text:
        return "\r"
    return "\n"


def _put(record: list[str], col: int, value: str) -> None:
    if len(record) <= col:
        record.extend([""] * (col + 1 - len(record)))
    record[col] = value


def _clean_csv(value: str, codec: str) -> str:
    value = value.replace("\x00", "").encode(codec, errors="replace").decode(codec)
    if value.startswith(_CSV_NEUTRALISE):
        value = "'" + value  # a spreadsheet must show it as text, never run it as a formula
    return value

