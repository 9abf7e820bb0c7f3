"""IMS (product ICE, API 2020-11-09) RPC client: V3-signed requests, retries, typed errors.

The same client talks to Alibaba Cloud and to the local engine. Every call is ``POST /`` with the
action in ``x-acs-action``; parameters travel in the query string or the form body as
``reference/ims-api.md`` §1.1 places them, and the query is sent with exactly the encoding that was
signed.

Retries (exponential backoff with full jitter, ``x-acs-retry-after`` honoured) cover throttling
(``Throttling*``), ``ServiceUnavailable``, ``InternalError``, any HTTP 5xx, connection errors and
read timeouts; a fresh signature nonce and date are made for each attempt, while the parameters —
including a submit's ``ClientToken`` — stay the same, so a retried submit cannot create a second job.
Every other error raises :class:`~sheet2video.errors.ImsError` at once.

Credentials come from a source asked per attempt (:mod:`sheet2video.cloud.credentials`): a fixed
key, or a role/OIDC/metadata/URI provider that hands out a fresh STS token before the last one
expires, so a long run is signed with the token valid at each moment.

The AccessKey secret and the security token never appear in a log line, an exception or a repr.
"""

from __future__ import annotations

import json
import logging
import random
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import urlencode, urlsplit

import requests

from sheet2video import __version__
from sheet2video.errors import ImsError
from sheet2video.cloud.canonical import canonical_query_string
from sheet2video.cloud.signing import sign_request
from sheet2video.cloud.timestamps import format_timestamp
from sheet2video.cloud.credentials import CredentialSource

__all__ = ["API_VERSION", "ImsClient", "region_endpoint"]

log = logging.getLogger(__name__)

API_VERSION = "2020-11-09"
USER_AGENT = f"sheet2video/{__version__}"
#: Longest wait an ``x-acs-retry-after`` header may ask for, in seconds.
RETRY_AFTER_MAX = 300.0

_RETRYABLE_CODES = {"ServiceUnavailable", "InternalError"}

_LIST_FILTERS = ("EndTime", "JobId", "JobType", "MaxResults", "NextToken", "SortBy", "StartTime", "Status")
_REGISTER_PARAMS = (
    "BusinessType", "CateId", "ClientToken", "CoverURL", "Description", "InputURL", "MediaTags",
    "MediaType", "Overwrite", "ReferenceId", "RegisterConfig", "SmartTagTemplateId", "Title",
    "UserData", "WorkflowId",
)  # fmt: skip


def region_endpoint(region: str) -> str:
    """The public IMS endpoint of a region, e.g. ``https://ice.cn-shanghai.aliyuncs.com``."""
    region = (region or "").strip()
    if not region:
        raise ValueError("region must not be empty")
    return f"https://ice.{region}.aliyuncs.com"


class _Retryable(Exception):
    """Internal: an attempt failed in a way worth retrying; ``error`` is what to raise at the end."""

    def __init__(self, error: ImsError, retry_after: float | None = None):
        self.error = error
        self.retry_after = retry_after


