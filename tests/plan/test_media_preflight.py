"""Plan-time probing of local media (issue 12 item 5): missing, unreadable or wrong-kind files are
reported per row and column by `plan` (and `run` before anything is sent), with a probe cache."""

import os
import shutil

import pytest
from click.testing import CliRunner

from sheet2video.plan import media_preflight as preflight_media
from sheet2video.plan.campaign import plan_campaign
from sheet2video.cli import cli
from sheet2video.errors import PreflightError
from sheet2video.plan.media_preflight import CACHE_NAME, MediaCheck
from sheet2video.sheets.read import read_sheet
from sheet2video.plan.templating import load_template_set
from tests.media import make_image, make_tone, make_video


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    """One of each kind, generated once: a clip, a clip with sound, a still, a tone, a broken file."""
    folder = tmp_path_factory.mktemp("library")
    make_video(folder / "clip.mp4", 1.0, "160x90", color="red")
    make_video(folder / "voiced.mp4", 1.0, "160x90", color="green", with_audio=440)
    make_image(folder / "still.png", "64x64", "blue")
    make_tone(folder / "tone.m4a", 1.0)
    (folder / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + os.urandom(600))
    return folder


@pytest.fixture
def folder(tmp_path, library):
    shutil.copytree(library, tmp_path / "media")
    return tmp_path


def sheet(folder, *rows, header="id,media:Opening,media:Product,bgm,logo"):
    path = folder / "campaign.csv"
    path.write_text("\n".join([header, *(",".join(f'"{c}"' for c in r) for r in rows)]) + "\n", encoding="utf-8")
    return path


GOOD = ("r1", "media/clip.mp4", "media/still.png\nmedia/voiced.mp4", "media/tone.m4a", "media/still.png")


def plan(*args):
    return CliRunner().invoke(cli, ["plan", *map(str, args)])


def errors(result):
    return [line for line in result.output.splitlines() if line.startswith("error:")]


def test_good_sheet_plans_and_leaves_a_cache(folder):
    result = plan(sheet(folder, GOOD, ("r2", "media/voiced.mp4", "", "media/voiced.mp4", "")), "--out", "-")
    assert result.exit_code == 0, result.output
    assert (folder / ".sheet2video" / CACHE_NAME).is_file()


def test_missing_file_names_row_column_and_file(folder):
    path = sheet(folder, GOOD, ("r2", "media/clip.mp4", "media/x.mp4", "", ""), ("r3", "media/gone.mp4", "", "", ""))
    result = plan(path)
    assert result.exit_code == 2
    assert errors(result) == ["error: row 3, media:Product: media/x.mp4 not found",
                              "error: row 4, media:Opening: media/gone.mp4 not found"]


def test_wrong_kinds_are_refused(folder):
    path = sheet(folder, ("r1", "media/tone.m4a", "media/clip.mp4", "media/still.png", "media/tone.m4a"),
                 ("r2", "media/clip.mp4", "", "media/clip.mp4", ""))
    result = plan(path)
    assert result.exit_code == 2
    assert errors(result) == [
        "error: row 2, media:Opening: media/tone.m4a is an audio file, not a video or image",
        "error: row 2, bgm: media/still.png is an image; background music needs an audio file",
        "error: row 2, logo: media/tone.m4a is an audio file, not a video or image",
        "error: row 3, bgm: media/clip.mp4 is a video without a sound track; background music needs an audio file",
    ]


def test_corrupt_and_empty_files_are_named(folder):
    (folder / "media" / "empty.png").write_bytes(b"")
    result = plan(sheet(folder, ("r1", "media/broken.mp4", "media/empty.png", "", "")))
    assert result.exit_code == 2
    lines = errors(result)
    assert len(lines) == 2, result.output
    assert lines[0].startswith("error: row 2, media:Opening: media/broken.mp4: cannot read media (")
    assert lines[1] == "error: row 2, media:Product: media/empty.png: cannot read media (the file is empty)"


