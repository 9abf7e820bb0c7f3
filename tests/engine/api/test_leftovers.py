"""What a job leaves on the engine's disk (issue 21): a job whose media groups mix a clip with its
sound, pictures, per-group voice-over and a fixed-length group, under music and a title, rendered
over loopback HTTP — then every file left in the data folder is listed. Only the videos and their
posters, each reachable at its MediaURL, the store and the caches may remain: no hidden file, no
temp file. A MediaURL naming a hidden file (``_tmp/.ses{index}``) used to render into
``_tmp/.ses0.mp4``, a name /outputs/ never serves: Success, a MediaURL that answered 404, and the
file left on the disk for good."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path

import pytest
import requests

from sheet2video.cloud.client import ImsClient
from sheet2video.cloud.credentials import Credentials
from sheet2video.engine.api.server import Engine, EngineConfig, ephemeral_keys
from tests.media import make_image, make_tone, make_video

W, H = 180, 320
TEMP_ENDINGS = (".part", ".tmp", ".filtergraph", ".ass", ".png")


@pytest.fixture(scope="module")
def media(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("media")
    make_video(root / "tone.mp4", 2, "320x240", color="yellow", with_audio=440)
    make_video(root / "bars.mp4", 2, "240x320", pattern="smptebars")
    make_image(root / "photo.png", "320x240", "purple")
    make_image(root / "photo.jpg", "240x320", "orange")
    make_tone(root / "music.m4a", 3, 220)
    return root


@contextlib.contextmanager
def _engine(data: Path, media: Path):
    key_id, secret = next(iter(ephemeral_keys().items()))
    engine = Engine(EngineConfig(data=data, media_root=media, keys={key_id: secret}, workers=2, threads=1))
    client = ImsClient(engine.start(), Credentials(key_id, secret), timeout=(5, 60))
    try:
        yield engine, client
    finally:
        client.close()
        engine.close()


def _wait(client: ImsClient, job_id: str) -> dict:
    deadline = time.monotonic() + 120
    while (job := client.get_batch_job(job_id))["Status"] not in ("Finished", "Failed"):
        assert time.monotonic() < deadline, job
        time.sleep(0.1)  # the poll interval of a deadline wait
    return job


MIXED = {
    "MediaGroupArray": [
        {"GroupName": "Opening", "MediaArray": ["tone.mp4", "photo.png"], "SpeechTextArray": ["Welcome to the shop."],
         "Volume": 1},
        {"GroupName": "Middle", "MediaArray": ["photo.jpg", "bars.mp4"], "Duration": 1.5},
        {"GroupName": "Closing", "MediaArray": ["bars.mp4", "photo.jpg"], "SpeechTextArray": ["See you soon."]},
    ],
    "BackgroundMusicArray": ["music.m4a"],
    "TitleArray": ["Opening day"],
}


@pytest.mark.parametrize("media_url", ["_tmp/.ses{index}", "mixed/v_{index}.mp4"])
def test_a_mixed_groups_job_leaves_only_its_videos(tmp_path, media, media_url):
    data = tmp_path / "data"
    output = {"MediaURL": media_url, "Count": 2, "Width": W, "Height": H}
    expected = set()
    with _engine(data, media) as (engine, client):
        job = _wait(client, client.submit_batch_job(input_config=MIXED, output_config=output,
                                                    editing_config={"ProcessConfig": {"AllowTransition": True}}))
        assert job["Status"] == "Finished", job
        for sub in job["SubJobList"]:
            assert sub["Status"] == "Success", sub
            fetched = requests.get(sub["MediaURL"], timeout=30)  # a video nobody can fetch is lost
            assert fetched.status_code == 200, (sub["MediaURL"], fetched.status_code, fetched.text[:200])
            found = [p for p in engine.outputs.rglob("*.mp4") if p.read_bytes() == fetched.content]
            assert len(found) == 1, (sub["MediaURL"], found)
            expected |= {found[0], found[0].with_suffix(".jpg")}
    files = {p for p in data.rglob("*") if p.is_file()}
    left = sorted(str(p.relative_to(data)) for p in files  # hidden (or in a hidden folder), or a temp file's name
                  if any(q.startswith(".") for q in p.relative_to(data).parts) or p.name.endswith(TEMP_ENDINGS))
    assert not left, f"hidden or temporary files left behind: {left}"
    outputs = {p for p in files if p.is_relative_to(engine.outputs)}
    assert outputs == expected, sorted(str(p.relative_to(data)) for p in outputs ^ expected)
