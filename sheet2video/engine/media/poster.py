"""A poster frame for each finished video: what a reviewer sees before pressing play.

Extracted by FFmpeg from the checked file before it is renamed into place, so a finished video
always has its poster (``out.mp4`` → ``out.jpg``, next to it). The frame is taken a third of the
way in (capped at 3 s): past the first cut and fade-in, with the title already on screen.
GetMediaInfo's cover of an input is extracted the same way, with the demuxer its probe checked.
"""

from __future__ import annotations

import os
import subprocess

from sheet2video.engine.ffmpeg import ffmpeg_exe, run as run_ffmpeg
from sheet2video.engine.media.formats import ffmpeg_input

__all__ = ["POSTER_WIDTH", "POSTER_SUFFIX", "poster_path", "poster_time", "extract_poster"]

POSTER_WIDTH = 480  # a gallery card, not a thumbnail strip: sharp on a 2x screen at 240 px
POSTER_SUFFIX = ".jpg"


def poster_path(video: str | os.PathLike) -> str:
    """Where the poster of ``video`` lives: the same name with ``.jpg``."""
    root, _ = os.path.splitext(os.fspath(video))
    return root + POSTER_SUFFIX


def poster_time(duration: float) -> float:
    return max(0.0, min(duration / 3, 3.0))


def extract_poster(video: str, dest: str, duration: float, *, timeout: float = 60, demuxer: str = "mov") -> bool:
    """Write one JPEG frame of ``video`` to ``dest`` atomically; False if FFmpeg could not.
    ``demuxer``: how to read ``video`` (a render's MP4 by default; an input: what its probe checked)."""
    tmp = f"{dest}.{os.getpid()}.part.jpg"
    argv = [
        ffmpeg_exe(), "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
        "-ss", f"{poster_time(duration):.3f}", *ffmpeg_input(video, demuxer),
        "-frames:v", "1", "-an",
        "-vf", f"scale='min({POSTER_WIDTH},iw)':-2:flags=bicubic",
        "-q:v", "3", "-f", "image2", "-update", "1", tmp,  # one literal file: a "%" in the name is no pattern
    ]
    try:
        done = run_ffmpeg(argv, timeout=timeout)  # dies with the engine (PR_SET_PDEATHSIG), as a render does
        if done.returncode != 0 or not os.path.isfile(tmp) or os.path.getsize(tmp) == 0:
            return False
        os.replace(tmp, dest)
        return True
    except (OSError, subprocess.TimeoutExpired):
        return False
    finally:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
