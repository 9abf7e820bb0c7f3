"""Speech synthesis behind a small interface: Piper (neural, English) and espeak-ng (every language).

``DefaultSynthesizer`` routes each line: a voice that resolves to Piper's ``joe`` (English, see
``voices.py``) goes to ``PiperSynthesizer`` when piper-tts and its voice package are installed;
everything else, and English without Piper, goes to ``EspeakSynthesizer``. Both return a ``Speech``:
the WAV, its duration, and timings *reported by the engine itself* — ``segments`` (one per clause,
the script split at , . ! ? ; : and ，。！？；：、) and ``words``. Every segment's text is a substring of
the script as written, so captions show exactly what was typed. Ends are pulled back over trailing
silence, so a clause ends when its last word does, not when the next one starts.

``EspeakSynthesizer`` drives the espeak-ng shared library shipped in the ``espeakng-loader`` wheel
through ctypes (no subprocess, no network); word and clause-end events come from the synth
callback's ``espeak_EVENT`` array. The library keeps global state and is not thread-safe, so every
call into it holds one process-wide lock.

Rate: IMS ``SpeechRate`` runs from -500 to 500 with 0 = normal speed, -500 = half speed and 500 =
double speed. We turn it into a speed factor ``s`` (espeak: words per minute; Piper: length_scale 1/s)::

    r >= 0:  s = 1 / (1 - r / 1000)      (0 → 1.0, 250 → 1.33, 500 → 2.0)
    r <  0:  s = 1 / (1 - r / 500)       (-250 → 0.67, -500 → 0.5)
    wpm = round(175 * s), clamped to espeak's 80..450

Neither engine repeats itself bit for bit (espeak keeps wavegen state, Piper draws noise), so the
cache is what makes a repeated line (and so a re-render) identical. Results are cached as
``sha256(engine, voice, rate, text).wav`` plus a ``.json`` sidecar with the timings under
``cache_dir``; both are written to a temp name and renamed, the WAV last (its presence marks a
complete entry).
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
import unicodedata
import wave
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from sheet2video.engine.speech import voices
from sheet2video.errors import RenderError

__all__ = [
    "Segment", "Speech", "SpeechSynthesizer", "EspeakSynthesizer", "DefaultSynthesizer", "ims_rate_to_wpm",
    "ims_rate_to_speed", "default_voice", "speakable", "clause_spans", "espeak_knows",
]  # fmt: skip

TEXT_CODE = "InvalidParameter.SpeechText"
SYNTH_CODE = "SpeechSynthesisFailed"
_CACHE_VERSION = "tts/2"

# espeak-ng API constants (speak_lib.h)
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INITIALIZE_DONT_EXIT = 0x8000
_POS_CHARACTER = 1
_CHARS_UTF8 = 1
_SSML = 0x10
_PARAM_RATE = 1
_EE_OK = 0
_EVENT_LIST_TERMINATED, _EVENT_WORD, _EVENT_END, _EVENT_MSG_TERMINATED = 0, 1, 5, 6
_DEFAULT_WPM = 175
_MIN_WPM, _MAX_WPM = 80, 450

_SSML_TAG = re.compile(r"<\s*/?\s*(speak|break|s|p|sub|w|phoneme|say-as|prosody|voice|emphasis|mark|audio)\b[^>]*>", re.I)
# A clause ends at CJK punctuation, or at ASCII punctuation followed by a space or the end
# (so "3.5", "$5.00" and "10:30" stay whole); runs such as "?!" or "..." end one clause.
_CLAUSE_END = re.compile(r"[，。！？；：、…]+[”’」』）)\]]*|[,.!?;:]+[\"')\]]*(?=\s|$)")


@dataclass(frozen=True)
class Segment:
    text: str  # a substring of the script, as written
    start: float  # seconds within the WAV
    end: float


@dataclass(frozen=True)
class Speech:
    path: str  # mono 16-bit PCM WAV
    duration: float  # seconds
    segments: tuple[Segment, ...] = ()  # one per clause, in order
    words: tuple[Segment, ...] = ()  # per word as the engine reports them (CJK: per word or character)


@runtime_checkable
class SpeechSynthesizer(Protocol):
    def synthesize(self, text: str, voice: str | None, rate: float | None, language: str | None = None) -> Speech: ...


def ims_rate_to_speed(rate: float | None) -> float:
    """IMS SpeechRate (-500..500, 0 = normal) → speed factor 0.5..2 (see module doc)."""
    if rate is None:
        return 1.0
    r = max(-500.0, min(500.0, float(rate)))
    return 1.0 / (1.0 - r / 1000.0) if r >= 0 else 1.0 / (1.0 - r / 500.0)


def ims_rate_to_wpm(rate: float | None) -> int:
    """Map IMS SpeechRate (-500..500, 0 = normal) to espeak-ng words per minute (see module doc)."""
    return max(_MIN_WPM, min(_MAX_WPM, round(_DEFAULT_WPM * ims_rate_to_speed(rate))))


def default_voice(text: str) -> str:
    """The espeak-ng voice for ``text`` when no voice is given (its language decides)."""
    found = voices.resolve(None, text)
    return found if isinstance(found, str) else found.espeak


def speakable(text: str) -> bool:
    """Whether ``text`` has something to say: a letter or digit in some script (emoji and
    punctuation alone synthesise to nothing a listener would call speech). No synthesis needed."""
    return isinstance(text, str) and any(unicodedata.category(c)[0] in "LN" for c in _SSML_TAG.sub(" ", text))


def _check_text(text) -> str:
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
        while s < e and not _wordish(text[s]):
            s += 1
        while e > s and not _wordish(text[e - 1]):
            e -= 1
        if s < e:
            out.append((s, e))
    return out


def _wordish(ch: str) -> bool:
    return unicodedata.category(ch)[0] in "LNM"


# --------------------------------------------------------------------------------------------
# Timings: word times (char span + seconds) → clause segments, ends pulled back over silence.


def _silence_floor(samples: np.ndarray, rate: int) -> float:
    # 10 ms windows; "silent" = RMS 34 dB below the loudest window
    hop = max(1, rate // 100)
    win = np.asarray(samples[: len(samples) // hop * hop], dtype=np.float64)
    if not win.size:
        return 0.0
    rms = np.sqrt((win.reshape(-1, hop) ** 2).mean(axis=1))
    return float(rms.max()) * 0.02


def _trim_end(samples: np.ndarray, rate: int, start: float, end: float, floor: float) -> float:
    """``end`` moved back over trailing silence, but not before ``start`` + 20 ms."""
    hop = max(1, rate // 100)
    lo = int((start + 0.02) * rate)
    e = min(int(end * rate), len(samples))
    while e - hop > lo:
        window = samples[e - hop : e].astype(np.float64)
        if np.sqrt((window**2).mean()) > floor:
            break
        e -= hop
    return max(start + 0.02, e / rate) if e < int(end * rate) else end


def _timed(text: str, words: list[tuple[int, int, float, float]], samples: np.ndarray, rate: int) -> tuple[tuple[Segment, ...], tuple[Segment, ...]]:
    """Word times (char start, char end, start s, end s), in order → (clause segments, word segments)."""
    floor = _silence_floor(samples, rate)
    total = len(samples) / rate
    timed = []
    for a, b, t0, t1 in words:
        t0 = min(max(0.0, t0), total)
        t1 = min(max(t0, t1), total)
        timed.append((a, b, t0, _trim_end(samples, rate, t0, t1, floor)))
    last = int(total * 1000) / 1000  # whole ms inside the WAV

    def ms(t: float) -> float:
        return min(round(t, 3), last)

    word_segments = tuple(Segment(text[a:b], ms(t0), ms(t1)) for a, b, t0, t1 in timed if b > a)
    segments = []
    for a, b in clause_spans(text):
        inside = [w for w in timed if a <= w[0] < b]
        if inside:
            segments.append(Segment(text[a:b], ms(inside[0][2]), ms(inside[-1][3])))
    return tuple(segments), word_segments


# --------------------------------------------------------------------------------------------
# The espeak-ng library: loaded once per process, used under _LOCK only.

_LOCK = threading.Lock()
_CALLBACK_TYPE = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)


class _Event(ctypes.Structure):
    """espeak_EVENT (speak_lib.h); the array handed to the callback ends with type 0."""

    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),  # 1-based, in characters
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),  # ms
        ("sample", ctypes.c_int),  # samples since the start of this synthesis
        ("user_data", ctypes.c_void_p),
        ("id", ctypes.c_char * 8),  # union { int number; const char *name; char string[8]; }
    ]


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
        self._events: list[tuple[int, int, int]] = []
        self._callback = _CALLBACK_TYPE(self._on_audio)  # keep a reference: the library holds a pointer
        lib.espeak_SetSynthCallback(self._callback)
        self._known: dict[str, bool] = {}

    def _on_audio(self, wav, numsamples, events) -> int:
        if wav and numsamples > 0:
            self._chunks.append(ctypes.string_at(wav, numsamples * 2))
        if events:
            array = ctypes.cast(events, ctypes.POINTER(_Event))
            i = 0
            while array[i].type not in (_EVENT_LIST_TERMINATED, _EVENT_MSG_TERMINATED):
                e = array[i]
                if e.type in (_EVENT_WORD, _EVENT_END):
                    self._events.append((e.type, e.text_position, e.sample))
                i += 1
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

    def synth(self, text: str, voice: str, wpm: int) -> tuple[bytes, list[tuple[int, int, int]]]:
        """PCM (little-endian int16) and the (type, 1-based text position, sample) of word/end events."""
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
        self._chunks, self._events = [], []
        try:
            err = self.lib.espeak_Synth(data, len(data) + 1, 0, _POS_CHARACTER, 0, flags, None, None)
            pcm, events = b"".join(self._chunks), self._events
            if sys.byteorder == "big":  # WAV is little-endian; espeak hands out native int16
                import array

                samples = array.array("h", pcm)
                samples.byteswap()
                pcm = samples.tobytes()
        finally:
            self._chunks, self._events = [], []
        if err != _EE_OK:
            raise RenderError(f"espeak-ng failed to synthesise speech (error {err})", code=SYNTH_CODE)
        return pcm, events


_ENGINE: _Espeak | None = None


def _engine() -> _Espeak:
    global _ENGINE
    if _ENGINE is None:
        _ENGINE = _Espeak()
    return _ENGINE


def espeak_knows(voice: str) -> bool:
    """Whether espeak-ng accepts ``voice`` as a voice name (``en-us``, ``cmn+f3`` …)."""
    with _LOCK:
        return _engine().knows(voice)


def _espeak_words(text: str, events: list[tuple[int, int, int]], rate: int) -> list[tuple[int, int, float, float]]:
    """espeak word events → (char start, char end, start s, end s).

    A word's text runs from its position to the next word's, cut at a space and at edge
    punctuation (espeak's own ``length`` is wrong for CJK words such as 欢迎). Events at one
    position (a number read as several words) are one word. A word ends where the next event
    starts; the caller pulls that back over the pause.
    """
    marks: list[tuple[int, int, int]] = []
    for kind, pos, sample in events:
        if marks and marks[-1][1] == pos - 1 and (kind == _EVENT_WORD) == (marks[-1][0] == _EVENT_WORD):
            continue
        marks.append((kind, pos - 1, sample))
    words = []
    for i, (kind, a, sample) in enumerate(marks):
        if kind != _EVENT_WORD or not 0 <= a < len(text):
            continue
        nxt = marks[i + 1] if i + 1 < len(marks) else None
        # the text runs to the next word (an end event may point at the word's own last letter)
        b = next((m[1] for m in marks[i + 1 :] if m[0] == _EVENT_WORD and m[1] > a), len(text))
        space = re.search(r"\s", text[a:b])
        if space:
            b = a + space.start()
        s, e = a, b
        while s < e and not _wordish(text[s]):
            s += 1
        while e > s and not _wordish(text[e - 1]):
            e -= 1
        if s == e:  # a symbol espeak reads aloud ("$", an emoji): keep it as written
            s, e = a, b
        if s < e:
            end = nxt[2] / rate if nxt else float("inf")
            words.append((s, e, sample / rate, end))
    return words


# --------------------------------------------------------------------------------------------
# The cache: one WAV and one JSON of timings per (engine, voice, rate, text).


class _Cache:
    def __init__(self, folder: str | os.PathLike) -> None:
        self.folder = os.fspath(folder)
        os.makedirs(self.folder, exist_ok=True)

    def path(self, engine: str, voice: str, rate, text: str) -> str:
        key = json.dumps([_CACHE_VERSION, engine, voice, rate, text], ensure_ascii=False).encode("utf-8")
        return os.path.join(self.folder, hashlib.sha256(key).hexdigest() + ".wav")

    def read(self, path: str) -> Speech | None:
        try:
            duration = _wav_duration(path)
            with open(path + ".json", encoding="utf-8") as f:
                data = json.load(f)
            segments = tuple(Segment(t, s, e) for t, s, e in data["segments"])
            words = tuple(Segment(t, s, e) for t, s, e in data["words"])
        except (wave.Error, EOFError, OSError, ValueError, KeyError, TypeError):
            return None  # missing or unreadable entry: synthesise again and replace it
        return Speech(path, duration, segments, words)

    def write(self, path: str, pcm: bytes, sample_rate: int, segments, words) -> Speech:
        data = {"segments": [[s.text, s.start, s.end] for s in segments], "words": [[w.text, w.start, w.end] for w in words]}
        _write_atomic(path + ".json", json.dumps(data, ensure_ascii=False).encode("utf-8"))
        _write_wav_atomic(path, pcm, sample_rate)  # last: a WAV means the entry is complete
        return Speech(path, len(pcm) / 2 / sample_rate, tuple(segments), tuple(words))


# --------------------------------------------------------------------------------------------


class EspeakSynthesizer:
    """Offline speech with espeak-ng; results cached under ``cache_dir``.

    ``synth_count`` counts real syntheses done by this instance (cache hits excluded).
    """

    engine = "espeak-ng"

    def __init__(self, cache_dir: str | os.PathLike) -> None:
        self._cache = _Cache(cache_dir)
        self.cache_dir = self._cache.folder
        self.synth_count = 0

    def resolve_voice(self, text: str, voice: str | None, language: str | None = None) -> str:
        """The espeak-ng voice name for this line (see ``voices.resolve``)."""
        found = voices.resolve(voice, text, language)
        return found if isinstance(found, str) else found.espeak

    def synthesize(self, text: str, voice: str | None = None, rate: float | None = None, language: str | None = None) -> Speech:
        text = _check_text(text)
        return self.synthesize_as(text, self.resolve_voice(text, voice, language), rate)

    def synthesize_as(self, text: str, voice: str, rate: float | None) -> Speech:
        """``text`` (already checked) in the espeak-ng voice ``voice``."""
        wpm = ims_rate_to_wpm(rate)
        path = self._cache.path(self.engine, voice, wpm, text)
        cached = self._cache.read(path)
        if cached is not None:
            return cached
        with _LOCK:
            engine = _engine()
            pcm, events = engine.synth(text, voice, wpm)
            sample_rate = engine.sample_rate
            self.synth_count += 1
        if not pcm:
            raise RenderError(f"espeak-ng produced no audio for {text[:40]!r}", code=TEXT_CODE)
        samples = np.frombuffer(pcm, dtype="<i2")
        segments, words = _timed(text, _espeak_words(text, events, sample_rate), samples, sample_rate)
        return self._cache.write(path, pcm, sample_rate, segments, words)


class DefaultSynthesizer:
    """English (a voice resolving to Piper's ``joe``) → Piper when installed; the rest → espeak-ng."""

    def __init__(self, cache_dir: str | os.PathLike) -> None:
        self.espeak = EspeakSynthesizer(cache_dir)
        self._cache_dir = cache_dir
        self._piper = None

    @property
    def piper(self):
        """The Piper synthesizer, or None when piper-tts or the voice package is not installed."""
        if self._piper is None:
            from sheet2video.engine.speech import piper as piper_tts

            self._piper = piper_tts.PiperSynthesizer(self._cache_dir) if piper_tts.available() else False
        return self._piper or None

    def route(self, text: str, voice: str | None, language: str | None = None) -> tuple[str, str]:
        """(engine, voice name) for this line."""
        found = voices.resolve(voice, text, language)
        if isinstance(found, str):
            return "espeak-ng", found
        if found.engine == "piper" and not _SSML_TAG.search(text) and self.piper is not None:  # Piper reads tags aloud
            return "piper", found.name
        return "espeak-ng", found.espeak

    def synthesize(self, text: str, voice: str | None = None, rate: float | None = None, language: str | None = None) -> Speech:
        text = _check_text(text)
        engine, name = self.route(text, voice, language)
        if engine == "piper":
            return self.piper.synthesize_as(text, name, rate)
        return self.espeak.synthesize_as(text, name, rate)


def _wav_duration(path: str) -> float:
    with wave.open(path, "rb") as w:
        frames, rate = w.getnframes(), w.getframerate()
    if frames <= 0 or rate <= 0:
        raise wave.Error("empty wav")
    return frames / rate


def _write_atomic(path: str, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=".tts-", suffix=".tmp", dir=os.path.dirname(path))
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _write_wav_atomic(path: str, pcm: bytes, sample_rate: int) -> None:
    import io

    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sample_rate)
        w.writeframes(pcm)
    _write_atomic(path, buffer.getvalue())
