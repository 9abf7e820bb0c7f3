"""Reading a CSV / TSV into (row number, cells) records: decoding and the delimiter."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from sheet2video.errors import SheetError

__all__ = ["SNIFF_DELIMITERS", "read_csv_records", "decode_csv", "sniff_delimiter"]

SNIFF_DELIMITERS = ",;\t|"


def read_csv_records(path: Path, data: bytes, encoding: str | None, delimiter: str | None) -> list[tuple[int, list[str]]]:
    text = decode_csv(path, data, encoding)
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
    return records


def decode_csv(path: Path, data: bytes, encoding: str | None) -> str:
    """Bytes to text: UTF-8 (BOM or not) unless told otherwise, with a useful message on failure."""
    if b"\x00" in data[:4096] and not (encoding or "").lower().startswith("utf-16"):
        raise SheetError(f"{path}: looks like a binary file, not a CSV")
    name = encoding or "utf-8-sig"
    try:
        return data.decode(name)
    except LookupError:
        raise SheetError(f"unknown encoding {encoding!r}") from None
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        hint = "" if encoding else "; if it was saved by Excel in China, try --encoding gbk"
        raise SheetError(f"{path}: line {line} is not valid {name} text{hint}") from None


def sniff_delimiter(text: str) -> str:
    """The delimiter that splits the header line into the most columns (ties: comma first)."""
    header = text.split("\n", 1)[0]
    counts = {d: header.count(d) for d in SNIFF_DELIMITERS}
    best = max(counts, key=lambda d: (counts[d], -SNIFF_DELIMITERS.index(d)))
    return best if counts[best] else ","
