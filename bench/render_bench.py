"""Rendering benchmarks: the engine against a hand-written FFmpeg command, against MoviePy, and a
6-output batch against 6 single renders."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

from bench import engine_util, handwritten
from bench.common import WORK, Result, Sample, interleaved, log, measure, plan_sheet_tasks, ratios, stats
from bench.media import small_media, typical_media, typical_row, write_csv


def engine_defaults() -> dict:
    """The engine's own defaults (EngineConfig) for what a render is given: threads, preset, workers."""
    from sheet2video.engine.api.server import EngineConfig

    out = {}
    for f in dataclasses.fields(EngineConfig):
        if f.name in ("threads", "preset", "workers"):
            out[f.name] = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
    return out


def _probe_summary(path: str) -> dict:
    from sheet2video.engine.media.probe import probe

    info = probe(path)
    return {"duration": round(info.duration, 3), "size": f"{info.width}x{info.height}", "fps": info.fps,
            "audio": info.has_audio}


# MoviePy takes ~50 s for the whole 1080x1920 composition here: five repetitions would not fit the
# 15-minute run, so both sides make the same composition at 720x1280, cut to its first 3 s (the same
# shots, title, speech and music); BENCH_MOVIEPY_SIZE=1080x1920 BENCH_MOVIEPY_SECONDS=18 measure it whole.
MOVIEPY_SECONDS = float(os.environ.get("BENCH_MOVIEPY_SECONDS", "3"))
MOVIEPY_SIZE = tuple(int(x) for x in os.environ.get("BENCH_MOVIEPY_SIZE", "720x1280").split("x"))


def typical_task(work: Path, width: int = 1080, height: int = 1920):
    media = WORK / "media-typical"
    typical_media(media)
    sheet = write_csv(work / f"typical-{width}x{height}.csv", [typical_row(width=width, height=height)])
    return plan_sheet_tasks(sheet, media, work / "data", work / "out")[0]


def cut(task, seconds: float, output: str):
    """The same task (shots, title, speech, music) cut to its first ``seconds``."""
    from sheet2video.engine.render import RenderTask

    short = RenderTask.from_dict(task.to_dict())
    short.output, short.duration = output, float(seconds)
    kept, clock = [], 0.0
    for shot in short.shots:
        if clock >= seconds - 1e-3:
            break
        if clock + shot.duration > seconds:
            keep = seconds - clock
            shot.source_duration = round(shot.source_duration * keep / shot.duration, 3)
            shot.duration = round(keep, 3)
        kept.append(shot)
        clock += shot.duration
    short.shots = kept
    return short


