"""One measured step in a fresh process: ``python -m bench.plan_child MODE PATH``.

MODE ``plan``: ``read_sheet`` + ``plan_campaign`` (what ``sheet2video plan`` does, in-process, no
output written); ``pandas``: ``pandas.read_excel`` (its default engine, openpyxl) / ``pandas.read_csv``
of the same file; ``pandas-calamine``: ``pandas.read_excel(engine="calamine")``; ``pandas-jinja``:
the script a user would write instead of the planner (bench/pandas_jinja.py). Imports (also the
ones the planner makes on first use) and template loading happen before the clock on every side. Prints JSON: seconds (wall and this process's CPU, every thread), peak RSS of this process in MB
(``VmHWM``, see ``_peak_mb``: interpreter + libraries + the work) and the RSS
before the work began, so the work's own share can be told.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path


def _rss_mb() -> float:
    with open("/proc/self/statm", encoding="ascii") as handle:
        pages = int(handle.read().split()[1])
    import os

    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def _peak_mb() -> float:
    """This process's peak RSS: ``VmHWM`` of /proc/self/status (Linux). ``getrusage(RUSAGE_SELF)
    .ru_maxrss`` is the same high-water mark where it is right, but on Linux it survives fork+exec,
    so a child started by a bigger parent reports the parent's peak — measured here: both sides
    showed exactly the bench process's 106.6 MB. ``ru_maxrss`` is kept as a fallback elsewhere."""
    try:
        with open("/proc/self/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(mode: str, path: str) -> dict:
    sheet_path = Path(path)
    import openpyxl  # noqa: F401  (imported on both sides before the clock)
    import python_calamine  # noqa: F401

    if mode == "plan":
        import sheet2video.engine.compose.transitions  # noqa: F401  (imported by the checks on first use)
        import sheet2video.engine.text.fonts  # noqa: F401
        import sheet2video.engine.speech.voices  # noqa: F401
        from sheet2video.plan.campaign import plan_campaign
        from sheet2video.sheets.read import read_sheet
        from sheet2video.plan.templating import load_template_set

        template_set = load_template_set("script")
        before = _rss_mb()
        start, cpu = time.perf_counter(), time.process_time()
        sheet = read_sheet(sheet_path)
        read_seconds = time.perf_counter() - start
        planned = plan_campaign(sheet, template_set)
        seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu
        count = len(planned)
        extra = {"read_sheet_seconds": read_seconds}
    elif mode in ("pandas", "pandas-calamine"):
        import pandas

        # the engine is named: pandas warns that its default for xlsx will become calamine, and the
        # reference must not change meaning with the pandas version (openpyxl is today's default)
        engine = "calamine" if mode == "pandas-calamine" else "openpyxl"
        before = _rss_mb()
        start, cpu = time.perf_counter(), time.process_time()
        if sheet_path.suffix == ".xlsx":
            frame = pandas.read_excel(sheet_path, engine=engine)
        else:
            frame = pandas.read_csv(sheet_path)
        seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu
        count = len(frame)
        extra = {}
    elif mode == "pandas-jinja":
        from bench.pandas_jinja import load_templates, plan

        templates = load_templates()
        before = _rss_mb()
        start, cpu = time.perf_counter(), time.process_time()
        count = len(plan(sheet_path, templates))
        seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu
        extra = {}
    elif mode == "profile":
        return profile(sheet_path)
    else:
        raise SystemExit(f"unknown mode {mode!r}")
    peak = _peak_mb()
    return {"seconds": seconds, "cpu_seconds": cpu_seconds, "peak_mb": peak, "rss_before_mb": before, "rows": count,
            **extra}


def profile(sheet_path: Path, rows: int = 2000) -> dict:
    """Where plan_campaign spends its time: cProfile over the first ``rows`` rows, cumulative
    seconds of the main steps as shares of the whole."""
    import cProfile
    import pstats

    from sheet2video.plan.campaign import plan_campaign
    from sheet2video.sheets.read import read_sheet
    from sheet2video.plan.templating import load_template_set

    import sheet2video.engine.compose.transitions  # noqa: F401  (as in mode plan: imports are not the plan's time)
    import sheet2video.engine.text.fonts  # noqa: F401
    import sheet2video.engine.speech.voices  # noqa: F401

    template_set = load_template_set("script")
    sheet = read_sheet(sheet_path)
    sheet.rows = sheet.rows[:rows]
    profiler = cProfile.Profile()
    profiler.enable()
    plan_campaign(sheet, template_set)
    profiler.disable()
    stats = pstats.Stats(profiler).stats  # {(file, line, func): (cc, nc, tt, ct, callers)}
    total = sum(v[2] for v in stats.values())  # own time of every function = the whole
    wanted = {
        "templates (Jinja, 5 per job)": ("templating.py", "render"),
        "validation (check_params: pydantic models + near-miss key checks)": ("checks.py", "check_params"),
        "near-miss key checks (inside validation)": ("checks.py", "_near_misses"),
        "content hash + canonical JSON": ("campaign.py", "canonical_json"),
    }
    shares = {}
    for label, (file, func) in wanted.items():
        cum = sum(v[3] for k, v in stats.items() if k[0].endswith(file) and k[2] == func)
        shares[label] = round(cum / total, 3) if total else None
    return {"rows_profiled": rows, "profiled_seconds": round(total, 3), "share_of_plan_time": shares}


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], sys.argv[2])))
