"""The render task: plain, JSON-serialisable data (``to_dict`` / ``from_dict``) describing one
output video, so it can be rendered here or on another machine (a farm worker) later."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field


__all__ = ["Shot", "TextOverlay", "SpeechClip", "Caption", "Music", "Sticker", "RenderTask", "RenderResult"]


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
    duck: bool = True  # lower the music under speech (sidechaincompress keyed by the speech mix)
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


