"""The zip parts of an .xlsx / .xlsm: reading them, following relationships, and writing the
package back with only the changed parts replaced (every other part's bytes as they were).

The zip is hostile: every read is capped (the size in its header can lie), and a relationship's
internal target that points outside the package is ignored, so a crafted workbook can neither
reach outside it nor exhaust memory. Reader and writer share this one Package."""

from __future__ import annotations

import html
import io
import posixpath
import re
import zipfile
from xml.etree import ElementTree as ET
from xml.sax.saxutils import escape, quoteattr

from sheet2video.errors import SheetError

__all__ = ["XML_LIMIT", "Package", "REL_NS", "HYPERLINK_REL", "TABLE_REL", "read_part", "resolve_target",
           "attribute", "set_attribute", "xml_text"]

XML_LIMIT = 512 * 1024 * 1024  # a part's decompressed size; calamine reads the same parts

REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
HYPERLINK_REL = REL_NS + "/hyperlink"
TABLE_REL = REL_NS + "/table"
_PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_DOC_REL = REL_NS + "/officeDocument"
_SHEET_REL = REL_NS + "/worksheet"
_CALC_CHAIN_REL = REL_NS + "/calcChain"
_STYLES_REL = REL_NS + "/styles"
_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


def read_part(archive: zipfile.ZipFile, name: str, limit: int = XML_LIMIT) -> bytes | None:
    """A part's bytes, or None when the zip has no such part; SheetError when it is too large."""
    try:
        info = archive.getinfo(name)
    except KeyError:
        return None
    if info.file_size > limit:
        raise SheetError(f"the workbook part {name} is {info.file_size} bytes, more than the {limit} allowed")
    with archive.open(info) as stream:
        data = stream.read(limit + 1)  # the header's size can lie: count what comes out
    if len(data) > limit:
        raise SheetError(f"the workbook part {name} unpacks to more than the {limit} bytes allowed")
    return data


def resolve_target(base_part: str, target: str) -> str | None:
    """A relationship target as a part name, or None when it points outside the package."""
    if not target or "\\" in target or "\0" in target or ":" in target.split("/", 1)[0]:
        return None
    joined = target.lstrip("/") if target.startswith("/") else posixpath.join(posixpath.dirname(base_part), target)
    name = posixpath.normpath(joined)
    if name.startswith(("../", "/")) or name in ("..", "."):
        return None
    return name


def attribute(element: str, name: str) -> str | None:
    """The value of attribute ``name`` in the first start tag of ``element``, entities resolved."""
    tag = element[: _start_tag_end(element)]
    match = re.search(rf'\s{re.escape(name)}\s*=\s*(["\'])(.*?)\1', tag, re.S)
    return html.unescape(match.group(2)) if match else None


def set_attribute(element: str, name: str, value: str | None) -> str:
    """``element`` with attribute ``name`` of its start tag set to ``value`` (escaped here), or
    removed for None; children and the rest of the text are left as they are."""
    tag_end = _start_tag_end(element)
    tag, rest = element[:tag_end], element[tag_end:]
    pattern = re.compile(rf'\s{re.escape(name)}\s*=\s*(["\']).*?\1', re.S)
    if value is None:
        return pattern.sub("", tag, count=1) + rest
    new = f" {name}={quoteattr(value)}"
    if pattern.search(tag):
        return pattern.sub(lambda _: new, tag, count=1) + rest
    end = len(tag) - (2 if tag.endswith("/>") else 1)
    end = len(tag[:end].rstrip())
    return tag[:end] + new + tag[end:] + rest


def _start_tag_end(element: str) -> int:
    """Where the first start tag ends (quoted attribute values may hold ``>``)."""
    match = re.match(r"""<[^\s/>]+(?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*\s*/?>""", element)
    return match.end() if match else element.index(">") + 1


def xml_text(value: str) -> str:
    """Text escaped for element content and double-quoted attribute values alike."""
    return escape(value, {'"': "&quot;"})


