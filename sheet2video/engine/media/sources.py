"""Where the engine's bytes come from and go to.

Inputs: an IMS media ID registered with RegisterMediaInfo, a path relative to the media root, an
absolute path or ``file://`` URL inside it, or an http(s) URL (downloaded once, with size and time
limits, into the cache, through the resolver's ``OutboundPolicy``: engine/outbound.py says which
addresses a caller may make the engine reach). Nothing outside the media root is ever read, nor
anything in the engine's data folder (its key, store, caches) but its outputs, wherever the root is.

A name typed in a sheet may differ invisibly from the file on disk (a non-breaking or zero-width
space pasted from a chat, NFD as macOS stores names vs NFC as keyboards type them): when the exact
name is missing, each path component is matched after ``_loose`` (NFC, NBSP → space, zero-width
characters dropped); exactly one match is used, otherwise the error says which character differs.

Downloads have a total deadline (checked between reads, and each read waits at most the time left,
so a server trickling a byte every few seconds still ends), a size cap, and refuse an HTML page
(a share link, a login or an error page). A failed or interrupted download is restarted from
nothing, never resumed: the cache is keyed by URL, and a Range request against a file that changed
on the server would splice two versions. The temp file is removed on every exit path; one left by
a killed run is removed when the next resolver starts (a live download holds a lock on its own).
A download is probed before it enters the cache and named from what its bytes are — the URL's
digest plus the demuxer the probe checked (``<digest>.mov``, ``<digest>.png``) — never from the
URL's suffix: a ``.m3u8`` URL must not become a file FFmpeg would open as a playlist, and bytes
that are not media never enter the cache. Why a download failed goes to the log; the caller reads
it only when the policy ``explain``s (the embedded engine), otherwise one sentence whatever the
far side did (also when it answered with something that is not media).

Outputs: ``OutputConfig.MediaURL`` with ``{index}`` maps to a file under the data folder's
``outputs/`` (a shared engine's: under ``outputs/<JobId>/``): an http(s)/oss URL → ``<host>/<path>``, a
relative path → that path. Nothing may escape the folder.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import re
import shutil
import tempfile
import threading
import time
import unicodedata
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

from sheet2video.engine.media.probe import probe
from sheet2video.engine.outbound import OutboundError, OutboundPolicy
from sheet2video.errors import RenderError

__all__ = [
    "IMAGE_EXTS",
    "AUDIO_EXTS",
    "MEDIA_ID",
    "TEMP_PREFIX",
    "READ_TIMEOUT",
    "ZERO_WIDTH",
    "NBSP",
    "media_type_of",
    "url_scheme",
    "inside",
    "remove_stale_downloads",
    "MediaResolver",
    "output_relpath",
    "remove_quietly",
]

IMAGE_EXTS = {".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif", ".tif", ".tiff"}
AUDIO_EXTS = {".mp3", ".m4a", ".aac", ".wav", ".flac", ".ogg", ".opus"}
MEDIA_ID = re.compile(r"^[0-9a-f]{32}$")
TEMP_PREFIX = ".dl-"
READ_TIMEOUT = 30.0  # seconds without a byte before a download is given up (within its deadline)
# characters a name may carry without anyone seeing them, and what a person calls them
ZERO_WIDTH = {"\u200b": "zero-width space", "\u200c": "zero-width non-joiner", "\u200d": "zero-width joiner",
              "\ufeff": "zero-width no-break space (BOM)", "\u2060": "word joiner"}
NBSP = "\u00a0"
_ZW_TABLE = {ord(c): None for c in ZERO_WIDTH} | {ord(NBSP): " "}
_SAFE_PART = re.compile(r"[^\w.\-]+")
log = logging.getLogger("sheet2video.engine")


def media_type_of(reference: str) -> str:
    suffix = PurePosixPath(urlsplit(reference).path if "://" in reference else reference).suffix.lower()
    if suffix in IMAGE_EXTS:
        return "image"
    if suffix in AUDIO_EXTS:
        return "audio"
    return "video"


# schemes written without "//" (not any "x:" prefix: C:/clip.mp4 is a Windows path)
_OPAQUE_SCHEMES = ("data:", "blob:", "javascript:", "mailto:")


def url_scheme(reference: str) -> str:
    """The reference's URL scheme, lower-case; "" for a path."""
    if "://" in reference:
        return urlsplit(reference).scheme.lower()
    head = reference[:12].lower()
    return next((s[:-1] for s in _OPAQUE_SCHEMES if head.startswith(s)), "")


def inside(root: Path, candidate: Path) -> bool:
    try:
        candidate.relative_to(root)
        return True
    except ValueError:
        return False


