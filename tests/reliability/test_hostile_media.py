"""Hostile media files against a shared engine (issue [shield] §1 media inputs, §4 pixel budgets): an
attacker holds one API key and can place files in the media root (or have the engine download them).

* Playlists and scripts: an HLS playlist, an ffconcat script and a nested playlist inside the media
  root, each naming the red clip OUTSIDE the root by ``file://``, are refused; no output shows red.
* Swaps: a file probed once and then replaced by a DASH manifest (a new file, or the same inode
  rewritten to the same size and mtime) is never rendered on the strength of the earlier probe.
* Pixels: a 256-megapixel PNG inside a one-frame AVI (its header honest, or claiming 320×240), an
  AVI whose one frame is 150 MB, and PNGs whose headers claim 12000×12000 or 20000×20000 are
  refused before the server decodes or reads them; the server's peak RSS over the job is measured
  (printed) and must stay under 200 MB above idle.
"""

from __future__ import annotations

import os
import struct
import threading
import time
import zlib
from pathlib import Path

import pytest
import requests

from sheet2video.engine.media.probe import probe
from sheet2video.engine.render import render
from sheet2video.engine.timeline.planner import JobPlanner
from sheet2video.errors import RenderError
from tests.media import make_video
from tests.reliability.hostile import (W, H, hostile_media, logging_server, out_cfg, red_picture,  # noqa: F401
                                       shared_engine, shows_red, wait_job)

RSS_BUDGET_MB = 200


@pytest.fixture(scope="module")
def engine(tmp_path_factory, hostile_media):
    with shared_engine(tmp_path_factory.mktemp("engine-data"), hostile_media) as env:
        warm = wait_job(env.client, env.client.submit_batch_job(input_config={"MediaArray": ["clips/ok.png"]},
                                                               output_config=out_cfg("warm")))
        assert warm["Status"] == "Finished", warm  # fonts, codecs and threads loaded: the idle the budget counts from
        yield env


def secret_clip(red_picture: Path) -> Path:
    return red_picture.parent / "secret.mp4"  # the red clip beside the red picture, outside the root


def run_job(env, reference: str, name: str) -> dict:
    return wait_job(env.client, env.client.submit_batch_job(input_config={"MediaArray": [reference]},
                                                           output_config=out_cfg(name)))


def assert_refused(job: dict, tmp_path: Path, codes: tuple[str, ...], *words: str) -> dict:
    """The job failed with one of ``codes`` and a message holding ``words``; no output shows red."""
    sub = job["SubJobList"][0]
    if sub.get("MediaURL"):  # rendered after all: was the secret in it?
        video = tmp_path / "leaked.mp4"
        video.write_bytes(requests.get(sub["MediaURL"], timeout=60).content)
        assert not shows_red(video), f"an output shows the file outside the media root: {sub}"
    assert job["Status"] == "Failed", job
    assert sub["ErrorCode"] in codes, sub
    for word in words:
        assert word in sub["ErrorMessage"], sub
    return sub


# ------------------------------------------------------------------------------ playlists, scripts


def hls(target: Path) -> str:
    return f"#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\nfile://{target}\n#EXT-X-ENDLIST\n"


@pytest.mark.parametrize("kind", ["playlist", "ffconcat", "nested"])
def test_playlists_and_scripts_naming_files_outside_the_root_are_refused(engine, hostile_media, red_picture,
                                                                         tmp_path, kind):
    folder = hostile_media / f"h-{kind}"
    folder.mkdir()
    (folder / "leak.m3u8").write_text(hls(secret_clip(red_picture)))
    (folder / "master.m3u8").write_text("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=100000\nleak.m3u8\n")
    (folder / "list.mov").write_text("ffconcat version 1.0\nfile 'master.m3u8'\n")  # any name: read by content
    reference = {"playlist": "leak.m3u8", "ffconcat": "list.mov", "nested": "master.m3u8"}[kind]
    job = run_job(engine, f"h-{kind}/{reference}", f"h-{kind}")
    sub = assert_refused(job, tmp_path, ("InvalidMaterial.Type",), reference, "is not media")
    assert ("ffconcat" if kind == "ffconcat" else "HLS playlist") in sub["ErrorMessage"], sub


