"""CSV text as Excel and others save it: byte-order marks, encodings found in a documented order
and written back unchanged, and the decimal comma of semicolon CSVs."""

import codecs

import pytest

from sheet2video.errors import SheetError
from sheet2video.plan.row_view import RowView
from sheet2video.sheets.read import read_sheet
from sheet2video.sheets.write import RowUpdate, write_back

LINES = ["id\tmedia:main\ttitles", "r1\ta.png\t春天来了", "r2\tb.png\tcafé"]


@pytest.mark.parametrize("bom, codec", [(codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")])
def test_excel_unicode_text_is_read_and_written_back_in_kind(tmp_path, bom, codec):
    path = tmp_path / "unicode.txt"
    path.write_bytes(bom + "\r\n".join(LINES + [""]).encode(codec))
    sheet = read_sheet(path)
    assert sheet.headers == ["id", "media:main", "titles"]
    assert [r.get("titles") for r in sheet.rows] == ["春天来了", "café"]
    assert sheet.notices == []

    write_back(path, [RowUpdate(3, "r2", {"status": "完成"})], key_column="id")
    data = path.read_bytes()
    assert data.startswith(bom)
    assert data[len(bom):].decode(codec).split("\r\n") == [
        "id\tmedia:main\ttitles\tstatus", "r1\ta.png\t春天来了", "r2\tb.png\tcafé\t完成", ""]


def test_utf8_bom_is_kept(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes(codecs.BOM_UTF8 + "id,titles\nr1,春\n".encode())
    assert read_sheet(path).headers == ["id", "titles"]
    write_back(path, [RowUpdate(2, "r1", {"status": "ok"})], key_column="id")
    assert path.read_bytes() == codecs.BOM_UTF8 + "id,titles,status\nr1,春,ok\n".encode()


def test_gbk_is_found_as_gb18030_said_and_written_back_as_gbk(tmp_path):
    path = tmp_path / "gbk.csv"
    path.write_bytes("编号,标题,media:主\r\n甲,秋天的第一杯奶茶,a.png\r\n".encode("gbk"))
    sheet = read_sheet(path)
    assert sheet.rows[0].values == {"编号": "甲", "标题": "秋天的第一杯奶茶", "media:主": "a.png"}
    assert sheet.notices == ["read as GB18030 (not UTF-8); pass --encoding to choose"]
    write_back(path, [RowUpdate(2, "甲", {"status": "成功"})], key_column="编号")
    assert path.read_bytes() == "编号,标题,media:主,status\r\n甲,秋天的第一杯奶茶,a.png,成功\r\n".encode("gbk")


def test_western_text_is_guessed_not_misread_as_chinese(tmp_path):
    path = tmp_path / "cp1252.csv"
    text = "id;titles;speech\nr1;Décor d'été;Crème brûlée à la française, très délicieuse\nr2;Été – “chic”;Ça coûte 5 €\n"
    path.write_bytes(text.encode("cp1252"))
    sheet = read_sheet(path)
    assert [r.get("titles") for r in sheet.rows] == ["Décor d'été", "Été – “chic”"]
    assert sheet.rows[1].get("speech") == "Ça coûte 5 €"
    assert len(sheet.notices) == 1 and "(not UTF-8); pass --encoding to choose" in sheet.notices[0]
    assert "GB18030" not in sheet.notices[0]


def test_encoding_given_wins_and_bad_bytes_name_the_line(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes("id,titles\nr1,Größe\n".encode("latin-1"))
    assert read_sheet(path, encoding="latin-1").rows[0].get("titles") == "Größe"
    assert read_sheet(path, encoding="latin-1").notices == []
    with pytest.raises(SheetError, match=r"line 2 is not valid utf-8 text \(byte 0xf6\)"):
        read_sheet(path, encoding="utf-8")
    with pytest.raises(SheetError, match="unknown encoding 'nope'"):
        read_sheet(path, encoding="nope")
    with pytest.raises(SheetError, match="binary file"):
        (tmp_path / "bin.csv").write_bytes(b"id,x\n\x00\x01\x02")
        read_sheet(tmp_path / "bin.csv")


def test_semicolon_csv_decimal_commas_are_numbers_and_text_stays_as_typed(write_csv):
    sheet = read_sheet(write_csv("id;titles;max_duration;media_volume;count\nr1;Version 1,5;12,5;1.234,75;3\n"))
    row = sheet.rows[0]
    view = RowView(row, sheet.headers)
    assert view.text("titles") == "Version 1,5" and row.get("max_duration") == "12,5"
    assert view.number("max_duration") == 12.5 and view.number("media_volume") == 1234.75 and view.integer("count") == 3
    comma = read_sheet(write_csv("id,titles,max_duration\nr1,x,\"12,5\"\n", name="comma.csv"))
    problems = []
    RowView(comma.rows[0], comma.headers, problems).number("max_duration")
    assert [str(p) for p in problems] == ["row 2, max_duration: expected a number, got '12,5'"]


@pytest.mark.parametrize("codec, titles", [("shift_jis", ["春の新作コレクション、今すぐチェック", "東京の夏祭り"]),
                                           ("big5", ["春季新品上市，歡迎選購", "台北夏日祭典"]),
                                           ("cp1251", ["Привет, как дела", "Летняя распродажа"])])
def test_other_code_pages_are_guessed(tmp_path, codec, titles):
    path = tmp_path / "guess.csv"
    path.write_bytes(("id,titles\n" + "".join(f"r{i},\"{t}\"\n" for i, t in enumerate(titles))).encode(codec))
    sheet = read_sheet(path)
    assert [r.get("titles") for r in sheet.rows] == titles
    assert "(not UTF-8)" in sheet.notices[0] and "GB18030" not in sheet.notices[0]
