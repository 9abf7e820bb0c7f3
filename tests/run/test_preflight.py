"""Preflight: columns nothing reads are named (did you mean …?), an error under --strict; the
output paths `plan` shows are the paths a real run writes."""

import json
import re
from pathlib import Path

from sheet2video.plan.columns import columns_read, unknown_columns
from sheet2video.sheets.read import read_sheet
from sheet2video.plan.templating import load_template_set
from tests.run.conftest import cli

HEADER = "id,media:Opening,titles,count,width,height,max_duration,shot_duration"
ROW = 'r0,media/a.mp4,"Hello",1,180,320,2,1'


def typo_sheet(folder: Path) -> Path:
    path = folder / "typo.csv"
    path.write_text(HEADER.replace("titles", "title").replace("shot_duration", "shot_duraton") + ",notes,status\n"
                    + ROW + ",for me,\n", encoding="utf-8")
    return path


def test_unknown_columns_are_warned_with_the_nearest_column(campaign, tmp_path):
    campaign(rows=1)  # the media
    result = cli("plan", typo_sheet(tmp_path))
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning: column")]
    assert warnings == [
        "warning: column 'title' is not read by template set script and is ignored; did you mean 'titles'?",
        "warning: column 'shot_duraton' is not read by template set script and is ignored; did you mean 'shot_duration'?",
    ]  # notes (a note column) and status (a result column) are not warned about


def test_strict_makes_them_errors_and_sends_nothing(campaign, tmp_path):
    campaign(rows=1)
    sheet = typo_sheet(tmp_path)
    before = sheet.read_bytes()
    for command in ("plan", "run"):
        result = cli(command, sheet, "--strict")
        assert result.returncode == 2, result.stderr
        assert result.stdout == ""
        errors = result.stderr.splitlines()
        assert errors[0] == "error: column 'title' is not read by template set script and is ignored; did you mean 'titles'?"
        assert errors[1].startswith("error: column 'shot_duraton' ") and errors[1].endswith("did you mean 'shot_duration'?")
        assert errors[2:] == ["2 problem(s) found; nothing was sent or written."]
    assert sheet.read_bytes() == before
    assert not (tmp_path / "videos").exists() and not list(tmp_path.rglob("*.ledger.sqlite3"))


def test_grouped_set_columns_and_a_name_far_from_all(tmp_path):
    grouped = load_template_set("grouped")
    assert {"group", "media", "speech", "duration", "volume", "titles"} <= columns_read(grouped).names
    path = tmp_path / "g.csv"
    path.write_text("job,group,media,durration,budget\nj,Intro,a.mp4,2,100\n", encoding="utf-8")
    problems = [str(p) for p in unknown_columns(read_sheet(path), grouped)]
    assert problems == [
        "column 'durration' is not read by template set grouped and is ignored; did you mean 'duration'?",
        "column 'budget' is not read by template set grouped and is ignored (to keep notes in it, name it notes or start it with #)",
    ]


def test_result_columns_written_by_earlier_runs_are_not_unknown(tmp_path):
    path = tmp_path / "done.csv"
    path.write_text(HEADER + ",status,videos,video_1,duration_1,video_2,duration_2,video_urls,updated_at\n"
                    + ROW + ",Finished,a.mp4,a.mp4,2,b.mp4,2,,2026-12-01\n", encoding="utf-8")
    assert [str(p) for p in unknown_columns(read_sheet(path), load_template_set("script"))] == []


def test_a_set_naming_columns_with_variables_is_not_checked(tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "input_config.json.j2").write_text('{% set c = "media" %}{{ {"MediaArray": row.lines(c)} | tojson }}')
    (folder / "output_config.json.j2").write_text('{{ {"MediaURL": default_output} | tojson }}')
    mine = load_template_set(folder)
    assert columns_read(mine).dynamic
    path = tmp_path / "s.csv"
    path.write_text("id,media,whatever\nx,a.mp4,1\n", encoding="utf-8")
    assert unknown_columns(read_sheet(path), mine) == []


def test_plan_shows_the_paths_a_run_writes(campaign, tmp_path):
    campaign(rows=1)
    sheet = tmp_path / "paths.csv"
    sheet.write_text(HEADER + ",output\n" + ROW.replace(",1,180", ",2,180") + ",\n"
                     + ROW.replace("r0", "r1") + ",teasers/r1 {index}\n", encoding="utf-8")
    shown = cli("plan", sheet, env={"COLUMNS": "200"})
    assert shown.returncode == 0, shown.stderr
    planned = re.findall(r"videos/\S+\.mp4", shown.stdout)
    assert planned == ["videos/paths/r0_0.mp4", "videos/paths/r0_1.mp4", "videos/teasers/r1_0.mp4"]  # "r1 {index}" → r1_0.mp4
    narrow = cli("plan", sheet, env={"COLUMNS": "60"})  # too narrow for the table: a list, nothing cut
    assert re.findall(r"videos/\S+\.mp4", narrow.stdout) == planned

    result = cli("run", sheet, "--json")
    assert result.returncode == 0, result.stderr
    made = [v for job in json.loads(result.stdout)["jobs_detail"] for v in job["videos"]]
    assert made == planned
    assert all((tmp_path / p).is_file() for p in planned)
