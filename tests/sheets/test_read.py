"""Reading sheets: values as the user sees them, row numbers kept, clear errors."""

import datetime as dt
import re
import zipfile

import pytest

from sheet2video.errors import SheetError
from sheet2video.sheets.read import read_sheet


def test_xlsx_values_read_as_the_user_sees_them(write_xlsx):
    path = write_xlsx(
        [
            ["  ID ", "Count", "Ratio", "When", "Text number", "Flag", "Empty"],
            ["a", 2, 0.3, dt.datetime(2026, 3, 1), "2", True, None],
            ["b", 2.0, 1e-7, dt.datetime(2026, 3, 1, 9, 30), "007", False, None],
        ]
    )
    sheet = read_sheet(path)
    assert sheet.headers == ["ID", "Count", "Ratio", "When", "Text number", "Flag", "Empty"]
    first, second = sheet.rows
    assert first.number == 2 and second.number == 3
    # openpyxl formats datetimes "yyyy-mm-dd h:mm:ss", and the cell shows them that way
    assert first.values == {"id": "a", "count": "2", "ratio": "0.3", "when": "2026-03-01 0:00:00", "text number": "2", "flag": "TRUE", "empty": ""}
    assert second.get("COUNT") == "2"
    assert second.get("ratio") == "0.0000001"
    assert second.get("when") == "2026-03-01 9:30:00"
    assert second.get("text number") == "007"


def test_blank_rows_skipped_but_numbers_kept(write_xlsx):
    path = write_xlsx([["id", "media:A"], ["a", "x.mp4"], [None, None], ["", "   "], ["b", "y.mp4"]])
    sheet = read_sheet(path)
    assert [(r.number, r.get("id")) for r in sheet.rows] == [(2, "a"), (5, "b")]


