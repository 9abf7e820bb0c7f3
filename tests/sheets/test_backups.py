"""The user's original survives a run's several saves, and earlier runs' backups rotate, never vanish."""

from __future__ import annotations

import os

from sheet2video.sheets.backups import KEEP_RUNS, RunBackups, backups_folder, older_backups
from sheet2video.sheets.write import RowUpdate, write_back


def _sheet(tmp_path, text="id,media:A\nr1,a.mp4\nr2,b.mp4\n"):
    path = tmp_path / "campaign.csv"
    path.write_text(text, encoding="utf-8")
    return path


def _status(path, status, backups=None):
    updates = [RowUpdate(row=n, key=f"row{n}", values={"status": status}) for n in (2, 3)]
    return write_back(path, updates, backups=backups)


def test_a_runs_later_saves_keep_its_backup_the_users_file(tmp_path):
    path = _sheet(tmp_path)
    original = path.read_bytes()
    run = RunBackups()
    first = _status(path, "Init", run)
    second = _status(path, "Finished", run)
    assert first.backup == second.backup == path.with_name("campaign.bak.csv")
    assert second.backup.read_bytes() == original
    assert "Finished" in path.read_text(encoding="utf-8")
    assert not backups_folder(path).exists()  # nothing to rotate on a first run


def test_each_run_backs_up_once_and_the_last_runs_and_the_very_first_are_kept(tmp_path):
    path = _sheet(tmp_path)
    contents = [path.read_bytes()]
    runs = KEEP_RUNS + 3
    for n in range(runs):
        run = RunBackups()
        _status(path, f"Init {n}", run)
        _status(path, f"Finished {n}", run)
        bak = path.with_name("campaign.bak.csv")
        assert bak.read_bytes() == contents[-1], n  # this run's backup: the file as the run found it
        os.utime(bak, (1_700_000_000 + n, 1_700_000_000 + n))  # runs a second apart, whatever the clock did
        contents.append(path.read_bytes())
    rotated = older_backups(path)
    # the very first (the sheet before any run) and the newest KEEP_RUNS - 1 rotated ones
    assert [p.read_bytes() for p in rotated] == [contents[0], *contents[runs - KEEP_RUNS:runs - 1]]
    assert len(set(p.name for p in rotated)) == KEEP_RUNS


def test_two_runs_in_one_second_keep_both_backups(tmp_path):
    path = _sheet(tmp_path)
    seen = [path.read_bytes()]
    for n in range(3):
        _status(path, f"s{n}")
        os.utime(path.with_name("campaign.bak.csv"), (1_700_000_000, 1_700_000_000))
        seen.append(path.read_bytes())
    assert [p.read_bytes() for p in older_backups(path)] == seen[:2]


def test_a_results_copy_is_ours_and_makes_no_backup(tmp_path):
    path = _sheet(tmp_path)
    original = path.read_bytes()
    (tmp_path / ".~lock.campaign.csv#").write_text("lock")
    outcome = _status(path, "Finished")
    assert outcome.results_copy and outcome.backup is None
    assert path.read_bytes() == original and not path.with_name("campaign.bak.csv").exists()
