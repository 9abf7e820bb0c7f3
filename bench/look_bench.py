"""What the look costs: ``look_vs_plain`` (the typical 1080×1920 job with voice-over captions,
fade transitions at every cut and motion on its photo ÷ the same job without them; both with the
templates' blurred fit), ``look_vs_ffmpeg`` (that looked job ÷ a hand-written FFmpeg command drawing the same video,
``handwritten.look_command``), ``karaoke_vs_plain_captions`` (that looked job with karaoke captions ÷
with plain ones) and ``loudness_vs_plain`` (the plain job with its loudness gains,
fades and limiter ÷ the same job with ``loudness`` off). Each round makes the six videos once, in an
order reversed every other round, and the four ratios come from the same round; judged on CPU time.
At 540×960 (the whole 17.8 s timeline) so five rounds fit the 15-minute run: the look's costs are
per frame, so the ratios hold at 1080×1920 (BENCH_LOOK_SIZE=1080x1920 measures that)."""

from __future__ import annotations

import os
import shutil

from bench import handwritten
from bench.common import WORK, Result, interleaved, log, plan_sheet_tasks, ratios
from bench.media import LOOK, PLAIN, TYPICAL_HEADERS, typical_media, typical_row, write_csv
from bench.render_bench import engine_defaults


SIZE = tuple(int(x) for x in os.environ.get("BENCH_LOOK_SIZE", "540x960").split("x"))


def _task(work, name: str, look: dict[str, str], extra: dict[str, str] | None = None):
    media = WORK / "media-typical"
    typical_media(media)
    headers = TYPICAL_HEADERS + list(extra or {})
    row = typical_row(name, look=look, width=SIZE[0], height=SIZE[1]) + list((extra or {}).values())
    sheet = write_csv(work / f"{name}.csv", [row], headers)
    return plan_sheet_tasks(sheet, media, work / "data", work / "out")[0]


def look_benchmarks(reps: int = 5) -> list[Result]:
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

    renders = {"looked": run(looked), "bare": run(bare), "plain": run(plain), "quiet": run(quiet),
               "karaoke": run(karaoke),
               "by hand": lambda: handwritten.run_look(looked, hand_out, str(ass_file), preset, threads)}
    for warm in ("looked", "by hand"):  # page cache, fonts, probes: the inputs are the same for all six
        renders[warm]()

    def show(rep, s):
        log(f"look rep {rep + 1}: " + ", ".join(f"{k} {v.wall:.2f} s / cpu {v.cpu:.1f} s" for k, v in s.items()))

    rounds = interleaved(renders, reps, on_rep=show)

    def result(name: str, target: str, subject: str, reference: str, **kw) -> Result:
        return Result(name, target, ratios(rounds, subject, reference),
                      cpu_ratios=ratios(rounds, subject, reference, cpu=True), basis="cpu", **kw)

    timed_words = sum(len(c.words) for c in karaoke.captions)
    detail = {"job": f"{looked.width}x{looked.height}, {looked.duration:.1f} s, {len(looked.shots)} shots",
              "transitions": cuts, "captions": len(looked.captions)}
    return [
        result("look_vs_plain", "<= 1.15", "looked", "bare", detail=detail,
               note="captions + a transition at every cut + motion on photos ÷ none of them (both with the blurred fit)"),
        result("look_vs_ffmpeg", "<= 1.10", "looked", "by hand", detail=detail,
               note="the looked job ÷ the same video typed by hand (whole-stream xfade, zoompan, the same .ass)"),
        result("loudness_vs_plain", "<= 1.05", "plain", "quiet", detail={"job": detail["job"]},
               note="loudness gains, music fades and the -1 dBTP limiter ÷ loudness off"),
        result("karaoke_vs_plain_captions", "<= 1.05", "karaoke", "looked", detail={**detail, "timed_words": timed_words},
               note="the looked job with karaoke captions (a \\k tag per spoken word) ÷ the same job with plain captions"),
    ]
