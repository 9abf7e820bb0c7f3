"""Pixel-coded test media: clips whose every frame carries its own (source, scene, frame number), and a
decoder that rebuilds the edit list of a rendered output from its pictures alone.

The code. A grid of 8 x 6 square cells in the middle band of the frame (rows 31-69 %, columns 6-94 %:
clear of a title in the top ~15 %, captions in the bottom ~20 % and a logo in a top corner), each
cell 1/9 of the width (20 px at 180x320) pure black or white. 8 cells are fixed calibration cells
(4 white, 4 black) that give the picture's black and white levels; the other 40 carry source (6 bits),
scene (5 bits), frame number (13 bits, Gray-coded so one cell changes per frame) and a 16-bit CRC.
Positions are fractions of the frame, so the code survives scaling between sizes of the same aspect,
H.264 at CRF 35 and yuv420p (cells are read as the mean of their centre, decoded at 90x160).

Blends. A transition frame is a mix a*A + (1-a)*B of two codes: where they differ the cell is grey.
A frame decodes only if every cell is within ``CLEAN`` of the calibrated black or white and the CRC
matches, so a blend reads as None; only a blend with a < CLEAN (or > 1 - CLEAN) still reads, as the
code it is almost entirely made of — never as a third code. ``CLEAN`` is wide because x264 at CRF 35
shifts whole cells by up to ~0.1 of the range (measured); ``edit_list`` then drops frames next to an
unreadable one whose greyest cell is past ``EDGE`` (a = 0.1-0.2 blends), so a piece ends within a
frame of where its transition starts. Wipes and slides mix whole cells of two codes: the CRC (2^-16
per frame) rejects those. A fade through black lowers the white level below ``MIN_CONTRAST``: None.

Around the grid each scene has its own look (hue per source and scene, brightness alternating
between scenes, diagonal stripes drifting 1/180 of the width per frame), so FFmpeg's ``scdet`` sees
a hard cut between scenes and ``freezedetect`` no freeze inside one.

Limits (measured): the zoom effects (compose.motion, 10 %) read on every frame; the pans move the grid
by up to half a cell, so about 3 frames in 4 read None (never a wrong code): leave ``AllowVfxEffect``
off in planner tests. Not supported: an output of another aspect than its source (cropped or
letterboxed grid), subheadings over the middle band.
"""

from __future__ import annotations

import colorsys
import functools
import math
import os
import subprocess
import zlib
from dataclasses import dataclass, field

import av
import numpy as np

from sheet2video.engine.render import ffmpeg_exe
from tests.media import make_clicks

__all__ = ["Frame", "Piece", "coded_clip", "coded_photo", "click_track", "read_codes", "edit_list", "is_black",
           "code_frame", "decode_gray", "gray_frames", "DECODE_SIZE", "FLASH_FRAMES", "CLEAN", "EDGE", "MIN_CONTRAST",
           "MAX_SOURCE", "MAX_SCENE", "MAX_NUMBER"]

COLS, ROWS = 8, 6
LEFT, TOP = 1 / 18, 5 / 16  # the grid's top-left corner, fractions of width / height
CELL_W, CELL_H = 1 / 9, 1 / 16  # a cell: 20x20 px at 180x320
DECODE_SIZE = (90, 160)  # every output is read at this size: cells are 10x10 px, centres 4x4 sampled
WHITE_CELLS = ((0, 0), (5, 7), (2, 3), (3, 4))  # (row, col)
BLACK_CELLS = ((0, 7), (5, 0), (2, 4), (3, 3))
DATA_CELLS = tuple((r, c) for r in range(ROWS) for c in range(COLS) if (r, c) not in WHITE_CELLS + BLACK_CELLS)
SOURCE_BITS, SCENE_BITS, NUMBER_BITS, CHECK_BITS = 6, 5, 13, 16
MAX_SOURCE, MAX_SCENE, MAX_NUMBER = (1 << SOURCE_BITS) - 1, (1 << SCENE_BITS) - 1, (1 << NUMBER_BITS) - 1
CLEAN = 0.25  # a cell must sit within this share of the black-white range of black or of white
EDGE = 0.12  # next to an unreadable frame, a frame whose greyest cell is past this counts as a blend
MIN_CONTRAST = 96  # grey levels between the calibrated black and white, else no code (black, fades)
FLASH_FRAMES = 3  # a flash: this many frames on a white background (same code, scene continues)
TIMEOUT = 300

