"""The speaking time guessed before a run (``script.speaking_seconds``, behind the MaxDuration warning)
against what the local voices really take: Piper (English), espeak-ng (Chinese, Korean), Kokoro
(Japanese), at the normal rate and at SpeechRate 250."""

from __future__ import annotations

import pytest

from sheet2video.cloud.checks import Issue, check_params
from sheet2video.engine.speech import kokoro, piper
from sheet2video.engine.speech.rate import ims_rate_to_speed
from sheet2video.engine.speech.script import speaking_seconds
from sheet2video.engine.speech.synthesis import DefaultSynthesizer

SCRIPTS = [
    "Fresh coffee, warm bread and a seat by the window: the morning you deserve starts at Corner Bakery.",
    "Meet the new running shoe. Lighter, softer, and made from recycled materials.",
    "春天来了，我们的新品已经全面上市。本周末欢迎到店体验，更有限时优惠等你来。",
    "春の新商品が入荷しました。今週末はぜひお店でお試しください。",
    "봄 신상품이 모든 매장에 입고되었습니다. 이번 주말에 방문해 보세요.",
]


@pytest.fixture(scope="module")
def synth(tmp_path_factory):
    assert piper.available() and kokoro.available()  # the voices the guess was measured on
    return DefaultSynthesizer(tmp_path_factory.mktemp("speaking-time"))


@pytest.mark.parametrize("rate", [None, 250])
@pytest.mark.parametrize("text", SCRIPTS, ids=["en-1", "en-2", "zh", "ja", "ko"])
def test_the_guess_is_within_a_fifth_of_the_real_speech(synth, text, rate):
    real = synth.synthesize(text, None, rate).duration
    guess = speaking_seconds(text, ims_rate_to_speed(rate))
    assert abs(guess / real - 1) <= 0.2, f"guessed {guess:.2f} s, spoken in {real:.2f} s"


def _job(script: str, max_duration: float, rate: float | None = None) -> dict:
    speech = {"SpeechRate": rate} if rate is not None else {}
    return {"InputConfig": {"MediaGroupArray": [{"GroupName": "A", "MediaArray": ["a.mp4"]}], "SpeechTextArray": [script]},
            "EditingConfig": {"SpeechConfig": speech},
            "OutputConfig": {"MediaURL": "out_{index}.mp4", "MaxDuration": max_duration}}


def test_max_duration_warns_only_when_the_voice_over_is_longer():
    script = " ".join(SCRIPTS[:2])  # ~10 s with Piper
    warning = [i for i in check_params(_job(script, 6)) if i.path == "OutputConfig.MaxDuration"]
    assert warning == [Issue("OutputConfig.MaxDuration", "the voice-over takes about 11 s (longest script), longer than "
                             "MaxDuration 6 s: the video lasts as long as its voice-over", "warning")]
    assert not [i for i in check_params(_job(script, 12)) if i.path == "OutputConfig.MaxDuration"]
    # twice as fast (SpeechRate 500) it fits in 6 s
    assert not [i for i in check_params(_job(script, 6, rate=500)) if i.path == "OutputConfig.MaxDuration"]
