"""Titles and subheadings: rasterised once per output into one transparent PNG, overlaid by FFmpeg.

Why a picture and not ``drawtext`` / libass: neither draws colour glyphs (emoji come out as □), and
neither falls back per character run. Here Pillow shapes each run with raqm (HarfBuzz + FriBiDi) in
the font of :func:`fonts.chain` that has it — the requested font, then CJK, Thai, Devanagari,
Arabic, Hebrew … — draws emoji from Noto Color Emoji's bitmaps (one size, 109 px, scaled to the
text), lays runs out in visual order (right-to-left lines for Arabic and Hebrew), and breaks and
shrinks lines with :mod:`title_lines` measuring the real glyphs: a title shrinks to 36 % of its size
before it takes a third line, breaks only between words or BudouX phrases (never inside ``九折``),
in balanced lines, and never leaves the frame. The picture is made once per output at render time
(the task is plain data that may render elsewhere); FFmpeg decodes it once and repeats it
(``overlay`` ``eof_action=repeat``). No video frame passes through Python.

Style keys (IMS TitleConfig / SubHeadingConfig, SubtitleTrackClip-like):

* ``Font`` family or cloud name (:func:`fonts.face_for`); ``FontSize`` px; ``FontColor``,
  ``FontColorOpacity`` (0–1);
* ``FontFace`` ``{"Bold": true, "Italic": true, "Underline": true}`` (titles default to bold; a
  face without a real bold / italic gets a synthetic one);
* ``Outline`` px (0 = none), ``OutlineColour``;
* ``Alignment`` ``TopLeft`` … ``BottomRight``: which point of the text block is placed, and how its
  lines are aligned; ``X`` / ``Y`` (a fraction 0–1 of the width / height, or pixels above 1) offset
  that point from the matching frame edge — Left/Top edges measure from the left/top, Center from
  the middle, Right/Bottom from the right/bottom (so ``TopCenter``, ``X=0``, ``Y=0.1`` is centred,
  10 % from the top);
* ``TextWidth`` the measure (fraction or px; default the width of the safe area);
* extensions (not IMS keys): ``BackgroundColor`` a rounded box behind the text (``#rrggbb``,
  ``#rrggbbaa`` or ``name@alpha``), ``Shadow`` the soft shadow's offset in px (0 = none).

``\\n`` or ``\\N`` in a title breaks the line, as in IMS subtitles. Without ``Y`` a block starts
at the top of the safe area (:func:`layout.safe_area`: 10 % of the height in 9:16, 6 % in 16:9,
8 % square) and later levels stack under it; without ``X`` a block is centred in (and kept inside)
the zone, whose right margin is wider in 9:16. A ``Bottom*`` block without ``Y`` ends 36 % above
the bottom, clear of the voice-over captions. A block is always kept inside the frame.
"""

from __future__ import annotations

import functools
import json
import logging
import math
import threading
import unicodedata
from dataclasses import dataclass

from PIL import Image, ImageColor, ImageDraw, ImageFilter, ImageFont, features

from sheet2video.engine.text import fonts
from sheet2video.engine.text.font_catalog import Face
from sheet2video.engine.text import linebreak
from sheet2video.engine.compose.graph import Graph, color as parse_color
from sheet2video.engine.compose import title_lines
from sheet2video.engine.compose.layout import centre_x, safe_area
from sheet2video.engine.media.formats import own_input
from sheet2video.engine.timeline.task import TextOverlay
from sheet2video.errors import RenderError

__all__ = ["Layer", "layer", "write_png", "title_overlay", "alignment", "rgba"]

log = logging.getLogger(__name__)

EMOJI_PX = 109  # Noto Color Emoji's bitmaps exist at this size only
_RAQM = features.check("raqm")
_LAYOUT = ImageFont.Layout.RAQM if _RAQM else ImageFont.Layout.BASIC
# Default Y (from the bottom) of a Bottom* title: over the band default captions use (the bottom
# of the safe area, two lines), so the two do not overlap.
BOTTOM_SAFE = 0.36
_ALIGN_V = {"Top": 0.0, "Center": 0.5, "Bottom": 1.0}
_ALIGN_H = {"Left": 0.0, "Center": 0.5, "Right": 1.0}


