"""bench/README.md, generated from results.json by every run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

WHAT = {
    "render_vs_ffmpeg": "engine `render()` of a typical output ÷ a hand-written single FFmpeg command (same inputs, libx264 same preset/CRF, AAC)",
    "moviepy_vs_render": "the typical composition (720×1280, its first 3 s) made with MoviePy 2 ÷ engine `render()`",
    "batch_vs_single": "one 6-output job on the engine ÷ 6 × one output alone (wall: the waiting saved by overlapping renders)",
    "plan_vs_pandas": "`read_sheet` + `plan_campaign` of a 10,000-row xlsx ÷ `pandas.read_excel` (openpyxl, its default engine)",
    "plan_peak_mb": "peak RSS of the process planning the 10,000-row xlsx (MB)",
    "plan_csv_vs_pandas_jinja": "`read_sheet` + `plan_campaign` of a 10,000-row CSV (validation included) ÷ the script a user would write instead: `pandas.read_csv` + plain jinja2 rendering the same five templates per row + `json.loads`",
    "plan_csv_peak_mb": "peak RSS of the process planning the 10,000-row CSV (MB)",
    "probe_cached_vs_plain": "plan of a 500-row sheet naming 50 local files with plan-time media probing, its cache warm ÷ the same plan with `--no-probe`",
    "probe_cold_vs_plain": "the same with the probe cache empty (each file opened and decoded once, 4 threads) ÷ `--no-probe` (the issue sets no target: reported)",
    "submit_qps_ratio": "runner submit rate of 120 jobs at `qps=20` ÷ 20, and never > 20 in any 1 s window",
    "get_p99_ms": "p99 latency of Get with 50 concurrent pollers on loopback (ms)",
    "look_vs_plain": "the typical job (at 540×960, see below) with captions, a fade at every cut and motion on its photo ÷ the same job without them (both with the blurred fit)",
    "look_vs_ffmpeg": "that looked job ÷ the same video typed by hand (whole-stream xfade, zoompan, split/boxblur fit, the same .ass captions)",
    "loudness_vs_plain": "the plain job with loudness gains, music fades and the -1 dBTP limiter ÷ the same job with `loudness` off",
    "tts_rtf_piper": "Piper (joe) synthesis seconds ÷ audio seconds, per new line, model loaded",
    "tts_rtf_espeak": "espeak-ng synthesis seconds ÷ audio seconds, per new line",
    "upload_vs_boto3": "200 MB in 20 files to a loopback S3 server (moto_server) through `ObjectStore.upload_content` (sha256, HEAD, PUT) ÷ boto3's own `upload_file`",
    "upload_rerun_vs_first": "a cloud run's upload phase (CloudMedia: upload + RegisterMediaInfo of those 20 files) run again ÷ the first time",
    "farm_vs_local": "6 outputs (360x640, 5 s) through Redis + 2 `sheet2video worker` × 1 render × 1 thread and a loopback S3 server ÷ the local executor, 2 × 1 × 1",
    "farm_recovery_s": "kill -9 of a worker mid-render → its task running on the other worker (s), Redis visibility timeout at its 3600 s default",
    "beats_f_measure": "beat tracker (engine/media/beats.py): F-measure ±70 ms against the true grid, one value per track — click tracks 60–174 BPM, drum patterns, the demo music; librosa's figures in results.json when it can be run",
    "edit_plan_cached_vs_off": "planning 60 rows (3 groups × 5 clips with scene cuts, voice-over, music) with the shot and beat analysis cached ÷ with it off; the first, analysing run and a restarted planner in the detail",
    "write_back_10k_vs_openpyxl": "`write_back` of job_id + status into every row of a 10,000-row xlsx (worksheet patched in the zip) ÷ openpyxl `load_workbook` + `save` of the same file (how write-back worked before)",
    "beats_seconds_10min": "beat tracker: seconds for 10 min of music (the most it analyses), FFmpeg decode included",
    "karaoke_vs_plain_captions": "the looked job with karaoke captions (a \\k tag per spoken word) ÷ the same job with plain captions",
    "get_p99_under_load_ms": "p99 of a signed Get on `sheet2video serve` (its own process) from 5 pollers while 60 submits arrive at 20/s and render (ms)",
    "serve_rss_above_idle_mb": "`serve`'s peak resident memory above idle while the largest inputs it accepts are probed and rendered (MB)",
    "campaign_videos_per_cpu_minute": "`sheet2video run` of the 50-row campaign (100 videos, 1080×1920, ≤ 15 s, voice-over, music, captions, transitions) on the embedded engine: videos ÷ CPU minutes of the run and its FFmpeg; one run (`make bench-campaign`)",
    "campaign_wall_minutes": "the same run, start to the written sheet (minutes)",
    "campaign_farm_videos_per_cpu_minute": "the same campaign through `serve --farm` and 2 workers: videos ÷ CPU minutes of run, serve and workers (Redis and the S3 stand-in left out)",
    "campaign_farm_wall_minutes": "the same farm run, start to the written sheet (minutes)",
    "campaign_first_preview_s": "`run --preview` of the same 50-row sheet: seconds to the first complete draft (cold speech cache)",
}


SHORT = {
    "render_vs_ffmpeg": "engine render ÷ hand-written FFmpeg command (1080×1920, 17.8 s)",
    "moviepy_vs_render": "MoviePy 2 ÷ engine render (the same composition, 720×1280, 3 s)",
    "look_vs_plain": "captions + a fade at every cut + motion ÷ the same job without them (540×960)",
    "look_vs_ffmpeg": "that looked job ÷ the same video typed by hand (whole-stream xfade, zoompan)",
    "loudness_vs_plain": "loudness gains, fades and limiter ÷ loudness off",
    "karaoke_vs_plain_captions": "karaoke captions ÷ plain captions",
    "batch_vs_single": "one multi-output job ÷ the same outputs one at a time",
    "plan_vs_pandas": "plan of a 10,000-row xlsx ÷ `pandas.read_excel`",
    "plan_peak_mb": "peak memory of that plan",
    "plan_csv_vs_pandas_jinja": "plan of a 10,000-row CSV ÷ the pandas + jinja2 script a user would write",
    "plan_csv_peak_mb": "peak memory of that plan",
    "probe_cached_vs_plain": "plan of 500 rows naming 50 files, probe cache warm ÷ no probing",
    "probe_cold_vs_plain": "the same, cold cache ÷ no probing",
    "submit_qps_ratio": "runner submit rate at `--qps 20` ÷ 20 (never > 20 in a 1 s window)",
    "get_p99_ms": "Get p99, 50 concurrent pollers, loopback",
    "get_p99_under_load_ms": "Get p99 on `serve` while 60 submits render",
    "serve_rss_above_idle_mb": "`serve` memory above idle with the largest inputs",
    "tts_rtf_piper": "speech real-time factor, Piper",
    "tts_rtf_espeak": "speech real-time factor, espeak-ng",
    "upload_vs_boto3": "upload of 200 MB in 20 files ÷ boto3 `upload_file`",
    "upload_rerun_vs_first": "a cloud run's upload phase again ÷ the first time",
    "farm_vs_local": "outputs on a 2-worker farm ÷ the same on 2 local render slots",
    "farm_recovery_s": "worker kill -9 → task running on the other worker",
    "beats_f_measure": "beat tracker F-measure (±70 ms)",
    "beats_seconds_10min": "beat tracker, 10 min of music",
    "edit_plan_cached_vs_off": "plan of 60 rows with shot and beat analysis cached ÷ analysis off",
    "write_back_10k_vs_openpyxl": "write-back into a 10,000-row xlsx ÷ openpyxl load + save",
    "campaign_videos_per_cpu_minute": "50-row campaign (100 videos, 1080×1920, 15 s): videos per CPU-minute",
    "campaign_wall_minutes": "the same campaign, `run` to the written sheet",
    "campaign_farm_videos_per_cpu_minute": "the same campaign on a 2-worker farm: videos per CPU-minute",
    "campaign_farm_wall_minutes": "the same campaign on the farm, wall",
    "campaign_first_preview_s": "`run --preview` of the 50-row sheet: first draft",
}


def _fmt(x: Any) -> str:
    if isinstance(x, float):
        return f"{x:.3f}" if abs(x) < 10 else f"{x:.1f}"
    return str(x)


def _verdict(r: dict) -> str:
    verdict = r.get("verdict") or ("met" if r["met"] else "not met")
    return {"met": "yes", "not met": "**no**", "noisy": "**noisy**", "reported": "", "smoke": "smoke"}.get(verdict, verdict)


def _spread(d: dict) -> str:
    return "" if d.get("spread") is None else f"{d['spread'] * 100:.0f} %"


def _wall(r: dict) -> str:
    """The wall-time median beside a CPU-judged figure."""
    d = r["detail"]
    return _fmt(d["wall"]["median"]) if d.get("basis") == "cpu" and "cpu" in d else ""


def _judged(d: dict) -> str:
    """What the verdict looks at: "CPU, median", "wall, worst of 3" …"""
    basis = {"cpu": "CPU"}.get(d.get("basis", "wall"), d.get("basis", "wall"))
    how = {"worst": f"worst of {d.get('repetitions', '?')}",
           "pooled": f"over all calls of {d.get('repetitions', '?')}"}.get(d.get("statistic"), "median")
    return basis if d.get("spread") is None and d.get("statistic") == "median" else f"{basis}, {how}"


def _table(results: list[dict]) -> list[str]:
    lines = ["| benchmark | judged on | value | spread | wall | target | met | min | max | reps | what |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        d = r["detail"]
        lines.append(f"| `{r['name']}` | {_judged(d)} | {_fmt(r['ratio'])} | {_spread(d)} | {_wall(r)} | "
                     f"{r['target']} | {_verdict(r)} | {_fmt(d['min'])} | {_fmt(d['max'])} | "
                     f"{d.get('repetitions', '')} | {WHAT.get(r['name'], '')} |")
    return lines


README_START, README_END = "<!-- bench table: generated by python -m bench -->", "<!-- end of bench table -->"


def readme_table(doc: dict) -> list[str]:
    """The project README's table: what a user reads, with the machine, the date and the spread."""
    lines = [README_START, "",
             f"Run of {doc.get('generated', '')} on {doc['machine']}; `make bench` took "
             f"{doc['total_seconds'] / 60:.1f} min. *CPU* figures compare user + system CPU time of the processes "
             "doing the work (the machine is shared; the wall-time ratio is beside them), *spread* is the "
             "interquartile range ÷ median of the repetitions (over 10 % after two re-runs: *noisy*, never met); "
             "a bound (a recovery time, a memory peak) is judged on its worst repetition, a p99 latency over "
             "every repetition's calls together.",
             "", "| benchmark | judged on | value | spread | wall | target | met |", "|---|---|---|---|---|---|---|"]
    for r in doc["results"]:
        d = r["detail"]
        when = r.get("measured", doc.get("generated"))
        other_run = f" *(measured {when[:16]})*" if when != doc.get("generated") else ""
        lines.append(f"| {SHORT.get(r['name'], r['name'])}{other_run} | {_judged(d)} | {_fmt(r['ratio'])}"
                     f"{'' if d.get('unit', 'ratio') == 'ratio' else ' ' + d['unit']} | {_spread(d)} | {_wall(r)} | "
                     f"{r['target']} | {_verdict(r)} |")
    return lines + ["", README_END]


