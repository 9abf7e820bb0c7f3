"""Check a finished render before it is called a Success, and measure a source's video length.

Both read container/stream headers and packet timestamps with PyAV (opened through
``media.formats``); nothing is decoded.

Tolerances (the output is the planned ``N`` frames at ``fps`` — see compose.build_command):

* it has one video stream and one audio stream;
* its video has exactly ``N`` frames;
* its video ends within one frame + 40 ms of the planned duration;
* its sound ends within one frame + one AAC packet (1024 samples) of its picture (AAC
  writes whole packets, so the sound may overrun the picture by part of one).

Anything else raises ``RenderError(code=CHECK_FAILED)`` naming the shot and its material
where the missing part can be placed, else the measured vs planned figures.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import av

from sheet2video.engine.compose.graph import SAMPLE_RATE, frames, ms, samples
from sheet2video.engine.media.formats import open_input
from sheet2video.engine.timeline.task import RenderTask
from sheet2video.errors import RenderError

__all__ = ["CHECK_FAILED", "Measured", "measure", "check", "video_end"]

CHECK_FAILED = "RenderFailed.OutputCheck"
SLACK_MS = 40  # beyond one frame: container rounding of the last timestamp
AAC_PACKET = 1024  # samples per AAC packet


@dataclass(frozen=True)
class Measured:
    has_video: bool
    has_audio: bool
    frames: int  # video packets (one per frame for H.264 in MP4)
    video_s: float  # where the picture ends (last packet's pts + duration)
    audio_s: float  # where the sound ends
    audio_rate: int = 0


def measure(path: str) -> Measured:
    """Streams, frame count and end times of a rendered MP4 from its packets (no decoding)."""
    with open_input(path, "mov") as c:
        v = next(iter(c.streams.video), None)
        a = next(iter(c.streams.audio), None)
        wanted = [s for s in (v, a) if s is not None]
        ends = {s.index: 0 for s in wanted}
        count = 0
        for packet in c.demux(wanted) if wanted else ():
            if packet.pts is None:  # the flush packet at the end
                continue
            i = packet.stream.index
            ends[i] = max(ends[i], packet.pts + (packet.duration or 0))
            if v is not None and i == v.index:
                count += 1
        end = {i: float(t * c.streams[i].time_base) for i, t in ends.items()}
        return Measured(
            has_video=v is not None,
            has_audio=a is not None,
            frames=count,
            video_s=end.get(v.index, 0.0) if v is not None else 0.0,
            audio_s=end.get(a.index, 0.0) if a is not None else 0.0,
            audio_rate=a.rate if a is not None else 0,
        )


def video_end(path: str, demuxer: str | None = None) -> float | None:
    """Where a source's *video stream* ends, in seconds (not the container's duration, which
    a longer audio track extends): the stream header's duration, else its packets' last
    timestamp. None when there is no video stream or the file cannot be read. ``demuxer``: the
    one its probe checked (None: any on the list)."""
    try:
        with open_input(path, demuxer) as c:
            v = next(iter(c.streams.video), None)
            if v is None or v.time_base is None:
                return None
            start = v.start_time or 0
            if v.duration and v.duration > 0:
                return float(v.duration * v.time_base)
            end = None
            for packet in c.demux(v):
                if packet.pts is not None:
                    t = packet.pts + (packet.duration or 0)
                    end = t if end is None else max(end, t)
            return float((end - start) * v.time_base) if end is not None else None
    except (av.FFmpegError, OSError, ValueError):
        return None


def check(task: RenderTask, path: str) -> Measured:
    """Raise unless the file at ``path`` is the video ``task`` planned; return what was measured."""
    from sheet2video.engine.compose.video import slots

    fps = int(task.fps)
    total = ms(task.duration)
    N = max(1, frames(total, fps))
    planned_s = N / fps
    name = os.path.basename(task.output)
    try:
        m = measure(path)
    except (av.FFmpegError, OSError, ValueError) as exc:
        raise RenderError(f"{name}: the rendered file cannot be read ({exc})", code=CHECK_FAILED) from None

    def fail(what: str) -> RenderError:
        return RenderError(f"{name}: {what}", code=CHECK_FAILED)

    if not m.has_video or m.frames == 0:
        raise fail(f"the render has no video{_blame(task, slots(task, N, max(1, samples(total))), 0, fps)}")
    if not m.has_audio:
        raise fail("the render has no audio stream")
    frame_ms = 1000 / fps
    if m.frames != N or abs(m.video_s - planned_s) * 1000 > frame_ms + SLACK_MS:
        where = _blame(task, slots(task, N, max(1, samples(total))), min(m.frames, N), fps) if m.frames < N else ""
        raise fail(
            f"the render has {m.frames} frames ({m.video_s:.2f} s), planned {N} ({planned_s:.2f} s){where}"
        )
    packet_ms = AAC_PACKET * 1000 / (m.audio_rate or SAMPLE_RATE)
    if abs(m.audio_s - m.video_s) * 1000 > frame_ms + packet_ms:
        raise fail(f"its sound lasts {m.audio_s:.2f} s but its picture {m.video_s:.2f} s")
    return m


def _blame(task: RenderTask, plan, frame: int, fps: int) -> str:
    """The shot whose slot holds output frame ``frame``: ' — shot 2 (clip.mp4 from 1.50 s)'."""
    at = 0
    for slot in plan:
        if frame < at + slot.nf:
            shot = slot.shot
            i = next(n for n, s in enumerate(task.shots) if s is shot)
            source = os.path.basename(shot.path)
            start = f" from {shot.start:.2f} s" if shot.kind == "video" else ""
            return f" — the picture stops at {frame / fps:.2f} s, in shot {i} ({source}{start})"
        at += slot.nf
    return ""
