"""Cuts on the beat: with background music, each cut between two shots moves to the song's
nearest beat within ``BEAT_REACH`` seconds, when both shots can give or take that time. Only
the picture moves: the voice-over, the captions and the output's length stay where they were."""

from __future__ import annotations

import bisect

from sheet2video.engine.timeline.footage import Cut

__all__ = ["BEAT_REACH", "beats_on_timeline", "snap_to_beats"]

BEAT_REACH = 0.25  # seconds a cut may move to land on a beat
_SHORTEST = 0.5    # no shot becomes shorter than this by a move


def beats_on_timeline(beats: list[float], song: float, until: float) -> list[float]:
    """The song's beats in output seconds: the music starts with the video and loops."""
    if not beats or song <= 0:
        return []
    out: list[float] = []
    loop = 0
    while loop * song < until + BEAT_REACH:
        out += [b + loop * song for b in beats if b < song]
        loop += 1
    return out


def snap_to_beats(cuts: list[Cut], beats: list[float]) -> int:
    """Move each cut to its nearest beat (``beats`` sorted, in output seconds); how many moved."""
    moved, at = 0, 0.0
    for a, b in zip(cuts, cuts[1:]):
        at += a.duration
        k = bisect.bisect_left(beats, at)
        near = [beats[i] for i in (k - 1, k) if 0 <= i < len(beats)]
        if not near:
            continue
        delta = round(min(near, key=lambda t: abs(t - at)) - at, 3)
        if abs(delta) < 0.005 or abs(delta) > BEAT_REACH:
            continue
        if _can_change(a, delta) and _can_change(b, -delta):
            _change(a, delta)
            _change(b, -delta)
            at += delta
            moved += 1
    return moved


def _speed(cut: Cut) -> float:
    return cut.source / max(1e-6, cut.duration - cut.hold)


def _can_change(cut: Cut, delta: float) -> bool:
    if cut.duration + delta < _SHORTEST or (delta < 0 and cut.keep):
        return False  # a closing product shot stays a full shot
    if delta > 0 and not cut.item.photo and not cut.hold:
        return cut.source + delta * _speed(cut) <= cut.room + 1e-6
    if delta < 0 and not cut.item.photo:
        return cut.duration - cut.hold + delta >= _SHORTEST or cut.hold >= -delta
    return True


def _change(cut: Cut, delta: float) -> None:
    if not cut.item.photo:
        speed = _speed(cut)
        moved = delta
        if cut.hold:  # the clip ran out: its held last frame takes the move, as far as it can
            moved = delta - max(delta, -cut.hold)
            cut.hold = round(cut.hold + delta - moved, 3)
        cut.source = round(cut.source + moved * speed, 3)
    cut.duration = round(cut.duration + delta, 3)
