"""The media catalog: probes cached by file identity, and what each task records for the render."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sheet2video.engine.media.probe import probe
from sheet2video.engine.render import render
from sheet2video.engine.timeline.material import MediaCatalog
from sheet2video.engine.timeline.task import CHANGED, RenderTask, Shot, identity_of
from sheet2video.errors import RenderError
from tests.media import make_image, make_video


class Resolver:
    def __init__(self, root: Path):
        self.root = root

    def resolve(self, reference: str) -> Path:
        return self.root / reference


def counting(calls: list):
    def probe_fn(path):
        calls.append(path)
        return probe(path)
    return probe_fn


def test_a_file_is_probed_once_per_version(tmp_path):
    calls: list = []
    catalog = MediaCatalog(Resolver(tmp_path), counting(calls))
    make_video(tmp_path / "a.mp4", 1, "64x48")
    assert catalog.media("a.mp4")[1].demuxer == "mov"
    catalog.media("a.mp4")
    assert len(calls) == 1
    make_image(tmp_path / "new.png", "64x48")
    os.replace(tmp_path / "new.png", tmp_path / "a.mp4")  # the same path, another file
    path, info = catalog.media("a.mp4")
    assert len(calls) == 2 and (info.kind, info.demuxer) == ("image", "png_pipe")


def test_each_task_records_the_demuxer_and_identity_its_probe_checked(tmp_path):
    catalog = MediaCatalog(Resolver(tmp_path), probe)
    make_video(tmp_path / "a.mp4", 1, "64x48")
    make_image(tmp_path / "logo.png", "32x32")
    path, _ = catalog.media("a.mp4")
    logo, _ = catalog.media("logo.png")
    task = RenderTask(output=str(tmp_path / "o.mp4"), width=64, height=48, duration=1.0,
                      shots=[Shot(path, "video", 0, 1, 1)], background_image=logo)
    catalog.describe(task)
    assert task.inputs == {path: {"format": "mov", "identity": identity_of(path)},
                           logo: {"format": "png_pipe", "identity": identity_of(logo)}}
    assert RenderTask.from_dict(task.to_dict()).inputs == task.inputs  # plain data: it travels with the task


def test_the_render_refuses_a_file_rewritten_since_its_probe(tmp_path):
    catalog = MediaCatalog(Resolver(tmp_path), probe)
    make_video(tmp_path / "a.mp4", 1, "64x48")
    path, _ = catalog.media("a.mp4")
    task = RenderTask(output=str(tmp_path / "out" / "o.mp4"), width=64, height=48, duration=1.0,
                      shots=[Shot(path, "video", 0, 1, 1)])
    catalog.describe(task)
    with open(path, "ab") as fh:
        fh.write(b"\0")  # one more byte: another version of the file
    with pytest.raises(RenderError) as err:
        render(task, preset="ultrafast")
    assert err.value.code == CHANGED and "a.mp4" in str(err.value)
    assert not (tmp_path / "out" / "o.mp4").exists()
