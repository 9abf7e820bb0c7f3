"""IMS ``SpeechRate`` → the speed each engine understands.

``SpeechRate`` runs from -500 to 500 with 0 = normal speed, -500 = half speed and 500 = double
speed. We turn it into a speed factor ``s`` (espeak: words per minute; Piper: length_scale 1/s)::

    r >= 0:  s = 1 / (1 - r / 1000)      (0 → 1.0, 250 → 1.33, 500 → 2.0)
    r <  0:  s = 1 / (1 - r / 500)       (-250 → 0.67, -500 → 0.5)
    wpm = round(175 * s), clamped to espeak's 80..450
"""

from __future__ import annotations

__all__ = ["ims_rate_to_speed", "ims_rate_to_wpm"]

_DEFAULT_WPM = 175
_MIN_WPM, _MAX_WPM = 80, 450


def ims_rate_to_speed(rate: float | None) -> float:
    """IMS SpeechRate (-500..500, 0 = normal) → speed factor 0.5..2 (see module doc)."""
    if rate is None:
        return 1.0
    r = max(-500.0, min(500.0, float(rate)))
    return 1.0 / (1.0 - r / 1000.0) if r >= 0 else 1.0 / (1.0 - r / 500.0)


def ims_rate_to_wpm(rate: float | None) -> int:
    """Map IMS SpeechRate (-500..500, 0 = normal) to espeak-ng words per minute (see module doc)."""
    return max(_MIN_WPM, min(_MAX_WPM, round(_DEFAULT_WPM * ims_rate_to_speed(rate))))
