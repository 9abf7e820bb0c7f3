"""The one Package that reader and writer share: capped reads, relationship targets kept inside the
package, one sheet-name → part lookup."""

import io
import zipfile

import pytest

from sheet2video.errors import SheetError
from sheet2video.sheets.xlsx.parts import Package

_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def rels(*entries: str) -> str:
    return ('<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            + "".join(entries) + "</Relationships>")


def workbook(sheet_rels: str, **extra: str) -> bytes:
    parts = {
        "[Content_Types].xml": "<Types/>",
        "_rels/.rels": rels(f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/>'),
        "xl/workbook.xml": (f'<workbook xmlns="{_MAIN}" xmlns:r="{_REL}"><workbookPr date1904="1"/><sheets>'
                            '<sheet name="Campaign" sheetId="1" r:id="rId1"/><sheet name="Escape" sheetId="2" r:id="rId2"/>'
                            '</sheets></workbook>'),
        "xl/_rels/workbook.xml.rels": rels(
            f'<Relationship Id="rId1" Type="{_REL}/worksheet" Target="worksheets/sheet1.xml"/>',
            f'<Relationship Id="rId2" Type="{_REL}/worksheet" Target="../../../etc/passwd"/>'),
        "xl/worksheets/sheet1.xml": f'<worksheet xmlns="{_MAIN}"><sheetData/></worksheet>',
        "xl/worksheets/_rels/sheet1.xml.rels": sheet_rels,
        **extra,
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, text in parts.items():
            archive.writestr(name, text)
    return out.getvalue()


def test_relationship_targets_outside_the_package_are_left_out_and_external_ones_kept():
    package = Package("book.xlsx", workbook(rels(
        f'<Relationship Id="rId1" Type="{_REL}/hyperlink" Target="https://example.com/a.mp4" TargetMode="External"/>',
        f'<Relationship Id="rId2" Type="{_REL}/image" Target="../../../outside.png"/>',
        f'<Relationship Id="rId3" Type="{_REL}/image" Target="/xl/media/a.png"/>',
        f'<Relationship Id="rId4" Type="{_REL}/table" Target="../tables/table1.xml"/>')))
    assert package.rels("xl/worksheets/sheet1.xml") == {
        "rId1": (f"{_REL}/hyperlink", "https://example.com/a.mp4", "External"),
        "rId3": (f"{_REL}/image", "xl/media/a.png", "Internal"),
        "rId4": (f"{_REL}/table", "xl/tables/table1.xml", "Internal"),
    }
    assert package.worksheets() == {"Campaign": "xl/worksheets/sheet1.xml", "Escape": None}
    assert package.date1904()


def test_a_damaged_rels_part_is_one_line_for_the_writer_and_nothing_for_the_reader():
    package = Package("book.xlsx", workbook("<Relationships><oops"))
    with pytest.raises(SheetError, match=r"book.xlsx: part xl/worksheets/_rels/sheet1.xml.rels of the workbook is damaged"):
        package.rels("xl/worksheets/sheet1.xml")
    assert package.rels("xl/worksheets/sheet1.xml", lenient=True) == {}


def test_part_reads_are_capped_and_a_missing_part_is_named():
    package = Package("book.xlsx", workbook(rels(), **{"xl/media/big.png": b"\0" * 5000}))
    with pytest.raises(SheetError, match=r"xl/media/big.png is 5000 bytes, more than the 4096 allowed"):
        package.read_part("xl/media/big.png", 4096)
    assert package.read_part("xl/media/none.png") is None
    with pytest.raises(SheetError, match=r"book.xlsx: cannot read part xl/media/none.png"):
        package.read("xl/media/none.png")
