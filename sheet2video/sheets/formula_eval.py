"""A small evaluator for the simple formulas scripts save without a cached value.

Enough for campaign sheets: literals, references (A1, $A$1, Sheet!A1, ranges in SUM), ``&``,
arithmetic, comparisons and a handful of functions (IF, AND/OR/NOT, TEXT, CONCATENATE/CONCAT,
LEFT/RIGHT/MID/LEN/UPPER/LOWER/TRIM, ROUND, SUM, ...). Anything else raises ``FormulaUnsupported``
so the caller can name the cell; a library (formulas, pycel) would pull in numpy for this.
"""

from __future__ import annotations

from contextlib import contextmanager
from inspect import signature

import math
import re
from collections.abc import Callable
from decimal import ROUND_DOWN, ROUND_HALF_UP, ROUND_UP, Decimal

from sheet2video.sheets.number_format import format_number, general_text
from sheet2video.sheets.xlsx.scan import column_index

__all__ = ["FormulaUnsupported", "XlError", "evaluate", "shift_formula", "value_text", "first_argument"]

MAX_RANGE = 100_000  # cells one range may cover


class FormulaUnsupported(Exception):
    """The formula uses something this evaluator does not compute."""


class XlError(str):
    """An Excel error value (``#DIV/0!``), which spreads through the arithmetic like in Excel."""


Lookup = Callable[[str | None, int, int], object]  # (sheet or None for this one, row, column) → value

_TOKEN = re.compile(
    r"""\s*(?:(?P<string>"(?:[^"]|"")*")"""
    r"""|(?P<ref>(?:(?:'(?:[^']|'')+'|[\w.]+)!)?\$?[A-Za-z]{1,3}\$?[0-9]+(?::\$?[A-Za-z]{1,3}\$?[0-9]+)?)(?![\w(])"""
    r"""|(?P<number>[0-9]+(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?|\.[0-9]+(?:[eE][+-]?[0-9]+)?)"""
    r"""|(?P<func>[A-Za-z_][\w.]*)\s*\("""
    r"""|(?P<bool>TRUE|FALSE)(?![\w(])"""
    r"""|(?P<error>\#(?:N/A|DIV/0!|VALUE!|REF!|NAME\?|NUM!|NULL!))"""
    r"""|(?P<op><>|<=|>=|[-+*/^&=<>(),%]))""",
    re.IGNORECASE,
)


def _tokenize(text: str) -> list[tuple[str, str]]:
    tokens, position = [], 0
    text = text.strip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match or match.end() == position:
            raise FormulaUnsupported(f"cannot read {text[position:position + 20]!r}")
        kind = match.lastgroup
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


def evaluate(formula: str, lookup: Lookup) -> object:
    """The value of ``formula`` (without its ``=``): a float, str, bool, None (blank) or XlError."""
    _check_functions(formula)
    parser = _Parser(_tokenize(formula.removeprefix("=")), lookup)
    with _uncomputable():
        result = parser.expression(0)
    if parser.position != len(parser.tokens):
        raise FormulaUnsupported(f"unexpected {parser.tokens[parser.position][1]!r}")
    if isinstance(result, list):
        raise FormulaUnsupported("a range where one value is expected")
    return result


_CALL = re.compile(r'"(?:[^"]|"")*"|([A-Za-z_][\w.]*)\s*\(')


def _check_functions(formula: str) -> None:
    """Name the first function not computed here before anything else goes wrong."""
    for match in _CALL.finditer(formula):
        name = (match.group(1) or "").upper().removeprefix("_XLFN.").removeprefix("_XLWS.")
        if name and name not in _FUNCTIONS:
            raise FormulaUnsupported(f"{name} is not one of the functions computed here")


def first_argument(formula: str, lookup: Lookup) -> object:
    """The first argument of a formula that is one function call (``HYPERLINK("x", "y")`` → ``"x"``)."""
    parser = _Parser(_tokenize(formula.removeprefix("=")), lookup)
    if not parser.tokens or parser.tokens[0][0] != "func":
        raise FormulaUnsupported("not a function call")
    parser.position = 1
    with _uncomputable():
        return parser.expression(0)


@contextmanager
def _uncomputable():
    """Arithmetic that fails here (``ROUND(1,400)``, a number too large for a length, nesting
    deeper than Python's stack) means the formula cannot be computed here: one clear line, never a
    traceback, whatever a hostile sheet holds."""
    try:
        yield
    except (ArithmeticError, ValueError, TypeError, RecursionError) as error:
        raise FormulaUnsupported(f"it cannot be computed here ({type(error).__name__})") from None


_BINARY = {"=": 1, "<>": 1, "<": 1, ">": 1, "<=": 1, ">=": 1, "&": 2, "+": 3, "-": 3, "*": 4, "/": 4, "^": 5}


