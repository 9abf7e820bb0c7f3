"""Motion (compose.motion): stills and clips move gently, smoothly and frame-exactly; seeded choices."""

from __future__ import annotations

import av
import numpy as np
import pytest

from sheet2video.engine.compose import build_command
from sheet2video.engine.compose import motion as motion_mod
from sheet2video.engine.compose.graph import Graph
from sheet2video.engine.compose.video import Slot, shot_stream
from sheet2video.engine.timeline.planner import JobPlanner
from sheet2video.engine.media.probe import MediaInfo
from sheet2video.engine.render import RenderTask, Shot, render
from sheet2video.errors import RenderError
from tests.media import ffmpeg, make_video

W, H = 180, 320


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    d = tmp_path_factory.mktemp("motion")
    dots = str(d / "dots.png")  # two white squares on grey: their centroids say where the picture went
    ffmpeg("-f", "lavfi", "-i", "color=c=0x303030:s=360x640", "-vf",
           "drawbox=x=60:y=100:w=12:h=12:color=white:t=fill,drawbox=x=290:y=520:w=12:h=12:color=white:t=fill",
           "-frames:v", "1", "-update", "1", dots)  # fmt: skip
    return {"dots": dots, "clip": make_video(d / "clip.mp4", 2, "180x320")}


def frames(path, fmt="gray") -> list[np.ndarray]:
    with av.open(path) as c:
        return [f.to_ndarray(format=fmt).astype(float) for f in c.decode(video=0)]


def still(tmp_path, media, effect, name=None, seconds=3.0, crf=0) -> str:
    out = str(tmp_path / f"{name or effect}.mp4")
    render(RenderTask(output=out, width=W, height=H, duration=seconds, crf=crf,
                      shots=[Shot(media["dots"], "image", 0, seconds, seconds, motion=effect, width=360, height=640)]))
    return out