def write_table_into(doc: dict, readme: Path) -> None:
    """Replace the table between the markers in the project README (left alone without them)."""
    text = readme.read_text(encoding="utf-8")
    if README_START not in text or README_END not in text:
        return
    head, rest = text.split(README_START, 1)
    tail = rest.split(README_END, 1)[1]
    readme.write_text(head + "\n".join(readme_table(doc)) + tail, encoding="utf-8")


def compare(earlier: dict, later: dict) -> int:
    """Two runs side by side; 1 if any figure's verdict differs."""
    before = {r["name"]: r for r in earlier["results"]}
    print(f"{'figure':<36} {earlier.get('generated', '?'):>30}   {later.get('generated', '?'):>30}   agree")
    differ = 0
    for r in later["results"]:
        a = before.get(r["name"])
        if a is None:
            continue

        def cell(x: dict) -> str:
            d = x["detail"]
            sp = "" if d.get("spread") is None else f" ±{d['spread'] * 100:.0f}%"
            return f"{_fmt(x['ratio'])}{sp} {x.get('verdict', 'met' if x['met'] else 'not met')}"

        same = a.get("verdict") == r.get("verdict")
        differ += not same
        print(f"{r['name']:<36} {cell(a):>30}   {cell(r):>30}   {'yes' if same else 'NO'}")
    print("every verdict agrees" if not differ else f"{differ} verdict(s) differ")
    return 1 if differ else 0


