"""The official Alibaba Cloud SDKs against a real ``sheet2video serve`` process, only the endpoint changed.

Every action the engine serves goes through ``alibabacloud-ice20201109`` (tea-openapi) four ways —
V3 sync, V3 ``*_async`` (aiohttp, which adds an unsigned ``Content-Type`` to body-less calls), V2
(``signature_algorithm='v2'``) sync and async — and through ``aliyun-python-sdk-core``'s
``CommonRequest`` (V2, its default). Each answer's model ``to_map()`` must equal the raw JSON body
the SDK received (captured from its transport): nothing dropped because the model lacks it, nothing
the engine sent that the model does not define. Errors arrive as the SDK's exceptions with the
engine's ``Code``.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from urllib.parse import urlsplit

import av
import pytest
import requests
from alibabacloud_ice20201109 import models as ice
from alibabacloud_ice20201109.client import Client as IceClient
from alibabacloud_tea_openapi import models as openapi
from alibabacloud_tea_openapi.exceptions import ClientException
from aliyunsdkcore.acs_exception.exceptions import ServerException as CoreServerException
from aliyunsdkcore.client import AcsClient
from aliyunsdkcore.request import CommonRequest
from darabonba.core import DaraCore

from sheet2video.engine.api.server import ephemeral_keys
from sheet2video.cloud import signing_v2, timestamps
from tests.engine.api.test_server import ServeProcess
from tests.media import ffmpeg, make_image, make_video

MODES = ("v3-sync", "v3-async", "v2-sync", "v2-async")
W, H = 180, 320


# ---------------------------------------------------------------------------------------------
# the server, the clients, the raw bodies


@pytest.fixture(scope="module")
def media(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("sdk-media")
    make_video(root / "clip.mp4", 3, "320x240", pattern="testsrc2", with_audio=440)
    make_image(root / "still.png", "240x320", "orange")
    # a VBR MP3 without a Xing header: its container's length is a guess from the bit rate (2.45 s here)
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=330:duration=2.5", "-q:a", "4", "-write_xing", "0", str(root / "voice.mp3"))
    make_image(root / "logo.png", "64x64", "red")
    return root


@pytest.fixture(scope="module")
def serve(tmp_path_factory, media):
    key_id, secret = next(iter(ephemeral_keys().items()))
    process = ServeProcess(tmp_path_factory.mktemp("sdk-engine"), media, key_id, secret)
    process.key_id, process.secret = key_id, secret
    yield process
    process.kill()


@pytest.fixture(scope="module")
def raw_bodies():
    """Every response body the tea-openapi transport receives, in order (the real HTTP exchange, recorded)."""
    seen: list[bytes] = []
    sync, asynchronous = DaraCore.do_action, DaraCore.async_do_action

    def do_action(request, runtime=None):
        response = sync(request, runtime)
        seen.append(response.body)
        return response

    async def async_do_action(request, runtime=None):
        response = await asynchronous(request, runtime)
        seen.append(response.body)
        return response

    DaraCore.do_action, DaraCore.async_do_action = staticmethod(do_action), staticmethod(async_do_action)
    yield seen
    DaraCore.do_action, DaraCore.async_do_action = staticmethod(sync), staticmethod(asynchronous)


def ice_client(serve, mode: str) -> IceClient:
    config = openapi.Config(access_key_id=serve.key_id, access_key_secret=serve.secret,
                            endpoint=urlsplit(serve.url).netloc, protocol="http")
    if mode.startswith("v2"):
        config.signature_algorithm = "v2"
    return IceClient(config)


class Caller:
    """``call("get_template", request)`` the mode's way; returns the body model and checks it against the raw JSON."""

    def __init__(self, serve, mode: str, raw_bodies: list[bytes]):
        self.client, self.mode, self.raw = ice_client(serve, mode), mode, raw_bodies

    def __call__(self, method: str, request):
        before = len(self.raw)
        if self.mode.endswith("async"):
            response = asyncio.run(getattr(self.client, method + "_async")(request))
        else:
            response = getattr(self.client, method)(request)
        raw = json.loads(self.raw[before])
        assert response.status_code == 200
        differences = diff(raw, response.body.to_map())
        assert not differences, f"{method}: the model and the raw answer differ: {differences}"
        return response.body

    def error(self, method: str, request) -> ClientException:
        with pytest.raises(ClientException) as caught:
            self(method, request)
        return caught.value


