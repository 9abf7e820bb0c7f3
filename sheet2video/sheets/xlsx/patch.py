"""Patching one worksheet's XML as text: cells are replaced or inserted inside their rows, the
``<dimension>`` and row ``spans`` widened, hyperlinks added or removed; every byte outside what
changes (conditional formats, data validations, extLst, other rows) stays as it was."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from sheet2video.errors import SheetError
from sheet2video.sheets.xlsx.parts import REL_NS, attribute, set_attribute, xml_text
from sheet2video.sheets.xlsx.scan import column_index, column_letters, parse_ref

__all__ = ["Worksheet"]

_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
# CT_Worksheet children that come after <hyperlinks>: it goes right before the first of them
_AFTER_HYPERLINKS = ("printOptions", "pageMargins", "pageSetup", "headerFooter", "rowBreaks", "colBreaks",
                     "customProperties", "cellWatches", "ignoredErrors", "smartTags", "drawing", "legacyDrawing",
                     "legacyDrawingHF", "picture", "oleObjects", "controls", "webPublishItems", "tableParts", "extLst")
# and the ones that come before it, whose end is where the search for the above starts
_BEFORE_HYPERLINKS = ("sheetData", "sheetCalcPr", "sheetProtection", "protectedRanges", "scenarios", "autoFilter",
                      "sortState", "dataConsolidate", "customSheetViews", "mergeCells", "phoneticPr",
                      "conditionalFormatting", "dataValidations")


_CELL_REF = re.compile(r"""<[^>]*?\sr\s*=\s*["']\$?([A-Za-z]{1,3})""")
_ROW_NUMBER = re.compile(r"""<[^>]*?\sr\s*=\s*["']([0-9]+)""")
_CELL_STYLE = re.compile(r"""<[^>]*?\ss\s*=\s*["']([0-9]+)""")


_column_number = lru_cache(maxsize=4096)(column_index)  # the same few letters, row after row


@dataclass
class _Row:
    number: int
    start: int                  # span of the <row> element in the worksheet text
    end: int
    text: str
    cells: dict[int, str] | None = None  # column -> cell element, parsed when the row is edited
    order: list[int] = field(default_factory=list)


