"""Fault campaigns: an engine that answers 5xx, throttles, drops connections, answers slowly and
crashes after accepting a Submit — the run still ends with every row done exactly once.

The faults come from ``serve --faults SPEC`` (sheet2video/engine/api/faults.py), seeded from the
session seed. A supervisor restarts ``serve`` whenever a crash fault kills it.
"""

from __future__ import annotations

import json
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from sheet2video.engine.api.faults import Faults
from sheet2video.errors import ConfigError
from tests.reliability.conftest import (
    CLOUD_ENV, FIGURES, SEED, assert_cells_kept, assert_no_traceback, base_env, campaign_rows, cell_values, cli,
    copy_media, result_table, soak, write_workbook,
)


def run_until_done(args, env, context, attempts=10):
    """Run; a run that ends with exit 4 (the service stayed unavailable through the client's
    retries) is run again, as a user or cron would. Returns (last result, number of runs)."""
    for attempt in range(1, attempts + 1):
        result = cli(*args, env=env)
        assert_no_traceback(result.stdout, result.stderr)
        if result.returncode != 4:
            return result, attempt
        assert result.stderr.strip().splitlines()[-1].startswith("error: "), result.stderr
    raise AssertionError(f"{context}: still exit 4 after {attempts} runs:\n{result.stderr[-2000:]}")


