"""The report's safe-zone overlay: the engine's zone map drawn over each card, in a real browser."""

import json
import os
import re
import shutil
import sqlite3
from pathlib import Path

import pytest

from sheet2video.engine.compose.layout import safe_area
from sheet2video.report import gather
from sheet2video.run.ledger import ledger_path
from tests.browser import Browser
from tests.run.conftest import cli

NOTES = Path(os.environ.get("SHEET2VIDEO_SCREENSHOTS", "/nonexistent"))  # a folder to keep the screenshot in
SIZES = {"r0": (180, 320), "r1": (320, 180), "r2": (240, 240)}  # 9:16, 16:9, 1:1


def expected(width, height):
    safe = safe_area(width, height)
    return {"top": 100 * safe.top / height, "bottom": 100 * safe.bottom / height,
            "left": 100 * safe.left / width, "right": 100 * safe.right / width}


@pytest.fixture
def reported(campaign, tmp_path):
    sheet = campaign(rows=3)
    text = sheet.read_text()
    for key, (w, h) in SIZES.items():
        text = re.sub(rf'^("{key}",.*?,"1"),"180","320"', rf'\1,"{w}","{h}"', text, flags=re.M | re.S)
    sheet.write_text(text)
    result = cli("run", sheet, "--no-probe", "--json")
    assert result.returncode == 0, result.stderr
    return sheet, tmp_path / "campaign.report.html"


def _zones_in_html(html):
    found = {}
    for card in re.findall(r'<article .*?</article>', html, flags=re.S):
        job = re.search(r'data-job="([^"]+)"', card).group(1)
        zones = re.search(r'<div class="zones" aria-hidden="true" data-top="([\d.]+)" data-bottom="([\d.]+)" '
                          r'data-left="([\d.]+)" data-right="([\d.]+)">', card)
        shape = re.search(r'<div class="media" style="aspect-ratio:(\d+)/(\d+)">', card)
        found[job] = (tuple(map(int, shape.groups())), dict(zip(("top", "bottom", "left", "right"), map(float, zones.groups()))))
    return found


def test_each_card_carries_its_videos_zone_percentages(reported):
    sheet, report = reported
    found = _zones_in_html(report.read_text())
    assert set(found) == set(SIZES)
    for job, (shape, zones) in found.items():
        assert shape == SIZES[job]
        want = expected(*SIZES[job])
        assert all(abs(zones[k] - want[k]) < 0.001 for k in want), (job, zones, want)
    assert found["r0"][1] != found["r1"][1] != found["r2"][1]  # per card, from its own size

    # a ledger written before sizes were recorded: the poster's pixels give the shape
    db = sqlite3.connect(ledger_path(sheet))
    for key, details in db.execute("SELECT job_key, details FROM jobs").fetchall():
        old = [{k: v for k, v in d.items() if k not in ("Width", "Height")} for d in json.loads(details)]
        db.execute("UPDATE jobs SET details = ? WHERE job_key = ?", (json.dumps(old), key))
    db.commit()
    db.close()
    assert {c.job: c.size for c in gather(sheet).cards} == SIZES


def _bands(browser):
    """Per card: the video's box and each band's box, as the browser lays them out."""
    return browser.evaluate("""Array.from(document.querySelectorAll('.card')).map(c => {
      const box = e => { const r = e.getBoundingClientRect(); return {x: r.x, y: r.y, w: r.width, h: r.height,
                         shown: getComputedStyle(e).display !== 'none' && r.width * r.height > 0}; };
      const v = c.querySelector('video');
      const bands = {};
      c.querySelectorAll('.zone').forEach(z => { bands[z.className.split('zone-')[1]] = box(z); });
      return {job: c.dataset.job, video: box(v), natural: [v.videoWidth, v.videoHeight], bands: bands,
              zones: Object.assign({}, c.querySelector('.zones').dataset)};
    })""")


def _press(browser, selector, key="Enter"):
    """Focus the control and press a key, as a keyboard user would (DevTools input events)."""
    browser.evaluate(f"document.querySelector({json.dumps(selector)}).focus()")
    code = {"Enter": 13, " ": 32}[key]
    browser.send("Input.dispatchKeyEvent", type="keyDown", key=key, code="Enter" if key == "Enter" else "Space",
                 windowsVirtualKeyCode=code, text="\r" if key == "Enter" else " ")
    browser.send("Input.dispatchKeyEvent", type="keyUp", key=key, code="Enter" if key == "Enter" else "Space",
                 windowsVirtualKeyCode=code)


