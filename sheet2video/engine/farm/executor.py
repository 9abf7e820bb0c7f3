"""The engine's side of the farm: ``CeleryExecutor`` behind the Executor seam of engine/api/jobs.py.

``submit(task)`` uploads the task's inputs (content-hash keys), derives the task id and output key
from the content (engine/farm/wire.py) and sends one Celery task — unless the bucket or the result
backend already knows it (an engine restarted while tasks were out): then it only waits for, or
takes, that answer. A finished output is downloaded into the engine's outputs folder, checked
against the worker's size and sha256, and handed back as a local render's result, so the store,
/outputs/, posters and GetMediaInfo work as they do without a farm.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from sheet2video.engine.farm.app import AGAIN_PRIORITY, PRIORITY, RENDER_TASK, queue_depth, redact
from sheet2video.engine.farm.wire import build
from sheet2video.engine.media.poster import poster_path
from sheet2video.errors import RenderError
from sheet2video.cloud.storage import content_key, file_sha256

__all__ = ["POLL_SECONDS", "LIVENESS_SECONDS", "LOST_AFTER_SECONDS", "SENT", "CeleryExecutor"]

log = logging.getLogger("sheet2video.farm")

POLL_SECONDS = 0.5
LIVENESS_SECONDS = 3.0  # how often the workers of running tasks are pinged
LOST_AFTER_SECONDS = 15.0  # a task SENT this long ago, with the queue empty, was lost by the broker
SENT = "SENT"  # our state in the result backend: published, not yet taken by a worker


class CeleryExecutor:
    def __init__(self, app, bucket, outputs: Path, broker_url: str = ""):
        self.app = app
        self.bucket = bucket
        self.outputs = Path(outputs)
        self.broker_url = broker_url
        self._send_pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="farm-send")
        self._watching: dict[str, tuple[dict, dict, Future]] = {}  # task id → (message, task, future)
        self._resent_for: dict[str, str] = {}  # task id → the dead worker it was already resent for
        self._lock = threading.Lock()
        self._uploaded: dict[tuple, str] = {}
        self._stop = threading.Event()
        self._last_check = 0.0
        self._silent: dict[str, int] = {}  # worker → liveness checks in a row it did not answer
        self._poller = threading.Thread(target=self._poll_forever, name="farm-results", daemon=True)
        self._poller.start()

    # ------------------------------------------------------------ the seam

    def submit(self, task: dict[str, Any], caller: str = "") -> Future:
        """``caller`` is not used: the farm's queue is shared by every caller of this engine."""
        future: Future = Future()
        self._send_pool.submit(self._send_safely, task, future)
        return future

    def shutdown(self) -> None:
        self._stop.set()
        self._send_pool.shutdown(wait=False, cancel_futures=True)
        with self._lock:
            waiting = [f for _, _, f in self._watching.values()]
            self._watching.clear()
        for future in waiting:
            future.cancel()  # the job resumes on the next start and finds these tasks again

    # ------------------------------------------------------------ sending

    def _send_safely(self, task: dict[str, Any], future: Future) -> None:
        try:
            self._send(task, future)
        except RenderError as error:
            future.set_exception(error)
        except Exception as error:  # storage or broker trouble: this output fails with the reason
            log.exception("farm: cannot send a render")
            reason = str(error).replace(self.broker_url, redact(self.broker_url)) if self.broker_url else str(error)
            future.set_exception(RenderError(f"cannot send the render to the farm: {type(error).__name__}: {reason}",
                                             code="RenderFailed"))

    def _send(self, task: dict[str, Any], future: Future) -> None:
        name = os.path.relpath(task["output"], self.outputs).replace(os.sep, "/")
        message = build(task, name, self._key_of)
        task_id = message["id"]
        if self.bucket.exists(message["output_key"]):  # rendered while the engine was away
            log.warning("farm: %s was rendered while the engine was away: taken from the bucket", name)
            self._land(message, task, future, None)
            return
        result = self.app.AsyncResult(task_id)
        state = result.state
        if state == "SUCCESS":
            self._land(message, task, future, result.result)
            return
        # SENT (queued) or STARTED (on a worker): already out, wait for it. PENDING (unknown to the
        # farm) or a failure of an earlier engine life: send it.
        if state in (SENT, "STARTED", "RETRY"):
            log.warning("farm: %s is still out (%s): waiting for it, not sending it again", name, state.lower())
        else:
            self._publish(message)
        with self._lock:
            self._watching[task_id] = (message, task, future)

    def _publish(self, message: dict[str, Any], again: bool = False) -> None:
        # SENT in the result backend first: an engine restarted before a worker takes the task
        # knows it is queued and does not queue it twice.
        self.app.backend.store_result(message["id"], {"sent": time.time()}, SENT)
        self.app.send_task(RENDER_TASK, args=[message], task_id=message["id"],
                           priority=AGAIN_PRIORITY if again else PRIORITY,  # a lost task goes first
                           time_limit=message["limit"] + 60)  # render() stops FFmpeg at "limit" itself

    def _key_of(self, path: str) -> str:
        """Upload ``path`` once under the hash of its content and return the key."""
        stat = os.stat(path)
        memo = (path, stat.st_size, stat.st_mtime_ns)
        if memo not in self._uploaded:
            digest = file_sha256(path)
            key = content_key(path, "farm", sha256=digest)
            self.bucket.put_file_create_only(path, key)  # False: already there, the same bytes
            self._uploaded[memo] = key
        return self._uploaded[memo]

    # ------------------------------------------------------------ results

    def _poll_forever(self) -> None:
        while not self._stop.wait(POLL_SECONDS):
            try:
                self._poll_once()
            except Exception as error:  # a broker or backend restart: keep polling
                log.warning("farm: cannot read results (%s); retrying", type(error).__name__)

    def _poll_once(self) -> None:
        with self._lock:
            watching = list(self._watching.items())
        out: list[tuple[str, dict, str, dict]] = []
        for task_id, (message, task, future) in watching:
            result = self.app.AsyncResult(task_id)
            state = result.state
            if state in ("SUCCESS", "FAILURE", "REVOKED"):
                with self._lock:
                    if self._watching.pop(task_id, None) is None:
                        continue
                self._resent_for.pop(task_id, None)
                report = result.result if state == "SUCCESS" else {"error": {
                    "code": "RenderFailed", "message": f"the farm task failed: {type(result.result).__name__}: {result.result}"}}
                self._send_pool.submit(self._land_safely, message, task, future, report)
            elif state in (SENT, "STARTED", "PENDING"):  # PENDING: the backend lost what we wrote
                out.append((task_id, message, state, result.info if isinstance(result.info, dict) else {}))
        if out and time.monotonic() - self._last_check >= LIVENESS_SECONDS:
            self._last_check = time.monotonic()
            self._send_again_what_was_lost(out)

    def _send_again_what_was_lost(self, out: list[tuple[str, dict, str, dict]]) -> None:
        """Redis hands out a dead worker's task only after the visibility timeout (which must exceed
        the longest render), and a broker that lost its data forgets queued tasks: the engine sees
        both within seconds — a STARTED task whose worker no longer answers a ping, a SENT (or, when
        the result backend lost it too, PENDING) task while the queue is empty — and sends the task
        again (same id, same output key)."""
        alive = {name for reply in self.app.control.ping(timeout=1.0) for name in reply}
        silent = {info.get("hostname") for _, _, state, info in out if state == "STARTED"} - alive - {None}
        # gone = silent twice in a row: a busy worker that misses one ping keeps its task
        self._silent = {host: self._silent.get(host, 0) + 1 for host in silent}
        queued = None
        for task_id, message, state, info in out:
            if state == "STARTED":
                hostname = info.get("hostname")
                if self._silent.get(hostname, 0) < 2 or self._resent_for.get(task_id) == hostname:
                    continue
                log.warning("farm: worker %s is gone; sending %s again", hostname, task_id)
                self._resent_for[task_id] = hostname
                self._publish(message, again=True)
            elif state == "PENDING" or time.time() - float(info.get("sent") or 0) > LOST_AFTER_SECONDS:
                if queued is None:
                    queued = queue_depth(self.app)
                # the queue was empty before this read and still nobody started it: the message is lost
                # (the state read during the poll is older than the ping: workers may have taken it since)
                if queued == 0 and self.app.AsyncResult(task_id).state in (SENT, "PENDING"):
                    log.warning("farm: %s was queued but the queue is empty; sending it again", task_id)
                    self._publish(message, again=True)

    def _land_safely(self, message, task, future, report) -> None:
        try:
            self._land(message, task, future, report)
        except RenderError as error:
            future.set_exception(error)
        except Exception as error:
            log.exception("farm: cannot fetch %s", message["output_key"])
            future.set_exception(RenderError(f"cannot fetch the rendered video from storage: {type(error).__name__}: {error}",
                                             code="RenderFailed"))

    def _land(self, message, task, future: Future, report: dict | None) -> None:
        """Download the output into the engine's outputs folder (atomically) and finish ``future``."""
        if future.cancelled():
            return
        if report and report.get("error"):
            error = report["error"]
            future.set_exception(RenderError(error.get("message", "render failed"), code=error.get("code", "RenderFailed")))
            return
        output = task["output"]
        # get_file streams to OUTPUT.part (resumed after an engine crash), checks size and sha256
        # against the object, and renames into place: the outputs folder never holds half a video.
        digest = self.bucket.get_file(message["output_key"], output)
        if report and report.get("sha256") and digest != report["sha256"]:
            os.unlink(output)
            raise RenderError(f"{message['output_key']}: the video in the bucket is not the one the worker "
                              f"{report.get('worker')} rendered (sha256 differs)", code="RenderFailed")
        poster = None
        if (report or {}).get("poster_key") or self.bucket.exists(message["poster_key"]):
            poster = poster_path(output)
            self.bucket.get_file(message["poster_key"], poster)
        warnings = (report or {}).get("warnings", task.get("warnings") or [])
        future.set_result({"path": output, "duration": round(float(task["duration"]), 3), "warnings": warnings,
                           "poster": poster})
