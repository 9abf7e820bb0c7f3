"""Running batch jobs: plan each job, render its outputs on a bounded pool, record, call back.

The pool sits behind the ``Executor`` seam: it receives plain data (``RenderTask.to_dict()``) and
returns plain data, so a distributed task engine can take its place later.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, Protocol

import requests

from sheet2video.engine.api import templates
from sheet2video.engine.timeline.planner import JobPlanner
from sheet2video.engine.render import RenderTask, render
from sheet2video.engine.api.store import Store, utc_now
from sheet2video.errors import RenderError, Sheet2VideoError
from sheet2video.cloud.callback_auth import callback_signature

__all__ = ["Executor", "LocalExecutor", "JobRunner", "default_workers"]

log = logging.getLogger("sheet2video.engine")


class Executor(Protocol):
    def submit(self, task: dict[str, Any]) -> Future: ...

    def shutdown(self) -> None: ...


class LocalExecutor:
    """Render on this machine: ``workers`` FFmpeg processes at once, ``threads`` x264 threads each."""

    def __init__(self, workers: int, threads: int | None = None, preset: str = "veryfast"):
        self.workers = workers
        self.threads = threads
        self.preset = preset
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="render")

    def submit(self, task: dict[str, Any]) -> Future:
        return self._pool.submit(self._run, task)

    def _run(self, task: dict[str, Any]) -> dict[str, Any]:
        result = render(RenderTask.from_dict(task), threads=self.threads, preset=self.preset)
        return result.to_dict()

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


class JobRunner:
    def __init__(self, store: Store, planner: JobPlanner, executor: Executor, outputs: Path, *,
                 callback_auth_key: str | None = None, render_outputs: bool = True, publish=None):
        self.store = store
        self.planner = planner
        self.executor = executor
        self.outputs = outputs
        self.callback_auth_key = callback_auth_key
        self.render_outputs = render_outputs
        self.publish = publish  # (job, subjob, path) → None: puts an output into object storage (engine/media/objects.py)
        self._planning = ThreadPoolExecutor(max_workers=2, thread_name_prefix="plan")
        self._lock = threading.Lock()
        self._stopped = False

    def dispatch(self, job_id: str) -> None:
        if not self._stopped:
            self._planning.submit(self._safely, job_id)

    def resume(self) -> int:
        unfinished = self.store.unfinished_jobs()
        for job_id in unfinished:
            self.dispatch(job_id)
        return len(unfinished)

    def stop(self) -> None:
        self._stopped = True
        self._planning.shutdown(wait=False, cancel_futures=True)
        self.executor.shutdown()

    def _safely(self, job_id: str) -> None:
        try:
            self._start(job_id)
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
            tasks = self.planner.plan(params, paths)
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
                plan = json.dumps(task.to_dict(), ensure_ascii=False) if subjob.get("project_id") else None
                self.store.set_subjob(subjob["job_id"], "Success", duration=task.duration, used=task.used, plan=plan)
                self._one_done(job_id, remaining)
                continue
            self.store.set_subjob(subjob["job_id"], "Processing")
            future = self.executor.submit(task.to_dict())
            future.add_done_callback(lambda f, s=subjob: self._rendered(job_id, s, f, remaining))

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
        self._notify(job_id)

    # ------------------------------------------------------------ callbacks (reference §5)

    def _notify(self, job_id: str) -> None:
        job = self.store.job(job_id)
        try:
            address = (json.loads(job["user_data"] or "{}") or {}).get("NotifyAddress")
        except (json.JSONDecodeError, AttributeError):
            return
        if not address or not str(address).startswith(("http://", "https://")):
            return
        event = {
            "EventType": "BatchProduceMediaComplete",
            "UserId": 0,
            "EventTime": utc_now(),
            "MessageBody": {"Status": job["status"], "UserData": job["user_data"], "JobId": job_id},
        }
        threading.Thread(target=self._post_callback, args=(address, event), daemon=True, name="callback").start()

    def _post_callback(self, address: str, event: dict[str, Any], tries: int = 3) -> None:
        body = json.dumps(event, ensure_ascii=False).encode()
        for attempt in range(tries):
            headers = {"Content-Type": "application/json"}
            if self.callback_auth_key:
                stamp = str(int(time.time()))
                headers["X-ICE-TIMESTAMP"] = stamp
                headers["X-ICE-SIGNATURE"] = callback_signature(address, stamp, self.callback_auth_key)
            try:
                response = requests.post(address, data=body, headers=headers, timeout=(5, 10))
                if response.status_code < 500:
                    return
            except requests.RequestException:
                pass
            if attempt + 1 < tries:
                time.sleep(0.5 * 2**attempt)  # backoff between callback tries; a failing receiver never fails the job
        log.warning("callback to %s failed after %d tries", address, tries)


def default_workers() -> int:
    return max(1, os.cpu_count() or 1)