class Package:
    """An opened workbook: its parts by name, and the parts changed so far."""

    def __init__(self, source, data: bytes):
        self.source = source
        try:
            self.archive = zipfile.ZipFile(io.BytesIO(data))
        except zipfile.BadZipFile:
            raise SheetError(f"{source}: not a valid Excel workbook (the file is damaged or not .xlsx)") from None
        self.names = {info.filename for info in self.archive.infolist()}
        self.changed: dict[str, bytes] = {}
        self.dropped: set[str] = set()

    def read(self, part: str) -> bytes:
        """A part's bytes (as changed so far); SheetError when it is missing or too large."""
        data = self.read_part(part)
        if data is None:
            raise SheetError(f"{self.source}: cannot read part {part} of the workbook (there is no such part)")
        return data

    def read_part(self, part: str, limit: int = XML_LIMIT) -> bytes | None:
        """A part's bytes (as changed so far), or None when there is no such part; capped at ``limit``."""
        if part in self.changed:
            return self.changed[part]
        try:
            return read_part(self.archive, part, limit)
        except (zipfile.BadZipFile, OSError) as error:
            raise SheetError(f"{self.source}: cannot read part {part} of the workbook ({error})") from None

    def has(self, part: str) -> bool:
        return part in self.changed or part in self.names

    def write(self, part: str, data: bytes) -> None:
        self.changed[part] = data

    def rels(self, part: str, *, lenient: bool = False) -> dict[str, tuple[str, str, str]]:
        """Relationship id -> (type, full target part name or external target, target mode).

        An internal target outside the package is left out. A damaged rels part is a SheetError,
        or no relationships when ``lenient`` (the reader: calamine has read the sheet already)."""
        data = self.read_part(_rels_name(part))
        if data is None:
            return {}
        try:
            root = ET.fromstring(data)
        except ET.ParseError:
            if lenient:
                return {}
            raise SheetError(f"{self.source}: part {_rels_name(part)} of the workbook is damaged") from None
        out = {}
        for rel in root:
            target, mode = rel.get("Target", ""), rel.get("TargetMode", "Internal")
            if mode != "External":
                target = resolve_target(part, target)
                if target is None:
                    continue
            out[rel.get("Id")] = (rel.get("Type"), target, mode)
        return out

    def add_relationship(self, part: str, kind: str, target: str) -> str:
        """Add an external relationship from ``part``; its new id."""
        rels_part = _rels_name(part)
        if self.has(rels_part):
            xml = self.read(rels_part).decode("utf-8")
        else:
            xml = f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="{_PKG_REL_NS}"></Relationships>'
            self._ensure_rels_default()
        ids = set(re.findall(r'\sId\s*=\s*["\']([^"\']*)', xml))
        number = len(ids) + 1
        while f"rId{number}" in ids:
            number += 1
        rel_id = f"rId{number}"
        new = f'<Relationship Id="{rel_id}" Type="{kind}" Target={quoteattr(target)} TargetMode="External"/>'
        close = xml.rfind("</")
        if re.search(r"<(\w+:)?Relationships\b[^>]*/>\s*$", xml):
            xml = re.sub(r"/>\s*$", f">{new}</Relationships>", xml)
        else:
            xml = xml[:close] + new + xml[close:]
        self.write(rels_part, xml.encode("utf-8"))
        return rel_id

    def remove_relationships(self, part: str, ids: set[str]) -> None:
        if not ids:
            return
        xml = self.read(_rels_name(part)).decode("utf-8")
        for rel_id in ids:
            xml = re.sub(rf'<Relationship\b[^>]*\sId\s*=\s*["\']{re.escape(rel_id)}["\'][^>]*/>', "", xml)
        self.write(_rels_name(part), xml.encode("utf-8"))

    def _ensure_rels_default(self) -> None:
        types = self.read("[Content_Types].xml").decode("utf-8")
        if re.search(r'Extension\s*=\s*["\']rels["\']', types, re.I):
            return
        default = '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        types = re.sub(r"(<Types\b[^>]*>)", lambda m: m.group(1) + default, types, count=1)
        self.write("[Content_Types].xml", types.encode("utf-8"))

    def workbook_part(self) -> str:
        part = next((t for kind, t, _ in self.rels("").values() if kind == _DOC_REL), None)
        if part is None or not self.has(part):
            raise SheetError(f"{self.source}: not a valid Excel workbook (no workbook part)")
        return part

    def worksheets(self) -> dict[str, str | None]:
        """Sheet name -> its worksheet part (None for a chart sheet), in workbook order."""
        book = self.workbook_part()
        rels = self.rels(book)
        out = {}
        try:
            root = ET.fromstring(self.read(book))
        except ET.ParseError:
            raise SheetError(f"{self.source}: the workbook part is damaged") from None
        for sheet in root.iter(f"{_MAIN}sheet"):
            kind, part, _ = rels.get(sheet.get(f"{{{REL_NS}}}id"), (None, None, None))
            out[sheet.get("name")] = part if kind == _SHEET_REL else None
        return out

    def date1904(self) -> bool:
        return bool(re.search(rb"<(\w+:)?workbookPr\b[^>]*\bdate1904\s*=\s*[\"'](1|true)", self.read(self.workbook_part())))

    def styles_part(self) -> str | None:
        book = self.workbook_part()
        return next((t for kind, t, _ in self.rels(book).values() if kind == _STYLES_REL and self.has(t)), None)

    def drop_calc_chain(self) -> None:
        """Remove the calculation chain (its part, relationship and content type). It lists the
        formula cells; one overwritten with a value would make Excel offer to repair the file, and
        Excel rebuilds a missing chain without a word."""
        book = self.workbook_part()
        ids = {rel_id for rel_id, (kind, _, _) in self.rels(book).items() if kind == _CALC_CHAIN_REL}
        chain = [target for kind, target, _ in self.rels(book).values() if kind == _CALC_CHAIN_REL]
        if not ids:
            return
        self.remove_relationships(book, ids)
        types = self.read("[Content_Types].xml").decode("utf-8")
        for part in chain:
            self.dropped.add(part)
            types = re.sub(rf'<Override\b[^>]*PartName\s*=\s*["\']/{re.escape(part)}["\'][^>]*/>', "", types)
        self.write("[Content_Types].xml", types.encode("utf-8"))

    def save(self) -> bytes:
        """The package with the changed parts replaced; other parts keep their bytes and order."""
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as rebuilt:
            for info in self.archive.infolist():
                if info.filename in self.dropped:
                    continue
                data = self.changed.get(info.filename)
                rebuilt.writestr(info, data if data is not None else self.archive.read(info))
            for name, data in self.changed.items():
                if name not in self.names:
                    rebuilt.writestr(name, data)
        self.archive.close()
        return out.getvalue()

    def close(self) -> None:
        self.archive.close()


def _rels_name(part: str) -> str:
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", name + ".rels")
