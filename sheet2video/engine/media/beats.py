"""Beat times of a music file, for cuts on the beat: a small estimator of our own (numpy only).

Method (Ellis 2007, "Beat tracking by dynamic programming", the method behind librosa's
``beat_track``), on the first :data:`MAX_SECONDS` of the file's first audio stream:

1. FFmpeg decodes it through the engine's guards (the probed demuxer forced, local files only, a
   timeout in proportion to the length) to mono float32 PCM at :data:`RATE` Hz: samples, never a
   picture, are all Python sees;
2. onset strength: spectral flux — how much the mildly compressed magnitude spectrum rose from one
   46 ms frame to the next (11.6 ms apart), in blocks so memory stays flat whatever the length;
3. tempo: the autocorrelation of the onset strength at a lag plus at twice that lag (a beat that
   the half-bar repeats too), weighted by a log-normal prior centred on 120 BPM, one octave wide;
4. beats: dynamic programming picks the onset peaks that best fit that period (each gap may
   stretch or shrink, at a cost growing with the squared log of the ratio), then weak beats at the
   two ends (a fade, a silent lead-in) are dropped.

Silence gives no beats, and so does sound without a pulse (white noise, rain, speech): the
autocorrelation at the chosen period must stand out from what noise of the same length reaches
(see :func:`estimate_period`), else the list is empty rather than a grid of guesses.

Why our own and not librosa 0.11 (``python -m bench --only beats``, bench/beats_bench.py): on click
tracks at 60-174 BPM and drum patterns both find the beats (F-measure at ±70 ms 0.98-1.0 here,
0.95-1.0 librosa), the beats found 3-6 ms off here against 18-35 ms (median); on the demo music
librosa puts every beat on the off-beat shaker (F 0.0, as a decibel spectral flux did here), this
one on the beat (F 0.95-0.97, only beats inside the fades missed); on white noise librosa returns 14
guessed beats in 10 s, this none; 10 minutes take 1.2 s here against 2.9-4.6 s, plus 3-6 s of
imports and numba compilation on librosa's first call; librosa would add 400 MB to the install.
"""

from __future__ import annotations

import os
import subprocess
import tempfile

import numpy as np

from sheet2video.engine.ffmpeg import ffmpeg_exe, run as run_ffmpeg
from sheet2video.engine.media.formats import CORRUPT, ffmpeg_input
from sheet2video.engine.media.probe import MediaInfo
from sheet2video.errors import RenderError

__all__ = ["beat_times", "onset_strength", "estimate_period", "track_beats", "pulse_needed", "RATE", "HOP",
           "MAX_SECONDS"]

RATE = 11025  # Hz: the onsets of drums, plucks and clicks are all well under 5.5 kHz
N_FFT = 512  # 46 ms frames: short enough to place an onset, long enough for the bass
HOP = 128  # 11.6 ms between frames (86 a second)
MAX_SECONDS = 600.0  # the first 10 minutes: longer than any video made here
TEMPO_BPM, TEMPO_OCTAVES = 120.0, 1.0  # the prior on the tempo
MIN_BPM, MAX_BPM = 40.0, 240.0
TIGHTNESS = 100.0  # how strongly the dynamic programming keeps to the period (librosa's default)
# White noise's best autocorrelation (over lag 0) falls as 1/sqrt(length): measured at most
# 0.55/sqrt(seconds) over 40 noises of 4-120 s. The pulse needed sits about 1.5x above that,
# within these bounds; the demo music scores 0.43-0.68 even on 4 s of it, drum patterns 0.67-0.86.
PULSE_NOISE, PULSE_MIN, PULSE_MAX = 0.8, 0.1, 0.35
SILENCE = 1e-4  # peak amplitude (-80 dBFS) under which the file counts as silent
COMPRESSION = 3.0  # of the magnitude spectrum, see onset_strength
_BLOCK = 4096  # frames per block of the spectrum (8 MB of float32)


