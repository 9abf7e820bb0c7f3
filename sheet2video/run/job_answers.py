"""What a GetBatchMediaProducingJob answer and a ledger entry put into the result cells."""

from __future__ import annotations

import json
from typing import Any

from sheet2video.run.ledger import Entry

__all__ = ["job_error", "result_values"]


def result_values(entry: Entry) -> dict[str, str]:
    return {
        "job_id": entry.job_id or "",
        "status": entry.status,
        "videos": "\n".join(entry.videos),
        "media_ids": "\n".join(entry.media_ids),
        "durations": "\n".join(f"{d:.2f}" for d in entry.durations),
        "error": entry.error,
        "updated_at": entry.updated_at,
    }


def job_error(job: dict[str, Any]) -> str:
    try:
        extend = json.loads(job.get("Extend") or "{}")
    except json.JSONDecodeError:
        extend = {}
    if isinstance(extend, dict) and extend.get("ErrorCode"):
        return f"{extend['ErrorCode']}: {extend.get('ErrorMessage', '')}".strip()
    failed = [s for s in job.get("SubJobList") or [] if s.get("Status") == "Failed"]
    if failed:
        first = failed[0]
        return f"{len(failed)} of {len(job['SubJobList'])} video(s) failed — {first.get('ErrorCode')}: {first.get('ErrorMessage', '')}"
    warnings = _job_warnings(job)
    return ("warning: " + "; ".join(dict.fromkeys(warnings))) if warnings else ""


def _job_warnings(job: dict[str, Any]) -> list[str]:
    """Warnings the local engine puts in the job's ExtendOutput: ``{"Warnings": {sub-job id: [...]}}``."""
    try:
        extend = json.loads(job.get("ExtendOutput") or "{}")
    except (json.JSONDecodeError, TypeError):
        return []
    found = extend.get("Warnings") if isinstance(extend, dict) else None
    if not isinstance(found, dict):
        return []
    return [str(w) for ws in found.values() if isinstance(ws, list) for w in ws]
