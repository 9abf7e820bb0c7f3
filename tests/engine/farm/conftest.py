"""Real services on loopback for the farm tests, each started by a test and stopped after it:
``redis-server`` (broker and result backend; restartable on its own data), the moto S3 server of
tests/storage, ``sheet2video worker`` processes (kill -9 as a whole, FFmpeg included) and
``sheet2video serve --farm``. Waiting is always a condition polled against a deadline."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest

from sheet2video.cloud.storage import ObjectStore
from tests.media import make_image, make_video
from tests.reliability.conftest import Serve, base_env, free_port, wait_until
from tests.cloud.conftest import S3_ENV, s3_endpoint  # noqa: F401 (the session's S3 server)

W, H = 180, 320
BROKER_SECRET = "Farm-Br0ker-Secret-42"
VISIBILITY = 8  # seconds: a killed worker's task is redelivered by Redis this long after delivery


class Redis:
    """``redis-server`` on a free loopback port; appendonly, so a restart keeps the queue."""

    def __init__(self, folder: Path, *extra: str, password: str | None = None):
        self.folder = folder
        self.extra = (*extra, "--requirepass", password) if password else extra
        folder.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"redis://{f':{password}@' if password else ''}127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen | None = None
        self.start()

    def start(self) -> None:
        exe = shutil.which("redis-server") or "/usr/bin/redis-server"
        self.proc = subprocess.Popen(
            [exe, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.folder), "--save", "",
             "--appendonly", "yes", "--appendfsync", "always", "--protected-mode", "no", *self.extra],
            stdout=open(self.folder / "redis.log", "ab"), stderr=subprocess.STDOUT)
        wait_until(lambda: self.ping(), 20, "redis-server to answer")

    def ping(self) -> bool:
        """PING on a raw socket: +PONG, or -NOAUTH from a server with a password (redis-py would
        retry that one with backoff)."""
        if self.proc.poll() is not None:
            raise AssertionError(f"redis-server exited with {self.proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as conn:
                conn.sendall(b"PING\r\n")
                return conn.recv(64).startswith((b"+PONG", b"-NOAUTH"))
        except OSError:
            return False

    def tasks_out(self) -> int:
        """Tasks the engine has put in the broker: still in the queue, or already taken by a worker
        (STARTED or done in the result backend). A task whose state is written but whose message is
        still on its way counts as neither, so a test that waits for n waits for all n messages."""
        import json

        import redis

        with redis.Redis.from_url(self.url, socket_timeout=5) as client:
            queued = sum(client.llen(key) for key in client.scan_iter("sheet2video*") if client.type(key) == b"list")
            metas = list(client.scan_iter("celery-task-meta-*"))
            states = [json.loads(value)["status"] for value in (client.mget(metas) if metas else []) if value]
        return queued + sum(state not in ("SENT", "PENDING") for state in states)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=20)


class Worker:
    """``sheet2video worker`` in its own process group: ``kill()`` is kill -9 of the worker, its
    pool process and their FFmpeg at once, as when a machine dies."""

    def __init__(self, name: str, redis: Redis, bucket: str, s3: str, cache: Path, env: dict, *extra: str,
                 visibility: int | None = VISIBILITY):
        self.name = f"{name}@farmtest"
        self.cache = cache
        self.argv = [sys.executable, "-m", "sheet2video", "worker", "--farm", redis.url, "--storage-bucket", bucket,
                     "--storage-endpoint", s3, "--cache", str(cache), "--name", self.name, *extra]
        if visibility:
            self.argv += ["--visibility-timeout", str(visibility)]
        self.env = env
        self.log: list[str] = []
        self.proc: subprocess.Popen | None = None
        self.start()

    def start(self) -> None:
        ready = threading.Event()
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True, env=self.env, start_new_session=True)

        def drain(stream=self.proc.stdout):
            for line in stream:
                self.log.append(line.rstrip("\n"))
                if " ready." in line:
                    ready.set()

        threading.Thread(target=drain, daemon=True).start()
        deadline = time.monotonic() + 60
        while not ready.wait(0.05):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"worker {self.name} did not start:\n" + "\n".join(self.log[-30:]))

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=20)

    def tasks_in_hand(self) -> list[str]:
        """Ids of the tasks this worker is rendering: each has a work folder (worker.py's mkdtemp)
        from its counted attempt until its video is uploaded."""
        return [p.name.split(".", 1)[0] for p in self.cache.glob("work/*/s2v-*.*") if p.is_dir()]

    def renders(self) -> int:
        return sum("Task sheet2video.render" in line and "succeeded" in line for line in self.log)


class Farm:
    """One test's farm: Redis, a fresh bucket (versioned: an overwrite would show as a second
    version), workers, an engine, and the media the jobs use."""

    def __init__(self, tmp: Path, s3: str):
        self.tmp = tmp
        self.s3 = s3
        self.env = base_env(tmp / "home", **S3_ENV)
        self.redis = Redis(tmp / "redis", password=BROKER_SECRET)  # a password: it must never be printed
        self.bucket_name = f"farm-{uuid.uuid4().hex[:10]}"
        self.store = ObjectStore(self.bucket_name, endpoint_url=s3, region="us-east-1",
                                 env=S3_ENV)
        self.store._client.create_bucket(Bucket=self.bucket_name)
        self.store._client.put_bucket_versioning(Bucket=self.bucket_name, VersioningConfiguration={"Status": "Enabled"})
        self.media = tmp / "media"
        self.media.mkdir()
        make_video(self.media / "a.mp4", 2.0, f"{W}x{H}", color="red")
        make_image(self.media / "c.png", "200x200", "blue")
        self.workers: list[Worker] = []
        self.engine: Serve | None = None

    def worker(self, name: str, **env: str) -> Worker:
        worker = Worker(name, self.redis, self.bucket_name, self.s3, self.tmp / f"cache-{name}", {**self.env, **env})
        self.workers.append(worker)
        return worker

    def serve(self) -> Serve:
        self.engine = Serve(self.tmp / "engine", self.media, "--farm", self.redis.url, "--storage-bucket", self.bucket_name,
                            "--storage-endpoint", self.s3, "--visibility-timeout", str(VISIBILITY), env=self.env)
        return self.engine

    def versions(self, prefix: str = "renders/") -> dict[str, int]:
        """key → number of versions (and delete markers) the bucket holds under ``prefix``."""
        answer = self.store._client.list_object_versions(Bucket=self.bucket_name, Prefix=prefix)
        counts: dict[str, int] = {}
        for item in answer.get("Versions", []) + answer.get("DeleteMarkers", []):
            counts[item["Key"]] = counts.get(item["Key"], 0) + 1
        return counts

    def stop(self) -> None:
        if self.engine:
            self.engine.stop()
        for worker in self.workers:
            worker.kill()
        self.redis.stop()

    def print_logs(self) -> None:
        for name, log in [("engine", self.engine.log if self.engine else []),
                          *((w.name, w.log) for w in self.workers)]:
            print(f"----- {name} log -----", *log, sep="\n")
        redis_log = self.redis.folder / "redis.log"
        print("----- redis log -----", redis_log.read_text(errors="replace") if redis_log.exists() else "", sep="\n")

    def assert_no_secret(self) -> None:
        for log in [self.engine.log if self.engine else [], *(w.log for w in self.workers)]:
            leaked = [line for line in log if BROKER_SECRET in line]
            assert not leaked, leaked[:3]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test item: the farm fixture prints its logs when the test failed."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


@pytest.fixture
def farm(request, tmp_path, s3_endpoint):  # noqa: F811
    farm = Farm(tmp_path, s3_endpoint)
    yield farm
    farm.stop()
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:  # a farm failure is read in the services' logs
        farm.print_logs()
    farm.assert_no_secret()


def submit(engine: Serve, name: str, titles: list[str]) -> str:
    client = engine.client(max_retries=30, backoff_base=0.05, backoff_max=0.5)
    inputs = {"MediaArray": ["a.mp4", "c.png"], "TitleArray": titles}
    output = {"MediaURL": f"{name}/v_{{index}}.mp4", "Count": len(titles), "Width": W, "Height": H,
              "MaxDuration": 2}
    return client.submit_batch_job(input_config=inputs, output_config=output)


def wait_job(engine: Serve, job_id: str, timeout: float = 90, until=("Finished", "Failed")) -> dict:
    client = engine.client(max_retries=30, backoff_base=0.05, backoff_max=0.5)
    return wait_until(lambda: (lambda j: j["Status"] in until and j)(client.get_batch_job(job_id)), timeout,
                      f"job {job_id} to end")


def freeze_mid_render(workers: list[Worker], store: ObjectStore) -> tuple[Worker, str] | None:
    """A worker caught mid-render, stopped (SIGSTOP of its process group) so it stays there: its
    attempt counted and its video not yet in the bucket; with the id of that task. None (and the
    workers running on) while none is. A 180x320 render takes well under a second, so FFmpeg's own
    lifetime is too short a window to aim a kill at; a stopped worker cannot finish under it."""
    for worker in workers:
        if not worker.tasks_in_hand():
            continue
        os.killpg(worker.proc.pid, signal.SIGSTOP)
        for task_id in worker.tasks_in_hand():  # stable now: nothing in the group runs
            digest = task_id.removeprefix("s2v-")  # wire.build: id s2v-D, output key renders/D/NAME
            if not any(k.endswith(".mp4") for k in store.list_keys(f"renders/{digest}/")):
                return worker, task_id
        os.killpg(worker.proc.pid, signal.SIGCONT)
    return None


def received(worker: Worker) -> list[str]:
    """Task ids in the order the worker received them (its log)."""
    import re

    return [m.group(1) for line in worker.log for m in [re.search(r"Task sheet2video\.render\[([\w-]+)\] received", line)] if m]


def assert_outputs(farm: Farm, job: dict, n: int) -> None:
    """n Success sub-jobs, each a real 180x320 2 s video, and exactly one object (one version) per output key."""
    from urllib.parse import unquote

    from sheet2video.engine.media.probe import probe

    subs = job["SubJobList"]
    assert [s["Status"] for s in subs] == ["Success"] * n, subs
    for sub in subs:
        path = farm.engine.data / "outputs" / unquote(sub["MediaURL"].split("?")[0].split("/outputs/", 1)[1])  # presigned
        info = probe(path)
        assert (info.width, info.height, info.has_video) == (W, H, True), sub
        assert abs(info.duration - 2.0) <= 0.15, sub
    versions = farm.versions()
    videos = {k: v for k, v in versions.items() if k.endswith(".mp4")}
    assert len(videos) == n, versions
    assert set(versions.values()) == {1}, f"an output key was written twice: {versions}"


def attempts(farm: Farm) -> dict[str, int]:
    """task id → how many deliveries started rendering it (attempt markers in the bucket)."""
    counts: dict[str, int] = {}
    for key in farm.store.list_keys("attempts/"):
        task = key.split("/")[1]
        counts[task] = counts.get(task, 0) + 1
    return counts
