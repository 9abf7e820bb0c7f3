"""The reference for ``render_vs_ffmpeg``: one FFmpeg command written by hand (not with
``build_command``) that makes the typical job's video from the same inputs with the same encoder
settings — what a person fluent in FFmpeg would type, and so the practical limit.

It takes from the planned task only *what* to show (which file, in-point, how long, the speech
file, the music file): the filtergraph itself is spelled out here, the straightforward way —
seek each input, retime, cover-fit, concatenate, draw the title, duck the music under the
speech, mix, encode (libx264, the same preset and CRF, AAC 128k, +faststart).
"""

from __future__ import annotations

import subprocess

from sheet2video.engine.fonts import font_for
from sheet2video.engine.render import ffmpeg_exe

# The title as the engine lays it out at 1080 wide (86 px DejaVu Sans, two lines).
TITLE_LINES = ("Pumpkin Spice", "Latte is back!")
TITLE_SIZE = 86


def command(task, output: str, preset: str = "veryfast", threads: int | None = None) -> list[str]:
    W, H, fps = task.width, task.height, task.fps
    total_frames = round(task.duration * fps)
    args: list[str] = []
    chains: list[str] = []
    labels = ""
    done = 0
    elapsed = 0.0
    for k, shot in enumerate(task.shots):
        elapsed += shot.duration
        frames = min(total_frames, round(elapsed * fps)) - done
        if k == len(task.shots) - 1:
            frames = total_frames - done
        done += frames
        fit = f"scale={W}:{H}:force_original_aspect_ratio=increase,crop={W}:{H},setsar=1"
        if shot.kind == "image":
            args += ["-i", shot.path]
            chains.append(f"[{k}:v]{fit},loop=loop={frames - 1}:size=1,setpts=N/{fps}/TB[v{k}]")
        else:
            if shot.start:
                args += ["-ss", f"{shot.start:.3f}"]
            args += ["-t", f"{shot.source_duration:.3f}", "-i", shot.path]
            speed = shot.duration / shot.source_duration
            chains.append(f"[{k}:v]setpts=(PTS-STARTPTS)*{speed:.6f},fps={fps},{fit},trim=end_frame={frames}[v{k}]")
        labels += f"[v{k}]"
    font = font_for(TITLE_LINES[0])
    draw = ",".join(
        f"drawtext=fontfile={font}:text='{line}':fontsize={TITLE_SIZE}:fontcolor=white:borderw=6:"
        f"bordercolor=black@0.85:shadowx=4:shadowy=4:shadowcolor=black@0.5:x=(w-text_w)/2:y={192 + 112 * i}"
        for i, line in enumerate(TITLE_LINES)
    )
    chains.append(f"{labels}concat=n={len(task.shots)}:v=1:a=0,{draw}[v]")
    speech = len(task.shots)
    music = speech + 1
    args += ["-i", task.speech[0].path, "-stream_loop", "-1", "-i", task.music.path]
    chains.append(f"[{speech}:a]aformat=sample_rates=44100:channel_layouts=stereo,apad,asplit[sp][key]")
    chains.append(f"[{music}:a]volume={task.music.volume}[m]")
    chains.append("[m][key]sidechaincompress=threshold=0.02:ratio=8:attack=20:release=400[duck]")
    chains.append("[sp][duck]amix=inputs=2:duration=first:normalize=0,alimiter=limit=0.98[a]")
    argv = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *args,
            "-filter_complex", ";".join(chains), "-map", "[v]", "-map", "[a]", "-t", f"{task.duration:.3f}",
            "-c:v", "libx264", "-preset", preset, "-crf", str(task.crf)]
    if threads:
        argv += ["-threads", str(threads)]
    argv += ["-pix_fmt", "yuv420p", "-r", str(fps), "-c:a", "aac", "-b:a", "128k", "-movflags", "+faststart", output]
    return argv


def run(task, output: str, preset: str = "veryfast", threads: int | None = None) -> None:
    proc = subprocess.run(command(task, output, preset, threads), stdin=subprocess.DEVNULL,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if proc.returncode != 0:
        raise RuntimeError(f"hand-written ffmpeg failed: {proc.stderr.decode(errors='replace')[-2000:]}")
