"""A corpus of real-world campaign sheets, generated in code (issue 24).

One builder per kind of sheet operations teams make: XlsxWriter writes Excel's features the way
Excel does, openpyxl writes files the way scripts save them, WPS-only parts are added to the zip
by hand, LibreOffice converts to .xls/.ods. Each builder writes into a folder (its media next to
it) and returns a ``Case``: what a reader must see, and what a write-back may touch.
"""

from __future__ import annotations

import codecs
import io
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, time
from pathlib import Path
from typing import Callable

import openpyxl
import xlsxwriter
from PIL import Image

from tests.sheets.office import convert

__all__ = ["Case", "HEADER", "png", "build_corpus", "BUILDERS"]

HEADER = ["id", "media:main", "titles"]
ROWS = [["r1", "a.png", "春天来了"], ["r2", "b.png", "夏天"]]
Cell = tuple[int, str]  # (spreadsheet row number, column name as matched)


@dataclass
class Case:
    name: str
    path: Path
    cells: dict[Cell, str] = field(default_factory=dict)      # what read_sheet must give
    shown: dict[Cell, str] = field(default_factory=dict)      # Row.display where it differs (a link's text)
    media: dict[Cell, bytes] = field(default_factory=dict)    # cell names a file next to the sheet with these bytes
    numbers: dict[Cell, float] = field(default_factory=dict)  # what the planner reads as a number
    sheet_name: str | None = None        # the worksheet read_sheet must pick (no --sheet given)
    sheet_part: str = "xl/worksheets/sheet1.xml"   # the worksheet a write-back patches
    table_part: str | None = None        # the Table (ListObject) that must grow to the result columns
    key_row: int = 2                     # the row the write-back updates (key column "id")
    notice: str | None = None            # text one of Sheet.notices must contain
    error: tuple[str, ...] = ()          # bad input: read_sheet's one-line SheetError must contain these
    results_elsewhere: bool = False      # .xls/.ods: results go to an .xlsx next to it
    encoding: str | None = None          # CSV: the codec the file must still be in after a write-back
    keep: tuple[str, ...] = ()           # CSV: text that must still be in the file after a write-back

    @property
    def kind(self) -> str:
        return self.path.suffix.lower().lstrip(".")

    @property
    def may_change(self) -> set[str]:
        """Zip parts a write-back may rewrite; every other part must stay byte for byte."""
        folder, name = self.sheet_part.rsplit("/", 1)
        parts = {self.sheet_part, f"{folder}/_rels/{name}.rels", "xl/styles.xml", "[Content_Types].xml"}
        return parts | ({self.table_part} if self.table_part else set())


def png(colour: tuple[int, int, int] = (200, 40, 40), size: tuple[int, int] = (32, 18)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "PNG")
    return buffer.getvalue()


def _media(folder: Path) -> None:
    for name, colour in (("a.png", (200, 40, 40)), ("b.png", (40, 200, 40)), ("clip_a.png", (40, 40, 200)),
                         ("clip_b.png", (200, 200, 40))):
        (folder / name).write_bytes(png(colour))


def _basic(folder: Path, name: str, extra: Callable | None = None, **options) -> Path:
    """HEADER + ROWS by XlsxWriter; ``extra(workbook, sheet)`` adds the feature under test."""
    path = folder / name
    workbook = xlsxwriter.Workbook(path, options)
    sheet = workbook.add_worksheet("campaign")
    for r, row in enumerate([HEADER, *ROWS]):
        sheet.write_row(r, 0, row)
    if extra:
        extra(workbook, sheet)
    workbook.close()
    return path


def _basic_cells() -> dict[Cell, str]:
    return {(2, "id"): "r1", (2, "media:main"): "a.png", (2, "titles"): "春天来了", (3, "titles"): "夏天"}


