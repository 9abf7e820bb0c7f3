"""Server hardening of ``sheet2video serve``: refused requests (unsigned, wrong key, wrong secret,
replayed nonce — also after a restart —, stale or future timestamps, tampered bodies), bounded
request sizes (bodies with and without Content-Length, huge URLs, header floods), loopback-only
binding unless told otherwise, and load: 200 queued jobs and 50 concurrent pollers without one
error."""

from __future__ import annotations

import json
import random
import socket
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import requests

from sheet2video.errors import ImsError
from sheet2video.cloud import canonical, signing, timestamps
from tests.reliability.conftest import FIGURES, KEY_ID, KEY_SECRET, copy_media, soak, wait_until

API_VERSION = "2020-11-09"


def signed(url: str, action: str, key_id: str = KEY_ID, secret: str = KEY_SECRET, query=None, form=None, headers=None):
    """A V3-signed request the way ImsClient builds one; ``headers`` are set before signing."""
    from urllib.parse import urlencode, urlsplit

    query = query or {}
    body = urlencode(sorted((form or {}).items())).encode() if form else b""
    base = {"x-acs-action": action, "x-acs-version": API_VERSION, "x-acs-date": timestamps.format_timestamp(),
            "x-acs-signature-nonce": uuid.uuid4().hex, "accept": "application/json"}
    if form:
        base["content-type"] = "application/x-www-form-urlencoded"
    base.update(headers or {})
    host = urlsplit(url).netloc
    all_headers = signing.sign_request("POST", host, "/", query, base, body, key_id, secret)
    qs = canonical.canonical_query_string(query)
    return url + "/" + (f"?{qs}" if qs else ""), body, all_headers


def post(request_tuple, **kw):
    url, body, headers = request_tuple
    return requests.post(url, data=body, headers=headers, timeout=30, **kw)


def ims_error(response, code: str, status: int | None = None) -> dict:
    assert response.status_code != 500 and response.status_code >= 400, response.text[:500]
    if status:
        assert response.status_code == status, response.text[:500]
    body = response.json()
    assert {"RequestId", "Code", "Message"} <= set(body), body
    assert body["Code"] == code, body
    return body


