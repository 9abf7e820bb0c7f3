"""Header cells: the name a header is matched by, and which record holds the column names.

Sheets typed on a Chinese keyboard or pasted from other tools carry full-width letters
(``ｓｐｅｅｃｈ``), ideographic spaces and full-width colons (``media：开场``): NFKC folds them to
what the templates read. A title row or two above the header is common too, so the header is the
record among the first few that holds the most names a campaign sheet uses.
"""

from __future__ import annotations

import re
import unicodedata

from sheet2video.sheets.result_columns import is_result_column

__all__ = ["KNOWN_COLUMNS", "HEADER_SEARCH_ROWS", "display_header", "normalise_header", "header_score",
           "header_index", "normalised_notice"]

# The column names the bundled templates (sheet2video/templates/*) and the planner read, as in
# DESIGN §4; tests/sheets/test_headers.py checks that it covers every one the templates read.
KNOWN_COLUMNS = frozenset({
    "id", "job", "group", "enabled", "media", "titles", "speech", "speech_join", "bgm", "logo",
    "logo_position", "count", "max_duration", "width", "height", "crf", "output", "voice",
    "media_volume", "speech_volume", "bgm_volume", "volume", "duration", "shot_duration", "notify",
    "speech_rate",
    "media_tags", "captions", "caption_box", "caption_color", "caption_position", "caption_size",
    "caption_style", "title_box", "title_color", "title_font", "title_position", "title_size",
    "transition", "transition_duration", "fit", "motion", "loudness", "template_config",
})
HEADER_SEARCH_ROWS = 20  # the header is looked for among this many non-blank records

_SPACES = re.compile(r"\s+")


def display_header(text: str) -> str:
    """A header as shown back to the user: NFKC-folded, trimmed, inner spaces collapsed, case kept."""
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", text)).strip()


def normalise_header(text: str) -> str:
    """The name a header cell is matched by (``display_header`` lower-cased)."""
    return display_header(text).lower()


def header_score(cells: list[str], known: frozenset[str] = KNOWN_COLUMNS) -> int:
    """How many cells are column names a campaign sheet uses (known, result or ``media:<group>``)."""
    names = (normalise_header(c) for c in cells if c.strip())
    return sum(1 for n in names if n in known or is_result_column(n) or n.startswith("media:"))


def header_index(records: list[tuple[int, list[str]]], known: frozenset[str] = KNOWN_COLUMNS) -> int:
    """Which of the (non-blank) records holds the column names: the first, unless a later one among
    the first HEADER_SEARCH_ROWS holds more known names and either at least two of them or sits
    below a one-cell record (a title)."""
    if not records:
        return 0
    scores = [header_score(cells, known) for _, cells in records[:HEADER_SEARCH_ROWS]]
    best = max(range(len(scores)), key=lambda i: (scores[i], -i))
    titled = sum(1 for c in records[0][1] if c.strip()) == 1
    if best and scores[best] > scores[0] and (scores[best] >= 2 or titled):
        return best
    return 0


def normalised_notice(cells: list[str]) -> str | None:
    """One line naming the headers NFKC folding changed (full-width letters, colons, spaces)."""
    raw = [(c.strip(), display_header(c)) for c in cells if c.strip() and c.strip() != display_header(c)]
    if not raw:
        return None
    wide = any(unicodedata.east_asian_width(ch) == "F" for a, _ in raw for ch in a)
    folded = any(unicodedata.normalize("NFKC", a) != a for a, _ in raw)
    why = " (full-width characters)" if wide else " (compatibility characters)" if folded else " (extra spaces)"
    changed = [(_printable(a), _printable(b)) for a, b in raw]  # a control character must not break the line
    return (f"headers {', '.join(a for a, _ in changed)} read as {', '.join(b for _, b in changed)}{why}"
            if len(changed) > 1 else f"header {changed[0][0]} read as {changed[0][1]}{why}")


def _printable(text: str) -> str:
    return text if text.isprintable() else repr(text)
