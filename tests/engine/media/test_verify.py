"""A render is checked before it is called a Success (engine/media/verify.py): real renders at 180x320,
some forced broken by an FFmpeg option added to the command, each failing with the material named."""

from __future__ import annotations

import hashlib
import os
import subprocess
import time
from concurrent.futures import Future
from pathlib import Path

import pytest
from PIL import Image

from sheet2video.engine import render as render_module
from sheet2video.engine.media import verify
from sheet2video.engine.api.jobs import JobRunner
from sheet2video.engine.timeline.planner import JobPlanner
from sheet2video.engine.media.probe import MediaInfo
from sheet2video.engine.render import RenderTask, Shot, ffmpeg_exe, render
from sheet2video.engine.api.store import Store
from sheet2video.errors import RenderError
from tests.media import ffmpeg, make_video

W, H = 180, 320


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    d = tmp_path_factory.mktemp("verify")
    long_audio = str(d / "long_audio.mp4")  # 2.2 s of picture, 4 s of sound (a truncated export)
    ffmpeg(
        "-f", "lavfi", "-i", "testsrc=s=320x240:r=25:d=2.2", "-f", "lavfi", "-i", "sine=f=440:d=4",
        "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", long_audio,
    )  # fmt: skip
    gif = str(d / "one_frame.gif")  # one picture shown for 5 s
    Image.new("RGB", (64, 64), "red").save(gif, duration=5000)
    return {"dir": d, "long_audio": long_audio, "blue": make_video(d / "blue.mp4", 2, color="blue"), "gif": gif}


def task_for(out, shots, duration) -> RenderTask:
    return RenderTask(output=str(out), width=W, height=H, duration=duration, shots=shots)


def video_shot(path, start, duration, volume=0.0):
    return Shot(path, "video", start, duration, duration, volume, True)


def left_behind(folder) -> list[str]:
    return [n for n in os.listdir(folder) if n.startswith(".")]


@pytest.fixture
def broken_ffmpeg(monkeypatch):
    """The real FFmpeg renders, then its file is damaged: remuxed (stream copy) with the
    input options ``damage["in"]`` and output options ``damage["out"]``."""
    damage: dict[str, list[str]] = {"in": [], "out": []}
    run = subprocess.run

    def render_then_damage(argv, **kw):
        proc = run(argv, **kw)
        if proc.returncode == 0 and os.path.isfile(argv[-1]):  # a render (the planner's analyses write nothing)
            part = argv[-1]
            run([ffmpeg_exe(), "-v", "error", "-y", *damage["in"], "-i", part, "-c", "copy", *damage["out"],
                 "-f", "mp4", part + ".damaged"], check=True)  # fmt: skip
            os.replace(part + ".damaged", part)
        return proc

    monkeypatch.setattr(render_module.subprocess, "run", render_then_damage)
    return damage


# ---------------------------------------------------------------------------------------------
# the check itself: each way of being broken fails, naming the output and the figures


def test_a_good_render_passes_and_is_measured_from_packets(media, tmp_path):
    out = tmp_path / "good.mp4"
    task = task_for(out, [video_shot(media["blue"], 0.0, 2.0)], 2.0)
    render(task)
    m = verify.measure(str(out))
    assert (m.has_video, m.has_audio, m.frames) == (True, True, 50)
    assert abs(m.video_s - 2.0) < 0.001 and abs(m.audio_s - 2.0) < 0.03
    assert verify.check(task, str(out)) == m


