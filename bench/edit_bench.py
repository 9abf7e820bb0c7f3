"""``edit_plan_cached_vs_off``: planning a 60-row campaign (3 groups × 5 clips with scene cuts, a
voice-over and music, the engine's planner) with the shot and beat analysis cached ÷ the same
rows with the analysis off (``EnableClipDetection: false``, no beats). The first run, which
analyses every clip and song, is in the detail (``first_run_seconds`` and its ratio), as is a run
by a fresh planner that reads the analysis back from its facts folder (an engine restart)."""

from __future__ import annotations

import copy
import shutil
from pathlib import Path

from bench.common import WORK, Result, Sample, interleaved, log, measure, ratios, stats
from bench.media import SPEECH

ROWS = 60
GROUPS, CLIPS = 3, 5


def _material(root: Path) -> list[list[str]]:
    """Clips of 4–8 s with two or three scene cuts each (lavfi test patterns), and a song."""
    from tests.media import ffmpeg, make_clicks

    root.mkdir(parents=True, exist_ok=True)
    groups = []
    for g in range(GROUPS):
        names = []
        for c in range(CLIPS):
            name = f"g{g}c{c}.mp4"
            if not (root / name).exists():
                scenes = [2.0 + (c % 3) * 0.5, 1.5 + g * 0.5, 2.0]
                parts = [f"testsrc2=s=360x640:r=25:d={d},hue=h={60 * k + 20 * c}" for k, d in enumerate(scenes)]
                graph = ";".join(f"{p}[v{k}]" for k, p in enumerate(parts))
                graph += ";" + "".join(f"[v{k}]" for k in range(len(parts))) + f"concat=n={len(parts)}:v=1:a=0[out]"
                ffmpeg("-filter_complex", graph, "-map", "[out]", "-c:v", "libx264", "-preset", "ultrafast",
                       "-pix_fmt", "yuv420p", str(root / name))
            names.append(name)
        groups.append(names)
    if not (root / "song.m4a").exists():
        make_clicks(root / "song.m4a", 112, 40.0)
    return groups


def _rows(groups: list[list[str]], detect: bool) -> list[dict]:
    scripts = [s for s in SPEECH.split("\n") if s.strip()] or [SPEECH]
    rows = []
    for i in range(ROWS):
        inputs = {"MediaGroupArray": [{"GroupName": f"G{g}", "MediaArray": names[i % CLIPS:] + names[:i % CLIPS]}
                                      for g, names in enumerate(groups)],
                  "SpeechTextArray": [f"{scripts[i % len(scripts)]} Store {i % 7}."],
                  "BackgroundMusicArray": ["song.m4a"]}
        rows.append({"InputConfig": inputs,
                     "EditingConfig": {"ProcessConfig": {"EnableClipDetection": detect, "SingleShotDuration": 2}},
                     "OutputConfig": {"MediaURL": "o_{index}.mp4", "Width": 180, "Height": 320}})
    return rows


def _planner(root: Path, facts: Path | None, beats: bool):
    from sheet2video.engine.media.sources import MediaResolver
    from sheet2video.engine.speech.espeak import EspeakSynthesizer
    from sheet2video.engine.timeline.planner import JobPlanner

    planner = JobPlanner(MediaResolver(root, root / "downloads"), EspeakSynthesizer(root / "tts"), facts=facts)
    if not beats:  # the analysis off: no song is analysed (a bench-only switch)
        planner.catalog.beats = lambda path: []
    return planner


def _plan_all(planner, rows: list[dict], out: Path) -> Sample:
    def plan() -> None:
        for i, params in enumerate(rows):
            planner.plan(copy.deepcopy(params), [str(out / f"{i}.mp4")])

    return measure(plan)


def edit_benchmarks(reps: int = 5) -> list[Result]:
    root = WORK / "edit"
    groups = _material(root)
    on_rows, off_rows = _rows(groups, True), _rows(groups, False)
    out = root / "out"
    out.mkdir(exist_ok=True)
    _plan_all(_planner(root, None, False), off_rows[:20], out)  # speech synthesised once, outside the timing
    facts = root / "facts"
    shutil.rmtree(facts, ignore_errors=True)
    off_first = _plan_all(_planner(root, None, False), off_rows, out)
    planner = _planner(root, facts, True)
    first = _plan_all(planner, on_rows, out)  # analyses every clip and the song, once
    restart = _plan_all(_planner(root, facts, True), on_rows, out)  # a new planner: read from the facts folder
    log(f"edit: off {off_first.wall:.2f}s, first (analysing) {first.wall:.2f}s, after a restart {restart.wall:.2f}s")

    def show(rep, s):
        log(f"edit rep {rep + 1}: off {s['off'].wall:.2f}s, cached {s['cached'].wall:.2f}s "
            f"(cpu {s['cached'].cpu / s['off'].cpu:.3f} of off)")

    rounds = interleaved({"off": lambda: _plan_all(_planner(root, None, False), off_rows, out),
                          "cached": lambda: _plan_all(planner, on_rows, out)},  # the analysis in memory
                         reps, on_rep=show)
    detail = {"rows": ROWS, "groups": GROUPS, "clips_per_group": CLIPS,
              "off_seconds": stats([r["off"].wall for r in rounds]),
              "cached_seconds": stats([r["cached"].wall for r in rounds]), "first_run_seconds": round(first.wall, 3),
              "first_run_vs_off": round(first.cpu / off_first.cpu, 3),
              "after_restart_vs_off": round(restart.cpu / off_first.cpu, 3), "ratios_in_detail": "CPU time, once"}
    return [Result("edit_plan_cached_vs_off", "<= 1.2", ratios(rounds, "cached", "off"),
                   cpu_ratios=ratios(rounds, "cached", "off", cpu=True), basis="cpu", detail=detail,
                   note=f"{ROWS} rows planned by the engine's planner: shot and beat analysis cached ÷ off")]
