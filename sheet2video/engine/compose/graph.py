"""The filtergraph under construction, and the small pieces every stage shares: integer-millisecond
times, frame and sample counts, filter-value escaping, colours.

Timing rule: every time is rounded to integer milliseconds first, then turned into integer frame
counts (video) and sample counts (audio, 44.1 kHz) from cumulative boundaries, so nothing drifts
however many shots there are.
"""

from __future__ import annotations

import os
import re

from sheet2video.engine.media.formats import ffmpeg_input
from sheet2video.engine.timeline.task import RenderTask
from sheet2video.errors import RenderError

__all__ = [
    "SAMPLE_RATE",
    "AFMT",
    "Graph",
    "ms",
    "sec",
    "frames",
    "samples",
    "num",
    "even",
    "absolute",
    "escape_filter_value",
    "color",
    "atempo_chain",
    "media_input",
    "hold",
]

SAMPLE_RATE = 44100
AFMT = f"aformat=sample_fmts=fltp:sample_rates={SAMPLE_RATE}:channel_layouts=stereo"


class Graph:
    """Inputs (argv fragments) and labelled filter chains, compiled to one ``-filter_complex``."""

    def __init__(self) -> None:
        self.inputs: list[list[str]] = []
        self.chains: list[str] = []
        self._labels: dict[str, int] = {}

    def add_input(self, *args: str) -> int:
        self.inputs.append(list(args))
        return len(self.inputs) - 1

    def add(self, chain: str) -> None:
        self.chains.append(chain)

    def label(self, stem: str) -> str:
        """A fresh ``[stemN]`` label, unique in this graph."""
        n = self._labels.get(stem, 0)
        self._labels[stem] = n + 1
        return f"[{stem}{n}]"

    def text(self) -> str:
        return ";\n".join(self.chains) + "\n"


def ms(seconds: float) -> int:
    return int(round(float(seconds) * 1000))


def sec(ms_: int) -> str:
    sign = "-" if ms_ < 0 else ""
    ms_ = abs(ms_)
    return f"{sign}{ms_ // 1000}.{ms_ % 1000:03d}"


def frames(ms_: int, fps: int) -> int:
    return (ms_ * fps + 500) // 1000


def samples(ms_: int) -> int:
    return (ms_ * SAMPLE_RATE + 500) // 1000


def num(x: float) -> str:
    """A short, stable decimal for gains and factors."""
    s = f"{float(x):.6f}".rstrip("0").rstrip(".")
    return s or "0"


def even(n: int) -> int:
    return max(2, int(n) - int(n) % 2)


def absolute(path: str) -> str:
    return os.path.abspath(os.fspath(path))


_SPECIAL = set("\\':=[],;")


def escape_filter_value(value: str) -> str:
    """Escape ``value`` for use as one option value inside a filtergraph description.

    Two levels of FFmpeg's ``av_get_token`` unescape it: the graph parser (``[],;``) and the
    filter's option parser (``:``); ``\\`` and ``'`` are special at both. Backslash-escaping the
    union at each level makes any text (quotes, colons, percent, brackets, backslashes) literal.
    Use with ``drawtext=expansion=none`` so ``%`` is not expanded.
    """

    def once(s: str) -> str:
        return "".join("\\" + c if c in _SPECIAL else c for c in s)

    return once(once(value))


_HEX = re.compile(r"^(?:#|0x)?([0-9a-fA-F]{6}(?:[0-9a-fA-F]{2})?)$")
_NAMED = re.compile(r"^[A-Za-z]+(?:@(?:0(?:\.\d+)?|1(?:\.0+)?))?$")


def color(value, default: str) -> str:
    if value in (None, ""):
        return default
    s = str(value).strip()
    m = _HEX.match(s)
    if m:
        return "0x" + m.group(1).upper()
    if _NAMED.match(s):
        return s
    raise RenderError(f"unusable colour {value!r} (expected #rrggbb)", code="InvalidParameter.FontColor")


def atempo_chain(factor: float) -> list[str]:
    """atempo accepts 0.5..100 per instance; chain instances for factors outside."""
    parts: list[str] = []
    while factor < 0.5:
        parts.append("atempo=0.5")
        factor /= 0.5
    while factor > 100.0:
        parts.append("atempo=100")
        factor /= 100.0
    if abs(factor - 1.0) > 1e-9:
        parts.append(f"atempo={num(factor)}")
    return parts


def media_input(task: RenderTask, path: str) -> list[str]:
    """Input options for a user-supplied file, ending with ``-i PATH``: read with the demuxer its
    probe checked (``task.inputs``), local files only, frames within the pixel limit
    (engine/media/formats.py). Pictures use the single-picture demuxers, never image2: a name is
    never a pattern and its extension never picks the decoder."""
    return ffmpeg_input(absolute(path), task.input_format(path))


def hold(n: int, fps: int) -> str:
    """Filters repeating a one-frame stream (a decoded still) as exactly ``n`` frames at ``fps``.

    ``fps`` gives every frame a duration of one frame: the still keeps its decoder's otherwise
    (a HEIF/AVIF says 1 s, a grid of tiles more), and FFmpeg fills the last frame's duration with
    copies at the output (50 frames planned, 74 written). It needs the frame after the last to
    know where the last ends, hence one frame more in the ``loop``, cut again by ``trim``."""
    return f"loop=loop={n}:size=1:start=0,settb=1/{fps},setpts=N,fps={fps},trim=end_frame={n}"