def _click(browser, selector):
    box = browser.evaluate(f"(() => {{ const r = document.querySelector({json.dumps(selector)}).getBoundingClientRect();"
                           " return [r.x + r.width / 2, r.y + r.height / 2]; })()")
    for kind in ("mousePressed", "mouseReleased"):
        browser.send("Input.dispatchMouseEvent", type=kind, x=box[0], y=box[1], button="left", clickCount=1)


def _reload(browser):
    browser.evaluate("window.beforeReload = 1")
    browser.send("Page.reload")
    browser.wait_for("window.beforeReload === undefined && document.readyState === 'complete'", what="the reload")


def _check_positions(cards):
    for card in cards:
        v, b, z = card["video"], card["bands"], {k: float(x) for k, x in card["zones"].items()}
        w, h = card["natural"]
        assert abs(v["w"] / v["h"] - w / h) < 0.01, card  # the box has the video's shape: no letterbox under the bands
        assert all(band["shown"] for side, band in b.items() if z[side] > 0), card
        assert set(b) == {side for side in z if z[side] > 0}, card  # a side nothing covers draws no band
        top, bottom = b["top"], b["bottom"]
        near = lambda a, want: abs(a - want) <= 1  # noqa: E731
        assert near(top["y"], v["y"]) and near(top["h"], v["h"] * z["top"] / 100) and near(top["w"], v["w"]), card
        assert near(bottom["y"] + bottom["h"], v["y"] + v["h"]) and near(bottom["h"], v["h"] * z["bottom"] / 100), card
        if "left" in b:
            assert near(b["left"]["x"], v["x"]) and near(b["left"]["w"], v["w"] * z["left"] / 100), card
        if "right" in b:
            right = b["right"]
            assert near(right["x"] + right["w"], v["x"] + v["w"]) and near(right["w"], v["w"] * z["right"] / 100), card
            assert near(right["y"], v["y"] + top["h"]) and near(right["y"] + right["h"], v["y"] + v["h"] - bottom["h"]), card


def test_the_toggle_shows_the_bands_where_the_zone_map_says_and_is_remembered(reported, tmp_path):
    _, report = reported
    browser = Browser(width=1280, height=900)
    try:
        browser.open(report.as_uri())
        browser.wait_for("Array.from(document.querySelectorAll('video')).every(v => v.readyState >= 1)",
                         what="the videos' metadata")
        toggle = ".zones-toggle"
        assert browser.evaluate(f"document.querySelector('{toggle}').textContent") == "Show what the apps cover"
        assert browser.evaluate(f"document.querySelector('{toggle}').getAttribute('aria-pressed')") == "false"
        assert not any(band["shown"] for card in _bands(browser) for band in card["bands"].values())  # off by default

        _click(browser, toggle)
        assert browser.evaluate(f"document.querySelector('{toggle}').getAttribute('aria-pressed')") == "true"
        cards = _bands(browser)
        assert [c["job"] for c in cards] == list(SIZES)
        _check_positions(cards)
        # the bands never take a click meant for the video's controls
        assert browser.evaluate("Array.from(document.querySelectorAll('.zones')).every(z => getComputedStyle(z).pointerEvents === 'none')")

        shot = browser.screenshot(tmp_path / "report-safe-zones.png")
        assert shot.stat().st_size > 10_000
        if NOTES.is_dir():
            shutil.copy(shot, NOTES / "report-safe-zones.png")

        _reload(browser)  # remembered
        assert browser.evaluate(f"document.querySelector('{toggle}').getAttribute('aria-pressed')") == "true"
        _check_positions(_bands(browser))

        _press(browser, toggle, "Enter")  # the keyboard turns it off …
        assert not any(band["shown"] for card in _bands(browser) for band in card["bands"].values())
        _reload(browser)  # … and off is remembered too
        assert browser.evaluate(f"document.querySelector('{toggle}').getAttribute('aria-pressed')") == "false"
        assert not any(band["shown"] for card in _bands(browser) for band in card["bands"].values())
        _press(browser, toggle, " ")
        assert browser.evaluate("document.body.classList.contains('show-zones')")
        assert browser.evaluate("document.scripts.length") == 1  # still one self-contained page
    finally:
        browser.close()
