"""Durations: how long a shot, a group and an output last, and how shots are stretched or cut to
fill exactly the time the voice-over (or the configuration) asks for."""

from __future__ import annotations

from sheet2video.engine.timeline.material import Candidate
from sheet2video.engine.timeline.settings import PlanSettings
from sheet2video.engine.timeline.task import Shot
from sheet2video.errors import RenderError

__all__ = [
    "DEFAULT_GROUP_DURATION", "MAX_AUTOSPEED", "MAX_OUTPUT_SECONDS", "SPEECH_TAIL",
    "shot_length", "fit_shots", "trim_shots", "check_output_length",
]  # fmt: skip

DEFAULT_GROUP_DURATION = 5.0  # a grouped-mode group without speech (reference §2.3)
MAX_AUTOSPEED = 2.0           # AutoSpeed never plays the video faster or slower than this
MAX_OUTPUT_SECONDS = 3600     # one output may last at most this long (a typo must not mean a day-long render)
SPEECH_TAIL = 1.0             # seconds of picture and music after the last word, so nothing ends abruptly


def shot_length(candidate: Candidate, settings: PlanSettings) -> float:
    """A candidate's natural length on the timeline: ImageDuration for a still, else one shot (or
    what is left of the clip)."""
    return settings.image if candidate.info.kind == "image" else min(settings.shot, candidate.length)


def fit_shots(picks: list[tuple[Candidate, float, float]], target: float, *, scale: bool) -> list[Shot]:
    """Shots filling exactly ``target`` seconds: scaled (AutoSpeed) or cut at the end.
    ``picks`` holds (candidate, volume, natural length)."""
    natural = sum(p[2] for p in picks)
    if scale and natural > 0:
        factor = target / natural
        speed = 1 / factor
        if 1 / MAX_AUTOSPEED <= speed <= MAX_AUTOSPEED:
            return [c.shot(length * factor, vol, speed) for c, vol, length in picks]
        # beyond a watchable speed: every shot keeps its share of the time at normal speed
        return trim_shots([c.shot(length * factor, vol) for c, vol, length in picks], target)
    shots = [c.shot(length, vol) for c, vol, length in picks]
    total = sum(s.duration for s in shots)
    if total < target and shots:  # not enough material: hold the last shot longer
        last = shots[-1]
        last.duration = round(last.duration + target - total, 3)
    return trim_shots(shots, target)


def trim_shots(shots: list[Shot], target: float) -> list[Shot]:
    """The shots that fit in ``target`` seconds, the last one cut (its source in proportion)."""
    out, clock = [], 0.0
    for shot in shots:
        if clock >= target - 1e-3:
            break
        if clock + shot.duration > target:
            keep = round(target - clock, 3)
            ratio = keep / shot.duration
            shot = Shot(shot.path, shot.kind, shot.start, round(shot.source_duration * ratio, 3), keep, shot.volume, shot.has_audio)
        out.append(shot)
        clock += shot.duration
    return out


def check_output_length(durations: list[float]) -> None:
    """Refuse a job whose longest output passes MAX_OUTPUT_SECONDS (before anything is measured)."""
    longest = max(durations, default=0)
    if longest > MAX_OUTPUT_SECONDS:
        raise RenderError(f"an output would last {longest:g} s, longer than the engine's limit of {MAX_OUTPUT_SECONDS} s;"
                          " check SingleShotDuration, ImageDuration, Duration, FixedDuration and MaxDuration",
                          code="InvalidParameter.Duration")
