"""Phone photos stored as a grid of tiles (HEIF/AVIF: ``Shot.grid``, ``RenderTask.background_grid``),
flattened to one PNG before a render reads them.

FFmpeg assembles a grid (its stream group ``g:0``) in a filtergraph of its own. Feeding that into
the render's graph beside any other input that lasts longer (the music, the voice-over, the next
clip) stalls FFmpeg 9 for good once the grid's one frame is through: an iPhone photo in a job
with music never finished. Read alone, a grid is fine. So each grid is read once, by itself —
assembled, turned upright (its ``irot``), scaled down to the largest size the render can show it
at — into a PNG beside the render's other temp files, and the render reads that as a plain still.
Cost: the tiles are decoded here instead of in the render (measured, 4032×3024: 0.93 s of CPU
here against 0.86 s for the decode alone); the render then reads a small PNG.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess

from sheet2video.engine.compose.graph import even
from sheet2video.engine.compose.motion import SCALE
from sheet2video.engine.ffmpeg import ffmpeg_exe, run as run_ffmpeg
from sheet2video.engine.media.formats import ffmpeg_input
from sheet2video.engine.timeline.task import RenderTask
from sheet2video.errors import RenderError

__all__ = ["grid_files", "flatten_grids"]


def grid_files(task: RenderTask) -> list[str]:
    """The task's pictures that are tile grids, absolute, each once."""
    paths = [s.path for s in task.shots if s.kind == "image" and s.grid]
    paths += [task.background_image] if task.background_image and task.background_grid else []
    return list(dict.fromkeys(os.path.abspath(p) for p in paths))


def flatten_grids(task: RenderTask, prefix: str, *, timeout: float | None = None) -> tuple[RenderTask, list[str]]:
    """A copy of ``task`` reading each grid from ``<prefix><n>.png`` instead, and the PNGs written
    (the caller removes them, whatever happens)."""
    grids = grid_files(task)
    if not grids:
        return task, []
    # The largest box a picture is fitted to: a shot's canvas with motion (compose.motion).
    box = even(round(task.width * SCALE)), even(round(task.height * SCALE))
    flat: dict[str, str] = {}
    for n, path in enumerate(grids):
        flat[path] = f"{prefix}{n}.png"
        _flatten(path, task.input_format(path), flat[path], box, timeout or 120.0)
    shots = [dataclasses.replace(s, path=flat[os.path.abspath(s.path)], grid=False)
             if s.kind == "image" and os.path.abspath(s.path) in flat else s for s in task.shots]
    background = task.background_image
    if background and task.background_grid:
        background = flat[os.path.abspath(background)]
    inputs = {**task.inputs, **{png: {"format": "png_pipe", "identity": None} for png in flat.values()}}
    return dataclasses.replace(task, shots=shots, background_image=background, background_grid=False,
                               inputs=inputs), list(flat.values())


def _flatten(path: str, demuxer: str | None, dest: str, box: tuple[int, int], timeout: float) -> None:
    bw, bh = box
    # As wide as covering the box needs (never wider than the photo); the height follows the aspect.
    scale = f"scale=w='min(iw,max({bw},{bh}*iw/ih))':h=-2"
    argv = [ffmpeg_exe(), "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *ffmpeg_input(path, demuxer),
            "-filter_complex", f"[0:g:0]{scale}[flat]", "-map", "[flat]", "-frames:v", "1",
            "-c:v", "png", "-f", "image2", "-update", "1", dest]  # fmt: skip
    name = os.path.basename(path)
    try:
        done = run_ffmpeg(argv, timeout=timeout, capture=True)
    except subprocess.TimeoutExpired:
        raise RenderError(f"{name}: assembling the photo's tiles took over {timeout:g} s", code="RenderFailed") from None
    except OSError as exc:
        raise RenderError(f"cannot run FFmpeg ({argv[0]}): {exc.strerror}", code="RenderFailed") from None
    if done.returncode != 0 or not os.path.isfile(dest) or os.path.getsize(dest) == 0:
        tail = " | ".join(line.strip() for line in (done.stderr or "").splitlines()[-4:] if line.strip())
        raise RenderError(f"{name}: cannot assemble the photo's tiles ({tail or 'no error output'})",
                          code="InvalidMaterial.Corrupt")
