"""Rendering benchmarks: the engine against a hand-written FFmpeg command, against MoviePy, and a
20-output batch against 20 single renders."""

from __future__ import annotations

import dataclasses
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

from bench import engine_util, handwritten
from bench.common import WORK, Result, log, plan_sheet_tasks, stats, timed
from bench.media import small_media, typical_media, typical_row, write_csv


def engine_defaults() -> dict:
    """The engine's own defaults (EngineConfig) for what a render is given: threads, preset, workers."""
    from sheet2video.engine.api.server import EngineConfig

    out = {}
    for f in dataclasses.fields(EngineConfig):
        if f.name in ("threads", "preset", "workers"):
            out[f.name] = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
    return out


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _cpu_and_wall(fn) -> tuple[float, float]:
    cpu = _children_cpu()
    wall = timed(fn)
    return wall, _children_cpu() - cpu


def _probe_summary(path: str) -> dict:
    from sheet2video.engine.media.probe import probe

    info = probe(path)
    return {"duration": round(info.duration, 3), "size": f"{info.width}x{info.height}", "fps": info.fps,
            "audio": info.has_audio}


# MoviePy takes ~50 s for the whole 15 s composition here (three repetitions fit the 15-minute run);
# BENCH_MOVIEPY_SECONDS=7.5 measures a shorter cut on both sides, for a quicker look.
MOVIEPY_SECONDS = float(os.environ.get("BENCH_MOVIEPY_SECONDS", "15"))


def typical_task(work: Path):
    media = WORK / "media-typical"
    typical_media(media)
    sheet = write_csv(work / "typical.csv", [typical_row()])
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


def render_benchmarks(reps: int = 3, moviepy_reps: int = 3) -> list[Result]:
    """``render_vs_ffmpeg`` (``reps`` pairs) and ``moviepy_vs_render`` (``moviepy_reps`` pairs)."""
    from sheet2video.engine.render import render

    work = WORK / "render"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    task = typical_task(work)
    short = cut(task, MOVIEPY_SECONDS, str(work / "out" / "typical-short.mp4"))
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

    def moviepy_render() -> float:
        proc = subprocess.run([sys.executable, "-m", "bench.moviepy_comp", str(task_json), moviepy_out, preset],
                              capture_output=True, text=True, env=env, timeout=900)
        if proc.returncode != 0:
            raise RuntimeError(f"MoviePy failed: {proc.stderr[-2000:]}")
        return json.loads(proc.stdout.strip().splitlines()[-1])["seconds"]

    engine_render()  # warm the page cache and the font / probe caches on both sides
    hand_render()
    engine_render_short()
    ffmpeg_ratios, cpu_ratios, engine_walls, hand_walls = [], [], [], []
    mp_ratios, mp_walls, mp_engine = [], [], []
    for rep in range(max(reps, moviepy_reps)):
        if rep < reps:
            # alternate the order (ABBA…) so a drift in machine load does not favour one side
            if rep % 2 == 0:
                ew, ec = _cpu_and_wall(engine_render)
                hw, hc = _cpu_and_wall(hand_render)
            else:
                hw, hc = _cpu_and_wall(hand_render)
                ew, ec = _cpu_and_wall(engine_render)
            engine_walls.append(ew)
            hand_walls.append(hw)
            ffmpeg_ratios.append(ew / hw)
            cpu_ratios.append(ec / hc if hc else float("nan"))
            log(f"render_vs_ffmpeg rep {rep + 1}: engine {ew:.2f} s (cpu {ec:.1f} s), hand-written {hw:.2f} s "
                f"(cpu {hc:.1f} s) → {ew / hw:.3f}")
        if rep < moviepy_reps:
            ew = timed(engine_render_short)
            mw = moviepy_render()
            mp_walls.append(mw)
            mp_engine.append(ew)
            mp_ratios.append(mw / ew)
            log(f"moviepy_vs_render rep {rep + 1}: MoviePy {mw:.2f} s, engine {ew:.2f} s → {mw / ew:.2f}")

    common = {
        "job": f"{task.width}x{task.height}, {task.duration:g} s, 25 fps, {len(task.shots)} shots from 3 media "
               f"groups ({', '.join(Path(s.path).name for s in task.shots)}), a 2-line title, espeak-ng speech "
               f"(cached), background music ducked under the speech, libx264 preset {preset} CRF {task.crf}, "
               f"AAC 128k, +faststart",
        "engine_threads": threads or "auto (FFmpeg default)",
    }
    results = [
        Result(
            "render_vs_ffmpeg", "<= 1.10", ffmpeg_ratios,
            detail={
                **common,
                "engine_seconds": stats(engine_walls),
                "handwritten_seconds": stats(hand_walls),
                "cpu_ratio": stats(cpu_ratios),
                "engine_output": _probe_summary(task.output),
                "handwritten_output": _probe_summary(hand_out),
                "measured": "wall time of sheet2video.engine.render.render(task) (input checks, filtergraph file, "
                            "FFmpeg) / wall time of the hand-written FFmpeg command in bench/handwritten.py; "
                            "order alternated each repetition; cpu_ratio = user+sys CPU of the children",
            },
        ),
        Result(
            "moviepy_vs_render", ">= 5", mp_ratios,
            detail={
                **common,
                "moviepy_seconds": stats(mp_walls),
                "engine_seconds": stats(mp_engine),
                "moviepy_output": _probe_summary(moviepy_out),
                "engine_output": _probe_summary(short.output),
                "measured": f"MoviePy 2 (bench/moviepy_comp.py, separate process, clip building + write_videofile, "
                            f"imports excluded) / engine render() of the same task"
                            + (f", both cut to {MOVIEPY_SECONDS:g} s (BENCH_MOVIEPY_SECONDS) — same shots, title, "
                               "speech and music, shorter" if MOVIEPY_SECONDS < task.duration
                               else f", the whole {task.duration:g} s composition"),
            },
        ),
    ]
    return results


