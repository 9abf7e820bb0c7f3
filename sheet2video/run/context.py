"""What every stage of one run shares once its sheet is planned, its ledger open and its backend reached.

The stages (``submitting``, ``polling``, ``results``) take one :class:`RunContext` instead of the
same eight arguments each; the run loop in ``runner`` builds it under the sheet's lock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sheet2video.cloud.local_media import CloudMedia
from sheet2video.plan.campaign import PlannedJob
from sheet2video.plan.templating import TemplateSet
from sheet2video.run.backends import Backend
from sheet2video.run.interrupts import FirstInterrupt
from sheet2video.run.ledger import Entry, Ledger
from sheet2video.run.options import RunOptions
from sheet2video.run.reporter import Reporter
from sheet2video.sheets.backups import RunBackups
from sheet2video.sheets.read import Sheet

__all__ = ["RunContext"]


@dataclass
class RunContext:
    sheet_path: Path
    options: RunOptions
    reporter: Reporter
    sheet: Sheet
    template_set: TemplateSet
    planned: list[PlannedJob]
    ledger: Ledger
    backend: Backend
    identity: str                          # plan.campaign.sheet_identity: part of every ClientToken
    disabled: list[tuple[int, str, str]]   # (row, key, enabled cell) of the rows switched off
    sigint: FirstInterrupt                 # Ctrl+C waits while a submission and its ledger line happen
    cloud: CloudMedia | None = None        # a cloud run from local files (--bucket), set once the backend is reached
    backups: RunBackups = field(default_factory=RunBackups)  # the sheet is backed up once per run

    def entry(self, key: str) -> Entry | None:
        """The ledger's line for one job on this run's backend."""
        return self.ledger.get(self.backend.name, key)
