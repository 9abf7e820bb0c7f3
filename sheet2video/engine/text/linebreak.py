"""Where text may break into lines, and how to lay it into a measure — shared by titles and captions.

Break opportunities (``units``):

* Latin, Cyrillic, Arabic, Hebrew, Devanagari, Korean … — between words (spaces stay with the word
  before them, so joining units gives the text back);
* Chinese, Japanese, Thai — between phrases, as BudouX's shipped models segment them (never inside a
  word like ``公园``, never one character per line as libass's space rule or a per-character
  breaker would);
* line-breaking rules (kinsoku): no line starts with closing punctuation ``，。！？、）」』…`` and none
  ends with opening punctuation ``（「『“…``: such marks are glued to their neighbour.

Layout is measured, not guessed: every function takes ``measure(text) -> width`` (pixels at the
size being tried), so titles measure with the real font and captions with the caption font.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import Callable

__all__ = ["units", "wrap", "balanced", "fit", "fits", "clusters", "Measure"]

Measure = Callable[[str], float]

# No line may start with these (closing marks, small kana, prolonged sound mark) …
NO_START = set("，。！？、；：）」』】〕〉》〗〙〛’”…‥・ー々〻ゝゞヽヾぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮヵヶ,.!?;:)]}%")
# … and none may end with these (opening marks).
NO_END = set("（「『【〔〈《〖〘〚‘“([{")

_SPACE = re.compile(r"(\s+)")


def _script(c: str) -> str | None:
    o = ord(c)
    if 0x3040 <= o <= 0x30FF or 0x31F0 <= o <= 0x31FF:
        return "ja"
    if 0x0E00 <= o <= 0x0E7F:
        return "th"
    if 0x4E00 <= o <= 0x9FFF or 0x3400 <= o <= 0x4DBF or 0x20000 <= o <= 0x2FFFF or 0xF900 <= o <= 0xFAFF:
        return "zh"
    return None


@functools.lru_cache(maxsize=None)
def _parser(lang: str):
    import budoux

    return {
        "ja": budoux.load_default_japanese_parser,
        "th": budoux.load_default_thai_parser,
        "zh-hant": budoux.load_default_traditional_chinese_parser,
    }.get(lang, budoux.load_default_simplified_chinese_parser)()


def _phrase_lang(text: str) -> str | None:
    found = {s for s in map(_script, text) if s}
    if not found:
        return None
    if "ja" in found:
        return "ja"
    if "th" in found:
        return "th"
    return "zh"


def units(text: str) -> list[str]:
    """The text cut at every allowed break; ``"".join(units(t)) == t`` for single-line text."""
    return list(_units(text))


@functools.lru_cache(maxsize=4096)  # balancing cuts the same text a dozen times
def _units(text: str) -> tuple[str, ...]:
    out: list[str] = []
    for piece in _SPACE.split(text):
        if not piece:
            continue
        if piece.isspace():
            if out:
                out[-1] += piece
            else:
                out.append(piece)
            continue
        lang = _phrase_lang(piece)
        out += _parser(lang).parse(piece) if lang else [piece]
    return tuple(_kinsoku([u for u in out if u]))


def _kinsoku(parts: list[str]) -> list[str]:
    """Glue leading closing marks to the unit before, trailing opening marks to the unit after."""
    out: list[str] = []
    for part in parts:
        while out and part and part[0] in NO_START:
            out[-1] += part[0]
            part = part[1:]
        if part:
            out.append(part)
    for i in range(len(out) - 1):
        if out[i] != out[i].rstrip():  # "( hello": a space after the mark is a break of its own
            continue
        k = len(out[i])
        while k > 0 and out[i][k - 1] in NO_END:
            k -= 1
        out[i], out[i + 1] = out[i][:k], out[i][k:] + out[i + 1]
    return [u for u in out if u]


def clusters(text: str) -> list[str]:
    """Characters with what attaches to them: combining marks, joiners (emoji ZWJ sequences),
    variation selectors, skin tones, keycaps, tags, and regional-indicator pairs (flags)."""
    out: list[str] = []
    for c in text:
        o = ord(c)
        attach = out and (
            unicodedata.category(c) in ("Mn", "Mc", "Me")
            or c in "\u200d\ufe0e\ufe0f\u20e3"
            or 0x1F3FB <= o <= 0x1F3FF
            or 0xE0020 <= o <= 0xE007F
            or out[-1].endswith("\u200d")
            or (0x1F1E6 <= o <= 0x1F1FF and len(out[-1]) == 1 and 0x1F1E6 <= ord(out[-1]) <= 0x1F1FF)
        )
        if attach:
            out[-1] += c
        else:
            out.append(c)
    return out


def _width(measure: Measure, line: str) -> float:
    return measure(line.rstrip())


def wrap(text: str, max_width: float, measure: Measure) -> list[str]:
    """Greedy lines of at most ``max_width``; a unit wider than the measure is broken between
    characters (the only way left to keep it inside the frame). Explicit newlines are kept."""
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        line = ""
        for unit in _units(" ".join(paragraph.split())):
            if line and _width(measure, line + unit) > max_width:
                lines.append(line)
                line = ""
            line += unit
            while _width(measure, line) > max_width and len(clusters(line.rstrip())) > 1:
                chars = clusters(line)
                cut = len(chars) - 1
                while cut > 1 and _width(measure, "".join(chars[:cut])) > max_width:
                    cut -= 1
                while cut > 1 and (chars[cut][0] in NO_START or chars[cut - 1][-1] in NO_END):
                    cut -= 1  # kinsoku holds inside a broken unit too
                lines.append("".join(chars[:cut]))
                line = "".join(chars[cut:])
        if line.strip():
            lines.append(line)
    return [ln.strip() for ln in lines if ln.strip()]


def balanced(text: str, max_width: float, measure: Measure) -> list[str]:
    """Wrap, then narrow the measure as far as the line count allows, so lines have similar
    lengths (no lone word or character on the last line)."""
    lines = wrap(text, max_width, measure)
    if len(lines) < 2:
        return lines
    low, high = max_width / 2, max_width
    for _ in range(12):  # binary search for the narrowest measure with the same number of lines
        mid = (low + high) / 2
        if len(wrap(text, mid, measure)) <= len(lines):
            high = mid
        else:
            low = mid
    return wrap(text, high, measure)


def fit(
    text: str,
    max_width: float,
    measure_at: Callable[[int], Measure],
    size: int,
    *,
    max_lines: int,
    min_size: int | None = None,
) -> tuple[int, list[str]]:
    """The largest size ≤ ``size`` (down to ``min_size``, default half) at which ``text`` fits in
    ``max_lines`` balanced lines with no unit broken; at the floor, units are broken by character
    rather than cut off. Returns (size, lines)."""
    floor = max(4, min_size if min_size is not None else size // 2)
    while True:
        lines = fits(text, max_width, measure_at(size), max_lines)
        if lines is not None:
            return size, lines
        if size <= floor:
            return size, balanced(text, max_width, measure_at(size))
        size = max(floor, int(size * 0.92))


def fits(text: str, max_width: float, measure: Measure, max_lines: int) -> list[str] | None:
    """Balanced lines when ``text`` fits in ``max_lines`` with no unit broken, else None."""
    lines = balanced(text, max_width, measure)
    whole_units = all(_width(measure, u) <= max_width for u in _units(" ".join(text.split())))
    return lines if len(lines) <= max_lines and whole_units else None
