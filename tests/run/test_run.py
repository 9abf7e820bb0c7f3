"""`sheet2video run` / `sync` against the real engine over loopback (embedded or `serve`)."""

import json
import os
import signal
import subprocess
import sys
import time

import openpyxl
import pytest

from tests.run.conftest import CLOUD_ENV, KEY_SECRET, cli


def run_json(*args, **kw):
    result = cli("run", *args, "--json", **kw)
    assert result.stdout, result.stderr
    return result, json.loads(result.stdout)


def read_csv_rows(path):
    import csv

    with open(path, newline="", encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


def test_embedded_run_renders_writes_back_and_reruns_skip(campaign, tmp_path):
    sheet = campaign(rows=2)
    result, summary = run_json(sheet)
    assert result.returncode == 0, result.stderr
    assert {k: summary[k] for k in ("rows", "jobs", "submitted", "skipped", "finished", "failed", "videos")} == {
        "rows": 2, "jobs": 2, "submitted": 2, "skipped": 0, "finished": 2, "failed": 0, "videos": 2}
    rows = read_csv_rows(sheet)
    assert [r["status"] for r in rows] == ["Finished", "Finished"]
    for row in rows:
        video = tmp_path / row["videos"]
        assert video.is_file() and video.stat().st_size > 1000  # a real file next to the sheet, outliving the run
        assert float(row["durations"]) == pytest.approx(2.0, abs=0.15)
        assert len(row["job_id"]) == 32 and row["error"] == ""
    assert "ledger" in summary and os.path.exists(summary["ledger"])
    # a rerun submits nothing: every row is finished and unchanged
    result, again = run_json(sheet)
    assert (again["submitted"], again["skipped"], again["finished"]) == (0, 2, 2)
    assert [r["job_id"] for r in read_csv_rows(sheet)] == [r["job_id"] for r in rows]


def test_changed_row_is_resubmitted_others_are_not(campaign):
    sheet = campaign(rows=2)
    run_json(sheet)
    first = read_csv_rows(sheet)
    text = sheet.read_text().replace("Title 1", "Title one changed")
    sheet.write_text(text)
    result, summary = run_json(sheet)
    assert summary["submitted"] == 1 and summary["skipped"] == 1
    rows = read_csv_rows(sheet)
    assert rows[0]["job_id"] == first[0]["job_id"] and rows[1]["job_id"] != first[1]["job_id"]


def test_bad_media_fails_only_its_row_with_the_error(campaign):
    sheet = campaign(rows=2)
    sheet.write_text(sheet.read_text().replace('"r1","media/a.mp4"', '"r1","media/missing.mp4"'))
    assert cli("run", sheet).returncode == 2  # plan-time probing names it before anything is sent …
    result, summary = run_json(sheet, "--no-probe")  # … and without it, the render refuses only that row
    assert result.returncode == 1
    assert (summary["finished"], summary["failed"]) == (1, 1)
    rows = read_csv_rows(sheet)
    assert rows[0]["status"] == "Finished"
    assert rows[1]["status"] == "Failed" and "InvalidMaterial.NotFound" in rows[1]["error"] and "missing.mp4" in rows[1]["error"]
    # --retry-failed resubmits it (and it fails again, with a new job id)
    result, summary = run_json(sheet, "--retry-failed", "--no-probe")
    assert summary["submitted"] == 1 and read_csv_rows(sheet)[1]["job_id"] != rows[1]["job_id"]


def test_invalid_sheet_exits_2_and_sends_nothing(campaign, tmp_path):
    sheet = campaign(rows=2)
    sheet.write_text(sheet.read_text().replace('"180","320"', '"181","320"', 1))
    result = cli("run", sheet)
    assert result.returncode == 2
    assert "row 2, width (OutputConfig.Width): must be even" in result.stderr
    # no ledger, no engine: at most the plan-time media probe cache (preflight_media)
    assert [p.name for p in (tmp_path / ".sheet2video").glob("*")] in ([], ["media-probe.json"])
    assert "job_id" not in sheet.read_text()


def test_styled_workbook_keeps_everything_after_write_back(campaign, tmp_path):
    from openpyxl.styles import Font, PatternFill

    workbook = openpyxl.Workbook()
    ws = workbook.active
    ws.title = "Plan"
    ws.append(["id", "media:Opening", "titles", "width", "height", "count", "shot_duration", "max_duration", "cost", "total"])
    for i in range(3):
        ws.append([f"w{i}", "media/a.mp4", f"Hello {i}", 180, 320, 1, 1, 1, 10 + i, f"=I{i + 2}*2"])
    ws["A1"].font = Font(bold=True, color="FF0000")
    ws["B2"].fill = PatternFill("solid", fgColor="FFFF00")
    ws.column_dimensions["C"].width = 33
    ws.merge_cells("I4:J4")
    ws.freeze_panes = "A2"
    other = workbook.create_sheet("Notes")
    other["A1"] = "keep me"
    path = tmp_path / "styled.xlsx"
    campaign(rows=0)  # media only
    workbook.save(path)
    original = path.read_bytes()
    before = openpyxl.load_workbook(path)
    result, summary = run_json(path)
    assert result.returncode == 0, result.stderr
    after = openpyxl.load_workbook(path)
    old, new = before["Plan"], after["Plan"]
    for row in old.iter_rows():
        for cell in row:
            twin = new[cell.coordinate]
            assert twin.value == cell.value, cell.coordinate
            assert (repr(twin.font), repr(twin.fill), twin.number_format) == (repr(cell.font), repr(cell.fill), cell.number_format)
    assert new.column_dimensions["C"].width == 33 and new.freeze_panes == "A2"
    assert "I4:J4" in {str(r) for r in new.merged_cells.ranges}
    assert after["Notes"]["A1"].value == "keep me"
    header = [c.value for c in new[1]]
    assert header[10:] == ["job_id", "status", "videos", "media_ids", "durations", "error", "updated_at"]
    assert [new.cell(r, 12).value for r in (2, 3, 4)] == ["Finished"] * 3
    assert new.cell(2, 13).hyperlink is not None
    # the run saved statuses more than once (Init, then Finished): its backup is still the user's file
    assert (tmp_path / "styled.bak.xlsx").read_bytes() == original


def test_excel_lock_file_gives_results_copy(campaign, tmp_path, write_xlsx):
    campaign(rows=0)
    path = write_xlsx([["id", "media:A", "width", "height", "max_duration", "shot_duration"], ["x", "media/a.mp4", 180, 320, 1, 1]], name="open.xlsx")
    (tmp_path / "~$open.xlsx").write_bytes(b"lock")
    original = path.read_bytes()
    result, summary = run_json(path)
    assert result.returncode == 0, result.stderr
    assert path.read_bytes() == original
    assert summary["results_copy"] is True
    copy = openpyxl.load_workbook(tmp_path / "open.results.xlsx").active
    assert copy.cell(2, 8).value == "Finished"


def test_csv_round_trip_bom_semicolon_crlf(campaign, tmp_path):
    campaign(rows=0)
    sheet = tmp_path / "semi.csv"
    sheet.write_bytes('\ufeffid;media:A;titles;width;height;max_duration;shot_duration\r\nx;media/a.mp4;"=cmd|calc, ""quoted""";180;320;1;1\r\n'.encode())
    result, summary = run_json(sheet)
    assert result.returncode == 0, result.stderr
    data = sheet.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and b"\r\n" in data and data.count(b"\n") == data.count(b"\r\n")
    header = data.decode("utf-8-sig").split("\r\n")[0]
    assert header == "id;media:A;titles;width;height;max_duration;shot_duration;job_id;status;videos;media_ids;durations;error;updated_at"
    import csv, io

    row = next(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=";"))
    assert row["titles"] == '=cmd|calc, "quoted"'  # the user's cell is untouched
    assert row["status"] == "Finished"


