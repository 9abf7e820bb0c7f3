"""`sheet2video plan`: rows → validated IMS parameters, every problem before anything is written."""

import json
import re
import subprocess
import sys

import pytest
from click.testing import CliRunner

from sheet2video.plan.campaign import parse_row_selection, plan_campaign
from sheet2video.cli import cli
from sheet2video.errors import ConfigError, PreflightError
from sheet2video.cloud.checks import check_params
from sheet2video.sheets.read import read_sheet
from sheet2video.plan.templating import load_template_set

HEADER = ["id", "media:Opening", "media:Product", "titles", "speech", "bgm", "count", "width", "height"]


def run(*args):
    result = CliRunner().invoke(cli, list(map(str, args)))
    return result


def plan_lines(path, *args):
    result = run("plan", path, "--out", "-", *args)
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines()]


def params_of(job):
    return {k: (json.loads(v) if k != "ClientToken" else v) for k, v in job["params"].items()}


def test_script_row_becomes_exact_api_parameters(write_xlsx):
    path = write_xlsx(
        [
            HEADER + ["crf", "voice", "bgm_volume", "shot_duration", "notify", "max_duration"],
            ["spring-1", "a.mp4\nb.mp4", "c.png", "Title A\nTitle B", "Hello there.", "music.mp3", 2, 180, 320, 23, "en", 0.5, 2, "https://example.com/cb", 12],
        ]
    )
    (job,) = plan_lines(path)
    assert job["job"] == "spring-1" and job["rows"] == [2]
    assert list(job["params"]) == ["ClientToken", "InputConfig", "EditingConfig", "OutputConfig", "UserData"]
    p = params_of(job)
    assert p["InputConfig"] == {
        "MediaGroupArray": [
            {"GroupName": "Opening", "MediaArray": ["a.mp4", "b.mp4"]},
            {"GroupName": "Product", "MediaArray": ["c.png"]},
        ],
        "TitleArray": ["Title A", "Title B"],
        "SpeechTextArray": ["Hello there."],
        "BackgroundMusicArray": ["music.mp3"],
    }
    assert p["EditingConfig"] == {
        "MediaConfig": {"Volume": 0},
        "SpeechConfig": {"Volume": 1, "Voice": "en",  # captions on by default: 5.5 % of the short side
                         "AsrConfig": {"FontSize": 10, "FontColor": "#FFFFFF", "Alignment": "BottomCenter"}},
        "BackgroundMusicConfig": {"Volume": 0.5},
        # template defaults: transitions (fade, 0.4 s), photos move, other aspects over a blurred copy
        "ProcessConfig": {"SingleShotDuration": 2, "AllowTransition": True, "TransitionList": ["fade"], "TransitionDuration": 0.4,
                          "AllowVfxEffect": True},
        "BackgroundImageConfig": {"SubType": "Blur"},
    }
    assert p["OutputConfig"] == {
        "MediaURL": "campaign/spring-1_{index}.mp4",
        "Count": 2,
        "MaxDuration": 12,
        "Width": 180,
        "Height": 320,
        "Video": {"Crf": 23},
    }
    assert p["UserData"] == {"NotifyAddress": "https://example.com/cb"}
    assert len(job["params"]["ClientToken"]) == 32
    assert check_params(p) == []


def test_defaults_and_row_key(write_csv):
    (job,) = plan_lines(write_csv("media:Main\nclip.mp4\n"))
    assert job["job"] == "row2"
    p = params_of(job)
    assert p["OutputConfig"] == {"MediaURL": "campaign/row2_{index}.mp4", "Count": 1, "Width": 1080, "Height": 1920, "Video": {"Crf": 27}}
    assert p["EditingConfig"]["MediaConfig"] == {"Volume": 0}
    assert "UserData" not in job["params"] and "TemplateConfig" not in job["params"]


