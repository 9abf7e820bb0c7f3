"""Writing results into an .xlsx / .xlsm with openpyxl, keeping formulas (and their cached values),
styles, merged cells, widths, panes, other sheets and names; and telling beforehand when a workbook
holds what openpyxl cannot write back (charts, images, pivot tables, …)."""

from __future__ import annotations

import io
import os
import posixpath
import re
import warnings
import zipfile
from collections import defaultdict
from copy import copy
from pathlib import Path, PureWindowsPath
from urllib.parse import quote
from xml.etree import ElementTree as ET
from xml.sax.saxutils import escape

from sheet2video.errors import SheetError
from sheet2video.sheets.read_excel import OLE_MAGIC, cell_text, excel_grid, pick_sheet
from sheet2video.sheets.result_columns import ResultCell, column_names, is_result_column, layout, result_cells
from sheet2video.sheets.result_rows import RowUpdate, locate

__all__ = [
    "apply_excel",
    "unsupported_parts",
    "check_workbook_bytes",
    "load_workbook",
    "close",
    "status_look",
    "link_target",
]

_MAX_CELL = 32767  # Excel's limit on the characters of one cell
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def apply_excel(data: bytes, workbook, source: Path, updates: list[RowUpdate], *, sheet: str | int | None,
                key_column: str | None, folder: Path) -> tuple[bytes, int, list[str]]:
    """The workbook with ``updates`` written in: (new bytes, rows written, keys not found)."""
    from openpyxl.cell.cell import MergedCell
    from openpyxl.workbook.properties import CalcProperties

    ws = workbook[pick_sheet(source, workbook.sheetnames, sheet)]
    if not hasattr(ws, "_cells"):
        raise SheetError(f"{source}: sheet {ws.title!r} is a chart sheet, not a table")

    cells = ws._cells  # existing cells only: reading must not create cells
    used: dict[int, set[int]] = defaultdict(set)  # row -> columns holding a value
    for (r, c), cell in cells.items():
        if cell.value is not None and cell.value != "":
            used[r].add(c)
    last_col = max((c for cols in used.values() for c in cols), default=0)
    for merged in ws.merged_cells.ranges:
        last_col = max(last_col, merged.max_col)
    last_row = max(used, default=1)

    cached: list[dict] = []  # formula results, read the way sheet.read_sheet reads them

    def text(r: int, c: int) -> str:
        cell = cells.get((r, c))
        if cell is None or cell.value is None:
            return ""
        if cell.data_type == "f":
            if not cached:
                cached.append(_cached_values_sheet(source, data, ws.title))
            return cached[0].get((r, c), "")
        return cell_text(cell.value)

    # the header is the first row that is not blank, as sheet.read_sheet takes it
    header_row = next((r for r in sorted(used) if any(text(r, c).strip() for c in used[r])), 1)
    header = {}
    for c in sorted(used.get(header_row, ())):
        header.setdefault(text(header_row, c).strip().lower(), c)
    result_cols = {c for name, c in header.items() if is_result_column(name)}

    key_col = header.get(key_column.strip().lower()) if key_column else None
    plan, skipped = locate(
        updates,
        keyed=bool(key_column),
        first_row=header_row + 1,
        last_row=last_row,
        key_of=(lambda r: text(r, key_col).strip()) if key_col else None,
        is_blank=lambda r: not any(c not in result_cols and text(r, c).strip() for c in used.get(r, ())),
    )
    if not plan:
        return b"", 0, skipped

    cells_by_row = result_cells(plan, header)
    columns = layout(column_names(cells_by_row), header, last_col)
    style_from = cells.get((header_row, max(used.get(header_row, {0}))))  # the last named column
    for name, (col, new) in columns.items():
        if new:
            cell = ws.cell(header_row, col)
            cell.value = name
            cell.data_type = "s"
            if style_from is not None and style_from.has_style and not isinstance(style_from, MergedCell):
                cell._style = copy(style_from._style)

    written = set()
    for r, row_cells in cells_by_row:
        for name, result in row_cells.items():
            cell = ws.cell(r, columns[name][0])
            if isinstance(cell, MergedCell):
                continue  # inside a range the user merged: its first cell shows the value
            _put(cell, result, folder=folder)
            if name == "status":
                status_look(cell, result.text)
        written.add(r)

    if workbook.calculation is None:
        workbook.calculation = CalcProperties()
    workbook.calculation.fullCalcOnLoad = True  # openpyxl drops cached results: recalc on open
    buffer = io.BytesIO()
    workbook.save(buffer)
    return _restore_cached_values(buffer.getvalue(), _cached_formulas(data)), len(written), skipped


