"""probe(): kinds, sizes and durations of generated media; broken files are named errors."""

from __future__ import annotations

import pytest

from sheet2video.engine.media.probe import MediaInfo, probe
from sheet2video.errors import RenderError
from tests.media import make_image, make_tone, make_video


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    d = tmp_path_factory.mktemp("probe")
    return {
        "av": make_video(d / "av.mp4", 2, "320x240", with_audio=440),
        "silent": make_video(d / "silent.mp4", 1.5, "160x90", color="red", fps=30),
        "png": make_image(d / "still.png", "64x48", "red"),
        "jpg": make_image(d / "still.jpg", "100x50", "green"),
        "webp": make_image(d / "still.webp", "30x20", "blue"),
        "wav": make_tone(d / "tone.wav", 1.25, 330),
        "dir": d,
    }


def test_video_with_audio(media):
    info = probe(media["av"])
    assert info.kind == "video" and info.has_video and info.has_audio
    assert (info.width, info.height) == (320, 240)
    assert info.fps == pytest.approx(25)
    assert info.duration == pytest.approx(2.0, abs=0.05)


def test_video_without_audio(media):
    info = probe(media["silent"])
    assert (info.kind, info.has_audio, info.width, info.height) == ("video", False, 160, 90)
    assert info.fps == pytest.approx(30)
    assert info.duration == pytest.approx(1.5, abs=0.05)


@pytest.mark.parametrize("name,size,demuxer", [("png", (64, 48), "png_pipe"), ("jpg", (100, 50), "jpeg_pipe"),
                                               ("webp", (30, 20), "webp_pipe")])
def test_images_are_still(media, name, size, demuxer):
    info = probe(media[name])
    assert info == MediaInfo(kind="image", duration=0.0, width=size[0], height=size[1], has_video=True, demuxer=demuxer)


def test_audio_only(media):
    info = probe(media["wav"])
    assert (info.kind, info.has_audio, info.has_video) == ("audio", True, False)
    assert info.duration == pytest.approx(1.25, abs=0.02)
    assert info.to_dict()["kind"] == "audio"


@pytest.mark.parametrize(
    "name,content",
    [
        ("zero.png", b""),
        ("zero.mp4", b""),
        ("noise.mp4", bytes(range(256)) * 64),
        ("notes.jpg", b"this is not a picture\n" * 40),
        ("notes.mp4", b"this is not a video either\n" * 40),
    ],
)
def test_broken_files_are_corrupt_and_named(media, name, content):
    path = media["dir"] / name
    path.write_bytes(content)
    with pytest.raises(RenderError) as err:
        probe(path)
    assert err.value.code == "InvalidMaterial.Corrupt"
    assert name in str(err.value)


def test_truncated_video_is_corrupt(media):
    data = open(media["av"], "rb").read()
    path = media["dir"] / "truncated.mp4"
    path.write_bytes(data[: len(data) // 3])
    with pytest.raises(RenderError) as err:
        probe(path)
    assert err.value.code == "InvalidMaterial.Corrupt"


def test_missing_file(media):
    with pytest.raises(RenderError) as err:
        probe(media["dir"] / "nope.mp4")
    assert err.value.code == "InvalidMaterial.NotFound"