def test_short_output_fails_naming_the_shot_where_the_picture_stops(media, tmp_path, broken_ffmpeg):
    broken_ffmpeg["out"] += ["-map", "0", "-frames:v", "30"]  # the picture stops at 1.20 s
    out = tmp_path / "short.mp4"
    task = task_for(out, [video_shot(media["blue"], 0.0, 1.0), video_shot(media["long_audio"], 0.5, 2.0)], 3.0)
    with pytest.raises(RenderError) as err:
        render(task)
    assert err.value.code == verify.CHECK_FAILED
    assert err.value.message == (
        "short.mp4: the render has 30 frames (1.20 s), planned 75 (3.00 s)"
        " — the picture stops at 1.20 s, in shot 1 (long_audio.mp4 from 0.50 s)"
    )
    assert not out.exists() and left_behind(tmp_path) == []  # never a file left as if finished


def test_output_without_video_stream_fails(media, tmp_path, broken_ffmpeg):
    broken_ffmpeg["out"] += ["-map", "0:a"]
    with pytest.raises(RenderError, match=r"^nov\.mp4: the render has no video — the picture stops at 0\.00 s, in shot 0 \(blue\.mp4"):
        render(task_for(tmp_path / "nov.mp4", [video_shot(media["blue"], 0.0, 2.0)], 2.0))
    assert not (tmp_path / "nov.mp4").exists()


def test_output_without_audio_stream_fails(media, tmp_path, broken_ffmpeg):
    broken_ffmpeg["out"] += ["-map", "0:v"]
    with pytest.raises(RenderError, match=r"^noa\.mp4: the render has no audio stream$"):
        render(task_for(tmp_path / "noa.mp4", [video_shot(media["blue"], 0.0, 2.0)], 2.0))


def test_sound_shorter_than_picture_fails(media, tmp_path, broken_ffmpeg):
    broken_ffmpeg["in"] += ["-itsscale:a", "0.5"]  # the sound squeezed into 1 s of a 2 s video
    with pytest.raises(RenderError, match=r"^snd\.mp4: its sound lasts 1\.0\d s but its picture 2\.00 s$"):
        render(task_for(tmp_path / "snd.mp4", [video_shot(media["blue"], 0.0, 2.0)], 2.0))


def test_right_frame_count_wrong_duration_fails(media, tmp_path, broken_ffmpeg):
    broken_ffmpeg["in"] += ["-itsscale:v", "2"]  # the same 50 frames, twice as far apart (the last keeps its 40 ms)
    with pytest.raises(RenderError, match=r"^dur\.mp4: the render has 50 frames \(3\.96 s\), planned 50 \(2\.00 s\)$"):
        render(task_for(tmp_path / "dur.mp4", [video_shot(media["blue"], 0.0, 2.0)], 2.0))


def test_unreadable_output_fails(media, tmp_path):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"\0" * 1000)
    with pytest.raises(RenderError, match=r"^bad\.mp4: the rendered file cannot be read"):
        verify.check(task_for(bad, [video_shot(media["blue"], 0.0, 2.0)], 2.0), str(bad))


# ---------------------------------------------------------------------------------------------
# a clip whose audio is longer than its video


def test_in_point_past_the_video_end_fails_before_rendering_naming_the_clip(media, tmp_path):
    # The container says 4 s (its audio); the picture ends at 2.2 s. Muted, this shot used to give
    # an output with no video stream at all.
    shots = [video_shot(media["long_audio"], 0.0, 1.0), video_shot(media["long_audio"], 3.0, 1.0)]
    with pytest.raises(RenderError) as err:
        render(task_for(tmp_path / "x.mp4", shots, 2.0))
    assert err.value.message == "the video of long_audio.mp4 ends at 2.20 s, shot 1 starts at 3.00 s: no frame left to show"
    assert verify.video_end(media["long_audio"]) == pytest.approx(2.2)


class _Resolver:
    def resolve(self, reference):
        return reference


