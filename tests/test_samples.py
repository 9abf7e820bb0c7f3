"""The generated sample media decode as what they claim to be, and the example sheets only
reference files that the generator makes."""

from __future__ import annotations

import csv
from pathlib import Path

import av
import openpyxl
import pytest

from sheet2video.samples import SAMPLES, generate_sample_media

EXAMPLES = Path(__file__).resolve().parent.parent / "example_sheets"
SHEET_FILES = sorted(EXAMPLES.glob("*.xlsx")) + sorted(EXAMPLES.glob("*.csv"))


@pytest.fixture(scope="module")
def media(tmp_path_factory) -> tuple[Path, list[Path]]:
    folder = tmp_path_factory.mktemp("samples")
    return folder, generate_sample_media(folder)


def test_every_sample_exists_and_is_not_empty(media):
    folder, paths = media
    assert [p.name for p in paths] == [s.name for s in SAMPLES]
    for path in paths:
        assert path.parent == folder
        assert path.is_file() and path.stat().st_size > 0, path
    assert not [p for p in folder.iterdir() if ".part" in p.name], "temporary files left behind"


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: s.name)
def test_sample_decodes_as_its_kind(media, sample):
    folder, _ = media
    with av.open(str(folder / sample.name)) as container:
        videos = list(container.streams.video)
        audios = list(container.streams.audio)
        if sample.kind == "audio":
            assert not videos and len(audios) == 1
            frame = next(container.decode(audios[0]))
            assert frame.samples > 0
            assert container.duration / av.time_base == pytest.approx(sample.duration, abs=0.3)
            return

        assert len(videos) == 1
        assert len(audios) == (1 if sample.has_audio else 0)
        frame = next(container.decode(videos[0]))
        assert (frame.width, frame.height) == (sample.width, sample.height)
        if sample.kind == "image":
            assert container.format.name in ("png_pipe", "image2", "jpeg_pipe")
            assert videos[0].codec_context.name in ("png", "mjpeg")
            if sample.name == "logo.png":  # a sticker needs transparency
                rgba = frame.to_ndarray(format="rgba")
                assert rgba[0, 0, 3] == 0 and rgba[128, 128, 3] == 255
            return

        assert videos[0].codec_context.name == "h264"
        assert videos[0].average_rate == sample.fps
        assert container.duration / av.time_base == pytest.approx(sample.duration, abs=0.2)
        if sample.has_audio:
            container.seek(0)
            assert next(container.decode(audios[0])).samples > 0


def test_generation_is_idempotent(media):
    folder, paths = media
    before = {p.name: p.stat().st_mtime_ns for p in paths}
    victim = folder / "photo_2.jpg"
    victim.write_bytes(b"")  # an empty file is regenerated; the others are kept as they are
    again = generate_sample_media(folder)
    assert again == paths
    assert victim.stat().st_size > 0
    for p in again:
        if p != victim:
            assert p.stat().st_mtime_ns == before[p.name], p.name


def _media_refs(columns: list[str], rows: list[list[str]]) -> list[str]:
    refs = []
    for row in rows:
        for column, value in zip(columns, row):
            if column.strip().lower().startswith("media") or column.strip().lower() == "bgm":
                refs += [line.strip() for line in (value or "").splitlines() if line.strip()]
    return refs


def _read(path: Path) -> tuple[list[str], list[list[str]]]:
    if path.suffix == ".xlsx":
        ws = openpyxl.load_workbook(path, read_only=True).worksheets[0]
        table = [["" if v is None else str(v) for v in row] for row in ws.iter_rows(values_only=True)]
    else:
        with path.open(encoding="utf-8-sig", newline="") as f:
            table = list(csv.reader(f))
    return table[0], table[1:]


def test_example_sheets_exist():
    stems = {p.stem for p in SHEET_FILES}
    assert {"campaign_en", "campaign_zh", "grouped_en", "grouped_zh"} <= stems
    assert {p.suffix for p in SHEET_FILES} == {".xlsx", ".csv"}


@pytest.mark.parametrize("sheet", SHEET_FILES, ids=lambda p: p.name)
def test_example_sheet_media_are_generated(media, sheet):
    _, paths = media
    produced = {p.name for p in paths}
    columns, rows = _read(sheet)
    refs = _media_refs(columns, rows)
    assert rows and refs
    for ref in refs:
        assert not Path(ref).is_absolute() and "://" not in ref, ref
        resolved = (sheet.parent / ref).resolve()
        assert resolved.parent == (EXAMPLES / "media").resolve(), ref
        assert resolved.name in produced, ref


def test_xlsx_and_csv_twins_agree():
    for xlsx in EXAMPLES.glob("*.xlsx"):
        twin = xlsx.with_suffix(".csv")
        assert twin.exists(), twin
        assert _read(xlsx) == _read(twin), xlsx.name
