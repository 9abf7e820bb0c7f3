"""``python -m bench [--only NAME,...] [--quick]``: run the benchmarks, write results.json and README.md.

``--only`` runs some groups and merges their results into the existing results.json (``campaign``,
the 50-row campaign, ~25 min, runs only when named: ``make bench-campaign``); ``--quick`` does one
repetition each: a smoke test that the benchmarks still run, not a measurement, and gives no verdict.

A figure whose repetitions scatter more than 10 % (IQR ÷ median) is run again, its group's
repetitions added to the first, at most twice and while the run's time budget lasts; if it stays
that wide it is reported as "noisy", which never counts as met.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
import traceback

from bench.common import BENCH, NOISE_LIMIT, ROOT, WORK, Result, log, machine

GROUPS = ("render", "look", "batch", "plan", "probe", "qps", "get", "tts", "storage", "farm", "shield", "beats", "edit", "write")
ON_REQUEST = ("campaign",)  # not in a plain `python -m bench`: minutes of rendering of their own
RERUNS = 2                  # extra rounds for a group with a noisy figure
RUN_LIMIT_S = 14 * 60       # a re-run starts only if it and the groups still to run fit in this
RETIRED = {"plan_csv_vs_pandas"}
ORDER = ["render_vs_ffmpeg", "moviepy_vs_render", "look_vs_plain", "look_vs_ffmpeg", "loudness_vs_plain",
         "karaoke_vs_plain_captions", "batch_vs_single", "plan_vs_pandas", "plan_peak_mb", "plan_csv_vs_pandas_jinja",
         "plan_csv_peak_mb", "probe_cached_vs_plain", "probe_cold_vs_plain", "submit_qps_ratio", "get_p99_ms",
         "get_p99_under_load_ms", "serve_rss_above_idle_mb", "tts_rtf_piper", "tts_rtf_espeak", "upload_vs_boto3",
         "upload_rerun_vs_first", "farm_vs_local", "farm_recovery_s", "beats_f_measure", "beats_seconds_10min",
         "edit_plan_cached_vs_off", "write_back_10k_vs_openpyxl", "campaign_videos_per_cpu_minute",
         "campaign_wall_minutes", "campaign_farm_videos_per_cpu_minute", "campaign_farm_wall_minutes",
         "campaign_first_preview_s"]  # replaced by plan_csv_vs_pandas_jinja: not carried over from an older results.json


# group → (module, function): each takes ``reps`` (its own default when not given) and returns its results
_MEASURES = {
    "render": ("bench.render_bench", "render_benchmarks"),
    "qps": ("bench.api_bench", "submit_qps_benchmarks"),
    "get": ("bench.api_bench", "get_latency_benchmarks"),
    "tts": ("bench.tts_bench", "tts_benchmarks"),
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
    "campaign": ("bench.campaign_bench", "campaign_benchmarks"),
}


def _run_group(group: str, reps: int | None) -> list[Result]:
    module, function = _MEASURES[group]
    measure = getattr(importlib.import_module(module), function)
    return measure(reps=reps) if reps else measure()  # each group's own default repetitions


def _measure_group(group: str, reps: int | None, started: float, still_to_run: float) -> list[Result]:
    """The group's figures; a noisy one has the group run again (bounded), repetitions pooled.
    ``still_to_run``: seconds the groups after this one took last time."""
    t0 = time.monotonic()
    results = _run_group(group, reps)
    took = time.monotonic() - t0
    for again in range(RERUNS):
        noisy = [r.name for r in results if r.noisy]
        if not noisy or reps == 1:
            break
        if time.monotonic() - started + took + still_to_run > RUN_LIMIT_S:
            log(f"{group}: {', '.join(noisy)} noisy; measuring again would take the run past "
                f"{RUN_LIMIT_S // 60} min")
            break
        log(f"{group}: {', '.join(noisy)} scattered over {NOISE_LIMIT:.0%}: measuring again ({again + 1}/{RERUNS})")
        by_name = {r.name: r for r in _run_group(group, reps)}
        for r in results:
            if r.name in by_name:
                r.absorb(by_name[r.name])
    for r in results:
        r.quick = reps == 1
    return results


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--only", help=f"comma-separated groups: {', '.join(GROUPS)}")
    parser.add_argument("--quick", action="store_true", help="one repetition each (smoke test only)")
    parser.add_argument("--compare", nargs=2, metavar=("EARLIER", "LATER"),
                        help="compare two runs' results.json (every run keeps a copy in bench/work/runs/): "
                             "figures side by side, exit 1 if a verdict differs")
    args = parser.parse_args(argv)
    if args.compare:
        from bench.report import compare

        return compare(*(json.loads(open(p, encoding="utf-8").read()) for p in args.compare))
    groups = [g.strip() for g in args.only.split(",")] if args.only else list(GROUPS)
    unknown = [g for g in groups if g not in GROUPS + ON_REQUEST]
    if unknown:
        parser.error(f"unknown group(s) {', '.join(unknown)}; choose from {', '.join(GROUPS + ON_REQUEST)}")
    reps = 1 if args.quick else None

    started = time.monotonic()
    WORK.mkdir(parents=True, exist_ok=True)
    try:  # how long each group took last time: whether a re-run still fits
        last = json.loads((BENCH / "results.json").read_text()).get("seconds_per_group", {})
    except (OSError, ValueError):
        last = {}
    results: list[dict] = []
    failures: list[str] = []
    timings: dict[str, float] = {}
    for n, group in enumerate(groups):
        log(f"— {group} —")
        t0 = time.monotonic()
        still_to_run = sum(last.get(g, 60.0) for g in groups[n + 1:])
        try:
            results += [{**r.to_dict(), "group": group}
                        for r in _measure_group(group, reps, started, still_to_run)]
        except Exception as error:  # one broken benchmark must not lose the others' figures
            traceback.print_exc()
            failures.append(f"{group}: {type(error).__name__}: {error}")
        timings[group] = round(time.monotonic() - t0, 1)
        log(f"{group} took {timings[group]:.0f} s")
    total = time.monotonic() - started

    stamp = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    for r in results:
        r["measured"] = stamp
    # a smoke run never replaces the measurements: it goes to bench/work/
    path = WORK / "results-quick.json" if args.quick else BENCH / "results.json"
    previous = {}
    if path.exists():
        try:
            previous = json.loads(path.read_text())
        except (OSError, ValueError):
            previous = {}
    if previous:
        # --only merges into the last results; a whole run keeps the figures of the groups it does
        # not run (the campaign), measured when they were last asked for
        names = {r["name"] for r in results}
        kept = [r for r in previous.get("results", []) if r["name"] not in names | RETIRED
                and (args.only or r.get("group") in ON_REQUEST)]
        results = kept + results
        timings = {**{g: s for g, s in previous.get("seconds_per_group", {}).items()
                      if args.only or g in ON_REQUEST}, **timings}
    results.sort(key=lambda r: ORDER.index(r["name"]) if r["name"] in ORDER else len(ORDER))
    doc = {
        "machine": machine(),
        "results": results,
        "seconds_per_group": timings,
        # the length of a plain `make bench`: the groups it runs
        "total_seconds": round(sum(v for k, v in timings.items() if k in GROUPS), 1),
        "quick": bool(args.quick),
        "generated": stamp,
    }
    if failures:
        doc["failures"] = failures
    path.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    if not args.quick:
        from bench.report import write_readme, write_table_into

        runs = WORK / "runs"
        runs.mkdir(parents=True, exist_ok=True)
        (runs / f"{time.strftime('%Y%m%d-%H%M%S')}.json").write_text(path.read_text())  # for --compare
        write_readme(doc, BENCH / "README.md")
        write_table_into(doc, ROOT / "README.md")
        log(f"wrote {path}, bench/README.md and the README's table; {total:.0f} s (a copy in {runs})")
    else:
        log(f"SMOKE TEST, NOT A MEASUREMENT: wrote {path} only; {total:.0f} s")
    for r in results:
        spread_text = "" if r["detail"].get("spread") is None else f"±{r['detail']['spread']:.0%}"
        log(f"{r['name']:<28} {r['ratio']:>10.3f} {spread_text:>5} ({r['detail'].get('basis', 'wall')})  "
            f"target {r['target']:<8} {r['verdict'].upper() if r['verdict'] != 'met' else 'met'}")
    if failures:
        for f in failures:
            log(f"FAILED {f}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
