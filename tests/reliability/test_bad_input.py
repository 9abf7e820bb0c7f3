"""The bad input corpus: hand-written cases and hypothesis-generated sheets.

Every hand-written case runs the real command line in a subprocess (with a timeout: a hang fails)
under a Python audit hook (``audited.py``) and checks that it ends with a clear per-row error or a
clean one-line refusal — never a traceback —, that nothing was read outside the media root (decoy
files wait outside it, and /etc/passwd), and that nothing was written outside the sheet, its
backup and the data folders (audit events, and a hash of every file before and after).

Refusals (exit 2) each get a sheet of their own. Media and output problems are found by the
engine, one row each, so they share "gauntlet" sheets run once (each row a case, each row's
``error`` cell checked).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest

from tests.reliability.conftest import FIGURES, TIMEOUT, base_env, tree

HERE = Path(__file__).parent
FORBIDDEN = [Path("/etc/passwd"), Path("/etc/shadow")]
CSV_HEADER = ["id", "media:A", "titles", "width", "height", "max_duration", "shot_duration"]
GOOD = ["x", "media/a.mp4", "Hello", "180", "320", "1", "1"]
INJECTION = "{{ cycler.__init__.__globals__ }}"


# ---------------------------------------------------------------- the work folder


@pytest.fixture(scope="module")
def corpus_media(tmp_path_factory, media_dir) -> Path:
    folder = tmp_path_factory.mktemp("corpus-media")
    shutil.copytree(media_dir, folder, dirs_exist_ok=True)
    (folder / "corrupt.mp4").write_bytes(bytes(range(256)) * 40)
    (folder / "empty.png").write_bytes(b"")
    (folder / "empty.mp4").write_bytes(b"")
    (folder / "notes.mp4").write_text("this is not a video\n" * 50)
    return folder


@dataclass
class Work:
    root: Path       # the case's folder: work/ (sheet + media root), outside/ (decoys), home/, templates/
    work: Path
    outside: Path
    log: Path

    @property
    def decoy(self) -> Path:
        return self.outside / "decoy.mp4"


def make_work(tmp_path: Path, corpus_media: Path) -> Work:
    work, outside = tmp_path / "work", tmp_path / "outside"
    shutil.copytree(corpus_media, work / "media")
    outside.mkdir()
    shutil.copy(corpus_media / "a.mp4", outside / "decoy.mp4")
    shutil.copy(corpus_media / "c.png", outside / "decoy.png")
    (outside / "secret.txt").write_text("not for the engine\n")
    (work / "media" / "evil.mp4").symlink_to(outside / "decoy.mp4")  # a link from inside the root to outside
    (tmp_path / "home").mkdir()
    return Work(tmp_path, work, outside, tmp_path / "audit.jsonl")


@pytest.fixture
def case_dir(tmp_path, corpus_media) -> Work:
    return make_work(tmp_path, corpus_media)


def audited(w: Work, *args, timeout: float = TIMEOUT) -> subprocess.CompletedProcess:
    env = base_env(w.root / "home")
    return subprocess.run([sys.executable, str(HERE / "audited.py"), str(w.log), *map(str, args)],
                          capture_output=True, text=True, env=env, cwd=w.work, timeout=timeout)


def events(w: Work) -> list[dict]:
    if not w.log.exists():
        return []
    return [json.loads(line) for line in w.log.read_text().splitlines() if line.strip()]


def under(path: str | Path, *roots: Path) -> bool:
    p = Path(os.path.normpath(path))
    return any(p == r or r in p.parents for r in roots)


def check_confinement(w: Work, sheet: Path | None, extra_write: tuple[Path, ...] = ()) -> None:
    """Nothing read outside the media root; nothing written outside the sheet and the data folders."""
    log = events(w)
    forbidden = [w.outside.resolve(), w.root.resolve() / "home", *FORBIDDEN]
    media_ok = [w.work.resolve()]
    write_ok = [w.work.resolve() / ".sheet2video", w.work.resolve() / "videos", Path("/dev/null"), w.log,
                *(p.resolve() for p in extra_write)]
    if sheet is not None:
        real = sheet.resolve()
        write_ok.append(real)
        for name in (real.name, f"{real.stem}.bak{real.suffix}", f"{real.stem}.results{real.suffix}",
                     f"{real.stem}.report.html"):
            write_ok.append(real.with_name(name))
    temp = re.compile(r"^\.(.+)\.[^.]+\.tmp$")
    system_temp = Path(tempfile.gettempdir())
    problems = []
    for event in log:
        path = event.get("path")
        if event["e"] in ("open", "av") and path and under(path, *forbidden):
            problems.append(("read outside the media root", path))
        if event["e"] == "av" and path and not under(path, *media_ok):
            problems.append(("media probed outside the media root", path))
        if event["e"] == "exec":
            argv = event["argv"]
            for i, arg in enumerate(argv[:-1]):
                if arg == "-i" and not under(argv[i + 1], *media_ok):
                    problems.append(("FFmpeg input outside the media root", argv[i + 1]))
        written = event["e"] == "write" or (event["e"] == "open" and event.get("write"))
        if written and path and (Path(path) == system_temp or
                                 (Path(path).parent == system_temp and not os.path.lexists(path))):
            continue  # a library's scratch file (openpyxl writes worksheets through one): anonymous or gone again
        if written and path and not under(path, *write_ok):
            match = temp.match(Path(path).name)
            if not (match and under(Path(path).with_name(match.group(1)), *write_ok)):
                problems.append(("written outside the sheet and the data folder", path, event))
    assert not problems, problems[:10]


def snapshot_check(before: dict, after: dict, allowed: Callable[[str], bool]) -> None:
    changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
    bad = [k for k in changed if not allowed(k)]
    assert not bad, f"files changed outside the sheet and the data folder: {bad[:10]}"


def one_line_errors(stderr: str) -> None:
    assert "Traceback" not in stderr, stderr[-3000:]
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    assert lines, "no message at all"
    assert all(line.startswith("error: ") for line in lines[:-1]) or lines[0].startswith("error: "), stderr[-2000:]


# ---------------------------------------------------------------- sheet writers


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows([header, *rows])
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


def write_xlsx(path: Path, header: list, rows: list[list], edit=None) -> Path:
    import openpyxl

    workbook = openpyxl.Workbook()
    ws = workbook.active
    ws.append(header)
    for row in rows:
        ws.append(row)
    if edit:
        edit(ws)
    workbook.save(path)
    return path


def cached_formula_error(path: Path, cell: str, formula: str, error: str) -> None:
    """Give ``cell`` a formula whose cached result is the spreadsheet error ``error``, as Excel saves it."""
    data = io.BytesIO()
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(data, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            content = src.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                text = content.decode()
                text, n = re.subn(rf'<c r="{cell}"([^>]*?)(?: t="\w+")?>.*?</c>',
                                  f'<c r="{cell}"\\1 t="e"><f>{formula}</f><v>{error}</v></c>', text)
                assert n == 1, text
                content = text.encode()
            dst.writestr(info, content)
    path.write_bytes(data.getvalue())


def csv_case(*changes: tuple[str, str], header=CSV_HEADER, rows=None, extra_rows=()):
    """A one-row CSV built from GOOD with ``(column, value)`` changes (new columns are appended)."""

    def build(w: Work) -> Path:
        cols = list(header)
        row = list(GOOD)
        for column, value in changes:
            if column not in cols:
                cols.append(column)
                row.append("")
            row[cols.index(column)] = value
        return write_csv(w.work / "sheet.csv", cols, rows if rows is not None else [row, *extra_rows])

    return build


def xlsx_case(*changes, edit=None, header=CSV_HEADER):
    def build(w: Work) -> Path:
        cols = list(header)
        row: list = ["x", "media/a.mp4", "Hello", 180, 320, 1, 1]
        for column, value in changes:
            if column not in cols:
                cols.append(column)
                row.append(None)
            row[cols.index(column)] = value
        return write_xlsx(w.work / "sheet.xlsx", cols, [row], edit)

    return build


def raw(name: str, data: bytes):
    def build(w: Work) -> Path:
        path = w.work / name
        path.write_bytes(data)
        return path

    return build


def template_set(name: str, replace: dict[str, str] | None = None, files: dict[str, str] | None = None):
    """A copy of the built-in script set with text replaced in input_config, or files overwritten."""

    def build(w: Work) -> Path:
        from sheet2video.plan.templating import BUILTIN_DIR

        folder = w.root / "templates" / name
        shutil.copytree(BUILTIN_DIR / "script", folder)
        for old, new in (replace or {}).items():
            target = folder / "input_config.json.j2"
            text = target.read_text()
            assert old in text
            target.write_text(text.replace(old, new))
        for filename, text in (files or {}).items():
            (folder / filename).write_text(text)
        return folder

    return build


def ref_error_xlsx(column: str, error: str):
    def build(w: Work) -> Path:
        path = xlsx_case()(w)
        letter = "ABCDEFG"[CSV_HEADER.index(column)]
        cached_formula_error(path, f"{letter}2", "Gone!A1", error)
        return path

    return build


def merged_media(w: Work) -> Path:
    def edit(ws):
        ws.merge_cells("B2:B3")

    return write_xlsx(w.work / "sheet.xlsx", CSV_HEADER,
                      [["x", "media/a.mp4", "a", 180, 320, 1, 1], ["y", None, "b", 180, 320, 1, 1]], edit)


def ole_file(w: Work) -> Path:
    path = w.work / "sheet.xlsx"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 4000)
    return path


def truncated_xlsx(w: Work) -> Path:
    path = xlsx_case()(w)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    return path


def folder_sheet(w: Work) -> Path:
    (w.work / "folder.csv").mkdir()
    return w.work / "folder.csv"


@dataclass
class Refusal:
    name: str
    build: Callable[[Work], Path]
    message: str                       # regex the one-line error must match
    args: tuple = ()
    templates: Callable[[Work], Path] | None = None


REFUSALS = [
    Refusal("empty csv file", raw("sheet.csv", b""), r"the sheet is empty"),
    Refusal("blank lines only", raw("sheet.csv", b"\n \n,,\n\n"), r"the sheet is empty"),
    Refusal("empty workbook", lambda w: write_xlsx(w.work / "sheet.xlsx", [], []), r"the sheet is empty"),
    Refusal("duplicate headers", csv_case(header=["id", "media:A", "ID"], rows=[["x", "media/a.mp4", "y"]]),
            r"row 1: duplicate column 'ID' \(columns A and C\)"),
    Refusal("duplicate ids", csv_case(extra_rows=[GOOD]), r"row 3, id: duplicate id 'x' \(also row 2\)"),
    Refusal("no media column", csv_case(header=["id", "titles"], rows=[["x", "hi"]]), r"row 2, media:<Group> \(InputConfig\): needs MediaGroupArray"),
    Refusal("binary file as csv", raw("sheet.csv", bytes(range(256)) * 20), r"looks like a binary file"),
    Refusal("invalid utf-8", raw("sheet.csv", b"id,media:A,titles\nx,media/a.mp4,caf\xe9 \xff\xfe\n"),
            r"line 2 is not valid utf-8 text \(byte 0xe9\)", args=("--encoding", "utf-8")),
    Refusal("text saved as .xlsx", raw("sheet.xlsx", b"id,media:A\nx,media/a.mp4\n"), r"not a valid Excel workbook"),
    Refusal("truncated workbook", truncated_xlsx, r"not a valid Excel workbook|cannot open the workbook"),
    Refusal("encrypted / OLE workbook", ole_file, r"password-protected"),
    Refusal("damaged .xls", raw("sheet.xls", b"\xd0\xcf\x11\xe0"), r"sheet\.xls: .*damaged"),
    Refusal("damaged .ods", raw("sheet.ods", b"PK\x03\x04"), r"sheet\.ods: .*(damaged|not a valid)"),
    Refusal("unknown sheet type", raw("sheet.numbers", b"PK\x03\x04"), r"unknown sheet type '\.numbers'"),
    Refusal("sheet is a folder", folder_sheet, r"is a folder, not a sheet"),
    Refusal("missing sheet", lambda w: w.work / "nope.csv", r"no such file"),
    Refusal("1 MB cell in a csv", csv_case(("titles", "x" * 2**20)), r"row 2: \S+: a cell is longer than 131,072 characters"),
    Refusal("1 MB title in a workbook", xlsx_case(("titles", "t" * 2**20)),
            r"row 2, titles \(InputConfig\.TitleArray\): item 1 has \d+ characters, at most 50 are allowed"),
    Refusal("1 MB speech in a workbook", xlsx_case(("speech", "word " * 2**18)), r"row 2, speech .*at most 1000"),
    Refusal("#REF! cached in titles", ref_error_xlsx("titles", "#REF!"),
            r"row 2, titles: holds the spreadsheet error #REF! \(a formula that failed\)"),
    Refusal("#DIV/0! cached in width", ref_error_xlsx("width", "#DIV/0!"), r"row 2, width: holds the spreadsheet error #DIV/0!"),
    Refusal("#N/A cached in the id", ref_error_xlsx("id", "#N/A"), r"row 2, id: holds the spreadsheet error #N/A"),
    Refusal("#N/A typed in media", csv_case(("media:A", "#N/A")), r"row 2, media:A: holds the spreadsheet error #N/A"),
    Refusal("merged media cells", merged_media, r"row 3, media:<Group> \(InputConfig\): needs MediaGroupArray"),
    Refusal("date in width", xlsx_case(("width", dt.datetime(2024, 5, 1))), r"row 2, width: expected a number, got '2024-05-01 0:00:00'"),
    Refusal("date in count", xlsx_case(("count", dt.date(2024, 5, 1))), r"row 2, count: expected a number, got '2024-05-01'"),
    Refusal("time in max_duration", xlsx_case(("max_duration", dt.time(12, 30))),
            r"row 2, max_duration: expected a number, got '12:30:00'"),
    Refusal("count 10^9", csv_case(("count", "1000000000")), r"row 2, count \(OutputConfig\.Count\): must be at most 100"),
    Refusal("count -1", csv_case(("count", "-1")), r"row 2, count \(OutputConfig\.Count\): must be at least 1"),
    Refusal("count 1.5", csv_case(("count", "1.5")), r"row 2, count: expected a whole number, got '1\.5'"),
    Refusal("negative max_duration", csv_case(("max_duration", "-5")), r"row 2, max_duration .*must be greater than 0"),
    Refusal("negative shot_duration", csv_case(("shot_duration", "-1")), r"row 2, shot_duration .*must be greater than 0"),
    Refusal("width 10^9", csv_case(("width", "1000000000")), r"row 2, width \(OutputConfig\.Width\): must be at most 4096"),
    Refusal("odd width", csv_case(("width", "181")), r"row 2, width .*must be even"),
    Refusal("width is text", csv_case(("width", "wide")), r"row 2, width: expected a number, got 'wide'"),
    Refusal("width NaN", csv_case(("width", "nan")), r"row 2, width: expected a number, got 'nan'"),
    Refusal("height infinity", csv_case(("height", "-inf")), r"row 2, height: expected a number, got '-inf'"),
    Refusal("crf 99", csv_case(("crf", "99")), r"row 2, crf .*must be at most 51"),
    Refusal("negative volume", csv_case(("media_volume", "-1")), r"row 2, media_volume .*must be at least 0"),
    Refusal("enabled is gibberish", csv_case(("enabled", "perhaps")), r"row 2, enabled: expected yes or no"),
    Refusal("javascript: notify address", csv_case(("notify", "javascript:alert(1)")), r"row 2, notify .*http\(s\) URL"),
    Refusal("output without {index}", csv_case(("output", "out.mp4")), r"row 2, output .*placeholder \{index\}"),
    Refusal("51 titles", csv_case(("titles", "\n".join(f"t{i}" for i in range(51)))), r"row 2, titles .*at most 50 items"),
    Refusal("emoji group name", csv_case(header=["id", "media:🎬"], rows=[["x", "media/a.mp4"]]), r"row 2.*may not contain emoji"),
    Refusal("grouped row without a job", csv_case(header=["job", "media"], rows=[["", "media/a.mp4"]]),
            r"row 2, job: is empty", args=("--templates", "grouped")),
    Refusal("--rows garbage", csv_case(), r"--rows: '2-x' is not a row number", args=("--rows", "2-x")),
    Refusal("--sheet out of range", xlsx_case(), r"there is no sheet number 9", args=("--sheet", "9")),
    Refusal("unknown template set", csv_case(), r"unknown template set", args=("--templates", "no-such-set")),
    Refusal("template reads cycler globals", csv_case(), r"access to attribute '__init__' of 'type' object is unsafe",
            templates=template_set("globals", {'row.lines("titles")': "[cycler.__init__.__globals__ | string]"})),
    Refusal("template walks ''.__class__.__mro__", csv_case(), r"access to attribute '__class__' of 'str' object is unsafe",
            templates=template_set("mro", {'row.lines("titles")': "[''.__class__.__mro__ | string]"})),
    Refusal("template reaches a private attribute", csv_case(), r"access to attribute '_row' of 'RowView' object is unsafe",
            templates=template_set("private", {'row.lines("titles")': "[row._row | string]"})),
    Refusal("template includes /etc/passwd", csv_case(), r"includes '\.\./\.\./\.\./etc/passwd', which is not a template",
            templates=template_set("include", files={"input_config.json.j2": "{% include '../../../etc/passwd' %}"})),
    Refusal("template recurses forever", csv_case(), r"template recurse/input_config\.json\.j2.*RecursionError",
            templates=template_set("recurse", files={
                "input_config.json.j2": "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}"})),
    Refusal("template syntax error", csv_case(), r"template broken/output_config\.json\.j2 line 1",
            templates=template_set("broken", files={"output_config.json.j2": "{{ row.text('x' }}"})),
    Refusal("template renders no JSON", csv_case(), r"rendered invalid JSON",
            templates=template_set("nojson", files={"output_config.json.j2": "{'MediaURL': 1,"})),
    Refusal("manifest is not JSON", csv_case(), r"manifest\.json is not valid JSON",
            templates=template_set("manifest", files={"manifest.json": "{nope"})),
]


@pytest.fixture(scope="module")
def refusals(tmp_path_factory, corpus_media):
    """Every refusal case, run concurrently (each in its own folder and subprocess): name → outcome."""

    def one(case: Refusal):
        w = make_work(tmp_path_factory.mktemp("refusal"), corpus_media)
        sheet = case.build(w)
        args = list(case.args)
        if case.templates:
            args += ["--templates", case.templates(w)]
        before = tree(w.root)
        result = audited(w, "run", sheet, *args)
        return w, before, result, tree(w.root)

    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        return dict(zip((c.name for c in REFUSALS), pool.map(one, REFUSALS)))


@pytest.mark.parametrize("case", REFUSALS, ids=[c.name for c in REFUSALS])
def test_bad_input_is_refused_cleanly(case: Refusal, refusals):
    w, before, result, after = refusals[case.name]
    assert result.returncode == 2, (result.returncode, result.stdout[-1000:], result.stderr[-2000:])
    one_line_errors(result.stderr)
    assert re.search(case.message, result.stderr), result.stderr[-2000:]
    assert len(result.stderr) < 20000  # one line per problem, not a dump of the cell
    check_confinement(w, None)
    snapshot_check(before, after, lambda k: k == "audit.jsonl")  # refused: nothing written at all
    FIGURES["bad inputs tried (hand-written)"] += 1


# ---------------------------------------------------------------- the gauntlets: one row, one case

G_HEADER = ["id", "media:A", "titles", "bgm", "output", "width", "height", "max_duration", "shot_duration"]


def gauntlet_rows(w: Work) -> list[tuple[list[str], str]]:
    """(row, expected) — expected is a regex on the row's error cell, or "" for a finished row."""
    d = str(w.decoy)

    def row(key, media="media/a.mp4", titles="hi", bgm="", output="", shot="1", max_duration="1"):
        return [key, media, titles, bgm, output, "180", "320", max_duration, shot]

    forbidden = r"^InvalidMaterial\.Forbidden: media outside the media root is not readable"
    return [
        (row("trav-etc", "../../etc/passwd"), forbidden),
        (row("trav-outside", "../outside/decoy.mp4"), forbidden),
        (row("abs-outside", d), forbidden),
        (row("file-etc", "file:///etc/passwd"), forbidden),
        (row("file-outside", "file://" + d), forbidden),
        (row("symlink-out", "media/evil.mp4"), forbidden),
        (row("dots-inside", "media/../../outside/decoy.mp4"), forbidden),
        (row("ftp", "ftp://example.com/a.mp4"), r"^InvalidMaterial\.Forbidden: unsupported media reference scheme 'ftp'"),
        (row("gopher", "gopher://127.0.0.1:70/x"), r"^InvalidMaterial\.Forbidden: unsupported media reference scheme 'gopher'"),
        (row("data-uri", "data:video/mp4;base64,AAAA"), r"^InvalidMaterial\.Forbidden: unsupported media reference scheme 'data'"),
        (row("javascript", "javascript:alert(1)"), r"^InvalidMaterial\.Forbidden: unsupported media reference scheme 'javascript'"),
        (row("unc-path", r"\\server\share\x.mp4"), r"^InvalidMaterial\.NotFound"),
        (row("a-folder", "media"), r"^InvalidMaterial\.NotFound: The specified media not found: media$"),
        (row("corrupt-video", "media/corrupt.mp4"), r"^InvalidMaterial\.Corrupt: corrupt\.mp4: cannot read media"),
        (row("zero-byte-image", "media/empty.png"), r"^InvalidMaterial\.Corrupt: empty\.png: cannot read media \(the file is empty\)"),
        (row("zero-byte-video", "media/empty.mp4"), r"^InvalidMaterial\.Corrupt: empty\.mp4: cannot read media \(the file is empty\)"),
        (row("text-as-video", "media/notes.mp4"), r"^InvalidMaterial\.Corrupt: notes\.mp4"),
        (row("100k-char-path", "media/" + "y" * 100_000), r"^InvalidMaterial\.NotFound: cannot read media .*File name too long"),
        (row("closed-port-url", "http://127.0.0.1:9/a.mp4"), r"^InvalidMaterial\.NotFound: cannot download http://127\.0\.0\.1:9/a\.mp4"),
        (row("bgm-outside", bgm="../outside/decoy.mp4"), forbidden),
        (row("bgm-silent", bgm="media/a.mp4"), r"^InvalidMaterial\.Type: media/a\.mp4 has no audio track"),
        (row("out-traversal", output="../../etc/passwd{index}"), r"^InvalidParameter: OutputConfig\.MediaURL may not contain '\.\.'"),
        (row("out-backslash", output="..\\..\\evil{index}.mp4"), r"^InvalidParameter: OutputConfig\.MediaURL may not contain '\.\.'"),
        (row("out-absolute", output="/etc/passwd{index}"), ""),  # lands in videos/etc/passwd0.mp4
        (row("out-file-url", output="file:///tmp/evil{index}.mp4"), ""),  # lands in videos/host/tmp/evil0.mp4
        (row("id" + "x" * 3000), r"^InvalidParameter: OutputConfig\.MediaURL has a file or folder name longer than 200 bytes"),
        (row("day-long-still", "media/c.png", shot="1000000", max_duration=""), r"^InvalidParameter\.Duration: an output would last"),
        (row("inject-title", titles=INJECTION), ""),
        (row("{{7*7}}-id"), ""),
        (row("ctrl-chars", titles="bell\x07 tab\t end"), ""),
        (row("formula-title", titles="=cmd|' /C calc'!A0"), ""),
    ]


