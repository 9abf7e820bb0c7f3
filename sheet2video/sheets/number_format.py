"""Rendering a number through an Excel number format code, as the cell shows it.

Covers what campaign sheets use: dates and times, percentages, fixed decimals, thousands
separators, currency and quoted literals, sections (positive;negative;zero;text) and conditions.
Colours, locale tags (``[$-804]``) and ``[DBNum1]`` are ignored: digits come out Arabic.

Built-in formats whose look depends on the system locale (14, 22 and the CJK ids 27-36, 50-58)
render locale-neutral, ISO-like (14 → ``yyyy-mm-dd``, 22 → ``yyyy-mm-dd hh:mm``), so a sheet reads
the same on every machine; a custom code such as ``m"月"d"日"`` renders exactly as written.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

__all__ = ["BUILTIN_FORMATS", "format_code", "is_general", "format_number", "format_text", "serial_to_datetime", "general_text"]

_ISO_DATE, _ISO_TIME, _ISO_SECONDS = "yyyy-mm-dd", "hh:mm", "hh:mm:ss"
BUILTIN_FORMATS: dict[int, str] = {
    0: "General", 1: "0", 2: "0.00", 3: "#,##0", 4: "#,##0.00",
    5: "#,##0;-#,##0", 6: "#,##0;[Red]-#,##0", 7: "#,##0.00;-#,##0.00", 8: "#,##0.00;[Red]-#,##0.00",
    9: "0%", 10: "0.00%", 11: "0.00E+00", 12: "# ?/?", 13: "# ??/??",
    14: _ISO_DATE, 15: "d-mmm-yy", 16: "d-mmm", 17: "mmm-yy", 18: "h:mm AM/PM", 19: "h:mm:ss AM/PM",
    20: "h:mm", 21: "h:mm:ss", 22: "yyyy-mm-dd hh:mm",
    37: "#,##0 ;(#,##0)", 38: "#,##0 ;[Red](#,##0)", 39: "#,##0.00;(#,##0.00)", 40: "#,##0.00;[Red](#,##0.00)",
    45: "mm:ss", 46: "[h]:mm:ss", 47: "mm:ss.0", 48: "##0.0E+0", 49: "@",
    **{i: _ISO_DATE for i in (27, 28, 29, 30, 31, 36, 50, 51, 52, 53, 54, 57, 58)},
    **{i: _ISO_TIME for i in (32, 34, 55)}, **{i: _ISO_SECONDS for i in (33, 35, 56)},
}


def format_code(num_fmt_id: int, custom: dict[int, str]) -> str:
    """The code a numFmtId means: the workbook's own numFmts first, then the built-ins."""
    return custom.get(num_fmt_id) or BUILTIN_FORMATS.get(num_fmt_id, "General")


def is_general(code: str) -> bool:
    return code.strip().lower() in ("general", "", "@")


def general_text(value: float) -> str:
    """A number as Excel's General shows it in a wide column (``2`` not ``2.0``, no exponent)."""
    value = float(value)
    if value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    return format(Decimal(repr(value)).normalize(), "f")


def format_text(text: str, code: str) -> str:
    """A text cell through the format's text section (``"Mr. "@``), when it has one."""
    sections = _split_sections(code)
    section = sections[3] if len(sections) > 3 else (sections[0] if len(sections) == 1 and "@" in sections[0] else None)
    if section is None:
        return text
    tokens = _tokens(section)
    return "".join(text if kind == "@" else value for kind, value in tokens if kind in ("lit", "@"))


@lru_cache(maxsize=4096)
def format_number(value: float, code: str, *, date1904: bool = False) -> str:
    """``value`` as a cell with format ``code`` shows it (cached: sheets repeat their values)."""
    value = float(value)
    section, value, signed = _pick_section(_split_sections(code), value)
    tokens = _tokens(section)
    kinds = {kind for kind, _ in tokens}
    if kinds & {"y", "m", "d", "h", "s", "ampm", "elapsed"}:
        return _format_date(tokens, value, date1904)
    if kinds & {"0", "frac", "E"} and "frac" not in kinds:
        return ("-" if signed and value < 0 else "") + _format_decimal(tokens, abs(value) if signed else value)
    if "general" in kinds or not kinds - {"lit"}:
        shown = general_text(abs(value) if signed else value) if "general" in kinds else ""
        return ("-" if signed and value < 0 and shown else "") + _join(tokens, shown)
    return general_text(value)  # fractions and anything unknown: the plain number


@lru_cache(maxsize=256)
def _split_sections(code: str) -> tuple[str, ...]:
    sections, current, i = [], [], 0
    while i < len(code):
        char = code[i]
        if char == '"':
            end = code.find('"', i + 1)
            end = len(code) - 1 if end < 0 else end
            current.append(code[i:end + 1])
            i = end + 1
            continue
        if char == "\\" and i + 1 < len(code):
            current.append(code[i:i + 2])
            i += 2
            continue
        if char == ";":
            sections.append("".join(current))
            current = []
        else:
            current.append(char)
        i += 1
    sections.append("".join(current))
    return tuple(sections)


