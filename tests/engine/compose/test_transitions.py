"""Transitions (compose.transitions): names, the windowed xfade join, the crossfaded shot sound,
the planner's seeded choices and the template columns. Real renders at 180x320."""

from __future__ import annotations

import json
import random
import re
import subprocess

import av
import numpy as np
import pytest
from click.testing import CliRunner

from sheet2video.cli import cli
from sheet2video.engine.compose.transitions import REFUSED, TRANSITIONS, check_transition, xfade_name
from sheet2video.engine.timeline.styling import choose_transitions as _set_transitions
from sheet2video.engine.render import RenderTask, Shot, build_command, ffmpeg_exe, render
from sheet2video.errors import RenderError
from sheet2video.cloud.checks import check_params
from tests.media import make_image, make_video

W, H, FPS = 180, 320, 30  # 30 fps: a still's stream says 25 fps, which xfade must not see


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    d = tmp_path_factory.mktemp("media")
    return {
        "tone": make_video(d / "tone.mp4", 2, with_audio=440),  # moving testsrc2 with a 440 Hz tone
        "red": make_image(d / "red.png", "64x64", "red"),
        "green": make_image(d / "green.jpg", "320x240", "green"),
        "white": make_image(d / "white.png", "64x64", "white"),
        "green_tone": make_video(d / "green.mp4", 2, color="green", with_audio=880),  # still picture, with sound
    }


def three_shots(media, transitions: bool) -> list[Shot]:
    """1 s of the tone video, a 1 s still, 1 s of a green clip (both clips' sound on): 30 frames
    each at 30 fps. The last two pictures do not move, so a hard cut shows the same frames."""
    shots = [Shot(media["tone"], "video", 0, 1.0, 1.0, 1.0, True),
             Shot(media["red"], "image", 0, 1.0, 1.0),
             Shot(media["green_tone"], "video", 0, 1.0, 1.0, 1.0, True)]
    if transitions:
        shots[0].transition, shots[0].transition_duration = "wipeleft", 0.4  # 12 frames
        shots[1].transition, shots[1].transition_duration = "fade", 0.4
    return shots


WINDOWS = [range(18, 30), range(48, 60)]  # the last 12 frames of slots 0 and 1


