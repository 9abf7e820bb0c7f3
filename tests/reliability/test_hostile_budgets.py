"""Hostile requests against a shared engine's resources: a job bigger than a job may be, a caller
whose long jobs would starve another's one-second job, a render that never ends.

On the engine before budgets, fair pools and the render timeout (6982ffc) Count 100 × one-hour
outputs is accepted and rendered, planning has two threads that one caller's speech holds, and
a render runs as long as FFmpeg does: these tests fail there.
"""

from __future__ import annotations

import contextlib
import os
import stat
import threading
import time
from pathlib import Path

import pytest

from sheet2video.cloud.client import ImsClient
from sheet2video.cloud.credentials import Credentials
from sheet2video.engine.api.server import Engine, EngineConfig
from sheet2video.engine.ffmpeg import FFMPEG_ENV, ffmpeg_exe
from sheet2video.errors import ImsError
from tests.reliability.hostile import hostile_media, out_cfg, shared_engine, wait_job  # noqa: F401 (a fixture)

GROUP = [{"GroupName": "g", "MediaArray": ["clips/ok.mp4"]}]
WAIT = 120  # seconds a condition may take on a loaded 2-core machine before the test fails


def _files_under(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


@contextlib.contextmanager
def _engine(data: Path, media_root: Path, keys: dict[str, str], **options):
    """A started engine with a signed client per key. ``options`` are set after the config is made,
    so that an engine without one of them (6982ffc) runs the test too, and fails it for what it lacks."""
    config = EngineConfig(data=data, media_root=media_root, keys=keys, workers=1, threads=1)
    for name, value in options.items():
        setattr(config, name, value)
    with Engine(config) as engine:
        url = engine.start()
        clients = [ImsClient(url, Credentials(k, s), timeout=(5, 60)) for k, s in keys.items()]
        try:
            yield engine, clients
        finally:
            for client in clients:
                client.close()


def test_count_100_one_hour_outputs_are_refused_at_submit_naming_the_limit(tmp_path, hostile_media):
    with shared_engine(tmp_path / "data", hostile_media) as e:
        with pytest.raises(ImsError) as caught:
            e.client.submit_batch_job(input_config={"MediaGroupArray": GROUP},
                                      output_config={"MediaURL": "big/v_{index}.mp4", "Count": 100,
                                                     "Width": 1080, "Height": 1920, "FixedDuration": 3600})
        error = caught.value
        assert (error.http_status, error.code) == (400, "InvalidParameter")
        assert "6000 s" in error.message and "--max-job-video-seconds" in error.message, error.message
        assert e.client.list_batch_jobs()["EditingBatchJobList"] == []


def test_a_job_whose_planned_length_passes_the_budget_fails_before_rendering(tmp_path, hostile_media):
    # Nothing at Submit says how long: each output lasts its group's Duration (an hour), known once planned.
    groups = [{**GROUP[0], "Duration": 3600}]
    with shared_engine(tmp_path / "data", hostile_media) as e:
        job_id = e.client.submit_batch_job(input_config={"MediaGroupArray": groups},
                                           output_config={"MediaURL": "long/v_{index}.mp4", "Count": 2,
                                                          "Width": 1080, "Height": 1920})
        job = wait_job(e.client, job_id, timeout=WAIT)
        assert job["Status"] == "Failed", job
        for sub in job["SubJobList"]:
            assert sub["Status"] == "Failed" and sub["ErrorCode"] == "InvalidParameter.JobBudget", sub
            assert "7200 s of video" in sub["ErrorMessage"] and "--max-job-video-seconds" in sub["ErrorMessage"]
        assert _files_under(e.outputs) == []  # not one frame, not one temp file


class GatedSpeech:
    """The engine's synthesizer, except that caller A's lines (they start with "Alpha") wait at a
    gate: ``release(n)`` lets n of them through, ``open()`` all. ``entered`` lists every line in
    the order synthesis started."""

    def __init__(self, inner):
        self.inner = inner
        self.entered: list[str] = []
        self._permits = 0
        self._open = False
        self._changed = threading.Condition()

    def route(self, *args):
        return self.inner.route(*args)

    def synthesize(self, text, voice=None, rate=None, language=None):
        with self._changed:
            self.entered.append(text)
            self._changed.notify_all()
            if text.startswith("Alpha"):
                self._changed.wait_for(lambda: self._open or self._permits > 0, WAIT)
                self._permits -= 0 if self._open else 1
        return self.inner.synthesize(text, voice, rate, language)

    def release(self, n: int = 1) -> None:
        with self._changed:
            self._permits += n
            self._changed.notify_all()

    def open(self) -> None:
        with self._changed:
            self._open = True
            self._changed.notify_all()

    def wait_entered(self, n: int) -> None:
        with self._changed:
            assert self._changed.wait_for(lambda: len(self.entered) >= n, WAIT), f"lines so far: {self.entered}"


def _until(condition, what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        assert time.monotonic() < deadline, f"still waiting for {what}"
        time.sleep(0.02)


KEYS = {"KEY-A": "secret-a", "KEY-B": "secret-b"}


@contextlib.contextmanager
def _long_speech_of_a(tmp_path: Path, media_root: Path):
    """An engine with keys A and B; A has submitted three jobs of three lines each, previews (no
    render), whose lines wait at the gate: the first is at it when this yields."""
    with _engine(tmp_path / "data", media_root, KEYS) as (engine, (a, b)):
        gated = engine.planner.speech = GatedSpeech(engine.planner.speech)
        try:
            a_jobs = [a.submit_batch_job(input_config={"MediaGroupArray": GROUP,
                                                       "SpeechTextArray": [f"Alpha {j} {n}: the shop opens early."
                                                                           for n in range(3)]},
                                         output_config=out_cfg(f"a{j}", 3, GeneratePreviewOnly=True))
                      for j in range(3)]
            gated.wait_entered(1)
            _until(lambda: [a.get_batch_job(j)["Status"] for j in a_jobs[:2]] == ["Processing"] * 2,
                   "A's first two jobs to be planning")
            yield engine, a, b, a_jobs, gated
        finally:
            gated.open()


def test_a_callers_long_speech_jobs_do_not_keep_another_callers_short_job_in_init(tmp_path, hostile_media):
    with _long_speech_of_a(tmp_path, hostile_media) as (engine, a, b, a_jobs, gated):
        b_job = b.submit_batch_job(input_config={"MediaGroupArray": GROUP}, output_config=out_cfg("b", FixedDuration=1))
        done = wait_job(b, b_job, timeout=WAIT)  # while A's lines wait at the gate
        a_states = [a.get_batch_job(j)["Status"] for j in a_jobs]
        gated.open()
        assert done["Status"] == "Finished", done
        assert [f for f in _files_under(engine.outputs) if f.endswith(".mp4")], "B's video was rendered"
        assert a_states == ["Processing", "Processing", "Init"]  # A holds two planning slots, its third waits
        assert all(wait_job(a, j, timeout=WAIT)["Status"] == "Finished" for j in a_jobs)


def test_a_short_line_of_another_caller_is_spoken_next_not_after_the_long_jobs(tmp_path, hostile_media):
    with _long_speech_of_a(tmp_path, hostile_media) as (engine, a, b, a_jobs, gated):
        _until(lambda: engine.runner.speech_queued("KEY-A") == 1, "A's second job to queue a line")
        b_job = b.submit_batch_job(input_config={"MediaGroupArray": GROUP, "SpeechTextArray": ["Bravo."]},
                                   output_config=out_cfg("b"))
        _until(lambda: engine.runner.speech_queued("KEY-B") == 1, "B's line to be queued")
        before = len(gated.entered)
        gated.release()  # the A line being spoken ends
        gated.wait_entered(before + 1)
        # B's line is next, ahead of the A line queued before it: B was never served, A was
        assert gated.entered[before] == "Bravo.", gated.entered
        done = wait_job(b, b_job, timeout=WAIT)
        a_states = [a.get_batch_job(j)["Status"] for j in a_jobs]
        gated.open()
        assert done["Status"] == "Finished", done
        assert a_states == ["Processing", "Processing", "Init"], a_states  # A's jobs had lines left to speak
        assert all(wait_job(a, j, timeout=WAIT)["Status"] == "Finished" for j in a_jobs)


@pytest.fixture
def endless_ffmpeg(tmp_path, monkeypatch):
    """An FFmpeg that never finishes a render (it sleeps), writing its pid first; it tells its version."""
    pid_file = tmp_path / "ffmpeg.pid"
    script = tmp_path / "endless-ffmpeg"
    script.write_text(f'#!/bin/sh\ncase " $* " in *" -version "*) exec "{ffmpeg_exe()}" "$@";; esac\n'
                      f"echo $$ > {pid_file}\nexec sleep 300\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv(FFMPEG_ENV, str(script))
    return pid_file


def test_a_render_that_never_ends_is_stopped_at_its_time_limit(tmp_path, hostile_media, endless_ffmpeg, monkeypatch):
    keys = {"KEY": "secret"}
    with _engine(tmp_path / "data", hostile_media, keys, render_timeout_floor=1.0, render_timeout_factor=0.5) as (
            engine, (client,)):
        # no shot analysis: its FFmpeg would be the endless one too and wait out its own limit (~30 s)
        job_id = client.submit_batch_job(input_config={"MediaGroupArray": GROUP},
                                         editing_config={"ProcessConfig": {"EnableClipDetection": False}},
                                         output_config=out_cfg("stuck", FixedDuration=2))
        job = wait_job(client, job_id, timeout=WAIT)
        (sub,) = job["SubJobList"]
        assert (job["Status"], sub["ErrorCode"]) == ("Failed", "RenderFailed"), job
        assert "time limit of 1 s" in sub["ErrorMessage"], sub["ErrorMessage"]
        with pytest.raises(ProcessLookupError):
            os.kill(int(endless_ffmpeg.read_text()), 0)  # FFmpeg was killed, not left behind
        assert _files_under(engine.outputs) == []  # no .part, graph or titles file left
        # the worker (there is one) is free again: the next job renders
        monkeypatch.delenv(FFMPEG_ENV)
        after = wait_job(client, client.submit_batch_job(input_config={"MediaGroupArray": GROUP},
                                                          output_config=out_cfg("next", FixedDuration=2)), timeout=WAIT)
        assert after["Status"] == "Finished", after
