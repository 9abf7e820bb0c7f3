"""Titles and subheadings, drawn with ``drawtext`` from a layout estimated per character.

(Layout is estimated here: no font rendering in Python.)
"""

from __future__ import annotations

import unicodedata

from sheet2video.engine import fonts
from sheet2video.engine.compose.graph import color as parse_color, escape_filter_value
from sheet2video.engine.task import TextOverlay
from sheet2video.errors import RenderError

def _char_em(c: str) -> float:
    if unicodedata.east_asian_width(c) in ("W", "F"):
        return 1.0
    if c == " ":
        return 0.32
    if c in "iljtfIr.,:;!|'`\"()[]":
        return 0.38
    if c in "mwMW@%":
        return 1.0
    if c.isupper():
        return 0.74
    if c.isdigit():
        return 0.64
    return 0.62


def _text_width(text: str, size: int) -> float:
    return sum(_char_em(c) for c in text) * size


def _tokens(text: str) -> list[str]:
    """Break opportunities: spaces, and between wide (CJK) characters."""
    out: list[str] = []
    word = ""
    for c in text:
        if c.isspace():
            if word:
                out.append(word)
                word = ""
            out.append(" ")
        elif unicodedata.east_asian_width(c) in ("W", "F"):
            if word:
                out.append(word)
                word = ""
            out.append(c)
        else:
            word += c
    if word:
        out.append(word)
    return out


def _wrap(text: str, size: int, max_width: float) -> list[str]:
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        line = ""
        for tok in _tokens(" ".join(paragraph.split())):
            candidate = line + tok
            if not line.strip() or _text_width(candidate.rstrip(), size) <= max_width:
                line = candidate if line.strip() or tok != " " else ""
                continue
            lines.append(line.rstrip())
            line = "" if tok == " " else tok
            # A single token wider than the line (a long word): break it by characters.
            while _text_width(line, size) > max_width and len(line) > 1:
                cut = len(line)
                while cut > 1 and _text_width(line[:cut], size) > max_width:
                    cut -= 1
                lines.append(line[:cut])
                line = line[cut:]
        if line.strip():
            lines.append(line.rstrip())
    return [ln.strip() for ln in lines if ln.strip()]


def _balanced(text: str, size: int, max_width: float) -> list[str]:
    """Wrap, then narrow the measure as far as the line count allows, so no line is left with a
    lone word or character (titles read better as lines of similar length)."""
    lines = _wrap(text, size, max_width)
    if len(lines) < 2:
        return lines
    low, high = max_width / 2, max_width
    for _ in range(12):  # binary search for the narrowest measure with the same number of lines
        mid = (low + high) / 2
        if len(_wrap(text, size, mid)) <= len(lines):
            high = mid
        else:
            low = mid
    return _wrap(text, size, high)


def _layout(text: str, size: int, width: int, max_lines: int) -> tuple[int, list[str]]:
    """Wrap to 90 % of the width; shrink (down to half size) while it takes more than max_lines."""
    max_width = width * 0.9
    floor = max(8, size // 2)
    while True:
        lines = _balanced(text, size, max_width)
        if len(lines) <= max_lines or size <= floor:
            return size, lines
        size = max(floor, int(size * 0.9))



def title_filters(titles: list[TextOverlay], W: int, H: int, modern: bool) -> list[str]:
    base = max(10, round(min(W, H) * 0.08))
    out: list[str] = []
    cursor = round(H * 0.10)
    for t in sorted(titles, key=lambda t: int(t.level or 0)):
        text = (t.text or "").strip()
        if not text:
            continue
        style = t.style or {}
        level = max(0, min(5, int(t.level or 0)))
        default_size = base if level == 0 else max(8, round(base * (0.72 - 0.04 * (level - 1))))
        size = int(round(float(style.get("FontSize") or default_size)))
        if size < 4:
            raise RenderError(f"font size {style.get('FontSize')!r} too small", code="InvalidParameter.FontSize")
        size, lines = _layout(text, size, W, max_lines=2 if level == 0 else 2)
        if style.get("Y") not in (None, ""):
            y = float(style["Y"])
            top = round(y * H) if 0 <= y <= 1 else round(y)
        else:
            top = cursor
        font = fonts.font_for(text, style.get("Font") or None)
        color = parse_color(style.get("FontColor"), "white")
        border_color = parse_color(style.get("OutlineColour"), "black@0.85")
        border = int(style["Outline"]) if style.get("Outline") not in (None, "") else max(1, round(size / 14))
        shadow = max(1, round(size / 20))
        line_h = round(size * 1.3)
        for i, line in enumerate(lines):
            opts = [
                f"fontfile={escape_filter_value(font)}",
                f"text={escape_filter_value(line)}",
                "expansion=none",
                f"fontsize={size}",
                f"fontcolor={color}",
                f"borderw={border}",
                f"bordercolor={border_color}",
                f"shadowx={shadow}",
                f"shadowy={shadow}",
                "shadowcolor=black@0.5",
                "x=(w-text_w)/2",
                f"y={top + i * line_h}",
            ]
            if modern:
                opts.append("y_align=font")
            out.append("drawtext=" + ":".join(opts))
        cursor = top + len(lines) * line_h + round(size * 0.35)
    return out

