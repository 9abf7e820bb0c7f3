"""The IMS-compatible HTTP API of the local engine (werkzeug WSGI, threaded).

``POST /`` with the action in ``x-acs-action``, parameters in the query and the form body as IMS
places them, ACS3-HMAC-SHA256 signatures verified against the engine's keys, IMS-shaped answers
and errors (``RequestId``, ``Code``, ``Message``). ``GET /outputs/<path>`` serves the rendered
files to presigned URLs only (engine/api/output_links.py); a shared engine keeps each job's outputs
under ``outputs/<JobId>/`` so no job replaces another's video. Requests are capped per parameter
(engine/api/limits.py) and served by waitress (engine/api/http.py). ``Engine.start()`` runs it in a
background thread on a loopback port — the embedded default the runner uses — and
``sheet2video serve`` runs it in the foreground.
"""

from __future__ import annotations

import glob
import json
import logging
import os
import secrets
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.utils import send_from_directory
from werkzeug.wrappers import Request, Response

from sheet2video.engine.api.faults import Faults
from sheet2video.engine.api.http import HttpServer
from sheet2video.engine.api.limits import check_params_size
from sheet2video.engine.api.output_links import OutputLinks
from sheet2video.engine.api.budgets import DEFAULT_JOB_SPEECH_CHARS, DEFAULT_JOB_VIDEO_SECONDS, JobBudget
from sheet2video.engine.api.jobs import JobRunner, LocalExecutor, default_workers
from sheet2video.engine.media.sources import MediaResolver, media_type_of, output_relpath
from sheet2video.engine.media.info import media_info
from sheet2video.engine.media.objects import OutputPublisher, open_objects
from sheet2video.engine.outbound import OutboundPolicy
from sheet2video.engine.timeline.planner import JobPlanner
from sheet2video.engine.api.projects import Projects
from sheet2video.engine.api.responses import job_body
from sheet2video.engine.api.store import OutputTaken, Store
from sheet2video.engine.api.templates import Templates
from sheet2video.engine.speech.synthesis import DefaultSynthesizer
from sheet2video.errors import ImsError, RenderError
from sheet2video.cloud.checks import check_params
from sheet2video.cloud.signature_check import verify_any
from sheet2video.cloud.signature_errors import SignatureError
from sheet2video.locks import ExclusiveLock
from sheet2video.ratelimit import TokenBucket

__all__ = [
    "API_VERSION",
    "MAX_BODY_BYTES",
    "JSON_PARAMS",
    "JOB_STATUSES",
    "ApiError",
    "EngineConfig",
    "Engine",
    "ephemeral_keys",
    "load_or_create_keys",
]

log = logging.getLogger("sheet2video.engine")
logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no access log line per poll

API_VERSION = "2020-11-09"
MAX_BODY_BYTES = 8 * 2**20
JSON_PARAMS = ("InputConfig", "EditingConfig", "OutputConfig", "UserData", "TemplateConfig")
JOB_STATUSES = ("Init", "Processing", "Finished", "Failed")


class ApiError(ImsError):
    def __init__(self, code: str, message: str, status: int = 400):
        super().__init__(code, message, http_status=status)


