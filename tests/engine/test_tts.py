"""espeak-ng speech: English and Mandarin WAVs, voice choice, rate, cache, errors."""

from __future__ import annotations

import threading
import wave

import pytest

from sheet2video.engine.tts import EspeakSynthesizer, Speech, SpeechSynthesizer, ims_rate_to_wpm
from sheet2video.errors import RenderError

ENGLISH = "Welcome to the grand opening of our new store."
MANDARIN = "盒马鲜生开业啦，欢迎光临"


def read_wav(path):
    with wave.open(path, "rb") as w:
        return w.getnchannels(), w.getsampwidth(), w.getframerate(), w.readframes(w.getnframes())


def peak(pcm: bytes) -> int:
    import array

    return max(abs(s) for s in array.array("h", pcm))


@pytest.fixture
def tts(tmp_path):
    return EspeakSynthesizer(tmp_path / "tts-cache")


def test_is_a_speech_synthesizer(tts):
    assert isinstance(tts, SpeechSynthesizer)
    speech = tts.synthesize("Hi.", None, None)
    assert isinstance(speech, Speech)


@pytest.mark.parametrize("text,low,high", [(ENGLISH, 1.5, 6.0), (MANDARIN, 1.0, 6.0)])
def test_english_and_mandarin_give_audible_wavs_of_plausible_length(tts, text, low, high):
    speech = tts.synthesize(text, None, None)
    channels, width, rate, pcm = read_wav(speech.path)
    assert (channels, width) == (1, 2) and rate > 8000
    assert len(pcm) / 2 / rate == pytest.approx(speech.duration)
    assert low < speech.duration < high
    assert peak(pcm) > 3000  # not silence


def test_voice_choice(tts):
    assert tts.resolve_voice(MANDARIN, None) == "cmn"
    assert tts.resolve_voice(ENGLISH, None) == "en"
    assert tts.resolve_voice(MANDARIN, "zhitian_emo") == "cmn"  # IMS voice: language rule
    assert tts.resolve_voice(ENGLISH, "xiaoyun") == "en"
    assert tts.resolve_voice(ENGLISH, "en-us") == "en-us"  # espeak voice: as given
    assert tts.resolve_voice(MANDARIN, "en") == "en"


def test_mandarin_is_spoken_as_mandarin(tts):
    # The English voice spells out CJK as "Chinese letter …": much longer than real Mandarin.
    mandarin = tts.synthesize(MANDARIN, "cmn", None)
    english = tts.synthesize(MANDARIN, "en", None)
    assert mandarin.path != english.path
    assert mandarin.duration < english.duration


def test_rate_mapping_and_effect(tts):
    assert ims_rate_to_wpm(None) == ims_rate_to_wpm(0) == 175
    assert ims_rate_to_wpm(500) == 350 and ims_rate_to_wpm(-500) == 88
    assert ims_rate_to_wpm(10_000) == 350 and ims_rate_to_wpm(-10_000) == 88
    assert ims_rate_to_wpm(-250) < 175 < ims_rate_to_wpm(250)
    fast = tts.synthesize(ENGLISH, "en", 400)
    slow = tts.synthesize(ENGLISH, "en", -400)
    assert fast.duration < 0.7 * slow.duration


def test_cache_returns_the_same_file_without_synthesis(tts, tmp_path):
    first = tts.synthesize(ENGLISH, None, 0)
    mtime = (tmp_path / "tts-cache" / first.path.rsplit("/", 1)[1]).stat().st_mtime_ns
    assert tts.synth_count == 1
    again = tts.synthesize("  " + ENGLISH + "\n", "unknown-ims-voice", 0)  # same voice after resolution
    assert again == first and tts.synth_count == 1
    other = EspeakSynthesizer(tmp_path / "tts-cache")  # a new process would see the same files
    assert other.synthesize(ENGLISH, "en", None) == first and other.synth_count == 0
    assert (tmp_path / "tts-cache" / first.path.rsplit("/", 1)[1]).stat().st_mtime_ns == mtime
    assert [p.name for p in (tmp_path / "tts-cache").iterdir()] == [first.path.rsplit("/", 1)[1]]
    tts.synthesize(ENGLISH + " Again.", None, 0)
    assert tts.synth_count == 2


def test_threads_are_serialised(tts):
    texts = [f"Line number {i} of the script." for i in range(6)]
    results, errors = {}, []

    def work(text):
        try:
            results[text] = tts.synthesize(text, None, None)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(t,)) for t in texts]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len({r.path for r in results.values()}) == 6
    assert all(1.0 < r.duration < 5.0 for r in results.values())


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_empty_text_is_an_error(tts, text):
    with pytest.raises(RenderError) as err:
        tts.synthesize(text, None, None)
    assert err.value.code == "InvalidParameter.SpeechText"
