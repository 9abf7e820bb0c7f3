"""Writing job results back into the user's own sheet, without ever damaging it.

``write_back(path, updates)`` puts each row's results (job id, status, video links, errors) into
the result columns of the sheet (DESIGN §4) and touches nothing else:

* rows are located again at write time (by key when the sheet has a key column, else by row
  number), so rows the user inserted, deleted or sorted since the sheet was read are still found
  or reported as skipped — never written into the wrong row;
* the file is replaced atomically: a ``<stem>.bak<ext>`` backup first, then a temp file in the
  same folder, fsync, ``os.replace``, fsync of the folder. On any failure the original is left as
  it was and the temp file is removed;
* when Excel has the workbook open (``~$<name>`` beside it) or the workbook holds parts openpyxl
  cannot round-trip (charts, images, pivot tables, …), the original is left untouched and the
  results go to ``<stem>.results<ext>`` instead (updated again by later runs);
* workbooks keep formulas (and their cached values, so readers that use cached values see the
  same cells after a write-back), styles, merged cells, widths, panes, other sheets and names;
  CSV files keep their encoding, BOM, delimiter, line endings and every value. Result values
  written to CSV that start with ``= + - @`` are neutralised with a leading ``'``.
"""

from __future__ import annotations

import codecs
import csv
import glob
import io
import os
import posixpath
import re
import tempfile
import warnings
import zipfile
from collections import Counter, defaultdict
from copy import copy
from dataclasses import dataclass, field
from pathlib import Path, PureWindowsPath
from typing import Callable
from xml.etree import ElementTree as ET
from xml.sax.saxutils import escape

from sheet2video.errors import SheetError
from sheet2video.sheet import CSV_SUFFIXES, EXCEL_SUFFIXES, OLE_MAGIC, cell_text, excel_grid, pick_sheet, sniff_delimiter

RESULT_COLUMNS = ("job_id", "status", "videos", "media_ids", "durations", "error", "updated_at",
                  "video_urls")  # video_urls: cloud runs with --download (videos then holds the local paths)

_ROW_KEY = re.compile(r"row(\d+)")
_MAX_CELL = 32767  # Excel's limit on the characters of one cell
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_CSV_NEUTRALISE = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class RowUpdate:
    row: int                # spreadsheet row number when the sheet was read (header = row 1)
    key: str                # the key column's value, or "row<N>" when the row has none
    values: dict[str, str]  # result column -> text (multi-value cells: one value per line)


@dataclass
class WriteOutcome:
    path: Path                  # the file written (or that would have been, when nothing was written)
    results_copy: bool          # True when the original was left untouched and a results copy written
    reason: str | None          # why a results copy was written (one line, for the user)
    backup: Path | None         # the backup of the replaced file, None when no file was replaced
    skipped: list[str] = field(default_factory=list)  # keys of updates whose row was not found
    written: int = 0            # rows written


class _Changed(Exception):
    """The file changed (or Excel opened it) while we worked on it: start again."""


def write_back(
    path: str | os.PathLike,
    updates: list[RowUpdate],
    *,
    sheet: str | int | None = None,
    key_column: str | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    link_column: str = "videos",
) -> WriteOutcome:
    """Write result columns for ``updates`` into the sheet at ``path`` (or its results copy).

    Raises SheetError (one line) for a missing or unreadable file, and ValueError for an update
    that names a column outside RESULT_COLUMNS (a programming error).
    """
    for update in updates:
        unknown = [c for c in update.values if c not in RESULT_COLUMNS]
        if unknown:
            raise ValueError(f"not result columns: {', '.join(unknown)} (allowed: {', '.join(RESULT_COLUMNS)})")
    given = Path(path)
    if not given.exists():
        raise SheetError(f"{given}: no such file")
    if given.is_dir():
        raise SheetError(f"{given}: is a folder, not a sheet")
    real = given.resolve()  # a symlinked sheet: write the file it points to, keep the link
    suffix = real.suffix.lower()
    if suffix == ".xls":
        raise SheetError(f"{given}: old .xls workbooks are not supported; save it as .xlsx in Excel")
    if suffix not in EXCEL_SUFFIXES and suffix not in CSV_SUFFIXES:
        raise SheetError(f"{given}: unknown sheet type {suffix!r}; use .xlsx, .xlsm, .csv or .tsv")
    job = _Job(real, given, updates, sheet, key_column, encoding, delimiter, link_column.strip().lower())
    for _ in range(3):
        try:
            return job.run()
        except _Changed:
            continue
    raise SheetError(f"{given}: the file kept changing while results were written; close other programs and rerun")


# ---------------------------------------------------------------- the whole operation