@dataclass
class Layer:
    """The rasterised titles of one output: an RGBA picture and where it goes on the frame."""

    image: Image.Image
    x: int
    y: int


# --------------------------------------------------------------------------------------------
# style values


def rgba(value, default: str, code: str = "InvalidParameter.FontColor") -> tuple[int, int, int, int]:
    """A colour (``#rrggbb``, ``#rrggbbaa``, ``name``, ``name@0.5``) as RGBA; bad → RenderError."""
    text = parse_color(value, default)  # validates and names the field's error code
    if text.startswith("0x"):
        h = text[2:]
        return (int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16), int(h[6:8], 16) if len(h) == 8 else 255)
    name, _, alpha = text.partition("@")
    try:
        r, g, b = ImageColor.getrgb(name)[:3]
    except ValueError:
        raise RenderError(f"unusable colour {value!r} (expected #rrggbb)", code=code) from None
    return r, g, b, round(255 * float(alpha)) if alpha else 255


def _number(style: dict, key: str, default: float | None) -> float | None:
    value = style.get(key)
    if value in (None, ""):
        return default
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise RenderError(f"title {key} {value!r} is not a number", code=f"InvalidParameter.{key}") from None
    if not math.isfinite(out):
        raise RenderError(f"title {key} {value!r} is not a number", code=f"InvalidParameter.{key}")
    return out


def _length(value: float, full: int) -> int:
    """IMS positions: a fraction of the frame side when |value| <= 1, else pixels."""
    return round(value * full) if abs(value) <= 1 else round(value)


def alignment(value) -> tuple[float, float]:
    """(horizontal, vertical) anchor fractions of ``TopLeft`` … ``BottomRight`` (``Center`` alone too)."""
    text = str(value or "TopCenter").strip()
    if text.lower() == "center":
        text = "CenterCenter"
    for v, fv in _ALIGN_V.items():
        for h, fh in _ALIGN_H.items():
            if text.lower() == (v + h).lower():
                return fh, fv
    raise RenderError(
        f"title Alignment {value!r} is not one of TopLeft, TopCenter, TopRight, CenterLeft, CenterCenter, "
        "CenterRight, BottomLeft, BottomCenter, BottomRight",
        code="InvalidParameter.Alignment",
    )


def _flags(style: dict, level: int) -> tuple[bool, bool, bool]:
    face = style.get("FontFace") if isinstance(style.get("FontFace"), dict) else {}
    bold = face.get("Bold")
    return (level == 0 if bold is None else bool(bold)), bool(face.get("Italic")), bool(face.get("Underline"))


# --------------------------------------------------------------------------------------------
# fonts and runs


@functools.lru_cache(maxsize=256)
def _font(path: str, index: int, size: int) -> ImageFont.FreeTypeFont:
    try:
        return ImageFont.truetype(path, size, index=index, layout_engine=_LAYOUT)
    except OSError as exc:
        raise RenderError(f"cannot read font {path}: {exc}", code="InvalidParameter.Font") from None


def _emoji_face(face: Face | None) -> bool:
    return face is not None and face.family == fonts.EMOJI_FAMILY


def _dir_of(text: str) -> str | None:
    """'rtl' / 'ltr' from the first strong character, None when there is none (digits, emoji …)."""
    for c in text:
        kind = unicodedata.bidirectional(c)
        if kind in ("R", "AL"):
            return "rtl"
        if kind == "L":
            return "ltr"
    return None


@dataclass
class _Run:
    text: str
    face: Face
    direction: str  # "ltr" | "rtl" (the run's own; raqm does the bidi inside it)
    width: float = 0.0


