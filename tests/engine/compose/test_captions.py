"""Voice-over captions: events from speech timings, the .ass file, and real libass renders (180x320)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import av
import numpy as np
import pytest

from sheet2video.engine.text import linebreak
from sheet2video.engine.compose import captions
from sheet2video.engine.compose.layout import safe_area, title_band
from sheet2video.engine.media.sources import MediaResolver
from sheet2video.engine.timeline.planner import JobPlanner
from sheet2video.engine.render import RenderTask, Shot, TextOverlay, build_command, render
from sheet2video.engine.timeline.task import Caption
from sheet2video.errors import RenderError
from sheet2video.cloud.checks import check_params
from tests.media import make_tone, make_video

W, H = 180, 320
FPS = 25


@dataclass(frozen=True)
class Seg:  # the shape of tts.Segment: text (a substring of the script), seconds inside the WAV
    text: str
    start: float
    end: float


@dataclass(frozen=True)
class Spoken:  # the shape of tts.Speech with the speech engine's timings
    path: str
    duration: float
    segments: tuple = ()
    words: tuple = ()


def word_timings(text: str, start: float, end: float) -> tuple[Seg, ...]:
    """Words of a clause spread over its time (what espeak's word events give, here made up)."""
    words = text.split()
    step = (end - start) / len(words)
    return tuple(Seg(w, round(start + i * step, 3), round(start + (i + 1) * step, 3)) for i, w in enumerate(words))


def frames_of(path: str) -> list[np.ndarray]:
    with av.open(path) as c:
        return [f.to_ndarray(format="rgb24").astype(np.int16) for f in c.decode(video=0)]


def ass_events(task: RenderTask) -> list[tuple[str, str, str]]:
    text, _ = captions.ass_text(task, W, H)
    out = []
    for line in text.splitlines():
        if line.startswith("Dialogue:"):
            _, start, end, _, _, _, _, _, _, body = line.split(",", 9)
            out.append((start, end, re.sub(r"^\{[^}]*\}", "", body)))  # our one leading tag block
    return out


def task_for(tmp_path, caps, **kw) -> RenderTask:
    src = tmp_path / "grey.mp4"
    if not src.exists():
        make_video(src, 3.0, f"{W}x{H}", color="0x336699")
    return RenderTask(output=str(tmp_path / "out.mp4"), width=W, height=H, duration=3.0,
                      shots=[Shot(str(src), "video", 0, 3, 3)], crf=0, captions=caps, **kw)


# ------------------------------------------------------------------ events from timings


def test_events_follow_the_clauses_offset_by_the_clip_and_clipped():
    spoken = Spoken("x.wav", 2.0, (Seg("Hello there.", 0.1, 0.9), Seg("Buy now!", 1.2, 1.9)))
    ev = captions.plan_events([(spoken, 1.5, "Hello there. Buy now!")], {}, W, H, total=3.2)
    assert [(e.text, e.start, e.end) for e in ev] == [("Hello there.", 1.6, 2.4), ("Buy now!", 2.7, 3.2)]


def test_speech_without_segments_is_one_event_for_the_clip():
    ev = captions.plan_events([(Spoken("x.wav", 1.4), 0.5, "Short line.")], {}, W, H, total=10)
    assert [(e.text, e.start, e.end) for e in ev] == [("Short line.", 0.5, 1.9)]


def test_long_english_clause_is_split_at_word_timings_into_two_line_events():
    clause = "Fresh coffee roasted every single morning in our little shop by the river, come and taste it today"
    spoken = Spoken("x.wav", 6.0, (Seg(clause, 0.2, 5.8),), word_timings(clause, 0.2, 5.8))
    ev = captions.plan_events([(spoken, 0.0, clause)], {}, W, H, total=6.0)
    assert len(ev) >= 2
    assert " ".join(e.text for e in ev) == clause  # every word, in order, once
    word_starts = {w.start for w in spoken.words} | {0.2}
    assert ev[0].start == 0.2 and ev[-1].end == 5.8
    for a, b in zip(ev, ev[1:]):
        assert a.end <= b.start and b.start in word_starts  # monotonic, cut where a word starts
    for e in ev:
        lk = captions.look({}, W, H, e.text)
        size, lines = captions.layout_event(e.text, lk)
        assert size == lk.size and len(lines) <= 2  # fits at the caption size, at most two lines


def test_long_chinese_clause_is_split_between_phrases_even_with_per_character_timings():
    clause = "周末全场商品八折优惠欢迎大家带着朋友一起来选购"  # per character, a cut could fall in 欢|迎
    chars = tuple(Seg(c, round(0.1 * i, 3), round(0.1 * (i + 1), 3)) for i, c in enumerate(clause))
    spoken = Spoken("x.wav", 2.5, (Seg(clause, 0.0, 2.4),), chars)
    ev = captions.plan_events([(spoken, 0.0, clause)], {"FontSize": 20}, W, H, total=3)
    assert len(ev) >= 2 and "".join(e.text for e in ev) == clause
    bounds = {0}
    for u in linebreak.units(clause):
        bounds.add(max(bounds) + len(u))
    at = 0
    for e in ev:
        assert at in bounds and e.start == round(0.1 * at, 3)  # starts where its first phrase is spoken
        at += len(e.text)


def test_events_of_clips_never_overlap_and_end_with_the_video():
    a = Spoken("a.wav", 2.0, (Seg("One more.", 0.0, 1.0), Seg("Two more.", 0.9, 2.5)))  # engine overshoot
    b = Spoken("b.wav", 2.0, (Seg("Three more.", 0.0, 1.5),))
    ev = captions.plan_events([(a, 0.0, "One more. Two more."), (b, 2.0, "Three more.")], {}, W, H, total=3.0)
    assert [(e.start, e.end) for e in ev] == [(0.0, 0.9), (0.9, 2.0), (2.0, 3.0)]


def test_caption_text_lines_cjk_by_phrase_latin_balanced():
    zh = "今天是晴天，我们一起去公园散步吧。还有新鲜的咖啡！"
    en = "Fresh coffee every single morning for you"
    task = RenderTask(output="/tmp/x.mp4", width=W, height=H, duration=4,
                      captions=[Caption(zh, 0, 1.5), Caption(en, 2, 3.5)])
    (_, _, zh_text), (_, _, en_text) = ass_events(task)
    zh_lines, en_lines = zh_text.split("\\N"), en_text.split("\\N")
    assert len(zh_lines) == 2 and "".join(zh_lines) == zh
    units = linebreak.units(zh)
    assert zh_lines[0] == "".join(units[: len(units) - len(linebreak.units(zh_lines[1]))])  # a phrase boundary
    for line in zh_lines:
        assert line[0] not in linebreak.NO_START and line[-1] not in linebreak.NO_END
    assert "公园" in zh_text.replace("\\N", "") and "公\\N园" not in zh_text
    assert len(en_lines) == 2 and " ".join(en_lines) == en
    assert abs(len(en_lines[0]) - len(en_lines[1])) <= 8  # balanced, no lone word


def test_ass_escaping_keeps_cell_text_literal():
    assert captions.escape_ass("{\\b1}x\\Ny\nz") == "\\{\\\u2060b1\\}x\\\u2060Ny z"
    task = RenderTask(output="/tmp/x.mp4", width=W, height=H, duration=2, captions=[Caption("{\\b1}A\\NB", 0, 1)])
    (_, _, body), = ass_events(task)
    assert "{" not in body.replace("\\{", "") and "}" not in body.replace("\\}", "")
    assert "\\N" not in body.replace("\\\u2060N", "")  # the cell's \N is no line break


def test_caption_times_out_of_order_are_a_task_error(tmp_path):
    with pytest.raises(RenderError, match="caption 0: times 2.0..1.0"):
        build_command(task_for(tmp_path, [Caption("Hi", 2.0, 1.0)]))


def test_ass_header_has_output_size_and_no_libass_wrapping(tmp_path):
    task = task_for(tmp_path, [Caption("Hi", 0, 1)])
    text, _ = captions.ass_text(task, W, H)
    assert f"PlayResX: {W}\nPlayResY: {H}\nWrapStyle: 2" in text
    assert "Dialogue: 0,0:00:00.00,0:00:01.00,Caption,," in text
    assert "Style: Caption,DejaVu Sans," in text and ",&H00FFFFFF,&H00FFFFFF,&H00000000," in text
    task.caption_style = {"FontColor": "#FFD700", "FontColorOpacity": 0.5, "OutlineColour": "#102030"}
    text, _ = captions.ass_text(task, W, H)
    assert ",&H8000D7FF,&H8000D7FF,&H00302010," in text  # ASS is &HAABBGGRR


# ------------------------------------------------------------------ placement and style


def test_default_position_is_the_bottom_of_the_safe_area_and_titles_push_top_captions_down():
    lk = captions.look({}, 1080, 1920, "Hi")
    assert (lk.an, lk.x, lk.y) == (2, 507, 1920 - safe_area(1080, 1920).bottom)  # the zone's centre: its right margin is wider
    assert 55 <= lk.size <= 62  # 5.5 % of the short side
    task = RenderTask(output="/tmp/x.mp4", width=W, height=H, duration=2, captions=[Caption("Hi there", 0, 1)],
                      caption_style={"Alignment": "TopCenter"}, titles=[TextOverlay("Sale")])
    text, _ = captions.ass_text(task, W, H)
    y = int(re.search(r"\\pos\(\d+,(\d+)\)", text).group(1))
    assert y >= title_band(W, H)[1]
    assert safe_area(1920, 1080).bottom < safe_area(1080, 1920).bottom  # 16:9 players cover less


@pytest.mark.parametrize("field, value", [("FontSize", 0), ("FontSize", 5000), ("Alignment", "Bottom"),
                                          ("FontColor", "#12345"), ("OutlineColour", "purpleish"),
                                          ("TextWidth", 1.5), ("Y", -3), ("Outline", "thick"), ("TextWidth", "wide"),
                                          ("FontColorOpacity", 2)])
def test_bad_style_is_a_render_error_naming_the_field(field, value):
    with pytest.raises(RenderError, match=f"AsrConfig.{field}"):
        captions.look({field: value}, W, H, "Hi")


@pytest.mark.parametrize("field, value", [("FontSize", 0), ("FontSize", 5000), ("Alignment", "Middle"),
                                          ("FontColor", "red-ish"), ("OutlineColour", "#1234"), ("Outline", -1),
                                          ("TextWidth", 0), ("X", 1.5), ("Enable", "maybe"),
                                          ("FontColorOpacity", -0.5)])
def test_bad_style_is_a_plan_time_issue_naming_the_field(field, value):
    params = {"InputConfig": {"MediaGroupArray": [{"GroupName": "a", "MediaArray": ["a.mp4"]}]},
              "OutputConfig": {"MediaURL": "https://b.oss-cn-shanghai.aliyuncs.com/o_{index}.mp4"},
              "EditingConfig": {"SpeechConfig": {"AsrConfig": {field: value}}}}
    paths = [i.path for i in check_params(params) if i.level == "error"]
    assert paths == [f"EditingConfig.SpeechConfig.AsrConfig.{field}"]


def test_caption_size_against_the_output_and_outline_against_the_size_are_checked_at_plan_time():
    params = {"InputConfig": {"MediaGroupArray": [{"GroupName": "a", "MediaArray": ["a.mp4"]}]},
              "OutputConfig": {"MediaURL": "https://b.oss-cn-shanghai.aliyuncs.com/o_{index}.mp4", "Width": 720, "Height": 1280},
              "EditingConfig": {"SpeechConfig": {"AsrConfig": {"FontSize": 400}}}}
    (issue,) = check_params(params)
    assert issue.path == "EditingConfig.SpeechConfig.AsrConfig.FontSize" and "320 px" in issue.message
    params["EditingConfig"]["SpeechConfig"]["AsrConfig"] = {"FontSize": 40, "Outline": 60}
    (issue,) = check_params(params)
    assert issue.path == "EditingConfig.SpeechConfig.AsrConfig" and "Outline" in issue.message


def test_good_style_passes_plan_time_checks():
    params = {"InputConfig": {"MediaGroupArray": [{"GroupName": "a", "MediaArray": ["a.mp4"]}]},
              "OutputConfig": {"MediaURL": "https://b.oss-cn-shanghai.aliyuncs.com/o_{index}.mp4"},
              "EditingConfig": {"SpeechConfig": {"AsrConfig": {
                  "Enable": True, "Font": "AlibabaPuHuiTi", "FontSize": 60, "FontColor": "#FFD700", "Outline": 4,
                  "OutlineColour": "#000000", "Alignment": "BottomCenter", "Y": 0.78, "X": 40, "TextWidth": 0.86,
                  "FontFace": {"Bold": True}}}}}
    assert [i for i in check_params(params) if i.level == "error"] == []


# ------------------------------------------------------------------ the planner


def test_planner_turns_speech_timings_into_captions_in_grouped_mode(tmp_path):
    media = tmp_path / "media"
    media.mkdir()
    make_video(media / "a.mp4", 3.0, "64x64", color="red")
    wav = make_tone(tmp_path / "s.wav", 2.0)

    class Synth:
        def synthesize(self, text, voice, rate, language=None):
            first, dot, rest = text.partition(". ")
            segs = (Seg(first + dot.strip(), 0.1, 0.8),) + ((Seg(rest, 1.0, 1.9),) if rest else ())
            return Spoken(wav, 2.0, segs)

    planner = JobPlanner(MediaResolver(media, tmp_path / "cache"), Synth())
    groups = [{"GroupName": "a", "MediaArray": ["a.mp4"], "SpeechTextArray": ["Hello there. Buy now!"]},
              {"GroupName": "b", "MediaArray": ["a.mp4"], "SpeechTextArray": ["Second group."]}]
    params = {"InputConfig": {"MediaGroupArray": groups},
              "OutputConfig": {"MediaURL": "x_{index}.mp4", "Width": W, "Height": H}}
    (task,) = planner.plan(params, [str(tmp_path / "o.mp4")])
    assert [(c.text, c.start, c.end) for c in task.captions] == [
        ("Hello there.", 0.1, 1.0), ("Buy now!", 1.0, 2.1), ("Second group.", 2.1, 2.9)]  # paced: gaps closed, 0.8 s
    params["EditingConfig"] = {"SpeechConfig": {"AsrConfig": {"Enable": False, "FontSize": 20}}}
    (off,) = planner.plan(params, [str(tmp_path / "o.mp4")])
    assert off.captions == [] and off.caption_style == {"FontSize": 20}


# ------------------------------------------------------------------ real renders


def band(frame: np.ndarray) -> np.ndarray:
    """The lower half, where captions live by default."""
    return frame[H // 2:]


def test_captions_are_visible_exactly_while_their_clause_is_spoken(tmp_path):
    caps = [Caption("Fresh coffee", 0.40, 1.20), Caption("Buy one, get one free", 1.60, 2.60)]
    on = frames_of(render(task_for(tmp_path, caps)).path)
    off_task = task_for(tmp_path, [])
    off_task.output = str(tmp_path / "off.mp4")
    off = frames_of(render(off_task).path)
    assert len(on) == len(off) == 75
    shown = [bool(np.abs(band(a) - band(b)).max() > 40) for a, b in zip(on, off)]
    expected = [any(math.ceil(c.start * FPS) <= n < math.ceil(c.end * FPS) for c in caps) for n in range(75)]
    assert shown == expected  # frame 10..29 and 40..64, nothing else
    for n in range(75):
        if not expected[n]:
            assert np.array_equal(on[n], off[n])  # lossless: untouched frames are identical
    assert np.array_equal(on[0][: H // 2], on[20][: H // 2])  # nothing drawn in the upper half


def test_caption_glyphs_match_the_measured_width_and_braces_are_drawn(tmp_path):
    """libass draws the literal text, as wide as Pillow measured it with the same font."""
    text = "{\\b1}AB"
    style = {"Outline": 0, "FontColor": "#FFFFFF", "FontSize": 20}
    task = task_for(tmp_path, [Caption(text, 0, 3)], caption_style=style)
    frame = frames_of(render(task).path)[10]
    ink = np.nonzero((frame[H // 2:] > 200).all(axis=2).any(axis=0))[0]
    lk = captions.look(style, W, H, text)
    expected = captions._pil(lk.file, lk.index, lk.size).getlength(text)
    assert abs((ink.max() - ink.min()) - expected) <= 0.12 * expected  # not just "AB" in bold


def test_chinese_caption_renders_and_is_deterministic(tmp_path):
    caps = [Caption("今天是晴天，我们一起去公园散步吧。", 0.2, 2.8)]
    first = render(task_for(tmp_path, caps)).path
    data = open(first, "rb").read()
    again = render(task_for(tmp_path, caps)).path
    assert open(again, "rb").read() == data
    frame = frames_of(first)[25]
    white = (frame[H // 2:] > 200).all(axis=2)
    cols, rows = np.nonzero(white.any(axis=0))[0], np.nonzero(white.any(axis=1))[0]
    lk = captions.look({}, W, H, caps[0].text)
    size, lines = captions.layout_event(caps[0].text, lk)
    font = captions._pil(lk.file, lk.index, size)
    widest = max(font.getlength(ln) for ln in lines)
    assert len(lines) == 2 and abs((cols.max() - cols.min()) - widest) <= 0.12 * widest  # glyphs, not boxes
    assert rows.max() - rows.min() > 1.5 * size  # two lines drawn
    assert not list((tmp_path).glob(".*.ass"))  # removed with the filtergraph file


def test_build_command_draws_captions_after_stickers_and_before_titles(tmp_path):
    task = task_for(tmp_path, [Caption("Hi", 0, 1)], titles=[TextOverlay("Title")])
    _, graph = build_command(task, graph_path=str(tmp_path / "g.filtergraph"))
    assert graph.index("ass=filename=") < graph.index("[tt0]overlay=")  # the titles' picture goes on top
    assert (tmp_path / "g.ass").read_text(encoding="utf-8").startswith("[Script Info]")
    _, graph = build_command(task_for(tmp_path, []))
    assert "ass=" not in graph


# ------------------------------------------------------------------ sheet columns


def _plan_row(write_csv, cells: str):
    from sheet2video.plan.campaign import plan_campaign
    from sheet2video.sheets.read import read_sheet
    from sheet2video.plan.templating import load_template_set
    import json

    sheet = read_sheet(write_csv("id,media:A,speech,width,height" + cells))
    (job,) = plan_campaign(sheet, load_template_set("script"))
    return json.loads(job.params["EditingConfig"])["SpeechConfig"]["AsrConfig"]


def test_caption_columns_a_marketing_person_fills_in(write_csv):
    asr = _plan_row(write_csv, ",captions,caption_size,caption_color,caption_position\na,x.mp4,Hi.,1080,1920,yes,large,yellow,top\n")
    assert asr == {"FontSize": 76, "FontColor": "yellow", "Alignment": "TopCenter"}
    assert _plan_row(write_csv, ",captions\na,x.mp4,Hi.,1080,1920,no\n") == {"Enable": False}
    assert _plan_row(write_csv, ",caption_size\na,x.mp4,Hi.,1280,720,48\n")["FontSize"] == 48


@pytest.mark.parametrize("column, value, fragment", [("caption_position", "left", "caption_position"),
                                                     ("caption_color", "#12", "caption_color"),
                                                     ("caption_size", "huge", "caption_size")])
def test_bad_caption_cell_names_row_and_column(write_csv, column, value, fragment):
    from sheet2video.plan.campaign import plan_campaign
    from sheet2video.errors import PreflightError
    from sheet2video.sheets.read import read_sheet
    from sheet2video.plan.templating import load_template_set

    sheet = read_sheet(write_csv(f"id,media:A,speech,{column}\na,x.mp4,Hi.,{value}\n"))
    with pytest.raises(PreflightError) as caught:
        plan_campaign(sheet, load_template_set("script"))
    (problem,) = caught.value.problems
    assert str(problem).startswith(f"row 2, {fragment}"), str(problem)


def test_odd_output_names_and_fonts_fontconfig_does_not_know(tmp_path, monkeypatch):
    folder = tmp_path / "it's, [odd]"
    folder.mkdir()
    task = task_for(folder, [Caption("Hi there", 0.2, 1.0)])
    task.output = str(folder / "a:b's %d;[1].mp4")
    # a font from a user folder: libass is given its folder, Pillow measures the file itself
    monkeypatch.setattr(captions, "_fc_match", lambda pattern: None)
    captions._resolve.cache_clear()
    try:
        _, graph = build_command(task, graph_path=str(folder / "g.filtergraph"))
        assert ":fontsdir=" in graph
        on = frames_of(render(task).path)
    finally:
        captions._resolve.cache_clear()
    assert sorted(p.name for p in folder.iterdir() if not p.name.startswith(("grey", "g.")) and not p.name.endswith(".jpg")) == [
        task.output.rsplit("/", 1)[1]
    ]
    assert np.abs(band(on[10]) - band(on[40])).max() > 40  # drawn at 0.4 s, gone at 1.6 s


def test_a_task_error_after_the_captions_stage_leaves_no_ass_file(tmp_path):
    task = task_for(tmp_path, [Caption("Hi", 0, 1)], titles=[TextOverlay("T", style={"FontSize": 2})])
    with pytest.raises(RenderError):
        render(task)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_caption_font_family_names_resolve_like_titles():
    from sheet2video.engine.compose.captions import look

    assert look({"Font": "KaiTi"}, 1080, 1920, "欢迎光临").family == "Noto Serif CJK SC"
    assert look({"Font": "AlibabaPuHuiTi"}, 1080, 1920, "欢迎光临").family == "Noto Sans CJK SC"
    assert look({"Font": "NoSuchFont"}, 1080, 1920, "Hello").family == look({}, 1080, 1920, "Hello").family


def test_emoji_are_left_out_of_captions_never_drawn_as_boxes():
    from sheet2video.engine.compose.captions import ass_text
    from sheet2video.engine.timeline.task import Caption, RenderTask

    task = RenderTask(output="/tmp/x.mp4", width=360, height=640, duration=2.0,
                      captions=[Caption("Big sale 🎃🔥 today ★", 0.0, 1.0), Caption("🎉", 1.0, 2.0)])
    text, _ = ass_text(task, 360, 640)
    dialogue = [line for line in text.splitlines() if line.startswith("Dialogue:")]
    assert len(dialogue) == 1 and dialogue[0].endswith("Big sale today ★"), dialogue
