"""The local engine end to end: real HTTP on loopback through ImsClient (or raw signed requests),
real FFmpeg renders at 180x320 of a few seconds, outputs probed with PyAV.

Waiting is always "poll Get until a condition holds, with a deadline" — never a fixed sleep.
Jobs whose rendering is not the point use ``OutputConfig.GeneratePreviewOnly`` (plan only).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import queue
import random
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import unquote, urlencode, urlsplit

import av
import numpy as np
import pytest
import requests
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from sheet2video.engine.timeline.timing import SPEECH_TAIL
from sheet2video.engine.api.server import MAX_BODY_BYTES, Engine, EngineConfig, ephemeral_keys
from sheet2video.engine.speech.synthesis import DefaultSynthesizer
from sheet2video.engine.api.store import Store
from sheet2video.errors import ImsError, LockedError
from sheet2video.cloud import callback_auth, canonical, signing, timestamps
from sheet2video.cloud.client import ImsClient
from sheet2video.cloud.credentials import Credentials
from tests.media import make_image, make_tone, make_video

ROOT = Path(__file__).resolve().parents[3]
W, H = 180, 320
API_VERSION = "2020-11-09"
CALLBACK_KEY = "CbKey2024abcXYZ"
TIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
HEX32 = re.compile(r"^[0-9a-f]{32}$")
SILENT_DB = -60.0
AUDIBLE_DB = -40.0


# ---------------------------------------------------------------------------------------------
# media, engines, clients


@pytest.fixture(scope="module")
def media_root(tmp_path_factory) -> Path:
    """Small clips, stills, music and a corrupt file, made once for the module (~2 s)."""
    root = tmp_path_factory.mktemp("media")
    for sub in ("clips", "images", "music", "bad"):
        (root / sub).mkdir()
    jobs = [
        lambda: make_video(root / "clips/open_a.mp4", 4, "320x240", pattern="testsrc2"),
        lambda: make_video(root / "clips/open_b.mp4", 3, "240x320", color="red"),
        lambda: make_video(root / "clips/prod_a.mp4", 4, "320x240", pattern="smptebars"),
        lambda: make_video(root / "clips/prod_b.mp4", 3, "240x320", color="blue"),
        lambda: make_video(root / "clips/close_a.mp4", 3, "320x240", pattern="rgbtestsrc"),
        lambda: make_video(root / "clips/tone.mp4", 4, "320x240", color="yellow", with_audio=440),
        lambda: make_image(root / "images/photo.png", "320x240", "purple"),
        lambda: make_image(root / "images/photo.jpg", "240x320", "orange"),
        lambda: make_tone(root / "music/bgm.m4a", 8, 220),
    ]
    with ThreadPoolExecutor(max_workers=4) as pool:
        for future in [pool.submit(j) for j in jobs]:
            future.result()
    (root / "bad/corrupt.mp4").write_bytes(random.Random(7).randbytes(64 * 1024))
    return root


@pytest.fixture(scope="module")
def speech_durations(tmp_path_factory):
    """Duration of a text as the engine speaks it (same synthesizer, default voice and rate)."""
    synth = DefaultSynthesizer(tmp_path_factory.mktemp("speech"))
    return lambda text: synth.synthesize(text).duration


def _key_pair() -> tuple[str, str]:
    return next(iter(ephemeral_keys().items()))


def _start_engine(data: Path, media_root: Path, **options) -> SimpleNamespace:
    key_id, secret = _key_pair()
    options.setdefault("workers", 2)
    options.setdefault("threads", 1)
    engine = Engine(EngineConfig(data=data, media_root=media_root, keys={key_id: secret}, **options))
    url = engine.start()
    client = ImsClient(url, Credentials(key_id, secret), timeout=(5, 60))
    return SimpleNamespace(engine=engine, url=url, key_id=key_id, secret=secret, client=client, data=data,
                           outputs=engine.outputs)


@pytest.fixture(scope="module")
def srv(tmp_path_factory, media_root):
    """The engine most tests share: 2 render workers of 1 thread each, callbacks signed (and let reach
    the test's receiver on loopback, which a shared server refuses unless told)."""
    e = _start_engine(tmp_path_factory.mktemp("engine"), media_root, callback_auth_key=CALLBACK_KEY,
                      allow_callback=["127.0.0.1/32"])
    yield e
    e.client.close()
    e.engine.close()


# ---------------------------------------------------------------------------------------------
# helpers


def wait_job(client: ImsClient, job_id: str, until=("Finished", "Failed"), timeout: float = 90.0,
             interval: float = 0.1) -> dict:
    """Poll Get until the job's Status is in ``until`` (or ``until(job)`` holds, when callable);
    fail with the last answer at the deadline."""
    done = until if callable(until) else (lambda j: j["Status"] in until)
    deadline = time.monotonic() + timeout
    job: dict = {}
    while time.monotonic() < deadline:
        job = client.get_batch_job(job_id)
        if done(job):
            return job
        time.sleep(interval)
    pytest.fail(f"job {job_id} did not reach {until} within {timeout} s; last answer: {json.dumps(job)[:2000]}")


def submit(client: ImsClient, inputs: dict, output: dict, editing: dict | None = None, **kw) -> str:
    return client.submit_batch_job(input_config=inputs, editing_config=editing, output_config=output, **kw)


def run_job(client: ImsClient, inputs: dict, output: dict, editing: dict | None = None, **kw) -> dict:
    return wait_job(client, submit(client, inputs, output, editing, **kw))


def out_cfg(name: str, count: int = 1, **extra) -> dict:
    return {"MediaURL": f"{name}/v_{{index}}.mp4", "Count": count, "Width": W, "Height": H, **extra}


def preview_cfg(name: str, count: int = 1) -> dict:
    return out_cfg(name, count, GeneratePreviewOnly=True)


def raw_post(url: str, action: str, key_id: str, secret: str, *, query: dict | None = None,
             form: dict | None = None, headers: dict | None = None) -> requests.Response:
    """One signed request without the client's retries (what ImsClient sends, minus retrying)."""
    signed = signed_request(url, action, key_id, secret, query=query, form=form, headers=headers)
    return requests.post(signed.url, data=signed.body, headers=signed.headers, timeout=30)


def signed_request(url: str, action: str, key_id: str, secret: str, *, query: dict | None = None,
                   form: dict | None = None, headers: dict | None = None) -> SimpleNamespace:
    query = query or {}
    body = urlencode(sorted(form.items())).encode() if form else b""
    base = {"x-acs-action": action, "x-acs-version": API_VERSION, "accept": "application/json", **(headers or {})}
    if form:
        base["content-type"] = "application/x-www-form-urlencoded"
    signed = signing.sign_request("POST", urlsplit(url).netloc, "/", query, base, body, key_id, secret)
    qs = canonical.canonical_query_string(query)
    return SimpleNamespace(url=f"{url}/" + (f"?{qs}" if qs else ""), body=body, headers=signed)


def assert_ims_error(resp: requests.Response, code: str, status: int | None = None) -> dict:
    assert 400 <= resp.status_code < 500, (resp.status_code, resp.text)
    if status is not None:
        assert resp.status_code == status, (resp.status_code, resp.text)
    body = resp.json()
    assert {"RequestId", "Code", "Message"} <= set(body), body
    assert body["RequestId"] and body["Message"], body
    assert body["Code"] == code, body
    return body


def local_file(srv: SimpleNamespace, media_url: str) -> Path:
    path = urlsplit(media_url).path
    assert path.startswith("/outputs/"), media_url
    return srv.outputs / unquote(path[len("/outputs/"):])


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def probe(path: Path) -> SimpleNamespace:
    """Codecs, size, duration and loudness (RMS over every decoded sample, dBFS) of an output."""
    with av.open(str(path)) as container:
        video = container.streams.video[0] if container.streams.video else None
        audio = container.streams.audio[0] if container.streams.audio else None
        info = SimpleNamespace(
            vcodec=video.codec_context.name if video else None,
            acodec=audio.codec_context.name if audio else None,
            width=video.codec_context.width if video else 0,
            height=video.codec_context.height if video else 0,
            duration=container.duration / av.time_base if container.duration else 0.0,
            rms_db=None,
        )
        if audio is not None:
            total, count = 0.0, 0
            for frame in container.decode(audio):
                samples = frame.to_ndarray()
                if np.issubdtype(samples.dtype, np.integer):
                    samples = samples / float(np.iinfo(samples.dtype).max)
                samples = samples.astype(np.float64)
                total += float(np.sum(samples * samples))
                count += samples.size
            rms = (total / count) ** 0.5 if count else 0.0
            info.rms_db = 20 * np.log10(rms) if rms > 0 else -200.0
    return info


def first_frame(path: Path, at: float = 0.5) -> np.ndarray:
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            if frame.time is not None and frame.time >= at:
                return frame.to_ndarray(format="rgb24").astype(np.int16)
    raise AssertionError(f"{path}: no frame at {at} s")


def assert_playable(srv: SimpleNamespace, sub: dict, *, audible: bool | None = None,
                    tolerance: float = 0.15) -> SimpleNamespace:
    """A successful sub-job: its URL serves the file, which is H.264 + AAC at W×H lasting Duration."""
    assert sub["Status"] == "Success", sub
    assert HEX32.match(sub["MediaId"]), sub
    assert sub["MediaURL"].startswith(srv.url + "/outputs/"), sub
    assert "&Signature=" in sub["MediaURL"], sub  # presigned: the bare path is refused (engine/api/output_links.py)
    assert requests.get(sub["MediaURL"].split("?")[0], timeout=30).status_code == 403
    path = local_file(srv, sub["MediaURL"])
    fetched = requests.get(sub["MediaURL"], timeout=30)
    assert fetched.status_code == 200
    assert fetched.content == path.read_bytes(), "the URL does not serve the rendered file"
    info = probe(path)
    assert (info.vcodec, info.acodec) == ("h264", "aac"), info
    assert (info.width, info.height) == (W, H), info
    assert isinstance(sub["Duration"], (int, float)) and sub["Duration"] > 0, sub
    assert abs(info.duration - sub["Duration"]) <= tolerance, (info.duration, sub["Duration"])
    if audible is True:
        assert info.rms_db > AUDIBLE_DB, info
    elif audible is False:
        assert info.rms_db < SILENT_DB, info
    return info


# ---------------------------------------------------------------------------------------------
# 1–2. script mode: shapes, outputs, determinism

SCRIPT_INPUT = {
    "MediaGroupArray": [
        {"GroupName": "Opening", "MediaArray": ["clips/open_a.mp4", "clips/open_b.mp4"]},
        {"GroupName": "Product", "MediaArray": ["clips/prod_a.mp4", "clips/prod_b.mp4"]},
        {"GroupName": "Closing", "MediaArray": ["clips/close_a.mp4", "images/photo.png"]},
    ],
    "TitleArray": ["Grand opening", "Fresh deals today"],
    "SpeechTextArray": [
        "A new shop opened nearby today. Come and see.",
        "Snacks and drinks are cheap, so come and have a look.",
    ],
    "BackgroundMusicArray": ["music/bgm.m4a"],
}
SCRIPT_EDITING = {
    "MediaConfig": {"Volume": 0},
    "SpeechConfig": {"Volume": 1},
    "BackgroundMusicConfig": {"Volume": 0.3},
    "ProcessConfig": {"SingleShotDuration": 1.5},
}
SCRIPT_OUTPUT = out_cfg("script", 2)


@pytest.fixture(scope="module")
def script_job(srv):
    job_id = submit(srv.client, SCRIPT_INPUT, SCRIPT_OUTPUT, SCRIPT_EDITING, client_token="script-" + uuid.uuid4().hex)
    job = wait_job(srv.client, job_id)
    assert job["Status"] == "Finished", job
    files = [local_file(srv, s["MediaURL"]) for s in job["SubJobList"]]
    return SimpleNamespace(job_id=job_id, job=job, hashes=[sha256_file(f) for f in files], files=files)


def test_script_job_finishes_with_ims_shapes_and_playable_outputs(srv, script_job, speech_durations):
    job = script_job.job
    assert job["JobId"] == script_job.job_id
    assert job["JobType"] == "Script"
    assert job["Status"] == "Finished"
    assert json.loads(job["InputConfig"]) == SCRIPT_INPUT
    assert json.loads(job["EditingConfig"]) == SCRIPT_EDITING
    assert json.loads(job["OutputConfig"]) == SCRIPT_OUTPUT
    assert "ErrorCode" not in json.loads(job["Extend"])
    for name in ("CreateTime", "ModifiedTime", "CompleteTime"):
        assert TIME_RE.match(job[name]), (name, job[name])
    assert job["CreateTime"] <= job["ModifiedTime"] <= job["CompleteTime"]

    subs = job["SubJobList"]
    assert len(subs) == 2
    assert len({s["JobId"] for s in subs}) == 2 and all(s["JobId"] for s in subs)
    assert len({s["MediaId"] for s in subs}) == 2
    spoken = [speech_durations(t) + SPEECH_TAIL for t in SCRIPT_INPUT["SpeechTextArray"]]
    for sub in subs:
        assert_playable(srv, sub, audible=True)
        # global voice-over: the output lasts as long as one of the scripts, plus the tail
        assert min(abs(sub["Duration"] - d) for d in spoken) <= 0.15, (sub["Duration"], spoken)

    assert script_job.hashes[0] != script_job.hashes[1]
    a, b = (first_frame(f) for f in script_job.files)
    assert np.abs(a - b).mean() > 1.0, "the two variants show the same picture"


def test_same_parameters_render_byte_identical_files(srv, script_job):
    for f in script_job.files:  # make sure the second job really renders them again
        f.unlink()
    job_id = submit(srv.client, SCRIPT_INPUT, SCRIPT_OUTPUT, SCRIPT_EDITING, client_token="again-" + uuid.uuid4().hex)
    assert job_id != script_job.job_id
    job = wait_job(srv.client, job_id)
    assert job["Status"] == "Finished", job
    again = [sha256_file(local_file(srv, s["MediaURL"])) for s in job["SubJobList"]]
    assert again == script_job.hashes


# ---------------------------------------------------------------------------------------------
# 3. idempotency


def _all_jobs(client: ImsClient, **filters) -> list[dict]:
    jobs, token = [], None
    for _ in range(100):
        page = client.list_batch_jobs(max_results=100, next_token=token, **filters)
        jobs += page["EditingBatchJobList"]
        token = page.get("NextToken")
        if not token:
            return jobs
    pytest.fail("List never ended")


def test_same_client_token_returns_the_same_job(srv):
    token = "idem-" + uuid.uuid4().hex
    inputs = {"MediaGroupArray": [{"GroupName": "G", "MediaArray": ["clips/prod_b.mp4"]}]}
    before = len(_all_jobs(srv.client))
    first = submit(srv.client, inputs, preview_cfg("idem"), client_token=token)
    second = submit(srv.client, inputs, preview_cfg("idem"), client_token=token)
    assert first == second
    listed = _all_jobs(srv.client)
    assert len(listed) == before + 1
    assert [j["JobId"] for j in listed].count(first) == 1
    assert [j["JobId"] for j in srv.client.list_batch_jobs(job_id=first)["EditingBatchJobList"]] == [first]
    assert wait_job(srv.client, first)["Status"] == "Finished"


# ---------------------------------------------------------------------------------------------
# 4. source audio: muted by default, audible at Volume 1


def test_volume_zero_without_speech_or_music_is_silent(srv):
    job = run_job(srv.client, {"MediaGroupArray": [{"GroupName": "G", "MediaArray": ["clips/tone.mp4"]}]},
                  out_cfg("silent"), {"MediaConfig": {"Volume": 0}})
    assert job["Status"] == "Finished", job
    (sub,) = job["SubJobList"]
    assert_playable(srv, sub, audible=False)


def test_media_volume_one_keeps_the_clip_tone(srv):
    job = run_job(srv.client, {"MediaGroupArray": [{"GroupName": "G", "MediaArray": ["clips/tone.mp4"]}]},
                  out_cfg("tone"), {"MediaConfig": {"Volume": 1}})
    assert job["Status"] == "Finished", job
    (sub,) = job["SubJobList"]
    assert_playable(srv, sub, audible=True)


# ---------------------------------------------------------------------------------------------
# 5. grouped voice-over; the reference's own example with registered media

GROUP_SCRIPTS = {
    "Opening": ["Welcome to our new shop.", "Hello and welcome, everyone."],
    "Closing": ["Thanks for watching.", "See you there soon."],
}


def test_grouped_voice_over_lasts_the_sum_of_its_groups(srv, speech_durations):
    inputs = {"MediaGroupArray": [
        {"GroupName": "Opening", "MediaArray": ["clips/open_a.mp4", "clips/open_b.mp4"],
         "SpeechTextArray": GROUP_SCRIPTS["Opening"]},
        {"GroupName": "Middle", "MediaArray": ["clips/prod_a.mp4", "images/photo.jpg"], "Duration": 2},
        {"GroupName": "Closing", "MediaArray": ["clips/close_a.mp4"], "SpeechTextArray": GROUP_SCRIPTS["Closing"]},
    ]}
    job = run_job(srv.client, inputs, out_cfg("grouped", 2))
    assert job["Status"] == "Finished", job
    # every voiced group has two scripts: output n speaks the n-th of each (in some order)
    expected = [speech_durations(GROUP_SCRIPTS["Opening"][n]) + 2 + speech_durations(GROUP_SCRIPTS["Closing"][n]) + SPEECH_TAIL
                for n in range(2)]
    for sub in job["SubJobList"]:
        info = assert_playable(srv, sub, audible=True)
        assert min(abs(info.duration - e) for e in expected) <= 0.2, (info.duration, expected)


REF_TITLES = ["回龙观盒马鲜生开业啦", "盒马鲜生开业啦"]
REF_SCRIPTS = ["附近的商场新开了一家盒马鲜生，今天是第一天开业", "商场里的人不少，零食、酒水都比较便宜大家也快来看看呀"]


def test_reference_example_with_registered_media(srv, media_root):
    urls = ["clips/open_a.mp4", (media_root / "clips/open_b.mp4").as_uri(), "clips/prod_a.mp4", "clips/prod_b.mp4"]
    ids = [srv.client.register_media_info(u) for u in urls]
    assert all(HEX32.match(i) for i in ids) and len(set(ids)) == 4
    for media_id, url in zip(ids, urls):
        info = srv.client.get_media_info(media_id)
        assert info["MediaId"] == media_id
        assert info["MediaBasicInfo"]["InputURL"] == url
        assert info["MediaBasicInfo"]["MediaType"] == "video"
    inputs = {
        "MediaGroupArray": [
            {"GroupName": "MediaGroup1", "MediaArray": ids[:2]},
            {"GroupName": "MediaGroup2", "MediaArray": ids[2:]},
        ],
        "TitleArray": REF_TITLES,
        "SpeechTextArray": REF_SCRIPTS,
    }
    editing = {"MediaConfig": {"Volume": 0}, "SpeechConfig": {"Volume": 1}, "BackgroundMusicConfig": {"Volume": 0.3}}
    job = run_job(srv.client, inputs, out_cfg("reference", 2, MaxDuration=15, Video={"Crf": 27}), editing)
    assert job["Status"] == "Finished", job
    assert len(job["SubJobList"]) == 2
    for sub in job["SubJobList"]:
        assert_playable(srv, sub, audible=True)


# ---------------------------------------------------------------------------------------------
# 6. image-text mode


def test_image_text_mode_renders(srv, speech_durations):
    script = "Our shop is open. Come and see the new products. We hope to see you soon."
    inputs = {"MediaArray": ["images/photo.png", "clips/prod_a.mp4", "images/photo.jpg"], "SpeechTextArray": [script]}
    job = run_job(srv.client, inputs, out_cfg("imagetext"))
    assert job["Status"] == "Finished", job
    assert job["JobType"] != "Script"
    (sub,) = job["SubJobList"]
    info = assert_playable(srv, sub, audible=True)
    assert abs(info.duration - speech_durations(script) - SPEECH_TAIL) <= 0.15


# ---------------------------------------------------------------------------------------------
# 7. protocol rejections


def test_protocol_rejections(srv):
    url, kid, secret = srv.url, srv.key_id, srv.secret
    get = "GetBatchMediaProducingJob"
    submit_action = "SubmitBatchMediaProducingJob"
    good_input = json.dumps({"MediaGroupArray": [{"GroupName": "G", "MediaArray": ["clips/prod_b.mp4"]}]})

    def submit_raw(output: dict, input_text: str = good_input):
        return raw_post(url, submit_action, kid, secret, query={"OutputConfig": json.dumps(output)},
                        form={"InputConfig": input_text})

    assert_ims_error(raw_post(url, "ListBatchMediaProducingJobs", kid, secret + "x"), "SignatureDoesNotMatch")
    assert_ims_error(raw_post(url, "ListBatchMediaProducingJobs", "LTAInobody", secret), "InvalidAccessKeyId.NotFound")

    once = signed_request(url, "ListBatchMediaProducingJobs", kid, secret, query={"MaxResults": "1"})
    assert requests.post(once.url, data=once.body, headers=once.headers, timeout=30).status_code == 200
    replay = requests.post(once.url, data=once.body, headers=once.headers, timeout=30)
    assert_ims_error(replay, "SignatureNonceUsed")

    stale = timestamps.format_timestamp(datetime.now(timezone.utc) - timedelta(minutes=20))
    assert_ims_error(raw_post(url, "ListBatchMediaProducingJobs", kid, secret, headers={"x-acs-date": stale}),
                     "InvalidTimeStamp.Expired")

    unsigned = requests.post(url + "/", headers={"x-acs-action": get, "x-acs-version": API_VERSION}, timeout=30)
    assert_ims_error(unsigned, "IncompleteSignature")

    assert_ims_error(raw_post(url, "DescribeEverything", kid, secret), "InvalidApi.NotFound")

    body = assert_ims_error(submit_raw(preview_cfg("p"), "{not json"), "InvalidParameter")
    assert "InputConfig" in body["Message"]
    body = assert_ims_error(submit_raw({**preview_cfg("p"), "Count": 101}), "InvalidParameter")
    assert "OutputConfig.Count" in body["Message"]
    escaping = {**preview_cfg("p"), "MediaURL": "out/../../escape_{index}.mp4"}
    body = assert_ims_error(submit_raw(escaping), "InvalidParameter")
    assert ".." in body["Message"]

    huge = raw_post(url, submit_action, kid, secret, query={"OutputConfig": json.dumps(preview_cfg("p"))},
                    form={"InputConfig": good_input, "EditingConfig": "x" * (MAX_BODY_BYTES + 1024)})
    assert huge.status_code == 413, huge.text
    assert {"RequestId", "Code", "Message"} <= set(huge.json()) and huge.json()["Code"], huge.text

    assert_ims_error(raw_post(url, get, kid, secret, query={"JobId": uuid.uuid4().hex}), "InvalidParameter.JobId")

    # the output route serves only the outputs folder (the job store sits one level up)
    assert (srv.data / "engine.sqlite3").is_file()
    for escape in ("/outputs/..%2Fengine.sqlite3", "/outputs/%2e%2e/engine.sqlite3"):
        assert requests.get(url + escape, timeout=30).status_code == 404

    # and the client surfaces the same codes as ImsError
    with pytest.raises(ImsError) as caught:
        ImsClient(url, Credentials(kid, secret + "x"), max_retries=0).list_batch_jobs()
    assert caught.value.code == "SignatureDoesNotMatch" and caught.value.http_status == 400


# ---------------------------------------------------------------------------------------------
# 8. List: pagination, order, filters


def test_list_pages_sorts_and_filters(tmp_path, media_root):
    e = _start_engine(tmp_path / "engine", media_root, workers=1)
    try:
        c = e.client
        good = {"MediaGroupArray": [{"GroupName": "G", "MediaArray": ["clips/prod_b.mp4"]}]}
        bad = {"MediaGroupArray": [{"GroupName": "G", "MediaArray": ["clips/no_such_clip.mp4"]}]}
        ids = [submit(c, bad if i == 2 else good, preview_cfg(f"list{i}")) for i in range(5)]
        for job_id in ids:
            wait_job(c, job_id)

        def walk(**filters) -> list[str]:
            seen, token, pages = [], None, 0
            while True:
                page = c.list_batch_jobs(max_results=2, next_token=token, **filters)
                assert page["MaxResults"] == 2
                assert len(page["EditingBatchJobList"]) <= 2
                for entry in page["EditingBatchJobList"]:
                    assert "SubJobList" not in entry
                    assert {"JobId", "JobType", "Status", "InputConfig", "OutputConfig", "CreateTime"} <= set(entry)
                seen += [j["JobId"] for j in page["EditingBatchJobList"]]
                pages += 1
                token = page.get("NextToken")
                if not token:
                    return seen
                assert pages < 10, "NextToken never runs out"

        newest_first = walk()
        assert newest_first == ids[::-1]  # every job once, newest first by default
        assert len(set(newest_first)) == 5
        assert walk(sort_by="asc") == ids
        newest = c.list_batch_jobs(sort_by="desc", max_results=1)["EditingBatchJobList"]
        assert [j["JobId"] for j in newest] == [ids[-1]]
        assert walk(status="Failed") == [ids[2]]
        assert walk(status="Finished", sort_by="asc") == [i for n, i in enumerate(ids) if n != 2]
        assert walk(status="Processing") == []
        for bad_max in (0, 101):
            with pytest.raises(ImsError) as caught:
                c.list_batch_jobs(max_results=bad_max)
            assert caught.value.code.startswith("InvalidParameter") and 400 <= caught.value.http_status < 500
    finally:
        e.client.close()
        e.engine.close()


# ---------------------------------------------------------------------------------------------
# 9. bad material


def _failed_with(srv, reference: str, count: int = 1) -> tuple[dict, dict]:
    job = run_job(srv.client, {"MediaGroupArray": [{"GroupName": "G", "MediaArray": [reference]}]},
                  out_cfg("bad", count))
    assert job["Status"] == "Failed", job
    extend = json.loads(job["Extend"])
    assert len(job["SubJobList"]) == count
    for sub in job["SubJobList"]:
        assert sub["Status"] == "Failed", sub
        assert sub["ErrorCode"] == extend["ErrorCode"], (sub, extend)
        assert sub["ErrorMessage"], sub
    return job, extend


def test_bad_material_fails_the_job_clearly(srv):
    job, extend = _failed_with(srv, "clips/missing_clip.mp4", count=2)
    assert extend["ErrorCode"] == "InvalidMaterial.NotFound"
    assert "missing_clip.mp4" in extend["ErrorMessage"]
    assert all("missing_clip.mp4" in s["ErrorMessage"] for s in job["SubJobList"])
    assert TIME_RE.match(job["CompleteTime"])

    for outside in ("../../etc/passwd", "/etc/passwd", "file:///etc/passwd"):
        job, extend = _failed_with(srv, outside)
        assert extend["ErrorCode"] == "InvalidMaterial.Forbidden", (outside, extend)
        assert "root:" not in json.dumps(job)

    job, extend = _failed_with(srv, "bad/corrupt.mp4")
    assert extend["ErrorCode"] == "InvalidMaterial.Corrupt", extend
    assert "corrupt.mp4" in extend["ErrorMessage"]

    # the engine is unharmed: it still lists and renders
    assert srv.client.list_batch_jobs(max_results=1)["EditingBatchJobList"]
    ok = run_job(srv.client, {"MediaGroupArray": [{"GroupName": "G", "MediaArray": ["clips/prod_b.mp4"]}]},
                 out_cfg("after_bad"))
    assert ok["Status"] == "Finished", ok
    assert_playable(srv, ok["SubJobList"][0])


# ---------------------------------------------------------------------------------------------
# 10. completion callback


def test_completion_callback_is_signed_and_ims_shaped(srv):
    received: queue.Queue = queue.Queue()
    arrived = threading.Event()

    def receiver(environ, start_response):
        request = Request(environ)
        received.put((request.url, dict(request.headers), request.get_data()))
        arrived.set()
        return Response("ok")(environ, start_response)

    server = make_server("127.0.0.1", 0, receiver, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        address = f"http://127.0.0.1:{server.server_port}/ims/callback"
        user_data = {"NotifyAddress": address, "Campaign": "spring"}
        job_id = submit(srv.client, {"MediaGroupArray": [{"GroupName": "G", "MediaArray": ["clips/prod_b.mp4"]}]},
                        out_cfg("callback"), user_data=user_data)
        assert arrived.wait(60), "no callback arrived"
        url, headers, body = received.get_nowait()
        event = json.loads(body)
        assert event["EventType"] == "BatchProduceMediaComplete"
        assert TIME_RE.match(event["EventTime"])
        message = event["MessageBody"]
        assert message["JobId"] == job_id
        assert message["Status"] == "Finished"
        assert json.loads(message["UserData"]) == user_data
        assert url == address
        assert callback_auth.verify_callback(address, headers, CALLBACK_KEY)
        assert not callback_auth.verify_callback(address, headers, CALLBACK_KEY + "x")
        # the callback comes once the job is done: Get agrees
        assert srv.client.get_batch_job(job_id)["Status"] == "Finished"
    finally:
        server.shutdown()
        server.server_close()


# ---------------------------------------------------------------------------------------------
# 11. kill -9 mid-job, restart, the job completes


class ServeProcess:
    """``python -m sheet2video serve`` in its own process group; ``url`` from its stderr."""

    def __init__(self, data: Path, media: Path, key_id: str, secret: str):
        env = {**os.environ, "SHEET2VIDEO_ENGINE_KEY_ID": key_id, "SHEET2VIDEO_ENGINE_KEY_SECRET": secret}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "sheet2video", "serve", "--port", "0", "--data", str(data),
             "--media-root", str(media), "--workers", "1"],
            cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            text=True, start_new_session=True,
        )
        self.lines: queue.Queue = queue.Queue()
        self.log: list[str] = []
        threading.Thread(target=self._drain, daemon=True).start()
        self.url = self._wait_url(60)

    def _drain(self) -> None:
        for line in self.proc.stderr:
            self.lines.put(line)

    def _wait_url(self, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                if self.proc.poll() is not None:
                    break
                continue
            self.log.append(line)
            found = re.search(r"listening on (http://\S+)", line)
            if found:
                return found.group(1)
        self.kill()
        pytest.fail("serve did not announce its URL:\n" + "".join(self.log))

    def kill(self, group: bool = True) -> None:
        """SIGKILL the whole group (the server and any FFmpeg it runs), as a crash would; or only
        the server, as ``kill -9 PID`` or the OOM killer would."""
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL) if group else self.proc.kill()
            except ProcessLookupError:
                pass
        self.proc.wait(10)


