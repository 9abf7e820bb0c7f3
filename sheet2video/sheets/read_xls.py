"""The text an .xls shows for its formatted numbers: dates such as 5月1日, percentages, amounts.

python-calamine reads an .xls's values but not its number formats; xlrd (pure Python, .xls only)
reads each cell's format, and ``number_format`` renders it the same way as for an .xlsx. Only
number and date cells whose format is not General are returned; the rest keep calamine's text.
"""

from __future__ import annotations

import io

from sheet2video.sheets.number_format import format_code, format_number, is_general

__all__ = ["xls_shown"]


def xls_shown(data: bytes, sheet_name: str) -> dict[tuple[int, int], str]:
    """(row, column), 1-based → the text shown, for the formatted number cells of ``sheet_name``."""
    import xlrd

    try:
        book = xlrd.open_workbook(file_contents=data, formatting_info=True, on_demand=True, logfile=io.StringIO())
    except Exception:  # xlrd raises many types for files calamine read; they then read as General
        return {}
    try:
        sheet = book.sheet_by_name(sheet_name)
        # the workbook's own formats by id; the built-in ids use the same locale-neutral codes as an .xlsx
        custom = {key: fmt.format_str for key, fmt in book.format_map.items() if key >= 164}
        shown = {}
        for r in range(sheet.nrows):
            for c, cell in enumerate(sheet.row(r)):
                if cell.ctype not in (xlrd.XL_CELL_NUMBER, xlrd.XL_CELL_DATE):
                    continue
                code = format_code(book.xf_list[cell.xf_index].format_key, custom)
                if not is_general(code):
                    shown[(r + 1, c + 1)] = format_number(cell.value, code, date1904=bool(book.datemode))
        return shown
    except (xlrd.XLRDError, IndexError, KeyError):
        return {}
    finally:
        book.release_resources()
