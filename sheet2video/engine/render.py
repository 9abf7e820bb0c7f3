"""Run FFmpeg for one render task and check the result.

The composition itself (one FFmpeg process, the whole video in one filtergraph) is built by
:mod:`sheet2video.engine.compose`; the task is plain data (:mod:`sheet2video.engine.timeline.task`).
:func:`render` writes to a temp name in the output folder, checks that file against the task
(:mod:`sheet2video.engine.media.verify`: streams, frame count, durations) and renames it only then.

Pixels never pass through Python.
"""

from __future__ import annotations

import os
import subprocess
import uuid

from sheet2video.engine.compose import build_command, validate
from sheet2video.engine.compose.captions import ass_path
from sheet2video.engine.compose.graph import even
from sheet2video.engine.compose.titles import write_png
from sheet2video.engine.compose.graph import SAMPLE_RATE, escape_filter_value, ms
from sheet2video.engine.ffmpeg import FFMPEG_ENV, die_with, ffmpeg_exe
from sheet2video.engine.media.grids import flatten_grids
from sheet2video.engine.media.poster import extract_poster, poster_path
from sheet2video.engine.media.verify import check, video_end
from sheet2video.engine.timeline.task import (Caption, Music, RenderResult, RenderTask, Shot, SpeechClip, Sticker,
                                               TextOverlay, identity_of)
from sheet2video.errors import RenderError

__all__ = [
    "die_with",
    "Shot",
    "TextOverlay",
    "SpeechClip",
    "Caption",
    "Music",
    "Sticker",
    "RenderTask",
    "RenderResult",
    "build_command",
    "render",
    "ffmpeg_exe",
    "escape_filter_value",
    "SAMPLE_RATE",
    "FFMPEG_ENV",
]

BAD_TASK = "InvalidParameter.RenderTask"

# --------------------------------------------------------------------------------------------
# Running


def _input_files(task: RenderTask) -> list[str]:
    files = [s.path for s in task.shots]
    files += [c.path for c in task.speech]
    files += [s.path for s in task.stickers]
    if task.music is not None:
        files.append(task.music.path)
    if task.background_image:
        files.append(task.background_image)
    return [os.path.abspath(f) for f in files]


def _check_inputs(task: RenderTask) -> None:
    for path in dict.fromkeys(_input_files(task)):
        try:
            size = os.path.getsize(path)
        except OSError:
            raise RenderError(f"{path}: media file not found", code="InvalidMaterial.NotFound") from None
        if size == 0:
            raise RenderError(f"{os.path.basename(path)}: cannot read media (the file is empty)", code="InvalidMaterial.Corrupt")
    _check_media(task)
    # An in-point at or past the end of a source's *video* gives a shot without frames, which
    # FFmpeg cannot configure, or (muted) an output without a video stream: say so instead. The
    # video's own end counts, not the container's (a longer audio track extends that).
    ends: dict[str, float | None] = {}
    for i, shot in enumerate(task.shots):
        if shot.kind != "video" or ms(shot.start) <= 0:  # from the start: at least the first frame
            continue
        path = os.path.abspath(shot.path)
        if path not in ends:
            ends[path] = video_end(path, task.input_format(path))
        end = ends[path]
        if end is not None and shot.start >= end - 0.04:  # within a (25 fps) frame of the end: none left
            raise RenderError(
                f"the video of {os.path.basename(path)} ends at {end:.2f} s, "
                f"shot {i} starts at {shot.start:.2f} s: no frame left to show",
                code=BAD_TASK,
            )
    if task.music is not None:
        # A looped (-stream_loop -1) input that yields no audio would never end: check it first.
        from sheet2video.engine.media.probe import probe

        info = probe(task.music.path)
        if not info.has_audio:
            raise RenderError(f"{os.path.basename(task.music.path)}: music has no audio stream", code="InvalidMaterial.Corrupt")