def render_benchmarks(reps: int = 5) -> list[Result]:
    """``render_vs_ffmpeg`` and ``moviepy_vs_render``, ``reps`` pairs each."""
    from sheet2video.engine.render import render

    work = WORK / "render"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    task = typical_task(work)
    short = cut(typical_task(work, *MOVIEPY_SIZE), MOVIEPY_SECONDS, str(work / "out" / "typical-short.mp4"))
    defaults = engine_defaults()
    threads, preset = defaults["threads"], defaults["preset"]
    hand_out = str(work / "handwritten.mp4")
    task_json = work / "task.json"
    task_json.write_text(json.dumps(short.to_dict()))
    moviepy_out = str(work / "moviepy.mp4")
    log(f"typical job: {task.width}x{task.height}, {task.duration:.1f} s, {len(task.shots)} shots "
        f"({', '.join(Path(s.path).name for s in task.shots)}), preset {preset}, threads {threads or 'auto'}")

    def engine_render() -> None:
        render(task, threads=threads, preset=preset)

    def engine_render_short() -> None:
        render(short, threads=threads, preset=preset)

    def hand_render() -> None:
        handwritten.run(task, hand_out, preset=preset, threads=threads)

    env = dict(os.environ)
    from sheet2video.engine.render import ffmpeg_exe

    env["IMAGEIO_FFMPEG_EXE"] = ffmpeg_exe()
    env["PYTHONPATH"] = str(Path(__file__).resolve().parent.parent) + os.pathsep + env.get("PYTHONPATH", "")

    def moviepy_render() -> Sample:
        proc = subprocess.run([sys.executable, "-m", "bench.moviepy_comp", str(task_json), moviepy_out, preset],
                              capture_output=True, text=True, env=env, timeout=900)
        if proc.returncode != 0:
            raise RuntimeError(f"MoviePy failed: {proc.stderr[-2000:]}")
        told = json.loads(proc.stdout.strip().splitlines()[-1])  # its imports are not counted
        return Sample(told["seconds"], told["cpu_seconds"])

    engine_render()  # warm the page cache and the font / probe caches on both sides
    hand_render()
    engine_render_short()

    def show(name: str, a: str, b: str):
        return lambda rep, s: log(f"{name} rep {rep + 1}: {a} {s[a].wall:.2f} s (cpu {s[a].cpu:.1f} s), {b} "
                                  f"{s[b].wall:.2f} s (cpu {s[b].cpu:.1f} s) → wall {s[a].wall / s[b].wall:.3f}, "
                                  f"cpu {s[a].cpu / s[b].cpu:.3f}")

    hand = interleaved({"engine": engine_render, "hand-written": hand_render}, reps,
                       on_rep=show("render_vs_ffmpeg", "engine", "hand-written"))
    mp: list[dict[str, Sample]] = []
    for rep in range(reps):  # MoviePy reports its own times (imports left out)
        order = ("engine", "MoviePy") if rep % 2 == 0 else ("MoviePy", "engine")
        got = {name: measure(engine_render_short) if name == "engine" else moviepy_render() for name in order}
        mp.append(got)
        show("moviepy_vs_render", "MoviePy", "engine")(rep, got)

    common = {
        "job": f"{task.width}x{task.height}, {task.duration:g} s, 25 fps, {len(task.shots)} shots from 3 media "
               f"groups ({', '.join(Path(s.path).name for s in task.shots)}), a 2-line title, espeak-ng speech "
               f"(cached), background music ducked under the speech, libx264 preset {preset} CRF {task.crf}, "
               f"AAC 128k, +faststart",
        "engine_threads": threads or "auto (FFmpeg default)",
    }
    results = [
        Result(
            "render_vs_ffmpeg", "<= 1.10", ratios(hand, "engine", "hand-written"),
            cpu_ratios=ratios(hand, "engine", "hand-written", cpu=True), basis="cpu",
            detail={
                **common,
                "engine_seconds": stats([s["engine"].wall for s in hand]),
                "handwritten_seconds": stats([s["hand-written"].wall for s in hand]),
                "engine_output": _probe_summary(task.output),
                "handwritten_output": _probe_summary(hand_out),
                "measured": "wall time of sheet2video.engine.render.render(task) (input checks, filtergraph file, "
                            "FFmpeg) ÷ the hand-written FFmpeg command in bench/handwritten.py, in CPU time "
                            "(our process and its FFmpeg) and in wall time; order alternated each repetition",
            },
        ),
        Result(
            "moviepy_vs_render", ">= 5", ratios(mp, "MoviePy", "engine"),
            cpu_ratios=ratios(mp, "MoviePy", "engine", cpu=True), basis="cpu",
            detail={
                **common,
                "moviepy_seconds": stats([s["MoviePy"].wall for s in mp]),
                "engine_seconds": stats([s["engine"].wall for s in mp]),
                "moviepy_output": _probe_summary(moviepy_out),
                "engine_output": _probe_summary(short.output),
                "measured": "MoviePy 2 (bench/moviepy_comp.py, separate process, clip building + write_videofile, "
                            "imports excluded) / engine render() of the same task"
                            + f", both at {short.width}x{short.height}"
                            + (f", cut to {MOVIEPY_SECONDS:g} s (BENCH_MOVIEPY_SECONDS) — same shots, title, "
                               "speech and music, shorter" if MOVIEPY_SECONDS < task.duration
                               else f", the whole {task.duration:g} s composition"),
            },
        ),
    ]
    return results


# ------------------------------------------------------------------------------------------------
# batch_vs_single


BATCH = 6
# (label, workers, threads per render): what the engine can be told. The first is the engine's default,
# the only one measured unless BENCH_BATCH_CONFIGS=all (the others answered the question once, below).
DEFAULT = "engine default: workers=2 (CPU count), FFmpeg's own threads"
CONFIGS = [
    (DEFAULT, None, None),
    ("workers=2, threads=1 (one thread per render)", None, 1),
    ("workers=1, FFmpeg's own threads (one render at a time)", 1, None),
]


def _mean(a: Sample, b: Sample) -> Sample:
    return Sample((a.wall + b.wall) / 2, (a.cpu + b.cpu) / 2)


