"""`run --preview`: 360 px drafts, one per row, in their own folder; never counted as done."""

import json

import av

from tests.run.conftest import cli


def _size_and_length(path):
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return stream.width, stream.height, container.duration / 1e6


def test_preview_renders_small_drafts_and_leaves_the_sheet_and_the_real_run_alone(campaign, tmp_path):
    sheet = campaign(rows=2)
    # two videos per row at 720x1280 (and a landscape row): the real thing would be slower
    sheet.write_text(sheet.read_text().replace('"1","180","320"', '"2","720","1280"', 1)
                     .replace('"1","180","320"', '"2","1280","720"'))
    before = sheet.read_bytes()

    result = cli("run", sheet, "--preview", "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert (summary["submitted"], summary["finished"], summary["videos"]) == (2, 2, 2)  # one per row
    drafts = sorted((tmp_path / "campaign-preview").rglob("*.mp4"))
    assert [d.name for d in drafts] == ["r0_0.mp4", "r1_0.mp4"]
    sizes = [_size_and_length(d) for d in drafts]
    assert [s[:2] for s in sizes] == [(360, 640), (640, 360)]  # short side 360, aspect kept
    assert all(abs(s[2] - 2.0) < 0.2 for s in sizes)
    assert all(d.with_suffix(".jpg").is_file() for d in drafts)  # posters for the report

    assert sheet.read_bytes() == before  # nothing written into the sheet …
    assert not (tmp_path / "campaign.bak.csv").exists() and not (tmp_path / "videos").exists()
    report = (tmp_path / "campaign.report.html").read_text()
    assert "PREVIEW" in report and report.count("<article") == 2
    assert report.count('src="campaign-preview/campaign/') == 2

    # … nor counted as done: the real run submits every row, and the report shows it instead
    result = cli("run", sheet, "--no-wait", "--json")
    assert result.returncode == 0, result.stderr
    real = json.loads(result.stdout)
    assert (real["submitted"], real["skipped"]) == (2, 0)
    report = (tmp_path / "campaign.report.html").read_text()
    assert "PREVIEW" not in report and report.count("<article") >= 2

    # a preview again skips what it already drafted (its own ledger)
    result = cli("run", sheet, "--preview", "--json")
    assert json.loads(result.stdout)["submitted"] == 0


def test_preview_is_refused_for_remote_backends(campaign):
    sheet = campaign(rows=1)
    result = cli("run", sheet, "--preview", "--endpoint", "http://127.0.0.1:9")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: --preview renders drafts on this machine with the embedded engine; drop --backend/--endpoint"]