def _check_media(task: RenderTask) -> None:
    """Each user-supplied file is still the one the planner's probe checked (its identity), and has
    the demuxer the render forces (``task.inputs``); one the task does not describe (a task built
    by hand, or before tasks carried it) is probed now."""
    from sheet2video.engine.media.probe import probe

    task.check_unchanged()
    for path in task.media_files():
        if not task.input_format(path):
            identity = identity_of(path)  # before the probe, as the planner takes it
            task.inputs[path] = {"format": probe(path).demuxer or None, "identity": identity}


def _diagnose(task: RenderTask) -> RenderError | None:
    """After FFmpeg failed: name the input that cannot be read, if any."""
    from sheet2video.engine.media.probe import probe

    for path in dict.fromkeys(_input_files(task)):
        try:
            probe(path)
        except RenderError as exc:
            return exc
    return None


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def render(
    task: RenderTask,
    *,
    threads: int | None = None,
    preset: str = "veryfast",
    timeout: float | None = None,
) -> RenderResult:
    """Render ``task`` to ``task.output`` (atomically) and return where and how long."""
    validate(task)
    _check_inputs(task)
    output = os.path.abspath(task.output)
    folder = os.path.dirname(output)
    os.makedirs(folder, exist_ok=True)
    stem = f".{os.path.basename(output)}.{uuid.uuid4().hex[:12]}"
    tmp_out = os.path.join(folder, stem + ".part")
    graph_file = os.path.join(folder, stem + ".filtergraph")
    titles_file = os.path.join(folder, stem + ".titles.png")  # rasterised here: the task may come from elsewhere
    stills: list[str] = []  # phone photos' tiles, assembled (engine/media/grids.py)
    try:
        drawn, stills = flatten_grids(task, os.path.join(folder, stem + ".still"), timeout=timeout)
        argv, graph = build_command(
            drawn, threads=threads, preset=preset, output=tmp_out, graph_path=graph_file, titles_path=titles_file
        )
        with open(graph_file, "w", encoding="utf-8") as f:
            f.write(graph)
        write_png(task.titles, even(task.width), even(task.height), titles_file)
        parent = os.getpid()

        def in_child() -> None:  # between fork and exec: dies with the engine, and yields the CPU to its API
            die_with(parent)
            os.nice(10)

        try:
            proc = subprocess.run(
                argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=timeout,
                preexec_fn=in_child,
                # its own process group: a terminal's Ctrl+C is sheet2video's to handle, not a failed render;
                # not its own session, which autogroup kernels schedule as a peer of the API, nice or not
                process_group=0,
            )
        except subprocess.TimeoutExpired:  # run() has killed FFmpeg; the finally below removes its files
            raise RenderError(f"the render was stopped at its time limit of {timeout:g} s (FFmpeg had not finished;"
                              " the limit grows with the output's duration: sheet2video serve --render-timeout-factor)",
                              code="RenderFailed") from None
        except OSError as exc:
            raise RenderError(f"cannot run FFmpeg ({argv[0]}): {exc.strerror}", code="RenderFailed") from None
        if proc.returncode != 0 or not os.path.isfile(tmp_out) or os.path.getsize(tmp_out) == 0:
            cause = _diagnose(task)
            if cause is not None:
                raise cause
            err = proc.stderr.decode("utf-8", "replace").strip().splitlines()
            tail = " | ".join(line.strip() for line in err[-8:] if line.strip()) or "no error output"
            raise RenderError(f"FFmpeg failed (exit {proc.returncode}): {tail}", code="RenderFailed")
        check(task, tmp_out)  # never a Success with a broken file: streams, frames, durations
        poster = poster_path(output)
        if not extract_poster(tmp_out, poster, ms(task.duration) / 1000):
            poster = None  # the video is fine; the gallery shows it without a poster
        os.replace(tmp_out, output)
    finally:
        _unlink(tmp_out)
        _unlink(graph_file)
        _unlink(ass_path(graph_file))  # compose.captions writes it next to the graph
        _unlink(titles_file)
        for still in stills:
            _unlink(still)
    return RenderResult(path=output, duration=ms(task.duration) / 1000, warnings=list(task.warnings), poster=poster,
                        used=dict(task.used))
