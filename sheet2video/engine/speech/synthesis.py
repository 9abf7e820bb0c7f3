"""Speech synthesis, the front door: Piper (neural, English) and espeak-ng (every language).

``DefaultSynthesizer`` routes each line: a voice that resolves to Piper's ``joe`` (English, see
``voices.py``) goes to ``PiperSynthesizer`` (``piper.py``) when piper-tts and its voice package
are installed; everything else, and English without Piper, goes to ``EspeakSynthesizer``
(``espeak.py``). Both return a ``Speech`` (``result.py``): the WAV, its duration, and timings
*reported by the engine itself* — ``segments`` (one per clause, the script split at , . ! ? ; :
and ，。！？；：、, see ``script.py``) and ``words``, ends pulled back over silence (``timing.py``).
Results are cached per (engine, voice, rate, text) (``cache.py``); the rate mapping is in
``rate.py``.

Callers use the names below; the modules named above hold the parts.
"""

from __future__ import annotations

import os
from typing import Callable

from sheet2video.engine.speech import voices
from sheet2video.engine.speech.espeak import EspeakSynthesizer
from sheet2video.engine.speech.espeak_library import espeak_knows
from sheet2video.engine.speech.piper import PiperSynthesizer
from sheet2video.engine.speech.piper import available as piper_available
from sheet2video.engine.speech.rate import ims_rate_to_speed, ims_rate_to_wpm
from sheet2video.engine.speech.result import Segment, Speech, SpeechSynthesizer
from sheet2video.engine.speech.script import SSML_TAG, check_text, clause_spans, speakable

__all__ = [
    "Segment", "Speech", "SpeechSynthesizer", "EspeakSynthesizer", "DefaultSynthesizer", "QueuedSynthesizer", "ims_rate_to_wpm",
    "ims_rate_to_speed", "default_voice", "speakable", "clause_spans", "espeak_knows",
]  # fmt: skip


def default_voice(text: str) -> str:
    """The espeak-ng voice for ``text`` when no voice is given (its language decides)."""
    found = voices.resolve(None, text)
    return found if isinstance(found, str) else found.espeak


class DefaultSynthesizer:
    """English (a voice resolving to Piper's ``joe``) → Piper when installed; the rest → espeak-ng."""

    def __init__(self, cache_dir: str | os.PathLike) -> None:
        self.espeak = EspeakSynthesizer(cache_dir)
        self._cache_dir = cache_dir
        self._piper = None

    @property
    def piper(self) -> PiperSynthesizer | None:
        """The Piper synthesizer, or None when piper-tts or the voice package is not installed."""
        if self._piper is None:
            self._piper = PiperSynthesizer(self._cache_dir) if piper_available() else False
        return self._piper or None

    def route(self, text: str, voice: str | None, language: str | None = None) -> tuple[str, str]:
        """(engine, voice name) for this line."""
        found = voices.resolve(voice, text, language)
        if isinstance(found, str):
            return "espeak-ng", found
        if found.engine == "piper" and not SSML_TAG.search(text) and self.piper is not None:  # Piper reads tags aloud
            return "piper", found.name
        return "espeak-ng", found.espeak

    def synthesize(self, text: str, voice: str | None = None, rate: float | None = None, language: str | None = None) -> Speech:
        text = check_text(text)
        engine, name = self.route(text, voice, language)
        if engine == "piper":
            return self.piper.synthesize_as(text, name, rate)
        return self.espeak.synthesize_as(text, name, rate)


class QueuedSynthesizer:
    """Another synthesizer whose every line goes through ``run(synthesize, text, voice, rate,
    language)`` — the engine queues it on a speech pool shared fairly between callers, so a job
    waits for a speech slot line by line instead of holding one for all its lines."""

    def __init__(self, inner: SpeechSynthesizer, run: Callable[..., Speech]) -> None:
        self.inner = inner
        self.run = run

    @property
    def route(self):
        """The inner synthesizer's ``route`` (which voice speaks a line), if it has one."""
        return getattr(self.inner, "route", None)

    def synthesize(self, text: str, voice: str | None = None, rate: float | None = None, language: str | None = None) -> Speech:
        return self.run(self.inner.synthesize, text, voice, rate, language)
