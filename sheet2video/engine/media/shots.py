"""A clip's own shape: where its scenes cut, and which part of it is worth showing.

``analyse_clip(path, info)`` runs ONE FFmpeg pass over the clip's first video stream, on a picture
scaled down to 96 px on its short side (decoding is nearly all the cost; the detectors on a small
picture are almost free, and averaging 100+ pixels into one also averages away sensor noise and
compression grain), through the same guards as every FFmpeg run on user media
(``formats.ffmpeg_input``: the probe's demuxer forced, local files only, pixels bounded; dies with
the engine, ``nice`` 10, a time limit that grows with the clip). Three detectors:

* ``scdet`` finds hard cuts. Its score is min(mean frame difference, change of that difference) in
  percent, so steady motion (a pan, a zoom, noise) scores low however fast it is, and only a sudden
  jump in the picture scores high. :data:`CUT_SCORE` is 7, chosen on generated material scaled as
  here: a slow zoom, pans up to 1000 px/s and their sudden onsets, heavy temporal noise scored
  under 1.5, a hand-held shake 4.2 (a violent one, 14 % of the width a frame, 5.9); the frames of
  two different sample clips (samples/media.py, all drawn in one warm palette: the hardest case)
  differ by 8.7 and more (180 pairs; the score of a cut is that less the motion before it, under
  1), cuts between them in a clip scored 13.5–22, between unlike scenes 18–41. FFmpeg's default
  of 10 misses 9 of those 180 sample pairs. A cut into a 0.2 s fade to black scores about 8 (a
  cut at a fade costs nothing: the black is removed below). A one-frame camera flash is found
  going in but not coming out (its difference does not change): the flash frame starts a scene.
* ``blackdetect`` (FFmpeg's defaults: 98 % of pixels under 10 % light) finds black frames: a
  black head or tail is not usable, and a black stretch inside the clip is cut out of its scene.
* ``freezedetect`` (FFmpeg's noise tolerance, −60 dB; at least :data:`FREEZE_MIN` s) finds a
  picture that stops moving: a frozen head or tail is not usable. A clip frozen throughout is a
  still filmed as video: kept whole (``still``).

The result (JSON-able, cached by :class:`~sheet2video.engine.media.facts.FactCache` under
:data:`KIND`): ``cuts`` (s, each the first frame of a new scene), ``usable`` ``[start, end]``,
``scenes`` (``[start, end]`` spans inside ``usable``, none shorter than :data:`MIN_SCENE` — a flash
in the source is never used — unless that would leave none), ``black`` and ``frozen`` (what the
detectors found), ``still``, and ``warning`` when the pass failed (the whole clip is then one
scene; a pass stopped at its time limit is ``transient``: not cached on disk, tried again in a
later run) or the clip is black throughout (``scenes`` empty).
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass

from sheet2video.engine.ffmpeg import ffmpeg_exe, run as run_ffmpeg
from sheet2video.engine.media.facts import TRANSIENT
from sheet2video.engine.media.formats import ffmpeg_input
from sheet2video.engine.media.probe import MediaInfo
from sheet2video.errors import RenderError

__all__ = ["KIND", "CUT_SCORE", "MIN_SCENE", "FREEZE_MIN", "ANALYSIS_SIDE", "NICE", "ClipShape", "analyse_clip",
           "shape_of", "time_limit"]

KIND = "shots-1"  # the FactCache kind (and cache folder): bump it when the analysis changes
CUT_SCORE = 7.0  # scdet threshold, percent (see the module docstring for the figures)
MIN_SCENE = 0.3  # seconds: a shorter piece of a source scene is a flash, never shown
FREEZE_MIN = 0.5  # seconds: a shorter still moment at a head or tail is not trimmed
ANALYSIS_SIDE = 96  # pixels on the short side of the picture the detectors see
NICE = 10  # as a render: planning yields the CPU to the engine's API

# Time limit: a floor, plus seconds per second of clip per 1080p30-equivalent (measured: ~0.22 s
# of CPU per second of 1080x1920 25 fps H.264 at 12 Mbit/s, nearly all of it decoding).
_LIMIT_FLOOR = 30.0
_LIMIT_PER_SECOND = 1.5
_REFERENCE_RATE = 1920 * 1080 * 30

_LINE = re.compile(r"^\[Parsed_(scdet|blackdetect|freezedetect)_\d+ @ [^\]]*\] (.*)$")
_NUMBER = r"(-?\d+(?:\.\d+)?(?:e-?\d+)?)"
_CUT = re.compile(r"lavfi\.scd\.time: " + _NUMBER)
_BLACK = re.compile(r"black_start:" + _NUMBER + r" black_end:" + _NUMBER)
_FREEZE = re.compile(r"lavfi\.freezedetect\.freeze_(start|end): " + _NUMBER)


@dataclass(frozen=True)
class ClipShape:
    """:func:`analyse_clip`'s result as a value (times in seconds)."""

    cuts: tuple[float, ...]
    usable: tuple[float, float]
    scenes: tuple[tuple[float, float], ...]
    black: tuple[tuple[float, float], ...] = ()
    frozen: tuple[tuple[float, float], ...] = ()
    still: bool = False
    warning: str = ""

    @classmethod
    def from_dict(cls, data: dict) -> "ClipShape":
        def pairs(key: str) -> tuple[tuple[float, float], ...]:
            return tuple((float(a), float(b)) for a, b in data.get(key, ()))

        start, end = data["usable"]
        return cls(tuple(float(c) for c in data.get("cuts", ())), (float(start), float(end)), pairs("scenes"),
                   pairs("black"), pairs("frozen"), bool(data.get("still")), str(data.get("warning") or ""))

    def to_dict(self) -> dict:
        data = {"cuts": list(self.cuts), "usable": list(self.usable), "scenes": [list(s) for s in self.scenes],
                "black": [list(s) for s in self.black], "frozen": [list(s) for s in self.frozen], "still": self.still}
        if self.warning:
            data["warning"] = self.warning
        return data


