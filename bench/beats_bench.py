"""Beat tracking for cuts on the beat (issue 22): the engine's estimator (engine/media/beats.py)
measured against the true grid of generated music, and against librosa where librosa can be run.

* ``beats_f_measure`` — F-measure (±70 ms) of the detected beats against the true grid, one value
  per track (the estimator is deterministic: the spread is across tracks, the min is the worst):
  click tracks at 60–174 BPM (plain, and with a quiet noise bed and a start offset), drum patterns
  (kick, snare, hi-hat eighths) and the demo's two music tracks (sheet2video/samples: their tempo
  from the sample's description, their grid from ``samples/music.track``'s bar arithmetic).
* ``beats_seconds_10min`` — wall time of ``beat_times`` (FFmpeg decode included) on 10 minutes of
  the demo music, the most it analyses.

librosa is never installed into the project: it is measured when it can be imported here, or by the
interpreter named in ``$BENCH_LIBROSA_PYTHON`` (a scratch venv: ``python -m venv /tmp/lr &&
/tmp/lr/bin/pip install librosa``), run as a child process on the same files decoded by FFmpeg to
22.05 kHz mono WAV (its default rate). Otherwise its columns are absent from the detail.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
import time
import wave
from pathlib import Path

import numpy as np

from bench.common import WORK, Result, log, stats

TOLERANCE = 0.07  # seconds: the usual F-measure window of beat-tracking evaluations
CLICK_BPM = (60, 90, 120, 128, 150, 174)
DRUM_BPM = (80, 110, 140)
SECONDS = 30.0
LONG_SECONDS = 600.0
LIBROSA_ENV = "BENCH_LIBROSA_PYTHON"

# Run by the librosa interpreter (stdlib + librosa only): beats of each WAV, timings, installed size.
_CHILD = r'''
import json, re, sys, time
from importlib import metadata
started = time.perf_counter()
import librosa
out = {"version": librosa.__version__, "import_seconds": time.perf_counter() - started, "tracks": {}}
files = json.loads(sys.argv[1])
t = time.perf_counter()
librosa.beat.beat_track(y=librosa.load(next(iter(files.values())), sr=None, duration=5.0)[0], sr=22050)
out["first_call_seconds"] = time.perf_counter() - t  # lazy imports and numba's compilation
for name, path in files.items():
    t = time.perf_counter()
    y, sr = librosa.load(path, sr=None, mono=True)
    _, beats = librosa.beat.beat_track(y=y, sr=sr, units="time")
    out["tracks"][name] = {"beats": [round(float(b), 4) for b in beats], "seconds": time.perf_counter() - t}
seen = {}
def walk(name):
    key = re.sub(r"[-_.]+", "-", name).lower()
    if key in seen:
        return
    try:
        seen[key] = metadata.distribution(name)
    except metadata.PackageNotFoundError:
        return
    for req in seen[key].requires or []:
        if "extra ==" not in req:
            walk(re.split(r"[\s;<>=!~\[(]", req, maxsplit=1)[0])
walk("librosa")
out["installed_bytes"] = {key: sum(f.locate().stat().st_size for f in (d.files or []) if f.locate().is_file())
                          for key, d in seen.items()}
print(json.dumps(out))
'''


def _ffmpeg(*args: str) -> None:
    from sheet2video.engine.ffmpeg import ffmpeg_exe

    subprocess.run([ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *args],
                   check=True, capture_output=True, timeout=600)


def _write_wav(path: Path, x: np.ndarray, rate: int) -> None:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes((np.clip(x, -1, 1) * 32767).astype("<i2").tobytes())


def _drums(path: Path, bpm: float, offset: float = 0.2, rate: int = 44100) -> list[float]:
    """Kick on beats 1 and 3, snare on 2 and 4, a quiet hi-hat on every eighth note."""
    rng = np.random.default_rng(int(bpm))
    n, beat = int(SECONDS * rate), 60.0 / bpm
    t = np.arange(int(0.25 * rate)) / rate
    kick = np.sin(2 * np.pi * 55 * t + 2 * np.pi * 2.0 * (1 - np.exp(-t / 0.02))) * np.exp(-t / 0.12) * 0.6
    ts = t[: int(0.15 * rate)]
    snare = (0.5 * rng.standard_normal(ts.size) + np.sin(2 * np.pi * 190 * ts)) * np.exp(-ts / 0.05) * 0.35
    th = t[: int(0.04 * rate)]
    hat = np.diff(rng.standard_normal(th.size + 1)) * np.exp(-th / 0.01) * 0.08
    x = np.zeros(n)
    truth = [float(b) for b in np.arange(offset, SECONDS - 0.3, beat)]
    for k, b in enumerate(truth):
        for at, sound in ((b, kick if k % 2 == 0 else snare), (b, hat), (b + beat / 2, hat)):
            s = int(round(at * rate))
            x[s:s + sound.size] += sound[: max(0, n - s)]
    _write_wav(path, x, rate)
    return truth


def _demo_grid(sample) -> list[float]:
    """The beats ``samples/music.track`` writes: bar ``j`` starts at ``j·int(4·beat·RATE)`` samples,
    beat ``b`` of it ``int(b·beat·RATE)`` later (the tempo is in the sample's description)."""
    from sheet2video.samples.music import RATE

    match = re.search(r"(\d+(?:\.\d+)?) bpm", sample.description)
    assert match, f"{sample.name}: no tempo in its description"
    beat = 60.0 / float(match.group(1))
    bar = int(4 * beat * RATE)
    grid = [(j * bar + int(b * beat * RATE)) / RATE for j in range(int(sample.duration / beat / 4) + 2) for b in range(4)]
    return [g for g in grid if g < sample.duration]


def _tracks(folder: Path) -> dict[str, tuple[Path, list[float]]]:
    """name → (file, true beat times), made once under bench/work/beats/."""
    from sheet2video.samples.media import SAMPLES, generate_sample_media
    from tests.media import make_clicks

    folder.mkdir(parents=True, exist_ok=True)
    tracks = {}
    for bpm in CLICK_BPM:
        for label, offset, noise in (("", 0.0, 0.0), ("+noise+offset", 0.37, 0.01)):
            path = folder / f"clicks_{bpm}{label.replace('+', '_')}.wav"
            tracks[f"clicks {bpm}{label}"] = (path, make_clicks(path, bpm, SECONDS, offset=offset, noise=noise, seed=bpm))
    for bpm in DRUM_BPM:
        path = folder / f"drums_{bpm}.wav"
        tracks[f"drums {bpm}"] = (path, _drums(path, bpm))
    generate_sample_media(folder / "samples")
    for sample in SAMPLES:
        if sample.scene == "music":
            tracks[f"demo {sample.name}"] = (folder / "samples" / sample.name, _demo_grid(sample))
    return tracks


def score(detected: list[float], truth: list[float]) -> dict:
    """F-measure at ±70 ms, recall at ±50 ms, the mean distance from each true beat to the nearest
    detection (a missed beat counts in full), and the median distance of the beats found."""
    if not detected:
        return {"f_measure": 0.0, "recall_50ms": 0.0, "mean_error_ms": None, "median_error_found_ms": None,
                "bpm": None, "beats": 0}
    d = np.abs(np.asarray(truth)[:, None] - np.asarray(detected)[None, :])
    found = d.min(axis=1)[d.min(axis=1) <= TOLERANCE]
    recall, precision = float(np.mean(d.min(axis=1) <= TOLERANCE)), float(np.mean(d.min(axis=0) <= TOLERANCE))
    f = 2 * recall * precision / (recall + precision) if recall + precision else 0.0
    bpm = 60.0 * (len(detected) - 1) / (detected[-1] - detected[0]) if len(detected) > 1 else None
    return {"f_measure": round(f, 3), "recall_50ms": round(float(np.mean(d.min(axis=1) <= 0.05)), 3),
            "mean_error_ms": round(float(d.min(axis=1).mean()) * 1000, 1),
            "median_error_found_ms": round(float(np.median(found)) * 1000, 1) if found.size else None,
            "bpm": bpm and round(bpm, 1),
            "beats": len(detected)}


def _ours(path: Path) -> tuple[list[float], float]:
    from sheet2video.engine.media.beats import beat_times
    from sheet2video.engine.media.probe import probe

    start = time.perf_counter()
    beats = beat_times(str(path), probe(path))
    return beats, time.perf_counter() - start


def _librosa_python() -> str | None:
    if importlib.util.find_spec("librosa") is not None:
        return sys.executable
    configured = os.environ.get(LIBROSA_ENV)
    return configured if configured and os.path.isfile(configured) else None


def _librosa(python: str, files: dict[str, Path], folder: Path) -> dict:
    """librosa's beats of each file (decoded by FFmpeg to 22.05 kHz mono WAV first, timed apart)."""
    decoded, decode_seconds = {}, {}
    folder.mkdir(parents=True, exist_ok=True)
    for name, path in files.items():
        wav = folder / (re.sub(r"\W+", "_", name) + ".wav")
        start = time.perf_counter()
        _ffmpeg("-i", str(path), "-map", "0:a:0", "-ac", "1", "-ar", "22050", str(wav))
        decode_seconds[name] = time.perf_counter() - start
        decoded[name] = str(wav)
    proc = subprocess.run([python, "-c", _CHILD, json.dumps(decoded)], capture_output=True, text=True, timeout=1800)
    if proc.returncode != 0:
        raise RuntimeError(f"librosa child failed: {proc.stderr[-2000:]}")
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    for name, seconds in decode_seconds.items():
        out["tracks"][name]["seconds"] += seconds
    return out


def _installed(name: str) -> bool:
    """Whether the project's environment has that distribution already (librosa would not add it)."""
    from importlib import metadata

    try:
        metadata.distribution(name)
    except metadata.PackageNotFoundError:
        return False
    return True


def _long_music(folder: Path) -> Path:
    path = folder / "demo_10min.m4a"
    if not path.is_file():
        _ffmpeg("-stream_loop", "-1", "-i", str(folder / "samples" / "bgm_1.m4a"), "-t", f"{LONG_SECONDS:g}",
                "-c", "copy", str(path))
    return path


def beats_benchmarks(reps: int = 3) -> list[Result]:
    folder = WORK / "beats"
    tracks = _tracks(folder)
    noise = folder / "white_noise_10s.wav"
    if not noise.is_file():
        _write_wav(noise, np.random.default_rng(7).standard_normal(441000) * 0.2, 44100)
    long = _long_music(folder)
    ours, fs = {}, []
    for name, (path, truth) in tracks.items():
        beats, seconds = _ours(path)
        ours[name] = {**score(beats, truth), "seconds": round(seconds, 3)}
        fs.append(ours[name]["f_measure"])
        log(f"beats {name:<26} ours F {ours[name]['f_measure']:.3f}  error {ours[name]['mean_error_ms']} ms  "
            f"{ours[name]['bpm']} BPM")
    noise_beats = len(_ours(noise)[0])
    long_seconds = [_ours(long)[1] for _ in range(reps)]
    detail = {
        "measured": f"engine/media/beats.py beat_times(path, probe(path)) on WAV/M4A/MP3 files; F-measure "
                    f"±{TOLERANCE * 1000:.0f} ms, mean error = mean distance from each true beat to the nearest detection",
        "tracks": ours, "white_noise_10s_beats": noise_beats,
        "installed": "nothing beyond numpy, already a dependency (one module of ~200 lines)",
    }
    python = _librosa_python()
    if python is None:
        detail["librosa"] = f"not importable here and ${LIBROSA_ENV} unset: not measured"
    else:
        files = {**{name: path for name, (path, _) in tracks.items()}, "white noise 10 s": noise, "10 min": long}
        theirs = _librosa(python, files, folder / "librosa")
        added = {name: size for name, size in theirs["installed_bytes"].items() if not _installed(name)}
        detail["librosa"] = {
            "version": theirs["version"], "import_seconds": round(theirs["import_seconds"], 2),
            "first_call_seconds": round(theirs["first_call_seconds"], 2),
            "installed_mb_added": round(sum(added.values()) / 2**20, 1), "packages_added": sorted(added),
            "tracks": {name: {**score(theirs["tracks"][name]["beats"], truth),
                              "seconds": round(theirs["tracks"][name]["seconds"], 3)} for name, (_, truth) in tracks.items()},
            "white_noise_10s_beats": len(theirs["tracks"]["white noise 10 s"]["beats"]),
            "seconds_10min": round(theirs["tracks"]["10 min"]["seconds"], 2),
        }
        for name, row in detail["librosa"]["tracks"].items():
            log(f"beats {name:<26} librosa F {row['f_measure']:.3f}  error {row['mean_error_ms']} ms  {row['bpm']} BPM")
    return [
        Result("beats_f_measure", ">= 0.9", fs, unit="F", basis="score", repeated=False, detail=detail,
               note="one value per track (clicks, drum patterns, the demo music), not per repetition"),
        Result("beats_seconds_10min", "<= 5", long_seconds, unit="s", worst=True, detail={
            "measured": f"beat_times on {LONG_SECONDS / 60:.0f} min of the demo music (AAC), FFmpeg decode included",
            "seconds": stats(long_seconds, 2)}),
    ]