def test_audio_longer_than_video_is_planned_from_the_picture_and_renders_right(media, tmp_path):
    clip = media["long_audio"]
    params = {
        "InputConfig": {"MediaGroupArray": [{"GroupName": "a", "MediaArray": [clip]}, {"GroupName": "b", "MediaArray": [clip]}]},
        "EditingConfig": {"ProcessConfig": {"SingleShotDuration": 1.0}},
        "OutputConfig": {"Width": W, "Height": H},
    }  # fmt: skip
    tasks = JobPlanner(_Resolver(), None).plan(params, [str(tmp_path / f"{i}.mp4") for i in range(4)])
    starts = sorted({s.start for t in tasks for s in t.shots})
    assert starts == [0.0, 1.0]  # from the 2.2 s picture; the container's 4 s would add 2.0 and 3.0
    task = next(t for t in tasks if [s.start for s in t.shots] == [1.0, 0.0])
    render(task)
    m = verify.measure(task.output)
    assert (m.has_video, m.has_audio, m.frames, round(m.video_s, 2)) == (True, True, 50, 2.0)


# ---------------------------------------------------------------------------------------------
# a one-frame GIF with a 5 s delay is a still: the planned 2.00 s


def test_one_frame_gif_renders_the_planned_duration(media, tmp_path):
    params = {
        "InputConfig": {"MediaGroupArray": [{"GroupName": "a", "MediaArray": [media["gif"]]}]},
        "EditingConfig": {"ProcessConfig": {"ImageDuration": 2.0}},
        "OutputConfig": {"Width": W, "Height": H},
    }  # fmt: skip
    (task,) = JobPlanner(_Resolver(), None).plan(params, [str(tmp_path / "gif.mp4")])
    assert [s.kind for s in task.shots] == ["image"] and task.duration == 2.0
    render(task)
    m = verify.measure(task.output)
    assert (m.frames, round(m.video_s, 2)) == (50, 2.0)


def test_a_one_frame_video_is_planned_as_a_still(tmp_path):
    info = MediaInfo("video", 5.0, 64, 64, 0.2, False, True, frames=1)  # the probe counted one frame
    planner = JobPlanner(_Resolver(), None, probe_fn=lambda path: info)
    params = {"InputConfig": {"MediaGroupArray": [{"GroupName": "a", "MediaArray": ["a.gif"]}]},
              "EditingConfig": {"ProcessConfig": {"ImageDuration": 2.0}}}  # fmt: skip
    (task,) = planner.plan(params, [str(tmp_path / "o.mp4")])
    assert [(s.kind, s.duration) for s in task.shots] == [("image", 2.0)] and task.duration == 2.0


# ---------------------------------------------------------------------------------------------
# the sub-job: a failed check is a Failed row; warnings travel with a Success


def test_planner_passes_probe_warnings_to_the_task(tmp_path):
    truncated = MediaInfo("image", 0.0, 64, 64, warnings=["truncated: decoding stopped at 1.40 s"])
    planner = JobPlanner(_Resolver(), None, probe_fn=lambda path: truncated)
    params = {"InputConfig": {"MediaGroupArray": [{"GroupName": "a", "MediaArray": ["/m/cut.jpg"]}]}}
    (task,) = planner.plan(params, [str(tmp_path / "o.mp4")])
    assert task.warnings == ["cut.jpg: truncated: decoding stopped at 1.40 s"]
    assert RenderTask.from_dict(task.to_dict()).warnings == task.warnings


def _runner(tmp_path):
    store = Store(tmp_path / "engine.db")
    job_id, _ = store.create_job("k", None, "Script", {}, ["a.mp4", "b.mp4"])
    return store, job_id, JobRunner(store, None, None, tmp_path)