assert len(DATA_CELLS) == SOURCE_BITS + SCENE_BITS + NUMBER_BITS + CHECK_BITS


@dataclass(frozen=True)
class Frame:
    source: int
    scene: int
    number: int  # frame index in the source file (black head frames count)
    doubt: float = field(default=0.0, compare=False, repr=False)  # the greyest cell's distance from black/white


@dataclass
class Piece:
    """A run of output frames showing one source scene, in source order."""

    source: int
    scene: int
    first: int  # source frame numbers, inclusive
    last: int
    start: float  # output seconds: first frame's time, and the time after the last frame
    end: float
    speed: float  # source frames per output frame (1.0 for a run of one frame)


# ---------------------------------------------------------------------------------------------
# coding


def _check(data: int) -> int:
    return zlib.crc32(data.to_bytes(4, "big")) & ((1 << CHECK_BITS) - 1)


def _bits(frame: Frame) -> list[int]:
    if not (0 <= frame.source <= MAX_SOURCE and 0 <= frame.scene <= MAX_SCENE and 0 <= frame.number <= MAX_NUMBER):
        raise ValueError(f"{frame} out of range")
    gray = frame.number ^ (frame.number >> 1)
    data = (frame.source << (SCENE_BITS + NUMBER_BITS)) | (frame.scene << NUMBER_BITS) | gray
    word = (data << CHECK_BITS) | _check(data)
    return [(word >> i) & 1 for i in range(len(DATA_CELLS) - 1, -1, -1)]


def _edges(size: int, origin: float, step: float, count: int) -> list[int]:
    return [round(size * (origin + i * step)) for i in range(count + 1)]


@functools.lru_cache(maxsize=8)
def _diagonal(W: int, H: int) -> np.ndarray:
    y, x = np.mgrid[0:H, 0:W]
    return x + y


def _background(W: int, H: int, source: int, scene: int, n: int) -> np.ndarray:
    """The scene's look: its own hue, bright or dark by scene parity, diagonal stripes that drift."""
    hue = (0.13 + 0.29 * source + 0.38 * scene) % 1.0
    rgb = np.array(colorsys.hsv_to_rgb(hue, *((0.5, 0.8) if scene % 2 == 0 else (0.8, 0.25)))) * 255
    stripes = 25 * np.sin(2 * math.pi * (np.arange(W + H) - n * W / 180) / (W / 7.5))  # along x + y
    colours = np.clip(rgb[None, :] + stripes[:, None], 0, 255).astype(np.uint8)
    return colours[_diagonal(W, H)]


def code_frame(frame: Frame, size=(180, 320), *, flash: bool = False) -> np.ndarray:
    """One coded picture, H x W x 3 uint8 RGB: the scene's background with the code grid on it."""
    W, H = size
    pic = np.full((H, W, 3), 255, np.uint8) if flash else _background(W, H, frame.source, frame.scene, frame.number)
    xs, ys = _edges(W, LEFT, CELL_W, COLS), _edges(H, TOP, CELL_H, ROWS)
    values = dict.fromkeys(WHITE_CELLS, 1) | dict.fromkeys(BLACK_CELLS, 0) | dict(zip(DATA_CELLS, _bits(frame)))
    for (r, c), bit in values.items():
        pic[ys[r]:ys[r + 1], xs[c]:xs[c + 1]] = 255 * bit
    return pic


def _encode(path, frames, size, fps, extra: list[str]) -> None:
    """Pipe RGB frames (an iterable of arrays) into FFmpeg; ``extra`` are the output options."""
    W, H = size
    cmd = [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24",
           "-s", f"{W}x{H}", "-r", str(fps), "-i", "-", *extra, os.fspath(path)]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        for pic in frames:
            proc.stdin.write(pic.tobytes())
        proc.stdin.close()
        err = proc.stderr.read().decode(errors="replace")
        proc.wait(timeout=TIMEOUT)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    if proc.returncode != 0:
        raise RuntimeError(f"ffmpeg failed: {' '.join(cmd)}\n{err}")


