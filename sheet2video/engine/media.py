"""Where the engine's bytes come from and go to.

Inputs: an IMS media ID registered with RegisterMediaInfo, a path relative to the media root, an
absolute path or ``file://`` URL inside it, or an http(s) URL (downloaded once, with size and time
limits, into the cache). Nothing outside the media root is ever read.

Outputs: ``OutputConfig.MediaURL`` with ``{index}`` maps to a file under the data folder's
``outputs/``: an http(s)/oss URL → ``<host>/<path>``, a relative path → that path. Nothing may
escape the folder.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
import threading
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

import requests

from sheet2video.errors import RenderError

IMAGE_EXTS = {".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif", ".tif", ".tiff"}
AUDIO_EXTS = {".mp3", ".m4a", ".aac", ".wav", ".flac", ".ogg", ".opus"}
MEDIA_ID = re.compile(r"^[0-9a-f]{32}$")
_SAFE_PART = re.compile(r"[^\w.\-]+")


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


class MediaResolver:
    """Turn media references into local files under the media root or the download cache."""

    def __init__(self, media_root: Path, cache_dir: Path, store=None, *, extra_roots: list[Path] = (),
                 max_download_bytes: int = 512 * 2**20, download_timeout: float = 60.0):
        self.media_root = media_root.resolve()
        self.readable_roots = [self.media_root, *(r.resolve() for r in extra_roots)]  # e.g. the engine's own outputs
        self.cache_dir = cache_dir
        self.store = store
        self.max_download_bytes = max_download_bytes
        self.download_timeout = download_timeout
        self._download_lock = threading.Lock()

    def resolve(self, reference: str) -> Path:
        """A readable local file for a reference, or RenderError naming the material."""
        reference = reference.strip()
        if self.store is not None and MEDIA_ID.match(reference):
            record = self.store.media(media_id=reference)
            if record is None:
                raise RenderError(f"The specified media id not found: {reference}", code="InvalidMaterial.NotFound")
            return self.resolve(record["input_url"])
        scheme = url_scheme(reference)
        if scheme in ("http", "https"):
            return self._download(reference)
        if scheme == "file":
            return self._local(Path(unquote(urlsplit(reference).path)), reference)
        if scheme:
            raise RenderError(f"unsupported media reference scheme {scheme!r}: {reference[:200]}", code="InvalidMaterial.Forbidden")
        return self._local(Path(reference), reference)

    def validate_input_url(self, reference: str) -> None:
        """Check a RegisterMediaInfo InputURL without fetching it."""
        scheme = url_scheme(reference)
        if scheme in ("http", "https"):
            return
        if scheme not in ("", "file"):
            raise RenderError(f"unsupported InputURL scheme {scheme!r}", code="InvalidParameter")
        path = Path(unquote(urlsplit(reference).path)) if scheme == "file" else Path(reference)
        self._local(path, reference)

    def _local(self, path: Path, reference: str) -> Path:
        try:
            full = (path if path.is_absolute() else self.media_root / path).resolve()
            if not any(inside(root, full) for root in self.readable_roots):
                raise RenderError(f"media outside the media root is not readable: {reference}", code="InvalidMaterial.Forbidden")
            if not full.is_file():
                raise RenderError(f"The specified media not found: {reference}", code="InvalidMaterial.NotFound")
        except (OSError, ValueError) as error:  # a name longer than the file system allows, a NUL byte
            why = error.strerror if isinstance(error, OSError) else error
            raise RenderError(f"cannot read media {reference[:200]!r}: {why}", code="InvalidMaterial.NotFound") from None
        return full

    def _download(self, url: str) -> Path:
        digest = hashlib.sha256(url.encode()).hexdigest()[:32]
        suffix = PurePosixPath(urlsplit(url).path).suffix[:8]
        target = self.cache_dir / f"{digest}{suffix}"
        if target.is_file():
            return target
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        with self._download_lock:
            if target.is_file():
                return target
            fd, tmp = tempfile.mkstemp(dir=self.cache_dir, prefix=".dl-")
            try:
                with os.fdopen(fd, "wb") as out, requests.get(url, stream=True, timeout=(10, self.download_timeout)) as resp:
                    if resp.status_code != 200:
                        raise RenderError(f"downloading {url} answered HTTP {resp.status_code}", code="InvalidMaterial.NotFound")
                    size = 0
                    for chunk in resp.iter_content(1 << 16):
                        size += len(chunk)
                        if size > self.max_download_bytes:
                            raise RenderError(
                                f"{url} is larger than the {self.max_download_bytes // 2**20} MiB download limit",
                                code="InvalidMaterial.TooLarge",
                            )
                        out.write(chunk)
                os.replace(tmp, target)
            except requests.RequestException as error:
                raise RenderError(f"cannot download {url}: {type(error).__name__}", code="InvalidMaterial.NotFound") from None
            finally:
                if os.path.exists(tmp):
                    os.unlink(tmp)
        return target


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
        clean.append(_SAFE_PART.sub("_", part))
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
