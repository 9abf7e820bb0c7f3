"""Issue 24's corpus of real-world sheets (tests/sheets/corpus.py), each case checked end to end:
read as the user sees it, written back touching only what it must (unzip, compare every other
part byte for byte), re-opened by LibreOffice, and bad input refused in one line."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import sys
import traceback
import unicodedata
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

import openpyxl
import pytest

from sheet2video.errors import SheetError
from sheet2video.plan.row_view import RowView
from sheet2video.sheets.read import read_sheet
from sheet2video.sheets.write import RowUpdate, WriteOutcome, write_back
from tests.sheets.corpus import Case, build_corpus
from tests.sheets.office import LAST_OUTPUT, reopened_sheets

RESULT = {"job_id": "job-r1", "status": "Finished", "videos": "out/r1_1.mp4"}
GOOD = ["plain", "shared_strings", "number_formats", "formulas_cached", "formulas_uncached", "fullwidth_headers",
        "title_rows", "instructions_first", "excel_table", "chart", "picture", "x14_data_bars", "dropdown",
        "conditional_formats", "comments_vml", "xlsm_vba", "custom_xml", "hyperlinked_media", "wps_dispimg",
        "excel_cell_picture", "csv_utf8_bom", "csv_utf16_tab", "csv_gbk", "csv_semicolon_decimal_comma",
        "converted_xls", "converted_ods"]
BAD = ["formula_uncomputable", "two_campaigns", "wps_dispimg_missing"]
WORKBOOKS = [n for n in GOOD if not n.startswith("csv_")]


@dataclass
class Written:
    path: Path                      # the copy of the case's file that was written back
    original: bytes                 # its bytes before
    outcome: WriteOutcome | None
    failure: str | None             # the exception write_back raised (last lines of its traceback)


@pytest.fixture(scope="session")
def profile(tmp_path_factory) -> Path:
    """One LibreOffice profile for the session (its first start builds it)."""
    return tmp_path_factory.mktemp("soffice") / "profile"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, profile) -> dict[str, Case]:
    cases = build_corpus(tmp_path_factory.mktemp("corpus") / "sheets", profile)
    assert sorted(cases) == sorted(GOOD + BAD)
    return cases


@pytest.fixture(scope="module")
def written(corpus, tmp_path_factory) -> dict[str, Written]:
    """Every good case written back once (a status/job_id/videos update of its first data row),
    in a copy of the corpus folder so the read tests see the originals."""
    source = next(iter(corpus.values())).path.parent
    folder = tmp_path_factory.mktemp("written") / "sheets"
    shutil.copytree(source, folder)
    out = {}
    for name in GOOD:
        case = corpus[name]
        path = folder / case.path.name
        original = path.read_bytes()
        try:
            outcome = write_back(path, [RowUpdate(row=case.key_row, key="r1", values=dict(RESULT))], key_column="id")
            out[name] = Written(path, original, outcome, None)
        except Exception:  # recorded per case, so one failing feature does not hide the others
            out[name] = Written(path, original, None, "".join(traceback.format_exc().splitlines(True)[-3:]))
    return out


@pytest.fixture(scope="module")
def reopened(written, tmp_path_factory, profile) -> dict[str, dict[str, list[list[str]]]]:
    """Every workbook a write-back produced, opened by LibreOffice in ONE soffice process."""
    paths = {name: w.outcome.path for name, w in written.items()
             if name in WORKBOOKS and w.outcome is not None and w.outcome.written}
    sheets = reopened_sheets(list(paths.values()), tmp_path_factory.mktemp("reopened"), profile, strict=False)
    return {name: sheets[path] for name, path in paths.items()}


@pytest.fixture(scope="module")
def originals_reopened(corpus, tmp_path_factory, profile) -> dict[str, dict[str, list[list[str]]]]:
    """Every corpus workbook as LibreOffice shows it, in ONE soffice process."""
    names = WORKBOOKS + [n for n in BAD if corpus[n].kind.startswith("xls")]
    sheets = reopened_sheets([corpus[n].path for n in names], tmp_path_factory.mktemp("originals"), profile, strict=False)
    return {n: sheets[corpus[n].path] for n in names}


LOCALE_SHOWN = {"date_builtin"}  # Excel's format 14 shows the computer's short date: LibreOffice's differs


@pytest.mark.parametrize("name", WORKBOOKS)
def test_corpus_workbook_shows_the_expected_cells_in_libreoffice(corpus, originals_reopened, name):
    """The corpus itself is right: LibreOffice opens each workbook and shows (or computes) the
    cells the read test expects, so a failing read test is the reader's, not the corpus's."""
    case = corpus[name]
    sheets = originals_reopened[name]
    assert sheets, f"LibreOffice could not open {case.path.name}:\n{LAST_OUTPUT[-1][-2000:]}"
    rows = sheets[case.sheet_name or "campaign"]
    header = [unicodedata.normalize("NFKC", h).strip().lower() for h in rows[case.key_row - 2]]
    for (number, column), want in case.cells.items():
        if column in LOCALE_SHOWN or (number, column) in case.shown:
            continue
        assert rows[number - 1][header.index(column)] == want, (number, column)


# ---------------------------------------------------------------- (a) read as shown


@pytest.mark.parametrize("name", GOOD)
def test_reads_values_as_the_user_sees_them(corpus, name):
    case = corpus[name]
    sheet = read_sheet(case.path)
    rows = {row.number: row for row in sheet.rows}
    wrong = []
    for (number, column), want in case.cells.items():
        got = rows[number].get(column, None) if number in rows else f"<no row {number}>"
        if got != want:
            wrong.append(f"row {number} {column}: read {got!r}, the cell shows {want!r}")
    for (number, column), want in case.shown.items():
        got = rows[number].display(column) if number in rows else f"<no row {number}>"
        if got != want:
            wrong.append(f"row {number} {column}: messages show {got!r}, want the cell's text {want!r}")
    for (number, column), data in case.media.items():
        value = rows[number].get(column) if number in rows else ""
        file = case.path.parent / value if value else None
        if file is None or not file.is_file() or file.read_bytes() != data:
            wrong.append(f"row {number} {column}: {value!r} is not a file next to the sheet holding the cell's picture")
    for (number, column), want in case.numbers.items():
        got = RowView(rows[number], sheet.headers).number(column) if number in rows else None
        if got != want:
            wrong.append(f"row {number} {column}: the planner reads {got!r}, want the number {want!r}")
    assert not wrong, f"{case.path.name} (columns {sheet.columns}):\n" + "\n".join(wrong)
    if case.sheet_name:
        assert sheet.name == case.sheet_name
    if case.notice:
        assert any(case.notice in n for n in sheet.notices), f"no notice saying {case.notice!r}: {sheet.notices}"


# ---------------------------------------------------------------- (b) write-back edits only what it must


def zip_parts(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def status_cell(path: Path, sheet_name: str, key_row: int) -> object:
    """The status written in ``key_row`` (the header is the row above it in every case)."""
    with warnings.catch_warnings():  # openpyxl warns it would drop x14 parts: it only reads here
        warnings.simplefilter("ignore", UserWarning)
        workbook = openpyxl.load_workbook(path, read_only=False)
    try:
        ws = workbook[sheet_name]
        header = {str(c.value).strip(): c.column for c in ws[key_row - 1] if c.value is not None}
        assert "status" in header, f"no status column in row {key_row - 1}: {list(header)}"
        return ws.cell(key_row, header["status"]).value
    finally:
        workbook.close()


def ranges(xml: bytes) -> list[bytes]:
    """The ranges conditional formats, data bars and validations apply to."""
    return sorted(re.findall(rb'sqref="([^"]*)"', xml) + re.findall(rb"<xm:sqref>([^<]*)</xm:sqref>", xml))


def check_table_grew(xml: bytes) -> None:
    table = ElementTree.fromstring(xml)
    ns = {"t": table.tag[1:].split("}")[0]}
    names = [c.get("name") for c in table.iterfind("t:tableColumns/t:tableColumn", ns)]
    assert {"job_id", "status", "videos"} <= set(names), f"the Table's columns are {names}"
    assert table.find("t:tableColumns", ns).get("count") == str(len(names))
    last = re.match(r"[A-Z]+\d+:([A-Z]+)\d+", table.get("ref")).group(1)
    assert len(last) == 1 and ord(last) - 64 == len(names), f"ref {table.get('ref')} for {len(names)} columns"
    auto = table.find("t:autoFilter", ns)
    assert auto is None or auto.get("ref") == table.get("ref")


CELL = re.compile(rb"<c [^>]*?(?:/>|>.*?</c>)", re.S)
EXT = re.compile(rb"<extLst>.*?</extLst>", re.S)  # each one (they never nest): a cfRule's, the sheet's x14
TYPE = re.compile(rb"<(?:Default|Override) [^>]*>")


def check_rewritten_parts_keep_the_users(case: Case, before: dict[str, bytes], after: dict[str, bytes]) -> None:
    """The parts a write-back may rewrite still hold everything of the user's: every cell byte for
    byte, the ranges of formats and validations, the x14 extensions, every part's content type,
    and every cell style at its index (a cell's look and number format are its style's index)."""
    sheet_before, sheet_after = before[case.sheet_part], after[case.sheet_part]
    lost = [c for c in CELL.findall(sheet_before) if c not in sheet_after]
    assert not lost, f"cells changed: {lost[:3]}"
    assert ranges(sheet_after) == ranges(sheet_before), "a format's or validation's range moved"
    assert EXT.findall(sheet_after) == EXT.findall(sheet_before), "the sheet's extensions changed"
    types = set(TYPE.findall(after["[Content_Types].xml"]))
    assert not [t for t in TYPE.findall(before["[Content_Types].xml"]) if t not in types], "a content type was dropped"
    styles = [ElementTree.fromstring(p) for p in (before["xl/styles.xml"], after["xl/styles.xml"])]
    for table in ("numFmts", "fonts", "fills", "borders", "cellStyleXfs", "cellXfs"):  # new entries go at the end
        old, new = ([ElementTree.tostring(x) for t in tree if t.tag.endswith("}" + table) for x in t] for tree in styles)
        assert new[:len(old)] == old, f"the user's {table} changed (styles.xml)"


def check_csv(case: Case, w: Written) -> None:
    data = w.path.read_bytes()
    assert w.outcome.backup is not None and w.outcome.backup.read_bytes() == w.original, "the backup is not the original"
    for bom in (b"\xef\xbb\xbf", b"\xff\xfe"):
        assert data.startswith(bom) == w.original.startswith(bom), "the byte-order mark changed"
    text = data.decode(case.encoding)
    delimiter = {"csv_utf16_tab": "\t", "csv_semicolon_decimal_comma": ";"}.get(case.name, ",")
    assert f"{delimiter}job_id{delimiter}status{delimiter}videos" in text.splitlines()[0]
    assert "Finished" in text and all(k in text for k in case.keep)
    assert ("\r\n" in text) == ("\r\n" in w.original.decode(case.encoding)), "the line endings changed"


@pytest.mark.parametrize("name", GOOD)
def test_write_back_changes_only_what_it_must(corpus, written, name):
    case, w = corpus[name], written[name]
    assert w.failure is None, f"write_back raised:\n{w.failure}"
    outcome = w.outcome
    assert outcome.written == 1 and not outcome.skipped, outcome
    if case.kind in ("csv", "txt"):
        assert outcome.path == w.path and not outcome.results_copy, outcome.reason
        return check_csv(case, w)
    if case.results_elsewhere:  # .xls/.ods: the original untouched, results in an .xlsx beside it
        assert outcome.path.suffix == ".xlsx" and outcome.path.parent == w.path.parent, outcome.path
        assert w.path.read_bytes() == w.original
        assert status_cell(outcome.path, "campaign", case.key_row) == "Finished"
        return
    assert outcome.path == w.path and not outcome.results_copy, f"not written in place: {outcome.reason}"
    assert outcome.backup is not None and outcome.backup.read_bytes() == w.original, "the backup is not the original"
    before, after = zip_parts(w.original), zip_parts(w.path.read_bytes())
    changed = sorted(n for n in before if n not in case.may_change and after.get(n) != before[n])
    added = sorted(n for n in after if n not in before and n not in case.may_change)
    assert not changed and not added, f"parts changed: {changed}; parts added: {added}"
    check_rewritten_parts_keep_the_users(case, before, after)
    if case.table_part:
        check_table_grew(after[case.table_part])
    assert status_cell(w.path, case.sheet_name or "campaign", case.key_row) == "Finished"


# ---------------------------------------------------------------- (c) LibreOffice still opens it


@pytest.mark.parametrize("name", WORKBOOKS)
def test_written_workbook_reopens_in_libreoffice(corpus, written, reopened, name):
    case = corpus[name]
    assert name in reopened, f"nothing was written to re-open: {written[name].failure or written[name].outcome}"
    sheets = reopened[name]
    assert sheets, f"LibreOffice could not open {written[name].outcome.path.name}:\n{LAST_OUTPUT[-1][-2000:]}"
    rows = sheets[case.sheet_name or "campaign"]
    header, row = rows[case.key_row - 2], rows[case.key_row - 1]
    assert "status" in header, header
    assert row[header.index("status")] == "Finished" and row[header.index("job_id")] == "job-r1"


# ---------------------------------------------------------------- (d) bad input: one line


@pytest.mark.parametrize("name", BAD)
def test_bad_input_is_one_line_naming_the_cell(corpus, name):
    case = corpus[name]
    with pytest.raises(SheetError) as raised:
        read_sheet(case.path)
    message = str(raised.value)
    assert "\n" not in message and all(part in message for part in case.error), message


def test_plan_refuses_an_uncomputable_formula_in_one_line(corpus):
    case = corpus["formula_uncomputable"]
    before = case.path.read_bytes()
    result = subprocess.run([sys.executable, "-m", "sheet2video", "plan", str(case.path), "--out", "-"],
                            cwd=case.path.parent, capture_output=True, text=True, timeout=120)
    lines = [line for line in result.stderr.splitlines() if line.strip() and not line.startswith("note:")]
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and len(lines) == 1, result.stderr
    assert "row 2" in lines[0] and "titles" in lines[0]
    assert result.stdout == "" and case.path.read_bytes() == before
    assert not list(case.path.parent.glob(f"{case.path.stem}.*bak*")), "a backup was made of a sheet nothing was written to"
