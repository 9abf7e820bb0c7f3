"""The music bed, measured: band-limited test material (music all above 5 kHz, a voice-over
band-passed to 200-2500 Hz) lets FFmpeg's ``ebur128`` read the music's momentary loudness in the
mix from a high-passed copy of the render, and the voice's from a low-passed one.

Measured (espeak-ng voice, white noise above 6 kHz as music): the bed is 11.5-12.5 LU under the
voice during speech, within 0.5 LU of its bed level 0.5 s after the last word; the bands leak
under 0.5 LU into each other, so the tolerances below (1 LU on the 10-14 window's edges,
2 LU back to bed) are measurement margin, not slack in the design."""

from __future__ import annotations

import dataclasses
import re
import subprocess

import pytest

from sheet2video.engine.compose.audio import DUCK_DB
from sheet2video.engine.ffmpeg import ffmpeg_exe
from sheet2video.engine.media.sources import MediaResolver
from sheet2video.engine.render import render
from sheet2video.engine.speech.espeak import EspeakSynthesizer
from sheet2video.engine.speech.loudness import measure
from sheet2video.engine.timeline.planner import JobPlanner
from tests.media import ffmpeg, make_video

SCRIPT = "Slow steeped for eighteen hours, smooth and cold."
MUSIC_BAND = "highpass=f=5000,highpass=f=5000,highpass=f=5000,highpass=f=5000"
VOICE_BAND = "lowpass=f=3000,lowpass=f=3000,lowpass=f=3000,lowpass=f=3000"
_M = re.compile(r"t:\s*([\d.]+)\s+TARGET:.*?M:\s*(-?[\d.]+|-inf)")


class BandVoice:
    """espeak-ng, band-passed so that none of the voice reaches the music's band."""

    def __init__(self, root):
        self.inner, self.root = EspeakSynthesizer(root / "tts"), root

    def synthesize(self, text, voice=None, rate=None, language=None):
        speech = self.inner.synthesize(text, voice, rate, language)
        out = self.root / "voice-band.wav"
        ffmpeg("-i", speech.path, "-af", f"highpass=f=200,highpass=f=200,{VOICE_BAND}", "-c:a", "pcm_s16le", str(out))
        return dataclasses.replace(speech, path=str(out))


def momentary(path, band: str) -> list[tuple[float, float]]:
    """(t, M): the 400 ms momentary loudness of one band of ``path``, every 100 ms."""
    argv = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-nostats", "-i", str(path), "-vn",
            "-af", f"{band},ebur128=framelog=info", "-f", "null", "-"]  # fmt: skip
    err = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=True).stderr
    return [(float(t), float(m)) for t, m in _M.findall(err) if m != "-inf"]


def at(levels, t: float) -> float:
    """The momentary loudness of the 400 ms window ending nearest ``t``."""
    return min(levels, key=lambda p: abs(p[0] - t))[1]


def mean(levels, a: float, b: float) -> float:
    """Mean of the momentary values whose whole window lies in [a, b]."""
    vals = [m for t, m in levels if a + 0.4 - 0.05 <= t <= b + 0.05]
    assert vals, (a, b)
    return sum(vals) / len(vals)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """One real render: 1 s of music alone, then the voice, then the planner's 1 s tail."""
    root = tmp_path_factory.mktemp("bed")
    make_video(root / "a.mp4", 6, "320x240", pattern="testsrc2")
    ffmpeg("-f", "lavfi", "-i", "anoisesrc=c=white:a=0.3:d=12", "-af", "highpass=f=6000,highpass=f=6000,highpass=f=6000",
           str(root / "bgm.m4a"))  # fmt: skip
    planner = JobPlanner(MediaResolver(root, root / "cache"), BandVoice(root))

    def run(volume: float, name: str):
        params = {"InputConfig": {"MediaArray": ["a.mp4"], "SpeechTextArray": [SCRIPT], "BackgroundMusicArray": ["bgm.m4a"]},
                  "EditingConfig": {"BackgroundMusicConfig": {"Volume": volume}},
                  "OutputConfig": {"MediaURL": "x_{index}.mp4", "Width": 180, "Height": 320}}
        (task,) = planner.plan(params, [str(root / name)])
        (clip,) = task.speech
        clip.start = 1.0  # speech placed after a music-only opening, ending 1 s before the video does
        task.duration = clip.start + clip.duration + 1.0
        render(task)
        return task, clip.start, clip.start + clip.duration

    return run


def test_bed_sits_twelve_lu_under_the_voice_returns_and_fades(rendered):
    task, first, last = rendered(0.3, "bed.mp4")
    music, voice = momentary(task.output, MUSIC_BAND), momentary(task.output, VOICE_BAND)
    bed = mean(music, 0.3, first - 0.25)  # after the fade-in, before the dip starts
    under = mean(music, first + 0.2, last - 0.1)
    spoken = mean(voice, first + 0.2, last - 0.1)
    print(f"bed {bed:.1f} under {under:.1f} voice {spoken:.1f} back {at(music, last + 0.5):.1f} end {at(music, task.duration):.1f}")
    assert 10 - 1 <= spoken - under <= 14 + 1, (spoken, under)  # the target is MUSIC_UNDER_SPEECH = 14
    assert DUCK_DB - 1.5 <= bed - under <= 8 + 1, (bed, under)  # the dip: at most 6-8 dB
    assert abs(at(music, last + 0.5) - bed) <= 2, (bed, music)  # back to the bed within 0.5 s
    assert at(music, task.duration) < bed - 3, (bed, music)  # the last 0.4 s: the video ends on the fade
    # -16 LUFS integrated is checked on real plans (speech from 0) in tests/engine/speech/test_loudness.py;
    # this render's music-only opening pulls its integrated level down (-17.6 measured).
    assert measure(task.output).true_peak <= -1.0


def test_bgm_volume_moves_the_bed(rendered):
    quiet, first, _ = rendered(0.3, "v03.mp4")
    loud, _, _ = rendered(0.6, "v06.mp4")
    a, b = momentary(quiet.output, MUSIC_BAND), momentary(loud.output, MUSIC_BAND)
    lift = mean(b, 0.3, first - 0.25) - mean(a, 0.3, first - 0.25)
    assert 5 <= lift <= 7, lift  # 0.6 = 6 dB louder than the default 0.3
