"""Workbook safety: kill -9 while ``writeback.write_back`` saves a big workbook, many times, at
random moments — half spread over the whole write (load, edit, serialise, commit), half aimed at
the commit itself (from the moment the folder starts to change: a temp file, the backup, the sheet).

After every kill the file on disk is either byte-for-byte the original or the complete new
workbook (it opens, every original cell is intact, every result cell is there), and whenever the
new workbook is in place its backup is the complete original. (kill -9 cuts a process, not the
page cache: the fsyncs that make this hold after a real power cut are the code's own.)
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import time

import openpyxl

from sheet2video.sheets.write import remove_leftover_temps
from tests.reliability.conftest import FIGURES, ROOT, SEED, campaign_rows, soak, write_workbook

ROWS = 1500
WRITER = """
import sys
from sheet2video.sheets.write import RowUpdate, write_back
n = int(sys.argv[2])
updates = [RowUpdate(row=i + 2, key=f"r{i}", values={"job_id": f"{i:032x}", "status": "Finished",
                                                     "videos": f"videos/r{i}_0.mp4", "error": ""}) for i in range(n)]
write_back(sys.argv[1], updates, key_column="id")
"""


def values(path) -> dict:
    workbook = openpyxl.load_workbook(path, read_only=True)
    try:
        return {(ws.title, r, c): v for ws in workbook.worksheets
                for r, row in enumerate(ws.iter_rows(values_only=True), 1) for c, v in enumerate(row, 1) if v is not None}
    finally:
        workbook.close()


def sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def stamp(path) -> tuple:
    info = path.stat()
    return info.st_ino, info.st_size, info.st_mtime_ns


def touched(folder, stale: set, sheet, mark: tuple) -> bool:
    """The save has started changing the folder: a new file (a temp, a backup) or the sheet itself."""
    return bool(set(os.listdir(folder)) - stale) or stamp(sheet) != mark


def start_writer(path):
    return subprocess.Popen([sys.executable, "-c", WRITER, str(path), str(ROWS)], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def test_kill_during_save_leaves_original_or_complete_new_workbook(tmp_path, rng):
    pristine = write_workbook(tmp_path / "pristine.xlsx", campaign_rows(ROWS))
    original_sha, original = sha(pristine), values(pristine)
    folder = tmp_path / "book"
    folder.mkdir()
    sheet, backup = folder / "big.xlsx", folder / "big.bak.xlsx"

    shutil.copy(pristine, sheet)
    started = time.monotonic()
    proc = start_writer(sheet)
    assert proc.wait(timeout=120) == 0, proc.stderr.read()
    full = time.monotonic() - started
    new = values(sheet)
    header = {new[("Plan", 1, c)]: c for c in range(1, 20) if ("Plan", 1, c) in new}
    status_col = header["status"]
    print(f"a full write-back of {ROWS} rows takes {full:.2f} s")

    outcomes = {"original": 0, "new": 0}
    kills = 0
    for i in range(soak(12, 120)):
        shutil.copy(pristine, sheet)
        if i % 3 == 0 and backup.exists():
            backup.unlink()  # sometimes the first write ever (no backup yet), sometimes a backup to replace
        aim_at_commit = i % 2 == 1
        stale = set(os.listdir(folder))  # temp files earlier kills left behind do not count
        mark = stamp(sheet)
        proc = start_writer(sheet)
        if aim_at_commit:
            deadline = time.monotonic() + 120
            while not touched(folder, stale, sheet, mark) and proc.poll() is None:
                assert time.monotonic() < deadline, "the writer never reached its commit"
            delay = rng.uniform(0, 0.03)
        else:
            delay = rng.uniform(0, full)
        time.sleep(delay)  # the random moment of the power cut
        alive = proc.poll() is None
        proc.kill()
        proc.wait(timeout=30)
        kills += alive
        context = f"seed {SEED}, kill {i} ({'commit' if aim_at_commit else 'anywhere'}) after {delay:.3f} s"
        assert proc.returncode in (0, -9), (context, proc.stderr.read())
        proc.stderr.close()
        if sha(sheet) == original_sha:
            outcomes["original"] += 1
        else:
            got = values(sheet)  # opens: a complete workbook
            lost = {k: v for k, v in original.items() if got.get(k) != v}
            assert not lost, (context, list(lost.items())[:5])
            assert [got.get(("Plan", r, status_col)) for r in range(2, ROWS + 2)] == ["Finished"] * ROWS, context
            outcomes["new"] += 1
            assert backup.exists(), (context, "the new workbook is in place but the backup is missing")
        if backup.exists():
            assert sha(backup) == original_sha, (context, "the backup is not the complete original")
    litter = sorted(n for n in os.listdir(folder) if n.endswith(".tmp"))
    # what the runner does under the sheet's lock before its first save: the litter goes, nothing else
    others = sorted(n for n in os.listdir(folder) if not n.endswith(".tmp"))
    assert sorted(p.name for p in remove_leftover_temps(sheet)) == litter
    assert sorted(os.listdir(folder)) == others
    # whatever the kills left behind, the next save still works
    shutil.copy(pristine, sheet)
    proc = start_writer(sheet)
    assert proc.wait(timeout=120) == 0, proc.stderr.read()
    assert values(sheet) == new
    print(f"{kills} kills during a save: {outcomes}; temp files left by the kills: {len(litter)}")
    assert outcomes["original"] and outcomes["new"], outcomes  # both sides of the rename were hit
    FIGURES["workbook saves killed (always whole)"] += kills
