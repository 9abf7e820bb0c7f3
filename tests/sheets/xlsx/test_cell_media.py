"""Media from cells: hyperlink targets, WPS DISPIMG pictures, Excel pictures in cells; .xls/.ods read."""

import io
import zipfile
from datetime import datetime

import pytest

from sheet2video.errors import SheetError
from sheet2video.sheets.read import read_sheet
from sheet2video.sheets.read_excel import excel_grid
from tests.sheets.office import convert


def png(colour=(0, 120, 255)) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (8, 6), colour).save(out, "PNG")
    return out.getvalue()


def test_a_linked_media_cell_reads_its_target_and_shows_its_text(tmp_path):
    import openpyxl

    workbook = openpyxl.Workbook()
    workbook.active.append(["id", "media:main", "titles"])
    workbook.active.append(["r1", "opening clip", '=HYPERLINK("https://example.com/a","see")'])
    workbook.active.append(["r2", '=HYPERLINK("clips/b.mp4","closing clip")', "x"])
    workbook.active["B2"].hyperlink = "clips/a.mp4"
    path = tmp_path / "links.xlsx"
    workbook.save(path)
    first, second = read_sheet(path).rows
    assert first.get("media:main") == "clips/a.mp4" and first.display("media:main") == "opening clip"
    assert first.get("titles") == "see"  # not a media column: the text as shown
    assert second.get("media:main") == "clips/b.mp4" and second.display("media:main") == "closing clip"
    assert excel_grid(path, path.read_bytes(), None).links == {(2, 2): "clips/a.mp4", (2, 3): "https://example.com/a",
                                                              (3, 2): "clips/b.mp4"}


CELLIMAGES = ('<etc:cellImages xmlns:xdr="http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing" '
              'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" '
              'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" xmlns:etc="http://www.wps.cn/officeDocument/2017/etCustomData">'
              '<etc:cellImage><xdr:pic><xdr:nvPicPr><xdr:cNvPr id="2" name="ID_ABC" descr=""/></xdr:nvPicPr>'
              '<xdr:blipFill><a:blip r:embed="rId1"/></xdr:blipFill></xdr:pic></etc:cellImage></etc:cellImages>')


def wps_workbook(path, target="media/image1.png", picture=b""):
    """What WPS saves for a picture in B2: =DISPIMG("ID_ABC",1) cached as its text, xl/cellimages.xml."""
    import xlsxwriter

    workbook = xlsxwriter.Workbook(path)
    sheet = workbook.add_worksheet()
    sheet.write_row(0, 0, ["id", "media:main"])
    sheet.write(1, 0, "r1")
    sheet.write_formula(1, 1, '=_xlfn.DISPIMG("ID_ABC",1)', None, '=DISPIMG("ID_ABC",1)')
    workbook.close()
    rels = ('<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" '
            f'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/image" Target="{target}"/></Relationships>')
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("xl/cellimages.xml", CELLIMAGES)
        archive.writestr("xl/_rels/cellimages.xml.rels", rels)
        archive.writestr("xl/media/image1.png", picture)
    return path


def test_a_wps_picture_in_a_cell_is_extracted_and_used_as_media(tmp_path):
    picture = png()
    path = wps_workbook(tmp_path / "wps.xlsx", picture=picture)
    row = read_sheet(path).rows[0]
    relative = row.get("media:main")
    assert relative.startswith("wps.pictures/") and relative.endswith(".png")
    assert (tmp_path / relative).read_bytes() == picture
    assert row.display("media:main") == "picture in B2"
    assert read_sheet(path).rows[0].get("media:main") == relative  # the same name again, written once
    assert len(list((tmp_path / "wps.pictures").iterdir())) == 1


@pytest.mark.parametrize("target", ["../../../outside.png", "/etc/passwd.png", "media/missing.png"])
def test_a_picture_outside_the_package_is_refused_in_one_line(tmp_path, target):
    path = wps_workbook(tmp_path / "bad.xlsx", target=target, picture=png())
    with pytest.raises(SheetError) as raised:
        read_sheet(path)
    assert str(raised.value).startswith("row 2, media:main (B2): the picture") and "\n" not in str(raised.value)
    assert not (tmp_path / "outside.png").exists()