def _why(r: dict) -> list[str]:
    """Why a target was missed, with the run's own numbers."""
    d = r["detail"]
    name = r["name"]
    if name == "plan_csv_vs_pandas_jinja":
        plan, theirs = d["plan_seconds"]["median"], d["pandas_seconds"]["median"]
        prof = d.get("where_plan_time_goes", {}).get("share_of_plan_time", {})
        shares = "; ".join(f"{k} {v * 100:.0f} %" for k, v in prof.items() if v is not None)
        return [f"* **`{name}`** — the plan took {plan:.2f} s, the pandas + jinja2 script {theirs:.2f} s for the "
                f"same jobs; the plan also validates every job against the IMS models, renders in Jinja's sandbox "
                f"and hashes the content for the ClientToken. Where the plan's time goes: {shares}."]
    if name == "plan_vs_pandas":
        plan, read, pandas = d["plan_seconds"]["median"], d["of_which_read_sheet_seconds"]["median"], d["pandas_seconds"]["median"]
        per_row = d["plan_microseconds_per_row"]["median"]
        prof = d.get("where_plan_time_goes", {}).get("share_of_plan_time", {})
        shares = "; ".join(f"{k} {v * 100:.0f} %" for k, v in prof.items() if v is not None)
        budget = 2.0 * pandas
        rest = plan - read
        out = [f"* **`{name}`** — the plan took {plan:.2f} s ({per_row:.0f} µs a row), of which reading the sheet "
               f"{read:.2f} s; the reference read the file in {pandas:.3f} s. Within 2.0 × the plan would have to "
               f"finish in {budget:.2f} s."]
        if prof:
            out.append(f"  Where the plan's time goes (cProfile, first {d['where_plan_time_goes']['rows_profiled']:,} rows): "
                       f"{shares}.")
        out.append(
            f"  Reading took {read:.2f} s (python-calamine) and templating + validation {rest:.2f} s; to meet 2.0 "
            f"those must fit in {max(0.0, budget - read):.2f} s ({max(0.0, budget - read) / 10_000 * 1e6:.0f} µs a row). "
            "See \"Planning speed\" below for what the plan spends per row.")
        return out
    if name == "submit_qps_ratio":
        from sheet2video.run.runner import QPS_MARGIN

        return [
            f"* **`submit_qps_ratio`** — rate {r['ratio']:.3f} × 20/s; most requests in any 1-second window "
            f"{d['max_requests_in_any_1s_window']} (limit 20; per repetition {d['windows_per_repetition']}); the engine "
            f"refused {d['engine_refusals_throttling']}. The runner paces calls {100 * (1 - QPS_MARGIN):.0f} % under `--qps` "
            "with a burst of one (`runner.QPS_MARGIN`, `ratelimit.TokenBucket`): a rate below 0.95 means the "
            "submit loop itself was held up (sheet saves between chunks, a busy shared machine), a window above 20 "
            "a pacing bug.",
        ]
    if r.get("verdict") == "noisy":
        return [f"* **`{name}`** — noisy: its repetitions scatter {d['spread'] * 100:.0f} % (IQR ÷ median) after "
                f"{d.get('rounds', 1)} round(s), {d['repetitions']} repetitions ({d['per_repetition']}); the median "
                f"{_fmt(r['ratio'])} is not trusted either way."]
    return [f"* **`{name}`** — median {_fmt(r['ratio'])} against a target of {r['target']} "
            f"(min {_fmt(d['min'])}, max {_fmt(d['max'])}); see `results.json` for the detail."]


