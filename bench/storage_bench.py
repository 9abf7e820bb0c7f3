"""``upload_vs_boto3`` / ``upload_rerun_vs_first``: 200 MB of media in 20 files to a loopback S3
server (moto_server, its own process).

* ``upload_vs_boto3``: the layer's ``ObjectStore.upload_content`` of each file (sha256, HEAD, PUT
  under its content key) ÷ ``boto3``'s own ``upload_file`` of the same files (default settings),
  each file by both back to back, the order alternating (boto3's default 8 MiB
  multipart threshold splits each 10 MB file in two parts; the layer's 16 MiB one sends one PUT, which
  is why it comes out faster on loopback);
* ``upload_rerun_vs_first``: the upload phase of a cloud run (``CloudMedia`` uploading and
  registering the files with an in-process engine) run again ÷ the first time: nothing is re-sent.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from types import SimpleNamespace

from bench.common import WORK, Result, log

FILES, SIZE = 20, 10 * 10**6
ENV = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench-secret"}
REGION = "cn-hangzhou"


def _files(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"clip_{i:02d}.mp4" for i in range(FILES)]
    for path in paths:
        if not path.is_file() or path.stat().st_size != SIZE:
            path.write_bytes(os.urandom(SIZE))
    return paths


def _moto() -> tuple[subprocess.Popen, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, **ENV})
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return proc, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("moto_server did not start")


def _empty(store) -> None:
    for key in store.list_keys():
        store.delete(key)  # moto keeps objects in memory: 200 MB per repetition otherwise


def storage_benchmarks(reps: int = 5) -> list[Result]:
    import boto3

    from sheet2video.cloud.local_media import CloudMedia
    from sheet2video.engine.api.server import Engine, EngineConfig, ephemeral_keys
    from sheet2video.cloud.client import ImsClient
    from sheet2video.cloud.credentials import Credentials
    from sheet2video.run.reporter import Reporter
    from sheet2video.cloud.storage import ObjectStore

    os.environ.update(ENV)
    work = WORK / "storage"
    paths = _files(work / "media")
    proc, endpoint = _moto()
    try:
        bucket = f"bench-{uuid.uuid4().hex[:8]}"
        store = ObjectStore(bucket, endpoint_url=endpoint, region=REGION)
        store._client.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
        plain = boto3.client("s3", endpoint_url=endpoint, region_name=REGION)

        def boto_upload(path: Path) -> float:
            t0 = time.perf_counter()
            plain.upload_file(str(path), bucket, f"boto/{path.name}")
            return time.perf_counter() - t0

        def layer_upload(path: Path) -> float:
            t0 = time.perf_counter()
            assert store.upload_content(path, "layer").uploaded
            return time.perf_counter() - t0

        # file by file, back to back, the order alternating: a busy machine's drift hits both alike
        ratios, pairs = [], []
        for rep in range(reps):
            took = {"boto_upload": 0.0, "layer_upload": 0.0}
            for i, path in enumerate(paths):
                for fn in ((boto_upload, layer_upload) if (rep + i) % 2 == 0 else (layer_upload, boto_upload)):
                    took[fn.__name__] += fn(path)
            _empty(store)
            ratios.append(took["layer_upload"] / took["boto_upload"])
            pairs.append({k: round(v, 3) for k, v in took.items()})
            log(f"upload_vs_boto3 rep {rep}: {pairs[-1]} → {ratios[-1]:.3f}")

        # the upload phase of a cloud run, then the same again (hash cache, media record: nothing sent)
        keys = ephemeral_keys()
        engine = Engine(EngineConfig(data=work / f"engine-{uuid.uuid4().hex[:6]}", media_root=work / "media", keys=keys,
                                     render_outputs=False, storage_endpoint=endpoint, storage_bucket=bucket))
        url = engine.start()
        key_id, secret = next(iter(keys.items()))
        client = ImsClient(url, Credentials(key_id, secret))
        rerun_ratios, rerun_detail = [], []
        try:
            for rep in range(reps):
                sheet = work / f"sheet-{uuid.uuid4().hex[:6]}" / "campaign.csv"
                sheet.parent.mkdir(parents=True)
                sheet.write_text("id\n")
                options = SimpleNamespace(region=REGION, bucket=bucket, prefix=f"run{rep}", download=False, storage_endpoint=endpoint,
                                          profile=None, media_root=work / "media", qps=50.0)
                files = {f"media/{p.name}": p for p in paths}
                times = []
                for _ in range(2):
                    media = CloudMedia(sheet, options, client, f"bench:{url}", Reporter())
                    t0 = time.perf_counter()
                    media._register_all(files)
                    times.append(time.perf_counter() - t0)
                    counts = media.counts()
                    media.close()
                assert counts == {"uploaded": 0, "registered": 0, "downloaded": 0}, counts
                # the same files from another sheet folder (no state): hashed, found by HEAD, registered again
                other = sheet.parent / "elsewhere" / "campaign.csv"
                other.parent.mkdir()
                other.write_text("id\n")
                media = CloudMedia(other, options, client, f"bench:{url}", Reporter())
                t0 = time.perf_counter()
                media._register_all(files)
                stateless = time.perf_counter() - t0
                assert media.counts()["uploaded"] == 0
                media.close()
                _empty(store)
                rerun_ratios.append(times[1] / times[0])
                rerun_detail.append({"first_s": round(times[0], 3), "rerun_s": round(times[1], 4),
                                     "no_state_rerun_s": round(stateless, 3)})
                log(f"upload_rerun_vs_first rep {rep}: {rerun_detail[-1]} → {rerun_ratios[-1]:.4f}")
        finally:
            client.close()
            engine.close()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    mb = FILES * SIZE / 1e6
    return [
        Result("upload_vs_boto3", "<= 1.1", ratios, detail={"seconds": pairs, "megabytes": mb, "files": FILES}),
        Result("upload_rerun_vs_first", "<= 0.05", rerun_ratios, worst=True, detail={"seconds": rerun_detail, "megabytes": mb, "files": FILES},
               note="first: 4 upload threads + one RegisterMediaInfo per file; rerun: a stat and a SQLite lookup per file; "
                    "no_state_rerun_s: another sheet folder naming the same files (sha256 + HEAD + RegisterMediaInfo, nothing sent)"),
    ]
