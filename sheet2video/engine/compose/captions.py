"""Voice-over captions: events timed by the speech engine itself, drawn by libass from an ``.ass`` file.

Events (the planner calls :func:`plan_events`): one per clause the speech engine reports
(``Speech.segments``, seconds inside the WAV); a clause too long for two lines at the caption size is
cut at the engine's word timings (``Speech.words``) into shorter events. A speech without segments
is one event for the whole clip (its length is exact). Events are offset by the clip's start and never
overlap; :mod:`caption_pacing` then makes them readable (0.8-7 s, no gap under 0.3 s, no lone word).

Drawing (:func:`caption_filters`): one ``.ass`` file per output, ``PlayResX/Y`` = the output size and
``WrapStyle: 2`` — libass never wraps; lines are broken here by :mod:`sheet2video.engine.text.linebreak`
(BudouX phrases for CJK, kinsoku, Latin balanced), measured with the real font through Pillow, at
most two lines (a single event that still needs more is drawn smaller).

Style — ``SpeechConfig.AsrConfig`` keys, as the IMS subtitle clips name them:

* ``Font`` family (a font file path works today), ``FontSize`` em pixels (as titles; default 5.5 %
  of the short side), ``FontColor`` / ``OutlineColour`` ``#rrggbb``, ``FontColorOpacity`` 0–1,
  ``Outline`` px,
  ``FontFace`` ``{"Bold", "Italic", "Underline"}`` (bold by default);
* ``Alignment`` ``TopLeft`` … ``BottomRight`` (default ``BottomCenter``): which point of the text
  block ``X``/``Y`` place. ``Y`` is measured from the top (default: the edge of the safe area, see
  :mod:`layout`); ``X`` is the left margin for ``*Left``, the right margin for ``*Right``, ignored
  for ``*Center`` (centred). Both are fractions (0–1) of the size or pixels (≥ 2);
* ``TextWidth`` fraction of the width a line may take (default: the safe area's width);
* ``Enable: false`` turns captions off. Without ``AsrConfig`` captions are drawn with the defaults.
* local extensions, resolved in :mod:`caption_style`: ``BackgroundColor`` (a rounded translucent box
  behind each event) and ``HighlightColor`` (karaoke: each word takes it as it is spoken, from the
  word timings the planner attaches to each event, :attr:`Caption.words`).

When titles are present, captions are kept below the title band (:func:`layout.title_band`).
"""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from typing import Any, Callable

from sheet2video.engine.text import font_files
from sheet2video.engine.text import fonts
from sheet2video.engine.text import linebreak
from sheet2video.engine.compose.graph import escape_filter_value, ms
from sheet2video.engine.compose.caption_pacing import pace
from sheet2video.engine.compose.caption_style import ALIGNMENTS, Look, box_event, enabled, karaoke_chunks, style_fields
from sheet2video.engine.compose.layout import title_band
from sheet2video.engine.timeline.task import Caption, RenderTask
from sheet2video.errors import RenderError

__all__ = ["ALIGNMENTS", "Look", "look", "enabled", "plan_events", "events_for", "finish", "ass_text", "ass_path", "caption_filters", "escape_ass", "layout_event"]

MAX_LINES = 2


# ------------------------------------------------------------------ style → look (keys: caption_style)


def look(style: dict, W: int, H: int, text: str) -> Look:
    style = style or {}
    fields = style_fields(style, W, H)
    # A family name (cloud names such as KaiTi map to the nearest local family), a font file, or a
    # font in SHEET2VIDEO_FONTS_DIR; unknown names fall back (the plan warns).
    chosen = style.get("Font")
    named = str(chosen).strip() if isinstance(chosen, str) and chosen.strip() else None
    bold = fields["bold"]
    font = fonts.face_for(named, text, bold=bold).path if named else font_files.font_for(text, None)
    family, file, index, fontsdir = _resolve(font, font_files.cjk_lang(text), bold)
    return Look(family=family, file=file, index=index, fontsdir=fontsdir, ratio=_ratio(file, index), **fields)


# ------------------------------------------------------------------ fonts (Pillow measures, libass draws)


@functools.lru_cache(maxsize=None)
def _faces(path: str) -> tuple[str, ...]:
    """Family names of the faces in a font file (a .ttc holds several)."""
    from PIL import ImageFont

    names = []
    for i in range(32 if path.lower().endswith((".ttc", ".otc")) else 1):
        try:
            names.append(ImageFont.truetype(path, 12, index=i).getname()[0])
        except OSError:
            break
    return tuple(names)


def _face(path: str, lang: str | None) -> int:
    """The face of a collection for the language (``Noto Sans CJK SC`` for Chinese)."""
    tag = {"zh": " SC", "ja": " JP", "ko": " KR"}.get(lang or "")
    names = _faces(path)
    for i, name in enumerate(names):
        if tag and name.endswith(tag) and "Mono" not in name:
            return i
    return 0


