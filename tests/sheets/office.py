"""LibreOffice (Debian's ``soffice --headless``) for the sheet tests: it converts the corpus's
workbooks to .xls/.ods and re-opens every workbook a write-back produced, to prove it still opens.

Every call is ONE soffice process for many files (start-up is most of the cost), with a private
profile folder so it never touches (or waits for) a user's running LibreOffice. soffice says
"Error: source file could not be loaded" and still exits 0, so success is judged by the files it
wrote. ``scripts/ensure-test-tools`` installs it; a missing soffice fails with that hint, never skips.
"""

from __future__ import annotations

import csv
import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

__all__ = ["CSV_ALL_SHEETS", "SOFFICE_TIMEOUT", "LAST_OUTPUT", "OfficeError", "soffice", "convert", "reopened_sheets", "reopened_values"]

# UTF-8 (76), comma (44), double quote (34), line 1, …, cells as shown (9th: true), -1 = every sheet to <stem>-<sheet>.csv
# (the default writes only the first sheet, and a campaign sheet is not always first)
CSV_ALL_SHEETS = 'csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,true,false,false,-1'
SOFFICE_TIMEOUT = 180  # seconds for one batch on a loaded 2-core machine
LAST_OUTPUT: list[str] = []  # what the last soffice call printed (for a failure message)


class OfficeError(AssertionError):
    """soffice is missing, timed out, or did not write what it was asked to (its output included)."""


def soffice() -> str:
    found = shutil.which("soffice")
    if found is None:
        raise OfficeError("soffice (LibreOffice) is not installed; run scripts/ensure-test-tools "
                          "(`make install-test`), which installs Debian's libreoffice-calc-nogui")
    return found


def convert(paths: list[Path], fmt: str, outdir: Path, profile: Path | None = None, *, strict: bool = True) -> dict[Path, list[Path]]:
    """Convert ``paths`` to ``fmt`` (``xls``, ``ods``, ``xlsx`` or a filter string) in one soffice
    process. Returns each input -> the files written for it (several for CSV_ALL_SHEETS). A file
    soffice could not convert raises OfficeError, or (``strict=False``) maps to [] and ``LAST_OUTPUT``
    keeps what soffice said. ``profile``: a LibreOffice profile folder to reuse (a fresh one when None)."""
    if not paths:
        return {}
    if profile is None:
        with tempfile.TemporaryDirectory(prefix="soffice-profile-") as fresh:
            return convert(paths, fmt, outdir, Path(fresh) / "profile", strict=strict)
    outdir.mkdir(parents=True, exist_ok=True)
    stems = [p.stem for p in paths]
    if len(set(stems)) != len(stems):
        raise ValueError(f"inputs must have distinct stems (outputs share one folder): {stems}")
    ext = fmt.split(":", 1)[0]
    command = [soffice(), "--headless", "--norestore", "--nologo", "--nodefault",
               f"-env:UserInstallation={profile.resolve().as_uri()}",
               "--convert-to", fmt, "--outdir", str(outdir), *map(str, paths)]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True, env={**os.environ, "SAL_USE_VCLPLUGIN": "svp"})
    try:
        output, _ = proc.communicate(timeout=SOFFICE_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # the process group this call started, nothing else
        output, _ = proc.communicate()
        raise OfficeError(f"soffice --convert-to {ext} timed out after {SOFFICE_TIMEOUT} s:\n{output[-3000:]}") from None
    written: dict[Path, list[Path]] = {}
    missing = []
    for path in paths:
        if ext == "csv":
            found = sorted(outdir.glob(f"{glob_escape(path.stem)}-*.csv")) or sorted(outdir.glob(f"{glob_escape(path.stem)}.csv"))
        else:
            found = [p for p in [outdir / f"{path.stem}.{ext}"] if p.exists()]
        if not found:
            missing.append(path.name)
        written[path] = found
    LAST_OUTPUT[:] = [output]
    if proc.returncode != 0 or (missing and strict):
        raise OfficeError(f"soffice --convert-to {ext} exited {proc.returncode}; no output for "
                          f"{', '.join(missing) or '-'}; soffice said:\n{output[-3000:]}")
    return written


def reopened_sheets(paths: list[Path], outdir: Path, profile: Path | None = None, *, strict: bool = True) -> dict[Path, dict[str, list[list[str]]]]:
    """Each workbook, as LibreOffice shows it after opening: sheet name -> rows of cell text
    ({} for a workbook it could not open, when not ``strict``)."""
    out: dict[Path, dict[str, list[list[str]]]] = {}
    for path, files in convert(paths, CSV_ALL_SHEETS, outdir, profile, strict=strict).items():
        sheets = {}
        for file in files:
            name = file.stem[len(path.stem) + 1:] if file.stem != path.stem else ""
            with file.open(encoding="utf-8", newline="") as handle:
                sheets[name] = list(csv.reader(handle))
        out[path] = sheets
    return out


def reopened_values(path: Path, sheet: str | None = None, profile: Path | None = None) -> list[list[str]]:
    """One workbook's sheet (``sheet``, or its only sheet) as LibreOffice shows it: rows of cell text."""
    with tempfile.TemporaryDirectory(prefix="reopened-") as outdir:
        sheets = reopened_sheets([path], Path(outdir), profile)[path]
    if sheet is None and len(sheets) != 1:
        raise ValueError(f"{path.name} has sheets {sorted(sheets)}; say which")
    return sheets[sheet] if sheet is not None else next(iter(sheets.values()))


def glob_escape(text: str) -> str:
    return "".join(f"[{c}]" if c in "*?[" else c for c in text)