def render_exact(task: RenderTask) -> tuple[list[np.ndarray], np.ndarray]:
    """Render ``task`` losslessly (x264 qp 0, PCM sound) and without the join's safety pad, and
    return its frames and samples, so any frame or sample the join loses or adds shows."""
    argv, _ = build_command(task)
    gi = argv.index("-filter_complex") + 1
    graph, n = re.subn(r"\[vjoin\]tpad=stop=-1:stop_mode=clone,trim=end_frame=\d+", "[vjoin]null", argv[gi])
    assert n == 1
    argv[gi] = graph
    argv[argv.index("aac")] = "pcm_s16le"
    del argv[argv.index("-b:a"):argv.index("-b:a") + 2]
    argv[argv.index("mp4")] = "mov"
    proc = subprocess.run(argv, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    with av.open(task.output) as c:
        frames = [f.to_ndarray(format="rgb24").astype(np.int16) for f in c.decode(video=0)]
    with av.open(task.output) as c:
        sound = np.concatenate([f.to_ndarray() for f in c.decode(audio=0)], axis=1).reshape(-1, 2).T
    return frames, sound.astype(np.int32)


@pytest.fixture(scope="module")
def pair(media, tmp_path_factory):
    """The same three shots rendered with hard cuts and with two transitions."""
    d = tmp_path_factory.mktemp("pair")
    out = {}
    for on in (False, True):
        task = RenderTask(output=str(d / f"t{int(on)}.mov"), width=W, height=H, duration=3.0,
                          shots=three_shots(media, on), fps=FPS, crf=0)
        out[on] = render_exact(task)
    return out


# ---------------------------------------------------------------------------------------------
# names


def test_every_name_maps_to_an_xfade_builtin_of_the_bundled_ffmpeg():
    help_text = subprocess.run([ffmpeg_exe(), "-hide_banner", "-h", "filter=xfade"], capture_output=True, text=True).stdout
    builtins = set(re.findall(r"^\s+(\w+)\s+\d+\s+\.\.FV", help_text, re.M)) - {"custom"}
    assert len(builtins) > 40
    assert {x for x, _ in TRANSITIONS.values()} <= builtins
    assert not REFUSED & set(TRANSITIONS)


def test_ims_and_vod_names_map_as_documented():
    assert xfade_name("fade") == "fade" and xfade_name("dissolve") == "dissolve"
    assert xfade_name("colordistance") == "distance"  # IMM and VOD colour dissolve
    assert xfade_name("wipetopleft") == "wipetl" and xfade_name("horizontalclose") == "horzclose"
    assert xfade_name("squeezevertical") == "squeezev" and xfade_name("verticalsliceup") == "vuslice"
    assert xfade_name("bowTieVertical") == "vertclose"  # case-insensitive (VOD spells it so)
    assert TRANSITIONS["linearblur"] == ("hblur", "~")  # a documented substitute, not an equivalent
    assert TRANSITIONS["circleopen"] == ("circleopen", "=")
    assert check_transition(" Radial ") is None
    assert "no equivalent" in check_transition("cube")
    assert "unknown transition 'sparkle'" in check_transition("sparkle")
    with pytest.raises(RenderError) as e:
        xfade_name("cube")
    assert e.value.code == "InvalidParameter.TransitionList"


def test_models_name_the_field_of_a_bad_transition():
    base = {"InputConfig": {"MediaGroupArray": [{"GroupName": "a", "MediaArray": ["x.mp4"]}]},
            "OutputConfig": {"MediaURL": "out_{index}.mp4"}}
    process = {"AllowTransition": True, "TransitionList": ["fade", "sparkle"], "TransitionDuration": 2.5,
               "UseUniformTransition": True}
    issues = check_params({**base, "EditingConfig": {"ProcessConfig": process}})
    paths = {i.path: i.message for i in issues}
    assert set(paths) == {"EditingConfig.ProcessConfig.TransitionList[1]", "EditingConfig.ProcessConfig.TransitionDuration"}
    assert "sparkle" in paths["EditingConfig.ProcessConfig.TransitionList[1]"]
    assert all(i.level == "error" for i in issues)
    good = {"AllowTransition": True, "TransitionList": ["linearblur", "colordistance", "crosshatch", "dreamyzoom"],
            "TransitionDuration": 0.5, "UseUniformTransition": False}  # the reference's third-party example
    assert check_params({**base, "EditingConfig": {"ProcessConfig": good}}) == []
    zero = check_params({**base, "EditingConfig": {"ProcessConfig": {"TransitionDuration": 0}}})
    assert [i.path for i in zero] == ["EditingConfig.ProcessConfig.TransitionDuration"]


# ---------------------------------------------------------------------------------------------
# the join


def test_frames_change_only_inside_the_windows(pair):
    cut, blend = pair[False][0], pair[True][0]
    changed = {i for i, (a, b) in enumerate(zip(cut, blend)) if np.abs(a - b).max() > 0}
    # A window's first frame is all outgoing shot, and the 4:4:4 round trip is lossless.
    assert changed == set(WINDOWS[0][1:]) | set(WINDOWS[1][1:]), sorted(changed)
    # mid-fade between the red and the green still: both colours half-way
    r, g, _ = blend[54][H // 2, W // 2]
    assert 90 < r < 170 and 50 < g < 120, (r, g)
    # mid-wipe from the video to red: some columns already red, some still the video
    mid = blend[24][H // 2]
    red = (mid[:, 0] > 200) & (mid[:, 1] < 60) & (mid[:, 2] < 60)
    assert 0.2 < red.mean() < 0.8, red.mean()


def test_join_is_frame_exact_and_the_sound_sample_exact(pair):
    for on in (False, True):
        frames, sound = pair[on]
        assert len(frames) == 3 * FPS
        assert sound.shape == (2, 3 * 44100)


def test_shot_sound_is_crossfaded_over_the_same_windows(pair):
    cut, blend = pair[False][1], pair[True][1]
    (a0, a1), (b0, b1) = [(w.start * 44100 // FPS, w.stop * 44100 // FPS) for w in WINDOWS]
    differ = np.nonzero(np.any(cut != blend, axis=0))[0]
    assert differ.min() >= a0  # nothing moves before the first window
    assert not np.any(cut[:, a1:b0] != blend[:, a1:b0])  # the silent still between the windows
    step = 1470  # one frame of samples

    def levels(a, b):
        return [float(np.abs(blend[:, x:x + step]).mean()) for x in range(a, b, step)]

    out, into = levels(a0, a1), levels(b0, b1)
    assert out == sorted(out, reverse=True) and out[-1] < out[0] / 4  # the video's tone fades out
    assert into == sorted(into) and into[0] < into[-1] / 4  # the green clip's tone fades in
    # The incoming clip's sound started with its window and runs to the very last sample (no pad).
    assert levels(blend.shape[1] - step, blend.shape[1])[0] > into[-1] / 2


def test_only_the_windows_are_converted_to_444(media, tmp_path):
    task = RenderTask(output=str(tmp_path / "x.mp4"), width=W, height=H, duration=3.0,
                      shots=three_shots(media, True), fps=FPS)
    _, graph = build_command(task)
    wide = [line for line in graph.splitlines() if "yuv444p" in line and "xfade" not in line]
    assert len(wide) == 4  # tail and head of each of the two cuts
    for line in wide:
        a, b = map(int, re.search(r"trim=start_frame=(\d+):end_frame=(\d+)", line).groups())
        assert b - a == 12, line
    assert graph.count("xfade=") == 2 and "transition=wipeleft" in graph and "transition=fade" in graph
    # without transitions the join is the plain concat it always was
    plain = RenderTask(output=str(tmp_path / "y.mp4"), width=W, height=H, duration=3.0, shots=three_shots(media, False), fps=FPS)
    assert "xfade" not in build_command(plain)[1] and "yuv444p" not in build_command(plain)[1]


def test_transitions_over_a_background_image(media, tmp_path):
    task = RenderTask(output=str(tmp_path / "bg.mp4"), width=W, height=H, duration=3.0, shots=three_shots(media, True),
                      fps=FPS, background_image=media["white"], crf=0)
    render(task)  # the shots are yuva420p over the background: the windows go through yuva444p
    assert "yuva444p" in build_command(task)[1]
    with av.open(task.output) as c:
        frames = [f.to_ndarray(format="rgb24").astype(np.int16) for f in c.decode(video=0)]
    assert len(frames) == 3 * FPS
    row = frames[24][H // 2]  # mid-wipe: the letterboxed red still has come in from the right
    assert (row[-20:, 0] > 200).all() and (row[-20:, 1] < 60).all(), row[-20:]
    r, g, b = frames[54][H // 2, W // 2]  # mid-fade red still -> green clip, not the white background
    assert 90 < r < 170 and 50 < g < 120 and b < 40, (r, g, b)


def test_same_transition_task_renders_byte_identical(media, tmp_path):
    paths = []
    for name in ("a.mp4", "b.mp4"):
        task = RenderTask(output=str(tmp_path / name), width=W, height=H, duration=3.0, shots=three_shots(media, True), fps=FPS)
        render(task)
        paths.append(task.output)
    with open(paths[0], "rb") as a, open(paths[1], "rb") as b:
        assert a.read() == b.read()
    with av.open(paths[0]) as c:
        assert c.streams.video[0].frames == 3 * FPS


# ---------------------------------------------------------------------------------------------
# planner and templates


def shots_of(*durations: float) -> list[Shot]:
    return [Shot(f"/x{k}.png", "image", 0, d, d) for k, d in enumerate(durations)]


def test_two_shots_of_the_same_source_are_joined_by_a_hard_cut():
    """A blend of a clip with itself is a double exposure; nor may a transition's lead play into
    source the next shot does not have (``spare``)."""
    process = {"AllowTransition": True, "TransitionList": ["fade"], "TransitionDuration": 0.5}
    shots = [Shot("/a.mp4", "video", 0, 2, 2), Shot("/a.mp4", "video", 4, 2, 2), Shot("/b.mp4", "video", 0, 2, 2),
             Shot("/c.mp4", "video", 0, 2, 2)]
    _set_transitions(shots, process, random.Random(0), [0.0, 0.0, 9.0, 0.2])
    assert [(s.transition, s.transition_duration) for s in shots] == [(None, 0.0), ("fade", 0.5), ("fade", 0.2), (None, 0.0)]


def test_planner_picks_seeded_transitions_clamped_to_half_a_shot():
    process = {"AllowTransition": True, "TransitionList": ["fade", "wipeleft", "radial", "zoomin"], "TransitionDuration": 1.0}
    shots = shots_of(3, 0.5, 3, *[2] * 20)
    _set_transitions(shots, process, random.Random("seed:0"))
    assert [s.transition_duration for s in shots[:3]] == [0.25, 0.25, 1.0]
    assert shots[-1].transition is None and shots[-1].transition_duration == 0
    assert len({s.transition for s in shots[:-1]}) > 1  # drawn per cut
    again = shots_of(3, 0.5, 3, *[2] * 20)
    _set_transitions(again, process, random.Random("seed:0"))
    assert [s.transition for s in again] == [s.transition for s in shots]
    uniform = shots_of(*[2] * 10)
    _set_transitions(uniform, {**process, "UseUniformTransition": True}, random.Random("seed:1"))
    assert len({s.transition for s in uniform[:-1]}) == 1
    for off in ({}, {"AllowTransition": False}, {"AllowTransition": "false"}):
        plain = shots_of(2, 2)
        _set_transitions(plain, off, random.Random(0))
        assert plain[0].transition is None  # absent AllowTransition: hard cuts
    default = shots_of(4, 4)
    _set_transitions(default, {"AllowTransition": True}, random.Random(0))
    assert (default[0].transition, default[0].transition_duration) == ("fade", 1.0)
    with pytest.raises(RenderError) as e:
        _set_transitions(shots_of(2, 2), {"AllowTransition": True, "TransitionList": ["cube"]}, random.Random(0))
    assert e.value.code == "InvalidParameter.TransitionList" and "TransitionList" in str(e.value)


@pytest.mark.parametrize("cell, expected", [
    ("", {"AllowTransition": True, "TransitionList": ["fade"], "TransitionDuration": 0.4}),
    ("wipeleft, slideup\nradial", {"AllowTransition": True, "TransitionList": ["wipeleft", "slideup", "radial"], "TransitionDuration": 0.8}),
    ("None", {"AllowTransition": False}),
])
def test_template_transition_column(write_csv, cell, expected):
    duration = "0.8" if "," in cell else ""
    path = write_csv(f'id,media:A,transition,transition_duration\nr1,a.mp4,"{cell}",{duration}\n')
    result = CliRunner().invoke(cli, ["plan", str(path), "--out", "-"])
    assert result.exit_code == 0, result.output
    (job,) = [json.loads(line) for line in result.stdout.splitlines()]
    process = json.loads(job["params"]["EditingConfig"])["ProcessConfig"]
    assert {k: v for k, v in process.items() if "Transition" in k} == expected


def test_template_bad_transition_names_the_row_and_column(write_csv):
    path = write_csv('id,media:A,transition\nr1,a.mp4,"fade,sparkle"\n')
    result = CliRunner().invoke(cli, ["plan", str(path), "--out", "-"])
    assert result.exit_code == 2
    assert "row 2, transition" in result.output and "sparkle" in result.output


def test_a_job_with_transitions_plans_and_renders_exactly(media, tmp_path):
    from pathlib import Path

    from sheet2video.engine.media.sources import MediaResolver
    from sheet2video.engine.timeline.planner import JobPlanner

    root = Path(media["tone"]).parent
    planner = JobPlanner(MediaResolver(root, tmp_path / "cache"), speech=None)
    params = {
        "InputConfig": {"MediaGroupArray": [{"GroupName": g, "MediaArray": [m]} for g, m in
                                            (("A", "tone.mp4"), ("B", "red.png"), ("C", "green.mp4"))]},
        "EditingConfig": {"ProcessConfig": {"SingleShotDuration": 1, "AllowTransition": True,
                                            "TransitionList": ["fade", "wipeleft", "circleopen", "radial"],
                                            "TransitionDuration": 0.4}},
        "OutputConfig": {"MediaURL": "x_{index}.mp4", "Count": 2, "Width": W, "Height": H},
    }
    outs = [str(tmp_path / "o1.mp4"), str(tmp_path / "o2.mp4")]
    tasks = planner.plan(params, outs)
    again = planner.plan(params, outs)
    assert [[s.transition for s in t.shots] for t in tasks] == [[s.transition for s in t.shots] for t in again]
    task = tasks[0]
    assert all(s.transition and s.transition_duration == 0.4 for s in task.shots[:-1]) and task.shots[-1].transition is None
    render(task)
    with av.open(task.output) as c:
        assert c.streams.video[0].frames == round(task.duration * task.fps)
