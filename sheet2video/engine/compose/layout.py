"""The zone map: what the short-video apps draw over each output aspect, and the bands text lives in
— shared by titles, captions, the logo (template) and the report's overlay, so none lands under the
apps' buttons and titles and captions never overlap.

Margins of the safe zone, as shares of the height (top, bottom) and width (left, right):

=========  =====  ======  =====  =====  ==============================================================
aspect     top    bottom  left   right  why
=========  =====  ======  =====  =====  ==============================================================
9:16, 3:4  10 %   20 %    6 %    12 %   TikTok, Douyin, Reels, Shorts: tabs and search over the top
                                        ~8 % (+2 % so outlines and boxes clear it), description, music
                                        and buttons over the bottom ~20 %, the like / comment / share
                                        column over the right ~12 %; the left only needs air.
16:9, 4:3  6 %    10 %   5 %    5 %    landscape players (YouTube, web): a title bar when paused, the
                                        progress bar and controls at the bottom; no side column.
1:1        8 %    12 %    6 %    12 %   square feed posts: a caption strip and progress bar below; shown
                                        full-width in a 9:16 app the square's right edge runs under the
                                        action column, so the right keeps its 12 %.
=========  =====  ======  =====  =====  ==============================================================

Text is centred in the zone, not the frame (:func:`centre_x`), so a long line ends as far from the
action column as it starts from the left edge. Titles live in the top band (:func:`title_band`),
captions below it (by default at the bottom of the zone). Explicit ``X`` / ``Y`` in a request win.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Safe", "shares", "safe_area", "centre_x", "title_band"]


@dataclass(frozen=True)
class Safe:
    """Pixel margins of the area no platform UI covers."""

    top: int
    bottom: int
    left: int
    right: int


def shares(W: int, H: int) -> dict[str, float]:
    """The zone's margins as fractions: ``top`` / ``bottom`` of the height, ``left`` / ``right`` of
    the width (templates get them as the ``safe_zone`` filter, to place the logo)."""
    aspect = W / H
    if aspect < 0.8:  # portrait, 9:16 and 3:4
        top, bottom, left, right = 0.10, 0.20, 0.06, 0.12
    elif aspect > 1.25:  # landscape, 16:9 and 4:3
        top, bottom, left, right = 0.06, 0.10, 0.05, 0.05
    else:  # square
        top, bottom, left, right = 0.08, 0.12, 0.06, 0.12
    return {"top": top, "bottom": bottom, "left": left, "right": right}


def safe_area(W: int, H: int) -> Safe:
    z = shares(W, H)
    return Safe(round(H * z["top"]), round(H * z["bottom"]), round(W * z["left"]), round(W * z["right"]))


def centre_x(W: int, H: int) -> tuple[int, int]:
    """(x of the zone's centre line, the zone's width): where centred text goes and how wide it may be."""
    safe = safe_area(W, H)
    room = W - safe.left - safe.right
    return safe.left + room // 2, room


def title_band(W: int, H: int) -> tuple[int, int]:
    """(top, bottom) pixel rows reserved for titles and subheadings; captions stay below."""
    return safe_area(W, H).top, round(H * 0.40)
