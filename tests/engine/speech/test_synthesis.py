"""Speech: espeak-ng and Piper WAVs, voice choice, rate, clause/word timings, cache, errors."""

from __future__ import annotations

import re
import threading
import wave

import numpy as np
import pytest

from sheet2video.engine.speech.synthesis import (
    DefaultSynthesizer, EspeakSynthesizer, Speech, SpeechSynthesizer, clause_spans, ims_rate_to_wpm, speakable,
)  # fmt: skip
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
    assert tts.resolve_voice(MANDARIN, None) == "cmn+f3"
    assert tts.resolve_voice(ENGLISH, None) == "en-us+m3"  # Piper joe's espeak-ng stand-in
    assert tts.resolve_voice(MANDARIN, "zhitian_emo") == "cmn+f3"  # cloud voice: language and gender
    assert tts.resolve_voice(MANDARIN, "xiaogang") == "cmn+m3"
    assert tts.resolve_voice(ENGLISH, "xiaoyun") == "en-us+f3"  # bilingual cloud voice reading English
    assert tts.resolve_voice(ENGLISH, "en-us") == "en-us"  # espeak voice: as given
    assert tts.resolve_voice(MANDARIN, "en") == "en"
    assert tts.resolve_voice(ENGLISH, None, "zh-CN") == "cmn+f3"  # SpeechLanguage overrides detection


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
    assert other.synthesize(ENGLISH, None, None) == first and other.synth_count == 0
    assert (tmp_path / "tts-cache" / first.path.rsplit("/", 1)[1]).stat().st_mtime_ns == mtime
    name = first.path.rsplit("/", 1)[1]
    assert sorted(p.name for p in (tmp_path / "tts-cache").iterdir()) == [name, name + ".json"]
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


# ------------------------------------------------------------------ timings, speakable, Piper


def located(text, segments):
    """Each segment's (start, end) character span in ``text``, found in order; fails if not a substring."""
    spans, cursor = [], 0
    for seg in segments:
        at = text.find(seg.text, cursor)
        assert at >= 0, f"{seg.text!r} is not a substring of {text!r} after position {cursor}"
        spans.append((at, at + len(seg.text)))
        cursor = at + len(seg.text)
    return spans


def check_timings(speech, text, clauses):
    segs = speech.segments
    assert [s.text for s in segs] == clauses
    for seg in segs + speech.words:
        assert 0 <= seg.start < seg.end <= speech.duration + 1e-6, seg
    for a, b in zip(segs, segs[1:]):
        assert a.end <= b.start, (a, b)  # monotonic, no overlap
    for a, b in zip(speech.words, speech.words[1:]):
        assert a.start <= b.start and a.end <= b.start + 1e-6, (a, b)
    spans = located(text, segs)
    located(text, speech.words)
    for m in re.finditer(r"\w+", text):  # every word of the script lies inside some clause
        assert any(s <= m.start() and m.end() <= e for s, e in spans), m.group()


def rms(x):
    return float(np.sqrt((x.astype(np.float64) ** 2).mean())) if len(x) else 0.0


