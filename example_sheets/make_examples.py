"""Write the example campaign sheets (xlsx + csv) in this folder.

    .venv/bin/python example_sheets/make_examples.py           # the sheets only
    .venv/bin/python example_sheets/make_examples.py --media   # and the sample media in media/

The sheets reference media by paths relative to this folder (``media/opening_1.mp4``); the media
are generated, not committed: ``python -m sheet2video.samples.media example_sheets/media``.
"""

from __future__ import annotations

import csv
import io
import math
import re
import sys
import zipfile
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

HERE = Path(__file__).resolve().parent


def lines(*values: str) -> str:
    """A multi-value cell: one value per line, as Alt+Enter makes in Excel."""
    return "\n".join(values)


def m(*names: str) -> str:
    return lines(*(f"media/{n}" for n in names))


# --------------------------------------------------------------------------------------------
# Script template set: one row = one job.
# --------------------------------------------------------------------------------------------

SCRIPT_EN_COLUMNS = ["id", "media:Opening", "media:Product", "media:Closing", "titles", "speech", "bgm",
                     "count", "max_duration", "width", "height", "crf", "voice", "bgm_volume",
                     "shot_duration", "logo", "transition", "enabled"]

SCRIPT_EN_ROWS = [
    ["pumpkin-latte",
     m("opening_1.mp4", "opening_2.mp4"),
     m("product_1.mp4", "photo_1.png", "product_5.mp4"),
     m("closing_1.mp4"),
     lines("Pumpkin Spice Latte is back!",
           "Autumn in a cup at Harbor Bean",
           "Your fall favourite, now 20% off"),
     lines("Pumpkin spice season is here. Grab yours at Harbor Bean today.",
           "Cozy up with our pumpkin latte, made fresh every morning."),
     m("bgm_1.m4a"),
     3, 10, 360, 640, 28, "andy", 0.3, 3, "yes"],
    ["cold-brew",
     m("opening_3.mp4"),
     m("product_2.mp4", "product_4.mp4"),
     m("closing_2.mp4", "photo_2.jpg"),
     lines("Slow-steeped for 18 hours",
           "Cold Brew: smooth, bold, never bitter"),
     lines("Our cold brew steeps for eighteen hours, so every sip is smooth."),
     m("bgm_2.mp3"),
     2, 10, 640, 360, 28, "andy", 0.25, 3, "yes"],
    ["breakfast-combo",
     m("opening_2.mp4", "opening_1.mp4"),
     m("photo_1.png", "product_5.mp4", "product_1.mp4"),
     m("closing_1.mp4", "closing_2.mp4"),
     lines("Breakfast combo: coffee + bagel $6",
           "Mornings made easy",
           "Start your day at Harbor Bean"),
     lines("Any coffee and a fresh bagel for six dollars, every morning until ten.",
           "Running late? Our breakfast combo is ready in two minutes."),
     m("bgm_1.m4a", "bgm_2.mp3"),
     3, 10, 360, 640, 30, "andy", 0.3, 3, "yes"],
    ["rewards-app",
     m("opening_3.mp4", "opening_2.mp4"),
     m("product_3.mp4", "photo_3.jpg"),
     m("closing_1.mp4"),
     lines("Every 10th coffee is on us",
           "Join Harbor Bean Rewards today"),
     lines("Download the Harbor Bean app and your tenth coffee is free.",
           "Order ahead, skip the line, and collect stars with every cup."),
     m("bgm_2.mp3"),
     2, 10, 360, 640, 28, "andy", 0.3, 2.5, "yes"],
    ["downtown-opening",
     m("opening_1.mp4"),
     m("product_4.mp4", "product_2.mp4"),
     m("closing_2.mp4"),
     lines("New store: 5th & Main",
           "Grand opening this Saturday"),
     lines("Our new downtown store opens this Saturday. The first hundred guests get a free drink."),
     m("bgm_1.m4a"),
     2, 10, 360, 640, 28, "andy", 0.3, 3, "no"],
    # The showcase: one full-size 9:16 video of about 15 s (the voice-over sets the length).
    ["autumn-showcase",
     m("opening_1.mp4"),
     m("product_1.mp4", "photo_1.png"),
     m("closing_1.mp4"),
     lines("Pumpkin Spice is back \U0001F383"),
     lines("Autumn is here at Harbor Bean. Our pumpkin spice latte is back, made fresh every morning "
           "with real pumpkin, cinnamon and a double shot of espresso. Order ahead in the app, skip the line, "
           "and enjoy your first cup at twenty percent off, all week long."),
     m("bgm_1.m4a"),
     1, None, 1080, 1920, 23, "andy", 0.3, 5, "yes"],
]

