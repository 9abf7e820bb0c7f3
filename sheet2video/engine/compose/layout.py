"""Safe areas and the bands text lives in, per output aspect — shared by titles and captions so
the two never overlap.

Short-video apps cover the bottom ~20 % (description, music, buttons) and the top ~10 % (tabs,
search) of a 9:16 video; 16:9 and 1:1 players cover less. Titles live in the top band, captions
below it (by default at the bottom of the safe area).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Safe", "safe_area", "title_band"]


@dataclass(frozen=True)
class Safe:
    """Pixel margins of the area no platform UI covers."""

    top: int
    bottom: int
    left: int
    right: int


def safe_area(W: int, H: int) -> Safe:
    aspect = W / H
    if aspect < 0.8:  # portrait, 9:16 and 3:4
        top, bottom, side = 0.10, 0.20, 0.06
    elif aspect > 1.25:  # landscape, 16:9 and 4:3
        top, bottom, side = 0.06, 0.10, 0.05
    else:  # square
        top, bottom, side = 0.08, 0.12, 0.06
    return Safe(round(H * top), round(H * bottom), round(W * side), round(W * side))


def title_band(W: int, H: int) -> tuple[int, int]:
    """(top, bottom) pixel rows reserved for titles and subheadings; captions stay below."""
    return safe_area(W, H).top, round(H * 0.40)