def test_cells_are_data_never_template_source(write_csv):
    tricky = ['He said "hi"', "{{ 7*7 }}", "50% off, today: [new]", "=1+1", "emoji 🎉 ok", "back\\slash"]
    cell = "\n".join(tricky).replace('"', '""')
    path = write_csv(f'id,media:A,titles\nx,"a.mp4",\"{cell}\"\n')
    (job,) = plan_lines(path)
    assert params_of(job)["InputConfig"]["TitleArray"] == tricky


def test_chinese_sheet(write_xlsx):
    path = write_xlsx(
        [HEADER + ["voice"], ["hema-01", "开业.mp4", "商品.mp4", "回龙观盒马鲜生开业啦\n盒马鲜生开业啦", "附近的商场新开了一家盒马鲜生，今天是第一天开业", "", 2, 1080, 1920, "cmn"]],
        name="盒马.xlsx",
    )
    (job,) = plan_lines(path)
    p = params_of(job)
    assert p["InputConfig"]["TitleArray"] == ["回龙观盒马鲜生开业啦", "盒马鲜生开业啦"]
    assert p["OutputConfig"]["MediaURL"] == "盒马/hema-01_{index}.mp4"
    # Chinese text is sent as text, not \u escapes
    assert "回龙观" in job["params"]["InputConfig"]


def test_bom_semicolon_crlf_and_numbers_as_text(write_csv):
    path = write_csv('\ufeffid;media:A;count;width;height;bgm_volume\r\nx;a.mp4;"3";180;320;0.25\r\n')
    (job,) = plan_lines(path)
    p = params_of(job)
    assert p["OutputConfig"]["Count"] == 3 and p["OutputConfig"]["Width"] == 180
    assert p["EditingConfig"]["BackgroundMusicConfig"]["Volume"] == 0.25


def test_numbers_typed_as_numbers_and_text_plan_identically(write_xlsx, tmp_path):
    as_numbers = write_xlsx([["id", "media:A", "count", "width", "height"], ["x", "a.mp4", 2.0, 180, 320]], name="n.xlsx")
    as_text = write_xlsx([["id", "media:A", "count", "width", "height"], ["x", "a.mp4", "2", "180", "320"]], name="t.xlsx")
    a, b = params_of(plan_lines(as_numbers)[0]), params_of(plan_lines(as_text)[0])
    assert a["OutputConfig"]["Count"] == b["OutputConfig"]["Count"] == 2
    assert (a["OutputConfig"]["Width"], a["OutputConfig"]["Height"]) == (b["OutputConfig"]["Width"], b["OutputConfig"]["Height"]) == (180, 320)


def test_every_problem_of_every_row_reported_together_and_nothing_written(write_csv, tmp_path):
    path = write_csv(
        "id,media:A,count,width,height,titles\n"
        "ok,a.mp4,1,180,320,fine\n"
        "bad-count,a.mp4,lots,181,320,\n"
        "no-media,,1,180,320,\n"
        f"long-title,a.mp4,1000,180,320,{'x' * 51}\n"
        "ok,b.mp4,1,180,320,dup id\n"
    )
    out = tmp_path / "plans"
    result = run("plan", path, "--out", out)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert lines == [
        "error: row 3, count: expected a number, got 'lots'",
        "error: row 3, width (OutputConfig.Width): must be even for H.264 yuv420p, got 181",
        "error: row 4, media:<Group>: no media given; fill at least one media column",
        "error: row 5, titles (InputConfig.TitleArray): item 1 has 51 characters, at most 50 are allowed",
        "error: row 5, count (OutputConfig.Count): must be at most 100, got 1000",
        "error: row 6, id: duplicate id 'ok' (also row 2)",
        "6 problem(s) found; nothing was sent or written.",
    ]
    assert not out.exists()
    assert "Traceback" not in result.output


