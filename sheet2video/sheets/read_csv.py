"""Reading a CSV / TSV into (row number, cells) records: decoding (see ``encodings``) and the delimiter."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from sheet2video.errors import SheetError
from sheet2video.sheets.encodings import decode_text
from sheet2video.sheets.headers import header_score

__all__ = ["SNIFF_DELIMITERS", "CsvRecords", "read_csv_records", "sniff_delimiter"]

SNIFF_DELIMITERS = ",;\t|"
_SNIFF_LINES = 20  # title lines may sit above the header: the delimiter is looked for in this many


@dataclass
class CsvRecords:
    records: list[tuple[int, list[str]]]  # (line-based record number from 1, cells)
    delimiter: str
    notice: str | None                    # the encoding guessed, when it is not UTF-8


def read_csv_records(path: Path, data: bytes, encoding: str | None, delimiter: str | None) -> CsvRecords:
    decoded = decode_text(path, data, encoding)
    text = decoded.text
    if delimiter is None:
        delimiter = sniff_delimiter(text)
    records: list[tuple[int, list[str]]] = []
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False)
        for number, cells in enumerate(reader, start=1):
            records.append((number, cells))
    except csv.Error as error:
        row = len(records) + 1
        if "field larger than field limit" in str(error):
            raise SheetError(f"{path}: a cell is longer than {csv.field_size_limit():,} characters", row=row) from None
        raise SheetError(f"{path}: cannot parse the CSV ({error})", row=row) from None
    return CsvRecords(records, delimiter, decoded.notice)


def sniff_delimiter(text: str) -> str:
    """The delimiter that splits the header line into the most columns (ties: comma first); the
    header is the first line unless a line below it (under a title) splits into more known names."""
    lines = [line for line in text.splitlines()[: _SNIFF_LINES * 2] if line.strip()][:_SNIFF_LINES]
    if not lines:
        return ","
    known = {d: max(header_score(line.split(d)) for line in lines) for d in SNIFF_DELIMITERS}
    named = max(SNIFF_DELIMITERS, key=lambda d: (known[d], -SNIFF_DELIMITERS.index(d)))
    if known[named] >= 2 and known[named] > known[_by_count(lines[0])]:
        return named
    return _by_count(lines[0])


def _by_count(header: str) -> str:
    counts = {d: header.count(d) for d in SNIFF_DELIMITERS}
    best = max(counts, key=lambda d: (counts[d], -SNIFF_DELIMITERS.index(d)))
    return best if counts[best] else ","