def test_lock_held_exits_3(campaign, tmp_path):
    from sheet2video.run.ledger import SheetLock
    from sheet2video.locks import ExclusiveLock

    sheet = campaign(rows=1)
    with SheetLock(sheet):
        result = cli("run", sheet)
    assert result.returncode == 3
    assert "another run is working on this sheet" in result.stderr
    # another sheet in the same folder: its run would share the embedded engine's data folder
    other = campaign(rows=1, name="other.csv")
    engine_folder = tmp_path / ".sheet2video" / "engine"
    with ExclusiveLock(engine_folder / "engine.lock", "held by the test"):
        result = cli("run", other)
    assert result.returncode == 3, result.stderr
    assert f"the engine data folder {engine_folder} is in use by another engine (pid {os.getpid()})" in result.stderr
    assert "Traceback" not in result.stderr


def test_wrong_secret_exits_4_and_never_prints_it(campaign, server, tmp_path):
    sheet = campaign(rows=1)
    engine = server(tmp_path)
    wrong = "Wrong-Secret-Value-987"
    env = {"ALIBABA_CLOUD_ACCESS_KEY_ID": CLOUD_ENV["ALIBABA_CLOUD_ACCESS_KEY_ID"], "ALIBABA_CLOUD_ACCESS_KEY_SECRET": wrong}
    result = cli("run", sheet, "--endpoint", engine.url, env=env)
    assert result.returncode == 4, result.stderr
    assert "SignatureDoesNotMatch" in result.stderr
    for text in (result.stdout, result.stderr, sheet.read_text()):
        assert wrong not in text and KEY_SECRET not in text
    ledger = next((tmp_path / ".sheet2video").glob("*.ledger.sqlite3"))
    assert wrong.encode() not in ledger.read_bytes()