class _Shaper:
    """Lines split into runs and measured at one size; runs of characters no font has are dropped."""

    def __init__(self, faces: tuple[Face, ...], size: int) -> None:
        self.faces, self.size = faces, size
        self._cache: dict[str, tuple[str, list[_Run]]] = {}

    def font(self, face: Face) -> ImageFont.FreeTypeFont:
        return _font(face.path, face.index, EMOJI_PX if _emoji_face(face) else self.size)

    def scale(self, face: Face) -> float:
        return self.size / EMOJI_PX if _emoji_face(face) else 1.0

    def line(self, text: str) -> tuple[str, list[_Run]]:
        """(base direction, runs in visual order) for one line."""
        if text not in self._cache:
            base = _dir_of(text) or "ltr"
            runs = []
            for part, face in fonts.runs(text, self.faces):
                if face is None:
                    log.warning("no installed font has %r (U+%04X): left out of the title", part, ord(part[0]))
                    continue
                run = _Run(part, face, _dir_of(part) or base)
                kw = {"direction": run.direction} if _RAQM else {}
                run.width = self.font(face).getlength(part, **kw) * self.scale(face)
                runs.append(run)
            self._cache[text] = (base, _visual(runs, base))
        return self._cache[text]

    def width(self, text: str) -> float:
        return sum(r.width for r in self.line(text)[1])


def _visual(runs: list[_Run], base: str) -> list[_Run]:
    """Runs in display order (Unicode bidi rules L1–L2 at run level: neutral runs between two runs
    of one direction take it, others the line's; then reverse odd-level sequences)."""
    strong = [_dir_of(r.text) for r in runs]
    levels = []
    for i, r in enumerate(runs):
        d = strong[i]
        if d is None:
            before = next((s for s in reversed(strong[:i]) if s), base)
            after = next((s for s in strong[i + 1 :] if s), base)
            d = before if before == after else base
            r.direction = d
        levels.append((1 if d == "rtl" else 0) if base == "ltr" else (1 if d == "rtl" else 2))
    order = list(range(len(runs)))
    for level in range(max(levels, default=0), 0, -1):
        i = 0
        while i < len(order):
            if levels[order[i]] >= level:
                j = i
                while j < len(order) and levels[order[j]] >= level:
                    j += 1
                order[i:j] = reversed(order[i:j])
                i = j
            else:
                i += 1
    return [runs[k] for k in order]


# --------------------------------------------------------------------------------------------
# one text block


@dataclass
class _Look:
    """What a title's style asks for, resolved once: text, faces, size, colours and the measure."""

    style: dict
    text: str
    size: int
    bold: bool
    italic: bool
    underline: bool
    fill: tuple[int, int, int, int]
    outline_rgba: tuple[int, int, int, int]
    box: tuple[int, int, int, int] | None
    h_align: float
    max_width: int
    primary: Face
    faces: list

    def metrics(self, s: int) -> tuple[int, int, int]:
        """Outline, synthetic-bold stroke and shadow offset at font size ``s``, in px."""
        outline = max(0, round(_number(self.style, "Outline", max(1.0, s / 14))))
        extra = max(1, round(s / 28)) if self.bold and self.primary.weight < 150 else 0
        shadow = max(0, round(_number(self.style, "Shadow", max(1.0, s / 20))))
        return outline, extra, shadow

    def pad_at(self, s: int) -> int:
        outline, extra, shadow = self.metrics(s)
        return outline + extra + 2 * shadow + (round(s * 0.35) if self.box else 0) + 2


