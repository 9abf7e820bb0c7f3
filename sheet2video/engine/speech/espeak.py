"""Offline speech in every language with espeak-ng: voice choice, synthesis, word timings, cache.

Word and clause-end events come from the library itself (``espeak_library``); a word's text is
cut from the script between one event and the next, so captions show what was typed.
"""

from __future__ import annotations

import os
import re

import numpy as np

from sheet2video.engine.speech import voices
from sheet2video.engine.speech.cache import SpeechCache
from sheet2video.engine.speech.espeak_library import EVENT_WORD, espeak_session
from sheet2video.engine.speech.rate import ims_rate_to_wpm
from sheet2video.engine.speech.result import TEXT_CODE, Speech
from sheet2video.engine.speech.script import check_text, is_wordish
from sheet2video.engine.speech.timing import timings_from_samples
from sheet2video.errors import RenderError

__all__ = ["EspeakSynthesizer"]


class EspeakSynthesizer:
    """Offline speech with espeak-ng; results cached under ``cache_dir``.

    ``synth_count`` counts real syntheses done by this instance (cache hits excluded).
    """

    engine = "espeak-ng"

    def __init__(self, cache_dir: str | os.PathLike) -> None:
        self._cache = SpeechCache(cache_dir)
        self.cache_dir = self._cache.folder
        self.synth_count = 0

    def resolve_voice(self, text: str, voice: str | None, language: str | None = None) -> str:
        """The espeak-ng voice name for this line (see ``voices.resolve``)."""
        found = voices.resolve(voice, text, language)
        return found if isinstance(found, str) else found.espeak

    def synthesize(self, text: str, voice: str | None = None, rate: float | None = None, language: str | None = None) -> Speech:
        text = check_text(text)
        return self.synthesize_as(text, self.resolve_voice(text, voice, language), rate)

    def synthesize_as(self, text: str, voice: str, rate: float | None) -> Speech:
        """``text`` (already checked) in the espeak-ng voice ``voice``."""
        wpm = ims_rate_to_wpm(rate)
        path = self._cache.path(self.engine, voice, wpm, text)
        cached = self._cache.read(path)
        if cached is not None:
            return cached
        with espeak_session() as library:
            pcm, events = library.synth(text, voice, wpm)
            sample_rate = library.sample_rate
            self.synth_count += 1
        if not pcm:
            raise RenderError(f"espeak-ng produced no audio for {text[:40]!r}", code=TEXT_CODE)
        samples = np.frombuffer(pcm, dtype="<i2")
        segments, words = timings_from_samples(text, _espeak_words(text, events, sample_rate), samples, sample_rate)
        return self._cache.write(path, pcm, sample_rate, segments, words)


def _espeak_words(text: str, events: list[tuple[int, int, int]], rate: int) -> list[tuple[int, int, float, float]]:
    """espeak word events → (char start, char end, start s, end s).

    A word's text runs from its position to the next word's, cut at a space and at edge
    punctuation (espeak's own ``length`` is wrong for CJK words such as 欢迎). Events at one
    position (a number read as several words) are one word. A word ends where the next event
    starts; the caller pulls that back over the pause.
    """
    marks: list[tuple[int, int, int]] = []
    for kind, pos, sample in events:
        if marks and marks[-1][1] == pos - 1 and (kind == EVENT_WORD) == (marks[-1][0] == EVENT_WORD):
            continue
        marks.append((kind, pos - 1, sample))
    words = []
    for i, (kind, a, sample) in enumerate(marks):
        if kind != EVENT_WORD or not 0 <= a < len(text):
            continue
        nxt = marks[i + 1] if i + 1 < len(marks) else None
        # the text runs to the next word (an end event may point at the word's own last letter)
        b = next((m[1] for m in marks[i + 1 :] if m[0] == EVENT_WORD and m[1] > a), len(text))
        space = re.search(r"\s", text[a:b])
        if space:
            b = a + space.start()
        s, e = a, b
        while s < e and not is_wordish(text[s]):
            s += 1
        while e > s and not is_wordish(text[e - 1]):
            e -= 1
        if s == e:  # a symbol espeak reads aloud ("$", an emoji): keep it as written
            s, e = a, b
        if s < e:
            end = nxt[2] / rate if nxt else float("inf")
            words.append((s, e, sample / rate, end))
    return words