@dataclass
class _Job:
    real: Path
    given: Path
    updates: list[RowUpdate]
    sheet: str | int | None
    key_column: str | None
    encoding: str | None
    delimiter: str | None
    link_column: str

    @property
    def excel(self) -> bool:
        return self.real.suffix.lower() in EXCEL_SUFFIXES

    def run(self) -> WriteOutcome:
        original = _read_bytes(self.real)
        workbook = None
        if self.excel:
            _check_workbook_bytes(self.given, original)
        reason = self._redirect_reason(original)
        if reason is None and self.excel:
            workbook, lost = _load_workbook(self.given, original, self._xlsm)
            if lost:
                reason = f"{self.real.name} has features that saving would drop ({lost})"

        target, base, source = self.real, original, self.given
        if reason is not None:
            target = results_path(self.real)
            reason = f"{reason}; results written to {target.name} instead"
            lock = _lock_file(target)
            if lock is not None:
                raise SheetError(f"{target}: the results copy is open ({lock.name} exists); close it and rerun")
            if target.exists():
                _close(workbook)
                base, workbook, source = _read_bytes(target), None, target
                if self.excel:
                    _check_workbook_bytes(target, base)

        if self.excel:
            if workbook is None:
                workbook, _ = _load_workbook(source, base, self._xlsm)
            try:
                data, written, skipped = self._apply_excel(base, workbook, source)
            finally:
                _close(workbook)
        else:
            data, written, skipped = self._apply_csv(base, source)

        outcome = WriteOutcome(target, reason is not None, reason, None, skipped, written)
        if not written:
            return outcome
        expected = base if source == target or target == self.real else None
        watch = self.real if target == self.real else None
        mode = self.real.stat().st_mode & 0o7777
        outcome.backup = _commit(target, data, expected, watch, mode)
        return outcome

    @property
    def _xlsm(self) -> bool:
        return self.real.suffix.lower() == ".xlsm"

    def _redirect_reason(self, original: bytes) -> str | None:
        lock = _lock_file(self.real) or _lock_file(self.given.absolute())
        if lock is not None:
            app = "LibreOffice" if lock.name.startswith(".~lock.") else "Excel"
            return f"{self.real.name} is open in {app} (lock file {lock.name} exists)"
        if not os.access(self.real, os.W_OK):
            return f"{self.real.name} is read-only"
        if self.excel:
            kinds = _unsupported_parts(original)
            if kinds:
                return f"{self.real.name} contains {', '.join(kinds)}, which would be lost if it were rewritten"
        return None

    # ------------------------------------------------------------ xlsx / xlsm

    def _apply_excel(self, data: bytes, workbook, source: Path) -> tuple[bytes, int, list[str]]:
        from openpyxl.cell.cell import MergedCell
        from openpyxl.workbook.properties import CalcProperties

        ws = workbook[pick_sheet(source, workbook.sheetnames, self.sheet)]
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
        result_cols = {header[n] for n in RESULT_COLUMNS if n in header}

        key_col = header.get(self.key_column.strip().lower()) if self.key_column else None
        plan, skipped = _locate(
            self.updates,
            keyed=bool(self.key_column),
            first_row=header_row + 1,
            last_row=last_row,
            key_of=(lambda r: text(r, key_col).strip()) if key_col else None,
            is_blank=lambda r: not any(c not in result_cols and text(r, c).strip() for c in used.get(r, ())),
        )
        if not plan:
            return b"", 0, skipped

        columns = self._columns(plan, header, last_col)
        style_from = cells.get((header_row, max(used.get(header_row, {0}))))  # the last named column
        for name, (col, new) in columns.items():
            if new:
                cell = ws.cell(header_row, col)
                cell.value = name
                cell.data_type = "s"
                if style_from is not None and style_from.has_style and not isinstance(style_from, MergedCell):
                    cell._style = copy(style_from._style)

        folder = self.real.parent
        written = set()
        for update, r in plan:
            for name, value in update.values.items():
                cell = ws.cell(r, columns[name][0])
                if isinstance(cell, MergedCell):
                    continue  # inside a range the user merged: its first cell shows the value
                _set_excel_text(cell, _clean_excel(value), link=name == self.link_column, folder=folder)
            written.add(r)

        if workbook.calculation is None:
            workbook.calculation = CalcProperties()
        workbook.calculation.fullCalcOnLoad = True  # openpyxl drops cached results: recalc on open
        buffer = io.BytesIO()
        workbook.save(buffer)
        return _restore_cached_values(buffer.getvalue(), _cached_formulas(data)), len(written), skipped

    def _columns(self, plan, header: dict[str, int], last_col: int) -> dict[str, tuple[int, bool]]:
        """Result column name -> (1-based column, newly added), in RESULT_COLUMNS order."""
        wanted = {name for update, _ in plan for name in update.values}
        columns = {}
        for name in RESULT_COLUMNS:
            if name not in wanted:
                continue
            if name in header:
                columns[name] = (header[name], False)
            else:
                last_col += 1
                columns[name] = (last_col, True)
        return columns

    # ------------------------------------------------------------ CSV / TSV

    def _apply_csv(self, data: bytes, target: Path) -> tuple[bytes, int, list[str]]:
        if self.delimiter is not None and len(self.delimiter) != 1:
            raise SheetError(f"delimiter must be one character, not {self.delimiter!r}")
        codec, bom = _csv_codec(data, self.encoding)
        try:
            text = data[len(bom):].decode(codec)
        except UnicodeDecodeError as error:
            at = len(bom) + error.start
            line = data[:at].count(b"\n") + 1
            raise SheetError(
                f"{target}: line {line} is not valid {self.encoding or 'utf-8'} text "
                f"(byte 0x{data[at]:02x}); pass --encoding, e.g. --encoding gbk or --encoding cp1252"
            ) from None
        delimiter = self.delimiter or ("\t" if target.suffix.lower() == ".tsv" else sniff_delimiter(text))
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
        h = nonblank[0]
        header = {}
        for c, name in enumerate(records[h]):
            if name.strip():
                header.setdefault(name.strip().lower(), c)
        last_col = max((c for rec in records for c, v in enumerate(rec) if v != ""), default=-1)
        result_cols = {header[n] for n in RESULT_COLUMNS if n in header}

        def cell(r: int, c: int) -> str:
            rec = records[r - 1]
            return rec[c] if c < len(rec) else ""

        key_col = header.get(self.key_column.strip().lower()) if self.key_column else None
        plan, skipped = _locate(
            self.updates,
            keyed=bool(self.key_column),
            first_row=h + 2,
            last_row=len(records),
            key_of=(lambda r: cell(r, key_col).strip()) if key_col is not None else None,
            is_blank=lambda r: not any(c not in result_cols and v.strip() for c, v in enumerate(records[r - 1])),
        )
        if not plan:
            return b"", 0, skipped

        columns = self._columns(plan, header, last_col)  # 0-based here: last_col + 1 is the first free one
        expected = [list(rec) for rec in records]
        for name, (col, new) in columns.items():
            if new:
                _put(expected[h], col, name)
        written = set()
        for update, r in plan:
            for name, value in update.values.items():
                _put(expected[r - 1], columns[name][0], _clean_csv(value, codec))
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


