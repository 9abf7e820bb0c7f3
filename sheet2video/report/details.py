"""What each video of a job actually got, taken from a GetBatchMediaProducingJob answer.

The local engine says it per video, in the job's ``ExtendOutput`` keyed by sub-job id
(``{"Used": {id: {"Title", "Speech", "Voice", "Shots"}}, "Posters": {id: url}, "Warnings": {id: [...]}}``,
engine/api/responses.py); the cloud does not, so the job's own lists stand in, marked ``OneOf``
(each video got one of these). The runner stores the result in the ledger's ``details``.
``Shots`` is the video's edit list (engine/api/projects.py): each shot's media as the job named
it, group, type, source in and out, speed and place in the video; it is for the report only,
never a result column of the sheet. ``Width``/``Height`` are the job's OutputConfig size (the report
draws the apps' safe zones for it).
"""

from __future__ import annotations

import json
from typing import Any, Callable

__all__ = ["job_choices", "output_size", "shots_of", "video_details"]


def _json(text: Any) -> dict:
    if isinstance(text, dict):
        return text
    try:
        value = json.loads(text or "{}")
    except (TypeError, json.JSONDecodeError):
        return {}
    return value if isinstance(value, dict) else {}


def _texts(values: Any) -> list[str]:
    return [str(v) for v in values] if isinstance(values, list) else []


def _seconds(value: Any) -> float | None:
    try:
        return round(float(value), 3)
    except (TypeError, ValueError):
        return None


def shots_of(used: Any) -> list[dict[str, Any]]:
    """A video's edit list from what it used, each value of the type the report expects (a
    number or None, a string or None): whatever else an answer carries is dropped."""
    shots = used.get("Shots") if isinstance(used, dict) else None
    out = []
    for shot in shots if isinstance(shots, list) else []:
        if not isinstance(shot, dict) or not shot.get("Media"):
            continue
        entry: dict[str, Any] = {k: _seconds(shot.get(k)) for k in ("In", "Out", "Speed", "TimelineIn", "TimelineOut")}
        entry.update({k: str(shot[k]) if shot.get(k) else None for k in ("Media", "Group", "Type", "Transition")})
        out.append(entry)
    return out


def job_choices(job: dict[str, Any]) -> dict[str, Any]:
    """The job's titles, scripts and voice as sent (the cloud's stand-in for per-video facts)."""
    inputs, editing = _json(job.get("InputConfig")), _json(job.get("EditingConfig"))
    speech = _texts(inputs.get("SpeechTextArray"))
    for group in inputs.get("MediaGroupArray") or []:
        if isinstance(group, dict):
            speech += _texts(group.get("SpeechTextArray"))
    voice = (editing.get("SpeechConfig") or {}).get("Voice") if isinstance(editing.get("SpeechConfig"), dict) else None
    choices: dict[str, Any] = {"OneOf": True}
    if inputs.get("TitleArray"):
        choices["Titles"] = _texts(inputs["TitleArray"])
    if speech:
        choices["Speeches"] = speech
    if voice:
        choices["Voice"] = str(voice)
    return choices


def output_size(job: dict[str, Any]) -> dict[str, int]:
    """``{"Width", "Height"}`` of the job's videos as its OutputConfig asked (the report's safe
    zones are drawn for that size); empty when it does not say."""
    output = _json(job.get("OutputConfig"))
    try:
        width, height = int(output.get("Width") or 0), int(output.get("Height") or 0)
    except (TypeError, ValueError):
        return {}
    return {"Width": width, "Height": height} if width > 0 and height > 0 else {}


def video_details(job: dict[str, Any], video_ref: Callable[[str], str]) -> list[dict[str, Any]]:
    """One object per sub-job, in order: its status, video, size, duration, what it used, its error."""
    fallback = None
    out = []
    extend = _json(job.get("ExtendOutput"))
    size = output_size(job)
    for subjob in job.get("SubJobList") or []:
        mine = str(subjob.get("JobId"))
        detail: dict[str, Any] = {"Status": subjob.get("Status") or "Processing"}
        if subjob.get("MediaURL"):
            detail["Video"] = video_ref(subjob["MediaURL"])
        if subjob.get("MediaURL") and size:
            detail.update(size)
        if subjob.get("Duration") is not None:
            detail["Duration"] = float(subjob.get("Duration") or 0)
        if subjob.get("ErrorCode"):
            detail["ErrorCode"] = str(subjob["ErrorCode"])
            detail["ErrorMessage"] = str(subjob.get("ErrorMessage") or "")
        used = _json(extend.get("Used")).get(mine)
        if isinstance(used, dict) and used:
            detail.update({k: str(v) for k, v in used.items() if k in ("Title", "Speech", "Voice") and v})
            shots = shots_of(used)
            if shots:
                detail["Shots"] = shots
        else:
            fallback = fallback if fallback is not None else job_choices(job)
            detail.update(fallback)
        poster = _json(extend.get("Posters")).get(mine)
        if isinstance(poster, str) and poster:  # the local engine's poster frame
            detail["Poster"] = video_ref(poster)
        warnings = _json(extend.get("Warnings")).get(mine)
        if isinstance(warnings, list) and warnings:
            detail["Warnings"] = [str(w) for w in warnings]
        out.append(detail)
    return out
