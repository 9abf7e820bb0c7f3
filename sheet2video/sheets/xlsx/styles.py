"""Cell formats in styles.xml: new ones are derived from a cell's own format and appended (numFmts,
fonts, fills, cellXfs, the Hyperlink cell style); existing entries are never renumbered or changed."""

from __future__ import annotations

import re

from sheet2video.sheets.xlsx.parts import Package, attribute, set_attribute, xml_text

__all__ = ["Styles", "CLEAR"]

CLEAR = ("", "")  # a status look that takes our colours back
_BUILTIN_FORMATS = {"General": 0, "0": 1, "0.00": 2, "#,##0": 3, "#,##0.00": 4, "0%": 9, "0.00%": 10}
_ITEM = {"numFmts": "numFmt", "fonts": "font", "fills": "fill", "cellXfs": "xf", "cellStyleXfs": "xf",
         "cellStyles": "cellStyle"}
_HYPERLINK_COLOUR = "FF0563C1"  # Excel's Hyperlink style (theme colour 10 of the default theme)


class Styles:
    """styles.xml of one workbook, loaded on first use; ``index(...)`` gives the xf to put in ``s``."""

    def __init__(self, package: Package):
        self.package = package
        self.part = package.styles_part()
        # without a styles part (a few generators write none) values are written unformatted
        self.xml = package.read(self.part).decode("utf-8") if self.part else ""
        root = re.search(r"<(\w+:)?styleSheet\b", self.xml)
        self.p = (root.group(1) or "") if root else ""
        self.items = {name: self._items(name) for name in ("numFmts", "fonts", "fills", "cellXfs", "cellStyleXfs", "cellStyles")}
        self.added: dict[str, list[str]] = {name: [] for name in self.items}
        self.memo: dict[tuple, int] = {}
        self.hyperlink_xf: int | None = None

    # ------------------------------------------------------------ reading

    def _items(self, collection: str) -> list[str]:
        item = _ITEM[collection]
        block = re.search(rf"<{self.p}{collection}\b[^>]*?(?:/>|>(.*?)</{self.p}{collection}>)", self.xml, re.S)
        if block is None or not block.group(1):
            return []
        return re.findall(rf"<{self.p}{item}\b[^>]*?(?:/>|>.*?</{self.p}{item}>)", block.group(1), re.S)

    def _get(self, collection: str, index: int) -> str | None:
        items = self.items[collection] + self.added[collection]
        return items[index] if 0 <= index < len(items) else None

    def _xf(self, s: int) -> str:
        return self._get("cellXfs", s) or self._get("cellXfs", 0) or f'<{self.p}xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'

    def solid_fill(self, s: int) -> str | None:
        """The fill colour of xf ``s`` when it is a solid fill (``FFC6EFCE``), else None."""
        fill = self._get("fills", int(attribute(self._xf(s), "fillId") or 0))
        pattern = re.search(rf"<{self.p}patternFill\b[^>]*>", fill or "")
        if pattern is None or attribute(pattern.group(0), "patternType") != "solid":
            return None
        colour = re.search(rf"<{self.p}fgColor\b[^>]*>", fill)
        return attribute(colour.group(0), "rgb") if colour else None

    def wraps(self, s: int) -> bool:
        alignment = re.search(rf"<{self.p}alignment\b[^>]*>", self._xf(s))
        return bool(alignment) and attribute(alignment.group(0), "wrapText") in ("1", "true")

    # ------------------------------------------------------------ deriving

    def index(self, s: int, *, number_format: str | None = None, wrap: bool = False,
              look: tuple[str, str] | None = None, hyperlink: bool = False) -> int:
        """The xf of cell format ``s`` changed as asked (memoised, so equal cells share one xf)."""
        key = (s, number_format, wrap, look, hyperlink)
        if self.part is None:
            return s
        if key not in self.memo:
            self.memo[key] = self._derive(*key)
        return self.memo[key]

    def _derive(self, s: int, number_format, wrap, look, hyperlink) -> int:
        xf = self._xf(s)
        if hyperlink:
            xf = set_attribute(set_attribute(xf, "xfId", str(self._hyperlink_style())), "fontId", str(self._hyperlink_font()))
            xf = set_attribute(xf, "applyFont", "1")
        if number_format is not None:
            xf = set_attribute(set_attribute(xf, "numFmtId", str(self._number_format(number_format))), "applyNumberFormat", "1")
        if look is not None:
            fill = 0 if look == CLEAR else self._append("fills", _solid(self.p, look[0]))
            font = self._get("fonts", int(attribute(xf, "fontId") or 0)) or f"<{self.p}font/>"
            xf = set_attribute(set_attribute(xf, "fillId", str(fill)), "applyFill", "1")
            xf = set_attribute(xf, "fontId", str(self._append("fonts", _coloured(self.p, font, look[1]))))
            xf = set_attribute(xf, "applyFont", "1")
        if wrap:
            xf = _wrapped(self.p, xf)
        if xf == self._xf(s):
            return s
        return self._append("cellXfs", xf)

    def _append(self, collection: str, item: str) -> int:
        items = self.items[collection] + self.added[collection]
        if item in self.added[collection]:
            return items.index(item)
        self.added[collection].append(item)
        return len(items)

    def _number_format(self, code: str) -> int:
        for item in self.items["numFmts"] + self.added["numFmts"]:
            if attribute(item, "formatCode") == code:
                return int(attribute(item, "numFmtId"))
        if code in _BUILTIN_FORMATS:
            return _BUILTIN_FORMATS[code]
        used = [int(attribute(item, "numFmtId") or 0) for item in self.items["numFmts"] + self.added["numFmts"]]
        number = max(used + [163]) + 1
        self.added["numFmts"].append(f'<{self.p}numFmt numFmtId="{number}" formatCode="{xml_text(code)}"/>')
        return number

    def _hyperlink_font(self) -> int:
        base = self._get("fonts", 0) or f"<{self.p}font/>"
        if not re.search(rf"<{self.p}u\b", base):
            base = re.sub(rf"(<{self.p}font\b[^>]*?)(/?)>", lambda m: f"{m.group(1)}>" + f"<{self.p}u/>" + ("" if not m.group(2) else f"</{self.p}font>"), base, count=1)
        return self._append("fonts", _coloured(self.p, base, _HYPERLINK_COLOUR))

    def _hyperlink_style(self) -> int:
        """The cellStyleXfs index of the Hyperlink cell style, added when the workbook has none."""
        for style in self.items["cellStyles"] + self.added["cellStyles"]:
            if attribute(style, "builtinId") == "8" or attribute(style, "name") == "Hyperlink":
                return int(attribute(style, "xfId") or 0)
        if self.hyperlink_xf is None:
            xf = f'<{self.p}xf numFmtId="0" fontId="{self._hyperlink_font()}" fillId="0" borderId="0" applyNumberFormat="0" applyFill="0" applyBorder="0" applyAlignment="0" applyProtection="0"/>'
            self.hyperlink_xf = self._append("cellStyleXfs", xf)
            self.added["cellStyles"].append(f'<{self.p}cellStyle name="Hyperlink" xfId="{self.hyperlink_xf}" builtinId="8"/>')
        return self.hyperlink_xf

    # ------------------------------------------------------------ writing

    def save(self) -> None:
        """Append what was added to each collection (creating numFmts/cellStyles when missing)."""
        xml = self.xml
        for collection, added in self.added.items():
            if added:
                xml = _append_items(xml, self.p, collection, added, len(self.items[collection]) + len(added))
        if xml != self.xml:
            self.package.write(self.part, xml.encode("utf-8"))