# The look columns (logo, transition) are filled on the showcase and one other row; blank means the
# template's defaults (fade transitions, captions, blurred fit, gentle motion on photos).
_LOOK = {"autumn-showcase": [m("logo.png"), "fade, slideup, circleopen"], "cold-brew": [m("logo.png"), "dissolve"]}
SCRIPT_EN_ROWS = [row[:-1] + _LOOK.get(row[0], [None, None]) + row[-1:] for row in SCRIPT_EN_ROWS]

SCRIPT_ZH_COLUMNS = ["id", "media:开场", "media:商品", "media:结尾", "titles", "speech", "bgm",
                     "count", "max_duration", "width", "height", "crf", "voice", "bgm_volume",
                     "shot_duration", "enabled"]

SCRIPT_ZH_ROWS = [
    ["hema-01",
     m("opening_2.mp4", "opening_3.mp4"),
     m("product_4.mp4", "photo_3.jpg", "product_3.mp4"),
     m("closing_2.mp4"),
     lines("回龙观盒马鲜生开业啦", "盒马鲜生回龙观店 盛大开业", "新店开业 全场满百减二十"),
     lines("回龙观盒马鲜生今天开业，欢迎大家来逛逛。",
           "盒马鲜生新店开业，海鲜水果天天新鲜。"),
     m("bgm_1.m4a"),
     3, 10, 360, 640, 28, "cmn", 0.3, 3, "yes"],
    ["hema-02",
     m("opening_3.mp4"),
     m("product_4.mp4", "product_2.mp4"),
     m("closing_2.mp4", "photo_2.jpg"),
     lines("活海鲜 现买现做", "帝王蟹 龙虾 当天到店"),
     lines("活海鲜现买现做，三十分钟就能吃上。"),
     m("bgm_2.mp3"),
     2, 10, 360, 640, 28, "cmn", 0.25, 3, "yes"],
    ["hema-03",
     m("opening_3.mp4", "opening_2.mp4"),
     m("photo_3.jpg", "product_3.mp4", "product_4.mp4"),
     m("closing_1.mp4", "closing_2.mp4"),
     lines("当季水果 产地直采", "草莓 车厘子 限时特价", "新鲜水果 每天上新"),
     lines("当季水果产地直采，新鲜直达回龙观。", "草莓车厘子限时特价，先到先得。"),
     m("bgm_1.m4a", "bgm_2.mp3"),
     3, 10, 640, 360, 30, "cmn", 0.3, 3, "yes"],
    ["hema-04",
     m("opening_2.mp4", "opening_3.mp4"),
     m("product_5.mp4", "product_1.mp4"),
     m("closing_1.mp4"),
     lines("现烤面包 每日新鲜出炉", "下午茶就来盒马"),
     lines("每天早上七点，面包新鲜出炉。", "盒马烘焙，下午茶的好选择。"),
     m("bgm_2.mp3"),
     2, 10, 360, 640, 28, "cmn", 0.3, 2.5, "yes"],
    ["hema-05",
     m("opening_3.mp4"),
     m("product_4.mp4"),
     m("closing_2.mp4"),
     lines("会员日 全场九折", "盒马会员专享福利"),
     lines("每周三会员日，全场商品九折优惠。"),
     m("bgm_1.m4a"),
     2, 10, 360, 640, 28, "cmn", 0.3, 3, "no"],
]

# --------------------------------------------------------------------------------------------
# Grouped template set: one row = one media group; rows sharing `job` form one job, in order.
# Job-level columns are filled on the first row of each job only.
# --------------------------------------------------------------------------------------------

GROUPED_COLUMNS = ["job", "group", "media", "speech", "duration", "volume",
                   "titles", "bgm", "count", "width", "height", "crf", "voice"]

