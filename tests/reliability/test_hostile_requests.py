"""Hostile requests and files against a shared engine's outputs, request limits, connections and data
folder (issue [shield] §3, §4, §5): an attacker holds one API key and nothing else.

* Outputs: served only through the presigned URL an answer holds (``Expires`` + ``Signature``); an
  unsigned, tampered or expired URL is a 403; a second job with the same MediaURL never replaces the
  first job's video (on disk: each job's own folder; in a bucket: refused at Submit).
* Limits: ``[`` × 100000 and a 7 MiB config are 400s naming the parameter, never a 500 or a stored job.
* Connections: 300 idle connections add no threads, a slowloris is cut off, and a signed Get answers
  meanwhile (its latency is printed, not asserted).
* Data folder: the key file, the job store and anything else in the engine's data folder are never
  media, wherever the media root is.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import socket
import statistics
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
import requests

from sheet2video.cloud.client import ImsClient
from sheet2video.cloud.credentials import Credentials
from sheet2video.engine.api.server import load_or_create_keys
from sheet2video.errors import ImsError
from tests.cloud.conftest import bucket, s3_endpoint, s3_env  # noqa: F401 (fixtures used by name)
from tests.media import make_image
from tests.reliability.hostile import hostile_media, out_cfg, shared_engine, shows_red, wait_job  # noqa: F401

CLIP = {"MediaArray": ["clips/ok.mp4"]}
STILL = {"MediaArray": ["clips/ok.png"]}


def strict_client(env) -> ImsClient:
    """A client that reports the first answer (no retries), for requests meant to be refused."""
    return ImsClient(env.url, Credentials(env.key_id, env.secret), max_retries=0, timeout=(5, 60))


def refused(call) -> ImsError:
    with pytest.raises(ImsError) as caught:
        call()
    return caught.value


def local_file(env, media_url: str) -> Path:
    path = urlsplit(media_url).path
    assert path.startswith("/outputs/"), media_url
    return env.outputs / unquote(path[len("/outputs/"):])


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def assert_ims_403(resp: requests.Response, code: str | None = None) -> dict:
    assert resp.status_code == 403, (resp.status_code, resp.text[:300])
    body = resp.json()
    assert {"RequestId", "Code", "Message"} <= set(body) and body["Message"], body
    if code:
        assert body["Code"] == code, body
    return body


@pytest.fixture(scope="module")
def engine(tmp_path_factory, hostile_media):
    with shared_engine(tmp_path_factory.mktemp("engine-data"), hostile_media) as env:
        yield env


@pytest.fixture(scope="module")
def finished(engine):
    """One rendered job: (its Get answer, its sub-job)."""
    job = wait_job(engine.client, engine.client.submit_batch_job(input_config=CLIP, output_config=out_cfg("signed")))
    assert job["Status"] == "Finished", job
    return job, job["SubJobList"][0]


# ------------------------------------------------------------------------------------------- outputs


def test_outputs_are_served_only_through_presigned_urls(engine, finished):
    job, sub = finished
    url = sub["MediaURL"]
    on_disk = local_file(engine, url).read_bytes()
    fetched = requests.get(url, timeout=30)
    assert fetched.status_code == 200 and fetched.content == on_disk  # the answer's URL works as it is
    poster = json.loads(job["ExtendOutput"])["Posters"][sub["JobId"]]
    assert requests.get(poster, timeout=30).content[:2] == b"\xff\xd8"

    bare = url.split("?")[0]
    assert_ims_403(requests.get(bare, timeout=30), "AccessDenied")  # the MediaURL's path, unsigned
    assert job["JobId"] in urlsplit(bare).path  # under the job's own folder
    guessed = f"{engine.url}/outputs/signed/v_0.mp4"  # where the MediaURL alone would put it
    assert requests.get(guessed, timeout=30).status_code in (403, 404)

    parts = dict(p.split("=", 1) for p in urlsplit(url).query.split("&"))
    flipped = ("A" if parts["Signature"][0] != "A" else "B") + parts["Signature"][1:]
    tampered = [f"{bare}?Expires={parts['Expires']}&Signature={flipped}",                  # another signature
                f"{bare}?Expires={int(parts['Expires']) + 86400}&Signature={parts['Signature']}",  # a later expiry
                f"{poster.split('?')[0]}?{urlsplit(url).query}"]                            # another file's signature
    for attempt in tampered:
        assert_ims_403(requests.get(attempt, timeout=30))

    name = unquote(urlsplit(bare).path[len("/outputs/"):])
    expired = engine.engine.links.url(engine.url, name, now=time.time() - 3 * 86400)
    body = assert_ims_403(requests.get(expired, timeout=30), "AccessDenied")
    assert "expired" in body["Message"]


def test_a_second_job_with_the_same_media_url_keeps_the_first_video(engine, finished):
    _, first = finished
    path = local_file(engine, first["MediaURL"])
    before = sha256(path.read_bytes())
    second = wait_job(engine.client, engine.client.submit_batch_job(input_config=STILL, output_config=out_cfg("signed")))
    assert second["Status"] == "Finished", second
    theirs = second["SubJobList"][0]
    assert sha256(path.read_bytes()) == before, "the second job replaced the first job's video"
    assert sha256(requests.get(first["MediaURL"], timeout=30).content) == before
    assert sha256(local_file(engine, theirs["MediaURL"]).read_bytes()) != before  # both kept, each its own


def test_a_bucket_output_another_job_holds_is_refused_at_submit(tmp_path, hostile_media, s3_endpoint, bucket):
    with shared_engine(tmp_path / "data", hostile_media, storage_endpoint=s3_endpoint, storage_bucket=bucket.bucket,
                       storage_region="us-east-1") as env:
        output = {**out_cfg("x"), "MediaURL": f"s3://{bucket.bucket}/claim/v_{{index}}.mp4"}
        first = wait_job(env.client, env.client.submit_batch_job(input_config=CLIP, output_config=output))
        assert first["Status"] == "Finished", first
        error = refused(lambda: strict_client(env).submit_batch_job(input_config=STILL, output_config=output))
        assert (error.code, error.http_status) == ("InvalidParameter", 400), error
        assert f"s3://{bucket.bucket}/claim/v_0.mp4" in error.message and first["JobId"] in error.message, error.message
        # a job that failed holds nothing: its MediaURL is free again
        free = {**output, "MediaURL": f"s3://{bucket.bucket}/free/v_{{index}}.mp4"}
        failed = wait_job(env.client, env.client.submit_batch_job(input_config={"MediaArray": ["clips/none.mp4"]},
                                                                  output_config=free))
        assert failed["Status"] == "Failed", failed
        again = wait_job(env.client, env.client.submit_batch_job(input_config=CLIP, output_config=free))
        assert again["Status"] == "Finished", again


# ------------------------------------------------------------------------------------------- limits


def test_deeply_nested_json_is_a_400_naming_the_parameter(engine):
    client = strict_client(engine)
    nested = "[" * 100000
    for name in ("InputConfig", "EditingConfig"):
        form = {"InputConfig": json.dumps(CLIP), name: nested}
        error = refused(lambda: client.call("SubmitBatchMediaProducingJob",
                                            query={"OutputConfig": json.dumps(out_cfg("deep"))}, form=form))
        assert (error.code, error.http_status) == ("InvalidParameter", 400), error
        assert name in error.message, error.message
    error = refused(lambda: client.call("AddTemplate", query={"Name": "deep", "Type": "BatchEditing"},
                                        form={"Config": nested}))
    assert (error.code, error.http_status) == ("InvalidParameter", 400) and "Config" in error.message, error
    # 64 levels inside a string are text, not nesting: the job is judged on its fields, as ever
    fine = json.dumps({**out_cfg("deep-ok"), "GeneratePreviewOnly": True})
    job_id = client.call("SubmitBatchMediaProducingJob", query={"OutputConfig": fine},
                         form={"InputConfig": json.dumps(CLIP), "EditingConfig": json.dumps({"Note": "[" * 5000})})["JobId"]
    assert wait_job(engine.client, job_id)["Status"] == "Finished"


def test_a_7_mib_config_is_refused_and_not_stored(engine):
    client = strict_client(engine)
    jobs_before = len(list(engine.client.iter_batch_jobs()))
    big = json.dumps({"Note": "x" * (7 * 2**20)})  # a key the checks let through (IMS ignores unknown keys)
    error = refused(lambda: client.call("SubmitBatchMediaProducingJob",
                                        query={"OutputConfig": json.dumps({**out_cfg("big"), "GeneratePreviewOnly": True})},
                                        form={"InputConfig": json.dumps(CLIP), "EditingConfig": big}))
    assert (error.code, error.http_status) == ("InvalidParameter", 400), error
    assert "EditingConfig" in error.message and "256 KiB" in error.message, error.message
    template = json.dumps({"OutputTemplateConfig": {"Width": 180}, "Pad": "x" * (300 * 2**10)})
    error = refused(lambda: client.call("AddTemplate", query={"Name": "big", "Type": "BatchEditing"}, form={"Config": template}))
    assert error.http_status == 400 and "Config" in error.message and "256 KiB" in error.message, error
    assert len(list(engine.client.iter_batch_jobs())) == jobs_before


# ------------------------------------------------------------------------------------------- connections


def test_300_idle_connections_hold_no_threads_and_a_signed_get_answers(engine, finished):
    job, _ = finished
    port = int(urlsplit(engine.url).port)
    threads = threading.active_count()
    idle = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(300)]
    try:
        # a fresh client's connection queues behind all 300: once its Gets answer, every idle one was accepted
        client = ImsClient(engine.url, Credentials(engine.key_id, engine.secret), timeout=(10, 30))
        times = []
        for _ in range(100):
            started = time.perf_counter()
            assert client.get_batch_job(job["JobId"])["Status"] == "Finished"
            times.append((time.perf_counter() - started) * 1000)
        client.close()
        added = threading.active_count() - threads
        times.sort()
        print(f"300 idle connections: +{added} threads; signed Get p50 "
              f"{statistics.median(times):.1f} ms, p99 {times[98]:.1f} ms")
        assert added < 30, f"300 idle connections hold {added} more threads"
    finally:
        for sock in idle:
            sock.close()


def test_a_slowloris_connection_is_cut_off(engine, monkeypatch):
    try:  # the deadline from a request's first byte, 60 s in service: 2 s here
        monkeypatch.setattr(importlib.import_module("sheet2video.engine.api.http"), "REQUEST_SECONDS", 2)
    except ImportError:
        pass  # an engine without it (6982ffc): the attack itself shows what happens
    port = int(urlsplit(engine.url).port)
    request = b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 200
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    try:
        deadline, sent, cut = time.monotonic() + 40, 0, False
        while not cut and time.monotonic() < deadline:
            try:
                sock.send(request[sent:sent + 1])  # one header byte at a time, never the blank line
                sent += 1
                sock.settimeout(0.5)  # the pace of the attack: a byte every half second
                cut = sock.recv(1) == b""
            except TimeoutError:
                continue
            except OSError:
                cut = True
        assert cut, f"a request still incomplete after {sent} bytes over 40 s was never cut off"
    finally:
        sock.close()


# ------------------------------------------------------------------------------------------- data folder


LAYOUTS = {
    "data as a dot-folder in the media root (the old default)": lambda tmp: (tmp / "root", tmp / "root" / ".sheet2video-engine"),
    "--data inside the media root": lambda tmp: (tmp / "root", tmp / "root" / "media" / "engine"),
    "--media-root /": lambda tmp: (Path("/"), tmp / "data"),
}


@pytest.mark.parametrize("layout", LAYOUTS)
def test_the_data_folder_is_never_media(tmp_path, layout, hostile_media):
    root, data = LAYOUTS[layout](tmp_path)
    (tmp_path / "root").mkdir()
    clip = tmp_path / "root" / "ok.mp4"
    clip.write_bytes((hostile_media / "clips/ok.mp4").read_bytes())
    _, key_file = load_or_create_keys(data)  # the key `serve` stores (this engine signs with another pair)
    secret = json.loads(key_file.read_text())["AccessKeySecret"]
    (data / "cache" / "speech").mkdir(parents=True)
    red = Path(make_image(data / "cache" / "speech" / "red.png", "320x240", "red"))  # renders if read
    os.symlink(key_file, tmp_path / "root" / "key-link.json")
    os.symlink(red, tmp_path / "root" / "red-link.png")
    with shared_engine(data, root) as env:
        def rel(path: Path) -> str:
            return str(path.relative_to(root)) if root != Path("/") else str(path)

        references = [rel(red), red.as_uri(), str(tmp_path / "root" / "red-link.png"), rel(key_file), str(key_file),
                      key_file.as_uri(), str(tmp_path / "root" / "key-link.json"), rel(data / "engine.sqlite3")]
        client = strict_client(env)
        for reference in references:
            job = wait_job(env.client, env.client.submit_batch_job(
                input_config={"MediaArray": [reference]}, output_config=out_cfg("steal-" + uuid.uuid4().hex[:6])))
            sub = job["SubJobList"][0]
            if job["Status"] == "Finished":
                assert not shows_red(local_file(env, sub["MediaURL"])), f"{layout}: {reference} was rendered"
            assert sub.get("ErrorCode") == "InvalidMaterial.Forbidden", (layout, reference, sub)
            assert secret not in json.dumps(job), (layout, reference)
            error = refused(lambda: client.register_media_info(reference))
            assert error.http_status == 400 and secret not in error.message, (layout, reference, error)
        # the outputs inside the data folder stay readable: a rendered video can be an input
        made = wait_job(env.client, env.client.submit_batch_job(input_config={"MediaArray": [str(clip)]},
                                                                output_config=out_cfg("made")))
        assert made["Status"] == "Finished", made
        reuse = wait_job(env.client, env.client.submit_batch_job(
            input_config={"MediaArray": [str(local_file(env, made["SubJobList"][0]["MediaURL"]))]},
            output_config=out_cfg("reuse")))
        assert reuse["Status"] == "Finished", reuse