def _loose(name: str) -> str:
    """A file name as a person reads it: NFC, NBSP as a space, no zero-width characters."""
    return unicodedata.normalize("NFC", name.translate(_ZW_TABLE))


def _invisible(name: str) -> list[str]:
    """What a name holds that nobody sees: "a non-breaking space (U+00A0)", … (each kind once)."""
    found = []
    if NBSP in name:
        found.append("a non-breaking space (U+00A0)")
    found += [f"a {what} (U+{ord(c):04X})" for c, what in ZERO_WIDTH.items() if c in name]
    plain = name.translate(_ZW_TABLE)
    if unicodedata.normalize("NFC", plain) != plain:
        found.append("letters in Unicode form NFD (decomposed, as macOS stores names)")
    return found


def _difference(typed: str, actual: str) -> str:
    """Why two names that read the same are not equal, in words."""
    mine, theirs = _invisible(typed), _invisible(actual)
    said = [f"the name has {w}" for w in mine if w not in theirs]
    said += [f"the file's name has {w}" for w in theirs if w not in mine]
    return " and ".join(said) or "the names differ in invisible characters"


def remove_stale_downloads(cache_dir: Path) -> list[Path]:
    """Temp files of downloads a killed run left behind (a live download keeps its file locked)."""
    removed = []
    try:
        candidates = [p for p in cache_dir.iterdir() if p.name.startswith(TEMP_PREFIX)]
    except OSError:
        return removed
    for path in candidates:
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            path.unlink(missing_ok=True)
            removed.append(path)
        except OSError:
            pass  # locked: another process is downloading into it
        finally:
            os.close(fd)
    return removed


def _looks_like_html(head: bytes) -> bool:
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return text.startswith((b"<!doctype html", b"<html", b"<head", b"<body", b"<!-- ", b"<meta", b"<title", b"<script"))