def diff(raw, modelled, path: str = "") -> list[str]:
    """Where the raw JSON and the model's ``to_map()`` differ: a field the model dropped, added or changed."""
    if isinstance(raw, dict) and isinstance(modelled, dict):
        out = [f"{path}.{k}: dropped by the model" for k in raw if k not in modelled]
        out += [f"{path}.{k}: not in the answer" for k in modelled if k not in raw]
        return out + [d for k in raw if k in modelled for d in diff(raw[k], modelled[k], f"{path}.{k}")]
    if isinstance(raw, list) and isinstance(modelled, list) and len(raw) == len(modelled):
        return [d for i, (a, b) in enumerate(zip(raw, modelled)) for d in diff(a, b, f"{path}[{i}]")]
    return [] if raw == modelled and type(raw) is type(modelled) else [f"{path}: {raw!r} became {modelled!r}"]


def wait_finished(call: Caller, job_id: str, timeout: float = 120) -> ice.GetBatchMediaProducingJobResponseBody:
    deadline = time.monotonic() + timeout
    while True:
        body = call("get_batch_media_producing_job", ice.GetBatchMediaProducingJobRequest(job_id=job_id))
        if body.editing_batch_job.status in ("Finished", "Failed") or time.monotonic() > deadline:
            return body
        time.sleep(0.1)


TEMPLATE_CONFIG = {
    "InputTemplateConfig": {"StickerArray": [{"MediaURL": "logo.png", "X": 10, "Y": 10, "Width": 40, "Height": 40}]},
    "EditingTemplateConfig": {"MediaConfig": {"Volume": 0}},
    "OutputTemplateConfig": {"Width": W, "Height": H},
}


@pytest.fixture(scope="module")
def rendered(serve, media, raw_bodies):
    """One real render (the rest of the module is plan-only previews), its size and sticker from a
    template: its Get answer."""
    call = Caller(serve, "v3-sync", raw_bodies)
    template = call("add_template", ice.AddTemplateRequest(name="render", type="BatchEditing",
                                                           config=json.dumps(TEMPLATE_CONFIG))).template
    job_id = call("submit_batch_media_producing_job", ice.SubmitBatchMediaProducingJobRequest(
        input_config=json.dumps({"MediaGroupArray": [{"GroupName": "g", "MediaArray": ["clip.mp4"]}],
                                 "TitleArray": ["Hello"]}),
        output_config=json.dumps({"MediaURL": "sdk/out_{index}.mp4", "Count": 1, "MaxDuration": 2}),
        template_config=json.dumps([template.template_id]))).job_id
    body = wait_finished(call, job_id)
    assert body.editing_batch_job.status == "Finished", body.to_map()
    return body.editing_batch_job


def test_a_template_shapes_a_real_render(serve, rendered):
    """The template's OutputTemplateConfig sized the video; its sticker is in the picture (top left, red)."""
    path = serve_outputs(serve) / rendered.job_id / "sdk/out_0.mp4"  # a shared engine: outputs/<JobId>/<path>
    with av.open(str(path)) as container:
        frame = next(container.decode(video=0)).to_ndarray(format="rgb24")
    assert frame.shape[:2] == (H, W)
    red = frame[20:40, 20:40].reshape(-1, 3).mean(axis=0)  # inside the 40 px sticker at (10, 10)
    assert red[0] > 180 and red[1] < 80 and red[2] < 80, red
    assert json.loads(rendered.extend_input)["TemplateId"]


