"""Each video's edit list on its report card: one readable line per shot, checked in the HTML, in a
real browser (chromium, with a screenshot), and after a real run — whose sheet write-back is
exactly what it is when the planner records no shots."""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
from html import unescape
from pathlib import Path

import pytest

from sheet2video.engine.api.server import Engine, EngineConfig
from sheet2video.report import gather, render_page, video_details
from sheet2video.run.ledger import Ledger
from tests.browser import Browser
from tests.engine.api.shots import forget_shots
from tests.media import make_image, make_video
from tests.run.conftest import CLOUD_ENV, KEY_ID, KEY_SECRET, cli

SCREENSHOTS = Path(os.environ.get("SHEET2VIDEO_SCREENSHOTS", "/nonexistent"))  # a folder to keep the screenshot in

HOSTILE = "<img src=x onerror=window.pwned=1>.mp4"
SHOTS = [  # (the shot as the planner records it, the line the card shows)
    ({"Media": "clips/clip1.mp4", "Group": "Opening", "Type": "Video", "In": 1.2, "Out": 3.4, "Speed": 1.0,
      "TimelineIn": 0.0, "TimelineOut": 2.2, "Transition": None},
     "0.0–2.2 s Opening/clip1.mp4 1.2→3.4 s ×1.00"),
    ({"Media": "https://cdn.example.com/spring/product%20hero.mov?Expires=1&Signature=x", "Group": "Product",
      "Type": "Video", "In": 0.0, "Out": 2.5, "Speed": 1.25, "TimelineIn": 2.2, "TimelineOut": 4.2, "Transition": "fade"},
     "2.2–4.2 s Product/product hero.mov 0.0→2.5 s ×1.25 faster fade into the next shot"),
    ({"Media": "0123456789abcdef0123456789abcdef", "Group": "Product", "Type": "Image", "In": 0, "Out": 3.0,
      "Speed": 1.0, "TimelineIn": 3.7, "TimelineOut": 6.7, "Transition": None},
     "3.7–6.7 s Product/0123456789abcdef0123456789abcdef held 3.0 s"),
    ({"Media": HOSTILE, "Group": None, "Type": "Video", "In": 0.5, "Out": 1.3, "Speed": 0.8,
      "TimelineIn": 6.7, "TimelineOut": 7.7, "Transition": None},
     f"6.7–7.7 s {HOSTILE} 0.5→1.3 s ×0.80 slower"),
]


def shot_lines(page: str) -> list[list[str]]:
    """Per card, the text of each shot line (tags dropped, whitespace collapsed)."""
    cards = page.split("<article")[1:]
    return [[" ".join(unescape(re.sub(r"<[^>]+>", " ", li)).split()) for li in re.findall(r'<li class="shot">(.*?)</li>', c)]
            for c in cards]


def ledger_with_shots(sheet: Path, videos: list[dict]) -> None:
    """A finished local job of one row whose videos used ``videos`` (their ``used``), as Get answers it."""
    job = {"JobId": "j1", "Status": "Finished", "ExtendOutput": json.dumps({"Used": {f"s{i}": u for i, u in enumerate(videos)}}),
           "SubJobList": [{"JobId": f"s{i}", "Status": "Success", "MediaURL": f"videos/r0_{i}.mp4", "Duration": 7.7}
                          for i in range(len(videos))]}
    details = video_details(job, lambda url: url)
    ledger = Ledger.for_sheet(sheet)
    ledger.begin_submit("local:x", "r0", [2], "h", 0, "t")
    ledger.submitted("local:x", "r0", "j1")
    ledger.update("local:x", "r0", status="Finished", videos=[d["Video"] for d in details], details=details)
    ledger.close()


