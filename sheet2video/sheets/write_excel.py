"""Writing results into an .xlsx / .xlsm by patching the worksheet's XML inside the zip: only the
target worksheet (and styles.xml for new cell formats, the sheet's rels for new links, a Table that
grows over the result columns) change; every other part — charts, pictures, pivot caches, x14
extensions, shared strings, comments, macros — keeps its bytes.

Stages, in ``xlsx/``: ``parts`` (zip and relationships), ``patch`` (sheetData and hyperlinks),
``styles`` (derived cell formats), ``tables`` (growing a Table)."""

from __future__ import annotations

import io
import math
import os
import re
import zipfile
from datetime import datetime
from pathlib import Path, PureWindowsPath
from urllib.parse import quote

from sheet2video.errors import SheetError
from sheet2video.sheets.read import campaign_sheet, header_index, normalise_header
from sheet2video.sheets.read_excel import OLE_MAGIC, excel_grid, pick_sheet
from sheet2video.sheets.result_columns import ResultCell, column_names, is_result_column, layout, result_cells
from sheet2video.sheets.result_rows import RowUpdate, locate
from sheet2video.sheets.xlsx.parts import HYPERLINK_REL, Package
from sheet2video.sheets.xlsx.patch import Worksheet
from sheet2video.sheets.xlsx.styles import CLEAR, Styles
from sheet2video.sheets.xlsx.tables import grow_tables

__all__ = ["apply_excel", "check_workbook_bytes", "link_target"]

_MAX_CELL = 32767  # Excel's limit on the characters of one cell
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_DATE_FORMAT = "yyyy-mm-dd hh:mm:ss"


def apply_excel(data: bytes, source: Path, updates: list[RowUpdate], *, sheet: str | int | None,
                key_column: str | None, folder: Path) -> tuple[bytes, int, list[str]]:
    """The workbook with ``updates`` written in: (new bytes, rows written, keys not found)."""
    package = Package(source, data)
    try:
        sheets = package.worksheets()
        title = pick_sheet(source, list(sheets), campaign_sheet(source, data, sheet))
        part = sheets[title]
        if part is None or not package.has(part):
            raise SheetError(f"{source}: sheet {title!r} is a chart sheet, not a table")
        try:
            xml = package.read(part).decode("utf-8")
        except UnicodeDecodeError:
            raise SheetError(f"{source}: sheet {title!r} is not stored as UTF-8 XML; save it again in Excel") from None
        ws = Worksheet(source, xml)
        grid = excel_grid(source, data, title).cells  # the cells as the reader sees them
        return _write(package, part, ws, grid, updates, key_column=key_column, folder=folder)
    finally:
        package.close()


def _write(package: Package, part: str, ws: Worksheet, grid: list[list[str]], updates: list[RowUpdate], *,
           key_column: str | None, folder: Path) -> tuple[bytes, int, list[str]]:
    def text(r: int, c: int) -> str:
        cells = grid[r - 1] if 0 < r <= len(grid) else ()
        return cells[c - 1] if 0 < c <= len(cells) else ""

    used = {r: [c for c, v in enumerate(cells, start=1) if v != ""] for r, cells in enumerate(grid, start=1)}
    used = {r: cols for r, cols in used.items() if cols}
    last_col = max([c for cols in used.values() for c in cols] + [c2 for _, (_, c2) in ws.merged], default=0)
    records = [(r, cells) for r, cells in enumerate(grid, start=1) if any(c.strip() for c in cells)]
    header_row = records[header_index(records)][0] if records else 1
    header: dict[str, int] = {}
    for c in used.get(header_row, ()):
        header.setdefault(normalise_header(text(header_row, c)), c)
    result_cols = {c for name, c in header.items() if is_result_column(name)}
    key_col = header.get(normalise_header(key_column)) if key_column else None
    plan, skipped = locate(
        updates,
        keyed=bool(key_column),
        first_row=header_row + 1,
        last_row=max(used, default=1),
        key_of=(lambda r: text(r, key_col).strip()) if key_col else None,
        is_blank=lambda r: not any(c not in result_cols and text(r, c).strip() for c in used.get(r, ())),
    )
    if not plan:
        return b"", 0, skipped

    styles = _LazyStyles(package)
    cells_by_row = result_cells(plan, header)
    columns = layout(column_names(cells_by_row), header, last_col)
    last_named = max(used.get(header_row, [0]))
    style_from = 0 if not last_named or ws.hidden_by_merge(header_row, last_named) else ws.style(header_row, last_named)
    new_columns = [(col, name) for name, (col, new) in columns.items() if new]
    for col, name in new_columns:
        ws.put(header_row, col, style_from or ws.style(header_row, col), text=name)

    written = set()
    base = datetime(1904, 1, 1) if package.date1904() else datetime(1899, 12, 30)
    for r, row_cells in cells_by_row:
        for name, result in row_cells.items():
            col = columns[name][0]
            if ws.hidden_by_merge(r, col):
                continue  # inside a range the user merged: its first cell shows the value
            _put(ws, styles, r, col, result, status=name == "status", folder=folder, base=base)
        written.add(r)

    grow_tables(package, part, header_row, min(used.get(header_row, [1])), sorted(new_columns))
    xml = ws.result(lambda target: package.add_relationship(part, HYPERLINK_REL, target),
                    lambda ids: package.remove_relationships(part, ids))
    package.write(part, xml.encode("utf-8"))
    if ws.formulas_replaced:
        package.drop_calc_chain()
    styles.save()
    return package.save(), len(written), skipped


