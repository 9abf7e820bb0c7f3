"""The script as written: whether it has anything to speak, its clauses and its words.

A clause ends at CJK punctuation, or at ASCII punctuation followed by a space or the end, so
"3.5", "$5.00" and "10:30" stay whole. Both engines time their speech against these spans, so a
caption's text is always a substring of the script.
"""

from __future__ import annotations

import re
import unicodedata

from sheet2video.engine.speech.result import TEXT_CODE
from sheet2video.errors import RenderError

__all__ = ["SSML_TAG", "speakable", "check_text", "clause_spans", "word_spans", "is_wordish", "speaking_seconds"]

# The SSML tags espeak-ng understands; Piper would read them aloud, so they also steer routing.
SSML_TAG = re.compile(r"<\s*/?\s*(speak|break|s|p|sub|w|phoneme|say-as|prosody|voice|emphasis|mark|audio)\b[^>]*>", re.I)
# A clause ends at CJK punctuation, or at ASCII punctuation followed by a space or the end
# (so "3.5", "$5.00" and "10:30" stay whole); runs such as "?!" or "..." end one clause.
_CLAUSE_END = re.compile(r"[，。！？；：、…]+[”’」』）)\]]*|[,.!?;:]+[\"')\]]*(?=\s|$)")


# Speaking speed at the normal rate, measured on the local voices (Piper for English, espeak-ng for
# Chinese and Korean, Kokoro for Japanese; ten shop scripts within 13 % of the real length):
# characters a second by script, and the pause at each clause end.
_KANA = re.compile("[\u3040-\u30ff]")
_HAN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_HANGUL = re.compile("[\uac00-\ud7af]")
_PER_SECOND = {"japanese": 6.5, "han": 4.2, "hangul": 5.5, "other": 19.0}
_PAUSE_SECONDS = 0.25


def speaking_seconds(text: str, speed: float = 1.0) -> float:
    """About how long ``text`` takes to say at ``speed`` × the normal rate (for warnings before a
    run: the engine times the real speech). Kanji read as Japanese when the text has kana."""
    text = SSML_TAG.sub("", text).strip()
    kana, han, hangul = (len(pattern.findall(text)) for pattern in (_KANA, _HAN, _HANGUL))
    pauses = _CLAUSE_END.findall(text)
    wide = (kana + han) / _PER_SECOND["japanese"] if kana else han / _PER_SECOND["han"]
    other = max(0, len(text) - kana - han - hangul - sum(map(len, pauses)))
    seconds = wide + hangul / _PER_SECOND["hangul"] + other / _PER_SECOND["other"] + len(pauses) * _PAUSE_SECONDS
    return seconds / speed


def speakable(text: str) -> bool:
    """Whether ``text`` has something to say: a letter or digit in some script (emoji and
    punctuation alone synthesise to nothing a listener would call speech). No synthesis needed."""
    return isinstance(text, str) and any(unicodedata.category(c)[0] in "LN" for c in SSML_TAG.sub(" ", text))


def check_text(text) -> str:
    """``text`` stripped, or a RenderError (code ``TEXT_CODE``) when there is nothing to speak."""
    if not isinstance(text, str) or not text.strip():
        raise RenderError("speech text is empty", code=TEXT_CODE)
    if not speakable(text):
        raise RenderError(f"speech text {text.strip()[:40]!r} has nothing to speak (no letters or digits)", code=TEXT_CODE)
    return text.strip()


def clause_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of the clauses of ``text`` (punctuation kept, outer spaces dropped),
    only those with something to speak."""
    spans, start = [], 0
    for m in _CLAUSE_END.finditer(text):
        spans.append((start, m.end()))
        start = m.end()
    spans.append((start, len(text)))
    out = []
    for a, b in spans:
        while a < b and text[a].isspace():
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        if speakable(text[a:b]):
            out.append((a, b))
    return out


def word_spans(text: str, a: int, b: int) -> list[tuple[int, int]]:
    """Spans of the space-separated words in text[a:b] that have letters or digits, edge punctuation cut."""
    out = []
    for m in re.finditer(r"\S+", text[a:b]):
        s, e = a + m.start(), a + m.end()
        while s < e and not is_wordish(text[s]):
            s += 1
        while e > s and not is_wordish(text[e - 1]):
            e -= 1
        if s < e:
            out.append((s, e))
    return out


def is_wordish(ch: str) -> bool:
    """Whether ``ch`` belongs to a word (letter, digit or combining mark), not to its edge punctuation."""
    return unicodedata.category(ch)[0] in "LNM"
