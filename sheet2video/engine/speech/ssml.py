"""SSML for voices that read plain text (Piper, Kokoro): parse the subset IMS lists, speak it piece by piece.

IMS accepts ``<break>``, ``<s>``, ``<sub>``, ``<w>``, ``<phoneme>`` and ``<say-as>`` in a script
(``<speak>`` and ``<p>`` wrap them). ``parse`` turns a script into ``Words`` (what is spoken, what
is written) and ``Pause`` (a break's silence; 0 s marks a sentence boundary). ``<sub alias>`` speaks
the alias and shows the written word; ``<say-as>`` spells characters, digits and phone numbers out;
``<w>`` and ``<phoneme>`` speak their written text (no local voice takes IPA). Other tags (prosody,
emphasis …) are kept in ``Ssml.unsupported`` so the caller can leave the line to espeak-ng.

Parsing is defensive, as for any user XML: no DTD, no entity declarations, no processing
instructions (anything starting ``<!`` or ``<?`` is refused, so no entity expansion), at most
``MAX_CHARS`` characters; a bare ``&`` is text. Any problem is one ``SsmlError`` line.

``speak_ssml`` synthesises each run of words with a plain-text synthesizer, puts silence for the
breaks, and times the captions against the written text, so no tag ever reaches a caption.
"""

from __future__ import annotations

import html
import re
import wave
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from sheet2video.engine.speech.cache import SpeechCache
from sheet2video.engine.speech.result import TEXT_CODE, Segment, Speech
from sheet2video.engine.speech.script import speakable
from sheet2video.engine.speech.timing import timings_from_samples
from sheet2video.errors import RenderError

__all__ = ["MAX_CHARS", "MAX_BREAK", "SsmlError", "Words", "Pause", "Ssml", "parse", "problem", "caption_text",
           "say_as", "strip_tags", "without_tags", "speak_ssml"]  # fmt: skip

MAX_CHARS = 5000  # IMS allows 1000 characters a script; anything far longer is not a script
MAX_BREAK = 10.0  # seconds: longer silences are a typo (5000s for 5000ms), not a pause
# SSML's strengths (W3C: relative); these match what a listener hears as comma / sentence / paragraph
_STRENGTH = {"none": 0.0, "x-weak": 0.1, "weak": 0.25, "medium": 0.5, "strong": 0.75, "x-strong": 1.0}
_TIME = re.compile(r"\s*([0-9]*\.?[0-9]+)\s*(ms|s)\s*", re.I)
_PLAIN = {"speak", "s", "p", "w", "phoneme"}  # read their text as written
_BOUNDARY = {"s", "p"}
_MONTHS = ("January February March April May June July August September October November December").split()
_TAG = re.compile(r"<[^<>]*>|<[^<>]*$|^[^<>]*>")  # whole tags, and a tag cut at either end of a snippet


class SsmlError(ValueError):
    """One line saying what is wrong with a script's SSML."""


@dataclass(frozen=True)
class Words:
    spoken: str  # what the voice says
    written: str  # what the caption shows
    exact: bool  # spoken == written character for character (word times map one to one)


@dataclass(frozen=True)
class Pause:
    seconds: float  # 0: a sentence boundary only


@dataclass(frozen=True)
class Ssml:
    parts: tuple[Words | Pause, ...]
    unsupported: frozenset[str]  # tags outside the subset (spoken as plain text here)


def parse(text: str, language: str | None = "en") -> Ssml:
    """A script with SSML tags → its parts; ``SsmlError`` when it is malformed or unsafe."""
    if len(text) > MAX_CHARS:
        raise SsmlError(f"SSML script is {len(text)} characters long; at most {MAX_CHARS} are read")
    if "<!" in text or "<?" in text:
        raise SsmlError("SSML with <!DOCTYPE>, <!ENTITY>, comments or <? ?> is refused; use plain tags only")
    source = re.sub(r"&(?!(amp|lt|gt|quot|apos|#[0-9]+|#x[0-9a-fA-F]+);)", "&amp;", text.strip())  # a bare & is text
    wrapped = not re.match(r"<speak\b", source)
    try:
        root = ET.fromstring(f"<speak>{source}</speak>" if wrapped else source)
    except ET.ParseError as err:
        line, column = err.position
        column -= len("<speak>") if wrapped and line == 1 else 0  # where it is in the script as typed
        raise SsmlError(f"malformed SSML ({str(err).split(':')[0]} at line {line}, column {max(column, 0) + 1})") from None
    parts: list[Words | Pause] = []
    unsupported: set[str] = set()
    _walk(root, parts, unsupported, (language or "en").lower().startswith("en"))
    return Ssml(tuple(parts), frozenset(unsupported))


