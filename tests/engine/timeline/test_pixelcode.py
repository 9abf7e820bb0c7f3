"""Self-tests of the pixel code (tests/engine/timeline/pixelcode.py): read back directly, seen by FFmpeg's
detectors as the planner will see it, and rebuilt from a real render at 180x320 with scaling, a speed
change, a fade, a title, captions and a logo at CRF 35."""

from __future__ import annotations

import random
import re
import subprocess

import av
import numpy as np
import pytest

from sheet2video.engine.render import RenderTask, Shot, Sticker, TextOverlay, ffmpeg_exe, render
from sheet2video.engine.timeline.task import Caption
from tests.engine.timeline.pixelcode import (
    DECODE_SIZE,
    FLASH_FRAMES,
    Frame,
    Piece,
    click_track,
    code_frame,
    coded_clip,
    coded_photo,
    decode_gray,
    edit_list,
    is_black,
    read_codes,
)
from tests.media import make_image

FPS = 25


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    """0.2 s black, scene 0 for 0.6 s (a flash at 0.32 s), scene 1 for 0.4 s, 0.2 s frozen: 35 frames."""
    path = tmp_path_factory.mktemp("clip") / "clip.mp4"
    coded_clip(path, 3, [0.6, 0.4], black_head=0.2, frozen_tail=0.2, flash_at=0.32)
    return path


def test_a_coded_clip_reads_back_frame_by_frame(clip):
    coded = [Frame(3, 0 if n < 20 else 1, n) for n in range(5, 30)]
    assert read_codes(clip) == [None] * 5 + coded + [Frame(3, 1, 29)] * 5
    assert is_black(clip) == [True] * 5 + [False] * 30
    pieces = edit_list(clip)
    assert [(p.source, p.scene, p.first, p.last, p.start, p.end) for p in pieces] == [
        (3, 0, 5, 19, 0.2, 0.8), (3, 1, 20, 29, 0.8, 1.4)]
    assert pieces[0].speed == pytest.approx(1.0) and pieces[1].speed < 0.8  # the frozen tail slows it


