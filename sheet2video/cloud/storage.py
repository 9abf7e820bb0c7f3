"""One object-storage layer over the S3 API (boto3): Alibaba OSS, AWS S3, Ceph RGW, MinIO, moto.

Three users share it: cloud runs from local files (upload under content-hash keys, then
``RegisterMediaInfo``), the local engine reading and writing ``oss://``/``s3://`` URLs, and farm
workers. The API::

    store = ObjectStore.for_oss("cn-hangzhou", "my-bucket")          # or ObjectStore(bucket, endpoint_url=…)
    store, key = ObjectStore.from_url("oss://my-bucket/a/b.mp4", region="cn-hangzhou")
    key = content_key("shot.mp4", "campaign")       # campaign/inputs/<sha256>.mp4
    store.put_file(path, key)          # multipart above 16 MiB; skipped when the key already holds that size
    store.upload_content(path, prefix) # content_key + put_file → PutResult
    store.head(key) / store.exists(key)
    store.get_file(key, dest)          # streams to dest.part (resumes it with Range), checks, renames → sha256
    store.get_range(key, start, end)   # bytes start..end inclusive
    store.presigned_url(key, expires=3600)
    store.put_file_create_only(path, key) → True if created, False if the key already existed

OSS through its S3-compatible API needs: virtual-hosted addressing (``bucket.oss-<region>.aliyuncs.com``),
signature v4, and ``request_checksum_calculation``/``response_checksum_validation`` set to
``when_required`` — boto3 >= 1.36 sends CRC32 trailers by default, which OSS rejects. Create-only puts
use ``x-oss-forbid-overwrite: true`` on OSS (an existing key answers ``FileAlreadyExists``) and
``If-None-Match: *`` elsewhere (``PreconditionFailed``).

Credentials: OSS endpoints use the Alibaba chain of :mod:`sheet2video.cloud.credentials`; a source
that refreshes (roles, OIDC, ECS metadata, a credentials URI) feeds botocore ``RefreshableCredentials``,
so transfers keep working past a token's expiry. Other endpoints use ``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``/``AWS_SESSION_TOKEN`` from ``env``
when given, else boto3's default chain. Nothing here prints a secret: ``repr`` shows endpoint,
bucket and region only, and errors carry S3 error codes, never request headers.
"""

from __future__ import annotations

import hashlib
import os
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

import botocore.exceptions  # boto3 itself (~150 ms to import) only when a store is opened

from sheet2video.errors import ConfigError, StorageError
from sheet2video.cloud.credentials import CredentialSource, Credentials, resolve_credentials

__all__ = ["ObjectStore", "ObjectInfo", "PutResult", "content_key", "file_sha256", "oss_endpoint", "parse_object_url"]

MULTIPART_THRESHOLD = 16 * 1024 * 1024  # below this one PUT is cheaper than three requests
MULTIPART_CHUNK = 16 * 1024 * 1024
CHUNK = 1024 * 1024
SHA_META = "sha256"  # user metadata (x-amz-meta-sha256) written on every put, checked on every get
_OSS_HOST = re.compile(r"^(?P<bucket>[a-z0-9][a-z0-9-]{1,61}[a-z0-9])\.oss-(?P<region>[a-z0-9-]+?)(?:-internal)?\.aliyuncs\.com$")

Progress = Callable[[int], None]  # called with the number of bytes just moved


def oss_endpoint(region: str, *, internal: bool = False) -> str:
    """``https://oss-<region>.aliyuncs.com`` (``-internal`` from an ECS in that region: no traffic fee)."""
    return f"https://oss-{region}{'-internal' if internal else ''}.aliyuncs.com"


def is_oss_endpoint(endpoint_url: str | None) -> bool:
    return bool(endpoint_url) and (urlsplit(endpoint_url).hostname or "").endswith("aliyuncs.com")


def file_sha256(path: str | os.PathLike[str]) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(CHUNK):
            h.update(block)
    return h.hexdigest()


def content_key(path: str | os.PathLike[str], prefix: str = "", ext: str | None = None, *, sha256: str | None = None) -> str:
    """``<prefix>/inputs/<sha256>.<ext>``: the same bytes always get the same key, so nothing is sent twice.
    ``ext`` defaults to the file's own extension (lower case)."""
    ext = (ext if ext is not None else Path(path).suffix.lstrip(".")).lower()
    digest = sha256 or file_sha256(path)
    head = f"{prefix.strip('/')}/" if prefix.strip("/") else ""
    return f"{head}inputs/{digest}{'.' + ext if ext else ''}"


