"""Honest counts on a real run of a mixed sheet (finished, failed, disabled, two videos in one row):
rows, jobs and states add up, a failed row is never "done", the sheet says what happened to every
row, and the summary ends with what to do next."""

from __future__ import annotations

import json
from datetime import datetime

import openpyxl

from tests.run.conftest import cli

HEADER = ["id", "media:A", "titles", "count", "width", "height", "max_duration", "shot_duration", "enabled"]


def mixed_sheet(write_xlsx, campaign):
    campaign(rows=0)  # the media folder only
    return write_xlsx([
        HEADER,
        ["two", "media/a.mp4", "One\nTwo", 2, 180, 320, 1, 1, "yes"],
        ["gone", "media/missing.mp4", "Lost", 1, 180, 320, 1, 1, ""],
        ["off", "media/a.mp4", "Off", 1, 180, 320, 1, 1, "no"],
        ["one", "media/b.mp4", "Only", 1, 180, 320, 1, 1, "yes"],
    ])


def adds_up(s: dict) -> None:
    assert s["rows"] == s["rows_in_jobs"] + s["disabled"], s
    assert s["jobs"] == s["submitted"] + s["refused"] + s["resumed"] + s["unsent"] + s["skipped"], s
    assert s["skipped"] == sum(s["skipped_reasons"].values()), s
    assert s["jobs"] == s["finished"] + s["failed"] + s["pending"], s
    assert s["pending"] == s["rendering"] + s["not_submitted"], s


def test_mixed_sheet_counts_add_up_and_say_what_to_do(write_xlsx, campaign, tmp_path):
    sheet = mixed_sheet(write_xlsx, campaign)
    first = cli("run", sheet, "--no-probe", "--json")
    assert first.returncode == 1, first.stderr
    s = json.loads(first.stdout)
    adds_up(s)
    assert {k: s[k] for k in ("rows", "rows_in_jobs", "disabled", "jobs", "submitted", "skipped", "finished", "failed", "pending", "videos")} == {
        "rows": 4, "rows_in_jobs": 3, "disabled": 1, "jobs": 3, "submitted": 3, "skipped": 0,
        "finished": 2, "failed": 1, "pending": 0, "videos": 3}
    assert s["disabled_rows"] == [4]
    assert len(s["next_steps"]) == 1 and s["next_steps"][0].startswith("fix row 3 (InvalidMaterial.NotFound")
    assert s["next_steps"][0].endswith(f"then rerun: sheet2video run {sheet} --retry-failed")

    ws = openpyxl.load_workbook(sheet).active
    cols = {c.value: c.column for c in ws[1]}
    status = {ws.cell(r, 1).value: ws.cell(r, cols["status"]).value for r in range(2, 6)}
    assert status == {"two": "Finished", "gone": "Failed", "off": "skipped (enabled = no)", "one": "Finished"}
    assert ws.cell(4, cols["job_id"]).value is None  # a disabled row gets its status, nothing else
    links = [ws.cell(2, cols[f"video_{k}"]).hyperlink.target for k in (1, 2)]
    assert links == ["videos/campaign/two_0.mp4", "videos/campaign/two_1.mp4"]
    assert all((tmp_path / link).is_file() for link in links)  # relative to the sheet, and really there
    assert ws.cell(2, cols["duration_1"]).data_type == "n" and ws.cell(2, cols["duration_1"]).value > 0.5
    assert ws.cell(5, cols["durations"]).data_type == "n"  # one video: durations is a number
    assert isinstance(ws.cell(5, cols["updated_at"]).value, datetime)

    # a rerun: nothing sent; the failed row is skipped as failed, never as done
    again = cli("run", sheet, "--no-probe")
    assert again.returncode == 1
    out = " ".join(again.stderr.split())
    assert "0 submitted, 3 skipped (2 unchanged and already finished, 1 failed before, not retried)" in out, again.stderr
    assert "now: 2 finished, 1 failed, 0 pending" in out
    assert "next: fix row 3 (InvalidMaterial.NotFound" in out and "--retry-failed" in out
    assert "already done" not in again.stderr

    # sync after an edit: the changed row is not submitted, and the summary says how to make it
    wb = openpyxl.load_workbook(sheet)
    wb.active.cell(5, 3).value = "Only, changed"
    wb.save(sheet)
    synced = cli("sync", sheet, "--json")
    s = json.loads(synced.stdout)
    adds_up(s)
    assert s["skipped_reasons"] == {"unchanged and already finished": 1, "failed before, not retried": 1,
                                    "changed since its video was made, sync submits nothing": 1}
    assert (s["finished"], s["failed"], s["not_submitted"]) == (1, 1, 1)
    assert f"1 job new or changed: run 'sheet2video run {sheet}' to make their videos" in s["next_steps"]


def test_a_disabled_row_sharing_its_job_key_keeps_the_group_rows_in_place(tmp_path):
    """Rows sharing a key are matched in order on write: a disabled row among them gets its own
    update (even outside --rows), so its neighbours' results do not slide onto it."""
    from sheet2video.run.outcomes import disabled_rows, disabled_status
    from sheet2video.sheets.read import read_sheet
    from sheet2video.sheets.write import RowUpdate, write_back

    path = tmp_path / "grouped.csv"
    path.write_text("job,group,media,enabled\nA,g0,x.mp4,no\nA,g1,y.mp4,\nB,g1,z.mp4,\nA,g2,w.mp4,\n")
    disabled = disabled_rows(read_sheet(path), {5}, {"A"}, "job")
    assert disabled == [(2, "A", "no")]
    updates = [RowUpdate(3, "A", {"status": "Finished"}), RowUpdate(5, "A", {"status": "Finished"})]
    updates += [RowUpdate(n, key, {"status": disabled_status(enabled)}) for n, key, enabled in disabled]
    write_back(path, updates, key_column="job")
    assert [line.split(",")[-1] for line in path.read_text().splitlines()] == [
        "status", "skipped (enabled = no)", "Finished", "", "Finished"]
    assert disabled_rows(read_sheet(path), {4}, {"B"}, "job") == []  # another job's disabled row: not touched
