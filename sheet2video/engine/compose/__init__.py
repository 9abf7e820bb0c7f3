"""A render task → one FFmpeg argv and one filtergraph, built in stages, one module each:

* ``graph``       the graph under construction; times, escaping, colours shared by every stage
* ``video``       shots decoded and given their frame budgets, then joined, using
  ``fit`` (cover / contain / blur / colour / image), ``motion`` (zoom and pan) and
  ``transitions`` (xfade over the overlap windows only)
* ``layout``      safe areas per aspect, shared by captions and titles
* ``overlays``    stickers
* ``captions``    voice-over captions (libass, from a generated .ass file)
* ``titles``      titles and subheadings (one picture rasterised per output, overlaid)
* ``audio``       shot sound, voice-over, music (ducked), mixed and limited

:func:`build_command` runs no FFmpeg, so stages can be tested on their compiled text (with captions
it writes their `.ass` file, see ``captions.ass_path``).
The video track has exactly ``round(duration * fps)`` frames and the audio track exactly
``round(duration * 44100)`` samples.
"""

from __future__ import annotations

from sheet2video.engine.compose.audio import audio_track
from sheet2video.engine.compose.captions import caption_filters
from sheet2video.engine.compose.graph import Graph, escape_filter_value, even, frames, ms, samples
from sheet2video.engine.compose.overlays import stickers
from sheet2video.engine.compose.titles import title_overlay
from sheet2video.engine.compose.video import slots, video_track
from sheet2video.engine.ffmpeg import ffmpeg_exe, is_modern
from sheet2video.engine.timeline.task import RenderTask

__all__ = ["build_command", "escape_filter_value", "validate"]

BAD_TASK = "InvalidParameter.RenderTask"


def validate(task: RenderTask) -> None:
    from sheet2video.errors import RenderError

    def bad(msg: str) -> RenderError:
        return RenderError(f"render task: {msg}", code=BAD_TASK)

    if not task.output:
        raise bad("no output path")
    if int(task.width) < 2 or int(task.height) < 2:
        raise bad(f"size {task.width}x{task.height} is too small")
    if not (1 <= int(task.fps) <= 240):
        raise bad(f"fps {task.fps} out of range 1..240")
    if not (0 <= int(task.crf) <= 51):
        raise bad(f"crf {task.crf} out of range 0..51")
    if ms(task.duration) <= 0:
        raise bad(f"duration {task.duration} must be positive")
    for i, s in enumerate(task.shots):
        if s.kind not in ("video", "image"):
            raise bad(f"shot {i}: kind {s.kind!r} is not 'video' or 'image'")
        if ms(s.duration) < 0 or ms(s.start) < 0 or ms(s.source_duration) < 0:
            raise bad(f"shot {i}: negative time")
        if float(s.volume) < 0:
            raise bad(f"shot {i}: negative volume")
    for i, c in enumerate(task.speech):
        if ms(c.start) < 0 or ms(c.duration) < 0 or float(c.volume) < 0:
            raise bad(f"speech clip {i}: negative start, duration or volume")
    for i, st in enumerate(task.stickers):
        if int(st.width) < 1 or int(st.height) < 1:
            raise bad(f"sticker {i}: size {st.width}x{st.height}")
    if task.music is not None and float(task.music.volume) < 0:
        raise bad("music: negative volume")


def build_command(
    task: RenderTask,
    *,
    ffmpeg: str | None = None,
    threads: int | None = None,
    preset: str = "veryfast",
    output: str | None = None,
    graph_path: str | None = None,
    titles_path: str | None = None,
) -> tuple[list[str], str]:
    """The FFmpeg argv and filtergraph text for ``task``.

    With ``graph_path`` the argv reads the filtergraph from that file (``-/filter_complex`` on
    FFmpeg >= 7, ``-filter_complex_script`` before); without it the graph is inline. ``output``
    overrides ``task.output`` (``render`` uses a temp name). The titles' picture is read from
    ``titles_path`` (default: next to the output); ``render`` writes it there with
    :func:`titles.write_png` before running FFmpeg.
    """
    from sheet2video.engine.compose.graph import absolute

    validate(task)
    exe = ffmpeg or ffmpeg_exe()
    modern = is_modern(exe)
    W, H = even(task.width), even(task.height)
    fps = int(task.fps)
    total_ms = ms(task.duration)
    N = max(1, frames(total_ms, fps))
    T = max(1, samples(total_ms))
    g = Graph()

    plan = slots(task, N, T)
    cur, audios = video_track(g, task, plan, W, H, N)
    cur = stickers(g, task, cur)
    # captions over the picture and stickers, titles on top (they never overlap: compose.layout)
    captions = caption_filters(task, W, H, graph_path)
    if captions:
        label = g.label("vc")
        g.add(f"{cur}{','.join(captions)}{label}")
        cur = label
    cur = title_overlay(g, task.titles, W, H, cur, titles_path or (output or absolute(task.output)) + ".titles.png")
    g.add(f"{cur}format=yuv420p[vout]")
    aout = audio_track(g, task, plan, audios, T)

    graph = g.text()
    argv = [exe, "-hide_banner", "-nostdin", "-nostats", "-loglevel", "error", "-y"]
    if threads:
        argv += ["-filter_complex_threads", str(int(threads))]
    for args in g.inputs:
        argv += args
    if graph_path:
        argv += ["-/filter_complex", graph_path] if modern else ["-filter_complex_script", graph_path]
    else:
        argv += ["-filter_complex", graph]
    argv += ["-map", "[vout]", "-map", aout]
    argv += ["-c:v", "libx264", "-preset", preset, "-crf", str(int(task.crf))]
    if threads:
        argv += ["-threads", str(int(threads))]
    argv += ["-pix_fmt", "yuv420p", "-r", str(fps)]
    argv += ["-c:a", "aac", "-b:a", "128k", "-ar", "44100", "-ac", "2"]
    argv += ["-fflags", "+bitexact", "-flags:v", "+bitexact", "-flags:a", "+bitexact"]
    argv += ["-map_metadata", "-1", "-map_chapters", "-1", "-movflags", "+faststart"]
    argv += ["-f", "mp4", output or absolute(task.output)]
    return argv, graph
