"""EBU R128 loudness of an audio file, measured once with FFmpeg's ``ebur128`` filter.

The mix is normalised from levels known before the render (the voice-over is synthesised, the
music is one file): each input gets a fixed gain, so no output needs a two-pass ``loudnorm``.
Results are cached per (path, size, mtime) for the life of the process.
"""

from __future__ import annotations

import functools
import math
import os
import re
import subprocess
from dataclasses import dataclass

from sheet2video.engine.ffmpeg import ffmpeg_exe

__all__ = ["Loudness", "measure", "DEFAULT_TARGET", "MUSIC_UNDER_SPEECH", "TRUE_PEAK"]

DEFAULT_TARGET = -16.0    # LUFS: the usual target for short video on phones
MUSIC_UNDER_SPEECH = 12.0  # LU: music (at the default volume) sits this far under the voice
TRUE_PEAK = -1.0          # dBTP ceiling of the mix

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
    argv += ["-i", path, "-vn", "-sn", "-map", "0:a:0", "-af", "ebur128=framelog=quiet:peak=true", "-f", "null", "-"]
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    except (OSError, subprocess.SubprocessError):
        return None
    i, peak = _I.search(proc.stderr), _PEAK.search(proc.stderr)
    if proc.returncode != 0 or not i or not peak:
        return None

    def value(s: str) -> float:
        return -math.inf if s == "-inf" else float(s)

    return Loudness(value(i.group(1)), value(peak.group(1)))
