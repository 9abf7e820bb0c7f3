"""Which demuxers the engine opens a user's file with, and how: the one door to FFmpeg and PyAV.

FFmpeg left to itself picks a demuxer by content *or by file name*, and some demuxers open other
files: an HLS playlist (``.m3u8``) or a DASH manifest names segments by URL (``file:///…``
anywhere on the disk), an ffconcat script lists files, ``image2`` reads numbered patterns and
picks a decoder by extension, ``tty`` turns any text into video. So:

* only :data:`ALLOWED` — real containers, raw streams and single-picture formats — is opened;
  ``format_whitelist`` is checked by ``avformat_open_input`` after the probe and before the
  demuxer reads anything (no playlist gets to open its entries), ``protocol_whitelist=file``
  keeps every open on the local disk;
* the probe records the demuxer it checked (``MediaInfo.demuxer``) and the render forces it
  (``-f``), so a file cannot be read one way at the probe and another way at the render;
* pictures are bounded: :data:`MAX_PIXELS` for any picture or video frame (from the header, and
  the decoders' ``max_pixels``), and the server process decodes pixels itself only within
  :data:`DECODE_BYTES` — larger pictures are described from their headers and decoded by FFmpeg,
  in its own process, at the render; libav in the server allocates no piece over
  :data:`ALLOC_BYTES`, so no packet a file declares can take more.
"""

from __future__ import annotations

import ctypes
import functools
import os

from sheet2video.errors import RenderError

__all__ = [
    "ALLOWED", "MAX_PIXELS", "DECODER_PIXELS", "DECODE_BYTES", "ALLOC_BYTES", "DECODE_PIXELS", "TYPE", "CORRUPT", "TOO_LARGE",
    "demuxer_of", "format_name", "picture_demuxer", "check_pixels", "refused", "open_input", "ffmpeg_input", "own_input",
]

TYPE = "InvalidMaterial.Type"
CORRUPT = "InvalidMaterial.Corrupt"
TOO_LARGE = "InvalidMaterial.TooLarge"

# FFmpeg's demuxer name (the first of its aliases) → what it reads. HEIF and AVIF are read by "mov".
ALLOWED: dict[str, str] = {
    "mov": "MP4 / MOV / M4A / 3GP / HEIF / AVIF",
    "matroska": "Matroska / WebM",
    "avi": "AVI",
    "mpegts": "MPEG-TS (.ts, .mts, .m2ts)",
    "mpeg": "MPEG-PS (.mpg, .vob)",
    "flv": "Flash video",
    "asf": "Windows Media (.wmv, .wma)",
    "ogg": "Ogg (Vorbis, Opus, Theora)",
    "h264": "raw H.264",
    "hevc": "raw H.265",
    "wav": "WAV",
    "aiff": "AIFF",
    "mp3": "MP3",
    "flac": "FLAC",
    "aac": "ADTS AAC",
    "png_pipe": "PNG",
    "apng": "animated PNG",
    "jpeg_pipe": "JPEG",
    "webp_pipe": "WebP",
    "webp_anim": "animated WebP",  # the render's FFmpeg only: Pillow probes it
    "gif": "GIF",
    "bmp_pipe": "BMP",
    "tiff_pipe": "TIFF",
    "svg_pipe": "SVG",
}

# Demuxers FFmpeg names by a list of aliases (PyAV reports a forced demuxer by the name it was given).
_ALIASES = {"mov": "mov,mp4,m4a,3gp,3g2,mj2", "matroska": "matroska,webm"}

# Pillow's format → the demuxer the render reads that picture with (still, animated).
_PICTURES = {
    "JPEG": ("jpeg_pipe", "jpeg_pipe"), "MPO": ("jpeg_pipe", "jpeg_pipe"), "PNG": ("png_pipe", "apng"),
    "GIF": ("gif", "gif"), "WEBP": ("webp_pipe", "webp_anim"), "HEIF": ("mov", "mov"), "AVIF": ("mov", "mov"),
    "BMP": ("bmp_pipe", "bmp_pipe"), "TIFF": ("tiff_pipe", "tiff_pipe"), "SVG": ("svg_pipe", "svg_pipe"),
}

# 50 megapixels: a 48 MP phone photo (8064×6048 is 48.8) and an 8K frame (35.4) fit.
MAX_PIXELS = 50_000_000
# FFmpeg's -max_pixels in renders: decoders count their aligned buffers (a row rounded up to 128
# pixels), so a picture just under the limit needs a little room.
DECODER_PIXELS = MAX_PIXELS * 17 // 16
# What the server process may spend decoding one picture itself (Pillow: pixels × the bytes a pixel
# costs it, measured per format in engine/media/probe.py), well within its 200 MB budget.
DECODE_BYTES = 128 << 20
# libav (PyAV) in the server never allocates more than half of that in one piece: a packet (a
# picture demuxer holds a whole file in one, and its parser a copy), a frame's plane.
ALLOC_BYTES = DECODE_BYTES // 2
# So PyAV decodes (its stream-info probe, the probe's first frame) frames of at most this many
# pixels, at up to 8 bytes a pixel (RGBA64): 4K UHD (8.3 MP) fits, larger frames are described by
# the FFmpeg binary in its own process (engine/media/probe.py).
DECODE_PIXELS = ALLOC_BYTES // 8

