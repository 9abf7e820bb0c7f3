"""Results for workbooks that are read but never written: .xls and .ods.

Nothing here can rewrite those formats faithfully, so the user's file is left untouched and the
results go to ``<stem>.results.xlsx`` next to it: made the first time from every worksheet's
cells as read (text as text, plain numbers as numbers; formulas as their values), then written
into like any .xlsx on every later run. Edits made to the .xls/.ods after that first time do not
reach the .xlsx; delete it to start it again from the workbook.
"""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

from sheet2video.errors import SheetError
from sheet2video.sheets.read_excel import excel_grid, worksheet_names

__all__ = ["CONVERTED_SUFFIXES", "results_workbook_path", "results_workbook"]

CONVERTED_SUFFIXES = (".xls", ".ods")
_NUMBER = re.compile(r"-?(0|[1-9][0-9]{0,14})(\.[0-9]+)?")  # "007" and long ids stay text
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def results_workbook_path(path: Path) -> Path:
    return path.with_name(f"{path.stem}.results.xlsx")


def results_workbook(path: Path) -> Path:
    """The .xlsx that takes the results of the .xls/.ods at ``path``, made now if it does not exist."""
    target = results_workbook_path(path)
    if target.exists():
        return target
    data = path.read_bytes()
    names = worksheet_names(path, data)
    if not names:
        excel_grid(path, data, None)  # raises the reason it cannot be read
        raise SheetError(f"{path}: the workbook has no worksheet")
    temp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        temp.write_bytes(_workbook_bytes(path, data, names))
        os.replace(temp, target)
    finally:
        temp.unlink(missing_ok=True)
    return target


def _workbook_bytes(path: Path, data: bytes, names: list[str]) -> bytes:
    import openpyxl

    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for name in names:
        sheet = workbook.create_sheet(name)
        for r, cells in enumerate(excel_grid(path, data, name).cells, start=1):
            for c, text in enumerate(cells, start=1):
                if text != "":
                    _put(sheet.cell(r, c), text)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _put(cell, text: str) -> None:
    if _NUMBER.fullmatch(text):
        cell.value = float(text) if "." in text else int(text)
        return
    cell.value = _ILLEGAL_XML.sub("", text)
    cell.data_type = "s"  # a cell reading "=…" is text that was shown, never a formula to run
