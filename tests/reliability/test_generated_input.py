"""Generated bad input (hypothesis): random sheets through the preflight, random job parameters
through the engine. Seeded from the session seed (``SHEET2VIDEO_SEED``); ``make soak`` tries ten
times as many.

* Sheets (CSV and XLSX, random headers, typed and untyped cells full of formulas, template
  syntax, paths, numbers in odd spellings, control characters): ``plan`` either succeeds — and
  every title is exactly the cell's text, never evaluated — or refuses with exit 2 and one
  ``error: row N, column: ...`` line per problem. Never a traceback.
* Job parameters sent straight to the engine's API (bypassing the preflight, as any client can):
  each is either refused with a 4xx IMS error or accepted and ends Finished or Failed with an
  error code — never an InternalError (an unhandled exception), never a read outside the media
  root.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import re
import sys
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, event, given, seed, settings
from hypothesis import strategies as st

from sheet2video.cli import cli
from sheet2video.errors import ImsError
from sheet2video.plan.row_view import split_lines
from tests.reliability.conftest import FIGURES, KEY_ID, KEY_SECRET, SEED, soak

SETTINGS = settings(max_examples=soak(40, 400), deadline=None, database=None, derandomize=False,
                    suppress_health_check=list(HealthCheck))

KNOWN = ["id", "media:A", "media:B", "titles", "speech", "bgm", "count", "max_duration", "width", "height", "crf",
         "output", "voice", "media_volume", "speech_volume", "bgm_volume", "shot_duration", "notify", "enabled"]
NASTY = ["", " ", "\n", "\t\n ", "#REF!", "#N/A", "#DIV/0!", "=1+1", "=HYPERLINK(\"http://x\")", "+cmd", "@SUM(A1)",
         "{{ 7*7 }}", "{{ cycler.__init__.__globals__ }}", "{% for i in range(10**9) %}x{% endfor %}", "{# x", "}}",
         "../../etc/passwd", "file:///etc/passwd", "ftp://example.com/x.mp4", "data:,", "media/a.mp4",
         "media/a.mp4\nmedia/c.png", "yes", "no", "maybe", "1e309", "-0", "0x10", "1_000", "١٢٣", "１８０", "½", "∞",
         "NaN", "True", "180", "320", "1", "2.5", "-1", "1000000000", "\x07bell", "a\x00b", "\u202eevil", "🎬", "x" * 300]


def cell_text_strategy():
    return st.one_of(st.sampled_from(NASTY), st.text(st.characters(blacklist_categories=("Cs",)), max_size=40),
                     st.integers(-10**12, 10**12).map(str), st.floats().map(repr))


def cell_value_strategy():
    """Typed values as a workbook holds them."""
    return st.one_of(cell_text_strategy(), st.integers(-10**12, 10**12), st.floats(allow_nan=False, allow_infinity=False),
                     st.booleans(), st.datetimes(min_value=dt.datetime(1900, 3, 1), max_value=dt.datetime(2100, 1, 1)),
                     st.none())


@st.composite
def sheets(draw):
    headers = draw(st.lists(st.one_of(st.sampled_from(KNOWN), st.sampled_from(KNOWN).map(lambda h: f" {h.upper()} "),
                                      st.text(max_size=12)), min_size=1, max_size=9))
    kind = draw(st.sampled_from(["csv", "xlsx"]))
    values = cell_value_strategy() if kind == "xlsx" else cell_text_strategy()
    rows = draw(st.lists(st.lists(values, min_size=len(headers), max_size=len(headers)), max_size=5))
    return kind, headers, rows


ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def write(folder: Path, kind: str, headers, rows) -> Path:
    if kind == "csv":
        path = folder / "gen.csv"
        buffer = io.StringIO()
        csv.writer(buffer).writerows([headers, *rows])
        path.write_bytes(buffer.getvalue().encode("utf-8", "surrogatepass"))
        return path
    import openpyxl

    workbook = openpyxl.Workbook()
    ws = workbook.active
    for row in [headers, *rows]:
        ws.append([ILLEGAL_XML.sub("", v) if isinstance(v, str) else v for v in row])
    path = folder / "gen.xlsx"
    workbook.save(path)
    return path


@seed(SEED)
@SETTINGS
@given(sheet=sheets())
def test_generated_sheets_plan_or_refuse_cleanly(tmp_path_factory, sheet):
    kind, headers, rows = sheet
    folder = tmp_path_factory.mktemp("gen")
    path = write(folder, kind, headers, rows)
    result = CliRunner().invoke(cli, ["plan", str(path), "--out", "-"], catch_exceptions=True)
    FIGURES["bad inputs tried (generated sheets)"] += 1
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"seed {SEED}: unhandled {type(result.exception).__name__}") from result.exception
    assert result.exit_code in (0, 2), (result.exit_code, result.stderr[-2000:])
    event(f"plan exit {result.exit_code}")
    if result.exit_code == 2:
        lines = [line for line in result.stderr.strip().splitlines() if not line.startswith("note: ")]  # what reading decided
        assert lines and lines[0].startswith("error: "), result.stderr
        problems = [line for line in lines if not re.fullmatch(r"\d+ problem\(s\) found; nothing was sent or written\.", line)]
        assert all(line.startswith("error: ") for line in problems), result.stderr
        for line in problems:
            match = re.match(r"error: row (\d+)\b", line)
            if match:
                assert 1 <= int(match.group(1)) <= len(rows) + 1, line
        assert not list(folder.glob(".sheet2video")), "a refused sheet wrote state"
        return
    # accepted: every title is the cell's own text, line by line — never evaluated
    from sheet2video.sheets.read import read_sheet

    by_key = {}
    for line in result.stdout.splitlines():
        job = json.loads(line)
        by_key[job["job"]] = json.loads(job["params"]["InputConfig"])
    read = read_sheet(path)
    if "titles" in read.columns:
        for row in read.rows:
            key = row.get("id").strip() or f"row{row.number}"
            if key in by_key:
                assert by_key[key].get("TitleArray", []) == split_lines(row.get("titles")), key


# ---------------------------------------------------------------- the engine's API, fuzzed


@pytest.fixture(scope="module")
def fuzz_engine(tmp_path_factory, media_dir):
    """An in-process engine (planning only: no encoding) with decoys outside its media root, and
    an audit hook that records every file this process reads through open() or PyAV."""
    import shutil

    import av

    from sheet2video.engine.api.server import Engine, EngineConfig
    from sheet2video.cloud.client import ImsClient
    from sheet2video.cloud.credentials import Credentials

    base = tmp_path_factory.mktemp("fuzz")
    root, outside = base / "root", base / "outside"
    shutil.copytree(media_dir, root / "media")
    (root / "media" / "empty.png").write_bytes(b"")
    (root / "media" / "corrupt.mp4").write_bytes(os.urandom(3000))
    outside.mkdir()
    shutil.copy(media_dir / "a.mp4", outside / "decoy.mp4")
    (root / "media" / "evil.mp4").symlink_to(outside / "decoy.mp4")
    reads: list[str] = []
    recording = threading.Event()

    def hook(event, args):
        if recording.is_set() and event == "open" and isinstance(args[0], (str, bytes)):
            reads.append(os.fsdecode(args[0]))

    sys.addaudithook(hook)  # cannot be removed: it records only while `recording` is set
    original = av.open

    def audited_open(file, *a, **kw):
        if recording.is_set() and isinstance(file, (str, os.PathLike)):
            reads.append(os.fspath(file))
        return original(file, *a, **kw)

    av.open = audited_open
    engine = Engine(EngineConfig(data=base / "data", media_root=root, keys={KEY_ID: KEY_SECRET}, workers=2,
                                 render_outputs=False))
    url = engine.start()
    client = ImsClient(url, Credentials(KEY_ID, KEY_SECRET), max_retries=0)
    recording.set()
    try:
        yield client, outside, reads
    finally:
        recording.clear()
        av.open = original
        engine.close()


REFS = ["media/a.mp4", "media/b.mp4", "media/c.png", "media/empty.png", "media/corrupt.mp4", "media/evil.mp4",
        "media/missing.mp4", "../outside/decoy.mp4", "../../etc/passwd", "/etc/passwd", "file:///etc/passwd",
        "media/../../outside/decoy.mp4", "ftp://x/y.mp4", "gopher://x/", "data:,", "http://127.0.0.1:9/x.mp4",
        "0123456789abcdef0123456789abcdef", "", " ", "media", "media/" + "z" * 300, "\x00", "C:\\x.mp4"]
NUMBERS = st.one_of(st.sampled_from([0, -1, 0.001, 1, 2, 1e9, 1e308, -1e308]), st.floats(allow_nan=False, allow_infinity=False),
                    st.integers(-10**12, 10**12), st.text(max_size=5), st.none(), st.booleans())
SMALL = st.one_of(st.just(1), st.just(2), st.floats(0.2, 3))
JUNK = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=8)),
                    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)),
                    max_leaves=6)


def mostly(valid, bad=NUMBERS):
    """Three draws in four from ``valid``: enough jobs get past validation to exercise the planner."""
    return st.one_of(valid, valid, valid, bad)


@st.composite
def job_params(draw):
    group = st.fixed_dictionaries({"GroupName": mostly(st.sampled_from(["G1", "G2", "Opening"]), st.text(max_size=10)),
                                   "MediaArray": st.lists(st.sampled_from(REFS), min_size=1, max_size=3)},
                                  optional={"Duration": mostly(SMALL), "Volume": mostly(st.just(0.5)),
                                            "SpeechTextArray": st.lists(st.sampled_from(["Hi.", "", "x" * 2000]), max_size=1)})
    inputs = draw(st.one_of(
        st.fixed_dictionaries({"MediaGroupArray": st.lists(group, min_size=1, max_size=3, unique_by=lambda g: g["GroupName"])},
                              optional={"TitleArray": st.lists(st.text(max_size=60), max_size=3),
                                        "BackgroundMusicArray": st.lists(st.sampled_from(REFS), max_size=2),
                                        "Junk": JUNK}),
        st.fixed_dictionaries({"MediaArray": st.lists(st.sampled_from(REFS), min_size=1, max_size=3)},
                              optional={"SpeechTextArray": st.lists(st.sampled_from(["One. Two.", ""]), max_size=1)}),
        JUNK,
    ))
    output = draw(st.fixed_dictionaries(
        {"MediaURL": mostly(st.sampled_from(["out/{index}.mp4", "../../x{index}", "/etc/x{index}", "{index}",
                                             "http://h/{index}.mp4", "o/" + "n" * 300 + "{index}", "no-index"]),
                            st.text(max_size=20)),
         "GeneratePreviewOnly": st.booleans()},
        optional={"Count": mostly(st.integers(1, 3), st.one_of(st.integers(-2, 0), st.just(10**9), NUMBERS)),
                  "Width": mostly(st.just(180)), "Height": mostly(st.just(320)), "MaxDuration": mostly(SMALL),
                  "FixedDuration": mostly(SMALL), "Video": st.one_of(st.fixed_dictionaries({"Crf": NUMBERS}), JUNK)}))
    editing = draw(st.one_of(st.none(), JUNK, st.fixed_dictionaries({}, optional={
        "ProcessConfig": st.fixed_dictionaries({}, optional={
            "SingleShotDuration": mostly(SMALL), "ImageDuration": mostly(SMALL),
            "AlignmentMode": st.sampled_from(["AutoSpeed", "Cut", "Bogus"])}),
        "SpeechConfig": st.fixed_dictionaries({}, optional={"Voice": st.text(max_size=10), "SpeechRate": mostly(st.just(0))}),
        "MediaConfig": st.fixed_dictionaries({}, optional={"Volume": mostly(st.just(1))})})))
    return inputs, editing, output


@seed(SEED)
@SETTINGS
@given(params=job_params())
def test_engine_never_fails_on_bad_parameters_with_an_internal_error(fuzz_engine, params):
    client, outside, reads = fuzz_engine
    inputs, editing, output = params
    FIGURES["bad inputs tried (generated API calls)"] += 1
    try:
        job_id = client.submit_batch_job(input_config=inputs, editing_config=editing, output_config=output)
    except ImsError as error:
        assert error.http_status and 400 <= error.http_status < 500, (error.code, error.message)
        assert error.code != "InternalError", error.message
        event(f"refused: {error.code}")
        return
    deadline = time.monotonic() + 60
    while True:
        job = client.get_batch_job(job_id)
        if job["Status"] in ("Finished", "Failed"):
            break
        assert time.monotonic() < deadline, f"seed {SEED}: job {job_id} never ended: {job}"
        time.sleep(0.02)  # poll interval of a deadline wait
    for sub in job["SubJobList"]:
        if sub["Status"] == "Failed":
            assert sub["ErrorCode"] != "InternalError", (sub["ErrorMessage"], params)
            assert "Traceback" not in sub["ErrorMessage"]
    event(f"accepted: {job['Status']} " + ",".join(sorted({s.get('ErrorCode', 'ok') for s in job['SubJobList']})))
    if job["Status"] == "Failed":
        extend = json.loads(job["Extend"])
        assert extend.get("ErrorCode") and extend["ErrorCode"] != "InternalError", (extend, params)
    leaked = [r for r in reads if Path(os.path.normpath(os.path.join("/", r))).is_relative_to(outside)
              or os.path.normpath(r) in ("/etc/passwd", "/etc/shadow")]
    assert not leaked, leaked
