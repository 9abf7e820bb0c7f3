"""``sheet2video run`` / ``sync``: plan → ledger → submit in chunks → wait → write results back.

The flow for one sheet:

1. read and preflight every selected row (nothing is sent while any row is invalid);
2. take the sheet's lock, open its ledger, start or reach the backend;
3. decide per job: submit (new, changed, ``--retry-failed``, ``--force``), resend a submission a
   crash interrupted (same ClientToken → same JobId), follow a job still in flight, or skip;
4. submit in chunks under a token-bucket QPS limit and a cap on jobs in flight, the ledger
   committed before and after every submit, statuses written back after every chunk (paced, see
   ``SavePacer``, so a huge workbook is not saved more than it is worked on);
5. poll (with backoff) or take callbacks until every job ends, then write the results back.

Ctrl+C (SIGINT) stops a run at the first press: the submission under way finishes and is recorded
(the submit call and the ledger line that records its JobId are never split), the sheet is written
with what the ledger knows, and ``Interrupted`` carries one line for the CLI (exit 130). Further
presses are ignored while that happens. The embedded engine's FFmpeg is then killed when the CLI
exits (render.py ties it to the process), not waited for: a render can take minutes, and the
engine resumes the job — temp files removed — on the next run.
"""

from __future__ import annotations

import re
import threading
import time
from datetime import datetime, timedelta
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sheet2video.run.backends import Backend, cloud_problems, open_backend
from sheet2video.run.callbacks import CallbackReceiver, with_notify
from sheet2video.cloud.local_media import as_uploaded, open_cloud_media
from sheet2video.plan.campaign import PlannedJob, client_token, plan_campaign, plan_warnings, sheet_identity
from sheet2video.plan.columns import UnknownColumnCheck
from sheet2video.errors import ConfigError, ImsError, Sheet2VideoError
from sheet2video.run.interrupts import Interrupted, block_sigint, FirstInterrupt, restore_sigint
from sheet2video.run.job_answers import job_error, result_values
from sheet2video.plan.media_preflight import MediaCheck, probing_disabled
from sheet2video.run.ledger import FINAL, SUBMITTING, Entry, Ledger, SheetLock
from sheet2video.run.outcomes import disabled_rows, disabled_status, next_steps, repeat_options, skip_reason
from sheet2video.run.preview import preview_folder, preview_job
from sheet2video.report.details import video_details
from sheet2video.ratelimit import TokenBucket
from sheet2video.sheets.read import Sheet, read_sheet
from sheet2video.plan.templating import TemplateSet, load_template_set
from sheet2video.sheets.write import RowUpdate, WriteOutcome, remove_leftover_temps, write_back

# errors that mean "this run cannot talk to the service", not "this row is wrong"
FATAL_CODES = re.compile(r"^(Signature|IncompleteSignature|InvalidAccessKeyId|InvalidTimeStamp|Forbidden|"
                         r"InvalidSecurityToken|ConnectionError|ReadTimeout|RequestFailed|InvalidVersion|InvalidApi)")
# a failing or throttling service that outlasted the client's retries stops the run too (exit 4): the
# ledger keeps the job as it was (Submitting: a rerun resends the same ClientToken) instead of marking
# a row Failed for a hiccup, which --retry-failed would then submit again as a second, billed job
TRANSIENT_CODES = re.compile(r"^(InternalError|ServiceUnavailable|Throttling|HTTP5\d\d)")
QPS_MARGIN = 0.98
LIST_SCREEN_MIN = 10  # above this many jobs in flight, poll with List pages instead of one Get per job
SAVE_TIME_SHARE = 0.1  # status saves between chunks take at most about this share of a run's time


class SavePacer:
    """When to write statuses back between chunks. A small sheet saves in milliseconds, after every
    chunk; a 10,000-row workbook takes seconds, and saving it after every 10 submits would spend
    most of the run saving. So a save is due only once the time since the last one ended is at least
    (1/share − 1) × what that save took. The ledger, not the sheet, is what makes reruns safe."""

    def __init__(self, share: float = SAVE_TIME_SHARE):
        self.gap_per_second_saving = 1 / share - 1
        self._ended = float("-inf")
        self._took = 0.0

    def due(self, now: float) -> bool:
        return now - self._ended >= self.gap_per_second_saving * self._took

    def saved(self, started: float, ended: float) -> None:
        self._took, self._ended = ended - started, ended


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


