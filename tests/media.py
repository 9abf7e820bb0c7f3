"""Generate small test media with the same FFmpeg the engine uses (nothing binary lives in git)."""

from __future__ import annotations

import os
import subprocess

from sheet2video.engine.render import ffmpeg_exe

__all__ = ["make_video", "make_image", "make_tone", "make_clicks", "ffmpeg"]


def ffmpeg(*args: str) -> None:
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"ffmpeg failed: {' '.join(cmd)}\n{proc.stderr}")


def make_video(
    path: str | os.PathLike,
    seconds: float = 2.0,
    size: str = "320x240",
    *,
    color: str | None = None,
    pattern: str = "testsrc2",
    fps: int = 25,
    with_audio: float | None = None,
) -> str:
    """An H.264 MP4: a solid ``color`` or a moving lavfi ``pattern``; with a sine tone of
    ``with_audio`` Hz when given."""
    path = os.fspath(path)
    src = f"color=c={color}:s={size}:r={fps}:d={seconds}" if color else f"{pattern}=s={size}:r={fps}:d={seconds}"
    args = ["-f", "lavfi", "-i", src]
    if with_audio:
        args += ["-f", "lavfi", "-i", f"sine=frequency={with_audio}:sample_rate=44100:duration={seconds}"]
    args += ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
    if with_audio:
        args += ["-c:a", "aac", "-b:a", "96k"]
    ffmpeg(*args, path)
    return path


def make_image(path: str | os.PathLike, size: str = "320x240", color: str = "blue") -> str:
    """A still image; the format follows the extension (png, jpg, webp…)."""
    path = os.fspath(path)
    ffmpeg("-f", "lavfi", "-i", f"color=c={color}:s={size}", "-frames:v", "1", "-update", "1", path)
    return path


def make_tone(path: str | os.PathLike, seconds: float = 2.0, freq: float = 440.0) -> str:
    """A mono sine tone; WAV, or whatever the extension says."""
    path = os.fspath(path)
    ffmpeg("-f", "lavfi", "-i", f"sine=frequency={freq}:sample_rate=44100:duration={seconds}", path)
    return path


def make_clicks(path: str | os.PathLike, bpm: float, seconds: float = 20.0, *, offset: float = 0.0,
                noise: float = 0.0, rate: int = 44100, seed: int = 0) -> list[float]:
    """A click track — a 1 kHz click decaying in 5 ms on every beat from ``offset`` on, over white
    noise of RMS ``noise`` when given — as WAV, or whatever the extension says; returns the beat
    times (the true grid: tests/engine/media/test_beats.py, bench/beats_bench.py)."""
    import wave

    import numpy as np

    path = os.fspath(path)
    n = int(seconds * rate)
    t = np.arange(int(0.03 * rate)) / rate
    click = 0.5 * np.sin(2 * np.pi * 1000 * t) * np.exp(-t / 0.005)
    beats = [offset + k * 60.0 / bpm for k in range(int((seconds - offset) * bpm / 60) + 1)]
    beats = [b for b in beats if b < seconds - 0.1]
    x = np.random.default_rng(seed).standard_normal(n) * noise if noise else np.zeros(n)
    for b in beats:
        start = int(round(b * rate))
        x[start:start + click.size] += click[: n - start]
    wav = path if path.endswith(".wav") else f"{path}.tmp.wav"
    with wave.open(wav, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes((np.clip(x, -1, 1) * 32767).astype("<i2").tobytes())
    if wav != path:
        try:
            ffmpeg("-i", wav, path)
        finally:
            os.unlink(wav)
    return beats