# ---------------------------------------------------------------------------------------------
# every action, four ways


@pytest.mark.parametrize("mode", MODES)
def test_every_action_through_the_official_sdk(serve, media, raw_bodies, rendered, mode):
    call = Caller(serve, mode, raw_bodies)

    # media: register, then the full info of a video, a picture, an MP3 and a rendered output
    ids = {name: call("register_media_info", ice.RegisterMediaInfoRequest(input_url=name, title=name)).media_id
           for name in ("clip.mp4", "still.png", "voice.mp3")}
    clip = call("get_media_info", ice.GetMediaInfoRequest(media_id=ids["clip.mp4"])).media_info
    files = clip.file_info_list[0]
    assert files.file_basic_info.format_name.startswith("mov,mp4")
    assert float(files.file_basic_info.duration) == pytest.approx(3.0, abs=0.1)
    assert float(files.file_basic_info.bitrate) > 0 and files.file_basic_info.file_type == "source_file"
    assert files.file_basic_info.create_time and files.file_basic_info.modified_time
    video, = files.video_stream_info_list
    assert (video.codec_name, video.width, video.height, video.pix_fmt) == ("h264", "320", "240", "yuv420p")
    assert float(video.fps) == 25 and int(video.num_frames) == 75
    audio, = files.audio_stream_info_list
    assert (audio.codec_name, audio.sample_rate, audio.channels) == ("aac", "44100", "1")
    assert_cover(serve, clip.media_basic_info.cover_url, 320, 240)

    still = call("get_media_info", ice.GetMediaInfoRequest(media_id=ids["still.png"])).media_info
    assert (still.file_info_list[0].file_basic_info.width, still.file_info_list[0].file_basic_info.height) == ("240", "320")
    assert_cover(serve, still.media_basic_info.cover_url, 240, 320)

    mp3 = call("get_media_info", ice.GetMediaInfoRequest(input_url="voice.mp3")).media_info
    mp3_file = mp3.file_info_list[0]
    # its packets counted: 2.5 s of tone and the encoder's padding, within one 1152-sample frame (26 ms)
    assert 2.5 <= float(mp3_file.file_basic_info.duration) <= 2.5 + 2 * 1152 / 44100
    assert mp3_file.audio_stream_info_list[0].duration == mp3_file.file_basic_info.duration
    assert mp3_file.audio_stream_info_list[0].codec_name == "mp3" and not mp3_file.video_stream_info_list
    assert mp3.media_basic_info.cover_url is None  # audio has no picture to show

    output_id = rendered.sub_job_list[0].media_id
    output = call("get_media_info", ice.GetMediaInfoRequest(media_id=output_id)).media_info
    # the same file; each presigned when answered (expiry rounded to the hour, so compare without the query)
    assert output.file_info_list[0].file_basic_info.file_url.split("?")[0] == rendered.sub_job_list[0].media_url.split("?")[0]
    cover_path = urlsplit(output.media_basic_info.cover_url).path
    assert cover_path.endswith(f"/outputs/{rendered.job_id}/sdk/out_0.jpg")  # the render's own poster
    assert_cover(serve, output.media_basic_info.cover_url, 180, 320)

    # templates: add, get, list, update
    template = call("add_template", ice.AddTemplateRequest(
        name=f"tpl-{mode}", type="BatchEditing", config=json.dumps(TEMPLATE_CONFIG))).template
    assert (template.type, template.status, json.loads(template.config)) == ("BatchEditing", "Available", TEMPLATE_CONFIG)
    got = call("get_template", ice.GetTemplateRequest(template_id=template.template_id)).template
    assert got.name == f"tpl-{mode}" and got.creation_time and got.modified_time
    listed = call("list_templates", ice.ListTemplatesRequest(keyword=f"tpl-{mode}", type="BatchEditing"))
    assert listed.total_count == 1 and listed.templates[0].template_id == template.template_id
    call("update_template", ice.UpdateTemplateRequest(template_id=template.template_id, name=f"tpl-{mode}-2",
                                                      source="WebSDK"))
    updated = call("get_template", ice.GetTemplateRequest(template_id=template.template_id)).template
    assert (updated.name, updated.create_source, updated.modified_source) == (f"tpl-{mode}-2", "OpenAPI", "WebSDK")
    assert json.loads(updated.config) == TEMPLATE_CONFIG  # not sent, so kept
    refused = call.error("update_template", ice.UpdateTemplateRequest(
        template_id=template.template_id, config=json.dumps({"OutputTemplateConfig": {"Width": -5}})))
    assert refused.code == "InvalidParameter" and "Config.OutputTemplateConfig.Width" in refused.message
    assert json.loads(call("get_template", ice.GetTemplateRequest(template_id=template.template_id)).template.config) == TEMPLATE_CONFIG

    # a preview job with the template: ProjectId per sub-job, ExtendInput names the template
    submitted = call("submit_batch_media_producing_job", ice.SubmitBatchMediaProducingJobRequest(
        input_config=json.dumps({"MediaGroupArray": [{"GroupName": "a", "MediaArray": [ids["still.png"]]},
                                                     {"GroupName": "b", "MediaArray": ["clip.mp4"]}],
                                 "TitleArray": ["Preview"], "SpeechTextArray": ["A short line."]}),
        output_config=json.dumps({"MediaURL": f"preview-{mode}/v_{{index}}.mp4", "Count": 2,
                                  "GeneratePreviewOnly": True}),
        template_config=json.dumps([template.template_id])))
    job = wait_finished(call, submitted.job_id).editing_batch_job
    assert job.status == "Finished", job.to_map()
    assert json.loads(job.extend_input)["TemplateId"] == template.template_id
    assert all(s.project_id and s.status == "Success" for s in job.sub_job_list)
    listed_jobs = call("list_batch_media_producing_jobs", ice.ListBatchMediaProducingJobsRequest(job_id=job.job_id))
    assert [j.job_id for j in listed_jobs.editing_batch_job_list] == [job.job_id]

    # the preview's project: its timeline (the template's size and sticker under the job's own inputs), a cover
    project = call("get_editing_project", ice.GetEditingProjectRequest(project_id=job.sub_job_list[0].project_id)).project
    timeline = json.loads(project.timeline)
    shots = timeline["VideoTracks"][0]["VideoTrackClips"]
    assert [c["Type"] for c in shots] == ["Image", "Video"]
    sticker, = timeline["VideoTracks"][1]["VideoTrackClips"]
    assert sticker["MediaURL"] == "logo.png" and (sticker["Width"], sticker["Height"]) == (40, 40)
    assert "file:" not in project.timeline and str(media) not in project.timeline  # as named, no server path
    assert timeline["AudioTracks"][0]["AudioTrackClips"], "the voice-over is on the timeline"
    assert [c["Content"] for c in timeline["SubtitleTracks"][0]["SubtitleTrackClips"] if "SubType" not in c] == ["Preview"]
    assert project.duration == pytest.approx(shots[-1]["TimelineOut"], abs=0.05)
    assert_cover(serve, project.cover_url, 240, 320)  # the first shot's source: the still
    assert not (serve_outputs(serve) / job.job_id / f"preview-{mode}/v_0.mp4").exists(), "a preview encodes nothing"

    # delete (a GET request in the SDK); afterwards the template is gone
    call("delete_template", ice.DeleteTemplateRequest(template_ids=template.template_id))
    error = call.error("get_template", ice.GetTemplateRequest(template_id=template.template_id))
    assert (error.code, error.status_code) == ("InvalidParameter.TemplateId", 404)


