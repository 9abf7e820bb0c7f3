"""The HTML report of a run, opened in a real browser (Debian's chromium, headless, over DevTools)."""

import json
import os
import shutil
from pathlib import Path

import pytest

from tests.browser import Browser
from tests.run.conftest import CLOUD_ENV, cli

HOSTILE = ["<script>window.pwned=1</script>", "<img src=x onerror=window.pwned=2>"]
NOTES = Path(os.environ.get("SHEET2VIDEO_SCREENSHOTS", "/nonexistent"))  # a folder to keep the screenshot in (else only the tmp copy)


@pytest.fixture
def reported(campaign, tmp_path):
    """A run of three rows: one plain video, two of a row with hostile titles, one row that fails."""
    sheet = campaign(rows=3, extra="speech", speech="Fresh from the farm.")
    text = sheet.read_text()
    text = text.replace('"r1","media/a.mp4","media/b.mp4\nmedia/c.png","Title 1","1"',
                        f'"r1","media/a.mp4","media/b.mp4\nmedia/c.png","{HOSTILE[0]}\n{HOSTILE[1]}","2"')
    text = text.replace('"r2","media/a.mp4"', '"r2","media/missing.mp4"')
    sheet.write_text(text)
    result = cli("run", sheet, "--no-probe", "--json")
    assert result.returncode == 1, result.stderr  # the missing file fails its row
    summary = json.loads(result.stdout)
    assert (summary["finished"], summary["failed"]) == (2, 1)
    report = tmp_path / "campaign.report.html"
    assert summary["report"] == str(report) and report.is_file()
    return sheet, report, summary


def _visible(browser):
    return browser.evaluate("Array.from(document.querySelectorAll('.card'))"
                            ".filter(c => getComputedStyle(c).display !== 'none').map(c => c.dataset.job)")


def _click(browser, selector):
    """A real mouse click (DevTools input events) in the middle of the element."""
    box = browser.evaluate(f"(() => {{ const r = document.querySelector({json.dumps(selector)}).getBoundingClientRect();"
                           " return [r.x + r.width / 2, r.y + r.height / 2]; })()")
    for kind in ("mousePressed", "mouseReleased"):
        browser.send("Input.dispatchMouseEvent", type=kind, x=box[0], y=box[1], button="left", clickCount=1)


def test_report_in_a_real_browser(reported, tmp_path_factory):
    sheet, report, summary = reported
    # the folder moved (or shared): every link is relative, so the copy still works
    moved = tmp_path_factory.mktemp("moved") / "campaign"
    shutil.copytree(sheet.parent, moved)
    browser = Browser(width=1280, height=900)
    try:
        browser.open((moved / report.name).as_uri())
        cards = browser.evaluate("Array.from(document.querySelectorAll('.card')).map(c => [c.dataset.job, c.dataset.kind])")
        assert cards == [["r0", "ready"], ["r1", "ready"], ["r1", "ready"], ["r2", "failed"]]
        header = browser.evaluate("document.querySelector('header').innerText")
        assert "3 ready, 1 failed, 0 in progress" in header
        failed = browser.evaluate("document.querySelector('.card.failed').innerText")
        assert "could not be found" in failed and "InvalidMaterial.NotFound" in failed and "missing.mp4" in failed

        # every poster loads (as an image under the page's own security policy) …
        posters = browser.evaluate("Array.from(document.querySelectorAll('video')).map(v => v.getAttribute('poster'))")
        assert len(posters) == 3 and all(p and p.endswith(".jpg") and not p.startswith(("/", "file:")) for p in posters)
        widths = browser.evaluate("Promise.all(Array.from(document.querySelectorAll('video')).map(v => new Promise(done => {"
                                  " const i = new Image(); i.onload = () => done(i.naturalWidth); i.onerror = () => done(0);"
                                  " i.src = v.poster; })))")
        assert all(w > 0 for w in widths), widths
        # … and every video reports its real length once its metadata is read
        browser.wait_for("Array.from(document.querySelectorAll('video')).every(v => v.readyState >= 1 || v.error)",
                         timeout=30, what="the videos' metadata")
        durations = browser.evaluate("Array.from(document.querySelectorAll('video')).map(v => v.error ? -1 : v.duration)")
        assert all(d > 0 for d in durations), durations
        assert all(abs(d - 2.0) < 1.5 for d in durations)  # 2 s rows, voice-over length (a second or so)

        # as a reviewer first sees it (every video's metadata read)
        shot = browser.screenshot(moved.parent / "report.png")
        assert shot.stat().st_size > 10_000
        if NOTES.is_dir():
            shutil.copy(shot, NOTES / "report-screenshot.png")

        # the status filter, clicked with the mouse
        _click(browser, "[data-filter=failed]")
        assert _visible(browser) == ["r2"]
        _click(browser, "[data-filter=ready]")
        assert _visible(browser) == ["r0", "r1", "r1"]
        _click(browser, "[data-filter=working]")
        assert _visible(browser) == []
        _click(browser, "[data-filter=all]")
        assert len(_visible(browser)) == 4

        # hostile cells are text: nothing ran, no element was made from them
        assert browser.evaluate("typeof window.pwned") == "undefined"
        assert browser.evaluate("document.scripts.length") == 1 and browser.evaluate("document.images.length") == 0
        titles = browser.evaluate("Array.from(document.querySelectorAll('.card h2')).map(h => h.textContent)")
        assert sorted(titles[1:3]) == sorted(HOSTILE)

        # a phone: one card per line, nothing wider than the screen
        assert browser.as_phone() <= 390
    finally:
        browser.close()


