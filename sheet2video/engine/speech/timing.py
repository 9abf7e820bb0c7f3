"""Timings from samples: word times (char span + seconds) → clause and word segments.

Both engines report where each word starts; where it ends is less exact (espeak: where the next
one starts). Ends are pulled back over trailing silence, so a clause ends when its last word
does, not when the next one starts.
"""

from __future__ import annotations

import numpy as np

from sheet2video.engine.speech.result import Segment
from sheet2video.engine.speech.script import clause_spans

__all__ = ["timings_from_samples"]


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


def timings_from_samples(
    text: str, words: list[tuple[int, int, float, float]], samples: np.ndarray, rate: int
) -> tuple[tuple[Segment, ...], tuple[Segment, ...]]:
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