@dataclass
class EngineConfig:
    data: Path
    media_root: Path
    keys: dict[str, str]                      # AccessKey id → secret
    workers: int = field(default_factory=default_workers)
    threads: int | None = None                # x264 threads per render (None: FFmpeg decides)
    preset: str = "veryfast"
    qps: float | None = None                  # per-key request limit (Throttling.User beyond it)
    callback_auth_key: str | None = None
    render_outputs: bool = True               # False: plan only (benchmarks of the API itself)
    public_url: str | None = None             # base for MediaURL in answers (default: where we listen)
    outputs: Path | None = None               # where rendered videos go (default: DATA/outputs)
    # outputs/<JobId>/<MediaURL's path>: no job can replace another's video (a shared engine). The embedded
    # runner's engine keeps <MediaURL's path> (False): the sheet links videos/<path>, and a rerun of an edited
    # row is meant to replace that row's video.
    outputs_by_job: bool = True
    faults: str | None = None                 # fault injection for reliability tests (engine/api/faults.py)
    storage_endpoint: str | None = None       # S3-compatible endpoint of storage_bucket (engine/media/objects.py)
    storage_bucket: str | None = None         # media URLs of this bucket are read, outputs written, through it
    storage_region: str | None = None
    # A farm executor (engine/farm) instead of the local pool, built once the outputs folder is known.
    executor_factory: Callable[[Path], Any] | None = None
    # Outbound requests a caller asks for (engine/outbound.py). The defaults are a shared server's: no
    # loopback, private, link-local … address; these open CIDRs or hosts (serve --allow-fetch/--allow-callback).
    # The embedded engine (run/backends.py) opens LOCAL_NETWORKS and explains download errors.
    allow_fetch: tuple[str, ...] = ()         # media URLs and RegisterMediaInfo InputURLs
    allow_callback: tuple[str, ...] = ()      # UserData.NotifyAddress
    explain_fetch_errors: bool = False        # tell the caller why a download failed (else one uniform sentence)
    # What one job may cost (engine/api/budgets.py; None: no limit) and how long one render may take.
    max_job_video_seconds: float | None = DEFAULT_JOB_VIDEO_SECONDS  # Count × duration, counted at 1080×1920
    max_job_speech_chars: int | None = DEFAULT_JOB_SPEECH_CHARS      # characters of speech synthesised per job
    render_timeout_factor: float = 30.0       # a render is stopped after this × its output's duration …
    render_timeout_floor: float = 120.0       # … and never sooner than this many seconds


