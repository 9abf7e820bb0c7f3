"""The generated sample media decode as what they claim to be, look like footage (colourful,
moving, the documented palette — not flat, not a test pattern), sound like something, come out
the same every time, and the example sheets only reference files that the generator makes."""

from __future__ import annotations

import csv
from pathlib import Path

import itertools

import av
import numpy as np
import openpyxl
import pytest
from PIL import Image

from sheet2video.samples import media as samples_module
from sheet2video.samples.media import SAMPLES, generate_sample_media

EXAMPLES = Path(__file__).resolve().parents[2] / "example_sheets"
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
            if sample.name == "logo.png":  # a sticker needs transparency, with a soft edge
                alpha = frame.to_ndarray(format="rgba")[:, :, 3]
                assert alpha[0, 0] == 0 and alpha[128, 128] == 255
                assert 0 < alpha[128, 8] < 255 or 0 < alpha[128, 9] < 255 or 0 < alpha[128, 10] < 255
            return

        assert videos[0].codec_context.name == "h264"
        assert videos[0].average_rate == sample.fps
        assert container.duration / av.time_base == pytest.approx(sample.duration, abs=0.2)
        if sample.has_audio:
            container.seek(0)
            assert next(container.decode(audios[0])).samples > 0


PICTURES = [s for s in SAMPLES if s.kind in ("video", "image") and s.colour]


def _rgb(value: str) -> np.ndarray:
    return np.array([int(value[i:i + 2], 16) for i in (1, 3, 5)], dtype=float)


def _frames(path: Path) -> list[np.ndarray]:
    """Every frame at a quarter of its size, RGB (a still is one frame)."""
    with av.open(str(path)) as container:
        return [f.reformat(width=max(2, f.width // 4), height=max(2, f.height // 4), format="rgb24").to_ndarray()
                for f in container.decode(video=0)]


@pytest.fixture(scope="module")
def pictures(media) -> dict[str, list[np.ndarray]]:
    folder, _ = media
    return {s.name: _frames(folder / s.name) for s in PICTURES}


def test_logo_is_the_only_picture_without_a_colour():
    assert [s.name for s in SAMPLES if s.kind != "audio" and not s.colour] == ["logo.png"]


@pytest.mark.parametrize("sample", PICTURES, ids=lambda s: s.name)
def test_picture_looks_like_footage(pictures, sample):
    frames = pictures[sample.name]
    first = frames[0]
    hsv = np.asarray(Image.fromarray(first).convert("HSV"), dtype=float)
    assert hsv[:, :, 1].mean() > 60, "too grey for campaign footage"
    assert hsv[:, :, 2].std() > 15, "flat: one colour all over"
    assert len(np.unique(first.reshape(-1, 3) // 16, axis=0)) > 40, "a few flat colours: a test pattern?"
    # the documented palette (a test pattern or another clip would not match it)
    mean = np.mean([f.reshape(-1, 3).mean(axis=0) for f in frames], axis=0)
    assert np.abs(mean - _rgb(sample.colour)).max() <= 10, f"mean colour #{''.join(f'{int(v):02X}' for v in mean)}"
    if sample.kind == "video":
        last = frames[-1]
        assert np.abs(first.astype(int) - last.astype(int)).mean() > 2, "nothing moves"


def test_every_picture_has_its_own_palette():
    """A rendered shot can be traced back to its source by colour: no two are alike."""
    for a, b in itertools.combinations(PICTURES, 2):
        assert np.linalg.norm(_rgb(a.colour) - _rgb(b.colour)) >= 25, (a.name, b.name)


def _audio(path: Path) -> np.ndarray:
    with av.open(str(path)) as container:
        return np.concatenate([f.to_ndarray().reshape(2, -1) if f.format.is_planar else f.to_ndarray().reshape(-1, 2).T
                               for f in container.decode(audio=0)], axis=1)


def _db(x: np.ndarray) -> float:
    return 20 * float(np.log10(np.sqrt(np.mean(np.square(x, dtype=np.float64))) + 1e-12))


@pytest.mark.parametrize("sample", [s for s in SAMPLES if s.has_audio], ids=lambda s: s.name)
def test_sound_is_soft_and_audible(media, sample):
    folder, _ = media
    sound = _audio(folder / sample.name)
    assert float(np.abs(sound).max()) < 0.9  # headroom: no clipping
    if sample.kind == "audio":  # music: about -17 dBFS RMS, and it has a pulse (the bass and plucks)
        assert -22 < _db(sound) < -12
        window = 44100 // 20
        levels = [_db(sound[:, i:i + window]) for i in range(44100, sound.shape[1] - 2 * 44100, window)]
        assert np.std(levels) > 1.0
    else:  # a bed under the clip, well below speech
        assert -40 < _db(sound) < -20


def test_generation_is_deterministic(media, tmp_path):
    folder, _ = media
    again = tmp_path / "again"
    again.mkdir()
    for name in ("product_1.mp4", "opening_3.mp4", "photo_2.jpg", "bgm_2.mp3", "logo.png"):
        sample = next(s for s in SAMPLES if s.name == name)
        samples_module._make(sample, again, tmp_path)
        assert (again / name).read_bytes() == (folder / name).read_bytes(), name


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


def test_media_from_an_older_generator_are_redrawn(tmp_path):
    old = tmp_path / "media"
    old.mkdir()
    for s in SAMPLES:  # what an earlier version left behind: files, but no (or an old) stamp
        (old / s.name).write_bytes(b"old")
    paths = generate_sample_media(old)
    assert all(p.read_bytes() != b"old" for p in paths)
    assert (old / samples_module.STAMP).read_text().strip() == samples_module.VERSION


def _media_refs(columns: list[str], rows: list[list[str]]) -> list[str]:
    refs = []
    for row in rows:
        for column, value in zip(columns, row):
            if column.strip().lower().startswith("media") or column.strip().lower() in ("bgm", "logo"):
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
