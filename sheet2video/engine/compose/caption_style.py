"""Caption looks: ``AsrConfig`` keys resolved to a :class:`Look`, and the ASS pieces a look adds
(the box behind an event, karaoke timing tags). The keys are listed in :mod:`captions`; local
extensions (not IMS keys):

* ``BackgroundColor`` ``#rrggbb`` / ``#rrggbbaa`` (the titles' box key and colour parsing): a rounded,
  translucent box behind each event. Drawn as an ASS vector shape sized from the measured lines:
  libass ``BorderStyle=3`` only gives square boxes, one per line, that overlap (darker bands where
  translucent lines meet) and replace the outline colour. With a box the text has no outline or
  shadow unless ``Outline`` is given.
* ``HighlightColor``: karaoke — each word turns this colour as it is spoken (libass ``\\k`` from the
  speech engine's word timings, :attr:`Caption.words`); words not yet said keep ``FontColor``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sheet2video.engine.compose.layout import centre_x, safe_area
from sheet2video.engine.compose.titles import rgba
from sheet2video.errors import RenderError

__all__ = ["ALIGNMENTS", "Look", "enabled", "style_fields", "ass_color", "box_event", "karaoke_chunks"]

# IMS alignment name → ASS numpad alignment (7 8 9 top, 4 5 6 middle, 1 2 3 bottom).
ALIGNMENTS = {
    "TopLeft": 7, "TopCenter": 8, "TopRight": 9,
    "CenterLeft": 4, "CenterCenter": 5, "CenterRight": 6,
    "BottomLeft": 1, "BottomCenter": 2, "BottomRight": 3,
}
SIZE_SHARE = 0.055  # default em size: share of the short side

_NAMED = {"white": "FFFFFF", "black": "000000", "yellow": "FFFF00", "red": "FF0000", "green": "00FF00",
          "blue": "0000FF", "orange": "FFA500", "pink": "FFC0CB", "gray": "808080", "grey": "808080"}
_HEX = re.compile(r"^(?:#|0x)?([0-9a-fA-F]{6})$")


def enabled(asr: dict | None) -> bool:
    """Captions are on unless ``AsrConfig`` says ``"Enable": false``."""
    value = (asr or {}).get("Enable", True)
    return not (value is False or str(value).strip().lower() in ("false", "0", "no", "off"))


@dataclass(frozen=True)
class Look:
    """The caption style resolved for one output size and one text (its font)."""

    family: str  # the name libass asks fontconfig for
    file: str  # the face measured (the bold one when bold)
    index: int
    fontsdir: str | None  # a folder for libass when fontconfig does not know the family
    size: int  # em pixels
    ratio: float  # ASS font size per em pixel for this font (libass sizes by ascent + descent)
    bold: bool
    italic: bool
    underline: bool
    color: str  # ASS &HAABBGGRR
    outline_color: str
    outline: float
    an: int
    x: int
    y: int
    max_width: float
    shadow: float = 0.0
    box: tuple[str, str] | None = None  # (&HBBGGRR&, &HAA&) of the box behind each event
    highlight: str | None = None  # karaoke: ASS colour a spoken word takes


def _bad(field: str, value: Any, why: str) -> RenderError:
    return RenderError(f"AsrConfig.{field} {value!r}: {why}", code=f"InvalidParameter.{field}")


def ass_color(value: Any, default: str, field: str, opacity: float = 1.0) -> str:
    s = str(value).strip() if value not in (None, "") else default
    rgb = _NAMED.get(s.lower()) or (m.group(1) if (m := _HEX.match(s)) else None)
    if rgb is None:
        raise _bad(field, value, "expected a colour like #ffffff")
    r, g, b = rgb[0:2], rgb[2:4], rgb[4:6]
    return f"&H{round((1 - opacity) * 255):02X}{b}{g}{r}".upper()  # ASS: alpha 00 = opaque


def _number(style: dict, field: str) -> float | None:
    value = style.get(field)
    if value in (None, ""):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        raise _bad(field, value, "expected a number") from None


def _px(style: dict, field: str, whole: int) -> int | None:
    """A fraction (0-1) of ``whole`` or pixels."""
    v = _number(style, field)
    if v is not None and v < 0:
        raise _bad(field, style[field], "must not be negative")
    return None if v is None else round(v * whole) if v <= 1 else round(v)


def _opacity(style: dict) -> float:
    v = _number(style, "FontColorOpacity")
    if v is not None and not 0 <= v <= 1:
        raise _bad("FontColorOpacity", style["FontColorOpacity"], "must be 0-1")
    return 1.0 if v is None else v


def _flag(face: Any, key: str, default: bool) -> bool:
    v = (face or {}).get(key) if isinstance(face, dict) else None
    return default if v is None else v is True or str(v).lower() == "true"


def _anchor(style: dict, an: int, W: int, H: int) -> tuple[int, int, float]:
    """(x, y) of the block's anchor point and the width a line may take."""
    safe = safe_area(W, H)
    column, row = (an - 1) % 3, (an - 1) // 3  # column 0 left 1 centre 2 right; row 0 bottom 2 top
    X, Y = _px(style, "X", W), _px(style, "Y", H)
    if column == 0:
        x = X if X is not None else safe.left
        room = W - x - safe.right
    elif column == 2:
        x = W - (X if X is not None else safe.right)
        room = x - safe.left
    else:
        x, room = centre_x(W, H)  # the zone's centre: its right margin (the apps' buttons) is wider
    y = Y if Y is not None else (H - safe.bottom, H // 2, safe.top)[row]
    share = _number(style, "TextWidth")
    if share is not None:
        if not 0 < share <= 1:
            raise _bad("TextWidth", style["TextWidth"], "must be a fraction of the width, 0-1")
        room = W * share if column == 1 else min(W * share, room)
    return int(x), int(y), room


def _box(value: Any) -> tuple[str, str] | None:
    if value in (None, ""):
        return None
    try:
        r, g, b, a = rgba(value, "black", "InvalidParameter.BackgroundColor")
    except RenderError:
        raise _bad("BackgroundColor", value, "expected a colour like #000000 or #00000099") from None
    return f"&H{b:02X}{g:02X}{r:02X}&", f"&H{255 - a:02X}&"


def style_fields(style: dict, W: int, H: int) -> dict:
    """Every :class:`Look` field that does not depend on the font; bad values → RenderError."""
    size = _number(style, "FontSize")
    size = round(size) if size is not None else round(min(W, H) * SIZE_SHARE)
    if not 4 <= size <= H // 4:
        raise _bad("FontSize", style.get("FontSize"), f"must be 4..{H // 4} px for a {W}x{H} video")
    name = style.get("Alignment") or "BottomCenter"
    if name not in ALIGNMENTS:
        raise _bad("Alignment", name, "expected one of " + ", ".join(ALIGNMENTS))
    an = ALIGNMENTS[name]
    x, y, room = _anchor(style, an, W, H)
    box = _box(style.get("BackgroundColor"))
    outline = _number(style, "Outline")
    outline = outline if outline is not None else 0.0 if box else max(1.0, round(size * 0.08))
    if not 0 <= outline <= size:
        raise _bad("Outline", style.get("Outline"), f"must be 0..{size} px")
    face = style.get("FontFace")
    opacity = _opacity(style)
    highlight = style.get("HighlightColor")
    return dict(
        size=size, bold=_flag(face, "Bold", True), italic=_flag(face, "Italic", False),
        underline=_flag(face, "Underline", False),
        color=ass_color(style.get("FontColor"), "#FFFFFF", "FontColor", opacity),
        outline_color=ass_color(style.get("OutlineColour"), "#000000", "OutlineColour"),
        outline=outline, an=an, x=x, y=y, max_width=max(float(size), room),
        shadow=0.0 if box else max(0.0, round(size * 0.04)), box=box,
        highlight=ass_color(highlight, "", "HighlightColor", opacity) if highlight not in (None, "") else None,
    )


def _n(x: float) -> str:
    return f"{x:.2f}".rstrip("0").rstrip(".")


def box_event(lk: Look, size: int, widths: list[float], y: int, lines: int) -> str:
    """Override tags and drawing of the rounded box behind one event (its lines measured ``widths``,
    anchored like the text at ``(lk.x, y)``)."""
    px, py = size * 0.45, size * 0.25  # padding: wider at the sides, like the apps' caption boxes
    text_w, text_h = max(widths), lines * size * lk.ratio + 2 * lk.outline
    w, h = text_w + 2 * px, text_h + 2 * py
    column, row = (lk.an - 1) % 3, (lk.an - 1) // 3
    left = lk.x - (0, text_w / 2, text_w)[column] - px
    top = y - (text_h, text_h / 2, 0)[row] - py
    r = min(size * 0.4, h / 2, w / 2)
    k = r * 0.45  # Bézier handles: a quarter circle, near enough
    path = (f"m {_n(r)} 0 l {_n(w - r)} 0 b {_n(w - k)} 0 {_n(w)} {_n(k)} {_n(w)} {_n(r)} "
            f"l {_n(w)} {_n(h - r)} b {_n(w)} {_n(h - k)} {_n(w - k)} {_n(h)} {_n(w - r)} {_n(h)} "
            f"l {_n(r)} {_n(h)} b {_n(k)} {_n(h)} 0 {_n(h - k)} 0 {_n(h - r)} "
            f"l 0 {_n(r)} b 0 {_n(k)} {_n(k)} 0 {_n(r)} 0")
    colour, alpha = lk.box
    return (f"{{\\an7\\pos({_n(left)},{_n(top)})\\bord0\\shad0\\1c{colour}\\1a{alpha}\\p1}}"
            f"{path}{{\\p0}}")


def karaoke_chunks(text: str, lines: list[str], marks: list[tuple[int, int]], start: int, end: int) -> list[list[tuple[str, int | None]]]:
    """``lines`` (pieces of ``text``) cut where each word starts, each piece with the ``\\k`` length
    (centiseconds) that starts before it, or None. ``marks``: (character of ``text``, ms) per word."""
    marks = sorted((c, t) for c, t in marks if 0 <= c < len(text) and start <= t < end)
    order = [t for _, t in marks] + [end]
    length = {c: max(0, (order[i + 1] - t) // 10) for i, (c, t) in enumerate(marks)}
    out, cursor = [], 0
    for line in lines:
        at = text.find(line, cursor)
        at = cursor if at < 0 else at
        pieces: list[tuple[str, int | None]] = []
        for i, ch in enumerate(line):
            if at + i in length:
                pieces.append((ch, length.pop(at + i)))
            elif pieces:
                pieces[-1] = (pieces[-1][0] + ch, pieces[-1][1])
            else:
                pieces.append((ch, None))
        cursor = at + len(line)
        out.append(pieces)
    return out