def test_no_wait_then_sync_with_a_server(campaign, server, tmp_path):
    sheet = campaign(rows=2)
    engine = server(tmp_path)
    result, summary = run_json(sheet, "--endpoint", engine.url, "--no-wait", env=CLOUD_ENV)
    assert summary["submitted"] == 2
    # temp copies a save killed earlier left behind: the next run removes its own sheet's, only those
    leftovers = [sheet.parent / f".{sheet.name}.k1ll3d00.tmp", sheet.parent / f".{sheet.stem}.bak{sheet.suffix}.x9y8z7w6.tmp"]
    unrelated = sheet.parent / f".other{sheet.name}.k1ll3d00.tmp"
    for path in (*leftovers, unrelated):
        path.write_text("half a save")
    deadline = time.monotonic() + 120
    while True:
        result = cli("sync", sheet, "--endpoint", engine.url, "--json", env=CLOUD_ENV)
        assert not any(p.exists() for p in leftovers) and unrelated.exists()
        summary = json.loads(result.stdout)
        if summary["finished"] == 2 or time.monotonic() > deadline:
            break
    assert summary["finished"] == 2 and summary["submitted"] == 0
    rows = read_csv_rows(sheet)
    assert all(r["videos"].startswith(engine.url + "/outputs/") for r in rows)  # a server's URLs, not paths
    assert len(engine.all_jobs()) == 2


def test_engine_throttling_is_absorbed_and_qps_respected(campaign, server, tmp_path):
    sheet = campaign(rows=6)
    engine = server(tmp_path, "--qps", "2")
    started = time.monotonic()
    result, summary = run_json(sheet, "--endpoint", engine.url, "--qps", "50", env=CLOUD_ENV)  # we push, the engine throttles
    assert result.returncode == 0, result.stderr
    assert summary["finished"] == 6 and len(engine.all_jobs()) == 6
    # our own limit: 6 submits at --qps 3 take at least (6 - 1) / 3 seconds
    sheet2 = campaign(rows=6, name="second.csv")
    started = time.monotonic()
    result, summary = run_json(sheet2, "--qps", "3", "--no-wait", "--endpoint", engine.url, env=CLOUD_ENV)
    assert summary["submitted"] == 6
    assert time.monotonic() - started >= 5 / 3 - 0.1


def test_kill_minus_9_mid_run_then_rerun_gives_one_job_per_row(campaign, server, tmp_path):
    sheet = campaign(rows=8)
    engine = server(tmp_path)
    env = {**os.environ, **CLOUD_ENV}
    for delay in (0.8, 1.6):
        proc = subprocess.Popen([sys.executable, "-m", "sheet2video", "run", str(sheet), "--endpoint", engine.url, "--qps", "4", "--quiet"],
                                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)  # let it get part of the way: the point is to die at an arbitrary moment
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    result, summary = run_json(sheet, "--endpoint", engine.url, env=CLOUD_ENV)
    assert result.returncode == 0, result.stderr
    assert summary["finished"] == 8
    assert len(engine.all_jobs()) == 8  # exactly one job per row on the engine
    assert len({r["job_id"] for r in read_csv_rows(sheet)}) == 8


