"""What a template sees of one row: typed accessors that name the row and column of a bad cell."""

from __future__ import annotations

import re
from typing import Any

from sheet2video.errors import SheetError
from sheet2video.sheets.read import Row

__all__ = ["DECIMAL_COMMA", "MEDIA_PREFIX", "FALSE_WORDS", "TRUE_WORDS", "EXCEL_ERRORS", "RowView", "split_lines", "split_blocks"]

MEDIA_PREFIX = "media:"
FALSE_WORDS = {"no", "n", "false", "0", "off", "skip", "disabled", "否"}
TRUE_WORDS = {"yes", "y", "true", "1", "on", "enabled", "是", ""}
THOUSANDS = re.compile(r"[-+]?[0-9]{1,3}(,[0-9]{3})+(\.[0-9]+)?")  # groups of three digits only
DECIMAL_COMMA = re.compile(r"-?([0-9]+|[0-9]{1,3}(\.[0-9]{3})+),[0-9]+")  # a number in a semicolon CSV
# what a spreadsheet shows for a formula that failed: never content for a video
EXCEL_ERRORS = {"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA", "#SPILL!", "#CALC!"}


class RowView:
    """What a template sees of one row: typed accessors that name the row and column on error.

    A bad cell does not stop the rendering: the error is collected in ``problems`` and the
    column's default is used, so one preflight reports every bad cell of every row at once.
    A template says what only the sheet knows with ``row.fail(column, message)`` (a problem: exit 2,
    nothing sent) and ``row.warn(column, message)`` (collected in ``warnings``, shown by plan and run).
    """

    # the methods templates may call (the sandbox calls exactly these without its generic checks)
    template_api = frozenset({"has", "text", "lines", "blocks", "number", "integer", "flag", "media_groups", "fail", "warn"})

    def __init__(self, row: Row, headers: list[str], problems: list[SheetError] | None = None,
                 warnings: list[SheetError] | None = None):
        self._row = row
        self._headers = headers
        self.problems = problems if problems is not None else []
        self.warnings = warnings if warnings is not None else []
        self.sheet_row = row.number  # the spreadsheet row number

    def _bad(self, column: str, message: str, default: Any) -> Any:
        problem = SheetError(message, row=self.sheet_row, column=column)
        if not any(str(p) == str(problem) for p in self.problems):  # a cell two templates read is one problem
            self.problems.append(problem)
        return default

    def _cell(self, column: str) -> str:
        value = self._row.get(column)
        if value.strip().upper() in EXCEL_ERRORS:
            problem = SheetError(f"holds the spreadsheet error {value.strip()} (a formula that failed); fix or clear the cell",
                                 row=self.sheet_row, column=column)
            if not any(str(p) == str(problem) for p in self.problems):
                self.problems.append(problem)
            return ""
        return value

    def fail(self, column: str, message: str) -> str:
        """A problem with ``column`` that a template found (e.g. two columns that exclude each other)."""
        self.problems.append(SheetError(str(message), row=self.sheet_row, column=column))
        return ""

    def warn(self, column: str, message: str) -> str:
        """A warning about ``column`` (e.g. a cell this kind of row does not use)."""
        self.warnings.append(SheetError(str(message), row=self.sheet_row, column=column))
        return ""

    def has(self, column: str) -> bool:
        return bool(self._cell(column).strip())

    def text(self, column: str, default: str = "") -> str:
        value = self._cell(column).strip()
        return value if value else default

    def lines(self, column: str) -> list[str]:
        return split_lines(self._cell(column))

    def blocks(self, column: str) -> list[str]:
        return split_blocks(self._cell(column))

    def number(self, column: str, default: float | int | None = None) -> float | int | None:
        raw = self._cell(column).strip()
        if not raw:
            return default
        if self._row.decimal_comma and DECIMAL_COMMA.fullmatch(raw):  # "1,5" / "1.234,5" in a semicolon CSV
            raw = raw.replace(".", "").replace(",", ".")
        elif THOUSANDS.fullmatch(raw):  # "1,080" / "1,080.5": a cell formatted #,##0 reads as shown
            raw = raw.replace(",", "")
        try:
            value = float(raw)
        except ValueError:
            value = float("nan")
        if value != value or value in (float("inf"), float("-inf")):
            return self._bad(column, f"expected a number, got {raw!r}", default)
        return int(value) if value.is_integer() and abs(value) < 2**53 else value

    def integer(self, column: str, default: int | None = None) -> int | None:
        value = self.number(column, default)
        if value is None or isinstance(value, int):
            return value
        return self._bad(column, f"expected a whole number, got {self._row.get(column).strip()!r}", default)

    def flag(self, column: str, default: bool = True) -> bool:
        raw = self._cell(column).strip().lower()
        if not raw:
            return default
        if raw in FALSE_WORDS:
            return False
        if raw in TRUE_WORDS:
            return True
        return self._bad(column, f"expected yes or no, got {raw!r}", default)

    def cells(self, columns: tuple[str, ...], media: bool) -> tuple:
        """The raw cells of ``columns`` (and of every media:<Group> column): a render_memo key."""
        values = self._row.values
        key = tuple(values.get(c, "") for c in columns)
        if media:
            key += tuple((h, values.get(h.lower(), "")) for h in self._headers if h.lower().startswith(MEDIA_PREFIX))
        return key

    def media_groups(self) -> list[tuple[str, list[str]]]:
        """(group name, media refs) for each ``media:<Group>`` column, in column order."""
        groups = []
        for header in self._headers:
            if header.lower().startswith(MEDIA_PREFIX):
                name = header[len(MEDIA_PREFIX) :].strip()
                media = self.lines(header)
                if media:
                    groups.append((name, media))
        return groups


def split_lines(value: Any) -> list[str]:
    """A multi-value cell: one value per line, trimmed, blanks dropped."""
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [str(v).strip() for v in value if str(v).strip()]
    return [part.strip() for part in str(value).splitlines() if part.strip()]


def split_blocks(value: Any) -> list[str]:
    """A cell of blocks separated by blank lines: each block's lines joined by a space, in order
    (a space, not a line break: a caption is a piece of the script and must stay on its lines)."""
    blocks, block = [], []
    for line in [*str(value or "").splitlines(), ""]:
        if line.strip():
            block.append(line.strip())
        elif block:
            blocks.append(" ".join(block))
            block = []
    return blocks
