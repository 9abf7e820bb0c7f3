"""Caption pacing: each rule on crafted timings, then a real espeak-ng voice-over planned and rendered."""

from __future__ import annotations

import copy

import av
import numpy as np

from sheet2video.engine.compose.caption_pacing import pace
from sheet2video.engine.compose.captions import layout_event, look
from sheet2video.engine.media.sources import MediaResolver
from sheet2video.engine.render import render
from sheet2video.engine.speech.espeak import EspeakSynthesizer
from sheet2video.engine.timeline.planner import JobPlanner
from sheet2video.engine.timeline.task import Caption
from tests.media import make_video

W, H, FPS = 180, 320, 25


def timed(events):
    return [(e.text, e.start, e.end) for e in events]


# ------------------------------------------------------------------ each rule on crafted timings


def test_a_short_event_holds_to_0_8_s_unless_the_video_ends_first():
    assert timed(pace([Caption("Hello there.", 1.0, 1.4)])) == [("Hello there.", 1.0, 1.8)]
    assert timed(pace([Caption("Hello there.", 0.0, 0.5)], end=0.6)) == [("Hello there.", 0.0, 0.6)]


def test_gaps_under_0_3_s_close_and_longer_gaps_stay():
    ev = pace([Caption("One more.", 0.0, 1.0), Caption("Two more.", 1.2, 2.2), Caption("Three more.", 2.6, 3.6)])
    assert timed(ev) == [("One more.", 0.0, 1.2), ("Two more.", 1.2, 2.2), ("Three more.", 2.6, 3.6)]


def test_an_event_longer_than_7_s_is_split_between_words():
    text = " ".join(f"word{i}" for i in range(30))
    ev = pace([Caption(text, 1.0, 16.0)])
    assert len(ev) == 3 and " ".join(e.text for e in ev) == text  # every word once, none cut
    assert ev[0].start == 1.0 and ev[-1].end == 16.0
    for a, b in zip(ev, ev[1:]):
        assert a.end == b.start
    assert all(e.end - e.start <= 7.0 for e in ev)


def test_an_event_needing_three_lines_is_split_into_events_that_fit_two():
    fits = lambda t: len(t) <= 20  # noqa: E731 - "two lines" of ten characters
    text = "Fresh coffee roasted every morning by the river"
    ev = pace([Caption(text, 0.0, 4.0)], fits)
    assert len(ev) == 3 and " ".join(e.text for e in ev) == text and all(fits(e.text) for e in ev)


def test_a_one_word_clause_joins_its_sentence_else_the_shorter_neighbour():
    ev = pace([Caption("Breathable,", 0.0, 0.5), Caption("springy,", 0.7, 1.1), Caption("light.", 1.3, 1.6),
               Caption("Made for long runs.", 1.8, 3.0)])
    assert timed(ev) == [("Breathable, springy, light.", 0.0, 1.8), ("Made for long runs.", 1.8, 3.0)]
    ev = pace([Caption("Big sale on shoes", 0.0, 1.0), Caption("now", 1.1, 1.4), Caption("so come", 1.5, 2.4)])
    assert timed(ev)[0][0] == "Big sale on shoes" and timed(ev)[1][0] == "now so come"  # the shorter one


def test_a_lone_word_stays_alone_when_no_merge_fits_or_after_a_long_pause():
    fits = lambda t: len(t) <= 12  # noqa: E731
    ev = pace([Caption("Breathable,", 0.0, 0.5), Caption("springy shoe", 0.6, 1.6)], fits)
    assert [e.text for e in ev] == ["Breathable,", "springy shoe"]
    ev = pace([Caption("Hello there.", 0.0, 1.0), Caption("Buy!", 2.5, 2.9)])
    assert timed(ev) == [("Hello there.", 0.0, 1.0), ("Buy!", 2.5, 3.3)]


def test_a_short_event_that_cannot_merge_pushes_the_next_never_pulls_it_earlier():
    fits = lambda t: len(t) <= 12  # noqa: E731
    src = [Caption("Quick one.", 0.0, 0.3), Caption("Second one.", 0.4, 1.5), Caption("Third one.", 1.6, 2.0)]
    ev = pace(src, fits)
    assert timed(ev) == [("Quick one.", 0.0, 0.8), ("Second one.", 0.8, 1.6), ("Third one.", 1.6, 2.4)]
    for e, s in zip(ev, src):
        assert e.start >= s.start  # never before its first word