def serve_outputs(serve) -> Path:
    return Path(serve.proc.args[serve.proc.args.index("--data") + 1]) / "outputs"


def assert_cover(serve, url: str, width: int, height: int) -> None:
    """The cover is served, and is a JPEG of the source's shape (≤ 480 px wide)."""
    assert url and url.startswith(serve.url), url
    fetched = requests.get(url, timeout=10)
    assert fetched.status_code == 200 and fetched.content[:2] == b"\xff\xd8", url
    cover = serve_outputs(serve) / urlsplit(url).path[len("/outputs/"):]
    with av.open(str(cover)) as container:
        stream = container.streams.video[0].codec_context
        assert (stream.width, stream.height) == (width, height)


# ---------------------------------------------------------------------------------------------
# errors, four ways


@pytest.mark.parametrize("mode", MODES)
def test_errors_are_the_sdk_exceptions_with_the_engine_code(serve, raw_bodies, mode):
    call = Caller(serve, mode, raw_bodies)
    missing = call.error("get_batch_media_producing_job", ice.GetBatchMediaProducingJobRequest(job_id="nope"))
    assert (missing.code, missing.status_code) == ("InvalidParameter.JobId", 404)
    bad_json = call.error("add_template", ice.AddTemplateRequest(name="x", type="BatchEditing", config="{not json"))
    assert bad_json.code == "InvalidParameter" and "Config is not valid JSON" in bad_json.message
    jobs_before = call("list_batch_media_producing_jobs", ice.ListBatchMediaProducingJobsRequest(max_results=100))
    unknown = call.error("submit_batch_media_producing_job", ice.SubmitBatchMediaProducingJobRequest(
        input_config=json.dumps({"MediaArray": ["clip.mp4"]}),
        output_config=json.dumps({"MediaURL": "x/{index}.mp4", "Count": 1, "Width": W, "Height": H}),
        template_config=json.dumps(["0" * 32])))
    assert unknown.code == "InvalidParameter.TemplateConfig" and "0" * 32 in unknown.message
    jobs_after = call("list_batch_media_producing_jobs", ice.ListBatchMediaProducingJobsRequest(max_results=100))
    assert len(jobs_after.editing_batch_job_list) == len(jobs_before.editing_batch_job_list), "nothing stored"
    unhonoured = call.error("add_template", ice.AddTemplateRequest(name="x", type="BatchEditing", config=json.dumps(
        {"InputTemplateConfig": {"MediaGroupArray": []}, "OutputTemplateConfig": {"Width": W, "Hieght": H}})))
    assert unhonoured.code == "InvalidParameter"
    assert "Config.InputTemplateConfig.MediaGroupArray" in unhonoured.message
    assert "Config.OutputTemplateConfig.Hieght" in unhonoured.message
    bad = IceClient(openapi.Config(access_key_id=serve.key_id, access_key_secret="wrong", protocol="http",
                                   endpoint=urlsplit(serve.url).netloc,
                                   signature_algorithm="v2" if mode.startswith("v2") else None))
    with pytest.raises(ClientException) as caught:
        if mode.endswith("async"):
            asyncio.run(bad.list_templates_async(ice.ListTemplatesRequest()))
        else:
            bad.list_templates(ice.ListTemplatesRequest())
    assert (caught.value.code, caught.value.status_code) == ("SignatureDoesNotMatch", 400)