def parse_object_url(url: str) -> tuple[str, str] | None:
    """(bucket, key) of ``oss://b/k``, ``s3://b/k`` or ``https://b.oss-<region>.aliyuncs.com/k``; else None."""
    parts = urlsplit(url)
    if parts.scheme in ("oss", "s3") and parts.netloc and parts.path.strip("/"):
        return parts.netloc, parts.path.lstrip("/")
    m = _OSS_HOST.match(parts.hostname or "") if parts.scheme in ("http", "https") else None
    if m and parts.path.strip("/"):
        return m["bucket"], parts.path.lstrip("/")
    return None


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int
    etag: str
    sha256: str | None  # from our own metadata; None for objects written by others


@dataclass(frozen=True)
class PutResult:
    key: str
    size: int
    sha256: str
    uploaded: bool  # False: the object was already there, nothing was sent


class ObjectStore:
    """One bucket behind an S3-compatible endpoint. Thread-safe (one boto3 client, which is)."""

    def __init__(
        self,
        bucket: str,
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
        credentials: CredentialSource | None = None,
        addressing_style: str | None = None,
        flavour: str | None = None,
        profile: str | None = None,
        env: Mapping[str, str] | None = None,
    ):
        import boto3
        from boto3.s3.transfer import TransferConfig
        from botocore.config import Config

        self.bucket = bucket
        self.endpoint_url = endpoint_url
        self.region = region
        # flavour "oss" picks OSS headers and the Alibaba credential chain; detected from the endpoint.
        self.flavour = flavour or ("oss" if is_oss_endpoint(endpoint_url) else "s3")
        style = addressing_style or ("virtual" if self.flavour == "oss" else "path" if endpoint_url else "auto")
        config = Config(
            s3={"addressing_style": style},
            signature_version="s3v4",
            retries={"max_attempts": 5, "mode": "standard"},
            request_checksum_calculation="when_required" if self.flavour == "oss" else "when_supported",
            response_checksum_validation="when_required" if self.flavour == "oss" else "when_supported",
        )
        creds = credentials or self._credentials(profile, env)
        kwargs = dict(endpoint_url=endpoint_url, region_name=region or "us-east-1", config=config)
        session = boto3.session.Session()
        if isinstance(creds, Credentials) and creds.expiration is None:
            kwargs.update(
                aws_access_key_id=creds.access_key_id,
                aws_secret_access_key=creds.access_key_secret,
                aws_session_token=creds.security_token,
            )
        elif creds is not None:
            session = _refreshing_session(creds)
        self._client = session.client("s3", **kwargs)
        # OSS create-only puts go through their own client that always adds x-oss-forbid-overwrite,
        # so concurrent ordinary puts on the main client can never lose or gain the header.
        self._create_client = self._client
        if self.flavour == "oss":
            self._create_client = session.client("s3", **kwargs)
            self._create_client.meta.events.register("before-sign.s3.PutObject", _add_header("x-oss-forbid-overwrite", "true"))
        self._transfer = TransferConfig(multipart_threshold=MULTIPART_THRESHOLD, multipart_chunksize=MULTIPART_CHUNK, max_concurrency=4)

    def _credentials(self, profile: str | None, env: Mapping[str, str] | None) -> CredentialSource | None:
        if self.flavour == "oss":
            return resolve_credentials(profile, env=env)
        env = os.environ if env is None else env
        key_id, secret = env.get("AWS_ACCESS_KEY_ID", "").strip(), env.get("AWS_SECRET_ACCESS_KEY", "").strip()
        if key_id and secret:
            return Credentials(key_id, secret, env.get("AWS_SESSION_TOKEN") or None, source="environment AWS_ACCESS_KEY_ID")
        return None  # boto3's own chain: ~/.aws/credentials, instance roles, …

    @classmethod
    def for_oss(cls, region: str, bucket: str, *, endpoint_url: str | None = None, **kw) -> ObjectStore:
        """A bucket of OSS region ``region``; ``endpoint_url`` overrides the regional endpoint (a test
        server or another S3-compatible store: then the endpoint decides the flavour)."""
        return cls(bucket, endpoint_url=endpoint_url or oss_endpoint(region), region=region, **kw)

    @classmethod
    def from_url(cls, url: str, *, region: str | None = None, endpoint_url: str | None = None, **kw) -> tuple[ObjectStore, str]:
        """(store, key) for an object URL (see :func:`parse_object_url`). An OSS https URL names its own region."""
        parsed = parse_object_url(url)
        if parsed is None:
            raise ConfigError(f"{url}: not an object-storage URL (use oss://bucket/key, s3://bucket/key or https://bucket.oss-region.aliyuncs.com/key)")
        bucket, key = parsed
        m = _OSS_HOST.match(urlsplit(url).hostname or "")
        region = (m["region"] if m else None) or region
        if endpoint_url is None and (m or urlsplit(url).scheme == "oss"):
            if not region:
                raise ConfigError(f"{url}: an oss:// URL needs a region")
            endpoint_url = oss_endpoint(region)
        return cls(bucket, endpoint_url=endpoint_url, region=region, **kw), key

    def __repr__(self) -> str:
        return f"ObjectStore(bucket={self.bucket!r}, endpoint_url={self.endpoint_url!r}, region={self.region!r}, flavour={self.flavour!r})"

    __str__ = __repr__

    # -- URLs ------------------------------------------------------------------------------------

    def url(self, key: str) -> str:
        """The URL IMS and the engine take for this object: the regional https form on OSS, s3:// elsewhere."""
        if self.flavour == "oss" and self.region:
            return f"https://{self.bucket}.oss-{self.region}.aliyuncs.com/{key}"
        return f"s3://{self.bucket}/{key}"

    def key_for_url(self, url: str) -> str | None:
        """The key when ``url`` names an object of this bucket: oss://, s3://, the OSS https form, or
        a (presigned) URL of this store's own endpoint, path- or virtual-hosted style."""
        parsed = parse_object_url(url.split("?", 1)[0])
        if parsed:
            return parsed[1] if parsed[0] == self.bucket else None
        parts, mine = urlsplit(url), urlsplit(self.endpoint_url or "")
        if not mine.hostname or parts.port != mine.port:
            return None
        path = unquote(parts.path)
        if parts.hostname == mine.hostname and path.startswith(f"/{self.bucket}/"):
            return path[len(self.bucket) + 2:] or None
        if parts.hostname == f"{self.bucket}.{mine.hostname}":
            return path.lstrip("/") or None
        return None

    def presigned_url(self, key: str, expires: int = 3600) -> str:
        """A GET URL anyone can fetch for ``expires`` seconds (no credentials needed)."""
        return self._client.generate_presigned_url("get_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=expires)

    # -- reading ---------------------------------------------------------------------------------

    def check_bucket(self) -> None:
        """Before anything is sent: the bucket exists, we may use it, and it lives in ``region``.
        Raises :class:`ConfigError` (exit 2) with one line."""
        try:
            answer = self._client.head_bucket(Bucket=self.bucket)
        except botocore.exceptions.ClientError as exc:
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if status == 404:
                raise ConfigError(f"bucket {self.bucket!r} does not exist at {self._where()}") from None
            if status == 403:
                raise ConfigError(f"access denied to bucket {self.bucket!r} at {self._where()} (check the credentials and the bucket policy)") from None
            if status == 301:
                raise ConfigError(f"bucket {self.bucket!r} is not in region {self.region} (use the bucket's own region)") from None
            raise self._error("check bucket", exc) from None
        except botocore.exceptions.BotoCoreError as exc:
            raise self._config_or_storage_error("check bucket", exc) from None
        headers = answer.get("ResponseMetadata", {}).get("HTTPHeaders", {})
        where = headers.get("x-oss-bucket-region") or headers.get("x-amz-bucket-region")
        if where and self.region and where.removeprefix("oss-") != self.region:
            raise ConfigError(f"bucket {self.bucket!r} is in region {where.removeprefix('oss-')}, not {self.region}: IMS reads only buckets of its own region")

    def head(self, key: str) -> ObjectInfo | None:
        try:
            answer = self._client.head_object(Bucket=self.bucket, Key=key)
        except botocore.exceptions.ClientError as exc:
            if exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 404:
                return None
            raise self._error(f"head {key}", exc) from None
        except botocore.exceptions.BotoCoreError as exc:
            raise self._config_or_storage_error(f"head {key}", exc) from None
        return ObjectInfo(key, int(answer["ContentLength"]), answer.get("ETag", "").strip('"'), (answer.get("Metadata") or {}).get(SHA_META))

    def exists(self, key: str) -> bool:
        return self.head(key) is not None

    def get_range(self, key: str, start: int, end: int) -> bytes:
        """Bytes ``start``..``end`` inclusive (HTTP Range semantics)."""
        with self._calling(f"get {key}"):
            return self._client.get_object(Bucket=self.bucket, Key=key, Range=f"bytes={start}-{end}")["Body"].read()

    def get_file(self, key: str, dest: str | os.PathLike[str], progress: Progress | None = None) -> str:
        """Download ``key`` to ``dest`` and return its sha256. Bytes go to ``dest.part`` first; a
        ``.part`` left by a killed run is resumed with a Range request when the object is unchanged
        (same ETag, noted in ``dest.part.etag``). The result is checked against the object's size and,
        when we wrote it, its sha256, then renamed into place, so ``dest`` is never half-written."""
        dest = Path(dest)
        part, note = dest.with_name(dest.name + ".part"), dest.with_name(dest.name + ".part.etag")
        info = self.head(key)
        if info is None:
            raise StorageError(f"{self._where()}: {self.bucket}/{key} does not exist")
        have = part.stat().st_size if part.exists() else 0
        if have and (not note.exists() or note.read_text() != info.etag or have > info.size):
            have = 0  # a different object (or a note we cannot trust): start again
        dest.parent.mkdir(parents=True, exist_ok=True)
        note.write_text(info.etag)
        h = hashlib.sha256()
        if have:
            with open(part, "rb") as f:
                while block := f.read(CHUNK):
                    h.update(block)
            if progress:
                progress(have)
        with open(part, "ab" if have else "wb") as out:
            if have < info.size:
                with self._calling(f"get {key}"):
                    body = self._client.get_object(Bucket=self.bucket, Key=key, IfMatch=f'"{info.etag}"', **({"Range": f"bytes={have}-"} if have else {}))["Body"]
                    for block in body.iter_chunks(CHUNK):
                        out.write(block)
                        h.update(block)
                        if progress:
                            progress(len(block))
            out.flush()
            os.fsync(out.fileno())
        size, digest = part.stat().st_size, h.hexdigest()
        if size != info.size or (info.sha256 and digest != info.sha256):
            part.unlink()
            note.unlink(missing_ok=True)
            raise StorageError(f"{self.bucket}/{key}: downloaded bytes do not match the object (size {size} of {info.size}, or sha256); run again")
        os.replace(part, dest)
        note.unlink(missing_ok=True)
        return digest

    # -- writing ---------------------------------------------------------------------------------

    def put_file(self, path: str | os.PathLike[str], key: str, *, sha256: str | None = None, content_type: str | None = None, progress: Progress | None = None) -> PutResult:
        """Upload ``path`` to ``key`` unless the key already holds an object of the same size (and,
        when known, the same sha256). Multipart above :data:`MULTIPART_THRESHOLD`. A file that changes
        while it is sent is caught (size/mtime before and after) and its object removed."""
        path = Path(path)
        before = path.stat()
        digest = sha256 or file_sha256(path)
        have = self.head(key)
        if have is not None and have.size == before.st_size and have.sha256 in (None, digest):
            return PutResult(key, have.size, digest, uploaded=False)
        if before.st_size >= MULTIPART_THRESHOLD:
            self._abort_unfinished(key)
        extra = {"Metadata": {SHA_META: digest}}
        if content_type:
            extra["ContentType"] = content_type
        with self._calling(f"put {key}"):
            self._client.upload_file(str(path), self.bucket, key, ExtraArgs=extra, Callback=progress, Config=self._transfer)
        self._unchanged_since(path, before, key)
        return PutResult(key, before.st_size, digest, uploaded=True)

    def upload_content(self, path: str | os.PathLike[str], prefix: str = "", *, content_type: str | None = None, progress: Progress | None = None) -> PutResult:
        """Put ``path`` under its content key ``<prefix>/inputs/<sha256>.<ext>``."""
        digest = file_sha256(path)
        return self.put_file(path, content_key(path, prefix, sha256=digest), sha256=digest, content_type=content_type, progress=progress)

    def put_file_create_only(self, path: str | os.PathLike[str], key: str, *, content_type: str | None = None) -> bool:
        """Write ``key`` only if it does not exist yet: True when this call created it, False when the
        key was already there (a retried task: the first write stands). One request, no race."""
        path = Path(path)
        before = path.stat()
        digest = file_sha256(path)
        args = {"Bucket": self.bucket, "Key": key, "Metadata": {SHA_META: digest}}
        if content_type:
            args["ContentType"] = content_type
        if self.flavour != "oss":
            args["IfNoneMatch"] = "*"
        try:
            with open(path, "rb") as body:
                self._create_client.put_object(Body=body, **args)
        except botocore.exceptions.ClientError as exc:
            code = exc.response.get("Error", {}).get("Code")
            if code in ("PreconditionFailed", "FileAlreadyExists") or exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 412:
                return False
            raise self._error(f"put {key}", exc) from None
        except botocore.exceptions.BotoCoreError as exc:
            raise self._config_or_storage_error(f"put {key}", exc) from None
        self._unchanged_since(path, before, key)
        return True

    def _abort_unfinished(self, key: str) -> None:
        """Parts of a multipart upload a killed run left for ``key``: invisible, but billed as storage."""
        with self._calling(f"list uploads {key}"):
            answer = self._client.list_multipart_uploads(Bucket=self.bucket, Prefix=key)
            for upload in answer.get("Uploads", []):
                if upload["Key"] == key:
                    self._client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload["UploadId"])

    def unfinished_uploads(self, prefix: str = "") -> list[str]:
        with self._calling(f"list uploads {prefix}"):
            return [u["Key"] for u in self._client.list_multipart_uploads(Bucket=self.bucket, Prefix=prefix).get("Uploads", [])]

    def delete(self, key: str) -> None:
        with self._calling(f"delete {key}"):
            self._client.delete_object(Bucket=self.bucket, Key=key)

    def list_keys(self, prefix: str = "") -> list[str]:
        keys: list[str] = []
        with self._calling(f"list {prefix}"):
            for page in self._client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
                keys += [o["Key"] for o in page.get("Contents", [])]
        return keys

    # -- helpers ---------------------------------------------------------------------------------

    def _unchanged_since(self, path: Path, before: os.stat_result, key: str) -> None:
        after = path.stat()
        if (after.st_size, after.st_mtime_ns) != (before.st_size, before.st_mtime_ns):
            self.delete(key)  # its key names bytes it may not hold
            raise StorageError(f"{path}: the file changed while it was uploaded; nothing was kept, run again when it is complete")

    def _where(self) -> str:
        return self.endpoint_url or f"AWS S3 ({self.region or 'default region'})"

    def _error(self, what: str, exc: botocore.exceptions.ClientError) -> StorageError:
        err = exc.response.get("Error", {})
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return self._error_for(what, err.get("Code") or str(status), err.get("Message"))

    def _error_for(self, what: str, code: str, message: str | None = None) -> StorageError:
        if code == "NoSuchBucket":
            return StorageError(f"bucket {self.bucket!r} does not exist at {self._where()}")
        if code in ("AccessDenied", "403", "InvalidAccessKeyId", "SignatureDoesNotMatch"):
            return StorageError(f"{what}: access denied ({code}) at {self._where()}; check the credentials and the bucket policy")
        return StorageError(f"{what}: {code}: {message or 'storage error'} ({self._where()})")

    def _config_or_storage_error(self, what: str, exc: botocore.exceptions.BotoCoreError) -> Exception:
        if isinstance(exc, botocore.exceptions.NoCredentialsError):
            return ConfigError(f"no credentials for {self._where()}: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or ~/.aws/credentials)")
        return StorageError(f"{what}: cannot reach {self._where()} ({type(exc).__name__})")

    def _calling(self, what: str):
        return _Translate(self, what)


