"""Title lines: a long CJK title shrinks before a third line and breaks between BudouX phrases;
Latin lines are balanced. Measured with the fonts titles draw with, and on the drawn picture."""

from __future__ import annotations

import itertools

import av
import budoux
import numpy as np
import pytest
from PIL import ImageFont

from sheet2video.engine.compose import title_lines
from sheet2video.engine.compose.layout import safe_area
from sheet2video.engine.compose.titles import layer
from sheet2video.engine.render import RenderTask, Shot, TextOverlay, render
from sheet2video.engine.text import fonts, linebreak
from tests.media import make_video

# 49 characters, as in the issue; "九折" (10 % off) is the word that used to be split.
ZH = "盒马鲜生回龙观新店盛大开业前三天全场商品一律九折会员再享满一百减二十还有新鲜海鲜现做现吃欢迎光临！"
W, H = 1080, 1920
DEFAULT_SIZE = round(min(W, H) * 0.08)  # titles' default: 8 % of the short side


def measure_at(text: str):
    """Widths in the bold face a default title of ``text`` is drawn with."""
    face = fonts.face_for(None, text, bold=True)
    return lambda size: ImageFont.truetype(face.path, size, index=face.index).getlength


def text_rows(mask: np.ndarray) -> list[tuple[int, int]]:
    """(first, last) row of each band of rows that hold ink, separated by empty rows."""
    rows = np.nonzero(mask.any(axis=1))[0]
    bands = []
    for _, run in itertools.groupby(enumerate(rows), key=lambda p: p[1] - p[0]):
        run = [r for _, r in run]
        bands.append((run[0], run[-1]))
    return bands


def picture_lines(text: str) -> list[tuple[int, int, int]]:
    """Each drawn line of a default-style title at 1080x1920: (height, left, right) of its fill."""
    found = layer([TextOverlay(text, style={"Outline": 0, "Shadow": 0})], W, H)
    a = np.asarray(found.image.getchannel("A")) > 128
    out = []
    for top, bottom in text_rows(a):
        cols = np.nonzero(a[top : bottom + 1].any(axis=0))[0]
        out.append((bottom - top + 1, cols[0], cols[-1]))
    return out


def test_the_title_is_the_issues_49_characters():
    assert len(ZH) == 49 and "九折" in ZH


@pytest.mark.parametrize("width", [W - 2 * safe_area(W, H).left, round(W * 0.82)])  # the safe width, and narrower
def test_a_long_chinese_title_takes_two_lines_broken_between_budoux_phrases(width):
    size, lines = title_lines.fit(ZH, width, measure_at(ZH), DEFAULT_SIZE)
    assert len(lines) == 2 and "".join(lines) == ZH
    assert size >= title_lines.min_size(DEFAULT_SIZE, ZH)
    phrases = budoux.load_default_simplified_chinese_parser().parse(ZH)
    boundaries = set(itertools.accumulate(len(p) for p in phrases))
    breaks = set(itertools.accumulate(len(line) for line in lines[:-1]))
    assert breaks <= boundaries, (lines, phrases)
    assert all("九折" in line for line in lines if "九" in line)


def test_the_drawn_chinese_title_has_two_lines_of_a_readable_size():
    drawn = picture_lines(ZH)
    assert len(drawn) == 2, drawn
    assert min(h for h, _, _ in drawn) >= 0.8 * title_lines.min_size(DEFAULT_SIZE, ZH)  # the CJK glyph body


def test_it_shrinks_before_a_third_line_and_only_then_takes_one():
    width = W - 2 * safe_area(W, H).left
    size, lines = title_lines.fit(ZH, width, measure_at(ZH), DEFAULT_SIZE)
    three = linebreak.fit(ZH, width, measure_at(ZH), DEFAULT_SIZE, max_lines=3)[0]
    assert len(lines) == 2 and size < three  # three lines would have been larger: two were preferred
    longer = ZH + ZH[:19]  # too long for two lines at the minimum size
    size, lines = title_lines.fit(longer, width, measure_at(longer), DEFAULT_SIZE)
    assert len(lines) == 3 and size > title_lines.min_size(DEFAULT_SIZE, ZH)
    short = ZH[:20]
    assert title_lines.fit(short, width, measure_at(short), DEFAULT_SIZE)[0] == DEFAULT_SIZE  # no shrinking needed


@pytest.mark.parametrize("text, count", [
    ("Fresh bread baked daily", 2),  # greedy: "Fresh bread baked" / "daily"
    ("Fresh coffee beans roasted daily for you", 2),
    ("Our biggest summer sale ends tonight at midnight, don't miss it", 3),  # Latin stops shrinking at 60 %
])
def test_latin_titles_are_balanced(text, count):
    drawn = picture_lines(text)
    assert len(drawn) == count, drawn
    widths = [right - left + 1 for _, left, right in drawn]
    assert min(widths) / max(widths) >= 0.6, widths


# --------------------------------------------------------------------------- a real render


@pytest.fixture(scope="module")
def grey(tmp_path_factory):
    return make_video(tmp_path_factory.mktemp("media") / "grey.mp4", 1.2, color="gray")


def rendered_lines(grey, tmp_path, text: str) -> int:
    """Lines of white fill in the title band (top 40 %) of frame 5 of a 180x320 render."""
    out = str(tmp_path / "t.mp4")
    render(RenderTask(output=out, width=180, height=320, duration=1.0, shots=[Shot(grey, "video", 0, 1, 1)],
                      titles=[TextOverlay(text)]))
    with av.open(out) as c:
        frame = next(f for i, f in enumerate(c.decode(video=0)) if i == 5).to_ndarray(format="rgb24")
    fill = frame[: round(320 * 0.4)].min(axis=2) > 200  # white glyphs; the grey picture and black outline are darker
    return len(text_rows(fill))


def test_a_rendered_long_chinese_title_shows_at_most_two_lines(grey, tmp_path):
    assert rendered_lines(grey, tmp_path, ZH[:34]) == 2  # the 60 %-then-break rule drew three here
    assert rendered_lines(grey, tmp_path, "全场九折\n会员再享\n欢迎光临") == 3  # the counter sees a third line
