"""GetMediaInfo's ``FileInfoList`` entry, shaped like ``GetMediaInfoResponseBodyMediaInfoFileInfoList``:
``FileBasicInfo`` and the video / audio / subtitle stream lists, read with PyAV the way ffprobe
reports them (every value a string, as the model types them; bit rates in kbit/s as the cloud's
examples give them). Durations come from ``engine/media/probe.py`` (a video's own picture length, a still's 0)
except for audio-only files, whose packets are counted: an MP3 header has no length, and the
container's estimate from the bit rate is wrong for VBR files.

The cover (``MediaBasicInfo.CoverURL``): the poster the render wrote next to an output (``x.jpg``),
or for an input video or picture one frame extracted into ``<outputs>/_covers/<MediaId>.jpg``.
"""

from __future__ import annotations

import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import av

from sheet2video.engine.media.formats import format_name, open_input
from sheet2video.engine.media.poster import extract_poster, poster_path
from sheet2video.engine.media.probe import probe
from sheet2video.errors import RenderError
from sheet2video.cloud.timestamps import format_timestamp

__all__ = ["STREAM_LISTS", "COVERS_DIR", "file_info", "cover", "seconds_of", "media_info"]

STREAM_LISTS = ("VideoStreamInfoList", "AudioStreamInfoList", "SubtitleStreamInfoList")
COVERS_DIR = "_covers"  # under the outputs folder, so /outputs/ serves them (a dot-folder it would not)
_cover_lock = threading.Lock()


def _num(value: Any) -> str:
    """A number as ffprobe prints it: integers bare, fractions as decimals (≤ 6 places)."""
    if value is None:
        return ""
    number = float(value)
    return str(int(number)) if number.is_integer() else f"{number:.6f}".rstrip("0")


def _kbps(bits: int | None) -> str | None:
    return f"{bits / 1000:.1f}" if bits else None


def _ratio(value: Any) -> str | None:
    return f"{value.numerator}:{value.denominator}" if value else None


def _seconds(stream, value: int | None) -> str | None:
    return _num(float(value * stream.time_base)) if value is not None and stream.time_base else None


def _common(stream) -> dict[str, Any]:
    cc = stream.codec_context
    tag = (getattr(cc, "codec_tag", "") or "").strip("\0")  # no tag (MP3, raw streams): none, not four NULs
    info = {
        "Index": str(stream.index), "CodecName": cc.codec.canonical_name, "CodecLongName": cc.codec.long_name,
        "CodecTagString": tag, "CodecTag": "0x" + tag.encode("latin-1")[::-1].hex() if tag else None,
        "Timebase": str(stream.time_base) if stream.time_base else None,
        "CodecTimeBase": str(stream.time_base) if stream.time_base else None,
        "StartTime": _seconds(stream, stream.start_time), "Duration": _seconds(stream, stream.duration),
        "Lang": stream.metadata.get("language"),
    }
    return info


def _video(stream) -> dict[str, Any]:
    cc = stream.codec_context
    rate, avg = stream.base_rate or stream.guessed_rate, stream.average_rate
    sar = cc.sample_aspect_ratio
    info = {
        **_common(stream), "Width": str(cc.width), "Height": str(cc.height),
        "PixFmt": cc.format.name if cc.format else None, "Profile": cc.profile,
        "Level": str(cc.level) if getattr(cc, "level", None) not in (None, -99) else None,
        "HasBFrames": "1" if cc.has_b_frames else "0",
        "Fps": _num(rate) if rate else None, "AvgFPS": _num(avg) if avg else None,
        "Bitrate": _kbps(cc.bit_rate),
        "Sar": _ratio(sar), "Dar": _ratio(cc.display_aspect_ratio),
        "NumFrames": str(stream.frames) if stream.frames else None,
        "Nb_frames": str(stream.frames) if stream.frames else None,
    }
    return info


def _audio(stream) -> dict[str, Any]:
    cc = stream.codec_context
    info = {
        **_common(stream), "SampleRate": str(cc.sample_rate), "Channels": str(cc.layout.nb_channels),
        "ChannelLayout": cc.layout.name, "SampleFmt": cc.format.name if cc.format else None,
        "Profile": cc.profile, "Bitrate": _kbps(cc.bit_rate),
        "NumFrames": str(stream.frames) if stream.frames else None,
    }
    return info


def _subtitle(stream) -> dict[str, Any]:
    return _common(stream)


def _packet_seconds(path: Path, demuxer: str) -> float | None:
    """An audio-only file's length from its packets (read, not decoded)."""
    with open_input(str(path), demuxer) as container:
        stream = container.streams.audio[0]
        first = last = None
        for packet in container.demux(stream):
            if packet.pts is None:
                continue
            first = packet.pts if first is None else min(first, packet.pts)
            end = packet.pts + (packet.duration or 0)
            last = end if last is None else max(last, end)
        if first is None or not stream.time_base:
            return None
        return float((last - first) * stream.time_base)