def engine_jobs_by_url(engine, prefix: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for job in engine.all_jobs():
        url = json.loads(job["OutputConfig"])["MediaURL"]
        if url.startswith(prefix):
            out.setdefault(url, []).append(job["JobId"])
    return out


def test_fault_spec_is_parsed_and_checked():
    faults = Faults.parse("seed=7, error=0.1,throttle=0.2,drop=0.05,slow=0.5,delay=0.25,crash=0.01,reject=0,"
                          "only=GetBatchMediaProducingJob+SubmitBatchMediaProducingJob")
    assert (faults.seed, faults.error, faults.throttle, faults.drop, faults.slow, faults.delay, faults.crash) == (
        7, 0.1, 0.2, 0.05, 0.5, 0.25, 0.01)
    assert faults.only == {"GetBatchMediaProducingJob", "SubmitBatchMediaProducingJob"}
    same = Faults.parse("seed=7,error=0.5")
    again = Faults.parse("seed=7,error=0.5")
    draws = [same._roll("error", "X") for _ in range(50)]
    assert draws == [again._roll("error", "X") for _ in range(50)] and 5 < sum(draws) < 45  # seeded
    assert not any(Faults.parse("error=1,only=A")._roll("error", "B") for _ in range(10))
    fixed = Faults.parse("pattern=fixed,error=0.25,crash=0.5")  # intervals, not chances: 1st, 5th, 9th…
    assert [fixed._roll("error", "X") for _ in range(10)] == [n % 4 == 0 for n in range(10)]
    assert [fixed._roll("crash", "X") for _ in range(4)] == [False, True, False, True]  # every 2nd new job
    for bad in ("error=2", "nonsense=1", "seed=x", "error", "delay=-1", "pattern=sometimes"):
        with pytest.raises(ConfigError):
            Faults.parse(bad)


def test_serve_refuses_a_bad_fault_spec(tmp_path):
    result = cli("serve", "--port", "0", "--data", tmp_path / "d", "--faults", "error=5", env=base_env(tmp_path / "home"),
                 timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip() == ("error: --faults: bad value in 'error=5' (rates are 0-1, delay 0-60 s, seed an integer, "
                                     "pattern random or fixed)")


CRASH_EVERY = 7  # the campaign's crash=0.15 in pattern=fixed: round(1 / 0.15)


def test_runs_finish_through_every_fault_with_no_duplicate_job(tmp_path, media_dir, preview_templates, serve, rng):
    """pattern=fixed: the faults come at fixed intervals, not by chance, so what the campaign meets
    follows from what it did (jobs stored, engine lives), not from luck: the engine crashes with every
    7th new job, and each of its lives starts with a 5xx, a throttle, a slow and a dropped answer
    (the client's retry after a crash meets them) and meets them again every 12 (slow: 20) requests.
    Which Submits are refused (reject) stays drawn per ClientToken from the seed."""
    root = tmp_path / "root"
    copy_media(media_dir, root)
    seed = rng.randrange(10**6)
    spec = f"pattern=fixed,seed={seed},error=0.08,throttle=0.08,drop=0.08,slow=0.05,delay=0.3,crash=0.15,reject=0.04"
    engine = serve(tmp_path / "engine", root, "--workers", "2", "--faults", spec, supervise=True)
    env = base_env(tmp_path / "home", **CLOUD_ENV)
    sheets = soak(2, 10)
    totals: Counter = Counter()
    for s in range(sheets):
        context = f"seed {SEED}, faults {spec!r}, sheet {s}"
        rows = campaign_rows(20, prefix=f"s{s}r")
        bad = {3, 11}  # permanent errors: media that does not exist
        for i in bad:
            rows[i][1] = "media/missing.mp4"
        sheet = write_workbook(root / f"f{s}.xlsx", rows)
        before = cell_values(sheet)
        args = ["run", sheet, "--endpoint", engine.url, "--templates", preview_templates, "--qps", "25", "--quiet"]
        result, runs = run_until_done(args, env, context)
        totals["runs"] += runs
        assert result.returncode == 1, (context, result.stderr[-2000:])  # some rows failed, the rest finished
        assert_cells_kept(before, sheet, context)
        table = result_table(sheet)
        rejected = [r for r in table if "InvalidParameter.Injected" in r["error"]]
        for i, row in enumerate(table):
            if row in rejected:  # refused at submit (a bad row too may draw this fault)
                assert row["status"] == "Failed" and row["job_id"] == "", (context, row)
            elif i in bad:
                assert row["status"] == "Failed" and "InvalidMaterial.NotFound" in row["error"], (context, row)
                assert "missing.mp4" in row["error"]
            else:
                assert row["status"] == "Finished" and row["error"] == "", (context, row)
        jobs = engine_jobs_by_url(engine, f"f{s}/")
        assert all(len(ids) == 1 for ids in jobs.values()), (context, {u: i for u, i in jobs.items() if len(i) > 1})
        assert len(jobs) == 20 - len(rejected), context  # one job per accepted row, none for a refused one
        assert {r["job_id"] for r in table if r["job_id"]} == {ids[0] for ids in jobs.values()}, context
        totals["rejected"] += len(rejected)
        totals["stored"] += len(jobs)
        # a rerun sends nothing: every row is final (failed rows need --retry-failed)
        again = cli(*args, "--json", env=env)
        if again.returncode != 4:
            assert json.loads(again.stdout)["submitted"] == 0, context
    injected = engine.faults_injected()
    lives = len(engine.exits) + 1
    print(f"faults injected: {dict(injected)}; engine crashes {len(engine.exits)}; jobs stored {totals['stored']}; "
          f"runs {totals['runs']} for {sheets} sheets")
    assert all(code == 70 for code in engine.exits), engine.exits
    # What was planned, from what happened: a crash with every 7th new job of a life (the 40 rows of
    # 2 sheets, less the few refused, crash it 5 times), each transient fault at least once a life,
    # a refusal per refused row.
    assert injected["crash"] == len(engine.exits) == totals["stored"] // CRASH_EVERY >= 1, (injected, totals)
    assert all(injected[kind] >= lives for kind in ("error", "throttle", "slow", "drop")), (injected, lives)
    assert injected["reject"] == totals["rejected"], (injected, totals)
    assert sum(injected.values()) >= 10 * sheets, injected
    FIGURES["faults injected (5xx, throttling, dropped, slow, crash, reject)"] += sum(injected.values())
    FIGURES["engine crashes after accepting a Submit"] += injected["crash"]


def test_crash_after_every_accepted_submit_still_gives_one_job_per_row(tmp_path, media_dir, preview_templates, serve):
    """crash=1: the engine dies after storing every new job, before answering. The client's retry
    (same ClientToken) reaches the restarted engine, which answers with the job it stored."""
    root = tmp_path / "root"
    copy_media(media_dir, root)
    engine = serve(tmp_path / "engine", root, "--faults", "crash=1", supervise=True)
    env = base_env(tmp_path / "home", **CLOUD_ENV)
    sheet = write_workbook(root / "c.xlsx", campaign_rows(4))
    args = ["run", sheet, "--endpoint", engine.url, "--templates", preview_templates, "--quiet"]
    result, runs = run_until_done(args, env, "crash=1")
    assert result.returncode == 0, result.stderr
    jobs = engine_jobs_by_url(engine, "c/")
    assert sorted(len(ids) for ids in jobs.values()) == [1, 1, 1, 1]
    assert engine.exits == [70] * 4  # one crash per new job, none on the retries
    assert [r["status"] for r in result_table(sheet)] == ["Finished"] * 4
    FIGURES["faults injected (5xx, throttling, dropped, slow, crash, reject)"] += 4
    FIGURES["engine crashes after accepting a Submit"] += 4


def test_a_service_error_outlasting_the_retries_fails_no_row(tmp_path, media_dir, preview_templates, serve):
    """Every call of one action (Submit, or Get) answers 500/503 until the client gives up: the run
    stops with exit 4 and one line, and the rows are not marked Failed (that would make
    --retry-failed bill a second job); once the engine is healthy, a plain rerun finishes them with
    the same jobs. The two actions are tried side by side (the client's backoff is the slow part)."""

    def one(action: str) -> None:
        root = tmp_path / action
        copy_media(media_dir, root)
        engine = serve(tmp_path / f"engine-{action}", root, "--faults", f"error=1,only={action}")
        env = base_env(tmp_path / "home", **CLOUD_ENV)
        sheet = write_workbook(root / "e.xlsx", campaign_rows(2))
        before = cell_values(sheet)
        args = ["run", sheet, "--endpoint", engine.url, "--templates", preview_templates, "--quiet"]
        result = cli(*args, env=env)
        assert result.returncode == 4, (action, result.stderr)
        assert_no_traceback(result.stderr)
        last = result.stderr.strip().splitlines()[-1]
        assert last.startswith("error: ") and ("InternalError" in last or "ServiceUnavailable" in last), result.stderr
        assert_cells_kept(before, sheet, action)
        statuses = [r.get("status", "") for r in result_table(sheet)]
        assert "Failed" not in statuses, (action, statuses)
        submitted = [r.get("job_id", "") for r in result_table(sheet)]

        engine.extra = ()  # healthy again: same data folder, same port, no faults
        engine.restart()
        result = cli(*args, "--json", env=env)
        assert result.returncode == 0, (action, result.stderr)
        table = result_table(sheet)
        assert [r["status"] for r in table] == ["Finished"] * 2, action
        assert all(old in ("", new) for old, new in zip(submitted, (r["job_id"] for r in table))), action
        assert sorted(len(ids) for ids in engine_jobs_by_url(engine, "e/").values()) == [1, 1], action

    with ThreadPoolExecutor(max_workers=2) as pool:
        for future in [pool.submit(one, a) for a in ("SubmitBatchMediaProducingJob", "GetBatchMediaProducingJob")]:
            future.result()