class ImsClient:
    """A signed IMS RPC client.

    ``max_retries`` is the number of retries after the first attempt (so at most
    ``max_retries + 1`` requests per call). The wait before retry *n* (0-based) is
    ``rng.uniform(0, min(backoff_max, backoff_base * 2**n))`` ("full jitter"), or the server's
    ``x-acs-retry-after`` seconds when it sends one. ``sleep`` and ``rng`` are injectable for tests.
    """

    def __init__(
        self,
        endpoint: str,
        credentials: CredentialSource,
        *,
        timeout: float | tuple[float, float] = (5, 30),
        max_retries: int = 5,
        backoff_base: float = 0.5,
        backoff_max: float = 20,
        sleep: Callable[[float], Any] = time.sleep,
        session: requests.Session | None = None,
        rng: random.Random | None = None,
    ):
        if "://" not in endpoint:
            endpoint = "https://" + endpoint
        parts = urlsplit(endpoint)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"not an http(s) endpoint: {endpoint!r}")
        self.endpoint = f"{parts.scheme}://{parts.netloc}"
        self._host = parts.netloc
        self._path = parts.path or "/"
        self._credentials = credentials
        self._last = None  # the credentials of the latest attempt, for scrubbing messages
        self.timeout = timeout
        self.max_retries = max(0, int(max_retries))
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._session = session or requests.Session()
        self._owns_session = session is None

    def __repr__(self) -> str:
        who = getattr(self._credentials, "access_key_id", None) or getattr(self._credentials, "source", None)
        return f"ImsClient(endpoint={self.endpoint!r}, credentials={who!r})"

    def close(self) -> None:
        if self._owns_session:
            self._session.close()

    def __enter__(self) -> ImsClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ----------------------------------------------------------------------------------------------
    # The generic call

    def call(
        self,
        action: str,
        query: Mapping[str, Any] | None = None,
        form: Mapping[str, Any] | None = None,
    ) -> dict:
        """Call ``action`` with ``query`` parameters and ``form`` (body) parameters; ``None`` values
        are left out. Returns the decoded JSON response; raises :class:`ImsError`."""
        q = {k: _param(v) for k, v in (query or {}).items() if v is not None}
        f = {k: _param(v) for k, v in (form or {}).items() if v is not None}
        body = urlencode(sorted(f.items())).encode("ascii") if f else b""
        url = self.endpoint + self._path
        qs = canonical_query_string(q)
        if qs:
            url += "?" + qs

        attempt = 0
        while True:
            try:
                return self._attempt(action, url, q, body, bool(f))
            except _Retryable as retry:
                if attempt >= self.max_retries:
                    raise retry.error from None
                delay = self._delay(attempt, retry.retry_after)
                log.warning(
                    "IMS %s: %s (HTTP %s); retry %d/%d in %.2fs",
                    action, retry.error.code, retry.error.http_status or "-", attempt + 1, self.max_retries, delay,
                )  # fmt: skip
                self._sleep(delay)
                attempt += 1

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, RETRY_AFTER_MAX)
        cap = min(self.backoff_max, self.backoff_base * (2**attempt))
        return self._rng.uniform(0, cap)

    def _attempt(self, action: str, url: str, query: dict[str, str], body: bytes, has_form: bool) -> dict:
        creds = self._last = self._credentials.current()  # cheap while cached; a fresh token near expiry
        headers = {
            "x-acs-action": action,
            "x-acs-version": API_VERSION,
            "x-acs-date": format_timestamp(),
            "x-acs-signature-nonce": uuid.uuid4().hex,
            "accept": "application/json",
            "user-agent": USER_AGENT,
        }
        if has_form:
            headers["content-type"] = "application/x-www-form-urlencoded"
        if creds.security_token:
            headers["x-acs-accesskey-id"] = creds.access_key_id
            headers["x-acs-security-token"] = creds.security_token
        signed = sign_request(
            "POST", self._host, self._path, query, headers, body, creds.access_key_id, creds.access_key_secret
        )
        try:
            resp = self._session.post(url, data=body, headers=signed, timeout=self.timeout, allow_redirects=False)
        except (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError) as exc:
            # ConnectTimeout is a ConnectionError; ReadTimeout a Timeout. Both are safe to retry:
            # a submit carries its ClientToken.
            code = "ReadTimeout" if isinstance(exc, requests.ReadTimeout) else "ConnectionError"
            raise _Retryable(
                ImsError(code, self._scrub(f"request to {self.endpoint} failed: {type(exc).__name__}: {_snippet(str(exc), 300)}"))
            ) from None
        except requests.RequestException as exc:
            raise ImsError("RequestFailed", self._scrub(f"request to {self.endpoint} failed: {_snippet(str(exc), 300)}")) from None

        if 200 <= resp.status_code < 300:
            try:
                data = resp.json()
            except ValueError:
                raise ImsError(
                    "InvalidResponse",
                    f"{action}: HTTP {resp.status_code} answer is not JSON: {_snippet(resp.text)}",
                    resp.headers.get("x-acs-request-id"),
                    resp.status_code,
                ) from None
            if not isinstance(data, dict):
                raise ImsError("InvalidResponse", f"{action}: answer is not a JSON object", None, resp.status_code)
            return data

        error = self._error_from(resp)
        retry_after = _retry_after(resp.headers.get("x-acs-retry-after"))
        if (
            resp.status_code >= 500
            or error.code.startswith("Throttling")
            or error.code in _RETRYABLE_CODES
            or retry_after is not None
        ):
            raise _Retryable(error, retry_after)
        raise error

    def _error_from(self, resp: requests.Response) -> ImsError:
        status = resp.status_code
        header_rid = resp.headers.get("x-acs-request-id")
        try:
            data = resp.json()
        except ValueError:
            data = None
        if isinstance(data, dict) and (data.get("Code") or data.get("Message")):
            code = str(data.get("Code") or f"HTTP{status}")
            message = str(data.get("Message") or "(no message)")
            rid = data.get("RequestId") or header_rid
            return ImsError(code, self._scrub(message), str(rid) if rid else None, status)
        reason = resp.reason or ""
        text = _snippet(resp.text)
        message = f"HTTP {status} {reason}".strip() + (f": {text}" if text else " (empty body)")
        return ImsError(f"HTTP{status}", self._scrub(message), header_rid, status)

    def _scrub(self, text: str) -> str:
        last = self._last
        for secret in (last.access_key_secret, last.security_token) if last else ():
            if secret:
                text = text.replace(secret, "***")
        return text

    # ----------------------------------------------------------------------------------------------
    # Typed helpers

    def submit_batch_job(
        self,
        *,
        input_config: str | Mapping | list,
        editing_config: str | Mapping | None = None,
        output_config: str | Mapping,
        user_data: str | Mapping | None = None,
        template_config: str | Mapping | list | None = None,
        client_token: str | None = None,
    ) -> str:
        """SubmitBatchMediaProducingJob; returns the JobId. Configs are JSON text (dicts and lists
        are serialised). ``ClientToken``/``OutputConfig``/``TemplateConfig``/``UserData`` go in the
        query, ``InputConfig``/``EditingConfig`` in the form body. Without a ``client_token`` one is
        made, so retries of this call are idempotent; pass a stable one to make reruns idempotent."""
        token = client_token or uuid.uuid4().hex
        resp = self.call(
            "SubmitBatchMediaProducingJob",
            query={
                "ClientToken": token,
                "OutputConfig": _json_text(output_config),
                "TemplateConfig": _json_text(template_config),
                "UserData": _json_text(user_data),
            },
            form={"InputConfig": _json_text(input_config), "EditingConfig": _json_text(editing_config)},
        )
        return _require(resp, "JobId", "SubmitBatchMediaProducingJob")

    def get_batch_job(self, job_id: str) -> dict:
        """GetBatchMediaProducingJob; returns the ``EditingBatchJob`` object."""
        resp = self.call("GetBatchMediaProducingJob", query={"JobId": job_id})
        job = resp.get("EditingBatchJob")
        if not isinstance(job, dict):
            raise ImsError(
                "InvalidResponse", "GetBatchMediaProducingJob: answer has no EditingBatchJob", resp.get("RequestId")
            )
        return job

    def list_batch_jobs(self, **filters: Any) -> dict:
        """ListBatchMediaProducingJobs; filters by API name or snake_case (``status="Failed"``,
        ``max_results=50``, ``NextToken=...``). Returns the whole response
        (``EditingBatchJobList``, ``NextToken``, ``MaxResults``, ``RequestId``)."""
        query = _named_params(filters, _LIST_FILTERS, "list_batch_jobs")
        return self.call("ListBatchMediaProducingJobs", query=query)

    def iter_batch_jobs(self, *, before_page: Callable[[], None] | None = None, **filters: Any) -> Iterator[dict]:
        """Every job matching ``filters``, following NextToken page by page (100 per page unless
        ``MaxResults`` says otherwise); ``before_page`` runs before each request (e.g. a rate limit)."""
        filters = {"MaxResults": 100, **filters}
        while True:
            if before_page is not None:
                before_page()
            page = self.list_batch_jobs(**filters)
            yield from page.get("EditingBatchJobList") or []
            if not page.get("NextToken"):
                return
            filters["NextToken"] = page["NextToken"]

    def register_media_info(self, input_url: str, **extra: Any) -> str:
        """RegisterMediaInfo (all parameters in the query); returns the MediaId. ``extra`` by API
        name or snake_case (``media_type="video"``, ``register_config={...}``). A ClientToken is
        made when none is given, so retries cannot register twice."""
        params = _named_params(extra, _REGISTER_PARAMS, "register_media_info")
        params["InputURL"] = input_url
        params.setdefault("ClientToken", uuid.uuid4().hex)
        for key in ("RegisterConfig", "UserData"):
            if key in params:
                params[key] = _json_text(params[key])
        resp = self.call("RegisterMediaInfo", query=params)
        return _require(resp, "MediaId", "RegisterMediaInfo")

    def get_media_info(self, media_id: str | None = None, input_url: str | None = None) -> dict:
        """GetMediaInfo by MediaId or InputURL; returns the ``MediaInfo`` object."""
        if not media_id and not input_url:
            raise ValueError("get_media_info needs media_id or input_url")
        resp = self.call("GetMediaInfo", query={"MediaId": media_id, "InputURL": input_url})
        info = resp.get("MediaInfo")
        if not isinstance(info, dict):
            raise ImsError("InvalidResponse", "GetMediaInfo: answer has no MediaInfo", resp.get("RequestId"))
        return info


# --------------------------------------------------------------------------------------------------
# Helpers


def _param(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list, tuple)):
        return _json_text(value)
    return str(value)


def _json_text(value: Any) -> str | None:
    """JSON text as IMS wants it: strings pass through, other values are serialised compactly."""
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


_SPECIAL_NAMES = {"input_url": "InputURL", "cover_url": "CoverURL"}


def _api_name(name: str) -> str:
    if name in _SPECIAL_NAMES:
        return _SPECIAL_NAMES[name]
    if "_" in name or name[:1].islower():
        return "".join(part[:1].upper() + part[1:] for part in name.split("_") if part)
    return name


def _named_params(given: Mapping[str, Any], allowed: tuple[str, ...], where: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in given.items():
        api = _api_name(name)
        if api not in allowed:
            raise TypeError(f"{where}() got an unexpected parameter {name!r} (allowed: {', '.join(allowed)})")
        if value is not None:
            out[api] = value
    return out


def _require(resp: dict, key: str, action: str) -> str:
    value = resp.get(key)
    if not value:
        raise ImsError("InvalidResponse", f"{action}: answer has no {key}", resp.get("RequestId"))
    return str(value)


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return seconds if seconds > 0 else None


def _snippet(text: str, limit: int = 200) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
