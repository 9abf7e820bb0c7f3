"""The options of one ``sheet2video run`` / ``sync``: what the CLI flags (or a caller) ask of the run."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["RunOptions"]


@dataclass
class RunOptions:
    templates: str = "script"
    sheet_name: str | int | None = None
    encoding: str | None = None
    delimiter: str | None = None
    rows: set[int] | None = None
    backend: str = "local"                 # local (embedded engine) | aliyun
    region: str | None = None
    endpoint: str | None = None
    profile: str | None = None
    data: Path | None = None               # embedded engine data (default: .sheet2video/engine next to the sheet)
    chunk_size: int = 10
    qps: float = 5.0
    max_in_flight: int = 50
    wait: bool = True
    retry_failed: bool = False
    force: bool = False
    poll_min: float = 0.5
    poll_max: float = 10.0
    timeout: float | None = None           # give up waiting after this many seconds (jobs keep running)
    callback_url: str | None = None
    callback_auth_key: str | None = None
    workers: int | None = None             # embedded engine render workers
    media_root: Path | None = None         # embedded engine: where media may be read (default: the sheet's folder)
    probe: bool = True                     # probe local media at plan time (--no-probe, SHEET2VIDEO_NO_PROBE=1: off)
    bucket: str | None = None              # aliyun: upload local files to this OSS bucket (cloud_media.py); local: the engine's bucket
    prefix: str | None = None              # key prefix in the bucket (P/inputs/…, P/outputs/…)
    storage_endpoint: str | None = None    # an S3-compatible endpoint instead of the region's OSS (another store, a test server)
    download: bool = False                 # aliyun: fetch finished videos into videos/ next to the sheet
    preview: bool = False                  # drafts: 360 px, one per row, own folder and ledger (preview.py)
    strict: bool = False                   # --strict: a column the template set does not read is an error
