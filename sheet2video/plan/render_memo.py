"""Rendering a template once per distinct set of cells it reads.

Rows of a campaign mostly share their style cells (voice, volumes, transitions, caption look…),
so the EditingConfig template renders the same text for most rows. A template that depends only
on ``row``'s cells (``template_scan.Reads.pure``) is rendered once per distinct tuple of the cells
it reads; the text is parsed and validated for every job as before. A render that reported a bad
cell is never kept (the next row with that cell reports it again), and a template whose renders
never repeat stops being memoised after ``TRIAL`` rows, so the memo costs nothing where it does not help.
"""

from __future__ import annotations

from typing import Any

from sheet2video.plan.template_scan import Reads

__all__ = ["TRIAL", "LIMIT", "RenderMemo"]

TRIAL = 64      # renders without a single repeat after which memoising stops
LIMIT = 4096    # distinct entries kept (then the memo starts again)


class RenderMemo:
    def __init__(self, reads: Reads):
        self.reads = reads
        self.columns = tuple(sorted(reads.columns))
        self.media = reads.media_groups
        self.texts: dict[tuple, str] = {}
        self.hits = self.misses = 0
        self.usable: bool | None = None  # decided at the first render, from the context's names

    def key(self, row: Any, context: dict[str, Any]) -> tuple | None:
        """The cells ``row`` (a campaign.RowView) gives the template, or None when not memoisable."""
        if self.usable is None:
            self.usable = self.reads.pure(context)
        if not self.usable or (self.hits == 0 and self.misses >= TRIAL):
            return None
        return row.cells(self.columns, self.media)

    def get(self, key: tuple) -> str | None:
        text = self.texts.get(key)
        if text is None:
            self.misses += 1
        else:
            self.hits += 1
        return text

    def put(self, key: tuple, text: str) -> None:
        if len(self.texts) >= LIMIT:
            self.texts.clear()
        self.texts[key] = text