def batch_benchmark(reps: int = 5) -> list[Result]:
    from sheet2video.plan.campaign import plan_campaign
    from sheet2video.sheets.read import read_sheet
    from sheet2video.plan.templating import load_template_set

    work = WORK / "batch"
    shutil.rmtree(work, ignore_errors=True)
    media = WORK / "media-small"
    small_media(media)

    def params(count: int, key: str) -> dict[str, str]:
        sheet = write_csv(work / f"{key}.csv", [typical_row(key, count=count, max_duration=5, width=360, height=640)])
        return plan_campaign(read_sheet(sheet), load_template_set("script"))[0].params

    single_params, batch_params = params(1, "single"), params(BATCH, "batch")
    defaults = engine_defaults()
    chosen = CONFIGS if os.environ.get("BENCH_BATCH_CONFIGS") == "all" else CONFIGS[:1]
    configs = [c[0] for c in chosen]
    singles: list[float] = []
    batches: dict[str, list[Sample]] = {c: [] for c in configs}
    singles_for: dict[str, list[Sample]] = {c: [] for c in configs}
    with engine_util.engine(work / "data-single", media, workers=1, threads=None) as (_, url, key, secret):
        single_client = engine_util.client(url, key, secret)
        engine_util.run_job(single_client, single_params)  # warm: speech, probes, page cache
        engines = {}
        try:
            for n, (label, workers, threads) in enumerate(chosen):
                config = {"threads": threads}
                if workers is not None:
                    config["workers"] = workers
                ctx = engine_util.engine(work / f"data-{n}", media, **config)
                eng, u, k, s = ctx.__enter__()
                engines[label] = (ctx, engine_util.client(u, k, s),
                                  f"workers={eng.runner.executor.workers}, threads={threads or 'auto'}")
                engine_util.run_job(engines[label][1], single_params)  # warm this engine's planner caches

            def single() -> Sample:
                two = sorted((measure(lambda: engine_util.run_job(single_client, single_params)) for _ in range(2)),
                             key=lambda x: x.wall)
                return _mean(*two)

            for rep in range(reps):
                # single, batch A, single, batch B, single, …: each batch is compared with the mean of the
                # singles measured right before and right after it, so load drifting in between cancels
                before = single()
                singles.append(before.wall)
                for label in (configs if rep % 2 == 0 else configs[::-1]):
                    batch = measure(lambda: engine_util.run_job(engines[label][1], batch_params))
                    after = single()
                    one = _mean(before, after)
                    batches[label].append(batch)
                    singles_for[label].append(one)
                    singles.append(after.wall)
                    log(f"batch_vs_single rep {rep + 1}: {engines[label][2]}: {BATCH} outputs "
                        f"{batch.wall:.2f} s vs {BATCH} × {one.wall:.3f} s → {batch.wall / (BATCH * one.wall):.3f} "
                        f"(cpu {batch.cpu / (BATCH * one.cpu):.3f})")
                    before = after
        finally:
            for ctx, cl, _ in engines.values():
                cl.close()
                ctx.__exit__(None, None, None)
            single_client.close()

    def per_rep(c, cpu: bool = False) -> list[float]:
        pick = (lambda x: x.cpu) if cpu else (lambda x: x.wall)
        return [pick(b) / (BATCH * pick(s)) for b, s in zip(batches[c], singles_for[c])]

    tried = {
        c: {
            "ratio": stats(per_rep(c)), "cpu_ratio": stats(per_rep(c, cpu=True)),
            "batch_seconds": stats([b.wall for b in batches[c]]),
            "seconds_per_output": round(statistics.median(b.wall for b in batches[c]) / BATCH, 3),
            "cpu_seconds_per_output": stats([b.cpu / BATCH for b in batches[c]]),
        }
        for c in configs
    }
    best = min(configs, key=lambda c: statistics.median(per_rep(c)))
    return [Result(
        "batch_vs_single", "<= 1.0", per_rep(DEFAULT), cpu_ratios=per_rep(DEFAULT, cpu=True), basis="wall",
        detail={
            "outputs": f"{BATCH} outputs of 360x640, 5 s each (3 groups, title, speech, music), one Count={BATCH} job",
            "engine_config": f"{DEFAULT} (EngineConfig workers={defaults['workers']}, threads={defaults['threads']})",
            "single_seconds": stats(singles),
            "single": "one Count=1 job alone on an engine with workers=1 and FFmpeg's own threading (the fastest "
                      "way to make one video), submit → Finished over loopback; measured (mean of 2) right before "
                      "and right after every batch, the batch compared with their mean",
            "batch": f"submit → Finished of the Count={BATCH} job over loopback (planning, renders, store updates)",
            "why_wall": "the figure is the waiting a batch saves by overlapping renders on 2 cores; its CPU "
                        "ratio (the same work either way, ~1) is beside it",
            "configurations_tried": tried,
            "best_configuration": best,
        },
    )]
