"""``plan_vs_pandas``: planning a 10,000-row workbook against just reading it with pandas;
``plan_csv_vs_pandas_jinja``: planning the same rows as CSV against what a user would write
instead (pandas + jinja2 rendering the same templates, bench/pandas_jinja.py); and the plan's
peak memory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from bench.common import ROOT, WORK, Result, log, stats
from bench.media import HEADERS, SPEECH, TITLE, write_csv

ROWS = 10_000


def big_rows(n: int = ROWS) -> list[list]:
    rows = []
    for i in range(n):
        rows.append([
            f"store-{i:05d}",
            "opening_1.mp4\nopening_2.mp4",
            "product_1.mp4\nphoto_1.jpg\nproduct_2.mp4",
            "closing_1.mp4",
            f"{TITLE}\nStore {i}: now 20% off",
            f"{SPEECH}\nVisit store number {i} today.",
            "bgm_1.m4a",
            1 + i % 3,
            15,
            1080,
            1920,
            27,
            "en",
            0.3,
            3,
            "yes",
        ])
    return rows


def write_xlsx(path: Path, rows: list[list]) -> Path:
    import openpyxl

    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet("campaign")
    sheet.append(HEADERS)
    for row in rows:
        sheet.append(row)
    tmp = path.with_suffix(".tmp.xlsx")
    workbook.save(tmp)
    os.replace(tmp, path)
    return path


def _child(mode: str, path: Path) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.run([sys.executable, "-m", "bench.plan_child", mode, str(path)], capture_output=True,
                          text=True, env=env, timeout=600, cwd=ROOT)
    if proc.returncode != 0:
        raise RuntimeError(f"plan_child {mode} {path.name} failed: {proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def plan_benchmarks(reps: int = 3) -> list[Result]:
    work = WORK / "plan"
    work.mkdir(parents=True, exist_ok=True)
    rows = big_rows()
    csv_path = write_csv(work / f"campaign_{ROWS}.csv", rows, HEADERS)
    xlsx_path = work / f"campaign_{ROWS}.xlsx"
    if not xlsx_path.exists() or xlsx_path.stat().st_mtime < csv_path.stat().st_mtime - 3600:
        write_xlsx(xlsx_path, rows)
    results = []
    cases = (("plan_vs_pandas", xlsx_path, "pandas", "pandas.read_excel (engine openpyxl, its default)", "<= 2.0"),
             ("plan_csv_vs_pandas_jinja", csv_path, "pandas-jinja",
              "pandas.read_csv + plain jinja2 rendering the same five templates per row + json.loads "
              "(bench/pandas_jinja.py: no sandbox, no validation)", "<= 1.0"))
    for name, path, reference, reader, target in cases:
        plans, pandas_runs, calamine_runs = [], [], []
        for rep in range(reps):
            first, second = (("plan", reference) if rep % 2 == 0 else (reference, "plan"))
            got = {first: _child(first, path), second: _child(second, path)}
            assert got["plan"]["rows"] == ROWS and got[reference]["rows"] == ROWS, got
            plans.append(got["plan"])
            pandas_runs.append(got[reference])
            if path.suffix == ".xlsx":  # the faster reader pandas offers (and will default to), for context
                calamine_runs.append(_child("pandas-calamine", path))
            log(f"{name} rep {rep + 1}: plan {got['plan']['seconds']:.2f} s (peak {got['plan']['peak_mb']:.0f} MB), "
                f"{reference} {got[reference]['seconds']:.3f} s → {got['plan']['seconds'] / got[reference]['seconds']:.2f}")
        ratios = [p["seconds"] / q["seconds"] for p, q in zip(plans, pandas_runs)]
        cpu_ratios = [p["cpu_seconds"] / q["cpu_seconds"] for p, q in zip(plans, pandas_runs)]
        per_row_us = [p["seconds"] / ROWS * 1e6 for p in plans]
        detail = {
            "file": f"{ROWS:,} rows × {len(HEADERS)} columns ({path.suffix[1:]}, {path.stat().st_size / 2**20:.1f} MiB), "
                    "script template set, every row valid, 1–3 outputs per row",
            "measured": f"CPU time (and wall) of in-process sheet2video.sheets.read.read_sheet + campaign.plan_campaign (what `sheet2video plan` "
                        f"does, without printing) / {'bare ' if reference == 'pandas' else ''}{reader} of the same file; "
                        "each in a fresh process, "
                        "imports before the clock",
            "plan_seconds": stats([p["seconds"] for p in plans]),
            "of_which_read_sheet_seconds": stats([p["read_sheet_seconds"] for p in plans]),
            "pandas_seconds": stats([q["seconds"] for q in pandas_runs], 4),
            "plan_microseconds_per_row": stats(per_row_us, 1),
            "plan_peak_mb": stats([p["peak_mb"] for p in plans], 1),
            "pandas_peak_mb": stats([q["peak_mb"] for q in pandas_runs], 1),
        }
        if reference == "pandas-jinja":
            detail["reference_output"] = _same_jobs(path)
        if calamine_runs:
            detail["pandas_calamine_seconds"] = stats([c["seconds"] for c in calamine_runs], 4)
            detail["ratio_vs_pandas_calamine"] = stats([p["seconds"] / c["seconds"] for p, c in zip(plans, calamine_runs)], 2)
        results.append(Result(name, target, ratios, cpu_ratios=cpu_ratios, basis="cpu", detail=detail))
        peak_name = "plan_peak_mb" if path.suffix == ".xlsx" else "plan_csv_peak_mb"
        results.append(Result(
            peak_name, "<= 500", [p["peak_mb"] for p in plans], unit="MB", basis="memory", worst=True,
            detail={
                "measured": f"peak RSS (VmHWM of /proc/self/status — getrusage's ru_maxrss would report the parent's "
                            f"peak, as it survives fork+exec on Linux) of a fresh process that imports "
                            f"sheet2video and plans the {ROWS:,}-row {path.suffix[1:]} sheet: interpreter, "
                            "libraries and the plan together",
                "rss_before_plan_mb": stats([p["rss_before_mb"] for p in plans], 1),
            },
        ))
    profile = _child("profile", csv_path)
    for r in results:
        if r.name in ("plan_vs_pandas", "plan_csv_vs_pandas_jinja"):
            r.detail["where_plan_time_goes"] = profile
    return results


def _same_jobs(path: Path) -> str:
    """That the reference does the same work: its five parameters equal the plan's, row by row."""
    from bench.pandas_jinja import load_templates, plan
    from sheet2video.plan.campaign import plan_campaign
    from sheet2video.sheets.read import read_sheet
    from sheet2video.plan.templating import load_template_set

    theirs = plan(path, load_templates())
    ours = plan_campaign(read_sheet(path), load_template_set("script"))
    same = sum(t["params"] == {k: json.loads(v) for k, v in o.params.items() if k != "ClientToken"}
               for t, o in zip(theirs, ours))
    if same != len(ours) or len(theirs) != len(ours):
        raise AssertionError(f"the pandas + jinja2 reference made different jobs: {same} of {len(ours)} equal")
    return f"the same five parameters as the plan for all {same:,} jobs (compared after json.loads)"