class Engine:
    def __init__(self, config: EngineConfig):
        self.config = config
        # one engine per data folder: two would both resume (and render) the same unfinished jobs
        self._lock = ExclusiveLock(config.data / "engine.lock", f"the engine data folder {config.data} is in use by another engine",
                                   "try again when it ends, or give this one another data folder (--data)").acquire()
        try:
            self._open(config)
        except BaseException:
            self._lock.release()
            raise

    def _open(self, config: EngineConfig) -> None:
        self.outputs = (config.outputs or config.data / "outputs").resolve()
        self.outputs.mkdir(parents=True, exist_ok=True)
        self.store = Store(config.data / "engine.sqlite3")
        self.links = OutputLinks(config.data)
        self._remove_interrupted_renders()
        objects = open_objects(config.storage_endpoint, config.storage_bucket, config.storage_region)
        self.publisher = OutputPublisher(objects) if objects else None
        self.resolver = MediaResolver(config.media_root, config.data / "cache" / "downloads", self.store,
                                      extra_roots=[self.outputs], objects=objects, private=config.data,
                                      outbound=OutboundPolicy(config.allow_fetch, explain=config.explain_fetch_errors))
        self.planner = JobPlanner(self.resolver, DefaultSynthesizer(config.data / "cache" / "speech"),
                                  facts=config.data / "cache" / "facts")
        executor = (config.executor_factory(self.outputs) if config.executor_factory
                    else LocalExecutor(config.workers, config.threads, config.preset,
                                       timeout_factor=config.render_timeout_factor, timeout_floor=config.render_timeout_floor))
        self.runner = JobRunner(self.store, self.planner, executor,
                                self.outputs, callback_auth_key=config.callback_auth_key,
                                render_outputs=config.render_outputs,
                                publish=self.publisher.publish if self.publisher else None,
                                callbacks=OutboundPolicy(config.allow_callback),
                                budget=JobBudget(config.max_job_video_seconds, config.max_job_speech_chars))
        self._buckets: dict[str, TokenBucket] = {}
        self.templates = Templates(self.store)
        self.projects = Projects(self.store, self.outputs, lambda: self._url_for, media_root=config.media_root,
                                 private=config.data)
        self.faults = Faults.parse(config.faults) if config.faults else None
        self._server = None
        self._thread: threading.Thread | None = None
        self.base_url = config.public_url or ""
        self.actions: dict[str, Callable[[str, dict[str, str]], dict[str, Any]]] = {
            "SubmitBatchMediaProducingJob": self.submit,
            "GetBatchMediaProducingJob": self.get,
            "ListBatchMediaProducingJobs": self.list,
            "RegisterMediaInfo": self.register_media,
            "GetMediaInfo": self.get_media,
            **self.templates.actions(),
            "GetEditingProject": self.projects.get,
        }

    def _remove_interrupted_renders(self) -> None:
        """Temp files of renders a crash interrupted (their jobs resume). Only next to this store's
        unfinished outputs: another engine writing into the same outputs folder keeps its own."""
        for job_id in self.store.unfinished_jobs():
            for subjob in self.store.subjobs(job_id):
                target = self.outputs / subjob["output_path"]
                pattern = f".{glob.escape(target.name)}.*"
                for stale in target.parent.glob(pattern):
                    if stale.suffix in (".part", ".filtergraph", ".ass", ".png"):  # .png: titles, phone photos (render.py)
                        stale.unlink(missing_ok=True)

    # ------------------------------------------------------------ lifecycle

    @property
    def app(self):
        """The WSGI app served: ``wsgi`` (as set on this instance), behind fault injection when configured."""
        return self.faults.wrap(self.wsgi) if self.faults else self.wsgi

    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve in a background thread; return the endpoint URL. Resumes unfinished jobs."""
        self._server = HttpServer(self.app, host, port, max_body=2 * MAX_BODY_BYTES)
        self.base_url = self.config.public_url or f"http://{host}:{self._server.port}"
        self._thread = threading.Thread(target=self._server.serve, name="engine-http", daemon=True)
        self._thread.start()
        resumed = self.runner.resume()
        if resumed:
            log.info("resumed %d unfinished job(s)", resumed)
        return self.base_url

    def serve_forever(self, host: str, port: int, announce: Callable[[str], None] = lambda url: None) -> None:
        """Serve in this thread until interrupted; ``announce`` gets the URL once listening."""
        self._server = HttpServer(self.app, host, port, max_body=2 * MAX_BODY_BYTES)
        self.base_url = self.config.public_url or f"http://{host}:{self._server.port}"
        announce(self.base_url)
        self.runner.resume()
        try:
            self._server.serve()
        finally:
            self.close()

    def close(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None
        self.runner.stop()
        self._lock.release()

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------ HTTP

    def wsgi(self, environ, start_response):
        request = Request(environ)
        request.max_content_length = MAX_BODY_BYTES
        request_id = str(uuid.uuid4()).upper()
        try:
            if request.method == "GET" and request.path.startswith("/outputs/"):
                name = request.path[len("/outputs/"):]
                if any(part.startswith(".") for part in name.split("/")):  # renders in progress, hidden files
                    raise ApiError("InvalidApi.NotFound", "No such output.", 404)
                self.links.check(name, request.args)  # 403 unless presigned and unexpired
                response = send_from_directory(self.outputs, name, environ)
            elif request.method == "GET" and request.path == "/health":
                response = Response('{"Status":"ok"}', content_type="application/json")
            elif request.method not in ("POST", "GET") or request.path != "/":  # RPC: GET too (DeleteTemplate)
                raise ApiError("InvalidApi.NotFound", "Specified api is not found, please check your url and method.", 404)
            else:
                body = self.call(request, request_id)
                response = Response(json.dumps({"RequestId": request_id, **body}, ensure_ascii=False),
                                    content_type="application/json;charset=utf-8")
        except ImsError as error:
            response = self._error(error.code, error.message, error.http_status or 400, request_id)
        except RequestEntityTooLarge:
            response = self._error("InvalidParameter.TooLarge", f"The request body exceeds {MAX_BODY_BYTES} bytes.", 413, request_id)
        except HTTPException as error:
            response = self._error("InvalidApi.NotFound" if error.code == 404 else "InvalidParameter",
                                   error.description or error.name, error.code or 400, request_id)
        except RecursionError:  # nesting the limits missed (engine/api/limits.py): the caller's input, not our fault
            response = self._error("InvalidParameter", "A parameter is nested too deeply.", 400, request_id)
        except Exception:
            log.exception("internal error")
            response = self._error("InternalError", "The request processing has failed due to some unknown error.", 500, request_id)
        return response(environ, start_response)

    @staticmethod
    def _error(code: str, message: str, status: int, request_id: str) -> Response:
        body = {"RequestId": request_id, "HostId": "sheet2video-engine", "Code": code, "Message": message}
        return Response(json.dumps(body, ensure_ascii=False), status=status, content_type="application/json;charset=utf-8")

    def call(self, request: Request, request_id: str) -> dict[str, Any]:
        body = request.get_data(cache=True)  # raises RequestEntityTooLarge past the limit
        signed = verify_any(request.method, request.path, request.args.to_dict(), request.form.to_dict(),
                            request.headers, body, self.config.keys.get)
        key_id = signed.key_id
        if not self.store.use_nonce(signed.nonce):
            raise SignatureError("SignatureNonceUsed", "Specified signature nonce was used already.", http_status=400)
        if self.config.qps:
            bucket = self._buckets.setdefault(key_id, TokenBucket(self.config.qps))
            if not bucket.take():
                raise ApiError("Throttling.User", "Request was denied due to user flow control.", 400)
        version = signed.version
        if version != API_VERSION:
            raise ApiError("InvalidVersion", f"Specified parameter Version is not valid: {version!r}; use {API_VERSION}.")
        action = signed.action
        handler = self.actions.get(action)
        if handler is None:
            raise ApiError("InvalidApi.NotFound", f"Specified api {action!r} is not found.", 404)
        check_params_size(signed.params)  # 256 KiB a parameter, JSON ≤ 64 levels deep: before anything parses it
        return handler(key_id, signed.params)

    # ------------------------------------------------------------ actions

    def submit(self, key_id: str, params: dict[str, str]) -> dict[str, Any]:
        parsed: dict[str, Any] = {}
        for name in JSON_PARAMS:
            text = params.get(name)
            if text in (None, ""):
                continue
            try:
                parsed[name] = json.loads(text)
            except json.JSONDecodeError as error:
                raise ApiError("InvalidParameter", f"{name} is not valid JSON: {error.msg} at position {error.pos}.") from None
        seed = "\n".join(params.get(n) or "" for n in JSON_PARAMS)
        parsed, extend_input = self.templates.for_submit(parsed, seed)  # the picked template under the job's own
        problems = [i for i in check_params(parsed) if i.level == "error"]
        if problems:
            raise ApiError("InvalidParameter", "; ".join(f"{i.path}: {i.message}" for i in problems[:10]))
        over_budget = self.runner.budget.submit_problem(parsed)  # what the parameters tell; planning checks the rest
        if over_budget:
            raise ApiError("InvalidParameter", over_budget)
        output = parsed["OutputConfig"]
        count = int(output.get("Count", 1))
        try:
            relpaths = [output_relpath(output["MediaURL"], i) for i in range(count)]
        except RenderError as error:
            raise ApiError("InvalidParameter", error.message) from None
        job_type = "Script" if parsed["InputConfig"].get("MediaGroupArray") else "Smart_Mix"
        stored = {name: params.get(name) or None for name in JSON_PARAMS}
        # a bucket output is put create-only: a key another live job holds is refused now, not failed later
        claims = [self.publisher.key_for(stored["OutputConfig"], i) for i in range(count)] if self.publisher else None
        try:
            job_id, created = self.store.create_job(key_id, params.get("ClientToken") or None, job_type, stored, relpaths,
                                                    extend_input=extend_input,
                                                    projects=True,  # every sub-job: GetEditingProject shows its shots
                                                    under_job=self.config.outputs_by_job, claims=claims)
        except OutputTaken as taken:
            url = output["MediaURL"].replace("{index}", str(taken.index))
            raise ApiError("InvalidParameter", f"OutputConfig.MediaURL {url} is already the output of job {taken.job_id}, "
                                               "and a delivered video is never replaced: choose another MediaURL.") from None
        if created:
            self.runner.dispatch(job_id)
            if self.faults:
                self.faults.after_submit()
        return {"JobId": job_id}

    def get(self, key_id: str, params: dict[str, str]) -> dict[str, Any]:
        job_id = params.get("JobId") or ""
        job = self.store.job(job_id)
        if job is None:
            raise ApiError("InvalidParameter.JobId", f"The specified job not found: {job_id!r}.", 404)
        subjobs = self.store.subjobs(job_id)
        body = job_body(job, subjobs, self._url_for, self.outputs)
        if self.publisher:  # outputs kept in the bucket: a presigned URL anyone holding it can fetch
            self.publisher.presign(job, subjobs, body["SubJobList"])
        return {"EditingBatchJob": body}

    def list(self, key_id: str, params: dict[str, str]) -> dict[str, Any]:
        try:
            limit = int(params.get("MaxResults") or 10)
        except ValueError:
            raise ApiError("InvalidParameter.MaxResults", "MaxResults must be an integer.") from None
        if not 1 <= limit <= 100:
            raise ApiError("InvalidParameter.MaxResults", "MaxResults must be between 1 and 100.")
        sort = (params.get("SortBy") or "desc").lower()
        if sort not in ("asc", "desc"):
            raise ApiError("InvalidParameter.SortBy", "SortBy must be asc or desc.")
        status = params.get("Status") or None
        if status and status not in JOB_STATUSES:
            raise ApiError("InvalidParameter.Status", f"Status must be one of {', '.join(JOB_STATUSES)}.")
        after = None
        if params.get("NextToken"):
            try:
                after = int(params["NextToken"], 16)
            except ValueError:
                raise ApiError("InvalidParameter.NextToken", "NextToken is not valid.") from None
        rows = self.store.list_jobs(job_id=params.get("JobId"), job_type=params.get("JobType"), status=status,
                                    start_time=params.get("StartTime"), end_time=params.get("EndTime"),
                                    ascending=sort == "asc", after_seq=after, limit=limit + 1)
        page, more = rows[:limit], len(rows) > limit
        return {
            "MaxResults": limit,
            "NextToken": format(page[-1]["seq"], "x") if more and page else "",
            "EditingBatchJobList": [job_body(r) for r in page],
        }

    def register_media(self, key_id: str, params: dict[str, str]) -> dict[str, Any]:
        url = (params.get("InputURL") or "").strip()
        if not url:
            raise ApiError("MissingInputURL", "InputURL is mandatory for this action.")
        try:
            self.resolver.validate_input_url(url)
        except RenderError as error:
            raise ApiError("InvalidParameter.InputURL", error.message) from None
        media_type = params.get("MediaType") or media_type_of(url)
        if media_type not in ("image", "video", "audio", "text"):
            raise ApiError("InvalidParameter.MediaType", "MediaType must be image, video, audio or text.")
        media_id = self.store.register_media(url, media_type, title=params.get("Title"),
                                             business_type=params.get("BusinessType"),
                                             client_token=params.get("ClientToken"),
                                             overwrite=(params.get("Overwrite") or "").lower() == "true")
        return {"MediaId": media_id}

    def get_media(self, key_id: str, params: dict[str, str]) -> dict[str, Any]:
        record = self.store.media(media_id=params.get("MediaId"), input_url=params.get("InputURL"))
        if record is None:
            raise ApiError("InvalidParameter.MediaId", "The specified media not found.", 404)
        return {"MediaInfo": media_info(record, self.resolver, self.outputs, self._url_for)}

    def _url_for(self, path: Path) -> str | None:
        """A presigned URL of a file under the outputs folder (None elsewhere)."""
        try:
            rel = path.resolve().relative_to(self.outputs)
        except ValueError:
            return None
        return self.links.url(self.base_url, rel.as_posix())


def ephemeral_keys() -> dict[str, str]:
    return {"LTAI" + secrets.token_hex(8): secrets.token_urlsafe(24)}


def load_or_create_keys(data: Path) -> tuple[dict[str, str], Path]:
    """The server's stored key pair, created (owner-readable only) on first use."""
    path = data / "engine-key.json"
    if path.exists():
        stored = json.loads(path.read_text())
        return {stored["AccessKeyId"]: stored["AccessKeySecret"]}, path
    data.mkdir(parents=True, exist_ok=True)
    keys = ephemeral_keys()
    key_id, secret = next(iter(keys.items()))
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump({"AccessKeyId": key_id, "AccessKeySecret": secret}, handle)
    return keys, path