_CONDITION = re.compile(r"\[(<=|>=|<>|<|>|=)(-?[\d.]+)\]")


def _pick_section(sections: tuple[str, ...], value: float) -> tuple[str, float, bool]:
    """(section, value, whether the sign is still to be written) for this value."""
    conditions = [_CONDITION.search(s) for s in sections[:3]]
    if any(conditions):
        for section, condition in zip(sections[:3], conditions):
            if condition is None or _holds(condition.group(1), value, float(condition.group(2))):
                return section, value, False if condition and value < 0 else True
        return sections[-1], value, True
    if len(sections) == 1 or value > 0 or (value == 0 and len(sections) == 2):
        return sections[0], value, True
    if value < 0:
        return sections[1], -value, False
    return (sections[2] if sections[2].strip() else sections[0]), value, True


def _holds(op: str, value: float, limit: float) -> bool:
    return {"<": value < limit, ">": value > limit, "=": value == limit, "<=": value <= limit,
            ">=": value >= limit, "<>": value != limit}[op]


_TOKEN = re.compile(
    r'"(?P<quoted>[^"]*)"?|\\(?P<escaped>.)|_.|\*.|(?P<bracket>\[[^\]]*\])|(?P<ampm>am/pm|a/p|上午/下午)'
    r"|(?P<general>general)|(?P<date>y+|m+|d+|h+|s+|e+)|(?P<digits>[0#?]+)|(?P<other>.)",
    re.IGNORECASE | re.DOTALL,
)


@lru_cache(maxsize=256)
def _tokens(section: str) -> tuple[tuple[str, str], ...]:
    """(kind, text): lit, general, y/m/d/h/s runs, ampm, elapsed, 0 (digits), . , % E / @."""
    tokens: list[tuple[str, str]] = []
    for match in _TOKEN.finditer(section):
        text = match.group(0)
        if match.group("quoted") is not None or match.group("escaped") is not None:
            tokens.append(("lit", match.group("quoted") if match.group("quoted") is not None else match.group("escaped")))
        elif text[0] == "_":
            tokens.append(("lit", " "))
        elif text[0] == "*":
            continue
        elif match.group("bracket"):
            inner = text[1:-1]
            if re.fullmatch(r"h+|m+|s+", inner, re.IGNORECASE):
                tokens.append(("elapsed", inner.lower()))
            elif inner.startswith("$"):
                tokens.append(("lit", inner[1:].split("-", 1)[0]))  # [$¥-804] → ¥; [$-804] → nothing
        elif match.group("ampm"):
            tokens.append(("ampm", text))
        elif match.group("general"):
            tokens.append(("general", text))
        elif match.group("date"):
            kind = text[0].lower()
            tokens.append(("E" if kind == "e" and text == "E" else ("y" if kind == "e" else kind), text.lower()))
        elif match.group("digits"):
            tokens.append(("0", text))
        elif text in ".,%@/":
            tokens.append(({"/": "frac"}.get(text, text), text))
        else:
            tokens.append(("lit", text))
    return tuple(_scientific(tokens))