def time_limit(info: MediaInfo) -> float:
    """Seconds the analysis of ``info``'s clip may take before it is given up."""
    rate = max(1, info.width * info.height) * (info.fps or 30.0)
    return _LIMIT_FLOOR + _LIMIT_PER_SECOND * max(0.0, info.duration) * max(1.0, rate / _REFERENCE_RATE)


def _analysis_size(info: MediaInfo) -> tuple[int, int]:
    """The detectors' picture: :data:`ANALYSIS_SIDE` on the short side, even, the shape kept."""
    w, h = max(1, info.width or 16), max(1, info.height or 16)
    scale = min(1.0, ANALYSIS_SIDE / min(w, h))
    return max(2, round(w * scale / 2) * 2), max(2, round(h * scale / 2) * 2)


def _command(path: str, info: MediaInfo) -> list[str]:
    w, h = _analysis_size(info)
    chain = (f"scale={w}:{h}:flags=area,blackdetect=d=0,freezedetect=d={FREEZE_MIN:g},"
             f"scdet=threshold={CUT_SCORE:g}")
    # No deblocking: ~12 % less decoding, and blocking is invisible at 96 px.
    return [ffmpeg_exe(), "-hide_banner", "-nostdin", "-nostats", "-loglevel", "info",
            "-skip_loop_filter", "all", *ffmpeg_input(path, info.demuxer or None),
            "-map", "0:v:0", "-an", "-sn", "-dn", "-vf", chain, "-f", "null", "-"]


def _parse(log: str, duration: float) -> tuple[list[float], list[tuple[float, float]], list[tuple[float, float]]]:
    """(cuts, black stretches, frozen stretches) from the detectors' own log lines (a file's
    metadata printed in the same log cannot pass for them: those lines do not start so)."""
    cuts: list[float] = []
    black: list[tuple[float, float]] = []
    frozen: list[tuple[float, float]] = []
    freeze_start: float | None = None
    clamp = lambda t: min(max(float(t), 0.0), duration)  # noqa: E731
    for line in log.splitlines():
        m = _LINE.match(line)
        if m is None:
            continue
        what, text = m.groups()
        if what == "scdet" and (found := _CUT.search(text)):
            cuts.append(clamp(found.group(1)))
        elif what == "blackdetect" and (found := _BLACK.search(text)):
            black.append((clamp(found.group(1)), clamp(found.group(2))))
        elif what == "freezedetect" and (found := _FREEZE.search(text)):
            if found.group(1) == "start":
                freeze_start = clamp(found.group(2))
            elif freeze_start is not None:
                frozen.append((freeze_start, clamp(found.group(2))))
                freeze_start = None
    if freeze_start is not None:  # frozen to the end: FFmpeg reports no end
        frozen.append((freeze_start, duration))
    return sorted(set(cuts)), black, frozen