# Files that are not media, for a clearer refusal (the whitelist refuses them whatever they say).
_KNOWN = ((b"#EXTM3U", "an HLS playlist"), (b"ffconcat", "an ffconcat script"), (b"<MPD", "a DASH manifest"),
          (b"<?xml", "an XML file"), (b"[playlist]", "a playlist"))


def demuxer_of(format_name: str) -> str | None:
    """Our name for a demuxer PyAV reports (``"mov,mp4,m4a,3gp,3g2,mj2"`` → ``"mov"``), None off the list."""
    first = (format_name or "").split(",")[0]
    return first if first in ALLOWED else None


def format_name(demuxer: str) -> str:
    """The demuxer's full name, as ffprobe reports it (``"mov"`` → ``"mov,mp4,m4a,3gp,3g2,mj2"``)."""
    return _ALIASES.get(demuxer, demuxer)


def picture_demuxer(pillow_format: str, animated: bool = False) -> str | None:
    pair = _PICTURES.get(pillow_format)
    return pair[animated] if pair else None


def check_pixels(path: str, width: int, height: int, what: str = "picture") -> None:
    """Refuse a picture or frame over :data:`MAX_PIXELS`, from its header, before decoding it."""
    if int(width) * int(height) > MAX_PIXELS:
        raise RenderError(f"{os.path.basename(path)}: the {what} is {width}×{height} "
                          f"({int(width) * int(height) / 1e6:.0f} megapixels); the engine takes at most "
                          f"{MAX_PIXELS / 1e6:.0f} megapixels", code=TOO_LARGE)


def refused(path: str) -> RenderError:
    """The error for a file FFmpeg would read with a demuxer off the list: a playlist, a script, a
    manifest (``InvalidMaterial.Type``, named), else anything unreadable (``Corrupt``)."""
    what = None
    try:
        with open(path, "rb") as fh:
            head = fh.read(256).lstrip(b"\xef\xbb\xbf \t\r\n")
        what = next((name for magic, name in _KNOWN if head.startswith(magic) or magic in head[:64]), None)
    except OSError:
        pass
    name = os.path.basename(path)
    if what is None:
        return RenderError(f"{name}: cannot read media (not a format the engine reads)", code=CORRUPT)
    return RenderError(f"{name}: {what} is not media; the engine reads only "
                       f"{', '.join(dict.fromkeys(v.split(' (')[0] for v in ALLOWED.values()))}", code=TYPE)


def _whitelist(demuxer: str | None) -> str:
    return demuxer if demuxer else ",".join(ALLOWED)


def open_input(path: str, demuxer: str | None = None):
    """A PyAV input container for a local file: local protocol only, a demuxer from the list (this
    one when given), decoders single-threaded and limited to :data:`DECODE_PIXELS` in the server.
    ``av.FFmpegError`` (``EINVAL`` when the probed format is off the list) or ``ValueError``."""
    import av

    demuxer = demuxer or None
    if demuxer is not None and demuxer not in ALLOWED:
        raise ValueError(f"demuxer {demuxer!r} is not allowed")
    options = {"protocol_whitelist": "file", "format_whitelist": _whitelist(demuxer),
               "max_pixels": str(DECODE_PIXELS), "threads": "1"}
    _cap_allocations()
    container = av.open(os.path.abspath(path), mode="r", format=demuxer, options=options)
    for stream in container.streams.video:
        if stream.codec_context is not None:  # the frames PyAV decodes later, under the same limit
            stream.codec_context.options = {"max_pixels": str(DECODE_PIXELS)}
            stream.codec_context.thread_count = 1
    return container


@functools.lru_cache(maxsize=None)
def _cap_allocations() -> None:
    """``av_max_alloc(ALLOC_BYTES)`` in the libavutil PyAV loaded: whatever a file says, libav in
    this process allocates no larger piece (found in /proc/self/maps: Linux; elsewhere no cap)."""
    import av  # noqa: F401 (loads libavutil)

    try:
        with open("/proc/self/maps") as maps:
            path = next((line.split()[-1] for line in maps if "/libavutil" in line), None)
    except OSError:
        return
    if path:
        ctypes.CDLL(path).av_max_alloc(ctypes.c_size_t(ALLOC_BYTES))


def ffmpeg_input(path: str, demuxer: str | None) -> list[str]:
    """FFmpeg's options for one user-supplied input, ending with ``-i PATH``: the checked demuxer
    forced (None: FFmpeg probes, within the list), local files only, frames within :data:`MAX_PIXELS`
    (:data:`DECODER_PIXELS`, as decoders count)."""
    demuxer = demuxer or None
    if demuxer is not None and demuxer not in ALLOWED:
        raise RenderError(f"{os.path.basename(path)}: demuxer {demuxer!r} is not allowed", code=TYPE)
    forced = ["-f", demuxer] if demuxer else []
    return ["-protocol_whitelist", "file", "-format_whitelist", _whitelist(demuxer), *forced,
            "-max_pixels", str(DECODER_PIXELS), "-i", os.path.abspath(path)]


def own_input(path: str, demuxer: str) -> list[str]:
    """FFmpeg's options for a file the engine wrote itself (a voice-over WAV, the titles' PNG)."""
    return ["-protocol_whitelist", "file", "-f", demuxer, "-i", os.path.abspath(path)]