def test_client_token_deterministic_and_content_sensitive(write_csv, tmp_path):
    path = write_csv("id,media:A,titles\nx,a.mp4,Hello\ny,b.mp4,World\n")
    first = run("plan", path, "--out", "-").stdout
    assert run("plan", path, "--out", "-").stdout == first  # byte-identical across runs
    tokens = [json.loads(l)["params"]["ClientToken"] for l in first.splitlines()]
    assert len(set(tokens)) == 2
    path.write_text("id,media:A,titles\nx,a.mp4,Hello!\ny,b.mp4,World\n")
    changed = [json.loads(l)["params"]["ClientToken"] for l in run("plan", path, "--out", "-").stdout.splitlines()]
    assert changed[0] != tokens[0] and changed[1] == tokens[1]
    other = tmp_path / "other.csv"
    other.write_text("id,media:A,titles\nx,a.mp4,Hello\ny,b.mp4,World\n")
    assert [json.loads(l)["params"]["ClientToken"] for l in run("plan", other, "--out", "-").stdout.splitlines()] != tokens


def test_out_dir_writes_one_file_per_job(write_csv, tmp_path):
    path = write_csv("id,media:A\nx,a.mp4\ny/z,b.mp4\n")
    out = tmp_path / "plans"
    result = run("plan", path, "--out", out)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["x.json", "y_z.json"]
    assert json.loads((out / "y_z.json").read_text())["job"] == "y/z"


def test_hidden_rows_are_planned_with_one_warning(write_xlsx):
    import openpyxl

    rows = [["id", "media:A", "enabled"]] + [[f"r{i}", "a.mp4", "no" if i == 4 else "yes"] for i in range(2, 16)]
    path = write_xlsx(rows)
    workbook = openpyxl.load_workbook(path)
    for number in (3, 4, *range(5, 15)):  # row 4 is also enabled=no
        workbook.active.row_dimensions[number].hidden = True
    workbook.save(path)
    result = run("plan", path, "--out", "-")
    assert result.exit_code == 0, result.output
    assert len(result.stdout.splitlines()) == 13  # every enabled row, hidden or not
    assert result.stderr.count("warning:") == 1
    assert ("warning: rows 3, 5, 6, 7, 8, 9, 10, 11, 12, 13 and 1 more are hidden in the workbook (or filtered out) "
            "and will be sent like any other; to skip a row, put no in an enabled column") in result.stderr
    assert "warning" not in run("plan", path, "--rows", "2", "--out", "-").stderr


def test_summary_without_out(write_csv):
    result = run("plan", write_csv("id,media:A,count\nx,a.mp4,3\n"))
    assert result.exit_code == 0
    assert "3 video(s) would be made" in result.stdout


def test_summary_of_a_long_sheet_shows_the_first_jobs_and_counts_them_all(write_csv):
    rows = "".join(f"job{i:03d},a.mp4,2\n" for i in range(45))
    result = run("plan", write_csv("id,media:A,count\n" + rows))
    assert result.exit_code == 0, result.output
    shown = re.findall(r"\bjob\d{3}\b(?!_)", result.stdout)  # the job names, not their output paths (job000_0.mp4)
    assert shown == [f"job{i:03d}" for i in range(30)]
    assert "the first 30 of 45 jobs; --out - or --out DIR gives them all" in result.stdout
    assert "90 video(s) would be made" in result.stdout


def test_row_selection_and_enabled(write_csv):
    path = write_csv("id,media:A,enabled,count\na,x.mp4,,1\nb,x.mp4,no,1\nc,x.mp4,yes,1\nd,x.mp4,1,zzz\n")
    assert [j["job"] for j in plan_lines(path, "--rows", "2-4")] == ["a", "c"]
    assert [j["job"] for j in plan_lines(path, "--rows", "2,4")] == ["a", "c"]
    assert run("plan", path, "--rows", "5", "--out", "-").exit_code == 2  # d's bad count is selected
    assert parse_row_selection("2-3, 7") == {2, 3, 7}
    for bad in ("1", "x", "5-2"):
        with pytest.raises(ConfigError):
            parse_row_selection(bad)


