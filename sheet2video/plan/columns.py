"""Columns of a sheet that nothing reads: a typo'd header (``shot_duraton``) would otherwise be
ignored without a word and the video made with the default.

Which columns a template set reads is found in its source, not by running it: every call of a row
accessor (``row.text("titles")``, ``g.number("duration")`` …) with a literal column name, in every
``*.j2`` of the set's folder (includes and macros too). A set that names columns with variables
(``row.text(name)``) cannot be checked this way and is not checked.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from sheet2video.plan.row_view import MEDIA_PREFIX, RowView
from sheet2video.errors import SheetError
from sheet2video.sheets.read import Sheet
from sheet2video.plan.template_scan import scan
from sheet2video.plan.templating import TemplateSet, make_environment
from sheet2video.sheets.result_columns import is_result_column

__all__ = [
    "PLANNER_COLUMNS",
    "NOTE_COLUMNS",
    "NOTE_PREFIXES",
    "ColumnsRead",
    "columns_read",
    "unknown_columns",
    "UnknownColumnCheck",
]

# read by the planner itself, whatever the template set
PLANNER_COLUMNS = ("enabled",)
# where people keep notes for themselves: never a typo of something the set reads
NOTE_COLUMNS = frozenset({"note", "notes", "comment", "comments", "remark", "remarks", "备注", "说明"})
NOTE_PREFIXES = ("#", "_")


@dataclass(frozen=True)
class ColumnsRead:
    names: frozenset[str]   # lower-cased column names the templates read
    media_groups: bool      # reads every media:<Group> column (row.media_groups())
    dynamic: bool           # some accessor is called with a computed name: the set cannot be checked


@lru_cache(maxsize=16)
def _scan(folder: Path, stamp: tuple) -> ColumnsRead:
    env = make_environment(folder)
    reads = [scan(env, path.read_text(encoding="utf-8"), RowView.template_api) for path in sorted(folder.rglob("*.j2"))]
    return ColumnsRead(frozenset().union(*(r.columns for r in reads)), any(r.media_groups for r in reads),
                       any(r.dynamic for r in reads))


def columns_read(template_set: TemplateSet) -> ColumnsRead:
    """The columns ``template_set`` reads (cached per folder until one of its files changes)."""
    folder = template_set.folder.resolve()
    stamp = tuple((p.name, p.stat().st_mtime_ns) for p in sorted(folder.rglob("*.j2")))
    return _scan(folder, stamp)


def _known(template_set: TemplateSet, read: ColumnsRead) -> set[str]:
    manifest = {part.strip().lower() for value in template_set.columns.values() for part in value.split("/")}
    return {*read.names, *PLANNER_COLUMNS, template_set.key_column, *template_set.required_columns,
            *(c for c in manifest if "<" not in c)}


def unknown_columns(sheet: Sheet, template_set: TemplateSet) -> list[SheetError]:
    """One problem per header that neither the template set, the planner nor the result columns use,
    with the nearest column the set does read when one is close ("did you mean")."""
    read = columns_read(template_set)
    if read.dynamic:
        return []
    known = _known(template_set, read)
    problems = []
    for header in sheet.headers:
        name = header.lower()
        if name in known or is_result_column(name) or name in NOTE_COLUMNS or name.startswith(NOTE_PREFIXES):
            continue
        if read.media_groups and name.startswith(MEDIA_PREFIX):
            continue
        suggestion = _nearest(name, known | ({f"{MEDIA_PREFIX}{name.split(':', 1)[-1]}"} if read.media_groups else set()))
        hint = f"; did you mean {suggestion!r}?" if suggestion else " (to keep notes in it, name it notes or start it with #)"
        problems.append(SheetError(f"column {header!r} is not read by template set {template_set.name} and is ignored{hint}"))
    return problems


def _nearest(name: str, candidates: set[str]) -> str | None:
    close = difflib.get_close_matches(name, sorted(candidates), n=1, cutoff=0.75)
    return close[0] if close else None


class UnknownColumnCheck:
    """``--strict``: unknown columns are problems of the plan (exit 2, nothing sent)."""

    def __init__(self, sheet: Sheet, template_set: TemplateSet):
        self.sheet, self.template_set = sheet, template_set

    def __call__(self, planned) -> list[SheetError]:
        return unknown_columns(self.sheet, self.template_set)
