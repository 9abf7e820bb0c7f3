"""Preview projects: ``OutputConfig.GeneratePreviewOnly`` gives each sub-job a ``ProjectId`` and keeps
its plan instead of encoding it; ``GetEditingProject`` shows that plan as the cloud's project shape —
a ``Timeline`` (video tracks of shots, stickers and the background; audio tracks of speech and
music; subtitle tracks of titles and captions) and a ``CoverURL``: one frame of the first shot's
source, extracted once (next to where the video would go, ``x.jpg``) and served under /outputs/ (a
presigned URL, engine/api/output_links.py).

Clips name their media by ``MediaURL``: the file the engine would read (a ``file://`` URL for local
media and synthesized speech; the engine resolved MediaIds and URLs when it planned).
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any, Callable

from sheet2video.engine.media.poster import extract_poster, poster_path
from sheet2video.engine.timeline.task import RenderTask
from sheet2video.errors import ImsError

__all__ = ["timeline", "Projects"]


def _r(seconds: float) -> float:
    return round(float(seconds), 3)


def _volume(gain: float) -> list[dict[str, Any]]:
    return [{"Type": "Volume", "Gain": _r(gain)}]


def timeline(task: RenderTask, media_url: Callable[[str], str]) -> dict[str, Any]:
    """The task as an IMS Timeline: what the render would put where, in output seconds."""
    shots, at = [], 0.0
    for shot in task.shots:
        clip = {"MediaURL": media_url(shot.path), "Type": "Video" if shot.kind == "video" else "Image",
                "TimelineIn": _r(at), "TimelineOut": _r(at + shot.duration)}
        if shot.kind == "video":
            clip.update(In=_r(shot.start), Out=_r(shot.start + shot.source_duration), Effects=_volume(shot.volume))
            if abs(shot.source_duration - shot.duration) > 1e-3 and shot.duration > 0:
                clip["Speed"] = _r(shot.source_duration / shot.duration)
        if shot.transition and shot.transition_duration > 0:
            clip.setdefault("Effects", []).append(
                {"Type": "Transition", "SubType": shot.transition, "Duration": _r(shot.transition_duration)})
        shots.append(clip)
        at += shot.duration - (shot.transition_duration if shot.transition else 0.0)
    video_tracks = []
    if task.background_image:
        video_tracks.append({"VideoTrackClips": [{"MediaURL": media_url(task.background_image), "Type": "Image",
                                                  "TimelineIn": 0.0, "TimelineOut": _r(task.duration)}]})
    video_tracks.append({"VideoTrackClips": shots})
    if task.stickers:
        video_tracks.append({"VideoTrackClips": [
            {"MediaURL": media_url(s.path), "Type": "Image", "X": s.x, "Y": s.y, "Width": s.width, "Height": s.height,
             "Opacity": s.opacity, "TimelineIn": 0.0, "TimelineOut": _r(task.duration)} for s in task.stickers]})
    audio_tracks = []
    if task.speech:
        audio_tracks.append({"AudioTrackClips": [
            {"MediaURL": media_url(c.path), "TimelineIn": _r(c.start), "TimelineOut": _r(c.start + c.duration),
             "Effects": _volume(c.volume)} for c in task.speech]})
    if task.music:
        audio_tracks.append({"AudioTrackClips": [
            {"MediaURL": media_url(task.music.path), "TimelineIn": 0.0, "TimelineOut": _r(task.duration),
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


class Projects:
    def __init__(self, store, outputs: Path, url_for: Callable[[], Callable[[Path], str | None]]):
        self.store, self.outputs, self._url_for = store, outputs, url_for
        self._covers = threading.Lock()  # one extraction per cover: concurrent Gets share its temp name

    def get(self, key_id: str, params: dict[str, str]) -> dict[str, Any]:
        project_id = params.get("ProjectId") or ""
        subjob = self.store.subjob_by_project(project_id) if project_id else None
        if subjob is None:
            raise ImsError("InvalidParameter.ProjectId", f"The specified project not found: {project_id!r}.", http_status=404)
        job = self.store.job(subjob["parent_id"])
        output = self.outputs / subjob["output_path"]
        project: dict[str, Any] = {
            "ProjectId": project_id, "Title": output.name, "ProjectType": "EditingProject",
            "Description": f"Preview {subjob['idx'] + 1} of batch job {job['job_id']}",
            "CreateSource": "OpenAPI", "ModifiedSource": "OpenAPI",
            "CreateTime": job["create_time"], "ModifiedTime": job["modified_time"],
        }
        if not subjob.get("plan"):  # still planning, or planning failed
            project["Status"] = "ProduceFailed" if subjob["status"] == "Failed" else "Draft"
            return {"Project": project}
        task = RenderTask.from_dict(json.loads(subjob["plan"]))
        url_for = self._url_for()
        project.update(Status="Draft", Duration=_r(task.duration),
                       Timeline=json.dumps(timeline(task, lambda p: url_for(Path(p)) or Path(p).as_uri()),
                                           ensure_ascii=False))
        cover = self._cover(task, Path(poster_path(output)))
        if cover:
            project["CoverURL"] = url_for(cover) or ""
        return {"Project": project}

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
