"""Probe a local media file with PyAV (the FFmpeg wheel ships no ffprobe).

``probe(path)`` opens the file, checks that it really decodes (one frame), and returns a
:class:`MediaInfo`. Anything that cannot be opened or decoded raises
``RenderError(code="InvalidMaterial.Corrupt")`` naming the file.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from fractions import Fraction

import av

from sheet2video.errors import RenderError

__all__ = ["MediaInfo", "probe"]

CORRUPT = "InvalidMaterial.Corrupt"

# Demuxers that read one still picture: image2 (by extension) and the probing "*_pipe" family.
_IMAGE_FORMATS = {"image2", "gif", "apng", "webp", "ico", "svg"}
# Demuxers that accept almost any bytes and would turn a broken file into "video".
_REJECTED_FORMATS = {"tty", "bin", "xbin", "adp", "idf", "data"}


@dataclass(frozen=True)
class MediaInfo:
    kind: str  # "video" | "image" | "audio"
    duration: float  # seconds; 0.0 for still images
    width: int = 0
    height: int = 0
    fps: float = 0.0
    has_audio: bool = False
    has_video: bool = False

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
    try:
        container = av.open(path, mode="r")
    except (av.FFmpegError, UnicodeDecodeError, ValueError) as exc:
        raise _corrupt(path, str(exc).split(":")[0] or type(exc).__name__) from None
    try:
        return _inspect(path, container)
    except RenderError:
        raise
    except (av.FFmpegError, ValueError, ZeroDivisionError) as exc:
        raise _corrupt(path, str(exc) or type(exc).__name__) from None
    finally:
        container.close()


def _inspect(path: str, container) -> MediaInfo:
    fmt = container.format.name.split(",")
    if any(name in _REJECTED_FORMATS for name in fmt):
        raise _corrupt(path, f"unsupported format {container.format.name!r}")
    vstreams = [s for s in container.streams.video if not _is_attached_pic(s)]
    astreams = list(container.streams.audio)
    if not vstreams and not astreams:
        raise _corrupt(path, "no audio or video stream")

    duration = 0.0
    if container.duration is not None and container.duration > 0:
        duration = float(Fraction(container.duration, av.time_base))

    if not vstreams:
        _decode_one(path, container, astreams[0])
        if duration <= 0:
            s = astreams[0]
            if s.duration and s.time_base:
                duration = float(s.duration * s.time_base)
        return MediaInfo(kind="audio", duration=duration, has_audio=True, has_video=False)

    vs = vstreams[0]
    frame = _decode_one(path, container, vs)
    width = frame.width or vs.codec_context.width
    height = frame.height or vs.codec_context.height
    if not width or not height:
        raise _corrupt(path, "video stream without a picture size")

    is_image = any(n in _IMAGE_FORMATS or n.endswith("_pipe") for n in fmt)
    animated = vs.frames > 1 and duration > 0
    if is_image and not astreams and not animated:
        return MediaInfo(kind="image", duration=0.0, width=width, height=height, has_video=True)

    rate = vs.average_rate or vs.guessed_rate or vs.base_rate
    fps = float(rate) if rate else 0.0
    if duration <= 0 and vs.duration and vs.time_base:
        duration = float(vs.duration * vs.time_base)
    return MediaInfo(
        kind="video",
        duration=duration,
        width=width,
        height=height,
        fps=fps,
        has_audio=bool(astreams),
        has_video=True,
    )


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
    except av.FFmpegError as exc:
        raise _corrupt(path, str(exc)) from None
    raise _corrupt(path, "no decodable frame")
