"""Plan-time probing of the local media a sheet names (issue 12 item 5).

Every local reference of every planned job — what the embedded engine's ``MediaResolver`` would
read from disk: a relative path (under the media root, by default the sheet's folder), an absolute
path or a ``file://`` URL inside it — is resolved with the engine's own rules and probed with the
engine's own ``probe``, so a missing, unreadable or wrong-kind file is reported as one line naming
row, column and file before anything is sent. http(s) URLs, IMS media IDs and other schemes are
left to the render (they cost a download or an API call).

Results are cached in ``.sheet2video/media-probe.json`` next to the ledger, keyed by absolute path
and checked against size and mtime_ns (a failure is cached too, until the file changes), so a
re-plan of an unchanged folder costs a ``stat`` per distinct file. Turn it off with ``--no-probe``
or ``SHEET2VIDEO_NO_PROBE=1``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from sheet2video.plan.campaign import locate
from sheet2video.engine.media import probe as probe_module
from sheet2video.engine.media.sources import MEDIA_ID, MediaResolver, url_scheme
from sheet2video.engine.media.probe import probe
from sheet2video.errors import RenderError, ValidationError
from sheet2video.sheets.files import state_dir
from sheet2video.sheets.read import Sheet
from sheet2video.plan.templating import TemplateSet

__all__ = [
    "CACHE_NAME",
    "NO_PROBE_ENV",
    "probing_disabled",
    "ProbeCache",
    "media_references",
    "is_local",
    "MediaCheck",
]

CACHE_NAME = "media-probe.json"
NO_PROBE_ENV = "SHEET2VIDEO_NO_PROBE"
_CACHE_FORMAT = 1
_ERRNO = re.compile(r"\[Errno -?\d+\] ")
_THREADS = 4  # probing is mostly file I/O and FFmpeg's C code (no GIL); a few at once is plenty


def probing_disabled() -> bool:
    return os.environ.get(NO_PROBE_ENV, "").strip().lower() not in ("", "0", "no", "false", "off")


def _probe_version() -> str:
    """Cached results are only as good as the probe that made them: a new probe.py starts afresh."""
    try:
        source = Path(probe_module.__file__).read_bytes()
    except OSError:
        source = b""
    return f"{_CACHE_FORMAT}:{hashlib.sha256(source).hexdigest()[:16]}"


class ProbeCache:
    """{absolute path: {size, mtime_ns, info | error}} in one JSON file; unreadable → empty."""

    def __init__(self, path: Path | None):
        self.path = path
        self.version = _probe_version()
        self.entries: dict[str, dict[str, Any]] = {}
        self.dirty = False
        if path is not None:
            try:
                doc = json.loads(path.read_text(encoding="utf-8"))
                if doc.get("version") == self.version and isinstance(doc.get("files"), dict):
                    self.entries = doc["files"]
            except (OSError, ValueError, AttributeError):
                pass

    def get(self, key: str, size: int, mtime_ns: int) -> dict[str, Any] | None:
        entry = self.entries.get(key)
        if entry and entry.get("size") == size and entry.get("mtime_ns") == mtime_ns:
            return entry
        return None

    def put(self, key: str, entry: dict[str, Any]) -> None:
        self.entries[key] = entry
        self.dirty = True

    def save(self) -> None:
        if self.path is None or not self.dirty:
            return
        try:  # a read-only folder only costs the next plan its speed
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".media-probe-", suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump({"version": self.version, "files": self.entries}, out, ensure_ascii=False, default=str)
            os.replace(tmp, self.path)
        except (OSError, TypeError, ValueError):
            try:
                os.unlink(tmp)
            except (OSError, UnboundLocalError):
                pass


def _probe_entry(full: Path) -> dict[str, Any]:
    """Probe one file; the outcome (info or error) as a cacheable dict with the stat it belongs to."""
    try:
        st = full.stat()
    except OSError as error:  # gone since it was resolved
        return {"error": {"message": f"cannot read media ({error.strerror})", "code": None}}
    entry: dict[str, Any] = {"size": st.st_size, "mtime_ns": st.st_mtime_ns}
    try:
        entry["info"] = probe(full).to_dict()
    except RenderError as error:
        entry["error"] = {"message": error.message, "code": getattr(error, "code", None)}
    except Exception as error:  # the probe must never take the plan down; name the file instead
        entry["error"] = {"message": f"cannot read media ({type(error).__name__}: {error})", "code": None}
    return entry


def _without_file_prefix(message: str, full: Path) -> str:
    """The probe names the file by its base name or full path; the caller names it as typed."""
    for prefix in (f"{full}: ", f"{full.name}: "):
        if message.startswith(prefix):
            message = message[len(prefix):]
            break
    return _ERRNO.sub("", message)  # PyAV's "[Errno 1094995529] Invalid data…": the number says nothing


# (API field path, the kind that field needs) for every reference of one job
def media_references(inputs: dict[str, Any]) -> list[tuple[str, str, str]]:
    refs: list[tuple[str, str, str]] = []
    for g, group in enumerate(inputs.get("MediaGroupArray") or []):
        if isinstance(group, dict):
            refs += [(r, f"InputConfig.MediaGroupArray[{g}].MediaArray", "picture") for r in group.get("MediaArray") or []]
    refs += [(r, "InputConfig.MediaArray", "picture") for r in inputs.get("MediaArray") or []]
    refs += [(r, "InputConfig.BackgroundMusicArray", "audio") for r in inputs.get("BackgroundMusicArray") or []]
    refs += [(r, "InputConfig.BackgroundImageArray", "picture") for r in inputs.get("BackgroundImageArray") or []]
    for s, sticker in enumerate(inputs.get("StickerArray") or []):
        if isinstance(sticker, dict) and not sticker.get("MediaId") and sticker.get("MediaURL"):
            refs.append((sticker["MediaURL"], f"InputConfig.StickerArray[{s}].MediaURL", "picture"))
    return [(r, p, k) for r, p, k in refs if isinstance(r, str) and r.strip()]


def is_local(reference: str) -> bool:
    """What the engine reads from disk: a path or file:// URL (not a media ID, not a URL to download)."""
    reference = reference.strip()
    return not MEDIA_ID.match(reference) and url_scheme(reference) in ("", "file")


