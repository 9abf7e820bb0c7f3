"""Scanning a worksheet part for what python-calamine does not tell (number formats, errors,
formulas, hidden rows, hyperlinks, rich values), the number formats of styles.xml, and cell references.

The worksheet XML is scanned with regexes in one pass, not parsed: sheets hold 100,000s of cells."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

from sheet2video.sheets.xlsx.parts import Package

__all__ = ["CellXml", "SheetXml", "style_formats", "scan_sheet", "column_index", "column_letters", "cell_ref",
           "parse_ref"]


def style_formats(package: Package) -> list[str]:
    """The number format code of each cell style (cellXfs index → code; "" for General)."""
    from xml.etree import ElementTree

    from sheet2video.sheets.number_format import format_code, is_general

    part = package.styles_part()
    data = package.read_part(part) if part else None
    if not data:
        return []
    try:
        root = ElementTree.fromstring(data)
    except ElementTree.ParseError:
        return []
    custom, codes = {}, []
    for element in root.iter():
        tag = element.tag.rsplit("}", 1)[-1]
        if tag == "numFmt" and (element.get("numFmtId") or "").isdigit():
            custom[int(element.get("numFmtId"))] = element.get("formatCode", "")
        elif tag == "cellXfs":
            for xf in element:
                number = xf.get("numFmtId") or "0"
                code = format_code(int(number) if number.isdigit() else 0, custom)
                codes.append("" if is_general(code) else code)
    return codes


@dataclass
class CellXml:
    style: int
    type: str
    value: str | None               # the <v> text, None when there is none (or it is empty)
    formula: str | None = None      # the <f> text; for a shared formula's follower, the master's
    shared: tuple[str, int, int] | None = None  # (shared index, row, column) of a follower
    vm: int = 0


@dataclass
class SheetXml:
    cells: dict[tuple[int, int], CellXml] = field(default_factory=dict)  # only the cells worth a look
    errors: dict[tuple[int, int], str] = field(default_factory=dict)
    hidden: list[int] = field(default_factory=list)
    hyperlinks: list[tuple[str, dict[str, str]]] = field(default_factory=list)  # (ref, attributes)
    masters: dict[str, tuple[str, int, int]] = field(default_factory=dict)  # shared index → (formula, row, col)


_TAG = re.compile(rb"<(?:[\w.-]+:)?(row|c|hyperlink)(?=[\s/>])([^>]*)>")
_END_C = re.compile(rb"</(?:[\w.-]+:)?c>")
_ATTR = re.compile(rb"""([\w.:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_F = re.compile(rb"<(?:[\w.-]+:)?f(?=[\s/>])([^>]*?)(?:/>|>(.*?)</(?:[\w.-]+:)?f>)", re.S)
_V = re.compile(rb"<(?:[\w.-]+:)?v(?=[\s/>])[^>]*?(?:/>|>(.*?)</(?:[\w.-]+:)?v>)", re.S)


def _attrs(raw: bytes) -> dict[str, str]:
    return {k.decode().rsplit(":", 1)[-1] if k != b"r:id" else "r:id": html.unescape((a or b).decode("utf-8", "replace"))
            for k, a, b in _ATTR.findall(raw)}


_CELL_ATTR = re.compile(rb"""(?<![\w:])(r|s|t|vm)\s*=\s*["']([^"']*)["']""")
_ANY_FORMULA = re.compile(rb"<(?:[\w.-]+:)?f[\s/>]")


def scan_sheet(xml: bytes, formatted: set[int]) -> SheetXml:
    """One pass over a worksheet part: error cells, hidden rows, hyperlinks, and the cells that have
    a number format in ``formatted`` (style indexes), a formula or a rich value (``vm``).

    Tuned for 100,000s of cells: a cell's column is worked out only for the cells kept."""
    found = SheetXml()
    formulas = _ANY_FORMULA.search(xml) is not None
    row, last_ref, offset = 0, b"", 0
    for match in _TAG.finditer(xml):
        tag, raw = match.group(1), match.group(2)
        if tag == b"c":
            attrs = dict(_CELL_ATTR.findall(raw))
            if b"r" in attrs:
                last_ref, offset = attrs[b"r"], 0
            else:
                offset += 1
            if raw.endswith(b"/"):
                continue
            style = int(attrs[b"s"]) if attrs.get(b"s", b"").isdigit() else 0
            kind = attrs.get(b"t", b"n").decode("ascii", "replace")
            vm = int(attrs[b"vm"]) if attrs.get(b"vm", b"").isdigit() else 0
            if style not in formatted and kind != "e" and not vm and not formulas:
                continue
            end = _END_C.search(xml, match.end())
            content = xml[match.end():end.start() if end else len(xml)]
            formula = _F.search(content) if formulas and b"f" in content else None
            if style not in formatted and kind != "e" and not vm and formula is None:
                continue
            column = (column_index(last_ref.decode("ascii", "replace")) if last_ref else 0) + offset
            _add_cell(found, (row, column), CellXml(style, kind, None, vm=vm), content, formula)
        elif tag == b"row":
            attrs = _attrs(raw)
            row = int(attrs["r"]) if attrs.get("r", "").isdigit() else row + 1
            last_ref, offset = b"", 0
            if attrs.get("hidden") in ("1", "true"):
                found.hidden.append(row)
        else:
            attrs = _attrs(raw)
            found.hyperlinks.append((attrs.get("ref", ""), attrs))
    return found


def _add_cell(found: SheetXml, at: tuple[int, int], cell: CellXml, content: bytes, formula: re.Match | None) -> None:
    value = _V.search(content)
    cell.value = html.unescape(value.group(1).decode("utf-8", "replace")) if value and value.group(1) else None
    if cell.type == "e" and cell.value:
        found.errors[at] = cell.value
    if formula is not None:
        _add_formula(found, cell, formula, *at)
    found.cells[at] = cell


def _add_formula(found: SheetXml, cell: CellXml, formula: re.Match, row: int, column: int) -> None:
    attrs = _attrs(formula.group(1))
    text = html.unescape(formula.group(2).decode("utf-8", "replace")) if formula.group(2) else ""
    if attrs.get("t") == "shared" and "si" in attrs:
        if text:
            found.masters[attrs["si"]] = (text, row, column)
        else:
            cell.shared = (attrs["si"], row, column)
    cell.formula = text or None


def column_index(ref: str) -> int:
    """``"AB12"`` → 28."""
    index = 0
    for char in ref:
        if not char.isalpha():
            break
        index = index * 26 + ord(char.upper()) - 64
    return index


def column_letters(column: int) -> str:
    """28 → ``"AB"``."""
    letters = ""
    while column:
        column, rem = divmod(column - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def cell_ref(row: int, column: int) -> str:
    """(5, 3) → ``"C5"``."""
    return f"{column_letters(column)}{row}"


def parse_ref(ref: str) -> tuple[int, int]:
    """``"AB12"`` -> (12, 28); ``"$A$1"`` too."""
    match = re.fullmatch(r"\$?([A-Za-z]{1,3})\$?([0-9]+)", ref.strip())
    if match is None:
        raise ValueError(ref)
    return int(match.group(2)), column_index(match.group(1))
