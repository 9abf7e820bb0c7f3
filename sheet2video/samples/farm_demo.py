"""`make farm-demo`: the demo campaigns (sheet2video/samples/demo.py) rendered by a farm on loopback.

Starts redis-server, an S3-protocol server (moto, a test dependency), two ``sheet2video worker``
processes and ``sheet2video serve --farm``, runs the campaigns against the engine, prints who
rendered what and where the videos are, then stops everything it started.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from sheet2video.samples.demo import CAMPAIGNS, ROOT

__all__ = ["S3_ENV", "BUCKET", "listening", "main"]

KEY_ID, KEY_SECRET = "farmdemo", "farm-demo-secret"
S3_ENV = {"AWS_ACCESS_KEY_ID": "demo", "AWS_SECRET_ACCESS_KEY": "demo-secret"}
BUCKET = "farm-demo"


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(what: str, ready, proc: subprocess.Popen, logs: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"farm-demo: {what} did not start (see {logs})")
        time.sleep(0.1)  # polling the condition against the deadline


def listening(port: int) -> bool:
    """Whether something accepts connections on 127.0.0.1:``port`` (a service we started is up)."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        return True
    except OSError:
        return False


def main(folder: Path = ROOT / "demo-farm") -> int:
    from sheet2video.console.progress import PlainReporter, print_summary
    from sheet2video.run.options import RunOptions
    from sheet2video.run.runner import run_sheet
    from sheet2video.samples.media import generate_sample_media
    from sheet2video.cloud.storage import ObjectStore

    redis_server = shutil.which("redis-server")
    if not redis_server:
        print("farm-demo: redis-server is missing (make install-test runs scripts/ensure-test-tools)", file=sys.stderr)
        return 2
    folder.mkdir(exist_ok=True)
    logs = folder / "logs"
    logs.mkdir(exist_ok=True)
    env = {**os.environ, **S3_ENV, "SHEET2VIDEO_ENGINE_KEY_ID": KEY_ID, "SHEET2VIDEO_ENGINE_KEY_SECRET": KEY_SECRET}
    started: list[subprocess.Popen] = []

    def start(name: str, argv: list[str]) -> subprocess.Popen:
        log = open(logs / f"{name}.log", "wb")
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env,
                                cwd=folder, start_new_session=True)
        started.append(proc)
        return proc

    try:
        redis_port, s3_port, engine_port = _port(), _port(), _port()
        broker = f"redis://127.0.0.1:{redis_port}/0"
        s3 = f"http://127.0.0.1:{s3_port}"
        print(f"starting redis-server on {broker}, an S3 server on {s3} ...", file=sys.stderr)
        proc = start("redis", [redis_server, "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "",
                               "--appendonly", "no", "--dir", str(logs)])
        _wait("redis-server", lambda: listening(redis_port), proc, logs)
        proc = start("s3", [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(s3_port)])
        _wait("the S3 server", lambda: listening(s3_port), proc, logs)
        ObjectStore(BUCKET, endpoint_url=s3, env=S3_ENV)._client.create_bucket(Bucket=BUCKET)
        farm = ["--farm", broker, "--storage-bucket", BUCKET, "--storage-endpoint", s3]
        for n in (1, 2):
            proc = start(f"worker{n}", [sys.executable, "-m", "sheet2video", "worker", *farm, "--name", f"demo{n}@loopback",
                                        "--cache", str(folder / f"worker{n}-cache")])
            _wait(f"worker {n}", lambda n=n: " ready." in (logs / f"worker{n}.log").read_text(errors="replace"), proc, logs)
        proc = start("engine", [sys.executable, "-m", "sheet2video", "serve", "--port", str(engine_port), "--data",
                                str(folder / "engine"), "--media-root", str(folder), *farm])
        _wait("the engine", lambda: listening(engine_port), proc, logs)
        endpoint = f"http://127.0.0.1:{engine_port}"
        print(f"engine {endpoint} with 2 workers (logs in {logs})", file=sys.stderr)

        print(f"generating sample media in {folder / 'media'} ...", file=sys.stderr)
        generate_sample_media(folder / "media")
        os.environ.update(ALIBABA_CLOUD_ACCESS_KEY_ID=KEY_ID, ALIBABA_CLOUD_ACCESS_KEY_SECRET=KEY_SECRET)
        worst = 0
        for name, templates in CAMPAIGNS:
            sheet = folder / name
            if not sheet.exists():
                shutil.copy2(ROOT / "example_sheets" / name, sheet)
            print(f"\n== sheet2video run {sheet} --templates {templates} --endpoint {endpoint}", file=sys.stderr)
            summary = run_sheet(sheet, RunOptions(templates=templates, endpoint=endpoint), PlainReporter())
            print_summary(summary)
            worst = max(worst, summary.exit_code)
        for n in (1, 2):
            done = (logs / f"worker{n}.log").read_text(errors="replace").count("'rendered': True")
            print(f"worker demo{n}@loopback rendered {done} video(s)", file=sys.stderr)
        videos = sorted((folder / "engine" / "outputs").rglob("*.mp4"))
        print(f"{len(videos)} videos in {folder / 'engine' / 'outputs'}", file=sys.stderr)
        return worst
    finally:
        for proc in reversed(started):  # engine first, then workers, S3, Redis
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in started:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        print("farm-demo: stopped redis-server, the S3 server, the workers and the engine", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
