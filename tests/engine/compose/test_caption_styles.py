"""Caption looks (compose/caption_style.py): the rounded box, karaoke highlighting, the sheet's
`caption_style` / `caption_box` columns — real libass renders at 180x320 over a white picture."""

from __future__ import annotations

import json

import av
import numpy as np
import pytest
from click.testing import CliRunner

from sheet2video.cli import cli
from sheet2video.engine.compose import captions
from sheet2video.engine.render import RenderTask, Shot, render
from sheet2video.engine.timeline.task import Caption
from sheet2video.errors import RenderError
from tests.media import make_video

W, H = 180, 320
BOX = "#000000CC"
HIGHLIGHT = "#FFD400"


def white_task(tmp_path, caps, style: dict, name: str = "out") -> RenderTask:
    src = tmp_path / "white.mp4"
    if not src.exists():
        make_video(src, 2.0, f"{W}x{H}", color="white")
    return RenderTask(output=str(tmp_path / f"{name}.mp4"), width=W, height=H, duration=2.0,
                      shots=[Shot(str(src), "video", 0, 2, 2)], crf=0, captions=caps, caption_style=style)


def frames(task: RenderTask) -> list[np.ndarray]:
    with av.open(render(task).path) as c:
        return [f.to_ndarray(format="rgb24").astype(np.int16) for f in c.decode(video=0)]


def band(frame: np.ndarray) -> np.ndarray:
    """The caption band: the lower part of the frame, where captions sit by default."""
    return frame[int(H * 0.55):int(H * 0.85)]


def longest_dark_run(frame: np.ndarray) -> int:
    """The longest horizontal run of dark pixels in the caption band: a box's padding row spans it,
    glyph outlines only give short runs."""
    best = 0
    for row in band(frame).max(axis=2) < 90:
        edges = np.diff(np.concatenate(([0], row.astype(np.int8), [0])))
        starts, stops = np.nonzero(edges == 1)[0], np.nonzero(edges == -1)[0]
        best = max(best, int((stops - starts).max(initial=0)))
    return best


