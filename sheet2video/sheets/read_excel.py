"""Reading a worksheet of an .xlsx / .xlsm / .xls / .ods into a grid of cell text, as the user sees it."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from sheet2video.errors import SheetError
from sheet2video.sheets.number_format import general_text
from sheet2video.sheets.read_ods import ods_shown
from sheet2video.sheets.read_xls import xls_shown
from sheet2video.sheets.xlsx.values import apply_xlsx_cells

__all__ = ["OLE_MAGIC", "ExcelGrid", "excel_grid", "workbook_kind", "pick_sheet", "cell_text", "worksheet_names", "worksheet_heads"]

OLE_MAGIC = b"\xd0\xcf\x11\xe0"


@dataclass
class ExcelGrid:
    name: str                       # the worksheet's name
    cells: list[list[str]]          # cell text from A1, as shown: formulas as their values, errors as shown
    hidden: list[int] = field(default_factory=list)  # hidden row numbers (1-based)
    # (row, column), both 1-based -> a hyperlink's target, where the cell is a link (its text is in cells)
    links: dict[tuple[int, int], str] = field(default_factory=dict)
    # (row, column) -> what a picture in a cell shows ("picture in B3"; it is also in cells, and the
    # extracted file's path, relative to the sheet's folder, is in links: media columns use it)
    shown: dict[tuple[int, int], str] = field(default_factory=dict)


def workbook_kind(data: bytes) -> str | None:
    """"xlsx", "ods" or "ole" (an .xls, or an encrypted workbook) by the file's bytes, not its name."""
    if data[:4] == OLE_MAGIC:
        return "ole"
    if not zipfile.is_zipfile(io.BytesIO(data)):
        return None
    if data[30:38] == b"mimetype" and b"opendocument.spreadsheet" in data[38:120]:
        return "ods"
    return "xlsx"


def excel_grid(path: Path, data: bytes, sheet: str | int | None) -> ExcelGrid:
    """A worksheet's cells as the user sees them, hidden rows, links and pictures in cells.

    python-calamine (Rust) reads the values ~10x faster than openpyxl's read-only mode. What it
    does not interpret comes from one pass over the sheet's XML (.xlsx only): number formats,
    error cells, hidden rows, formulas saved without a value, hyperlinks and pictures in cells.
    An .ods gives the text its dates, times, percentages and amounts show (read_ods); an .xls its
    formatted numbers through xlrd (read_xls).
    """
    import python_calamine  # imported here: CSV users don't pay for it

    kind = workbook_kind(data)
    if kind is None:
        raise SheetError(f"{path}: not a valid Excel workbook (the file is damaged or not .xlsx)")
    if kind == "ole" and _ENCRYPTED in data:
        raise SheetError(f"{path}: the workbook is password-protected (encrypted); save an unprotected copy")
    try:
        workbook = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    except Exception as error:  # calamine raises its own types (ZipError, XmlError, ...) for broken files
        if kind == "ole":
            raise SheetError(f"{path}: the workbook is password-protected (encrypted) or a damaged .xls file") from None
        raise SheetError(f"{path}: cannot open the workbook ({type(error).__name__}: {error})") from None
    try:
        title = pick_sheet(path, workbook.sheet_names, sheet)
        sheet_kind = next(m.typ for m in workbook.sheets_metadata if m.name == title)
        if sheet_kind != python_calamine.SheetTypeEnum.WorkSheet:
            raise SheetError(f"{path}: sheet {title!r} is a chart sheet, not a table")
        try:
            values = workbook.get_sheet_by_name(title).to_python(skip_empty_area=False)
        except Exception as error:
            raise SheetError(f"{path}: cannot read sheet {title!r} ({type(error).__name__}: {error})") from None
    finally:
        workbook.close()
    grid = ExcelGrid(title, [[cell_text(v) for v in row] for row in values])
    if kind == "xlsx":
        apply_xlsx_cells(path, data, grid, values)
    else:
        for (row, column), text in (ods_shown if kind == "ods" else xls_shown)(data, title).items():
            if row <= len(grid.cells) and column <= len(grid.cells[row - 1]):
                grid.cells[row - 1][column - 1] = text
    return grid


_ENCRYPTED = "EncryptedPackage".encode("utf-16-le")


def worksheet_names(path: Path, data: bytes) -> list[str]:
    """The workbook's worksheets (chart sheets left out), in order; [] when it cannot be opened
    (``excel_grid`` then says why)."""
    return list(worksheet_heads(path, data, 0))


def worksheet_heads(path: Path, data: bytes, rows: int) -> dict[str, list[list[str]]]:
    """Each worksheet's first ``rows`` rows as plain cell text (no formats, formulas or pictures:
    enough to tell a campaign sheet by its column names without reading every sheet whole); no
    rows for a workbook of one sheet; {} when the workbook cannot be opened."""
    import python_calamine

    try:
        workbook = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    except Exception:  # calamine raises its own types for broken files
        return {}
    try:
        names = [m.name for m in workbook.sheets_metadata if m.typ == python_calamine.SheetTypeEnum.WorkSheet]
        if not rows or len(names) < 2:  # one sheet: nothing to choose between, no rows to read
            return dict.fromkeys(names, [])
        heads = {}
        for name in names:
            try:
                values = workbook.get_sheet_by_name(name).to_python(skip_empty_area=False, nrows=rows)
            except Exception:  # a sheet calamine cannot read scores nothing; excel_grid says why if chosen
                values = []
            heads[name] = [[cell_text(v) for v in row] for row in values]
        return heads
    finally:
        workbook.close()


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


def cell_text(value: object) -> str:
    """A cell's value as the user reads it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return general_text(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return str(value.total_seconds()).removesuffix(".0")
    return str(value)