def test_sub_job_outcomes_record_the_check_failure_and_the_warnings(tmp_path):
    store, job_id, runner = _runner(tmp_path)
    ok, bad = store.subjobs(job_id)
    (tmp_path / "a.mp4").write_bytes(b"x")
    done, failed = Future(), Future()
    done.set_result({"path": str(tmp_path / "a.mp4"), "duration": 2.0, "warnings": ["cut.jpg: truncated"]})
    failed.set_exception(RenderError("b.mp4: the render has no video — ...", code=verify.CHECK_FAILED))
    remaining = {"n": 2}
    runner._rendered(job_id, ok, done, remaining)
    runner._rendered(job_id, bad, failed, remaining)
    ok, bad = store.subjobs(job_id)
    assert (ok["status"], ok["warnings"]) == ("Success", '["cut.jpg: truncated"]')
    assert (bad["status"], bad["error_code"], bad["error_message"]) == (
        "Failed", verify.CHECK_FAILED, "b.mp4: the render has no video — ...")
    assert store.job(job_id)["status"] == "Finished"  # one of two failed: the job finishes, that row fails


def test_a_store_from_before_warnings_gets_the_column(tmp_path):
    import sqlite3

    db = sqlite3.connect(tmp_path / "old.db")
    db.execute("CREATE TABLE subjobs (job_id TEXT PRIMARY KEY, parent_id TEXT NOT NULL, idx INTEGER NOT NULL,"
               " status TEXT NOT NULL, output_path TEXT NOT NULL, media_id TEXT, duration REAL, error_code TEXT,"
               " error_message TEXT)")  # fmt: skip
    db.close()
    store = Store(tmp_path / "old.db")
    job_id, _ = store.create_job("k", None, "Script", {}, ["a.mp4"])
    (sub,) = store.subjobs(job_id)
    store.set_subjob(sub["job_id"], "Success", warnings=["w"])
    assert store.subjobs(job_id)[0]["warnings"] == '["w"]'


# ---------------------------------------------------------------------------------------------
# determinism and cost


def test_checked_renders_stay_byte_identical_and_the_check_is_cheap(media, tmp_path):
    digests = []
    for name in ("one.mp4", "two.mp4"):
        task = task_for(tmp_path / name, [video_shot(media["long_audio"], 0.4, 1.2, 0.8), video_shot(media["blue"], 0.0, 1.3)], 2.5)
        render(task)
        digests.append(hashlib.sha256(Path(task.output).read_bytes()).hexdigest())
    assert digests[0] == digests[1]
    runs = 20
    t0 = time.perf_counter()
    for _ in range(runs):
        verify.check(task, task.output)
    per_output_ms = (time.perf_counter() - t0) * 1000 / runs
    print(f"verify.check: {per_output_ms:.2f} ms per output (2.5 s, {W}x{H})")
    assert per_output_ms < 250  # headers and packets only: no decoding


def test_a_broken_render_is_a_failed_sub_job_never_a_finished_row(media, tmp_path, broken_ffmpeg):
    import json

    from sheet2video.engine.api.jobs import LocalExecutor

    broken_ffmpeg["out"] += ["-map", "0", "-frames:v", "30"]
    store = Store(tmp_path / "engine.db")
    params = {"InputConfig": json.dumps({"MediaGroupArray": [{"GroupName": "a", "MediaArray": [media["long_audio"]]}]}),
              "EditingConfig": json.dumps({"ProcessConfig": {"SingleShotDuration": 2.0}}),
              "OutputConfig": json.dumps({"Width": W, "Height": H})}  # fmt: skip
    job_id, _ = store.create_job("k", None, "Script", params, ["out/0.mp4"])
    executor = LocalExecutor(workers=1)
    runner = JobRunner(store, JobPlanner(_Resolver(), None), executor, tmp_path)
    runner._start(job_id)
    executor._pool.shutdown(wait=True)  # the render and its outcome callback have run
    (sub,) = store.subjobs(job_id)
    assert (sub["status"], sub["error_code"]) == ("Failed", verify.CHECK_FAILED)
    assert sub["error_message"] == ("0.mp4: the render has 30 frames (1.20 s), planned 50 (2.00 s)"
                                    " — the picture stops at 1.20 s, in shot 0 (long_audio.mp4 from 0.00 s)")
    assert store.job(job_id)["status"] == "Failed" and not (tmp_path / "out" / "0.mp4").exists()