def test_cjk_lone_phrases_merge_without_a_space():
    ev = pace([Caption("欢迎", 0.0, 0.4), Caption("光临本店！", 0.5, 1.5)])
    assert timed(ev) == [("欢迎光临本店！", 0.0, 1.5)]


# ------------------------------------------------------------------ a real voice-over


class _Recording(EspeakSynthesizer):
    """The real espeak-ng synthesizer, keeping what it said (its word timings) for the checks."""

    def synthesize(self, *args, **kw):
        self.spoken = super().synthesize(*args, **kw)
        return self.spoken


def _plan(tmp_path, script: str):
    media = tmp_path / "media"
    media.mkdir()
    make_video(media / "a.mp4", 6.0, f"{W}x{H}", color="0x336699")
    synth = _Recording(tmp_path / "tts")
    planner = JobPlanner(MediaResolver(media, tmp_path / "cache"), synth)
    groups = [{"GroupName": "a", "MediaArray": ["a.mp4"], "SpeechTextArray": [script]}]
    params = {"InputConfig": {"MediaGroupArray": groups},
              "OutputConfig": {"MediaURL": "x_{index}.mp4", "Width": W, "Height": H}}
    (task,) = planner.plan(params, [str(tmp_path / "on.mp4")])
    return task, synth.spoken


def _check_paced(events, speech, offset):
    words = [w for w in speech.words if str(w.text).strip()]
    assert events and sum(len(e.text.split()) for e in events) == len(words)
    at = 0
    for i, e in enumerate(events):
        if e.end < events[-1].end or speech.duration >= 0.8:
            assert e.end - e.start >= 0.8 - 1e-9, e
        assert e.end - e.start <= 7.0
        if i + 1 < len(events):
            assert e.end <= events[i + 1].start and not 0 < round(events[i + 1].start - e.end, 3) < 0.3
        assert e.start >= round(offset + words[at].start, 3) - 1e-9  # not before its first word
        at += len(e.text.split())
        assert len(layout_event(e.text, look({}, W, H, e.text))[1]) <= 2


def test_real_voice_over_captions_are_paced_and_the_render_shows_it(tmp_path):
    task, speech = _plan(tmp_path, "Breathable, springy, light. Made for long runs. Order today.")
    offset = task.captions[0].start - speech.words[0].start
    _check_paced(task.captions, speech, offset)
    assert task.captions[0].text == "Breathable, springy, light."
    # the pixels agree: caption events measured from the difference of captions-on and -off renders
    task.crf = 0
    off = copy.deepcopy(task)
    off.captions, off.output = [], str(tmp_path / "off.mp4")
    on_frames, off_frames = _frames(render(task).path), _frames(render(off).path)
    shown = [bool(np.abs(a[H // 2:] - b[H // 2:]).max() > 40) for a, b in zip(on_frames, off_frames)]
    changed = [n > 0 and np.abs(on_frames[n][H // 2:] - on_frames[n - 1][H // 2:]).max() > 40
               for n in range(len(on_frames))]
    runs = _runs(shown, changed)
    assert len(runs) == len(task.captions)  # the pixels see every event, and no more
    assert all(n >= 0.8 * FPS - 1 for _, n in runs[:-1])  # frames: ≥ 0.8 s each
    gaps = [b - (a + n) for (a, n), (b, _) in zip(runs, runs[1:])]
    assert all(g == 0 or g >= 0.3 * FPS - 1 for g in gaps)


def _frames(path):
    with av.open(path) as c:
        return [f.to_ndarray(format="rgb24").astype(np.int16) for f in c.decode(video=0)]


def _runs(shown, changed):
    """(first frame, frames) of each event seen in the pixels: a stretch of frames with captions,
    cut where the drawn text changes (events back to back)."""
    runs, start = [], None
    for n, s in enumerate(shown + [False]):
        if start is not None and (not s or changed[n]):
            runs.append((start, n - start))
            start = None
        if s and start is None:
            start = n
    return runs