def _edit_zip(path: Path, add: dict[str, bytes] | None = None,
              edit: dict[str, Callable[[bytes], bytes]] | None = None) -> None:
    """Rewrite ``path`` with parts added or edited (a WPS- or tool-made part Excel writers lack)."""
    add, edit = add or {}, edit or {}
    with zipfile.ZipFile(path) as archive:
        parts = [(info, archive.read(info)) for info in archive.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for info, data in parts:
            archive.writestr(info, edit.get(info.filename, lambda b: b)(data))
        for name, data in add.items():
            archive.writestr(name, data)


def _insert_before(marker: bytes, text: str) -> Callable[[bytes], bytes]:
    return lambda data: data.replace(marker, text.encode() + marker, 1)


# ---------------------------------------------------------------- workbooks


def plain_openpyxl(folder: Path) -> Case:
    """A workbook a script saved (openpyxl)."""
    path = folder / "plain.xlsx"
    workbook = openpyxl.Workbook()
    workbook.active.title = "campaign"
    for row in [HEADER, *ROWS]:
        workbook.active.append(row)
    workbook.save(path)
    return Case("plain", path, _basic_cells())


def shared_strings(folder: Path) -> Case:
    titles = ["春季上新", "夏日清凉", "秋天的第一杯奶茶", "冬季暖心", "年货节"]

    def rows(workbook, sheet):
        for r in range(3, 300):
            sheet.write_row(r, 0, [f"r{r}", "a.png", titles[r % 5], "欢迎来到直播间"])
        sheet.write(0, 3, "speech")

    cells = {**_basic_cells(), (151, "titles"): titles[150 % 5], (151, "speech"): "欢迎来到直播间"}
    return Case("shared_strings", _basic(folder, "shared_strings.xlsx", rows), cells)


DATES = [  # column, value, number format, what the cell shows (locale-neutral)
    ("date_md", datetime(2024, 5, 1), 'm"月"d"日"', "5月1日"),
    ("date_slash", datetime(2024, 5, 1), "yyyy/m/d", "2024/5/1"),
    ("date_builtin", datetime(2024, 5, 1), 14, "2024-05-01"),
    ("share", 0.25, "0%", "25%"),
    ("share1", 0.125, "0.0%", "12.5%"),
    ("views", 1234567, "#,##0", "1,234,567"),
    ("price", 1234.5, "#,##0.00", "1,234.50"),
    ("start", time(9, 30), "h:mm", "9:30"),
    ("clock", time(9, 30, 5), "hh:mm:ss", "09:30:05"),
]


def number_formats(folder: Path) -> Case:
    def columns(workbook, sheet):
        for c, (name, value, fmt, _) in enumerate(DATES, start=3):
            sheet.write(0, c, name)
            style = workbook.add_format({"num_format": fmt})
            if isinstance(value, (datetime, time)):
                sheet.write_datetime(1, c, value, style)
            else:
                sheet.write_number(1, c, value, style)

    cells = {**_basic_cells(), **{(2, name): shown for name, _, _, shown in DATES}}
    return Case("number_formats", _basic(folder, "formats.xlsx", columns), cells)


def formulas_cached(folder: Path) -> Case:
    def formulas(workbook, sheet):
        sheet.write(0, 3, "width")
        sheet.write_formula(1, 2, '="春季-"&A2', None, "春季-r1")
        sheet.write_formula(1, 3, "=360*2", None, 720)

    cells = {(2, "titles"): "春季-r1", (2, "width"): "720"}
    return Case("formulas_cached", _basic(folder, "formulas_cached.xlsx", formulas), cells)


def _openpyxl_formulas(path: Path, titles_formula: str, lookup: bool) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "campaign"
    sheet.append(["id", "media:main", "base", "titles", "width", "speech", "price", "label"])
    sheet.append(["r1", "a.png", 360, titles_formula, "=C2*2", '=IF(C2>100,"大","小")', 3.14159, '=TEXT(G2,"0.00")'])
    if lookup:
        other = workbook.create_sheet("lookup")
        other.append(["key", "title"])
        other.append(["r1", "查到的标题"])
    workbook.save(path)  # openpyxl stores formulas without cached values


def formulas_uncached(folder: Path) -> Case:
    path = folder / "formulas_uncached.xlsx"
    _openpyxl_formulas(path, '="春季-"&A2', lookup=False)
    cells = {(2, "titles"): "春季-r1", (2, "width"): "720", (2, "speech"): "大", (2, "label"): "3.14"}
    return Case("formulas_uncached", path, cells)


def formula_uncomputable(folder: Path) -> Case:
    path = folder / "formula_vlookup.xlsx"
    _openpyxl_formulas(path, "=VLOOKUP(A2,lookup!A:B,2,FALSE)", lookup=True)
    return Case("formula_uncomputable", path, error=("row 2", "titles"))


def fullwidth_headers(folder: Path) -> Case:
    path = folder / "fullwidth.xlsx"
    workbook = xlsxwriter.Workbook(path)
    sheet = workbook.add_worksheet("campaign")
    sheet.write_row(0, 0, ["ｉｄ", "ｍｅｄｉａ：开场", "ｓｐｅｅｃｈ", "ＷＩＤＴＨ", "ｔｉｔｌｅｓ\u3000"])
    sheet.write_row(1, 0, ["r1", "a.png", "大家好", 720, "标题"])
    workbook.close()
    cells = {(2, "id"): "r1", (2, "media:开场"): "a.png", (2, "speech"): "大家好", (2, "width"): "720", (2, "titles"): "标题"}
    return Case("fullwidth_headers", path, cells)


def title_rows(folder: Path) -> Case:
    path = folder / "title_rows.xlsx"
    workbook = xlsxwriter.Workbook(path)
    sheet = workbook.add_worksheet("campaign")
    sheet.merge_range("A1:C1", "2024 春季活动 投放表", workbook.add_format({"bold": True, "font_size": 16}))
    sheet.write(1, 0, "负责人: 小王")
    for r, row in enumerate([HEADER, *ROWS], start=2):
        sheet.write_row(r, 0, row)
    workbook.close()
    cells = {(4, "id"): "r1", (4, "media:main"): "a.png", (5, "titles"): "夏天"}
    return Case("title_rows", path, cells, key_row=4, notice="row 3")


def instructions_first(folder: Path) -> Case:
    path = folder / "instructions_first.xlsx"
    workbook = xlsxwriter.Workbook(path)
    notes = workbook.add_worksheet("使用说明")
    for r, line in enumerate(["填写说明", "1. 每行一个视频", "2. media 列填素材文件名", "3. 不要改表头"]):
        notes.write(r, 0, line)
    sheet = workbook.add_worksheet("campaign")
    for r, row in enumerate([HEADER, *ROWS]):
        sheet.write_row(r, 0, row)
    workbook.close()
    return Case("instructions_first", path, _basic_cells(), sheet_name="campaign", sheet_part="xl/worksheets/sheet2.xml",
                notice="campaign")


def two_campaigns(folder: Path) -> Case:
    """Two sheets that both look like campaigns and no --sheet: one line naming both."""
    path = folder / "two_campaigns.xlsx"
    workbook = xlsxwriter.Workbook(path)
    for name in ("春季", "夏季"):
        sheet = workbook.add_worksheet(name)
        for r, row in enumerate([HEADER, *ROWS]):
            sheet.write_row(r, 0, row)
    workbook.close()
    return Case("two_campaigns", path, error=("春季", "夏季"))


def excel_table(folder: Path) -> Case:
    path = folder / "table.xlsx"
    workbook = xlsxwriter.Workbook(path)
    sheet = workbook.add_worksheet("campaign")
    sheet.add_table("A1:C3", {"columns": [{"header": h} for h in HEADER], "data": ROWS, "style": "Table Style Medium 2"})
    workbook.close()
    return Case("excel_table", path, _basic_cells(), table_part="xl/tables/table1.xml")


def chart(folder: Path) -> Case:
    def add(workbook, sheet):
        sheet.write_column(0, 3, ["views", 120, 340])
        chart = workbook.add_chart({"type": "column"})
        chart.add_series({"values": "=campaign!$D$2:$D$3", "categories": "=campaign!$A$2:$A$3"})
        sheet.insert_chart("F2", chart)

    return Case("chart", _basic(folder, "chart.xlsx", add), {**_basic_cells(), (3, "views"): "340"})


def picture(folder: Path) -> Case:
    def add(workbook, sheet):
        sheet.insert_image("F2", "logo.png", {"image_data": io.BytesIO(png((10, 10, 10), (64, 64)))})

    return Case("picture", _basic(folder, "picture.xlsx", add), _basic_cells())


def data_bars(folder: Path) -> Case:
    def add(workbook, sheet):
        sheet.write_column(0, 3, ["views", 120, -40])
        sheet.conditional_format("D2:D3", {"type": "data_bar", "data_bar_2010": True, "bar_solid": True,
                                           "bar_negative_color": "#FF0000", "bar_axis_position": "middle"})

    return Case("x14_data_bars", _basic(folder, "data_bars.xlsx", add), {**_basic_cells(), (3, "views"): "-40"})


def dropdown(folder: Path) -> Case:
    def add(workbook, sheet):
        sheet.write_column(0, 3, ["enabled", "yes", "no"])
        sheet.data_validation("D2:D100", {"validate": "list", "source": ["yes", "no"]})

    return Case("dropdown", _basic(folder, "dropdown.xlsx", add), {**_basic_cells(), (3, "enabled"): "no"})


def conditional_formats(folder: Path) -> Case:
    def add(workbook, sheet):
        red = workbook.add_format({"font_color": "#9C0006", "bg_color": "#FFC7CE"})
        sheet.conditional_format("C2:C100", {"type": "text", "criteria": "containing", "value": "春", "format": red})

    return Case("conditional_formats", _basic(folder, "conditional.xlsx", add), _basic_cells())


def comments(folder: Path) -> Case:
    def add(workbook, sheet):
        sheet.write_comment("C1", "标题: 一行一个", {"x_scale": 2.5, "y_scale": 3, "author": "小王"})
        sheet.write_comment("B2", "素材放在表格旁边", {"visible": True, "width": 300, "height": 120})

    return Case("comments_vml", _basic(folder, "comments.xlsx", add), _basic_cells())


def vba_project() -> bytes:
    """Bytes in a vbaProject.bin's place: an OLE header and filler (readers only copy them)."""
    return b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(range(256)) * 16


def xlsm(folder: Path) -> Case:
    def add(workbook, sheet):
        workbook.add_vba_project(io.BytesIO(vba_project()), is_stream=True)

    return Case("xlsm_vba", _basic(folder, "macros.xlsm", add), _basic_cells())


def custom_xml(folder: Path) -> Case:
    path = _basic(folder, "custom_xml.xlsx")
    item = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<campaign xmlns="urn:example:ops"><owner>小王</owner></campaign>'
    props = ('<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n<ds:datastoreItem ds:itemID="{6C6D1B2A-1B2C-4D5E-8F90-123456789ABC}" '
             'xmlns:ds="http://schemas.openxmlformats.org/officeDocument/2006/customXml"><ds:schemaRefs/></ds:datastoreItem>')
    item_rels = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                 '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/customXmlProps" Target="itemProps1.xml"/></Relationships>')
    _edit_zip(path, add={"customXml/item1.xml": item.encode(), "customXml/itemProps1.xml": props.encode(),
                         "customXml/_rels/item1.xml.rels": item_rels.encode()},
              edit={"xl/_rels/workbook.xml.rels": _insert_before(b"</Relationships>",
                    '<Relationship Id="rId90" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/customXml" Target="../customXml/item1.xml"/>'),
                    "[Content_Types].xml": _insert_before(b"</Types>",
                    '<Override PartName="/customXml/itemProps1.xml" ContentType="application/vnd.openxmlformats-officedocument.customXmlProperties+xml"/>')})
    return Case("custom_xml", path, _basic_cells())


