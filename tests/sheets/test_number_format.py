"""Number formats: cells read the way they show, in any locale."""

from datetime import datetime

import pytest

from sheet2video.sheets.number_format import format_number, format_text
from sheet2video.sheets.read import read_sheet

MAY_1 = 45413.0  # 2024-05-01 as an Excel serial


@pytest.mark.parametrize("value, code, shown", [
    (MAY_1, 'm"月"d"日"', "5月1日"),
    (MAY_1, 'yyyy"年"m"月"d"日"', "2024年5月1日"),
    (MAY_1, "[$-804]yyyy/m/d;@", "2024/5/1"),
    (MAY_1, '[DBNum1][$-804]m"月"d"日"', "5月1日"),
    (MAY_1, "dddd, mmmm d, yyyy", "Wednesday, May 1, 2024"),
    (MAY_1, "ddd d-mmm-yy", "Wed 1-May-24"),
    (MAY_1 + 0.5, "yyyy-mm-dd hh:mm", "2024-05-01 12:00"),
    (MAY_1 + 0.75, "h:mm AM/PM", "6:00 PM"),
    (MAY_1 + 0.5 + 65 / 86400, "hh:mm:ss", "12:01:05"),
    (MAY_1 + 0.5, '上午/下午h"时"mm"分"', "下午12时00分"),
    (MAY_1, "d\\.m\\.yyyy", "1.5.2024"),
    (1.25, "[h]:mm:ss", "30:00:00"),
    (0.256, "0.0%", "25.6%"),
    (0.5, "0%", "50%"),
    (1080, "#,##0", "1,080"),
    (1234567.891, "[$¥-804]#,##0.00", "¥1,234,567.89"),
    (1234.5, '"$"#,##0.00', "$1,234.50"),
    (-5, "#,##0;[Red]-#,##0", "-5"),
    (-5, "0.00;(0.00)", "(5.00)"),
    (-5, "0.00", "-5.00"),
    (0, '0;-0;"zero"', "zero"),
    (3.14159, "0.00", "3.14"),
    (2.5, "0", "3"),
    (7, "000", "007"),
    (1.5, "#.##", "1.5"),
    (12345, "0.00E+00", "1.23E+04"),
    (1234567, "#,##0,", "1,235"),
    (150, '[>=100]"big";"small"', "big"),
    (5, "General", "5"),
    (0.1 + 0.2, "General", "0.30000000000000004"),
])
def test_formats(value, code, shown):
    assert format_number(value, code) == shown


def test_text_section():
    assert format_text("Bob", '0;0;0;"Mr. "@') == "Mr. Bob"
    assert format_text("Bob", "0.00") == "Bob"


def test_cells_read_as_they_show_and_locale_builtins_are_iso(tmp_path):
    import xlsxwriter

    path = tmp_path / "formats.xlsx"
    workbook = xlsxwriter.Workbook(path)
    sheet = workbook.add_worksheet()
    cases = [("md", datetime(2024, 5, 1), 'm"月"d"日"', "5月1日"),
             ("builtin14", datetime(2024, 5, 1), 14, "2024-05-01"),          # locale short date: ISO
             ("builtin22", datetime(2024, 5, 1, 9, 5), 22, "2024-05-01 09:05"),
             ("cjk58", datetime(2024, 5, 1), 58, "2024-05-01"),                # zh-CN 5月1日: ISO too
             ("width", 1080, "#,##0", "1,080"),
             ("share", 0.25, "0%", "25%"),
             ("price", 99.5, "[$¥-804]#,##0.00", "¥99.50"),
             ("plain", 2.5, None, "2.5")]
    sheet.write_row(0, 0, ["id"] + [c[0] for c in cases])
    sheet.write(1, 0, "r1")
    for column, (_, value, code, _) in enumerate(cases, start=1):
        style = workbook.add_format({"num_format": code}) if code is not None else None
        if isinstance(value, datetime):
            sheet.write_datetime(1, column, value, style)
        else:
            sheet.write_number(1, column, value, style)
    workbook.close()
    row = read_sheet(path).rows[0]
    assert {name: row.get(name) for name, *_ in cases} == {name: shown for name, _, _, shown in cases}
