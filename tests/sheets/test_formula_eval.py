"""Formulas saved without a value (openpyxl, scripts): simple ones computed, others named."""

import re
import zipfile

import pytest

from sheet2video.errors import SheetError
from sheet2video.sheets.formula_eval import FormulaUnsupported, XlError, evaluate, shift_formula
from sheet2video.sheets.read import read_sheet

CELLS = {(None, 1, 1): "Hello", (None, 1, 2): 2.0, (None, 2, 1): 3.0, ("Data Two", 1, 1): "x", (None, 3, 1): 45413.0}


def lookup(sheet, row, column):
    return CELLS.get((sheet, row, column))


@pytest.mark.parametrize("formula, value", [
    ('A1&" "&B1', "Hello 2"),
    ("1+2*3^2", 19.0),
    ("-2^2", 4.0),
    ("(1+2)*-B1", -6.0),
    ('IF(B1>1,"big","small")', "big"),
    ('IF(A9="","blank","full")', "blank"),
    ('TEXT(A3,"m""月""d""日""")', "5月1日"),
    ('TEXT(0.256,"0.0%")', "25.6%"),
    ('CONCATENATE(A1,"-",B1)', "Hello-2"),
    ("_xlfn.CONCAT(A1:B1)", "Hello2"),
    ("LEFT(A1,2)&MID(A1,2,3)&RIGHT(A1)&LEN(A1)", "Heello5"),
    ('UPPER(TRIM("  a   b "))&LOWER("X")', "A Bx"),
    ("ROUND(2.345,2)", 2.35),
    ("SUM(B1:B2,A2)", 5.0),
    ("'Data Two'!A1&$A$1", "xHello"),
    ("AND(TRUE,B1=2,NOT(FALSE))", True),
    ('OR(A1="hello",B1>5)', True),
    ("B1*50%", 1.0),
    ("1/0", XlError("#DIV/0!")),
    ("A9+1", 1.0),
])
def test_evaluates(formula, value):
    assert evaluate(formula, lookup) == value


@pytest.mark.parametrize("formula", ["VLOOKUP(A1,B1:C3,2,0)", "A:A", "INDIRECT(\"A1\")", "1+"])
def test_refuses_what_it_does_not_compute(formula):
    with pytest.raises(FormulaUnsupported):
        evaluate(formula, lookup)


def test_shared_formula_moves_its_relative_references():
    assert shift_formula('A1&$B$2&"A1"&Sheet2!C$3', 2, 1) == 'B3&$B$2&"A1"&Sheet2!D$3'


def _uncached(tmp_path, rows, sheet_xml=None):
    """An openpyxl workbook (formulas saved without values); ``sheet_xml`` rewrites its sheetData."""
    import openpyxl

    workbook = openpyxl.Workbook()
    for row in rows:
        workbook.active.append(row)
    path = tmp_path / "formulas.xlsx"
    workbook.save(path)
    if sheet_xml:
        patched = tmp_path / "patched.xlsx"
        with zipfile.ZipFile(path) as src, zipfile.ZipFile(patched, "w") as dst:
            for item in src.infolist():
                data = src.read(item.filename)
                if item.filename == "xl/worksheets/sheet1.xml":
                    data = re.sub(rb"<sheetData>.*</sheetData>", sheet_xml.encode(), data, flags=re.S)
                dst.writestr(item, data)
        return patched
    return path


def test_uncached_formulas_are_computed_through_other_formulas(tmp_path):
    path = _uncached(tmp_path, [["id", "city", "titles", "subtitle", "width"],
                                ["r1", "杭州", '=B2&"开业"', '=IF(LEN(C2)>3,C2&"啦",C2)', "=1000+80"]])
    row = read_sheet(path).rows[0]
    assert row.values == {"id": "r1", "city": "杭州", "titles": "杭州开业", "subtitle": "杭州开业啦", "width": "1080"}


def test_shared_formulas_without_values_are_expanded(tmp_path):
    cell = '<c r="{0}" t="inlineStr"><is><t>{1}</t></is></c>'
    rows = (f'<row r="1">{cell.format("A1", "id")}{cell.format("B1", "titles")}</row>'
            f'<row r="2">{cell.format("A2", "a")}<c r="B2" t="str"><f t="shared" ref="B2:B3" si="0">A2&amp;"!"</f></c></row>'
            f'<row r="3">{cell.format("A3", "b")}<c r="B3" t="str"><f t="shared" si="0"/></c></row>')
    sheet = read_sheet(_uncached(tmp_path, [["x"]], f"<sheetData>{rows}</sheetData>"))
    assert [r.get("titles") for r in sheet.rows] == ["a!", "b!"]


def test_a_formula_that_cannot_be_computed_is_one_line_naming_the_cell(tmp_path):
    path = _uncached(tmp_path, [["id", "titles"], ["r1", "x"], ["r2", "y"], ["r3", "=VLOOKUP(A4,A2:B3,2,FALSE)"]])
    with pytest.raises(SheetError) as raised:
        read_sheet(path)
    assert str(raised.value) == ("row 4, titles (B4): the formula =VLOOKUP(A4,A2:B3,2,FALSE) has no saved value and "
                                 "cannot be computed here (VLOOKUP is not one of the functions computed here); "
                                 "open the file in Excel or LibreOffice and save it")


def test_a_circular_reference_is_refused(tmp_path):
    path = _uncached(tmp_path, [["id", "titles", "other"], ["r1", "=C2", "=B2"]])
    with pytest.raises(SheetError, match=r"row 2, \w+ \([BC]2\): the formula =[BC]2 refers to itself"):
        read_sheet(path)


def test_the_cell_is_named_by_its_header_below_a_title_row(tmp_path):
    path = _uncached(tmp_path, [["Spring campaign 2026"], ["id", "media:main", "titles"],
                                ["r1", "a.mp4", "x"], ["r2", "b.mp4", "=VLOOKUP(A4,A3:C3,3,FALSE)"]])
    with pytest.raises(SheetError, match=r"^row 4, titles \(C4\): the formula =VLOOKUP"):
        read_sheet(path)


# what a fuzzer found: each is computed or refused as "cannot be computed here", never a traceback
@pytest.mark.parametrize("formula", ["ROUND(1,400)", "E８-", "A1:B3>\"x\"", "TEXT()", "LEFT()", "INT(\"x\")",
                                     "MID(\"x\",1,1e300)", "10^400", "SUM(\"x\"=A1:B3)", "ABS(A1)&INT(B2)"])
def test_hostile_formulas_are_computed_or_refused_cleanly(formula):
    def lookup(sheet, row, column):
        return "x" if column == 1 else 1.5

    try:
        evaluate(formula, lookup)
    except FormulaUnsupported:
        pass
