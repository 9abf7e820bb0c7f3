"""A cloud run from a sheet of local files, end to end on loopback: moto_server as OSS,
`sheet2video serve` as IMS (reading inputs and writing outputs through the same bucket), and
`sheet2video run --backend aliyun … --bucket` in a subprocess, as a user runs it."""

import csv
import hashlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from sheet2video.cloud.storage import ObjectStore
from tests.run.conftest import CLOUD_ENV, KEY_SECRET, Server, cli, media_dir  # noqa: F401 (media_dir: the run tests' clips, a fixture)
from tests.cloud.conftest import S3_ENV

REGION = "cn-hangzhou"
HEX32 = set("0123456789abcdef")


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def cloud(tmp_path, s3_endpoint, s3_env, media_dir):
    """A bucket in REGION, an engine configured with it, and a campaign folder of local files."""
    bucket = f"camp-{uuid.uuid4().hex[:10]}"
    store = ObjectStore(bucket, endpoint_url=s3_endpoint, region=REGION)
    store._client.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    empty = tmp_path / "engine-media"
    empty.mkdir()  # the engine gets no local media: every input must come through the bucket
    engine = Server(tmp_path / "engine", empty, "--storage-endpoint", s3_endpoint, "--storage-bucket", bucket, "--storage-region", REGION)
    folder = tmp_path / "campaign"
    shutil.copytree(media_dir, folder / "media")
    shutil.copy(media_dir / "a.mp4", folder / "media" / "a-copy.mp4")  # same bytes, another name: one upload
    env = {**CLOUD_ENV, **S3_ENV}
    args = ["--backend", "aliyun", "--region", REGION, "--endpoint", engine.url, "--storage-endpoint", s3_endpoint,
            "--bucket", bucket, "--prefix", "camp"]
    yield store, engine, folder, args, env
    engine.stop()


def _sheet(folder: Path, rows: list[tuple[str, str, str]]) -> Path:
    path = folder / "spring.csv"
    lines = ["id,media:Opening,media:Product,logo,titles,count,width,height,max_duration,shot_duration"]
    for key, opening, logo in rows:
        lines.append(f'"{key}","{opening}","media/b.mp4\nmedia/c.png","{logo}","Title {key}","1","180","320","2","1"')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _registered(engine_data: Path, bucket: str) -> list[str]:
    db = sqlite3.connect(engine_data / "engine.sqlite3")
    try:
        return [r[0] for r in db.execute("SELECT input_url FROM media WHERE input_url LIKE ?", (f"https://{bucket}.%",))]
    finally:
        db.close()


def sub_key(sub: dict) -> str:
    return sub["MediaURL"].split("?")[0].split("/", 4)[4]  # http://host:port/bucket/KEY?X-Amz-…


