"""Probe a local media file: what it really is, how long its picture lasts, how to show it.

``probe(path)`` returns a :class:`MediaInfo`; a file that cannot be used raises ``RenderError``
naming the file (``InvalidMaterial.Corrupt``). Three readers, each for what it knows best:

* pictures (JPEG, PNG/APNG, GIF, WebP, HEIC/HEIF, AVIF, BMP, TIFF) — **Pillow** (+ ``pillow-heif``
  for HEIF). PyAV's bundled FFmpeg has no animated-WebP demuxer and sees a HEIC or AVIF as a
  one-frame "video" of unknown length (the 0.04 s shots of issue 12); Pillow knows a still from an
  animation, gives each frame's delay, the EXIF orientation, and notices truncated data. The
  render still decodes them with the wheel's FFmpeg (it has hevc, dav1d, webp_anim, librsvg).
* SVG — its own header (width/height/viewBox): PyAV's FFmpeg has no SVG decoder; the render
  rasterises it with librsvg at the size it is shown (``compose.video``).
* everything else — **PyAV**: streams, the video stream's own length (not the container's, which
  is longer when the audio is), sample aspect ratio, interlacing, rotation. The video packets are
  read (not decoded) to measure files whose header has no duration (raw ``.h264``, MediaRecorder
  WebM) and to notice a file that ends before its header says (a truncated upload).

Every file is opened through :mod:`.formats`: only its demuxers, only local files, and the demuxer
the probe checked is recorded (``MediaInfo.demuxer``) for the render to force. Pixels are limited
from the header before anything is decoded (``formats.MAX_PIXELS``); the server decodes a picture
itself only within ``formats.DECODE_BYTES`` — a larger one (a 48 MP HEIC, an 8K frame) is
described from its header alone (no truncation check, no rotation from its first frame).
"""

from __future__ import annotations

import errno
import os
import re
import subprocess
import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass, field
from fractions import Fraction

import av

from sheet2video.engine.ffmpeg import ffmpeg_exe, run as run_ffmpeg
from sheet2video.engine.media import formats
from sheet2video.errors import RenderError

__all__ = ["MediaInfo", "probe", "is_svg_file"]

CORRUPT = "InvalidMaterial.Corrupt"

# Bytes a pixel costs the server when Pillow decodes it (measured: WebP goes through libwebp's
# animation decoder, HEIF/AVIF through libheif's buffers); others 4 (RGB is stored as RGBX).
_LOAD_BYTES = {"WEBP": 17, "HEIF": 10, "AVIF": 10}
# Reading every packet is cheap (no decoding); above this size only a header-less file is read to the end.
_MEASURE_ALL_BYTES = 64 << 20
# A header-less file larger than that: its length is estimated from this many seconds of packets.
_ESTIMATE_SECONDS = 60.0
_MAX_ANIMATION_FRAMES = 5000


@dataclass(frozen=True)
class MediaInfo:
    kind: str  # "video" | "image" | "audio"
    duration: float  # seconds of picture (the video stream's own length); audio: its length; 0.0 for stills
    width: int = 0  # as displayed: after rotation and sample aspect ratio
    height: int = 0
    fps: float = 0.0
    has_audio: bool = False
    has_video: bool = False
    frames: int = 0  # video frames counted (0 = not counted); animations: their frame count
    container_duration: float = 0.0  # what the header says for the whole file (0 = nothing)
    sar: str = "1:1"  # sample (pixel) aspect ratio of the stored picture
    interlaced: bool = False  # field order tt/bb/tb/bt, or the first frame flagged interlaced
    rotation: int = 0  # degrees of the display matrix / EXIF orientation (FFmpeg applies it)
    grid: bool = False  # a HEIF/AVIF tile grid (phones): FFmpeg assembles it as stream group 0, not stream v:0
    demuxer: str = ""  # the demuxer the probe checked (formats.ALLOWED): the render forces it
    warnings: list[str] = field(default_factory=list)  # usable, but not quite whole (truncated…)

    def to_dict(self) -> dict:
        return asdict(self)


def _corrupt(path: str, why: str) -> RenderError:
    return RenderError(f"{os.path.basename(path)}: cannot read media ({why})", code=CORRUPT)


