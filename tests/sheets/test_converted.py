""".xls and .ods workbooks (made by LibreOffice in the test): read as they are, never written; the
results go to ``<stem>.results.xlsx`` next to them."""

import openpyxl
import pytest

from sheet2video.sheets.read import read_sheet
from sheet2video.sheets.write import RowUpdate, write_back
from tests.sheets.office import convert


@pytest.fixture(scope="module")
def workbooks(tmp_path_factory):
    """One .xls and one .ods of a workbook whose first sheet is instructions (one soffice run each)."""
    folder = tmp_path_factory.mktemp("converted")
    source = folder / "src" / "legacy.xlsx"
    source.parent.mkdir()
    workbook = openpyxl.Workbook()
    workbook.active.title = "说明"
    workbook.active.append(["每行一个视频"])
    sheet = workbook.create_sheet("Campaign")
    for row in [["Spring 2024"], ["id", "media:main", "titles", "width"], ["r1", "a.png", "=x", 720], ["r2", "b.png", "007", None]]:
        sheet.append(row)
    sheet["C3"].data_type = "s"  # text that looks like a formula
    workbook.save(source)
    made = {}
    for ext in ("xls", "ods"):
        out = folder / ext
        made[ext] = convert([source], ext, out, folder / "profile")[source][0]
    return made


@pytest.mark.parametrize("ext", ["xls", "ods"])
def test_read_and_results_go_to_an_xlsx_beside_it(workbooks, ext):
    path = workbooks[ext]
    original = path.read_bytes()
    sheet = read_sheet(path)
    assert sheet.name == "Campaign"
    assert [r.values for r in sheet.rows] == [
        {"id": "r1", "media:main": "a.png", "titles": "=x", "width": "720"},
        {"id": "r2", "media:main": "b.png", "titles": "007", "width": ""},
    ]
    assert [r.number for r in sheet.rows] == [3, 4]
    assert sheet.notices == [
        'sheet "Campaign" chosen (its columns match); other sheets: 说明',
        f"legacy.{ext} is not written to; results go to legacy.results.xlsx next to it",
        "the column names are on row 2; rows above it (a title) are ignored",
    ]

    outcome = write_back(path, [RowUpdate(4, "r2", {"status": "Finished"})], key_column="id")
    results = path.with_name("legacy.results.xlsx")
    assert outcome.path == results and outcome.written == 1
    assert path.read_bytes() == original
    workbook = openpyxl.load_workbook(results)
    assert workbook.sheetnames == ["说明", "Campaign"]
    rows = [[c.value for c in row] for row in workbook["Campaign"].iter_rows()]
    assert rows[1] == ["id", "media:main", "titles", "width", "status"]
    assert rows[2][:4] == ["r1", "a.png", "=x", 720] and workbook["Campaign"]["C3"].data_type == "s"
    assert rows[3] == ["r2", "b.png", "007", None, "Finished"]

    write_back(path, [RowUpdate(3, "r1", {"status": "Failed"})], key_column="id")  # the same .xlsx, updated
    rows = [[c.value for c in row] for row in openpyxl.load_workbook(results)["Campaign"].iter_rows()]
    assert rows[2][4] == "Failed" and rows[3][4] == "Finished"
    assert path.read_bytes() == original
    # the user's workbook is never written, so it has no backup; the .xlsx is ours and needs none
    assert {p.name for p in path.parent.iterdir() if p.stem.startswith(path.stem)} == {path.name, results.name}
