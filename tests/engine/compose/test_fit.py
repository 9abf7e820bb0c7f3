"""Fit modes (compose.fit): real renders of a 16:9 clip into 9:16 and a 9:16 clip into 16:9, judged
by their edge pixels; transparent pictures; the planner's choice of mode; the template's column."""

from __future__ import annotations


import av
import numpy as np
import pytest

from sheet2video.engine.compose import build_command
from sheet2video.engine.timeline.planner import JobPlanner
from sheet2video.engine.media.probe import MediaInfo
from sheet2video.engine.render import RenderTask, Shot, render
from sheet2video.errors import RenderError
from tests.media import ffmpeg, make_image

PORTRAIT, LANDSCAPE = (180, 320), (320, 180)


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    d = tmp_path_factory.mktemp("fit")

    def clip(name, size):
        path = str(d / name)
        # moving colour waves (bright everywhere, different every frame) under a sharp grid; geq, not
        # the gradients source, whose colours change from run to run
        waves = "geq=r='150+90*sin(X/23+T*4)':g='150+90*cos(Y/17+T*3)':b='200'"
        ffmpeg("-f", "lavfi", "-i", f"color=c=black:s={size}:r=25:d=2,format=rgb24,{waves}", "-vf",
               "drawgrid=w=12:h=12:color=white", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", path)  # fmt: skip
        return path

    def redblue(name, size):  # 1 s red then 1 s blue: tells which source frame is shown
        path = str(d / name)
        ffmpeg("-f", "lavfi", "-i", f"color=c=red:s={size}:r=25:d=1", "-f", "lavfi", "-i", f"color=c=blue:s={size}:r=25:d=1",
               "-filter_complex", "[0:v][1:v]concat=n=2:v=1:a=0,drawgrid=w=12:h=12:color=white", "-c:v", "libx264",
               "-preset", "ultrafast", "-pix_fmt", "yuv420p", path)  # fmt: skip
        return path

    alpha = str(d / "alpha.png")  # left half transparent *magenta*, right half opaque green
    ffmpeg("-f", "lavfi", "-i", "color=c=black:s=160x90", "-vf",
           "format=rgba,geq=r='if(lt(X,W/2),255,0)':g='if(lt(X,W/2),0,255)':b='if(lt(X,W/2),255,0)':a='if(lt(X,W/2),0,255)'",
           "-frames:v", "1", "-update", "1", alpha)  # fmt: skip
    return {
        "wide": clip("wide.mp4", "320x180"),
        "tall": clip("tall.mp4", "180x320"),
        "near": clip("near.mp4", "176x320"),  # 2 % narrower than 9:16
        "redblue_wide": redblue("rbw.mp4", "320x180"),
        "redblue_tall": redblue("rbt.mp4", "180x320"),
        "alpha": alpha,
        "orange": make_image(d / "orange.png", "64x64", "orange"),
    }


def frames(path) -> list[np.ndarray]:
    with av.open(path) as c:
        return [f.to_ndarray(format="rgb24").astype(int) for f in c.decode(video=0)]


def render_fit(tmp_path, src, size, mode, name, kind="video", **kw) -> list[np.ndarray]:
    out = str(tmp_path / f"{name}.mp4")
    W, H = size
    render(RenderTask(output=out, width=W, height=H, duration=2.0, fit=mode,
                      shots=[Shot(src, kind, 0, 2.0, 2.0, **kw.pop("shot", {}))], **kw))
    got = frames(out)
    assert len(got) == 50  # the frame budget, whatever the mode
    return got


def bands(f: np.ndarray, portrait: bool) -> np.ndarray:
    """The pixels where bars would be: top and bottom (portrait output), or left and right."""
    if portrait:
        return np.concatenate([f[:40], f[-40:]])
    return np.concatenate([f[:, :40], f[:, -40:]], axis=1)


CASES = [("wide", PORTRAIT, True), ("tall", LANDSCAPE, False)]


@pytest.mark.parametrize("src,size,portrait", CASES)
def test_cover_has_no_bars(media, tmp_path, src, size, portrait):
    f = render_fit(tmp_path, media[src], size, "cover", "cover")[25]
    assert bands(f, portrait).mean(axis=2).min() > 40  # bright to the very edge


@pytest.mark.parametrize("src,size,portrait", CASES)
def test_contain_bars_are_black_and_the_middle_is_the_shot(media, tmp_path, src, size, portrait):
    f = render_fit(tmp_path, media[src], size, "contain", "contain")[25]
    assert bands(f, portrait).max() < 25
    H, W = f.shape[:2]
    assert f[H // 2, W // 2].mean() > 40


@pytest.mark.parametrize("src,size,portrait", CASES)
def test_color_bars_take_the_background_color(media, tmp_path, src, size, portrait):
    f = render_fit(tmp_path, media[src], size, "color", "color", background_color="#2040c0")[25]
    band = bands(f, portrait).reshape(-1, 3)
    assert np.abs(band.mean(axis=0) - [0x20, 0x40, 0xC0]).max() < 12 and band.std(axis=0).max() < 4


@pytest.mark.parametrize("src,size,portrait", CASES)
def test_blur_bars_are_a_blurred_moving_copy(media, tmp_path, src, size, portrait):
    got = render_fit(tmp_path, media[src], size, "blur", "blur")
    band0, band1 = bands(got[5], portrait), bands(got[45], portrait)
    assert band0.mean() > 25  # not black
    assert band0.reshape(-1, 3).std(axis=0).max() > 5  # not one flat colour
    assert np.abs(band0 - band1).mean() > 1  # it moves with the shot
    # blurred: the grid is gone from the band (neighbours differ far less than in the sharp shot)
    sharp = render_fit(tmp_path, media[src], size, "cover", "sharp")[5]
    assert np.abs(np.diff(band0, axis=1)).mean() < 0.3 * np.abs(np.diff(sharp, axis=1)).mean()
    # darkened: the band is darker than the same place would be in the bright source
    assert band0.mean() < sharp.mean()


@pytest.mark.parametrize("src,size,portrait", [("redblue_wide", PORTRAIT, True), ("redblue_tall", LANDSCAPE, False)])
def test_blur_background_switches_on_the_same_frame_as_the_shot(media, tmp_path, src, size, portrait):
    got = render_fit(tmp_path, media[src], size, "blur", "sync")
    H, W = got[0].shape[:2]
    blue = [f[H // 2, W // 2][2] > f[H // 2, W // 2][0] for f in got]
    k = blue.index(True)  # the first blue frame of the shot
    assert 20 <= k <= 30
    bluer = [bands(f, portrait)[..., 2].mean() > bands(f, portrait)[..., 0].mean() for f in got]
    assert bluer.index(True) == k and not any(bluer[:k]) and all(bluer[k:])


@pytest.mark.parametrize("src,size,portrait", CASES)
def test_image_bars_show_the_background_image(media, tmp_path, src, size, portrait):
    f = render_fit(tmp_path, media[src], size, "image", "image", background_image=media["orange"])[25]
    band = bands(f, portrait).reshape(-1, 3).mean(axis=0)
    assert band[0] > 200 and 120 < band[1] < 190 and band[2] < 60  # orange


def test_a_near_aspect_source_is_simply_covered(media, tmp_path):
    f = render_fit(tmp_path, media["near"], PORTRAIT, "contain", "near", shot={"width": 176, "height": 320})[25]
    assert f[:, 0].mean(axis=1).min() > 40 and f[:, -1].mean(axis=1).min() > 40  # no 2-pixel bars at the sides
    g = render_fit(tmp_path, media["near"], PORTRAIT, "contain", "unknown")[25]  # size unknown: the mode applies
    assert g[:, 0].mean() < 15


def magenta(f: np.ndarray) -> int:
    return int(((f[..., 0] > 150) & (f[..., 2] > 150) & (f[..., 1] < 100)).sum())


@pytest.mark.parametrize("mode", ["cover", "contain", "blur", "image"])
def test_transparent_pixels_show_the_background_not_their_hidden_colour(media, tmp_path, mode):
    kw = {"background_image": media["orange"]} if mode == "image" else {}
    f = render_fit(tmp_path, media["alpha"], LANDSCAPE, mode, f"alpha-{mode}", kind="image", **kw)[10]
    assert magenta(f) == 0
    H, W = f.shape[:2]
    assert f[H // 2, W * 3 // 4][1] > 150  # the opaque half: green
    left = f[H // 2, W // 4]
    if mode == "image":
        assert left[0] > 200 and left[2] < 60  # the background image through the hole
    elif mode in ("cover", "contain"):
        assert left.max() < 25  # black behind it


def test_unknown_fit_is_a_render_error(media, tmp_path):
    task = RenderTask(output=str(tmp_path / "x.mp4"), width=180, height=320, duration=1.0, fit="stretch",
                      shots=[Shot(media["wide"], "video", 0, 1.0, 1.0)])
    with pytest.raises(RenderError) as err:
        build_command(task)
    assert err.value.code == "InvalidParameter.Fit" and "stretch" in str(err.value)


def test_bad_background_colour_is_a_render_error(media, tmp_path):
    task = RenderTask(output=str(tmp_path / "x.mp4"), width=180, height=320, duration=1.0, fit="color",
                      background_color="rgb(1,2,3)", shots=[Shot(media["wide"], "video", 0, 1.0, 1.0)])
    with pytest.raises(RenderError) as err:
        build_command(task)
    assert err.value.code == "InvalidParameter.BackgroundColor" and "rgb(1,2,3)" in str(err.value)


def test_blur_on_a_clip_costs_one_small_copy(media, tmp_path):
    task = RenderTask(output=str(tmp_path / "x.mp4"), width=180, height=320, duration=1.0, fit="blur",
                      shots=[Shot(media["wide"], "video", 0, 1.0, 1.0)])
    _, graph = build_command(task)
    assert graph.count("split") == 1 and "boxblur" in graph and "scale=22:40" in graph


# ------------------------------------------------------------------ the planner and the template


class _Resolver:
    def resolve(self, reference):
        return reference


def plan(editing, inputs_extra=None, infos=None):
    infos = infos or {"w.mp4": MediaInfo("video", 4.0, 320, 180, 25.0), "p.png": MediaInfo("image", 0.0, 400, 300)}
    planner = JobPlanner(_Resolver(), speech=None, probe_fn=lambda path: infos[path])
    params = {
        "InputConfig": {"MediaGroupArray": [{"GroupName": "a", "MediaArray": ["w.mp4"]}, {"GroupName": "b", "MediaArray": ["p.png"]}],
                        **(inputs_extra or {})},
        "EditingConfig": editing,
        "OutputConfig": {"MediaURL": "o_{index}.mp4", "Width": 1080, "Height": 1920},
    }
    return planner.plan(params, ["/o_0.mp4", "/o_1.mp4"])


def test_planner_default_is_the_clouds_black_bars_or_the_background_image():
    (task, _) = plan({})
    assert task.fit == "contain" and task.background_color is None
    assert (task.shots[0].width, task.shots[0].height) == (320, 180)  # sizes for the near-aspect rule
    (task, _) = plan({}, {"BackgroundImageArray": ["p.png"]})
    assert task.fit == "image" and task.background_image == "p.png"


def test_planner_reads_background_image_config():
    (task, _) = plan({"BackgroundImageConfig": {"SubType": "Blur", "Radius": 0.2}})
    assert task.fit == "blur" and task.blur_radius == 0.2
    (task, _) = plan({"BackgroundImageConfig": {"SubType": "Color", "Color": "#112233"}})
    assert task.fit == "color" and task.background_color == "#112233"
    (task, _) = plan({"BackgroundImageConfig": {"SubType": "Cover"}})
    assert task.fit == "cover"


def test_template_fit_column(write_xlsx):
    from tests.plan.test_campaign import params_of, plan_lines

    header = ["id", "media:A", "fit"]
    path = write_xlsx([header, ["r1", "a.mp4", ""], ["r2", "a.mp4", "contain"], ["r3", "a.mp4", "#ff8800"], ["r4", "a.mp4", "cover"]])
    got = [params_of(job)["EditingConfig"]["BackgroundImageConfig"] for job in plan_lines(path)]
    assert got == [{"SubType": "Blur"}, {"SubType": "Color", "Color": "#000000"}, {"SubType": "Color", "Color": "#ff8800"},
                   {"SubType": "Cover"}]


def test_template_bad_fit_names_the_cell(write_xlsx):
    from tests.plan.test_campaign import run

    path = write_xlsx([["id", "media:A", "fit"], ["r1", "a.mp4", "stretch"]])
    result = run("plan", path, "--out", "-")
    assert result.exit_code == 2
    assert "fit" in result.output and "Stretch" in result.output and "Blur" in result.output


def test_models_validate_background_image_config():
    from sheet2video.cloud.checks import check_params

    def issues(background, inputs_extra=None):
        params = {"InputConfig": {"MediaGroupArray": [{"GroupName": "a", "MediaArray": ["x.mp4"]}], **(inputs_extra or {})},
                  "EditingConfig": {"BackgroundImageConfig": background}, "OutputConfig": {"MediaURL": "o_{index}.mp4"}}
        return [(i.path, i.level) for i in check_params(params)]

    assert issues({"SubType": "Blur", "Radius": 0.1}) == []
    assert issues({"SubType": "cover"}) == []
    assert issues({"SubType": "Image"}, {"BackgroundImageArray": ["bg.png"]}) == []
    assert issues({"SubType": "Image"}) == [("EditingConfig.BackgroundImageConfig.SubType", "error")]
    assert issues({"SubType": "Stretch"}) == [("EditingConfig.BackgroundImageConfig.SubType", "error")]
    assert issues({"SubType": "Color", "Color": "blue"}) == [("EditingConfig.BackgroundImageConfig.Color", "error")]
    assert issues({"SubType": "Blur", "Radius": 2}) == [("EditingConfig.BackgroundImageConfig.Radius", "error")]
