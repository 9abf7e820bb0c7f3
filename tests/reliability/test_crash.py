"""Crash campaigns: kill -9 the runner at random moments of a 20-row run, and the engine mid-render.

The runner campaign uses ``GeneratePreviewOnly`` through a custom template set (``--templates``):
every job is really submitted, planned (media resolved and probed) and finished by a ``serve``
subprocess, but no video is encoded, so a whole 20-row run takes a few seconds and the kill
points spread over reading, submitting, the ledger, write-backs and polling. The engine campaign
renders real 180x320 videos and kills ``serve`` while FFmpeg is encoding.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import Counter
from urllib.parse import unquote

import pytest

from sheet2video.engine.media.probe import probe
from tests.reliability.conftest import (
    CLOUD_ENV, FIGURES, SEED, assert_cells_kept, base_env, campaign_rows, cell_values, cli, copy_media, result_table,
    soak, wait_until, write_workbook,
)

ROWS = 20


def run_args(sheet, engine, templates, *more) -> list[str]:
    return ["run", str(sheet), "--endpoint", engine.url, "--templates", str(templates), "--qps", "25",
            "--chunk-size", "5", "--quiet", *more]


def check_trial(engine, sheet, before: dict, stem: str, context: str) -> None:
    """Every row finished, one engine job per row, every original cell intact."""
    after = assert_cells_kept(before, sheet, context)
    assert after[("Notes", "A1")] == "keep me"
    rows = result_table(sheet)
    assert len(rows) == ROWS
    assert [r["status"] for r in rows] == ["Finished"] * ROWS, (context, [(r["id"], r["status"], r["error"]) for r in rows])
    by_url = Counter()
    ids = {}
    for job in engine.all_jobs():
        url = json.loads(job["OutputConfig"])["MediaURL"]
        if url.startswith(f"{stem}/"):
            by_url[url] += 1
            ids[url] = job["JobId"]
    duplicates = {u: n for u, n in by_url.items() if n != 1}
    assert not duplicates, f"{context}: more than one job for a row: {duplicates}"
    assert len(by_url) == ROWS, f"{context}: {len(by_url)} jobs on the engine for {ROWS} rows"
    assert {r["job_id"] for r in rows} == set(ids.values()), context


def test_runner_killed_at_random_points_then_rerun(tmp_path, media_dir, preview_templates, serve, rng):
    root = tmp_path / "root"
    copy_media(media_dir, root)
    engine = serve(tmp_path / "engine", root, "--workers", "2")
    env = base_env(tmp_path / "home", **CLOUD_ENV)
    wanted = soak(6, 30)

    # calibration: how long one uninterrupted run takes on this machine
    (root / "cal").mkdir()
    sheet = write_workbook(root / "cal" / "cal.xlsx", campaign_rows(ROWS))
    before = cell_values(sheet)
    started = time.monotonic()
    result = cli(*run_args(sheet, engine, preview_templates), env=env)
    full = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    check_trial(engine, sheet, before, "cal", "uninterrupted run")
    print(f"a full {ROWS}-row run takes {full:.2f} s; killing at uniform(0, {full:.2f}) s")

    points: list[tuple[int, int, float]] = []
    trial = 0
    while len(points) < wanted:
        trial += 1
        folder = root / f"t{trial}"
        folder.mkdir()
        sheet = write_workbook(folder / f"t{trial}.xlsx", campaign_rows(ROWS))
        before = cell_values(sheet)
        for kill in range(2):
            delay = rng.uniform(0, full)
            context = f"seed {SEED}, trial {trial}, kill {kill} at {delay:.3f} s"
            proc = subprocess.Popen([sys.executable, "-m", "sheet2video", *run_args(sheet, engine, preview_templates)],
                                    env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(delay)  # the random moment of the crash is the point of the test
            if proc.poll() is None:
                proc.kill()
                points.append((trial, kill, round(delay, 3)))
            proc.wait(timeout=30)
            assert_cells_kept(before, sheet, context)  # the workbook opens and is whole after every crash
        result = cli(*run_args(sheet, engine, preview_templates, "--json"), env=env)
        context = f"seed {SEED}, trial {trial}, final rerun"
        assert result.returncode == 0, (context, result.stderr[-2000:])
        summary = json.loads(result.stdout)
        assert summary["finished"] == ROWS, (context, summary)
        check_trial(engine, sheet, before, f"t{trial}", context)
    print(f"crash points (trial, kill, seconds): {points}")
    FIGURES["runner kill -9 points survived"] += len(points)


def test_engine_killed_mid_render_resumes_its_jobs(tmp_path, media_dir, serve, rng):
    """A run is waiting on a ``serve`` that gets kill -9'd while FFmpeg encodes, then restarted on
    the same data folder: the engine resumes its jobs and the run (or its rerun) collects them."""
    root = tmp_path / "root"
    copy_media(media_dir, root)
    engine = serve(tmp_path / "engine", root, "--workers", "1")
    env = base_env(tmp_path / "home", **CLOUD_ENV)
    n = 8
    rows = [[f"v{i}", "media/a.mp4", "media/b.mp4\nmedia/c.png", f"Video {i}", 2, 180, 320, 2, 1, i, f"=J{i + 2}*2"]
            for i in range(n)]
    sheet = write_workbook(root / "render.xlsx", rows)
    before = cell_values(sheet)
    args = ["run", str(sheet), "--endpoint", engine.url, "--qps", "25", "--quiet"]
    runner = subprocess.Popen([sys.executable, "-m", "sheet2video", *args], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    client = engine.client(max_retries=30, backoff_base=0.05, backoff_max=0.5)

    def rendering():
        jobs = [client.get_batch_job(j["JobId"]) for j in client.list_batch_jobs(MaxResults=100)["EditingBatchJobList"]]
        if len(jobs) == n and all(j["Status"] in ("Finished", "Failed") for j in jobs):
            return "done"
        return any(s["Status"] == "Processing" for j in jobs for s in j.get("SubJobList") or []) and "rendering"

    kills = 0
    try:
        for _ in range(soak(2, 8)):
            if wait_until(rendering, 120, "a render in progress") == "done":
                break
            time.sleep(rng.uniform(0, 0.3))  # the random moment of the crash
            engine.restart()  # kill -9, then start again on the same data folder and port
            kills += 1
        code = runner.wait(timeout=180)
    finally:
        runner.kill()
    stderr = runner.stderr.read()
    runner.stderr.close()
    assert kills >= 1, "every job finished before the engine could be killed"
    assert code in (0, 4), stderr  # 4: the engine stayed away longer than the client's retries
    result = cli(*args, "--json", env=env)  # collects what is left; submits nothing
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert (summary["submitted"], summary["finished"], summary["videos"]) == (0, n, 2 * n), summary
    job_ids = [r["job_id"] for r in result_table(sheet)]
    assert sorted(j["JobId"] for j in engine.all_jobs()) == sorted(job_ids)  # no job lost, none added
    assert_cells_kept(before, sheet, "after engine crashes")
    for row in result_table(sheet):
        urls = row["videos"].splitlines()
        assert len(urls) == 2 and row["status"] == "Finished"
        for url in urls:
            path = engine.data / "outputs" / unquote(url.split("?")[0].split("/outputs/", 1)[1])  # presigned
            info = probe(path)
            assert (info.width, info.height, info.has_video) == (180, 320, True), url
            assert info.duration == pytest.approx(2.0, abs=0.15), url
    print(f"engine killed {kills} time(s) mid-render; the runner exited {code} meanwhile")
    FIGURES["engine kill -9 points survived (mid-render)"] += kills
