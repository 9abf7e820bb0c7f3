"""Soft background music and audio beds for the sample media, synthesised with numpy.

A track is a chord loop: a warm pad (detuned sines, slow attack), a plucked bass on beats 1 and 3,
a gentle arpeggio of the chord's notes on eighth notes with an echo, and a quiet shaker on the
off-beats. Noise comes from a seeded generator, so the same track comes out every time. The
result is float32 stereo at 44.1 kHz, handed to FFmpeg for encoding.
"""

from __future__ import annotations

import numpy as np

__all__ = ["RATE", "NOTE", "freq", "track", "bed"]

RATE = 44100
NOTE = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}


def freq(name: str) -> float:
    """``"A4"`` → 440 Hz; ``"C#3"`` and ``"Bb2"`` work too."""
    letter, rest = name[0], name[1:]
    shift = 1 if rest.startswith("#") else -1 if rest.startswith("b") else 0
    octave = int(rest.lstrip("#b"))
    return 440.0 * 2 ** ((NOTE[letter] + shift + 12 * (octave + 1) - 69) / 12)


def _pluck(n: int, decay: float, attack: float = 0.003) -> np.ndarray:
    t = np.arange(n) / RATE
    return np.minimum(1.0, t / attack) * np.exp(-decay * t)


def track(chords: list[list[str]], bpm: float, seconds: float, seed: int) -> np.ndarray:
    """A (samples, 2) float32 array: the chord loop, one chord per bar of four beats."""
    n = int(seconds * RATE)
    beat = 60.0 / bpm
    out = np.zeros((n, 2), dtype=np.float64)
    t = np.arange(n) / RATE
    bar = int(4 * beat * RATE)
    rng = np.random.default_rng(seed)
    for start in range(0, n, bar):
        chord = [freq(c) for c in chords[(start // bar) % len(chords)]]
        end = min(n, start + bar + RATE // 2)  # the pad rings a little into the next bar
        tt = t[start:end] - t[start]
        env = np.minimum(1.0, tt / 0.6) * np.exp(-tt * 0.25) * np.minimum(1.0, (end - start - np.arange(end - start)) / (RATE * 0.5))
        pad = sum(np.sin(2 * np.pi * f * tt) + 0.5 * np.sin(2 * np.pi * f * 1.003 * tt + 1.0) for f in chord[1:])
        out[start:end, 0] += 0.05 * env * pad
        out[start:end, 1] += 0.05 * env * np.roll(pad, 40)  # a few samples apart: a wider image
        for b in (0, 2):  # bass: the chord's root an octave down, plucked
            s = start + int(b * beat * RATE)
            if s >= n:
                continue
            m = min(n - s, int(beat * 2 * RATE))
            tb = np.arange(m) / RATE
            bass = (np.sin(2 * np.pi * chord[0] / 2 * tb) + 0.3 * np.sin(2 * np.pi * chord[0] * tb)) * _pluck(m, 2.5, 0.015)
            out[s:s + m] += 0.14 * bass[:, None]
        for k in range(8):  # arpeggio on eighth notes, up and down the chord
            s = start + int(k * beat / 2 * RATE)
            if s >= n:
                continue
            f = chord[1:][[0, 1, 2, 1, 0, 1, 2, 1][k] % (len(chord) - 1)] * 2
            m = min(n - s, int(beat * 1.5 * RATE))
            ta = np.arange(m) / RATE
            note = (np.sin(2 * np.pi * f * ta) + 0.25 * np.sin(4 * np.pi * f * ta)) * _pluck(m, 6.0)
            pan = 0.35 if k % 2 else 0.65
            out[s:s + m, 0] += 0.06 * note * (1 - pan)
            out[s:s + m, 1] += 0.06 * note * pan
        for k in range(4):  # shaker on the off-beats: a short burst of high noise
            s = start + int((k + 0.5) * beat * RATE)
            m = min(n - s, int(0.08 * RATE))
            if m <= 0:
                continue
            burst = np.diff(rng.standard_normal(m + 1)) * _pluck(m, 60.0)  # diff: tilts the noise high
            out[s:s + m] += 0.012 * burst[:, None]
    echo = int(beat * 0.75 * RATE)  # a dotted-eighth echo softens the plucks
    out[echo:] += 0.25 * out[:-echo, ::-1]
    fade = np.minimum(1.0, np.minimum(t / 0.5, (seconds - t) / 1.5))[:, None]
    out *= np.clip(fade, 0.0, 1.0)
    out *= 0.7 / max(1e-9, float(np.abs(out).max()))  # peak about -3 dBFS
    return out.astype(np.float32)


def bed(kind: str, seconds: float, seed: int) -> np.ndarray:
    """A quiet sound bed for a clip: ``"room"`` (café murmur: soft low noise) or ``"pad"`` (a held chord)."""
    n = int(seconds * RATE)
    t = np.arange(n) / RATE
    if kind == "room":
        noise = np.random.default_rng(seed).standard_normal((n, 2))
        low = np.cumsum(noise, axis=0)  # brown noise: mostly low rumble
        low -= np.convolve(low[:, 0], np.ones(400) / 400, mode="same")[:, None]  # drop the drift
        sig = low / max(1e-9, float(np.abs(low).max())) * 0.12
    else:
        chord = [freq(c) for c in ("A3", "C#4", "E4", "A4")]
        mono = sum(np.sin(2 * np.pi * f * t) for f in chord) * (0.75 + 0.25 * np.sin(2 * np.pi * t / 4))
        sig = np.stack([mono, np.roll(mono, 60)], axis=1) * 0.04
    fade = np.clip(np.minimum(t / 0.3, (seconds - t) / 0.3), 0.0, 1.0)[:, None]
    return (sig * fade).astype(np.float32)