# where a missing collection goes: after the first of these that exists (CT_Stylesheet order)
_AFTER = {"numFmts": (), "cellStyleXfs": ("borders", "fills", "fonts"), "cellStyles": ("cellXfs",)}


def _append_items(xml: str, p: str, collection: str, items: list[str], count: int) -> str:
    block = re.search(rf"<{p}{collection}\b[^>]*?(/?)>", xml)
    if block is not None:
        start_tag = set_attribute(block.group(0), "count", str(count))
        if block.group(1):  # <fonts count="0"/>
            start_tag = start_tag[:-2] + ">"
            return xml[: block.start()] + start_tag + "".join(items) + f"</{p}{collection}>" + xml[block.end():]
        close = xml.index(f"</{p}{collection}>", block.end())
        return xml[: block.start()] + start_tag + xml[block.end(): close] + "".join(items) + xml[close:]
    new = f'<{p}{collection} count="{count}">{"".join(items)}</{p}{collection}>'
    if collection not in _AFTER:
        raise ValueError(f"styles.xml without {collection}")
    for before in _AFTER[collection]:
        end = re.search(rf"</{p}{before}>|<{p}{before}\b[^>]*/>", xml)
        if end is not None:
            return xml[: end.end()] + new + xml[end.end():]
    root = re.search(rf"<{p}styleSheet\b[^>]*>", xml)
    return xml[: root.end()] + new + xml[root.end():]


def _solid(p: str, rgb: str) -> str:
    return f'<{p}fill><{p}patternFill patternType="solid"><{p}fgColor rgb="{rgb}"/><{p}bgColor rgb="{rgb}"/></{p}patternFill></{p}fill>'


def _coloured(p: str, font: str, rgb: str) -> str:
    """``font`` with its colour set to ``rgb`` ("" removes the colour)."""
    font = re.sub(rf"<{p}color\b[^>]*?(?:/>|>\s*</{p}color>)", "", font)
    if not rgb:
        return font
    colour = f'<{p}color rgb="{rgb}"/>'
    if font.endswith("/>"):
        return font[:-2] + f">{colour}</{p}font>"
    return font.replace(f"</{p}font>", colour + f"</{p}font>")


def _wrapped(p: str, xf: str) -> str:
    xf = set_attribute(xf, "applyAlignment", "1")
    alignment = re.search(rf"<{p}alignment\b[^>]*?/?>", xf)
    if alignment is not None:
        return xf[: alignment.start()] + set_attribute(alignment.group(0), "wrapText", "1") + xf[alignment.end():]
    if xf.endswith("/>"):
        return xf[:-2] + f'><{p}alignment wrapText="1"/></{p}xf>'
    start = re.match(r"<[^>]*>", xf).end()  # alignment is the first child of an xf
    return xf[:start] + f'<{p}alignment wrapText="1"/>' + xf[start:]