def coded_clip(path, source: int, scenes: list[float], *, size=(180, 320), fps=25,
               black_head=0.0, frozen_tail=0.0, flash_at: float | None = None) -> None:
    """An H.264 MP4 (no sound): ``black_head`` s of black, then scene k for ``scenes[k]`` s, then the
    last coded frame repeated for ``frozen_tail`` s. Frame n of the file carries (source, k, n);
    frames from ``flash_at`` s on (``FLASH_FRAMES`` of them) have a white background, same code."""
    head = round(black_head * fps)
    bounds = [head + round(sum(scenes[:k + 1]) * fps) for k in range(len(scenes))]
    flash = round(flash_at * fps) if flash_at is not None else -FLASH_FRAMES - 1
    W, H = size

    def frames():
        for n in range(head):
            yield np.zeros((H, W, 3), np.uint8)
        for n in range(head, bounds[-1]):
            scene = next(k for k, end in enumerate(bounds) if n < end)
            last = code_frame(Frame(source, scene, n), size, flash=flash <= n < flash + FLASH_FRAMES)
            yield last
        for _ in range(round(frozen_tail * fps)):
            yield last

    _encode(path, frames(), size, fps, ["-c:v", "libx264", "-preset", "ultrafast", "-crf", "18", "-pix_fmt", "yuv420p"])


def coded_photo(path, source: int, *, size=(180, 320)) -> None:
    """A still (PNG, JPEG … by the extension) coded (source, scene 0, frame 0)."""
    _encode(path, [code_frame(Frame(source, 0, 0), size)], size, 1, ["-frames:v", "1", "-q:v", "2", "-update", "1"])


def click_track(path, bpm: float, seconds: float, offset=0.0) -> list[float]:
    """Music made of clicks, one per beat (tests/media.py ``make_clicks``); the container follows
    the extension. Returns the beat times, seconds."""
    return make_clicks(path, bpm, seconds, offset=offset)


# ---------------------------------------------------------------------------------------------
# decoding


def _cell_means(gray: np.ndarray) -> np.ndarray:
    """(N, ROWS, COLS) means of the cells' centres, from (N, 160, 90) frames."""
    W, H = DECODE_SIZE
    xs, ys = _edges(W, LEFT, CELL_W, COLS), _edges(H, TOP, CELL_H, ROWS)
    out = np.empty((gray.shape[0], ROWS, COLS))
    for r in range(ROWS):
        for c in range(COLS):
            x0, x1, y0, y1 = xs[c], xs[c + 1], ys[r], ys[r + 1]
            mx, my = (x1 - x0) * 3 // 10, (y1 - y0) * 3 // 10  # the centre 40 %
            out[:, r, c] = gray[:, y0 + my:y1 - my, x0 + mx:x1 - mx].mean(axis=(1, 2))
    return out


def _read(cells: np.ndarray) -> Frame | None:
    white = np.mean([cells[p] for p in WHITE_CELLS])
    black = np.mean([cells[p] for p in BLACK_CELLS])
    if white - black < MIN_CONTRAST:
        return None
    level = (cells - black) / (white - black)
    doubt = float(np.minimum(np.abs(level), np.abs(1 - level)).max())
    if doubt > CLEAN:
        return None  # a grey cell: a blend of two codes, or not a code at all
    word = 0
    for p in DATA_CELLS:
        word = (word << 1) | int(level[p] > 0.5)
    data, check = word >> CHECK_BITS, word & ((1 << CHECK_BITS) - 1)
    if _check(data) != check:
        return None
    gray = data & MAX_NUMBER
    number = 0
    while gray:
        number ^= gray
        gray >>= 1
    return Frame(data >> (SCENE_BITS + NUMBER_BITS), (data >> NUMBER_BITS) & MAX_SCENE, number, doubt)


