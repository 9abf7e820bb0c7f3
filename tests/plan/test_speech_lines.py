"""A `speech` cell's lines are alternatives, one per video: more lines than `count` is a plan-time
warning naming row and column (some lines are never spoken); `speech_join` yes speaks the lines in
order in one video (a blank line starts another alternative); a bad `speech_join` exits 2."""

import json

import pytest

from sheet2video.plan.row_view import split_blocks
from tests.media import make_image
from tests.plan.csv_rows import csv_sheet, plan

LINES = "Breathable mesh.\nSpringy soles.\nOrder today."


@pytest.fixture
def sheet(tmp_path):
    make_image(tmp_path / "shoe.png", "64x64", "red")

    return csv_sheet(tmp_path)


def speech_of(result) -> list[list[str]]:
    jobs = [json.loads(line) for line in result.stdout.splitlines()]
    return [json.loads(job["params"]["InputConfig"])["SpeechTextArray"] for job in jobs]


def warnings(result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("warning:")]


def test_three_lines_for_one_video_is_a_warning_naming_row_and_column(sheet):
    result = plan(sheet("id,media:A,speech,count", ["a", "shoe.png", LINES, "1"]))
    assert result.exit_code == 0, result.output
    assert warnings(result) == [
        "warning: row 2, speech: has 3 lines for count 1: each is an alternative, one per video; 1 video is made, "
        "so 2 of the 3 will not be spoken (the engine draws which); to speak all the lines in order in one video, "
        "set speech_join to yes"]
    assert speech_of(result) == [["Breathable mesh.", "Springy soles.", "Order today."]]


def test_as_many_videos_as_lines_is_no_warning(sheet):
    result = plan(sheet("id,media:A,speech,count", ["a", "shoe.png", LINES, "3"]))
    assert result.exit_code == 0, result.output
    assert warnings(result) == []


def test_the_warning_counts_videos_and_unspoken_lines_per_row(sheet):
    result = plan(sheet("id,media:A,speech,count", ["a", "shoe.png", LINES, "3"], ["b", "shoe.png", LINES + "\nFree returns.", "2"]))
    assert result.exit_code == 0, result.output
    assert [w.split(": each")[0] for w in warnings(result)] == ["warning: row 3, speech: has 4 lines for count 2"]
    assert "2 videos are made, so 2 of the 4 will not be spoken" in warnings(result)[0]


def test_speech_join_speaks_the_lines_in_order_in_one_script(sheet):
    result = plan(sheet("id,media:A,speech,speech_join,count", ["a", "shoe.png", LINES, "yes", "1"]))
    assert result.exit_code == 0, result.output
    assert warnings(result) == []
    assert speech_of(result) == [["Breathable mesh. Springy soles. Order today."]]


def test_with_speech_join_a_blank_line_starts_another_alternative(sheet):
    cell = "Breathable mesh.\nSpringy soles.\n\n  \nOrder today.\nFree returns."
    result = plan(sheet("id,media:A,speech,speech_join,count", ["a", "shoe.png", cell, "yes", "1"]))
    assert result.exit_code == 0, result.output
    assert speech_of(result) == [["Breathable mesh. Springy soles.", "Order today. Free returns."]]
    assert warnings(result) == [
        "warning: row 2, speech: has 2 scripts (separated by blank lines) for count 1: each is an alternative, one per "
        "video; 1 video is made, so 1 of the 2 will not be spoken (the engine draws which); raise count to use them all"]


def test_without_speech_join_blank_lines_change_nothing(sheet):
    result = plan(sheet("id,media:A,speech,speech_join,count", ["a", "shoe.png", "One.\n\nTwo.", "no", "2"]))
    assert result.exit_code == 0, result.output
    assert speech_of(result) == [["One.", "Two."]]


def test_an_unknown_speech_join_value_exits_2_with_one_line(sheet):
    result = plan(sheet("id,media:A,speech,speech_join", ["a", "shoe.png", LINES, "maybe"]))
    assert result.exit_code == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert errors == ["error: row 2, speech_join: expected yes or no, got 'maybe'"]
    assert result.stdout == ""


def test_a_bad_count_is_one_problem_though_two_templates_read_it(sheet):
    result = plan(sheet("id,media:A,speech,count", ["a", "shoe.png", LINES, "two"]))
    assert result.exit_code == 2
    assert [line for line in result.stderr.splitlines() if "count" in line] == [
        "error: row 2, count: expected a number, got 'two'"]


def test_split_blocks():
    assert split_blocks("a\n b \n\n\nc\r\nd\n") == ["a b", "c d"]
    assert split_blocks("") == split_blocks(None) == []
