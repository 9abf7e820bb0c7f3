"""Waiting: bring the ledger up to date for the jobs in flight, and report how far the run got."""

from __future__ import annotations

from datetime import datetime, timedelta

from sheet2video.errors import ImsError
from sheet2video.plan.campaign import PlannedJob
from sheet2video.ratelimit import TokenBucket
from sheet2video.report.details import video_details
from sheet2video.run.context import RunContext
from sheet2video.run.job_answers import job_error
from sheet2video.run.ledger import FINAL
from sheet2video.run.service_errors import FATAL_CODES, ServiceError, stops_the_run

__all__ = ["LIST_SCREEN_MIN", "poll", "report_progress"]

LIST_SCREEN_MIN = 10  # above this many jobs in flight, poll with List pages instead of one Get per job


def poll(context: RunContext, in_flight: dict[str, PlannedJob], bucket: TokenBucket) -> bool:
    """Bring the ledger up to date for the jobs in flight; True when anything changed.

    With many jobs in flight, a few List calls say which ones changed status, and only those
    are read with Get: polling costs pages of 100, not one call per job."""
    ledger, backend = context.ledger, context.backend
    changed = False
    screened = _screen(context, in_flight, bucket) if len(in_flight) > LIST_SCREEN_MIN else None
    for key in list(in_flight):
        entry = context.entry(key)
        if screened is not None:
            listed = screened.get(entry.job_id)
            if listed not in FINAL:
                if listed and listed != entry.status:
                    ledger.update(backend.name, key, status=listed, error=entry.error)
                    changed = True
                continue
        bucket.wait()
        try:
            job = backend.client.get_batch_job(entry.job_id)
        except ImsError as error:
            if stops_the_run(error):
                raise ServiceError(error) from None
            ledger.update(backend.name, key, status="Failed", error=f"{error.code}: {error.message}")
            in_flight.pop(key)
            changed = True
            continue
        status = job.get("Status", "Processing")
        subjobs = job.get("SubJobList") or []
        ok = [s for s in subjobs if s.get("Status") == "Success"]
        videos = [backend.video_ref(s.get("MediaURL", "")) for s in ok if s.get("MediaURL")]
        error = job_error(job)
        if status != entry.status or videos != entry.videos:
            changed = True
        ledger.update(backend.name, key, status=status, videos=videos,
                      media_ids=[s.get("MediaId", "") for s in ok],
                      durations=[float(s.get("Duration") or 0) for s in ok], error=error,
                      details=video_details(job, backend.video_ref))
        if status in FINAL:
            in_flight.pop(key)
            context.reporter.info(f"{key}: {status}" + (f" — {error}" if error else f", {len(videos)} video(s)"))
    return changed


def _screen(context: RunContext, in_flight: dict[str, PlannedJob], bucket: TokenBucket) -> dict[str, str]:
    """JobId → status for every job listed since the oldest submission in flight."""
    entries = [context.entry(key) for key in in_flight]
    since = min(e.submitted_at or e.updated_at for e in entries)
    since = (datetime.strptime(since, "%Y-%m-%dT%H:%M:%SZ") - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    statuses: dict[str, str] = {}
    try:
        for status in ("Finished", "Failed", "Processing"):
            for job in context.backend.client.iter_batch_jobs(before_page=bucket.wait, Status=status, StartTime=since):
                statuses[job.get("JobId")] = job.get("Status")
    except ImsError as error:
        if FATAL_CODES.match(error.code or ""):
            raise ServiceError(error) from None
        return {e.job_id: "Finished" for e in entries}  # List unavailable: Get every job this round
    return statuses


def report_progress(context: RunContext) -> None:
    """Status counts of this run's jobs, for the reporter's progress display."""
    counts: dict[str, int] = {}
    keys = {j.key for j in context.planned}
    for entry in context.ledger.all(context.backend.name):
        if entry.job_key in keys:
            counts[entry.status] = counts.get(entry.status, 0) + 1
    context.reporter.progress(counts, len(context.planned))