def test_a_downloaded_playlist_is_refused_whatever_its_url_says(tmp_path, hostile_media, red_picture, logging_server):
    """``http://…/x.m3u8`` from a server the admin opened: the downloaded bytes are probed before
    they enter the cache (named from what they are, never from the URL), the playlist is refused by
    its content, and the red clip outside the root is never read."""
    playlist = hls(secret_clip(red_picture)).encode()
    logging_server.routes["/x.m3u8"] = (200, {"Content-Type": "application/vnd.apple.mpegurl"}, playlist)
    logging_server.routes["/x.mp4"] = (200, {"Content-Type": "video/mp4"}, playlist)
    with shared_engine(tmp_path / "data", hostile_media, allow_fetch=(f"127.0.0.1:{logging_server.port}",)) as env:
        for path in ("/x.m3u8", "/x.mp4"):
            job = run_job(env, logging_server.url(path), f"dl{path[3:]}")
            assert_refused(job, tmp_path, ("InvalidMaterial.NotFound",), "cannot fetch")  # the uniform sentence
        assert len(logging_server.hits("/x.m3u8")) == len(logging_server.hits("/x.mp4")) == 1  # fetched, then refused
        assert list((tmp_path / "data" / "cache" / "downloads").iterdir()) == []  # never cached


# ------------------------------------------------------------------------------ swapped after a probe


def dash(target: Path, size: int | None = None) -> bytes:
    """A DASH manifest naming ``target``, padded (an XML comment) to ``size`` bytes when given."""
    text = ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" mediaPresentationDuration="PT2S" '
            'minBufferTime="PT1S" profiles="urn:mpeg:dash:profile:isoff-on-demand:2011"><Period duration="PT2S">'
            '<AdaptationSet mimeType="video/mp4" contentType="video"><Representation id="1" bandwidth="100000" '
            f'width="320" height="240" codecs="avc1.42c00d"><BaseURL>file://{target}</BaseURL></Representation>'
            '</AdaptationSet></Period></MPD>\n').encode()
    if size is not None:
        assert size >= len(text) + 7, "the clip is smaller than the manifest"
        text += b"<!--" + b" " * (size - len(text) - 7) + b"-->"
    return text


def test_a_file_swapped_for_a_manifest_after_its_probe_is_probed_again(engine, hostile_media, red_picture, tmp_path):
    """The engine's probe cache: the second job names the same path, now a DASH manifest."""
    clip = hostile_media / "swap" / "clip.mp4"
    clip.parent.mkdir()
    make_video(clip, 2, "320x240", color="blue")
    first = run_job(engine, "swap/clip.mp4", "swap-1")
    assert first["Status"] == "Finished", first  # probed, cached
    swapped = clip.with_name("new.mp4")
    swapped.write_bytes(dash(secret_clip(red_picture)))
    os.replace(swapped, clip)
    assert_refused(run_job(engine, "swap/clip.mp4", "swap-2"), tmp_path, ("InvalidMaterial.Type", "InvalidMaterial.Corrupt"),
                   "clip.mp4")


class RootResolver:
    def __init__(self, root: Path):
        self.root = root

    def resolve(self, reference: str) -> Path:
        return self.root / reference


def plan_one(root: Path, reference: str, out: Path):
    planner = JobPlanner(RootResolver(root), speech=None)
    params = {"InputConfig": {"MediaGroupArray": [{"GroupName": "a", "MediaArray": [reference]}]},
              "EditingConfig": {"ProcessConfig": {"SingleShotDuration": 2}},
              "OutputConfig": {"MediaURL": str(out), "Width": W, "Height": H}}
    return planner.plan(params, [str(out)])[0]


