"""The video track: each shot decoded only as far as needed, fitted to the output size
(``compose.fit``), moved (``compose.motion``), given exactly its frame budget, then the shots
joined in order.

Each shot seeks before decoding (``-ss``/``-t`` on its input); a still image is decoded and scaled
once, then repeated with the ``loop`` filter. The background image is decoded once too.
"""

from __future__ import annotations

from dataclasses import dataclass

from sheet2video.engine.compose import transitions
from sheet2video.engine.compose import fit as fit_mode
from sheet2video.engine.compose import motion
from sheet2video.engine.compose.graph import SAMPLE_RATE, Graph, absolute, even, frames, hold, media_input, ms, sec
from sheet2video.engine.media.probe import is_svg_file
from sheet2video.engine.timeline.task import RenderTask, Shot

__all__ = ["Slot", "slots", "shot_stream", "video_track"]


@dataclass
class Slot:
    """A shot with its integer budgets: ``nf`` frames and ``ns`` audio samples on the timeline,
    plus ``lead`` frames it plays before its slot (overlapping the previous shot's end, for a
    transition into it); its stream has ``nf + lead`` frames."""

    shot: Shot
    nf: int
    ns: int
    lead: int = 0


def slots(task: RenderTask, N: int, T: int) -> list[Slot]:
    """Frame and sample budgets from cumulative millisecond boundaries; they add up to N and T."""
    fps = int(task.fps)
    out: list[Slot] = []
    cum_ms = 0
    prev_f, prev_s = 0, 0
    shots = list(task.shots)
    for i, shot in enumerate(shots):
        cum_ms += ms(shot.duration)
        last = i == len(shots) - 1
        end_f = N if last else min(N, frames(cum_ms, fps))
        end_s = T if last else min(T, (end_f * SAMPLE_RATE + fps // 2) // fps)
        nf, ns = end_f - prev_f, end_s - prev_s
        prev_f, prev_s = end_f, end_s
        if nf > 0:
            out.append(Slot(shot, nf, ns))
    if out and sum(s.ns for s in out) != T:  # make the audio segments add up exactly
        out[-1].ns += T - sum(s.ns for s in out)
    for prev, cur in zip(out, out[1:]):
        # A transition into ``cur``: its window leaves at least one frame of ``prev``'s own.
        if prev.shot.transition and ms(prev.shot.transition_duration) > 0:
            cur.lead = max(0, min(frames(ms(prev.shot.transition_duration), fps), prev.nf - 1, cur.nf))
    return out


def _fit(task: RenderTask, W: int, H: int) -> tuple[str, str]:
    """The task's fit mode (``compose.fit``; each shot may still be covered) and the pixel
    format its shots leave: with alpha when the track goes over a background image."""
    mode = fit_mode.track_mode(task)
    return mode, "yuva420p" if mode == "image" else "yuv420p"


def shot_stream(g: Graph, task: RenderTask, slot: Slot, fit: str) -> tuple[str, tuple[int, float] | None]:
    """Add one shot's video chain; return its label and (input index, speed factor) of its audio
    when the shot's own sound is used."""
    shot, nf = slot.shot, slot.nf + slot.lead
    fps = int(task.fps)
    path = absolute(shot.path)
    dur_ms = max(1, ms(shot.duration - shot.hold))  # played; then the last frame is held (tpad below)
    out = g.label("v")
    W, H = even(task.width), even(task.height)
    mode = fit_mode.mode_for(task, shot, W, H)
    CW, CH = motion.canvas(W, H, shot.motion)
    move = motion.chain(shot.motion, W, H, nf, fps)
    move = "," + move if move else ""
    alpha = fit == "image"
    if shot.kind == "image":
        idx = g.add_input(*_svg_size(path, CW, CH), *media_input(task, path))
        # Fitted once (background included), then repeated; only the motion runs per frame.
        src = f"[{idx}:g:0]" if shot.grid else f"[{idx}:v]"
        fitted = fit_mode.fit(g, task, src, mode, CW, CH, still=True, alpha=alpha)
        g.add(f"{fitted}{hold(nf, fps)}{move}{out}")
        return out, None
    start_ms = ms(shot.start)
    src_ms = ms(shot.source_duration) or dur_ms
    args = ["-ss", sec(start_ms)] if start_ms > 0 else []
    # The lead frames (a transition into this shot) come after the slot's own source time.
    idx = g.add_input(*args, "-t", sec(src_ms + -(-slot.lead * 1000 * src_ms // (fps * dur_ms))), *media_input(task, path))
    speed = "" if src_ms == dur_ms else f"*{dur_ms}/{src_ms}"
    timed = g.label("src")
    g.add(f"[{idx}:v]{_pixels(shot)}setpts=(PTS-STARTPTS){speed},fps={fps}{timed}")
    fitted = fit_mode.fit(g, task, timed, mode, CW, CH, still=False, alpha=alpha)
    g.add(f"{fitted}tpad=stop=-1:stop_mode=clone,trim=end_frame={nf},setpts=PTS-STARTPTS{move}{out}")
    audio = (idx, src_ms / dur_ms) if shot.has_audio and float(shot.volume) > 0 else None
    return out, audio


def _pixels(shot: Shot) -> str:
    """Filters that turn the stored picture into what a viewer sees, before any timing or fitting:
    fields woven into frames (only frames flagged interlaced are touched), then non-square pixels
    (DV 64:45, HDV 4:3) widened to square ones so a circle stays a circle."""
    out = ""
    if shot.interlaced:
        out += "bwdif=mode=send_frame:parity=auto:deint=interlaced,"
    if shot.sar and shot.sar not in ("1:1", "0:1"):
        out += "scale=w='trunc(iw*sar/2)*2':h=ih,setsar=1,"
    return out


def _svg_size(path: str, width: int, height: int) -> list[str]:
    """An SVG is rasterised by librsvg straight at the box it is fitted into (aspect kept), not at
    its nominal size and then enlarged."""
    if not path.lower().endswith((".svg", ".svgz")) and not is_svg_file(path):
        return []
    return ["-width", str(width), "-height", str(height), "-keep_ar", "1"]


def video_track(g: Graph, task: RenderTask, plan: list[Slot], W: int, H: int, N: int) -> tuple[str, list]:
    """The whole picture before overlays: its label, and per slot the shot-audio source (or None)."""
    fps = int(task.fps)
    fit, pix = _fit(task, W, H)
    labels, audios = [], []
    for slot in plan:
        label, audio = shot_stream(g, task, slot, fit)
        labels.append(label)
        audios.append(audio)
    if not labels:
        g.add(f"color=c=black:s={W}x{H}:r={fps},format={pix},trim=end_frame={N},setsar=1[vcat]")
    elif len(labels) == 1:
        g.add(f"{labels[0]}null[vcat]")
    else:
        # The trailing pad+trim only matters if a source delivered no frames at all.
        transitions.join(g, labels, plan, fps, pix, "[vjoin]")
        g.add(f"[vjoin]tpad=stop=-1:stop_mode=clone,trim=end_frame={N}[vcat]")
    cur = "[vcat]"
    if pix == "yuva420p":  # the letterboxed track over the background image, laid once
        bg = fit_mode.background(g, task, W, H, N, fps)
        g.add(f"{bg}{cur}overlay=x=0:y=0:eof_action=endall:shortest=1:format=yuv420[vbg]")
        cur = "[vbg]"
    return cur, audios
