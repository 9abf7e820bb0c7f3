"""Canonical forms shared by every IMS signature: RFC 3986 encoding, the sorted query string,
SHA-256 in hex and header normalisation.

The signer and the verifier must produce byte-identical text from the same request, so both build
it only from these functions.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote

__all__ = [
    "EMPTY_SHA256",
    "canonical_query_string",
    "merge_headers",
    "percent_encode",
    "sha256_hex",
    "to_text",
]

EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def percent_encode(value: Any) -> str:
    """RFC 3986 encoding of UTF-8 text: only ``A-Z a-z 0-9 - _ . ~`` stay; space → %20, * → %2A."""
    if isinstance(value, bytes):
        return quote(value, safe="~")
    return quote(str(value), safe="~", encoding="utf-8")


def canonical_query_string(params: Mapping[str, Any] | None) -> str:
    """Parameters sorted by name, ``pe(name)=pe(value)`` joined by ``&``; ``None`` values are left
    out, an empty value gives ``name=``. The client sends exactly this string as its query."""
    if not params:
        return ""
    items = [(str(k), v) for k, v in params.items() if v is not None]
    items.sort(key=lambda kv: kv[0])
    return "&".join(f"{percent_encode(k)}={percent_encode(to_text(v))}" for k, v in items)


def sha256_hex(data: bytes | str) -> str:
    """Lower-case hex SHA-256 of ``data`` (text is UTF-8 encoded)."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    return hashlib.sha256(data).hexdigest()


def to_text(value: Any) -> str:
    """A parameter or header value as the text that is signed (bytes as UTF-8, booleans lower-case)."""
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _header_items(headers: Mapping[str, Any] | Iterable[tuple[str, Any]] | None) -> list[tuple[str, str]]:
    """(name, value) pairs from a dict, a multi-dict (werkzeug ``Headers``) or a list of pairs."""
    if headers is None:
        return []
    items = headers.items() if hasattr(headers, "items") else headers
    return [(str(k), to_text(v)) for k, v in items if v is not None]


def merge_headers(headers: Mapping[str, Any] | Iterable[tuple[str, Any]] | None) -> dict[str, str]:
    """Lower-case names; values trimmed; repeated names merged as their sorted values joined by ``,``
    (what the SDK's ``get_canonicalized_headers`` does)."""
    grouped: dict[str, list[str]] = {}
    for name, value in _header_items(headers):
        grouped.setdefault(name.lower().strip(), []).append(value.strip())
    return {name: ",".join(sorted(values)) for name, values in grouped.items()}
