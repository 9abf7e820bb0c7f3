"""Image-text rows of the script template set: a `media` column becomes InputConfig.MediaArray and
`media_tags` the MediaMetaDataArray the engine matches sentences by; tags a row cannot use are a
warning naming row and column (the plan goes on), `media` beside media:<Group> an error."""

import json

import pytest

from sheet2video.cloud.checks import check_params
from tests.media import make_image
from tests.plan.csv_rows import csv_sheet, plan


@pytest.fixture
def sheet(tmp_path):
    """A CSV in a folder holding the two photos it names (so the plan's media probe runs for real)."""
    make_image(tmp_path / "red-sneaker_01.jpg", "64x64", "red")
    make_image(tmp_path / "coffee.png", "64x64", "brown")

    return csv_sheet(tmp_path)


def params(result):
    (job,) = [json.loads(line) for line in result.stdout.splitlines()]
    return {k: json.loads(v) for k, v in job["params"].items() if k != "ClientToken"}


def test_media_and_media_tags_become_an_image_text_job(sheet):
    path = sheet("id,media,media_tags,speech,count",
                 ["shoes", "red-sneaker_01.jpg\ncoffee.png", "red, sneakers running\n-", "Our red sneakers. Coffee time.", "2"])
    result = plan(path)
    assert result.exit_code == 0, result.output
    assert "warning" not in result.stderr
    p = params(result)
    assert p["InputConfig"] == {"MediaArray": ["red-sneaker_01.jpg", "coffee.png"],
                                "SpeechTextArray": ["Our red sneakers. Coffee time."]}
    assert p["EditingConfig"]["MediaConfig"] == {
        "Volume": 0, "MediaMetaDataArray": [{"Media": "red-sneaker_01.jpg", "Description": "red, sneakers running"}]}
    assert [i for i in check_params(p)] == []


def test_media_tags_on_a_group_row_is_a_warning_naming_row_and_column(sheet):
    path = sheet("id,media:Opening,media:Product,media_tags,speech",
                 ["a", "coffee.png", "red-sneaker_01.jpg", "red sneaker", "Hello."])
    result = plan(path)
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert warnings == ["warning: row 2, media_tags: is ignored: tags match media to sentences only in an image-text "
                        "row (a media column, no media:<Group> columns); this row has media:Opening, media:Product"]
    assert "MediaMetaDataArray" not in params(result)["EditingConfig"]["MediaConfig"]


def test_more_tag_lines_than_media_is_a_warning(sheet):
    path = sheet("id,media,media_tags,speech", ["a", "coffee.png", "coffee\nextra\nmore", "Coffee."])
    result = plan(path)
    assert result.exit_code == 0, result.output
    assert ("warning: row 2, media_tags: has 3 lines for 1 media (line i tags media i); the lines after line 1 "
            "are ignored") in result.stderr
    assert params(result)["EditingConfig"]["MediaConfig"]["MediaMetaDataArray"] == [{"Media": "coffee.png", "Description": "coffee"}]


def test_the_warning_is_said_for_every_row_even_when_templates_are_memoised(sheet):
    rows = [[f"r{i}", "coffee.png", "red-sneaker_01.jpg", "tag", "Hello."] for i in range(3)]
    result = plan(sheet("id,media:A,media:B,media_tags,speech", *rows))
    assert result.exit_code == 0, result.output
    assert [line.split(":")[1] for line in result.stderr.splitlines() if "media_tags" in line] == [" row 2, media_tags",
                                                                                               " row 3, media_tags",
                                                                                               " row 4, media_tags"]


def test_media_beside_media_groups_is_an_error_naming_both_columns(sheet):
    path = sheet("id,media:Opening,media,speech", ["a", "coffee.png", "red-sneaker_01.jpg", "Hello."])
    result = plan(path)
    assert result.exit_code == 2
    assert ("error: row 2, media: cannot be combined with media:Opening in one row: a row is either image-text "
            "(media, matched to the speech by words) or script mode (media:<Group> columns); clear one of them") in result.stderr
    assert result.stdout == ""


def test_a_missing_file_in_media_is_named_by_row_and_column(sheet):
    result = plan(sheet("id,media,speech", ["a", "coffee.png\nmissing.jpg", "Hello."]))
    assert result.exit_code == 2
    assert "error: row 2, media: missing.jpg not found" in result.stderr
