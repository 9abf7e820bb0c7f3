"""What the short-video apps cover, drawn over each card's poster/video when a reviewer asks.

The numbers are the engine's own zone map (engine/compose/layout.py ``safe_area``) for the
video's size, as percentages of its height (top, bottom) and width (left, right), so the bands
drawn by CSS match what the renderer kept text and logos out of. Nothing here is JavaScript:
the page's script only switches the bands on and off.
"""

from __future__ import annotations

from dataclasses import dataclass

from sheet2video.engine.compose.layout import safe_area

__all__ = ["Zones", "zones_for", "zones_html"]


@dataclass(frozen=True)
class Zones:
    """Covered margins in percent: top and bottom of the height, left and right of the width."""

    top: float
    bottom: float
    left: float
    right: float


def zones_for(width: int, height: int) -> Zones:
    safe = safe_area(width, height)
    return Zones(round(100 * safe.top / height, 3), round(100 * safe.bottom / height, 3),
                 round(100 * safe.left / width, 3), round(100 * safe.right / width, 3))


def zones_html(zones: Zones) -> str:
    """Four translucent bands (hidden until the page's toggle shows them); only numbers go in."""
    z = zones
    bands = {
        "top": f"top:0;left:0;right:0;height:{z.top}%",
        "bottom": f"bottom:0;left:0;right:0;height:{z.bottom}%",
        "left": f"top:{z.top}%;bottom:{z.bottom}%;left:0;width:{z.left}%",
        "right": f"top:{z.top}%;bottom:{z.bottom}%;right:0;width:{z.right}%",
    }
    inner = "".join(f'<div class="zone zone-{side}" style="{style}"></div>'
                    for side, style in bands.items() if getattr(z, side) > 0)  # none covered: no edge line drawn
    return (f'<div class="zones" aria-hidden="true" data-top="{z.top}" data-bottom="{z.bottom}" '
            f'data-left="{z.left}" data-right="{z.right}">{inner}</div>')