# ------------------------------------------------------------------------------------------------
# batch_vs_single


BATCH = 20
# (label, workers, threads per render): what the engine can be told. The first is the engine's default.
DEFAULT = "engine default: workers=2 (CPU count), FFmpeg's own threads"
CONFIGS = [
    (DEFAULT, None, None),
    ("workers=2, threads=1 (one thread per render)", None, 1),
    ("workers=1, FFmpeg's own threads (one render at a time)", 1, None),
]


def batch_benchmark(reps: int = 3) -> list[Result]:
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
    configs = [c[0] for c in CONFIGS]
    singles: list[float] = []
    batches: dict[str, list[float]] = {c: [] for c in configs}
    singles_for: dict[str, list[float]] = {c: [] for c in configs}
    cpus: dict[str, list[float]] = {c: [] for c in configs}
    with engine_util.engine(work / "data-single", media, workers=1, threads=None) as (_, url, key, secret):
        single_client = engine_util.client(url, key, secret)
        engine_util.run_job(single_client, single_params)  # warm: speech, probes, page cache
        engines = {}
        try:
            for n, (label, workers, threads) in enumerate(CONFIGS):
                config = {"threads": threads}
                if workers is not None:
                    config["workers"] = workers
                ctx = engine_util.engine(work / f"data-{n}", media, **config)
                eng, u, k, s = ctx.__enter__()
                engines[label] = (ctx, engine_util.client(u, k, s),
                                  f"workers={eng.runner.executor.workers}, threads={threads or 'auto'}")
                engine_util.run_job(engines[label][1], single_params)  # warm this engine's planner caches
            def single() -> float:
                return statistics.median(engine_util.run_job(single_client, single_params)[0] for _ in range(2))

            for rep in range(reps):
                # single, batch A, single, batch B, single, …: each batch is compared with the mean of the
                # singles measured right before and right after it, so load drifting in between cancels
                before = single()
                singles.append(before)
                for label in (configs if rep % 2 == 0 else configs[::-1]):
                    cpu0 = _children_cpu()
                    wall = engine_util.run_job(engines[label][1], batch_params)[0]
                    cpus[label].append((_children_cpu() - cpu0) / BATCH)
                    after = single()
                    one = (before + after) / 2
                    batches[label].append(wall)
                    singles_for[label].append(one)
                    singles.append(after)
                    log(f"batch_vs_single rep {rep + 1}: {engines[label][2]}: {BATCH} outputs "
                        f"{wall:.2f} s vs 20 × {one:.3f} s → {wall / (BATCH * one):.3f}")
                    before = after
        finally:
            for ctx, cl, _ in engines.values():
                cl.close()
                ctx.__exit__(None, None, None)
            single_client.close()
    default_config = DEFAULT

    def ratios(c) -> list[float]:
        return [b / (BATCH * s) for b, s in zip(batches[c], singles_for[c])]

    tried = {
        c: {
            "ratio": stats(ratios(c)), "batch_seconds": stats(batches[c]),
            "seconds_per_output": round(statistics.median(batches[c]) / BATCH, 3),
            "ffmpeg_cpu_seconds_per_output": stats(cpus[c]),
        }
        for c in configs
    }
    best = min(configs, key=lambda c: statistics.median(ratios(c)))
    return [Result(
        "batch_vs_single", "<= 1.0", ratios(default_config),
        detail={
            "outputs": f"{BATCH} outputs of 360x640, 5 s each (3 groups, title, speech, music), one Count={BATCH} job",
            "engine_config": f"{DEFAULT} (EngineConfig workers={defaults['workers']}, threads={defaults['threads']})",
            "single_seconds": stats(singles),
            "single": "one Count=1 job alone on an engine with workers=1 and FFmpeg's own threading (the fastest "
                      "way to make one video), submit → Finished over loopback; measured (median of 2) right before "
                      "and right after every batch, the batch compared with their mean",
            "batch": "submit → Finished of the Count=20 job over loopback (planning, renders, store updates)",
            "configurations_tried": tried,
            "best_configuration": best,
        },
    )]
