"""Reading campaign sheets (.xlsx/.xlsm, .csv/.tsv) into rows of text, as the user sees them.

Every row keeps its spreadsheet row number (header = row 1) so every later message can point at
it. Values come out as text the way a person reads the cell: ``2`` not ``2.0``, dates as ISO
text, formulas as their cached values, blanks as "". Headers are trimmed and matched
case-insensitively.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from sheet2video.errors import SheetError

__all__ = [
    "EXCEL_SUFFIXES",
    "CSV_SUFFIXES",
    "SNIFF_DELIMITERS",
    "OLE_MAGIC",
    "Row",
    "Sheet",
    "read_sheet",
    "excel_grid",
    "pick_sheet",
    "cell_text",
    "decode_csv",
    "sniff_delimiter",
]

EXCEL_SUFFIXES = (".xlsx", ".xlsm")
CSV_SUFFIXES = (".csv", ".tsv", ".txt")
SNIFF_DELIMITERS = ",;\t|"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"


@dataclass
class Row:
    number: int                 # spreadsheet row number (header = 1)
    values: dict[str, str]      # lower-cased header -> cell text

    def get(self, column: str, default: str = "") -> str:
        return self.values.get(column.lower(), default)


@dataclass
class Sheet:
    path: Path
    name: str                   # worksheet name (the file name for CSV)
    headers: list[str]          # trimmed, as written
    rows: list[Row] = field(default_factory=list)
    fingerprint: str = ""       # sha256 of the file's bytes when read
    hidden_rows: list[int] = field(default_factory=list)  # rows hidden (or filtered out) in the workbook

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
    if suffix in EXCEL_SUFFIXES:
        name, grid, hidden = excel_grid(path, data, sheet)
        records = list(enumerate(grid, start=1))
    elif suffix in CSV_SUFFIXES:
        name = path.name
        records = _read_csv(path, data, encoding, delimiter or ("\t" if suffix == ".tsv" else None))
    elif suffix == ".xls":
        raise SheetError(f"{path}: old .xls workbooks are not supported; save it as .xlsx in Excel")
    else:
        raise SheetError(f"{path}: unknown sheet type {suffix!r}; use .xlsx, .xlsm, .csv or .tsv")
    result = _to_sheet(path, name, records)
    result.fingerprint = hashlib.sha256(data).hexdigest()
    result.hidden_rows = hidden
    return result


def _to_sheet(path: Path, name: str, records: list[tuple[int, list[str]]]) -> Sheet:
    """Turn (row number, cells) records into a Sheet: header from the first non-blank record."""
    records = [(n, cells) for n, cells in records if any(c.strip() for c in cells)]
    if not records:
        raise SheetError(f"{path}: the sheet is empty; the first row must hold the column names")
    header_number, header_cells = records[0]
    headers = [h.strip() for h in header_cells]
    seen: dict[str, int] = {}
    for index, header in enumerate(headers):
        if not header:
            continue
        key = header.lower()
        if key in seen:
            raise SheetError(
                f"duplicate column {header!r} (columns {_column_letter(seen[key])} and {_column_letter(index)})",
                row=header_number,
            )
        seen[key] = index
    rows = []
    for number, cells in records[1:]:
        values = {}
        for index, key in ((i, h.lower()) for i, h in enumerate(headers) if h):
            values[key] = cells[index] if index < len(cells) else ""
        if any(v.strip() for v in values.values()):
            rows.append(Row(number, values))
    return Sheet(path=path, name=name, headers=[h for h in headers if h], rows=rows)


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


# ---------------------------------------------------------------- Excel


def excel_grid(path: Path, data: bytes, sheet: str | int | None) -> tuple[str, list[list[str]], list[int]]:
    """(worksheet name, its cells as text from A1, its hidden row numbers): formulas as cached
    values, errors as shown.

    python-calamine (Rust) reads the grid ~10x faster than openpyxl's read-only mode, with the
    same values (both guess dates from the number format). It reads error cells (``#REF!``) as
    blanks and says nothing of hidden rows, so those two come from the sheet's XML, which is only
    parsed when it holds either.
    """
    import python_calamine  # imported here: CSV users don't pay for it

    if data[:4] == OLE_MAGIC:
        raise SheetError(f"{path}: the workbook is password-protected (encrypted) or an old .xls file; save an unprotected .xlsx")
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise SheetError(f"{path}: not a valid Excel workbook (the file is damaged or not .xlsx)")
    try:
        workbook = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    except Exception as error:  # calamine raises its own types (ZipError, XmlError, ...) for broken files
        raise SheetError(f"{path}: cannot open the workbook ({type(error).__name__}: {error})") from None
    try:
        title = pick_sheet(path, workbook.sheet_names, sheet)
        kind = next(m.typ for m in workbook.sheets_metadata if m.name == title)
        if kind != python_calamine.SheetTypeEnum.WorkSheet:
            raise SheetError(f"{path}: sheet {title!r} is a chart sheet, not a table")
        try:
            values = workbook.get_sheet_by_name(title).to_python(skip_empty_area=False)
        except Exception as error:
            raise SheetError(f"{path}: cannot read sheet {title!r} ({type(error).__name__}: {error})") from None
    finally:
        workbook.close()
    grid = [[cell_text(v) for v in row] for row in values]
    errors, hidden = _xml_extras(data, title)
    for (r, c), shown in errors.items():
        while len(grid) < r:
            grid.append([])
        cells = grid[r - 1]
        cells.extend([""] * (c - len(cells)))
        cells[c - 1] = shown
    return title, grid, hidden


def pick_sheet(path: Path, names: list[str], sheet: str | int | None) -> str:
    """The worksheet name ``--sheet`` means: a name (exact, then case-folded) or a 0-based index."""
    if sheet is None:
        return names[0]
    if isinstance(sheet, int) or (isinstance(sheet, str) and sheet.isdigit() and sheet not in names):
        index = int(sheet)
        if 0 <= index < len(names):
            return names[index]
        raise SheetError(f"{path}: there is no sheet number {index}; sheets (0-based): {', '.join(names)}")
    if sheet in names:
        return sheet
    folded = {n.casefold(): n for n in names}
    if sheet.casefold() in folded:
        return folded[sheet.casefold()]
    raise SheetError(f"{path}: no sheet named {sheet!r}; sheets: {', '.join(names)}")


_NS_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"


_ERROR_CELL = (b't="e"', b"t='e'")
_HIDDEN_ROW = re.compile(rb"""<(?:\w+:)?row\b[^>]*\bhidden=["'](?:1|true)["']""")  # not hidden columns


def _xml_extras(data: bytes, title: str) -> tuple[dict[tuple[int, int], str], list[int]]:
    """What calamine does not tell: (row, column) → error text (``#DIV/0!``) of the error cells,
    and the numbers of the hidden rows (1-based, as in the spreadsheet)."""
    from xml.etree import ElementTree

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        part = _worksheet_part(archive, title)
        if part is None:
            return {}, []
        xml = archive.read(part)
    if not any(marker in xml for marker in _ERROR_CELL) and not _HIDDEN_ROW.search(xml):
        return {}, []
    errors: dict[tuple[int, int], str] = {}
    hidden: list[int] = []
    row = column = 0
    try:
        for event, element in ElementTree.iterparse(io.BytesIO(xml), events=("start", "end")):
            tag = element.tag.rsplit("}", 1)[-1]
            if event == "start":
                if tag == "row":
                    row = int(element.get("r") or row + 1)
                    column = 0
                    if element.get("hidden") in ("1", "true"):
                        hidden.append(row)
                continue
            if tag == "c":
                ref = element.get("r")
                column = _column_index(ref) if ref else column + 1
                if element.get("t") == "e":
                    value = next((child.text for child in element if child.tag.rsplit("}", 1)[-1] == "v"), None)
                    if value:
                        errors[(row, column)] = value
                element.clear()
    except (ElementTree.ParseError, ValueError):
        pass  # calamine read the sheet; what could be found here is all there is to add
    return errors, hidden


def _worksheet_part(archive: zipfile.ZipFile, title: str) -> str | None:
    """The zip part holding the worksheet called ``title`` (via xl/workbook.xml and its rels)."""
    from xml.etree import ElementTree

    try:
        workbook = ElementTree.fromstring(archive.read("xl/workbook.xml"))
        rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    except (KeyError, ElementTree.ParseError):
        return None
    rel_id = next((s.get(f"{_NS_REL}id") for s in workbook.iter() if s.tag.endswith("}sheet") and s.get("name") == title), None)
    target = next((r.get("Target") for r in rels if r.get("Id") == rel_id), None)
    if not target:
        return None
    return target.lstrip("/") if target.startswith("/") else f"xl/{target}"


def _column_index(ref: str) -> int:
    """``"AB12"`` → 28."""
    index = 0
    for char in ref:
        if not char.isalpha():
            break
        index = index * 26 + ord(char.upper()) - 64
    return index


def cell_text(value: object) -> str:
    """A cell's value as the user reads it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e16:
            return str(int(value))
        return format(Decimal(repr(value)).normalize(), "f")
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return str(value.total_seconds()).removesuffix(".0")
    return str(value)


# ---------------------------------------------------------------- CSV


def _read_csv(path: Path, data: bytes, encoding: str | None, delimiter: str | None) -> list[tuple[int, list[str]]]:
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
