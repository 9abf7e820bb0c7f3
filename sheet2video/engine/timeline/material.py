"""The job's material: references resolved to local files and probed once (the cache lives as
long as the planner), checked for what they are used as, and cut into candidate shots.

The cache is keyed on the file's identity (device, inode, size, mtime), never its path: a file
swapped or rewritten after a probe is probed again, and each task records the identity and the
demuxer its probe checked (``RenderTask.inputs``) for the render to check again."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any, Callable

from sheet2video.engine.media.beats import beat_times
from sheet2video.engine.media.facts import FactCache
from sheet2video.engine.media.probe import MediaInfo
from sheet2video.engine.media.shots import KIND as SHOTS_KIND, analyse_clip
from sheet2video.engine.media.sources import MediaResolver
from sheet2video.engine.timeline.footage import MIN_PIECE, MIN_SHOT, Item
from sheet2video.engine.timeline.settings import TimeRanges
from sheet2video.engine.timeline.task import RenderTask, identity_of
from sheet2video.errors import RenderError

__all__ = ["MediaCatalog"]


_CACHED = 4096  # probe results kept (the oldest go first)


class MediaCatalog:
    """Resolves and probes references, each file (each version of it) once."""

    def __init__(self, resolver: MediaResolver, probe_fn: Callable[[str], MediaInfo], facts: Path | None = None):
        self.resolver = resolver
        self._probe = probe_fn
        # What a clip's pictures and a song's beats are like, each file analysed once (kept in
        # ``facts`` across restarts when given).
        self._shots = FactCache(SHOTS_KIND, analyse_clip, facts)
        self._beats = FactCache("beats-1", beat_times, facts)
        self._analysed: dict[str, str | None] = {}  # absolute path → what its shot analysis warned
        self._cache: dict[tuple, MediaInfo] = {}  # identity → what the probe found
        self._seen: dict[str, tuple[list[int] | None, MediaInfo]] = {}  # absolute path → its latest (identity, info)

    def _probed(self, reference: str) -> tuple[str, MediaInfo]:
        path = str(self.resolver.resolve(reference))
        identity = identity_of(path)  # before the probe: a change while it reads shows at the render's check
        key = tuple(identity) if identity else ("missing", path)
        info = self._cache.get(key)
        if info is None:
            info = self._probe(path)
            if len(self._cache) >= _CACHED:
                self._cache.pop(next(iter(self._cache)), None)
            self._cache[key] = info
        self._seen[os.path.abspath(path)] = (identity, info)
        return path, info

    def _info(self, path: str | None) -> MediaInfo | None:
        seen = self._seen.get(os.path.abspath(path)) if path else None
        return seen[1] if seen else None

    def media(self, reference: str) -> tuple[str, MediaInfo]:
        """A picture source (video or image): its path and what the probe found."""
        path, info = self._probed(reference)
        if info.kind == "audio":
            raise RenderError(f"{reference} is audio, not a video or image", code="InvalidMaterial.Type")
        if info.kind == "video" and getattr(info, "frames", None) == 1:
            # One picture (a one-frame GIF with a long delay): a still, held for the shot's length.
            identity = self._seen[os.path.abspath(path)][0]
            info = dataclasses.replace(info, kind="image", duration=0.0)
            self._seen[os.path.abspath(path)] = (identity, info)
            if identity:
                self._cache[tuple(identity)] = info
        return path, info

    def audio(self, reference: str) -> str:
        """A sound source (the background music): its path, refused without an audio track."""
        path, info = self._probed(reference)
        if not info.has_audio:
            raise RenderError(f"{reference} has no audio track", code="InvalidMaterial.Type")
        return path

    def items(self, references: list[str], ranges: TimeRanges | None, group: int, group_name: str | None,
              volume: float, detect: bool) -> list[Item]:
        """Each reference as an Item: a photo, or a clip with its usable spans — its own scenes
        without black or frozen heads and tails (``detect``: EnableClipDetection), only inside
        its ``TimeRangeList`` when ``ranges`` has one for it."""
        out = []
        for reference in references:
            path, info = self.media(reference)
            item = Item(reference, path, info, group, group_name, volume)
            if info.kind != "image":
                spans = (ranges or {}).get((group_name, reference)) or (ranges or {}).get((None, reference))
                item.spans = self._spans(reference, path, info, spans, detect)
            out.append(item)
        return out

    def _spans(self, reference: str, path: str, info: MediaInfo, ranges: list[tuple[float, float]] | None,
               detect: bool) -> list[tuple[float, float]]:
        length = info.duration  # the video stream's own length, not a longer sound track's
        for start, _ in ranges or []:
            if start >= length - 0.04:
                raise RenderError(f"{reference}: TimeRangeList In {start:g} s is at or past the end of the clip "
                                  f"({length:.2f} s)", code="InvalidParameter.TimeRangeList")
        allowed = [(s, min(e, length)) for s, e in ranges or [(0.0, length)]]
        shape = self.shape(path, info) if detect else {}
        self._analysed[os.path.abspath(path)] = shape.get("warning")
        scenes = [tuple(x) for x in shape.get("scenes") or []]
        if not any(b - a >= MIN_SHOT for a, b in scenes):
            # not analysed, or cut fast throughout (an animation keeps its own rhythm): one span
            usable = shape.get("usable") or (0.0, length)
            scenes = [tuple(usable)] if usable[1] - usable[0] >= MIN_PIECE else [(0.0, length)]
        spans = []
        for s, e in allowed:  # a scene's part inside each allowed range
            for a, b in scenes:
                lo, hi = max(s, a), min(e, b)
                if hi - lo >= MIN_PIECE:
                    spans.append((round(lo, 3), round(hi, 3)))
        return spans or [(round(s, 3), round(e, 3)) for s, e in allowed]

    def shape(self, path: str, info: MediaInfo) -> dict[str, Any]:
        """The clip's scenes and usable part (engine/media/shots.py), analysed once per file version."""
        identity = self._seen.get(os.path.abspath(path), (None, None))[0]
        return self._shots.get(path, info, identity) or {}

    def beats(self, path: str) -> list[float]:
        """The beat times of a song (engine/media/beats.py), analysed once per file version."""
        identity, info = self._seen.get(os.path.abspath(path), (None, None))
        if info is None:
            path, info = self._probed(path)
            identity = self._seen[os.path.abspath(path)][0]
        return list(self._beats.get(path, info, identity) or [])

    def duration(self, path: str) -> float:
        info = self._info(path)
        return float(getattr(info, "duration", 0.0) or 0.0)

    def describe(self, task: RenderTask) -> None:
        """What the composition needs to know of each shot's source: its shown size (fit picks
        cover for a near aspect), pixel aspect, interlacing and HEIF grid."""
        for shot in task.shots:
            info = self._info(shot.path)
            if info is not None:
                shot.width, shot.height = info.width, info.height
                shot.sar, shot.interlaced, shot.grid = info.sar, info.interlaced, info.grid
        background = self._info(task.background_image)
        task.background_grid = bool(getattr(background, "grid", False))
        for path in task.media_files():  # what the render forces and checks again
            identity, info = self._seen.get(path, (None, None))
            if info is not None:
                task.inputs[path] = {"format": getattr(info, "demuxer", "") or None, "identity": identity}

    def warnings(self, task: RenderTask) -> list[str]:
        """The probe's notes (e.g. a truncated file) about the files this output uses."""
        paths = [s.path for s in task.shots] + [s.path for s in task.stickers]
        paths += [task.background_image] if task.background_image else []
        paths += [task.music.path] if task.music else []
        out = []
        for path in dict.fromkeys(paths):
            analysed = self._analysed.get(os.path.abspath(path))
            for note in [*(getattr(self._info(path), "warnings", None) or ()), *([analysed] if analysed else [])]:
                out.append(note if os.path.basename(path) in note else f"{os.path.basename(path)}: {note}")
        return out