def probe(path: str | os.PathLike) -> MediaInfo:
    path = os.fspath(path)
    try:
        size = os.path.getsize(path)
    except OSError as exc:
        raise RenderError(f"{path}: media file not found ({exc.strerror})", code="InvalidMaterial.NotFound") from None
    if size == 0:
        raise _corrupt(path, "the file is empty")
    with open(path, "rb") as fh:
        head = fh.read(512)
    if _is_svg(head):
        return _svg(path)
    picture = _picture(path)
    if picture is not None:
        return picture
    try:
        container = formats.open_input(path)
    except av.FFmpegError as exc:
        if exc.errno == errno.EINVAL:  # the format FFmpeg found is off the list (a playlist, a script…)
            raise formats.refused(path) from None
        raise _corrupt(path, getattr(exc, "strerror", None) or str(exc).split(":")[0] or type(exc).__name__) from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise _corrupt(path, str(exc).split(":")[0] or type(exc).__name__) from None
    try:
        return _inspect(path, container, size)
    except RenderError:
        raise
    except (av.FFmpegError, ValueError, ZeroDivisionError) as exc:
        raise _corrupt(path, str(exc) or type(exc).__name__) from None
    finally:
        container.close()


# ------------------------------------------------------------------ pictures (Pillow)


def _picture(path: str) -> MediaInfo | None:
    """A still or an animation read by Pillow, or None when Pillow does not know the file."""
    from PIL import Image, UnidentifiedImageError

    _register_heif()
    try:
        im = Image.open(path)
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        return None
    except Image.DecompressionBombError:  # Pillow's own check, at twice its MAX_IMAGE_PIXELS
        raise RenderError(f"{os.path.basename(path)}: the picture is over {2 * Image.MAX_IMAGE_PIXELS / 1e6:.0f} "
                          f"megapixels; the engine takes at most {formats.MAX_PIXELS / 1e6:.0f} megapixels",
                          code=formats.TOO_LARGE) from None
    with im:
        if formats.picture_demuxer(im.format) is None:
            return None
        width, height = im.size
        formats.check_pixels(path, width, height)  # from the header: nothing is decoded yet
        decodable = width * height * _LOAD_BYTES.get(im.format, 4) <= formats.DECODE_BYTES
        if not decodable and im.format == "GIF":  # Pillow decodes a GIF's first frame to find its second
            raise RenderError(f"{os.path.basename(path)}: a GIF of {width}×{height} is larger than the engine "
                              "decodes; use a video or a still picture", code=formats.TOO_LARGE)
        animated = getattr(im, "is_animated", False) and getattr(im, "n_frames", 1) > 1
        demuxer = formats.picture_demuxer(im.format, animated)
        rotation = _EXIF_ROTATION.get(_orientation(im, decodable), 0)
        if rotation in (90, 270):
            width, height = height, width
        if animated:
            if not decodable:
                raise RenderError(f"{os.path.basename(path)}: an animation of {im.size[0]}×{im.size[1]} is larger "
                                  "than the engine decodes; use a video", code=formats.TOO_LARGE)
            delays, frames = _animation(im, im.n_frames)
            return MediaInfo(kind="video", duration=round(sum(delays) / 1000, 3), width=width, height=height,
                             fps=round(frames * 1000 / max(1, sum(delays)), 3), has_video=True, frames=frames,
                             container_duration=round(sum(delays) / 1000, 3), rotation=rotation, demuxer=demuxer)
        warnings = _whole(im, path, decodable)
        grid = im.format in ("HEIF", "AVIF") and _tiled(path, {(width, height), (height, width)})
        return MediaInfo(kind="image", duration=0.0, width=width, height=height, has_video=True,
                         rotation=rotation, grid=grid, demuxer=demuxer, warnings=warnings)


