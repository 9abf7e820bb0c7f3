"""Write-back patches the worksheet inside the zip: every other part keeps its bytes (charts,
pictures, x14 data bars, dropdowns, comments, shared strings, macros), a Table grows over the
result columns, and the workbook still opens in openpyxl, our reader and LibreOffice."""

from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter

from sheet2video.errors import SheetError
from sheet2video.sheets.read import read_sheet
from sheet2video.sheets.write import RowUpdate, write_back
from tests.sheets.office import reopened_values

SHEET = "xl/worksheets/sheet1.xml"


def parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def changed(before: dict[str, bytes], after: dict[str, bytes]) -> set[str]:
    assert set(before) <= set(after), "a part was lost"
    return {name for name in after if after[name] != before.get(name)}


def png() -> bytes:
    """A 2x2 red PNG, made here."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    raw = b"".join(b"\x00" + b"\xff\x00\x00" * 2 for _ in range(2))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def rich_workbook(path: Path, *, vba: bytes | None = None) -> Path:
    """What operations teams put around a campaign: a Table, chart, picture, data bars (x14),
    a dropdown, a comment and conditional formats, with strings in the shared-string table."""
    book = xlsxwriter.Workbook(str(path))
    ws = book.add_worksheet("Campaign")
    rows = [["a", "clips/a.mp4", "Spring", 3], ["b", "clips/b.mp4", "Summer", 5], ["c", "clips/c.mp4", "Autumn", 2]]
    ws.add_table("A1:D4", {"data": rows, "name": "Jobs", "columns": [
        {"header": "id"}, {"header": "media:main"}, {"header": "titles"}, {"header": "count"}]})
    ws.write("B8", "below the table")
    ws.conditional_format("D2:D4", {"type": "data_bar", "data_bar_2010": True, "bar_color": "#63C384"})
    ws.conditional_format("D2:D4", {"type": "cell", "criteria": ">", "value": 4,
                                    "format": book.add_format({"bold": True})})
    ws.data_validation("C2:C4", {"validate": "list", "source": ["Spring", "Summer", "Autumn"]})
    ws.write_comment("B2", "the opening clip")
    chart = book.add_chart({"type": "column"})
    chart.add_series({"values": "=Campaign!$D$2:$D$4", "categories": "=Campaign!$A$2:$A$4"})
    ws.insert_chart("H2", chart)
    ws.insert_image("H20", "logo.png", {"image_data": io.BytesIO(png())})
    if vba is not None:
        book.add_vba_project(io.BytesIO(vba), is_stream=True)
    book.close()
    return path


UPDATES = [
    RowUpdate(2, "a", {"job_id": "J-a", "status": "Finished", "videos": "videos/a_0.mp4", "durations": "2.5"}),
    RowUpdate(4, "c", {"job_id": "J-c", "status": "Failed", "error": "=1+1 <not a formula> & \x07bell"}),
]


def test_rich_workbook_changes_only_sheet_styles_links_and_table(tmp_path):
    path = rich_workbook(tmp_path / "rich.xlsx")
    before = parts(path)
    assert {"xl/sharedStrings.xml", "xl/tables/table1.xml", "xl/comments1.xml", "xl/charts/chart1.xml"} <= set(before)

    outcome = write_back(path, UPDATES, key_column="id")
    assert not outcome.results_copy and outcome.written == 2 and outcome.skipped == []
    after = parts(path)
    assert changed(before, after) == {SHEET, "xl/styles.xml", "xl/worksheets/_rels/sheet1.xml.rels", "xl/tables/table1.xml"}

    # the Table grew over the new columns E…H; the extLst (x14 data bar), validations keep their ranges
    table = after["xl/tables/table1.xml"].decode()
    new = ["job_id", "status", "videos", "durations", "error"]
    assert 'ref="A1:I4"' in table and '<autoFilter ref="A1:I4"' in table
    assert '<tableColumns count="9">' in table
    assert re.findall(r'<tableColumn id="(\d+)" name="([^"]+)"', table)[4:] == [(str(5 + k), n) for k, n in enumerate(new)]
    sheet = after[SHEET].decode()
    old_sheet = before[SHEET].decode()
    for element in ("extLst", "dataValidations", "conditionalFormatting", "drawing", "legacyDrawing", "tableParts"):
        found = re.findall(rf"<{element}\b.*?(?:</{element}>|/>)", old_sheet, re.S)
        assert found and all(f in sheet for f in found), element
    order = [sheet.rindex(tag) for tag in ("</sheetData>", "</conditionalFormatting>", "</dataValidations>",
                                           "<hyperlinks>", "<pageMargins", "<drawing", "<legacyDrawing", "<tableParts", "<extLst")]
    assert order == sorted(order)  # CT_Worksheet element order stays schema-valid

    rows = {r.get("id"): r for r in read_sheet(path).rows}
    assert [rows["a"].get(c) for c in new] == ["J-a", "Finished", "videos/a_0.mp4", "2.50", ""]  # as shown: 0.00
    assert rows["c"].get("error") == "=1+1 <not a formula> & bell" and rows["c"].get("titles") == "Autumn"
    ws = openpyxl.load_workbook(path)["Campaign"]
    assert [c.value for c in ws[1][:9]] == ["id", "media:main", "titles", "count"] + new
    assert ws["G2"].hyperlink.target == "videos/a_0.mp4" and ws["H2"].value == 2.5 and ws["H2"].number_format == "0.00"
    assert ws["F2"].fill.fgColor.rgb == "FFC6EFCE" and ws["F4"].fill.fgColor.rgb == "FFFFC7CE"
    assert ws["I4"].data_type == "s" and ws["B8"].value == "below the table" and ws["E8"].value is None

    shown = reopened_values(path, "Campaign")  # LibreOffice opens the patched workbook and shows the results
    assert shown[0][:9] == ["id", "media:main", "titles", "count"] + new
    assert shown[1][4:7] == ["J-a", "Finished", "videos/a_0.mp4"] and float(shown[1][7]) == 2.5
    assert shown[3][4:6] == ["J-c", "Failed"] and shown[3][8] == "=1+1 <not a formula> & bell"


def test_xlsm_macros_and_content_types_keep_their_bytes(tmp_path):
    vba = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(range(256)) * 8
    path = rich_workbook(tmp_path / "macro.xlsm", vba=vba)
    before = parts(path)
    write_back(path, UPDATES[:1], key_column="id")
    after = parts(path)
    assert after["xl/vbaProject.bin"] == vba
    assert "[Content_Types].xml" not in changed(before, after) and "xl/vbaProject.bin" not in changed(before, after)
    wb = openpyxl.load_workbook(path, keep_vba=True)
    assert wb["Campaign"]["E2"].value == "J-a"
    wb.vba_archive.close()


def test_a_table_elsewhere_is_untouched_and_shared_strings_stay(tmp_path):
    path = tmp_path / "side.xlsx"
    book = xlsxwriter.Workbook(str(path))
    ws = book.add_worksheet()
    ws.write_row(0, 0, ["id", "media:a", "status"])
    ws.write_row(1, 0, ["a", "a.mp4", "todo"])
    ws.write_row(2, 0, ["b", "b.mp4", "todo"])
    ws.add_table("F1:G3", {"data": [["x", 1], ["y", 2]], "columns": [{"header": "lookup"}, {"header": "value"}]})
    book.close()
    before = parts(path)
    write_back(path, [RowUpdate(2, "a", {"status": "Running", "job_id": "J"})], key_column="id")
    after = parts(path)
    assert changed(before, after) == {SHEET, "xl/styles.xml"}  # the side table and the sst stay
    sheet = after[SHEET].decode()
    assert re.search(r'<c r="C2" s="\d+" t="inlineStr"><is><t>Running</t></is></c>', sheet)
    ws = openpyxl.load_workbook(path).active
    assert [c.value for c in ws[2][:3]] == ["a", "a.mp4", "Running"] and ws["C3"].value == "todo"
    assert ws["H1"].value == "job_id" and ws["H2"].value == "J"  # after the user's last column (the table)


def prefixed(path: Path) -> None:
    """Rewrite sheet1 the way the Open XML SDK writes it: ``<x:worksheet xmlns:x=…>``."""
    with zipfile.ZipFile(path) as archive:
        items = [(info, archive.read(info)) for info in archive.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for info, data in items:
            if info.filename == SHEET:
                xml = re.sub(r"<(/?)([A-Za-z]\w*)(?=[\s/>])", r"<\1x:\2", data.decode())
                data = xml.replace("<x:worksheet xmlns=", "<x:worksheet xmlns:x=", 1).encode()
            archive.writestr(info, data)


def test_a_prefixed_main_namespace_is_patched_with_its_prefix(tmp_path):
    path = tmp_path / "sdk.xlsx"
    wb = openpyxl.Workbook()
    for row in [["id", "videos"], ["a", None], ["b", None]]:
        wb.active.append(row)
    wb.save(path)
    prefixed(path)
    write_back(path, [RowUpdate(3, "b", {"videos": "out/b.mp4", "status": "Finished"})], key_column="id")
    sheet = parts(path)[SHEET].decode()
    assert "<x:hyperlinks>" in sheet and "<sheetData" not in sheet and '<x:c r="B3"' in sheet
    ws = openpyxl.load_workbook(path).active
    assert ws["B3"].value == "out/b.mp4" and ws["B3"].hyperlink.target == "out/b.mp4" and ws["C3"].value == "Finished"
    assert [r.get("status") for r in read_sheet(path).rows] == ["", "Finished"]


def test_an_unknown_namespace_prefix_is_one_clear_line(tmp_path):
    path = tmp_path / "odd.xlsx"
    wb = openpyxl.Workbook()
    for row in [["id"], ["a"]]:
        wb.active.append(row)
    wb.save(path)
    prefixed(path)
    with zipfile.ZipFile(path) as archive:
        items = [(info, archive.read(info)) for info in archive.infolist()]
    with zipfile.ZipFile(path, "w") as archive:
        for info, data in items:
            archive.writestr(info, data.replace(b"<x:worksheet xmlns:x=", b'<x:worksheet xmlns="urn:other" xmlns:x=')
                             .replace(b"spreadsheetml/2006/main", b"spreadsheetml/2006/elsewhere") if info.filename == SHEET else data)
    before = path.read_bytes()
    with pytest.raises(SheetError) as error:
        write_back(path, [RowUpdate(2, "a", {"status": "x"})], key_column="id")
    assert "\n" not in str(error.value) and path.read_bytes() == before


def test_rows_and_cells_without_references_are_numbered_where_they_are(tmp_path):
    path = tmp_path / "bare.xlsx"
    wb = openpyxl.Workbook()
    for row in [["id", "media:a", "status"], ["a", "a.mp4", "old"], ["b", "b.mp4"]]:
        wb.active.append(row)
    wb.save(path)
    with zipfile.ZipFile(path) as archive:
        items = [(info, archive.read(info)) for info in archive.infolist()]
    with zipfile.ZipFile(path, "w") as archive:  # some generators write neither row nor cell refs
        for info, data in items:
            archive.writestr(info, re.sub(rb'(<(?:row|c)) r="[A-Z0-9]+"', rb"\1", data) if info.filename == SHEET else data)
    write_back(path, [RowUpdate(3, "b", {"status": "Finished", "job_id": "J-b"})], key_column="id")
    ws = openpyxl.load_workbook(path).active
    assert [[c.value for c in row] for row in ws.iter_rows()] == [
        ["id", "media:a", "status", "job_id"], ["a", "a.mp4", "old", None], ["b", "b.mp4", "Finished", "J-b"]]
    assert [(r.number, r.get("status")) for r in read_sheet(path).rows] == [(2, "old"), (3, "Finished")]


CALC_CHAIN = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<calcChain xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><c r="C2" i="1"/><c r="C3"/></calcChain>'


def with_calc_chain(path: Path) -> None:
    """What Excel saves beside formulas: xl/calcChain.xml, its relationship and content type."""
    old = parts(path)
    old["xl/calcChain.xml"] = CALC_CHAIN.encode()
    rels = old["xl/_rels/workbook.xml.rels"].decode()
    old["xl/_rels/workbook.xml.rels"] = rels.replace("</Relationships>", '<Relationship Id="rId99" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/calcChain" Target="calcChain.xml"/></Relationships>').encode()
    types = old["[Content_Types].xml"].decode()
    old["[Content_Types].xml"] = types.replace("</Types>", '<Override PartName="/xl/calcChain.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.calcChain+xml"/></Types>').encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in old.items():
            archive.writestr(name, data)


@pytest.mark.parametrize("formula_in_status", [True, False])
def test_the_calculation_chain_goes_only_when_a_formula_cell_gets_a_result(tmp_path, formula_in_status):
    path = tmp_path / "chain.xlsx"
    book = xlsxwriter.Workbook(path)
    sheet = book.add_worksheet("Campaign")
    sheet.write_row(0, 0, ["id", "media:main", "total", "status"])
    for r, key in enumerate(("a", "b"), start=1):
        sheet.write_row(r, 0, [key, f"{key}.mp4"])
        sheet.write_formula(r, 2, f"=1+{r}", None, 1 + r)
        if formula_in_status:
            sheet.write_formula(r, 3, '="todo"', None, "todo")
    book.close()
    with_calc_chain(path)
    before = parts(path)
    write_back(path, [RowUpdate(2, "a", {"status": "Finished"}), RowUpdate(3, "b", {"status": "Failed"})], key_column="id")
    after = parts(path)
    if formula_in_status:  # a formula now holds a result: the chain Excel would repair is gone, cleanly
        assert "xl/calcChain.xml" not in after
        assert b"calcChain" not in after["xl/_rels/workbook.xml.rels"] and b"calcChain" not in after["[Content_Types].xml"]
    else:
        assert after["xl/calcChain.xml"] == before["xl/calcChain.xml"]
        assert changed(before, after) <= {SHEET, "xl/styles.xml"}
    assert [r.get("status") for r in read_sheet(path).rows] == ["Finished", "Failed"]
    assert [r.get("total") for r in read_sheet(path).rows] == ["2", "3"]  # the other formulas keep their values
    assert reopened_values(path)[1][2:4] == ["2", "Finished"]