GROUPED_EN_ROWS = [
    ["weekend-brunch", "Intro", m("opening_1.mp4", "opening_3.mp4"),
     lines("Weekend brunch is back at Harbor Bean.", "Sleep in. We have brunch covered."),
     None, None,
     lines("Weekend Brunch at Harbor Bean", "Brunch + bottomless coffee $12"),
     m("bgm_1.m4a"), 2, 360, 640, 28, "andy"],
    ["weekend-brunch", "Menu", m("product_1.mp4", "photo_1.png", "product_2.mp4"),
     lines("Fresh pastries, eggs your way and bottomless coffee.",
           "Try the new avocado toast with a flat white."),
     None, None, None, None, None, None, None, None, None],
    ["weekend-brunch", "Outro", m("closing_1.mp4", "closing_2.mp4"),
     None, 2.5, 0.5, None, None, None, None, None, None, None],
    ["barista-tips", "Intro", m("opening_2.mp4"),
     None, 2, None,
     lines("Barista tip: the perfect pour-over", "Brew like a pro at home"),
     m("bgm_2.mp3", "bgm_1.m4a"), 2, 640, 360, 28, "andy"],
    ["barista-tips", "Tips", m("product_3.mp4", "product_4.mp4", "product_5.mp4"),
     lines("Use fresh beans and grind them just before you brew.",
           "Pour slowly in circles and let the coffee bloom."),
     None, None, None, None, None, None, None, None, None],
    ["barista-tips", "Outro", m("closing_1.mp4", "photo_3.jpg"),
     lines("Beans are twenty percent off this week."),
     None, None, None, None, None, None, None, None, None],
]

GROUPED_ZH_ROWS = [
    ["hema-opening", "开场", m("opening_2.mp4", "opening_3.mp4"),
     lines("回龙观盒马鲜生开业啦。", "盒马鲜生新店，今天正式开业。"),
     None, None,
     lines("回龙观盒马鲜生开业啦", "盒马新店 开业三天特惠"),
     m("bgm_1.m4a"), 2, 360, 640, 28, "cmn"],
    ["hema-opening", "商品", m("product_4.mp4", "photo_3.jpg", "product_3.mp4"),
     lines("海鲜水果，天天新鲜。", "开业三天，全场满百减二十。"),
     None, None, None, None, None, None, None, None, None],
    ["hema-opening", "结尾", m("closing_1.mp4", "closing_2.mp4"),
     None, 2.5, 0.5, None, None, None, None, None, None, None],
    ["hema-seafood", "开场", m("opening_2.mp4"),
     None, 2, None,
     lines("活海鲜 现买现做", "盒马海鲜 当天到店"),
     m("bgm_2.mp3", "bgm_1.m4a"), 2, 640, 360, 28, "cmn"],
    ["hema-seafood", "海鲜", m("product_4.mp4", "product_2.mp4", "photo_2.jpg"),
     lines("帝王蟹和龙虾，当天空运到店。", "选好海鲜，厨房现场加工。"),
     None, None, None, None, None, None, None, None, None],
    ["hema-seafood", "结尾", m("closing_2.mp4", "photo_3.jpg"),
     lines("盒马鲜生，回龙观店等你来。"),
     None, None, None, None, None, None, None, None, None],
]

SHEETS = [
    # file stem, worksheet title, columns, rows
    ("campaign_en", "Campaign", SCRIPT_EN_COLUMNS, SCRIPT_EN_ROWS),
    ("campaign_zh", "投放计划", SCRIPT_ZH_COLUMNS, SCRIPT_ZH_ROWS),
    ("grouped_en", "Groups", GROUPED_COLUMNS, GROUPED_EN_ROWS),
    ("grouped_zh", "分组", GROUPED_COLUMNS, GROUPED_ZH_ROWS),
]

# Column widths in Excel character units, by column name.
WIDTHS = {"id": 18, "job": 16, "group": 10, "media": 24, "titles": 36, "speech": 52, "bgm": 18,
          "voice": 7, "enabled": 9, "duration": 10, "volume": 9, "max_duration": 13,
          "shot_duration": 14, "bgm_volume": 12}


def width_of(column: str) -> int:
    if column.startswith("media"):
        return WIDTHS["media"]
    return WIDTHS.get(column, 9)


