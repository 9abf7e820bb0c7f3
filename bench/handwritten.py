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

from sheet2video.engine.text.font_files import font_for
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
    chains.append(f"{labels}concat=n={len(task.shots)}:v=1:a=0,{_title()}[v]")
    return _finish(task, args, chains, output, preset, threads)


def _title() -> str:
    font = font_for(TITLE_LINES[0])
    return ",".join(
        f"drawtext=fontfile={font}:text='{line}':fontsize={TITLE_SIZE}:fontcolor=white:borderw=6:"
        f"bordercolor=black@0.85:shadowx=4:shadowy=4:shadowcolor=black@0.5:x=(w-text_w)/2:y={192 + 112 * i}"
        for i, line in enumerate(TITLE_LINES)
    )


def _finish(task, args: list[str], chains: list[str], output: str, preset: str, threads: int | None) -> list[str]:
    """The sound (speech, music ducked under it, mixed and limited) and the encoder settings."""
    speech = len(task.shots)
    music = speech + 1
    args = [*args, "-i", task.speech[0].path, "-stream_loop", "-1", "-i", task.music.path]
    chains = [*chains,
              f"[{speech}:a]aformat=sample_rates=44100:channel_layouts=stereo,apad,asplit[sp][key]",
              f"[{music}:a]volume={task.music.volume}[m]",
              "[m][key]sidechaincompress=threshold=0.02:ratio=8:attack=20:release=400[duck]",
              "[sp][duck]amix=inputs=2:duration=first:normalize=0,alimiter=limit=0.98[a]"]
    argv = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *args,
            "-filter_complex", ";".join(chains), "-map", "[v]", "-map", "[a]", "-t", f"{task.duration:.3f}",
            "-c:v", "libx264", "-preset", preset, "-crf", str(task.crf)]
    if threads:
        argv += ["-threads", str(threads)]
    argv += ["-pix_fmt", "yuv420p", "-r", str(task.fps), "-c:a", "aac", "-b:a", "128k", "-movflags", "+faststart", output]
    return argv


def _run(argv: list[str], what: str) -> None:
    proc = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if proc.returncode != 0:
        raise RuntimeError(f"hand-written {what} failed: {proc.stderr.decode(errors='replace')[-2000:]}")


def run(task, output: str, preset: str = "veryfast", threads: int | None = None) -> None:
    _run(command(task, output, preset, threads), "ffmpeg")


def look_command(task, output: str, ass_file: str, preset: str = "veryfast", threads: int | None = None) -> list[str]:
    """The reference for ``look_vs_ffmpeg``: the looked job (captions, transitions, motion, blurred
    fit) typed the usual way — each shot fitted over a blurred copy of itself, photos moved with
    ``zoompan``, shots joined by chained ``xfade`` over whole streams, captions drawn by ``ass``
    from the same subtitle file, the title with drawtext, the same mix and encoder settings."""
    from sheet2video.engine.compose.transitions import xfade_name

    W, H, fps = task.width, task.height, task.fps
    total_frames = round(task.duration * fps)
    args: list[str] = []
    chains: list[str] = []
    bounds, elapsed = [], 0.0
    for shot in task.shots:
        elapsed += shot.duration
        bounds.append(min(total_frames, round(elapsed * fps)))
    bounds[-1] = total_frames
    leads = [0] + [round(s.transition_duration * fps) if s.transition else 0 for s in task.shots[:-1]]
    for k, shot in enumerate(task.shots):
        frames = bounds[k] - (bounds[k - 1] if k else 0) + leads[k]
        blur = (f"split[f{k}][c{k}];[c{k}]scale={W // 8}:{H // 8}:force_original_aspect_ratio=increase,"
                f"crop={W // 8}:{H // 8},boxblur=10:2,scale={W}:{H}[b{k}];"
                f"[f{k}]scale={W}:{H}:force_original_aspect_ratio=decrease[g{k}];[b{k}][g{k}]overlay=(W-w)/2:(H-h)/2")
        if shot.kind == "image":
            args += ["-i", shot.path]
            move = (f",zoompan=z='1+0.1*on/{frames}':x='iw/2-iw/zoom/2':y='ih/2-ih/zoom/2':d={frames}:s={W}x{H}:fps={fps}"
                    if shot.motion else f",loop=loop={frames - 1}:size=1,setpts=N/{fps}/TB")
            chains.append(f"[{k}:v]{blur},format=yuv420p{move},trim=end_frame={frames}[v{k}]")
        else:
            if shot.start:
                args += ["-ss", f"{shot.start:.3f}"]
            speed = shot.duration / shot.source_duration
            args += ["-t", f"{shot.source_duration + leads[k] / fps / speed:.3f}", "-i", shot.path]
            chains.append(f"[{k}:v]setpts=(PTS-STARTPTS)*{speed:.6f},fps={fps},{blur},format=yuv420p,"
                          f"tpad=stop=-1:stop_mode=clone,trim=end_frame={frames}[v{k}]")
    joined, length = "[v0]", bounds[0]
    for k in range(1, len(task.shots)):
        prev = task.shots[k - 1]
        if leads[k]:
            chains.append(f"{joined}[v{k}]xfade=transition={xfade_name(prev.transition)}:"
                          f"duration={leads[k] / fps:.3f}:offset={(length - leads[k]) / fps:.3f}[x{k}]")
        else:
            chains.append(f"{joined}[v{k}]concat=n=2:v=1:a=0[x{k}]")
        joined, length = f"[x{k}]", bounds[k]
    chains.append(f"{joined}ass={ass_file},{_title()}[v]")
    return _finish(task, args, chains, output, preset, threads)


def run_look(task, output: str, ass_file: str, preset: str = "veryfast", threads: int | None = None) -> None:
    _run(look_command(task, output, ass_file, preset, threads), "look ffmpeg")
