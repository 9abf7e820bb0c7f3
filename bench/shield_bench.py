"""The shared engine under load (issue [shield]): ``sheet2video serve`` runs in its own process, as
a team runs it, and is measured from outside.

* ``get_p99_under_load_ms`` — p99 of a signed GetBatchMediaProducingJob (5 pollers, one call every
  0.1 s each, in a separate process) while 60 submits arrive (20 per second) and render.
* ``serve_rss_above_idle_mb`` — the server process's peak resident memory (VmHWM, sampled VmRSS as
  a check) above its idle level while the largest inputs it accepts are probed and rendered: a
  picture at the pixel limit, a 4K clip, long music.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

from bench import engine_util
from bench.common import ROOT, WORK, Result, log, stats
from bench.pollers import percentile

SUBMITS = 60
POLLERS = 5  # each calls every 0.1 s; the p99 is taken over every repetition's calls (~1,200)
ARRIVALS_PER_SECOND = 20.0
W, H = 360, 640  # big enough that 60 renders keep both cores busy for 20 s


def _ffmpeg(*args: str) -> None:
    from sheet2video.engine.ffmpeg import ffmpeg_exe

    subprocess.run([ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *args],
                   check=True, capture_output=True, timeout=600)


def _media(folder: Path) -> dict[str, Path]:
    """Small clips for the load test, and the largest inputs the engine accepts for the memory test."""
    from sheet2video.engine.media.formats import DECODE_BYTES, MAX_PIXELS

    folder.mkdir(parents=True, exist_ok=True)
    side = int(MAX_PIXELS ** 0.5) - 16  # a square picture just under the limit
    webp = int((DECODE_BYTES / 17) ** 0.5) - 16  # the largest WebP the server decodes itself (~17 bytes a pixel)
    made = {
        "clip": (folder / "clip.mp4", ["-f", "lavfi", "-i", "testsrc2=s=640x360:r=25:d=3", "-c:v", "libx264",
                                       "-preset", "ultrafast", "-pix_fmt", "yuv420p"]),
        "big_png": (folder / "big.png", ["-f", "lavfi", "-i", f"testsrc2=s={side}x{side}:d=1", "-frames:v", "1"]),
        "big_jpg": (folder / "big.jpg", ["-f", "lavfi", "-i", f"testsrc2=s={side}x{side}:d=1", "-frames:v", "1", "-q:v", "4"]),
        "big_webp": (folder / "big.webp", ["-f", "lavfi", "-i", f"testsrc2=s={webp}x{webp}:d=1", "-frames:v", "1",
                                           "-c:v", "libwebp"]),
        "uhd": (folder / "uhd.mp4", ["-f", "lavfi", "-i", "testsrc2=s=3840x2160:r=30:d=3", "-c:v", "libx264",
                                     "-preset", "ultrafast", "-pix_fmt", "yuv420p"]),
        "music": (folder / "music.m4a", ["-f", "lavfi", "-i", "sine=f=220:r=48000:d=600", "-c:a", "aac", "-b:a", "96k"]),
    }
    for path, args in made.values():
        if not path.is_file():
            tmp = path.with_name(".tmp-" + path.name)
            _ffmpeg(*args, str(tmp))
            os.replace(tmp, path)
    return {name: path for name, (path, _) in made.items()}


class Serve:
    """``sheet2video serve`` in a subprocess on a free loopback port."""

    def __init__(self, data: Path, media_root: Path, *extra: str):
        shutil.rmtree(data, ignore_errors=True)
        self.key_id, self.secret = "LTAIbenchshield01", "bench-shield-secret-not-shown"
        env = {**os.environ, "SHEET2VIDEO_ENGINE_KEY_ID": self.key_id, "SHEET2VIDEO_ENGINE_KEY_SECRET": self.secret,
               "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
        self.proc = subprocess.Popen([sys.executable, "-m", "sheet2video", "serve", "--port", "0", "--data", str(data),
                                      "--media-root", str(media_root), *extra],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     text=True, env=env, cwd=ROOT)
        self.url = self._wait_listening()

    def _wait_listening(self, timeout: float = 60.0) -> str:
        deadline = time.monotonic() + timeout
        seen = []
        while time.monotonic() < deadline:
            line = self.proc.stderr.readline()
            if not line:
                break
            seen.append(line)
            found = re.search(r"listening on (http://\S+)", line)
            if found:
                threading.Thread(target=self.proc.stderr.read, daemon=True).start()  # keep the pipe drained
                return found.group(1)
        self.close()
        raise RuntimeError("serve did not start: " + "".join(seen)[-2000:])

    def memory_kb(self, field: str) -> int:
        with open(f"/proc/{self.proc.pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
        raise RuntimeError(f"no {field} for the server")

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def _job(references: list[str], name: str, music: str | None = None) -> dict:
    inputs = {"MediaGroupArray": [{"GroupName": "g", "MediaArray": references}]}
    if music:
        inputs["BackgroundMusicArray"] = [music]
    return {"InputConfig": json.dumps(inputs),
            "OutputConfig": json.dumps({"MediaURL": f"{name}/v_{{index}}.mp4", "Count": 1, "Width": W, "Height": H,
                                        "MaxDuration": 3})}


def get_p99_under_load(reps: int = 3) -> Result:
    folder = WORK / "shield"
    media = _media(folder / "media")
    p99s, p50s, counts, walls, every = [], [], [], [], []
    for rep in range(reps):
        serve = Serve(folder / f"engine-load-{rep}", folder / "media", "--workers", "2")
        try:
            c = engine_util.client(serve.url, serve.key_id, serve.secret)
            first = engine_util.submit(c, _job([str(media["clip"])], "warm"))
            engine_util.wait(c, first)
            env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
            pollers = subprocess.Popen([sys.executable, "-m", "bench.pollers", serve.url, serve.key_id, "0.1", "100000",
                                        *[first] * POLLERS], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                       stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)
            pollers.stdin.write(serve.secret + "\n")
            pollers.stdin.close()
            pollers.stdin = None  # written and closed: communicate() must not flush it again
            start = time.monotonic()
            job_ids = []
            for i in range(SUBMITS):
                due = start + i / ARRIVALS_PER_SECOND
                time.sleep(max(0.0, due - time.monotonic()))
                job_ids.append(engine_util.submit(c, _job([str(media["clip"])], f"load{rep}-{i:03d}")))
            failed = [j for j in job_ids if engine_util.wait(c, j, interval=0.5)["Status"] != "Finished"]
            walls.append(time.monotonic() - start)
            pollers.send_signal(2)  # SIGINT: the pollers stop and print their figures
            out, err = pollers.communicate(timeout=60)
            c.close()
            if failed:
                raise RuntimeError(f"{len(failed)} of {SUBMITS} jobs did not finish")
            got = json.loads(out.strip().splitlines()[-1])
            p99s.append(got["p99_ms"])
            every += got["latencies_ms"]
            p50s.append(got["p50_ms"])
            counts.append(got["count"])
            log(f"get_p99_under_load rep {rep + 1}: {got['count']} Gets while {SUBMITS} jobs arrived and rendered "
                f"in {walls[-1]:.0f} s: p50 {got['p50_ms']:.1f} ms, p99 {got['p99_ms']:.1f} ms, {got['errors']} errors")
        finally:
            serve.close()
    return Result("get_p99_under_load_ms", "<= 100", p99s, unit="ms", pooled=percentile(every, 99), detail={
        "measured": f"`sheet2video serve --workers 2` in its own process; {SUBMITS} jobs (one 3 s clip, 360x640) "
                    f"submitted at {ARRIVALS_PER_SECOND:g}/s and rendered while {POLLERS} pollers (a separate process) "
                    "call GetBatchMediaProducingJob every 0.1 s each; latency = client wall time of a signed Get; the "
                    "figure is the p99 of every repetition's calls together",
        "p50_ms": stats(p50s, 2), "gets": counts, "seconds_to_render_all": stats(walls, 1)})


def rss_above_idle(reps: int = 3) -> Result:
    folder = WORK / "shield"
    media = _media(folder / "media")
    deltas, peaks = [], {}
    for rep in range(reps):
        serve = Serve(folder / f"engine-rss-{rep}", folder / "media", "--workers", "1")
        try:
            c = engine_util.client(serve.url, serve.key_id, serve.secret)
            engine_util.wait(c, engine_util.submit(c, _job([str(media["clip"])], "warm")))  # imports loaded: "idle"
            idle = serve.memory_kb("VmRSS")
            worst = 0
            for name in ("big_png", "big_jpg", "big_webp", "uhd"):
                job = engine_util.wait(c, engine_util.submit(c, _job([str(media[name])], f"rss{rep}-{name}",
                                                                     music=str(media["music"]))))
                if job["Status"] != "Finished":
                    raise RuntimeError(f"{name}: {json.dumps(job)[:800]}")
                peak = serve.memory_kb("VmHWM")
                peaks.setdefault(name, []).append((peak - idle) / 1024)
                worst = max(worst, peak - idle)
            deltas.append(worst / 1024)
            c.close()
            log(f"serve_rss_above_idle rep {rep + 1}: idle {idle / 1024:.0f} MB, peak above idle "
                + ", ".join(f"{k} {v[-1]:.0f} MB" for k, v in peaks.items()))
        finally:
            serve.close()
    return Result("serve_rss_above_idle_mb", "<= 200", deltas, unit="MB", basis="memory", worst=True, detail={
        "measured": "`sheet2video serve --workers 1` in its own process; idle = VmRSS after one small job; then "
                    "jobs with a square picture just under the pixel limit (PNG, then JPEG), the largest WebP the "
                    "server decodes itself, a 3840x2160 clip, "
                    "each with 10 min of music; figure = the server's VmHWM (peak RSS, FFmpeg excluded) minus idle",
        "peak_above_idle_after_each_input_mb": {k: stats(v, 1) for k, v in peaks.items()}})


def shield_benchmarks(reps: int = 3) -> list[Result]:
    return [get_p99_under_load(reps), rss_above_idle(reps)]
