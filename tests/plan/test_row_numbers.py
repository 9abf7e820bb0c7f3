"""Numbers as cells show them: a width formatted #,##0 reads "1,080" and is still 1080."""

import pytest

from sheet2video.plan.row_view import RowView
from sheet2video.sheets.read import Row


def number(text: str, problems: list):
    return RowView(Row(2, {"width": text}), ["width"], problems).number("width")


@pytest.mark.parametrize("text, value", [("1,080", 1080), ("1,080.5", 1080.5), ("-12,345,678", -12345678), ("1080", 1080)])
def test_thousands_separators_are_read(text, value):
    problems = []
    assert number(text, problems) == value and problems == []


@pytest.mark.parametrize("text", ["1,08", "10,80", "1,0800", ",080", "1,,080"])
def test_commas_not_in_groups_of_three_are_refused(text):
    problems = []
    number(text, problems)
    assert [str(p) for p in problems] == [f"row 2, width: expected a number, got {text!r}"]