def check_boundaries_in_silence(speech):
    with wave.open(speech.path) as w:
        rate, x = w.getframerate(), np.frombuffer(w.readframes(w.getnframes()), "<i2")
    whole = rms(x)
    for a, b in zip(speech.segments, speech.segments[1:]):
        # the pause, minus 10 ms edges; espeak-ng pauses about 60 ms at a CJK comma (a millisecond
        # more or less with what it spoke before in the process), so at least 20 ms must remain
        gap = x[int((a.end + 0.01) * rate) : int((b.start - 0.01) * rate)]
        assert len(gap) >= 0.02 * rate - 1, (a, b)
        assert rms(gap) < 0.1 * whole, (a, b, rms(gap), whole)
        quietest = min(rms(gap[i : i + rate // 100]) for i in range(0, len(gap) - rate // 100 + 1, rate // 100))
        assert quietest < 0.01 * whole, (a, b, quietest)  # true silence between the clauses
        before = x[int((a.end - 0.1) * rate) : int(a.end * rate)]
        loudest = max(rms(before[i : i + rate // 100]) for i in range(0, len(before), rate // 100))
        assert loudest > 0.1 * whole, (a, loudest, whole)  # speech right before the end, not a long silence


SENTENCE = "Welcome to the grand opening, of our new store! Fresh fruit every morning; come early."
SENTENCE_CLAUSES = ["Welcome to the grand opening,", "of our new store!", "Fresh fruit every morning;", "come early."]
MANDARIN_LONG = "盒马鲜生开业啦，欢迎光临。今天全场五折！"


def test_espeak_english_timings(tts):
    speech = tts.synthesize(SENTENCE, "en-us", None)
    check_timings(speech, SENTENCE, SENTENCE_CLAUSES)
    assert [w.text for w in speech.words] == re.findall(r"\w+", SENTENCE)
    check_boundaries_in_silence(speech)


def test_espeak_mandarin_timings(tts):
    speech = tts.synthesize(MANDARIN_LONG, None, None)
    check_timings(speech, MANDARIN_LONG, ["盒马鲜生开业啦，", "欢迎光临。", "今天全场五折！"])
    assert "".join(w.text for w in speech.words) == re.sub(r"\W", "", MANDARIN_LONG)  # every character, once
    check_boundaries_in_silence(speech)


def test_arabic_text_gets_an_arabic_voice(tts):
    text = "مرحبا بكم في متجرنا الجديد"
    assert tts.resolve_voice(text, None) == "ar+f3"
    assert tts.resolve_voice(text, "xiaoyun") == "ar+f3"  # a Chinese cloud voice cannot read Arabic
    speech = tts.synthesize(text, None, None)
    english = tts.synthesize(text, "en", None)  # spelled out letter by letter: far longer
    assert speech.duration < 0.6 * english.duration
    assert [w.text for w in speech.words] == text.split()


def test_cache_returns_identical_timings(tts, tmp_path):
    first = tts.synthesize(SENTENCE, "en-us", None)
    again = EspeakSynthesizer(tmp_path / "tts-cache").synthesize(SENTENCE, "en-us", None)
    assert again == first and again.segments and again.words
    import os

    os.unlink(first.path + ".json")  # a WAV without its timings is not a cache hit
    redone = tts.synthesize(SENTENCE, "en-us", None)
    assert tts.synth_count == 2 and [s.text for s in redone.segments] == SENTENCE_CLAUSES


def test_clause_spans_keep_numbers_and_drop_empty_clauses():
    text = "Only $5.00 at 10:30, today!!! 🎉 ... 好的，谢谢。"
    assert [text[a:b] for a, b in clause_spans(text)] == ["Only $5.00 at 10:30,", "today!!!", "好的，", "谢谢。"]


@pytest.mark.parametrize("text,ok", [
    ("Hello", True), ("...!!!", False), ("🎉🎉", False), ("  ", False), ("5", True), ("你好", True),
    ("مرحبا", True), ("สวัสดี", True), ("<speak></speak>", False), ("!? 😀 —", False),
])  # fmt: skip
def test_speakable(text, ok):
    assert speakable(text) is ok


@pytest.mark.parametrize("text", ["...!!!", "🎉🎉🎉"])
def test_unspeakable_text_is_an_error(tts, text):
    with pytest.raises(RenderError) as err:
        tts.synthesize(text, None, None)
    assert err.value.code == "InvalidParameter.SpeechText" and "nothing to speak" in str(err.value)
    assert tts.synth_count == 0


@pytest.fixture(scope="module")
def default(tmp_path_factory):
    return DefaultSynthesizer(tmp_path_factory.mktemp("speech"))


def test_english_goes_to_piper_the_rest_to_espeak(default):
    assert default.route(ENGLISH, None) == ("piper", "joe")
    assert default.route(ENGLISH, "andy") == ("piper", "joe")  # English male cloud voice
    assert default.route(ENGLISH, "emily") == ("espeak-ng", "en-us+f3")  # English female: espeak-ng
    assert default.route(MANDARIN, None) == ("espeak-ng", "cmn+f3")
    assert default.route(ENGLISH, "en-us") == ("espeak-ng", "en-us")
    assert default.route(ENGLISH, None, "ja") == ("kokoro", "jf_alpha")  # SpeechLanguage ja: Japanese voice


def test_piper_speech_length_and_timings(default):
    speech = default.synthesize(SENTENCE, None, None)
    channels, width, rate, pcm = read_wav(speech.path)
    assert (channels, width, rate) == (1, 2, 22050)
    words = len(SENTENCE.split())
    # natural English runs ~2.5 words/s (150 wpm); allow 1.5..4 words/s
    assert words / 4 < speech.duration < words / 1.5
    assert peak(pcm) > 10000
    check_timings(speech, SENTENCE, SENTENCE_CLAUSES)
    assert [w.text for w in speech.words] == re.findall(r"\w+", SENTENCE)
    check_boundaries_in_silence(speech)


def test_piper_rate_and_cache(default, tmp_path):
    slow = default.synthesize("Fresh fruit every morning.", None, -300)
    fast = default.synthesize("Fresh fruit every morning.", None, 300)
    assert fast.duration < 0.7 * slow.duration
    again = DefaultSynthesizer(default.espeak.cache_dir).synthesize("Fresh fruit every morning.", None, 300)
    assert again == fast


def test_piper_falls_back_to_clause_by_clause(default):
    # "Dr." is a clause to our splitter but not to Piper's phonemizer: the counts disagree
    text = "Dr. Smith says hello... see you at 10:30."
    speech = default.synthesize(text, None, None)
    check_timings(speech, text, ["Dr.", "Smith says hello...", "see you at 10:30."])


def test_piper_checks_the_model_checksum(monkeypatch):
    from sheet2video.engine.speech import piper as piper_tts

    monkeypatch.setattr(piper_tts, "_VOICE", None)
    monkeypatch.setattr(piper_tts, "MODEL_SHA256", "0" * 64)
    with pytest.raises(RenderError) as err:
        piper_tts._voice()
    assert "sha256" in str(err.value) and "expected 000" in str(err.value)


def test_ssml_outside_the_neural_subset_goes_to_espeak(default):
    # the IMS subset (break, s, sub, say-as …) is Piper's too: tests/engine/speech/test_ssml.py
    assert default.route('Hello <prosody rate="slow">world</prosody>.', None) == ("espeak-ng", "en-us+m3")


def test_piper_words_spoken_as_several_keep_their_written_form(default):
    text = "Prices start at $5 today; doors open at 10:30, with 25% off everything!"
    speech = default.synthesize(text, None, None)
    check_timings(speech, text, ["Prices start at $5 today;", "doors open at 10:30,", "with 25% off everything!"])
    assert [w.text for w in speech.words] == ["Prices", "start", "at", "5", "today", "doors", "open", "at", "10:30",
                                              "with", "25", "off", "everything"]  # fmt: skip
    twenty_five = speech.words[10]
    assert twenty_five.end - twenty_five.start > 0.5  # "twenty-five percent": several spoken words, one span
