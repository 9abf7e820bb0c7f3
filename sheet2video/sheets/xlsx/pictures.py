"""Pictures placed in cells, extracted to content-named files so they can be used as media.

Two kinds: WPS's ``=DISPIMG("ID_…",1)`` (xl/cellimages.xml names each picture) and Excel's
pictures in cells (a cell's ``vm`` → xl/metadata.xml → xl/richData → the image part). Each picture
is written once to ``<sheet folder>/<sheet stem>.pictures/<16 hex of its sha256>.<ext>`` and the
cell reads as that path, relative to the sheet's folder (the default media root).
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import tempfile
from pathlib import Path

from sheet2video.errors import SheetError
from sheet2video.sheets.xlsx.parts import Package

__all__ = ["PICTURE_LIMIT", "CellPictures"]

PICTURE_LIMIT = 50 * 1024 * 1024
_IMAGE_SUFFIXES = frozenset({"png", "jpg", "jpeg", "gif", "bmp", "webp", "tif", "tiff"})


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _xml(package: Package, part: str):
    from xml.etree import ElementTree

    data = package.read_part(part)
    if not data:
        return None
    try:
        return ElementTree.fromstring(data)
    except ElementTree.ParseError:
        return None


def _internal(rel: tuple[str, str, str] | None) -> str | None:
    """The part a relationship points to inside the package (None for an external one)."""
    return rel[1] if rel and rel[2] != "External" else None


def _attr(element, name: str) -> str:
    """An attribute by local name, whatever its namespace (``r:embed``, ``r:id``)."""
    return next((v for k, v in element.attrib.items() if _local(k) == name), "")


class CellPictures:
    """Finds the image part behind a cell picture and extracts it next to the sheet."""

    def __init__(self, package: Package, sheet_path: Path):
        self.package = package
        self.folder = sheet_path.parent
        self.subfolder = f"{sheet_path.stem}.pictures"
        self._wps: dict[str, str] | None = None
        self._excel: list[str | None] | None = None
        self._pending: dict[str, str] = {}  # file name -> image part, written by save()

    def wps_part(self, picture_id: str) -> str | None:
        if self._wps is None:
            self._wps = self._wps_index()
        return self._wps.get(picture_id)

    def excel_part(self, vm: int) -> str | None:
        if self._excel is None:
            self._excel = self._excel_index()
        return self._excel[vm - 1] if 0 < vm <= len(self._excel) else None

    def _wps_index(self) -> dict[str, str]:
        part = "xl/cellimages.xml"
        root = _xml(self.package, part)
        if root is None:
            return {}
        rels = self.package.rels(part, lenient=True)
        found = {}
        for pic in root.iter():
            if _local(pic.tag) != "pic":
                continue
            name = next((e.get("name", "") for e in pic.iter() if _local(e.tag) == "cNvPr"), "")
            embed = next((_attr(e, "embed") for e in pic.iter() if _local(e.tag) == "blip"), "")
            target = _internal(rels.get(embed))
            if name and target:
                found[name] = target
        return found

    def _excel_index(self) -> list[str | None]:
        """vm (1-based) → image part: valueMetadata → futureMetadata rvb → rich value → rel."""
        metadata = _xml(self.package, "xl/metadata.xml")
        values = _xml(self.package, "xl/richData/rdrichvalue.xml")
        structures = _xml(self.package, "xl/richData/rdrichvaluestructure.xml")
        relations = _xml(self.package, "xl/richData/richValueRel.xml")
        if any(x is None for x in (metadata, values, structures, relations)):
            return []
        blocks = [b for f in metadata if _local(f.tag) == "futureMetadata" and f.get("name") == "XLRICHVALUE" for b in f]
        rvb = [next((int(e.get("i", -1)) for e in b.iter() if _local(e.tag) == "rvb"), -1) for b in blocks]
        keys = [[k.get("n", "") for k in s] for s in structures]
        rel_part = "xl/richData/richValueRel.xml"
        rel_ids = [_attr(r, "id") for r in relations]
        rels = self.package.rels(rel_part, lenient=True)
        images = []
        for rv in values:
            structure = keys[int(rv.get("s", -1))] if rv.get("s", "").isdigit() and int(rv.get("s")) < len(keys) else []
            texts = [v.text or "" for v in rv]
            slot = structure.index("_rvRel:LocalImageIdentifier") if "_rvRel:LocalImageIdentifier" in structure else -1
            index = int(texts[slot]) if 0 <= slot < len(texts) and texts[slot].isdigit() else -1
            rel = rel_ids[index] if 0 <= index < len(rel_ids) else ""
            images.append(_internal(rels.get(rel)))
        parts: list[str | None] = []
        for bk in (b for v in metadata if _local(v.tag) == "valueMetadata" for b in v):
            rc = next((e for e in bk if _local(e.tag) == "rc"), None)
            future = int(rc.get("v", -1)) if rc is not None and rc.get("v", "").isdigit() else -1
            rich = rvb[future] if 0 <= future < len(rvb) else -1
            parts.append(images[rich] if 0 <= rich < len(images) else None)
        return parts

    def extract(self, part: str) -> str:
        """The picture's path relative to the sheet's folder, named by its content; the file is
        written by ``save``, once the whole sheet has been read without an error."""
        suffix = posixpath.splitext(part)[1].lstrip(".").lower()
        if suffix not in _IMAGE_SUFFIXES:
            raise SheetError(f"the picture {part} is not an image this tool can use (.{suffix})")
        data = self.package.read_part(part, PICTURE_LIMIT)
        if data is None:
            raise SheetError(f"the picture {part} is missing from the workbook")
        name = f"{hashlib.sha256(data).hexdigest()[:16]}.{suffix}"
        self._pending[name] = part
        return f"{self.subfolder}/{name}"

    def save(self) -> None:
        """Write the pictures ``extract`` named (each once: a file already there has these bytes)."""
        for name, part in self._pending.items():
            target = self.folder / self.subfolder / name
            if target.exists():
                continue
            target.parent.mkdir(exist_ok=True)
            fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=".picture-", suffix=".tmp")
            try:
                with os.fdopen(fd, "wb") as stream:
                    stream.write(self.package.read_part(part, PICTURE_LIMIT) or b"")
                os.replace(temporary, target)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
        self._pending.clear()