def text_width(text: str) -> int:
    """Display width: CJK characters take two columns."""
    return sum(2 if ord(c) > 0x2E80 else 1 for c in text)


def check(stem: str, columns: list[str], rows: list[list]) -> None:
    """Keep the examples inside the documented limits and cheap to render."""
    try:
        from sheet2video.samples.media import SAMPLES
    except ImportError:
        names = None
    else:
        names = {s.name for s in SAMPLES}
    for row in rows:
        assert len(row) == len(columns), (stem, row[0])
        cell = dict(zip(columns, row))
        for title in (cell.get("titles") or "").splitlines():
            assert len(title) <= 50, (stem, title)
        for script in (cell.get("speech") or "").splitlines():
            assert len(script) <= 250, (stem, script)  # the showcase's ~15 s script is the longest
        assert cell.get("count") in (None, 1, 2, 3), (stem, cell.get("count"))
        if names is None:  # running without the package installed: skip the media check
            continue
        for column in columns:
            if column.startswith("media") or column in ("bgm", "logo"):
                for ref in (cell.get(column) or "").splitlines():
                    assert ref.startswith("media/") and ref[len("media/"):] in names, (stem, ref)


def write_xlsx(path: Path, title: str, columns: list[str], rows: list[list]) -> None:
    wb = Workbook()
    ws = wb.active
    ws.title = title
    ws.append(columns)
    for row in rows:
        ws.append(row)

    thin = Side(style="thin", color="A6A6A6")
    header_fill = PatternFill("solid", fgColor="DDEBF7")
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.fill = header_fill
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        cell.border = Border(bottom=thin)
    wrap = Alignment(vertical="top", wrap_text=True)
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = wrap

    for index, column in enumerate(columns, start=1):
        ws.column_dimensions[get_column_letter(index)].width = width_of(column)
    # Excel does not grow rows for wrapped text in a file it did not lay out itself: size them.
    ws.row_dimensions[1].height = 20
    for r, row in enumerate(rows, start=2):
        n = 1
        for column, value in zip(columns, row):
            if isinstance(value, str):
                room = max(1, width_of(column) - 1)
                n = max(n, sum(max(1, math.ceil(text_width(line) / room)) for line in value.splitlines()))
        ws.row_dimensions[r].height = 15 * n + 3

    ws.freeze_panes = "B2"  # header row and the key column stay in view
    ws.auto_filter.ref = ws.dimensions
    if "enabled" in columns:
        letter = get_column_letter(columns.index("enabled") + 1)
        dv = DataValidation(type="list", formula1='"yes,no"', allow_blank=True)
        ws.add_data_validation(dv)
        dv.add(f"{letter}2:{letter}{len(rows) + 1}")
    wb.properties.creator = "sheet2video"
    buffer = io.BytesIO()
    wb.save(buffer)
    path.write_bytes(reproducible(buffer.getvalue()))


STAMP = "2024-01-01T00:00:00Z"


def reproducible(xlsx: bytes) -> bytes:
    """The same workbook bytes on every run (fixed document and zip timestamps): no git churn."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(xlsx)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:(created|modified)[^>]*>)[^<]*", rb"\g<1>" + STAMP.encode(), data)
            dst.writestr(zipfile.ZipInfo(item.filename, date_time=(2024, 1, 1, 0, 0, 0)), data,
                         compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def write_csv(path: Path, columns: list[str], rows: list[list]) -> None:
    # UTF-8 with a BOM so Excel opens it with the right encoding; multi-line cells get quoted.
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(columns)
        for row in rows:
            writer.writerow(["" if v is None else v for v in row])


def main(argv: list[str]) -> int:
    for stem, title, columns, rows in SHEETS:
        check(stem, columns, rows)
        write_xlsx(HERE / f"{stem}.xlsx", title, columns, rows)
        write_csv(HERE / f"{stem}.csv", columns, rows)
        print(f"wrote {stem}.xlsx and {stem}.csv ({len(rows)} rows)")
    if "--media" in argv:
        from sheet2video.samples.media import generate_sample_media

        paths = generate_sample_media(HERE / "media", force="--force" in argv)
        print(f"sample media ready in {HERE / 'media'} ({len(paths)} files)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