def centroid(f: np.ndarray) -> tuple[float, float]:
    """Where the top-left white square is (sub-pixel), searched in the top-left quarter."""
    sub = f[: H // 3, : W // 2]
    m = np.where(sub > 200, sub, 0)
    ys, xs = np.indices(sub.shape)
    return float((xs * m).sum() / m.sum()), float((ys * m).sum() / m.sum())


# Where the square goes: direction of x and y over the shot (+1 right/down, -1 left/up, 0 still).
PATHS = {"zoomin": (-1, -1), "zoomout": (1, 1), "moveleft": (-1, 0), "moveright": (1, 0), "moveup": (0, -1), "movedown": (0, 1)}


@pytest.mark.parametrize("effect", sorted(PATHS))
def test_a_still_moves_smoothly_in_its_direction(media, tmp_path, effect):
    fr = frames(still(tmp_path, media, effect))
    assert len(fr) == 75  # exactly the shot's frames
    path = np.array([centroid(f) for f in fr])
    n = np.arange(len(path))
    for axis, sign in enumerate(PATHS[effect]):
        p = path[:, axis]
        steps = np.diff(p)
        if sign == 0:
            assert np.abs(p - p[0]).max() < 0.05
            continue
        total = p[-1] - p[0]
        assert sign * total > 4  # a gentle but visible drift (the canvas is 10 % larger)
        assert (sign * steps > -0.1).all()  # monotonic: never steps back (zoompan wobbles here)
        assert np.abs(steps).max() <= 1.1  # no jumps: at most a pixel a frame at this size
        line = np.polyval(np.polyfit(n, p, 1), n)
        assert np.abs(p - line).max() < 0.8  # on a straight, even path (whole-pixel rounding only)
    # consecutive frames differ little, the first and the last clearly
    consecutive = max(np.abs(fr[i + 1] - fr[i]).mean() for i in range(len(fr) - 1))
    assert np.abs(fr[-1] - fr[0]).mean() > 2 * consecutive


def test_zoominout_returns_to_the_start(media, tmp_path):
    fr = frames(still(tmp_path, media, "zoominout"))
    path = np.array([centroid(f) for f in fr])
    assert np.abs(path[-1] - path[0]).max() < 0.3
    assert (path[0] - path[len(path) // 2] > 4).all()  # zoomed in at mid-shot: the square moved out


def test_a_still_without_motion_stays_still(media, tmp_path):
    fr = frames(still(tmp_path, media, None, "none", crf=27))
    assert max(np.abs(f - fr[0]).max() for f in fr) < 3


def test_unknown_effect_is_a_render_error(media, tmp_path):
    task = RenderTask(output=str(tmp_path / "x.mp4"), width=W, height=H, duration=1.0,
                      shots=[Shot(media["dots"], "image", 0, 1.0, 1.0, motion="spin")])
    with pytest.raises(RenderError) as err:
        build_command(task)
    assert err.value.code == "InvalidParameter.VfxEffect" and "spin" in str(err.value)


def test_a_still_is_decoded_once_and_only_cut_per_frame(media, tmp_path):
    task = RenderTask(output=str(tmp_path / "x.mp4"), width=W, height=H, duration=2.0,
                      shots=[Shot(media["dots"], "image", 0, 2.0, 2.0, motion="zoomin")])
    argv, graph = build_command(task)
    assert argv.count("-i") == 1 and "zoompan" not in graph
    assert graph.index("loop=") < graph.index("eval=frame")  # the fitted picture repeats; then the cheap cut


def test_motion_spans_the_lead_frames_too():
    g = Graph()
    task = RenderTask(output="/o.mp4", width=W, height=H, duration=2.0, shots=[])
    shot = Shot("/p.png", "image", 0, 2.0, 2.0, motion="moveleft")
    shot_stream(g, task, Slot(shot, nf=50, ns=88200, lead=6), "cover")
    text = g.text()
    assert "trim=end_frame=56" in text and "/55)" in text  # 56 frames, progress 0 → 1 over them


def test_clips_move_too_and_keep_their_frame_count(media, tmp_path):
    def run(effect, name):
        out = str(tmp_path / f"{name}.mp4")
        shots = [Shot(media["clip"], "video", 0, 1.24, 1.24, motion=effect), Shot(media["dots"], "image", 0, 0.76, 0.76, motion=effect)]
        render(RenderTask(output=out, width=W, height=H, duration=2.0, shots=shots))
        return frames(out)

    moving, plain = run("zoomout", "moving"), run(None, "plain")
    assert len(moving) == len(plain) == 50
    assert np.abs(moving[0] - plain[0]).mean() > 1  # the clip zoomed in at its start
    assert np.abs(plain[1] - plain[0]).mean() < np.abs(moving[0] - plain[0]).mean()  # more than its own motion


def test_same_task_with_motion_and_blur_renders_byte_identical(media, tmp_path):
    def run(name):
        out = tmp_path / name
        shots = [Shot(media["clip"], "video", 0, 1.0, 1.0, motion="moveright", width=180, height=320),
                 Shot(media["dots"], "image", 0, 1.0, 1.0, motion="zoomin", width=360, height=640)]
        render(RenderTask(output=str(out), width=320, height=180, duration=2.0, fit="blur", shots=shots))
        return out.read_bytes()

    one, two = run("one.mp4"), run("two.mp4")
    assert len(one) > 1000 and one == two


# ------------------------------------------------------------------ the planner and the template


class _Resolver:
    def resolve(self, reference):
        return reference


INFOS = {"c.mp4": MediaInfo("video", 9.0, 1080, 1920, 25.0), "p1.png": MediaInfo("image", 0.0, 800, 600),
         "p2.png": MediaInfo("image", 0.0, 600, 800)}


def plan(process, count=4):
    planner = JobPlanner(_Resolver(), speech=None, probe_fn=lambda path: INFOS[path])
    params = {
        "InputConfig": {"MediaGroupArray": [{"GroupName": "a", "MediaArray": ["c.mp4"]}, {"GroupName": "b", "MediaArray": ["p1.png", "p2.png"]},
                                            {"GroupName": "c", "MediaArray": ["p2.png", "c.mp4"]}]},
        "EditingConfig": {"ProcessConfig": process},
        "OutputConfig": {"MediaURL": "o_{index}.mp4", "Count": count},
    }
    return planner.plan(params, [f"/o_{i}.mp4" for i in range(count)])


def motions(tasks):
    return [[(s.kind, s.motion) for s in t.shots] for t in tasks]


def test_auto_motion_moves_photos_and_leaves_clips():
    got = motions(plan({"AllowVfxEffect": True}))
    kinds = [m for shots in got for m in shots]
    assert all(m is None for k, m in kinds if k == "video")
    assert all(m in motion_mod.STILL_DEFAULTS for k, m in kinds if k == "image")
    assert got == motions(plan({"AllowVfxEffect": True}))  # seeded: the same job, the same choices
    assert len({m for k, m in kinds if k == "image"}) > 1  # but not one effect for every photo


def test_no_motion_unless_allowed():
    assert all(m is None for shots in motions(plan({})) for _, m in shots)
    assert all(m is None for shots in motions(plan({"AllowVfxEffect": False, "VfxNotFirstClipEffectList": ["zoomin"]})) for _, m in shots)


def test_effect_lists_and_probability():
    lists = {"AllowVfxEffect": True, "VfxFirstClipEffectList": ["ZoomOut"], "VfxNotFirstClipEffectList": ["moveleft", "moveup"]}
    for shots in motions(plan(lists)):
        assert shots[0][1] == "zoomout"  # the first clip from its own list, clips included
        assert all(m in ("moveleft", "moveup") for _, m in shots[1:])
    none = motions(plan({**lists, "VfxEffectProbability": 0}))
    assert all(m is None for shots in none for _, m in shots)
    some = [m for shots in motions(plan({**lists, "VfxEffectProbability": 50}, count=8)) for _, m in shots]
    assert None in some and any(some)


def test_template_motion_column(write_xlsx):
    from tests.plan.test_campaign import params_of, plan_lines

    path = write_xlsx([["id", "media:A", "motion"], ["r1", "a.mp4", ""], ["r2", "a.mp4", "none"], ["r3", "a.mp4", "zoomin, moveleft"]])
    vfx = lambda process: {k: v for k, v in process.items() if k.startswith(("AllowVfx", "Vfx"))}  # noqa: E731
    got = [vfx(params_of(job)["EditingConfig"].get("ProcessConfig")) for job in plan_lines(path)]
    assert got[0] == {"AllowVfxEffect": True}
    assert got[1] == {"AllowVfxEffect": False}
    assert got[2] == {"AllowVfxEffect": True, "VfxEffectProbability": 100, "VfxFirstClipEffectList": ["zoomin", "moveleft"],
                      "VfxNotFirstClipEffectList": ["zoomin", "moveleft"]}


def test_template_bad_motion_names_the_cell(write_xlsx):
    from tests.plan.test_campaign import run

    path = write_xlsx([["id", "media:A", "motion"], ["r1", "a.mp4", "spin"]])
    result = run("plan", path, "--out", "-")
    assert result.exit_code == 2 and "motion" in result.output and "spin" in result.output


def test_models_validate_the_vfx_fields():
    from sheet2video.cloud.checks import check_params

    def issues(process):
        params = {"InputConfig": {"MediaGroupArray": [{"GroupName": "a", "MediaArray": ["x.mp4"]}]},
                  "EditingConfig": {"ProcessConfig": process}, "OutputConfig": {"MediaURL": "o_{index}.mp4"}}
        return [(i.path, i.message) for i in check_params(params)]

    assert issues({"AllowVfxEffect": True, "VfxEffectProbability": 50, "VfxFirstClipEffectList": ["ZoomIn"],
                   "VfxNotFirstClipEffectList": list(motion_mod.EFFECTS)}) == []
    (path, message), = issues({"VfxNotFirstClipEffectList": ["zoomin", "shake"]})
    assert path == "EditingConfig.ProcessConfig.VfxNotFirstClipEffectList" and "shake" in message and "zoomin" in message
    assert [p for p, _ in issues({"VfxEffectProbability": 101})] == ["EditingConfig.ProcessConfig.VfxEffectProbability"]
