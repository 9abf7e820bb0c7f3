"""Headers as people type them: full-width letters and colons, title rows above the header, and the
campaign sheet found among several worksheets."""

import openpyxl
import pytest

from sheet2video.errors import SheetError
from sheet2video.plan.columns import columns_read
from sheet2video.plan.row_view import RowView
from sheet2video.plan.templating import builtin_sets, load_template_set
from sheet2video.sheets.headers import KNOWN_COLUMNS, display_header, header_index, normalise_header
from sheet2video.sheets.read import read_sheet
from sheet2video.sheets.write import RowUpdate, write_back


def test_full_width_letters_spaces_and_colons_fold_to_what_templates_read():
    assert normalise_header("ｓｐｅｅｃｈ") == "speech"
    assert normalise_header(" ＷＩＤＴＨ\u3000") == "width"
    assert normalise_header("media：开场") == "media:开场"
    assert normalise_header("Max \t  Duration") == "max duration"
    assert display_header("ｍｅｄｉａ：Ｏｐｅｎｉｎｇ") == "media:Opening"


def test_full_width_headers_are_read_and_said(write_xlsx):
    path = write_xlsx([["ｉｄ", "ｍｅｄｉａ：开场", "ｓｐｅｅｃｈ", "ＷＩＤＴＨ", "titles"], ["r1", "a.png", "大家好", 720, "标题"]])
    sheet = read_sheet(path)
    assert sheet.headers == ["id", "media:开场", "speech", "WIDTH", "titles"]
    row = sheet.rows[0]
    assert row.values == {"id": "r1", "media:开场": "a.png", "speech": "大家好", "width": "720", "titles": "标题"}
    view = RowView(row, sheet.headers)
    assert view.media_groups() == [("开场", ["a.png"])] and view.integer("width") == 720
    assert sheet.notices == ["headers ｉｄ, ｍｅｄｉａ：开场, ｓｐｅｅｃｈ, ＷＩＤＴＨ read as id, media:开场, speech, WIDTH "
                             "(full-width characters)"]
    assert read_sheet(write_xlsx([["id", "media:A"], ["a", "x"]], name="plain.xlsx")).notices == []


def test_a_duplicate_is_found_after_folding(write_csv):
    with pytest.raises(SheetError, match=r"row 1: duplicate column 'ｓｐｅｅｃｈ' \(columns A and C\)"):
        read_sheet(write_csv("speech,media:A,ｓｐｅｅｃｈ\na,b,c\n"))


def test_title_rows_above_the_header_are_skipped_and_said(write_csv):
    path = write_csv("Spring campaign 2024,,\nowner: Wang,,\n\nid,media:main,titles\nr1,a.png,hello\nr2,b.png,bye\n")
    sheet = read_sheet(path)
    assert sheet.headers == ["id", "media:main", "titles"]
    assert [(r.number, r.get("id")) for r in sheet.rows] == [(5, "r1"), (6, "r2")]
    assert sheet.notices == ["the column names are on row 4; rows above it (a title) are ignored"]

    outcome = write_back(path, [RowUpdate(6, "r2", {"status": "Finished"})], key_column="id")
    assert outcome.written == 1
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[:3] == ["Spring campaign 2024,,", "owner: Wang,,", ""]
    assert lines[3] == "id,media:main,titles,status" and lines[5] == "r2,b.png,bye,Finished"


def test_the_first_record_stays_the_header_unless_a_later_one_is_clearly_it():
    records = [(1, ["name", "file"]), (2, ["speech", "x"]), (3, ["a", "b"])]
    assert header_index(records) == 0  # one known word in a data row is not a header
    assert header_index([(1, ["Campaign"]), (2, ["media:A"]), (3, ["x.mp4"])]) == 1  # below a one-cell title
    assert header_index([(1, ["note", "x"]), (2, ["id", "titles", "speech"])]) == 1
    assert header_index([]) == 0


def test_the_vocabulary_covers_every_column_the_bundled_templates_read():
    for name in builtin_sets():
        template_set = load_template_set(name)
        read = columns_read(template_set)
        names = {*read.names, template_set.key_column, *template_set.required_columns}
        assert not read.dynamic and names - KNOWN_COLUMNS == set(), name


def two_sheet_workbook(path, first_rows, second_rows, names=("使用说明", "Campaign")):
    workbook = openpyxl.Workbook()
    workbook.active.title = names[0]
    for row in first_rows:
        workbook.active.append(row)
    second = workbook.create_sheet(names[1])
    for row in second_rows:
        second.append(row)
    workbook.save(path)
    return path


CAMPAIGN = [["id", "media:main", "titles"], ["r1", "a.png", "春天"]]


def test_the_campaign_sheet_is_chosen_by_its_headers_and_written_back(tmp_path):
    path = two_sheet_workbook(tmp_path / "two.xlsx", [["填写说明"], ["1. 每行一个视频"], ["2. media 列填素材"]], CAMPAIGN)
    sheet = read_sheet(path)
    assert sheet.name == "Campaign" and sheet.rows[0].get("titles") == "春天"
    assert sheet.notices == ['sheet "Campaign" chosen (its columns match); other sheets: 使用说明']
    write_back(path, [RowUpdate(2, "r1", {"status": "Finished"})], key_column="id")
    workbook = openpyxl.load_workbook(path)
    assert [c.value for c in workbook["Campaign"][1]] == ["id", "media:main", "titles", "status"]
    assert workbook["使用说明"].max_column == 1


def test_the_first_sheet_is_taken_without_a_word_when_it_is_the_campaign(tmp_path):
    path = two_sheet_workbook(tmp_path / "first.xlsx", CAMPAIGN, [["说明"], ["id: 每行一个"]], names=("Main", "Notes"))
    sheet = read_sheet(path)
    assert sheet.name == "Main" and sheet.notices == []


@pytest.mark.parametrize("first, second, message", [
    ([["说明"]], [["just", "notes"]], r"no sheet has campaign columns .*; sheets: 使用说明, Campaign; pass --sheet NAME"),
    ([["说明"]], None, r"sheets Campaign, Copy all look like campaigns; pass --sheet NAME"),
])
def test_no_or_several_campaign_sheets_give_one_line_naming_them(tmp_path, first, second, message):
    workbook = openpyxl.Workbook()
    workbook.active.title = "使用说明"
    workbook.active.append(*first)
    for name, rows in (("Campaign", CAMPAIGN), ("Copy", CAMPAIGN)) if second is None else (("Campaign", second),):
        sheet = workbook.create_sheet(name)
        for row in rows:
            sheet.append(row)
    path = tmp_path / "which.xlsx"
    workbook.save(path)
    with pytest.raises(SheetError, match=message) as error:
        read_sheet(path)
    assert "\n" not in str(error.value)
    assert read_sheet(path, sheet="Campaign").name == "Campaign"  # --sheet still decides
