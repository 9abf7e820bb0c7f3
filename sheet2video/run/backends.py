"""Where a run's jobs go: the embedded engine, a ``sheet2video serve`` endpoint or Alibaba Cloud.

A :class:`Backend` is an IMS client plus how a finished video is shown in the sheet (a path
relative to the sheet for the embedded engine, the URL otherwise). :func:`cloud_problems` is the
cloud's own preflight: what it would refuse to read.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from sheet2video.plan.campaign import PlannedJob, locate
from sheet2video.errors import ConfigError, ValidationError
from sheet2video.cloud.client import ImsClient, region_endpoint
from sheet2video.cloud.credentials import Credentials, resolve_credentials
from sheet2video.sheets.files import state_dir
from sheet2video.run.options import RunOptions
from sheet2video.run.preview import PRESET as PREVIEW_PRESET, preview_folder
from sheet2video.sheets.read import Sheet
from sheet2video.plan.templating import TemplateSet

__all__ = ["MEDIA_ID", "Backend", "cloud_problems", "open_backend"]

MEDIA_ID = re.compile(r"^[0-9a-f]{32}$")


class Backend:
    """A client plus how to present a finished video (a local path or a URL)."""

    def __init__(self, name: str, client: ImsClient, engine=None, outputs: Path | None = None, sheet_dir: Path | None = None):
        self.name = name
        self.client = client
        self.engine = engine
        self.outputs = outputs
        self.sheet_dir = sheet_dir

    def video_ref(self, media_url: str) -> str:
        """The embedded engine's (presigned) URL as the file's path relative to the sheet; any other as is."""
        if self.engine is None or not media_url:
            return media_url
        marker = "/outputs/"
        path = urlsplit(media_url).path
        if marker not in path:
            return media_url
        local = self.outputs / unquote(path.split(marker, 1)[1])
        try:
            return local.relative_to(self.sheet_dir).as_posix()
        except ValueError:
            return str(local)

    def close(self) -> None:
        self.client.close()
        if self.engine is not None:
            self.engine.close()


def open_backend(sheet_path: Path, options: RunOptions) -> Backend:
    """The backend a run submits to: the cloud, a ``serve`` endpoint, or an embedded engine of its own.

    The embedded engine is single-user: its caller is the person running the sheet on their own
    machine, so its media URLs and callbacks may reach loopback and private networks
    (``LOCAL_NETWORKS``; never link-local, the cloud metadata service) and a failed download says
    why, and no per-job budget applies. A ``serve`` for a team refuses all of those by default
    (engine/outbound.py) and budgets each job (engine/api/budgets.py)."""
    if options.backend == "aliyun":
        if not options.region and not options.endpoint:
            raise ConfigError("--backend aliyun needs --region (e.g. cn-shanghai) or --endpoint")
        endpoint = options.endpoint or region_endpoint(options.region)
        creds = resolve_credentials(options.profile)
        return Backend(f"aliyun:{endpoint}", ImsClient(endpoint, creds))
    if options.endpoint:
        creds = resolve_credentials(options.profile)
        return Backend(f"endpoint:{options.endpoint.rstrip('/')}", ImsClient(options.endpoint, creds))
    from sheet2video.engine.api.server import Engine, EngineConfig, ephemeral_keys
    from sheet2video.engine.outbound import LOCAL_NETWORKS
    from sheet2video.cloud.storage import oss_endpoint

    sheet_dir = sheet_path.resolve().parent
    data = (options.data or state_dir(sheet_path) / "engine").resolve()
    if options.preview:  # drafts never share an engine with real jobs: a resumed draft would land among the videos
        data = data.with_name(data.name + "-preview")
    keys = ephemeral_keys()
    media_root = (options.media_root or sheet_dir).resolve()
    if not media_root.is_dir():
        raise ConfigError(f"--media-root {media_root} is not a folder")
    # outputs at videos/<MediaURL's path>, not under the job id: the sheet links them there, and a rerun of
    # an edited row replacing that row's own video is what its user wants (plan/outputs.py shows the paths)
    config = EngineConfig(data=data, media_root=media_root, keys=keys, outputs=sheet_dir / "videos", outputs_by_job=False,
                          callback_auth_key=options.callback_auth_key, storage_bucket=options.bucket, storage_region=options.region,
                          storage_endpoint=options.storage_endpoint or (oss_endpoint(options.region) if options.bucket and options.region else None),
                          allow_fetch=LOCAL_NETWORKS, allow_callback=LOCAL_NETWORKS, explain_fetch_errors=True,
                          max_job_video_seconds=None, max_job_speech_chars=None)  # your machine, your sheet: no budget
    if options.preview:
        config.outputs, config.preset = preview_folder(sheet_path), PREVIEW_PRESET
    if options.workers:
        config.workers = options.workers
    engine = Engine(config)
    endpoint = engine.start()
    key_id, secret = next(iter(keys.items()))
    return Backend(f"local:{data}", ImsClient(endpoint, Credentials(key_id, secret)), engine, engine.outputs, sheet_dir)


# ---------------------------------------------------------------- cloud preflight


def cloud_problems(planned: list[PlannedJob], sheet: Sheet, template_set: TemplateSet, region: str | None) -> list[ValidationError]:
    """What the cloud would refuse: local media paths, outputs that are not OSS URLs of the region."""
    oss = re.compile(r"^https?://[\w.-]+\.oss-(?P<region>[\w-]+?)(?:-internal)?\.aliyuncs\.com/", re.I)
    by_number = {r.number: r for r in sheet.rows}
    problems = []

    def check(reference: str, path: str, job: PlannedJob, parsed: dict[str, Any], what: str) -> None:
        if MEDIA_ID.match(reference):
            return
        match = oss.match(reference)
        if match and (region is None or match.group("region") == region):
            return
        reason = (f"is in region {match.group('region')}, not {region}" if match
                  else "is not an IMS media ID or an OSS URL")
        problems.append(locate(path, f"{what} {reference!r} {reason}; the cloud cannot read it",
                               [by_number[n] for n in job.rows], sheet, template_set, parsed))

    for job in planned:
        parsed = {k: job.parsed(k) for k in ("InputConfig", "OutputConfig")}
        inputs = parsed["InputConfig"] or {}
        for g, group in enumerate(inputs.get("MediaGroupArray") or []):
            for ref in group.get("MediaArray") or []:
                check(ref, f"InputConfig.MediaGroupArray[{g}].MediaArray", job, parsed, "media")
        for name in ("MediaArray", "BackgroundMusicArray", "BackgroundImageArray"):
            for ref in inputs.get(name) or []:
                check(ref, f"InputConfig.{name}", job, parsed, "media")
        for s, sticker in enumerate(inputs.get("StickerArray") or []):
            if isinstance(sticker, dict) and not sticker.get("MediaId"):
                check(sticker.get("MediaURL") or "", f"InputConfig.StickerArray[{s}].MediaURL", job, parsed, "logo")
        check((parsed["OutputConfig"] or {}).get("MediaURL", ""), "OutputConfig.MediaURL", job, parsed, "output")
    return problems
