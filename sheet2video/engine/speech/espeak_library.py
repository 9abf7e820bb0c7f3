"""The espeak-ng shared library (from the ``espeakng-loader`` wheel), driven through ctypes.

No subprocess, no network: audio and word/clause-end events come from the synth callback's
``espeak_EVENT`` array. The library keeps global state and is not thread-safe, so it is loaded
once per process (on first use, not on import) and every call into it holds one process-wide
lock: use it only inside ``espeak_session()``.
"""

from __future__ import annotations

import array
import ctypes
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sheet2video.engine.speech.result import SYNTH_CODE
from sheet2video.engine.speech.script import SSML_TAG
from sheet2video.errors import RenderError

__all__ = ["EVENT_WORD", "EspeakLibrary", "espeak_session", "espeak_knows"]

# espeak-ng API constants (speak_lib.h)
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INITIALIZE_DONT_EXIT = 0x8000
_POS_CHARACTER = 1
_CHARS_UTF8 = 1
_SSML = 0x10
_PARAM_RATE = 1
_EE_OK = 0
_EVENT_LIST_TERMINATED, EVENT_WORD, _EVENT_END, _EVENT_MSG_TERMINATED = 0, 1, 5, 6

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


def _declare(lib) -> None:
    """Argument and result types of the functions we call (ctypes would guess int otherwise)."""
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


class EspeakLibrary:
    """The loaded, initialised library; one per process (see ``espeak_session``)."""

    def __init__(self) -> None:
        import espeakng_loader

        lib = ctypes.CDLL(espeakng_loader.get_library_path())
        _declare(lib)
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
            event_array = ctypes.cast(events, ctypes.POINTER(_Event))
            i = 0
            while event_array[i].type not in (_EVENT_LIST_TERMINATED, _EVENT_MSG_TERMINATED):
                e = event_array[i]
                if e.type in (EVENT_WORD, _EVENT_END):
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
        flags = _CHARS_UTF8 | (_SSML if SSML_TAG.search(text) else 0)
        data = text.encode("utf-8")
        self._chunks, self._events = [], []
        try:
            err = self.lib.espeak_Synth(data, len(data) + 1, 0, _POS_CHARACTER, 0, flags, None, None)
            pcm, events = b"".join(self._chunks), self._events
            if sys.byteorder == "big":  # WAV is little-endian; espeak hands out native int16
                samples = array.array("h", pcm)
                samples.byteswap()
                pcm = samples.tobytes()
        finally:
            self._chunks, self._events = [], []
        if err != _EE_OK:
            raise RenderError(f"espeak-ng failed to synthesise speech (error {err})", code=SYNTH_CODE)
        return pcm, events


_ENGINE: EspeakLibrary | None = None


@contextmanager
def espeak_session() -> Iterator[EspeakLibrary]:
    """The library (loaded on first use), held under the process-wide lock for the ``with`` block."""
    global _ENGINE
    with _LOCK:
        if _ENGINE is None:
            _ENGINE = EspeakLibrary()
        yield _ENGINE


def espeak_knows(voice: str) -> bool:
    """Whether espeak-ng accepts ``voice`` as a voice name (``en-us``, ``cmn+f3`` …)."""
    with espeak_session() as library:
        return library.knows(voice)