class MediaResolver:
    """Turn media references into local files under the media root or the download cache."""

    def __init__(self, media_root: Path, cache_dir: Path, store=None, *, extra_roots: list[Path] = (),
                 max_download_bytes: int = 512 * 2**20, download_timeout: float = 60.0, objects=None,
                 outbound: OutboundPolicy | None = None, private: Path | None = None):
        self.media_root = media_root.resolve()
        self.readable_roots = [self.media_root, *(r.resolve() for r in extra_roots)]  # e.g. the engine's own outputs
        # the engine's data folder (its key, store, caches): never read, wherever the media root is, except
        # where an extra root (its outputs) lies inside it
        self.private = private.resolve() if private is not None else None
        self.cache_dir = cache_dir
        self.store = store
        self.objects = objects  # storage.ObjectStore: URLs of its bucket are read through it (engine/media/objects.py)
        self.max_download_bytes = max_download_bytes
        self.download_timeout = download_timeout
        self.outbound = outbound or OutboundPolicy()  # a shared server's: no loopback, private … addresses
        self._download_lock = threading.Lock()
        remove_stale_downloads(cache_dir)

    def resolve(self, reference: str) -> Path:
        """A readable local file for a reference, or RenderError naming the material."""
        reference = reference.strip()
        if self.store is not None and MEDIA_ID.match(reference):
            record = self.store.media(media_id=reference)
            if record is None:
                raise RenderError(f"The specified media id not found: {reference}", code="InvalidMaterial.NotFound")
            return self.resolve(record["input_url"])
        scheme = url_scheme(reference)
        if self.objects is not None and (key := self.objects.key_for_url(reference)):
            return self._object(key, reference)
        if scheme in ("oss", "s3"):
            raise self._not_our_bucket(reference)
        if scheme in ("http", "https"):
            return self._download(reference)
        if scheme == "file":
            return self._local(Path(unquote(urlsplit(reference).path)), reference)
        if scheme:
            raise RenderError(f"unsupported media reference scheme {scheme!r}: {reference[:200]}", code="InvalidMaterial.Forbidden")
        return self._local(Path(reference), reference)

    def validate_input_url(self, reference: str) -> None:
        """Check a RegisterMediaInfo InputURL without fetching it (an http(s) host is resolved and
        checked against the outbound policy now; the fetch checks it again)."""
        scheme = url_scheme(reference)
        if self.objects is not None and self.objects.key_for_url(reference):
            return
        if scheme in ("http", "https"):
            try:
                self.outbound.target(reference)
            except OutboundError as error:
                log.warning("RegisterMediaInfo %s refused: %s", reference[:300], error.detail)
                raise RenderError(self.outbound.said(reference, error.detail), code="InvalidParameter") from None
            return
        if scheme in ("oss", "s3"):
            raise self._not_our_bucket(reference)
        if scheme not in ("", "file"):
            raise RenderError(f"unsupported InputURL scheme {scheme!r}", code="InvalidParameter")
        path = Path(unquote(urlsplit(reference).path)) if scheme == "file" else Path(reference)
        self._local(path, reference)

    def _local(self, path: Path, reference: str) -> Path:
        try:
            full = self._inside_root(path, reference)
            if not full.is_file():
                full = self._inside_root(self._near_match(path, reference), reference)
        except (OSError, ValueError) as error:  # a name longer than the file system allows, a NUL byte
            why = error.strerror if isinstance(error, OSError) else error
            raise RenderError(f"cannot read media {reference[:200]!r}: {why}", code="InvalidMaterial.NotFound") from None
        return full

    def _inside_root(self, path: Path, reference: str) -> Path:
        """The path resolved (symlinks followed), or Forbidden when that lands outside the roots."""
        full = (path if path.is_absolute() else self.media_root / path).resolve()
        if not any(inside(root, full) for root in self.readable_roots):
            raise RenderError(f"media outside the media root is not readable: {reference}", code="InvalidMaterial.Forbidden")
        if not self._public(full):
            raise RenderError(f"media inside the engine's data folder is not readable: {reference}",
                              code="InvalidMaterial.Forbidden")
        return full

    def _public(self, full: Path) -> bool:
        """Not inside the engine's data folder, or inside one of the extra roots (its outputs) there."""
        return (self.private is None or not inside(self.private, full)
                or any(inside(root, full) for root in self.readable_roots[1:]))

    def _near_match(self, path: Path, reference: str) -> Path:
        """The one file whose name reads like ``path`` component by component, or NotFound saying
        what differs. Only folders inside the roots are listed (no names from elsewhere leak out)."""
        full = path if path.is_absolute() else self.media_root / path
        here = Path(full.anchor)
        for part in full.parts[1:]:
            exact = here / part
            if part in (".", "..") or exact.exists():
                here = exact
                continue
            real = here.resolve()
            listable = any(inside(r, real) for r in self.readable_roots) and self._public(real)
            names = os.listdir(real) if real.is_dir() and listable else []
            matches = [n for n in names if _loose(n) == _loose(part)]
            if len(matches) == 1:
                here = here / matches[0]
                continue
            if matches:
                each = "; ".join(f"{m!r} ({_difference(part, m)})" for m in sorted(matches))
                raise RenderError(f"The specified media not found: {reference!r} — {len(matches)} names read the same: "
                                  f"{each}; type the name exactly", code="InvalidMaterial.NotFound")
            hidden = _invisible(part)
            hint = f" (the name has {' and '.join(hidden)})" if hidden else ""
            raise RenderError(f"The specified media not found: {reference}{hint}", code="InvalidMaterial.NotFound")
        if not here.is_file():
            raise RenderError(f"The specified media not found: {reference}", code="InvalidMaterial.NotFound")
        return here

    def _download(self, url: str) -> Path:
        digest = hashlib.sha256(url.encode()).hexdigest()[:32]
        cached = self._cached(digest)
        if cached is not None:
            return cached
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        with self._download_lock:
            cached = self._cached(digest)
            if cached is not None:
                return cached
            fd, tmp = tempfile.mkstemp(dir=self.cache_dir, prefix=TEMP_PREFIX)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)  # "in use": a resolver starting meanwhile leaves it alone
                with os.fdopen(fd, "wb") as out:
                    self._fetch(url, out)
                kind = self._checked(url, tmp).demuxer.split("_")[0]  # png_pipe → png
                target = self.cache_dir / f"{digest}.{kind}"
                os.replace(tmp, target)
            finally:  # every exit: an error, a deadline, KeyboardInterrupt
                if os.path.exists(tmp):
                    os.unlink(tmp)
        return target

    def _cached(self, digest: str) -> Path | None:
        return next((p for p in self.cache_dir.glob(f"{digest}.*") if p.is_file()), None)

    def _checked(self, url: str, path: str):
        """What downloaded bytes are (the probe's MediaInfo), or the download's error: on a shared
        engine the same sentence as any other failed fetch, so content is no port-scan signal either."""
        try:
            return probe(path)
        except RenderError as error:
            detail = error.message.replace(os.path.basename(path), url)
            log.warning("%s", detail)
            if self.outbound.explain:
                raise RenderError(detail, code=error.code) from None
            raise RenderError(self.outbound.said(url, detail), code="InvalidMaterial.NotFound") from None

    def _object(self, key: str, reference: str) -> Path:
        """An object of the engine's bucket, fetched once into the cache with its credentials."""
        from sheet2video.errors import Sheet2VideoError

        digest = hashlib.sha256(f"{self.objects.bucket}/{key}".encode()).hexdigest()[:32]
        target = self.cache_dir / "objects" / digest
        if target.is_file():
            return target
        with self._download_lock:
            if not target.is_file():
                try:
                    self.objects.get_file(key, target)
                except Sheet2VideoError as error:
                    raise RenderError(f"cannot read {reference[:200]}: {error}", code="InvalidMaterial.NotFound") from None
        return target

    def _not_our_bucket(self, reference: str) -> RenderError:
        where = f"only bucket {self.objects.bucket!r}" if self.objects is not None else "no bucket (serve --storage-bucket)"
        return RenderError(f"{reference[:200]}: the engine reads {where}", code="InvalidMaterial.Forbidden")

    def _fetch(self, url: str, out) -> None:
        """Stream ``url`` into ``out``, or RenderError with what the caller may read (the log has why)."""
        limit = self.download_timeout
        deadline = time.monotonic() + limit
        try:
            self._stream(url, out, deadline)
            return
        except RenderError as error:  # what the far side sent: an error status, a page, too many bytes, too slowly
            failure = error
        except (OutboundError, OSError) as error:  # refused, unreachable, a connection broken or timed out
            failure = RenderError(f"download of {url} took longer than {limit:g} s" if time.monotonic() >= deadline
                                  else f"cannot download {url}: {error}", code="InvalidMaterial.NotFound")
        log.warning("%s", failure.message)
        if self.outbound.explain:
            raise failure
        raise RenderError(self.outbound.said(url, failure.message), code="InvalidMaterial.NotFound")

    def _stream(self, url: str, out, deadline: float) -> None:
        limit = self.download_timeout
        with self.outbound.request("GET", url, headers={"Accept-Encoding": "identity"},
                                   timeout=(min(10.0, limit), min(READ_TIMEOUT, limit))) as resp:
            if resp.status != 200:
                raise RenderError(f"cannot download {url}: HTTP {resp.status} {resp.reason or ''}".rstrip(),
                                  code="InvalidMaterial.NotFound")
            kind = resp.headers.get("Content-Type", "").split(";")[0].strip().lower()
            if kind in ("text/html", "application/xhtml+xml"):
                raise self._html(url)
            if int(resp.headers.get("Content-Length") or 0) > self.max_download_bytes:
                raise self._too_large(url)
            size, head = 0, b""
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise RenderError(f"download of {url} took longer than {limit:g} s", code="InvalidMaterial.NotFound")
                sock = getattr(resp.connection, "sock", None)
                if sock is not None:
                    sock.settimeout(min(left, READ_TIMEOUT))  # a read never outlasts the deadline
                chunk = resp.read1(1 << 16, decode_content=True)
                if not chunk:
                    break
                if len(head) < 256:
                    head += chunk[:256]
                    if len(head) >= 64 and _looks_like_html(head):
                        raise self._html(url)
                size += len(chunk)
                if size > self.max_download_bytes:
                    raise self._too_large(url)
                out.write(chunk)
            if _looks_like_html(head):
                raise self._html(url)

    @staticmethod
    def _html(url: str) -> RenderError:
        return RenderError(f"URL {url} returned an HTML page, not media (a share link, a login or an error page?)",
                           code="InvalidMaterial.Type")

    def _too_large(self, url: str) -> RenderError:
        return RenderError(f"{url} is larger than the {self.max_download_bytes // 2**20} MiB download limit",
                           code="InvalidMaterial.TooLarge")