class Worksheet:
    """One worksheet part: read cell styles, then ``put`` cells and ``link`` them; ``xml()`` at the end."""

    def __init__(self, source, xml: str):
        self.source, self.xml = source, xml
        root = re.search(r"<(?:(\w+):)?worksheet\b[^>]*>", xml)
        if root is None:
            raise SheetError(f"{source}: the worksheet part is not a worksheet")
        prefix = root.group(1)
        if prefix and f'xmlns:{prefix}="{_MAIN_NS}"' not in root.group(0).replace("'", '"'):
            raise SheetError(f"{source}: the worksheet uses an unknown XML namespace for {prefix}:; save it again in Excel")
        self.p = f"{prefix}:" if prefix else ""
        rel = re.search(rf'xmlns:(\w+)\s*=\s*["\']{re.escape(REL_NS)}["\']', root.group(0))
        self.r = rel.group(1) if rel else None
        data = re.search(rf"<{self.p}sheetData\b[^>]*?(/?)>", xml)
        if data is None:
            raise SheetError(f"{source}: the worksheet has no sheetData")
        self.data_start = data.start()
        self.data_end = data.end() if data.group(1) else xml.index(f"</{self.p}sheetData>", data.end()) + len(f"</{self.p}sheetData>")
        self.rows: dict[int, _Row] = {}
        self._cell = re.compile(rf"<{self.p}c\b[^>]*?(?:/>|>.*?</{self.p}c>)", re.S)
        self._formula = re.compile(rf"<{self.p}f[\s/>]")
        self._read_rows(xml[data.end(): self.data_end], data.end())
        self.merged = [tuple(parse_ref(x) for x in m.split(":")) for m in
                       re.findall(rf'<{self.p}mergeCell\b[^>]*\bref\s*=\s*["\']([A-Z$0-9]+:[A-Z$0-9]+)["\']', xml)]
        self.links: dict[str, str | None] = {}  # cell ref -> new link target (None: no link)
        self.formulas_replaced = False  # a formula cell now holds a result: the calculation chain is stale

    def _read_rows(self, text: str, offset: int) -> None:
        number = 0
        self.numbered = True
        for match in re.finditer(rf"<{self.p}row\b[^>]*?(?:/>|>.*?</{self.p}row>)", text, re.S):
            given = _ROW_NUMBER.match(text, match.start(), text.index(">", match.start()))
            self.numbered &= given is not None
            number = int(given.group(1)) if given else number + 1
            self.rows[number] = _Row(number, offset + match.start(), offset + match.end(), match.group(0))

    # ------------------------------------------------------------ reading

    def _cells(self, row: _Row) -> dict[int, str]:
        if row.cells is None:
            row.cells, column = {}, 0
            body = row.text[row.text.index(">") + 1:] if not row.text.endswith("/>") else ""
            for match in self._cell.finditer(body):
                cell = match.group(0)
                ref = _CELL_REF.match(cell, 0, cell.index(">"))
                column = _column_number(ref.group(1)) if ref else column + 1
                row.cells[column] = cell if ref else set_attribute(cell, "r", f"{column_letters(column)}{row.number}")
                row.order.append(column)
        return row.cells

    def style(self, row: int, column: int) -> int:
        cell = self._cells(self.rows[row]).get(column) if row in self.rows else None
        if not cell:
            return 0
        style = _CELL_STYLE.match(cell, 0, cell.index(">"))
        return int(style.group(1)) if style else 0

    def hidden_by_merge(self, row: int, column: int) -> bool:
        """A cell inside a merged range other than its first: what it holds is never shown."""
        return any(r1 <= row <= r2 and c1 <= column <= c2 and (row, column) != (r1, c1)
                   for (r1, c1), (r2, c2) in self.merged)

    # ------------------------------------------------------------ editing

    def put(self, row: int, column: int, s: int, *, text: str | None = None, number: str | None = None) -> None:
        """Set a cell to text (an inline string, never a formula), a number, or empty (both None)."""
        if row not in self.rows:
            self.rows[row] = _Row(row, -1, -1, f'<{self.p}row r="{row}"/>', {}, [])
        cells = self._cells(self.rows[row])
        ref = f"{column_letters(column)}{row}"
        self.formulas_replaced |= self._formula.search(cells.get(column, "")) is not None
        style = f' s="{s}"' if s else ""
        if text:
            space = ' xml:space="preserve"' if text != text.strip() or "\n" in text else ""
            cell = f'<{self.p}c r="{ref}"{style} t="inlineStr"><{self.p}is><{self.p}t{space}>{xml_text(text)}</{self.p}t></{self.p}is></{self.p}c>'
        elif number is not None:
            cell = f'<{self.p}c r="{ref}"{style}><{self.p}v>{number}</{self.p}v></{self.p}c>'
        elif s:
            cell = f'<{self.p}c r="{ref}"{style}/>'
        else:
            cells.pop(column, None)
            return
        cells[column] = cell

    def link(self, row: int, column: int, target: str | None) -> None:
        self.links[f"{column_letters(column)}{row}"] = target

    # ------------------------------------------------------------ writing

    def result(self, add_relationship, remove_relationships) -> str:
        """The patched worksheet text. ``add_relationship(target) -> rId`` and
        ``remove_relationships(ids)`` edit the sheet's rels for the hyperlinks."""
        xml = self._with_rows()
        xml = self._with_dimension(xml)
        if self.links:
            xml = self._with_links(xml, add_relationship, remove_relationships)
        return xml

    def _row_text(self, row: _Row) -> str:
        if row.cells is None:
            return row.text if self.numbered else set_attribute(row.text, "r", str(row.number))
        columns = sorted(row.cells)
        tag_end = row.text.index(">") + 1
        start = row.text[:tag_end]
        if start.endswith("/>"):
            start = start[:-2] + ">"
        if not self.numbered:
            start = set_attribute(start, "r", str(row.number))
        spans = attribute(start, "spans")
        if spans and columns:
            bounds = [int(x) for x in re.findall(r"[0-9]+", spans)]
            start = set_attribute(start, "spans", f"{min(bounds + columns[:1])}:{max(bounds + columns[-1:])}")
        body = row.text[tag_end:] if not row.text.endswith("/>") else ""
        extension = body.find(f"<{self.p}extLst")  # a row's own extLst follows its cells
        tail = body[extension:] if extension >= 0 else f"</{self.p}row>"
        return start + "".join(row.cells[c] for c in columns) + tail

    def _with_rows(self) -> str:
        xml, pieces, position = self.xml, [], None
        inside = xml[self.data_start: self.data_end]
        if inside.endswith("/>"):  # <sheetData/>
            opening, closing = inside[:-2] + ">", f"</{self.p}sheetData>"
        else:
            opening, closing = xml[self.data_start: xml.index(">", self.data_start) + 1], None
        position = self.data_start + len(opening) if closing is None else self.data_end
        for number in sorted(self.rows):
            row = self.rows[number]
            if row.start >= 0:
                pieces.append(xml[position: row.start] if position < row.start else "")
                position = row.end
            if row.cells or row.start >= 0:
                pieces.append(self._row_text(row))
        if closing is None:
            pieces.append(xml[position: self.data_end])
            return xml[: self.data_start] + opening + "".join(pieces) + xml[self.data_end:]
        return xml[: self.data_start] + opening + "".join(pieces) + closing + xml[self.data_end:]

    def _with_dimension(self, xml: str) -> str:
        match = re.search(rf"<{self.p}dimension\b[^>]*>", xml)
        if match is None:
            return xml
        try:
            corners = [parse_ref(x) for x in (attribute(match.group(0), "ref") or "").split(":")]
        except ValueError:
            return xml
        rows = [r for r, row in self.rows.items() if row.cells]
        columns = [c for row in self.rows.values() if row.cells for c in row.cells]
        if not rows:
            return xml
        top, bottom = min([corners[0][0]] + rows), max([corners[-1][0]] + rows)
        left, right = min([corners[0][1]] + columns), max([corners[-1][1]] + columns)
        if (top, left, bottom, right) == (corners[0] + corners[-1]):
            return xml
        ref = f"{column_letters(left)}{top}:{column_letters(right)}{bottom}"
        return xml[: match.start()] + set_attribute(match.group(0), "ref", ref) + xml[match.end():]

    def _with_links(self, xml: str, add_relationship, remove_relationships) -> str:
        p = self.p
        block = re.search(rf"<{p}hyperlinks\b[^>]*>(.*?)</{p}hyperlinks>", xml, re.S)
        kept, dropped = [], set()
        for item in re.findall(rf"<{p}hyperlink\b[^>]*?(?:/>|>.*?</{p}hyperlink>)", block.group(1), re.S) if block else []:
            if attribute(item, "ref") in self.links:
                rel_id = next((v for k, v in re.findall(r'\s(\w+:id)\s*=\s*["\']([^"\']*)', item)), None)
                if rel_id:
                    dropped.add(rel_id)
            else:
                kept.append(item)
        r = self.r or "r"
        declare = "" if self.r else f' xmlns:r="{REL_NS}"'
        for ref, target in self.links.items():
            if target is not None:
                kept.append(f'<{p}hyperlink ref="{ref}"{declare} {r}:id="{add_relationship(target)}"/>')
        still = set(re.findall(r':id\s*=\s*["\']([^"\']*)', "".join(kept)))
        remove_relationships({d for d in dropped if d not in still})
        new = f"<{p}hyperlinks>{''.join(kept)}</{p}hyperlinks>" if kept else ""
        if block is not None:
            return xml[: block.start()] + new + xml[block.end():]
        if not new:
            return xml
        return _insert_hyperlinks(xml, p, new)


def _insert_hyperlinks(xml: str, p: str, new: str) -> str:
    """Put ``<hyperlinks>`` where CT_Worksheet wants it: after the elements that precede it."""
    start = 0
    for name in _BEFORE_HYPERLINKS:
        for match in re.finditer(rf"</{p}{name}>|<{p}{name}\b[^>]*/>", xml):
            start = max(start, match.end())
    names = "|".join(_AFTER_HYPERLINKS)
    after = re.compile(rf"<{p}(?:{names})\b|</{p}worksheet>")
    match = after.search(xml, start)
    return xml[: match.start()] + new + xml[match.start():]