def _look(t: TextOverlay, W: int, H: int, base_size: int) -> _Look:
    style = t.style or {}
    level = max(0, min(5, int(t.level or 0)))
    text = str(t.text).replace("\\N", "\n").replace("\\n", "\n").strip()
    default = base_size if level == 0 else max(8, round(base_size * (0.72 - 0.04 * (level - 1))))
    size = round(_number(style, "FontSize", default))
    if size < 4:
        raise RenderError(f"font size {style.get('FontSize')!r} too small", code="InvalidParameter.FontSize")
    bold, italic, underline = _flags(style, level)
    fill = rgba(style.get("FontColor"), "white")
    opacity = _number(style, "FontColorOpacity", 1.0)
    fill = fill[:3] + (round(fill[3] * min(1.0, max(0.0, opacity))),)
    box = rgba(style.get("BackgroundColor"), "black", "InvalidParameter.BackgroundColor") if style.get("BackgroundColor") else None
    measure_px = _number(style, "TextWidth", None)
    frame_width = centre_x(W, H)[1]  # the zone's width (in 9:16 its right margin is the wider)
    primary = fonts.face_for(style.get("Font"), text, bold=bold, italic=italic)
    return _Look(
        style=style, text=text, size=size, bold=bold, italic=italic, underline=underline, fill=fill,
        outline_rgba=rgba(style.get("OutlineColour"), "black@0.85"), box=box, h_align=alignment(style.get("Alignment"))[0],
        max_width=min(frame_width, _length(measure_px, W)) if measure_px else frame_width,
        primary=primary, faces=fonts.chain(primary, text, bold=bold, italic=italic),
    )


def _lay_out(look: _Look) -> tuple[int, _Shaper, list]:
    """Break and shrink the text into the measure; each line's runs, width, ascent and descent."""
    shapers: dict[int, _Shaper] = {}

    def measure_at(s: int) -> linebreak.Measure:
        shapers.setdefault(s, _Shaper(look.faces, s))
        slack = 2 * look.pad_at(s) + (s * 0.25 if look.italic else 0)
        return lambda line: shapers[s].width(line) + slack

    size, lines = title_lines.fit(look.text, look.max_width, measure_at, look.size)
    shaper = shapers.get(size) or _Shaper(look.faces, size)
    laid = []  # line metrics: the tallest ascent / descent of the fonts each line uses
    for line in lines:
        base, runs = shaper.line(line)
        if not runs:
            continue
        asc = max([shaper.font(r.face).getmetrics()[0] * shaper.scale(r.face) for r in runs] + [size * 0.8])
        desc = max([shaper.font(r.face).getmetrics()[1] * shaper.scale(r.face) for r in runs] + [size * 0.2])
        laid.append((runs, sum(r.width for r in runs), math.ceil(asc), math.ceil(desc)))
    return size, shaper, laid


def _block(t: TextOverlay, W: int, H: int, base_size: int) -> tuple[Image.Image, int]:
    """The rasterised block (RGBA, padding included) and its padding in px."""
    look = _look(t, W, H, base_size)
    size, shaper, laid = _lay_out(look)
    if not laid:
        return Image.new("RGBA", (1, 1)), 0
    pad = look.pad_at(size)
    text_w = math.ceil(max(w for _, w, _, _ in laid))
    shear = 0.2 if look.italic and look.primary.slant == 0 else 0.0
    text_h = sum(a + d for _, _, a, d in laid) + round(size * 0.1) * (len(laid) - 1)
    bw, bh = text_w + 2 * pad + math.ceil(shear * text_h), text_h + 2 * pad
    fill_mask, line_mask, emoji = _draw_masks(look, size, shaper, laid, (bw, bh), pad, text_w)
    out = _layers(look, size, fill_mask, line_mask, emoji)
    if shear:
        out = out.transform((bw, bh), Image.Transform.AFFINE, (1, shear, -shear * bh, 0, 1, 0), Image.Resampling.BICUBIC)
    return out, pad