def problem(text: str) -> str | None:
    """What is wrong with the SSML of ``text`` (one line), or None."""
    try:
        parse(text)
    except SsmlError as err:
        return str(err)
    return None


def _name(element: ET.Element) -> str:
    return element.tag.rsplit("}", 1)[-1].lower()  # drop the SSML namespace


def _walk(element: ET.Element, parts: list, unsupported: set[str], english: bool) -> None:
    name = _name(element)
    if name == "break":
        parts.append(Pause(_break_seconds(element)))
    elif name == "sub":
        alias = element.get("alias")
        if not alias or not alias.strip():
            raise SsmlError("<sub> needs an alias, e.g. <sub alias=\"World Wide Web\">WWW</sub>")
        parts.append(Words(alias, "".join(element.itertext()), False))
    elif name == "say-as":
        written = "".join(element.itertext())
        spoken = say_as(written, element.get("interpret-as", ""), english)
        parts.append(Words(spoken, written, spoken == written))
    else:
        if name not in _PLAIN:
            unsupported.add(name)
        if name in _BOUNDARY:
            parts.append(Pause(0.0))
        if element.text:
            parts.append(Words(element.text, element.text, True))
        for child in element:
            _walk(child, parts, unsupported, english)
        if name in _BOUNDARY:
            parts.append(Pause(0.0))
    if element.tail and name != "speak":
        parts.append(Words(element.tail, element.tail, True))


def _break_seconds(element: ET.Element) -> float:
    time, strength = element.get("time"), element.get("strength")
    if time is not None:
        m = _TIME.fullmatch(time)
        if not m:
            raise SsmlError(f"<break time={time!r}>: expected a time such as 500ms or 1.5s")
        seconds = float(m.group(1)) / (1000.0 if m.group(2).lower() == "ms" else 1.0)
        if seconds > MAX_BREAK:
            raise SsmlError(f"<break time={time!r}> is longer than {MAX_BREAK:g} s")
        return seconds
    if strength is not None and strength.lower() not in _STRENGTH:
        raise SsmlError(f"<break strength={strength!r}>: expected one of {', '.join(_STRENGTH)}")
    return _STRENGTH[(strength or "medium").lower()]


def say_as(written: str, interpret_as: str, english: bool = True) -> str:
    """What ``<say-as interpret-as=…>`` says for ``written``; unknown kinds are read as written."""
    kind = interpret_as.strip().lower()
    if kind in ("characters", "spell-out", "verbatim"):
        return " ".join(c for c in written if not c.isspace())
    if kind == "digits":
        return " ".join(c for c in written if c.isdigit()) or written
    if kind == "telephone":  # digit by digit, a pause where the number has a separator
        groups = [" ".join(g) for g in re.findall(r"[0-9]+", written)]
        return ", ".join(groups) or written
    if kind in ("cardinal", "number"):
        return re.sub(r"(?<=[0-9]),(?=[0-9]{3}\b)", "", written)  # 1,234 → 1234: one number, not two
    if kind == "date" and english:
        m = re.fullmatch(r"\s*([0-9]{4})[-/.]([0-9]{1,2})[-/.]([0-9]{1,2})\s*", written)
        if m and 1 <= int(m.group(2)) <= 12 and 1 <= int(m.group(3)) <= 31:
            return f"{_MONTHS[int(m.group(2)) - 1]} {int(m.group(3))}, {m.group(1)}"
    return written


def strip_tags(text: str) -> str:
    """``text`` with every tag (and a tag cut at either end) removed, spaces collapsed: for captions
    of a line spoken from SSML by espeak-ng, whose timings point into the tagged script."""
    spaced = re.sub(r"\s+", " ", html.unescape(_TAG.sub(" ", text))).strip()  # a tag may part two words
    return re.sub(r" (?=[,.!?;:，。！？；：、])", "", spaced)


def without_tags(speech: Speech) -> Speech:
    """``speech`` with tags taken out of its clause and word texts (a part left empty is dropped)."""

    def clean(parts: tuple[Segment, ...]) -> tuple[Segment, ...]:
        kept = (Segment(strip_tags(p.text), p.start, p.end) for p in parts)
        return tuple(p for p in kept if speakable(p.text))

    return Speech(speech.path, speech.duration, clean(speech.segments), clean(speech.words))


