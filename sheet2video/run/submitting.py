"""Submitting: which jobs this run sends, and sending one so that the ledger records it on both
sides of the call (a crash in between leaves ``Submitting``; the rerun resends the same ClientToken)."""

from __future__ import annotations

from typing import Any

from sheet2video.errors import ImsError
from sheet2video.plan.campaign import PlannedJob, client_token
from sheet2video.ratelimit import TokenBucket
from sheet2video.run.callbacks import with_notify
from sheet2video.run.context import RunContext
from sheet2video.run.ledger import SUBMITTING, Entry
from sheet2video.run.options import RunOptions
from sheet2video.run.outcomes import skip_reason
from sheet2video.run.service_errors import ServiceError, stops_the_run
from sheet2video.run.summary import RunSummary

__all__ = ["decide", "sort_jobs", "submit"]


def decide(entry: Entry | None, job: PlannedJob, options: RunOptions, submit: bool) -> tuple[str, int]:
    """What to do with one job on this run: ("submit", attempt) / ("follow", _) / ("skip", _)."""
    if entry is None:
        return ("submit", 0) if submit else ("skip", 0)
    if entry.content_hash != job.content_hash:  # the row changed: a new job, a new token
        return ("submit", entry.attempt + 1) if submit else ("skip", 0)
    if not entry.final:
        return "follow", entry.attempt
    if submit and (options.force or (options.retry_failed and entry.status == "Failed")):
        return "submit", entry.attempt + 1
    return "skip", 0


def sort_jobs(context: RunContext, summary: RunSummary, submit: bool) -> tuple[list[tuple[PlannedJob, int]], dict[str, PlannedJob]]:
    """The jobs to submit as (job, attempt), first those a crash left half-submitted, and the jobs
    already in flight by key; skipped jobs are counted in ``summary`` with their reason."""
    to_submit: list[tuple[PlannedJob, int]] = []   # (job, attempt)
    follow: list[tuple[PlannedJob, Entry]] = []
    for job in context.planned:
        entry = context.entry(job.key)
        action, attempt = decide(entry, job, context.options, submit)
        if action == "submit":
            to_submit.append((job, attempt))
        elif action == "follow":
            follow.append((job, entry))
        else:
            summary.skipped += 1
            reason = skip_reason(entry, job.content_hash)
            summary.skipped_reasons[reason] = summary.skipped_reasons.get(reason, 0) + 1
    in_flight: dict[str, PlannedJob] = {}
    for job, entry in follow:
        if entry.status == SUBMITTING:  # a crash between intent and answer: same token, same job
            to_submit.insert(0, (job, entry.attempt))
        else:
            in_flight[job.key] = job
            summary.resumed += 1
    return to_submit, in_flight


def submit(context: RunContext, job: PlannedJob, attempt: int, bucket: TokenBucket) -> bool:
    """Send one job; True when the service took it, False when it refused it (the row is Failed)."""
    token = client_token(context.identity, job.key, job.content_hash, attempt) if attempt else job.params["ClientToken"]
    context.ledger.begin_submit(context.backend.name, job.key, job.rows, job.content_hash, attempt, token)
    params = {k: v for k, v in job.params.items() if k != "ClientToken"}
    if context.options.callback_url:
        params["UserData"] = with_notify(params.get("UserData"), context.options.callback_url)
    bucket.wait()
    with context.sigint.critical():  # Ctrl+C waits for the answer and for the ledger to record it
        return _send(context, job, token, params)


def _send(context: RunContext, job: PlannedJob, token: str, params: dict[str, Any]) -> bool:
    ledger, backend = context.ledger, context.backend
    try:
        job_id = backend.client.submit_batch_job(
            input_config=params["InputConfig"], editing_config=params.get("EditingConfig"),
            output_config=params["OutputConfig"], user_data=params.get("UserData"),
            template_config=params.get("TemplateConfig"), client_token=token,
        )
    except ImsError as error:
        if stops_the_run(error):
            raise ServiceError(error) from None
        ledger.update(backend.name, job.key, status="Failed", error=f"{error.code}: {error.message}")
        context.reporter.info(f"job {job.key} (row {job.rows[0]}) refused: {error.code}: {error.message}")
        return False
    ledger.submitted(backend.name, job.key, job_id)
    context.reporter.info(f"submitted {job.key} (row {', '.join(map(str, job.rows))}) → {job_id}")
    return True