class _Translate:
    """``with store._calling("put k"):`` turns boto errors (and S3 transfer errors) into our one-line errors."""

    def __init__(self, store: ObjectStore, what: str):
        self.store, self.what = store, what

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, tb):
        from boto3.exceptions import S3UploadFailedError

        if isinstance(exc, botocore.exceptions.ClientError):
            raise self.store._error(self.what, exc) from None
        if isinstance(exc, botocore.exceptions.BotoCoreError):
            raise self.store._config_or_storage_error(self.what, exc) from None
        if isinstance(exc, S3UploadFailedError):
            # boto3 wraps the ClientError in text; keep only its code (the text never holds secrets)
            code = re.search(r"\((\w+)\)", str(exc))
            raise self.store._error_for(self.what, code[1] if code else "UploadFailed", "upload failed") from None
        return False


def _refreshing_session(source: CredentialSource):
    """A boto3 session whose credentials botocore asks ``source`` for again as they near expiry."""
    import boto3
    import botocore.session
    from botocore.credentials import CredentialProvider, RefreshableCredentials

    def fetch() -> dict:
        creds = source.current()
        # no stated lifetime: say one minute, so botocore asks the (caching) source again soon
        expiry = creds.expiration or time.time() + 60
        return {"access_key": creds.access_key_id, "secret_key": creds.access_key_secret, "token": creds.security_token,
                "expiry_time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(expiry))}

    class FromSource(CredentialProvider):
        METHOD = "sheet2video"

        def load(self):
            return RefreshableCredentials.create_from_metadata(fetch(), fetch, self.METHOD)

    core = botocore.session.Session()
    core.get_component("credential_provider").insert_before("env", FromSource())
    return boto3.session.Session(botocore_session=core)


def _add_header(name: str, value: str):
    def handler(request, **_):
        request.headers[name] = value

    return handler

