"""The editor's rules (engine/timeline/editor.py, README "How the engine edits") checked on real
renders: every frame of the clips generated here carries its source, scene and frame number as a
pixel code (tests/engine/timeline/pixelcode.py), so each output's edit list is rebuilt from its
decoded frames, not taken from the plan."""

from __future__ import annotations

import pytest

from sheet2video.engine.media.sources import MediaResolver
from sheet2video.engine.render import render
from sheet2video.engine.speech.espeak import EspeakSynthesizer
from sheet2video.engine.timeline.editor import MAX_SPEED, MIN_SPEED
from sheet2video.engine.timeline.footage import MIN_PIECE
from sheet2video.engine.timeline.planner import JobPlanner
from tests.engine.timeline.pixelcode import click_track, coded_clip, coded_photo, edit_list, is_black

FPS = 25
SCRIPT = ("Meet the new bottle. Cold brew, slow steeped for eighteen hours, smooth and never bitter. "
          "Order today and get two for one.")
LONG = SCRIPT + " It keeps for two weeks in your fridge, and the glass goes back for a refund. " + SCRIPT


@pytest.fixture(scope="module")
def studio(tmp_path_factory):
    """Coded material (source ids in brackets) and a planner over it."""
    root = tmp_path_factory.mktemp("editing")
    coded_clip(root / "opening.mp4", 1, [4.0])                  # [1] one 4 s scene
    coded_clip(root / "product.mp4", 2, [3.0])                  # [2]
    coded_photo(root / "product.png", 3)                        # [3]
    coded_clip(root / "city.mp4", 4, [2.5, 3.0, 2.5])           # [4] three scenes
    coded_clip(root / "beach.mp4", 5, [6.0])                    # [5]
    coded_clip(root / "dull.mp4", 6, [4.0], black_head=1.0, frozen_tail=1.5)  # [6]
    coded_clip(root / "cuts.mp4", 7, [1.7, 1.9, 2.4])           # [7] cuts at 1.7 and 3.6 s
    coded_clip(root / "long_a.mp4", 8, [12.0])                  # [8]
    coded_clip(root / "long_b.mp4", 9, [12.0])                  # [9]
    beats = click_track(root / "clicks.m4a", 120, 30.0)
    planner = JobPlanner(MediaResolver(root, root / "cache"), EspeakSynthesizer(root / "tts"), facts=root / "facts")
    return planner, root, beats


def plan(studio, name, groups=None, script=SCRIPT, count=1, process=None, **extra):
    planner, root, _ = studio
    inputs = {"MediaGroupArray": [{"GroupName": g, "MediaArray": media} for g, media in groups]} if groups else {}
    inputs.update(extra.pop("inputs", {}))
    if script:
        inputs["SpeechTextArray"] = [script]
    params = {"InputConfig": inputs,
              "EditingConfig": {"ProcessConfig": process or {}, "SpeechConfig": {"AsrConfig": {"Enable": False}},
                                **extra.pop("editing", {})},
              "OutputConfig": {"MediaURL": "x_{index}.mp4", "Width": 180, "Height": 320, "Count": count}}
    return planner.plan(params, [str(root / f"{name}_{i}.mp4") for i in range(count)])


def rendered(task):
    render(task)
    pieces = edit_list(task.output)
    assert pieces, "no readable frame in the output"
    return pieces


def repeated_spans(pieces) -> list:
    """Pairs of pieces that show the same frames of the same source (a photo counts once)."""
    out = []
    for i, a in enumerate(pieces):
        for b in pieces[i + 1:]:
            if a.source == b.source and min(a.last, b.last) - max(a.first, b.first) >= 1:
                out.append((a, b))
    return out


def test_two_groups_show_both_in_order_the_product_for_a_full_shot_and_nothing_twice(studio):
    """The issue's sheet: an opening clip, a product photo and clip, two variants."""
    tasks = plan(studio, "two", [("Opening", ["opening.mp4"]), ("Product", ["product.png", "product.mp4"])],
                 count=2, process={"AllowTransition": True, "TransitionDuration": 0.4})
    products = set()
    for task in tasks:
        pieces = rendered(task)
        sources = [p.source for p in pieces]
        assert sources[0] == 1, sources  # the opening first
        assert set(sources[sources.index(next(s for s in sources if s != 1)):]) <= {2, 3}, sources  # then only product
        closing = [p for p in pieces if p.source == pieces[-1].source][-1]
        assert closing.end - closing.start >= 3.0 - 0.45, pieces  # a full shot (less a fade's blend)
        assert not repeated_spans(pieces), pieces
        assert all(MIN_SPEED - 0.06 <= p.speed <= MAX_SPEED + 0.06 for p in pieces if p.source != 3 and p.last - p.first >= 10), pieces
        products |= {s for s in sources if s in (2, 3)}
    assert products == {2, 3}  # across the two variants, every product item is used


def test_a_long_voice_over_uses_more_material_before_showing_anything_twice(studio):
    groups = [("A", ["city.mp4", "beach.mp4"]), ("B", ["opening.mp4", "product.mp4"]), ("C", ["product.png"])]
    (task,) = plan(studio, "long", groups, script=LONG)
    pieces = rendered(task)
    assert not repeated_spans(pieces), pieces
    assert {p.source for p in pieces} == {1, 2, 3, 4, 5}, pieces  # every file before a repeat
    assert all(p.end - p.start >= MIN_PIECE for p in pieces), pieces  # no flash frame
    groups_seen = [{4: "A", 5: "A", 1: "B", 2: "B", 3: "C"}[p.source] for p in pieces]
    assert groups_seen == sorted(groups_seen), groups_seen  # group order kept while filling
    assert all(p.speed <= MAX_SPEED + 0.06 for p in pieces if p.source != 3 and p.last - p.first >= 10), pieces