@functools.lru_cache(maxsize=None)
def _fc_match(pattern: str) -> tuple[str, int, str] | None:
    exe = shutil.which("fc-match")
    if not exe:
        return None
    try:
        out = subprocess.run([exe, "-f", "%{file}\t%{index}\t%{family}", pattern], capture_output=True,
                             text=True, timeout=20, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    parts = out.split("\t")
    if len(parts) != 3 or not os.path.isfile(parts[0]):
        return None
    return parts[0], int(parts[1] or 0), parts[2]


@functools.lru_cache(maxsize=None)
def _resolve(path: str, lang: str | None, bold: bool) -> tuple[str, str, int, str | None]:
    """(family, file to measure, face index, fontsdir) for a font file: libass finds the family
    (bold face included) through fontconfig; a file fontconfig does not know is handed to libass
    by its folder, and measured as is."""
    index = _face(path, lang)
    names = _faces(path)
    family = names[index] if index < len(names) else os.path.splitext(os.path.basename(path))[0]
    found = _fc_match(f"{family}:bold" if bold else family)
    if found and family in found[2].split(","):
        return family, found[0], found[1], None
    return family, path, index, os.path.dirname(os.path.abspath(path))


@functools.lru_cache(maxsize=64)
def _pil(file: str, index: int, size: int):
    from PIL import ImageFont

    return ImageFont.truetype(file, size, index=index)


@functools.lru_cache(maxsize=None)
def _ratio(file: str, index: int) -> float:
    ascent, descent = _pil(file, index, 1000).getmetrics()
    return (ascent + descent) / 1000


@functools.lru_cache(maxsize=1 << 16)
def _text_width(file: str, index: int, size: int, text: str) -> float:
    # remembered: balancing lines measures the same prefixes again and again, for every event of
    # every output of a job (~2,800 shapings per output before)
    return _pil(file, index, size).getlength(text)


def _measure_at(lk: Look) -> Callable[[int], linebreak.Measure]:
    def at(size: int) -> linebreak.Measure:
        # the outline widens each line by its width on both sides
        return lambda text: _text_width(lk.file, lk.index, size, text) + 2 * lk.outline

    return at


def layout_event(text: str, lk: Look) -> tuple[int, list[str]]:
    """(em size, lines) for one event: balanced lines at the caption size, at most two (smaller if
    that is the only way)."""
    size, lines = linebreak.fit(text, lk.max_width, _measure_at(lk), lk.size, max_lines=MAX_LINES,
                                min_size=max(4, lk.size * 2 // 3))
    if len(lines) > MAX_LINES:  # no timings to split it: shrink further rather than draw three lines
        size, lines = linebreak.fit(text, lk.max_width, _measure_at(lk), size, max_lines=MAX_LINES,
                                    min_size=max(4, lk.size // 4))
    return size, lines


def _fits(text: str, style: dict, W: int, H: int) -> bool:
    lk = look(style, W, H, text)
    size, lines = linebreak.fit(text, lk.max_width, _measure_at(lk), lk.size, max_lines=MAX_LINES, min_size=lk.size)
    measure = _measure_at(lk)(lk.size)
    return len(lines) <= MAX_LINES and all(measure(ln) <= lk.max_width for ln in lines)


# ------------------------------------------------------------------ events (planner side)


def _clean(text: str) -> str:
    """One line of caption text: whitespace collapsed, emoji left out (libass draws no colour
    glyphs, and emoji are not spoken: the caption shows the words said)."""
    text = "".join(c for c in linebreak.clusters(str(text)) if not fonts.is_emoji(c))
    return " ".join(text.split())


def _word_starts(text: str, start: float, end: float, words) -> list[tuple[int, float]]:
    """(character, second) where each word timed inside the clause starts, found in its text (words
    are substrings of it); only where a line may break, when there are such places (a CJK engine
    may time every character, and 欢|迎 must stay together)."""
    starts, cursor = [], 0
    for w in words:
        word = str(w.text).strip()
        at = text.find(word, cursor) if word and start - 0.005 <= float(w.start) < end else -1
        if at >= 0:
            starts.append((at, float(w.start)))
            cursor = at + len(word)
    breaks, at = {0}, 0
    for unit in linebreak.units(text):
        at += len(unit)
        breaks.add(at)
    on_breaks = [s for s in starts if s[0] in breaks]
    return on_breaks if len(on_breaks) >= 2 else starts


def _cuts(n: int, bounds: list[int], fits_between: Callable[[int, int], bool]) -> list[int]:
    """Word indexes that end each event: as few events as greedy filling needs, then the same
    number of events of similar length when each of those still fits."""
    cuts, i = [], 0
    while i < n:
        j = i + 1
        while j < n and fits_between(i, j + 1):
            j += 1
        cuts.append(j)
        i = j
    k = len(cuts)
    if k > 1:
        even = [min(range(1, n), key=lambda b: abs(bounds[b] - bounds[n] * c / k)) for c in range(1, k)] + [n]
        if sorted(set(even)) == even and all(fits_between(a, b) for a, b in zip([0, *even], even)):
            return even
    return cuts


def _split(seg, words, fits: Callable[[str], bool]) -> list[tuple[str, float, float]]:
    """A clause as one event, or cut at word timings into pieces that each fit in two lines."""
    text, start, end = str(seg.text), float(seg.start), float(seg.end)
    starts = [] if fits(_clean(text)) else _word_starts(text, start, end, words)
    if len(starts) < 2:
        return [(_clean(text), start, end)]
    starts[0] = (0, start)  # the first event shows from the clause's start, leading marks included
    bounds = [p for p, _ in starts] + [len(text)]

    def piece(a: int, b: int) -> str:
        return _clean(text[bounds[a] : bounds[b]])

    out, a = [], 0
    for b in _cuts(len(starts), bounds, lambda a, b: fits(piece(a, b))):
        if piece(a, b):
            out.append((piece(a, b), starts[a][1], starts[b][1] if b < len(starts) else end))
        a = b
    return out


def events_for(spoken: Any, text: str, offset: float, style: dict, W: int, H: int) -> list[Caption]:
    """Caption events of one voice-over clip placed at ``offset`` on the timeline."""
    duration = float(getattr(spoken, "duration", 0) or 0)
    segments = list(getattr(spoken, "segments", ()) or ())
    words = list(getattr(spoken, "words", ()) or ())
    if not segments:
        segments = [_Seg(text, 0.0, duration)]
    fits = functools.lru_cache(maxsize=None)(lambda t: _fits(t, style, W, H))
    out = []
    for seg in segments:
        for piece, s, e in _split(seg, words, fits):
            out.append(Caption(piece, round(offset + max(0.0, s), 3), round(offset + min(duration or e, e), 3)))
    return finish(out, offset + duration if duration else None)


@dataclass(frozen=True)
class _Seg:
    text: str
    start: float
    end: float


def finish(events: list[Caption], end: float | None) -> list[Caption]:
    """Sorted, non-overlapping (each ends by the next's start), clipped to ``end``, none empty."""
    events = sorted((e for e in events if _clean(e.text)), key=lambda e: (ms(e.start), ms(e.end)))
    out = []
    for i, e in enumerate(events):
        stop = ms(e.end)
        if i + 1 < len(events):
            stop = min(stop, ms(events[i + 1].start))
        if end is not None:
            stop = min(stop, ms(end))
        if stop - ms(e.start) >= 10:  # ASS times are centiseconds
            out.append(Caption(_clean(e.text), ms(e.start) / 1000, stop / 1000))
    return out


def plan_events(voiced: list[tuple[Any, float, str]], style: dict, W: int, H: int, total: float) -> list[Caption]:
    """All caption events of one output, paced: ``voiced`` holds (speech, timeline offset, script)."""
    out: list[Caption] = []
    for spoken, offset, text in voiced:
        out += events_for(spoken, text, offset, style, W, H)
    paced = pace(finish(out, total), functools.lru_cache(maxsize=None)(lambda t: _fits(t, style, W, H)), total)
    if (style or {}).get("HighlightColor") in (None, ""):
        return paced
    timed = sorted((offset + float(w.start), str(w.text).strip()) for spoken, offset, _ in voiced
                   for w in getattr(spoken, "words", ()) or () if str(w.text).strip())
    return [_with_words(e, timed) for e in paced]


def _with_words(e: Caption, timed: list[tuple[float, str]]) -> Caption:
    """The event with where each word said during it starts (karaoke)."""
    text, cursor, marks = _clean(e.text), 0, []
    for at, word in timed:
        if e.start - 0.005 <= at < e.end and (found := text.find(word, cursor)) >= 0:
            marks.append([found, round(max(at, e.start), 3)])
            cursor = found + len(word)
    return Caption(e.text, e.start, e.end, marks)


# ------------------------------------------------------------------ the .ass file (compose side)


def escape_ass(text: str) -> str:
    """Cell text as literal ASS event text: no override blocks, no escapes, one paragraph.
    (libass reads ``\\{`` and ``\\}`` as literal braces; a word joiner after a backslash keeps it
    from starting ``\\N``, ``\\n``, ``\\h``.)"""
    return _literal(_clean(text))


def _literal(text: str) -> str:
    text = text.replace("\\", "\\\u2060")
    return text.replace("{", "\\{").replace("}", "\\}")


def _time(ms_: int) -> str:
    cs = (max(0, ms_) + 5) // 10
    return f"{cs // 360000}:{cs // 6000 % 60:02d}:{cs // 100 % 60:02d}.{cs % 100:02d}"


def _placed_y(lk: Look, size: int, lines: int, W: int, H: int, titles: bool) -> int:
    """The anchor's row, moved below the title band when the block would reach into it."""
    height = lines * size * lk.ratio + 2 * lk.outline
    row = (lk.an - 1) // 3
    top = lk.y - (height, height / 2, 0)[row]
    floor = title_band(W, H)[1] if titles else 0
    if top < floor:
        return round(lk.y + floor - top)
    return lk.y


def _num(x: float) -> str:
    return f"{x:.2f}".rstrip("0").rstrip(".")


def ass_text(task: RenderTask, W: int, H: int) -> tuple[str, str | None]:
    """The ``.ass`` document for ``task.captions`` and a fonts folder libass needs (or None)."""
    style = task.caption_style or {}
    base = look(style, W, H, "")
    head = [
        "[Script Info]", "ScriptType: v4.00+", f"PlayResX: {W}", f"PlayResY: {H}", "WrapStyle: 2",
        "ScaledBorderAndShadow: yes", "Kerning: yes", "",
        "[V4+ Styles]",
        "Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, Italic, "
        "Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, "
        "MarginR, MarginV, Encoding",
        f"Style: Caption,{base.family},{_num(base.size * base.ratio)},{base.highlight or base.color},{base.color},{base.outline_color},"
        f"&H80000000,{-1 if base.bold else 0},{-1 if base.italic else 0},{-1 if base.underline else 0},0,100,100,0,0,1,"
        f"{_num(base.outline)},{_num(base.shadow)},{base.an},0,0,0,1",
        "",
        "[Events]",
        "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text",
    ]
    fontsdir = None
    body = []
    for i, c in enumerate(task.captions):
        if ms(c.start) < 0 or ms(c.end) < ms(c.start):
            raise RenderError(f"render task: caption {i}: times {c.start}..{c.end}", code="InvalidParameter.RenderTask")
        if not _clean(c.text):
            continue  # nothing drawable (only emoji)
        lk = look(style, W, H, c.text)
        size, lines = layout_event(c.text, lk)
        fontsdir = fontsdir or lk.fontsdir
        y = _placed_y(lk, size, len(lines), W, H, bool(task.titles))
        tags = f"{{\\an{lk.an}\\pos({lk.x},{y})\\fn{lk.family}\\fs{_num(size * lk.ratio)}}}"
        when = f"{_time(ms(c.start))},{_time(ms(c.end))}"
        if lk.box:
            widths = [_measure_at(lk)(size)(ln) for ln in lines]
            body.append(f"Dialogue: 0,{when},Caption,,0,0,0,,{box_event(lk, size, widths, y, len(lines))}")
        body.append(f"Dialogue: {1 if lk.box else 0},{when},Caption,,0,0,0,,{tags}{_event_text(c, lines, lk)}")
    return "\n".join(head + body) + "\n", fontsdir


def _event_text(c: Caption, lines: list[str], lk: Look) -> str:
    """The lines as ASS text; with karaoke, a ``\\k`` before each word (the time until the next)."""
    if not (lk.highlight and c.words):
        return "\\N".join(escape_ass(ln) for ln in lines)
    start, end = ms(c.start), ms(c.end)
    marks = [(int(ch), ms(t)) for ch, t in c.words]
    chunks = karaoke_chunks(_clean(c.text), lines, marks, start, end)
    lead = max(0, (min(t for _, t in marks) - start) // 10)
    text = "\\N".join("".join((f"{{\\k{k}}}" if k is not None else "") + _literal(p) for p, k in line)
                       for line in chunks)
    return (f"{{\\k{lead}}}" if lead else "") + text


def ass_path(graph_path: str | None, text: str = "") -> str:
    """Where the ``.ass`` file goes: next to the filtergraph file (render removes both), else a
    content-named file in the temp folder (same text, same name)."""
    if graph_path:
        return os.path.splitext(graph_path)[0] + ".ass"
    digest = hashlib.sha256(text.encode()).hexdigest()[:20]
    return os.path.join(tempfile.gettempdir(), "sheet2video-captions", f"{digest}.ass")


def caption_filters(task: RenderTask, W: int, H: int, graph_path: str | None = None) -> list[str]:
    """The ``ass`` filter drawing ``task.captions`` (its file written now), or nothing."""
    if not task.captions:
        return []
    text, fontsdir = ass_text(task, W, H)
    path = ass_path(graph_path, text)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)
    opts = [f"filename={escape_filter_value(path)}", "shaping=complex"]
    if fontsdir:
        opts.append(f"fontsdir={escape_filter_value(fontsdir)}")
    return ["ass=" + ":".join(opts)]
