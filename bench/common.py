"""Shared pieces: paths, timing, ratio statistics, planning a sheet row into RenderTasks."""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
WORK = BENCH / "work"


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def timed(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


@dataclass
class Result:
    """One line of results.json: the median ratio of ≥ 3 paired repetitions, with min and max."""

    name: str
    target: str          # e.g. "<= 1.10"
    ratios: list[float]  # one per repetition
    unit: str = "ratio"  # "ratio" or e.g. "ms" for an absolute figure
    detail: dict[str, Any] = field(default_factory=dict)
    note: str = ""
    also_required: bool | None = None  # a second condition the target includes (e.g. "never above the limit")

    @property
    def ratio(self) -> float:
        return statistics.median(self.ratios)

    @property
    def met(self) -> bool:
        op, value = self.target.split()
        ok = self.ratio <= float(value) if op == "<=" else self.ratio >= float(value)
        return ok and self.also_required is not False

    def to_dict(self) -> dict[str, Any]:
        detail = {
            "median": round(self.ratio, 4),
            "min": round(min(self.ratios), 4),
            "max": round(max(self.ratios), 4),
            "repetitions": len(self.ratios),
            "per_repetition": [round(r, 4) for r in self.ratios],
            "unit": self.unit,
            **self.detail,
        }
        if self.note:
            detail["note"] = self.note
        return {"name": self.name, "ratio": round(self.ratio, 4), "target": self.target, "met": self.met, "detail": detail}


def stats(values: list[float], digits: int = 3) -> dict[str, float]:
    return {"median": round(statistics.median(values), digits), "min": round(min(values), digits),
            "max": round(max(values), digits)}


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = ""
    try:
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        mem = f", {pages / 2**30:.0f} GiB RAM"
    except (ValueError, OSError):
        pass
    from sheet2video.engine.render import ffmpeg_exe

    try:
        first = subprocess.run([ffmpeg_exe(), "-hide_banner", "-version"], capture_output=True, text=True,
                               timeout=30).stdout.splitlines()[0]
        ff = " ".join(first.split()[:3])
    except (OSError, IndexError, subprocess.SubprocessError):
        ff = "ffmpeg ?"
    return (f"{os.cpu_count()} CPU ({cpu}){mem}; {platform.system()} {platform.release()}; "
            f"Python {platform.python_version()}; {ff} (imageio-ffmpeg)")


def plan_sheet_tasks(sheet_path: Path, media_root: Path, data: Path, outputs: Path):
    """Plan every job of a sheet the way the engine does (sheet → IMS params → RenderTasks).

    Speech is synthesised here (and cached under ``data``), so timing a later ``render()`` of a
    task measures the render alone."""
    from sheet2video.plan.campaign import plan_campaign
    from sheet2video.engine.media.sources import MediaResolver, output_relpath
    from sheet2video.engine.timeline.planner import JobPlanner
    from sheet2video.engine.speech.synthesis import DefaultSynthesizer
    from sheet2video.sheets.read import read_sheet
    from sheet2video.plan.templating import load_template_set

    planner = JobPlanner(MediaResolver(media_root, data / "downloads"), DefaultSynthesizer(data / "speech"))
    tasks = []
    for job in plan_campaign(read_sheet(sheet_path), load_template_set("script")):
        params = {k: job.parsed(k) for k in ("InputConfig", "EditingConfig", "OutputConfig")}
        count = int(params["OutputConfig"].get("Count", 1))
        paths = [str(outputs / output_relpath(params["OutputConfig"]["MediaURL"], i)) for i in range(count)]
        tasks += planner.plan(params, paths)
    return tasks
