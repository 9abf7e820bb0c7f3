"""Titles rasterised with Pillow and overlaid by FFmpeg: real renders at 180x320, frames compared."""

from __future__ import annotations

import logging

import av
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from sheet2video.engine.text import fonts
from sheet2video.engine.compose import build_command
from sheet2video.engine.compose.layout import centre_x
from sheet2video.engine.compose.titles import layer
from sheet2video.engine.render import RenderTask, Shot, TextOverlay, render
from sheet2video.errors import RenderError
from tests.media import make_video

W, H = 180, 320


@pytest.fixture(scope="module")
def grey(tmp_path_factory):
    return make_video(tmp_path_factory.mktemp("media") / "grey.mp4", 1.2, color="gray")


def rendered(grey, tmp_path, name, titles) -> np.ndarray:
    """Frame 5 of a 1 s render (RGB, int16)."""
    out = str(tmp_path / f"{name}.mp4")
    render(RenderTask(output=out, width=W, height=H, duration=1.0, shots=[Shot(grey, "video", 0, 1, 1)], titles=titles))
    with av.open(out) as c:
        for i, f in enumerate(c.decode(video=0)):
            if i == 5:
                return f.to_ndarray(format="rgb24").astype(np.int16)
    raise AssertionError("no frame 5")


@pytest.fixture(scope="module")
def plain(grey, tmp_path_factory):
    return rendered(grey, tmp_path_factory.mktemp("plain"), "plain", [])


def ink(frame: np.ndarray, plain: np.ndarray) -> np.ndarray:
    return np.abs(frame - plain).max(axis=2) > 60


def alpha(titles, w=W, h=H) -> np.ndarray:
    return np.asarray(layer(titles, w, h).image.getchannel("A"), dtype=np.int16)


def test_emoji_title_draws_colour_pixels(grey, plain, tmp_path):
    frame = rendered(grey, tmp_path, "emoji", [TextOverlay("🎉🔥🍉")])
    saturation = frame.max(axis=2) - frame.min(axis=2)
    colourful = (saturation > 90) & ink(frame, plain)
    rows = np.nonzero(colourful.any(axis=1))[0]
    assert colourful.sum() > 150, colourful.sum()  # real colour, not a white or grey outline of a box
    assert rows.max() < H // 3  # in the title area
    assert (plain.max(axis=2) - plain.min(axis=2)).max() < 30  # the background is grey


def tofu(text: str, size: int) -> np.ndarray:
    """The same text in a font without its script (DejaVu Sans: boxes)."""
    font = ImageFont.truetype(fonts.face_for("DejaVu Sans").path, size)
    img = Image.new("L", (int(font.getlength(text)) + 4, size * 2))
    ImageDraw.Draw(img).text((2, size * 1.5), text, font=font, fill=255, anchor="ls")
    return np.asarray(img) > 128


@pytest.mark.parametrize("text, script_font", [("สวัสดีครับ", "Noto Sans Thai"), ("नमस्ते दुनिया", "Noto Sans Devanagari")])
def test_thai_and_hindi_titles_draw_real_glyphs(grey, plain, tmp_path, text, script_font):
    faces = fonts.chain(fonts.face_for(None, text), text)
    runs = fonts.runs(text, faces)
    assert [f.family for _, f in runs] == [script_font]
    assert all(fonts.covers(runs[0][1], c) for c in text)  # the chosen font has every character
    assert not all(fonts.covers(fonts.face_for("DejaVu Sans"), c) for c in text if not c.isspace())  # the old one had not
    # the script font draws other shapes than DejaVu's boxes
    font = ImageFont.truetype(runs[0][1].path, 40, layout_engine=ImageFont.Layout.RAQM)
    img = Image.new("L", (int(font.getlength(text)) + 4, 80))
    ImageDraw.Draw(img).text((2, 60), text, font=font, fill=255, anchor="ls")
    real, boxes = np.asarray(img) > 128, tofu(text, 40)
    cols = min(real.shape[1], boxes.shape[1])
    assert (real[:, :cols] != boxes[:, :cols]).mean() > 0.05
    # and the video shows it in the title area
    drawn = ink(rendered(grey, tmp_path, "script", [TextOverlay(text)]), plain)
    assert drawn.sum() > 150 and np.nonzero(drawn.any(axis=1))[0].max() < H // 3


def profile(a: np.ndarray) -> np.ndarray:
    """Ink per column, from the first inked column (independent of vertical placement)."""
    cols = (a > 128).sum(axis=0)
    return cols[np.nonzero(cols)[0][0] :]