def beat_times(path: str, info: MediaInfo) -> list[float]:
    """Beat times in seconds from the start of ``path`` (a probed file), ascending; empty when it has
    no audio, is silent or has no pulse. Raises ``RenderError`` when FFmpeg cannot decode it."""
    if not info.has_audio:
        return []
    samples = _decode(path, info)
    if samples.size < N_FFT or float(np.abs(samples).max(initial=0.0)) < SILENCE:
        return []
    envelope = onset_strength(samples)
    period = estimate_period(envelope)
    if period is None:
        return []
    frames = track_beats(envelope, period)
    # a frame's centre: measured within 6 ms of the onset (clicks 5 ms early, the demo music 4 ms late)
    return [round(float(f) * HOP / RATE, 4) for f in frames]


def _decode(path: str, info: MediaInfo) -> np.ndarray:
    """The first audio stream, mono at :data:`RATE`, as float32 (at most :data:`MAX_SECONDS`).

    FFmpeg writes raw PCM to a private temporary file (``ffmpeg.run`` keeps no stdout)."""
    seconds = min(MAX_SECONDS, info.duration or info.container_duration or MAX_SECONDS)
    with tempfile.TemporaryDirectory(prefix="sheet2video-beats-") as tmp:
        raw = os.path.join(tmp, "pcm.f32")
        argv = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-nostats", "-loglevel", "error", "-t", f"{MAX_SECONDS:g}",
                *ffmpeg_input(path, info.demuxer or None), "-vn", "-sn", "-dn",
                "-map", "0:a:0", "-ac", "1", "-ar", str(RATE), "-f", "f32le", raw]
        try:
            proc = run_ffmpeg(argv, timeout=30.0 + seconds / 4, capture=True)
        except (OSError, subprocess.SubprocessError) as exc:
            raise RenderError(f"{os.path.basename(path)}: cannot read the music's beats ({type(exc).__name__})",
                              code=CORRUPT) from None
        if proc.returncode != 0 or not os.path.isfile(raw):
            why = (proc.stderr or "").strip().splitlines()[-1:] or ["FFmpeg failed"]
            raise RenderError(f"{os.path.basename(path)}: cannot read the music's beats ({why[0]})", code=CORRUPT)
        samples = np.fromfile(raw, dtype="<f4")
    return np.nan_to_num(samples, copy=False)