# (part name prefix, what the user would lose)
_LOSSY_PARTS = (
    ("xl/charts/", "charts"),
    ("xl/chartsheets/", "charts"),
    ("xl/media/", "images"),
    ("xl/pivottables/", "pivot tables"),
    ("xl/pivotcache/", "pivot tables"),
    ("xl/slicers/", "slicers"),
    ("xl/slicercaches/", "slicers"),
    ("xl/timelines/", "timelines"),
    ("xl/timelinecaches/", "timelines"),
    ("xl/externallinks/", "external links"),
    ("xl/activex/", "form controls or ActiveX"),
    ("xl/ctrlprops/", "form controls or ActiveX"),
    ("xl/embeddings/", "embedded objects"),
    ("xl/threadedcomments/", "threaded comments"),
    ("xl/metadata.xml", "dynamic-array formulas or data types"),
    ("xl/richdata/", "pictures in cells or data types"),
    ("xl/model/", "a data model"),
    ("xl/connections.xml", "data connections"),
    ("xl/querytables/", "data connections"),
    ("xl/webextensions/", "add-ins"),
    ("xl/vbaprojectsignature", "signed macros"),
    ("customui/", "a custom ribbon"),
)
_VML_OBJECT = re.compile(rb'ObjectType\s*=\s*"([^"]*)"')
_BENIGN_WARNINGS = ("no default style", "contains no stylesheet")


def unsupported_parts(data: bytes) -> list[str]:
    """What the workbook holds that openpyxl cannot write back, judged by its zip part names."""
    kinds: dict[str, None] = {}
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        return []  # reported by the load that follows
    with archive:
        for name in archive.namelist():
            low = name.lower()
            for prefix, kind in _LOSSY_PARTS:
                if low.startswith(prefix):
                    kinds[kind] = None
            if low.startswith("xl/drawings/") and "/_rels/" not in low:
                if low.endswith(".vml"):  # legacy drawings: comments (kept) or controls/pictures (lost)
                    vml = archive.read(name)
                    if any(t.strip().lower() != b"note" for t in _VML_OBJECT.findall(vml)):
                        kinds["form controls or ActiveX"] = None
                    if b"imagedata" in vml:
                        kinds["images"] = None
                else:
                    kinds["drawings (shapes, images or charts)"] = None
    return list(kinds)


def check_workbook_bytes(path: Path, data: bytes) -> None:
    if data[:4] == OLE_MAGIC:
        if "EncryptionInfo".encode("utf-16-le") in data:
            raise SheetError(f"{path}: the workbook is password-protected (encrypted); save an unprotected copy as .xlsx")
        raise SheetError(f"{path}: this is an old .xls workbook, not .xlsx; save it as .xlsx in Excel")
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise SheetError(f"{path}: not a valid Excel workbook (the file is damaged or not .xlsx)")


def load_workbook(path: Path, data: bytes, xlsm: bool):
    """Load for editing (formulas as formulas). Returns (workbook, what openpyxl warned it drops)."""
    import openpyxl

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            workbook = openpyxl.load_workbook(
                io.BytesIO(data), keep_vba=xlsm, data_only=False, keep_links=True, rich_text=True
            )
        except Exception as error:  # openpyxl raises many types for broken files
            first = str(error).splitlines()[0] if str(error) else ""
            raise SheetError(f"{path}: cannot open the workbook ({type(error).__name__}: {first})") from None
    lost = [
        str(w.message).splitlines()[0]
        for w in caught
        if "openpyxl" in (w.filename or "") and not any(b in str(w.message) for b in _BENIGN_WARNINGS)
    ]
    return workbook, "; ".join(dict.fromkeys(lost))


def close(workbook) -> None:
    """openpyxl never closes the in-memory zip it keeps of an xlsm's macros: close it."""
    archive = getattr(workbook, "vba_archive", None)
    if archive is not None:
        archive.close()


def _cached_values_sheet(source: Path, data: bytes, title: str) -> dict[tuple[int, int], str]:
    """Cell text of formula results, read exactly as sheet.read_sheet reads them (cached values)."""
    grid = excel_grid(source, data, title).cells
    return {(r, c): text for r, cells in enumerate(grid, start=1) for c, text in enumerate(cells, start=1) if text}


def _put(cell, result: ResultCell, *, folder: Path) -> None:
    from openpyxl.styles import Alignment

    value = _clean_excel(result.text)
    if result.number is not None:
        cell.value, cell.number_format = result.number, "0.00"
    elif result.when is not None:
        cell.value, cell.number_format = result.when, "yyyy-mm-dd hh:mm:ss"
    elif value == "":
        cell.value = None
    else:
        cell.value = value
        cell.data_type = "s"  # text, never a formula or an error code, whatever it starts with
    if result.link:
        target = link_target(value, folder)
        if target is None:
            cell.hyperlink = None
        else:
            plain = not cell.has_style
            cell.hyperlink = target
            if plain:  # a fresh cell: the built-in Hyperlink look costs nothing
                cell.style = "Hyperlink"
    if "\n" in value and not cell.alignment.wrap_text:
        alignment = copy(cell.alignment) if cell.has_style else Alignment()
        alignment.wrap_text = True
        cell.alignment = alignment


