"""Reading a worksheet of an .xlsx / .xlsm into a grid of cell text, as the user sees it."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from sheet2video.errors import SheetError

__all__ = ["OLE_MAGIC", "ExcelGrid", "excel_grid", "pick_sheet", "cell_text"]

OLE_MAGIC = b"\xd0\xcf\x11\xe0"


@dataclass
class ExcelGrid:
    name: str                       # the worksheet's name
    cells: list[list[str]]          # cell text from A1, as shown: formulas as their values, errors as shown
    hidden: list[int] = field(default_factory=list)  # hidden row numbers (1-based)
    # (row, column), both 1-based -> a hyperlink's target, where the cell is a link (its text is in cells)
    links: dict[tuple[int, int], str] = field(default_factory=dict)


def excel_grid(path: Path, data: bytes, sheet: str | int | None) -> ExcelGrid:
    """A worksheet's cells as text (formulas as cached values, errors as shown), hidden rows, links.

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
    return ExcelGrid(title, grid, hidden)


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


