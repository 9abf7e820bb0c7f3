"""The report's data without a browser: plain words, cloud answers, old ledgers, preview jobs."""

import json
import sqlite3

from sheet2video.plan.campaign import PlannedJob
from sheet2video.run.ledger import Ledger
from sheet2video.run.preview import preview_job, preview_size
from sheet2video.report import gather, render_page, video_details
from sheet2video.report.words import explain, kind_of, next_step, split_error


def test_codes_become_sentences_with_the_raw_code_kept_apart():
    assert explain("InvalidMaterial.NotFound").startswith("A photo or clip this row names could not be found")
    assert explain("InvalidParameter.Font.Unknown") == explain("InvalidParameter.Font")  # the longest known prefix
    assert explain("InvalidParameterX") == explain("Whatever") == "The video could not be made."
    assert split_error("1 of 3 video(s) failed — RenderFailed: FFmpeg failed (exit 1)") == ("RenderFailed", "FFmpeg failed (exit 1)")
    assert split_error("InvalidMaterial.NotFound: gone.mp4") == ("InvalidMaterial.NotFound", "gone.mp4")
    assert next_step("InvalidMaterial.NotFound", [5]) == "Next: fix row 5 in the sheet, then rerun with --retry-failed."
    assert next_step("InternalError", [5]) == "Next: rerun with --retry-failed."
    assert [kind_of(s) for s in ("Success", "Finished", "Failed", "Processing", "Submitting")] == \
        ["ready", "ready", "failed", "working", "working"]


CLOUD_JOB = {
    "JobId": "j1", "Status": "Finished",
    "InputConfig": json.dumps({"MediaGroupArray": [{"GroupName": "a", "MediaArray": ["m"]}],
                               "TitleArray": ["First & best", "Second <b>"], "SpeechTextArray": ["Hello."]}),
    "EditingConfig": json.dumps({"SpeechConfig": {"Voice": "zhitian"}}),
    "SubJobList": [
        {"JobId": "s1", "Status": "Success", "MediaURL": "https://b.oss-cn-shanghai.aliyuncs.com/out/r0_0.mp4?x=1",
         "MediaId": "m1", "Duration": 12.4},
        {"JobId": "s2", "Status": "Failed", "ErrorCode": "InvalidMaterial.NotFound", "ErrorMessage": "clip gone"},
    ],
}


def test_a_cloud_job_shows_its_urls_and_its_choices_without_posters(tmp_path):
    details = video_details(CLOUD_JOB, lambda url: url)
    assert details[0] == {"Status": "Success", "Video": CLOUD_JOB["SubJobList"][0]["MediaURL"], "Duration": 12.4,
                          "OneOf": True, "Titles": ["First & best", "Second <b>"], "Speeches": ["Hello."], "Voice": "zhitian"}
    assert details[1]["ErrorCode"] == "InvalidMaterial.NotFound" and "Video" not in details[1]

    sheet = tmp_path / "cloud.xlsx"
    ledger = Ledger.for_sheet(sheet)
    ledger.begin_submit("aliyun:x", "r0", [2], "h", 0, "t")
    ledger.submitted("aliyun:x", "r0", "j1")
    ledger.update("aliyun:x", "r0", status="Finished", videos=[details[0]["Video"]], details=details)
    ledger.close()
    data = gather(sheet)
    assert [(c.kind, c.video, c.poster) for c in data.cards] == [
        ("ready", CLOUD_JOB["SubJobList"][0]["MediaURL"], None), ("failed", None, None)]
    page = render_page(data)
    assert 'src="https://b.oss-cn-shanghai.aliyuncs.com/out/r0_0.mp4?x=1"' in page and "poster=" not in page
    assert "Each video got one of these titles and scripts." in page
    assert "First &amp; best / Second &lt;b&gt;" in page and "<b>" not in page.split("<main>")[1]
    assert "0:12" in page and "Voice: zhitian" in page


