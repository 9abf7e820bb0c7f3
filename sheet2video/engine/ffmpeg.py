"""The FFmpeg binary: where it is, what it can do, and how a child FFmpeg dies with the engine."""

from __future__ import annotations

import ctypes
import functools
import os
import re
import signal
import subprocess
import sys

__all__ = ["ffmpeg_exe", "is_modern", "FFMPEG_ENV", "die_with", "CAN_DIE_WITH", "run"]

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



# Linux: FFmpeg gets SIGKILL when the engine dies (kill -9, the OOM killer) instead of running on
# as an orphan. (The signal follows the thread that started FFmpeg; that thread waits for it, so
# only death sends it.)
_PR_SET_PDEATHSIG = 1
_PRCTL = ctypes.CDLL(None, use_errno=True).prctl if sys.platform == "linux" else None
CAN_DIE_WITH = _PRCTL is not None


def die_with(parent: int) -> None:
    """Have this process killed (SIGKILL) when its parent dies; exit now if ``parent`` is gone
    already. Safe between fork and exec (no locks, no imports); nothing off Linux."""
    if _PRCTL is None:
        return
    _PRCTL(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before the line above: nobody is left to signal us
        os._exit(1)


def _in_child(parent: int, nice: int) -> None:
    die_with(parent)
    if nice:
        os.nice(nice)


def run(argv: list[str], *, timeout: float, capture: bool = False, nice: int = 0) -> subprocess.CompletedProcess:
    """A short FFmpeg run (a poster, a probe, a measurement) that dies with the engine; stdout
    discarded, stderr returned as text when ``capture``; ``nice`` > 0 yields the CPU to the API (as
    a render does). Raises OSError, subprocess.TimeoutExpired."""
    in_child = functools.partial(_in_child, os.getpid(), nice) if CAN_DIE_WITH or (nice and hasattr(os, "nice")) else None
    return subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE if capture else subprocess.DEVNULL, timeout=timeout,
                          text=capture, errors="replace" if capture else None, preexec_fn=in_child)
