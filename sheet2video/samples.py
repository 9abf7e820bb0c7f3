"""Small sample media for the example sheets, the demo and the tests.

``generate_sample_media(folder)`` draws every file with FFmpeg's built-in ``lavfi`` sources
(no downloads, no binaries in git): short video clips in portrait and landscape (some with an
audio tone, some silent, two frame rates), still images, two background-music tracks and a
transparent logo for stickers. Each clip carries a visible label ("Opening 1") and a running
timestamp, so a rendered video shows which media and which part of it was used.

Run it from a shell with ``python -m sheet2video.samples FOLDER [--force]``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from sheet2video.errors import RenderError

__all__ = ["SAMPLES", "Sample", "ffmpeg_exe", "generate_sample_media"]

FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
FONT_BOLD = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")


@dataclass(frozen=True)
class Sample:
    """One sample file: what it is and how it is drawn."""

    name: str
    kind: str  # "video", "image" or "audio"
    source: str  # lavfi video source (video/image) or audio expression (audio)
    width: int = 0
    height: int = 0
    duration: float = 0.0  # seconds; 0 for images
    fps: int = 25
    audio: str | None = None  # lavfi audio source for a video's sound track, None = silent
    label: str | None = None  # visible text drawn on videos and images
    post: str = ""  # extra video filters applied before the labels

    @property
    def has_audio(self) -> bool:
        return self.kind == "audio" or self.audio is not None


def _chords(chords: list[list[float]], seconds: float, volume: float = 0.12) -> str:
    """An ``aevalsrc`` expression playing each chord for ``seconds`` with a soft pluck envelope."""
    n = len(chords)
    phase = f"mod(t,{seconds})"
    env = f"min(1,{phase}*25)*(0.35+0.65*exp(-0.9*{phase}))"
    expr = "0"
    for i in reversed(range(n)):
        tones = "+".join(f"sin(2*PI*{f:g}*t)" for f in chords[i])
        expr = tones if i == n - 1 else f"if(eq(mod(floor(t/{seconds}),{n}),{i}),{tones},{expr})"
    return f"{volume:g}*{env}*({expr})"


_C, _E, _G, _A, _F, _D, _B = 261.63, 329.63, 392.00, 440.00, 349.23, 293.66, 493.88

# The set the example sheets reference. Sizes mix portrait, landscape and square so that
# cover-fit matters; frame rates mix 25 and 30 so that joining clips needs normalising.
SAMPLES: tuple[Sample, ...] = (
    Sample("opening_1.mp4", "video", "testsrc2=s=360x640", 360, 640, 5, 25,
           audio="sine=f=440:r=44100", label="Opening 1"),
    Sample("opening_2.mp4", "video", "gradients=s=640x360:speed=0.03:c0=0xF2A65A:c1=0x6B3E26:seed=7",
           640, 360, 4, 25, label="Opening 2"),
    Sample("opening_3.mp4", "video", "smptebars=s=640x360", 640, 360, 4, 30,
           audio="sine=f=523.25:r=48000", label="Opening 3"),
    Sample("product_1.mp4", "video", "mandelbrot=s=360x640:maxiter=256", 360, 640, 6, 25,
           label="Product 1"),
    Sample("product_2.mp4", "video", "life=s=160x90:mold=10:ratio=0.12:life_color=0x66CC99:death_color=0x224433",
           640, 360, 5, 25, audio="sine=f=659.25:r=44100", label="Product 2",
           post="scale=640:360:flags=neighbor"),
    Sample("product_3.mp4", "video", "cellauto=s=90x160:rule=30:random_fill_ratio=0.5:scroll=1",
           360, 640, 8, 30, label="Product 3",
           post="scale=360:640:flags=neighbor,format=rgb24,colorchannelmixer=rr=0.9:gg=0.6:bb=0.3"),
    Sample("product_4.mp4", "video", "testsrc2=s=640x360", 640, 360, 6, 25,
           audio="anoisesrc=color=pink:amplitude=0.08:r=48000,pan=stereo|c0=c0|c1=c0", label="Product 4"),
    Sample("product_5.mp4", "video", "gradients=s=360x640:speed=0.05:c0=0x2E86AB:c1=0xF6F5AE:c2=0xA23B72:n=3:seed=3",
           360, 640, 5, 30, audio="sine=f=392:r=44100", label="Product 5"),
    Sample("closing_1.mp4", "video", "color=c=0x2E4057:s=360x640", 360, 640, 4, 25,
           audio="sine=f=329.63:r=44100", label="Closing 1"),
    Sample("closing_2.mp4", "video", "gradients=s=640x360:speed=0.02:c0=0x3D2B1F:c1=0xC9A66B:seed=11",
           640, 360, 5, 25, label="Closing 2"),
    Sample("photo_1.png", "image", "gradients=s=480x480:c0=0xE07A5F:c1=0x3D405B:seed=5", 480, 480,
           label="Photo 1"),
    Sample("photo_2.jpg", "image", "mandelbrot=s=640x360:maxiter=128:start_scale=1.5", 640, 360,
           label="Photo 2"),
    Sample("photo_3.jpg", "image", "smptehdbars=s=360x640", 360, 640, label="Photo 3"),
    Sample("bgm_1.m4a", "audio", _chords([[_C, _E, _G, _C / 2], [_F, _A, _C * 2, _F / 2],
                                           [_G, _B, _D * 2, _G / 2], [_C, _E, _G, _C / 2]], 4),
           duration=16),
    Sample("bgm_2.mp3", "audio", _chords([[_A, _C * 2, _E * 2, _A / 2], [_F, _A, _C * 2, _F / 2],
                                           [_C, _E, _G, _C / 2], [_G, _B, _D * 2, _G / 2]], 3),
           duration=12),
    Sample("logo.png", "image", "color=c=black@0:s=256x256", 256, 256, label="S2V"),
)


def ffmpeg_exe() -> str:
    """The FFmpeg binary: ``$SHEET2VIDEO_FFMPEG`` if set, else the one in the imageio-ffmpeg wheel."""
    exe = os.environ.get("SHEET2VIDEO_FFMPEG")
    if exe:
        return exe
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def _drawtext(text: str, font: Path, size: str, y: str, *, literal: bool = True) -> str:
    # Labels are our own constants; keep them free of characters that need filtergraph escaping.
    assert literal is False or all(c.isalnum() or c == " " for c in text), text
    mode = "expansion=none:" if literal else ""
    return (f"drawtext=fontfile={font}:{mode}text='{text}':fontsize={size}:fontcolor=white"
            f":box=1:boxcolor=black@0.55:boxborderw=12:x=(w-tw)/2:y={y}")


def _labels(sample: Sample) -> list[str]:
    if not sample.label or not FONT.exists():
        return []
    bold = FONT_BOLD if FONT_BOLD.exists() else FONT
    filters = [_drawtext(sample.label, bold, "min(w\\,h)/9", "h*0.12")]
    if sample.kind == "video":
        filters.append(_drawtext("%{pts\\:hms}", FONT, "min(w\\,h)/16", "h-th-h*0.08", literal=False))
    return filters


def _command(sample: Sample, out: Path) -> list[str]:
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y"]
    if sample.kind == "audio":
        cmd += ["-f", "lavfi", "-i", f"aevalsrc=exprs='{sample.source}':s=44100:c=stereo",
                "-af", f"afade=t=in:d=0.5,afade=t=out:st={sample.duration - 1.5:g}:d=1.5",
                "-t", f"{sample.duration:g}", "-ac", "2"]
        cmd += ["-c:a", "aac", "-b:a", "128k"] if out.suffix == ".m4a" else (
            ["-c:a", "libmp3lame", "-b:a", "128k"] if out.suffix == ".mp3" else ["-c:a", "pcm_s16le"])
        if out.suffix == ".m4a":
            cmd += ["-movflags", "+faststart"]
        return cmd + [str(out)]

    rate = f":r={sample.fps}" if sample.kind == "video" else ""
    cmd += ["-f", "lavfi", "-i", sample.source + rate]
    filters = [f for f in [sample.post] if f]
    if sample.name == "logo.png":
        # An orange disc on a transparent square, with soft (alpha) edges.
        filters += ["format=rgba",
                    "geq=r='255':g='140':b='40':a='255*clip((118-hypot(X-128\\,Y-128))/3\\,0\\,1)'"]
        if FONT.exists():
            bold = FONT_BOLD if FONT_BOLD.exists() else FONT
            filters.append(f"drawtext=fontfile={bold}:expansion=none:text='S2V':fontsize=72"
                           ":fontcolor=white:x=(w-tw)/2:y=(h-th)/2")
        return cmd + ["-vf", ",".join(filters), "-frames:v", "1", "-pix_fmt", "rgba", str(out)]

    filters += _labels(sample)
    if sample.kind == "image":
        filters.append("format=rgb24" if out.suffix == ".png" else "format=yuvj420p")
        return cmd + ["-vf", ",".join(filters), "-frames:v", "1", "-q:v", "3", str(out)]

    if sample.audio:
        cmd += ["-f", "lavfi", "-i", sample.audio]
    filters.append("format=yuv420p")
    cmd += ["-vf", ",".join(filters), "-t", f"{sample.duration:g}",
            "-c:v", "libx264", "-preset", "ultrafast", "-crf", "28", "-g", str(sample.fps * 2)]
    cmd += ["-c:a", "aac", "-b:a", "96k"] if sample.audio else ["-an"]
    return cmd + ["-movflags", "+faststart", str(out)]


def _make(sample: Sample, folder: Path) -> None:
    out = folder / sample.name
    tmp = folder / f".{out.stem}.part-{os.getpid()}{out.suffix}"  # keep the suffix: it picks the muxer
    try:
        proc = subprocess.run(_command(sample, tmp), capture_output=True, text=True, timeout=120)
        if proc.returncode != 0 or not tmp.exists() or tmp.stat().st_size == 0:
            tail = (proc.stderr or "").strip().splitlines()[-3:]
            raise RenderError(f"could not generate sample {sample.name}: {' | '.join(tail) or 'no output'}")
        os.replace(tmp, out)
    except subprocess.TimeoutExpired as exc:
        raise RenderError(f"could not generate sample {sample.name}: FFmpeg timed out") from exc
    finally:
        tmp.unlink(missing_ok=True)


def generate_sample_media(folder: Path, *, force: bool = False) -> list[Path]:
    """Create the sample media in ``folder`` and return the paths of the whole set.

    Files that already exist and are non-empty are kept unless ``force``; each file is written
    under a temporary name and renamed, so an interrupted run never leaves a truncated file.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    todo = [s for s in SAMPLES
            if force or not (folder / s.name).is_file() or (folder / s.name).stat().st_size == 0]
    if todo:
        workers = max(1, min(4, os.cpu_count() or 1, len(todo)))
        with ThreadPoolExecutor(max_workers=workers) as pool:
            for future in [pool.submit(_make, s, folder) for s in todo]:
                future.result()
    return [folder / s.name for s in SAMPLES]


def _main(argv: list[str]) -> int:
    args = [a for a in argv if a != "--force"]
    if len(args) != 1 or args[0] in ("-h", "--help"):
        print("usage: python -m sheet2video.samples FOLDER [--force]", file=sys.stderr)
        return 2
    try:
        paths = generate_sample_media(Path(args[0]), force="--force" in argv)
    except RenderError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    for path in paths:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
