"""The render task: plain, JSON-serialisable data (``to_dict`` / ``from_dict``) describing one
output video, so it can be rendered here or on another machine (a farm worker) later."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field

from sheet2video.errors import RenderError

__all__ = ["Shot", "TextOverlay", "SpeechClip", "Caption", "Music", "Sticker", "RenderTask", "RenderResult",
           "identity_of", "CHANGED"]

CHANGED = "InvalidMaterial.Changed"


def identity_of(path: str) -> list[int] | None:
    """A file's identity (device, inode, size, mtime in ns): any swap or rewrite changes it. None if missing."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns]


class _Data:
    """``to_dict`` / ``from_dict`` for the task dataclasses (unknown keys are ignored)."""

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict):
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


@dataclass
class Shot(_Data):
    """One shot on the video track; shots are concatenated in order."""

    path: str  # absolute local file (video or image)
    kind: str  # "video" | "image"
    start: float  # in-point in the source, seconds (0 for images)
    source_duration: float  # seconds of source consumed (images: ignored)
    duration: float  # seconds the shot occupies in the output (≠ source_duration: speed change)
    volume: float = 0.0  # gain for the source's own audio; 0 = muted (IMS default)
    has_audio: bool = False
    motion: str | None = None  # a motion effect name (compose.motion), None = still framing
    # Transition into the *next* shot (compose.transitions): the next shot starts this many
    # seconds early and the two are blended over that window; slots still add up to the total.
    transition: str | None = None
    transition_duration: float = 0.0
    # The source's picture size (0 = unknown): lets compose.fit cover a near-same-aspect source.
    width: int = 0
    height: int = 0
    # How the source's pixels are stored (engine/media/probe.py): non-square pixels are widened to square
    # ones, interlaced material deinterlaced, before the shot is fitted (compose.video).
    sar: str = "1:1"
    interlaced: bool = False
    grid: bool = False  # a HEIF tile grid: read as FFmpeg's assembled stream group, not its first tile
    hold: float = 0.0  # the last seconds of ``duration`` hold the last frame (the source ran out)
    media: str | None = None  # the source as the job named it (what a user is shown; never a server path)
    group: str | None = None  # the media group it came from


@dataclass
class TextOverlay(_Data):
    """A title (level 0) or subheading (levels 1..5, stacked below the title), shown throughout."""

    text: str
    level: int = 0
    # Optional IMS TitleConfig-like keys (compose.titles): Font (a family or cloud font name, resolved
    # where it renders), FontSize (px), FontColor, X, Y, Alignment, Outline, OutlineColour, FontFace,
    # BackgroundColor, Shadow, TextWidth.
    style: dict = field(default_factory=dict)


@dataclass
class SpeechClip(_Data):
    path: str  # WAV from tts
    start: float  # seconds on the output timeline
    duration: float
    volume: float = 1.0
    loudness: float | None = None  # measured integrated loudness of the WAV (LUFS); None = unknown


@dataclass
class Music(_Data):
    path: str
    volume: float = 0.3
    duck: bool = True  # lower the music under speech (a fixed dip timed from the speech clips: engine/compose/audio.py)
    loudness: float | None = None  # measured integrated loudness of the file (LUFS); None = unknown


@dataclass
class Sticker(_Data):
    path: str  # image
    x: int  # pixels, top-left corner, already resolved
    y: int
    width: int
    height: int
    opacity: float = 1.0


@dataclass
class Caption(_Data):
    """One voice-over caption event on the output timeline (seconds)."""

    text: str
    start: float
    end: float
    # karaoke only: [character of text, second on the timeline] where each spoken word starts
    words: list = field(default_factory=list)


@dataclass
class RenderTask(_Data):
    output: str  # absolute .mp4 path
    width: int
    height: int
    duration: float  # total output duration (seconds)
    shots: list[Shot] = field(default_factory=list)
    fps: int = 25
    crf: int = 27
    titles: list[TextOverlay] = field(default_factory=list)
    speech: list[SpeechClip] = field(default_factory=list)
    music: Music | None = None  # looped or trimmed to the duration
    stickers: list[Sticker] = field(default_factory=list)
    background_image: str | None = None  # shots letterboxed over this image (cover-filled)
    background_grid: bool = False  # that image is a HEIF tile grid (a phone photo), like Shot.grid
    # How a source whose aspect differs from the output's is fitted (compose.video.FIT_MODES).
    fit: str = "cover"
    background_color: str | None = None  # behind "contain" (default black)
    # Target integrated loudness of the mix (LUFS, EBU R128) from the inputs' measured levels;
    # None leaves the volumes as given.
    loudness: float | None = None
    blur_radius: float = 0.1  # "blur": IMS Background Radius, a fraction of the short side
    captions: list[Caption] = field(default_factory=list)  # voice-over captions (compose.captions)
    caption_style: dict = field(default_factory=dict)  # AsrConfig-like keys, fonts resolved
    # Planner notes about the inputs (e.g. a truncated source) a Success carries to its row.
    warnings: list[str] = field(default_factory=list)
    # What this output says and who says it ({"Title", "Speech", "Voice"}): the report shows it per video.
    used: dict = field(default_factory=dict)
    # Each user-supplied file (media_files) as the planner's probe checked it, by absolute path:
    # {"format": the demuxer the render forces, "identity": identity_of() then, or None (a farm
    # worker's copy)}. The render refuses a file whose identity changed (engine/render.py).
    inputs: dict = field(default_factory=dict)

    def media_files(self) -> list[str]:
        """The user-supplied files (shots, stickers, music, background), absolute, each once; the
        voice-over WAVs are the engine's own."""
        files = [s.path for s in self.shots] + [s.path for s in self.stickers]
        files += [self.music.path] if self.music else []
        files += [self.background_image] if self.background_image else []
        return list(dict.fromkeys(os.path.abspath(f) for f in files))

    def check_unchanged(self) -> None:
        """Raise unless every user-supplied file still has the identity its probe recorded: a file
        replaced or rewritten since is never rendered on the strength of the old probe."""
        for path in self.media_files():
            recorded = (self.inputs.get(path) or {}).get("identity")
            if recorded and identity_of(path) != list(recorded):
                raise RenderError(f"{os.path.basename(path)} changed after it was checked (replaced or rewritten): "
                                  "not rendered; submit the job again", code=CHANGED)

    def input_format(self, path: str) -> str | None:
        """The demuxer the probe checked for ``path`` (None: not recorded)."""
        return (self.inputs.get(os.path.abspath(path)) or {}).get("format") or None

    @classmethod
    def from_dict(cls, data: dict) -> RenderTask:
        d = dict(data)
        d["shots"] = [Shot.from_dict(x) for x in d.get("shots") or []]
        d["titles"] = [TextOverlay.from_dict(x) for x in d.get("titles") or []]
        d["speech"] = [SpeechClip.from_dict(x) for x in d.get("speech") or []]
        d["stickers"] = [Sticker.from_dict(x) for x in d.get("stickers") or []]
        d["captions"] = [Caption.from_dict(x) for x in d.get("captions") or []]
        d["music"] = Music.from_dict(d["music"]) if d.get("music") else None
        return super().from_dict(d)


@dataclass
class RenderResult(_Data):
    path: str
    duration: float
    warnings: list[str] = field(default_factory=list)  # the render succeeded, but see these
    poster: str | None = None  # a JPEG frame next to the video (engine/media/poster.py), None if it could not be made
    used: dict = field(default_factory=dict)  # the task's ``used``, carried back to the sub-job


