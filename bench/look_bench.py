"""What the look costs: ``look_vs_plain`` (the typical 1080×1920 job with voice-over captions,
fade transitions at every cut and motion on its photo ÷ the same job without them; both with the
templates' blurred fit), ``look_vs_ffmpeg`` (that looked job ÷ a hand-written FFmpeg command drawing the same video,
``handwritten.look_command``), ``karaoke_vs_plain_captions`` (that looked job with karaoke captions ÷
with plain ones) and ``loudness_vs_plain`` (the plain job with its loudness gains,
fades and limiter ÷ the same job with ``loudness`` off). Paired repetitions, alternating order."""

from __future__ import annotations

import shutil

from bench import handwritten
from bench.common import WORK, Result, log, plan_sheet_tasks, timed
from bench.media import LOOK, PLAIN, TYPICAL_HEADERS, typical_media, typical_row, write_csv
from bench.render_bench import engine_defaults


def _task(work, name: str, look: dict[str, str], extra: dict[str, str] | None = None):
    media = WORK / "media-typical"
    typical_media(media)
    headers = TYPICAL_HEADERS + list(extra or {})
    row = typical_row(name, look=look) + list((extra or {}).values())
    sheet = write_csv(work / f"{name}.csv", [row], headers)
    return plan_sheet_tasks(sheet, media, work / "data", work / "out")[0]


def _pairs(a, b, reps: int) -> list[float]:
    ratios = []
    for i in range(reps):
        if i % 2:
            tb, ta = timed(b), timed(a)
        else:
            ta, tb = timed(a), timed(b)
        ratios.append(ta / tb)
    return ratios


def look_benchmarks(reps: int = 3) -> list[Result]:
    from sheet2video.engine.compose.captions import ass_text
    from sheet2video.engine.render import render

    work = WORK / "look"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    d = engine_defaults()
    threads, preset = d["threads"], d["preset"]
    plain = _task(work, "plain", PLAIN)
    looked = _task(work, "looked", LOOK)
    bare = _task(work, "bare", {**PLAIN, "fit": LOOK["fit"]})  # the looked job less captions, transitions, motion
    quiet = _task(work, "quiet", PLAIN, {"loudness": "off"})
    karaoke = _task(work, "karaoke", LOOK, {"caption_style": "karaoke"})  # the looked job, karaoke captions
    cuts = sum(1 for s in looked.shots if s.transition)
    log(f"looked job: {looked.duration:.1f} s, {len(looked.shots)} shots, {cuts} transitions, "
        f"{len(looked.captions)} captions, motion on {sum(1 for s in looked.shots if s.motion)} shot(s), fit {looked.fit}")
    ass_file = work / "captions.ass"
    ass_file.write_text(ass_text(looked, looked.width, looked.height)[0], encoding="utf-8")
    hand_out = str(work / "hand-look.mp4")

    def run(task):
        return lambda: render(task, threads=threads, preset=preset)

    look_plain = _pairs(run(looked), run(bare), reps)
    look_hand = _pairs(run(looked), lambda: handwritten.run_look(looked, hand_out, str(ass_file), preset, threads), reps)
    loud = _pairs(run(plain), run(quiet), reps)
    kara = _pairs(run(karaoke), run(looked), reps)
    timed_words = sum(len(c.words) for c in karaoke.captions)
    detail = {"job": f"{looked.width}x{looked.height}, {looked.duration:.1f} s, {len(looked.shots)} shots",
              "transitions": cuts, "captions": len(looked.captions)}
    return [
        Result("look_vs_plain", "<= 1.15", look_plain, detail=detail,
               note="captions + a transition at every cut + motion on photos ÷ none of them (both with the blurred fit)"),
        Result("look_vs_ffmpeg", "<= 1.10", look_hand, detail=detail,
               note="the looked job ÷ the same video typed by hand (whole-stream xfade, zoompan, the same .ass)"),
        Result("loudness_vs_plain", "<= 1.05", loud, detail={"job": detail["job"]},
               note="loudness gains, music fades and the -1 dBTP limiter ÷ loudness off"),
        Result("karaoke_vs_plain_captions", "<= 1.05", kara, detail={**detail, "timed_words": timed_words},
               note="the looked job with karaoke captions (a \\k tag per spoken word) ÷ the same job with plain captions"),
    ]
