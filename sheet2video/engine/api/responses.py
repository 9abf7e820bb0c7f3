"""Answers shaped field by field like the official response models (``alibabacloud_ice20201109.models``):
nothing they do not define, and what they define only where the engine has an honest value.

``GetBatchMediaProducingJobResponseBodyEditingBatchJob`` has ``ExtendInput``/``ExtendOutput`` and its
sub-jobs ``ProjectId``; the list item (``ListBatchMediaProducingJobsResponseBodyEditingBatchJobList``)
has neither, and no model has ``TemplateConfig`` (it stays a request parameter; the template a job
applied is its ``ExtendInput``). Sub-jobs have no ``ExtendOutput``, so what the engine can say about
each finished video goes in the job's ``ExtendOutput``, keyed by sub-job id: ``Warnings`` (damaged
inputs that still rendered), ``Used`` (the title, speech, voice and shots it got) and ``Posters`` (the URL of
its poster frame, engine/media/poster.py) — the report shows them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

from sheet2video.engine.media.poster import poster_path

__all__ = ["job_body", "subjob_body"]


def job_body(job: dict[str, Any], subjobs: list[dict[str, Any]] | None = None,
             url_for: Callable[[Path], str | None] | None = None, outputs: Path | None = None) -> dict[str, Any]:
    """A Get answer's ``EditingBatchJob`` (with ``subjobs``) or a List answer's item (without)."""
    body = {
        "JobId": job["job_id"], "JobType": job["job_type"], "Status": job["status"],
        "InputConfig": job["input_config"] or "", "EditingConfig": job["editing_config"] or "",
        "OutputConfig": job["output_config"] or "", "UserData": job["user_data"] or "",
        "Extend": job["extend"] or "{}", "CreateTime": job["create_time"], "ModifiedTime": job["modified_time"],
    }
    if job["complete_time"]:
        body["CompleteTime"] = job["complete_time"]
    if subjobs is None:
        return body
    if job.get("extend_input"):
        body["ExtendInput"] = job["extend_input"]
    extend = _extend_output([s for s in subjobs if s["status"] == "Success"], url_for, outputs)
    if extend:
        body["ExtendOutput"] = json.dumps(extend, ensure_ascii=False)
    body["SubJobList"] = [subjob_body(s, url_for, outputs) for s in subjobs]
    return body


def _extend_output(finished: list[dict[str, Any]], url_for, outputs: Path | None) -> dict[str, Any]:
    extend: dict[str, Any] = {}
    for name, column in (("Warnings", "warnings"), ("Used", "used")):
        found = {s["job_id"]: json.loads(s[column]) for s in finished if s.get(column)}
        if found:
            extend[name] = found
    posters = {}
    for s in finished:
        poster = Path(poster_path(outputs / s["output_path"])) if outputs is not None and s.get("output_path") else None
        if poster is not None and poster.is_file() and url_for is not None:
            posters[s["job_id"]] = url_for(poster)
    if posters:
        extend["Posters"] = posters
    return extend


def subjob_body(subjob: dict[str, Any], url_for: Callable[[Path], str | None], outputs: Path) -> dict[str, Any]:
    body: dict[str, Any] = {"JobId": subjob["job_id"], "Status": subjob["status"]}
    if subjob.get("project_id"):
        body["ProjectId"] = subjob["project_id"]
    if subjob["status"] == "Success":  # a preview has no video: no MediaURL or MediaId, only its project
        path = outputs / subjob["output_path"]
        if path.exists():
            body["MediaURL"] = url_for(path)
        if subjob["media_id"]:
            body["MediaId"] = subjob["media_id"]
        body["Duration"] = subjob["duration"]
    if subjob["status"] == "Failed":
        body["ErrorCode"] = subjob["error_code"] or "InternalError"
        body["ErrorMessage"] = subjob["error_message"] or ""
    return body