def free_port():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_callback_url_receives_signed_completion_events(campaign):
    sheet = campaign(rows=1)
    url = f"http://127.0.0.1:{free_port()}/ims/callback"
    result = cli("run", sheet, "--callback-url", url, "--callback-auth-key", "CbKey123abc")
    assert result.returncode == 0, result.stderr
    job_id = read_csv_rows(sheet)[0]["job_id"]
    assert f"callback: job {job_id} Finished" in result.stderr  # arrived, signature verified (else refused)
    assert "CbKey123abc" not in result.stderr + result.stdout


def test_cloud_preflight_refuses_what_the_cloud_cannot_read(campaign):
    sheet = campaign(rows=2)
    result = cli("run", sheet, "--backend", "aliyun", "--region", "cn-shanghai", env=CLOUD_ENV)
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert "error: row 2, media:Opening (InputConfig.MediaGroupArray[0].MediaArray): media 'media/a.mp4' is not an IMS media ID or an OSS URL; the cloud cannot read it" in lines
    assert any(l.startswith("error: row 3, output (OutputConfig.MediaURL): output 'campaign/r1_{index}.mp4'") for l in lines)
    assert "nothing was sent" in lines[-1]


def test_cloud_shaped_job_media_ids_and_oss_output_through_a_server(campaign, server, tmp_path):
    campaign(rows=0)
    engine = server(tmp_path)
    client = engine.client()
    ids = [client.register_media_info(f"media/{name}") for name in ("a.mp4", "c.png")]
    sheet = tmp_path / "cloud.csv"
    out = "https://my-bucket.oss-cn-shanghai.aliyuncs.com/campaign/{index}.mp4"
    sheet.write_text(f"id,media:A,media:B,output,width,height,max_duration,shot_duration\nx,{ids[0]},{ids[1]},{out},180,320,2,1\n")
    result, summary = run_json(sheet, "--backend", "aliyun", "--region", "cn-shanghai", "--endpoint", engine.url, env=CLOUD_ENV)
    assert result.returncode == 0, result.stderr
    row = read_csv_rows(sheet)[0]
    assert row["status"] == "Finished"
    # a shared engine keeps it under the job's own folder and answers a presigned URL (engine/api/output_links.py)
    assert row["videos"].startswith(f"{engine.url}/outputs/{row['job_id']}/my-bucket.oss-cn-shanghai.aliyuncs.com/campaign/0.mp4?Expires=")
    assert "&Signature=" in row["videos"]
    import requests

    assert requests.get(row["videos"], timeout=10).content[4:8] == b"ftyp"  # a real MP4 behind the URL


def test_many_jobs_in_flight_are_polled_with_list_pages(campaign, tmp_path, monkeypatch):
    """15 jobs in flight: the runner screens them with List and reads only changed ones with Get."""
    from sheet2video.engine.api.server import Engine, EngineConfig
    from sheet2video.run.options import RunOptions
    from sheet2video.run.runner import run_sheet

    import sheet2video.run.polling as polling_module

    monkeypatch.setattr(polling_module, "LIST_SCREEN_MIN", 0)  # screen with List however few jobs remain
    sheet = campaign(rows=15)
    engine = Engine(EngineConfig(data=tmp_path / "engine", media_root=tmp_path, keys={"kid": "ksecret"}, workers=2))
    actions = []
    serve = engine.wsgi

    def counting(environ, start_response):
        actions.append(environ.get("HTTP_X_ACS_ACTION"))
        return serve(environ, start_response)

    engine.wsgi = counting
    url = engine.start()
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", "kid")
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "ksecret")
    try:
        summary = run_sheet(sheet, RunOptions(endpoint=url, qps=100, poll_min=0.2))
    finally:
        engine.close()
    assert summary.finished == 15
    assert all(r["status"] == "Finished" and r["videos"] for r in read_csv_rows(sheet))
    assert actions.count("SubmitBatchMediaProducingJob") == 15
    assert actions.count("ListBatchMediaProducingJobs") > 0
    # Get only for a job List shows final: exactly one per job, however long the renders take
    assert actions.count("GetBatchMediaProducingJob") == 15