def _draw_masks(look: _Look, size: int, shaper: _Shaper, laid: list, box_size: tuple[int, int], pad: int, text_w: int):
    """The glyphs as two masks (fill; fill grown by the outline) and the emoji as their own RGBA layer."""
    outline, extra, _ = look.metrics(size)
    fill_mask, line_mask, emoji = Image.new("L", box_size), Image.new("L", box_size), Image.new("RGBA", box_size)
    dfill, dline = ImageDraw.Draw(fill_mask), ImageDraw.Draw(line_mask)
    y = pad
    for runs, width, asc, desc in laid:
        baseline = y + asc
        x = pad + (text_w - width) * look.h_align
        for r in runs:
            if _emoji_face(r.face):
                _paste_emoji(emoji, r, shaper, round(x), baseline)
            else:
                kw = {"direction": r.direction} if _RAQM else {}
                font = shaper.font(r.face)
                dfill.text((x, baseline), r.text, font=font, fill=255, anchor="ls", stroke_width=extra, **kw)
                dline.text((x, baseline), r.text, font=font, fill=255, anchor="ls", stroke_width=extra + outline, **kw)
            x += r.width
        if look.underline:
            top, thick = baseline + max(1, round(size * 0.1)), max(1, round(size / 16))
            x0 = pad + (text_w - width) * look.h_align
            dfill.rectangle([x0, top, x0 + width, top + thick - 1], fill=255)
            dline.rectangle([x0 - outline, top - outline, x0 + width + outline, top + thick - 1 + outline], fill=255)
        y += asc + desc + round(size * 0.1)
    return fill_mask, line_mask, emoji


def _layers(look: _Look, size: int, fill_mask: Image.Image, line_mask: Image.Image, emoji: Image.Image) -> Image.Image:
    """Box, shadow, outline, fill and emoji, bottom to top."""
    outline, _, shadow = look.metrics(size)
    bw, bh = fill_mask.size
    out = Image.new("RGBA", (bw, bh))
    if look.box:
        radius = round(size * 0.3)
        ImageDraw.Draw(out).rounded_rectangle([shadow, shadow, bw - 1 - shadow, bh - 1 - shadow], radius, fill=look.box)
    if shadow:
        body = Image.composite(Image.new("L", (bw, bh), 255), line_mask, emoji.getchannel("A"))
        moved = Image.new("L", (bw, bh))
        moved.paste(body, (shadow, shadow))
        moved = moved.filter(ImageFilter.GaussianBlur(max(1, shadow)))
        out = Image.alpha_composite(out, _solid((0, 0, 0, 140), moved))
    if outline:
        out = Image.alpha_composite(out, _solid(look.outline_rgba, line_mask))
    out = Image.alpha_composite(out, _solid(look.fill, fill_mask))
    return Image.alpha_composite(out, emoji)