def decode_gray(gray: np.ndarray) -> list[Frame | None]:
    """The codes of (N, 160, 90) gray frames (``DECODE_SIZE``)."""
    return [_read(cells) for cells in _cell_means(gray.astype(np.float64))]


@functools.lru_cache(maxsize=16)
def _decoded(path: str, identity: tuple) -> tuple[float, np.ndarray]:
    with av.open(path) as c:
        rate = c.streams.video[0].average_rate
    fps = float(rate) if rate else 25.0
    W, H = DECODE_SIZE
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-i", path, "-map", "0:v:0",
           "-fps_mode", "passthrough", "-vf", f"scale={W}:{H}:flags=area,format=gray", "-f", "rawvideo", "-"]
    proc = subprocess.run(cmd, capture_output=True, timeout=TIMEOUT)
    if proc.returncode != 0:
        raise RuntimeError(f"ffmpeg failed: {' '.join(cmd)}\n{proc.stderr.decode(errors='replace')}")
    gray = np.frombuffer(proc.stdout, np.uint8).reshape(-1, H, W)
    gray.setflags(write=False)
    return fps, gray


def gray_frames(mp4) -> tuple[float, np.ndarray]:
    """(fps, (N, 160, 90) uint8 gray frames) of a video or image, decoded once per file version."""
    path = os.path.abspath(os.fspath(mp4))
    st = os.stat(path)
    return _decoded(path, (st.st_ino, st.st_size, st.st_mtime_ns))


def read_codes(mp4) -> list[Frame | None]:
    """One entry per output frame: its code, or None (black, a blend, anything unreadable)."""
    return decode_gray(gray_frames(mp4)[1])


def is_black(mp4) -> list[bool]:
    """Per frame: is the middle band (25-75 % of the height, where the pictures are) black — 98 % of
    its pixels darker than 10 % grey, like ``blackdetect``'s defaults (captions and titles do not count)."""
    _, gray = gray_frames(mp4)
    H = gray.shape[1]
    band = gray[:, H // 4:H * 3 // 4]
    return [bool(x) for x in (band <= 40).mean(axis=(1, 2)) >= 0.98]


def _without_blend_edges(codes: list[Frame | None]) -> list[Frame | None]:
    """``codes`` with the doubtful frames next to unreadable ones (the faint ends of a blend) unread."""
    codes = list(codes)
    changed = True
    while changed:
        changed = False
        for i, code in enumerate(codes):
            beside_none = (i > 0 and codes[i - 1] is None) or (i + 1 < len(codes) and codes[i + 1] is None)
            if code is not None and code.doubt > EDGE and beside_none:
                codes[i], changed = None, True
    return codes


def edit_list(mp4, *, max_step: int = 2) -> list[Piece]:
    """The pieces of ``mp4`` in output order. A piece ends at an unreadable frame, a change of source
    or scene, or a frame number that goes back or forward by more than ``max_step`` (2 covers
    speeds up to 2x; 0, a repeated frame, continues the piece: slow motion, a frozen tail). Frames
    at the faint ends of a transition are left out (``EDGE``); ``speed`` is the least-squares slope of
    the run's frame numbers, in source frames per output frame."""
    fps, gray = gray_frames(mp4)
    pieces: list[tuple[int, list[Frame]]] = []  # (first output index, frames)
    prev = None
    for i, code in enumerate(_without_blend_edges(decode_gray(gray))):
        joins = (code is not None and prev is not None and (code.source, code.scene) == (prev.source, prev.scene)
                 and 0 <= code.number - prev.number <= max_step)
        if joins:
            pieces[-1][1].append(code)
        elif code is not None:
            pieces.append((i, [code]))
        prev = code
    out = []
    for i, run in pieces:
        a, b = run[0], run[-1]
        speed = float(np.polyfit(np.arange(len(run)), [f.number for f in run], 1)[0]) if len(run) > 1 else 1.0
        out.append(Piece(a.source, a.scene, a.number, b.number, i / fps, (i + len(run)) / fps, speed))
    return out
