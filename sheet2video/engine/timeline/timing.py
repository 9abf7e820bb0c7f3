"""Durations: how long a group and an output last (the editor fits the shots into them)."""

from __future__ import annotations

from sheet2video.errors import RenderError

__all__ = ["DEFAULT_GROUP_DURATION", "MAX_OUTPUT_SECONDS", "SPEECH_TAIL", "check_output_length"]

DEFAULT_GROUP_DURATION = 5.0  # a grouped-mode group without speech (reference §2.3)
MAX_OUTPUT_SECONDS = 3600     # one output may last at most this long (a typo must not mean a day-long render)
SPEECH_TAIL = 1.0             # seconds of picture and music after the last word, so nothing ends abruptly


def check_output_length(durations: list[float]) -> None:
    """Refuse a job whose longest output passes MAX_OUTPUT_SECONDS (before anything is measured)."""
    longest = max(durations, default=0)
    if longest > MAX_OUTPUT_SECONDS:
        raise RenderError(f"an output would last {longest:g} s, longer than the engine's limit of {MAX_OUTPUT_SECONDS} s;"
                          " check SingleShotDuration, ImageDuration, Duration, FixedDuration and MaxDuration",
                          code="InvalidParameter.Duration")