def test_grouped_template_set(write_csv):
    path = write_csv(
        "job,group,media,speech,duration,volume,titles,count\n"
        'spring,Opening,"a.mp4\nb.mp4",Welcome to spring.,,,"Spring sale\nNew season",2\n'
        "summer,Opening,c.mp4,Hello summer.,,,Summer,1\n"
        "spring,Product,d.mp4,,3,0.5,,\n"
    )
    jobs = plan_lines(path, "--templates", "grouped")
    assert [(j["job"], j["rows"]) for j in jobs] == [("spring", [2, 4]), ("summer", [3])]
    p = params_of(jobs[0])
    assert p["InputConfig"]["MediaGroupArray"] == [
        {"GroupName": "Opening", "MediaArray": ["a.mp4", "b.mp4"], "SpeechTextArray": ["Welcome to spring."]},
        {"GroupName": "Product", "MediaArray": ["d.mp4"], "Duration": 3, "Volume": 0.5},
    ]
    assert p["InputConfig"]["TitleArray"] == ["Spring sale", "New season"]
    assert "SpeechTextArray" not in p["InputConfig"]
    assert p["OutputConfig"]["Count"] == 2


def test_grouped_problem_points_at_the_group_row(write_csv):
    result = run("plan", write_csv("job,group,media,speech,duration\nj,A,a.mp4,Hi,\nj,B,,,\n"), "--templates", "grouped")
    assert result.exit_code == 2
    assert "row 3, media (InputConfig.MediaGroupArray[1].MediaArray): is required" in result.stderr
    result = run("plan", write_csv("job,group,media,speech,duration\nj,A,a.mp4,Hi,\nj,C,c.mp4,Hello,4\n"), "--templates", "grouped")
    assert "row 3, InputConfig.MediaGroupArray[1]: Duration applies only to a group without SpeechTextArray" in result.stderr


def test_ten_thousand_rows(write_csv):
    lines = ["id,media:A,titles,count,width,height"] + [f"r{i},clip{i % 7}.mp4,Title {i},2,180,320" for i in range(10_000)]
    path = write_csv("\n".join(lines) + "\n")
    sheet = read_sheet(path)
    planned = plan_campaign(sheet, load_template_set("script"))
    assert len(planned) == 10_000
    assert len({p.params["ClientToken"] for p in planned}) == 10_000
    assert planned[-1].rows == [10_001]


SEED_INPUT = {
    "MediaGroupArray": [
        {"GroupName": "MediaGroup1", "MediaArray": ["****9d46c886b45481030f6e****", "****6c886b4549d481030f6e****"]},
        {"GroupName": "MediaGroup2", "MediaArray": ["****d46c886810b454930f6e****", "****4549d886810b46c30f6e****"]},
    ],
    "TitleArray": ["回龙观盒马鲜生开业啦", "盒马鲜生开业啦"],
    "SpeechTextArray": ["附近的商场新开了一家盒马鲜生，今天是第一天开业", "商场里的人不少，零食、酒水都比较便宜大家也快来看看呀"],
}
SEED_EDITING = {"MediaConfig": {"Volume": 0}, "SpeechConfig": {"Volume": 1}, "BackgroundMusicConfig": {"Volume": 0.3}}
SEED_OUTPUT = {"MediaURL": "http://xxx.oss-cn-shanghai.aliyuncs.com/xxx_{index}.mp4", "Count": 20, "MaxDuration": 15, "Width": 1080, "Height": 1920, "Video": {"Crf": 27}}


def test_seed_example_accepted_by_models():
    assert check_params({"InputConfig": SEED_INPUT, "EditingConfig": SEED_EDITING, "OutputConfig": SEED_OUTPUT, "UserData": {"NotifyAddress": "ice-callback-demo"}}) == []