# ---------------------------------------------------------------- locating rows


def _locate(
    updates: list[RowUpdate],
    *,
    keyed: bool,
    first_row: int,
    last_row: int,
    key_of: Callable[[int], str] | None,
    is_blank: Callable[[int], bool],
) -> tuple[list[tuple[RowUpdate, int]], list[str]]:
    """Each update -> the row it belongs to now, or its key in the skipped list.

    With a key column, the n-th update (in row order) carrying key K goes to the n-th data row
    whose key is K. Updates keyed ``row<N>`` (rows without a key) go to row N, if that row still
    has data and (when there is a key column) still has no other key.
    """
    rows_by_key: dict[str, list[int]] = defaultdict(list)
    if key_of is not None:
        for r in range(first_row, last_row + 1):
            key = key_of(r)
            if key:
                rows_by_key[key].append(r)
    seen: Counter[str] = Counter()
    plan, skipped = [], []
    for update in sorted(updates, key=lambda u: u.row):
        key = update.key.strip()
        if keyed and not _ROW_KEY.fullmatch(key):
            rows = rows_by_key.get(key, [])
            index = seen[key]
            seen[key] += 1
            if index < len(rows):
                plan.append((update, rows[index]))
            else:
                skipped.append(update.key)
            continue
        r = update.row
        if r < first_row or r > last_row or is_blank(r):
            skipped.append(update.key)
        elif key_of is not None and key_of(r) not in ("", key):
            skipped.append(update.key)  # another keyed row sits there now
        else:
            plan.append((update, r))
    return plan, skipped


# ---------------------------------------------------------------- workbook helpers

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


def _unsupported_parts(data: bytes) -> list[str]:
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


def _check_workbook_bytes(path: Path, data: bytes) -> None:
    if data[:4] == OLE_MAGIC:
        if "EncryptionInfo".encode("utf-16-le") in data:
            raise SheetError(f"{path}: the workbook is password-protected (encrypted); save an unprotected copy as .xlsx")
        raise SheetError(f"{path}: this is an old .xls workbook, not .xlsx; save it as .xlsx in Excel")
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise SheetError(f"{path}: not a valid Excel workbook (the file is damaged or not .xlsx)")


def _load_workbook(path: Path, data: bytes, xlsm: bool):
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


def _close(workbook) -> None:
    """openpyxl never closes the in-memory zip it keeps of an xlsm's macros: close it."""
    archive = getattr(workbook, "vba_archive", None)
    if archive is not None:
        archive.close()