@pytest.mark.parametrize("how", ["replaced", "rewritten in place, same size and mtime"])
def test_a_file_swapped_between_plan_and_render_is_not_rendered(red_picture, tmp_path, how):
    root = tmp_path / "root"
    root.mkdir()
    clip = root / "clip.mp4"
    make_video(clip, 2, "320x240", color="blue")
    out = tmp_path / "out" / "v.mp4"
    task = plan_one(root, "clip.mp4", out)
    manifest = dash(secret_clip(red_picture), clip.stat().st_size)
    if how == "replaced":
        (root / "new").write_bytes(manifest)
        os.replace(root / "new", clip)
    else:  # the same inode, size and mtime: only the demuxer the probe checked tells them apart
        before = clip.stat()
        with open(clip, "r+b") as fh:
            fh.write(manifest)
        os.utime(clip, ns=(before.st_atime_ns, before.st_mtime_ns))
        assert (clip.stat().st_ino, clip.stat().st_size, clip.stat().st_mtime_ns) == \
               (before.st_ino, before.st_size, before.st_mtime_ns)
    try:
        render(task, preset="ultrafast")
    except RenderError as error:
        assert "clip.mp4" in str(error) and error.code.startswith("InvalidMaterial"), error
    else:
        pytest.fail(f"rendered a file swapped after its probe (shows red: {shows_red(out)})")
    assert not out.exists()


# ------------------------------------------------------------------------------ pixels


