"""Request signing for the IMS RPC protocol, shared by the client and the local engine.

Three schemes live here (see ``reference/ims-api.md`` §5.3 and §7):

* **V3** ``ACS3-HMAC-SHA256`` — what current Alibaba Cloud SDKs send and what the client uses.
  :func:`sign_request` produces the headers to send; :func:`verify_request` checks them on the server.
* **V2** RPC ``HMAC-SHA1`` — the older scheme (``Signature`` parameter); :func:`sign_v2`,
  :func:`verify_v2`. :func:`verify_any` accepts either, as the gateway does (the engine uses it).
* **Callback auth** — ``X-ICE-TIMESTAMP`` / ``X-ICE-SIGNATURE`` (MD5) on HTTP callbacks:
  :func:`callback_signature`, :func:`verify_callback`.

Replay protection: :func:`verify_request` and :func:`verify_v2` check the signature and that the
timestamp lies within ``skew`` seconds of now, but they keep no state. The server must remember each
``x-acs-signature-nonce`` (V2: ``SignatureNonce``) for at least the skew window (2 × ``skew`` covers
both directions) and answer a reused one with ``SignatureNonceUsed`` (HTTP 400).

Nothing in this module logs, and no error message contains a secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote

from sheet2video.errors import ImsError

__all__ = [
    "ALGORITHM_V3",
    "EMPTY_SHA256",
    "SignatureError",
    "canonical_headers",
    "canonical_query_string",
    "canonical_request",
    "callback_signature",
    "check_timestamp",
    "format_timestamp",
    "get_authorization",
    "percent_encode",
    "sha256_hex",
    "sign_request",
    "sign_v2",
    "signature_v3",
    "string_to_sign",
    "string_to_sign_v2",
    "verify_callback",
    "verify_request",
    "verify_v2",
    "verify_any",
    "Verified",
]

ALGORITHM_V3 = "ACS3-HMAC-SHA256"
EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"

#: Headers a V3 request must carry *and* sign for :func:`verify_request` to accept it.
REQUIRED_SIGNED_HEADERS: tuple[str, ...] = (
    "host",
    "x-acs-content-sha256",
    "x-acs-date",
    "x-acs-signature-nonce",
)

# HTTP status of each signature error, as the Alibaba Cloud gateway answers it.
_STATUS = {
    "IncompleteSignature": 400,
    "SignatureDoesNotMatch": 400,
    "InvalidAccessKeyId.NotFound": 404,
    "InvalidTimeStamp.Format": 400,
    "InvalidTimeStamp.Expired": 400,
    "SignatureNonceUsed": 400,
}


class SignatureError(ImsError):
    """A request failed authentication; ``code`` is the gateway's error code.

    Codes: ``IncompleteSignature``, ``InvalidAccessKeyId.NotFound``, ``SignatureDoesNotMatch``,
    ``InvalidTimeStamp.Format``, ``InvalidTimeStamp.Expired`` (and ``SignatureNonceUsed`` for
    servers that track nonces). ``http_status`` defaults to what the cloud answers (400, or 404
    for an unknown key).
    """

    def __init__(self, code: str, message: str, request_id: str | None = None, http_status: int | None = None):
        super().__init__(code, message, request_id, http_status if http_status is not None else _STATUS.get(code, 400))


# --------------------------------------------------------------------------------------------------
# Primitives


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
    return "&".join(f"{percent_encode(k)}={percent_encode(_to_str(v))}" for k, v in items)


def sha256_hex(data: bytes | str) -> str:
    """Lower-case hex SHA-256 of ``data`` (text is UTF-8 encoded)."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    return hashlib.sha256(data).hexdigest()


def format_timestamp(when: datetime | None = None) -> str:
    """``yyyy-MM-ddTHH:mm:ssZ`` in UTC (``x-acs-date`` and the V2 ``Timestamp``)."""
    when = when or datetime.now(timezone.utc)
    if when.tzinfo is not None:
        when = when.astimezone(timezone.utc)
    return when.strftime(TIMESTAMP_FORMAT)


def _to_str(value: Any) -> str:
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
    return [(str(k), _to_str(v)) for k, v in items if v is not None]


def _merge_headers(headers: Mapping[str, Any] | Iterable[tuple[str, Any]] | None) -> dict[str, str]:
    """Lower-case names; values trimmed; repeated names merged as their sorted values joined by ``,``
    (what the SDK's ``get_canonicalized_headers`` does)."""
    grouped: dict[str, list[str]] = {}
    for name, value in _header_items(headers):
        grouped.setdefault(name.lower().strip(), []).append(value.strip())
    return {name: ",".join(sorted(values)) for name, values in grouped.items()}


def _canonical_uri(path: str | None) -> str:
    return quote(path or "/", safe="/~", encoding="utf-8")


def _is_signed_by_default(name: str) -> bool:
    return name in ("host", "content-type") or name.startswith("x-acs-")


# --------------------------------------------------------------------------------------------------
# V3: ACS3-HMAC-SHA256


def canonical_headers(headers: Mapping[str, Any] | Iterable[tuple[str, Any]]) -> tuple[str, str]:
    """``(CanonicalHeaders, SignedHeaders)`` over **all** the given headers: each
    ``name:value\\n`` sorted by name (so the block ends with a newline), names joined by ``;``."""
    merged = _merge_headers(headers)
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
    merged = {k: v for k, v in _merge_headers(headers).items() if k != "authorization"}
    merged["host"] = host
    merged["x-acs-content-sha256"] = sha256_hex(body_bytes)
    merged.setdefault("x-acs-date", format_timestamp())
    merged.setdefault("x-acs-signature-nonce", uuid.uuid4().hex)
    to_sign = {k: v for k, v in merged.items() if _is_signed_by_default(k)}
    merged["Authorization"] = get_authorization(
        method, path, query, to_sign, merged["x-acs-content-sha256"], key_id, secret
    )
    return merged