def test_formulas_come_out_as_their_cached_values(tmp_path, write_xlsx):
    path = write_xlsx([["id", "count"], ["a", "=1+1"]])
    # openpyxl writes no cached value; add the one Excel would have saved
    patched = tmp_path / "cached.xlsx"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(patched, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                text = data.decode()
                text, n = re.subn(r"<f>1\+1</f><v\s*/?>(</v>)?", "<f>1+1</f><v>2</v>", text)
                assert n == 1, text
                data = text.encode()
            dst.writestr(item, data)
    assert read_sheet(patched).rows[0].get("count") == "2"


MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def hand_written_xlsx(path, sheet_data: str, prefix: str = "x"):
    """A minimal workbook whose one sheet holds ``sheet_data`` (elements written with ``prefix:``),
    as generators such as the OpenXML SDK write it: namespace prefixes, cells without ``r``."""
    pkg = "http://schemas.openxmlformats.org/package/2006"
    parts = {
        "[Content_Types].xml": f'<Types xmlns="{pkg}/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/data.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>',
        "_rels/.rels": f'<Relationships xmlns="{pkg}/relationships"><Relationship Id="r1" Type="{REL_NS}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": f'<{prefix}:workbook xmlns:{prefix}="{MAIN_NS}" xmlns:r="{REL_NS}"><{prefix}:sheets><{prefix}:sheet name="Data" sheetId="1" r:id="rId7"/></{prefix}:sheets></{prefix}:workbook>',
        "xl/_rels/workbook.xml.rels": f'<Relationships xmlns="{pkg}/relationships"><Relationship Id="rId7" Type="{REL_NS}/worksheet" Target="/xl/worksheets/data.xml"/></Relationships>',
        "xl/worksheets/data.xml": f'<{prefix}:worksheet xmlns:{prefix}="{MAIN_NS}"><{prefix}:sheetData>{sheet_data}</{prefix}:sheetData></{prefix}:worksheet>',
    }
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in parts.items():
            archive.writestr(name, text)
    return path


def test_error_cells_read_as_shown_wherever_they_are(tmp_path):
    def c(value, t="inlineStr", ref=""):
        r = f' r="{ref}"' if ref else ""
        if t == "inlineStr":
            return f'<x:c{r} t="inlineStr"><x:is><x:t>{value}</x:t></x:is></x:c>'
        return f'<x:c{r} t="{t}"><x:f>A1/0</x:f><x:v>{value}</x:v></x:c>'

    rows = (
        f'<x:row r="1">{c("id")}{c("count")}{c("titles")}</x:row>'
        f'<x:row r="2">{c("a")}{c("#DIV/0!", "e")}{c("hello")}</x:row>'          # no r: implied columns
        f'<x:row hidden="1">{c("b", ref="A3")}{c("#REF!", "e", "C3")}</x:row>'   # no r on the row: the next one
        f'<x:row r="6">{c("#N/A", "e", "E6")}</x:row>'                            # only an error, beyond the header
    )
    sheet = read_sheet(hand_written_xlsx(tmp_path / "sdk.xlsx", rows))
    assert sheet.name == "Data"
    assert [(r.number, r.values) for r in sheet.rows] == [
        (2, {"id": "a", "count": "#DIV/0!", "titles": "hello"}),
        (3, {"id": "b", "count": "", "titles": "#REF!"}),
    ]
    assert sheet.hidden_rows == [3]


def test_xlsx_times_durations_and_formats(write_xlsx):
    path = write_xlsx([["id", "at", "took", "share", "big"], ["a", dt.time(12, 30), dt.timedelta(hours=30), 0.25, 12345678901]])
    assert read_sheet(path).rows[0].values == {"id": "a", "at": "12:30:00", "took": "30:00:00", "share": "0.25", "big": "12345678901"}


def test_hidden_rows_are_read_and_listed(tmp_path, write_xlsx):
    import openpyxl

    path = write_xlsx([["id", "media:A"], ["a", "x.mp4"], ["b", "y.mp4"], ["c", "z.mp4"], ["d", "w.mp4"]])
    workbook = openpyxl.load_workbook(path)
    for number in (3, 5):
        workbook.active.row_dimensions[number].hidden = True  # as Excel's "Hide" or a filter leaves them
    workbook.save(path)
    sheet = read_sheet(path)
    assert [r.get("id") for r in sheet.rows] == ["a", "b", "c", "d"]
    assert sheet.hidden_rows == [3, 5]
    assert read_sheet(write_xlsx([["id"], ["a"]], name="plain.xlsx")).hidden_rows == []


def test_a_chart_sheet_is_refused_by_name(tmp_path):
    import openpyxl

    workbook = openpyxl.Workbook()
    workbook.active.append(["id"])
    workbook.create_chartsheet("Chart")
    path = tmp_path / "charts.xlsx"
    workbook.save(path)
    with pytest.raises(SheetError, match="sheet 'Chart' is a chart sheet, not a table"):
        read_sheet(path, sheet="Chart")


def test_sheet_by_name_and_index(tmp_path):
    import openpyxl

    workbook = openpyxl.Workbook()
    workbook.active.title = "Notes"
    workbook.active.append(["just notes"])
    second = workbook.create_sheet("Plan")
    second.append(["id", "media:A"])
    second.append(["a", "x.mp4"])
    path = tmp_path / "two.xlsx"
    workbook.save(path)
    assert read_sheet(path, sheet="Plan").rows[0].get("id") == "a"
    assert read_sheet(path, sheet="plan").name == "Plan"
    assert read_sheet(path, sheet=1).name == "Plan"
    assert read_sheet(path, sheet="1").name == "Plan"
    with pytest.raises(SheetError, match="no sheet named 'Nope'; sheets: Notes, Plan"):
        read_sheet(path, sheet="Nope")
    with pytest.raises(SheetError, match="no sheet number 5"):
        read_sheet(path, sheet=5)


def test_bom_semicolon_crlf_csv(write_csv):
    path = write_csv('\ufeffid;media:A;titles\r\nx1;a.mp4;"one\r\ntwo"\r\nx2;b.mp4;"say ""hi"""\r\n')
    sheet = read_sheet(path)
    assert sheet.headers == ["id", "media:A", "titles"]
    assert [r.get("titles") for r in sheet.rows] == ["one\r\ntwo", 'say "hi"']
    # a record spanning two lines is still one spreadsheet row
    assert [r.number for r in sheet.rows] == [2, 3]


def test_tsv_and_explicit_delimiter(write_csv):
    assert read_sheet(write_csv("id\tmedia:A\na\tx.mp4\n", name="c.tsv")).rows[0].get("media:a") == "x.mp4"
    path = write_csv("id|media:A\na|x.mp4\n")
    assert read_sheet(path).rows[0].get("media:a") == "x.mp4"
    assert read_sheet(path, delimiter="|").rows[0].get("id") == "a"


def test_gbk_csv_is_detected_and_encoding_honoured(write_csv):
    path = write_csv("id,titles\na,盒马鲜生开业啦\n", encoding="gbk")
    sheet = read_sheet(path)
    assert sheet.rows[0].get("titles") == "盒马鲜生开业啦"
    assert sheet.notices == ["read as GB18030 (not UTF-8); pass --encoding to choose"]
    assert read_sheet(path, encoding="gbk").rows[0].get("titles") == "盒马鲜生开业啦"
    with pytest.raises(SheetError, match="line 2 is not valid utf-8 text"):
        read_sheet(path, encoding="utf-8")


@pytest.mark.parametrize(
    "content, suffix, message",
    [
        (None, ".xlsx", "no such file"),
        (b"PK\x03\x04 not really a zip", ".xlsx", "not a valid Excel workbook"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, ".xlsx", "password-protected"),
        (b"", ".csv", "the sheet is empty"),
        (b"id,ID\na,b\n", ".csv", "duplicate column 'ID'"),
        (b"hello", ".pdf", "unknown sheet type '.pdf'"),
        (b"\x00\x01\x02binary", ".csv", "binary file"),
    ],
)
def test_bad_files_give_one_clear_line(tmp_path, content, suffix, message):
    path = tmp_path / f"bad{suffix}"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(SheetError) as caught:
        read_sheet(path)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)