def test_each_card_lists_its_shots_in_plain_words(tmp_path):
    sheet = tmp_path / "spring.csv"
    sheet.write_text("id\n", encoding="utf-8")
    (tmp_path / "videos").mkdir()
    for i in range(2):
        make_video(tmp_path / f"videos/r0_{i}.mp4", 1, "180x320", color=["teal", "purple"][i])
        make_image(tmp_path / f"videos/r0_{i}.jpg", "180x320", ["teal", "purple"][i])
    junk = {"Media": "", "Type": "Video"}  # a shot without media, and fields nobody documented, are dropped
    ledger_with_shots(sheet, [
        {"Title": "Spring sale", "Voice": "zhitian", "Shots": [dict(s, Secret="/srv/x") for s, _ in SHOTS] + [junk]},
        {"Title": "Spring sale", "Shots": [SHOTS[0][0]]},
    ])
    page = render_page(gather(sheet))
    assert shot_lines(page) == [[line for _, line in SHOTS], [SHOTS[0][1]]]
    assert "Edit list · 4 shots" in page and "Edit list · 1 shot<" in page
    assert "/srv/x" not in page and "<img" not in page.split("<main>")[1]
    report = tmp_path / "spring.report.html"
    report.write_text(page, encoding="utf-8")

    browser = Browser(width=1280, height=900)
    try:
        browser.open(report.as_uri())
        seen = browser.evaluate("Array.from(document.querySelectorAll('.card')).map(c => Array.from("
                                "c.querySelectorAll('li.shot')).map(li => li.textContent.replace(/\\s+/g, ' ').trim()))")
        assert seen == [[line for _, line in SHOTS], [SHOTS[0][1]]]
        assert browser.evaluate("typeof window.pwned") == "undefined"
        # a fast or slow shot is marked; a normal one is not
        marked = browser.evaluate("Array.from(document.querySelectorAll('.speed.fast, .speed.slow')).map(s => s.textContent)")
        assert marked == ["×1.25 faster", "×0.80 slower"]
        # each line fits its card: nothing runs past the card's edge
        assert browser.evaluate("Array.from(document.querySelectorAll('li.shot')).every(li => "
                                "li.getBoundingClientRect().right <= li.closest('.card').getBoundingClientRect().right + 0.5)")
        shot = browser.screenshot(tmp_path / "report-edit-list.png")
        assert shot.stat().st_size > 10_000
        if SCREENSHOTS.is_dir():
            shutil.copy(shot, SCREENSHOTS / "report-edit-list.png")
        assert browser.as_phone() <= 390
    finally:
        browser.close()


@pytest.fixture
def engines(tmp_path):
    """In-process engines serving the sheet's folder with the run tests' key; closed after the test."""
    started = []

    def start(name: str, media_root: Path, shots: bool) -> str:
        engine = Engine(EngineConfig(data=tmp_path / name, media_root=media_root, keys={KEY_ID: KEY_SECRET}, workers=1, threads=1))
        if not shots:
            forget_shots(engine)
        started.append(engine)
        return engine.start()

    yield start
    for engine in started:
        engine.close()


def _result_cells(sheet: Path) -> list[dict[str, str]]:
    """The sheet after write-back, minus what names the job (its id, its links, the time)."""
    with sheet.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return [{k: v for k, v in row.items() if k not in ("job_id", "videos", "media_ids", "updated_at")} for row in rows]


def test_a_real_run_shows_the_engines_shots_and_writes_the_sheet_as_before(campaign, engines, tmp_path):
    sheet = campaign(rows=1)
    plain = tmp_path / "plain"  # the same sheet and media, run by an engine that records no shots
    plain.mkdir()
    shutil.copytree(tmp_path / "media", plain / "media")
    shutil.copy(sheet, plain / sheet.name)
    header = sheet.read_text(encoding="utf-8").splitlines()[0]

    with_shots = engines("with-shots", tmp_path, shots=True)
    result = cli("run", sheet, "--endpoint", with_shots, "--json", env=CLOUD_ENV)
    assert result.returncode == 0, result.stderr
    without = engines("without", plain, shots=False)
    result = cli("run", plain / sheet.name, "--endpoint", without, "--json", env=CLOUD_ENV)
    assert result.returncode == 0, result.stderr

    # the report: every shot the engine recorded is a line on the card
    ledger = Ledger.for_sheet(sheet)
    details = ledger.all()[0].details
    ledger.close()
    shots = details[0]["Shots"]
    assert [s["Group"] for s in shots][:2] == ["Opening", "Product"]
    lines = shot_lines((tmp_path / "campaign.report.html").read_text(encoding="utf-8"))
    assert len(lines) == 1 and len(lines[0]) == len(shots)
    for line, s in zip(lines[0], shots):
        assert line.startswith(f"{s['TimelineIn']:.1f}–{s['TimelineOut']:.1f} s {s['Group']}/{s['Media'].rsplit('/', 1)[-1]} ")
        assert (f"{s['In']:.1f}→{s['Out']:.1f} s" if s["Type"] == "Video" else "held ") in line
    assert shot_lines((plain / "campaign.report.html").read_text(encoding="utf-8")) == [[]]

    # the sheet: the same result columns and cells, shots or not — they are not a result column
    written = sheet.read_text(encoding="utf-8").splitlines()[0]
    assert written == plain.joinpath(sheet.name).read_text(encoding="utf-8").splitlines()[0]
    assert written == header + ",job_id,status,videos,media_ids,durations,error,updated_at"
    assert _result_cells(sheet) == _result_cells(plain / sheet.name)
    assert "→" not in sheet.read_text(encoding="utf-8") and "TimelineIn" not in sheet.read_text(encoding="utf-8")