def _whole(im, path: str, decodable: bool) -> list[str]:
    """Decode a still to notice truncated data: a JPEG at 1/8 of its size (cheap, still reads it
    all), others only within the server's decoding budget — beyond it a PNG's chunks are checked
    (CRCs to the end, nothing decoded) and other formats are left to FFmpeg."""
    try:
        if im.format == "JPEG":
            im.draft("RGB", (max(1, im.size[0] // 8), max(1, im.size[1] // 8)))
        elif not decodable:
            if im.format == "PNG":
                from PIL import Image

                with Image.open(path) as fresh:
                    fresh.verify()  # must come straight after opening
            return []
        im.load()
    except (OSError, SyntaxError) as exc:
        if "truncated" not in str(exc).lower() and "broken" not in str(exc):
            raise _corrupt(path, str(exc)) from None
        return [f"{os.path.basename(path)}: the picture data ends early (truncated file); "
                "the missing part shows as a flat colour"]
    return []


def _tiled(path: str, sizes: set[tuple[int, int]]) -> bool:
    """A HEIF/AVIF whose picture is a grid of tiles: FFmpeg (PyAV) sees each tile as a stream,
    none of them the picture's size."""
    try:
        with formats.open_input(path, "mov") as c:
            return all((s.codec_context.width, s.codec_context.height) not in sizes for s in c.streams.video)
    except (av.FFmpegError, ValueError):
        return False


def _animation(im, n: int) -> tuple[list[int], int]:
    """Each frame's delay in ms (GIF/WebP/APNG); FFmpeg plays a 0 or missing delay as 100 ms (GIF)."""
    delays = []
    for i in range(min(n, _MAX_ANIMATION_FRAMES)):
        im.seek(i)
        if im.format == "WEBP":
            im.load()  # Pillow reads a WebP frame's delay when it decodes it
        delay = im.info.get("duration") or 0
        delays.append(int(delay) if delay and delay > 10 else 100)
    return delays, len(delays)


_EXIF_ROTATION = {3: 180, 6: 90, 8: 270, 5: 90, 7: 270}


def _orientation(im, decodable: bool) -> int:
    if not decodable and im.format == "PNG" and "exif" not in im.info:
        return 1  # Pillow would decode every pixel to look for an eXIf chunk after them
    try:
        return int(im.getexif().get(0x0112) or 1)
    except Exception:  # a broken EXIF block is not a broken picture
        return 1


def _register_heif() -> None:
    try:
        import pillow_heif
    except ImportError:  # pragma: no cover - a declared dependency
        return
    if not getattr(_register_heif, "done", False):
        pillow_heif.register_heif_opener()
        _register_heif.done = True


# ------------------------------------------------------------------ SVG


def is_svg_file(path: str) -> bool:
    """Whether the file is an SVG by its content (a logo saved without its extension)."""
    try:
        with open(path, "rb") as fh:
            return _is_svg(fh.read(512))
    except OSError:
        return False


def _is_svg(head: bytes) -> bool:
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return text.startswith(b"<svg") or (text.startswith(b"<?xml") or text.startswith(b"<!--")) and b"<svg" in head.lower()


_LENGTH = re.compile(r"^\s*([0-9.]+)\s*(px|pt|mm|cm|in)?\s*$")
_UNIT = {None: 1.0, "px": 1.0, "pt": 4 / 3, "mm": 96 / 25.4, "cm": 96 / 2.54, "in": 96.0}


def _svg(path: str) -> MediaInfo:
    """Intrinsic size from width/height (or the viewBox; browsers' 300×150 when neither)."""
    try:
        root = ET.parse(path).getroot()
    except (ET.ParseError, OSError) as exc:
        raise _corrupt(path, f"not a valid SVG: {exc}") from None
    if not root.tag.endswith("svg"):
        raise _corrupt(path, "not a valid SVG: no <svg> element")

    def length(name: str) -> float:
        m = _LENGTH.match(root.get(name) or "")
        return float(m.group(1)) * _UNIT[m.group(2)] if m else 0.0

    w, h = length("width"), length("height")
    box = [float(v) for v in re.split(r"[\s,]+", (root.get("viewBox") or "").strip()) if v] if root.get("viewBox") else []
    if len(box) == 4 and box[2] > 0 and box[3] > 0:
        if not w and not h:
            w, h = box[2], box[3]
        elif not h:
            h = w * box[3] / box[2]
        elif not w:
            w = h * box[2] / box[3]
    w, h = max(1, round(w or 300.0)), max(1, round(h or 150.0))
    formats.check_pixels(path, w, h, "SVG")  # stickers and backgrounds are rasterised at this size
    return MediaInfo(kind="image", duration=0.0, width=w, height=h, has_video=True, demuxer="svg_pipe")


# ------------------------------------------------------------------ audio and video (PyAV)


def _inspect(path: str, container, size: int) -> MediaInfo:
    demuxer = formats.demuxer_of(container.format.name)
    if demuxer is None:  # the whitelist keeps these out; never describe one as usable
        raise formats.refused(path)
    vstreams = [s for s in container.streams.video if not _is_attached_pic(s)]
    astreams = list(container.streams.audio)
    if not vstreams and not astreams:
        raise _corrupt(path, "no audio or video stream")

    whole = 0.0
    if container.duration is not None and container.duration > 0:
        whole = float(Fraction(container.duration, av.time_base))

    if not vstreams:
        _decode_one(path, container, astreams[0])
        duration = whole
        if duration <= 0:
            s = astreams[0]
            if s.duration and s.time_base:
                duration = float(s.duration * s.time_base)
        return MediaInfo(kind="audio", duration=duration, has_audio=True, has_video=False, container_duration=whole,
                         demuxer=demuxer)

    vs = vstreams[0]
    for stream in vstreams:  # from the header, before anything is decoded
        cc = stream.codec_context
        formats.check_pixels(path, cc.width if cc else 0, cc.height if cc else 0, "video frame")
    width, height, rotation, interlaced = _first_frame(path, container, vs, demuxer)
    sar = vs.sample_aspect_ratio or vs.codec_context.sample_aspect_ratio
    sar = Fraction(sar) if sar and sar > 0 else Fraction(1)
    rate = vs.average_rate or vs.guessed_rate or vs.base_rate
    fps = float(rate) if rate else 0.0

    own = float(vs.duration * vs.time_base) if vs.duration and vs.time_base else 0.0
    header = own or whole
    warnings: list[str] = []
    frames, index = vs.frames or 0, vs.index
    if header <= 0 or size <= _MEASURE_ALL_BYTES:
        container.close()  # its decoder's memory goes before the file is opened again
        with formats.open_input(path, demuxer) as fresh:  # from the start (a raw stream cannot seek back)
            measured, counted, complete = _measure(fresh, fresh.streams[index], fps, size, header <= 0)
        if counted:
            frames = counted
            if header <= 0:
                header = measured
            elif complete and measured < header - max(0.5, 0.1 * header):
                warnings.append(f"{os.path.basename(path)}: the file ends early (truncated?): "
                                f"{measured:.2f} s of picture readable, the header says {header:.2f} s")
                header = measured
            elif complete and abs(measured - header) > 0.05:
                header = measured
    if frames == 1 and not astreams:  # one picture in a video container (a HEIF/AVIF Pillow could not open)
        return MediaInfo(kind="image", duration=0.0, width=width, height=height, has_video=True, demuxer=demuxer,
                         warnings=warnings)
    if header <= 0:
        raise _corrupt(path, "the length of the video cannot be determined")

    w = width if sar == 1 else int(width * sar) // 2 * 2  # shown size, as compose.video widens it
    if rotation in (90, 270):
        w, height = height, w
    return MediaInfo(
        kind="video", duration=round(header, 3), width=w, height=height, fps=fps, has_audio=bool(astreams),
        has_video=True, frames=frames, container_duration=round(whole, 3), sar=f"{sar.numerator}:{sar.denominator}",
        interlaced=interlaced, rotation=rotation, demuxer=demuxer, warnings=warnings,
    )


def _first_frame(path: str, container, vs, demuxer: str) -> tuple[int, int, int, bool]:
    """(width, height, rotation, interlaced) of the video stream from its first frame, decoded here
    when that fits the server's budget (``formats.DECODE_PIXELS``); else as FFmpeg, in its own
    process, reads it from the header (a size the bounded stream-info probe dropped: 8K VP9)."""
    cc = vs.codec_context
    if cc is None:
        raise _corrupt(path, "no decoder for its video")
    if cc.width * cc.height <= formats.DECODE_PIXELS:  # 0: a size only a decoder knows
        try:
            frame = _decode_one(path, container, vs)
        except RenderError:
            if cc.width:
                raise
        else:
            width, height = frame.width or cc.width, frame.height or cc.height
            if not width or not height:
                raise _corrupt(path, "video stream without a picture size")
            rotation = round(-(frame.rotation or 0)) % 360  # PyAV: counter-clockwise degrees of the display matrix
            return width, height, rotation, bool(frame.interlaced_frame) or (cc.field_order or 0) >= 2
    return _header(path, demuxer, vs.index)


_STREAM = re.compile(r"^\s*Stream #0:(\d+)\S*: (\w+): (.*)$")
_SIZE = re.compile(r", (\d+)x(\d+)(?=[ ,\[]|$)")
_TURN = re.compile(r"display ?matrix: rotation of (-?[\d.]+) degrees", re.I)


def _header(path: str, demuxer: str, index: int) -> tuple[int, int, int, bool]:
    """A video stream's size, rotation and field order as the FFmpeg binary reports them, in its
    own process and within ``formats.MAX_PIXELS`` (the server does not decode a frame this large)."""
    argv = [ffmpeg_exe(), "-hide_banner", "-nostdin", *formats.ffmpeg_input(path, demuxer)]
    try:
        err = run_ffmpeg(argv, timeout=60, capture=True).stderr  # no output named: it describes the input and stops
    except (OSError, subprocess.TimeoutExpired):
        err = ""
    found, width, height, turn, fields = False, 0, 0, 0.0, False
    for line in err.splitlines():
        stream = _STREAM.match(line)
        if stream:
            found = int(stream.group(1)) == index and stream.group(2) == "Video"
            size = _SIZE.search(stream.group(3)) if found else None
            if size:
                width, height = int(size.group(1)), int(size.group(2))
                fields = bool(re.search(r"(top|bottom)( coded)? first", stream.group(3)))
        elif found and _TURN.search(line):
            turn = float(_TURN.search(line).group(1))
    if not width or not height:
        raise RenderError(f"{os.path.basename(path)}: the size of its video cannot be read within "
                          f"{formats.MAX_PIXELS / 1e6:.0f} megapixels (larger, or damaged)", code=formats.TOO_LARGE)
    formats.check_pixels(path, width, height, "video frame")
    return width, height, round(-turn) % 360, fields


def _measure(container, vs, fps: float, size: int, estimate: bool) -> tuple[float, int, bool]:
    """The video stream's length from its packets (read, not decoded): (seconds, packets, read to the end).

    Packets without timestamps (raw H.264) count at the stream's frame rate. A large file without a
    duration is read for ``_ESTIMATE_SECONDS`` and extrapolated by bytes."""
    first = last = None
    count = 0
    read = 0
    tb = vs.time_base or Fraction(1, 90000)
    try:
        for packet in container.demux(vs):
            if packet.size == 0:  # the flush packet at the end
                continue
            count += 1
            read += packet.size
            if packet.pts is not None:
                end = packet.pts + (packet.duration or 0)
                first = packet.pts if first is None else min(first, packet.pts)
                last = end if last is None else max(last, end)
            if estimate and size > _MEASURE_ALL_BYTES:
                seen = float((last - first) * tb) if last is not None else (count / fps if fps else 0.0)
                if seen > _ESTIMATE_SECONDS:
                    return seen * size / max(1, read), count, False
    except av.FFmpegError:
        pass  # a damaged tail: what was read so far is what is there
    if last is not None and first is not None and last > first:
        seconds = float((last - first) * tb)
        if fps and count > 1 and seconds < (count - 1) / fps / 2:  # timestamps that do not advance
            seconds = count / fps
    else:
        seconds = count / fps if fps else 0.0
    return seconds, count, True


def _is_attached_pic(stream) -> bool:
    try:
        return bool(stream.disposition & av.stream.Disposition.attached_pic)
    except AttributeError:  # older PyAV
        return False


def _decode_one(path: str, container, stream):
    """Decode the first frame of ``stream``; a file that yields none is corrupt."""
    try:
        for frame in container.decode(stream):
            return frame
    except av.FFmpegError as exc:  # max_pixels says EINVAL: a picture larger than its header says
        raise _corrupt(path, str(exc) + (" (damaged, or larger than its header says)" if exc.errno == errno.EINVAL
                                         else "")) from None
    raise _corrupt(path, "no decodable frame")