def test_only_local_references_are_probed(folder):
    """Absolute paths and file:// URLs under the root are local; URLs and media IDs are left to the render."""
    absolute = folder / "media" / "clip.mp4"
    path = sheet(folder, ("r1", str(absolute), f"file://{folder}/media/nothing.mp4", "", ""),
                 ("r2", "https://example.com/never-fetched.mp4", "0123456789abcdef0123456789abcdef", "", ""),
                 ("r3", "../outside.mp4", "", "", ""))
    result = plan(path)
    assert result.exit_code == 2
    assert errors(result) == [
        f"error: row 2, media:Product: file://{folder}/media/nothing.mp4 not found",
        "error: row 4, media:Opening: media outside the media root is not readable: ../outside.mp4",
    ]


def test_grouped_sheet_points_at_the_group_row(folder):
    path = sheet(folder, ("j", "A", "media/clip.mp4", "Hi"), ("j", "B", "media/tone.m4a", "Hello"),
                 header="job,group,media,speech")
    result = plan(path, "--templates", "grouped")
    assert result.exit_code == 2
    assert errors(result) == ["error: row 3, media: media/tone.m4a is an audio file, not a video or image"]


def test_no_probe_is_the_escape_hatch(folder, monkeypatch):
    path = sheet(folder, ("r1", "media/not-there-yet.mp4", "", "", ""))
    assert plan(path, "--no-probe").exit_code == 0
    monkeypatch.setenv("SHEET2VIDEO_NO_PROBE", "1")
    assert plan(path).exit_code == 0
    monkeypatch.delenv("SHEET2VIDEO_NO_PROBE")
    assert plan(path).exit_code == 2


def test_cache_is_used_and_invalidated_when_a_file_changes(folder, monkeypatch):
    calls = []
    real = preflight_media.probe
    monkeypatch.setattr(preflight_media, "probe", lambda p: calls.append(os.path.basename(p)) or real(p))
    rows = [(f"r{i}", "media/clip.mp4", "media/still.png\nmedia/broken.mp4", "media/tone.m4a", "") for i in range(20)]
    path = sheet(folder, *rows)
    template_set = load_template_set("script")

    def plan_once():
        data = read_sheet(path)
        check = MediaCheck(data, template_set)
        try:
            plan_campaign(data, template_set, checks=(check,))
            return check, []
        except PreflightError as error:
            return check, [str(p) for p in error.problems]

    check, problems = plan_once()
    assert sorted(calls) == ["broken.mp4", "clip.mp4", "still.png", "tone.m4a"]  # each distinct file once
    assert (check.probed, check.cached) == (4, 0)
    assert len(problems) == 20 and all("media/broken.mp4: cannot read media" in p for p in problems)

    calls.clear()
    check, again = plan_once()
    assert calls == [] and (check.probed, check.cached) == (0, 4)  # the failure was cached too
    assert again == problems

    make_video(folder / "media" / "broken.mp4", 1.0, "160x90", color="white")  # the file is fixed
    calls.clear()
    check, problems = plan_once()
    assert calls == ["broken.mp4"] and (check.probed, check.cached) == (1, 3)
    assert problems == []


def test_cache_survives_garbage(folder):
    state = folder / ".sheet2video"
    state.mkdir()
    (state / CACHE_NAME).write_text("{not json", encoding="utf-8")
    assert plan(sheet(folder, GOOD)).exit_code == 0
    assert (state / CACHE_NAME).read_text(encoding="utf-8").startswith('{"version"')


def test_run_checks_before_sending_and_aliyun_keeps_the_cloud_message(folder):
    path = sheet(folder, ("r1", "media/missing.mp4", "", "", ""))
    local = CliRunner().invoke(cli, ["run", str(path), "--quiet"])
    assert local.exit_code == 2
    assert errors(local) == ["error: row 2, media:Opening: media/missing.mp4 not found"]
    assert not (folder / "videos").exists() and not (folder / ".sheet2video" / "engine").exists()  # nothing started

    cloud = CliRunner().invoke(cli, ["run", str(path), "--backend", "aliyun", "--region", "cn-shanghai", "--quiet"])
    assert cloud.exit_code == 2
    lines = errors(cloud)
    assert ("error: row 2, media:Opening (InputConfig.MediaGroupArray[0].MediaArray): media 'media/missing.mp4' is not an "
            "IMS media ID or an OSS URL; the cloud cannot read it") in lines
    assert "error: row 2, media:Opening: media/missing.mp4 not found" in lines
