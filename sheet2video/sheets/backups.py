"""The user's sheet as it was before each run: copied once, kept, rotated, never overwritten.

A run's first write copies the sheet to ``<stem>.bak<ext>`` beside it; the run's later saves
(status Init, then Finished, …) leave that copy alone, so it is the file as the user left it. The
next run moves it into ``.sheet2video/backups/<stem>.<when>.bak<ext>`` before making its own, and
the folder keeps the last ``KEEP_RUNS`` runs' backups (the one beside the sheet included) plus the
oldest one, the file before sheet2video ever wrote it. Nothing else writes or deletes them.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

from sheet2video.sheets.files import backup_path, state_dir, write_atomically

__all__ = ["KEEP_RUNS", "RunBackups", "backups_folder", "older_backups"]

KEEP_RUNS = 5


def backups_folder(sheet: Path) -> Path:
    return state_dir(sheet) / "backups"


def older_backups(sheet: Path) -> list[Path]:
    """The rotated backups of ``sheet``, oldest first."""
    sheet = sheet.resolve()
    pattern = re.compile(re.escape(sheet.stem) + r"\.(\d{8}-\d{6}(?:-\d+)?)\.bak" + re.escape(sheet.suffix))
    folder = backups_folder(sheet)
    found = [p for p in folder.iterdir() if pattern.fullmatch(p.name)] if folder.is_dir() else []
    return sorted(found, key=lambda p: _stamp_key(pattern.fullmatch(p.name).group(1)))


class RunBackups:
    """One per run (a plain ``write_back`` call is a run of its own): which sheets it has backed up."""

    def __init__(self) -> None:
        self._done: set[Path] = set()

    def keep(self, sheet: Path, original: bytes, mode: int) -> Path:
        """Back ``sheet`` up unless this run already did; returns the backup beside it."""
        sheet = sheet.resolve()
        backup = backup_path(sheet)
        if sheet in self._done and backup.exists():
            return backup
        if backup.exists():
            _rotate(sheet, backup)
        write_atomically(backup, original, mode)
        self._done.add(sheet)
        return backup


def _rotate(sheet: Path, backup: Path) -> None:
    """Move the previous run's backup into the backups folder, then keep the newest and the oldest."""
    folder = backups_folder(sheet)
    folder.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(backup.stat().st_mtime))
    dest, n = folder / f"{sheet.stem}.{stamp}.bak{sheet.suffix}", 1
    while dest.exists():
        n += 1
        dest = folder / f"{sheet.stem}.{stamp}-{n}.bak{sheet.suffix}"
    os.replace(backup, dest)
    rotated = older_backups(sheet)
    newest = KEEP_RUNS - 1  # the backup beside the sheet is the KEEP_RUNS-th
    for old in rotated[1:-newest] if len(rotated) > newest + 1 else []:
        old.unlink(missing_ok=True)  # the oldest (rotated[0]) stays: the sheet before any run


def _stamp_key(stamp: str) -> tuple[str, int]:
    """``20261206-153000`` / ``20261206-153000-2`` (two runs in one second) in time order."""
    return stamp[:15], int(stamp[16:] or 1)
