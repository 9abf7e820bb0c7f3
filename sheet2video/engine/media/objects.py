"""The engine's object storage (``serve --storage-endpoint URL --storage-bucket B``).

Inputs named as ``oss://B/…``, ``s3://B/…`` or ``https://B.oss-<region>.aliyuncs.com/…`` are read
through :mod:`sheet2video.cloud.storage` with the engine's credentials (engine/media/sources.py), not fetched as
anonymous HTTP. Outputs whose ``MediaURL`` is such a URL are written into the bucket after the
render with a create-only put — a retried render can never replace a video already delivered —
and ``GetBatchMediaProducingJob`` answers a presigned URL for them, fetchable by anyone holding
it for :data:`PRESIGN_SECONDS`.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from sheet2video.engine.media.poster import poster_path
from sheet2video.errors import RenderError, Sheet2VideoError
from sheet2video.cloud.storage import ObjectStore

__all__ = ["PRESIGN_SECONDS", "open_objects", "OutputPublisher"]

log = logging.getLogger("sheet2video.engine")

PRESIGN_SECONDS = 24 * 3600


def open_objects(endpoint_url: str | None, bucket: str | None, region: str | None = None) -> ObjectStore | None:
    """The engine's store, checked (exists, reachable, credentials) so a typo stops ``serve`` at once."""
    if not bucket:
        return None
    store = ObjectStore(bucket, endpoint_url=endpoint_url, region=region)
    store.check_bucket()
    return store


class OutputPublisher:
    """Puts rendered outputs into the bucket and presigns them for Get."""

    def __init__(self, store: ObjectStore):
        self.store = store

    def key_for(self, output_config: str | None, index: int) -> str | None:
        try:
            media_url = (json.loads(output_config or "{}") or {}).get("MediaURL") or ""
        except (json.JSONDecodeError, AttributeError):
            return None
        return self.store.key_for_url(media_url.replace("{index}", str(index)))

    def publish(self, job: dict[str, Any], subjob: dict[str, Any], path: str) -> None:
        """Create-only put of the video (and its poster); an object already there is the first
        attempt's and stands. Raises RenderError so the sub-job fails with a reason."""
        key = self.key_for(job["output_config"], subjob["idx"])
        if key is None:
            return
        try:
            if not self.store.put_file_create_only(path, key, content_type="video/mp4"):
                log.info("%s already in the bucket (an earlier attempt's); kept", key)
            poster = Path(poster_path(path))
            if poster.is_file():
                self.store.put_file_create_only(poster, str(Path(key).with_suffix(".jpg")), content_type="image/jpeg")
        except Sheet2VideoError as error:
            raise RenderError(f"upload of the output failed: {error}", code="OutputUploadFailed") from None

    def presign(self, job: dict[str, Any], subjobs: list[dict[str, Any]], bodies: list[dict[str, Any]]) -> None:
        """Replace the MediaURL of each successful sub-job kept in the bucket by a presigned URL."""
        for subjob, body in zip(subjobs, bodies):
            key = self.key_for(job["output_config"], subjob["idx"]) if body.get("Status") == "Success" else None
            if key:
                body["MediaURL"] = self.store.presigned_url(key, PRESIGN_SECONDS)
