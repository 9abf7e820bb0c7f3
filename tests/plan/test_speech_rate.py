"""The `speech_rate` column: a number -500..500 or a speed such as 1.2x becomes
EditingConfig.SpeechConfig.SpeechRate; anything else is one line naming row and column, exit 2."""

import json

import pytest

from sheet2video.engine.speech.rate import ims_rate_to_speed
from tests.media import make_image
from tests.plan.csv_rows import csv_sheet, plan


def planned(tmp_path, *cells: str):
    make_image(tmp_path / "coffee.png", "64x64", "brown")
    path = csv_sheet(tmp_path)("id,media:A,speech,speech_rate", *[[f"r{i}", "coffee.png", "Hello.", c] for i, c in enumerate(cells)])
    return plan(path)


@pytest.mark.parametrize("cell, rate", [("250", 250), ("-500", -500), ("12.5", 12.5), ("1.2x", 167), ("0.5X", -500),
                                        ("2x", 500), ("1x", None), ("0", None), ("", None)])
def test_speech_rate_becomes_speech_config_speech_rate(tmp_path, cell, rate):
    result = planned(tmp_path, cell)
    assert result.exit_code == 0, result.output
    (job,) = [json.loads(line) for line in result.stdout.splitlines()]
    speech = json.loads(job["params"]["EditingConfig"])["SpeechConfig"]
    assert speech.get("SpeechRate") == rate


def test_a_speed_maps_back_to_that_speed():
    from sheet2video.engine.speech.rate import parse_speech_rate

    for speed in (0.5, 0.8, 1.2, 1.5, 2.0):
        assert ims_rate_to_speed(parse_speech_rate(f"{speed}x")) == pytest.approx(speed, abs=0.01)


@pytest.mark.parametrize("cell", ["fast", "600", "-501", "3x", "nan"])
def test_a_bad_speech_rate_is_one_line_naming_row_and_column(tmp_path, cell):
    result = planned(tmp_path, "100", cell)
    assert result.exit_code == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert errors == [f"error: row 3, speech_rate: expected a speech rate from -500 to 500 or a speed from 0.5x to 2x, got {cell}"]
    assert result.stdout == ""


def test_a_faster_speech_rate_in_the_sheet_gives_shorter_speech(tmp_path):
    """sheet → plan → the planner's settings → the voice: 1.5x speaks in about 1/1.5 of the time."""
    from sheet2video.engine.speech.synthesis import DefaultSynthesizer
    from sheet2video.engine.timeline.settings import read_settings

    result = planned(tmp_path, "", "1.5x")
    assert result.exit_code == 0, result.output
    jobs = [json.loads(line)["params"] for line in result.stdout.splitlines()]
    rates = [read_settings(json.loads(p["EditingConfig"]), json.loads(p["OutputConfig"])).rate for p in jobs]
    assert rates == [None, 333]
    voice = DefaultSynthesizer(tmp_path / "speech")
    text = "Fresh fruit and warm bread, every single morning."
    normal, fast = (voice.synthesize(text, None, rate) for rate in rates)
    assert 0.55 < fast.duration / normal.duration < 0.8, (normal.duration, fast.duration)
