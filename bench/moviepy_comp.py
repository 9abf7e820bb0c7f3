"""The peer for ``moviepy_vs_render``: the typical job's composition made with MoviePy 2.

Run as ``python -m bench.moviepy_comp TASK.json OUT.mp4 PRESET`` (a separate process, so MoviePy's
imports, memory and threads stay out of the parent); prints the wall and CPU seconds (this process
and its FFmpeg readers and writer) from building the clips to the finished file on stdout. MoviePy composites every frame in Python/NumPy (decode with FFmpeg →
NumPy → Pillow resize / text compositing → FFmpeg encode) — the architecture DESIGN §5 rules out.

Same inputs and timeline as the engine's task; same encoder (libx264, the same preset and CRF,
yuv420p, AAC 128k, +faststart). The title is a Pillow-drawn ``TextClip`` (MoviePy 2 needs no
ImageMagick). MoviePy has no sidechain compressor, so the music is mixed at its volume without
ducking — MoviePy does a little *less* audio work than the engine.
"""

from __future__ import annotations

import json
import os
import sys
import time

from bench.common import cpu_seconds


def main(task_json: str, output: str, preset: str) -> dict[str, float]:
    import imageio_ffmpeg

    os.environ.setdefault("IMAGEIO_FFMPEG_EXE", os.environ.get("SHEET2VIDEO_FFMPEG") or imageio_ffmpeg.get_ffmpeg_exe())
    from moviepy import (AudioFileClip, CompositeAudioClip, CompositeVideoClip, ImageClip, TextClip,
                         VideoFileClip, afx, concatenate_videoclips)

    from bench.handwritten import TITLE_LINES, TITLE_SIZE
    from sheet2video.engine.text.font_files import font_for

    with open(task_json, encoding="utf-8") as handle:
        task = json.load(handle)
    W, H, fps, total = task["width"], task["height"], task["fps"], task["duration"]

    cpu, start = cpu_seconds(), time.perf_counter()

    def cover(clip):
        scale = max(W / clip.w, H / clip.h)
        if abs(scale - 1) > 1e-6:
            clip = clip.resized(scale)
        if clip.w != W or clip.h != H:
            clip = clip.cropped(x_center=clip.w / 2, y_center=clip.h / 2, width=W, height=H)
        return clip

    opened, shots = [], []
    for shot in task["shots"]:
        if shot["kind"] == "image":
            clip = ImageClip(shot["path"], duration=shot["duration"])
        else:
            source = VideoFileClip(shot["path"], audio=False)
            opened.append(source)
            clip = source.subclipped(shot["start"], shot["start"] + shot["source_duration"])
            if abs(shot["source_duration"] - shot["duration"]) > 1e-3:
                clip = clip.with_speed_scaled(final_duration=shot["duration"])
        shots.append(cover(clip).with_duration(shot["duration"]))
    video = concatenate_videoclips(shots, method="chain")
    title = (TextClip(font=font_for(TITLE_LINES[0]), text="\n".join(TITLE_LINES), font_size=TITLE_SIZE,
                      color="white", stroke_color="black", stroke_width=6, text_align="center", method="label",
                      interline=26, margin=(12, 24))  # margin: Pillow's box would clip the stroke and descenders
             .with_position(("center", 192 - 24)).with_duration(total))
    speech = AudioFileClip(task["speech"][0]["path"])
    speech = speech.subclipped(0, min(total, speech.duration))
    music = AudioFileClip(task["music"]["path"]).with_effects(
        [afx.AudioLoop(duration=total), afx.MultiplyVolume(task["music"]["volume"])])
    final = (CompositeVideoClip([video, title], size=(W, H))
             .with_audio(CompositeAudioClip([speech, music]).with_duration(total))
             .with_duration(total))
    final.write_videofile(output, fps=fps, codec="libx264", preset=preset, audio_codec="aac", audio_bitrate="128k",
                          audio_fps=44100, ffmpeg_params=["-crf", str(task["crf"]), "-pix_fmt", "yuv420p",
                                                          "-movflags", "+faststart"], logger=None)
    elapsed = time.perf_counter() - start
    for clip in opened + [speech, music, final]:
        clip.close()  # waits for its FFmpeg processes, so their CPU is counted below
    return {"seconds": elapsed, "cpu_seconds": cpu_seconds() - cpu}


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], sys.argv[2], sys.argv[3])))