def test_arabic_is_laid_out_right_to_left():
    # A right-to-left line holding a Latin word shows it on the left, as the left-to-right line
    # with the words the other way round does; laid out left to right it would be on the right.
    rtl, ltr = profile(alpha([TextOverlay("مرحبا ABC")])), profile(alpha([TextOverlay("ABC مرحبا")]))
    latin = profile(alpha([TextOverlay("ABC", style={"Font": "Noto Sans Arabic"})]))  # the same fonts as above
    n = min(len(rtl), len(ltr))
    assert np.abs(rtl[:n] - ltr[:n]).mean() < 2.0, np.abs(rtl[:n] - ltr[:n]).mean()
    k = len(latin) - 2
    at_left = np.abs(rtl[:k] - latin[:k]).mean()
    end = len(np.trim_zeros(rtl, "b"))
    at_right = np.abs(rtl[end - k : end] - latin[:k]).mean()
    assert at_left < 0.5 < at_right, (at_left, at_right)


def test_arabic_title_renders_joined_glyphs(grey, plain, tmp_path):
    drawn = ink(rendered(grey, tmp_path, "arabic", [TextOverlay("مرحبا بالعالم")]), plain)
    assert drawn.sum() > 150


def test_chinese_title_uses_a_cjk_font(grey, plain, tmp_path):
    text = "盒马鲜生开业啦"
    runs = fonts.runs(text, fonts.chain(fonts.face_for(None, text), text))
    assert [f.family for _, f in runs] == ["Noto Sans CJK SC"]
    drawn = ink(rendered(grey, tmp_path, "cjk", [TextOverlay(text)]), plain)
    assert drawn.sum() > 150


@pytest.mark.parametrize("size", [None, 60])
def test_a_long_single_word_stays_inside_the_frame(grey, plain, tmp_path, size):
    word = "Supercalifragilisticexpialidocious"
    style = {"FontSize": size} if size else {}
    found = layer([TextOverlay(word, style=style)], W, H)
    assert found.x >= 0 and found.x + found.image.width <= W  # the whole rasterised word fits
    drawn = ink(rendered(grey, tmp_path, "long", [TextOverlay(word, style=style)]), plain)
    edge = int(np.ceil(W * 0.02))
    assert drawn.sum() > 100
    assert not drawn[:, :edge].any() and not drawn[:, -edge:].any()


def test_unknown_font_is_rendered_with_the_fallback(grey, plain, tmp_path):
    drawn = ink(rendered(grey, tmp_path, "unknown", [TextOverlay("Hello", style={"Font": "No Such Font Pro"})]), plain)
    assert drawn.sum() > 100


def test_cloud_font_names_render(grey, plain, tmp_path):
    titles = [TextOverlay("开业大吉", style={"Font": "AlibabaPuHuiTi"}), TextOverlay("限时", 1, {"Font": "KaiTi"})]
    assert ink(rendered(grey, tmp_path, "cloud", titles), plain).sum() > 150


def bbox(titles):
    found = layer(titles, W, H)
    a = np.asarray(found.image.getchannel("A")) > 128
    rows, cols = np.nonzero(a.any(axis=1))[0], np.nonzero(a.any(axis=0))[0]
    return found.x + cols[0], found.y + rows[0], found.x + cols[-1], found.y + rows[-1]


def test_alignment_and_position_move_the_block():
    x0, y0, x1, y1 = bbox([TextOverlay("Hi", style={"Alignment": "TopLeft"})])
    assert x0 < W * 0.2 and y0 < H * 0.2
    x0, y0, x1, y1 = bbox([TextOverlay("Hi", style={"Alignment": "TopRight"})])
    assert x1 > W * 0.8 and y0 < H * 0.2
    x0, y0, x1, y1 = bbox([TextOverlay("Hi", style={"Alignment": "BottomCenter", "Y": 0.05})])
    assert abs((x0 + x1) / 2 - centre_x(W, H)[0]) < 4 and H * 0.85 < y1 < H * 0.96  # no X: the zone's centre
    x0, y0, x1, y1 = bbox([TextOverlay("Hi", style={"Alignment": "CenterCenter"})])
    assert abs((y0 + y1) / 2 - H / 2) < 6
    top = bbox([TextOverlay("Hi", style={"Y": 0.5})])
    assert abs(top[1] - H / 2) < 6
    moved = bbox([TextOverlay("Hi", style={"Alignment": "TopLeft", "X": 40, "Y": 100})])
    assert abs(moved[0] - 40) < 6 and abs(moved[1] - 100) < 8
    with pytest.raises(RenderError) as err:
        layer([TextOverlay("Hi", style={"Alignment": "Middle"})], W, H)
    assert err.value.code == "InvalidParameter.Alignment"


def test_default_title_sits_in_the_top_safe_area_and_subheadings_stack_under_it():
    title = bbox([TextOverlay("Title")])
    assert H * 0.07 < title[1] < H * 0.15
    a = alpha([TextOverlay("Sub one", level=1), TextOverlay("Title"), TextOverlay("Sub three", level=3)])
    rows = np.nonzero((a > 128).any(axis=1))[0]
    bands = np.split(rows, np.nonzero(np.diff(rows) > 1)[0] + 1)
    assert len(bands) == 3  # three separate blocks, top to bottom: title, level 1, level 3
    heights = [b[-1] - b[0] for b in bands]
    assert heights[0] > heights[1] >= heights[2]


