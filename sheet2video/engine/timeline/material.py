"""The job's material: references resolved to local files and probed once (the cache lives as
long as the planner), checked for what they are used as, and cut into candidate shots.

The cache is keyed on the file's identity (device, inode, size, mtime), never its path: a file
swapped or rewritten after a probe is probed again, and each task records the identity and the
demuxer its probe checked (``RenderTask.inputs``) for the render to check again."""

from __future__ import annotations

import dataclasses
import math
import os
from dataclasses import dataclass
from typing import Callable

from sheet2video.engine.media.probe import MediaInfo
from sheet2video.engine.media.sources import MediaResolver
from sheet2video.engine.timeline.settings import TimeRanges
from sheet2video.engine.timeline.task import RenderTask, Shot, identity_of
from sheet2video.errors import RenderError

__all__ = ["Candidate", "MediaCatalog"]


@dataclass
class Candidate:
    """One possible shot: a slice of a source."""

    path: str
    info: MediaInfo
    start: float
    length: float  # seconds available from start (images: unbounded)

    def shot(self, duration: float, volume: float, speed: float = 1.0) -> Shot:
        if self.info.kind == "image":
            return Shot(self.path, "image", 0.0, duration, duration, 0.0, False)
        source = min(duration * speed, self.length)
        return Shot(self.path, "video", round(self.start, 3), round(source, 3), round(duration, 3), volume, self.info.has_audio)


_CACHED = 4096  # probe results kept (the oldest go first)


class MediaCatalog:
    """Resolves and probes references, each file (each version of it) once."""

    def __init__(self, resolver: MediaResolver, probe_fn: Callable[[str], MediaInfo]):
        self.resolver = resolver
        self._probe = probe_fn
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

    def candidates(self, references: list[str], shot: float, ranges: TimeRanges | None = None,
                   group: str | None = None) -> list[Candidate]:
        """Shots of ``shot`` seconds cut from each video (only inside its ``TimeRangeList`` when
        ``ranges`` has one for it), and every image as one candidate."""
        out = []
        for reference in references:
            path, info = self.media(reference)
            if info.kind == "image":
                out.append(Candidate(path, info, 0.0, math.inf))
                continue
            spans = (ranges or {}).get((group, reference)) or (ranges or {}).get((None, reference))
            length = info.duration  # the video stream's own length, not a longer sound track's
            for start, end in spans or [(0.0, length)]:
                if spans and start >= length - 0.04:
                    raise RenderError(f"{reference}: TimeRangeList In {start:g} s is at or past the end of the clip "
                                      f"({length:.2f} s)", code="InvalidParameter.TimeRangeList")
                end = min(end, length)
                pieces = max(1, int((end - start) // shot))
                for i in range(pieces):
                    at = start + i * shot
                    out.append(Candidate(path, info, at, max(0.04, end - at)))
        return out

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
            for note in getattr(self._info(path), "warnings", None) or ():
                out.append(note if os.path.basename(path) in note else f"{os.path.basename(path)}: {note}")
        return out