def processes_mentioning(text: str) -> list[int]:
    """Pids of live processes whose command line contains ``text`` (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            if text in cmdline and not dying_or_gone(int(entry.name)):
                found.append(int(entry.name))
        except (OSError, ValueError):
            continue
    return found


def dying_or_gone(pid: int) -> bool:
    """The process has exited, or a SIGKILL is on its way (pending for it or its thread group)."""
    try:
        status = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    except (FileNotFoundError, ProcessLookupError):
        return True
    sigkill = 1 << (signal.SIGKILL - 1)
    pending = int(status["SigPnd"], 16) | int(status["ShdPnd"], 16)
    return status["State"].split()[0] in ("Z", "X") or bool(pending & sigkill)


def test_restart_after_kill_resumes_the_job(tmp_path, media_root):
    key_id, secret = _key_pair()
    data = tmp_path / "data"
    inputs = {"MediaGroupArray": [
        {"GroupName": "A", "MediaArray": ["clips/open_a.mp4", "clips/open_b.mp4"]},
        {"GroupName": "B", "MediaArray": ["clips/prod_a.mp4", "clips/prod_b.mp4"]},
    ]}
    output = out_cfg("restart", 3, FixedDuration=6)
    first = ServeProcess(data, media_root, key_id, secret)
    try:
        client = ImsClient(first.url, Credentials(key_id, secret), max_retries=0)
        job_id = submit(client, inputs, output)
        # kill while an output is being rendered (sub-jobs go Processing once planned)
        seen = wait_job(client, job_id, interval=0.02, until=lambda j: j["Status"] in ("Finished", "Failed") or (
            j["Status"] == "Processing" and any(s["Status"] == "Processing" for s in j["SubJobList"])))
        assert seen["Status"] == "Processing", seen
        deadline = time.monotonic() + 30
        while not (ffmpeg := processes_mentioning(str(data / "outputs"))):  # until FFmpeg renders into the outputs
            assert time.monotonic() < deadline, "no FFmpeg ever rendered into the outputs"
            time.sleep(0.01)
    finally:
        first.kill(group=False)  # the server only (kill -9 PID, the OOM killer)
    client.close()
    # its FFmpeg is killed with it, not left rendering on as an orphan
    assert all(dying_or_gone(pid) for pid in ffmpeg), [Path(f"/proc/{p}/status").read_text()[:300] for p in ffmpeg]
    second = ServeProcess(data, media_root, key_id, secret)
    try:
        client = ImsClient(second.url, Credentials(key_id, secret))
        job = wait_job(client, job_id, timeout=120)
        assert job["Status"] == "Finished", job
        assert [s["Status"] for s in job["SubJobList"]] == ["Success"] * 3, job
        restarted = SimpleNamespace(url=second.url, outputs=data / "outputs")
        for sub in job["SubJobList"]:
            assert_playable(restarted, sub, audible=False)
            assert abs(sub["Duration"] - 6) <= 0.15
    finally:
        client.close()
        second.proc.terminate()
        try:
            second.proc.wait(15)
        except subprocess.TimeoutExpired:
            second.kill()


def test_one_engine_per_data_folder_and_only_its_own_stale_renders_removed(tmp_path, media_root):
    data, outputs = tmp_path / "data", tmp_path / "videos"
    # a job a crash left unfinished in this store, with its render's temp files, and another
    # engine's render in progress in the same outputs folder
    store = Store(data / "engine.sqlite3")
    store.create_job("k", None, "Script", {}, ["camp/a_0.mp4"])
    store.close()
    own = [outputs / "camp" / ".a_0.mp4.0123456789ab.part", outputs / "camp" / ".a_0.mp4.0123456789ab.filtergraph"]
    other = outputs / "camp" / ".b_0.mp4.ba9876543210.part"
    for path in (*own, other):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"half a render")

    def config() -> EngineConfig:
        return EngineConfig(data=data, media_root=media_root, keys={"k": "s"}, outputs=outputs, workers=1)

    first = Engine(config())
    try:
        assert not any(p.exists() for p in own) and other.exists()
        with pytest.raises(LockedError, match=rf"the engine data folder {re.escape(str(data))} is in use by another "
                                              rf"engine \(pid {os.getpid()}\); try again when it ends"):
            Engine(config())
    finally:
        first.close()
    Engine(config()).close()  # free again once the first is closed


# ---------------------------------------------------------------------------------------------
# 12. per-key QPS limit


def test_qps_limit_throttles_raw_bursts_and_the_client_retries(tmp_path, media_root, caplog):
    e = _start_engine(tmp_path / "engine", media_root, workers=1, qps=2)
    try:
        job_id = submit(e.client, {"MediaGroupArray": [{"GroupName": "G", "MediaArray": ["clips/prod_b.mp4"]}]},
                        preview_cfg("qps"))
        answers = [raw_post(e.url, "GetBatchMediaProducingJob", e.key_id, e.secret, query={"JobId": job_id})
                   for _ in range(10)]
        throttled = [r for r in answers if r.status_code != 200]
        assert throttled, "ten quick calls at qps=2 were never throttled"
        for r in throttled:
            assert_ims_error(r, "Throttling.User", status=400)
        assert any(r.status_code == 200 for r in answers)

        with caplog.at_level(logging.WARNING, logger="sheet2video.cloud.client"):
            for _ in range(4):  # back to back: the bucket runs dry, the client waits and retries
                assert e.client.get_batch_job(job_id)["JobId"] == job_id
        assert "Throttling.User" in caplog.text
    finally:
        e.client.close()
        e.engine.close()
