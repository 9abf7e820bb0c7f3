"""Bench inputs, drawn with the engine's own FFmpeg (nothing is downloaded, nothing binary in git).

``typical_media`` makes the sources of the "typical job": phone-sized footage (portrait 1080×1920
at 25 and 30 fps, one landscape 1920×1080 clip that must be cover-cropped, one still photo), with
their own sound, and a 20 s background-music track. ``small_media`` makes 360×640 sources for the
batch benchmark. Files are made once and kept under ``bench/work/`` (git-ignored).
"""

from __future__ import annotations

import csv
import os
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sheet2video.engine.render import ffmpeg_exe

HEADERS = ["id", "media:Opening", "media:Product", "media:Closing", "titles", "speech", "bgm", "count",
           "max_duration", "width", "height", "crf", "voice", "bgm_volume", "shot_duration", "enabled"]

# The look columns of the shipped templates: the plain job (what render_vs_ffmpeg, MoviePy and the
# batch compare) switches them off; the looked job keeps the templates' defaults.
PLAIN = {"captions": "no", "transition": "none", "motion": "none", "fit": "cover"}
LOOK = {"captions": "yes", "transition": "fade", "motion": "auto", "fit": "blur"}
TYPICAL_HEADERS = HEADERS + list(PLAIN)

# About 17 s of espeak-ng speech at the default rate; capped to 15 s by max_duration.
SPEECH = ("Autumn is here at Harbor Bean. Our pumpkin spice latte is back, made fresh every morning "
          "with real pumpkin, warm spices and a double shot of espresso. Order ahead in the app, skip "
          "the line, and collect a star with every cup. Your tenth coffee is on us, so stop by this week. Come and see.")
TITLE = "Pumpkin Spice Latte is back!"


def _ffmpeg(args: list[str]) -> None:
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        raise RuntimeError(f"ffmpeg failed: {' '.join(cmd)}\n{proc.stderr}")


def _video(out: Path, source: str, size: str, fps: int, seconds: float, tone: float | None) -> list[str]:
    # length by -t: not every lavfi source takes d= (mandelbrot, life, cellauto run forever)
    args = ["-f", "lavfi", "-i", f"{source}=s={size}:r={fps}"]
    if tone:
        args += ["-f", "lavfi", "-i", f"sine=f={tone}:r=48000:d={seconds}"]
    args += ["-t", str(seconds)]
    # Camera-like encoding: main-profile H.264 with B-frames and CABAC, a 2 s GOP, AAC sound.
    args += ["-vf", "format=yuv420p", "-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-g", str(2 * fps)]
    args += ["-c:a", "aac", "-b:a", "128k", "-ac", "2"] if tone else ["-an"]
    return args + ["-movflags", "+faststart", str(out)]


def _make_all(folder: Path, jobs: dict[str, list[str]]) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    todo = {name: args for name, args in jobs.items() if not (folder / name).is_file() or (folder / name).stat().st_size == 0}

    def make(name: str) -> None:
        tmp = folder / f".tmp-{os.getpid()}-{name}"
        args = [str(tmp) if a == str(folder / name) else a for a in todo[name]]
        _ffmpeg(args)
        os.replace(tmp, folder / name)

    with ThreadPoolExecutor(max_workers=2) as pool:
        for future in [pool.submit(make, n) for n in todo]:
            future.result()
    return {name: folder / name for name in jobs}


def typical_media(folder: Path) -> dict[str, Path]:
    f = folder
    jobs = {
        "opening_1.mp4": _video(f / "opening_1.mp4", "testsrc2", "1080x1920", 25, 6, 440),
        "opening_2.mp4": _video(f / "opening_2.mp4", "testsrc2", "1920x1080", 30, 5, 523.25),
        "product_1.mp4": _video(f / "product_1.mp4", "testsrc2", "1080x1920", 30, 8, 659.25),
        "product_2.mp4": _video(f / "product_2.mp4", "testsrc2", "1080x1920", 25, 7, None),
        "closing_1.mp4": _video(f / "closing_1.mp4", "testsrc2", "1080x1920", 25, 5, 329.63),
        "photo_1.jpg": ["-f", "lavfi", "-i", "testsrc2=s=1080x1350", "-frames:v", "1", "-q:v", "3",
                        "-update", "1", str(f / "photo_1.jpg")],
        "bgm_1.m4a": ["-f", "lavfi", "-i",
                      "aevalsrc=exprs='0.1*sin(2*PI*220*t)+0.08*sin(2*PI*277.18*t)+0.06*sin(2*PI*329.63*t)':s=44100:c=stereo:d=20",
                      "-c:a", "aac", "-b:a", "128k", str(f / "bgm_1.m4a")],
    }
    return _make_all(folder, jobs)


