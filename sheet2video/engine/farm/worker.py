"""The worker's side: one Celery task that renders one output with the engine's own ``render()``.

It never sees the engine's files: inputs come from object storage into a local cache (by content
key, so each is fetched once per machine), the video is rendered into a work folder and uploaded
with a create-only put — a second delivery of the same task (a worker died, the engine restarted,
the broker redelivered) finds the key taken and only reports it. Every delivery leaves an attempt
marker in the bucket first; a task whose worker died ``MAX_ATTEMPTS`` times is failed, not retried.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import socket
import tempfile
import uuid
from pathlib import Path
from typing import Any

from sheet2video.engine.farm.wire import MAX_ATTEMPTS, map_inputs, schema_problem
from sheet2video.errors import Sheet2VideoError
from sheet2video.cloud.storage import file_sha256

__all__ = ["DIE_ON_ENV", "RenderWorker", "die_with_parent", "default_name", "register"]

log = logging.getLogger("sheet2video.farm.worker")

# Testing only: a task whose title contains this text kills its worker process (tests/farm), the
# way a render that runs a machine out of memory would.
DIE_ON_ENV = "SHEET2VIDEO_FARM_DIE_ON"


class RenderWorker:
    """What a worker process needs between tasks: the bucket, its cache, its render settings."""

    def __init__(self, bucket, cache: Path, name: str, threads: int | None = None, preset: str = "veryfast"):
        self.bucket = bucket
        self.cache = cache
        self.name = name
        self.threads = threads
        self.preset = preset
        self.inputs = cache / "inputs"
        self.work = cache / "work" / name.replace("@", "_").replace("/", "_")

    def clean_start(self) -> int:
        """Take this worker's lock and remove what killed workers left in the cache (work folders
        whose lock nobody holds: kill -9 releases it); return how many folders were removed."""
        from sheet2video.errors import LockedError
        from sheet2video.locks import ExclusiveLock

        root = self.work.parent
        root.mkdir(parents=True, exist_ok=True)
        self.inputs.mkdir(parents=True, exist_ok=True)
        self._lock = ExclusiveLock(root / f"{self.work.name}.lock", f"another worker named {self.name} uses {self.cache}",
                                   "give this one another --name or --cache").acquire()
        removed = 0
        for folder in [p for p in root.iterdir() if p.is_dir()]:
            lock = root / f"{folder.name}.lock"
            left = any(folder.iterdir())
            if folder == self.work:
                shutil.rmtree(folder)
                removed += left
                continue
            try:
                with ExclusiveLock(lock, "busy"):
                    shutil.rmtree(folder)  # its worker is gone: nobody holds the lock
                    lock.unlink(missing_ok=True)
                    removed += left
            except LockedError:
                continue  # a live worker sharing this cache
        self.work.mkdir()
        return removed

    # ------------------------------------------------------------ one task

    def run(self, message: dict[str, Any]) -> dict[str, Any]:
        problem = schema_problem(message)
        if problem:
            log.error("refused task: %s", problem)
            return {"error": {"code": "InvalidParameter.TaskSchema", "message": problem}}
        try:
            return self._run(message)
        except Sheet2VideoError as error:
            return {"error": {"code": getattr(error, "code", "RenderFailed"), "message": error.message}}

    def _run(self, message: dict[str, Any]) -> dict[str, Any]:
        key = message["output_key"]
        if self.bucket.exists(key):  # rendered before: by a delivery whose answer was lost, or a twin
            return self._report(message, rendered=False)
        died = self._count_attempt(message["id"])
        if died is not None:
            return {"error": {"code": "RenderFailed", "message": died}}
        from sheet2video.engine.render import RenderTask, render

        folder = Path(tempfile.mkdtemp(prefix=message["id"] + ".", dir=self.work))
        try:
            task = map_inputs(message["task"], self._fetch)
            task["output"] = str(folder / message["task"]["output"])
            self._maybe_die(task)
            result = render(RenderTask.from_dict(task), threads=self.threads, preset=self.preset,
                            timeout=message["limit"])
            # Create-only: if a twin delivery uploaded first, its object stays and this one is dropped.
            if result.poster:
                self.bucket.put_file_create_only(result.poster, message["poster_key"])
            created = self.bucket.put_file_create_only(result.path, key)
            # if a twin was first, report its object (x264 bytes may differ between two renders)
            return self._report(message, rendered=created, local=result.path if created else None,
                                warnings=result.warnings)
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def _report(self, message, *, rendered: bool, local: str | None = None, warnings=None) -> dict[str, Any]:
        if local:
            size, digest = os.path.getsize(local), file_sha256(local)
        else:
            info = self.bucket.head(message["output_key"])
            size, digest = info.size, info.sha256
        return {
            "key": message["output_key"],
            "poster_key": message["poster_key"] if self.bucket.exists(message["poster_key"]) else None,
            "duration": round(float(message["task"]["duration"]), 3),
            "size": size,
            "sha256": digest,  # what the engine checks its download against
            "warnings": list(warnings if warnings is not None else message["task"].get("warnings") or []),
            "worker": self.name,
            "rendered": rendered,
        }

    def _count_attempt(self, task_id: str) -> str | None:
        """Leave marker N of this task (create-only); past MAX_ATTEMPTS the earlier workers all died."""
        marker = self.work / f"{task_id}.attempt"
        marker.write_text(self.name, encoding="utf-8")
        try:
            for n in range(1, MAX_ATTEMPTS + 2):
                if self.bucket.put_file_create_only(str(marker), f"attempts/{task_id}/{n}"):
                    if n <= MAX_ATTEMPTS:
                        return None
                    return (f"the render killed its worker {MAX_ATTEMPTS} times (out of memory or a crash in "
                            f"FFmpeg?); not retried again — see the workers' logs")
            return f"the render killed its worker {MAX_ATTEMPTS} times; not retried again"
        finally:
            marker.unlink(missing_ok=True)

    def _fetch(self, key: str) -> str:
        """The local copy of input ``key`` (content-addressed: a copy on disk is the right one)."""
        local = self.inputs / key.replace("/", "_")
        if not local.is_file():
            landing = self.work / uuid.uuid4().hex  # get_file checks the bytes; then one rename
            self.bucket.get_file(key, str(landing))
            os.replace(landing, local)  # atomic: other worker processes on this machine share the cache
        return str(local)

    def _maybe_die(self, task: dict[str, Any]) -> None:
        marker = os.environ.get(DIE_ON_ENV)
        if marker and any(marker in t.get("text", "") for t in task.get("titles") or []):
            log.warning("testing: %s in a title, this worker process dies", DIE_ON_ENV)
            os.kill(os.getpid(), signal.SIGKILL)


# ------------------------------------------------------------ the Celery side

def die_with_parent() -> None:
    """A pool process gets SIGKILL when the worker's main process dies (kill -9): its render's
    FFmpeg then dies with it (engine/ffmpeg.py, the same prctl), and the unacknowledged task goes to
    another worker."""
    from sheet2video.engine.ffmpeg import die_with

    parent = os.getppid()
    if parent == 1:  # the main process died already
        os._exit(1)
    die_with(parent)


def default_name() -> str:
    return f"sheet2video-{os.getpid()}@{socket.gethostname()}"


def register(app, make_worker) -> None:
    """Register the render task on ``app``; ``make_worker()`` builds the RenderWorker in each pool process."""
    from celery.signals import worker_process_init

    state: dict[str, RenderWorker] = {}

    @worker_process_init.connect(weak=False)
    def _init(**_):
        die_with_parent()
        state.pop("worker", None)  # a fresh boto3 client per process: clients are not fork-safe

    def render_task(message):
        if "worker" not in state:
            state["worker"] = make_worker()
        return state["worker"].run(message)

    from sheet2video.engine.farm.app import RENDER_TASK

    app.task(name=RENDER_TASK, acks_late=True, reject_on_worker_lost=True)(render_task)