@pytest.mark.parametrize(
    "mutate, path, fragment",
    [
        (lambda p: p["InputConfig"].update(MediaGroupArray=[{"GroupName": f"G{i}", "MediaArray": ["m"]} for i in range(41)]), "InputConfig.MediaGroupArray", "at most 40"),
        (lambda p: p["InputConfig"]["MediaGroupArray"][0].update(MediaArray=["m"] * 201), "InputConfig.MediaGroupArray[0].MediaArray", "at most 200"),
        (lambda p: p["InputConfig"].update(TitleArray=["t"] * 51), "InputConfig.TitleArray", "at most 50"),
        (lambda p: p["InputConfig"].update(SpeechTextArray=["s" * 1001]), "InputConfig.SpeechTextArray", "1001 characters"),
        (lambda p: p["EditingConfig"]["MediaConfig"].update(Volume=11), "EditingConfig.MediaConfig.Volume", "at most 10"),
        (lambda p: p["OutputConfig"].update(Width=4098), "OutputConfig.Width", "at most 4096"),
        (lambda p: p["OutputConfig"].update(Width=2400, Height=2400), "OutputConfig", "short side"),
        (lambda p: p["OutputConfig"].update(Count=101), "OutputConfig.Count", "at most 100"),
        (lambda p: p["OutputConfig"].update(Video={"Crf": 52}), "OutputConfig.Video.Crf", "at most 51"),
        (lambda p: p["OutputConfig"].update(MediaURL="out.mp4"), "OutputConfig.MediaURL", "{index}"),
        (lambda p: p["OutputConfig"].update(FixedDuration=10), "OutputConfig.FixedDuration", "global SpeechTextArray"),
        (lambda p: p["InputConfig"]["MediaGroupArray"][0].update(SpeechTextArray=["x"]), "InputConfig", "cannot be combined"),
        (lambda p: p.update(UserData={"NotifyAddress": "https://e.com/" + "x" * 600}), "UserData", "512"),
        (lambda p: p.update(UserData={"NotifyAddress": "ftp://e.com"}), "UserData.NotifyAddress", "http(s)"),
        (lambda p: p["InputConfig"].update(SubHeadingArray=[{"Level": 6, "TitleArray": ["x"]}]), "InputConfig.SubHeadingArray[0].Level", "at most 5"),
    ],
)
def test_model_limits(mutate, path, fragment):
    params = json.loads(json.dumps({"InputConfig": SEED_INPUT, "EditingConfig": SEED_EDITING, "OutputConfig": SEED_OUTPUT}))
    mutate(params)
    errors = [i for i in check_params(params) if i.level == "error"]
    assert any(i.path == path and fragment in i.message for i in errors), errors


def test_grouped_mode_rejects_fixed_duration():
    inputs = {"MediaGroupArray": [{"GroupName": "A", "MediaArray": ["m"], "SpeechTextArray": ["hi"]}]}
    issues = check_params({"InputConfig": inputs, "OutputConfig": {"MediaURL": "o_{index}.mp4", "FixedDuration": 5}})
    assert [i.path for i in issues] == ["OutputConfig.FixedDuration"]


def test_unknown_keys_pass_through_but_near_misses_warn(write_csv, tmp_path):
    custom = tmp_path / "custom"
    custom.mkdir()
    (custom / "input_config.json.j2").write_text(
        '{{ {"MediaGroupArray": [{"GroupName": "A", "MediaArray": row.lines("media")}], "Titlearray": ["x"], "FutureField": {"a": 1}} | tojson }}'
    )
    (custom / "output_config.json.j2").write_text('{"MediaURL": {{ default_output | tojson }}}')
    path = write_csv("media\na.mp4\n")
    result = run("plan", path, "--templates", custom, "--out", "-")
    assert result.exit_code == 0, result.output
    assert "warning: row 2, InputConfig.Titlearray: unknown key; did you mean 'TitleArray'?" in result.stderr
    sent = json.loads(json.loads(result.stdout)["params"]["InputConfig"])
    assert sent["FutureField"] == {"a": 1} and sent["Titlearray"] == ["x"]


def _template_set(tmp_path, input_template):
    folder = tmp_path / "tpl"
    folder.mkdir(exist_ok=True)
    (folder / "input_config.json.j2").write_text(input_template)
    (folder / "output_config.json.j2").write_text('{"MediaURL": "o_{index}.mp4"}')
    return folder


