"""Per-job budgets (engine/api/budgets.py): what Submit can tell, what planning measures."""

from __future__ import annotations

import time
from concurrent.futures import Future

import pytest

from sheet2video.engine.api.budgets import BUDGET_CODE, JobBudget, SpeechMeter
from sheet2video.engine.api.jobs import JobRunner
from sheet2video.engine.api.store import Store
from sheet2video.engine.timeline.task import RenderTask
from sheet2video.errors import RenderError

GROUPS = [{"GroupName": "g", "MediaArray": ["a.mp4"]}]


def _params(output: dict, **inputs) -> dict:
    return {"InputConfig": {"MediaGroupArray": GROUPS, **inputs}, "OutputConfig": {"MediaURL": "o/{index}.mp4", **output}}


def test_a_normal_campaign_passes_the_defaults():
    scripts = ["Our new bakery opens on Monday, with fresh bread every morning." * 3] * 4
    campaign = _params({"Count": 20, "MaxDuration": 60, "Width": 1080, "Height": 1920}, SpeechTextArray=scripts)
    assert JobBudget().submit_problem(campaign) is None
    silent = _params({"Count": 20, "MaxDuration": 60, "Width": 1080, "Height": 1920})
    assert JobBudget().submit_problem(silent) is None
    tasks = [RenderTask(output=f"{i}.mp4", width=1080, height=1920, duration=60.0, shots=[]) for i in range(20)]
    JobBudget().check_planned(tasks)  # 20 × 60 s at 1080x1920


def test_submit_counts_outputs_duration_and_pixels():
    budget = JobBudget(video_seconds=6000)
    problem = budget.submit_problem(_params({"Count": 100, "FixedDuration": 3600, "Width": 1080, "Height": 1920}))
    assert "360000 s of video" in problem and "6000 s" in problem and "--max-job-video-seconds" in problem
    assert budget.submit_problem(_params({"Count": 100, "MaxDuration": 60})) is None  # 1080x1920 by default: 6000 s
    assert "MaxDuration" in budget.submit_problem(_params({"Count": 100, "MaxDuration": 61}))
    # a 180x320 draft counts a thirty-sixth of its length
    assert budget.submit_problem(_params({"Count": 100, "FixedDuration": 2000, "Width": 180, "Height": 320})) is None
    # with a voice-over the speech sets the length, not MaxDuration: planning measures it
    assert budget.submit_problem(_params({"Count": 100, "MaxDuration": 3600}, SpeechTextArray=["Hi."])) is None
    assert JobBudget(video_seconds=None).submit_problem(_params({"Count": 100, "FixedDuration": 3600})) is None


def test_submit_counts_the_scripts_every_output_is_sure_to_speak():
    budget = JobBudget(speech_chars=5000)
    fifty = [f"{n:02d}" + "x" * 998 for n in range(50)]
    problem = budget.submit_problem(_params({"Count": 50}, SpeechTextArray=fifty))
    assert "50000 characters" in problem and "5000" in problem and "--max-job-speech-chars" in problem
    # Count 5 of 50 scripts: five distinct ones at least
    assert budget.submit_problem(_params({"Count": 5}, SpeechTextArray=fifty)) is None
    assert "6000" in budget.submit_problem(_params({"Count": 6}, SpeechTextArray=fifty))
    # one script repeated: spoken once
    assert budget.submit_problem(_params({"Count": 100}, SpeechTextArray=[fifty[0]] * 50)) is None
    # grouped voice-over: every group's list
    groups = [{"GroupName": f"g{g}", "MediaArray": ["a.mp4"], "SpeechTextArray": fifty[:3]} for g in range(2)]
    grouped = {"InputConfig": {"MediaGroupArray": groups}, "OutputConfig": {"MediaURL": "o/{index}.mp4", "Count": 3}}
    assert "6000 characters" in budget.submit_problem(grouped)


