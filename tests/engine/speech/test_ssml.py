"""SSML (ssml.py): the parser, Piper speaking the IMS subset with real silences, and captions that
never show a tag (Piper, espeak-ng, and ``speak_ssml`` with any plain-text synthesizer)."""

from __future__ import annotations

import wave

import numpy as np
import pytest

from sheet2video.engine.speech import ssml
from sheet2video.engine.speech.cache import SpeechCache
from sheet2video.engine.speech.ssml import Pause, SsmlError, Words, caption_text, parse
from sheet2video.engine.speech.synthesis import DefaultSynthesizer, EspeakSynthesizer
from sheet2video.engine.speech.voices import speech_issues
from sheet2video.errors import RenderError

WWW = '<speak>Hello<break time="800ms"/>world, <sub alias="World Wide Web">WWW</sub></speak>'


def samples(speech) -> tuple[np.ndarray, int]:
    with wave.open(speech.path, "rb") as w:
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float64), w.getframerate()


def longest_silence(x: np.ndarray, rate: int, start: float, end: float) -> float:
    """The longest run (s) of 10 ms windows in [start, end] with RMS under 1 % of the loudest window."""
    hop = rate // 100
    rms = np.sqrt((x[: len(x) // hop * hop].reshape(-1, hop) ** 2).mean(axis=1))
    quiet = rms[int(start * 100) : int(end * 100)] < 0.01 * rms.max()
    best = run = 0
    for q in quiet:
        run = run + 1 if q else 0
        best = max(best, run)
    return best / 100


def no_tags(speech) -> None:
    for part in (*speech.segments, *speech.words):
        assert "<" not in part.text and ">" not in part.text and "speak" not in part.text, part


@pytest.fixture(scope="module")
def default(tmp_path_factory):
    return DefaultSynthesizer(tmp_path_factory.mktemp("speech"))


@pytest.mark.parametrize("tag, seconds", [('<break time="800ms"/>', 0.8), ('<break time="1.5s"/>', 1.5), ("<break/>", 0.5),
                                          ('<break strength="weak"/>', 0.25), ('<break strength="x-strong"/>', 1.0),
                                          ('<break strength="none"/>', 0.0)])  # fmt: skip
def test_break_lengths(tag, seconds):
    assert parse(f"One {tag} two").parts[1] == Pause(seconds)


def test_sub_says_the_alias_and_shows_the_word():
    doc = parse('<speak xmlns="http://www.w3.org/2001/10/synthesis">Go to <sub alias="World Wide Web">WWW</sub> now.</speak>')
    assert Words("World Wide Web", "WWW", False) in doc.parts
    assert caption_text(doc) == "Go to WWW now." and not doc.unsupported


@pytest.mark.parametrize("kind, written, spoken", [
    ("characters", "WWW", "W W W"), ("digits", "2024", "2 0 2 4"), ("cardinal", "1,234", "1234"),
    ("date", "2024-05-01", "May 1, 2024"), ("telephone", "555-1234", "5 5 5, 1 2 3 4"), ("unknown", "abc", "abc"),
])  # fmt: skip
def test_say_as(kind, written, spoken):
    (part,) = parse(f'<say-as interpret-as="{kind}">{written}</say-as>').parts
    assert (part.spoken, part.written) == (spoken, written)


def test_sentences_paragraphs_and_other_tags():
    doc = parse("<p><s>One</s><s>Two <w>three</w></s></p> &amp; Tom & Jerry <prosody rate='fast'>go</prosody>")
    assert caption_text(doc) == "One Two three & Tom & Jerry go"
    assert doc.parts.count(Pause(0.0)) == 6 and doc.unsupported == {"prosody"}


@pytest.mark.parametrize("text, message", [
    ("<speak>Hello <break time='500ms'></speak>", "malformed SSML (mismatched tag"),
    ("Hello <s>world", "malformed SSML (mismatched tag at line 1"),
    ('<!DOCTYPE speak [<!ENTITY a "boom">]><speak>&a;</speak>', "<!DOCTYPE>, <!ENTITY>"),
    ("<?xml-stylesheet href='x'?><speak>Hi</speak>", "<!DOCTYPE>, <!ENTITY>"),
    ('Hi <break time="fast"/>', "expected a time such as 500ms"),
    ('Hi <break time="5000s"/>', "longer than 10 s"),
    ('Hi <break strength="huge"/>', "expected one of none"),
    ("<sub>WWW</sub>", "<sub> needs an alias"),
    ("<speak>" + "a" * ssml.MAX_CHARS + "</speak>", "characters long"),
])  # fmt: skip
def test_bad_ssml_is_one_clear_line(text, message):
    with pytest.raises(SsmlError) as err:
        parse(text)
    assert message in str(err.value) and "\n" not in str(err.value)
    [(path, said, level)] = speech_issues({"InputConfig": {"SpeechTextArray": [text]}})  # plan time: an error
    assert (path, said, level) == ("InputConfig.SpeechTextArray[0]", str(err.value), "error")


def test_an_undeclared_entity_is_never_expanded():
    assert caption_text(parse("<speak>AT&T &lol; <break/> ok</speak>")) == "AT&T &lol; ok"


def test_piper_speaks_the_subset_with_silence_and_the_alias(default):
    assert default.route(WWW, None) == ("piper", "joe")
    speech = default.synthesize(WWW)
    assert " ".join(s.text for s in speech.segments) == "Hello world, WWW"
    assert [w.text for w in speech.words] == ["Hello", "world", "WWW"]
    no_tags(speech)
    x, rate = samples(speech)
    hello, world, www = speech.words
    gap = longest_silence(x, rate, hello.end, world.start)
    assert 0.8 <= gap < 1.3, gap  # the break, plus Piper's own short pauses around it
    # the alias is what was said: the audio after the break is Piper saying "world, World Wide Web"
    alias, _ = samples(default.synthesize("world, World Wide Web"))
    written, _ = samples(default.synthesize("world, WWW"))
    assert np.array_equal(x[-len(alias) :], alias) and len(written) != len(alias)
    assert www.end - www.start > 0.5  # three spoken words, one caption word


def test_without_the_break_there_is_no_such_silence(default):
    speech = default.synthesize("<speak>Hello world, <sub alias='World Wide Web'>WWW</sub></speak>")
    x, rate = samples(speech)
    assert longest_silence(x, rate, 0.0, speech.duration) < 0.5
    assert " ".join(s.text for s in speech.segments) == "Hello world, WWW"


def test_tags_outside_the_subset_stay_with_espeak_and_never_reach_a_caption(default):
    text = "<speak>Hello <prosody rate='slow'>there</prosody>, <sub alias='World Wide Web'>WWW</sub> is here.</speak>"
    assert default.route(text, None)[0] == "espeak-ng"
    speech = default.synthesize(text)
    no_tags(speech)
    assert "Hello there," in [s.text for s in speech.segments]


def test_espeak_ssml_in_another_language_has_no_tag_in_captions(default):
    speech = default.synthesize('<speak><s>Hola mundo</s><s>dos <say-as interpret-as="characters">ABC</say-as> tres</s>'
                                '<break time="700ms"/>y <sub alias="uve doble">W</sub> más.</speak>', "es")
    no_tags(speech)
    assert [w.text for w in speech.words][:3] == ["Hola", "mundo", "dos"]
    x, rate = samples(speech)
    assert longest_silence(x, rate, 0.0, speech.duration) >= 0.65


def test_malformed_ssml_fails_the_line(default):
    with pytest.raises(RenderError) as err:
        default.synthesize("Hello <s>world")
    assert err.value.code == "InvalidParameter.SpeechText" and "malformed SSML" in str(err.value)


def test_speak_ssml_works_with_any_plain_synthesizer(tmp_path):
    """What Kokoro (or any voice reading plain text) uses: here espeak-ng reading plain pieces."""
    tts = EspeakSynthesizer(tmp_path / "plain")
    said = []

    def plain(text):
        said.append(text)
        return tts.synthesize_as(text, "en-us", None)

    doc = parse('Call <say-as interpret-as="telephone">555-1234</say-as><break time="600ms"/>today.')
    cache = SpeechCache(tmp_path / "ssml")
    speech = ssml.speak_ssml(doc, plain, cache, ("espeak-ng/ssml", "en-us", None, "x"))
    assert said == ["Call 5 5 5, 1 2 3 4", "today."]
    assert [w.text for w in speech.words] == ["Call", "555-1234", "today"]
    assert ssml.speak_ssml(doc, plain, cache, ("espeak-ng/ssml", "en-us", None, "x")) == speech and len(said) == 2  # cached


def test_kokoro_speaks_japanese_ssml_with_the_break_and_no_tag_in_a_caption(default):
    line = '<speak>新しい商品です。<break time="1s"/><sub alias="しょうひん">商品</sub>を紹介します。</speak>'
    assert default.route(line, None)[0] == "kokoro"  # the tags' letters do not make the line English
    speech = default.synthesize(line)
    no_tags(speech)
    assert "".join(s.text for s in speech.segments).replace(" ", "") == "新しい商品です。商品を紹介します。"
    x, rate = samples(speech)
    first = speech.segments[0]
    assert longest_silence(x, rate, first.end - 0.05, speech.segments[1].start + 0.05) >= 0.9  # the 1 s break