def _solid(rgba: tuple[int, int, int, int], mask: Image.Image) -> Image.Image:
    """A layer of one colour whose alpha is ``mask`` × the colour's alpha."""
    layer = Image.new("RGBA", mask.size, rgba[:3] + (0,))
    alpha = mask if rgba[3] == 255 else mask.point(lambda v: v * rgba[3] // 255)
    layer.putalpha(alpha)
    return layer


def _paste_emoji(canvas: Image.Image, run: _Run, shaper: _Shaper, x: int, baseline: int) -> None:
    """Draw an emoji run at the bitmap size in colour, scale it to the text size, paste on the baseline."""
    font = shaper.font(run.face)
    asc, desc = font.getmetrics()
    full = math.ceil(font.getlength(run.text))
    if full <= 0:
        return
    big = Image.new("RGBA", (full, asc + desc))
    ImageDraw.Draw(big).text((0, asc), run.text, font=font, anchor="ls", embedded_color=True)
    k = shaper.scale(run.face)
    small = big.resize((max(1, round(full * k)), max(1, round((asc + desc) * k))), Image.Resampling.LANCZOS)
    canvas.alpha_composite(small, (x, max(0, baseline - round(asc * k))))


# --------------------------------------------------------------------------------------------
# all titles of an output → one layer


def _fit_inside(img: Image.Image, max_w: int, max_h: int) -> Image.Image:
    """Shrink a block that would not fit (it never should: lines are measured) rather than cut it."""
    if img.width <= max_w and img.height <= max_h:
        return img
    k = min(max_w / img.width, max_h / img.height)
    return img.resize((max(1, int(img.width * k)), max(1, int(img.height * k))), Image.Resampling.LANCZOS)


def _compose(titles: list[TextOverlay], W: int, H: int) -> Layer | None:
    base = max(10, round(min(W, H) * 0.08))
    margin = max(2, math.ceil(W * 0.025))
    cursor = safe_area(W, H).top  # the title band (compose.layout) starts there; captions stay below it
    placed: list[tuple[Image.Image, int, int]] = []
    for t in sorted(titles, key=lambda t: int(t.level or 0)):
        if not str(t.text or "").strip():
            continue
        style = t.style or {}
        img, pad = _block(t, W, H, base)
        img = _fit_inside(img, W - 2 * margin, H)
        fh, fv = alignment(style.get("Alignment"))
        ox = _length(_number(style, "X", 0.0), W)
        oy = _number(style, "Y", None)
        mid = W / 2 if style.get("X") is not None else centre_x(W, H)[0]  # no X: centred in the zone
        x = {0.0: ox - pad, 0.5: mid - img.width / 2 + ox, 1.0: W - img.width - ox + pad}[fh]
        if oy is None and fv == 0.0:
            y = cursor - pad
        else:
            if oy is None and fv == 1.0:
                oy = BOTTOM_SAFE  # above the voice-over captions' band
            oy_px = _length(oy or 0.0, H)
            y = {0.0: oy_px - pad, 0.5: (H - img.height) / 2 + oy_px, 1.0: H - img.height - oy_px + pad}[fv]
        safe = safe_area(W, H)  # no X: kept in the zone, clear of the apps' side column; an explicit X wins
        lo, hi = (margin, W - margin - img.width) if style.get("X") is not None else (safe.left - pad, W - safe.right + pad - img.width)
        x = max(0, min(max(round(x), lo), hi))
        y = min(max(round(y), 0), H - img.height)
        placed.append((img, x, y))
        cursor = y + img.height - pad + round(base * 0.2)
    if not placed:
        return None
    x0 = min(x for _, x, _ in placed) // 2 * 2  # even: chroma-aligned on 4:2:0 frames
    y0 = min(y for _, _, y in placed) // 2 * 2
    x1 = max(x + i.width for i, x, _ in placed)
    y1 = max(y + i.height for i, _, y in placed)
    canvas = Image.new("RGBA", (x1 - x0, y1 - y0))
    for img, x, y in placed:
        canvas.alpha_composite(img, (x - x0, y - y0))
    return Layer(canvas, x0, y0)


_LOCK = threading.Lock()  # renders run in a thread pool; FreeType faces (cached) are not thread-safe


@functools.lru_cache(maxsize=8)
def _cached(key: str, W: int, H: int) -> Layer | None:
    if not _RAQM:
        log.warning("Pillow has no raqm layout: titles are not shaped (Arabic, Thai, emoji sequences suffer)")
    with _LOCK:
        return _compose([TextOverlay.from_dict(d) for d in json.loads(key)], W, H)


def layer(titles: list[TextOverlay], W: int, H: int) -> Layer | None:
    """The titles of one output rasterised (cached: the command builder and the renderer ask twice)."""
    key = json.dumps([t.to_dict() for t in titles], sort_keys=True, ensure_ascii=False)
    return _cached(key, W, H)


def write_png(titles: list[TextOverlay], W: int, H: int, path: str) -> bool:
    """Write the titles' picture to ``path``; False when there is nothing to draw."""
    found = layer(titles, W, H)
    if found is None:
        return False
    found.image.save(path, format="PNG", optimize=False)
    return True


def title_overlay(g: Graph, titles: list[TextOverlay], W: int, H: int, cur: str, png_path: str) -> str:
    """Overlay the titles' picture (read from ``png_path``, decoded once, repeated) on ``cur``."""
    found = layer(titles, W, H)
    if found is None:
        return cur
    idx = g.add_input(*own_input(png_path, "png_pipe"))
    img, out = g.label("tt"), g.label("vt")
    # Converted to the frames' 4:2:0 (with alpha) once; blending in yuv420 costs a third of what
    # overlay's format=auto did here (1080x1920, 10 s: 4.9 s CPU against 6.4 s).
    g.add(f"[{idx}:v]format=yuva420p{img}")
    g.add(f"{cur}{img}overlay=x={found.x}:y={found.y}:eof_action=repeat:format=yuv420{out}")
    return out

