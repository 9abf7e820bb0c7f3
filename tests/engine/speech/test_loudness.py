"""The mix is normalised to a loudness target from levels measured once: real plans (espeak-ng
voice-over, generated music), real renders, measured with FFmpeg's ebur128 like a broadcaster would."""

from __future__ import annotations

from pathlib import Path

import pytest

from sheet2video.engine.speech.loudness import measure
from sheet2video.engine.media.sources import MediaResolver
from sheet2video.engine.timeline.planner import JobPlanner
from sheet2video.engine.timeline.timing import SPEECH_TAIL
from sheet2video.engine.render import render
from sheet2video.engine.speech.espeak import EspeakSynthesizer
from tests.engine.test_render import audio, db
from tests.media import ffmpeg, make_video

SCRIPT = "Slow steeped for eighteen hours. Smooth, cold and yours, every single morning."


@pytest.fixture(scope="module")
def planner(tmp_path_factory):
    root = tmp_path_factory.mktemp("loud")
    make_video(root / "a.mp4", 4, "320x240", pattern="testsrc2")
    make_video(root / "b.mp4", 4, "320x240", pattern="smptebars")
    # music with a level of its own (a quiet chord), not the target: the engine must correct it
    ffmpeg("-f", "lavfi", "-i", "sine=f=220:d=9", "-f", "lavfi", "-i", "sine=f=330:d=9",
           "-filter_complex", "[0][1]amix=inputs=2,volume=0.3", str(root / "bgm.m4a"))  # fmt: skip
    resolver = MediaResolver(root, root / "cache")
    return JobPlanner(resolver, EspeakSynthesizer(root / "tts")), root


def plan_one(planner, root: Path, *, speech: bool, music: bool, editing: dict | None = None):
    inputs = {"MediaGroupArray": [{"GroupName": "A", "MediaArray": ["a.mp4"]}, {"GroupName": "B", "MediaArray": ["b.mp4"]}]}
    if speech:
        inputs["SpeechTextArray"] = [SCRIPT]
    if music:
        inputs["BackgroundMusicArray"] = ["bgm.m4a"]
    params = {"InputConfig": inputs, "EditingConfig": editing or {},
              "OutputConfig": {"MediaURL": "x_{index}.mp4", "Width": 180, "Height": 320}}
    (task,) = planner.plan(params, [str(root / f"out-{speech}-{music}-{bool(editing)}.mp4")])
    return task


@pytest.mark.parametrize("speech,music", [(True, True), (True, False), (False, True)])
def test_mix_meets_the_target_with_true_peak_under_minus_one(planner, speech, music):
    p, root = planner
    task = plan_one(p, root, speech=speech, music=music)
    render(task)
    level = measure(task.output)
    assert abs(level.integrated - -16.0) <= 1.0, level
    assert level.true_peak <= -1.0, level


def test_music_sits_well_under_the_voice_and_fades_out(planner):
    p, root = planner
    task = plan_one(p, root, speech=True, music=True)
    render(task)
    samples = audio(task.output)
    rate = 44100
    spoken_end = task.speech[0].duration
    assert task.duration >= spoken_end + SPEECH_TAIL - 0.01  # a tail after the last word
    voice = db(samples[:, int(0.5 * rate): int(spoken_end * rate)])
    music_only = db(samples[:, int((spoken_end + 0.25) * rate): int((spoken_end + 0.45) * rate)])
    assert voice - 25 < music_only < voice - 6, (voice, music_only)  # audible, clearly under the voice
    assert db(samples[:, -int(0.2 * rate):]) < music_only - 10  # faded out, not cut


def test_loudness_can_be_turned_off_and_changed(planner):
    p, root = planner
    off = plan_one(p, root, speech=True, music=False, editing={"LoudnessConfig": {"Enable": False}})
    assert off.loudness is None
    quiet = plan_one(p, root, speech=True, music=False, editing={"LoudnessConfig": {"Target": -23}})
    render(quiet)
    assert abs(measure(quiet.output).integrated - -23.0) <= 1.0


def test_gain_multiplies_the_voice_and_music_levels(planner):
    p, root = planner
    base = plan_one(p, root, speech=True, music=True)
    louder = plan_one(p, root, speech=True, music=True,
                      editing={"SpeechConfig": {"Gain": 2}, "BackgroundMusicConfig": {"Volume": 0.3, "Gain": 0.5}})
    assert louder.speech[0].volume == pytest.approx(2 * base.speech[0].volume)
    assert louder.music.volume == pytest.approx(0.5 * base.music.volume)
    from sheet2video.cloud.checks import check_params

    issues = check_params({"InputConfig": {"MediaArray": ["a.mp4"]}, "OutputConfig": {"MediaURL": "x_{index}.mp4"},
                           "EditingConfig": {"SpeechConfig": {"Gain": 20}}})
    assert any(i.path == "EditingConfig.SpeechConfig.Gain" and "at most 10" in i.message for i in issues), issues