def test_box_draws_a_dark_rounded_box_behind_the_words_and_clean_draws_none(tmp_path):
    caps = [Caption("Fresh bread", 0.0, 2.0)]
    boxed = frames(white_task(tmp_path, caps, {"BackgroundColor": BOX, "FontSize": 18}, "boxed"))[12]
    clean = frames(white_task(tmp_path, caps, {"FontSize": 18}, "clean"))[12]
    assert longest_dark_run(boxed) > W * 0.5  # a box wider than half the frame behind "Fresh bread"
    assert longest_dark_run(clean) < W * 0.1  # only glyph outlines
    rows = np.nonzero((band(boxed).max(axis=2) < 90).sum(axis=1) > W * 0.3)[0]
    inside = band(boxed)[rows[len(rows) // 2]]
    assert (inside.min(axis=1) > 200).any()  # white words drawn on the box
    # rounded: the box's top-left corner pixel shows the white picture, a few pixels in it is dark
    cols = np.nonzero((band(boxed).max(axis=2) < 90)[rows[len(rows) // 2]])[0]
    top, left = rows[0], cols[0]
    assert band(boxed)[top, left].min() > 150 and band(boxed)[top + 4, left + 4].max() < 90


def test_bad_box_colour_is_a_render_error_naming_the_field():
    with pytest.raises(RenderError, match="AsrConfig.BackgroundColor"):
        captions.look({"BackgroundColor": "#12"}, W, H, "Hi")


def highlight_columns(frame: np.ndarray) -> np.ndarray:
    """Columns of the caption band where the highlight (yellow: red and green high, blue low) shows."""
    b = band(frame)
    yellow = (b[..., 0] > 200) & (b[..., 1] > 170) & (b[..., 2] < 90)
    return np.nonzero(yellow.any(axis=0))[0]


def test_karaoke_highlight_moves_with_the_words(tmp_path):
    text = "Buy one get one"
    words = [[0, 0.0], [4, 0.5], [8, 1.0], [12, 1.5]]  # (character, second) as the planner attaches them
    caps = [Caption(text, 0.0, 2.0, words)]
    shown = frames(white_task(tmp_path, caps, {"HighlightColor": HIGHLIGHT, "FontSize": 14}))
    first, third = highlight_columns(shown[6]), highlight_columns(shown[31])  # 0.24 s and 1.24 s
    assert first.size and third.size
    assert third.max() > first.max() + 20  # the highlight reached words further right
    plain = frames(white_task(tmp_path, [Caption(text, 0.0, 2.0)], {"FontSize": 14}, "plain"))
    assert highlight_columns(plain[31]).size == 0


def test_planner_attaches_word_starts_only_for_karaoke():
    from tests.engine.compose.test_captions import Seg, Spoken, word_timings

    text = "Buy one get one."
    spoken = Spoken("x.wav", 2.0, (Seg(text, 0.0, 2.0),), word_timings(text, 0.0, 2.0))
    (plain,) = captions.plan_events([(spoken, 1.0, text)], {}, W, H, total=3.0)
    (kara,) = captions.plan_events([(spoken, 1.0, text)], {"HighlightColor": HIGHLIGHT}, W, H, total=3.0)
    assert plain.words == []
    assert kara.words == [[0, 1.0], [4, 1.5], [8, 2.0], [12, 2.5]]


# ------------------------------------------------------------------ the sheet columns


def plan(tmp_path, cells: dict[str, str]):
    path = tmp_path / "campaign.csv"
    path.write_text("id,media:A,speech," + ",".join(cells) + "\na,x.mp4,Hello.," + ",".join(cells.values()) + "\n",
                    encoding="utf-8")
    return CliRunner().invoke(cli, ["plan", str(path), "--out", "-"])


def asr_of(result) -> dict:
    assert result.exit_code == 0, result.output
    (job,) = [json.loads(line) for line in result.stdout.splitlines()]
    return json.loads(job["params"]["EditingConfig"])["SpeechConfig"]["AsrConfig"]


@pytest.mark.parametrize("cells, extra", [
    ({"caption_style": "clean"}, {}),
    ({"caption_style": "Box"}, {"BackgroundColor": "#00000099"}),
    ({"caption_style": "box", "caption_box": "#11223380"}, {"BackgroundColor": "#11223380"}),
    ({"caption_style": "clean", "caption_box": "yes"}, {"BackgroundColor": "#00000099"}),
    ({"caption_style": "box", "caption_box": "no"}, {}),
    ({"caption_style": "outline"}, {"Outline": 9}),
    ({"caption_style": "karaoke"}, {"HighlightColor": "#FFD400"}),
])
def test_caption_style_columns(tmp_path, cells, extra):
    assert asr_of(plan(tmp_path, cells)) == {"FontSize": 59, "FontColor": "#FFFFFF", "Alignment": "BottomCenter", **extra}


@pytest.mark.parametrize("column, value, message", [
    ("caption_style", "neon", "unknown caption style neon (expected clean, box, outline or karaoke)"),
    ("caption_box", "#12", "unusable box colour #12 (expected yes, no, #rrggbb or #rrggbbaa)"),
    ("caption_box", "#00000G", "unusable box colour #00000G (expected yes, no, #rrggbb or #rrggbbaa)"),
])
def test_bad_caption_style_or_box_is_one_line_naming_row_column_and_value(tmp_path, column, value, message):
    result = plan(tmp_path, {column: value})
    assert result.exit_code == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert errors == [f"error: row 2, {column}: {message}"]
    assert result.stdout == ""


# ------------------------------------------------------------------ legibility of the defaults


def luminance(rgb: np.ndarray) -> np.ndarray:
    """WCAG relative luminance of 0-255 sRGB pixels."""
    c = rgb / 255.0
    c = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return c @ np.array([0.2126, 0.7152, 0.0722])


def surround(mask: np.ndarray, r: int) -> np.ndarray:
    out = mask.copy()
    for dy in range(-r, r + 1):
        for dx in range(-r, r + 1):
            out |= np.roll(np.roll(mask, dy, 0), dx, 1)
    return out & ~mask


@pytest.mark.parametrize("style, least", [({}, 4.5), ({"BackgroundColor": "#00000099"}, 4.5)])
def test_white_captions_stay_legible_over_a_white_picture(tmp_path, style, least):
    """WCAG contrast of the glyphs' white fill against what surrounds them within 2 px (outline,
    shadow or box), over a white picture: at least WCAG AA (4.5:1) even at 180x320, where the default
    outline is 1 px (5.1:1 measured; at 540x960 it is 2 px and 20:1)."""
    caps = [Caption("Breathable, springy, light", 0.0, 2.0)]
    grey = tmp_path / "grey"
    grey.mkdir()
    make_video(grey / "white.mp4", 2.0, f"{W}x{H}", color="0x808080")  # finds the fill: white over grey
    fill = frames(white_task(grey, caps, style))[12].min(axis=2) > 230
    shown = luminance(frames(white_task(tmp_path, caps, style))[12])
    ratio = (np.median(shown[fill]) + 0.05) / (np.median(shown[surround(fill, 2)]) + 0.05)
    print(f"caption contrast over white {style or 'clean'}: {ratio:.1f}:1")
    assert fill.sum() > 100 and ratio >= least


def test_captions_off_ignore_the_look_columns(tmp_path):
    assert asr_of(plan(tmp_path, {"captions": "no", "caption_style": "karaoke", "caption_box": "yes"})) == {"Enable": False}
