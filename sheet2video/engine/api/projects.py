"""Editing projects: every sub-job has a ``ProjectId`` (as in the cloud, where each ``SubJobList``
entry names the project behind it), and ``GetEditingProject`` shows what the engine planned for it —
the cloud's project shape, a ``Timeline`` and a ``CoverURL``.

* A preview (``OutputConfig.GeneratePreviewOnly``) keeps its whole plan instead of encoding it: its
  ``Timeline`` has video tracks of shots, stickers and the background, audio tracks of speech and
  music, subtitle tracks of titles and captions; its cover is one frame of the first shot's source,
  extracted once (next to where the video would go, ``x.jpg``).
* Any other sub-job keeps only what it used (the ``used`` column: title, speech, voice and its
  shots, a few kB — engine/api/jobs.py stores it when the render starts): its ``Timeline`` is the
  video track of its shots (``In``/``Out`` in source seconds, ``Speed`` when not 1, transitions) and
  its title; its cover is the render's poster. Status ``Producing`` while it renders, ``Produced``
  once it is made, ``ProduceFailed`` if it failed.

The shot list itself — ``[{"Media", "Group", "Type", "In", "Out", "Speed", "TimelineIn", "TimelineOut",
"Transition", "TransitionDuration"}]``, the planner's ``used["Shots"]`` — is the project's
``BusinessConfig``: ``{"Shots": [...]}`` (a JSON string). The official model has that field and says a
general editing project may ignore it, so SDK code reads it and a Timeline stays one IMS accepts.

Media are named as the caller named them, never by a path on the engine's disk (a shared engine
must not show its folders): a shot by its reference from the job (relative path, URL or
``MediaId`` — a registered id becomes the clip's ``MediaId``); a rendered output by its presigned
``/outputs/`` URL; another file under the media root by its path relative to the root; the
engine's own files (synthesized speech, downloaded copies) by file name only.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any, Callable

from sheet2video.engine.media.poster import extract_poster, poster_path
from sheet2video.engine.media.sources import MEDIA_ID, inside
from sheet2video.engine.timeline.task import RenderTask
from sheet2video.errors import ImsError

__all__ = ["SHOT_KEYS", "NORMAL_SPEED", "timeline", "shots_timeline", "Projects"]

# the keys of one entry of used["Shots"] (the planner's record of a shot)
SHOT_KEYS = ("Media", "Group", "Type", "In", "Out", "Speed", "TimelineIn", "TimelineOut", "Transition",
             "TransitionDuration")
NORMAL_SPEED = 0.005  # a clip's Speed is left out within ±0.5 % of 1 (millisecond rounding, not a choice)

Source = Callable[[str], dict[str, str]]  # a reference → {"MediaURL": …} or {"MediaId": …}


def _r(seconds: float) -> float:
    return round(float(seconds), 3)


def _number(value: Any, default: float = 0.0) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


def _volume(gain: float) -> list[dict[str, Any]]:
    return [{"Type": "Volume", "Gain": _r(gain)}]


def _video_clip(source: dict[str, str], kind: str, at: float, end: float, start: float, stop: float,
                speed: float | None, transition: str | None, blend: float | None) -> dict[str, Any]:
    """One VideoTrackClip: a video's In/Out and Speed (only when not 1; None: from the times); an image
    holds from ``at`` to ``end``. ``transition`` into the next clip, blended over its last ``blend``
    seconds (None: not known)."""
    clip: dict[str, Any] = {**source, "Type": "Video" if kind.lower() == "video" else "Image",
                            "TimelineIn": _r(at), "TimelineOut": _r(end)}
    if clip["Type"] == "Video":
        clip.update(In=_r(start), Out=_r(stop))
        if speed is None and end > at:
            speed = (stop - start) / (end - at)
        if speed and abs(speed - 1) >= NORMAL_SPEED:
            clip["Speed"] = _r(speed)
    if transition and (blend is None or blend > 0):
        clip["Effects"] = [{"Type": "Transition", "SubType": transition,
                            **({"Duration": _r(blend)} if blend is not None else {})}]
    return clip


def timeline(task: RenderTask, source: Callable[[str], dict[str, str]],
             recorded: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The task as an IMS Timeline: what the render would put where, in output seconds.
    ``source(path)`` names a file of the task; ``recorded``: its shot list (``used["Shots"]``, one
    per shot), whose speeds are the planner's own. Shots sit in their slots, which add up to the
    video's length as in the render (engine/compose/transitions.py) and the shot list."""
    shots, at = [], 0.0
    for i, shot in enumerate(task.shots):
        speed = _number(recorded[i].get("Speed"), 1.0) if recorded else None
        clip = _video_clip(source(shot.path), shot.kind, at, at + shot.duration, shot.start,
                           shot.start + shot.source_duration, speed, shot.transition,
                           shot.transition_duration if shot.transition else 0.0)
        if shot.kind == "video":
            clip["Effects"] = _volume(shot.volume) + clip.get("Effects", [])
        shots.append(clip)
        at += shot.duration
    video_tracks = []
    if task.background_image:
        video_tracks.append({"VideoTrackClips": [{**source(task.background_image), "Type": "Image",
                                                  "TimelineIn": 0.0, "TimelineOut": _r(task.duration)}]})
    video_tracks.append({"VideoTrackClips": shots})
    if task.stickers:
        video_tracks.append({"VideoTrackClips": [
            {**source(s.path), "Type": "Image", "X": s.x, "Y": s.y, "Width": s.width, "Height": s.height,
             "Opacity": s.opacity, "TimelineIn": 0.0, "TimelineOut": _r(task.duration)} for s in task.stickers]})
    audio_tracks = []
    if task.speech:
        audio_tracks.append({"AudioTrackClips": [
            {**source(c.path), "TimelineIn": _r(c.start), "TimelineOut": _r(c.start + c.duration),
             "Effects": _volume(c.volume)} for c in task.speech]})
    if task.music:
        audio_tracks.append({"AudioTrackClips": [
            {**source(task.music.path), "TimelineIn": 0.0, "TimelineOut": _r(task.duration),
             "LoopMode": True, "Effects": _volume(task.music.volume)}]})
    subtitles = [{"Type": "Text", "Content": t.text, "TimelineIn": 0.0, "TimelineOut": _r(task.duration),
                  **({"SubType": f"Subheading{t.level}"} if t.level else {}), **t.style} for t in task.titles]
    subtitles += [{"Type": "Text", "SubType": "Caption", "Content": c.text, "TimelineIn": _r(c.start),
                   "TimelineOut": _r(c.end)} for c in task.captions]
    out: dict[str, Any] = {"VideoTracks": video_tracks}
    if audio_tracks:
        out["AudioTracks"] = audio_tracks
    if subtitles:
        out["SubtitleTracks"] = [{"SubtitleTrackClips": subtitles}]
    return out


