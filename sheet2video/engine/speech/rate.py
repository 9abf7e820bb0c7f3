"""IMS ``SpeechRate`` → the speed each engine understands.

``SpeechRate`` runs from -500 to 500 with 0 = normal speed, -500 = half speed and 500 = double
speed. We turn it into a speed factor ``s`` (espeak: words per minute; Piper: length_scale 1/s)::

    r >= 0:  s = 1 / (1 - r / 1000)      (0 → 1.0, 250 → 1.33, 500 → 2.0)
    r <  0:  s = 1 / (1 - r / 500)       (-250 → 0.67, -500 → 0.5)
    wpm = round(175 * s), clamped to espeak's 80..450

A sheet's ``speech_rate`` cell is either that number or a speed such as ``1.2x`` (0.5x..2x), turned
back into SpeechRate with the inverse (``speed_to_ims_rate``), so ``1.2x`` speaks 1.2 times as fast.
"""

from __future__ import annotations

import re

__all__ = ["ims_rate_to_speed", "ims_rate_to_wpm", "speed_to_ims_rate", "parse_speech_rate"]

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


def speed_to_ims_rate(speed: float) -> int:
    """Speed factor 0.5..2 → IMS SpeechRate (the inverse of ``ims_rate_to_speed``, rounded)."""
    s = max(0.5, min(2.0, float(speed)))
    return round(1000.0 * (1.0 - 1.0 / s)) if s >= 1 else round(500.0 * (1.0 - 1.0 / s))


_SPEED = re.compile(r"([0-9]*\.?[0-9]+)\s*[x×]")


def parse_speech_rate(cell: str) -> int | float | None | str:
    """A ``speech_rate`` cell → SpeechRate: blank → None; -500..500 as is; ``1.2x`` (0.5x..2x) → its
    SpeechRate; anything else → "" (the template names the row and column)."""
    raw = str(cell or "").strip().lower()
    if not raw:
        return None
    speed = _SPEED.fullmatch(raw)
    if speed:
        value = float(speed.group(1))
        return speed_to_ims_rate(value) if 0.5 <= value <= 2.0 else ""
    try:
        value = float(raw)
    except ValueError:
        return ""
    if not -500 <= value <= 500:  # also refuses nan
        return ""
    return int(value) if value.is_integer() else value
