"""``python -m bench [--only NAME,...] [--quick]``: run the benchmarks, write results.json and README.md.

``--only`` runs some groups (render, look, batch, plan, probe, qps, get, tts, storage, farm, shield, beats, edit, write) and merges their results into
the existing results.json; ``--quick`` does one repetition each (a smoke test, not a measurement).
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
import traceback

from bench.common import BENCH, WORK, Result, log, machine

GROUPS = ("render", "look", "batch", "plan", "probe", "qps", "get", "tts", "storage", "farm", "shield", "beats", "edit", "write")
RETIRED = {"plan_csv_vs_pandas"}  # replaced by plan_csv_vs_pandas_jinja: not carried over from an older results.json


# group → (module, function) of the groups whose function takes ``reps`` (default 3) and returns its results
_MEASURES = {
    "batch": ("bench.render_bench", "batch_benchmark"),
    "plan": ("bench.plan_bench", "plan_benchmarks"),
    "probe": ("bench.probe_bench", "probe_benchmarks"),
    "look": ("bench.look_bench", "look_benchmarks"),
    "storage": ("bench.storage_bench", "storage_benchmarks"),
    "farm": ("bench.farm_bench", "farm_benchmarks"),
    "shield": ("bench.shield_bench", "shield_benchmarks"),
    "beats": ("bench.beats_bench", "beats_benchmarks"),
    "edit": ("bench.edit_bench", "edit_benchmarks"),
    "write": ("bench.write_bench", "write_benchmarks"),
}


def _run_group(group: str, reps: int | None) -> list[Result]:
    if group == "render":
        from bench.render_bench import render_benchmarks

        return render_benchmarks(reps=reps or 3, moviepy_reps=reps or 3)
    if group == "qps":
        from bench.api_bench import submit_qps

        return [submit_qps(reps=reps or 3)]
    if group == "get":
        from bench.api_bench import get_latency

        return [get_latency(reps=reps or 3)]
    if group == "tts":
        from bench.tts_bench import tts_benchmarks

        return tts_benchmarks(reps=max(reps or 5, 3))
    if group not in _MEASURES:
        raise ValueError(group)
    module, function = _MEASURES[group]
    return getattr(importlib.import_module(module), function)(reps=reps or 3)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--only", help=f"comma-separated groups: {', '.join(GROUPS)}")
    parser.add_argument("--quick", action="store_true", help="one repetition each (smoke test only)")
    args = parser.parse_args(argv)
    groups = [g.strip() for g in args.only.split(",")] if args.only else list(GROUPS)
    unknown = [g for g in groups if g not in GROUPS]
    if unknown:
        parser.error(f"unknown group(s) {', '.join(unknown)}; choose from {', '.join(GROUPS)}")
    reps = 1 if args.quick else None

    started = time.monotonic()
    WORK.mkdir(parents=True, exist_ok=True)
    results: list[dict] = []
    failures: list[str] = []
    timings: dict[str, float] = {}
    for group in groups:
        log(f"— {group} —")
        t0 = time.monotonic()
        try:
            results += [r.to_dict() for r in _run_group(group, reps)]
        except Exception as error:  # one broken benchmark must not lose the others' figures
            traceback.print_exc()
            failures.append(f"{group}: {type(error).__name__}: {error}")
        timings[group] = round(time.monotonic() - t0, 1)
        log(f"{group} took {timings[group]:.0f} s")
    total = time.monotonic() - started

    path = BENCH / "results.json"
    previous = {}
    if args.only and path.exists():
        try:
            previous = json.loads(path.read_text())
        except (OSError, ValueError):
            previous = {}
    if previous:
        names = {r["name"] for r in results}
        results = [r for r in previous.get("results", []) if r["name"] not in names | RETIRED] + results
        timings = {**previous.get("seconds_per_group", {}), **timings}
    order = ["render_vs_ffmpeg", "moviepy_vs_render", "look_vs_plain", "look_vs_ffmpeg", "loudness_vs_plain", "batch_vs_single", "plan_vs_pandas", "plan_peak_mb",
             "plan_csv_vs_pandas_jinja", "plan_csv_peak_mb", "probe_cached_vs_plain", "probe_cold_vs_plain", "submit_qps_ratio", "get_p99_ms", "get_p99_under_load_ms", "serve_rss_above_idle_mb", "tts_rtf_piper", "tts_rtf_espeak",
             "upload_vs_boto3", "upload_rerun_vs_first", "farm_vs_local", "farm_recovery_s", "beats_f_measure",
             "beats_seconds_10min", "edit_plan_cached_vs_off"]
    results.sort(key=lambda r: order.index(r["name"]) if r["name"] in order else len(order))
    doc = {
        "machine": machine(),
        "results": results,
        "seconds_per_group": timings,
        "total_seconds": round(sum(timings.values()), 1) if previous else round(total, 1),
        "quick": bool(args.quick),
        "generated": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    }
    if failures:
        doc["failures"] = failures
    path.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    from bench.report import write_readme

    write_readme(doc, BENCH / "README.md")
    log(f"wrote {path} and bench/README.md; {total:.0f} s")
    for r in results:
        log(f"{r['name']:<20} {r['ratio']:>10.3f}  target {r['target']:<8} {'met' if r['met'] else 'NOT MET'}")
    if failures:
        for f in failures:
            log(f"FAILED {f}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