class _LazyStyles:
    """styles.xml is read only when a cell needs a new format."""

    def __init__(self, package: Package):
        self.package, self.styles = package, None

    def __getattr__(self, name):
        if self.styles is None:
            self.styles = Styles(self.package)
        return getattr(self.styles, name)

    def save(self) -> None:
        if self.styles is not None:
            self.styles.save()


def _put(ws: Worksheet, styles, r: int, col: int, result: ResultCell, *, status: bool, folder: Path,
         base: datetime) -> None:
    """Write one result cell: its value, then its format derived from the cell's own."""
    value = _clean_excel(result.text)
    s = ws.style(r, col)
    number = None
    if result.number is not None and math.isfinite(result.number):
        number, s = repr(float(result.number)), styles.index(s, number_format="0.00")
    elif result.when is not None:
        serial = (result.when - base).days + (result.when - base).seconds / 86400
        number, s = repr(round(serial, 10)), styles.index(s, number_format=_DATE_FORMAT)
    if result.link:
        target = link_target(value, folder)
        ws.link(r, col, target)
        if target is not None and not s:  # a fresh cell: the built-in Hyperlink look costs nothing
            s = styles.index(s, hyperlink=True)
    if "\n" in value and number is None and not styles.wraps(s):
        s = styles.index(s, wrap=True)
    if status:
        s = _status_look(styles, s, result.text)
    ws.put(r, col, s, text=value if number is None else None, number=number)


# status -> (fill, font colour): Excel's own Good / Bad / Neutral cell styles, grey for skipped rows
_LOOKS = {
    "finished": ("FFC6EFCE", "FF006100"), "success": ("FFC6EFCE", "FF006100"), "succeeded": ("FFC6EFCE", "FF006100"),
    "failed": ("FFFFC7CE", "FF9C0006"),
    "processing": ("FFFFEB9C", "FF9C5700"), "init": ("FFFFEB9C", "FF9C5700"), "submitting": ("FFFFEB9C", "FF9C5700"),
    "running": ("FFFFEB9C", "FF9C5700"), "queuing": ("FFFFEB9C", "FF9C5700"),
    "skipped": ("FFEDEDED", "FF595959"),
}
_OUR_FILLS = {fill for fill, _ in _LOOKS.values()}


def _status_look(styles, s: int, status: str) -> int:
    """Colour a status cell so a sheet reads at a glance; a status without a look loses ours."""
    word = status.strip().split(" ", 1)[0].lower() if status.strip() else ""
    look = _LOOKS.get(word)
    if look is None and (not s or styles.solid_fill(s) not in _OUR_FILLS):
        return s  # nothing of ours to take back: the user's style stays
    return styles.index(s, look=look or CLEAR)


def link_target(value: str, folder: Path) -> str | None:
    """Where a click on a result cell goes: a URL as it is; a local file relative to the sheet's
    folder (``videos/a.mp4``), so the link still works when the folder is moved or shared."""
    first = next((line.strip() for line in value.splitlines() if line.strip()), "")
    if not first:
        return None
    if re.match(r"(https?|ftp|file)://", first, re.I):
        target = first
    elif re.match(r"[A-Za-z]:[\\/]|\\\\", first):
        target = PureWindowsPath(first).as_uri()
    elif re.match(r"[A-Za-z][A-Za-z0-9+.-]*://", first) or ("/" not in first and "\\" not in first and "." not in first):
        return None  # oss:// and the like, or a media ID: nothing a click can open
    else:
        local = Path(first).expanduser()
        relative = Path(os.path.relpath(local, folder)) if local.is_absolute() else local
        target = "".join(quote(ch) if ch in "%#? " or ord(ch) < 32 else ch for ch in relative.as_posix())
    return target if len(target) <= 2079 else None  # Excel's limit on a link address


def _clean_excel(value: str) -> str:
    value = _ILLEGAL_XML.sub("", value.replace("\r\n", "\n"))
    if len(value) > _MAX_CELL:
        value = value[: _MAX_CELL - 1] + "…"
    return value




def check_workbook_bytes(path: Path, data: bytes) -> None:
    if data[:4] == OLE_MAGIC:
        if "EncryptionInfo".encode("utf-16-le") in data:
            raise SheetError(f"{path}: the workbook is password-protected (encrypted); save an unprotected copy as .xlsx")
        raise SheetError(f"{path}: this is an old .xls workbook, not .xlsx; save it as .xlsx in Excel")
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise SheetError(f"{path}: not a valid Excel workbook (the file is damaged or not .xlsx)")