class _Parser:
    """A Pratt parser that evaluates as it parses (formulas here are tiny)."""

    def __init__(self, tokens: list[tuple[str, str]], lookup: Lookup):
        self.tokens, self.position, self.lookup = tokens, 0, lookup

    def _next(self) -> tuple[str, str]:
        if self.position >= len(self.tokens):
            raise FormulaUnsupported("the formula ends too soon")
        self.position += 1
        return self.tokens[self.position - 1]

    def _peek(self) -> tuple[str, str] | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def expression(self, power: int) -> object:
        left = self._unary()
        while (token := self._peek()) and token[0] == "op" and token[1] in _BINARY and _BINARY[token[1]] > power:
            self.position += 1
            right = self.expression(_BINARY[token[1]] - (1 if token[1] == "^" else 0))
            left = _binary(token[1], left, right)
        return left

    def _unary(self) -> object:
        kind, text = self._next()
        if kind == "op" and text in "+-":
            value = self._unary()  # Excel: -2^2 is 4
            return _number(value) if text == "+" or isinstance(_number(value), XlError) else -_number(value)
        value = self._atom(kind, text)
        if (token := self._peek()) and token == ("op", "%"):
            self.position += 1
            value = _number(value) / 100 if not isinstance(_number(value), XlError) else value
        return value

    def _atom(self, kind: str, text: str) -> object:
        if kind == "string":
            return text[1:-1].replace('""', '"')
        if kind == "number":
            return float(text)
        if kind == "bool":
            return text.upper() == "TRUE"
        if kind == "error":
            return XlError(text.upper())
        if kind == "ref":
            return self._reference(text)
        if kind == "func":
            return self._call(text.upper().removeprefix("_XLFN.").removeprefix("_XLWS."))
        if (kind, text) == ("op", "("):
            value = self.expression(0)
            if self._next() != ("op", ")"):
                raise FormulaUnsupported("a bracket is not closed")
            return value
        raise FormulaUnsupported(f"unexpected {text!r}")

    def _reference(self, text: str) -> object:
        sheet, _, cells = text.rpartition("!")
        sheet = sheet[1:-1].replace("''", "'") if sheet.startswith("'") else (sheet or None)
        first, _, last = cells.replace("$", "").partition(":")
        top, left = _split_ref(first)
        if not last:
            return self.lookup(sheet, top, left)
        bottom, right = _split_ref(last)
        top, bottom, left, right = min(top, bottom), max(top, bottom), min(left, right), max(left, right)
        if (bottom - top + 1) * (right - left + 1) > MAX_RANGE:
            raise FormulaUnsupported("a range too large to compute")
        return [self.lookup(sheet, r, c) for r in range(top, bottom + 1) for c in range(left, right + 1)]

    def _call(self, name: str) -> object:
        args = []
        if self._peek() == ("op", ")"):
            self.position += 1
        else:
            while True:
                args.append(self.expression(0))
                kind, text = self._next()
                if text == ")":
                    break
                if text != ",":
                    raise FormulaUnsupported(f"unexpected {text!r} in {name}")
        function = _FUNCTIONS.get(name)
        if function is None:
            raise FormulaUnsupported(f"{name} is not one of the functions computed here")
        for arg in args:
            if isinstance(arg, XlError) and name not in ("IF", "IFERROR"):
                return arg
        try:
            signature(function).bind(*args)
        except TypeError:
            raise FormulaUnsupported(f"{name} is given {len(args)} argument(s)") from None
        return function(*args)


def _split_ref(ref: str) -> tuple[int, int]:
    column = column_index(ref)
    return int(ref[len(ref.rstrip("0123456789")):]), column


def _number(value: object) -> float | XlError:
    if isinstance(value, XlError):
        return value
    if value is None or value == "":
        return 0.0
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, list):
        raise FormulaUnsupported("a range where one value is expected")
    try:
        return float(str(value).strip())
    except ValueError:
        return XlError("#VALUE!")


def value_text(value: object) -> str:
    """A value as text, the way ``&`` and a General cell show it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return general_text(float(value))
    if isinstance(value, list):
        raise FormulaUnsupported("a range where one value is expected")
    return str(value)


def _binary(op: str, left: object, right: object) -> object:
    for side in (left, right):
        if isinstance(side, XlError):
            return side
    if op == "&":
        return value_text(left) + value_text(right)
    if op in ("=", "<>", "<", ">", "<=", ">="):
        return _compare(op, left, right)
    a, b = _number(left), _number(right)
    if isinstance(a, XlError) or isinstance(b, XlError):
        return a if isinstance(a, XlError) else b
    if op == "/" and b == 0:
        return XlError("#DIV/0!")
    try:
        return {"+": lambda: a + b, "-": lambda: a - b, "*": lambda: a * b, "/": lambda: a / b, "^": lambda: a ** b}[op]()
    except (OverflowError, ZeroDivisionError, ValueError):
        return XlError("#NUM!")


def _compare(op: str, left: object, right: object) -> bool:
    def key(value: object) -> tuple[int, object]:
        if value is None:
            value = "" if isinstance(left if value is right else right, str) else 0.0
        if isinstance(value, bool):
            return 2, value
        if isinstance(value, str):
            return 1, value.casefold()
        if isinstance(value, list):
            raise FormulaUnsupported("a range where one value is expected")
        return 0, float(value)
    a, b = key(left), key(right)
    return {"=": a == b, "<>": a != b, "<": a < b, ">": a > b, "<=": a <= b, ">=": a >= b}[op]


def _truth(value: object) -> bool:
    if isinstance(value, str):
        if value.upper() in ("TRUE", "FALSE"):
            return value.upper() == "TRUE"
        raise FormulaUnsupported("text where TRUE or FALSE is expected")
    return bool(_number(value))


def _flat(args: tuple) -> list:
    return [v for a in args for v in (a if isinstance(a, list) else [a])]


def _on_number(value: object, op: Callable[[float], object]) -> object:
    """``op`` of ``value`` as a number; text that is no number gives #VALUE!, as in Excel."""
    number = _number(value)
    return number if isinstance(number, XlError) else op(number)


