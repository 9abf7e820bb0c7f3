"""Shared pieces: paths, wall and CPU timing, interleaved repetitions, ratio statistics and verdicts,
planning a sheet row into RenderTasks."""

from __future__ import annotations

import gc
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
WORK = BENCH / "work"


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def timed(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


_TICKS = os.sysconf("SC_CLK_TCK")


def _proc_stats() -> dict[int, tuple[int, float]]:
    """pid → (parent pid, CPU seconds of it and its reaped children) for every process."""
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile: its CPU went to whoever reaped it
        table[int(entry)] = (int(fields[1]), sum(int(x) for x in fields[11:15]) / _TICKS)  # utime stime cutime cstime
    return table


def cpu_seconds(pids: Iterable[int] = ()) -> float:
    """User + system CPU seconds spent so far by this process (every thread: our Python, an
    in-process engine), its reaped children (FFmpeg, MoviePy, planning children) and the process
    trees of ``pids`` (a ``serve``, a farm worker with its pool processes and their FFmpeg). A
    process that ends between two readings moves its CPU into its parent's count, so a difference
    of two readings counts it once."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    total = own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime
    roots = set(pids)
    if roots:
        table = _proc_stats()
        kids: dict[int, list[int]] = {}
        for pid, (parent, _) in table.items():
            kids.setdefault(parent, []).append(pid)
        todo = [p for p in roots if p in table]
        while todo:
            pid = todo.pop()
            total += table[pid][1]
            todo += kids.get(pid, [])
    return total


@dataclass(frozen=True)
class Sample:
    """One measured run: wall seconds and CPU seconds (see ``cpu_seconds``)."""

    wall: float
    cpu: float


def measure(fn: Callable[[], Any], pids: Iterable[int] = ()) -> Sample:
    pids = tuple(pids)
    gc.collect()  # every run starts from the same heap: a collection left over from the last one is not its cost
    cpu, start = cpu_seconds(pids), time.perf_counter()
    fn()
    wall = time.perf_counter() - start
    return Sample(wall, cpu_seconds(pids) - cpu)


def interleaved(runs: dict[str, Callable[[], Any]], reps: int, pids: Iterable[int] = (),
                on_rep: Callable[[int, dict[str, Sample]], None] | None = None) -> list[dict[str, Sample]]:
    """``reps`` rounds, each running every callable once, the order reversed every other round
    (A B, B A, A B …; A B C, C B A …) so a drift in the machine's load favours no side."""
    names, rounds = list(runs), []
    for rep in range(reps):
        order = names if rep % 2 == 0 else names[::-1]
        samples = {name: measure(runs[name], pids) for name in order}
        rounds.append({name: samples[name] for name in names})
        if on_rep:
            on_rep(rep, rounds[-1])
    return rounds


def ratios(rounds: list[dict[str, Sample]], subject: str, reference: str, cpu: bool = False) -> list[float]:
    """subject ÷ reference per round, in wall or CPU time."""
    pick = (lambda s: s.cpu) if cpu else (lambda s: s.wall)
    return [pick(r[subject]) / pick(r[reference]) for r in rounds]


NOISE_LIMIT = 0.10  # a figure whose spread (IQR ÷ median) is wider than this is re-run, then "noisy"


def spread(values: list[float]) -> float | None:
    """Interquartile range ÷ median: how far the middle half of the repetitions scatter."""
    if len(values) < 2:
        return None
    q1, q2, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return (q3 - q1) / abs(q2) if q2 else None


@dataclass
class Result:
    """One line of results.json.

    ``ratios`` are the wall-time figures, one per repetition; ``cpu_ratios`` the same repetitions in
    CPU time, where the figure is a cost of work. ``basis`` says which of the two the target is judged
    on: CPU where the work is what is compared (a render's cost on a shared machine, where neighbours
    stretch the wall clock), wall where waiting is the point (latency, pacing, parallel overlap).
    ``repeated`` is False for figures whose values are not repetitions of one timing (a score per
    track, a one-off): they have no spread to gate. A target of ``reported`` gives no verdict.
    ``worst`` judges a bound (a recovery time, a memory peak) on its worst repetition instead of the
    median: noise can then only make it look worse, never better, so its spread (still reported)
    does not gate it. ``pooled`` is a percentile taken over every repetition's calls at once (a
    p99 latency): one repetition's p99 rests on a handful of calls, the pooled one on all of them;
    the repetitions' own p99s are the reported spread."""

    name: str
    target: str          # e.g. "<= 1.10", or "reported"
    ratios: list[float]  # wall time, one per repetition
    unit: str = "ratio"  # "ratio" or e.g. "ms" for an absolute figure
    detail: dict[str, Any] = field(default_factory=dict)
    note: str = ""
    also_required: bool | None = None  # a second condition the target includes (e.g. "never above the limit")
    cpu_ratios: list[float] | None = None
    basis: str = "wall"
    repeated: bool = True
    rounds: int = 1      # how many times the figure was run (re-runs of a noisy one add rounds)
    quick: bool = False  # one repetition (--quick): a smoke test, never a verdict
    worst: bool = False
    pooled: float | None = None

    @property
    def judged(self) -> list[float]:
        return self.cpu_ratios if self.basis == "cpu" and self.cpu_ratios else self.ratios

    @property
    def ratio(self) -> float:
        if self.pooled is not None:
            return self.pooled
        if self.worst:
            return max(self.judged) if self.target.startswith("<=") else min(self.judged)
        return statistics.median(self.judged)

    @property
    def spread(self) -> float | None:
        return spread(self.judged) if self.repeated else None

    @property
    def noisy(self) -> bool:
        gated = not self.worst and self.pooled is None
        return gated and self.spread is not None and self.spread > NOISE_LIMIT

    @property
    def target_reached(self) -> bool | None:
        if self.target == "reported":
            return None
        op, value = self.target.split()
        ok = self.ratio <= float(value) if op == "<=" else self.ratio >= float(value)
        return ok and self.also_required is not False

    @property
    def verdict(self) -> str:
        """met / not met / noisy (never met) / reported / smoke (--quick)."""
        if self.quick:
            return "smoke"
        if self.target == "reported":
            return "reported"
        if self.noisy:
            return "noisy"
        return "met" if self.target_reached else "not met"

    @property
    def met(self) -> bool:
        return self.verdict == "met"

    def absorb(self, again: "Result") -> None:
        """Add a re-run's repetitions to this figure (its detail describes the latest round)."""
        self.ratios = self.ratios + again.ratios
        if self.cpu_ratios is not None and again.cpu_ratios is not None:
            self.cpu_ratios = self.cpu_ratios + again.cpu_ratios
        self.also_required = None if self.also_required is None and again.also_required is None else (
            self.also_required is not False and again.also_required is not False)
        self.detail = {**self.detail, **again.detail}
        self.rounds += again.rounds

    def to_dict(self) -> dict[str, Any]:
        detail = {
            "median": round(statistics.median(self.judged), 4),
            "statistic": "pooled" if self.pooled is not None else "worst" if self.worst else "median",
            "min": round(min(self.judged), 4),
            "max": round(max(self.judged), 4),
            "spread": None if self.spread is None else round(self.spread, 4),
            "basis": self.basis,
            "repetitions": len(self.judged),
            "rounds": self.rounds,
            "per_repetition": [round(r, 4) for r in self.judged],
            "wall": {**stats(self.ratios, 4), "spread": _rounded(spread(self.ratios)),
                     "per_repetition": [round(r, 4) for r in self.ratios]},
            "unit": self.unit,
            **self.detail,
        }
        if self.cpu_ratios:
            detail["cpu"] = {**stats(self.cpu_ratios, 4), "spread": _rounded(spread(self.cpu_ratios)),
                             "per_repetition": [round(r, 4) for r in self.cpu_ratios]}
        if self.note:
            detail["note"] = self.note
        return {"name": self.name, "ratio": round(self.ratio, 4), "target": self.target, "met": self.met,
                "verdict": self.verdict, "detail": detail}


def _rounded(x: float | None) -> float | None:
    return None if x is None else round(x, 4)


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
