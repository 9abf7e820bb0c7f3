"""Cloud runs straight from a sheet of local files (``run --backend aliyun --bucket B``).

IMS reads only media IDs and OSS URLs of its own region, so before a job is submitted every local
file it names (media, music, stickers, background images — the references preflight_media finds)
is uploaded under ``P/inputs/<sha256>.<ext>``, registered with ``RegisterMediaInfo`` and replaced in
the job by its MediaId. The output ``MediaURL`` defaults to
``https://B.oss-R.aliyuncs.com/P/outputs/<sheet>/<job>_{index}.mp4``. With ``--download`` the finished
videos come back next to the sheet under ``videos/`` and the sheet gets both the local path
(``videos``) and the URL (``video_urls``).

Reruns cost nothing: ``.sheet2video/cloud-media.sqlite3`` holds each file's sha256 (checked against
size and mtime), the MediaId per IMS endpoint and OSS URL, and each download's sha256. A kill between
upload and registration is safe too: the upload is found by a HEAD (same size and sha256) and the
registration repeats its ClientToken (derived from endpoint and URL), so the service answers the same
MediaId. A killed download resumes from its ``.part`` file (storage.ObjectStore.get_file).
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable

from sheet2video.plan.campaign import PlannedJob, default_output
from sheet2video.engine.media.sources import MediaResolver, media_type_of
from sheet2video.errors import ConfigError, ImsError, RenderError, Sheet2VideoError
from sheet2video.cloud.client import ImsClient
from sheet2video.sheets.files import state_dir
from sheet2video.plan.media_preflight import media_references, is_local
from sheet2video.ratelimit import TokenBucket
from sheet2video.sheets.read import Sheet
from sheet2video.cloud.storage import ObjectStore, content_key, file_sha256, parse_object_url

__all__ = [
    "STATE_NAME",
    "PLACEHOLDER_ID",
    "UPLOAD_THREADS",
    "REPORT_EVERY",
    "SCHEMA",
    "oss_url",
    "output_url",
    "as_uploaded",
    "CloudMedia",
    "open_cloud_media",
]

STATE_NAME = "cloud-media.sqlite3"
PLACEHOLDER_ID = "0" * 32  # what a local file will become: lets the cloud preflight check everything else
UPLOAD_THREADS = 4
REPORT_EVERY = 1.0  # seconds between progress lines

SCHEMA = """
CREATE TABLE IF NOT EXISTS hashes (path TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, sha256 TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS media (endpoint TEXT NOT NULL, url TEXT NOT NULL, media_id TEXT NOT NULL, registered_at REAL NOT NULL,
                                  PRIMARY KEY (endpoint, url));
CREATE TABLE IF NOT EXISTS downloads (url TEXT PRIMARY KEY, path TEXT NOT NULL, size INTEGER NOT NULL, sha256 TEXT NOT NULL);
"""


def oss_url(bucket: str, region: str, key: str) -> str:
    return f"https://{bucket}.oss-{region}.aliyuncs.com/{key}"


def _prefix(prefix: str | None) -> str:
    return f"{prefix.strip('/')}/" if prefix and prefix.strip("/") else ""


def output_url(bucket: str, region: str, prefix: str | None, sheet: Sheet, job: PlannedJob, typed: str) -> str:
    """The OSS MediaURL of a job: kept when it is one already, else under ``P/outputs/``."""
    if parse_object_url(typed):
        return typed
    relative = typed if typed and "://" not in typed and not typed.startswith("/") else default_output(sheet, job.key)
    return oss_url(bucket, region, f"{_prefix(prefix)}outputs/{relative.lstrip('./')}")


def _rewrite(job: PlannedJob, media_id_of: Callable[[str], str], media_url: str) -> PlannedJob:
    """The job with every local reference replaced (by ``media_id_of(reference)``) and its MediaURL set."""
    inputs = job.parsed("InputConfig") or {}
    for group in inputs.get("MediaGroupArray") or []:
        if isinstance(group, dict):
            group["MediaArray"] = [media_id_of(r) if _local(r) else r for r in group.get("MediaArray") or []]
    for name in ("MediaArray", "BackgroundMusicArray", "BackgroundImageArray"):
        if inputs.get(name):
            inputs[name] = [media_id_of(r) if _local(r) else r for r in inputs[name]]
    for sticker in inputs.get("StickerArray") or []:
        if isinstance(sticker, dict) and not sticker.get("MediaId") and _local(sticker.get("MediaURL")):
            sticker["MediaId"] = media_id_of(sticker.pop("MediaURL"))
    output = job.parsed("OutputConfig") or {}
    output["MediaURL"] = media_url
    params = dict(job.params)
    editing = job.parsed("EditingConfig") or {}
    metas = (editing.get("MediaConfig") or {}).get("MediaMetaDataArray") if isinstance(editing.get("MediaConfig"), dict) else None
    if metas:  # in/out points and words name the same files as the inputs: they must name them the same way
        for meta in metas:
            if isinstance(meta, dict) and _local(meta.get("Media")):
                meta["Media"] = media_id_of(meta["Media"])
        params["EditingConfig"] = json.dumps(editing, ensure_ascii=False, separators=(",", ":"))
    params["InputConfig"] = json.dumps(inputs, ensure_ascii=False, separators=(",", ":"))
    params["OutputConfig"] = json.dumps(output, ensure_ascii=False, separators=(",", ":"))
    return dataclasses.replace(job, params=params)


def _local(reference: Any) -> bool:
    return isinstance(reference, str) and bool(reference.strip()) and is_local(reference)


def as_uploaded(planned: list[PlannedJob], sheet: Sheet, bucket: str, region: str, prefix: str | None) -> list[PlannedJob]:
    """The jobs as they will be sent (local files as placeholder IDs), for the cloud preflight."""
    if not region:
        raise ConfigError("--bucket needs --region: the bucket must be in the region IMS runs in")
    return [_rewrite(job, lambda _r: PLACEHOLDER_ID,
                     output_url(bucket, region, prefix, sheet, job, (job.parsed("OutputConfig") or {}).get("MediaURL", "")))
            for job in planned]


class _Meter:
    """Bytes and files moved, reported at most once a second and once at the end."""

    def __init__(self, verb: str, files: int, total: int, say: Callable[[str], None]):
        self.verb, self.files, self.total, self.say = verb, files, total, say
        self.done_bytes = self.done_files = 0
        self.started = self._last = time.monotonic()
        self._lock = threading.Lock()

    def add(self, n: int) -> None:
        with self._lock:
            self.done_bytes += n
            now = time.monotonic()
            if now - self._last >= REPORT_EVERY:
                self._last = now
                self.say(self.line())

    def file_done(self) -> None:
        with self._lock:
            self.done_files += 1

    def line(self) -> str:
        took = max(time.monotonic() - self.started, 1e-6)
        return (f"{self.verb}: {self.done_files}/{self.files} file(s), {self.done_bytes / 1e6:.1f}/{self.total / 1e6:.1f} MB, "
                f"{self.done_bytes / 1e6 / took:.1f} MB/s")


class CloudMedia:
    """Uploads, registrations and downloads of one cloud run."""

    def __init__(self, sheet_path: Path, options, client: ImsClient, endpoint_name: str, reporter):
        if not options.region:
            raise ConfigError("--bucket needs --region: the bucket must be in the region IMS runs in")
        self.sheet_path = sheet_path
        self.sheet_dir = sheet_path.resolve().parent
        self.bucket, self.region, self.prefix = options.bucket, options.region, options.prefix
        self.client = client
        self.endpoint_name = endpoint_name
        self.info, self.warn = reporter.info, reporter.warn
        self.download_wanted = options.download
        self.store = ObjectStore.for_oss(options.region, options.bucket, endpoint_url=options.storage_endpoint, profile=options.profile)
        self.store.check_bucket()  # missing, denied or in another region: exit 2 before anything is sent
        self.resolver = MediaResolver((options.media_root or self.sheet_dir).resolve(), self.sheet_dir / ".unused")
        self.qps = TokenBucket(options.qps * 0.98, burst=1)
        path = state_dir(sheet_path) / STATE_NAME
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.db.executescript(SCHEMA)
        self._db_lock = threading.Lock()
        self.uploaded = self.registered = self.downloaded = self.download_failed = 0

    def close(self) -> None:
        self.db.close()

    def counts(self) -> dict[str, int]:
        counts = {"uploaded": self.uploaded, "registered": self.registered, "downloaded": self.downloaded}
        return {**counts, "download_failed": self.download_failed} if self.download_failed else counts

    # ------------------------------------------------------------ before submitting

    def prepare(self, to_submit: list[tuple[PlannedJob, int]], sheet: Sheet) -> list[tuple[PlannedJob, int]]:
        """Upload and register every local file of these jobs; the jobs rewritten to MediaIds."""
        references = {r for job, _ in to_submit for r, _p, _k in media_references(job.parsed("InputConfig") or {}) if _local(r)}
        files = {ref: self._resolve(ref) for ref in sorted(references)}
        media_ids = self._register_all(files)
        out = []
        for job, attempt in to_submit:
            typed = (job.parsed("OutputConfig") or {}).get("MediaURL", "")
            url = output_url(self.bucket, self.region, self.prefix, sheet, job, typed)
            out.append((_rewrite(job, lambda r: media_ids[files[r]], url), attempt))
        return out

    def _resolve(self, reference: str) -> Path:
        try:
            return self.resolver.resolve(reference)
        except RenderError as error:  # planning probed it; it went away since
            raise ConfigError(f"{reference.strip()}: {error.message}") from None

    def _register_all(self, files: dict[str, Path]) -> dict[Path, str]:
        """MediaId per file: one upload and one registration per distinct content, whatever its names."""
        hashes = {path: self._sha256(path) for path in sorted(set(files.values()))}
        one_path = {sha: path for path, sha in sorted(hashes.items(), reverse=True)}  # sha256 → a file holding it
        by_sha: dict[str, str] = {}
        todo = []
        for sha, path in sorted(one_path.items()):
            row = self.db.execute("SELECT media_id FROM media WHERE endpoint = ? AND url = ?",
                                  (self.endpoint_name, self._input_url(path, sha))).fetchone()
            if row:
                by_sha[sha] = row[0]
            else:
                todo.append(path)
        if one_path and not todo:
            self.info(f"inputs: {len(one_path)} file(s) already uploaded and registered")
        if todo:
            meter = _Meter("upload", len(todo), sum(p.stat().st_size for p in todo), self.info)
            pool = ThreadPoolExecutor(max_workers=UPLOAD_THREADS, thread_name_prefix="upload")
            try:
                results = list(pool.map(lambda p: self._upload(p, hashes[p], meter), todo))
            except BaseException:  # Ctrl+C or a failed upload: do not wait for the others (the CLI exits)
                pool.shutdown(wait=False, cancel_futures=True)
                raise
            pool.shutdown()
            sent = sum(1 for r in results if r.uploaded)
            self.uploaded += sent
            self.info(meter.line() + (f"; {len(todo) - sent} already in the bucket" if sent < len(todo) else ""))
            for path in todo:  # only once every upload is complete: nothing is half-registered
                by_sha[hashes[path]] = self._register(path, hashes[path])
        return {path: by_sha[sha] for path, sha in hashes.items()}

    def _upload(self, path: Path, sha256: str, meter: _Meter):
        key = content_key(path, self.prefix or "", sha256=sha256)
        result = self.store.put_file(path, key, sha256=sha256, progress=meter.add)
        if not result.uploaded:
            meter.add(result.size)
        meter.file_done()
        return result

    def _register(self, path: Path, sha256: str) -> str:
        url = self._input_url(path, sha256)
        # the same endpoint and URL always send the same token: a registration a kill interrupted
        # is answered with the MediaId it already made, never a second asset
        token = uuid.uuid5(uuid.NAMESPACE_URL, f"{self.endpoint_name} {url}").hex
        self.qps.wait()
        try:
            media_id = self.client.register_media_info(url, media_type=media_type_of(path.name), client_token=token,
                                                       title=path.name[:128])
        except ImsError as error:
            if "exist" not in (error.code or "").lower():
                raise
            media_id = self.client.get_media_info(input_url=url).get("MediaId") or ""  # registered before
        with self._db_lock:
            self.db.execute("INSERT OR REPLACE INTO media VALUES (?, ?, ?, ?)", (self.endpoint_name, url, media_id, time.time()))
        self.registered += 1
        return media_id

    def _input_url(self, path: Path, sha256: str) -> str:
        return oss_url(self.bucket, self.region, content_key(path, self.prefix or "", sha256=sha256))

    def _sha256(self, path: Path) -> str:
        st = path.stat()
        row = self.db.execute("SELECT size, mtime_ns, sha256 FROM hashes WHERE path = ?", (str(path),)).fetchone()
        if row and row[0] == st.st_size and row[1] == st.st_mtime_ns:
            return row[2]
        digest = file_sha256(path)
        with self._db_lock:
            self.db.execute("INSERT OR REPLACE INTO hashes VALUES (?, ?, ?, ?)", (str(path), st.st_size, st.st_mtime_ns, digest))
        return digest

    # ------------------------------------------------------------ after the render

    def video_ref(self, media_url: str) -> str:
        """What the sheet and ledger keep for a finished video: its lasting OSS URL (a presigned URL
        from Get expires)."""
        key = self.store.key_for_url(media_url)
        return oss_url(self.bucket, self.region, key) if key else media_url

    def download(self, urls: list[str]) -> None:
        """Fetch finished videos into ``videos/`` next to the sheet (skipping those already there).
        A failed download is a warning, not the end of the run: the sheet is still written, and the
        rerun resumes it."""
        wanted = [(u, k, self._local_path(k)) for u in dict.fromkeys(urls) if (k := self.store.key_for_url(u))]
        todo = [(u, k, p) for u, k, p in wanted if not self._have(u, p)]
        if not todo:
            return
        meter = _Meter("download", len(todo), 0, self.info)
        for url, key, path in todo:
            try:
                info = self.store.head(key)
                meter.total += info.size if info else 0
                digest = self.store.get_file(key, path, progress=meter.add)
            except Sheet2VideoError as error:
                self.warn(f"download of {url} failed ({error}); rerun to resume it")
                self.download_failed += 1
                continue
            with self._db_lock:
                self.db.execute("INSERT OR REPLACE INTO downloads VALUES (?, ?, ?, ?)", (url, str(path), path.stat().st_size, digest))
            meter.file_done()
            self.downloaded += 1
        self.info(meter.line())

    def _local_path(self, key: str) -> Path:
        """``P/outputs/<sheet>/<job>_0.mp4`` → ``videos/<sheet>/<job>_0.mp4`` next to the sheet."""
        parts = key.split("/")
        if "outputs" in parts[:-1]:
            parts = parts[parts.index("outputs") + 1:]
        return self.sheet_dir.joinpath("videos", *[p for p in parts if p not in ("", ".", "..")])

    def _have(self, url: str, path: Path) -> bool:
        row = self.db.execute("SELECT path, size FROM downloads WHERE url = ?", (url,)).fetchone()
        return bool(row) and row[0] == str(path) and path.is_file() and path.stat().st_size == row[1]

    def sheet_values(self, values: dict[str, str]) -> dict[str, str]:
        """Result columns with downloaded videos: ``videos`` the local paths, ``video_urls`` the URLs."""
        urls = [u for u in values.get("videos", "").split("\n") if u]
        if not self.download_wanted or not urls:
            return values
        local = []
        for url in urls:
            row = self.db.execute("SELECT path FROM downloads WHERE url = ?", (url,)).fetchone()
            local.append(_relative(Path(row[0]), self.sheet_dir) if row and Path(row[0]).is_file() else url)
        return {**values, "videos": "\n".join(local), "video_urls": "\n".join(urls)}


def _relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def open_cloud_media(sheet_path: Path, options, client: ImsClient, endpoint_name: str, reporter) -> CloudMedia | None:
    """The run's CloudMedia when it names a bucket (``--bucket``), else None."""
    return CloudMedia(sheet_path, options, client, endpoint_name, reporter) if options.bucket else None
