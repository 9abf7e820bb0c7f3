"""What travels to a worker: every input file becomes a key, ids follow the content."""

from __future__ import annotations

import pytest

from sheet2video.engine.farm.app import redact
from sheet2video.engine.farm.wire import SCHEMA, build, input_files, schema_problem
from sheet2video.engine.timeline.task import Music, RenderTask, Shot, SpeechClip, Sticker, TextOverlay, identity_of
from sheet2video.errors import RenderError


def task(output: str = "/data/outputs/job1/v_0.mp4", title: str = "Hello") -> dict:
    return RenderTask(
        output=output, width=180, height=320, duration=2.0,
        shots=[Shot("/m/a.mp4", "video", 0, 2, 2), Shot("/m/c.png", "image", 0, 0, 1)],
        titles=[TextOverlay(title)], speech=[SpeechClip("/cache/speech/s1.wav", 0, 1.5)],
        music=Music("/m/bgm.m4a"), stickers=[Sticker("/m/logo.png", 0, 0, 10, 10)], background_image="/m/bg.jpg",
    ).to_dict()


def test_every_input_path_becomes_a_key():
    keys = {}
    message = build(task(), "job1/v_0.mp4", lambda p: keys.setdefault(p, f"farm/inputs/{len(keys)}"))
    assert set(keys) == {"/m/a.mp4", "/m/c.png", "/cache/speech/s1.wav", "/m/bgm.m4a", "/m/logo.png", "/m/bg.jpg"}
    assert set(input_files(message["task"])) == set(keys.values())  # no local path left
    assert message["task"]["output"] == "v_0.mp4"
    assert message["output_key"].endswith("/v_0.mp4") and message["schema"] == SCHEMA


def test_ids_follow_the_sub_job_and_the_content():
    key = lambda p: "k" + p  # noqa: E731
    first = build(task(), "job1/v_0.mp4", key)
    assert build(task(), "job1/v_0.mp4", key)["id"] == first["id"]  # the same render: the same task
    assert build(task(), "job2/v_0.mp4", key)["id"] != first["id"]  # another sub-job
    assert build(task(title="Other"), "job1/v_0.mp4", key)["id"] != first["id"]  # other content
    assert first["output_key"].split("/")[1] == first["id"].removeprefix("s2v-")


def test_schema_and_redaction():
    assert schema_problem({"schema": SCHEMA}) is None
    assert "task schema" in schema_problem({"schema": SCHEMA + 1, "sender": "2.0"})
    assert "cannot render a task of schema None" in schema_problem("not a dict")
    assert redact("redis://:pw@h:6379/0") == "redis://:***@h:6379/0"
    assert redact("amqp://user:pw@mq/vhost") == "amqp://user:***@mq/vhost"
    assert redact("redis://h:6379/0") == "redis://h:6379/0"


def test_the_checked_demuxers_travel_and_identities_stay_behind(tmp_path):
    clip = tmp_path / "a.mp4"
    clip.write_bytes(b"not really a video")
    data = RenderTask(output="/data/outputs/job1/v_0.mp4", width=180, height=320, duration=2.0,
                      shots=[Shot(str(clip), "video", 0, 2, 2)], speech=[SpeechClip("/cache/s1.wav", 0, 1.5)],
                      inputs={str(clip): {"format": "mov", "identity": identity_of(str(clip))}}).to_dict()
    calls = []
    message = build(data, "job1/v_0.mp4", lambda p: calls.append(p) or f"farm/{len(calls)}")
    assert calls == [str(clip), "/cache/s1.wav"]  # each file uploaded once
    assert message["task"]["inputs"] == {"farm/1": {"format": "mov"}}  # a worker's copy is another file
    assert message["task"]["shots"][0]["path"] == "farm/1"

    clip.write_bytes(b"rewritten after its probe")
    with pytest.raises(RenderError) as err:
        build(data, "job1/v_0.mp4", lambda p: "k")
    assert err.value.code == "InvalidMaterial.Changed" and "a.mp4" in str(err.value)