def shot_list(used: dict[str, Any]) -> list[dict[str, Any]]:
    """``used["Shots"]`` as recorded, each entry reduced to the documented keys (nothing else leaves)."""
    shots = used.get("Shots") if isinstance(used, dict) else None
    if not isinstance(shots, list):
        return []
    return [{k: shot.get(k) for k in SHOT_KEYS} for shot in shots if isinstance(shot, dict) and shot.get("Media")]


def shots_timeline(shots: list[dict[str, Any]], title: str | None, source: Source) -> dict[str, Any]:
    """A rendered video's Timeline from its shot list: the video track, and its title over the whole."""
    clips = []
    for i, shot in enumerate(shots):
        at, end = _number(shot.get("TimelineIn")), _number(shot.get("TimelineOut"))
        blend = _number(shot.get("TransitionDuration")) or None  # seconds the next shot blends in
        clips.append(_video_clip(source(str(shot["Media"])), str(shot.get("Type") or "Video"), at, end,
                                 _number(shot.get("In")), _number(shot.get("Out")), _number(shot.get("Speed"), 1.0),
                                 shot.get("Transition"), blend))
    out: dict[str, Any] = {"VideoTracks": [{"VideoTrackClips": clips}]}
    if title and clips:
        out["SubtitleTracks"] = [{"SubtitleTrackClips": [
            {"Type": "Text", "Content": title, "TimelineIn": 0.0, "TimelineOut": clips[-1]["TimelineOut"]}]}]
    return out


def _status(subjob: dict[str, Any], preview: bool) -> str:
    if subjob["status"] == "Failed":
        return "ProduceFailed"
    if preview or subjob["status"] == "Init":
        return "Draft"
    return "Produced" if subjob["status"] == "Success" else "Producing"