def test_clips_are_cut_at_their_own_scenes_without_black_or_frozen_ends(studio):
    (task,) = plan(studio, "scenes", [("A", ["cuts.mp4", "dull.mp4"])], script=LONG, process={"SingleShotDuration": 3})
    render(task)
    assert not any(is_black(task.output)), "a black frame of dull.mp4's head is on screen"
    pieces = edit_list(task.output)
    assert all(p.end - p.start >= MIN_PIECE - 1e-6 for p in pieces), pieces  # no flash of a neighbouring scene
    frozen_from = round((1.0 + 4.0) * FPS)  # dull.mp4 frame numbers count its black head
    assert all(p.last < frozen_from for p in pieces if p.source == 6), pieces
    planned = [(s.start, s.start + s.source_duration) for s in task.shots if s.path.endswith("cuts.mp4")]
    assert planned and all(not (a < cut - 0.02 and b > cut + 0.02) for a, b in planned for cut in (1.7, 3.6)), planned


def test_without_clip_detection_shots_ignore_the_scenes(studio):
    (task,) = plan(studio, "nodetect", [("A", ["cuts.mp4"])], script="", process={"SingleShotDuration": 3,
                                                                               "EnableClipDetection": False})
    assert [(s.start, s.source_duration) for s in task.shots] == [(0.0, 3.0)]  # across the 1.7 s cut
    (task,) = plan(studio, "detect", [("A", ["cuts.mp4"])], script="", process={"SingleShotDuration": 3})
    assert all(s.start + s.source_duration <= 1.7 + 1e-6 or s.start >= 1.7 - 1e-6 for s in task.shots), task.shots


def test_cuts_land_on_the_beat_and_the_voice_does_not_move(studio):
    _, root, beats = studio
    groups = [("A", ["long_a.mp4"]), ("B", ["long_b.mp4"]), ("C", ["beach.mp4"])]
    process = {"SingleShotDuration": 2.2}
    (plain,) = plan(studio, "nobeat", groups, script=LONG, process=process)
    (task,) = plan(studio, "beat", groups, script=LONG, process=process, inputs={"BackgroundMusicArray": ["clicks.m4a"]})
    assert [(c.start, c.duration) for c in task.speech] == [(c.start, c.duration) for c in plain.speech]
    assert task.duration == plain.duration
    pieces = rendered(task)
    cuts = [p.start for p in pieces[1:]]
    assert len(cuts) == len(task.shots) - 1, pieces
    for cut in cuts:  # beats every 0.5 s: every cut can reach one within 0.25 s
        assert min(abs(cut - b) for b in beats) <= 1.5 / FPS, (cut, pieces)


def test_variants_differ_and_never_open_on_the_same_shot(studio):
    groups = [("A", ["city.mp4", "beach.mp4", "opening.mp4"]), ("B", ["product.mp4", "product.png"])]
    tasks = plan(studio, "variants", groups, script="", count=3)
    firsts = [(t.shots[0].path, t.shots[0].start) for t in tasks]
    assert len(set(firsts)) == 3, firsts
    lists = [tuple((s.path, s.start, s.source_duration) for s in t.shots) for t in tasks]
    assert len(set(lists)) == 3, lists
    used = {s.path.rsplit("/", 1)[-1] for t in tasks for s in t.shots}
    assert used >= {"city.mp4", "beach.mp4", "opening.mp4", "product.mp4", "product.png"}, used


def test_material_too_short_for_the_voice_over_is_a_warning_with_the_shortfall(studio):
    (task,) = plan(studio, "short", [("A", ["opening.mp4"])], script=LONG)
    (warning,) = [w for w in task.warnings if "without showing a shot twice" in w]
    assert f"the voice-over ({task.duration:.1f} s)" in warning and "s short" in warning, warning


def test_image_text_matches_media_to_sentences_by_their_words(studio):
    _, root, _ = studio
    coded_photo(root / "blue_bag.png", 10)
    coded_photo(root / "red-sneaker.png", 11)
    script = "This blue bag fits everything you carry. Our red sneakers weigh almost nothing."
    (task,) = plan(studio, "words", script=script, inputs={"MediaArray": ["red-sneaker.png", "blue_bag.png"]})
    assert [p.source for p in rendered(task)] == [10, 11]


def test_the_same_job_plans_the_same_edit(studio):
    groups = [("A", ["city.mp4", "beach.mp4"]), ("B", ["product.mp4", "product.png"])]
    first = [t.to_dict()["shots"] for t in plan(studio, "same", groups, count=3)]
    again = [t.to_dict()["shots"] for t in plan(studio, "same", groups, count=3)]
    assert first == again


def test_clip_detection_on_a_job_without_clips_is_a_warning_naming_the_field(studio):
    (task,) = plan(studio, "photos", [("A", ["product.png"])], script="", process={"EnableClipDetection": True})
    assert any(w.startswith("ProcessConfig.EnableClipDetection") for w in task.warnings), task.warnings
    (task,) = plan(studio, "photos_quiet", [("A", ["product.png"])], script="")
    assert not any("EnableClipDetection" in w for w in task.warnings), task.warnings