# ---------------------------------------------------------------------------------------------
# aliyun-python-sdk-core (V2 by default), query and form-body parameters


def core_request(serve, action: str, query: dict | None = None, body: dict | None = None, method: str = "POST"):
    request = CommonRequest(domain=urlsplit(serve.url).netloc, version="2020-11-09", action_name=action)
    request.set_protocol_type("http")
    request.set_method(method)
    for name, value in (query or {}).items():
        request.add_query_param(name, value)
    for name, value in (body or {}).items():
        request.add_body_params(name, value)
    return request


def test_the_older_core_sdk_signs_v2_and_works(serve, media):
    client = AcsClient(serve.key_id, serve.secret, "cn-shanghai")
    raw = client.do_action_with_exception(core_request(serve, "SubmitBatchMediaProducingJob", query={
        "OutputConfig": json.dumps({"MediaURL": "core/v_{index}.mp4", "Count": 1, "Width": W, "Height": H,
                                    "GeneratePreviewOnly": True})},
        body={"InputConfig": json.dumps({"MediaArray": ["clip.mp4"], "TitleArray": ["core"]})}))
    job_id = json.loads(raw)["JobId"]
    job = ice.GetBatchMediaProducingJobResponseBody().from_map(json.loads(client.do_action_with_exception(
        core_request(serve, "GetBatchMediaProducingJob", query={"JobId": job_id}))))
    assert job.editing_batch_job.job_id == job_id and json.loads(job.editing_batch_job.input_config)["TitleArray"] == ["core"]
    with pytest.raises(CoreServerException) as caught:
        client.do_action_with_exception(core_request(serve, "GetTemplate", query={"TemplateId": "nope"}))
    assert caught.value.get_error_code() == "InvalidParameter.TemplateId" and caught.value.get_http_status() == 404