def small_media(folder: Path) -> dict[str, Path]:
    f = folder
    jobs = {
        "opening_1.mp4": _video(f / "opening_1.mp4", "testsrc2", "360x640", 25, 6, 440),
        "opening_2.mp4": _video(f / "opening_2.mp4", "testsrc2", "640x360", 30, 5, None),
        "product_1.mp4": _video(f / "product_1.mp4", "testsrc2", "360x640", 25, 8, 659.25),
        "product_2.mp4": _video(f / "product_2.mp4", "testsrc2", "360x640", 30, 7, None),
        "closing_1.mp4": _video(f / "closing_1.mp4", "testsrc2", "360x640", 25, 5, 329.63),
        "photo_1.jpg": ["-f", "lavfi", "-i", "testsrc2=s=480x480", "-frames:v", "1", "-q:v", "3",
                        "-update", "1", str(f / "photo_1.jpg")],
        "bgm_1.m4a": ["-f", "lavfi", "-i", "aevalsrc=exprs='0.1*sin(2*PI*220*t)':s=44100:c=stereo:d=12",
                      "-c:a", "aac", "-b:a", "128k", str(f / "bgm_1.m4a")],
    }
    return _make_all(folder, jobs)


# The campaign benchmark's footage: 3 groups × 3 distinct clips (4 s, mostly portrait, one landscape
# to cover-crop, most with a tone), and 30 s of music: a chord pulsing at 120 bpm.
CAMPAIGN_GROUPS = {
    "Opening": [("testsrc2", "1080x1920", 25, 440), ("smptehdbars", "1920x1080", 30, 523.25),
                ("gradients", "1080x1920", 25, None)],
    "Product": [("mandelbrot", "1080x1920", 25, 659.25), ("rgbtestsrc", "1080x1920", 30, 587.33),
                ("sierpinski", "1080x1920", 25, 392)],
    "Closing": [("cellauto", "1080x1920", 25, 329.63), ("yuvtestsrc", "1080x1920", 30, None),
                ("testsrc", "1080x1920", 25, 493.88)],
}


def campaign_media(folder: Path, seconds: float = 4) -> dict[str, Path]:
    """The campaign's 9 clips (``<group>_<n>.mp4``) and ``music.m4a``; made once, kept."""
    jobs = {}
    for group, clips in CAMPAIGN_GROUPS.items():
        for n, (source, size, fps, tone) in enumerate(clips, 1):
            name = f"{group.lower()}_{n}.mp4"
            jobs[name] = _video(folder / name, source, size, fps, seconds, tone)
    pulse = "(0.6+0.4*sin(2*PI*2*t))"
    jobs["music.m4a"] = ["-f", "lavfi", "-i",
                         f"aevalsrc=exprs='{pulse}*(0.1*sin(2*PI*220*t)+0.08*sin(2*PI*277.18*t)+0.06*sin(2*PI*329.63*t))'"
                         ":s=44100:c=stereo:d=30", "-c:a", "aac", "-b:a", "128k", str(folder / "music.m4a")]
    return _make_all(folder, jobs)


def typical_row(job_id: str = "typical", *, count: int = 1, max_duration: float = 15, width: int = 1080,
                height: int = 1920, speech: str = SPEECH, look: dict[str, str] = PLAIN) -> list:
    """One campaign row: 3 media groups, a title, a voice-over, background music, CRF 27, and the
    look columns (``TYPICAL_HEADERS``)."""
    return [
        job_id,
        "opening_1.mp4\nopening_2.mp4",
        "product_1.mp4\nphoto_1.jpg\nproduct_2.mp4",
        "closing_1.mp4",
        TITLE,
        speech,
        "bgm_1.m4a",
        count,
        max_duration,
        width,
        height,
        27,
        "en",
        0.3,
        3,
        "yes",
        *(look[k] for k in PLAIN),
    ]


def write_csv(path: Path, rows: list[list], headers: list[str] = TYPICAL_HEADERS) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(headers)
        writer.writerows(rows)
    return path