def test_gauntlet_each_bad_row_gets_its_own_clear_error(case_dir: Work):
    w = case_dir
    cases = gauntlet_rows(w)
    sheet = write_csv(w.work / "gauntlet.csv", G_HEADER, [r for r, _ in cases])
    original = sheet.read_bytes()
    plan = audited(w, "plan", sheet, "--out", "-")
    assert plan.returncode == 0, plan.stderr
    titles = {json.loads(line)["job"]: json.loads(json.loads(line)["params"]["InputConfig"]).get("TitleArray")
              for line in plan.stdout.splitlines()}
    assert titles["inject-title"] == [INJECTION]  # a cell is data, never template source
    before = tree(w.root)
    result = audited(w, "run", sheet, "--json", "--workers", "2", "--qps", "50")
    assert result.returncode == 1, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    with open(sheet, newline="", encoding="utf-8") as handle:
        table = {r["id"]: r for r in csv.DictReader(handle)}
    assert len(table) == len(cases)
    for row, expected in cases:
        got = table[row[0]]
        assert "Traceback" not in got["error"]
        if expected:
            assert got["status"] == "Failed" and re.search(expected, got["error"]), (row[0][:40], got["error"][:500])
            assert "\n" not in got["error"] and len(got["error"]) < 1000, row[0][:40]
        else:
            assert got["status"] == "Finished" and got["error"] == "", (row[0][:40], got["error"][:500])
    assert [json.loads(json.dumps(r))["id"] for r in csv.DictReader(io.StringIO(original.decode()))] == [r[0] for r, _ in cases]
    assert (w.work / "videos" / "etc" / "passwd0.mp4").is_file() and (w.work / "videos" / "host" / "tmp" / "evil0.mp4").is_file()
    check_confinement(w, sheet)
    after = tree(w.root)
    snapshot_check(before, after, lambda k: k.startswith(("work/.sheet2video", "work/videos")) or k in (
        "work/gauntlet.csv", "work/gauntlet.bak.csv", "work/gauntlet.report.html", "audit.jsonl"))
    report = (w.work / "gauntlet.report.html").read_text()
    assert report.count("<article") == len(cases) and report.count("<script") == 1  # a card each; cells stay text
    FIGURES["bad inputs tried (hand-written)"] += len(cases)


