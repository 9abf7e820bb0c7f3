"""Phone photos (issue 21): an iPhone portrait HEIC is stored landscape and turned by its ``irot``
box (EXIF orientation 6 beside it), often as a grid of tiles. Rendered as a 2 s still in a 180×320
job through the planner, in the fit modes a 3:4 photo meets, it must give exactly the 50 planned
frames (it gave 74 — a HEIF frame lasts 1 s, a grid's longer, and FFmpeg padded the last one out)
and show the picture upright: red on top. Beside music and a clip, a grid used to stall FFmpeg for
good (engine/media/grids.py); each render here has a time limit, so that fails instead of hanging."""

from __future__ import annotations

import os

import av
import numpy as np
import pytest
from PIL import Image, ImageDraw

from sheet2video.engine.media.probe import probe
from sheet2video.engine.render import render
from sheet2video.engine.timeline.planner import JobPlanner
from tests.media import make_image, make_tone, make_video

W, H, SECONDS, FPS = 180, 320, 2.0, 25


def _portrait_heic(path: str, *, tile: int) -> str:
    """Stored 640×480 with a red band on its left, shown 480×640 with the band on top."""
    import pillow_heif

    pillow_heif.register_heif_opener()
    stored = Image.new("RGB", (640, 480), "blue")
    ImageDraw.Draw(stored).rectangle((0, 0, 95, 479), fill="red")
    exif = Image.Exif()
    exif[0x0112] = 6  # as bytes in info: pillow-heif then writes the irot box (and keeps the tag)
    stored.info["exif"] = exif.tobytes()
    pillow_heif.options.GRID_TILE_SIZE = tile  # 0: one image; else tiles, cropped (iPhone: 512 px)
    try:
        stored.save(path, quality=80)
    finally:
        pillow_heif.options.GRID_TILE_SIZE = 0
    return path


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    d = tmp_path_factory.mktemp("phone")
    return {
        "single": _portrait_heic(str(d / "single.heic"), tile=0),
        "grid": _portrait_heic(str(d / "grid.heic"), tile=128),
        "wide": make_image(d / "wide.png", "320x180", "green"),
        "clip": make_video(d / "clip.mp4", 1.0, "180x320", color="green"),
        "music": make_tone(d / "music.m4a", 3.0),
        "dir": str(d),
    }


class _Resolver:
    def resolve(self, reference):
        return reference


def _render(photos, name: str, media: str, fit: str | None, background: str | None = None, seconds: float = SECONDS,
            **more) -> str:
    out = os.path.join(photos["dir"], f"{name}.mp4")
    inputs = {"MediaGroupArray": [{"GroupName": "a", "MediaArray": [media], "Volume": 0}], **more}
    if background:
        inputs["BackgroundImageArray"] = [background]
    editing = {"ProcessConfig": {"SingleShotDuration": SECONDS}}
    if fit:
        editing["BackgroundImageConfig"] = {"SubType": fit}
    params = {"InputConfig": inputs, "EditingConfig": editing, "OutputConfig": {"MediaURL": out, "Width": W, "Height": H}}
    task = JobPlanner(_Resolver(), speech=None).plan(params, [out])[0]
    assert task.duration == seconds
    render(task, preset="ultrafast", timeout=60)  # FFmpeg stalled for good on a grid beside other inputs
    return out


def _frames_and_seconds(out: str) -> tuple[int, float]:
    with av.open(out) as c:
        v = c.streams.video[0]
        return sum(1 for p in c.demux(v) if p.size), float(v.duration * v.time_base)


def _middle_frame(out: str, at: float = 1.0) -> np.ndarray:
    with av.open(out) as c:
        for f in c.decode(video=0):
            if f.time >= at:
                return f.to_ndarray(format="rgb24").astype(int)
    raise AssertionError("no frame at 1 s")


def _red(px) -> bool:
    return px[0] > 150 and px[1] < 100 and px[2] < 100


def _blue(px) -> bool:
    return px[2] > 150 and px[0] < 100 and px[1] < 100


@pytest.mark.parametrize("name", ["single", "grid"])
def test_portrait_heic_is_probed_as_shown(photos, name):
    info = probe(photos[name])
    assert (info.kind, info.width, info.height, info.duration, info.grid) == ("image", 480, 640, 0.0, name == "grid")


@pytest.mark.parametrize("fit", ["Blur", "Color", "Cover"])
@pytest.mark.parametrize("name", ["single", "grid"])
def test_portrait_heic_still_has_its_frame_budget_and_stands_upright(photos, name, fit):
    out = _render(photos, f"{name}_{fit}", photos[name], fit)
    n, seconds = _frames_and_seconds(out)
    assert n == round(SECONDS * FPS)
    assert seconds == pytest.approx(SECONDS, abs=0.05)
    img = _middle_frame(out)
    # contained: the 3:4 photo fills the width, 240 px tall, centred (y 40..280); covered: 320 tall
    top, bottom = (50, 270) if fit != "Cover" else (10, 310)
    assert _red(img[top, W // 2]), img[top, W // 2]  # the band stored on the left is shown on top
    assert _blue(img[bottom, W // 2]), img[bottom, W // 2]
    assert _blue(img[H // 2, 10]) and _blue(img[H // 2, W - 10])  # nothing red down the sides


@pytest.mark.parametrize("name", ["single", "grid"])
def test_portrait_heic_as_the_background_image(photos, name):
    """A phone photo behind a letterboxed clip: repeated for the whole video, not padded out, and
    the whole picture, not its first tile."""
    out = _render(photos, f"background_{name}", photos["wide"], None, background=photos[name])
    n, seconds = _frames_and_seconds(out)
    assert n == round(SECONDS * FPS)
    assert seconds == pytest.approx(SECONDS, abs=0.05)
    img = _middle_frame(out)
    assert _red(img[10, W // 2]) and _blue(img[H - 10, W // 2])  # the background, upright, in the bars
    assert img[H // 2, W // 2][1] > 100 and img[H // 2, W // 2][0] < 100  # the green shot in front


@pytest.mark.parametrize("name", ["single", "grid"])
def test_portrait_heic_after_a_clip_with_music(photos, name):
    """The photo in a job with other inputs that outlast it: a clip before it, music under both."""
    groups = [{"GroupName": "clip", "MediaArray": [photos["clip"]], "Duration": 1},
              {"GroupName": "photo", "MediaArray": [photos[name]], "Duration": 2}]
    out = _render(photos, f"with_music_{name}", photos["clip"], "Blur", seconds=3.0, MediaGroupArray=groups,
                  BackgroundMusicArray=[photos["music"]])
    n, seconds = _frames_and_seconds(out)
    assert n == 3 * FPS
    assert seconds == pytest.approx(3.0, abs=0.05)
    clip, photo = _middle_frame(out, 0.5), _middle_frame(out, 2.0)
    assert clip[H // 2, W // 2][1] > 100 and clip[H // 2, W // 2][0] < 100  # the green clip first
    assert _red(photo[50, W // 2]) and _blue(photo[270, W // 2])  # then the photo, upright
