"""The material as the editor sees it: each media file of a group with the spans of it worth
showing (a clip's own scenes, without black or frozen heads and tails), and the shots of one
output as they are being cut (``Cut``, ``Reel``): what is already on screen, what is still free.

Times are source seconds unless a name says otherwise."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from sheet2video.engine.media.probe import MediaInfo

__all__ = ["MIN_PIECE", "MIN_SHOT", "Item", "Cut", "Reel"]

MIN_PIECE = 0.3  # a piece of a source scene shorter than this is a flash frame: never shown
MIN_SHOT = 1.0   # a shot cut from a longer scene lasts at least this long


@dataclass(eq=False)
class Item:
    """One media file of a group, as the job named it."""

    reference: str  # as the job wrote it (shown to the user; never a server path)
    path: str
    info: MediaInfo
    group: int  # the group's index (image-text mode: 0)
    group_name: str | None
    volume: float  # the clip's own sound
    spans: list[tuple[float, float]] = field(default_factory=list)  # usable scenes, in source order; photos: none
    words: set[str] = field(default_factory=set)  # image-text matching

    @property
    def photo(self) -> bool:
        return self.info.kind == "image"


@dataclass(eq=False)
class Cut:
    """One shot of an output being planned: ``length`` source seconds from ``start`` at normal
    speed (a photo: seconds held); ``duration`` and ``source`` are set when the output is fitted
    to its length."""

    item: Item
    start: float
    length: float
    span: int = -1  # index into item.spans (-1: a photo)
    filler: bool = False  # added to fill the voice-over: trimmed before the shots every output has
    keep: bool = False  # the closing shot of the last group: stays a full shot
    duration: float = 0.0  # seconds on the output timeline
    source: float = 0.0  # source seconds played in that time (speed = source / (duration − hold))
    hold: float = 0.0  # seconds the last frame is held at the end (nothing was left to show)
    room: float = math.inf  # source seconds free from start (for a transition's lead, a move to a beat)

    @property
    def end(self) -> float:
        return self.start + self.length

    @property
    def spare(self) -> float:
        """Output seconds of unshown source after this shot's own: what a transition into it may
        play first (the render plays a shot's transition lead from beyond its source time)."""
        if self.item.photo:
            return math.inf
        if self.hold:
            return 0.0
        speed = self.source / max(1e-6, self.duration)
        return max(0.0, (self.room - self.source) / max(1e-6, speed))

    def same_source(self, other: Cut | None) -> bool:
        return other is not None and other.item.path == self.item.path


class Reel:
    """The shots of one output, as segments (one per group in group order; one in image-text
    mode), with what each file has already shown."""

    def __init__(self, segments: int):
        self.segments: list[list[Cut]] = [[] for _ in range(segments)]
        self._by_path: dict[str, list[Cut]] = {}

    def add(self, segment: int, at: int, cut: Cut) -> None:
        """Put ``cut`` at place ``at`` of a segment (the only way cuts enter a reel)."""
        self.segments[segment].insert(at, cut)
        self._by_path.setdefault(cut.item.path, []).append(cut)

    def cuts(self) -> list[Cut]:
        return [c for seg in self.segments for c in seg]

    def total(self) -> float:
        return sum(c.length for c in self.cuts())

    def shown(self, path: str, but: Cut | None = None) -> list[tuple[float, float]]:
        return sorted((c.start, c.end) for c in self._by_path.get(path, ()) if c is not but and not c.item.photo)

    def uses(self, item: Item) -> int:
        return sum(1 for c in self._by_path.get(item.path, ()) if c.item is item)

    def free_piece(self, item: Item, span: int, want: float, at: float | None = None) -> tuple[float, float] | None:
        """The first part of ``item.spans[span]`` (from ``at`` on) not shown yet in this output:
        (start, length ≤ ``want``). A part shorter than MIN_SHOT only when it is the whole scene."""
        lo, hi = item.spans[span]
        at = lo if at is None else max(lo, min(at, hi))
        for s, e in self.shown(item.path) + [(hi, hi)]:
            if e <= at and s < hi:
                continue  # shown before the cursor
            end = min(s, hi)
            gap = end - at
            if gap >= MIN_SHOT - 1e-9 or (at == lo and end == hi and gap >= MIN_PIECE):
                return at, min(want, gap)
            at = max(at, e)
            if at >= hi:
                break
        return None

    def room(self, cut: Cut) -> float:
        """Source seconds free from ``cut.start``: to its scene's end or to the next part of the
        file already on screen. A photo: unbounded."""
        if cut.item.photo:
            return math.inf
        end = cut.item.spans[cut.span][1]
        for s, _ in self.shown(cut.item.path, but=cut):
            if s >= cut.start + 1e-9:
                end = min(end, s)
        return max(0.0, end - cut.start)
