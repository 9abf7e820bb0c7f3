"""``sheet2video run`` / ``sync``: plan → ledger → submit in chunks → wait → write results back.

The flow for one sheet:

1. read and preflight every selected row (nothing is sent while any row is invalid);
2. take the sheet's lock, open its ledger, start or reach the backend;
3. decide per job: submit (new, changed, ``--retry-failed``, ``--force``), resend a submission a
   crash interrupted (same ClientToken → same JobId), follow a job still in flight, or skip
   (``submitting.py``);
4. submit in chunks under a token-bucket QPS limit and a cap on jobs in flight, the ledger
   committed before and after every submit, statuses written back after every chunk (paced, see
   ``results.SavePacer``, so a huge workbook is not saved more than it is worked on);
5. poll (with backoff, ``polling.py``) or take callbacks until every job ends, then write the
   results back (``results.py``).

Ctrl+C (SIGINT) stops a run at the first press: the submission under way finishes and is recorded
(the submit call and the ledger line that records its JobId are never split), the sheet is written
with what the ledger knows, and ``Interrupted`` carries one line for the CLI (exit 130). Further
presses are ignored while that happens. The embedded engine's FFmpeg is then killed when the CLI
exits (render.py ties it to the process), not waited for: a render can take minutes, and the
engine resumes the job — temp files removed — on the next run.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from sheet2video.cloud.local_media import as_uploaded, open_cloud_media
from sheet2video.errors import ConfigError
from sheet2video.plan.campaign import PlannedJob, plan_campaign, plan_warnings, sheet_identity
from sheet2video.plan.columns import UnknownColumnCheck
from sheet2video.plan.media_preflight import MediaCheck, probing_disabled
from sheet2video.plan.templating import TemplateSet, load_template_set
from sheet2video.ratelimit import TokenBucket
from sheet2video.run.backends import cloud_problems, open_backend
from sheet2video.run.callbacks import CallbackReceiver
from sheet2video.run.context import RunContext
from sheet2video.run.interrupts import FirstInterrupt, block_sigint, restore_sigint
from sheet2video.run.ledger import Ledger, SheetLock
from sheet2video.run.options import RunOptions
from sheet2video.run.outcomes import disabled_rows, disabled_status, repeat_options
from sheet2video.run.polling import poll, report_progress
from sheet2video.run.preview import preview_folder, preview_job
from sheet2video.run.reporter import Reporter
from sheet2video.run.results import SavePacer, interrupted, summarise, write_report, write_results
from sheet2video.run.submitting import sort_jobs, submit as submit_job
from sheet2video.run.summary import RunSummary
from sheet2video.sheets.read import Sheet, read_sheet
from sheet2video.sheets.write import remove_leftover_temps

__all__ = ["QPS_MARGIN", "Runner", "run_sheet"]

QPS_MARGIN = 0.98


class Runner:
    def __init__(self, sheet_path: Path, options: RunOptions, reporter: Reporter | None = None):
        self.sheet_path = sheet_path
        self.options = options
        self.reporter = reporter or Reporter()
        self._sigint = FirstInterrupt()

    def prepare(self, *, probe: bool = True) -> tuple[Sheet, TemplateSet, list[PlannedJob]]:
        o = self.options
        template_set = load_template_set(o.templates)
        sheet = read_sheet(self.sheet_path, sheet=o.sheet_name, encoding=o.encoding, delimiter=o.delimiter)
        for notice in sheet.notices:
            self.reporter.info(f"note: {notice}")
        checks = []
        if o.backend == "aliyun":
            sent = (lambda planned: as_uploaded(planned, sheet, o.bucket, o.region, o.prefix)) if o.bucket else (lambda planned: planned)
            checks.append(lambda planned: cloud_problems(sent(planned), sheet, template_set, o.region))
        # local files are probed where this machine reads them: the embedded engine (and, to say more than
        # "the cloud cannot read it", aliyun); a remote --endpoint reads its own media root
        if probe and o.probe and not probing_disabled() and (o.backend == "aliyun" or not o.endpoint):
            checks.append(MediaCheck(sheet, template_set, o.media_root if o.backend == "local" else None))
        if o.strict:
            checks.append(UnknownColumnCheck(sheet, template_set))
        planned = plan_campaign(sheet, template_set, o.rows, checks=tuple(checks))
        return sheet, template_set, planned

    def run(self, *, submit: bool = True) -> RunSummary:
        if self.options.preview and (self.options.backend != "local" or self.options.endpoint):
            raise ConfigError("--preview renders drafts on this machine with the embedded engine; drop --backend/--endpoint")
        sheet, template_set, planned = self.prepare(probe=submit)  # sync only collects: a file gone since is no error
        identity = sheet_identity(sheet)
        disabled = disabled_rows(sheet, self.options.rows, {j.key for j in planned}, template_set.key_column)
        if self.options.preview:
            planned = [preview_job(job, identity) for job in planned]
            self.reporter.info(f"preview: one draft per row, short side 360 px, into {preview_folder(self.sheet_path)}; "
                               "the sheet is not written")
        for warning in plan_warnings(sheet, planned, template_set):
            self.reporter.warn(warning)
        with SheetLock(self.sheet_path):
            for leftover in remove_leftover_temps(self.sheet_path):
                self.reporter.info(f"removed {leftover.name}, left by an interrupted save")
            ledger = Ledger.for_sheet(self.sheet_path, preview=self.options.preview)
            in_jobs = sum(len(j.rows) for j in planned)
            summary = RunSummary(sheet=self.sheet_path, ledger=ledger.path, jobs=len(planned), rows=in_jobs + len(disabled),
                                 rows_in_jobs=in_jobs, disabled=len(disabled),
                                 disabled_rows=[n for n, _, _ in disabled], repeat=repeat_options(self.sheet_path, self.options))
            if not self.options.preview:
                ledger.mark_skipped([(n, key, disabled_status(enabled)) for n, key, enabled in disabled],
                                    {n for job in planned for n in job.rows})
            self.reporter.info(f"ledger: {ledger.path}")
            with self._sigint:
                mask = block_sigint()
                try:
                    backend = open_backend(self.sheet_path, self.options)
                except BaseException:  # a bad option
                    restore_sigint(mask)
                    ledger.close()
                    raise
                try:
                    restore_sigint(mask)  # a Ctrl+C pressed while the engine started is raised here
                    context = RunContext(self.sheet_path, self.options, self.reporter, sheet, template_set, planned,
                                         ledger, backend, identity, disabled, self._sigint)
                    self._run(context, summary, submit)
                finally:
                    backend.close()
                    ledger.close()
                    self.reporter.close()
            summary.report = write_report(self.sheet_path, self.reporter)
        return summary

    def _run(self, context: RunContext, summary: RunSummary, submit: bool) -> None:
        """Sort the jobs, reach cloud storage and callbacks if asked, then loop until done."""
        o, backend = self.options, context.backend
        to_submit, in_flight = sort_jobs(context, summary, submit)
        if o.backend == "aliyun":  # local files: uploaded, registered, replaced by MediaIds (cloud_media.py)
            context.cloud = open_cloud_media(self.sheet_path, o, backend.client, backend.name, self.reporter)
        if context.cloud:
            backend.video_ref = context.cloud.video_ref
            to_submit = context.cloud.prepare(to_submit, context.sheet)
        wake = threading.Event()
        receiver = self._listen(wake) if o.callback_url and o.wait else None
        try:
            self._loop(context, summary, to_submit, in_flight, wake)
        except KeyboardInterrupt:
            raise interrupted(context) from None
        finally:
            if receiver:
                receiver.close()
            if context.cloud:
                summary.storage = context.cloud.counts()
                context.cloud.close()

    def _listen(self, wake: threading.Event) -> CallbackReceiver:
        """Receive --callback-url callbacks; each one wakes the poller early."""
        def heard(event: dict) -> None:
            body = event.get("MessageBody") or {}
            self.reporter.info(f"callback: job {body.get('JobId')} {body.get('Status')}")

        mask = block_sigint()
        try:
            return CallbackReceiver(self.options.callback_url, self.options.callback_auth_key, wake, heard)
        finally:
            restore_sigint(mask)

    def _loop(self, context: RunContext, summary: RunSummary, to_submit: list[tuple[PlannedJob, int]],
              in_flight: dict[str, PlannedJob], wake: threading.Event) -> None:
        o, planned = self.options, context.planned
        # paced, no bursts, 2 % under the limit: no 1-second window ever holds more than qps calls, even
        # after a pause or with a little network jitter between our clock and the service's
        bucket = TokenBucket(o.qps * QPS_MARGIN, burst=1)
        reasons = ", ".join(f"{n} {why}" for why, n in summary.skipped_reasons.items())
        self.reporter.info(f"{len(planned)} job(s): {len(to_submit)} to submit, {len(in_flight)} in flight, "
                           f"{summary.skipped} skipped" + (f" ({reasons})" if reasons else ""))
        queue = list(to_submit)
        chunk: list[PlannedJob] = []
        pacer = SavePacer()
        started = time.monotonic()
        delay = o.poll_min
        while queue or (in_flight and o.wait):
            # submit while there is room
            while queue and len(in_flight) < o.max_in_flight:
                job, attempt = queue.pop(0)
                if submit_job(context, job, attempt, bucket):
                    summary.submitted += 1
                    in_flight[job.key] = job
                else:
                    summary.refused += 1
                chunk.append(job)
                if not queue or (len(chunk) >= o.chunk_size and pacer.due(time.monotonic())):
                    save_started = time.monotonic()
                    write_results(context)  # statuses after a chunk
                    pacer.saved(save_started, time.monotonic())
                    chunk = []
            if not o.wait:
                break
            changed = poll(context, in_flight, bucket)
            report_progress(context)
            if o.timeout and time.monotonic() - started > o.timeout:
                self.reporter.info(f"stopped waiting after {o.timeout:.0f} s; the jobs go on — collect them with sync")
                break
            if in_flight and not changed:
                wake.wait(delay)  # a callback ends the wait early
                wake.clear()
                delay = min(o.poll_max, delay * 1.5)
            else:
                delay = o.poll_min
        if not o.wait and in_flight:
            poll(context, in_flight, bucket)  # one look, so the sheet shows the latest status
        if context.cloud and o.download:
            context.cloud.download([v for j in planned if (e := context.entry(j.key)) and e.status == "Finished" for v in e.videos])
        summary.unsent = len(queue)
        summary.written = write_results(context)
        summarise(context, summary)


def run_sheet(sheet_path: Path, options: RunOptions, reporter: Reporter | None = None, *, submit: bool = True) -> RunSummary:
    return Runner(sheet_path, options, reporter).run(submit=submit)