def _kind_problem(reference: str, info: dict[str, Any], needs: str) -> str | None:
    """The engine's own rules (timeline/material.py: MediaCatalog.media / .audio), said before the render. ``info`` is
    ``MediaInfo.to_dict()`` (only ``kind`` and ``has_audio`` are read, so new probe fields don't matter)."""
    kind = info.get("kind")
    if needs == "audio" and not info.get("has_audio"):
        what = "an image" if kind == "image" else "a video without a sound track" if kind == "video" else "a file without audio"
        return f"{reference} is {what}; background music needs an audio file"
    if needs == "picture" and kind == "audio":
        return f"{reference} is an audio file, not a video or image"
    return None


class MediaCheck:
    """``check(planned)`` → the problems of the planned jobs' local media (a ``plan_campaign`` check)."""

    def __init__(self, sheet: Sheet, template_set: TemplateSet, media_root: Path | None = None, *, cache: bool = True):
        self.sheet = sheet
        self.template_set = template_set
        self.media_root = (media_root or sheet.path.resolve().parent).resolve()
        self.cache_path = state_dir(sheet.path) / CACHE_NAME if cache else None
        self.probed = 0   # files probed by this check (cache misses)
        self.cached = 0   # files answered from the cache

    def __call__(self, planned: list) -> list[ValidationError]:
        return self.check(planned)

    def check(self, planned: list) -> list[ValidationError]:
        resolver = MediaResolver(self.media_root, self.media_root / ".unused")  # only its local rules are used
        by_number = {r.number: r for r in self.sheet.rows}
        uses = []  # (job, parsed, reference, field path, needs)
        for job in planned:
            parsed = {"InputConfig": job.parsed("InputConfig") or {}}
            for reference, path, needs in media_references(parsed["InputConfig"]):
                if is_local(reference):
                    uses.append((job, parsed, reference, path, needs))

        resolved: dict[str, Path | str] = {}  # reference → file, or the resolver's message
        for reference in dict.fromkeys(u[2] for u in uses):
            try:
                resolved[reference] = resolver.resolve(reference)
            except RenderError as error:
                not_found = getattr(error, "code", "") == "InvalidMaterial.NotFound" and "not found" in error.message
                resolved[reference] = f"{reference.strip()} not found" if not_found else error.message
        outcomes = self._probe_all({p for p in resolved.values() if isinstance(p, Path)})

        problems: list[ValidationError] = []
        for job, parsed, reference, path, needs in uses:
            target = resolved[reference]
            if isinstance(target, str):
                message = target
            else:
                entry = outcomes[target]
                if "error" in entry:
                    message = f"{reference.strip()}: {_without_file_prefix(entry['error']['message'], target)}"
                else:
                    message = _kind_problem(reference.strip(), entry["info"], needs)
            if message:
                rows = [by_number[n] for n in job.rows]
                where = locate(path, message, rows, self.sheet, self.template_set, parsed)
                problems.append(ValidationError(message, row=where.row, column=where.column or path))
        return _unique(problems)

    def _probe_all(self, files: set[Path]) -> dict[Path, dict[str, Any]]:
        """Each distinct file once: from the cache when its size and mtime match, else probed."""
        cache = ProbeCache(self.cache_path)
        outcomes: dict[Path, dict[str, Any]] = {}
        todo = []
        for full in sorted(files):
            try:
                st = full.stat()
            except OSError as error:
                outcomes[full] = {"error": {"message": f"cannot read media ({error.strerror})", "code": None}}
                continue
            hit = cache.get(str(full), st.st_size, st.st_mtime_ns)
            if hit is not None:
                outcomes[full] = hit
                self.cached += 1
            else:
                todo.append(full)
        if todo:
            with ThreadPoolExecutor(max_workers=min(_THREADS, len(todo))) as pool:
                for full, entry in zip(todo, pool.map(_probe_entry, todo)):
                    outcomes[full] = entry
                    cache.put(str(full), entry)
            self.probed += len(todo)
            cache.save()
        return outcomes


def _unique(problems: list[ValidationError]) -> list[ValidationError]:
    """The same file in the same cell (a row producing several jobs' worth of references) once."""
    seen, out = set(), []
    for p in problems:
        key = (p.row, p.column, p.message)
        if key not in seen:
            seen.add(key)
            out.append(p)
    return out
