"""A campaign figure a user feels: a 50-row sheet (BENCH_CAMPAIGN_ROWS) — 3 media groups × 3 clips,
a voice-over per row in the default voice, music, captions, fade transitions, 2 videos of
1080×1920 and at most 15 s per row — through the real ``sheet2video`` command line.

In this order, each on a fresh copy of the sheet with a fresh state folder (``.sheet2video`` next
to it), sharing only the media files: ``run --preview`` (the seconds to the first draft; a cold
speech cache), ``run`` on the embedded engine (videos per CPU minute, wall minutes), then ``run
--endpoint`` against ``serve --farm`` with two ``sheet2video worker`` processes (Redis, the moto
S3 server). One run each: the figures are reported, not judged.
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from bench.common import ROOT, WORK, Result, log, measure
from bench.media import CAMPAIGN_GROUPS, LOOK, TYPICAL_HEADERS, campaign_media, typical_row, write_csv

ROWS = int(os.environ.get("BENCH_CAMPAIGN_ROWS", "50"))
COUNT, MAX_SECONDS, WIDTH, HEIGHT = 2, 15, 1080, 1920
MEDIA = WORK / "media-campaign"
HERE = WORK / "campaign"

PRODUCTS = ["oat latte", "cold brew", "matcha tonic", "chai", "flat white", "mocha", "espresso tonic",
            "hazelnut cappuccino", "iced americano", "caramel macchiato"]
PERKS = ["Made fresh every morning with beans roasted this week.",
         "Order ahead in the app and skip the line.",
         "Collect a star with every cup; the tenth one is on us.",
         "Now in a bigger cup for the same price, all month long.",
         "Pair it with a warm croissant for just two dollars more."]

DESCRIPTION = (f"{ROWS} rows × Count {COUNT} = {ROWS * COUNT} videos of {WIDTH}x{HEIGHT}, at most {MAX_SECONDS} s: "
               "3 media groups × 3 distinct 4 s clips (8 portrait 1080x1920, 1 landscape 1920x1080; 7 with a tone), "
               "a title, an English voice-over of 14-15 s per row in the default voice, 30 s of music, "
               "captions yes, transition fade, motion auto, fit blur, CRF 27")
SHARED = ("shared between the runs: only the media files (bench/work/media-campaign). The speech cache is the "
          "engine's data folder (<data>/cache/speech: .sheet2video/engine-preview, .sheet2video/engine, the "
          "serve's --data), fresh for every run, so every run synthesises all its speech cold; the Piper "
          "voice model and the media may be in the OS page cache from earlier runs")


def _speech(i: int) -> str:
    product = PRODUCTS[i % len(PRODUCTS)]
    # 14-15 s in the default voice: the video lasts as long as its speech, which MaxDuration never cuts
    return (f"Meet our {product}, spot number {i + 1}, the drink everyone in town is talking about this season. "
            f"{PERKS[i % len(PERKS)]} {PERKS[(i + 2) % len(PERKS)]} Poured with care. Come and see us this week.")


def _row(i: int) -> list:
    cells = dict(zip(TYPICAL_HEADERS, typical_row(f"spot-{i + 1:02d}", count=COUNT, max_duration=MAX_SECONDS,
                                                   width=WIDTH, height=HEIGHT, speech=_speech(i), look=LOOK)))
    for group, clips in CAMPAIGN_GROUPS.items():
        cells[f"media:{group}"] = "\n".join(str(MEDIA / f"{group.lower()}_{n}.mp4") for n in range(1, len(clips) + 1))
    cells.update(bgm=str(MEDIA / "music.m4a"), voice="", titles=f"New: {PRODUCTS[i % len(PRODUCTS)]}")
    return [cells[h] for h in TYPICAL_HEADERS]


def _fresh_sheet(name: str) -> Path:
    """A folder of its own (so its own .sheet2video state) with a new copy of the sheet."""
    folder = HERE / name
    shutil.rmtree(folder, ignore_errors=True)
    return write_csv(folder / "campaign.csv", [_row(i) for i in range(ROWS)])


def _cli() -> list[str]:
    script = ROOT / ".venv" / "bin" / "sheet2video"
    return [str(script)] if script.is_file() else [sys.executable, "-m", "sheet2video"]


def _timeout() -> float:
    return 600 + ROWS * COUNT * 120


def _run(sheet: Path, env: dict, *extra: str) -> subprocess.CompletedProcess:
    """``sheet2video run SHEET --quiet`` to its exit; a failed run raises with its output."""
    proc = subprocess.run([*_cli(), "run", str(sheet), "--quiet", *extra], capture_output=True, text=True, env=env,
                          cwd=sheet.parent, timeout=_timeout())
    if proc.returncode != 0:
        raise RuntimeError(f"sheet2video run exited {proc.returncode}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return proc


def _finished(sheet: Path) -> tuple[int, float]:
    """(videos, video seconds) from the written sheet; raises unless every row is Finished."""
    with open(sheet, newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    bad = [(r.get("id"), r.get("status"), r.get("error")) for r in rows if r.get("status") != "Finished"]
    if len(rows) != ROWS or bad:
        raise RuntimeError(f"{sheet}: {len(rows)} rows, not Finished: {bad[:3]}")
    videos = sum(len([v for v in r["videos"].splitlines() if v.strip()]) for r in rows)
    seconds = sum(float(d) for r in rows for d in r["durations"].replace(",", "\n").split() if d.strip())
    return videos, seconds


def _figures(prefix: str, sample, videos: int, seconds: float, how: str, **extra) -> list[Result]:
    detail = {**extra, "wall_seconds": round(sample.wall, 1), "cpu_seconds": round(sample.cpu, 1), "videos": videos,
              "video_seconds_total": round(seconds, 1), "campaign": DESCRIPTION, "how": how, "shared": SHARED}
    per_cpu_minute = videos / (sample.cpu / 60)
    return [Result(f"{prefix}_videos_per_cpu_minute", "reported", [per_cpu_minute], unit="videos/CPU min", basis="cpu",
                   detail=detail, repeated=False),
            Result(f"{prefix}_wall_minutes", "reported", [sample.wall / 60], unit="min", detail=detail, repeated=False)]


def _env() -> dict[str, str]:
    from tests.reliability.conftest import base_env

    return base_env(HERE / "home")


def _preview() -> Result:
    """``run --preview`` from its start to the first complete draft (the engine renders to a hidden
    ``.NAME.*.part`` and renames it to NAME.mp4 once checked), then on to its exit."""
    from sheet2video.run.preview import preview_folder
    from tests.reliability.conftest import wait_until

    sheet = _fresh_sheet("preview")
    drafts = preview_folder(sheet)
    first: list[float] = []

    def run() -> None:
        with open(sheet.parent / "run.log", "w", encoding="utf-8") as out:
            start = time.perf_counter()
            proc = subprocess.Popen([*_cli(), "run", str(sheet), "--quiet", "--preview", "--media-root", str(MEDIA)],
                                    stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, env=_env(),
                                    cwd=sheet.parent)
            try:
                wait_until(lambda: _drafts(drafts) or proc.poll() is not None, _timeout(), "the first draft", 0.02)
                first.append(time.perf_counter() - start)
                code = proc.wait(timeout=_timeout())
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
        made = _drafts(drafts)
        if code != 0 or len(made) != ROWS:
            raise RuntimeError(f"preview exited {code} with {len(made)} of {ROWS} drafts; see {sheet.parent / 'run.log'}")

    sample = measure(run)
    return Result("campaign_first_preview_s", "reported", first, unit="s", repeated=False, detail={
        "measured": "sheet2video run SHEET --preview --quiet (a subprocess): from its start until the first "
                    "draft's final name exists in <sheet>-preview/ (drafts are rendered to a hidden .part file "
                    "and renamed when complete)",
        "preview_run_wall_seconds": round(sample.wall, 1), "preview_run_cpu_seconds": round(sample.cpu, 1),
        "drafts": ROWS, "draft_size": "360x640, Count 1, preset ultrafast",
        "speech_cache": "cold: the first run, on a fresh state folder (.sheet2video/engine-preview/cache/speech)",
        "campaign": DESCRIPTION, "shared": SHARED})


def _drafts(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*.mp4") if not p.name.startswith(".")] if folder.is_dir() else []


def _local() -> list[Result]:
    sheet = _fresh_sheet("local")
    load = os.getloadavg()[0]
    sample = measure(lambda: _run(sheet, _env(), "--media-root", str(MEDIA)))
    videos, seconds = _finished(sheet)
    return _figures("campaign", sample, videos, seconds,
                    "sheet2video run SHEET --quiet (a subprocess, the embedded engine, default workers = CPU count) "
                    "from its start to its exit with the sheet written; CPU = that process and its waited "
                    "children (FFmpeg), via RUSAGE_CHILDREN", load_average_1min_at_start=round(load, 2))


def _farm() -> list[Result]:
    """The same campaign through ``serve --farm`` and two workers (each ``--concurrency 1``, the
    default; Redis's documented visibility timeout)."""
    import boto3

    from tests.engine.farm.conftest import S3_ENV, Redis, Worker
    from tests.reliability.conftest import CLOUD_ENV, Serve, base_env, free_port, wait_until

    sheet = _fresh_sheet("farm")
    folder = sheet.parent
    env = base_env(folder / "home", **S3_ENV)
    redis = Redis(folder / "redis")
    port = free_port()
    s3, bucket = f"http://127.0.0.1:{port}", "bench-campaign"
    moto = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    workers, serve = [], None
    try:
        client = boto3.client("s3", endpoint_url=s3, region_name="us-east-1", aws_access_key_id=S3_ENV["AWS_ACCESS_KEY_ID"],
                              aws_secret_access_key=S3_ENV["AWS_SECRET_ACCESS_KEY"])
        wait_until(lambda: _create_bucket(client, bucket), 30, "the S3 server")
        workers = [Worker(f"c{n}", redis, bucket, s3, folder / f"cache{n}", env, visibility=None) for n in (1, 2)]
        serve = Serve(folder / "engine", MEDIA, "--farm", redis.url, "--storage-bucket", bucket,
                      "--storage-endpoint", s3, env=env)
        pids = [serve.proc.pid, *(w.proc.pid for w in workers)]  # cpu_seconds adds their process trees
        load = os.getloadavg()[0]
        sample = measure(lambda: _run(sheet, {**_env(), **CLOUD_ENV}, "--endpoint", serve.url), pids)
        renders = {w.name: w.renders() for w in workers}  # more than the videos: a task was sent again
    finally:  # after measuring: a process's CPU is read from /proc while it lives
        if serve:
            serve.stop()
        for worker in workers:
            worker.kill()
        moto.terminate()
        moto.wait(timeout=20)
        redis.stop()
    videos, seconds = _finished(sheet)
    return _figures("campaign_farm", sample, videos, seconds,
                    "sheet2video run SHEET --endpoint (a subprocess) against sheet2video serve --farm (Redis broker, "
                    "the moto S3 server on loopback) with 2 sheet2video worker processes (--concurrency 1, x264 "
                    "threads as FFmpeg decides), all on this machine, started before the timing; CPU = the run "
                    "process + serve + the 2 workers and their pool processes (with their FFmpeg); redis-server's "
                    "and the S3 server's CPU is left out (services)",
                    renders_per_worker=renders, load_average_1min_at_start=round(load, 2))


def _create_bucket(client, bucket: str) -> bool:
    try:
        client.create_bucket(Bucket=bucket)
        return True
    except Exception:  # noqa: BLE001 — the server is not answering yet
        return False


def campaign_benchmarks(reps: int = 1) -> list[Result]:
    """One run each (``reps`` is not used): preview first (cold caches), then local, then the farm."""
    campaign_media(MEDIA)
    log(f"campaign: {DESCRIPTION}")
    results = [_preview()]
    log(f"campaign preview: first draft after {results[0].ratios[0]:.1f} s")
    results += _local()
    log(f"campaign local: {results[-1].ratios[0]:.2f} min, {results[-2].ratios[0]:.2f} videos/CPU min")
    farm = _farm()
    log(f"campaign farm: {farm[1].ratios[0]:.2f} min, {farm[0].ratios[0]:.2f} videos/CPU min")
    farm.reverse()  # wall minutes first, as named in the issue
    return results + farm
