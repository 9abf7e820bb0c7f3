"""write_back: results into the user's own sheet, nothing else touched, never half-written."""

from __future__ import annotations

import codecs
import csv
import io
import os
import re
import zipfile
from copy import copy
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
from openpyxl.chart import BarChart, Reference
from openpyxl.formatting.rule import CellIsRule
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.workbook.defined_name import DefinedName

from sheet2video.sheets import write as writeback
from sheet2video.sheets import write_csv as csvfile
from sheet2video.sheets import write_excel as excel
from sheet2video.errors import SheetError
from sheet2video.sheets.read import read_sheet
from sheet2video.sheets.write import RowUpdate, write_back
from sheet2video.sheets.result_columns import is_result_column

# ---------------------------------------------------------------- helpers


def rewrite_zip(path: Path, edit) -> None:
    """Rewrite the parts of an xlsx: ``edit(name, bytes) -> bytes``."""
    with zipfile.ZipFile(path) as archive:
        parts = [(info, edit(info.filename, archive.read(info))) for info in archive.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for info, data in parts:
            archive.writestr(info, data)


def add_cached_values(path: Path, part: str, values: dict[str, object]) -> None:
    """Give formula cells a cached result, as Excel saves them (openpyxl writes none)."""

    def edit(name, data):
        if name != part:
            return data
        xml = data.decode()
        for ref, value in values.items():
            t = ' t="str"' if isinstance(value, str) else ""
            xml, n = re.subn(rf'(<c r="{ref}"[^>]*)>(<f>[^<]*</f>)<v />', rf"\1{t}>\2<v>{value}</v>", xml)
            assert n == 1, ref
        return xml.encode()

    rewrite_zip(path, edit)


def snapshot(path: Path) -> dict:
    """Everything a user sees in a workbook, cell by cell, plus the sheet-level settings."""
    wb = openpyxl.load_workbook(path, rich_text=True)
    shot = {"sheets": wb.sheetnames, "names": {n: d.value for n, d in wb.defined_names.items()}}
    for ws in wb.worksheets:
        cells = {}
        for row in ws.iter_rows(min_row=1, max_row=ws.max_row, max_col=ws.max_column):
            for c in row:
                if c.value is None and not c.has_style:
                    continue  # an empty cell, whatever its recorded type
                cells[c.coordinate] = (
                    str(c.value) if c.value is not None else None, c.data_type, copy(c.font), copy(c.fill),
                    copy(c.border), c.number_format, copy(c.alignment), copy(c.protection),
                    c.hyperlink.target if c.hyperlink else None,
                )
        shot[ws.title] = {
            "cells": cells,
            "merged": sorted(str(r) for r in ws.merged_cells.ranges),
            "widths": {k: d.width for k, d in ws.column_dimensions.items()},
            "heights": {k: d.height for k, d in ws.row_dimensions.items() if d.height},
            "freeze": ws.freeze_panes,
            "cf": [(str(r.sqref), [x.formula for x in r.rules]) for r in ws.conditional_formatting],
        }
    return shot


def styled_workbook(path: Path) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Campaign"
    ws.append(["id", "media:main", "titles", "count", "price", "total", "label", "notes", ""])
    ws.append(["a", "clips/a.mp4", "Spring sale\nLast day", 2, 9.5, "=D2*E2", '=A2&"-x"', "merged note", None])
    ws.append(["b", "clips/b.mp4", "Summer", 1, 12.25, "=D3*E3", '=A3&"-x"', "plain", None])
    ws.append(["c", "clips/c.mp4", "Autumn", 3, 1, "=D4*E4", '=A4&"-x"', None, None])
    header = Font(bold=True, color="FFFFFF", name="Arial", size=12)
    fill = PatternFill("solid", start_color="1F4E78")
    for cell in ws[1][:8]:
        cell.font, cell.fill = header, fill
        cell.border = Border(bottom=Side(style="thick", color="000000"))
    for r in (2, 3, 4):
        ws.cell(r, 5).number_format = "#,##0.00 [$€-407]"
        ws.cell(r, 6).number_format = "0.0"
        ws.cell(r, 1).font = Font(italic=True, color="FF0000")
    ws["C2"].alignment = Alignment(wrap_text=True, vertical="top")
    ws.merge_cells("H2:I2")
    ws.column_dimensions["B"].width = 31.5
    ws.column_dimensions["C"].width = 18
    ws.row_dimensions[2].height = 33
    ws.freeze_panes = "B2"
    ws.conditional_formatting.add("D2:D4", CellIsRule(operator="greaterThan", formula=["1"], fill=fill))
    other = wb.create_sheet("Lookup")
    other.append(["rate", 0.2])
    other.append(["total", "=SUM(Campaign!F2:F4)"])
    other["A1"].font = Font(underline="single")
    wb.defined_names["rate"] = DefinedName("rate", attr_text="Lookup!$B$1")
    wb.save(path)
    add_cached_values(path, "xl/worksheets/sheet1.xml", {"F2": 19, "F3": 12.25, "F4": 3, "G2": "a-x", "G3": "b-x", "G4": "c-x"})
    add_cached_values(path, "xl/worksheets/sheet2.xml", {"B2": 34.25})
    return path


def plain_workbook(path: Path, rows, title="Campaign") -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = title
    for row in rows:
        ws.append(list(row))
    wb.save(path)
    return path


def column(ws, name: str) -> int:
    return next(c.column for c in ws[1] if c.value is not None and str(c.value).strip().lower() == name)


def temp_files(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.endswith(".tmp")]


# ---------------------------------------------------------------- workbooks


def test_styled_workbook_keeps_every_cell_and_appends_results(tmp_path):
    path = styled_workbook(tmp_path / "campaign.xlsx")
    original_bytes = path.read_bytes()
    before = snapshot(path)
    rows_before = [(r.number, r.values) for r in read_sheet(path).rows]

    outcome = write_back(path, [
        RowUpdate(2, "a", {"job_id": "job-a", "status": "Succeeded",
                           "videos": "http://127.0.0.1:8000/v/a_1.mp4\nhttp://127.0.0.1:8000/v/a_2.mp4",
                           "error": "", "updated_at": "2026-05-09 10:00:00"}),
        RowUpdate(4, "c", {"job_id": "job-c", "status": "Failed", "error": '=HYPERLINK("http://evil")',
                           "updated_at": "2026-05-09 10:00:01"}),
    ], key_column="id")

    assert outcome.path == path.resolve() and not outcome.results_copy and outcome.reason is None
    assert outcome.written == 2 and outcome.skipped == []
    assert outcome.backup == path.resolve().with_name("campaign.bak.xlsx")
    assert outcome.backup.read_bytes() == original_bytes
    assert sorted(p.name for p in tmp_path.iterdir()) == ["campaign.bak.xlsx", "campaign.xlsx"]

    after = snapshot(path)
    assert after["sheets"] == before["sheets"] and after["names"] == before["names"]
    assert after["Lookup"] == before["Lookup"]
    for key in ("merged", "widths", "heights", "freeze", "cf"):
        assert after["Campaign"][key] == before["Campaign"][key], key
    for coordinate, cell in before["Campaign"]["cells"].items():
        assert after["Campaign"]["cells"].get(coordinate) == cell, coordinate

    wb = openpyxl.load_workbook(path)
    ws = wb["Campaign"]
    # appended after the merged H2:I2, the user's last column, in RESULT_COLUMNS order
    assert [c.value for c in ws[1][9:]] == ["job_id", "status", "videos", "error", "updated_at",
                                            "video_1", "duration_1", "video_2", "duration_2"]  # a row with 2 videos
    assert ws["J1"].font.bold and ws["J1"].fill.start_color.rgb == ws["H1"].fill.start_color.rgb
    assert [c.value for c in ws[2][9:]] == ["job-a", "Succeeded",
                                            "http://127.0.0.1:8000/v/a_1.mp4\nhttp://127.0.0.1:8000/v/a_2.mp4",
                                            None, datetime(2026, 5, 9, 10, 0, 0),
                                            "http://127.0.0.1:8000/v/a_1.mp4", None, "http://127.0.0.1:8000/v/a_2.mp4", None]
    assert all(c.value is None for c in ws[3][9:])
    assert [c.value for c in ws[4][9:14]] == ["job-c", "Failed", None, '=HYPERLINK("http://evil")', datetime(2026, 5, 9, 10, 0, 1)]
    assert ws["M4"].data_type == "s"  # a result is text, never a formula
    assert ws["L2"].hyperlink.target == "http://127.0.0.1:8000/v/a_1.mp4"
    assert ws["L2"].style == "Hyperlink" and ws["L2"].alignment.wrap_text
    assert ws["F2"].value == "=D2*E2"

    # cached formula results survive, so a reader of cached values sees the same sheet
    values = openpyxl.load_workbook(path, data_only=True)
    assert [values["Campaign"][f"F{r}"].value for r in (2, 3, 4)] == [19, 12.25, 3]
    assert values["Campaign"]["G3"].value == "b-x" and values["Lookup"]["B2"].value == 34.25
    rows_after = [(r.number, {k: v for k, v in r.values.items() if not is_result_column(k)}) for r in read_sheet(path).rows]
    assert rows_after == rows_before


def test_existing_result_columns_are_reused_in_place(tmp_path):
    path = plain_workbook(tmp_path / "c.xlsx", [
        ["id", " Status ", "media:a", "JOB_ID", "notes"],
        ["a", "old", "x.mp4", "j-old", "keep"],
        ["b", "", "y.mp4", None, "keep too"],
    ])
    write_back(path, [RowUpdate(2, "a", {"job_id": "j-new", "status": "Running", "error": "boom"})], key_column="id")
    ws = openpyxl.load_workbook(path).active
    assert [c.value for c in ws[1]] == ["id", " Status ", "media:a", "JOB_ID", "notes", "error"]
    assert [c.value for c in ws[2]] == ["a", "Running", "x.mp4", "j-new", "keep", "boom"]
    assert [c.value for c in ws[3]] == ["b", None, "y.mp4", None, "keep too", None]


def test_rows_inserted_deleted_and_sorted_are_found_by_key(tmp_path):
    path = tmp_path / "c.xlsx"
    # read time: a, b, c in rows 2-4; since then the user inserted n, sorted, and deleted b
    plain_workbook(path, [["id", "media:a"], ["n", "new.mp4"], ["c", "c.mp4"], ["a", "a.mp4"]])
    outcome = write_back(path, [
        RowUpdate(2, "a", {"job_id": "J-a"}),
        RowUpdate(3, "b", {"job_id": "J-b"}),
        RowUpdate(4, "c", {"job_id": "J-c"}),
    ], key_column="id")
    ws = openpyxl.load_workbook(path).active
    assert [(r[0].value, r[2].value) for r in ws.iter_rows(min_row=2)] == [("n", None), ("c", "J-c"), ("a", "J-a")]
    assert outcome.skipped == ["b"] and outcome.written == 2


def test_grouped_rows_sharing_a_key_are_matched_in_order(tmp_path):
    path = tmp_path / "grouped.xlsx"
    # read time: A, A, B, A in rows 2-5; since then a row for job C was inserted on top
    plain_workbook(path, [["job", "group"], ["C", "g0"], ["A", "g1"], ["A", "g2"], ["B", "g1"], ["A", "g3"]])
    updates = [RowUpdate(5, "A", {"status": "third"}), RowUpdate(2, "A", {"status": "first"}),
               RowUpdate(4, "B", {"status": "only B"}), RowUpdate(3, "A", {"status": "second"})]
    write_back(path, updates, key_column="job")
    ws = openpyxl.load_workbook(path).active
    assert [(r[1].value, r[2].value) for r in ws.iter_rows(min_row=2)] == [
        ("g0", None), ("g1", "first"), ("g2", "second"), ("g1", "only B"), ("g3", "third")]


def test_rows_without_a_key_go_by_row_number_only_while_still_keyless(tmp_path):
    path = plain_workbook(tmp_path / "c.xlsx", [["id", "media:a"], [None, "a.mp4"], ["x", "b.mp4"], [None, None]])
    outcome = write_back(path, [
        RowUpdate(2, "row2", {"status": "ok"}),     # still a row without id: written
        RowUpdate(3, "row3", {"status": "no"}),     # row 3 now belongs to id x: skipped
        RowUpdate(4, "row4", {"status": "gone"}),   # row 4 is blank now: skipped
    ], key_column="id")
    ws = openpyxl.load_workbook(path).active
    assert [r[2].value for r in ws.iter_rows(min_row=2, max_row=3)] == ["ok", None]
    assert outcome.skipped == ["row3", "row4"]
    # without a key column, row numbers are all there is
    write_back(path, [RowUpdate(3, "whatever", {"status": "by number"})])
    assert openpyxl.load_workbook(path).active["C3"].value == "by number"


def test_excel_lock_file_gives_results_copy_and_reruns_accumulate(tmp_path):
    path = plain_workbook(tmp_path / "campaign.xlsx", [["id", "media:a"], ["a", "a.mp4"], ["b", "b.mp4"]])
    original = path.read_bytes()
    (tmp_path / "~$campaign.xlsx").write_bytes(b"owner")

    first = write_back(path, [RowUpdate(2, "a", {"status": "done a"})], key_column="id")
    results = tmp_path / "campaign.results.xlsx"
    assert first.results_copy and first.path == results.resolve() and first.backup is None
    assert "Excel" in first.reason and "campaign.results.xlsx" in first.reason and "\n" not in first.reason
    assert path.read_bytes() == original
    assert not (tmp_path / "campaign.bak.xlsx").exists()

    second = write_back(path, [RowUpdate(3, "b", {"status": "done b"})], key_column="id")
    assert second.results_copy and second.path == results.resolve()
    assert path.read_bytes() == original
    ws = openpyxl.load_workbook(results).active
    assert [(r[0].value, r[2].value) for r in ws.iter_rows(min_row=2)] == [("a", "done a"), ("b", "done b")]


def parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_workbook_with_a_chart_is_written_in_place_and_the_chart_kept(tmp_path):
    path = tmp_path / "chart.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    for row in [["id", "count"], ["a", 3], ["b", 5]]:
        ws.append(row)
    chart = BarChart()
    chart.add_data(Reference(ws, min_col=2, min_row=1, max_row=3), titles_from_data=True)
    ws.add_chart(chart, "E2")
    wb.save(path)
    before = parts(path)

    outcome = write_back(path, [RowUpdate(3, "b", {"job_id": "J-b"})], key_column="id")
    assert not outcome.results_copy and outcome.reason is None and outcome.path == path.resolve()
    after = parts(path)
    assert any(name.startswith("xl/charts/") for name in after)
    assert {n for n in after if after[n] != before.get(n)} == {"xl/worksheets/sheet1.xml"}
    assert openpyxl.load_workbook(path).active["C3"].value == "J-b"


def test_sparklines_openpyxl_would_drop_are_kept_byte_for_byte(tmp_path):
    path = plain_workbook(tmp_path / "spark.xlsx", [["id", "count"], ["a", 3]])
    sparklines = ('<extLst><ext uri="{05C60535-1F16-4fd2-B633-F4F36F0B64E0}" '
                  'xmlns:x14="http://schemas.microsoft.com/office/spreadsheetml/2009/9/main">'
                  '<x14:sparklineGroups/></ext></extLst>')
    rewrite_zip(path, lambda name, data: data.replace(b"</worksheet>", sparklines.encode() + b"</worksheet>")
                if name == "xl/worksheets/sheet1.xml" else data)
    outcome = write_back(path, [RowUpdate(2, "a", {"status": "ok"})], key_column="id")
    assert not outcome.results_copy and outcome.reason is None
    sheet = parts(path)["xl/worksheets/sheet1.xml"].decode()
    assert sheet.endswith(sparklines + "</worksheet>")
    assert openpyxl.load_workbook(path).active["C2"].value == "ok"


def test_xlsm_keeps_its_macros(tmp_path):
    path = tmp_path / "macro.xlsm"
    plain_workbook(tmp_path / "m.xlsx", [["id", "media:a"], ["a", "a.mp4"]])
    with zipfile.ZipFile(tmp_path / "m.xlsx") as source, zipfile.ZipFile(path, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "[Content_Types].xml":  # what Excel writes for an .xlsm
                data = data.replace(b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
                                    b"application/vnd.ms-excel.sheet.macroEnabled.main+xml")
            target.writestr(info, data)
        target.writestr("xl/vbaProject.bin", b"\x01VBA project bytes" * 20)
    before = parts(path)
    write_back(path, [RowUpdate(2, "a", {"status": "ok"})], key_column="id")
    after = parts(path)
    assert after["xl/vbaProject.bin"] == b"\x01VBA project bytes" * 20
    assert b"macroEnabled" in after["[Content_Types].xml"]
    assert {n for n in after if after[n] != before.get(n)} == {"xl/worksheets/sheet1.xml"}
    wb = openpyxl.load_workbook(path, keep_vba=True)
    assert wb.active["C2"].value == "ok"
    wb.vba_archive.close()


# ---------------------------------------------------------------- CSV


def test_csv_keeps_bom_delimiter_crlf_and_every_value(tmp_path):
    text = ('\ufeffid;titles;note;count\r\n'
            'a;"Hello; world";=SUM(1,2);3\r\n'
            'b;"line1\r\nline2";"He said ""hi""";\r\n'
            'c;plain;-5;7\r\n')
    path = tmp_path / "c.csv"
    path.write_bytes(text.encode("utf-8"))
    original = path.read_bytes()

    outcome = write_back(path, [
        RowUpdate(2, "a", {"job_id": "J-a", "error": '=HYPERLINK("http://evil")'}),
        RowUpdate(3, "b", {"job_id": "J-b", "status": "+1", "error": "@cmd"}),
    ], key_column="id")

    assert outcome.backup.read_bytes() == original
    data = path.read_bytes()
    assert data.startswith(codecs.BOM_UTF8) and not data.startswith(codecs.BOM_UTF8 * 2)
    out = data[3:].decode("utf-8")
    assert "\n" not in out.replace("\r\n", "") and out.endswith("\r\n")
    assert "\r\nc;plain;-5;7\r\n" in out  # an untouched row stays byte for byte
    rows = list(csv.reader(io.StringIO(out, newline=""), delimiter=";"))
    assert rows == [
        ["id", "titles", "note", "count", "job_id", "status", "error"],
        ["a", "Hello; world", "=SUM(1,2)", "3", "J-a", "", "'=HYPERLINK(\"http://evil\")"],
        ["b", "line1\r\nline2", 'He said "hi"', "", "J-b", "'+1", "'@cmd"],
        ["c", "plain", "-5", "7"],
    ]
    assert read_sheet(path).headers[:4] == ["id", "titles", "note", "count"]


def test_csv_lf_without_trailing_newline_is_kept(tmp_path):
    path = tmp_path / "c.csv"
    path.write_bytes(b'id,titles\na,"x, y"\nb,z')
    write_back(path, [RowUpdate(3, "b", {"videos": "http://h/1.mp4\nhttp://h/2.mp4"})], key_column="id")
    assert path.read_bytes() == (b'id,titles,videos,video_1,duration_1,video_2,duration_2\na,"x, y"\n'
                                 b'b,z,"http://h/1.mp4\nhttp://h/2.mp4",http://h/1.mp4,,http://h/2.mp4,')


def test_gbk_csv_round_trip_and_undecodable_csv(tmp_path):
    path = tmp_path / "中文.csv"
    path.write_bytes("编号,标题\n甲,春季促销\n乙,夏季\n".encode("gbk"))
    with pytest.raises(SheetError) as error:
        write_back(path, [RowUpdate(2, "甲", {"status": "成功"})], key_column="编号", encoding="utf-8")
    assert "utf-8" in str(error.value) and "\n" not in str(error.value)

    write_back(path, [RowUpdate(2, "甲", {"status": "成功", "error": "emoji 🎬 dropped"})], key_column="编号", encoding="gbk")
    text = path.read_bytes().decode("gbk")
    assert text == "编号,标题,status,error\n甲,春季促销,成功,emoji ? dropped\n乙,夏季\n"


def test_edit_during_write_is_not_clobbered(tmp_path, monkeypatch):
    path = tmp_path / "c.csv"
    path.write_bytes(b"id,media\na,a.mp4\n")
    real_apply = csvfile.apply_csv
    calls = []

    def apply_then_user_saves(data, target, *args, **kwargs):
        result = real_apply(data, target, *args, **kwargs)
        if not calls:
            path.write_bytes(b"id,media\nz,z.mp4\na,a.mp4\n")  # the user saved meanwhile
        calls.append(1)
        return result

    monkeypatch.setattr(writeback, "apply_csv", apply_then_user_saves)
    write_back(path, [RowUpdate(2, "a", {"status": "ok"})], key_column="id")
    assert len(calls) == 2
    assert path.read_bytes() == b"id,media,status\nz,z.mp4\na,a.mp4,ok\n"


# ---------------------------------------------------------------- failures


@pytest.mark.parametrize("name", ["c.xlsx", "c.csv"])
def test_crash_at_replace_leaves_original_and_no_temp(tmp_path, monkeypatch, name):
    path = tmp_path / name
    if name.endswith(".xlsx"):
        styled_workbook(path)
    else:
        path.write_bytes(b"id,media\r\na,a.mp4\r\n")
    original = path.read_bytes()
    real_replace = os.replace

    def crash(src, dst, *args, **kwargs):
        if Path(dst) == path.resolve():
            raise OSError(28, "No space left on device")
        return real_replace(src, dst, *args, **kwargs)

    monkeypatch.setattr(writeback.os, "replace", crash)
    with pytest.raises(SheetError) as error:
        write_back(path, [RowUpdate(2, "a", {"status": "ok"})], key_column="id")
    assert "No space left" in str(error.value)
    assert path.read_bytes() == original
    assert temp_files(tmp_path) == []


def test_crash_while_writing_temp_leaves_original_and_no_temp(tmp_path, monkeypatch):
    path = styled_workbook(tmp_path / "c.xlsx")
    original = path.read_bytes()

    def crash(fd):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(writeback.os, "fsync", crash)
    with pytest.raises(SheetError):
        write_back(path, [RowUpdate(2, "a", {"status": "ok"})], key_column="id")
    assert path.read_bytes() == original
    assert temp_files(tmp_path) == []


def encrypted_like(path: Path) -> Path:
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 500 + "EncryptionInfo".encode("utf-16-le") + b"\x00" * 100)
    return path


@pytest.mark.parametrize("make, expected", [
    (lambda d: d / "missing.xlsx", "no such file"),
    (lambda d: encrypted_like(d / "locked.xlsx"), "password-protected"),
    (lambda d: (d / "old.xlsx").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600) and d / "old.xlsx", ".xls"),
    (lambda d: (d / "junk.xlsx").write_bytes(os.urandom(2000)) and d / "junk.xlsx", "not a valid Excel workbook"),
    (lambda d: (d / "old.xls").write_bytes(b"x") and d / "old.xls", "old.xls: "),
    (lambda d: plain_workbook(d / "c.xlsx", [["id"], ["a"]]), "no sheet named 'Nope'"),
])
def test_bad_input_is_one_clear_line(tmp_path, make, expected):
    path = make(tmp_path)
    before = path.read_bytes() if path.exists() else None
    with pytest.raises(SheetError) as error:
        write_back(path, [RowUpdate(2, "a", {"status": "x"})], sheet="Nope", key_column="id")
    message = str(error.value)
    assert expected in message and "\n" not in message
    assert (path.read_bytes() if path.exists() else None) == before
    assert not list(tmp_path.glob("*.results.*"))


def test_unknown_result_column_is_a_programming_error(tmp_path):
    path = plain_workbook(tmp_path / "c.xlsx", [["id"], ["a"]])
    with pytest.raises(ValueError):
        write_back(path, [RowUpdate(2, "a", {"stauts": "typo"})])


def test_local_paths_link_relative_to_the_sheet(tmp_path):
    assert excel.link_target("out/a.mp4\nout/b.mp4", tmp_path) == "out/a.mp4"
    assert excel.link_target(str(tmp_path / "videos" / "my clip#1.mp4"), tmp_path) == "videos/my%20clip%231.mp4"
    assert excel.link_target(str(tmp_path.parent / "elsewhere" / "春.mp4"), tmp_path) == "../elsewhere/春.mp4"
    assert excel.link_target("https://x.example/v.mp4", tmp_path) == "https://x.example/v.mp4"
    assert excel.link_target(r"C:\videos\a.mp4", tmp_path) == "file:///C:/videos/a.mp4"
    assert excel.link_target("0123456789abcdef0123456789abcdef", tmp_path) is None