def test_style_keys_change_the_picture():
    base = layer([TextOverlay("Style")], W, H).image
    for style in ({"FontColor": "#ffcc00"}, {"Outline": 0}, {"OutlineColour": "#ff0000"}, {"FontFace": {"Italic": True}},
                  {"FontFace": {"Bold": False}}, {"FontFace": {"Underline": True}}, {"BackgroundColor": "#000000aa"},
                  {"Shadow": 0}, {"FontSize": 30}, {"FontColorOpacity": 0.5}):
        other = layer([TextOverlay("Style", style=style)], W, H).image
        assert other.size != base.size or other.tobytes() != base.tobytes(), style
    yellow = np.asarray(layer([TextOverlay("Style", style={"FontColor": "#ffcc00", "Shadow": 0, "Outline": 0})], W, H).image)
    solid = yellow[yellow[..., 3] == 255]
    assert len(solid) and (abs(solid[:, :3].astype(int) - [255, 204, 0]).max(axis=1) < 3).mean() > 0.9


def test_a_character_no_font_has_is_left_out_and_logged(grey, plain, tmp_path, caplog):
    with caplog.at_level(logging.WARNING):
        same = layer([TextOverlay("A\U000f0001B")], W, H).image
    assert "U+F0001" in caplog.text
    assert same.tobytes() == layer([TextOverlay("AB")], W, H).image.tobytes()


def test_the_picture_is_one_overlaid_input(grey, tmp_path):
    task = RenderTask(output=str(tmp_path / "o.mp4"), width=W, height=H, duration=1.0,
                      shots=[Shot(grey, "video", 0, 1, 1)], titles=[TextOverlay("A"), TextOverlay("b", 1)])
    argv, graph = build_command(task, titles_path="/x/t.png")
    assert argv.count("/x/t.png") == 1 and graph.count("overlay=") == 1 and "drawtext" not in graph
    assert "eof_action=repeat" in graph  # decoded once, repeated
    _, untitled = build_command(RenderTask(output=str(tmp_path / "o.mp4"), width=W, height=H, duration=1.0,
                                           shots=[Shot(grey, "video", 0, 1, 1)]))
    assert "overlay" not in untitled


def test_titled_render_is_byte_identical_and_leaves_no_temp_files(grey, tmp_path):
    titles = [TextOverlay("Sale 🎉 สวัสดี"), TextOverlay("مرحبا 盒马", 1)]
    outs = []
    for name in ("a", "b"):
        out = tmp_path / name / "o.mp4"
        render(RenderTask(output=str(out), width=W, height=H, duration=1.0, shots=[Shot(grey, "video", 0, 1, 1)], titles=titles))
        outs.append(out.read_bytes())
        assert sorted(p.name for p in out.parent.iterdir()) == ["o.jpg", "o.mp4"]  # video and poster only
    assert outs[0] == outs[1]


def test_title_style_columns_of_the_shipped_templates(tmp_path):
    import json

    from click.testing import CliRunner

    from sheet2video.cli import cli

    sheet = tmp_path / "campaign.csv"
    sheet.write_text(
        "id,media:A,titles,title_font,title_size,title_color,title_position,title_box\n"
        "r1,a.mp4,Sale 🎉,KaiTi,72,#ffcc00,bottom,yes\n"
        "r2,a.mp4,Hi,Wingdings Pro,,,TopLeft,#11223380\n"
        "r3,a.mp4,Hi,,,,top,no\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(cli, ["plan", str(sheet), "--out", "-"])
    assert result.exit_code == 0, result.output
    styles = [json.loads(json.loads(line)["params"]["EditingConfig"]).get("TitleConfig") for line in result.stdout.splitlines()]
    assert styles == [
        {"Font": "KaiTi", "FontSize": 72, "FontColor": "#ffcc00", "Alignment": "BottomCenter", "BackgroundColor": "#00000099"},
        {"Font": "Wingdings Pro", "Alignment": "TopLeft", "BackgroundColor": "#11223380"},
        {"Alignment": "TopCenter"},
    ]
    assert "row 3, title_font" in result.stderr and "Wingdings Pro" in result.stderr  # a warning, not a failure
    sheet.write_text("id,media:A,titles,title_position\nr1,a.mp4,Hi,upper left\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["plan", str(sheet), "--out", "-"])
    assert result.exit_code == 2 and "row 2, title_position" in result.output


@pytest.mark.parametrize("w, h", [(320, 180), (240, 240), (1080, 1920)])
def test_default_title_is_in_the_top_safe_area_of_every_aspect(w, h):
    found = layer([TextOverlay("Grand opening this weekend only"), TextOverlay("Everything half price", 1)], w, h)
    a = np.asarray(found.image.getchannel("A")) > 128
    rows, cols = np.nonzero(a.any(axis=1))[0], np.nonzero(a.any(axis=0))[0]
    top, bottom = found.y + rows[0], found.y + rows[-1]
    assert h * 0.04 < top < h * 0.12 and bottom < h * 0.6  # the lower part stays free for captions
    assert found.x + cols[0] >= w * 0.02 and found.x + cols[-1] < w * 0.98
