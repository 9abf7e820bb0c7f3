"""The text an .ods shows for its dates, times, percentages and amounts.

An OpenDocument sheet stores each cell's displayed text next to its value (``<text:p>``), so the
cell reads as shown without interpreting number styles; plain numbers keep calamine's value.
"""

from __future__ import annotations

import io
import zipfile

from sheet2video.sheets.xlsx.parts import read_part

__all__ = ["ods_shown"]

_TABLE = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
_OFFICE = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"
_TEXT = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"
_SHOWN_TYPES = frozenset({"date", "time", "percentage", "currency"})
_MAX_REPEAT = 10_000  # repeated empty cells pad a sheet to its full width; they are never shown


def ods_shown(data: bytes, sheet_name: str) -> dict[tuple[int, int], str]:
    """(row, column), 1-based → the text shown, for the typed cells of the sheet ``sheet_name``."""
    from xml.etree import ElementTree

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        content = read_part(archive, "content.xml")
    if not content:
        return {}
    shown: dict[tuple[int, int], str] = {}
    inside, row, column = False, 0, 0
    try:
        for event, element in ElementTree.iterparse(io.BytesIO(content), events=("start", "end")):
            tag = element.tag
            if tag == f"{_TABLE}table":
                inside = event == "start" and element.get(f"{_TABLE}name") == sheet_name
                row = 0
            elif not inside:
                if event == "end" and tag == f"{_TABLE}table-row":
                    element.clear()
            elif tag == f"{_TABLE}table-row" and event == "start":
                column = 0
            elif tag == f"{_TABLE}table-row":
                row += min(int(element.get(f"{_TABLE}number-rows-repeated", "1")), _MAX_REPEAT)
                element.clear()
            elif tag in (f"{_TABLE}table-cell", f"{_TABLE}covered-table-cell") and event == "end":
                repeat = min(int(element.get(f"{_TABLE}number-columns-repeated", "1")), _MAX_REPEAT)
                if element.get(f"{_OFFICE}value-type") in _SHOWN_TYPES:
                    text = "\n".join(_text(p) for p in element.iter(f"{_TEXT}p"))
                    shown.update({(row + 1, column + 1 + i): text for i in range(repeat)})
                column += repeat
    except (ElementTree.ParseError, ValueError):
        return shown  # calamine read the sheet; what was found here is all there is to add
    return shown


def _text(paragraph) -> str:
    """A paragraph's text, with ``<text:s/>`` as spaces."""
    parts = [paragraph.text or ""]
    for child in paragraph:
        if child.tag == f"{_TEXT}s":
            parts.append(" " * int(child.get(f"{_TEXT}c", "1")))
        else:
            parts.append("".join(child.itertext()))
        parts.append(child.tail or "")
    return "".join(parts)
