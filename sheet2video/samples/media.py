"""Sample media for the example sheets, the demo and the tests — generated, never committed.

``generate_sample_media(folder)`` makes footage that looks like campaign material for the
example campaigns (a coffee shop's autumn campaign, a supermarket opening): warm gradient
backgrounds with drifting bokeh and products — a cup with steam, a cold-brew bottle, fruit, a
shopping bag — drawn once with Pillow (sample_art, sample_scenes) and animated by FFmpeg
(moving overlays, rotation, slow zoom, colour drift); "photos" drawn by Pillow; two music tracks
and soft audio beds synthesised with numpy (sample_music); a transparent logo for stickers.
Nothing is written into the picture: a test tells the clips apart by ``Sample.colour``, the
picture's mean colour, which differs clearly from clip to clip.

Run it from a shell with ``python -m sheet2video.samples.media FOLDER [--force]``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from sheet2video.samples import art as sample_art
from sheet2video.samples import music as sample_music
from sheet2video.samples import scenes as sample_scenes
from sheet2video.errors import RenderError

__all__ = ["SAMPLES", "Sample", "ffmpeg_exe", "generate_sample_media"]


@dataclass(frozen=True)
class Sample:
    """One sample file: what it is, what it shows and how it is made.

    ``scene`` names a function in sample_scenes (SCENES for videos, PHOTOS for images) or the
    music (``"music"``) / logo (``"logo"``); ``colour`` is the picture's mean colour (#RRGGBB,
    within a few steps), which is how a test can tell which clip a rendered shot came from.
    """

    name: str
    kind: str  # "video", "image" or "audio"
    scene: str
    width: int = 0
    height: int = 0
    duration: float = 0.0  # seconds; 0 for images
    fps: int = 25
    audio: str | None = None  # a video's sound bed ("room" or "pad", see sample_music.bed), None = silent
    colour: str = ""  # mean colour of the picture (video: over its frames; empty for audio and the logo)
    description: str = ""

    @property
    def has_audio(self) -> bool:
        return self.kind == "audio" or self.audio is not None


# Chord loops for the music (root first, then the pad's notes) and tempo in bpm.
_MUSIC = {
    "bgm_1.m4a": ([["C3", "E4", "G4", "B4"], ["A2", "C4", "E4", "G4"], ["F2", "A3", "C4", "E4"], ["G2", "B3", "D4", "F4"]], 88),
    "bgm_2.mp3": ([["D3", "F#4", "A4", "C#5"], ["B2", "D4", "F#4", "A4"], ["G2", "B3", "D4", "F#4"], ["A2", "C#4", "E4", "G4"]], 100),
}

# The set the example sheets reference. Portrait, landscape and square sources so that the fit
# mode matters; 25 and 30 fps so that joining clips needs normalising; the three 720x1280 clips
# are sharp enough for the 1080x1920 showcase.
SAMPLES: tuple[Sample, ...] = (
    Sample("opening_1.mp4", "video", "autumn_window", 720, 1280, 5, 25, audio="room", colour="#CA824F",
           description="autumn window light: amber bokeh drifting, maple leaves falling and turning"),
    Sample("opening_2.mp4", "video", "sunrise", 640, 360, 4, 25, colour="#E4B37D",
           description="golden sunrise: the sun rising behind clouds sliding over warm hills"),
    Sample("opening_3.mp4", "video", "citrus_splash", 640, 360, 4, 30, audio="pad", colour="#88A95E",
           description="fresh green: an orange slice turning, an orange swaying, lime bokeh"),
    Sample("product_1.mp4", "video", "latte_cup", 720, 1280, 6, 25, colour="#75655F",
           description="a takeaway cup with an orange sleeve on a café table, steam rising, slow zoom in"),
    Sample("product_2.mp4", "video", "cold_brew", 640, 360, 5, 25, audio="room", colour="#468B87",
           description="a cold-brew bottle swaying and an iced glass settling on teal, bubbles rising"),
    Sample("product_3.mp4", "video", "fruit_rain", 360, 640, 8, 30, colour="#EF96A5",
           description="strawberries, cherries and citrus falling and spinning on pink"),
    Sample("product_4.mp4", "video", "grocery_bag", 640, 360, 6, 25, audio="room", colour="#607FB1",
           description="a grocery bag (baguette, greens, apple) sliding in on blue, fruit beside it"),
    Sample("product_5.mp4", "video", "latte_above", 360, 640, 5, 30, audio="pad", colour="#936F7E",
           description="a latte with a heart seen from above, turning slowly, beans and leaves on plum"),
    Sample("closing_1.mp4", "video", "end_card", 720, 1280, 5, 25, audio="pad", colour="#99403F",
           description="end card: burgundy with a warm glow and gold bokeh, cup and bag rising into place"),
    Sample("closing_2.mp4", "video", "dusk_store", 640, 360, 5, 25, colour="#62496F",
           description="a shop front at dusk, violet-to-orange sky, warm windows, slow pan"),
    Sample("photo_1.png", "image", "cafe_table_photo", 480, 480, colour="#9A7253",
           description="top-down café table: latte, croissant, autumn leaves"),
    Sample("photo_2.jpg", "image", "sky_photo", 640, 360, colour="#8EBEBB",
           description="morning sky over green hills, low sun, soft clouds"),
    Sample("photo_3.jpg", "image", "fruit_bowl_photo", 360, 640, colour="#E2D79C",
           description="a bowl of fruit on linen against a lime wall"),
    Sample("bgm_1.m4a", "audio", "music", duration=20, description="C major pad, bass, arpeggio, 88 bpm"),
    Sample("bgm_2.mp3", "audio", "music", duration=12, description="D major pad, bass, arpeggio, 100 bpm"),
    Sample("logo.png", "image", "logo", 256, 256,
           description="cream badge, brown ring, cup and leaf; transparent corners, soft edge"),
)


def ffmpeg_exe() -> str:
    """The FFmpeg binary: ``$SHEET2VIDEO_FFMPEG`` if set, else the one in the imageio-ffmpeg wheel."""
    exe = os.environ.get("SHEET2VIDEO_FFMPEG")
    if exe:
        return exe
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def _ffmpeg(name: str, args: list[str], out: Path, stdin: bytes | None = None) -> None:
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *args,
           "-map_metadata", "-1", "-fflags", "+bitexact", str(out)]
    proc = subprocess.run(cmd, input=stdin, capture_output=True, timeout=120)
    if proc.returncode != 0 or not out.exists() or out.stat().st_size == 0:
        tail = proc.stderr.decode(errors="replace").strip().splitlines()[-3:]
        raise RenderError(f"could not generate sample {name}: {' | '.join(tail) or 'no output'}")


PCM = ["-f", "f32le", "-ar", str(sample_music.RATE), "-ac", "2", "-i", "pipe:0"]  # numpy audio on stdin


def _audio_codec(suffix: str) -> list[str]:
    if suffix == ".m4a":
        return ["-c:a", "aac", "-b:a", "128k", "-movflags", "+faststart"]
    if suffix == ".mp3":
        return ["-c:a", "libmp3lame", "-b:a", "128k"]
    return ["-c:a", "pcm_s16le"]


def _video(sample: Sample, out: Path, work: Path) -> None:
    """Layers drawn once by Pillow, moved by one FFmpeg filtergraph, encoded with x264."""
    w, h, fps = sample.width, sample.height, sample.fps
    scene = sample_scenes.SCENES[sample.scene](w, h, sample.duration)
    frames = int(round(sample.duration * fps))
    args: list[str] = []
    chains = [f"[0:v]loop=loop=-1:size=1,setpts=N/{fps}/TB,"
              f"crop={w}:{h}:x='{scene.pan[0]}':y='{scene.pan[1]}',format=yuv444p[b0]"]
    for i, image in enumerate([scene.background] + [layer.image for layer in scene.layers]):
        path = work / f"{out.stem}-{i}.png"
        image.save(path, compress_level=1)
        args += ["-framerate", str(fps), "-i", str(path)]
    last = "[b0]"
    for i, layer in enumerate(scene.layers, start=1):
        src = f"[{i}:v]"  # a still: overlay repeats its only frame
        if layer.motion:  # a sprite that changes per frame needs a stream of its own
            chains.append(f"{src}loop=loop=-1:size=1,setpts=N/{fps}/TB,{layer.motion}[s{i}]")
            src = f"[s{i}]"
        chains.append(f"{last}{src}overlay=x='{layer.x}':y='{layer.y}':format=yuv444[b{i}]")
        last = f"[b{i}]"
    post = scene.post.format(fps=fps, frames=frames)
    chains.append(f"{last}{post + ',' if post else ''}format=yuv420p[v]")
    stdin, sound = None, ["-an"]
    if sample.audio:
        stdin = sample_music.bed(sample.audio, sample.duration, seed=zlib.crc32(sample.name.encode())).tobytes()
        args += PCM
        sound = ["-map", f"{len(scene.layers) + 1}:a", "-c:a", "aac", "-b:a", "96k"]
    args += ["-filter_complex", ";".join(chains), "-map", "[v]", "-frames:v", str(frames), *sound]
    args += ["-c:v", "libx264", "-preset", "ultrafast", "-crf", "23", "-g", str(fps * 2),
             "-movflags", "+faststart"]
    _ffmpeg(sample.name, args, out, stdin)


def _make(sample: Sample, folder: Path, work: Path) -> None:
    out = folder / sample.name
    tmp = folder / f".{out.stem}.part-{os.getpid()}{out.suffix}"  # keep the suffix: it picks the muxer
    try:
        if sample.kind == "video":
            _video(sample, tmp, work)
        elif sample.kind == "audio":
            chords, bpm = _MUSIC[sample.name]
            pcm = sample_music.track(chords, bpm, sample.duration, seed=zlib.crc32(sample.name.encode())).tobytes()
            _ffmpeg(sample.name, [*PCM, "-t", f"{sample.duration:g}", *_audio_codec(tmp.suffix)], tmp, pcm)
        else:
            image = sample_art.logo(sample.width) if sample.scene == "logo" else \
                sample_scenes.PHOTOS[sample.scene](sample.width, sample.height)
            image.save(tmp, **({"quality": 90} if tmp.suffix == ".jpg" else {"optimize": False}))
        os.replace(tmp, out)
    except subprocess.TimeoutExpired as exc:
        raise RenderError(f"could not generate sample {sample.name}: FFmpeg timed out") from exc
    finally:
        tmp.unlink(missing_ok=True)


# Bump when the drawings change: a folder made by an older generator is redrawn, not kept.
VERSION = "2"
STAMP = ".samples-version"


def generate_sample_media(folder: Path, *, force: bool = False) -> list[Path]:
    """Create the sample media in ``folder`` and return the paths of the whole set.

    Files that already exist and are non-empty are kept unless ``force`` or the folder was made
    by an older version of this generator; each file is written under a temporary name and
    renamed, so an interrupted run never leaves a truncated file.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    stamp = folder / STAMP
    force = force or not stamp.is_file() or stamp.read_text().strip() != VERSION
    todo = [s for s in SAMPLES
            if force or not (folder / s.name).is_file() or (folder / s.name).stat().st_size == 0]
    if todo:
        # longest first, so the two workers finish together
        todo.sort(key=lambda s: -(s.width * s.height * s.duration * s.fps))
        work = Path(tempfile.mkdtemp(prefix="sheet2video-samples-"))
        try:
            workers = max(1, min(2, os.cpu_count() or 1, len(todo)))
            with ThreadPoolExecutor(max_workers=workers) as pool:
                for future in [pool.submit(_make, s, folder, work) for s in todo]:
                    future.result()
        finally:
            shutil.rmtree(work, ignore_errors=True)
    if force:
        stamp.write_text(VERSION + "\n")
    return [folder / s.name for s in SAMPLES]


def _main(argv: list[str]) -> int:
    args = [a for a in argv if a != "--force"]
    if len(args) != 1 or args[0] in ("-h", "--help"):
        print("usage: python -m sheet2video.samples.media FOLDER [--force]", file=sys.stderr)
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