def onset_strength(samples: np.ndarray) -> np.ndarray:
    """Spectral flux per frame (:data:`HOP` samples apart, frame ``i`` centred on sample ``i·HOP``):
    how much the compressed magnitude spectrum rose since the frame before, averaged over frequency.

    The compression is mild (``log1p(COMPRESSION · |X| / full scale)``, nearly linear): loud onsets
    (a kick, a bass note) outweigh quiet broadband ones (a shaker, a hi-hat). A decibel spectrum
    weighs them alike and put the demo music's beats on its off-beat shaker (measured)."""
    padded = np.pad(samples.astype(np.float32, copy=False), N_FFT // 2)
    count = 1 + (padded.size - N_FFT) // HOP
    frames = np.lib.stride_tricks.sliding_window_view(padded, N_FFT)[::HOP][:count]
    window = np.hanning(N_FFT).astype(np.float32)
    # the magnitude of a sine at the file's peak amplitude: the result does not depend on the gain
    full_scale = max(float(np.abs(samples).max(initial=0.0)), 1e-12) * float(window.sum()) / 2
    flux = np.zeros(count, dtype=np.float32)
    previous = None
    for start in range(0, count, _BLOCK):
        level = np.log1p(np.abs(np.fft.rfft(frames[start:start + _BLOCK] * window)) * (COMPRESSION / full_scale))
        before = np.vstack([level[:1] if previous is None else previous, level[:-1]])
        flux[start:start + len(level)] = np.maximum(level - before, 0.0).mean(axis=1)
        previous = level[-1:]
    return flux


def estimate_period(envelope: np.ndarray) -> float | None:
    """The beat period in frames (fractional), or None when the onsets have no clear pulse: the
    autocorrelation at the period, over its value at lag 0, under :func:`pulse_needed`."""
    fps = RATE / HOP
    shortest, longest = int(fps * 60 / MAX_BPM), int(np.ceil(fps * 60 / MIN_BPM))
    x = envelope - envelope.mean()
    x = np.convolve(x, np.exp(-0.5 * np.arange(-3, 4) ** 2), mode="same")  # a peak between two frames
    if x.size <= 2 * longest or not np.any(x):
        return None
    n = 1 << int(np.ceil(np.log2(2 * x.size)))
    spectrum = np.fft.rfft(x, n)
    ac = np.fft.irfft(spectrum * np.conj(spectrum), n)[: 2 * longest + 4]
    if ac[0] <= 0:
        return None
    lags = np.arange(shortest, longest + 1)
    bpm = 60.0 * fps / lags
    prior = np.exp(-0.5 * (np.log2(bpm / TEMPO_BPM) / TEMPO_OCTAVES) ** 2)
    best = int(lags[np.argmax((ac[lags] + ac[2 * lags]) * prior)])
    if ac[best] / ac[0] < pulse_needed(x.size / fps):
        return None
    a, b, c = ac[best - 1], ac[best], ac[best + 1]  # a parabola through the peak: a fraction of a frame
    bend = a - 2 * b + c
    return best + (0.5 * (a - c) / bend if bend < 0 else 0.0)


def pulse_needed(seconds: float) -> float:
    """The autocorrelation a pulse must reach on ``seconds`` of sound (noise's best falls with length)."""
    return min(PULSE_MAX, max(PULSE_MIN, PULSE_NOISE / max(seconds, 1e-9) ** 0.5))


def track_beats(envelope: np.ndarray, period: float) -> list[int]:
    """Beat frames: Ellis's dynamic programming over the onset strength at that period."""
    std = envelope.std()
    if std <= 0:
        return []
    onset = envelope / std
    width = np.arange(-int(period), int(period) + 1)  # a short Gaussian: each onset counts a little early or late
    local = np.convolve(onset, np.exp(-0.5 * (width * 32.0 / period) ** 2), mode="same")
    back = np.arange(-int(round(2 * period)), -int(round(period / 2)) + 1)  # where the beat before may be
    cost = -TIGHTNESS * np.log(-back / period) ** 2
    score = np.empty_like(local)
    link = np.full(local.size, -1, dtype=np.int64)
    started = False
    threshold = 0.01 * float(local.max())
    for i in range(local.size):
        first = max(0, -(i + back[0]))  # the candidates before the start are skipped
        if first >= back.size or (not started and local[i] < threshold):
            score[i] = local[i]
            continue
        started = True
        candidates = score[i + back[first:]] + cost[first:]
        best = int(np.argmax(candidates))
        score[i] = local[i] + candidates[best]
        link[i] = i + back[first + best]
    beats = [_last_beat(score)]
    while link[beats[-1]] >= 0:
        beats.append(int(link[beats[-1]]))
    return _trim(local, beats[::-1])


def _last_beat(score: np.ndarray) -> int:
    """The last local maximum of the cumulated score that is not far below the others (not a fade)."""
    peaks = np.flatnonzero((score[1:-1] > score[:-2]) & (score[1:-1] >= score[2:])) + 1
    if peaks.size == 0:
        return int(np.argmax(score))
    good = peaks[score[peaks] >= 0.5 * np.median(score[peaks])]
    return int(good[-1]) if good.size else int(peaks[-1])


def _trim(local: np.ndarray, beats: list[int]) -> list[int]:
    """Drop the leading and trailing beats whose onset strength is weak (a fade, a silent lead-in)."""
    if not beats:
        return beats
    smooth = np.convolve(local[beats], np.hanning(5), mode="same")
    threshold = 0.5 * float(np.sqrt(np.mean(smooth ** 2)))
    keep = np.flatnonzero(smooth >= threshold)
    return beats[keep[0]:keep[-1] + 1] if keep.size else []
