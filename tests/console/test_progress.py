"""The progress display: the time-left estimate as a pure function, the rich bar as it is drawn,
and the plain lines' pacing."""

import io

import pytest
from rich.console import Console

from sheet2video.console.eta import Pace, clock_text, time_left
from sheet2video.console.progress import PlainReporter, RichReporter


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_time_left_is_the_finish_rate_of_this_run():
    assert time_left(done=5, total=20, elapsed=50.0) == pytest.approx(150.0)  # 10 s a job, 15 to go
    # 4 were finished by an earlier run: only the 1 finished here (in 50 s) sets the pace
    assert time_left(done=5, total=20, elapsed=50.0, done_at_start=4) == pytest.approx(750.0)
    assert time_left(done=4, total=20, elapsed=50.0, done_at_start=4) is None  # nothing finished yet here
    assert time_left(done=0, total=20, elapsed=0.0) is None
    assert time_left(done=20, total=20, elapsed=99.0) == 0.0


def test_clock_text():
    assert [clock_text(s) for s in (None, 7, 245, 3723, 59.6)] == ["-:--", "0:07", "4:05", "1:02:03", "1:00"]


def test_pace_starts_at_the_first_count():
    clock = Clock()
    pace = Pace(clock)
    first = pace.snapshot({"Finished": 2, "Processing": 1}, 10)  # 2 from an earlier run
    assert (first.done, first.rendering, first.waiting, first.elapsed, first.left) == (2, 1, 7, 0.0, None)
    clock.now += 30
    later = pace.snapshot({"Finished": 4, "Failed": 1, "Processing": 2}, 10)
    assert (later.done, later.failed, later.waiting, later.elapsed) == (5, 1, 3, 30.0)
    assert later.left == pytest.approx(50.0)  # 3 done here in 30 s → 5 left at 10 s each
    assert later.line() == "5/10 done (1 failed) · 2 rendering · 3 waiting · 0:30 elapsed · about 0:50 left"


def test_rich_bar_shows_done_total_elapsed_and_time_left():
    clock = Clock()
    console = Console(file=io.StringIO(), width=110, record=True, force_terminal=True, color_system=None)
    reporter = RichReporter(console, clock)
    reporter.progress({"Init": 8}, 8)
    clock.now += 120
    reporter.progress({"Finished": 2, "Failed": 1, "Processing": 2, "Init": 3}, 8)
    reporter.close()
    last = console.export_text().rsplit("jobs ", 1)[1]  # the last frame drawn (the live display redraws in place)
    assert last.endswith(" 3/8 rendering 2 · waiting 3 · 1 failed 2:00 elapsed · ~3:20 left\n")
    bar = last[:last.index(" 3/8")]
    assert bar.count("━") == 15 and set(bar) <= set("━╸╺ ")  # 3 of 8 of rich's 40-cell bar, filled with its glyph


def test_plain_lines_come_at_most_every_n_seconds_and_at_the_end(capsys):
    clock = Clock()
    reporter = PlainReporter(every=10, clock=clock)
    steps = [(0, {"Init": 4}), (2, {"Processing": 2, "Init": 2}), (5, {"Finished": 1, "Processing": 2, "Init": 1}),
             (11, {"Finished": 1, "Processing": 2, "Init": 1}), (12, {"Finished": 2, "Processing": 2}),
             (14, {"Finished": 4})]
    for at, counts in steps:
        clock.now = 1000.0 + at
        reporter.progress(counts, 4)
    lines = [line.split(" ", 1)[1] for line in capsys.readouterr().err.splitlines()]
    assert lines == [
        "progress: 0/4 done · 0 rendering · 4 waiting · 0:00 elapsed · time left: after the first video",
        "progress: 1/4 done · 2 rendering · 1 waiting · 0:11 elapsed · about 0:33 left",  # the change at 5 s, shown at 11 s
        "progress: 4/4 done · 0 rendering · 0 waiting · 0:14 elapsed · done",  # the end: at once
    ]