# ---------------------------------------------------------------------------------------------
# V2 bad input: the same codes as V3, 4xx, nothing stored


def v2_post(serve, params: dict, *, secret: str | None = None, form: dict | None = None, drop: str | None = None,
            timestamp: str | None = None, send_form: dict | None = None) -> requests.Response:
    """A V2-signed AddTemplate by hand (``send_form``: a body other than the one signed)."""
    signed = {"Action": "AddTemplate", "Version": "2020-11-09", "Format": "JSON", "AccessKeyId": serve.key_id,
              "SignatureMethod": "HMAC-SHA1", "SignatureVersion": "1.0", "SignatureNonce": params.pop("nonce"),
              "Timestamp": timestamp or timestamps.format_timestamp(), **params}
    signed["Signature"] = signing_v2.sign_v2("POST", {**signed, **(form or {})}, secret or serve.secret)
    if drop:
        signed.pop(drop)
    return requests.post(serve.url + "/", params=signed, data=send_form or form, timeout=10)


def count_templates(serve, name: str) -> int:
    return ice_client(serve, "v3-sync").list_templates(ice.ListTemplatesRequest(keyword=name)).body.total_count


def test_v2_bad_signatures_are_refused_like_v3_and_store_nothing(serve):
    config = json.dumps(TEMPLATE_CONFIG)
    form = {"Name": "v2-bad", "Type": "BatchEditing", "Config": config}
    cases = [
        (dict(secret="wrong"), "SignatureDoesNotMatch"),
        (dict(timestamp="2020-01-01T00:00:00Z"), "InvalidTimeStamp.Expired"),
        (dict(timestamp="yesterday"), "InvalidTimeStamp.Format"),
        (dict(drop="SignatureNonce"), "IncompleteSignature"),
    ]
    for index, (options, code) in enumerate(cases):
        response = v2_post(serve, {"nonce": f"bad-{index}-{time.time_ns()}"}, form=form, **options)
        assert 400 <= response.status_code < 500 and response.json()["Code"] == code, (options, response.text)
    tampered = v2_post(serve, {"nonce": f"tamper-{time.time_ns()}"}, form=form, send_form={**form, "Name": "v2-bad-2"})
    assert (tampered.status_code, tampered.json()["Code"]) == (400, "SignatureDoesNotMatch")
    nonce = f"good-{time.time_ns()}"
    good = v2_post(serve, {"nonce": nonce}, form=form)
    assert good.status_code == 200, good.text
    replay = v2_post(serve, {"nonce": nonce}, form=form)
    assert (replay.status_code, replay.json()["Code"]) == (400, "SignatureNonceUsed")
    assert count_templates(serve, "v2-bad") == 1  # only the good one: the refused and the replayed stored nothing
    unsigned = requests.post(serve.url + "/", data=form, timeout=10)
    assert unsigned.status_code == 400 and unsigned.json()["Code"] == "IncompleteSignature"
    assert "Signature" in unsigned.json()["Message"], "the message names both ways to sign"
