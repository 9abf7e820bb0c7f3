"""The report's data: the sheet's ledger → one card per row and video, with counts.

Only the ledger is read (never the sheet, which may have changed or be open in Excel). A job
run on more than one backend shows its latest entry. When no real run is recorded yet, the
preview ledger (``run --preview``) is shown instead, and every card says PREVIEW.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from PIL import Image

from sheet2video.engine.media.poster import poster_path
from sheet2video.run.ledger import Entry, Ledger, ledger_path
from sheet2video.report.words import WORKING_WORDS, explain, kind_of, next_step, split_error

__all__ = ["Card", "ReportData", "has_runs", "gather"]


@dataclass
class Card:
    job: str
    rows: list[int]
    index: int              # which video of the row (0-based)
    of: int                 # how many the row asked for (as far as is known)
    kind: str               # ready / failed / working
    status: str             # the raw status (Success, Failed, Processing…)
    video: str | None = None       # a link: relative to the report's folder, or a URL
    video_name: str | None = None  # what the link is called on the card
    poster: str | None = None      # a relative link to the poster JPEG, when there is one
    duration: float | None = None
    title: str | None = None
    speech: str | None = None
    voice: str | None = None
    one_of: bool = False           # title/speech are the row's choices, not known per video (cloud)
    titles: list[str] = field(default_factory=list)
    speeches: list[str] = field(default_factory=list)
    problem: str | None = None     # in plain words
    next: str | None = None        # what to do about it
    code: str | None = None        # the raw error code, small
    detail: str | None = None      # the raw error message
    warnings: list[str] = field(default_factory=list)
    shots: list[dict] = field(default_factory=list)  # the edit list (report/details.py shots_of), when known
    size: tuple[int, int] | None = None  # the video's width and height (its safe zones), when known
    note: str | None = None        # for work still going on
    updated_at: str = ""


@dataclass
class ReportData:
    sheet: str
    cards: list[Card]
    preview: bool
    counts: Counter
    rows: int


def has_runs(sheet_path: Path) -> bool:
    return any(ledger_path(sheet_path, preview=p).is_file() for p in (False, True))


def gather(sheet_path: Path) -> ReportData:
    real = _entries(sheet_path, preview=False)
    drafts = [] if real else _entries(sheet_path, preview=True)
    preview = bool(drafts)
    entries = drafts or real
    folder = sheet_path.resolve().parent
    cards = [card for entry in entries for card in _cards(entry, folder)]
    rows = {n for e in entries for n in e.rows}
    if not preview:  # rows switched off (enabled = no) that have no job: a card saying so
        skipped = [Card(key, [n], 0, 1, "skipped", reason, note=f"Not made: {reason}.")
                   for n, key, reason in _skipped(sheet_path) if n not in rows]
        cards = sorted(cards + skipped, key=lambda c: (min(c.rows or [0]), c.index))
        rows |= {c.rows[0] for c in skipped}
    return ReportData(sheet_path.name, cards, preview and bool(cards), Counter(c.kind for c in cards), len(rows))


def _entries(sheet_path: Path, *, preview: bool) -> list[Entry]:
    path = ledger_path(sheet_path, preview=preview)
    if not path.is_file():
        return []
    ledger = Ledger(path)
    try:
        latest: dict[str, Entry] = {}
        for entry in ledger.all():
            if entry.job_key not in latest or entry.updated_at >= latest[entry.job_key].updated_at:
                latest[entry.job_key] = entry
    finally:
        ledger.close()
    return sorted(latest.values(), key=lambda e: (min(e.rows or [0]), e.job_key))


def _skipped(sheet_path: Path) -> list[tuple[int, str, str]]:
    path = ledger_path(sheet_path, preview=False)
    if not path.is_file():
        return []
    ledger = Ledger(path)
    try:
        return ledger.skipped()
    finally:
        ledger.close()


def _cards(entry: Entry, folder: Path) -> list[Card]:
    details = entry.details or _details_from_columns(entry)
    if not details:  # not answered yet, or refused as a whole: one card for the row
        card = Card(entry.job_key, entry.rows, 0, 1, kind_of(entry.status), entry.status, updated_at=entry.updated_at)
        _explain(card, entry.error)
        return [card]
    cards = []
    for index, detail in enumerate(details):
        status = detail.get("Status") or entry.status
        card = Card(entry.job_key, entry.rows, index, len(details), kind_of(status), status,
                    duration=detail.get("Duration"), title=detail.get("Title"), speech=detail.get("Speech"),
                    voice=detail.get("Voice"), one_of=bool(detail.get("OneOf")), titles=detail.get("Titles") or [],
                    speeches=detail.get("Speeches") or [], warnings=detail.get("Warnings") or [],
                    shots=detail.get("Shots") or [], updated_at=entry.updated_at)
        if detail.get("Video"):
            card.video, card.poster, card.video_name = _links(detail["Video"], folder)
            card.size = _size(detail, folder)
            remote_poster = str(detail.get("Poster") or "")
            if card.poster is None and remote_poster.lower().startswith(("http://", "https://")):
                card.poster = remote_poster  # a shared engine (serve) serves it next to the video
        if card.kind == "failed":
            code, message = detail.get("ErrorCode"), detail.get("ErrorMessage")
            _explain(card, f"{code}: {message}" if code else entry.error)
        elif card.kind == "working":
            card.note = WORKING_WORDS.get(status, "Being made.")
        cards.append(card)
    return cards


def _details_from_columns(entry: Entry) -> list[dict]:
    """A ledger written before ``details`` existed still has its videos and durations."""
    return [{"Status": "Success", "Video": video, "Duration": entry.durations[i] if i < len(entry.durations) else None}
            for i, video in enumerate(entry.videos)]


def _explain(card: Card, error: str) -> None:
    if card.kind == "working":
        card.note = WORKING_WORDS.get(card.status, "Being made.")
        return
    if not error:
        return
    if error.startswith("warning: "):
        card.warnings = [error[len("warning: "):]]
        return
    code, message = split_error(error)
    card.problem, card.code, card.detail = explain(code), code or None, message or None
    card.next = next_step(code, card.rows)


def _remote(video: str) -> bool:
    return video.lower().startswith(("http://", "https://"))


def _local(video: str, folder: Path) -> Path:
    path = Path(video[len("file://"):] if video.startswith("file://") else video)
    return path if path.is_absolute() else folder / path


def _size(detail: dict, folder: Path) -> tuple[int, int] | None:
    """The size the job asked for (details.py ``output_size``); a ledger written before that was
    recorded: its poster's pixels, which have the video's shape (scaled down evenly)."""
    try:
        width, height = int(detail.get("Width") or 0), int(detail.get("Height") or 0)
    except (TypeError, ValueError):
        width = height = 0
    if width > 0 and height > 0:
        return width, height
    if _remote(detail["Video"]):
        return None
    try:
        with Image.open(poster_path(_local(detail["Video"], folder))) as image:  # reads the header only
            return image.size
    except (OSError, ValueError, Image.DecompressionBombError):
        return None


def _links(video: str, folder: Path) -> tuple[str, str | None, str]:
    """(video link, poster link or None, name) — relative to the report's folder when on disk."""
    if _remote(video):  # a cloud or remote engine's link, as returned
        return video, None, video.rsplit("/", 1)[-1].split("?", 1)[0] or video
    full = _local(video, folder)
    try:
        relative = os.path.relpath(full, folder)
    except ValueError:  # another drive (Windows): only an absolute link works
        relative = None

    def href(p: Path) -> str:
        return quote(Path(os.path.relpath(p, folder)).as_posix()) if relative else p.resolve().as_uri()

    poster = Path(poster_path(full))
    return href(full), href(poster) if poster.is_file() else None, full.name