def test_a_larger_source_reads_the_same(tmp_path):
    coded_clip(tmp_path / "big.mp4", 63, [0.2, 0.2], size=(360, 640))
    assert read_codes(tmp_path / "big.mp4") == [Frame(63, k // 5, k) for k in range(10)]


def detections(path) -> tuple[list[float], list[tuple[float, float]], list[float]]:
    """What FFmpeg's scdet (threshold 10), blackdetect and freezedetect (0.1 s, -50 dB: at the default
    -60 dB x264's refinement of the repeated frames hides a short freeze) report for ``path``."""
    proc = subprocess.run([ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", str(path), "-vf",
                           "scdet=threshold=10,blackdetect=d=0.1,freezedetect=d=0.1:n=-50dB", "-f", "null", "-"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    cuts = [float(t) for t in re.findall(r"lavfi\.scd\.time: ([\d.]+)", proc.stderr)]
    black = [(float(a), float(b)) for a, b in re.findall(r"black_start:([\d.]+) black_end:([\d.]+)", proc.stderr)]
    freezes = [float(t) for t in re.findall(r"freeze_start: ([\d.]+)", proc.stderr)]
    return cuts, black, freezes


def test_ffmpeg_sees_the_scene_cuts_the_flash_the_black_head_and_the_frozen_tail(clip):
    cuts, black, freezes = detections(clip)
    flash = 8 / FPS  # frames 8..10 on white
    assert cuts == pytest.approx([0.2, flash, flash + FLASH_FRAMES / FPS, 0.8])  # and no cut inside a scene
    assert black == [(0.0, 0.2)]
    assert freezes == [0.0, pytest.approx(29 / FPS)]  # the black head; the last coded frame on


@pytest.mark.parametrize("name", ["photo.png", "photo.jpg"])
def test_a_photo_carries_its_source_scene_0_frame_0(tmp_path, name):
    coded_photo(tmp_path / name, 17, size=(360, 640))
    assert read_codes(tmp_path / name) == [Frame(17, 0, 0)]


@pytest.mark.parametrize("ext", ["m4a", "wav"])
def test_a_click_track_clicks_on_each_beat_it_returns(tmp_path, ext):
    beats = click_track(tmp_path / f"music.{ext}", 123, 6.0, offset=0.37)
    assert len(beats) == 12 and beats[0] == 0.37 and beats[1] - beats[0] == pytest.approx(60 / 123)
    with av.open(str(tmp_path / f"music.{ext}")) as c:
        rate = c.streams.audio[0].rate
        x = np.concatenate([f.to_ndarray().reshape(-1) for f in c.decode(audio=0)]).astype(np.float64)
    x /= np.abs(x).max()
    hop = rate // 200  # 5 ms
    peaks = np.abs(x[:len(x) // hop * hop]).reshape(-1, hop).max(axis=1)
    onsets = [i * hop / rate for i in range(1, len(peaks)) if peaks[i] > 0.3 >= peaks[i - 1]]
    assert onsets == pytest.approx(beats, abs=0.006)


# ---------------------------------------------------------------------------------------------
# through the real renderer

W, H, SRC = 180, 320, (360, 640)
WINDOW = range(40, 50)  # the fade: the last 10 frames of shot 2's slot (output frames 25..49)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """1 s of clip 1 at 1x; 1 s of clip 2 at 1.2x fading (0.4 s) into a 1 s photo; a title, two
    captions, a logo in the top-right corner; 360x640 sources into 180x320 at CRF 35."""
    d = tmp_path_factory.mktemp("render")
    coded_clip(d / "a.mp4", 1, [1.2, 1.2], size=SRC, black_head=0.4)  # scene 0 = frames 10..39
    coded_clip(d / "b.mp4", 2, [1.0, 1.5], size=SRC)  # scene 1 = frames 25..62
    coded_photo(d / "c.png", 3, size=SRC)
    logo = make_image(d / "logo.png", "64x64", "red")
    shots = [Shot(str(d / "a.mp4"), "video", 0.6, 1.0, 1.0, width=SRC[0], height=SRC[1]),
             Shot(str(d / "b.mp4"), "video", 1.0, 1.2, 1.0, width=SRC[0], height=SRC[1],
                  transition="fade", transition_duration=0.4),
             Shot(str(d / "c.png"), "image", 0, 1.0, 1.0, width=SRC[0], height=SRC[1])]
    task = RenderTask(output=str(d / "out.mp4"), width=W, height=H, duration=3.0, shots=shots, crf=35,
                      titles=[TextOverlay("Summer sale on every coffee machine")],
                      captions=[Caption("Fresh coffee every morning, made at home", 0.2, 1.4),
                                Caption("Buy one, get one free today only", 1.6, 2.9)],
                      stickers=[Sticker(logo, W - 40, 8, 32, 32, 1.0)])
    render(task)
    return task.output


def assert_piece(got: Piece, source, scene, first, last, start, end, speed):
    """In/out within one output frame (a source frame more at a speed change), speed within 0.05."""
    assert (got.source, got.scene) == (source, scene), got
    assert abs(got.first - first) <= 1 and abs(got.last - last) <= 2, got
    assert abs(got.start - start) <= 1.01 / FPS and abs(got.end - end) <= 1.01 / FPS, got
    assert abs(got.speed - speed) <= 0.05, got


def test_a_render_gives_back_its_edit_list(rendered):
    pieces = edit_list(rendered)
    assert len(pieces) == 3, pieces
    assert_piece(pieces[0], 1, 0, 15, 39, 0.0, 1.0, 1.0)  # a hard cut: exact
    assert (pieces[0].first, pieces[0].last, pieces[0].end) == (15, 39, 1.0)
    assert_piece(pieces[1], 2, 1, 25, 42, 1.0, 1.6, 1.2)  # ends where the fade starts
    assert_piece(pieces[2], 3, 0, 0, 0, 2.0, 3.0, 0.0)  # a photo: one frame held
    assert not any(is_black(rendered))


def test_blended_frames_read_as_none_never_as_a_wrong_code(rendered):
    codes = read_codes(rendered)
    for i in WINDOW:
        a = 25 + 1.2 * (i - 25)  # shot 2's frame under the blend
        alpha = (i - WINDOW.start) / len(WINDOW)  # the photo's share
        code = codes[i]
        shot_2 = code is not None and (code.source, code.scene) == (2, 1) and abs(code.number - a) <= 1
        assert code is None or code == Frame(3, 0, 0) or shot_2, (i, code)
        if 0.3 <= alpha <= 0.7:
            assert code is None, (i, code)


def test_no_mix_of_two_codes_reads_as_a_third():
    """Cross-fades at every 5 %, and wipes (each side of the edge from a different code) across the
    frame both ways, of 40 random pairs of codes, with compression-like noise: each reads as None or
    as one of the two codes; the half-way fades always as None."""
    rng = random.Random(7)
    noise = np.random.default_rng(7)
    for _ in range(40):
        a, b = (Frame(rng.randrange(64), rng.randrange(32), rng.randrange(8192)) for _ in "ab")
        pa, pb = (code_frame(f, DECODE_SIZE)[:, :, 1].astype(np.float64) for f in (a, b))
        mixes = [(1 - t) * pa + t * pb for t in np.arange(0.05, 1.0, 0.05)]
        for edge in range(0, DECODE_SIZE[0], 5):
            mixes.append(np.concatenate([pa[:, :edge], pb[:, edge:]], axis=1))
        for edge in range(0, DECODE_SIZE[1], 5):
            mixes.append(np.concatenate([pa[:edge], pb[edge:]], axis=0))
        frames = np.clip(np.stack(mixes) + noise.normal(0, 6, (len(mixes), *pa.shape)), 0, 255)
        read = decode_gray(frames.astype(np.uint8))
        assert all(r in (None, a, b) for r in read), (a, b, read)
        assert read[8:11] == [None] * 3  # 45-55 %