def test_a_shared_engine_report_links_its_urls_and_posters(campaign, server, tmp_path):
    sheet = campaign(rows=1)
    engine = server(tmp_path)
    result = cli("run", sheet, "--endpoint", engine.url, "--json", env=CLOUD_ENV)
    assert result.returncode == 0, result.stderr
    browser = Browser(width=800, height=900)
    try:
        browser.open((tmp_path / "campaign.report.html").as_uri())
        video = browser.evaluate("(() => { const v = document.querySelector('video'); return [v.src, v.poster]; })()")
        # presigned, under the job's own folder (a shared engine: engine/api/output_links.py)
        folder = f"{engine.url}/outputs/{engine.all_jobs()[0]['JobId']}/campaign"
        assert video[0].startswith(f"{folder}/r0_0.mp4?Expires=") and video[1].startswith(f"{folder}/r0_0.jpg?Expires="), video
        assert browser.evaluate("new Promise(done => { const i = new Image(); i.onload = () => done(i.naturalWidth);"
                                " i.onerror = () => done(0); i.src = document.querySelector('video').poster; })") > 0
        browser.wait_for("document.querySelector('video').readyState >= 1", what="the video's metadata over HTTP")
        assert browser.evaluate("document.querySelector('video').duration") > 0
    finally:
        browser.close()


def test_report_command_rebuilds_it_from_the_ledger(campaign, tmp_path):
    sheet = campaign(rows=2)
    assert cli("run", sheet).returncode == 0
    report = tmp_path / "campaign.report.html"
    before = report.read_text()
    report.unlink()
    result = cli("report", sheet)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(report)
    again = report.read_text()
    assert again.count("<article") == before.count("<article") == 2
    assert again.split("<main>")[1] == before.split("<main>")[1]  # the same cards (only the time made differs)
    # a sheet never run: one line, exit 2, no file
    fresh = campaign(rows=1, name="fresh.csv")
    result = cli("report", fresh)
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and "no run of fresh.csv" in result.stderr
    assert not (tmp_path / "fresh.report.html").exists()


def test_a_report_that_cannot_be_written_is_a_warning_and_the_results_are_saved(campaign, tmp_path):
    sheet = campaign(rows=1)
    (tmp_path / "campaign.report.html").mkdir()  # something in its way: the write fails for real
    result = cli("run", sheet, "--json")
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if "warning:" in line]
    assert len(warnings) == 1 and "campaign.report.html could not be written" in warnings[0], result.stderr
    assert "Traceback" not in result.stderr
    summary = json.loads(result.stdout)
    assert summary["finished"] == 1 and summary["report"] is None
    assert ",Finished," in sheet.read_text()  # the results are in the sheet
    assert not list(tmp_path.glob(".campaign.report.html.*"))  # no half-written temp file left


def test_a_folder_nothing_can_be_written_in_is_one_line_before_anything_is_sent(campaign, tmp_path):
    sheet = campaign(rows=1)
    (tmp_path / ".sheet2video").write_text("not a folder")  # as root a chmod stops nothing; this does
    before = sheet.read_bytes()
    result = cli("run", sheet)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        f"error: cannot write in {tmp_path / '.sheet2video'} (File exists); sheet2video keeps its state next to the sheet:"
        " put the sheet in a folder you can write"]
    assert sheet.read_bytes() == before and not (tmp_path / "videos").exists()
