"""Shot analysis on clips generated here: cuts found within a frame, black and frozen ends left out,
a flash never a scene, steady motion never a cut, and a failed pass never a failed job."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import replace

import pytest

from sheet2video.engine.ffmpeg import run as run_ffmpeg
from sheet2video.engine.media import shots
from sheet2video.engine.media.facts import TRANSIENT
from sheet2video.engine.media.probe import probe
from sheet2video.engine.media.shots import MIN_SCENE, ClipShape, analyse_clip, shape_of
from tests.media import ffmpeg

FPS = 25
FRAME = 1 / FPS
SIZE = "180x320"


def edited_clip(path) -> str:
    """Black 0.8 s, testsrc2 1.2 s, a zooming fractal 1 s, a white flash 0.2 s, a scrolling
    pattern 1.2 s, then its last frame held for 1 s: cuts at 0.8, 2.0, 3.0 and 3.2 s."""
    parts = [("color", ":c=black", 20), ("testsrc2", "", 30), ("mandelbrot", "", 25), ("color", ":c=white", 5),
             ("testsrc", "", 30)]
    args = []
    for source, options, frames in parts:
        args += ["-f", "lavfi", "-i", f"{source}=s={SIZE}:r={FPS}{options},trim=end_frame={frames}"]
    joined = "".join(f"[{i}:v]" for i in range(len(parts)))
    graph = f"{joined}concat=n={len(parts)},tpad=stop=25:stop_mode=clone,format=yuv420p,setsar=1"
    ffmpeg(*args, "-filter_complex", graph, "-c:v", "libx264", "-preset", "ultrafast", str(path))
    return str(path)


def near(found, expected) -> bool:
    return len(found) == len(expected) and all(abs(a - b) <= FRAME + 1e-6 for a, b in zip(found, expected))


def test_cuts_black_head_frozen_tail_and_a_flash(tmp_path):
    path = edited_clip(tmp_path / "edited.mp4")
    info = probe(path)
    result = analyse_clip(path, info)
    json.dumps(result)  # what the cache stores
    assert near(result["cuts"], [0.8, 2.0, 3.0, 3.2]), result
    assert near(result["usable"], [0.8, 4.4]), result  # the black head and the held last frame are out
    scenes = result["scenes"]
    assert len(scenes) == 3, result  # the 0.2 s flash (3.0–3.2) is not one of them
    assert near(scenes[0], [0.8, 2.0]) and near(scenes[1], [2.0, 3.0]) and near(scenes[2], [3.2, 4.4])
    assert all(e - s >= MIN_SCENE for s, e in scenes)
    assert "warning" not in result and not result["still"]
    shape = ClipShape.from_dict(result)
    assert shape.to_dict() == result and shape.usable == tuple(result["usable"])


@pytest.mark.parametrize("motion", [
    "testsrc2=s=360x640:r=25,zoompan=z='1+0.004*on':d=1:s=180x320:fps=25",  # a slow zoom
    "mandelbrot=s=720x320:r=25,crop=180:320:'t*120':0",  # a pan across a detailed picture
    "testsrc2=s=240x380:r=25,crop=180:320:'30+25*sin(t*13)':'30+25*cos(t*17)'",  # a shaking hand
    "color=c=gray:s=180x320:r=25,noise=alls=60:allf=t",  # heavy noise
])
def test_steady_motion_is_not_a_cut(tmp_path, motion):
    path = str(tmp_path / "moving.mp4")
    ffmpeg("-f", "lavfi", "-i", motion, "-t", "3", "-pix_fmt", "yuv420p", "-c:v", "libx264", "-preset", "ultrafast", path)
    info = probe(path)
    result = analyse_clip(path, info)
    assert result["cuts"] == [] and result["frozen"] == [] and result["black"] == [], result
    assert result["scenes"] == [[0.0, round(info.duration, 3)]]


def test_a_clip_frozen_throughout_is_a_still_kept_whole(tmp_path):
    path = str(tmp_path / "still.mp4")
    ffmpeg("-f", "lavfi", "-i", f"testsrc2=s={SIZE}:r=25,trim=end_frame=1,tpad=stop=49:stop_mode=clone",
           "-pix_fmt", "yuv420p", "-c:v", "libx264", "-preset", "ultrafast", path)
    result = analyse_clip(path, probe(path))
    assert result["still"] and result["usable"] == [0.0, 2.0] and result["scenes"] == [[0.0, 2.0]], result


def test_the_rules_on_what_the_detectors_found():
    # a black head, then frozen: the frozen rest is the clip (a still), the black head is not
    assert shape_of([], [(0.0, 0.5)], [(0.0, 2.0)], 2.0, 25)["usable"] == [0.5, 2.0]
    # black throughout: nothing to show, and a warning that says so
    black = shape_of([], [(0.0, 1.96)], [(0.0, 2.0)], 2.0, 25)
    assert black["scenes"] == [] and "black throughout" in black["warning"]
    # a black stretch inside a scene (a fade through black) is cut out of it
    assert shape_of([], [(1.0, 1.6)], [], 3.0, 25)["scenes"] == [[0.0, 1.0], [1.6, 3.0]]
    # a clip shorter than a scene is still one scene; a flash between two cuts is none
    assert shape_of([], [], [], 0.2, 25)["scenes"] == [[0.0, 0.2]]
    assert shape_of([1.0, 1.2], [], [], 3.0, 25)["scenes"] == [[0.0, 1.0], [1.2, 3.0]]
    assert shape_of([1.0, 1.3], [], [], 3.0, 25)["scenes"] == [[0.0, 1.0], [1.0, 1.3], [1.3, 3.0]]
    # a still moment inside the clip is content, not a head or a tail
    assert shape_of([], [], [(1.0, 2.0)], 3.0, 25)["usable"] == [0.0, 3.0]


def test_a_pass_that_fails_gives_the_whole_clip_and_a_warning(tmp_path, monkeypatch):
    path = edited_clip(tmp_path / "edited.mp4")
    info = probe(path)
    wrong = analyse_clip(path, replace(info, demuxer="matroska"))  # the demuxer is forced
    assert wrong["scenes"] == [[0.0, round(info.duration, 3)]] and "failed" in wrong["warning"]
    assert not wrong.get(TRANSIENT)  # the same file fails the same way: worth caching
    off_list = analyse_clip(path, replace(info, demuxer="hls"))
    assert off_list["cuts"] == [] and "could not run" in off_list["warning"]
    monkeypatch.setattr(shots, "time_limit", lambda info: 0.001)
    late = analyse_clip(path, info)
    assert late["scenes"] == [[0.0, round(info.duration, 3)]] and "time limit" in late["warning"]
    assert late[TRANSIENT]  # a busy machine: tried again in a later run


def test_the_time_limit_grows_with_the_clip(tmp_path):
    info = probe(edited_clip(tmp_path / "edited.mp4"))
    small = shots.time_limit(info)
    big = shots.time_limit(replace(info, width=3840, height=2160, duration=60.0))
    assert small >= 30 and big > small + 60


@pytest.mark.skipif(not hasattr(os, "nice"), reason="POSIX niceness")
def test_the_analysis_runs_at_a_renders_niceness():
    """analyse_clip's FFmpeg yields the CPU to the engine's API, as a render does (ffmpeg.run's ``nice``)."""
    probe_nice = [sys.executable, "-c", "import os, sys; sys.stderr.write(str(os.nice(0)))"]
    done = run_ffmpeg(probe_nice, timeout=60, capture=True, nice=shots.NICE)
    assert int(done.stderr) == min(19, os.nice(0) + shots.NICE)