def hyperlinks(folder: Path) -> Case:
    def add(workbook, sheet):
        sheet.write_url(1, 1, "external:clip_a.png", string="开场视频")
        sheet.write_url(2, 1, "external:clip_b.png", string="第二段")

    cells = {(2, "media:main"): "clip_a.png", (3, "media:main"): "clip_b.png"}
    shown = {(2, "media:main"): "开场视频", (3, "media:main"): "第二段"}
    return Case("hyperlinked_media", _basic(folder, "hyperlinks.xlsx", add), cells, shown=shown)


CELLIMAGES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<etc:cellImages xmlns:xdr="http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" xmlns:etc="http://www.wps.cn/officeDocument/2017/etCustomData"><etc:cellImage><xdr:pic><xdr:nvPicPr><xdr:cNvPr id="2" name="ID_5F3C9A1B2D4E4F60A1B2C3D4E5F60718" descr=""/><xdr:cNvPicPr><a:picLocks noChangeAspect="1"/></xdr:cNvPicPr></xdr:nvPicPr><xdr:blipFill><a:blip r:embed="rId1"/><a:stretch><a:fillRect/></a:stretch></xdr:blipFill><xdr:spPr><a:xfrm><a:off x="0" y="0"/><a:ext cx="304800" cy="171450"/></a:xfrm><a:prstGeom prst="rect"><a:avLst/></a:prstGeom></xdr:spPr></xdr:pic></etc:cellImage></etc:cellImages>"""
WPS_ID = "ID_5F3C9A1B2D4E4F60A1B2C3D4E5F60718"


def _wps(folder: Path, name: str, cell_id: str) -> Path:
    """A WPS workbook whose B2 is a picture in the cell: ``=DISPIMG("ID_…",1)`` + xl/cellimages.xml."""
    def add(workbook, sheet):
        sheet.write_formula(1, 1, f'=_xlfn.DISPIMG("{cell_id}",1)', None, f'=DISPIMG("{cell_id}",1)')

    path = _basic(folder, name, add)
    rels = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/image" Target="media/image1.png"/></Relationships>')
    _edit_zip(path, add={"xl/cellimages.xml": CELLIMAGES.encode(), "xl/_rels/cellimages.xml.rels": rels.encode(),
                         "xl/media/image1.png": png((0, 120, 255))},
              edit={"xl/_rels/workbook.xml.rels": _insert_before(b"</Relationships>",
                    '<Relationship Id="rId91" Type="http://www.wps.cn/officeDocument/2020/cellImage" Target="cellimages.xml"/>'),
                    "[Content_Types].xml": _insert_before(b"</Types>",
                    '<Default Extension="png" ContentType="image/png"/><Override PartName="/xl/cellimages.xml" ContentType="application/vnd.wps-officedocument.cellimage+xml"/>')})
    return path


def wps_dispimg(folder: Path) -> Case:
    path = _wps(folder, "wps_dispimg.xlsx", WPS_ID)
    return Case("wps_dispimg", path, {(2, "id"): "r1"}, media={(2, "media:main"): png((0, 120, 255))})


def wps_dispimg_missing(folder: Path) -> Case:
    """A DISPIMG naming a picture the workbook does not hold: the cell cannot be read as shown."""
    return Case("wps_dispimg_missing", _wps(folder, "wps_missing.xlsx", "ID_00000000000000000000000000000000"),
                error=("row 2", "media:main"))


def excel_cell_picture(folder: Path) -> Case:
    def add(workbook, sheet):
        sheet.embed_image(1, 1, "cell.png", {"image_data": io.BytesIO(png((255, 120, 0)))})

    path = _basic(folder, "cell_picture.xlsx", add)
    return Case("excel_cell_picture", path, {(2, "id"): "r1"}, media={(2, "media:main"): png((255, 120, 0))})


# ---------------------------------------------------------------- CSV


def _csv(folder: Path, name: str, lines: list[str], delimiter: str, codec: str, bom: bytes = b"", crlf: bool = False) -> Path:
    text = ("\r\n" if crlf else "\n").join(delimiter.join(cells) for cells in map(str.split, lines)) + ("\r\n" if crlf else "\n")
    path = folder / name
    path.write_bytes(bom + text.encode(codec))
    return path


CSV_LINES = ["id media:main titles", "r1 a.png 春天来了", "r2 b.png 夏天"]


def csv_utf8_bom(folder: Path) -> Case:
    path = _csv(folder, "utf8_bom.csv", CSV_LINES, ",", "utf-8", codecs.BOM_UTF8, crlf=True)
    return Case("csv_utf8_bom", path, _basic_cells(), encoding="utf-8-sig", keep=("春天来了",))


def csv_utf16_tab(folder: Path) -> Case:
    """Excel's "Unicode text": UTF-16LE with a BOM, tab-separated, CRLF."""
    path = _csv(folder, "unicode_text.txt", CSV_LINES, "\t", "utf-16-le", codecs.BOM_UTF16_LE, crlf=True)
    return Case("csv_utf16_tab", path, _basic_cells(), encoding="utf-16", keep=("春天来了",))