def test_workbook_gauntlet_hidden_rows_merged_cells_dates(case_dir: Work):
    """Hidden rows are processed like any row, with a warning (``enabled`` is how to skip one) and stay hidden;
    merged cells, dates and formula cells outside the used columns are kept as they were."""
    w = case_dir
    header = ["id", "media:A", "titles", "width", "height", "max_duration", "shot_duration", "note", "sum"]
    rows = [["h1", "media/a.mp4", dt.datetime(2024, 5, 1), 180, 320, 1, 1, "merged", "=D2+E2"],
            ["h2", "media/a.mp4", "hidden row", 180, 320, 1, 1, None, "=D3+E3"],
            ["h3", "media/a.mp4", "skipped", 180, 320, 1, 1, None, None]]
    header_enabled = header + ["enabled"]
    rows[2].append("no")

    def edit(ws):
        ws.row_dimensions[3].hidden = True
        ws.merge_cells("H2:H3")

    sheet = write_xlsx(w.work / "book.xlsx", header_enabled, rows, edit)
    import openpyxl

    before = {c.coordinate: c.value for row in openpyxl.load_workbook(sheet).active.iter_rows() for c in row}
    result = audited(w, "run", sheet, "--json")
    assert result.returncode == 0, result.stderr[-3000:]
    assert ("warning: row 3 is hidden in the workbook (or filtered out) and will be sent like any other; "
            "to skip a row, put no in an enabled column") in result.stderr
    book = openpyxl.load_workbook(sheet)
    ws = book.active
    assert all(ws[k].value == v for k, v in before.items() if v is not None)
    assert ws.row_dimensions[3].hidden is True and "H2:H3" in {str(r) for r in ws.merged_cells.ranges}
    col = {c.value: c.column for c in ws[1]}
    assert [ws.cell(r, col["status"]).value for r in (2, 3)] == ["Finished", "Finished"]
    assert ws.cell(4, col["status"]).value == "skipped (enabled = no)"  # enabled=no: its status says so (issue 13) …
    assert ws.cell(4, col["job_id"]).value is None  # … and nothing else is written into it
    check_confinement(w, sheet)
    FIGURES["bad inputs tried (hand-written)"] += 3