def _trim(stretches, start: float, end: float, slack: float) -> tuple[float, float]:
    """``[start, end]`` without the stretches that touch its head or its tail (chained)."""
    for s, e in sorted(stretches):
        if s <= start + slack and e > start:
            start = e
    for s, e in sorted(stretches, key=lambda se: -se[1]):
        if e >= end - slack and s < end:
            end = s
    return start, max(start, end)


def _without(spans, holes) -> list[tuple[float, float]]:
    """``spans`` with the ``holes`` cut out of them."""
    for hs, he in sorted(holes):
        spans = [piece for s, e in spans for piece in ((s, min(e, hs)), (max(s, he), e)) if piece[1] > piece[0]]
    return spans


def shape_of(cuts, black, frozen, duration: float, fps: float = 0.0) -> dict:
    """The result of :func:`analyse_clip` from what the detectors found (times in seconds)."""
    slack = 1.5 / (fps or 25.0)  # a stretch within a frame and a half of an end touches it
    # scdet scores the second frame against nothing before it (its whole difference): not a cut
    cuts = [c for c in cuts if c > slack]
    start, end = _trim([*black, *frozen], 0.0, duration, slack)
    still = False
    if end - start < MIN_SCENE and (black or frozen):  # nothing moves: a still filmed as video, or black
        start, end = _trim(black, 0.0, duration, slack)
        if end - start < MIN_SCENE and black:
            return {"cuts": _rounded(cuts), "usable": [0.0, 0.0], "scenes": [], "black": _rounded(black),
                    "frozen": _rounded(frozen), "still": False, "warning": "the clip is black throughout"}
        still = True
    inner = [c for c in cuts if start + 0.001 < c < end - 0.001]
    bounds = [start, *inner, end]
    spans = _without(list(zip(bounds, bounds[1:])), black)
    scenes = [(s, e) for s, e in spans if round(e - s, 3) >= MIN_SCENE]
    if not scenes and end > start:
        scenes = [(start, end)]  # a clip shorter than a scene is still the user's material
    return {"cuts": _rounded(cuts), "usable": _rounded((start, end)), "scenes": _rounded(scenes),
            "black": _rounded(black), "frozen": _rounded(frozen), "still": still}


def _rounded(times) -> list:
    """Times (or pairs of them) to the millisecond, as lists (JSON)."""
    return [_rounded(t) if isinstance(t, (tuple, list)) else round(float(t), 3) for t in times]


def _whole(info: MediaInfo, warning: str, transient: bool = False) -> dict:
    """The whole clip as one scene, with the reason it was not analysed."""
    end = round(max(0.0, info.duration), 3)
    result = {"cuts": [], "usable": [0.0, end], "scenes": [[0.0, end]] if end > 0 else [], "black": [],
              "frozen": [], "still": False, "warning": warning}
    if transient:
        result[TRANSIENT] = True
    return result


def analyse_clip(path: str, info: MediaInfo) -> dict:
    """Scene cuts and the usable part of a video clip (see the module docstring); never raises for
    a clip FFmpeg cannot finish: the whole clip is one scene, with a ``warning``."""
    name = os.path.basename(path)
    if info.duration <= 0:
        return _whole(info, f"{name}: the clip has no length to analyse")
    limit = time_limit(info)
    try:
        done = run_ffmpeg(_command(path, info), timeout=limit, capture=True, nice=NICE)
    except subprocess.TimeoutExpired:
        return _whole(info, f"{name}: shot analysis stopped at its time limit of {limit:.0f} s; "
                            "the clip is used as one scene", transient=True)
    except (OSError, RenderError) as exc:
        return _whole(info, f"{name}: shot analysis could not run ({exc}); the clip is used as one scene",
                      transient=isinstance(exc, OSError))
    if done.returncode != 0:
        tail = next((line.strip() for line in reversed(done.stderr.splitlines()) if line.strip()), "no error output")
        return _whole(info, f"{name}: shot analysis failed (FFmpeg: {tail[:200]}); the clip is used as one scene")
    cuts, black, frozen = _parse(done.stderr, info.duration)
    return shape_of(cuts, black, frozen, info.duration, info.fps)
