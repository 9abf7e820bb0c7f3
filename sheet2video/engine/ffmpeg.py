"""The FFmpeg binary: where it is and what it can do."""

from __future__ import annotations

import functools
import os
import re
import subprocess

__all__ = ["ffmpeg_exe", "is_modern", "FFMPEG_ENV"]

FFMPEG_ENV = "SHEET2VIDEO_FFMPEG"


def ffmpeg_exe() -> str:
    """``$SHEET2VIDEO_FFMPEG`` if set, else the FFmpeg shipped in the imageio-ffmpeg wheel."""
    configured = os.environ.get(FFMPEG_ENV)
    if configured:
        return configured
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


@functools.lru_cache(maxsize=None)
def _ffmpeg_major(exe: str) -> int | None:
    """FFmpeg's major version, or None when it cannot be told (git builds: assume current)."""
    try:
        out = subprocess.run([exe, "-hide_banner", "-version"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    m = re.search(r"ffmpeg version n?(\d+)\.", out)
    return int(m.group(1)) if m else None


def is_modern(exe: str) -> bool:
    """FFmpeg >= 7: ``-/filter_complex FILE`` (``-filter_complex_script`` is gone in 8+) and
    drawtext ``y_align``."""
    major = _ffmpeg_major(exe)
    return major is None or major >= 7