def _cached_values_sheet(source: Path, data: bytes, title: str) -> dict[tuple[int, int], str]:
    """Cell text of formula results, read exactly as sheet.read_sheet reads them (cached values)."""
    _, grid, _ = excel_grid(source, data, title)
    return {(r, c): text for r, cells in enumerate(grid, start=1) for c, text in enumerate(cells, start=1) if text}


def _set_excel_text(cell, value: str, *, link: bool, folder: Path) -> None:
    from openpyxl.styles import Alignment

    if value == "":
        cell.value = None
    else:
        cell.value = value
        cell.data_type = "s"  # text, never a formula or an error code, whatever it starts with
    if link:
        target = _link_target(value, folder)
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


def _link_target(value: str, folder: Path) -> str | None:
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
        target = (local if local.is_absolute() else folder / local).resolve().as_uri()
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


# ---------------------------------------------------------------- CSV helpers


def _csv_codec(data: bytes, encoding: str | None) -> tuple[str, bytes]:
    """(codec used for the text, BOM bytes kept in front of it)."""
    name = None
    if encoding:
        try:
            name = codecs.lookup(encoding).name
        except LookupError:
            raise SheetError(f"unknown encoding {encoding!r}") from None
    if data.startswith(codecs.BOM_UTF8) and name in (None, "utf-8", "utf-8-sig"):
        return "utf-8", codecs.BOM_UTF8
    if data.startswith(codecs.BOM_UTF16_LE) and (name is None or name.startswith("utf-16")):
        return "utf-16-le", codecs.BOM_UTF16_LE
    if data.startswith(codecs.BOM_UTF16_BE) and (name is None or name.startswith("utf-16")):
        return "utf-16-be", codecs.BOM_UTF16_BE
    if name in (None, "utf-8-sig"):
        return "utf-8", b""
    if name == "utf-16":
        return "utf-16-le", b""
    return name, b""


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


# ---------------------------------------------------------------- files


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise SheetError(f"{path}: cannot read the file ({error.strerror or error})") from None


def _lock_file(path: Path) -> Path | None:
    """Excel's owner file ``~$name`` (or LibreOffice's ``.~lock.name#``) beside ``path``."""
    for lock in (path.with_name("~$" + path.name), path.with_name(f".~lock.{path.name}#")):
        if lock.exists():
            return lock
    return None


def backup_path(target: Path) -> Path:
    """Where a save keeps what ``target`` held before: ``<stem>.bak<ext>``."""
    return target.with_name(f"{target.stem}.bak{target.suffix}")


def results_path(sheet: Path) -> Path:
    """The results copy written when the sheet itself cannot be: ``<stem>.results<ext>``."""
    return sheet.with_name(f"{sheet.stem}.results{sheet.suffix}")


def remove_leftover_temps(path: str | os.PathLike) -> list[Path]:
    """Delete the hidden ``.<name>.XXXXXXXX.tmp`` copies a killed save left next to the sheet (of the
    sheet, its results copy or their backups); return them. Call it only while holding the sheet's
    lock (``ledger.SheetLock``): then no save of this sheet is under way."""
    real = Path(path).resolve()
    saved = [f for target in (real, results_path(real)) for f in (target, backup_path(target))]
    leftovers = [p for f in saved for p in real.parent.glob(f".{glob.escape(f.name)}.*.tmp")]
    for leftover in leftovers:
        leftover.unlink(missing_ok=True)
    return leftovers


def _commit(target: Path, data: bytes, expected: bytes | None, watch: Path | None, mode: int) -> Path | None:
    """Back up ``target``, then replace it atomically with ``data``. Returns the backup path.

    ``expected`` is what ``target`` held when it was read (None: it did not exist); if it has
    changed since, or Excel opened ``watch`` meanwhile, raise _Changed and leave everything as is.
    """
    backup = None
    try:
        if expected is not None:
            backup = backup_path(target)
            _replace_with(backup, expected, mode, lambda: None)

        def still_as_read() -> None:
            current = target.read_bytes() if target.exists() else None
            if current != expected or (watch is not None and _lock_file(watch) is not None):
                raise _Changed()

        _replace_with(target, data, mode, still_as_read)
    except OSError as error:
        raise SheetError(
            f"{target}: cannot write the file ({error.strerror or error}); is it open in another program?"
        ) from None
    return backup


def _replace_with(dest: Path, data: bytes, mode: int, check: Callable[[], None]) -> None:
    fd, name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(name, mode)
        check()
        os.replace(name, dest)
    except BaseException:
        try:
            os.unlink(name)
        except FileNotFoundError:
            pass
        raise
    _fsync_folder(dest.parent)


def _fsync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return  # Windows cannot open folders; NTFS journals the rename itself
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
