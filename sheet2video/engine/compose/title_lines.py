"""How a title's text becomes lines: as few lines as a readable size allows, broken between phrases.

A title prefers two lines to three: it may take as many lines as its own ``\\n`` make, at least two,
and shrinks (from its size down to :data:`MIN_SHARE` of it for CJK text — 31 px for the default
86 px title of a 1080-wide frame — or :data:`LATIN_MIN_SHARE` for alphabetic text) before it takes
a third line; only when two lines at that minimum are not enough does it take a third (then a
fourth …), each time at the largest size that fits, never below the minimum. Lines break between
words, and in Chinese, Japanese and Thai between BudouX phrases (:func:`linebreak.units`), never
inside a word such as ``九折``; only a single word wider than the measure at the minimum size is
broken between characters, so nothing is ever cut off. Lines are
balanced (:func:`linebreak.balanced`): similar lengths, not a long line and a lone word.
"""

from __future__ import annotations

from typing import Callable

from sheet2video.engine.text import linebreak

__all__ = ["MIN_SHARE", "LATIN_MIN_SHARE", "min_size", "fit"]

# The 49-character Chinese title takes two lines of a 1080x1920 frame's zone at 33 px (38 %);
# 36 % leaves room for a narrower measure. Smaller than that, a third line reads better.
MIN_SHARE = 0.36
# Latin letters at 36 % (31 px on 1080) read as small print: an alphabetic title stops shrinking
# at 60 % and takes a third line instead (a Chinese line holds about twice the words).
LATIN_MIN_SHARE = 0.6


def min_size(size: int, text: str = "") -> int:
    """The smallest size a title of ``size`` px shrinks to before it takes another line: mostly
    Chinese, Japanese or Korean text shrinks further than alphabetic text."""
    wide = sum(1 for c in text if "\u2e80" <= c <= "\u9fff" or "\uac00" <= c <= "\ud7af" or "\uf900" <= c <= "\ufaff")
    letters = sum(1 for c in text if c.isalpha())
    share = MIN_SHARE if letters and wide * 2 >= letters else LATIN_MIN_SHARE
    return max(4, round(size * share))


def fit(text: str, max_width: float, measure_at: Callable[[int], linebreak.Measure], size: int) -> tuple[int, list[str]]:
    """(size, lines) of a title: the fewest lines (two at least) at a size ≥ :func:`min_size`."""
    floor = min_size(size, text)
    first = max(2, text.count("\n") + 1)
    most = max(first, len(linebreak.wrap(text, max_width, measure_at(floor))))  # lines needed at the floor
    for lines_allowed in range(first, most + 1):
        found, lines = linebreak.fit(text, max_width, measure_at, size, max_lines=lines_allowed, min_size=floor)
        if len(lines) <= lines_allowed:
            break
    # fit shrinks in 8 % steps; win back the pixels the last step gave away
    while found < size and (larger := linebreak.fits(text, max_width, measure_at(found + 1), lines_allowed)):
        found, lines = found + 1, larger
    return found, lines