@dataclass
class RowResult:
    job: str
    rows: list[int]
    status: str
    videos: list[str]
    error: str


@dataclass
class RunSummary:
    sheet: Path
    ledger: Path
    rows: int = 0
    jobs: int = 0
    submitted: int = 0
    skipped: int = 0
    finished: int = 0
    failed: int = 0
    pending: int = 0
    videos: int = 0
    results: list[RowResult] = field(default_factory=list)
    written: WriteOutcome | None = None
    storage: dict[str, int] | None = None  # cloud runs from local files: files uploaded, registered, downloaded
    # how the counts add up (sheet2video.run.outcomes): rows = rows_in_jobs + disabled;
    # jobs = submitted + refused + resumed + unsent + skipped = finished + failed + pending
    rows_in_jobs: int = 0
    disabled: int = 0                      # rows with enabled = no
    disabled_rows: list[int] = field(default_factory=list)
    resumed: int = 0                       # in flight from an earlier run, followed to the end
    refused: int = 0                       # sent, and refused by the service (Failed)
    unsent: int = 0                        # meant to be submitted, left for the next run (--no-wait, --timeout)
    skipped_reasons: dict[str, int] = field(default_factory=dict)
    rendering: int = 0                     # pending: submitted, not finished yet
    not_submitted: int = 0                 # pending: no job for the row's current content
    repeat: str = ""                       # the sheet and options a follow-up command needs

    @property
    def next_steps(self) -> list[str]:
        return next_steps(self)
    report: Path | None = None             # the HTML report, None when it could not be written

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "sheet": str(self.sheet), "ledger": str(self.ledger), "rows": self.rows, "jobs": self.jobs,
            "submitted": self.submitted, "skipped": self.skipped, "finished": self.finished, "failed": self.failed,
            "pending": self.pending, "videos": self.videos,
            "written": str(self.written.path) if self.written else None,
            "results_copy": bool(self.written and self.written.results_copy),
            "report": str(self.report) if self.report else None,
            "errors": [{"job": r.job, "rows": r.rows, "error": r.error} for r in self.results if r.error],
            "jobs_detail": [{"job": r.job, "rows": r.rows, "status": r.status, "videos": r.videos} for r in self.results],
            **({"storage": self.storage} if self.storage is not None else {}),
            "rows_in_jobs": self.rows_in_jobs, "disabled": self.disabled, "disabled_rows": self.disabled_rows,
            "resumed": self.resumed, "refused": self.refused, "unsent": self.unsent, "skipped_reasons": self.skipped_reasons,
            "rendering": self.rendering, "not_submitted": self.not_submitted, "next_steps": self.next_steps,
        }


class Reporter:
    """What the runner tells a person or a log; the CLI supplies a rich or a plain one."""

    def info(self, message: str) -> None: ...

    def warn(self, message: str) -> None:
        """Something the user should know even with --quiet or --json (it stops nothing)."""
        self.info(f"warning: {message}")

    def progress(self, counts: dict[str, int], total: int) -> None: ...

    def close(self) -> None: ...


# ---------------------------------------------------------------- the run


