"""What each output gets besides its timeline: the frame size and quality, titles and subheadings,
background music, a sticker, a background image, and the loudness levels of the mix. The texts
and files are drawn once per job (``spread``: every one used before any repeats)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from sheet2video.engine.speech.loudness import levelled, measure
from sheet2video.engine.timeline.draws import spread
from sheet2video.engine.timeline.material import MediaCatalog
from sheet2video.engine.timeline.settings import level, loudness_target
from sheet2video.engine.timeline.task import RenderTask, Sticker, TextOverlay
from sheet2video.errors import RenderError

__all__ = [
    "DEFAULT_WIDTH", "DEFAULT_HEIGHT", "DEFAULT_CRF", "FPS",
    "Extras", "draw_extras", "OutputLook", "read_look", "overlays_for", "sticker_for", "measure_levels",
]  # fmt: skip

DEFAULT_WIDTH, DEFAULT_HEIGHT = 1080, 1920
DEFAULT_CRF = 27
FPS = 25


@dataclass
class Extras:
    """Per output (index ``i``), or empty lists when the job has none."""

    titles: list[str]
    subheads: list[tuple[int, list[str]]]  # (level, texts)
    music: list[str]
    backgrounds: list[str]
    stickers: list[dict[str, Any]]


def draw_extras(inputs: dict[str, Any], count: int, rng: random.Random) -> Extras:
    """The job's texts and files spread over ``count`` outputs (after the timelines, in this order)."""
    titles = spread(inputs.get("TitleArray") or [], count, rng)
    subheads = [(int(s.get("Level", 1)), spread(s.get("TitleArray") or [], count, rng)) for s in inputs.get("SubHeadingArray") or []]
    music = spread(inputs.get("BackgroundMusicArray") or [], count, rng)
    backgrounds = spread(inputs.get("BackgroundImageArray") or [], count, rng)
    stickers = spread(inputs.get("StickerArray") or [], count, rng)
    return Extras(titles, subheads, music, backgrounds, stickers)


@dataclass
class OutputLook:
    """What every output of a job shares: size, quality, text styles, music level, loudness, captions."""

    width: int
    height: int
    crf: int
    title_style: dict[str, Any]
    sub_styles: dict[str, Any]  # by subheading level, as a string
    music_volume: float
    loudness: float | None  # LUFS target, None to leave the levels as given
    asr: dict[str, Any]  # SpeechConfig.AsrConfig
    caption_style: dict[str, Any]


def read_look(editing: dict[str, Any], output: dict[str, Any]) -> OutputLook:
    # Voice-over captions: drawn unless AsrConfig says "Enable": false (compose.captions).
    asr = (editing.get("SpeechConfig") or {}).get("AsrConfig")
    asr = asr if isinstance(asr, dict) else {}
    return OutputLook(
        width=int(output.get("Width") or DEFAULT_WIDTH),
        height=int(output.get("Height") or DEFAULT_HEIGHT),
        crf=int((output.get("Video") or {}).get("Crf", DEFAULT_CRF)),
        title_style=editing.get("TitleConfig") or {},
        sub_styles=editing.get("SubHeadingConfig") or {},
        music_volume=level(editing.get("BackgroundMusicConfig"), 0.3),
        loudness=loudness_target(editing),
        asr=asr,
        caption_style={k: v for k, v in asr.items() if k != "Enable"},
    )


def overlays_for(extras: Extras, look: OutputLook, i: int) -> list[TextOverlay]:
    """Output ``i``'s title (level 0) and subheadings, each with its own copy of its style."""
    overlays = []
    if extras.titles:
        overlays.append(TextOverlay(extras.titles[i], 0, dict(look.title_style)))
    for heading_level, texts in extras.subheads:
        if texts:
            overlays.append(TextOverlay(texts[i], heading_level, dict(look.sub_styles.get(str(heading_level)) or {})))
    return overlays


def sticker_for(catalog: MediaCatalog, sticker: dict[str, Any], width: int, height: int) -> Sticker:
    """A StickerArray entry placed on a ``width``×``height`` frame: values under 1 are fractions of
    the frame. Only ``Width`` or only ``Height`` given: the other follows the picture's aspect (a
    logo sized by height keeps its shape); neither: a sixth of the width. ``Alignment`` (a local
    extension, like the titles'; ``TopLeft`` when absent) names the corner ``X`` / ``Y`` measure
    from — ``TopRight``: X from the right edge, ``Bottom*``: Y from the bottom — so a logo sized by
    height can sit in a right corner. Without X / Y: the top right corner. Positions are even."""
    reference = sticker.get("MediaId") or sticker.get("MediaURL")
    path, info = catalog.media(reference)
    aspect = max(1, info.width) / max(1, info.height)

    def size(value, whole, default):
        if value is None:
            return default
        value = float(value)
        return int(round(value * whole)) if value < 1 else int(round(value))

    if sticker.get("Width") is None and sticker.get("Height") is not None:
        h = size(sticker.get("Height"), height, 2)
        w = max(2, round(h * aspect))
    else:
        w = size(sticker.get("Width"), width, max(2, width // 6))
        h = size(sticker.get("Height"), height, max(2, round(w / aspect)))
    corner = sticker.get("Alignment") or "TopLeft"
    if corner not in ("TopLeft", "TopRight", "BottomLeft", "BottomRight"):
        raise RenderError(f"sticker Alignment {corner!r}: expected TopLeft, TopRight, BottomLeft or BottomRight",
                          code="InvalidParameter.Alignment")
    x = size(sticker.get("X"), width, width - w - width // 20)
    y = size(sticker.get("Y"), height, height // 20)
    if corner.endswith("Right") and sticker.get("X") is not None:
        x = width - w - x
    if corner.startswith("Bottom") and sticker.get("Y") is not None:
        y = height - h - y
    # overlay on 4:2:0 frames moves a picture to even x / y (rounding down): round away from the
    # margin the position keeps instead, so a logo never slips a pixel into the apps' zone
    x = x - x % 2 if corner.endswith("Right") else x + x % 2
    y = y - y % 2 if corner.startswith("Bottom") else y + y % 2
    return Sticker(path, x, y, max(2, w), max(2, h), float(sticker.get("Opacity", 1)))


def measure_levels(task: RenderTask) -> None:
    """Each voice-over clip's and the music's loudness, measured once (cached), so the
    composition can set fixed gains instead of normalising every output in two passes."""
    for clip in task.speech:
        clip.path, found = levelled(clip.path, task.loudness)
        clip.loudness = found.integrated if found else None
    if task.music is not None:
        found = measure(task.music.path)
        task.music.loudness = found.integrated if found else None