def caption_text(doc: Ssml) -> str:
    """What the captions show for ``doc``: the written words, spaces collapsed."""
    return re.sub(r"\s+", " ", "".join(p.written if isinstance(p, Words) else " " for p in doc.parts)).strip()


@dataclass
class _Piece:
    """One run of words spoken in one synthesis: its text and where each part sits in the caption."""

    spoken: str = ""
    runs: list = field(default_factory=list)  # (spoken start, spoken end, caption start, caption end, exact)


def _layout(doc: Ssml) -> tuple[str, list]:
    """(caption text, [``_Piece`` or seconds of silence, in order]); spaces collapsed alike in both."""
    caption, out, piece = "", [], None
    for part in doc.parts:
        if isinstance(part, Pause):
            piece = None
            caption += " " if caption and not caption.endswith(" ") else ""
            if part.seconds > 0:
                out.append(part.seconds)
            continue
        written, spoken = re.sub(r"\s+", " ", part.written), re.sub(r"\s+", " ", part.spoken)
        if caption.endswith(" ") or not caption:
            written = written.lstrip()
            spoken = spoken.lstrip() if part.exact else spoken
        if piece is None:
            piece = _Piece()
            out.append(piece)
        if not part.exact and piece.spoken and not piece.spoken.endswith(" "):
            piece.spoken += " "  # an alias is words of its own
        start = len(piece.spoken)
        piece.spoken += spoken if part.exact else spoken.strip() + " "
        piece.runs.append((start, len(piece.spoken), len(caption), len(caption) + len(written), part.exact))
        caption += written
    return caption.rstrip(), out


def _word_times(piece: _Piece, speech: Speech, offset: float) -> list[tuple[int, int, float, float]]:
    """The synthesizer's words (substrings of the spoken text) → caption spans and times; the words
    of an alias or a say-as expansion become one word, the written one."""
    said = piece.spoken.strip()
    lead = len(piece.spoken) - len(piece.spoken.lstrip())
    out: list[list] = []
    cursor = 0
    for w in speech.words:
        i = said.find(w.text, cursor)
        if i < 0:
            continue
        cursor = i + len(w.text)
        a, b = lead + i, lead + cursor
        run = next((r for r in piece.runs if r[0] <= a < r[1]), None)
        if run is None:
            continue
        s0, s1, c0, c1, exact = run
        span = (c0 + a - s0, c0 + min(b, s1) - s0) if exact else (c0, c1)
        if out and (out[-1][0], out[-1][1]) == span:
            out[-1][3] = offset + w.end
        else:
            out.append([span[0], span[1], offset + w.start, offset + w.end])
    return [tuple(w) for w in out]


def _samples(path: str) -> tuple[np.ndarray, int]:
    with wave.open(path, "rb") as w:
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2"), w.getframerate()


def speak_ssml(doc: Ssml, synthesize: Callable[[str], Speech], cache: SpeechCache, key: tuple) -> Speech:
    """``doc`` spoken by ``synthesize`` (plain text → Speech, one call per run of words), with
    silence for its breaks; captions and word times are of ``caption_text(doc)``. Cached under
    ``key`` = (engine, voice, rate, script)."""
    path = cache.path(*key)
    cached = cache.read(path)
    if cached is not None:
        return cached
    caption, layout = _layout(doc)
    spoken = [synthesize(p.spoken.strip()) if isinstance(p, _Piece) and speakable(p.spoken) else None for p in layout]
    rates = {_samples(s.path)[1] for s in spoken if s is not None}
    if not rates:
        raise RenderError(f"SSML script {caption[:40]!r} has nothing to speak", code=TEXT_CODE)
    (rate,) = rates  # one voice, one sample rate
    audio, words, at = [], [], 0
    for piece, speech in zip(layout, spoken):
        if isinstance(piece, float):
            chunk = np.zeros(round(piece * rate), dtype="<i2")
        elif speech is not None:
            words += _word_times(piece, speech, at / rate)
            chunk = _samples(speech.path)[0]
        else:
            continue  # punctuation only: nothing to say
        audio.append(chunk)
        at += len(chunk)
    samples = np.concatenate(audio)
    segments, word_segments = timings_from_samples(caption, words, samples, rate)
    return cache.write(path, samples.astype("<i2").tobytes(), rate, segments, word_segments)