_AUTH_RE = re.compile(r"^\s*(\S+)\s+(.+?)\s*$")
_HEX64 = re.compile(r"^[0-9a-fA-F]{64}$")
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9a-z-]+$")


NOT_SIGNED = ("The request is not signed: send an Authorization header (ACS3-HMAC-SHA256) or the V2 "
              "parameters AccessKeyId, Signature, SignatureMethod, SignatureNonce and Timestamp (HMAC-SHA1).")


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
    merged = _merge_headers(headers)
    key_id, signed_names, given_sig = _parse_authorization(merged.get("authorization"))

    missing = [n for n in signed_names if n not in merged]
    if missing:
        raise SignatureError(
            "IncompleteSignature", f"Signed header(s) missing from the request: {', '.join(missing)}."
        )
    must_sign = set(required_headers) | {n for n in merged if n != "host" and _is_signed_by_default(n)}
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


_TS_RE = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.\d{1,9})?Z$")


def check_timestamp(value: str | None, now: datetime | float | None = None, skew: float = 900) -> datetime:
    """Parse an ISO 8601 UTC timestamp (``2024-01-09T08:37:24Z``) and check it is within ``skew``
    seconds of ``now`` (a datetime or UNIX seconds; default: the clock). Returns it as an aware
    datetime; raises ``InvalidTimeStamp.Format`` / ``InvalidTimeStamp.Expired``."""
    m = _TS_RE.match(value or "")
    if not m:
        raise SignatureError(
            "InvalidTimeStamp.Format", "The timestamp must be ISO 8601 UTC, yyyy-MM-ddTHH:mm:ssZ."
        )
    try:
        when = datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc)
    except ValueError:
        raise SignatureError(
            "InvalidTimeStamp.Format", "The timestamp must be ISO 8601 UTC, yyyy-MM-ddTHH:mm:ssZ."
        ) from None
    if now is None:
        now_dt = datetime.now(timezone.utc)
    elif isinstance(now, datetime):
        now_dt = now if now.tzinfo else now.replace(tzinfo=timezone.utc)
    else:
        now_dt = datetime.fromtimestamp(float(now), timezone.utc)
    if abs((now_dt - when).total_seconds()) > skew:
        raise SignatureError(
            "InvalidTimeStamp.Expired",
            f"The timestamp {value} is more than {int(skew)} s away from the server time "
            f"{format_timestamp(now_dt)}; check the clock.",
        )
    return when


# --------------------------------------------------------------------------------------------------
# V2: RPC HMAC-SHA1


def string_to_sign_v2(method: str, params: Mapping[str, Any]) -> str:
    """``METHOD&%2F&pe(CanonicalizedQueryString)`` over every parameter except ``Signature``."""
    signed = {k: v for k, v in params.items() if k != "Signature" and v is not None}
    return f"{method.upper()}&{percent_encode('/')}&{percent_encode(canonical_query_string(signed))}"


def sign_v2(method: str, params: Mapping[str, Any], secret: str) -> str:
    """Base64 HMAC-SHA1 keyed with ``secret + "&"`` — the value of the ``Signature`` parameter.
    ``params`` are all query *and* form-body parameters together."""
    digest = hmac.new(
        (secret + "&").encode("utf-8"), string_to_sign_v2(method, params).encode("utf-8"), hashlib.sha1
    ).digest()
    return base64.b64encode(digest).decode("ascii")


_V2_REQUIRED = ("AccessKeyId", "Signature", "SignatureMethod", "SignatureNonce", "Timestamp")


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
    given = _to_str(params["Signature"])
    if not hmac.compare_digest(expected.encode("ascii"), given.encode("utf-8")):
        raise SignatureError(
            "SignatureDoesNotMatch",
            "Specified signature is not matched with our calculation. server string to sign is:"
            + string_to_sign_v2(method, params),
        )
    return key_id


# --------------------------------------------------------------------------------------------------
# Either scheme, as the gateway accepts them


#: The V2 parameters that sign a request; they are not parameters of the action itself.
V2_SIGNATURE_PARAMS = frozenset(
    {"AccessKeyId", "Signature", "SignatureMethod", "SignatureVersion", "SignatureNonce", "SignatureType",
     "Timestamp", "SecurityToken", "Format", "Action", "Version"}
)


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
    merged = _merge_headers(headers)
    params = {**dict(query), **dict(form)}
    if "authorization" not in merged and "Signature" in params:
        key_id = verify_v2(method, params, lookup_secret, now=now, skew=skew)
        own = {k: v for k, v in params.items() if k not in V2_SIGNATURE_PARAMS}
        return Verified(key_id, "V2", str(params["SignatureNonce"]), params.get("Action", ""),
                        params.get("Version", ""), own)
    key_id = verify_request(method, path, query, headers, body, lookup_secret, now=now, skew=skew)
    return Verified(key_id, "V3", merged.get("x-acs-signature-nonce", ""), merged.get("x-acs-action", ""),
                    merged.get("x-acs-version", ""), params)


# --------------------------------------------------------------------------------------------------
# Callback authentication (X-ICE-TIMESTAMP / X-ICE-SIGNATURE)


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
    merged = _merge_headers(headers)
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
        if key and hmac.compare_digest(callback_signature(url, ts, key).encode("ascii"), sig.encode("ascii")):
            ok = True
    return ok