def _batch_section(results: list[dict]) -> list[str]:
    r = next((x for x in results if x["name"] == "batch_vs_single"), None)
    if not r:
        return []
    d = r["detail"]
    lines = ["", "### batch_vs_single: parallel renders vs x264 threads", "",
             f"{d['outputs']}. One output alone: {d['single_seconds']['median']:.3f} s "
             f"(min {d['single_seconds']['min']:.3f}, max {d['single_seconds']['max']:.3f}) — {d['single']}. "
             f"The figure in the table is the engine's default configuration ({d['engine_config']}).", "",
             "| configuration | ratio (median) | min | max | batch seconds (median) | seconds per output | CPU s per output |",
             "|---|---|---|---|---|---|---|"]
    for name, c in d["configurations_tried"].items():
        lines.append(f"| {name} | {c['ratio']['median']:.3f} | {c['ratio']['min']:.3f} | {c['ratio']['max']:.3f} | "
                     f"{c['batch_seconds']['median']:.2f} | {c['seconds_per_output']:.3f} | "
                     f"{c.get('cpu_seconds_per_output', {}).get('median', float('nan')):.3f} |")
    lines += ["", f"Best here: {d['best_configuration']}."]
    return lines


def _plan_section(by: dict) -> list[str]:
    r = by.get("plan_vs_pandas")
    if not r:
        return []
    d = r["detail"]
    plan, read = d["plan_seconds"]["median"], d["of_which_read_sheet_seconds"]["median"]
    prof = d.get("where_plan_time_goes", {}).get("share_of_plan_time", {})
    shares = "; ".join(f"{k} {v * 100:.0f} %" for k, v in prof.items() if v is not None)
    lines = [
        "", "### Planning speed", "",
        f"A 10,000-row workbook is planned in {plan:.1f} s ({d['plan_microseconds_per_row']['median']:.0f} µs a row): "
        f"{read:.2f} s reading, the rest rendering five templates per row, validating them against the IMS models "
        "and hashing the content for the ClientToken."
        + (f" Where that time goes (cProfile, first {d['where_plan_time_goes']['rows_profiled']:,} rows of the CSV): "
           f"{shares}." if shares else ""),
        "",
        "What this benchmark changed in the planner (it stood at 2.70 before, 9.15 s for the plan, 3.12 s of it "
        "reading): the workbook is read with python-calamine (Rust) instead of openpyxl's read-only mode, ~10× "
        "faster with the same values (error cells such as `#REF!`, which calamine reads as blanks, are taken from "
        "the sheet's XML); the row accessors (`row.text(...)` …), the only calls templates make per row, skip the "
        "Jinja sandbox's generic attribute and call checks (everything else still goes through them); the five "
        "templates of a row share one context instead of merging the globals five times; `tojson` writes plain "
        "JSON (no HTML escaping for output that is parsed, never shown); `prune` no longer recurses into leaves.",
        "",
        "What `plan_csv_vs_pandas_jinja` changed (it stood at 1.16–1.44 against the pandas + jinja2 script, "
        "unmeasured by the bench): a template that reads nothing but its row's cells (found in its source by "
        "`sheet2video/plan/template_scan.py`: no other variable, include or random filter, literal column names) is "
        "rendered once per distinct tuple of the cells it reads (`sheet2video/plan/render_memo.py`) — campaign rows "
        "share their style cells, so EditingConfig renders once for the whole sheet here; every job is still "
        "parsed, validated and hashed, a render that reported a bad cell is never kept, and a template whose "
        "renders never repeat stops being memoised after 64 rows. And the sandbox calls the public methods of "
        "plain strings, dicts and lists (`.strip()`, `.get()` …) directly, which its generic checks allow anyway "
        "(`str.format` keeps its sandboxed formatter). The plan of the 10,000-row CSV went from 5.13 s to 2.95 s, "
        "the workbook's from 4.74 s to 2.56 s (medians of three alternated fresh-process runs on the shared machine).",
    ]
    if "ratio_vs_pandas_calamine" in d:
        calamine = d["pandas_calamine_seconds"]["median"]
        lines += [
            "",
            f"For context: pandas warns that its default xlsx engine will become calamine. `pandas.read_excel("
            f"engine=\"calamine\")` reads the same file in {calamine:.3f} s; against that reference the plan is "
            f"{d['ratio_vs_pandas_calamine']['median']:.1f}× — as for CSV: a native reader "
            f"with no per-row Python work ({calamine / 10_000 * 1e6:.0f} µs a row) against five templates and a "
            "validation per row. The benchmark names openpyxl explicitly so its meaning does not change with the "
            "pandas version.",
        ]
    return lines