def output_relpath(media_url: str, index: int) -> str:
    """Where output ``index`` of a MediaURL lives, relative to the outputs folder (never escaping it)."""
    url = media_url.replace("{index}", str(index))
    if "://" in url:
        parts = urlsplit(url)
        raw = f"{parts.hostname or 'host'}/{unquote(parts.path)}"
    else:
        raw = url
    clean = []
    for part in raw.replace("\\", "/").split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            raise RenderError(f"OutputConfig.MediaURL may not contain '..': {media_url}", code="InvalidParameter")
        name = _SAFE_PART.sub("_", part)
        # Never a hidden name: /outputs/ serves none (the render's temp files are ".<name>.*"), so
        # ".ses{index}" would finish, answer a MediaURL that is never found, and stay on the disk.
        clean.append("_" + name[1:] if name.startswith(".") else name)
        if len(clean[-1].encode()) > 200:  # room for the renderer's temp-file suffixes within 255
            raise RenderError(f"OutputConfig.MediaURL has a file or folder name longer than 200 bytes: {media_url[:80]}…",
                              code="InvalidParameter")
    if not clean:
        raise RenderError(f"OutputConfig.MediaURL names no file: {media_url}", code="InvalidParameter")
    if not clean[-1].lower().endswith(".mp4"):
        clean[-1] += ".mp4"
    return "/".join(clean)


def remove_quietly(path: Path) -> None:
    try:
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()
    except FileNotFoundError:
        pass