# status -> (fill, font colour): Excel's own Good / Bad / Neutral cell styles, grey for skipped rows
_LOOKS = {
    "finished": ("FFC6EFCE", "FF006100"), "success": ("FFC6EFCE", "FF006100"), "succeeded": ("FFC6EFCE", "FF006100"),
    "failed": ("FFFFC7CE", "FF9C0006"),
    "processing": ("FFFFEB9C", "FF9C5700"), "init": ("FFFFEB9C", "FF9C5700"), "submitting": ("FFFFEB9C", "FF9C5700"),
    "running": ("FFFFEB9C", "FF9C5700"), "queuing": ("FFFFEB9C", "FF9C5700"),
    "skipped": ("FFEDEDED", "FF595959"),
}
_OUR_FILLS = {fill for fill, _ in _LOOKS.values()}


def status_look(cell, status: str) -> None:
    """Colour a status cell so a sheet reads at a glance; a status without a look loses ours."""
    from openpyxl.styles import PatternFill

    word = status.strip().split(" ", 1)[0].lower() if status.strip() else ""
    look = _LOOKS.get(word)
    current = cell.fill.fgColor.rgb if cell.has_style and cell.fill.fill_type == "solid" else None
    if look is None and current not in _OUR_FILLS:
        return  # nothing of ours to take back: the user's style stays
    font = copy(cell.font)
    if look is None:
        cell.fill = PatternFill(fill_type=None)
        font.color = None
    else:
        cell.fill = PatternFill("solid", start_color=look[0], end_color=look[0])
        font.color = look[1]
    cell.font = font


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


# cached results of formula cells: openpyxl writes formulas with an empty <v/>; we put back what
# the file held, so tools reading cached values (pandas, sheet.read_sheet) still see them.

_SHEET_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"
_DOC_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"
_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_RID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
_FORMULA_CELL = re.compile(
    r'<c r="([A-Z]{1,3}[0-9]+)"((?: s="[0-9]+")?)>(<f\b[^>]*?(?:/>|>[^<]*</f>))(?:<v\s*/>|<v></v>)</c>'
)


def _sheet_parts(archive: zipfile.ZipFile) -> dict[str, str]:
    """Worksheet name -> zip part name."""
    def rels_of(part: str) -> dict[str, tuple[str, str]]:
        folder, name = posixpath.split(part)
        rels = posixpath.join(folder, "_rels", name + ".rels")
        out = {}
        for rel in ET.fromstring(archive.read(rels)):
            target = rel.get("Target", "")
            full = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(folder, target))
            out[rel.get("Id")] = (rel.get("Type"), full)
        return out

    try:
        book = next(p for t, p in rels_of("").values() if t == _DOC_REL)
        rels = rels_of(book)
        parts = {}
        for sheet in ET.fromstring(archive.read(book)).iter(f"{_MAIN}sheet"):
            kind, part = rels.get(sheet.get(_RID), (None, None))
            if kind == _SHEET_REL:
                parts[sheet.get("name")] = part
        return parts
    except (KeyError, StopIteration, ET.ParseError):
        return {}


def _cached_formulas(data: bytes) -> dict[str, dict[str, tuple[str, str]]]:
    """Sheet name -> {cell ref: (type, raw cached value)} for formula cells that have one."""
    found: dict[str, dict[str, tuple[str, str]]] = {}
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for name, part in _sheet_parts(archive).items():
            cells = {}
            try:
                with archive.open(part) as stream:
                    for _, element in ET.iterparse(stream):
                        if element.tag == f"{_MAIN}c":
                            f = element.find(f"{_MAIN}f")
                            v = element.find(f"{_MAIN}v")
                            if f is not None and v is not None and v.text is not None:
                                cells[element.get("r")] = (element.get("t", "n"), v.text)
                            element.clear()
            except (KeyError, ET.ParseError):
                continue
            if cells:
                found[name] = cells
    return found


def _restore_cached_values(data: bytes, cached: dict[str, dict[str, tuple[str, str]]]) -> bytes:
    if not cached:
        return data
    changed = {}
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for name, part in _sheet_parts(archive).items():
            values = cached.get(name)
            if not values:
                continue
            xml = archive.read(part).decode("utf-8")

            def fill(match: re.Match) -> str:
                ref, style, formula = match.groups()
                kind, value = values.get(ref, (None, None))
                if kind not in ("n", "str", "b", "e"):
                    return match.group(0)
                t = "" if kind == "n" else f' t="{kind}"'
                return f'<c r="{ref}"{style}{t}>{formula}<v>{escape(value)}</v></c>'

            new = _FORMULA_CELL.sub(fill, xml)
            if new != xml:
                changed[part] = new.encode("utf-8")
        if not changed:
            return data
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as rebuilt:
            for info in archive.infolist():
                rebuilt.writestr(info, changed.get(info.filename) or archive.read(info))
    return out.getvalue()