def _scientific(tokens: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """``E+00``: the tokenizer saw E then a literal sign then digits; join them."""
    out: list[tuple[str, str]] = []
    i = 0
    while i < len(tokens):
        kind, text = tokens[i]
        if kind == "E" and i + 2 < len(tokens) and tokens[i + 1][1] in "+-" and tokens[i + 2][0] == "0":
            out.append(("E", "E" + tokens[i + 1][1] + tokens[i + 2][1]))
            i += 3
            continue
        if kind in ("y", "E") and not any(k == "0" for k, _ in tokens):
            out.append(("y", text) if kind == "y" else ("lit", text))
        else:
            out.append((kind, text))
        i += 1
    return out


def _join(tokens: list[tuple[str, str]], body: str) -> str:
    """Literals around ``body``, which stands where the first placeholder was."""
    out, placed = [], False
    for kind, text in tokens:
        if kind in ("lit", "%"):
            out.append(text)
        elif not placed and kind not in (",",):
            out.append(body)
            placed = True
    if not placed:
        out.append(body)
    return "".join(out)


def _format_decimal(tokens: list[tuple[str, str]], value: float) -> str:
    number = [t for t in tokens if t[0] in ("0", ".", ",", "%", "E")]
    value *= 100 ** sum(1 for k, _ in number if k == "%")
    digits_at = [i for i, (k, _) in enumerate(number) if k == "0"]
    last = digits_at[-1] if digits_at else -1
    scale = sum(1 for k, _ in number[last + 1:] if k == ",")
    value /= 1000 ** scale
    point = next((i for i, (k, _) in enumerate(number) if k == "."), None)
    exponent = next((t for k, t in number if k == "E"), None)
    integer_part = "".join(t for i, (k, t) in enumerate(number) if k == "0" and (point is None or i < point))
    fraction = "".join(t for i, (k, t) in enumerate(number) if k == "0" and point is not None and i > point)
    grouped = any(k == "," and 0 < i < last for i, (k, _) in enumerate(number))
    if exponent:
        return _join(tokens, _format_scientific(value, integer_part, fraction, exponent))
    rounded = Decimal(repr(value)).quantize(Decimal(1).scaleb(-len(fraction)), rounding=ROUND_HALF_UP)
    whole, _, decimals = f"{rounded:f}".partition(".")
    whole = whole.lstrip("0")
    whole = whole.rjust(integer_part.count("0"), "0")
    if grouped:
        whole = f"{int(whole or 0):,}" if whole else ""
    keep = len(fraction.rstrip("#?")) if fraction else 0
    decimals = decimals[:len(fraction)]
    while len(decimals) > keep and decimals.endswith("0"):
        decimals = decimals[:-1]
    body = whole + ("." + decimals if point is not None and (decimals or fraction.startswith("0") or not fraction) else "")
    body = body.rstrip(".") if fraction and not decimals else body
    return _join(tokens, body)


def _format_scientific(value: float, integer_part: str, fraction: str, exponent: str) -> str:
    if value == 0:
        power = 0
    else:
        power = math.floor(math.log10(abs(value)))
    mantissa = value / 10 ** power if value else 0.0
    text = f"{mantissa:.{len(fraction)}f}"
    if float(text) >= 10:
        power += 1
        text = f"{mantissa / 10:.{len(fraction)}f}"
    sign = "-" if power < 0 else ("+" if exponent[1] == "+" else "")
    return f"{text}E{sign}{str(abs(power)).rjust(len(exponent) - 2, '0')}"


def serial_to_datetime(serial: float, date1904: bool = False) -> dt.datetime:
    """An Excel date serial as a datetime, rounded to the second (the 1900 leap-year bug kept)."""
    if date1904:
        base = dt.datetime(1904, 1, 1)
    else:
        base = dt.datetime(1899, 12, 30) if serial >= 61 else dt.datetime(1899, 12, 31)
    return base + dt.timedelta(seconds=round(serial * 86400))


_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December")
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _format_date(tokens: list[tuple[str, str]], value: float, date1904: bool) -> str:
    if value < 0 or value > 2958465:
        return "#" * 8  # Excel shows hashes for a date it cannot show
    when = serial_to_datetime(value, date1904)
    twelve = any(k == "ampm" for k, _ in tokens)
    out = []
    for i, (kind, text) in enumerate(tokens):
        if kind == "m" and len(text) <= 2 and _is_minutes(tokens, i):
            kind = "minute"
        out.append(_date_part(kind, text, when, value, twelve))
    return "".join(out)


def _is_minutes(tokens: list[tuple[str, str]], index: int) -> bool:
    """``m`` means minutes right after an hour or right before seconds (literals between)."""
    before = next((k for k, _ in reversed(tokens[:index]) if k != "lit"), None)
    after = next((k for k, _ in tokens[index + 1:] if k != "lit"), None)
    return before in ("h", "elapsed") or after == "s" or (after == "elapsed")


def _date_part(kind: str, text: str, when: dt.datetime, serial: float, twelve: bool) -> str:
    n = len(text)
    if kind == "y":
        return f"{when.year % 100:02d}" if n <= 2 else f"{when.year:04d}"
    if kind == "m":
        return (str(when.month), f"{when.month:02d}", _MONTHS[when.month - 1][:3], _MONTHS[when.month - 1],
                _MONTHS[when.month - 1][0])[min(n, 5) - 1]
    if kind == "d":
        return (str(when.day), f"{when.day:02d}", _DAYS[when.weekday()][:3], _DAYS[when.weekday()])[min(n, 4) - 1]
    if kind == "h":
        hour = (when.hour % 12 or 12) if twelve else when.hour
        return f"{hour:02d}" if n >= 2 else str(hour)
    if kind == "minute":
        return f"{when.minute:02d}" if n >= 2 else str(when.minute)
    if kind == "s":
        return f"{when.second:02d}" if n >= 2 else str(when.second)
    if kind == "ampm":
        am = when.hour < 12
        if text == "上午/下午":
            return "上午" if am else "下午"
        return ("AM" if am else "PM") if len(text) > 3 else ("A" if am else "P")
    if kind == "elapsed":
        seconds = round(serial * 86400)
        whole = {"h": seconds // 3600, "m": seconds // 60, "s": seconds}[text[0]]
        return str(whole).rjust(len(text), "0")
    return text if kind in ("lit", ".", ",", "%", "@", "0", "frac") else ""