def test_a_ledger_from_before_the_report_gets_its_details_column(tmp_path):
    path = tmp_path / ".sheet2video" / "old.csv.ledger.sqlite3"
    path.parent.mkdir()
    old = sqlite3.connect(path)
    old.execute("CREATE TABLE jobs (backend TEXT NOT NULL, job_key TEXT NOT NULL, rows TEXT NOT NULL, content_hash TEXT NOT NULL,"
                " attempt INTEGER NOT NULL, client_token TEXT NOT NULL, job_id TEXT, status TEXT NOT NULL,"
                " videos TEXT NOT NULL DEFAULT '[]', media_ids TEXT NOT NULL DEFAULT '[]', durations TEXT NOT NULL DEFAULT '[]',"
                " error TEXT NOT NULL DEFAULT '', submitted_at TEXT, updated_at TEXT NOT NULL, PRIMARY KEY (backend, job_key))")
    old.execute("INSERT INTO jobs VALUES ('local:x', 'r0', '[2]', 'h', 0, 't', 'j', 'Finished', '[\"videos/r0_0.mp4\"]',"
                " '[\"m\"]', '[3.5]', '', NULL, '2026-01-01T00:00:00Z')")
    old.commit()
    old.close()
    ledger = Ledger(path)
    assert ledger.get("local:x", "r0").details == []
    ledger.close()
    cards = gather(tmp_path / "old.csv").cards  # the old columns still make a card
    assert [(c.kind, c.video, c.duration) for c in cards] == [("ready", "videos/r0_0.mp4", 3.5)]


def test_a_preview_job_is_a_smaller_single_draft_with_its_own_token():
    params = {
        "ClientToken": "real",
        "InputConfig": json.dumps({"MediaGroupArray": [], "StickerArray": [{"MediaURL": "logo.png", "X": 40, "Y": 0.05, "Width": 140}]}),
        "EditingConfig": json.dumps({"TitleConfig": {"FontSize": 86, "Y": 0.1},
                                     "SpeechConfig": {"AsrConfig": {"FontSize": 59, "Outline": 3}}}),
        "OutputConfig": json.dumps({"MediaURL": "c/r0_{index}.mp4", "Count": 3, "Width": 1080, "Height": 1920}),
    }
    job = PlannedJob("r0", [2], params, "hash")
    draft = preview_job(job, "c.csv:Sheet1")
    output = json.loads(draft.params["OutputConfig"])
    assert (output["Width"], output["Height"], output["Count"]) == (360, 640, 1)
    editing = json.loads(draft.params["EditingConfig"])
    assert editing["TitleConfig"] == {"FontSize": 29, "Y": 0.1}  # pixels shrink, fractions stay
    assert editing["SpeechConfig"]["AsrConfig"] == {"FontSize": 20, "Outline": 1}
    assert json.loads(draft.params["InputConfig"])["StickerArray"][0] == {"MediaURL": "logo.png", "X": 13, "Y": 0.05, "Width": 47}
    assert draft.params["ClientToken"] not in ("real", job.params["ClientToken"]) and draft.content_hash != "hash"
    assert preview_size(1280, 720) == (640, 360) and preview_size(180, 320) == (180, 320) and preview_size(1000, 1080) == (360, 388)


def test_a_switched_off_row_gets_a_card_saying_so(tmp_path):
    from sheet2video.run.ledger import Ledger
    from sheet2video.report import gather, render_page

    sheet = tmp_path / "campaign.csv"
    sheet.write_text("id\n", encoding="utf-8")
    ledger = Ledger.for_sheet(sheet)
    ledger.mark_skipped([(3, "r1", "skipped (enabled = no)"), (5, "r3", "skipped (enabled = false)")], {2, 4})
    ledger.mark_skipped([(3, "r1", "skipped (enabled = no)")], {2, 4, 5})  # row 5 switched on again: mark gone
    ledger.close()
    data = gather(sheet)
    assert [(c.rows, c.kind, c.note) for c in data.cards] == [([3], "skipped", "Not made: skipped (enabled = no).")]
    page = render_page(data)
    assert 'data-filter="skipped"' in page and "0 video(s)" in page and "1 skipped" in page