def test_a_picture_over_50_mb_is_refused(tmp_path):
    path = wps_workbook(tmp_path / "huge.xlsx")
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(tmp_path / "bomb.xlsx", "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():  # the picture: 51 MB of zeros, ~50 kB zipped
            data = bytes(51 * 1024 * 1024) if item.filename == "xl/media/image1.png" else src.read(item.filename)
            dst.writestr(item.filename, data)
    with pytest.raises(SheetError, match=r"row 2, media:main \(B2\): .*more than the 52428800 allowed"):
        read_sheet(tmp_path / "bomb.xlsx")
    assert not (tmp_path / "bomb.pictures").exists()


def test_an_excel_picture_in_a_cell_is_extracted_and_used_as_media(tmp_path):
    import xlsxwriter

    picture = png((200, 30, 30))
    (tmp_path / "source.png").write_bytes(picture)
    path = tmp_path / "excel.xlsx"
    workbook = xlsxwriter.Workbook(path)
    sheet = workbook.add_worksheet()
    sheet.write_row(0, 0, ["id", "logo", "media:main"])
    sheet.write(1, 0, "r1")
    sheet.embed_image(1, 1, str(tmp_path / "source.png"))
    sheet.write(1, 2, "a.mp4")
    workbook.close()
    row = read_sheet(path).rows[0]
    assert (tmp_path / row.get("logo")).read_bytes() == picture
    assert row.display("logo") == "picture in B2" and row.get("media:main") == "a.mp4"


# an .ods stores the text each cell shows; an .xls its number formats (read through xlrd)
@pytest.mark.parametrize("extension", ["xls", "ods"])
def test_xls_and_ods_are_read_by_their_bytes(tmp_path, write_xlsx, extension):
    import openpyxl

    source = write_xlsx([["id", "media:main", "width", "titles", "date"], ["r1", "a.mp4", 1080, "春天", datetime(2024, 5, 1)],
                         ["r2", "b.mp4", 2.5, None, None]])
    workbook = openpyxl.load_workbook(source)
    workbook.active["E2"].number_format = 'm"月"d"日"'
    workbook.save(source)
    converted = convert([source], extension, tmp_path / extension)[source][0]
    data = converted.read_bytes()
    renamed = tmp_path / "no_suffix.bin"  # the format is found by the bytes, not the name
    renamed.write_bytes(data)
    grid = excel_grid(renamed, data, None)
    assert grid.cells[:3] == [["id", "media:main", "width", "titles", "date"], ["r1", "a.mp4", "1080", "春天", "5月1日"],
                              ["r2", "b.mp4", "2.5", "", ""]]


def test_an_encrypted_workbook_is_named_as_such(tmp_path):
    data = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + "EncryptedPackage".encode("utf-16-le") + b"\0" * 100
    with pytest.raises(SheetError, match="password-protected"):
        excel_grid(tmp_path / "locked.xlsx", data, None)


def test_a_bad_picture_further_down_leaves_nothing_written(tmp_path):
    path = wps_workbook(tmp_path / "half.xlsx", picture=png())
    with zipfile.ZipFile(path) as src:
        parts = {name: src.read(name) for name in src.namelist()}
    sheet = parts["xl/worksheets/sheet1.xml"].decode()
    row3 = '<row r="3"><c r="A3" t="str"><v>r2</v></c><c r="B3" t="str"><f>_xlfn.DISPIMG("ID_GONE",1)</f><v>x</v></c></row>'
    parts["xl/worksheets/sheet1.xml"] = sheet.replace("</sheetData>", row3 + "</sheetData>").encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for name, data in parts.items():
            dst.writestr(name, data)
    with pytest.raises(SheetError, match=r"^row 3, media:main \(B3\): the picture ID_GONE"):
        read_sheet(path)
    assert not (tmp_path / "half.pictures").exists()  # B2's picture was fine, but nothing is written