def test_planned_outputs_over_the_budget_fail_naming_it():
    tasks = [RenderTask(output=f"{i}.mp4", width=1080, height=1920, duration=3600.0, shots=[]) for i in range(2)]
    with pytest.raises(RenderError) as caught:
        JobBudget(video_seconds=6000).check_planned(tasks)
    assert caught.value.code == BUDGET_CODE and "7200 s of video" in caught.value.message


def test_the_speech_meter_charges_each_distinct_line_once():
    meter = SpeechMeter(10)
    meter.charge("hello", "joe", None, None)
    meter.charge("hello", "joe", None, None)  # the same line again: the cache speaks it
    meter.charge("hello", "amy", None, None)  # another voice: synthesised again
    assert meter.used == 10
    with pytest.raises(RenderError) as caught:
        meter.charge("!", "joe", None, None)
    assert caught.value.code == BUDGET_CODE and "--max-job-speech-chars" in caught.value.message
    SpeechMeter(None).charge("x" * 10**6)


# ---------------------------------------------------------------------------------------------
# the runner: speech metered line by line while planning, the planned check before any render


class _Speech:
    def __init__(self):
        self.spoken: list[str] = []

    def synthesize(self, text, voice=None, rate=None, language=None):
        self.spoken.append(text)


class _Planner:
    """Speaks ``lines`` through the job's synthesizer, then plans ``seconds``-long 180x320 outputs."""

    def __init__(self, lines: list[str], seconds: float = 1.0):
        self.speech, self.lines, self.seconds = _Speech(), lines, seconds

    def plan(self, params, paths, *, speech=None):
        for line in self.lines:
            speech.synthesize(line)
        return [RenderTask(output=p, width=180, height=320, duration=self.seconds, shots=[]) for p in paths]


class _Executor:
    def __init__(self):
        self.sent: list[tuple[str, str]] = []

    def submit(self, task, caller=""):
        self.sent.append((task["output"], caller))
        return Future()

    def shutdown(self):
        pass


def _run_job(tmp_path, planner, budget: JobBudget) -> tuple[dict, _Executor]:
    store = Store(tmp_path / "engine.sqlite3")
    executor = _Executor()
    runner = JobRunner(store, planner, executor, tmp_path, budget=budget)
    job_id, _ = store.create_job("KEY-1", None, "Script", {}, ["o/0.mp4"])
    try:
        runner.dispatch(job_id)
        deadline = time.monotonic() + 30
        while store.subjobs(job_id)[0]["status"] == "Init" or store.job(job_id)["status"] == "Init":
            assert time.monotonic() < deadline, "the job was not planned"
            time.sleep(0.01)
        return store.subjobs(job_id)[0], executor
    finally:
        runner.stop()


def test_speech_past_the_budget_stops_planning_at_that_line_and_nothing_renders(tmp_path):
    planner = _Planner(["a" * 40, "b" * 40, "c" * 40, "d" * 40])
    sub, executor = _run_job(tmp_path, planner, JobBudget(speech_chars=100))
    assert (sub["status"], sub["error_code"]) == ("Failed", BUDGET_CODE)
    assert planner.speech.spoken == ["a" * 40, "b" * 40]  # the third line would pass 100: never synthesised
    assert executor.sent == []


def test_planned_video_past_the_budget_fails_before_the_executor_sees_it(tmp_path):
    sub, executor = _run_job(tmp_path, _Planner([], seconds=400.0), JobBudget(video_seconds=10))
    assert (sub["status"], sub["error_code"]) == ("Failed", BUDGET_CODE)  # 400 s at 180x320: 11 s counted
    assert executor.sent == []


def test_a_job_within_budget_is_rendered_under_its_callers_key(tmp_path):
    sub, executor = _run_job(tmp_path, _Planner(["hello"], seconds=300.0), JobBudget(video_seconds=10, speech_chars=5))
    assert sub["status"] == "Processing" and executor.sent == [(str(tmp_path / "o/0.mp4"), "KEY-1")]