def _clean(info: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in info.items() if v not in (None, "")}


def file_info(path: Path, media_type: str, registered: str, file_url: str) -> dict[str, Any]:
    """One ``FileInfoList`` entry for a local file; ``FileStatus`` Abnormal with the reason if unreadable."""
    stat = path.stat()
    basic: dict[str, Any] = {
        "FileName": path.name, "FileSize": str(stat.st_size), "FileStatus": "Normal", "FileType": "source_file",
        "FileUrl": file_url, "CreateTime": registered,
        "ModifiedTime": format_timestamp(datetime.fromtimestamp(stat.st_mtime, timezone.utc)),
    }
    # the model always has the three lists (empty when there are no such streams)
    entry: dict[str, Any] = {"FileBasicInfo": basic, **{name: [] for name in STREAM_LISTS}}
    try:
        probed = probe(path)
    except RenderError:  # the model has no field for the reason: the file is just Abnormal
        basic["FileStatus"] = "Abnormal"
        return entry
    duration = probed.duration
    if probed.kind == "audio":
        duration = _packet_seconds(path, probed.demuxer) or duration
    basic["Duration"] = _num(round(duration, 3))
    if probed.width and probed.height:
        basic.update(Width=str(probed.width), Height=str(probed.height))
    try:
        with open_input(str(path), probed.demuxer or None) as container:  # the demuxer the probe checked
            basic["FormatName"] = format_name(container.format.name)
            if container.bit_rate:
                basic["Bitrate"] = _kbps(container.bit_rate)
            elif duration > 0:
                basic["Bitrate"] = _kbps(int(stat.st_size * 8 / duration))
            lists = (("VideoStreamInfoList", container.streams.video, _video),
                     ("AudioStreamInfoList", container.streams.audio, _audio),
                     ("SubtitleStreamInfoList", container.streams.subtitles, _subtitle))
            for name, streams, shape in lists:
                entry[name] = [_clean(shape(s)) for s in streams]
            if probed.kind == "audio" and len(entry["AudioStreamInfoList"]) == 1:
                entry["AudioStreamInfoList"][0]["Duration"] = basic["Duration"]  # measured, not the header's guess
    except (av.FFmpegError, OSError, ValueError):
        pass  # a picture PyAV cannot open (HEIF, SVG): the probe's size and type are all there is
    if "Bitrate" not in basic and duration > 0:
        basic["Bitrate"] = _kbps(int(stat.st_size * 8 / duration))
    entry["FileBasicInfo"] = _clean(basic)
    return entry


def cover(path: Path, media_type: str, media_id: str, outputs: Path, duration: float) -> Path | None:
    """The poster next to an output video, else a frame extracted once for an input; None for audio."""
    beside = Path(poster_path(path))
    if beside.exists():
        return beside
    if media_type not in ("video", "image"):
        return None
    dest = outputs / COVERS_DIR / f"{media_id}.jpg"
    with _cover_lock:  # one extraction per cover: its temp name is per process
        if not dest.exists():
            try:
                demuxer = probe(path).demuxer or None  # read as its probe checked it, never as FFmpeg guesses
            except RenderError:
                return None
            dest.parent.mkdir(parents=True, exist_ok=True)
            if not extract_poster(str(path), str(dest), duration if media_type == "video" else 0.0, demuxer=demuxer):
                return None
    return dest


def seconds_of(entry: dict[str, Any]) -> float:
    try:
        return float(entry["FileBasicInfo"].get("Duration") or 0)
    except ValueError:
        return 0.0



def media_info(record: dict[str, Any], resolver, outputs: Path, url_for) -> dict[str, Any]:
    """GetMediaInfo's ``MediaInfo`` for a registered media record."""
    basic = {
        "MediaId": record["media_id"], "InputURL": record["input_url"], "MediaType": record["media_type"],
        "BusinessType": record["business_type"], "Title": record["title"], "Status": record["status"],
        "CreateTime": record["create_time"], "ModifiedTime": record["create_time"]
    }
    try:
        path = resolver.resolve(record["media_id"])
    except RenderError:  # gone or unreachable since it was registered
        return {"MediaId": record["media_id"], "MediaBasicInfo": _clean(basic),
                "FileInfoList": [{"FileBasicInfo": {"FileStatus": "Abnormal"}, **{name: [] for name in STREAM_LISTS}}]}
    entry = file_info(path, record["media_type"], record["create_time"], url_for(path) or record["input_url"])
    if entry["FileBasicInfo"]["FileStatus"] == "Normal":
        poster = cover(path, record["media_type"], record["media_id"], outputs, seconds_of(entry))
        if poster is not None:
            basic["CoverURL"] = url_for(poster) or ""
    return {"MediaId": record["media_id"], "MediaBasicInfo": _clean(basic), "FileInfoList": [entry]}