@pytest.mark.parametrize(
    "template, fragment",
    [
        ('{"MediaGroupArray": [\n {{ row.text("media") }} ]}', "tpl/input_config.json.j2 rendered invalid JSON (Expecting value at line 2"),
        ('{\n{% if %}\n}', "tpl/input_config.json.j2 line 2: Expected an expression"),
        ('{\n"x": {{ nosuchvar | tojson }}\n}', "tpl/input_config.json.j2 line 2: 'nosuchvar' is undefined"),
        ('{{ cycler.__init__.__globals__ | tojson }}', "tpl/input_config.json.j2"),
        # the row accessors skip the sandbox's generic checks; nothing else on a row may
        ('{{ row._row.values | tojson }}', "access to attribute '_row' of 'RowView' object is unsafe"),
        ('{{ row.text.__func__.__globals__ | tojson }}', "access to attribute '__func__' of 'method' object is unsafe"),
    ],
)
def test_broken_templates_are_reported_with_file_line_and_row(write_csv, tmp_path, template, fragment):
    folder = _template_set(tmp_path, template)
    result = run("plan", write_csv("media\na.mp4\n"), "--templates", folder, "--out", "-")
    assert result.exit_code == 2
    assert fragment in result.stderr, result.stderr
    assert "Traceback" not in result.output
    assert result.stdout == ""


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["missing.xlsx"], "missing.xlsx: no such file"),
        (["{sheet}", "--sheet", "Nope"], "no sheet named 'Nope'"),
        (["{sheet}", "--templates", "nosuchset"], "unknown template set 'nosuchset'"),
        (["{grouped}", "--templates", "grouped"], "missing required column(s): job"),
        (["{corrupt}"], "not a valid Excel workbook"),
        (["{encrypted}"], "password-protected"),
        (["{sheet}", "--rows", "abc"], "--rows: 'abc'"),
        (["{sheet}", "--delimiter", ";;"], "--delimiter"),
    ],
)
def test_bad_input_one_line_exit_2(tmp_path, write_xlsx, args, fragment):
    files = {
        "sheet": write_xlsx([["id", "media:A"], ["a", "x.mp4"]]),
        "grouped": write_xlsx([["group", "media"], ["A", "x.mp4"]], name="g.xlsx"),
        "corrupt": tmp_path / "corrupt.xlsx",
        "encrypted": tmp_path / "locked.xlsx",
    }
    files["corrupt"].write_bytes(b"garbage")
    files["encrypted"].write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512))
    argv = [a.format(**files) if "{" in a else a for a in args]
    out = tmp_path / "out"
    result = subprocess.run([sys.executable, "-m", "sheet2video", "plan", *argv, "--out", str(out)], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 2, result
    assert fragment in result.stderr
    assert len(result.stderr.strip().splitlines()) <= 2 and "Traceback" not in result.stderr
    assert not out.exists()


def test_preflight_error_lists_problems_api(write_csv):
    sheet = read_sheet(write_csv("id,media:A,count\na,x.mp4,0\n"))
    with pytest.raises(PreflightError) as caught:
        plan_campaign(sheet, load_template_set("script"))
    assert [str(p) for p in caught.value.problems] == ["row 2, count (OutputConfig.Count): must be at least 1, got 0"]


def test_logo_column_becomes_a_sticker_in_the_top_left_corner_of_the_safe_zone(write_xlsx):
    path = write_xlsx([["id", "media:A", "logo", "width", "height"], ["r1", "a.mp4", "logo.png", 1080, 1920],
                       ["r2", "a.mp4", "", 1080, 1920]])
    with_logo, without = (params_of(job)["InputConfig"] for job in plan_lines(path))
    (sticker,) = with_logo["StickerArray"]
    # below the apps' top ~8 % (tabs, search), sized by height (tests/plan/test_logo_position.py)
    assert sticker == {"MediaURL": "logo.png", "X": 0.06, "Y": 0.1, "Height": 0.06}
    assert "StickerArray" not in without