def listening_address(port: int) -> str:
    """The local address a LISTEN socket on ``port`` is bound to, from /proc/net/tcp{,6}."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            local, state = line.split()[1], line.split()[3]
            address, hexport = local.rsplit(":", 1)
            if int(hexport, 16) == port and state == "0A":
                if len(address) == 8:
                    return socket.inet_ntoa(bytes.fromhex(address)[::-1])
                return socket.inet_ntop(socket.AF_INET6, b"".join(bytes.fromhex(address[i:i + 8])[::-1] for i in range(0, 32, 8)))
    raise AssertionError(f"nothing listens on port {port}")


@pytest.fixture
def engine(tmp_path, media_dir, serve):
    root = tmp_path / "root"
    copy_media(media_dir, root)
    return serve(tmp_path / "engine", root)


def test_refuses_unsigned_wrong_key_replayed_stale_and_tampered_requests(engine):
    url, list_action = engine.url, "ListBatchMediaProducingJobs"
    refused = 0

    unsigned = requests.post(url + "/", headers={"x-acs-action": list_action, "x-acs-version": API_VERSION}, timeout=30)
    ims_error(unsigned, "IncompleteSignature", 400)
    ims_error(post(signed(url, list_action, key_id="LTAInobody")), "InvalidAccessKeyId.NotFound")
    ims_error(post(signed(url, list_action, secret=KEY_SECRET + "x")), "SignatureDoesNotMatch")
    refused += 3

    request = signed(url, list_action, query={"MaxResults": "1"})
    assert post(request).status_code == 200
    ims_error(post(request), "SignatureNonceUsed")
    engine.restart()  # nonces live in the engine's store: a restart does not reopen the replay window
    ims_error(post(request), "SignatureNonceUsed")
    refused += 2

    for minutes in (-20, 20):
        when = timestamps.format_timestamp(datetime.now(timezone.utc) + timedelta(minutes=minutes))
        ims_error(post(signed(url, list_action, headers={"x-acs-date": when})), "InvalidTimeStamp.Expired")
    ims_error(post(signed(url, list_action, headers={"x-acs-date": "yesterday"})), "InvalidTimeStamp.Format")
    refused += 3

    form = {"InputConfig": json.dumps({"MediaGroupArray": [{"GroupName": "G", "MediaArray": ["media/a.mp4"]}]})}
    query = {"OutputConfig": json.dumps({"MediaURL": "t/{index}.mp4", "GeneratePreviewOnly": True})}
    target, body, headers = signed(url, "SubmitBatchMediaProducingJob", query=query, form=form)
    ims_error(requests.post(target, data=body.replace(b"a.mp4", b"b.mp4"), headers=headers, timeout=30),
              "SignatureDoesNotMatch")  # body changed after signing
    ims_error(requests.post(target.replace("t%2F", "u%2F"), data=body, headers=headers, timeout=30),
              "SignatureDoesNotMatch")  # query changed after signing
    unsigned_header = dict(headers, **{"x-acs-extra": "1"})
    ims_error(requests.post(target, data=body, headers=unsigned_header, timeout=30), "IncompleteSignature")
    refused += 3
    assert engine.all_jobs() == []  # none of these made a job
    assert not any("Traceback" in line or "internal error" in line for line in engine.log), engine.log[-20:]
    FIGURES["hostile requests refused"] += refused


def test_bounds_request_sizes(engine):
    url = engine.url
    from sheet2video.engine.api.server import MAX_BODY_BYTES

    big = {"EditingConfig": "x" * (MAX_BODY_BYTES + 1)}
    response = post(signed(url, "SubmitBatchMediaProducingJob", form=big))
    ims_error(response, "InvalidParameter.TooLarge", 413)

    def chunks():  # no Content-Length: the limit must hold while streaming too
        block = b"x" * 2**20
        for _ in range(MAX_BODY_BYTES // len(block) + 4):
            yield block

    target, _, headers = signed(url, "SubmitBatchMediaProducingJob", form={"InputConfig": "{}"})
    try:
        streamed = requests.post(target, data=chunks(), headers=headers, timeout=60)
        assert streamed.status_code in (400, 413), streamed.text[:300]
    except requests.ConnectionError:
        pass  # the server may close the connection instead of reading 12 MiB: refused either way

    long_url = requests.post(url + "/?" + "a=" + "b" * 200_000, timeout=30)
    assert 400 <= long_url.status_code < 500
    flood = {f"x-flood-{i}": "1" for i in range(300)}
    flooded = requests.post(url + "/", headers=flood, timeout=30)
    assert 400 <= flooded.status_code < 500
    # still healthy, and nothing was stored
    assert engine.client(max_retries=0).list_batch_jobs()["EditingBatchJobList"] == []
    assert not any("Traceback" in line or "internal error" in line for line in engine.log), engine.log[-20:]
    FIGURES["hostile requests refused"] += 4


def test_binds_loopback_unless_told(tmp_path, media_dir, serve):
    from sheet2video.engine.api.server import Engine, EngineConfig

    root = tmp_path / "root"
    copy_media(media_dir, root)
    default = serve(tmp_path / "a", root)
    assert listening_address(default.port) == "127.0.0.1"
    told = serve(tmp_path / "b", root, "--host", "0.0.0.0")
    assert listening_address(told.port) == "0.0.0.0"
    with Engine(EngineConfig(data=tmp_path / "c", media_root=root, keys={KEY_ID: KEY_SECRET})) as embedded:
        embedded_url = embedded.start()
        assert embedded_url.startswith("http://127.0.0.1:")
        assert listening_address(int(embedded_url.rsplit(":", 1)[1])) == "127.0.0.1"


def test_200_queued_jobs_and_50_concurrent_pollers_without_an_error(tmp_path, media_dir, serve, rng):
    root = tmp_path / "root"
    copy_media(media_dir, root)
    engine = serve(tmp_path / "engine", root, "--workers", "1")
    n_jobs, n_pollers = 200, 50
    inputs = {"MediaGroupArray": [{"GroupName": "A", "MediaArray": ["media/a.mp4"]},
                                  {"GroupName": "B", "MediaArray": ["media/b.mp4", "media/c.png"]}], "TitleArray": ["Load"]}
    editing = {"ProcessConfig": {"SingleShotDuration": 1}}

    def submit(i: int) -> str:
        client = engine.client(max_retries=0)
        return client.submit_batch_job(input_config=inputs, editing_config=editing, client_token=f"load-{i}",
                                       output_config={"MediaURL": f"load/{i}_{{index}}.mp4", "Width": 180, "Height": 320,
                                                      "MaxDuration": 2})

    with ThreadPoolExecutor(max_workers=10) as pool:
        job_ids = list(pool.map(submit, range(n_jobs)))
    assert len(set(job_ids)) == n_jobs
    waiting = sum(j["Status"] in ("Init", "Processing") for j in engine.all_jobs())
    assert waiting > n_jobs // 2, waiting  # the pollers start against a real queue

    errors: list[str] = []
    calls = [0]
    stop = time.monotonic() + soak(8, 60)
    lock = threading.Lock()

    def poller(k: int) -> None:
        client = engine.client(max_retries=0)  # every error is visible: no retries to hide behind
        local = random.Random(f"{rng.random()}:{k}")
        while time.monotonic() < stop:
            try:
                if local.random() < 0.1:
                    page = client.list_batch_jobs(MaxResults=100)
                    assert len(page["EditingBatchJobList"]) == 100
                else:
                    job = client.get_batch_job(local.choice(job_ids))
                    assert job["Status"] in ("Init", "Processing", "Finished", "Failed")
            except (ImsError, AssertionError, requests.RequestException) as error:
                with lock:
                    errors.append(f"{type(error).__name__}: {error}")
            with lock:
                calls[0] += 1

    threads = [threading.Thread(target=poller, args=(k,)) for k in range(n_pollers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors[:5]
    statuses = {}
    for job in engine.all_jobs():
        statuses[job["Status"]] = statuses.get(job["Status"], 0) + 1
    assert sum(statuses.values()) == n_jobs, statuses
    assert statuses.get("Failed", 0) == 0, statuses
    print(f"{calls[0]} polls by {n_pollers} threads, 0 errors; {waiting} jobs queued at the start; now {statuses}")
    if soak(False, True):  # the long run waits for the whole queue
        client = engine.client(max_retries=5)
        wait_until(lambda: all(client.get_batch_job(j)["Status"] == "Finished" for j in job_ids), 1800, "200 jobs")
    assert not any("Traceback" in line or "internal error" in line for line in engine.log), engine.log[-20:]
    FIGURES["concurrent polls answered without an error"] += calls[0]
