"""Stickers (logos, watermarks): each image decoded once, scaled, overlaid for the whole video."""

from __future__ import annotations

from sheet2video.engine.compose.graph import Graph, media_input, num
from sheet2video.engine.timeline.task import RenderTask

__all__ = ["stickers"]


def stickers(g: Graph, task: RenderTask, cur: str) -> str:
    for st in task.stickers:
        idx = g.add_input(*media_input(task, st.path))
        opacity = min(1.0, max(0.0, float(st.opacity)))
        alpha = "" if opacity >= 1.0 else f",colorchannelmixer=aa={num(opacity)}"
        img, out = g.label("st"), g.label("vs")
        # Converted to yuva420p once and blended in yuv420: overlay's format=auto would blend every
        # frame in RGB (measured 1.3x the cost for the titles' picture).
        g.add(f"[{idx}:v]scale={int(st.width)}:{int(st.height)},setsar=1,format=rgba{alpha},format=yuva420p{img}")
        g.add(f"{cur}{img}overlay=x={int(st.x)}:y={int(st.y)}:eof_action=repeat:format=yuv420{out}")
        cur = out
    return cur
