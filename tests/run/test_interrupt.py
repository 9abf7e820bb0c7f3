"""Ctrl+C on a real `sheet2video run`: one press stops it cleanly, the rerun finishes the rest."""

import csv
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.run.conftest import cli

ROWS = 6
TEMP_ENDINGS = (".part", ".filtergraph", ".ass", ".titles.png", ".tmp")


def read_rows(path):
    with open(path, newline="", encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


def engine_db(sheet):
    return sheet.parent / ".sheet2video" / "engine" / "engine.sqlite3"


def query(db, sql):
    if not db.exists():
        return []
    connection = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
    try:
        return connection.execute(sql).fetchall()
    except sqlite3.OperationalError:  # the engine has not created its tables yet
        return []
    finally:
        connection.close()


def wait_until(condition, proc, what, limit=120):
    """Poll a condition (the engine's own state), failing if the run ends first."""
    deadline = time.monotonic() + limit
    while not condition():
        assert proc is None or proc.poll() is None, f"the run ended before {what}: {proc.stderr.read()}"
        assert time.monotonic() < deadline, f"no {what} within {limit} s"
        time.sleep(0.02)  # polling interval, not a synchronisation


def rendering(videos):
    return list(videos.rglob(".*.part")) if videos.is_dir() else []


def processes_under(folder):
    """Live processes whose command line names the folder (FFmpeg renders write into it)."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if str(folder).encode() in cmdline.read_bytes():
                found.append(cmdline.parent.name)
        except OSError:
            pass
    return found


def leftovers(folder):
    return [p for p in folder.rglob(".*") if p.is_file() and (p.name.endswith(TEMP_ENDINGS) or p.name.startswith(".dl-"))]


@pytest.mark.parametrize("whom", ["process group", "process", "impatient"])
def test_one_ctrl_c_stops_the_run_cleanly_and_the_rerun_finishes(campaign, tmp_path, whom):
    sheet = campaign(rows=ROWS)
    original = read_rows(sheet)
    proc = subprocess.Popen([sys.executable, "-m", "sheet2video", "run", str(sheet), "--workers", "1", "--quiet"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        db = engine_db(sheet)
        videos = sheet.parent / "videos"
        wait_until(lambda: rendering(videos), proc, "a job rendering")  # FFmpeg has opened its output
        # a terminal sends SIGINT to the whole foreground group (FFmpeg included); kill(1) to the process only
        if whom == "process":
            proc.send_signal(signal.SIGINT)
        else:
            os.killpg(proc.pid, signal.SIGINT)
        if whom == "impatient":  # a second press while it winds down changes nothing
            os.killpg(proc.pid, signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("interrupted: ") and lines[0].endswith(f" of {ROWS} jobs finished; rerun to continue"), err
    finished = int(lines[0].split()[1])
    assert finished < ROWS
    # the render in flight was stopped with the run (FFmpeg killed by PR_SET_PDEATHSIG), not left orphaned
    wait_until(lambda: not processes_under(tmp_path), None, "FFmpeg to die with the run", limit=10)

    after = read_rows(sheet)  # the sheet opens, every original cell as it was, statuses of what is known
    assert len(after) == ROWS
    for before, now in zip(original, after):
        assert {k: now[k] for k in before} == before
    assert sum(r["status"] == "Finished" for r in after) == finished
    report = (sheet.parent / f"{sheet.stem}.report.html").read_text(encoding="utf-8")
    assert report.count('<article class="card') >= max(finished, 1)  # what was done before the stop (one job was rendering)
    submitted = query(db, "SELECT count(*) FROM jobs")[0][0]
    assert sum(bool(r["job_id"]) for r in after) <= submitted  # nothing claimed that the engine lacks

    rerun = cli("run", sheet, "--workers", "1", "--quiet")
    assert rerun.returncode == 0, rerun.stderr
    assert "Traceback" not in rerun.stderr
    final = read_rows(sheet)
    assert [r["status"] for r in final] == ["Finished"] * ROWS
    assert len({r["job_id"] for r in final}) == ROWS
    assert query(db, "SELECT count(*) FROM jobs")[0][0] == ROWS  # no row was submitted twice
    for row in final:
        assert (sheet.parent / row["videos"]).stat().st_size > 0
    for before, now in zip(original, final):
        assert {k: now[k] for k in before} == before
    assert leftovers(tmp_path) == []  # … for the next run to remove
