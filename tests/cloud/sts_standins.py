"""Loopback stand-ins for the credential tests: an STS token issuer (served as a credentials URI or as
the ECS metadata service) and an IMS endpoint that checks every request's signature and token.

Tokens carry whole-second expirations (the wire format has no fractions); the issuer hands out its
current token while it has more than ``reissue_below`` seconds left, then mints a new key pair.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from sheet2video.cloud.signature_check import verify_request
from sheet2video.cloud.signature_errors import SignatureError

__all__ = ["EcsMetadata", "ImsStandIn", "Loopback", "TokenIssuer"]

ROLE = "sheet-render-role"
METADATA_TOKEN = "imds-v2-session-token"


class Loopback:
    """A threaded HTTP server on 127.0.0.1 whose answers come from ``handle(method, path, headers, body)``
    returning (status, body bytes)."""

    def __init__(self, handle):
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _any(self):
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                status, answer = outer.handle(self.command, self.path, dict(self.headers.items()), body)
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            do_GET = do_PUT = do_POST = _any

            def log_message(self, *args):
                pass

        self.handle = handle
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.host = f"127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class TokenIssuer:
    """Short-lived STS credentials. ``mode`` makes it refuse (``"403"``, ``"500"``) or answer badly
    (``"not-json"``, ``"missing"``, ``"expired"``)."""

    def __init__(self, lifetime: int = 2, reissue_below: float = 0.8):
        self.lifetime, self.reissue_below = lifetime, reissue_below
        self.tokens: dict[str, tuple[str, str, int]] = {}  # key id -> (secret, token, expires at)
        self.minted: list[str] = []
        self.fetches = 0
        self.mode = "ok"
        self._lock = threading.Lock()

    def _current(self) -> str:
        now = time.time()
        if self.minted and self.tokens[self.minted[-1]][2] - now > self.reissue_below:
            return self.minted[-1]
        key_id = f"STS.{uuid.uuid4().hex[:16]}"
        self.tokens[key_id] = (f"secret-{uuid.uuid4().hex}", f"token-{uuid.uuid4().hex}", int(now + self.lifetime))
        self.minted.append(key_id)
        return key_id

    def answer(self) -> tuple[int, bytes]:
        with self._lock:
            self.fetches += 1
            if self.mode in ("403", "500"):
                return int(self.mode), b'{"Code":"Refused","Message":"no credentials for you"}'
            key_id = self._current()
            secret, token, expires = self.tokens[key_id]
            if self.mode == "expired":
                expires = int(time.time()) - 5
            doc = {"Code": "Success", "AccessKeyId": key_id, "AccessKeySecret": secret, "SecurityToken": token,
                   "Expiration": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(expires)),
                   "LastUpdated": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
            if self.mode == "missing":
                del doc["Expiration"], doc["SecurityToken"]
            if self.mode == "not-json":
                return 200, f"<html>{secret}</html>".encode()
            return 200, json.dumps(doc).encode()

    def secret_of(self, key_id: str) -> str | None:
        entry = self.tokens.get(key_id)
        return entry[0] if entry else None

    def valid(self, key_id: str, token: str | None, at: float) -> bool:
        entry = self.tokens.get(key_id)
        return bool(entry) and entry[1] == token and at < entry[2]

    def all_secrets(self) -> list[str]:
        return [v for secret, token, _ in self.tokens.values() for v in (secret, token)]

    def uri_handler(self, method, path, headers, body):
        return self.answer()


class EcsMetadata:
    """The ECS instance metadata service (IMDSv2: a session token first) for one RAM role."""

    def __init__(self, issuer: TokenIssuer):
        self.issuer = issuer
        self.requests: list[tuple[str, str, str | None]] = []

    def handler(self, method, path, headers, body):
        token = headers.get("X-aliyun-ecs-metadata-token") or headers.get("x-aliyun-ecs-metadata-token")
        self.requests.append((method, path, token))
        if method == "PUT" and path == "/latest/api/token":
            return 200, METADATA_TOKEN.encode()
        if token != METADATA_TOKEN:
            return 401, b""
        if path == "/latest/meta-data/ram/security-credentials/":
            return 200, ROLE.encode()
        if path == f"/latest/meta-data/ram/security-credentials/{ROLE}":
            return self.issuer.answer()
        return 404, b""


class ImsStandIn:
    """Checks each request like the gateway (V3 signature with the token's secret, token valid now),
    records what it saw, and answers submits idempotently by ClientToken."""

    def __init__(self, issuer: TokenIssuer):
        self.issuer = issuer
        self.seen: list[dict] = []
        self.rejected: list[str] = []
        self.client_tokens: list[str] = []
        self.on_submit = None  # called after each accepted submit (a test turns the issuer off there)
        self.finish_after: float | None = None  # seconds a job renders; None: it never finishes
        self.submitted: dict[str, float] = {}   # JobId -> when it was submitted

    def handler(self, method, path, headers, body):
        at = time.time()
        parts = urlsplit(path)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        lower = {k.lower(): v for k, v in headers.items()}
        try:
            key_id = verify_request(method, parts.path, query, headers, body, self.issuer.secret_of)
        except SignatureError as exc:
            self.rejected.append(exc.code)
            return exc.http_status or 400, json.dumps({"Code": exc.code, "Message": "bad signature"}).encode()
        token = lower.get("x-acs-security-token")
        if not self.issuer.valid(key_id, token, at):
            self.rejected.append("InvalidSecurityToken.Expired")
            return 403, b'{"Code":"InvalidSecurityToken.Expired","Message":"the token has expired"}'
        action = lower.get("x-acs-action")
        self.seen.append({"at": at, "action": action, "key_id": key_id, "token": token,
                          "signature": lower["authorization"].rsplit("Signature=", 1)[-1]})
        rid = {"RequestId": uuid.uuid4().hex}
        if action == "SubmitBatchMediaProducingJob":
            self.client_tokens.append(query["ClientToken"])
            job_id = hashlib.md5(query["ClientToken"].encode()).hexdigest()
            self.submitted.setdefault(job_id, at)
            if self.on_submit:
                self.on_submit()
            return 200, json.dumps({**rid, "JobId": job_id}).encode()
        if action == "GetBatchMediaProducingJob":
            return 200, json.dumps({**rid, "EditingBatchJob": self._job(query.get("JobId", ""), at)}).encode()
        if action == "GetMediaInfo":
            return 200, json.dumps({**rid, "MediaInfo": {"MediaId": query.get("MediaId"), "MediaBasicInfo": {"Status": "Normal"}}}).encode()
        return 200, json.dumps({**rid, "EditingBatchJobList": [], "MaxResults": 100}).encode()

    def _job(self, job_id: str, at: float) -> dict:
        """Processing until ``finish_after`` seconds past its submit, then one finished video."""
        since = self.submitted.get(job_id)
        if self.finish_after is None or since is None or at - since < self.finish_after:
            return {"JobId": job_id, "Status": "Processing"}
        video = {"JobId": f"{job_id}-0", "Status": "Success", "MediaId": f"m-{job_id}", "Duration": 2.0,
                 "MediaURL": f"https://my-bucket.oss-cn-shanghai.aliyuncs.com/campaign/{job_id}.mp4"}
        return {"JobId": job_id, "Status": "Finished", "SubJobList": [video]}
