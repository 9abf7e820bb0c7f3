"""What the result cells hold: one link and one number per video, relative links, real dates and
numbers, statuses coloured at a glance — and the user's own cells still untouched."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import datetime, timezone

import openpyxl

from sheet2video.sheets.write import RowUpdate, write_back
from tests.sheets.test_write import snapshot, styled_workbook

ISO = "2026-05-09T10:00:00Z"
LOCAL = datetime(2026, 5, 9, 10, 0, 0, tzinfo=timezone.utc).astimezone().replace(tzinfo=None)


def header(ws) -> dict[str, int]:
    return {c.value: c.column for c in ws[1] if c.value is not None}


def hyperlink_relationships(path) -> list[dict[str, str]]:
    """The hyperlink relationships of the first worksheet, as Excel and LibreOffice read them."""
    with zipfile.ZipFile(path) as archive:
        rels = archive.read("xl/worksheets/_rels/sheet1.xml.rels").decode()
    return [dict(re.findall(r'(\w+)="([^"]*)"', rel)) for rel in re.findall(r"<Relationship [^>]*/>", rels)
            if "relationships/hyperlink" in rel]


def test_every_variant_gets_its_own_link_and_number_and_the_users_cells_stay(tmp_path):
    path = styled_workbook(tmp_path / "campaign.xlsx")
    before = snapshot(path)
    videos = ["videos/campaign/a_0.mp4", "videos/campaign/a 1.mp4", str(tmp_path / "videos" / "春季_2.mp4")]
    write_back(path, [
        RowUpdate(2, "a", {"job_id": "j-a", "status": "Finished", "videos": "\n".join(videos),
                           "durations": "2.00\n2.50\n3.25", "error": "", "updated_at": ISO}),
        RowUpdate(3, "b", {"job_id": "j-b", "status": "Finished", "videos": "videos/campaign/b_0.mp4",
                           "durations": "4.00", "error": "", "updated_at": ISO}),
    ], key_column="id")

    after = snapshot(path)
    for coordinate, cell in before["Campaign"]["cells"].items():
        assert after["Campaign"]["cells"].get(coordinate) == cell, coordinate
    assert after["Lookup"] == before["Lookup"]

    ws = openpyxl.load_workbook(path)["Campaign"]
    cols = header(ws)
    assert list(cols)[-12:] == ["job_id", "status", "videos", "durations", "error", "updated_at",
                                "video_1", "duration_1", "video_2", "duration_2", "video_3", "duration_3"]
    row = {name: ws.cell(2, c) for name, c in cols.items()}
    assert [row[f"video_{k}"].hyperlink.target for k in (1, 2, 3)] == [
        "videos/campaign/a_0.mp4", "videos/campaign/a%201.mp4", "videos/春季_2.mp4"]
    assert [row[f"duration_{k}"].value for k in (1, 2, 3)] == [2.0, 2.5, 3.25]
    assert all(row[f"duration_{k}"].data_type == "n" and row[f"duration_{k}"].number_format == "0.00" for k in (1, 2, 3))
    assert row["durations"].value == "2.00\n2.50\n3.25"  # several lengths: the text list stays, as documented
    assert row["updated_at"].value == LOCAL and row["updated_at"].number_format == "yyyy-mm-dd hh:mm:ss"
    assert row["updated_at"].is_date
    # a row with one video: its duration is a number in durations, video_2… stay blank
    b = {name: ws.cell(3, c) for name, c in cols.items()}
    assert b["durations"].value == 4.0 and b["duration_1"].value == 4.0 and b["video_2"].value is None
    assert b["videos"].hyperlink.target == "videos/campaign/b_0.mp4"

    rels = hyperlink_relationships(path)
    assert rels and all(r["TargetMode"] == "External" for r in rels)
    assert not any(r["Target"].startswith(("file:", "/")) for r in rels)  # relative: the folder can move
    assert "videos/campaign/a%201.mp4" in {r["Target"] for r in rels}


def test_a_rerun_with_fewer_videos_clears_the_stale_variant_cells(tmp_path):
    path = styled_workbook(tmp_path / "c.xlsx")
    write_back(path, [RowUpdate(2, "a", {"videos": "v/a0.mp4\nv/a1.mp4\nv/a2.mp4", "durations": "1\n2\n3"})], key_column="id")
    write_back(path, [RowUpdate(2, "a", {"videos": "v/new0.mp4", "durations": "5"})], key_column="id")
    ws = openpyxl.load_workbook(path)["Campaign"]
    cols = header(ws)
    assert ws.cell(2, cols["video_1"]).hyperlink.target == "v/new0.mp4" and ws.cell(2, cols["duration_1"]).value == 5
    for k in (2, 3):
        assert ws.cell(2, cols[f"video_{k}"]).value is None and ws.cell(2, cols[f"video_{k}"]).hyperlink is None
        assert ws.cell(2, cols[f"duration_{k}"]).value is None


def test_statuses_are_coloured_and_recoloured_and_only_result_cells_change(tmp_path):
    path = styled_workbook(tmp_path / "c.xlsx")
    before = snapshot(path)
    looks = {"Finished": "FFC6EFCE", "Failed": "FFFFC7CE", "Processing": "FFFFEB9C", "skipped (enabled = no)": "FFEDEDED"}
    for status, fill in looks.items():
        write_back(path, [RowUpdate(2, "a", {"status": status}), RowUpdate(4, "c", {"status": "Finished"})], key_column="id")
        ws = openpyxl.load_workbook(path)["Campaign"]
        cell = ws.cell(2, header(ws)["status"])
        assert cell.value == status and cell.fill.fill_type == "solid" and cell.fill.fgColor.rgb == fill, status
        assert ws.cell(4, header(ws)["status"]).fill.fgColor.rgb == "FFC6EFCE"
    write_back(path, [RowUpdate(2, "a", {"status": "something else"})], key_column="id")
    cell = openpyxl.load_workbook(path)["Campaign"].cell(2, header(ws)["status"])
    assert cell.fill.fill_type is None  # our colour taken back, nothing invented
    after = snapshot(path)
    for coordinate, original in before["Campaign"]["cells"].items():
        assert after["Campaign"]["cells"].get(coordinate) == original, coordinate


def test_a_status_column_the_user_styled_keeps_its_look_for_an_unknown_status(tmp_path):
    from openpyxl.styles import PatternFill

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["id", "status"])
    ws.append(["a", "todo"])
    ws["B2"].fill = PatternFill("solid", start_color="FF112233")
    path = tmp_path / "own.xlsx"
    wb.save(path)
    write_back(path, [RowUpdate(2, "a", {"status": "queued by hand"})], key_column="id")
    assert openpyxl.load_workbook(path).active["B2"].fill.fgColor.rgb == "FF112233"


def test_csv_gets_the_same_information_as_text(tmp_path):
    path = tmp_path / "c.csv"
    path.write_bytes(b"id,titles\r\na,x\r\nb,y\r\n")
    write_back(path, [
        RowUpdate(2, "a", {"status": "Finished", "videos": "videos/a_0.mp4\nvideos/a_1.mp4", "durations": "2.00\n2.50",
                           "updated_at": ISO}),
        RowUpdate(3, "b", {"status": "skipped (enabled = no)"}),
    ], key_column="id")
    rows = list(csv.DictReader(io.StringIO(path.read_text(), newline="")))
    assert list(rows[0]) == ["id", "titles", "status", "videos", "durations", "updated_at",
                             "video_1", "duration_1", "video_2", "duration_2"]
    assert {k: rows[0][k] for k in ("video_1", "duration_1", "video_2", "duration_2", "updated_at")} == {
        "video_1": "videos/a_0.mp4", "duration_1": "2.00", "video_2": "videos/a_1.mp4", "duration_2": "2.50", "updated_at": ISO}
    assert rows[1]["status"] == "skipped (enabled = no)" and not rows[1]["video_1"]
