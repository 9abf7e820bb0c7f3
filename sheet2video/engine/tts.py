"""Speech synthesis behind a small interface, with an offline espeak-ng implementation.

``EspeakSynthesizer`` drives the espeak-ng shared library shipped in the ``espeakng-loader`` wheel
through ctypes (no subprocess, no network). The library keeps global state and is not thread-safe,
so every call into it holds one process-wide lock.

Voices: ``None`` or a name espeak-ng does not know (IMS voices such as ``"xiaoyun"``,
``"zhitian_emo"``) → chosen from the text: CJK characters → ``"cmn"`` (Mandarin), else ``"en"``.
Any name espeak-ng accepts (``"en"``, ``"en-us"``, ``"cmn"``, ``"en+f3"``, …) is used as given.

Rate: IMS ``SpeechRate`` runs from -500 to 500 with 0 = normal speed, -500 = half speed and 500 =
double speed. We turn it into a speed factor ``s`` and then into espeak words per minute::

    r >= 0:  s = 1 / (1 - r / 1000)      (0 → 1.0, 250 → 1.33, 500 → 2.0)
    r <  0:  s = 1 / (1 - r / 500)       (-250 → 0.67, -500 → 0.5)
    wpm = round(175 * s), clamped to espeak's 80..450

espeak-ng keeps wavegen state between utterances, so the same line synthesised twice in one
process can differ by a few samples; the cache is what makes a repeated line (and so a re-render)
identical. Results are cached as WAV files named by sha256(voice, wpm, text) under ``cache_dir``; a repeated
line is read back instead of synthesised again. Files are written to a temp name and renamed.
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import os
import re
import sys
import tempfile
import threading
import wave
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from sheet2video.engine.fonts import has_cjk
from sheet2video.errors import RenderError

__all__ = ["Speech", "SpeechSynthesizer", "EspeakSynthesizer", "ims_rate_to_wpm", "default_voice"]

TEXT_CODE = "InvalidParameter.SpeechText"
SYNTH_CODE = "SpeechSynthesisFailed"
_CACHE_VERSION = "espeak-ng/1"

# espeak-ng API constants (speak_lib.h)
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INITIALIZE_DONT_EXIT = 0x8000
_POS_CHARACTER = 1
_CHARS_UTF8 = 1
_SSML = 0x10
_PARAM_RATE = 1
_EE_OK = 0
_DEFAULT_WPM = 175
_MIN_WPM, _MAX_WPM = 80, 450

_SSML_TAG = re.compile(r"<\s*/?\s*(speak|break|s|p|sub|w|phoneme|say-as|prosody|voice|emphasis|mark|audio)\b[^>]*>", re.I)


@dataclass(frozen=True)
class Speech:
    path: str  # mono 16-bit PCM WAV
    duration: float  # seconds


@runtime_checkable
class SpeechSynthesizer(Protocol):
    def synthesize(self, text: str, voice: str | None, rate: float | None) -> Speech: ...


def ims_rate_to_wpm(rate: float | None) -> int:
    """Map IMS SpeechRate (-500..500, 0 = normal) to espeak-ng words per minute (see module doc)."""
    if rate is None:
        return _DEFAULT_WPM
    r = max(-500.0, min(500.0, float(rate)))
    speed = 1.0 / (1.0 - r / 1000.0) if r >= 0 else 1.0 / (1.0 - r / 500.0)
    return max(_MIN_WPM, min(_MAX_WPM, round(_DEFAULT_WPM * speed)))


def default_voice(text: str) -> str:
    return "cmn" if has_cjk(text) else "en"


# --------------------------------------------------------------------------------------------
# The espeak-ng library: loaded once per process, used under _LOCK only.

_LOCK = threading.Lock()
_CALLBACK_TYPE = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)


class _Espeak:
    def __init__(self) -> None:
        import espeakng_loader

        lib = ctypes.CDLL(espeakng_loader.get_library_path())
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_Initialize.restype = ctypes.c_int
        lib.espeak_SetSynthCallback.argtypes = [_CALLBACK_TYPE]
        lib.espeak_SetSynthCallback.restype = None
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetVoiceByName.restype = ctypes.c_int
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_SetParameter.restype = ctypes.c_int
        lib.espeak_Synth.argtypes = [
            ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int,
            ctypes.c_uint, ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p,
        ]  # fmt: skip
        lib.espeak_Synth.restype = ctypes.c_int
        self._seed = getattr(lib, "espeak_ng_SetRandSeed", None)
        if self._seed is not None:
            self._seed.argtypes = [ctypes.c_long]
            self._seed.restype = None
        data = espeakng_loader.get_data_path().encode()
        rate = lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, data, _INITIALIZE_DONT_EXIT)
        if rate <= 0:
            raise RenderError("espeak-ng could not be initialised (data files missing?)", code=SYNTH_CODE)
        self.lib = lib
        self.sample_rate = rate
        self._chunks: list[bytes] = []
        self._callback = _CALLBACK_TYPE(self._on_audio)  # keep a reference: the library holds a pointer
        lib.espeak_SetSynthCallback(self._callback)
        self._known: dict[str, bool] = {}

    def _on_audio(self, wav, numsamples, events) -> int:
        if wav and numsamples > 0:
            self._chunks.append(ctypes.string_at(wav, numsamples * 2))
        return 0

    def knows(self, voice: str) -> bool:
        if voice not in self._known:
            try:
                encoded = voice.encode("ascii")
            except UnicodeEncodeError:
                self._known[voice] = False
            else:
                self._known[voice] = self.lib.espeak_SetVoiceByName(encoded) == _EE_OK
        return self._known[voice]

    def synth(self, text: str, voice: str, wpm: int) -> bytes:
        if self.lib.espeak_SetVoiceByName(voice.encode("ascii")) != _EE_OK:
            raise RenderError(f"espeak-ng has no voice {voice!r}", code=SYNTH_CODE)
        self.lib.espeak_SetParameter(_PARAM_RATE, wpm, 0)
        if self._seed is not None:
            # Fixes the breath-noise generator. Not enough for bit-identical repeats: espeak-ng
            # keeps wavegen state (pitch flutter phase…) between utterances, so the same text may
            # differ by a few samples later in a process; the cache is what keeps lines stable.
            self._seed(0)
        flags = _CHARS_UTF8 | (_SSML if _SSML_TAG.search(text) else 0)
        data = text.encode("utf-8")
        self._chunks = []
        try:
            err = self.lib.espeak_Synth(data, len(data) + 1, 0, _POS_CHARACTER, 0, flags, None, None)
            pcm = b"".join(self._chunks)
            if sys.byteorder == "big":  # WAV is little-endian; espeak hands out native int16
                import array

                samples = array.array("h", pcm)
                samples.byteswap()
                pcm = samples.tobytes()
        finally:
            self._chunks = []
        if err != _EE_OK:
            raise RenderError(f"espeak-ng failed to synthesise speech (error {err})", code=SYNTH_CODE)
        return pcm


_ENGINE: _Espeak | None = None


def _engine() -> _Espeak:
    global _ENGINE
    if _ENGINE is None:
        _ENGINE = _Espeak()
    return _ENGINE


# --------------------------------------------------------------------------------------------


class EspeakSynthesizer:
    """Offline speech with espeak-ng; results cached under ``cache_dir``.

    ``synth_count`` counts real syntheses done by this instance (cache hits excluded).
    """

    def __init__(self, cache_dir: str | os.PathLike) -> None:
        self.cache_dir = os.fspath(cache_dir)
        os.makedirs(self.cache_dir, exist_ok=True)
        self.synth_count = 0

    def resolve_voice(self, text: str, voice: str | None) -> str:
        if voice and voice.strip():
            v = voice.strip()
            with _LOCK:
                if _engine().knows(v):
                    return v
        return default_voice(text)

    def cache_path(self, text: str, voice: str, wpm: int) -> str:
        key = json.dumps([_CACHE_VERSION, voice, wpm, text], ensure_ascii=False).encode("utf-8")
        return os.path.join(self.cache_dir, hashlib.sha256(key).hexdigest() + ".wav")

    def synthesize(self, text: str, voice: str | None = None, rate: float | None = None) -> Speech:
        if not isinstance(text, str) or not text.strip():
            raise RenderError("speech text is empty", code=TEXT_CODE)
        text = text.strip()
        resolved = self.resolve_voice(text, voice)
        wpm = ims_rate_to_wpm(rate)
        path = self.cache_path(text, resolved, wpm)
        if os.path.isfile(path):
            try:
                return Speech(path, _wav_duration(path))
            except (wave.Error, EOFError, OSError):
                pass  # unreadable cache entry: synthesise again and replace it
        with _LOCK:
            engine = _engine()
            pcm = engine.synth(text, resolved, wpm)
            sample_rate = engine.sample_rate
            self.synth_count += 1
        if not pcm:
            raise RenderError(f"espeak-ng produced no audio for {text[:40]!r}", code=TEXT_CODE)
        _write_wav_atomic(path, pcm, sample_rate)
        return Speech(path, len(pcm) / 2 / sample_rate)


def _wav_duration(path: str) -> float:
    with wave.open(path, "rb") as w:
        frames, rate = w.getnframes(), w.getframerate()
    if frames <= 0 or rate <= 0:
        raise wave.Error("empty wav")
    return frames / rate


def _write_wav_atomic(path: str, pcm: bytes, sample_rate: int) -> None:
    folder = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(prefix=".tts-", suffix=".wav.tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            with wave.open(f, "wb") as w:
                w.setnchannels(1)
                w.setsampwidth(2)
                w.setframerate(sample_rate)
                w.writeframes(pcm)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
