"""V3 request signing (``ACS3-HMAC-SHA256``): what current Alibaba Cloud SDKs send and what the
client uses (``reference/ims-api.md`` §5.3).

:func:`sign_request` produces the headers to send; the server checks them with
:func:`sheet2video.cloud.signature_check.verify_request`, which rebuilds the same canonical request
from the functions here. The other schemes live next door: V2 RPC ``HMAC-SHA1`` in
:mod:`sheet2video.cloud.signing_v2`, callback auth in :mod:`sheet2video.cloud.callback_auth`.

Nothing in this module logs, and no error message contains a secret.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote

from sheet2video.cloud.canonical import canonical_query_string, merge_headers, sha256_hex
from sheet2video.cloud.timestamps import format_timestamp

__all__ = [
    "ALGORITHM_V3",
    "canonical_headers",
    "canonical_request",
    "get_authorization",
    "is_signed_by_default",
    "sign_request",
    "signature_v3",
    "string_to_sign",
]

ALGORITHM_V3 = "ACS3-HMAC-SHA256"


def is_signed_by_default(name: str) -> bool:
    """Whether a (lower-case) header is one the signer signs: ``host``, ``content-type``, ``x-acs-*``."""
    return name in ("host", "content-type") or name.startswith("x-acs-")


def _canonical_uri(path: str | None) -> str:
    return quote(path or "/", safe="/~", encoding="utf-8")


def canonical_headers(headers: Mapping[str, Any] | Iterable[tuple[str, Any]]) -> tuple[str, str]:
    """``(CanonicalHeaders, SignedHeaders)`` over **all** the given headers: each
    ``name:value\\n`` sorted by name (so the block ends with a newline), names joined by ``;``."""
    merged = merge_headers(headers)
    names = sorted(merged)
    block = "".join(f"{name}:{merged[name]}\n" for name in names)
    return block, ";".join(names)


def canonical_request(
    method: str,
    path: str | None,
    query: Mapping[str, Any] | None,
    headers: Mapping[str, Any] | Iterable[tuple[str, Any]],
    payload_hash: str,
) -> str:
    """The V3 CanonicalRequest text. ``headers`` are exactly the headers to sign."""
    block, signed = canonical_headers(headers)
    return "\n".join(
        [method.upper(), _canonical_uri(path), canonical_query_string(query), block, signed, payload_hash]
    )


def string_to_sign(canonical_request_text: str) -> str:
    """``ACS3-HMAC-SHA256\\n`` + hex SHA-256 of the canonical request."""
    return f"{ALGORITHM_V3}\n{sha256_hex(canonical_request_text)}"


def signature_v3(secret: str, string_to_sign_text: str) -> str:
    """Hex HMAC-SHA256 of the string to sign, keyed with the AccessKey secret."""
    return hmac.new(secret.encode("utf-8"), string_to_sign_text.encode("utf-8"), hashlib.sha256).hexdigest()


def get_authorization(
    method: str,
    path: str | None,
    query: Mapping[str, Any] | None,
    headers: Mapping[str, Any] | Iterable[tuple[str, Any]],
    payload_hash: str,
    key_id: str,
    secret: str,
) -> str:
    """The ``Authorization`` value over exactly ``headers`` (the SDK's ``get_authorization``)."""
    creq = canonical_request(method, path, query, headers, payload_hash)
    _, signed = canonical_headers(headers)
    sig = signature_v3(secret, string_to_sign(creq))
    return f"{ALGORITHM_V3} Credential={key_id},SignedHeaders={signed},Signature={sig}"


def sign_request(
    method: str,
    host: str,
    path: str | None,
    query: Mapping[str, Any] | None,
    headers: Mapping[str, Any] | Iterable[tuple[str, Any]] | None,
    body: bytes | str | None,
    key_id: str,
    secret: str,
) -> dict[str, str]:
    """Sign a V3 request; returns the complete headers to send.

    Adds ``host``, ``x-acs-content-sha256`` (hash of ``body``), ``x-acs-date`` and
    ``x-acs-signature-nonce`` when absent, and ``Authorization``. Signs ``host``, ``content-type``
    and every ``x-acs-*`` header; other headers (``accept``, ``user-agent``…) are passed through
    unsigned. Names come back lower-case, repeated names merged as the SDK merges them, so the
    server sees exactly what was signed. The query must be sent as ``canonical_query_string(query)``.
    """
    body_bytes = body.encode("utf-8") if isinstance(body, str) else (body or b"")
    merged = {k: v for k, v in merge_headers(headers).items() if k != "authorization"}
    merged["host"] = host
    merged["x-acs-content-sha256"] = sha256_hex(body_bytes)
    merged.setdefault("x-acs-date", format_timestamp())
    merged.setdefault("x-acs-signature-nonce", uuid.uuid4().hex)
    to_sign = {k: v for k, v in merged.items() if is_signed_by_default(k)}
    merged["Authorization"] = get_authorization(
        method, path, query, to_sign, merged["x-acs-content-sha256"], key_id, secret
    )
    return merged