class Projects:
    def __init__(self, store, outputs: Path, url_for: Callable[[], Callable[[Path], str | None]], *,
                 media_root: Path | None = None, private: Path | None = None):
        self.store, self.outputs, self._url_for = store, outputs, url_for
        self.media_root = media_root.resolve() if media_root is not None else None
        self.private = private.resolve() if private is not None else None  # the engine's data folder
        self._covers = threading.Lock()  # one extraction per cover: concurrent Gets share its temp name

    def get(self, key_id: str, params: dict[str, str]) -> dict[str, Any]:
        project_id = params.get("ProjectId") or ""
        subjob = self.store.subjob_by_project(project_id) if project_id else None
        if subjob is None:
            raise ImsError("InvalidParameter.ProjectId", f"The specified project not found: {project_id!r}.", http_status=404)
        job = self.store.job(subjob["parent_id"])
        preview = bool(subjob.get("plan")) or bool(json.loads(job["output_config"] or "{}").get("GeneratePreviewOnly"))
        output = self.outputs / subjob["output_path"]
        project: dict[str, Any] = {
            "ProjectId": project_id, "Title": output.name, "ProjectType": "EditingProject",
            "Description": f"{'Preview' if preview else 'Video'} {subjob['idx'] + 1} of batch job {job['job_id']}",
            "CreateSource": "OpenAPI", "ModifiedSource": "OpenAPI", "Status": _status(subjob, preview),
            "CreateTime": job["create_time"], "ModifiedTime": job["modified_time"],
        }
        used = json.loads(subjob.get("used") or "{}")
        shots = shot_list(used)
        if shots:
            project["BusinessConfig"] = json.dumps({"Shots": shots}, ensure_ascii=False)
        url_for = self._url_for()
        if subjob.get("plan"):  # a preview: the whole plan
            task = RenderTask.from_dict(json.loads(subjob["plan"]))
            recorded = shots if len(shots) == len(task.shots) else None
            named = {s.path: str(r["Media"]) for s, r in zip(task.shots, recorded or [])}
            tracks = timeline(task, lambda path: self._source(named.get(path) or self._public_name(path, url_for)),
                              recorded)
            project.update(Duration=_r(task.duration), Timeline=json.dumps(tracks, ensure_ascii=False))
            cover = self._cover(task, Path(poster_path(output)))
        elif shots:  # rendering or rendered: what it used
            tracks = shots_timeline(shots, used.get("Title"), self._source)
            duration = subjob.get("duration") or tracks["VideoTracks"][0]["VideoTrackClips"][-1]["TimelineOut"]
            project.update(Duration=_r(duration), Timeline=json.dumps(tracks, ensure_ascii=False))
            poster = Path(poster_path(output))
            cover = poster if subjob["status"] == "Success" and poster.is_file() else None
        else:  # still planning, planning failed, or planned before shots were recorded
            return {"Project": project}
        if cover:
            project["CoverURL"] = url_for(cover) or ""
        return {"Project": project}

    def _source(self, reference: str) -> dict[str, str]:
        """A clip's media field: a registered media id is its ``MediaId``, anything else its ``MediaURL``."""
        if MEDIA_ID.match(reference) and self.store.media(media_id=reference) is not None:
            return {"MediaId": reference}
        return {"MediaURL": reference}

    def _public_name(self, path: str, url_for: Callable[[Path], str | None]) -> str:
        """A file of the plan named without the engine's folders: see the module's docstring."""
        full = Path(path)
        url = url_for(full)
        if url:
            return url
        if self.media_root is not None and inside(self.media_root, full) and not (
                self.private is not None and inside(self.private, full)):
            return full.relative_to(self.media_root).as_posix()
        return full.name

    def _cover(self, task: RenderTask, dest: Path) -> Path | None:
        if not task.shots:
            return None
        with self._covers:
            if not dest.exists():
                dest.parent.mkdir(parents=True, exist_ok=True)
                first = task.shots[0]
                if not extract_poster(first.path, str(dest), first.source_duration if first.kind == "video" else 0.0,
                                      demuxer=task.input_format(first.path)):  # as its probe checked it
                    return None
        return dest
