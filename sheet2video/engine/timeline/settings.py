"""What the planner reads from a job's parameters: shot lengths, volumes, the voice asked for,
alignment, duration limits, the usable parts of clips, the loudness target, and the job's seed."""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from typing import Any

from sheet2video.engine.speech.loudness import DEFAULT_TARGET
from sheet2video.engine.speech.own_voices import customized_voice
from sheet2video.engine.timeline.matching import metadata_by_media

__all__ = ["DEFAULT_SHOT", "TimeRanges", "PlanSettings", "read_settings", "flag", "level", "time_ranges", "loudness_target", "seed_of"]

DEFAULT_SHOT = 3.0  # SingleShotDuration when none is given

# (GroupName or None, Media) → the (In, Out) spans of that clip that may be used
TimeRanges = dict[tuple[str | None, str], list[tuple[float, float]]]


@dataclass
class PlanSettings:
    """The settings every timeline of a job shares."""

    shot: float  # SingleShotDuration
    image: float  # ImageDuration (a still's length), else SingleShotDuration
    media_volume: float  # MediaConfig.Volume: the clips' own sound
    speech_volume: float
    voice: str | None  # SpeechConfig.Voice, maybe a comma list
    rate: float | None
    align: str  # AlignmentMode: AutoSpeed or Cut
    max_duration: float | None
    fixed_duration: float | None
    language: str | None
    ranges: TimeRanges
    transition: float = 0.0  # seconds of each transition (0: hard cuts), kept unshown after a clip's shot
    detect: bool = True  # ProcessConfig.EnableClipDetection: cut clips at their own scenes, skip black/frozen ends
    meta: dict = field(default_factory=dict)  # Media → its MediaMetaDataArray entry (image-text matching reads Title, Description, Tags)


def read_settings(editing: dict[str, Any], output: dict[str, Any]) -> PlanSettings:
    """The timeline settings of one job, from its EditingConfig and OutputConfig."""
    process = editing.get("ProcessConfig") or {}
    speech = editing.get("SpeechConfig") or {}
    return PlanSettings(
        shot=float(process.get("SingleShotDuration") or DEFAULT_SHOT),
        image=float(process.get("ImageDuration") or process.get("SingleShotDuration") or DEFAULT_SHOT),
        media_volume=float((editing.get("MediaConfig") or {}).get("Volume", 0) or 0),
        speech_volume=level(editing.get("SpeechConfig"), 1.0),
        voice=customized_voice(speech) or speech.get("Voice"),  # CustomizedVoice speaks when it is an own voice
        rate=speech.get("SpeechRate"),
        align=process.get("AlignmentMode") or "AutoSpeed",
        max_duration=output.get("MaxDuration"),
        fixed_duration=output.get("FixedDuration"),
        language=speech.get("SpeechLanguage"),
        ranges=time_ranges(editing),
        transition=float(process.get("TransitionDuration") or 1.0) if flag(process.get("AllowTransition"), False) else 0.0,
        detect=flag(process.get("EnableClipDetection"), True),
        meta=metadata_by_media(editing),
    )


def flag(value: Any, default: bool) -> bool:
    """A boolean parameter as a JSON bool or a string ("true", "false", "1", "0")."""
    if value is None:
        return default
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    return bool(value)


def level(config: dict[str, Any] | None, default: float) -> float:
    """A voice or music level: ``Volume`` (default ``default``) times ``Gain`` (the linear gain of
    the cloud's Volume effect: 0 mutes, 1 keeps, 2 doubles; default 1)."""
    config = config or {}
    volume = config.get("Volume")
    gain = config.get("Gain")
    return float(default if volume is None else volume) * float(1 if gain is None else gain)


def time_ranges(editing: dict[str, Any]) -> TimeRanges:
    """``MediaConfig.MediaMetaDataArray[].TimeRangeList``: the parts of a clip that may be used,
    keyed by (GroupName or None, Media)."""
    out: TimeRanges = {}
    for meta in (editing.get("MediaConfig") or {}).get("MediaMetaDataArray") or []:
        spans = [(float(r.get("In") or 0), float(r["Out"]) if r.get("Out") is not None else math.inf)
                 for r in meta.get("TimeRangeList") or []]
        if meta.get("Media") and spans:
            out[(meta.get("GroupName"), meta["Media"])] = spans
    return out


def loudness_target(editing: dict[str, Any]) -> float | None:
    """``EditingConfig.LoudnessConfig`` (a local-engine extension): ``{"Target": -16}`` LUFS by
    default, ``{"Enable": false}`` to leave the volumes as given."""
    config = editing.get("LoudnessConfig") or {}
    if config.get("Enable") is False:
        return None
    return float(config.get("Target", DEFAULT_TARGET))


def seed_of(params: dict[str, Any]) -> int:
    """The job's random seed: its material and outputs, not where the videos go (renaming outputs
    changes nothing) nor how they are styled (a new caption colour, transition or volume keeps the
    same shots, titles and scripts, so a reviewer sees only the change asked for)."""
    output = {k: v for k, v in (params.get("OutputConfig") or {}).items() if k != "MediaURL"}
    text = json.dumps([params.get("InputConfig"), output], sort_keys=True, ensure_ascii=False)
    return int(hashlib.sha256(text.encode()).hexdigest()[:16], 16)
