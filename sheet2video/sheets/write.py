"""Writing job results back into the user's own sheet, without ever damaging it.

``write_back(path, updates)`` puts each row's results (job id, status, video links, errors) into
the result columns of the sheet (DESIGN §4) and touches nothing else:

* rows are located again at write time (by key when the sheet has a key column, else by row
  number), so rows the user inserted, deleted or sorted since the sheet was read are still found
  or reported as skipped — never written into the wrong row;
* the run's first write keeps the user's file as ``<stem>.bak<ext>`` (see ``backups``: later saves
  of the run keep it, earlier runs' backups rotate into ``.sheet2video/backups/``); the file is
  replaced atomically: a temp file in the
  same folder, fsync, ``os.replace``, fsync of the folder. On any failure the original is left as
  it was and the temp file is removed;
* when Excel or LibreOffice has the file open (a lock file beside it) or it is read-only, the
  original is left untouched and the results go to ``<stem>.results<ext>`` instead (a copy of the
  original with the results in; updated again by later runs);
* workbooks are patched in their zip (``write_excel``): only the worksheet's cells, new cell formats,
  links and a Table that grows change; charts, pictures, x14 extensions, shared strings, comments,
  macros and every other part keep their bytes;
  CSV files keep their encoding, BOM, delimiter, line endings and every value. Result values
  written to CSV that start with ``= + - @`` are neutralised with a leading ``'``.

The package, along its stages: ``rows`` (finding each row again), ``columns`` (which result
columns, where), ``excel`` and ``csvfile`` (writing the cells), ``files`` (backup, atomic commit).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from sheet2video.errors import SheetError
from sheet2video.sheets.read import CONVERTED_SUFFIXES, CSV_SUFFIXES, EXCEL_SUFFIXES, campaign_sheet
from sheet2video.sheets.converted import results_workbook
from sheet2video.sheets import write_excel as excel
from sheet2video.sheets.result_columns import RESULT_COLUMNS, is_result_column
from sheet2video.sheets.write_csv import apply_csv
from sheet2video.sheets.backups import RunBackups
from sheet2video.sheets.files import Changed, backup_path, commit, lock_file, read_bytes, remove_leftover_temps, results_path
from sheet2video.sheets.result_rows import RowUpdate

__all__ = ["RESULT_COLUMNS", "RowUpdate", "RunBackups", "WriteOutcome", "backup_path", "remove_leftover_temps", "results_path", "write_back"]


@dataclass
class WriteOutcome:
    path: Path                  # the file written (or that would have been, when nothing was written)
    results_copy: bool          # True when the original was left untouched and a results copy written
    reason: str | None          # why a results copy was written (one line, for the user)
    backup: Path | None         # the backup of the replaced file, None when no file was replaced
    skipped: list[str] = field(default_factory=list)  # keys of updates whose row was not found
    written: int = 0            # rows written



def write_back(
    path: str | os.PathLike,
    updates: list[RowUpdate],
    *,
    sheet: str | int | None = None,
    key_column: str | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    backups: RunBackups | None = None,
) -> WriteOutcome:
    """Write result columns for ``updates`` into the sheet at ``path`` (or its results copy).
    ``backups``: the run's (one run, one backup of the sheet); none: this call is a run of its own.

    Raises SheetError (one line) for a missing or unreadable file, and ValueError for an update
    that names a column outside RESULT_COLUMNS (a programming error).
    """
    for update in updates:
        unknown = [c for c in update.values if not is_result_column(c)]
        if unknown:
            raise ValueError(f"not result columns: {', '.join(unknown)} (allowed: {', '.join(RESULT_COLUMNS)})")
    given = Path(path)
    if not given.exists():
        raise SheetError(f"{given}: no such file")
    if given.is_dir():
        raise SheetError(f"{given}: is a folder, not a sheet")
    real = given.resolve()  # a symlinked sheet: write the file it points to, keep the link
    suffix = real.suffix.lower()
    converted = suffix in CONVERTED_SUFFIXES
    if converted:  # never written: the results go to <stem>.results.xlsx beside it, a file of ours (no backup)
        sheet = campaign_sheet(real, read_bytes(real), sheet)  # the worksheet read_sheet read in it
        real = given = results_workbook(real)
        suffix = real.suffix
    if suffix not in EXCEL_SUFFIXES and suffix not in CSV_SUFFIXES:
        raise SheetError(f"{given}: unknown sheet type {suffix!r}; use .xlsx, .xlsm, .xls, .ods, .csv or .tsv")
    job = _Job(real, given, updates, sheet, key_column, encoding, delimiter, None if converted else backups or RunBackups())
    for _ in range(3):
        try:
            return job.run()
        except Changed:
            continue
    raise SheetError(f"{given}: the file kept changing while results were written; close other programs and rerun")


# ---------------------------------------------------------------- the whole operation


@dataclass
class _Job:
    real: Path
    given: Path
    updates: list[RowUpdate]
    sheet: str | int | None
    key_column: str | None
    encoding: str | None
    delimiter: str | None
    backups: RunBackups | None  # None: the file is ours (no original to keep)

    @property
    def is_excel(self) -> bool:
        return self.real.suffix.lower() in EXCEL_SUFFIXES

    def run(self) -> WriteOutcome:
        original = read_bytes(self.real)
        if self.is_excel:
            excel.check_workbook_bytes(self.given, original)
        reason = self._redirect_reason()

        target, base, source = self.real, original, self.given
        if reason is not None:
            target = results_path(self.real)
            reason = f"{reason}; results written to {target.name} instead"
            lock = lock_file(target)
            if lock is not None:
                raise SheetError(f"{target}: the results copy is open ({lock.name} exists); close it and rerun")
            if target.exists():
                base, source = read_bytes(target), target
                if self.is_excel:
                    excel.check_workbook_bytes(target, base)

        if self.is_excel:
            data, written, skipped = excel.apply_excel(
                base, source, self.updates, sheet=self.sheet, key_column=self.key_column, folder=self.real.parent)
        else:
            data, written, skipped = apply_csv(base, source, self.updates, key_column=self.key_column,
                                               encoding=self.encoding, delimiter=self.delimiter)

        outcome = WriteOutcome(target, reason is not None, reason, None, skipped, written)
        if not written:
            return outcome
        expected = base if source == target or target == self.real else None
        watch = self.real if target == self.real else None
        mode = self.real.stat().st_mode & 0o7777
        back_up = (lambda: self.backups.keep(target, base, mode)) if target == self.real and self.backups else None
        outcome.backup = commit(target, data, expected, watch, mode, back_up)
        return outcome

    def _redirect_reason(self) -> str | None:
        lock = lock_file(self.real) or lock_file(self.given.absolute())
        if lock is not None:
            app = "LibreOffice" if lock.name.startswith(".~lock.") else "Excel"
            return f"{self.real.name} is open in {app} (lock file {lock.name} exists)"
        if not os.access(self.real, os.W_OK):
            return f"{self.real.name} is read-only"
        return None
