"""Posters: one JPEG frame per video, by an FFmpeg that dies with the engine."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sheet2video.engine.media.poster import extract_poster
from tests.media import make_image, make_video

ENGINE = "import sys; from sheet2video.engine.media.poster import extract_poster; extract_poster(sys.argv[1], sys.argv[2], 1.0)"


def test_posters_of_a_video_and_of_a_picture(tmp_path):
    video = make_video(tmp_path / "v.mp4", 2, "320x240")
    assert extract_poster(video, str(tmp_path / "v.jpg"), 2.0)
    picture = make_image(tmp_path / "p.png", "320x240")
    assert extract_poster(picture, str(tmp_path / "p.jpg"), 0.0, demuxer="png_pipe")
    assert (tmp_path / "v.jpg").read_bytes()[:2] == (tmp_path / "p.jpg").read_bytes()[:2] == b"\xff\xd8"
    assert not extract_poster(picture, str(tmp_path / "x.jpg"), 0.0)  # a PNG is not read as an MP4


def test_a_percent_in_the_name_is_no_pattern(tmp_path):
    video = make_video(tmp_path / "o%03d.mp4", 2, "320x240")
    assert extract_poster(video, str(tmp_path / "o%03d.jpg"), 2.0)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o%03d.jpg", "o%03d.mp4"]  # no o001.jpg, no temp file


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


def gone(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"  # a zombie is dead
    except FileNotFoundError:
        return True


@pytest.mark.skipif(sys.platform != "linux", reason="PR_SET_PDEATHSIG is Linux's")
def test_the_posters_ffmpeg_dies_with_the_engine(tmp_path):
    """An engine killed while FFmpeg makes a poster (kill -9, the OOM killer) takes that FFmpeg
    with it: here FFmpeg waits on a FIFO nobody writes, and the engine process is killed."""
    fifo = tmp_path / "stalled.mp4"
    os.mkfifo(fifo)
    engine = subprocess.Popen([sys.executable, "-c", ENGINE, str(fifo), str(tmp_path / "p.jpg")])
    writer = None
    try:
        deadline = time.monotonic() + 60
        while writer is None:  # FFmpeg has opened the FIFO once a writer can open it without blocking
            try:
                writer = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
            except OSError:
                assert engine.poll() is None and time.monotonic() < deadline, "FFmpeg never opened its input"
                time.sleep(0.02)
        ffmpeg = children(engine.pid)
        assert len(ffmpeg) == 1, ffmpeg
        engine.kill()
        engine.wait()
        deadline = time.monotonic() + 10
        while not gone(ffmpeg[0]) and time.monotonic() < deadline:
            time.sleep(0.02)
        alive = not gone(ffmpeg[0])
        if alive:
            os.kill(ffmpeg[0], signal.SIGKILL)  # the orphan this test made
        assert not alive, "the poster's FFmpeg outlived the engine"
    finally:
        if writer is not None:
            os.close(writer)
        if engine.poll() is None:
            engine.kill()
            engine.wait()