def _round(value: object, digits: object = 0.0, mode: str = ROUND_HALF_UP) -> float | XlError:
    number, places = _number(value), _number(digits)
    if isinstance(number, XlError) or isinstance(places, XlError):
        return number if isinstance(number, XlError) else places
    step = Decimal(1).scaleb(-max(-15, min(15, int(places))))  # beyond 15 digits a double has none
    return float(Decimal(repr(number)).quantize(step, rounding=mode))


def _mid(text: object, start: object, length: object) -> str:
    begin = int(_number(start)) - 1
    if begin < 0:
        return XlError("#VALUE!")
    return value_text(text)[begin:begin + int(_number(length))]


def _text_function(value: object, code: object) -> str:
    number = _number(value)
    if isinstance(number, XlError):
        return value_text(value)
    return format_number(number, value_text(code))


def _sum(*args: object) -> float:
    total = 0.0
    for value in _flat(args):
        if isinstance(value, XlError):
            return value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            total += value
    return total


_FUNCTIONS: dict[str, Callable[..., object]] = {
    "IF": lambda test, yes=True, no=False: test if isinstance(test, XlError) else (yes if _truth(test) else no),
    "IFERROR": lambda value, other: other if isinstance(value, XlError) else value,
    "AND": lambda *a: all(_truth(v) for v in _flat(a) if v is not None),
    "OR": lambda *a: any(_truth(v) for v in _flat(a) if v is not None),
    "NOT": lambda v: not _truth(v),
    "TEXT": _text_function,
    "CONCATENATE": lambda *a: "".join(value_text(v) for v in a),
    "CONCAT": lambda *a: "".join(value_text(v) for v in _flat(a)),
    "LEFT": lambda t, n=1.0: value_text(t)[:int(_number(n))],
    "RIGHT": lambda t, n=1.0: value_text(t)[-int(_number(n)):] if int(_number(n)) else "",
    "MID": _mid,
    "LEN": lambda t: float(len(value_text(t))),
    "UPPER": lambda t: value_text(t).upper(),
    "LOWER": lambda t: value_text(t).lower(),
    "TRIM": lambda t: re.sub(" +", " ", value_text(t)).strip(" "),
    "ROUND": _round,
    "ROUNDUP": lambda v, d=0.0: _round(v, d, ROUND_UP),
    "ROUNDDOWN": lambda v, d=0.0: _round(v, d, ROUND_DOWN),
    "INT": lambda v: _on_number(v, lambda n: float(math.floor(n))),
    "ABS": lambda v: _on_number(v, abs),
    "SUM": _sum,
    "MIN": lambda *a: min((float(v) for v in _flat(a) if isinstance(v, (int, float)) and not isinstance(v, bool)), default=0.0),
    "MAX": lambda *a: max((float(v) for v in _flat(a) if isinstance(v, (int, float)) and not isinstance(v, bool)), default=0.0),
    "VALUE": lambda v: _number(v),
    "HYPERLINK": lambda target, text=None: text if text is not None else target,
}


_REF_IN_FORMULA = re.compile(r"""("(?:[^"]|"")*")|((?:(?:'(?:[^']|'')+'|[\w.]+)!)?)(\$?)([A-Za-z]{1,3})(\$?)(\d+)(?![\w(])""")


def shift_formula(formula: str, rows: int, columns: int) -> str:
    """A shared formula's text for a cell ``rows`` down and ``columns`` right of its master."""
    def move(match: re.Match) -> str:
        if match.group(1):
            return match.group(1)
        sheet, col_lock, letters, row_lock, number = match.group(2, 3, 4, 5, 6)
        column = column_index(letters) + (0 if col_lock else columns)
        row = int(number) + (0 if row_lock else rows)
        if column < 1 or row < 1:
            raise FormulaUnsupported("a shared formula moves off the sheet")
        name = ""
        while column:
            column, rem = divmod(column - 1, 26)
            name = chr(65 + rem) + name
        return f"{sheet}{col_lock}{name}{row_lock}{row}"
    return _REF_IN_FORMULA.sub(move, formula)
