"""Running batch jobs: plan each job, render its outputs on a bounded pool, record, call back (notify.py).

The pool sits behind the ``Executor`` seam: it receives plain data (``RenderTask.to_dict()``) and
returns plain data, so a distributed task engine can take its place later.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from concurrent.futures import CancelledError, Future
from pathlib import Path
from typing import Any, Protocol

from sheet2video.engine.api import templates
from sheet2video.engine.api.budgets import JobBudget
from sheet2video.engine.api.fair import FairPool
from sheet2video.engine.speech.synthesis import QueuedSynthesizer
from sheet2video.engine.timeline.planner import JobPlanner
from sheet2video.engine.render import RenderTask, render
from sheet2video.engine.api.notify import notify
from sheet2video.engine.api.store import Store
from sheet2video.errors import RenderError, Sheet2VideoError
from sheet2video.engine.outbound import OutboundPolicy

__all__ = ["PLANNING_THREADS", "PLANNING_PER_CALLER", "Executor", "LocalExecutor", "JobRunner", "default_workers"]

log = logging.getLogger("sheet2video.engine")

# Planning mostly waits (for speech lines on their own pools, for probes), so it gets more threads
# than cores; a caller holds at most two of them, so one caller's jobs never keep another's waiting.
PLANNING_THREADS = 8
PLANNING_PER_CALLER = 2
SPEECH_NICE = 10  # as a render's FFmpeg: speaking a campaign's lines yields the CPU to the API


class Executor(Protocol):
    """Renders tasks. ``caller`` (the job's AccessKey id) lets a pool be fair between callers."""

    def submit(self, task: dict[str, Any], caller: str = "") -> Future: ...

    def shutdown(self) -> None: ...


class LocalExecutor:
    """Render on this machine: ``workers`` FFmpeg processes at once, ``threads`` x264 threads each,
    taken round-robin from the callers' queues. A render is stopped after ``timeout_factor`` × the
    output's duration, and never sooner than ``timeout_floor`` seconds."""

    def __init__(self, workers: int, threads: int | None = None, preset: str = "veryfast", *,
                 timeout_factor: float = 30.0, timeout_floor: float = 120.0):
        self.workers = workers
        self.threads = threads
        self.preset = preset
        self.timeout_factor = timeout_factor
        self.timeout_floor = timeout_floor
        self._pool = FairPool(workers, "render")

    def submit(self, task: dict[str, Any], caller: str = "") -> Future:
        return self._pool.submit(caller, self._run, task)

    def timeout_for(self, task: dict[str, Any]) -> float:
        return max(self.timeout_floor, self.timeout_factor * float(task["duration"]))

    def _run(self, task: dict[str, Any]) -> dict[str, Any]:
        result = render(RenderTask.from_dict(task), threads=self.threads, preset=self.preset,
                        timeout=self.timeout_for(task))
        return result.to_dict()

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


class JobRunner:
    def __init__(self, store: Store, planner: JobPlanner, executor: Executor, outputs: Path, *,
                 callback_auth_key: str | None = None, render_outputs: bool = True, publish=None,
                 callbacks: OutboundPolicy | None = None, budget: JobBudget | None = None):
        self.store = store
        self.planner = planner
        self.executor = executor
        self.outputs = outputs
        self.callback_auth_key = callback_auth_key
        self.callbacks = callbacks or OutboundPolicy()  # where NotifyAddress may point (a shared server's default)
        self.render_outputs = render_outputs
        self.publish = publish  # (job, subjob, path) → None: puts an output into object storage (engine/media/objects.py)
        self.budget = budget or JobBudget()
        # Fair between callers (AccessKey ids): planning, and speech line by line. Each speech engine
        # speaks one line at a time (a process-wide lock in speech/piper.py, espeak_library.py), so
        # each gets a one-thread pool: the fair queue, not that lock, decides whose line is next.
        self._planning = FairPool(PLANNING_THREADS, "plan", per_caller=PLANNING_PER_CALLER)
        self._speech: dict[str, FairPool] = {}  # speech engine → its pool
        self._lock = threading.Lock()
        self._stopped = False

    def dispatch(self, job_id: str) -> None:
        job = self.store.job(job_id)
        if not self._stopped and job is not None:
            self._planning.submit(job["key_id"], self._safely, job_id)

    def resume(self) -> int:
        unfinished = self.store.unfinished_jobs()
        for job_id in unfinished:
            self.dispatch(job_id)
        return len(unfinished)

    def stop(self) -> None:
        self._stopped = True
        self._planning.shutdown(wait=False, cancel_futures=True)
        with self._lock:
            speech = list(self._speech.values())
        for pool in speech:  # a job waiting for a line stops there and resumes on the next start
            pool.shutdown(wait=False, cancel_futures=True)
        self.executor.shutdown()

    def _safely(self, job_id: str) -> None:
        try:
            self._start(job_id)
        except CancelledError:
            return  # shutting down while it waited for speech: the job resumes on the next start
        except Exception as error:  # never lose a job to a bug: fail it with the reason
            log.exception("job %s crashed", job_id)
            self._fail_all(job_id, "InternalError", f"{type(error).__name__}: {error}")

    def _start(self, job_id: str) -> None:
        job = self.store.job(job_id)
        if job is None or job["status"] in ("Finished", "Failed"):
            return
        self.store.set_job_status(job_id, "Processing")
        subjobs = self.store.subjobs(job_id)
        params = {k: json.loads(job[c]) if job[c] else None for k, c in
                  (("InputConfig", "input_config"), ("EditingConfig", "editing_config"), ("OutputConfig", "output_config"))}
        params = templates.apply(params, job.get("extend_input"))  # the template it picked, under its own configs
        paths = [str(self.outputs / s["output_path"]) for s in subjobs]
        try:
            tasks = self.planner.plan(params, paths, speech=self._job_speech(job["key_id"]))
            self.budget.check_planned(tasks)  # real durations: over budget fails here, before any render
        except RenderError as error:
            self._fail_all(job_id, error.code, error.message)
            return
        preview_only = bool((params.get("OutputConfig") or {}).get("GeneratePreviewOnly"))
        pending = [(s, t) for s, t in zip(subjobs, tasks) if s["status"] != "Success"]
        if not pending:
            self._finish(job_id)
            return
        remaining = {"n": len(pending)}
        for subjob, task in pending:
            if preview_only or not self.render_outputs:
                # a preview keeps its plan: GetEditingProject shows it as the sub-job's timeline
                plan = json.dumps(task.to_dict(), ensure_ascii=False) if preview_only else None
                self.store.set_subjob(subjob["job_id"], "Success", duration=task.duration, used=task.used, plan=plan)
                self._one_done(job_id, remaining)
                continue
            # what it uses (title, speech, voice, shots: a few kB, not the plan) is its project while it renders
            self.store.set_subjob(subjob["job_id"], "Processing", used=task.used)
            future = self.executor.submit(task.to_dict(), job["key_id"])
            future.add_done_callback(lambda f, s=subjob: self._rendered(job_id, s, f, remaining))

    def speech_queued(self, caller: str) -> int:
        """Lines of ``caller``'s jobs waiting for their speech engine."""
        with self._lock:
            return sum(pool.queued(caller) for pool in self._speech.values())

    def _speech_pool(self, engine: str) -> FairPool:
        with self._lock:
            if engine not in self._speech:
                self._speech[engine] = FairPool(1, f"speech-{engine}", nice=SPEECH_NICE)
                if self._stopped:  # a job still planning after stop(): its lines are cancelled
                    self._speech[engine].shutdown(wait=False, cancel_futures=True)
            return self._speech[engine]

    def _job_speech(self, caller: str) -> QueuedSynthesizer | None:
        """The planner's synthesizer for one job: each line charged to the job's speech budget,
        then queued under its caller on its engine's pool (this thread waits for it)."""
        speech = self.planner.speech
        if speech is None:
            return None
        meter = self.budget.speech_meter()
        route = getattr(speech, "route", None)  # which engine speaks a line (DefaultSynthesizer)

        def run(synthesize, text, voice, rate, language):
            meter.charge(text, voice, rate, language)
            engine = route(text, voice, language)[0] if route else "speech"
            return self._speech_pool(engine).submit(caller, synthesize, text, voice, rate, language).result()

        return QueuedSynthesizer(speech, run)

    def _rendered(self, job_id: str, subjob: dict[str, Any], future: Future, remaining: dict[str, int]) -> None:
        if future.cancelled():
            return  # shutting down: the job resumes on the next start
        error = future.exception()
        if error is None and self.publish is not None:
            try:
                self.publish(self.store.job(job_id), subjob, future.result()["path"])
            except RenderError as failure:
                error = failure
        if error is None:
            result = future.result()
            media_id = self.store.register_media(result["path"], "video", title=Path(result["path"]).name,
                                                 business_type="general", client_token=None, overwrite=True)
            # render() checked the file (engine/media/verify.py) before returning; its warnings stay with the row.
            self.store.set_subjob(subjob["job_id"], "Success", duration=result["duration"], media_id=media_id,
                                  warnings=result.get("warnings") or [], used=result.get("used") or {})
        else:
            code = getattr(error, "code", "InternalError")
            message = error.message if isinstance(error, Sheet2VideoError) else f"{type(error).__name__}: {error}"
            self.store.set_subjob(subjob["job_id"], "Failed", error_code=code, error_message=message)
        self._one_done(job_id, remaining)

    def _one_done(self, job_id: str, remaining: dict[str, int]) -> None:
        with self._lock:
            remaining["n"] -= 1
            last = remaining["n"] == 0
        if last:
            self._finish(job_id)

    def _fail_all(self, job_id: str, code: str, message: str) -> None:
        for subjob in self.store.subjobs(job_id):
            if subjob["status"] != "Success":
                self.store.set_subjob(subjob["job_id"], "Failed", error_code=code, error_message=message)
        self._finish(job_id)

    def _finish(self, job_id: str) -> None:
        subjobs = self.store.subjobs(job_id)
        failed = [s for s in subjobs if s["status"] == "Failed"]
        if subjobs and len(failed) == len(subjobs):
            first = failed[0]
            self.store.set_job_status(job_id, "Failed", {"ErrorCode": first["error_code"], "ErrorMessage": first["error_message"]})
        else:
            self.store.set_job_status(job_id, "Finished")
        notify(self.store.job(job_id), self.callbacks, self.callback_auth_key)


def default_workers() -> int:
    return max(1, os.cpu_count() or 1)