class Runner:
    def __init__(self, sheet_path: Path, options: RunOptions, reporter: Reporter | None = None):
        self.sheet_path = sheet_path
        self.options = options
        self.reporter = reporter or Reporter()
        self._sigint = FirstInterrupt()
        self._cloud = None  # cloud_media.CloudMedia of a run from local files (--bucket)

    def prepare(self, *, probe: bool = True) -> tuple[Sheet, TemplateSet, list[PlannedJob]]:
        o = self.options
        template_set = load_template_set(o.templates)
        sheet = read_sheet(self.sheet_path, sheet=o.sheet_name, encoding=o.encoding, delimiter=o.delimiter)
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
        self._identity = sheet_identity(sheet)
        self._disabled = disabled_rows(sheet, self.options.rows, {j.key for j in planned}, template_set.key_column)
        if self.options.preview:
            planned = [preview_job(job, self._identity) for job in planned]
            self.reporter.info(f"preview: one draft per row, short side 360 px, into {preview_folder(self.sheet_path)}; "
                               "the sheet is not written")
        for warning in plan_warnings(sheet, planned, template_set):
            self.reporter.warn(warning)
        with SheetLock(self.sheet_path):
            for leftover in remove_leftover_temps(self.sheet_path):
                self.reporter.info(f"removed {leftover.name}, left by an interrupted save")
            ledger = Ledger.for_sheet(self.sheet_path, preview=self.options.preview)
            in_jobs = sum(len(j.rows) for j in planned)
            summary = RunSummary(sheet=self.sheet_path, ledger=ledger.path, jobs=len(planned), rows=in_jobs + len(self._disabled),
                                 rows_in_jobs=in_jobs, disabled=len(self._disabled),
                                 disabled_rows=[n for n, _, _ in self._disabled], repeat=repeat_options(self.sheet_path, self.options))
            if not self.options.preview:
                ledger.mark_skipped([(n, key, disabled_status(enabled)) for n, key, enabled in self._disabled],
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
                    self._run(sheet, template_set, planned, ledger, backend, summary, submit)
                finally:
                    backend.close()
                    ledger.close()
                    self.reporter.close()
            summary.report = self._write_report()
        return summary

    def _write_report(self) -> Path | None:
        """The HTML report next to the sheet; a failure to write it costs nothing else (the sheet and
        ledger are already saved) and is one warning."""
        import sqlite3

        from sheet2video.report import report_path, write_report

        try:
            path = write_report(self.sheet_path)
        except (OSError, sqlite3.Error) as error:
            self.reporter.warn(f"the report {report_path(self.sheet_path).name} could not be written "
                               f"({getattr(error, 'strerror', None) or error}); the results are saved")
            return None
        return path  # the summary names it

    def _run(self, sheet, template_set, planned, ledger, backend, summary, submit) -> None:
        o = self.options
        to_submit: list[tuple[PlannedJob, int]] = []   # (job, attempt)
        follow: list[PlannedJob] = []
        for job in planned:
            entry = ledger.get(backend.name, job.key)
            action, attempt = decide(entry, job, o, submit)
            if action == "submit":
                to_submit.append((job, attempt))
            elif action == "follow":
                follow.append(job)
            else:
                summary.skipped += 1
                reason = skip_reason(entry, job.content_hash)
                summary.skipped_reasons[reason] = summary.skipped_reasons.get(reason, 0) + 1
        in_flight: dict[str, PlannedJob] = {}
        for job in follow:
            entry = ledger.get(backend.name, job.key)
            if entry.status == SUBMITTING:  # a crash between intent and answer: same token, same job
                to_submit.insert(0, (job, entry.attempt))
            else:
                in_flight[job.key] = job
                summary.resumed += 1
        if o.backend == "aliyun":  # local files: uploaded, registered, replaced by MediaIds (cloud_media.py)
            self._cloud = open_cloud_media(self.sheet_path, o, backend.client, backend.name, self.reporter)
        if self._cloud:
            backend.video_ref = self._cloud.video_ref
            to_submit = self._cloud.prepare(to_submit, sheet)

        wake = threading.Event()
        receiver = None
        if o.callback_url and o.wait:
            def heard(event: dict) -> None:
                body = event.get("MessageBody") or {}
                self.reporter.info(f"callback: job {body.get('JobId')} {body.get('Status')}")

            mask = block_sigint()
            try:
                receiver = CallbackReceiver(o.callback_url, o.callback_auth_key, wake, heard)
            finally:
                restore_sigint(mask)
        try:
            self._loop(sheet, template_set, planned, ledger, backend, summary, to_submit, in_flight, wake)
        except KeyboardInterrupt:
            raise self._interrupted(sheet, template_set, planned, ledger, backend) from None
        finally:
            if receiver:
                receiver.close()
            if self._cloud:
                summary.storage = self._cloud.counts()
                self._cloud.close()

    def _interrupted(self, sheet, template_set, planned, ledger: Ledger, backend: Backend) -> Interrupted:
        """Ctrl+C: write the sheet with what the ledger knows (the ledger is committed per step)."""
        unwritten = ""
        try:
            self._write(sheet, template_set, planned, ledger, backend)
        except Sheet2VideoError as error:
            unwritten = f"; the sheet was not written ({error})"
        self._write_report()  # what is done so far is there to look at, too
        entries = [ledger.get(backend.name, job.key) for job in planned]
        statuses = [e.status for e in entries if e is not None]
        finished, failed = statuses.count("Finished"), statuses.count("Failed")
        also = f", {failed} failed" if failed else ""
        return Interrupted(f"interrupted: {finished} of {len(planned)} jobs finished{also}{unwritten}; rerun to continue")

    def _loop(self, sheet, template_set, planned, ledger, backend, summary, to_submit, in_flight, wake) -> None:
        o = self.options
        # paced, no bursts, 2 % under the limit: no 1-second window ever holds more than qps calls, even
        # after a pause or with a little network jitter between our clock and the service's
        bucket = TokenBucket(o.qps * QPS_MARGIN, burst=1)
        total = len(planned)
        reasons = ", ".join(f"{n} {why}" for why, n in summary.skipped_reasons.items())
        self.reporter.info(f"{total} job(s): {len(to_submit)} to submit, {len(in_flight)} in flight, "
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
                if self._submit(job, attempt, ledger, backend, bucket):
                    summary.submitted += 1
                    in_flight[job.key] = job
                else:
                    summary.refused += 1
                chunk.append(job)
                if not queue or (len(chunk) >= o.chunk_size and pacer.due(time.monotonic())):
                    save_started = time.monotonic()
                    self._write(sheet, template_set, planned, ledger, backend)  # statuses after a chunk
                    pacer.saved(save_started, time.monotonic())
                    chunk = []
            if not o.wait:
                break
            changed = self._poll(in_flight, ledger, backend, bucket)
            self._report(ledger, backend, planned)
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
            self._poll(in_flight, ledger, backend, bucket)  # one look, so the sheet shows the latest status
        if self._cloud and o.download:
            self._cloud.download([v for j in planned if (e := ledger.get(backend.name, j.key)) and e.status == "Finished" for v in e.videos])
        summary.unsent = len(queue)
        summary.written = self._write(sheet, template_set, planned, ledger, backend)
        self._summarise(summary, planned, ledger, backend)

    def _submit(self, job: PlannedJob, attempt: int, ledger: Ledger, backend: Backend, bucket: TokenBucket) -> bool:
        token = client_token(self._identity, job.key, job.content_hash, attempt) if attempt else job.params["ClientToken"]
        ledger.begin_submit(backend.name, job.key, job.rows, job.content_hash, attempt, token)
        params = {k: v for k, v in job.params.items() if k != "ClientToken"}
        if self.options.callback_url:
            params["UserData"] = with_notify(params.get("UserData"), self.options.callback_url)
        bucket.wait()
        with self._sigint.critical():  # Ctrl+C waits for the answer and for the ledger to record it
            return self._send(job, token, params, ledger, backend)

    def _send(self, job: PlannedJob, token: str, params: dict[str, Any], ledger: Ledger, backend: Backend) -> bool:
        try:
            job_id = backend.client.submit_batch_job(
                input_config=params["InputConfig"], editing_config=params.get("EditingConfig"),
                output_config=params["OutputConfig"], user_data=params.get("UserData"),
                template_config=params.get("TemplateConfig"), client_token=token,
            )
        except ImsError as error:
            if FATAL_CODES.match(error.code or "") or TRANSIENT_CODES.match(error.code or ""):
                raise ServiceError(error) from None
            ledger.update(backend.name, job.key, status="Failed", error=f"{error.code}: {error.message}")
            self.reporter.info(f"job {job.key} (row {job.rows[0]}) refused: {error.code}: {error.message}")
            return False
        ledger.submitted(backend.name, job.key, job_id)
        self.reporter.info(f"submitted {job.key} (row {', '.join(map(str, job.rows))}) → {job_id}")
        return True

    def _poll(self, in_flight: dict[str, PlannedJob], ledger: Ledger, backend: Backend, bucket: TokenBucket) -> bool:
        """Bring the ledger up to date for the jobs in flight; True when anything changed.

        With many jobs in flight, a few List calls say which ones changed status, and only those
        are read with Get: polling costs pages of 100, not one call per job."""
        changed = False
        screened = self._screen(in_flight, ledger, backend, bucket) if len(in_flight) > LIST_SCREEN_MIN else None
        for key in list(in_flight):
            entry = ledger.get(backend.name, key)
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
                if FATAL_CODES.match(error.code or "") or TRANSIENT_CODES.match(error.code or ""):
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
                self.reporter.info(f"{key}: {status}" + (f" — {error}" if error else f", {len(videos)} video(s)"))
        return changed

    def _screen(self, in_flight, ledger: Ledger, backend: Backend, bucket: TokenBucket) -> dict[str, str]:
        """JobId → status for every job listed since the oldest submission in flight."""
        entries = [ledger.get(backend.name, key) for key in in_flight]
        since = min(e.submitted_at or e.updated_at for e in entries)
        since = (datetime.strptime(since, "%Y-%m-%dT%H:%M:%SZ") - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
        statuses: dict[str, str] = {}
        try:
            for status in ("Finished", "Failed", "Processing"):
                for job in backend.client.iter_batch_jobs(before_page=bucket.wait, Status=status, StartTime=since):
                    statuses[job.get("JobId")] = job.get("Status")
        except ImsError as error:
            if FATAL_CODES.match(error.code or ""):
                raise ServiceError(error) from None
            return {e.job_id: "Finished" for e in entries}  # List unavailable: Get every job this round
        return statuses

    def _report(self, ledger: Ledger, backend: Backend, planned: list[PlannedJob]) -> None:
        counts: dict[str, int] = {}
        keys = {j.key for j in planned}
        for entry in ledger.all(backend.name):
            if entry.job_key in keys:
                counts[entry.status] = counts.get(entry.status, 0) + 1
        self.reporter.progress(counts, len(planned))

    def _write(self, sheet: Sheet, template_set: TemplateSet, planned, ledger: Ledger, backend: Backend) -> WriteOutcome | None:
        if self.options.preview:  # drafts are never written into the result columns
            return None
        updates = []
        for job in planned:
            entry = ledger.get(backend.name, job.key)
            if entry is None:
                continue
            values = result_values(entry)
            if self._cloud:
                values = self._cloud.sheet_values(values)
            for number in job.rows:
                updates.append(RowUpdate(row=number, key=job.key, values=values))
        for number, key, enabled in self._disabled:
            updates.append(RowUpdate(row=number, key=key, values={"status": disabled_status(enabled)}))
        return write_back(self.sheet_path, updates, sheet=self.options.sheet_name, key_column=template_set.key_column,
                          encoding=self.options.encoding, delimiter=self.options.delimiter)

    def _summarise(self, summary: RunSummary, planned, ledger: Ledger, backend: Backend) -> None:
        for job in planned:
            entry = ledger.get(backend.name, job.key)
            stale = entry is None or entry.content_hash != job.content_hash  # no job for what the row says now
            status = "NotSubmitted" if stale else entry.status
            if status == "Finished":
                summary.finished += 1
            elif status == "Failed":
                summary.failed += 1
            else:
                summary.pending += 1
                if status in ("NotSubmitted", SUBMITTING):
                    summary.not_submitted += 1
                else:
                    summary.rendering += 1
            videos = [] if stale else entry.videos
            summary.videos += len(videos)
            summary.results.append(RowResult(job.key, job.rows, status, videos, "" if stale else entry.error))


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


class ServiceError(Sheet2VideoError):
    """The service refused this run as a whole (credentials, signature, unreachable): exit 4."""

    exit_code = 4

    def __init__(self, error: ImsError):
        self.ims = error
        super().__init__(str(error))


def run_sheet(sheet_path: Path, options: RunOptions, reporter: Reporter | None = None, *, submit: bool = True) -> RunSummary:
    return Runner(sheet_path, options, reporter).run(submit=submit)


__all__ = ["Interrupted", "RunOptions", "RunSummary", "Runner", "TokenBucket", "run_sheet"]