def png(width: int, height: int, rows: bool = True) -> bytes:
    """A 1-bit palette PNG (blue: not the secret's red), cheap to write at any size; without ``rows``
    only its header."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    out = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 1, 3, 0, 0, 0))
    out += chunk(b"PLTE", bytes([0, 0, 255]))
    if rows:
        z = zlib.compressobj(9)
        row = bytes(1 + (width + 7) // 8)
        out += chunk(b"IDAT", b"".join(z.compress(row) for _ in range(height)) + z.flush())
    return out + chunk(b"IEND", b"")


def write_avi(path: Path, picture: bytes, width: int, height: int, padding: int = 0) -> None:
    """A one-frame AVI whose video is ``picture`` (a PNG, fourcc MPNG) followed by ``padding`` zero
    bytes in the same chunk (written in pieces), its headers saying width×height."""
    def chunk(kind: bytes, data: bytes, size: int | None = None) -> bytes:
        return kind + struct.pack("<I", len(data) if size is None else size) + data

    def listed(kind: bytes, *parts: bytes) -> bytes:
        return chunk(b"LIST", kind + b"".join(parts))

    frame = len(picture) + padding + (len(picture) + padding) % 2
    avih = struct.pack("<10I4I", 40000, 0, 0, 0x10, 1, 0, 1, frame, width, height, 0, 0, 0, 0)
    strh = b"vidsMPNG" + struct.pack("<IHHIIIIIIiI4h", 0, 0, 0, 0, 1, 25, 0, 1, frame, -1, 0, 0, 0, width, height)
    strf = struct.pack("<IiiHH4sIiiII", 40, width, height, 1, 24, b"MPNG", width * height * 3, 0, 0, 0, 0)
    head = b"AVI " + listed(b"hdrl", chunk(b"avih", avih), listed(b"strl", chunk(b"strh", strh), chunk(b"strf", strf)))
    idx1 = chunk(b"idx1", b"00dc" + struct.pack("<III", 0x10, 4, len(picture) + padding))
    movi = 4 + 8 + frame
    with open(path, "wb") as fh:
        fh.write(b"RIFF" + struct.pack("<I", len(head) + 8 + movi + len(idx1)) + head)
        fh.write(b"LIST" + struct.pack("<I", movi) + b"movi" + chunk(b"00dc", picture, len(picture) + padding))
        zeros = bytes(1 << 20)
        for left in range(frame - len(picture), 0, -len(zeros)):
            fh.write(zeros[:left])
        fh.write(idx1)


class PeakRss:
    """This process's peak resident memory over a block, in MB above its start: the kernel's own high
    water mark, reset first (``/proc/self/clear_refs``), else sampled every 2 ms."""

    def __enter__(self):
        self.start = self._now("VmRSS")
        try:
            with open("/proc/self/clear_refs", "w") as fh:
                fh.write("5")
            self._sampler = None
        except OSError:
            self._peak, self._stop = self.start, threading.Event()
            self._sampler = threading.Thread(target=self._sample, daemon=True)
            self._sampler.start()
        return self

    def __exit__(self, *exc):
        if self._sampler is None:
            self.peak = self._now("VmHWM")
        else:
            self._stop.set()
            self._sampler.join()
            self.peak = self._peak
        self.delta = self.peak - self.start
        return False

    def _sample(self):
        while not self._stop.wait(0.002):
            self._peak = max(self._peak, self._now("VmRSS"))

    @staticmethod
    def _now(field: str) -> float:
        with open("/proc/self/status") as fh:
            line = next(line for line in fh if line.startswith(field + ":"))
        return int(line.split()[1]) / 1024


@pytest.mark.parametrize("header", ["honest", "claims 320x240"])
def test_a_256_megapixel_png_in_an_avi_is_refused_before_the_server_decodes_it(engine, hostile_media, tmp_path, header):
    folder = hostile_media / f"bomb-{header[:6]}"
    folder.mkdir()
    size = (16000, 16000) if header == "honest" else (320, 240)
    write_avi(folder / "frame.avi", png(16000, 16000), *size)
    with PeakRss() as rss:
        job = run_job(engine, f"{folder.name}/frame.avi", folder.name)
    print(f"\n256 MP PNG in an AVI ({header}): server peak RSS +{rss.delta:.0f} MB over the job")
    assert_refused(job, tmp_path, ("InvalidMaterial.TooLarge", "InvalidMaterial.Corrupt"), "frame.avi")
    if header == "honest":
        assert "megapixels" in job["SubJobList"][0]["ErrorMessage"]
    assert rss.delta < RSS_BUDGET_MB, f"the server grew {rss.delta:.0f} MB"


def test_a_frame_the_size_of_the_whole_file_is_not_read_into_the_server(engine, hostile_media, tmp_path):
    """An AVI whose one chunk holds 150 MB: libav in the server allocates no piece that large."""
    (hostile_media / "chunk").mkdir()
    write_avi(hostile_media / "chunk" / "frame.avi", png(320, 240), 320, 240, padding=150 << 20)
    with PeakRss() as rss:
        job = run_job(engine, "chunk/frame.avi", "chunk")
    print(f"\nAVI with a 150 MB chunk: server peak RSS +{rss.delta:.0f} MB over the job")
    assert_refused(job, tmp_path, ("InvalidMaterial.Corrupt",), "frame.avi")
    assert rss.delta < RSS_BUDGET_MB, f"the server grew {rss.delta:.0f} MB"


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")  # the probe refuses it right after
@pytest.mark.parametrize("claim", [(12000, 12000), (20000, 20000)])
def test_a_png_whose_header_claims_too_many_pixels_is_refused_from_its_header(engine, hostile_media, tmp_path, claim):
    name = f"claim{claim[0]}.png"
    (hostile_media / name).write_bytes(png(*claim, rows=claim[0] < 15000))
    with PeakRss() as rss:
        job = run_job(engine, name, f"claim{claim[0]}")
    print(f"\nPNG claiming {claim[0]}×{claim[1]}: server peak RSS +{rss.delta:.0f} MB over the job")
    assert_refused(job, tmp_path, ("InvalidMaterial.TooLarge",), name, "megapixels", "at most 50")
    assert rss.delta < RSS_BUDGET_MB, f"the server grew {rss.delta:.0f} MB"


def test_the_largest_accepted_pictures_stay_within_the_servers_budget(tmp_path):
    """48 MP phone-sized stills in every picture format are accepted, and probing each costs the
    server less than the budget (they are described from their headers, decoded by FFmpeg)."""
    from PIL import Image
    import pillow_heif

    pillow_heif.register_heif_opener()
    picture = Image.new("RGB", (8000, 6000), "teal")
    for fmt in ("png", "jpg", "webp", "heic", "tiff"):
        path = tmp_path / f"p48.{fmt}"
        picture.save(path, **({"quality": 50} if fmt in ("jpg", "webp", "heic") else {}))
        started = time.monotonic()
        with PeakRss() as rss:
            info = probe(path)
        print(f"\n48 MP {fmt}: probe +{rss.delta:.0f} MB, {time.monotonic() - started:.2f} s")
        assert (info.kind, info.width, info.height) == ("image", 8000, 6000)
        assert rss.delta < RSS_BUDGET_MB, f"probing a 48 MP {fmt} grew the server {rss.delta:.0f} MB"
