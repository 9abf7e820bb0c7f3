"""GetEditingProject for every planned sub-job, over loopback HTTP with real renders at 180x320:
its shots (media as the job named them, in and out, speed, place in the video) while it renders
and once it is made, and never a path on the engine's disk."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests

from sheet2video.cloud.client import ImsClient
from sheet2video.cloud.credentials import Credentials
from sheet2video.engine.api.jobs import LocalExecutor
from sheet2video.engine.api.server import Engine, EngineConfig, ephemeral_keys
from sheet2video.errors import ImsError
from tests.engine.api.shots import HeldExecutor
from tests.engine.api.test_server import wait_job
from tests.media import make_image, make_video

W, H = 180, 320


@pytest.fixture(scope="module")
def media_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("project-media")
    (root / "clips").mkdir()
    make_video(root / "open.mp4", 3, "320x240", pattern="testsrc2")
    make_video(root / "clips/prod.mp4", 3, "240x320", color="blue")
    make_image(root / "photo.png", "240x320", "orange")
    return root


@pytest.fixture(scope="module")
def engine(tmp_path_factory, media_root):
    """An engine whose renders wait for ``held.release()``."""
    key_id, secret = next(iter(ephemeral_keys().items()))
    held: list[HeldExecutor] = []

    def executor(outputs):
        held.append(HeldExecutor(LocalExecutor(1, 1)))
        return held[0]

    data = tmp_path_factory.mktemp("project-engine")
    e = Engine(EngineConfig(data=data, media_root=media_root, keys={key_id: secret}, executor_factory=executor))
    url = e.start()
    client = ImsClient(url, Credentials(key_id, secret), timeout=(5, 60))
    yield type("Served", (), {"engine": e, "client": client, "held": held[0], "data": data, "url": url})
    client.close()
    e.close()


def project(client: ImsClient, project_id: str) -> dict:
    return client.call("GetEditingProject", {"ProjectId": project_id})["Project"]


def assert_no_server_path(answer: dict, *folders: Path) -> None:
    text = json.dumps(answer, ensure_ascii=False)
    assert "file:" not in text, text
    for folder in folders:
        assert str(folder) not in text, text


def assert_clips_are_the_shots(clips: list[dict], shots: list[dict], media_id: str) -> None:
    assert len(clips) == len(shots) >= 2
    for clip, shot in zip(clips, shots):
        named = {"MediaId": shot["Media"]} if shot["Media"] == media_id else {"MediaURL": shot["Media"]}
        assert {k: clip[k] for k in named} == named and not ({"MediaId", "MediaURL"} - set(named)) & set(clip)
        assert (clip["Type"], clip["TimelineIn"], clip["TimelineOut"]) == (shot["Type"], shot["TimelineIn"], shot["TimelineOut"])
        if shot["Type"] == "Video":
            assert (clip["In"], clip["Out"]) == (shot["In"], shot["Out"])
            assert clip.get("Speed", 1.0) == pytest.approx(shot["Speed"], abs=0.005)
        else:
            assert "In" not in clip and "Speed" not in clip


def test_a_rendered_job_answers_get_editing_project_with_its_shots(engine, media_root):
    client = engine.client
    media_id = client.register_media_info("photo.png")
    groups = [{"GroupName": "Opening", "MediaArray": ["open.mp4"]},
              {"GroupName": "Product", "MediaArray": [media_id, "clips/prod.mp4"]}]
    job_id = client.submit_batch_job(
        input_config={"MediaGroupArray": groups, "TitleArray": ["Hello"]},
        editing_config={"ProcessConfig": {"SingleShotDuration": 1.5}},
        output_config={"MediaURL": "edit/v_{index}.mp4", "Count": 2, "Width": W, "Height": H, "MaxDuration": 3})

    # planned, not yet rendered: each sub-job has a project, and it shows the shots being made
    rendering = wait_job(client, job_id, until=lambda j: [s["Status"] for s in j.get("SubJobList", [])] == ["Processing"] * 2)
    project_ids = [s["ProjectId"] for s in rendering["SubJobList"]]
    assert len(set(project_ids)) == 2
    for project_id in project_ids:
        answer = project(client, project_id)
        assert answer["Status"] == "Producing" and "CoverURL" not in answer
        shots = json.loads(answer["BusinessConfig"])["Shots"]
        assert_clips_are_the_shots(json.loads(answer["Timeline"])["VideoTracks"][0]["VideoTrackClips"], shots, media_id)
        assert [s["Group"] for s in shots][:2] == ["Opening", "Product"]

    engine.held.release()
    job = wait_job(client, job_id)
    assert job["Status"] == "Finished", job
    used = json.loads(job["ExtendOutput"])["Used"]
    for sub in job["SubJobList"]:
        answer = project(client, sub["ProjectId"])
        assert answer["Status"] == "Produced" and answer["Description"].startswith("Video ")
        shots = json.loads(answer["BusinessConfig"])["Shots"]
        assert shots == used[sub["JobId"]]["Shots"]  # the same list Get carries for the report
        assert {s["Media"] for s in shots} <= {"open.mp4", media_id, "clips/prod.mp4"}
        timeline = json.loads(answer["Timeline"])
        assert_clips_are_the_shots(timeline["VideoTracks"][0]["VideoTrackClips"], shots, media_id)
        assert [c["Content"] for c in timeline["SubtitleTracks"][0]["SubtitleTrackClips"]] == ["Hello"]
        # the shots fill the video that was made
        assert answer["Duration"] == pytest.approx(sub["Duration"], abs=0.001)
        assert shots[-1]["TimelineOut"] == pytest.approx(sub["Duration"], abs=0.1)
        cover = requests.get(answer["CoverURL"], timeout=10)  # the render's poster, presigned
        assert cover.status_code == 200 and cover.content[:2] == b"\xff\xd8"
        assert_no_server_path(answer, media_root, engine.data)


def test_a_preview_names_its_media_as_the_job_did(engine, media_root):
    client = engine.client
    media_id = client.register_media_info("photo.png")
    job = wait_job(client, client.submit_batch_job(
        input_config={"MediaGroupArray": [{"GroupName": "a", "MediaArray": [media_id]},
                                          {"GroupName": "b", "MediaArray": ["clips/prod.mp4"]}],
                      "SpeechTextArray": ["A short line."]},
        output_config={"MediaURL": "preview/v_{index}.mp4", "Count": 1, "Width": W, "Height": H,
                       "GeneratePreviewOnly": True}))
    assert job["Status"] == "Finished", job
    answer = project(client, job["SubJobList"][0]["ProjectId"])
    assert answer["Status"] == "Draft" and answer["Description"].startswith("Preview ")
    timeline = json.loads(answer["Timeline"])
    clips = timeline["VideoTracks"][0]["VideoTrackClips"]
    assert [c.get("MediaId") or c.get("MediaURL") for c in clips] == [media_id, "clips/prod.mp4"]
    speech = timeline["AudioTracks"][0]["AudioTrackClips"]
    assert speech and all("/" not in c["MediaURL"] for c in speech)  # the engine's own file: its name only
    assert_no_server_path(answer, media_root, engine.data)
    assert json.loads(answer["BusinessConfig"])["Shots"][0]["Media"] == media_id


def test_an_unknown_project_is_not_found(engine):
    with pytest.raises(ImsError) as caught:
        project(engine.client, "0" * 32)
    assert (caught.value.code, caught.value.http_status) == ("InvalidParameter.ProjectId", 404)
