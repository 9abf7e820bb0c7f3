"""The speech cache: one WAV and one JSON of timings per (engine, voice, rate, text).

Neither engine repeats itself bit for bit (espeak keeps wavegen state, Piper draws noise), so the
cache is what makes a repeated line (and so a re-render) identical. Entries are named
``sha256(version, engine, voice, rate, text).wav`` plus a ``.json`` sidecar with the timings; both
are written to a temp name and renamed, the WAV last (its presence marks a complete entry).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
import wave

from sheet2video.engine.speech.result import Segment, Speech

__all__ = ["SpeechCache"]

_CACHE_VERSION = "tts/2"  # part of every key: bump it to retire all entries at once


class SpeechCache:
    """Cached speech under ``folder`` (created if missing)."""

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
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sample_rate)
        w.writeframes(pcm)
    _write_atomic(path, buffer.getvalue())
