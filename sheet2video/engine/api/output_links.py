"""Presigned links to rendered outputs, the way OSS presigns an object: ``/outputs/<path>?Expires=<unix
time>&Signature=<HMAC-SHA256>``. ``GET /outputs/`` serves a file only with a valid, unexpired signature,
so an output is reachable by whoever was handed its link by Get, List, GetMediaInfo or
GetEditingProject — and by nobody who merely guesses its MediaURL.

The secret is the engine's own (:data:`SECRET_FILE` in its data folder, created owner-readable only on
first use), not an AccessKey: links survive a restart and no caller's key is exposed. A link lasts
:data:`LINK_SECONDS` (24 h — the OSS console's default for a shared link is 1 h, but these links go
into sheets and reports that people open later that day; the engine's bucket outputs are presigned
for the same time, engine/media/objects.py). Expiry is rounded up to the next whole hour, so every
Get within an hour answers the same URL.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import time
from pathlib import Path
from urllib.parse import quote

from sheet2video.engine.media.objects import PRESIGN_SECONDS
from sheet2video.errors import ImsError

__all__ = ["SECRET_FILE", "LINK_SECONDS", "OutputLinks"]

SECRET_FILE = "output-link-key"
LINK_SECONDS = PRESIGN_SECONDS


def _load_or_create_secret(path: Path) -> bytes:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return bytes.fromhex(path.read_text().strip())
    secret = secrets.token_bytes(32)
    with os.fdopen(fd, "w") as handle:
        handle.write(secret.hex())
    return secret


def _denied(code: str, message: str) -> ImsError:
    return ImsError(code, message, http_status=403)


class OutputLinks:
    """Sign and check links to files under the outputs folder (``name``: the path relative to it)."""

    def __init__(self, data: Path, seconds: int = LINK_SECONDS):
        data.mkdir(parents=True, exist_ok=True)
        self._secret = _load_or_create_secret(data / SECRET_FILE)
        self.seconds = seconds

    def _signature(self, name: str, expires: int) -> str:
        digest = hmac.new(self._secret, f"GET\n{expires}\n/outputs/{name}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def url(self, base: str, name: str, now: float | None = None) -> str:
        hour = 3600
        expires = -(-int((now if now is not None else time.time()) + self.seconds) // hour) * hour
        return f"{base}/outputs/{quote(name)}?Expires={expires}&Signature={self._signature(name, expires)}"

    def check(self, name: str, args) -> None:
        """Raise a 403 ImsError unless ``args`` (the query) holds a valid, unexpired signature of ``name``."""
        expires, signature = args.get("Expires"), args.get("Signature")
        if not expires or not signature:
            raise _denied("AccessDenied", "Outputs are served only through the signed URL the API answers "
                                          "(Expires and Signature are missing).")
        try:
            when = int(expires)
        except ValueError:
            raise _denied("AccessDenied", "Expires must be a Unix time in seconds.") from None
        if not hmac.compare_digest(signature.encode(), self._signature(name, when).encode()):
            raise _denied("SignatureDoesNotMatch", "The request signature does not match: use the URL exactly as "
                                                   "the API answered it.")
        if when < time.time():
            raise _denied("AccessDenied", "Request has expired: get a fresh URL from the API.")