def csv_gbk(folder: Path) -> Case:
    path = _csv(folder, "gbk.csv", CSV_LINES + ["r3 b.png 秋天的第一杯奶茶"], ",", "gbk", crlf=True)
    return Case("csv_gbk", path, {**_basic_cells(), (4, "titles"): "秋天的第一杯奶茶"}, notice="GB",
                encoding="gbk", keep=("秋天的第一杯奶茶",))


def csv_semicolon(folder: Path) -> Case:
    lines = ["id media:main titles max_duration media_volume", "r1 a.png Frühling 12,5 0,8", "r2 b.png Sommer 7,25 1"]
    path = _csv(folder, "semicolon.csv", lines, ";", "utf-8")
    # the cells as typed (a title "1,5" stays "1,5"); a number column reads the decimal comma
    cells = {(2, "max_duration"): "12,5", (2, "titles"): "Frühling"}
    numbers = {(2, "max_duration"): 12.5, (2, "media_volume"): 0.8, (3, "max_duration"): 7.25}
    return Case("csv_semicolon_decimal_comma", path, cells, numbers=numbers, encoding="utf-8", keep=("12,5", "0,8"))


# ---------------------------------------------------------------- converted by LibreOffice


def converted(folder: Path, profile: Path) -> list[Case]:
    """.xls and .ods made by LibreOffice from an xlsx (one soffice process per format)."""
    scratch = folder / "to_convert"
    scratch.mkdir()
    sources = {}
    for ext in ("xls", "ods"):
        def add(workbook, sheet):
            sheet.write_row(0, 3, ["width", "date_md"])
            sheet.write_number(1, 3, 720)
            sheet.write_datetime(1, 4, datetime(2024, 5, 1), workbook.add_format({"num_format": 'm"月"d"日"'}))
        sources[ext] = _basic(scratch, f"legacy_{ext}.xlsx", add)
    cases = []
    for ext, source in sources.items():
        made = convert([source], ext, folder, profile)[source][0]
        cells = {**_basic_cells(), (2, "width"): "720", (2, "date_md"): "5月1日"}
        cases.append(Case(f"converted_{ext}", made, cells, results_elsewhere=True, notice=".xlsx"))  # says where results go
    return cases


BUILDERS: list[Callable[[Path], Case]] = [
    plain_openpyxl, shared_strings, number_formats, formulas_cached, formulas_uncached, formula_uncomputable,
    fullwidth_headers, title_rows, instructions_first, two_campaigns, excel_table, chart, picture, data_bars,
    dropdown, conditional_formats, comments, xlsm, custom_xml, hyperlinks, wps_dispimg, wps_dispimg_missing,
    excel_cell_picture, csv_utf8_bom, csv_utf16_tab, csv_gbk, csv_semicolon,
]


def build_corpus(folder: Path, profile: Path) -> dict[str, Case]:
    """Every case, written into ``folder`` with its media next to it: name -> Case."""
    folder.mkdir(parents=True, exist_ok=True)
    _media(folder)
    cases = [build(folder) for build in BUILDERS] + converted(folder, profile)
    return {case.name: case for case in cases}
