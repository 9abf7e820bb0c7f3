"""Callback authentication: the ``X-ICE-TIMESTAMP`` / ``X-ICE-SIGNATURE`` (MD5) headers IMS puts on
HTTP callbacks (``reference/ims-api.md`` §7). The engine signs its callbacks with
:func:`callback_signature`; the runner's receiver checks them with :func:`verify_callback`.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from typing import Any

from sheet2video.cloud.canonical import merge_headers

__all__ = ["callback_signature", "verify_callback"]


def callback_signature(url: str, timestamp: int | str, auth_key: str) -> str:
    """``md5("<url>|<timestamp>|<auth_key>")`` as 32 lower-case hex digits."""
    return hashlib.md5(f"{url}|{timestamp}|{auth_key}".encode("utf-8")).hexdigest()


def verify_callback(
    url: str,
    headers: Mapping[str, Any] | Iterable[tuple[str, Any]],
    auth_key: str | Iterable[str],
    now: float | datetime | None = None,
    window: float = 300,
) -> bool:
    """True when ``X-ICE-SIGNATURE`` matches ``url``, ``X-ICE-TIMESTAMP`` and one of the keys
    (pass several during a key rotation) and the timestamp is within ``window`` seconds of now.
    Missing, malformed, stale or wrong headers give False (constant-time comparison)."""
    merged = merge_headers(headers)
    ts = merged.get("x-ice-timestamp", "")
    sig = merged.get("x-ice-signature", "").lower()
    if not ts.isdigit() or not re.fullmatch(r"[0-9a-f]{32}", sig):
        return False
    if now is None:
        now_s = datetime.now(timezone.utc).timestamp()
    elif isinstance(now, datetime):
        now_s = (now if now.tzinfo else now.replace(tzinfo=timezone.utc)).timestamp()
    else:
        now_s = float(now)
    if abs(now_s - int(ts)) > window:
        return False
    keys = [auth_key] if isinstance(auth_key, str) else list(auth_key)
    ok = False
    for key in keys:
        # No early exit: the time taken must not tell which key matched.
        if key and hmac.compare_digest(callback_signature(url, ts, key).encode("ascii"), sig.encode("ascii")):
            ok = True
    return ok