def _engine_changes(by: dict) -> list[str]:
    return [
        "", "## Engine changes", "",
        "None: every engine figure meets its target with the engine as it is. One change was tried and reverted "
        "while writing the benchmark: `LocalExecutor` giving each render one thread (`-threads 1`) while other "
        "renders share the machine and FFmpeg's own threading to a render alone. In one full run on this machine "
        "the 20-output batch came out at 0.905 with it, 0.923 with FFmpeg's own threads in every render and 0.902 "
        "with one thread always (medians of 3; per-repetition spread ±0.05) — no difference beyond noise, because "
        "FFmpeg 7+ already runs decoders, filtergraph and encoder in threads of their own (a lone 360×640 render "
        "keeps ~1.7 of the 2 cores busy whatever `-threads` says), so what a batch gains is the overlap of two "
        "renders, not the thread split. What matters is `workers=2` against `workers=1` (see the table above).",
    ]


def write_readme(doc: dict, path: Path) -> None:
    results = doc["results"]
    by = {r["name"]: r for r in results}
    lines = [
        "# Benchmarks",
        "",
        "`make bench` (= `.venv/bin/python -m bench`, after `make bench-tools` installs MoviePy) measures the engine and",
        "the planner against a reference run side by side in the same process, and writes `bench/results.json`",
        "and this file. **This file is generated — edit `bench/report.py`, not the text below.**",
        "",
        "Method: every figure is the **median of interleaved repetitions** (subject and reference measured",
        "back to back, the order reversed every other round: A B, B A …; at least five for render figures,",
        "three for the others), because the machines are small (2 cores) and shared. Each figure is taken",
        "in **wall time and in CPU time** (user + system of the processes doing the work: FFmpeg, MoviePy,",
        "our Python, a `serve` or a farm worker). Costs of work are judged on CPU time, which a neighbour",
        "on the machine barely moves; waiting (latency, pacing, parallel overlap) is judged on wall time.",
        "*Spread* is the interquartile range ÷ median of the repetitions. A figure whose spread is over",
        "10 % is measured again (its group, at most twice, repetitions pooled, while the run still fits",
        "14 minutes); if it stays over, it is reported **noisy**, which never counts as met. A bound (a",
        "recovery time, a memory peak) is judged on its **worst** repetition instead: noise can only make",
        "that look worse, so its spread is shown but does not gate it; a p99 latency is taken over every",
        "repetition's calls together (one repetition's p99 rests on a handful of calls). *Reported* is",
        "a figure without a verdict. Inputs are drawn by the engine's own FFmpeg into",
        "`bench/work/` (git-ignored): nothing is downloaded. `python -m bench --compare A B` puts two runs",
        "side by side (every run keeps a copy in `bench/work/runs/`).",
        "",
        "## Latest run",
        "",
        f"Machine: {doc['machine']}.  ",
        f"Generated {doc.get('generated', '')}; whole run {doc['total_seconds']:.0f} s "
        f"({', '.join(f'{k} {v:.0f} s' for k, v in doc.get('seconds_per_group', {}).items())})."
        + (" **Quick mode (one repetition): not a measurement.**" if doc.get("quick") else ""),
        "",
        *_table(results),
    ]
    if doc.get("failures"):
        lines += ["", "Benchmarks that crashed in this run: " + "; ".join(doc["failures"]) + "."]
    missed = [r for r in results if not r["met"]]
    if missed:
        lines += ["", "## Targets not met, and why", ""]
        for r in missed:
            lines += _why(r)
    lines += ["", "## What is measured", ""]
    if "render_vs_ffmpeg" in by:
        d = by["render_vs_ffmpeg"]["detail"]
        lines += [
            f"* **render_vs_ffmpeg** — the typical job output: {d['job']}. Engine: {d['measured']}. "
            f"Engine {d['engine_seconds']['median']:.2f} s vs hand-written {d['handwritten_seconds']['median']:.2f} s "
            f"(medians, wall). The hand-written command is in `bench/handwritten.py` (written by hand, "
            "not by `build_command`): the engine's one-process, one-filtergraph design costs about what FFmpeg "
            "alone costs; the wall-time spread is the shared machine.",
        ]
    if "moviepy_vs_render" in by:
        d = by["moviepy_vs_render"]["detail"]
        lines += [
            f"* **moviepy_vs_render** — {d['measured']}. MoviePy {d['moviepy_seconds']['median']:.1f} s vs engine "
            f"{d['engine_seconds']['median']:.2f} s (medians). MoviePy composites every frame in Python/NumPy "
            "(`bench/moviepy_comp.py`; FFmpeg from imageio-ffmpeg via `IMAGEIO_FFMPEG_EXE`, Pillow title, same "
            "preset/CRF); it has no sidechain compressor, so its music is not ducked (it does slightly less work).",
        ]
    if "batch_vs_single" in by:
        lines += [f"* **batch_vs_single** — {by['batch_vs_single']['detail']['batch']}; single: "
                  f"{by['batch_vs_single']['detail']['single']}. See the configurations below."]
    if "farm_vs_local" in by:
        d = by["farm_vs_local"]["detail"]
        paper = d["campaign_900_outputs_on_paper"]
        lines += [f"* **farm_vs_local** — farm {d['farm_seconds']['median']:.1f} s vs local {d['local_seconds']['median']:.1f} s "
                  f"(medians), {d['farm_overhead_seconds_per_output']:.2f} s of farm overhead per output. On paper, "
                  f"{paper['how']}: 900 outputs take {paper['1_workers_minutes']} min on 1 worker, "
                  f"{paper['4_workers_minutes']} on 4, {paper['16_workers_minutes']} on 16 ({paper['caveats']})."]
    for name in ("plan_vs_pandas", "plan_csv_vs_pandas_jinja"):
        if name in by:
            d = by[name]["detail"]
            lines += [f"* **{name}** — {d['file']}: {d['measured']}. Plan {d['plan_seconds']['median']:.2f} s "
                      f"(read {d['of_which_read_sheet_seconds']['median']:.2f} s), reference "
                      f"{d['pandas_seconds']['median']:.3f} s; peak RSS plan {d['plan_peak_mb']['median']:.0f} MB, "
                      f"reference {d['pandas_peak_mb']['median']:.0f} MB."
                      + (f" The reference makes {d['reference_output']}." if d.get("reference_output") else "")]
    if "plan_csv_vs_pandas_jinja" in by:
        lines += ["  It replaces `plan_csv_vs_pandas` (the plan ÷ `pandas.read_csv` alone), which compared five "
                  "templates and a validation per row with a C parser that only reads, so no planner could come "
                  "within 2× of it (it stood at 124×). The question a user asks is whether the tool costs more than "
                  "the script they would write instead: `bench/pandas_jinja.py` is that script — pandas reads the "
                  "sheet, plain jinja2 renders the shipped `script` templates through the same row accessors, "
                  "`json.loads` parses the five parameters — with no sandbox, no validation, no content hash."]
    for name in ("plan_peak_mb", "plan_csv_peak_mb"):
        if name in by:
            d = by[name]["detail"]
            lines += [f"* **{name}** — {d['measured']} (RSS before planning: {d['rss_before_plan_mb']['median']:.0f} MB)."]
    if "submit_qps_ratio" in by:
        d = by["submit_qps_ratio"]["detail"]
        lines += [f"* **submit_qps_ratio** — {d['measured']}. Most requests in any sliding 1 s window: "
                  f"{d['max_requests_in_any_1s_window']} (submits alone {d['max_submits_in_any_1s_window']}); "
                  f"engine refusals {d['engine_refusals_throttling']}; `run_sheet` took "
                  f"{d['run_sheet_seconds']['median']:.0f} s (the submits, then one status look at all the jobs "
                  "under the same limit)."]
    if "get_p99_ms" in by:
        d = by["get_p99_ms"]["detail"]
        lines += [f"* **get_p99_ms** — {d['measured']}. p50 {d['p50_ms']['median']:.1f} ms, p99 "
                  f"{d['p99_ms']['median']:.1f} ms at {d['requests_per_second']['median']:.0f} requests/s. "
                  + (d.get("saturation_context", "") + "." if d.get("saturation_context") else "")]
    lines += _plan_section(by)
    lines += _batch_section(results)
    lines += _engine_changes(by)
    lines += [
        "",
        "## Running",
        "",
        "```sh",
        "make bench                               # everything but the campaign (< 15 min on 2 cores)",
        "make bench-campaign                      # the 50-row campaign, local and farm (~25 min)",
        "make bench-quick                         # one repetition each: a smoke test, NOT a measurement",
        ".venv/bin/python -m bench --only look    # some groups (merged into results.json)",
        ".venv/bin/python -m bench --compare bench/work/runs/A.json bench/work/runs/B.json",
        "```",
        "",
    ]
    path.write_text("\n".join(lines))
