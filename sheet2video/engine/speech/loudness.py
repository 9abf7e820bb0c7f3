"""EBU R128 loudness of an audio file, measured once with FFmpeg's ``ebur128`` filter.

The mix is normalised from levels known before the render (the voice-over is synthesised, the
music is one file): each input gets a fixed gain, so no output needs a two-pass ``loudnorm``.
Results are cached per (path, size, mtime) for the life of the process. Files are opened through
``media.formats`` (local files, demuxers from its list: a music file cannot be a playlist).
"""

from __future__ import annotations

import functools
import math
import os
import re
import subprocess
import uuid
from dataclasses import dataclass

from sheet2video.engine.ffmpeg import ffmpeg_exe, run as run_ffmpeg
from sheet2video.engine.media.formats import ffmpeg_input, own_input

__all__ = ["Loudness", "measure", "levelled", "DEFAULT_TARGET", "MUSIC_UNDER_SPEECH", "TRUE_PEAK", "LIMIT"]

DEFAULT_TARGET = -16.0    # LUFS: the usual target for short video on phones
MUSIC_UNDER_SPEECH = 14.0  # LU: music (default volume) under the voice while it speaks; its bed is DUCK_DB higher
TRUE_PEAK = -1.0          # dBTP ceiling of the mix
# Sample-peak ceiling: -1 dBTP less a margin for inter-sample peaks (alimiter does not oversample).
LIMIT = 10 ** (-2.0 / 20)

_I = re.compile(r"^\s*I:\s*(-?[\d.]+|-inf)\s*LUFS", re.M)
_PEAK = re.compile(r"True peak:\s*\n\s*Peak:\s*(-?[\d.]+|-inf)\s*dBFS", re.M)


@dataclass(frozen=True)
class Loudness:
    integrated: float  # LUFS; -inf for silence
    true_peak: float  # dBTP


def measure(path: str, *, seconds: float | None = None) -> Loudness | None:
    """Integrated loudness and true peak of ``path`` (the first ``seconds`` if given), or None
    when FFmpeg cannot read it."""
    path = os.path.abspath(path)
    try:
        st = os.stat(path)
    except OSError:
        return None
    return _measure(path, st.st_size, st.st_mtime_ns, seconds)


@functools.lru_cache(maxsize=4096)
def _measure(path: str, size: int, mtime_ns: int, seconds: float | None) -> Loudness | None:
    argv = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-nostats"]
    if seconds:
        argv += ["-t", f"{seconds:.3f}"]
    argv += [*ffmpeg_input(path, None), "-vn", "-sn", "-map", "0:a:0", "-af", "ebur128=framelog=quiet:peak=true",
             "-f", "null", "-"]
    try:
        proc = run_ffmpeg(argv, timeout=300, capture=True)
    except (OSError, subprocess.SubprocessError):
        return None
    i, peak = _I.search(proc.stderr), _PEAK.search(proc.stderr)
    if proc.returncode != 0 or not i or not peak:
        return None

    def value(s: str) -> float:
        return -math.inf if s == "-inf" else float(s)

    return Loudness(value(i.group(1)), value(peak.group(1)))


def levelled(path: str, target: float) -> tuple[str, Loudness | None]:
    """A copy of a voice-over WAV brought to ``target`` LUFS and peak-limited, made once (cached
    beside it), and its measured loudness. A synthetic voice has a high crest: gaining it up and
    limiting it in the mix would land it a dB or more under the target; levelled here, the mix
    gains it by ~0 and its limiter has little left to do."""
    out = f"{os.path.splitext(path)[0]}.lufs{target:g}.wav"
    if os.path.isfile(out):  # levelled before (the cache outlives the process)
        done = measure(out)
        if done is not None:
            return out, done
    level = measure(path)
    if level is None or not math.isfinite(level.integrated):
        return path, level
    gain, done = target - level.integrated, None
    for _ in range(2):  # the limiter takes some loudness away: correct once
        tmp = f"{out}.{uuid.uuid4().hex[:12]}.tmp.wav"  # planner threads may level the same line
        argv = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *own_input(path, "wav"),
                "-af", f"volume={gain:.2f}dB,alimiter=limit={LIMIT:.4f}:level=0:latency=1", "-c:a", "pcm_s16le", tmp]
        try:
            ok = run_ffmpeg(argv, timeout=300).returncode == 0
        except (OSError, subprocess.SubprocessError):
            ok = False
        if not ok:
            if os.path.exists(tmp):
                os.unlink(tmp)
            return path, level
        os.replace(tmp, out)
        done = measure(out)
        if done is None or abs(done.integrated - target) <= 0.3:
            break
        gain += target - done.integrated
    return (out, done) if done is not None else (path, level)
