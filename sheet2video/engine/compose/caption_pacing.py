"""Caption pacing: events long enough to read, in the spirit of broadcast subtitle rules.

:func:`pace` takes an output's caption events (sorted, non-overlapping, each starting when its first
word is spoken) and returns events that read well:

* at most ``MAX_SECONDS`` (7 s) and at most two lines: a longer event is split between words or
  phrases (:func:`linebreak.units`), its time shared by characters;
* a one-word clause (``Breathable,``) merges with a neighbour — the one in the same sentence, else
  the shorter — when the merge still fits two lines, lasts at most 7 s and the pause between them
  is under ``MERGE_PAUSE``;
* at least ``MIN_SECONDS`` (0.8 s): an event holds after its last word (never over the next event);
  one that cannot because the next starts sooner merges with it when that fits, else the next
  event appears that much later. Only the end of the video (speech shorter than 0.8 s) wins;
* a gap under ``MIN_GAP`` (0.3 s) between events is closed: the earlier event holds until the next.

No event ever starts before its first word is spoken: starts only move later, ends only later.
"""

from __future__ import annotations

from typing import Callable

from sheet2video.engine.text import linebreak
from sheet2video.engine.timeline.task import Caption

__all__ = ["MIN_SECONDS", "MAX_SECONDS", "MIN_GAP", "MERGE_PAUSE", "pace"]

MIN_SECONDS = 0.8
MAX_SECONDS = 7.0
MIN_GAP = 0.3
MERGE_PAUSE = 1.0  # a lone word after a longer pause stays alone (held for 0.8 s)
_SENTENCE_END = tuple(".!?。！？…")


def _join(a: str, b: str) -> str:
    """Two events' texts as one: a space between Latin words, none next to CJK."""
    return a + b if ord(a[-1]) >= 0x2E80 or ord(b[0]) >= 0x2E80 else f"{a} {b}"


def _split(e: Caption, fits: Callable[[str], bool]) -> list[Caption]:
    """An event too long (time or lines) cut greedily at word/phrase boundaries into pieces that
    each fit; the time is shared by characters (no word timings reach this far)."""
    if e.end - e.start <= MAX_SECONDS and fits(e.text):
        return [e]
    per_char = (e.end - e.start) / max(1, len(e.text))
    pieces, current = [], ""
    for unit in linebreak.units(e.text):
        trial = current + unit
        if current.strip() and (not fits(trial.strip()) or len(trial.rstrip()) * per_char > MAX_SECONDS):
            pieces.append(current)
            current = unit
        else:
            current = trial
    pieces.append(current)
    out, at = [], e.start
    for piece in pieces:
        out.append(Caption(piece.strip(), round(at, 3), round(at + len(piece) * per_char, 3)))
        at += len(piece) * per_char
    return out[:-1] + [Caption(out[-1].text, out[-1].start, e.end)]


def _mergeable(a: Caption, b: Caption, fits: Callable[[str], bool]) -> bool:
    return b.start - a.end < MERGE_PAUSE and b.end - a.start <= MAX_SECONDS and fits(_join(a.text, b.text))


def _merge_lone_words(events: list[Caption], fits: Callable[[str], bool]) -> list[Caption]:
    out = list(events)
    i = 0
    while i < len(out):
        if len([u for u in linebreak.units(out[i].text) if u.strip()]) != 1 or len(out) < 2:
            i += 1
            continue
        e = out[i]
        choices = []  # (crosses a sentence end, characters, index of the neighbour)
        if i > 0 and _mergeable(out[i - 1], e, fits):
            choices.append((out[i - 1].text.endswith(_SENTENCE_END), len(out[i - 1].text), i - 1))
        if i + 1 < len(out) and _mergeable(e, out[i + 1], fits):
            choices.append((e.text.endswith(_SENTENCE_END), len(out[i + 1].text), i + 1))
        if not choices:
            i += 1
            continue
        j = min(choices)[2]
        a, b = out[min(i, j)], out[max(i, j)]
        out[min(i, j): max(i, j) + 1] = [Caption(_join(a.text, b.text), a.start, b.end)]
        i = min(i, j)  # the merged event may still be one word short of company: look again
    return out


def _hold(events: list[Caption], fits: Callable[[str], bool], end: float | None) -> list[Caption]:
    """Minimum length and closed gaps, left to right; a start only ever moves later."""
    out: list[Caption] = []
    pending = list(events)
    while pending:
        e = pending.pop(0)
        if out and e.start < out[-1].end:  # pushed by a held predecessor
            e = Caption(e.text, out[-1].end, max(e.end, out[-1].end))
        stop = max(e.end, e.start + MIN_SECONDS)
        if pending:
            nxt = pending[0]
            if stop > nxt.start and round(e.end - e.start, 3) < MIN_SECONDS and _mergeable(e, nxt, fits):
                pending[0] = Caption(_join(e.text, nxt.text), e.start, nxt.end)
                continue
            if round(nxt.start - stop, 3) < MIN_GAP:  # a short gap closes; a held event pushes the next later
                stop = max(stop, nxt.start)
        if end is not None:
            stop = min(stop, end)
        if stop - e.start >= 0.01:
            out.append(Caption(e.text, round(e.start, 3), round(stop, 3)))
    return out


def pace(events: list[Caption], fits: Callable[[str], bool] = lambda text: True,
         end: float | None = None) -> list[Caption]:
    """The events re-timed and regrouped by the rules above; ``fits(text)`` says whether a text
    takes at most two lines at the caption size, ``end`` is the end of the video."""
    split = [piece for e in events for piece in _split(e, fits)]
    return _hold(_merge_lone_words(split, fits), fits, end)
