"""The script template's `logo` and `logo_position` columns: the logo goes into a corner of the
apps' safe zone (compose/layout.py, the same numbers the engine keeps text in), sized by height;
an unknown position is one line naming row, column and value, exit 2."""

import json

import pytest
from click.testing import CliRunner

from sheet2video.cli import cli
from sheet2video.engine.compose.layout import shares
from tests.media import make_image


def plan(tmp_path, position: str, size: tuple[int, int] = (1080, 1920)):
    make_image(tmp_path / "coffee.png", "64x64", "brown")
    make_image(tmp_path / "logo.png", "200x50", "white")
    path = tmp_path / "campaign.csv"
    path.write_text(f"id,media:A,speech,logo,logo_position,width,height\na,coffee.png,Hello.,logo.png,{position},{size[0]},{size[1]}\n",
                    encoding="utf-8")
    return CliRunner().invoke(cli, ["plan", str(path), "--out", "-"])


def sticker(result) -> dict:
    assert result.exit_code == 0, result.output
    (job,) = [json.loads(line) for line in result.stdout.splitlines()]
    (entry,) = json.loads(job["params"]["InputConfig"])["StickerArray"]
    return entry


@pytest.mark.parametrize("position, corner, x, y", [
    ("", None, "left", "top"), ("top-left", None, "left", "top"), ("Top-Right", "TopRight", "right", "top"),
    ("bottom-left", "BottomLeft", "left", "bottom"), ("bottom-right", "BottomRight", "right", "bottom"),
])
def test_logo_position_is_a_corner_of_the_zone_and_the_logo_is_sized_by_height(tmp_path, position, corner, x, y):
    zone = shares(1080, 1920)
    entry = sticker(plan(tmp_path, position))
    assert entry == {"MediaURL": "logo.png", "X": zone[x], "Y": zone[y], "Height": 0.06,
                     **({"Alignment": corner} if corner else {})}
    assert zone["right"] > zone["left"]  # 9:16: the apps' action column takes the right


def test_the_zone_follows_the_output_aspect(tmp_path):
    entry = sticker(plan(tmp_path, "top-left", (1920, 1080)))
    assert (entry["X"], entry["Y"]) == (shares(1920, 1080)["left"], shares(1920, 1080)["top"]) != (0.06, 0.1)


def test_an_unknown_logo_position_is_one_line_naming_row_column_and_value(tmp_path):
    result = plan(tmp_path, "middle")
    assert result.exit_code == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert errors == ["error: row 2, logo_position: middle is not a corner: expected top-left, top-right, "
                      "bottom-left or bottom-right"]
    assert result.stdout == ""


@pytest.mark.parametrize("position, below", [("top-left", True), ("top-right", True), ("bottom-left", False)])
def test_a_title_at_the_top_starts_below_a_top_logo(tmp_path, position, below):
    result = plan(tmp_path, position)
    (job,) = [json.loads(line) for line in result.stdout.splitlines()]
    title = json.loads(job["params"]["EditingConfig"]).get("TitleConfig", {})
    zone = shares(1080, 1920)
    if below:  # the logo takes zone.top … zone.top + 6 %: the title starts under it
        assert title["Y"] > zone["top"] + 0.06
    else:
        assert "Y" not in title
