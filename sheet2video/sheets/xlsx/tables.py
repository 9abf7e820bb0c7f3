"""Excel Tables (ListObjects) that grow to cover new result columns, so sorting or filtering the
table keeps each row's results with it."""

from __future__ import annotations

import re

from sheet2video.sheets.xlsx.parts import TABLE_REL, Package, attribute, set_attribute, xml_text
from sheet2video.sheets.xlsx.scan import column_letters, parse_ref

__all__ = ["grow_tables"]


def grow_tables(package: Package, sheet_part: str, header_row: int, first_col: int,
                new: list[tuple[int, str]]) -> list[str]:
    """Widen the table that holds the campaign — its header row is ``header_row``, it starts at or
    before the first named column ``first_col`` — and whose last column sits right before the first
    new column; ``new`` is (column, header text) in column order. The parts changed."""
    if not new:
        return []
    changed = []
    for kind, part, _ in package.rels(sheet_part).values():
        if kind != TABLE_REL or not package.has(part):
            continue
        xml = package.read(part).decode("utf-8")
        grown = _grow(xml, header_row, first_col, new)
        if grown is not None:
            package.write(part, grown.encode("utf-8"))
            changed.append(part)
    return changed


def _grow(xml: str, header_row: int, first_col: int, new: list[tuple[int, str]]) -> str | None:
    root = re.search(r"<(?:(\w+):)?table\b[^>]*>", xml)
    if root is None:
        return None
    p = f"{root.group(1)}:" if root.group(1) else ""
    try:
        (top, left), (bottom, right) = (parse_ref(x) for x in (attribute(root.group(0), "ref") or "").split(":"))
    except ValueError:
        return None
    if attribute(root.group(0), "headerRowCount") == "0" or top != header_row or left > first_col:
        return None
    if right + 1 != new[0][0]:
        return None
    if [c for c, _ in new] != list(range(new[0][0], new[0][0] + len(new))):
        return None
    last = new[-1][0]
    ref = f"{column_letters(left)}{top}:{column_letters(last)}{bottom}"
    xml = xml[: root.start()] + set_attribute(root.group(0), "ref", ref) + xml[root.end():]

    def widen_filter(match: re.Match) -> str:
        try:
            (ftop, fleft), (fbottom, _) = (parse_ref(x) for x in (attribute(match.group(0), "ref") or "").split(":"))
        except ValueError:
            return match.group(0)
        return set_attribute(match.group(0), "ref", f"{column_letters(fleft)}{ftop}:{column_letters(last)}{fbottom}")

    xml = re.sub(rf"<{p}autoFilter\b[^>]*>", widen_filter, xml, count=1)
    columns = re.search(rf"<{p}tableColumns\b[^>]*>", xml)
    close = xml.index(f"</{p}tableColumns>", columns.end())
    ids = [int(i) for i in re.findall(r'<(?:\w+:)?tableColumn\b[^>]*?\sid\s*=\s*["\']([0-9]+)', xml[columns.end(): close])]
    count = len(re.findall(rf"<{p}tableColumn\b", xml[columns.end(): close])) + len(new)
    next_id = max(ids, default=0) + 1
    added = "".join(f'<{p}tableColumn id="{next_id + k}" name="{xml_text(name)}"/>' for k, (_, name) in enumerate(new))
    return (xml[: columns.start()] + set_attribute(columns.group(0), "count", str(count))
            + xml[columns.end(): close] + added + xml[close:])