def _rows(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8-sig") as f:
        return list(csv.DictReader(f))


def test_cloud_run_from_local_files(cloud, tmp_path):
    store, engine, folder, args, env = cloud
    sheet = _sheet(folder, [("r0", "media/a.mp4", "media/c.png"), ("r1", "media/a-copy.mp4", "")])
    first = cli("run", sheet, *args, "--download", "--json", env=env)
    assert first.returncode == 0, first.stderr
    summary = json.loads(first.stdout)
    assert summary["finished"] == 2 and summary["submitted"] == 2

    # uploads by content hash: a.mp4 and its copy are one object; b and c one each
    files = {name: (folder / "media" / name).read_bytes() for name in ("a.mp4", "b.mp4", "c.png")}
    expected = {f"camp/inputs/{_sha(data)}.{name.split('.')[1]}" for name, data in files.items()}
    assert set(store.list_keys("camp/inputs/")) == expected
    # one RegisterMediaInfo per distinct file, with the OSS URL of the region
    registered = _registered(tmp_path / "engine", store.bucket)
    assert sorted(registered) == sorted(f"https://{store.bucket}.oss-{REGION}.aliyuncs.com/{k}" for k in expected)
    assert summary["storage"] == {"uploaded": 3, "registered": 3, "downloaded": 2}

    # the submitted configs hold MediaIds only, and OSS output URLs under P/outputs/<sheet>/
    jobs = {json.loads(j["OutputConfig"])["MediaURL"]: j for j in engine.all_jobs()}
    assert set(jobs) == {f"https://{store.bucket}.oss-{REGION}.aliyuncs.com/camp/outputs/spring/{k}_{{index}}.mp4" for k in ("r0", "r1")}
    for job in jobs.values():
        inputs = json.loads(job["InputConfig"])
        refs = [r for g in inputs["MediaGroupArray"] for r in g["MediaArray"]] + [s["MediaId"] for s in inputs.get("StickerArray", [])]
        assert refs and all(len(r) == 32 and set(r) <= HEX32 for r in refs), inputs
        assert "media/" not in job["InputConfig"]

    # outputs in the bucket; downloads next to the sheet identical to them; the sheet has both
    outputs = sorted(store.list_keys("camp/outputs/"))
    assert outputs == ["camp/outputs/spring/r0_0.jpg", "camp/outputs/spring/r0_0.mp4", "camp/outputs/spring/r1_0.jpg", "camp/outputs/spring/r1_0.mp4"]
    for row in _rows(sheet):
        key = f"camp/outputs/spring/{row['id']}_0.mp4"
        local = folder / "videos" / "spring" / f"{row['id']}_0.mp4"
        assert row["videos"] == f"videos/spring/{row['id']}_0.mp4" and row["status"] == "Finished"
        assert row["video_urls"] == f"https://{store.bucket}.oss-{REGION}.aliyuncs.com/{key}"
        body = store._client.get_object(Bucket=store.bucket, Key=key)["Body"].read()
        assert _sha(local.read_bytes()) == _sha(body) and len(body) > 1000
    # Get answered presigned URLs (fetchable without credentials)
    import requests

    sub = engine.client().get_batch_job(next(iter(jobs.values()))["JobId"])["SubJobList"][0]
    assert "X-Amz-Signature=" in sub["MediaURL"]
    fetched = requests.get(sub["MediaURL"], timeout=10)
    assert fetched.status_code == 200 and _sha(fetched.content) == _sha(store._client.get_object(Bucket=store.bucket, Key=sub_key(sub))["Body"].read())

    # create-only put: the video already delivered is never replaced
    other = tmp_path / "other.mp4"
    other.write_bytes(b"not the video")
    assert store.put_file_create_only(other, "camp/outputs/spring/r0_0.mp4") is False
    assert _sha(store._client.get_object(Bucket=store.bucket, Key="camp/outputs/spring/r0_0.mp4")["Body"].read()) == _sha((folder / "videos/spring/r0_0.mp4").read_bytes())

    # rerun with one new row of the same files: one job submitted, nothing uploaded or registered
    sheet = _sheet(folder, [("r0", "media/a.mp4", "media/c.png"), ("r1", "media/a-copy.mp4", ""), ("r2", "media/a.mp4", "")])
    again = cli("run", sheet, *args, "--download", env=env)  # not --json: the progress lines show
    assert again.returncode == 0, again.stderr
    assert "1 job(s) … to submit".replace(" … ", " ") not in again.stderr and "3 job(s): 1 to submit" in again.stderr
    assert "inputs: 3 file(s) already uploaded and registered" in again.stderr and "upload:" not in again.stderr
    assert sorted(_registered(tmp_path / "engine", store.bucket)) == sorted(registered)
    assert len(engine.all_jobs()) == 3
    assert "download: 1/1 file(s)" in again.stderr  # only r2's video: r0 and r1 are already here
    for text in (first.stdout, first.stderr, again.stderr, sheet.read_text()):
        assert KEY_SECRET not in text and S3_ENV["AWS_SECRET_ACCESS_KEY"] not in text

    # a download a kill interrupted (its .part and the ETag it was fetching): the rerun completes it
    video = folder / "videos/spring/r1_0.mp4"
    whole = video.read_bytes()
    video.unlink()
    video.with_name("r1_0.mp4.part").write_bytes(whole[: len(whole) // 2])
    video.with_name("r1_0.mp4.part.etag").write_text(store.head("camp/outputs/spring/r1_0.mp4").etag)
    resumed = cli("run", sheet, *args, "--download", "--json", env=env)
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads(resumed.stdout)["storage"] == {"uploaded": 0, "registered": 0, "downloaded": 1}
    assert video.read_bytes() == whole and not video.with_name("r1_0.mp4.part").exists()

    # a video that cannot be fetched is a warning: the run ends, the sheet is written, it keeps the URL
    store.delete("camp/outputs/spring/r2_0.mp4")
    (folder / "videos/spring/r2_0.mp4").unlink()
    failed = cli("run", sheet, *args, "--download", "--json", env=env)
    assert failed.returncode == 0, failed.stderr
    assert json.loads(failed.stdout)["storage"]["download_failed"] == 1
    assert f"warning: download of https://{store.bucket}.oss-{REGION}.aliyuncs.com/camp/outputs/spring/r2_0.mp4 failed" in failed.stderr
    r2 = next(r for r in _rows(sheet) if r["id"] == "r2")
    assert r2["status"] == "Finished" and r2["videos"] == r2["video_urls"].split("\n")[0].strip() != ""


def test_kill_during_upload_then_rerun_completes_without_duplicates(cloud, tmp_path):
    store, engine, folder, args, env = cloud
    # a clip large enough to go multipart (4 parts of 16 MiB): a valid MP4 with padding after it
    big = folder / "media" / "big.mp4"
    big.write_bytes((folder / "media" / "a.mp4").read_bytes() + os.urandom(60 * 2**20))
    sheet = _sheet(folder, [("k0", "media/big.mp4", ""), ("k1", "media/a.mp4", "")])
    run = subprocess.Popen([sys.executable, "-m", "sheet2video", "run", str(sheet), *args, "--json"], env={**os.environ, **env},
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.monotonic() + 120
    while not store.unfinished_uploads("camp/inputs/") and run.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)  # polling the bucket for the condition "a multipart upload is under way"
    assert run.poll() is None, "the run ended before its upload could be interrupted"
    os.killpg(run.pid, signal.SIGKILL)
    run.wait()
    big_key = f"camp/inputs/{_sha(big.read_bytes())}.mp4"
    assert not store.exists(big_key) and store.unfinished_uploads("camp/inputs/") == [big_key]
    assert engine.all_jobs() == [] and _registered(tmp_path / "engine", store.bucket) == []  # nothing half-registered
    complete_before = set(store.list_keys("camp/inputs/"))

    again = cli("run", sheet, *args, "--json", env=env)
    assert again.returncode == 0, again.stderr
    summary = json.loads(again.stdout)
    assert summary["finished"] == 2
    distinct = 4  # big, a, b, c
    assert summary["storage"]["uploaded"] == distinct - len(complete_before) >= 1  # what was complete was not sent again
    assert store.unfinished_uploads("camp/inputs/") == []  # the killed run's parts were aborted, not left to bill
    assert store.head(big_key).size == big.stat().st_size and store.head(big_key).sha256 == _sha(big.read_bytes())
    assert len(_registered(tmp_path / "engine", store.bucket)) == distinct and len(engine.all_jobs()) == 2
    # every input once, by content: what the killed run completed was kept, the rest (the big clip,
    # and any small file the kill came before) uploaded by the rerun
    inputs = {f"camp/inputs/{_sha((folder / 'media' / n).read_bytes())}.{n.split('.')[1]}" for n in ("a.mp4", "b.mp4", "c.png")}
    assert complete_before <= set(store.list_keys("camp/inputs/")) == inputs | {big_key}


def _nothing_sent(store, engine, tmp_path):
    assert engine.all_jobs() == [] and _registered(tmp_path / "engine", store.bucket) == []


def test_bucket_in_another_region_is_refused_before_anything_is_sent(cloud, tmp_path, s3_endpoint):
    store, engine, folder, args, env = cloud
    sheet = _sheet(folder, [("x0", "media/a.mp4", "")])
    elsewhere = f"eu-{uuid.uuid4().hex[:10]}"
    ObjectStore(elsewhere, endpoint_url=s3_endpoint, region="eu-west-1")._client.create_bucket(
        Bucket=elsewhere, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    swapped = [elsewhere if a == store.bucket else a for a in args]
    result = cli("run", sheet, *swapped, env=env)
    assert result.returncode == 2, result.stderr
    assert f"error: bucket '{elsewhere}' is in region eu-west-1, not {REGION}" in result.stderr
    assert "Traceback" not in result.stderr and [l for l in result.stderr.splitlines() if "error" in l.lower()] == [
        f"error: bucket '{elsewhere}' is in region eu-west-1, not {REGION}: IMS reads only buckets of its own region"]
    assert ObjectStore(elsewhere, endpoint_url=s3_endpoint).list_keys() == []
    _nothing_sent(store, engine, tmp_path)


def test_missing_bucket_and_missing_credentials_are_one_line(cloud, tmp_path, monkeypatch):
    store, engine, folder, args, env = cloud
    sheet = _sheet(folder, [("x0", "media/a.mp4", "")])
    missing = [("no-such-bucket-here" if a == store.bucket else a) for a in args]
    result = cli("run", sheet, *missing, env=env)
    assert result.returncode == 2 and "error: bucket 'no-such-bucket-here' does not exist at http://127.0.0.1" in result.stderr
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name)
    bare = {**CLOUD_ENV, "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"), "AWS_CONFIG_FILE": str(tmp_path / "none"),
            "AWS_EC2_METADATA_DISABLED": "true"}
    result = cli("run", sheet, *args, env=bare)
    assert result.returncode == 2 and "error: no credentials for http://127.0.0.1" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    _nothing_sent(store, engine, tmp_path)
    assert store.list_keys() == []


def test_bucket_without_region_is_a_config_error(cloud):
    store, engine, folder, args, env = cloud
    sheet = _sheet(folder, [("x0", "media/a.mp4", "")])
    i = args.index("--region")
    result = cli("run", sheet, *(args[:i] + args[i + 2:]), env=env)
    assert result.returncode == 2 and "--bucket needs --region" in result.stderr, result.stderr


def test_embedded_engine_reads_and_writes_the_bucket(tmp_path, s3_endpoint, s3_env, media_dir):
    """`run --bucket B --storage-endpoint URL` with the embedded engine: media named as oss:// URLs
    come through the layer, the output goes into the bucket with a create-only put."""
    bucket = f"emb-{uuid.uuid4().hex[:10]}"
    store = ObjectStore(bucket, endpoint_url=s3_endpoint, region=REGION)
    store._client.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    store.put_file(media_dir / "a.mp4", "in/a.mp4")
    store.put_file(media_dir / "c.png", "in/c.png")
    sheet = tmp_path / "emb.csv"
    sheet.write_text("id,media:Opening,media:Product,titles,count,width,height,max_duration,shot_duration,output\n"
                     f'e0,oss://{bucket}/in/a.mp4,oss://{bucket}/in/c.png,Hello,1,180,320,2,1,oss://{bucket}/out/e0_{{index}}.mp4\n')
    result = cli("run", sheet, "--bucket", bucket, "--storage-endpoint", s3_endpoint, "--region", REGION, "--json", env=s3_env)
    assert result.returncode == 0, result.stderr
    assert sorted(store.list_keys("out/")) == ["out/e0_0.jpg", "out/e0_0.mp4"]
    body = store._client.get_object(Bucket=bucket, Key="out/e0_0.mp4")["Body"].read()
    assert body[4:8] == b"ftyp" and store.head("out/e0_0.mp4").sha256 == _sha(body)
