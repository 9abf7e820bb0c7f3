"""The server side of request signing: check a V3 (``ACS3-HMAC-SHA256``) or V2 (``HMAC-SHA1``)
signature the way the Alibaba Cloud gateway does; the local engine uses :func:`verify_any`.

Replay protection: :func:`verify_request` and :func:`verify_v2` check the signature and that the
timestamp lies within ``skew`` seconds of now, but they keep no state. The server must remember each
``x-acs-signature-nonce`` (V2: ``SignatureNonce``) for at least the skew window (2 × ``skew`` covers
both directions) and answer a reused one with ``SignatureNonceUsed`` (HTTP 400).

Nothing in this module logs, and no error message contains a secret.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sheet2video.cloud.canonical import merge_headers, sha256_hex, to_text
from sheet2video.cloud.signature_errors import SignatureError
from sheet2video.cloud.signing import (
    ALGORITHM_V3,
    canonical_request,
    is_signed_by_default,
    signature_v3,
    string_to_sign,
)
from sheet2video.cloud.signing_v2 import V2_SIGNATURE_PARAMS, sign_v2, string_to_sign_v2
from sheet2video.cloud.timestamps import check_timestamp

__all__ = [
    "NOT_SIGNED",
    "REQUIRED_SIGNED_HEADERS",
    "Verified",
    "verify_any",
    "verify_request",
    "verify_v2",
]

#: Headers a V3 request must carry *and* sign for :func:`verify_request` to accept it.
REQUIRED_SIGNED_HEADERS: tuple[str, ...] = (
    "host",
    "x-acs-content-sha256",
    "x-acs-date",
    "x-acs-signature-nonce",
)

NOT_SIGNED = ("The request is not signed: send an Authorization header (ACS3-HMAC-SHA256) or the V2 "
              "parameters AccessKeyId, Signature, SignatureMethod, SignatureNonce and Timestamp (HMAC-SHA1).")

_AUTH_RE = re.compile(r"^\s*(\S+)\s+(.+?)\s*$")
_HEX64 = re.compile(r"^[0-9a-fA-F]{64}$")
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9a-z-]+$")

_V2_REQUIRED = ("AccessKeyId", "Signature", "SignatureMethod", "SignatureNonce", "Timestamp")


# --------------------------------------------------------------------------------------------------
# V3: ACS3-HMAC-SHA256


def _parse_authorization(value: str | None) -> tuple[str, list[str], str]:
    if not value:
        raise SignatureError("IncompleteSignature", NOT_SIGNED)
    m = _AUTH_RE.match(value)
    if not m or m.group(1) != ALGORITHM_V3:
        scheme = m.group(1) if m else value.split(None, 1)[0]
        raise SignatureError(
            "IncompleteSignature",
            f"The Authorization header uses {scheme[:40]!r}; this server accepts {ALGORITHM_V3}, or V2 "
            "HMAC-SHA1 signature parameters without an Authorization header.",
        )
    fields: dict[str, str] = {}
    for part in m.group(2).split(","):
        name, sep, val = part.strip().partition("=")
        if not sep or name in fields:
            raise SignatureError("IncompleteSignature", "The Authorization header is malformed.")
        fields[name] = val.strip()
    if set(fields) != {"Credential", "SignedHeaders", "Signature"}:
        raise SignatureError(
            "IncompleteSignature", "The Authorization header needs Credential, SignedHeaders and Signature."
        )
    key_id = fields["Credential"]
    names = [n.strip().lower() for n in fields["SignedHeaders"].split(";") if n.strip()]
    if not key_id or not names or not all(_HEADER_NAME.match(n) for n in names):
        raise SignatureError("IncompleteSignature", "The Authorization header is malformed.")
    if not _HEX64.match(fields["Signature"]):
        raise SignatureError("IncompleteSignature", "The Authorization signature is not 64 hex digits.")
    return key_id, sorted(set(names)), fields["Signature"].lower()


def verify_request(
    method: str,
    path: str | None,
    query: Mapping[str, Any] | None,
    headers: Mapping[str, Any] | Iterable[tuple[str, Any]],
    body: bytes | str | None,
    lookup_secret: Callable[[str], str | None],
    *,
    now: datetime | float | None = None,
    skew: float = 900,
    required_headers: Iterable[str] = REQUIRED_SIGNED_HEADERS,
) -> str:
    """Check a V3-signed request; return its AccessKey id or raise :class:`SignatureError`.

    ``query`` is the decoded query parameters (one value per name), ``headers`` as received,
    ``body`` the raw body bytes. Checks, in order: the Authorization header is well formed and every
    header it names is present, ``required_headers`` and every ``x-acs-*`` / ``content-type``
    header present are signed (``IncompleteSignature``); the key exists
    (``InvalidAccessKeyId.NotFound``); ``x-acs-date`` is well formed and within ``skew`` seconds
    (``InvalidTimeStamp.*``); ``x-acs-content-sha256`` equals the body's hash and the signature
    matches (``SignatureDoesNotMatch``, constant-time comparison). Nonce replay is the caller's job.
    """
    merged = merge_headers(headers)
    key_id, signed_names, given_sig = _parse_authorization(merged.get("authorization"))

    missing = [n for n in signed_names if n not in merged]
    if missing:
        raise SignatureError(
            "IncompleteSignature", f"Signed header(s) missing from the request: {', '.join(missing)}."
        )
    must_sign = set(required_headers) | {n for n in merged if n != "host" and is_signed_by_default(n)}
    if not body and "content-type" not in signed_names:
        # An unsigned Content-Type is tolerated on an empty body only: there it describes nothing, so it
        # cannot change what the signed request means. The official SDK's async transport (aiohttp) adds
        # ``application/octet-stream`` after signing to every body-less call, and the cloud gateway
        # answers those calls, so it must tolerate it too. With a body, the type decides how the body's
        # parameters are read, and stays required-and-signed as the V3 doc says.
        must_sign.discard("content-type")
    unsigned = sorted(n for n in must_sign if n not in signed_names)
    if unsigned:
        raise SignatureError("IncompleteSignature", f"Header(s) must be present and signed: {', '.join(unsigned)}.")

    secret = lookup_secret(key_id)
    if not secret:
        raise SignatureError("InvalidAccessKeyId.NotFound", "Specified access key is not found.")

    if "x-acs-date" in merged:
        check_timestamp(merged["x-acs-date"], now=now, skew=skew)

    body_bytes = body.encode("utf-8") if isinstance(body, str) else (body or b"")
    body_hash = sha256_hex(body_bytes)
    if "x-acs-content-sha256" in merged and not hmac.compare_digest(
        merged["x-acs-content-sha256"].lower().encode("ascii", "replace"), body_hash.encode("ascii")
    ):
        raise SignatureError("SignatureDoesNotMatch", "x-acs-content-sha256 does not match the request body.")

    to_sign = {n: merged[n] for n in signed_names}
    sts = string_to_sign(canonical_request(method, path, query, to_sign, body_hash))
    expected = signature_v3(secret, sts)
    if not hmac.compare_digest(expected.encode("ascii"), given_sig.encode("ascii")):
        raise SignatureError(
            "SignatureDoesNotMatch",
            "Specified signature is not matched with our calculation. server string to sign is:"
            + sts.replace("\n", "\\n"),
        )
    return key_id


# --------------------------------------------------------------------------------------------------
# V2: RPC HMAC-SHA1


def verify_v2(
    method: str,
    params: Mapping[str, Any],
    lookup_secret: Callable[[str], str | None],
    *,
    now: datetime | float | None = None,
    skew: float = 900,
) -> str:
    """Check a V2-signed request (``params`` = query and form parameters together); return the
    AccessKey id or raise :class:`SignatureError` with the same codes as :func:`verify_request`."""
    missing = [name for name in _V2_REQUIRED if not params.get(name)]
    if missing:
        raise SignatureError("IncompleteSignature", f"Missing signature parameter(s): {', '.join(missing)}.")
    if params.get("SignatureMethod") != "HMAC-SHA1" or params.get("SignatureVersion", "1.0") != "1.0":
        raise SignatureError("IncompleteSignature", "Only SignatureMethod HMAC-SHA1, SignatureVersion 1.0 is supported.")
    key_id = str(params["AccessKeyId"])
    secret = lookup_secret(key_id)
    if not secret:
        raise SignatureError("InvalidAccessKeyId.NotFound", "Specified access key is not found.")
    check_timestamp(str(params["Timestamp"]), now=now, skew=skew)
    expected = sign_v2(method, params, secret)
    given = to_text(params["Signature"])
    if not hmac.compare_digest(expected.encode("ascii"), given.encode("utf-8")):
        raise SignatureError(
            "SignatureDoesNotMatch",
            "Specified signature is not matched with our calculation. server string to sign is:"
            + string_to_sign_v2(method, params),
        )
    return key_id


# --------------------------------------------------------------------------------------------------
# Either scheme, as the gateway accepts them


@dataclass(frozen=True)
class Verified:
    """Who signed a request, how, and what it asks for (from the signed part of the request)."""

    key_id: str
    scheme: str          # "V3" or "V2"
    nonce: str
    action: str
    version: str
    params: dict[str, str]  # the action's parameters: query and form, minus V2 signature parameters


def verify_any(
    method: str,
    path: str | None,
    query: Mapping[str, str],
    form: Mapping[str, str],
    headers: Mapping[str, Any] | Iterable[tuple[str, Any]],
    body: bytes | None,
    lookup_secret: Callable[[str], str | None],
    *,
    now: datetime | float | None = None,
    skew: float = 900,
) -> Verified:
    """Check a request signed with V3 (``Authorization`` header) or V2 (``Signature`` parameter, in the
    query or the form body, as ``aliyun-python-sdk-core`` and tea-openapi ``signature_algorithm='v2'``
    send it). V3 wins when both are present. Same error codes for both; nonce replay is the caller's job.
    In V2 the action and version come from the signed ``Action``/``Version`` parameters, never from the
    unsigned ``x-acs-action`` header the SDK also sends."""
    merged = merge_headers(headers)
    params = {**dict(query), **dict(form)}
    if "authorization" not in merged and "Signature" in params:
        key_id = verify_v2(method, params, lookup_secret, now=now, skew=skew)
        own = {k: v for k, v in params.items() if k not in V2_SIGNATURE_PARAMS}
        return Verified(key_id, "V2", str(params["SignatureNonce"]), params.get("Action", ""),
                        params.get("Version", ""), own)
    key_id = verify_request(method, path, query, headers, body, lookup_secret, now=now, skew=skew)
    return Verified(key_id, "V3", merged.get("x-acs-signature-nonce", ""), merged.get("x-acs-action", ""),
                    merged.get("x-acs-version", ""), params)
