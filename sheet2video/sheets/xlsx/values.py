"""What an .xlsx says about its cells beyond calamine's values: number formats, error cells,
hidden rows, formulas saved without a value, hyperlinks and pictures in cells.

The sheet's XML is scanned once, and only when it holds one of those (see ``_worth_scanning``).
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

from sheet2video.errors import SheetError
from sheet2video.sheets.headers import display_header, header_index
from sheet2video.sheets.formula_eval import FormulaUnsupported, XlError, evaluate, first_argument, shift_formula, value_text
from sheet2video.sheets.number_format import format_number, format_text
from sheet2video.sheets.xlsx.parts import Package
from sheet2video.sheets.xlsx.pictures import CellPictures
from sheet2video.sheets.xlsx.scan import CellXml, SheetXml, cell_ref, column_index, scan_sheet, style_formats

__all__ = ["apply_xlsx_cells"]

# substrings (found far faster than by one regex) that mark what calamine does not tell
_MARKERS = (b't="e"', b"t='e'", b"<f>", b"<f ", b":f>", b":f ", b"vm=", b"hyperlink", b"hidden=")


def apply_xlsx_cells(path: Path, data: bytes, grid: Any, values: list[list[object]]) -> None:
    """Update ``grid`` (an ExcelGrid, whose ``cells`` came from calamine's ``values``) in place."""
    package = Package(path, data)
    try:
        part = package.worksheets().get(grid.name)
        xml = package.read_part(part) if part else None
        if not xml:
            return
        formats = style_formats(package)
        formatted = {i for i, code in enumerate(formats) if code}
        if not formatted and not any(marker in xml for marker in _MARKERS):
            return  # the fast path: nothing calamine missed
        found = scan_sheet(xml, formatted)
        grid.hidden = found.hidden
        for (row, column), text in found.errors.items():
            _put(grid.cells, row, column, text)
        cells = _Cells(path, package, grid, values, found, formats)
        cells.apply()
        grid.links.update(cells.links(package.rels(part, lenient=True)))
        cells.pictures.save()  # only now: a sheet with a bad cell leaves nothing written
    finally:
        package.close()


class _Cells:
    """The scanned cells of one sheet, turned into text as shown."""

    def __init__(self, path: Path, package: Package, grid: Any, values: list[list[object]],
                 found: SheetXml, formats: list[str]):
        self.path, self.grid, self.values, self.found, self.formats = path, grid, values, found, formats
        self.date1904 = package.date1904()
        self.pictures = CellPictures(package, path)
        self.computed: dict[tuple[int, int], object] = {}
        self.computing: set[tuple[int, int]] = set()
        self.hyperlinks: dict[tuple[int, int], str] = {}

    def apply(self) -> None:
        for (row, column), cell in self.found.cells.items():
            if cell.shared and not cell.formula:
                cell.formula = self._shared_formula(cell, row, column)
        for (row, column), cell in self.found.cells.items():
            text = self._text(row, column, cell)
            if text is not None:
                _put(self.grid.cells, row, column, text)

    def _text(self, row: int, column: int, cell: CellXml) -> str | None:
        """The cell's text as shown, or None to keep calamine's."""
        formula = cell.formula or ""
        upper = formula.upper()
        if cell.vm:
            part = self.pictures.excel_part(cell.vm)
            if part:
                return self._picture(row, column, part)
        if "DISPIMG(" in upper:
            picture_id = self._first_argument(formula, row, column)
            part = self.pictures.wps_part(str(picture_id))
            if not part:
                raise self._error(row, column, f"the picture {picture_id} (={formula}) is not in the workbook; "
                                  "insert the picture into the cell again and save")
            return self._picture(row, column, part)
        if formula and upper.lstrip("=").startswith("HYPERLINK("):
            target = self._first_argument(formula, row, column)
            if isinstance(target, str) and target:
                self.hyperlinks[(row, column)] = target
        if formula and cell.value is None and cell.type != "e":
            return self._shown(cell, self._compute(row, column))
        if cell.value is not None and cell.type == "n" and self._code(cell):
            try:
                return format_number(float(cell.value), self._code(cell), date1904=self.date1904)
            except ValueError:
                return None
        if cell.type in ("s", "str", "inlineStr") and self._code(cell) and row <= len(self.grid.cells):
            line = self.grid.cells[row - 1]
            return format_text(line[column - 1], self._code(cell)) if column <= len(line) else None
        return None

    def _code(self, cell: CellXml) -> str:
        return self.formats[cell.style] if cell.style < len(self.formats) else ""

    def _shown(self, cell: CellXml, value: object) -> str:
        if isinstance(value, (int, float)) and not isinstance(value, bool) and self._code(cell):
            return format_number(value, self._code(cell), date1904=self.date1904)
        return "0" if value is None else value_text(value)

    def _picture(self, row: int, column: int, part: str) -> str:
        try:
            relative = self.pictures.extract(part)
        except SheetError as error:
            raise self._error(row, column, f"the picture in this cell cannot be used: {error.message}") from None
        # like a link: the path is the target a media column uses, the cell shows the picture's name
        text = self.grid.shown[(row, column)] = f"picture in {cell_ref(row, column)}"
        self.hyperlinks[(row, column)] = relative
        return text

    def _first_argument(self, formula: str, row: int, column: int) -> object:
        try:
            return first_argument(formula, lambda sheet, r, c: self._lookup(sheet, r, c))
        except FormulaUnsupported:
            return None

    def _shared_formula(self, cell: CellXml, row: int, column: int) -> str | None:
        index, _, _ = cell.shared
        master = self.found.masters.get(index)
        if master is None:
            return None
        text, master_row, master_column = master
        try:
            return shift_formula(text, row - master_row, column - master_column)
        except FormulaUnsupported:
            return None

    def _compute(self, row: int, column: int) -> object:
        """A formula cell's value (computing the formula cells it refers to first)."""
        key = (row, column)
        if key in self.computed:
            return self.computed[key]
        cell = self.found.cells[key]
        formula = cell.formula or ""
        if key in self.computing:
            raise self._error(row, column, f"the formula ={formula} refers to itself (a circular reference)")
        self.computing.add(key)
        try:
            value = evaluate(formula, lambda sheet, r, c: self._lookup(sheet, r, c))
        except FormulaUnsupported as reason:
            shown = formula if len(formula) <= 60 else formula[:57] + "…"
            raise self._error(row, column, f"the formula ={shown} has no saved value and cannot be computed here "
                              f"({reason}); open the file in Excel or LibreOffice and save it") from None
        finally:
            self.computing.discard(key)
        self.computed[key] = value
        return value

    def _lookup(self, sheet: str | None, row: int, column: int) -> object:
        if sheet is not None and sheet.casefold() != self.grid.name.casefold():
            raise FormulaUnsupported(f"it refers to another sheet ({sheet})")
        cell = self.found.cells.get((row, column))
        if cell is not None and cell.formula and cell.value is None and cell.type != "e":
            return self._compute(row, column)
        if cell is not None and cell.value is not None and cell.type == "n":
            return float(cell.value)
        if cell is not None and cell.type == "e" and cell.value:
            return XlError(cell.value)
        raw = self.values[row - 1][column - 1] if row <= len(self.values) and column <= len(self.values[row - 1]) else None
        return _calamine_value(raw)

    def _error(self, row: int, column: int, message: str) -> SheetError:
        """One line naming the cell: its column's header (in the row the reader takes for the
        header, as ``read_sheet`` finds it) and its reference."""
        ref = cell_ref(row, column)
        records = [(n, line) for n, line in enumerate(self.grid.cells, start=1) if any(c.strip() for c in line)]
        header_row, names = records[header_index(records)] if records else (row, [])
        header = display_header(names[column - 1]) if header_row < row and column <= len(names) else ""
        return SheetError(message, row=row, column=f"{header} ({ref})" if header else f"column {ref.rstrip('0123456789')} ({ref})")

    def links(self, rels: dict[str, tuple[str, str, str]]) -> dict[tuple[int, int], str]:
        """Hyperlink targets: ``<hyperlinks>`` with an external target, then HYPERLINK formulas."""
        links: dict[tuple[int, int], str] = {}
        for ref, attrs in self.found.hyperlinks:
            _, target, mode = rels.get(attrs.get("r:id") or attrs.get("id") or "", ("", "", ""))
            if not target or mode != "External":
                continue  # a link to a place in the workbook (``location``) is not a file
            for cell in _cells_of(ref):
                links[cell] = target
        links.update(self.hyperlinks)
        return links


def _cells_of(ref: str) -> list[tuple[int, int]]:
    """``"B2"`` or ``"B2:C3"`` → its cells (a range is capped: links span a few cells)."""
    first, _, last = ref.replace("$", "").upper().partition(":")
    corners = [re.fullmatch(r"([A-Z]{1,3})(\d+)", r) for r in (first, last or first)]
    if not all(corners):
        return []
    (left, top), (right, bottom) = ((column_index(m.group(1)), int(m.group(2))) for m in corners)
    if (bottom - top + 1) * (right - left + 1) > 10_000:
        return []
    return [(r, c) for r in range(top, bottom + 1) for c in range(left, right + 1)]


def _calamine_value(raw: object) -> object:
    """A value as python-calamine gives it, as the evaluator takes it (dates as serial numbers)."""
    if raw is None or raw == "":
        return None
    if isinstance(raw, dt.datetime):
        return (raw - dt.datetime(1899, 12, 30)).total_seconds() / 86400
    if isinstance(raw, dt.date):
        return float((raw - dt.date(1899, 12, 30)).days)
    if isinstance(raw, dt.time):
        return (raw.hour * 3600 + raw.minute * 60 + raw.second) / 86400
    if isinstance(raw, dt.timedelta):
        return raw.total_seconds() / 86400
    if isinstance(raw, (bool, str)):
        return raw
    return float(raw)




def _put(cells: list[list[str]], row: int, column: int, text: str) -> None:
    while len(cells) < row:
        cells.append([])
    line = cells[row - 1]
    line.extend([""] * (column - len(line)))
    line[column - 1] = text
