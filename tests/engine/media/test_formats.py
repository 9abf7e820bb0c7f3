"""media.formats: the demuxers the engine opens, the one each file is read with, and the pixel limits."""

from __future__ import annotations

import subprocess
from pathlib import Path

import av
import pytest
from PIL import Image

from sheet2video.engine.compose import build_command
from sheet2video.engine.ffmpeg import ffmpeg_exe
from sheet2video.engine.media import formats
from sheet2video.engine.media.probe import probe
from sheet2video.engine.render import RenderTask, Shot, render
from sheet2video.errors import RenderError
from tests.media import ffmpeg, make_image, make_tone, make_video
from tests.reliability.hostile import LoggingServer


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("formats")
    f = {
        "mov": Path(make_video(d / "clip.mp4", 1, "64x48")),
        "avi": Path(make_video(d / "clip.avi", 1, "64x48")),
        "matroska": Path(make_video(d / "clip.mkv", 1, "64x48")),
        "wav": Path(make_tone(d / "tone.wav", 1)),
        "mp3": Path(make_tone(d / "tone.mp3", 1)),
        "png_pipe": Path(make_image(d / "still.png", "64x48")),
        "jpeg_pipe": Path(make_image(d / "still.jpg", "64x48")),
        "webp_pipe": Path(make_image(d / "still.webp", "64x48")),
        "gif": Path(make_image(d / "still.gif", "64x48")),
        "bmp_pipe": Path(make_image(d / "still.bmp", "64x48")),
        "tiff_pipe": Path(make_image(d / "still.tiff", "64x48")),
    }
    frames = [Image.new("RGB", (64, 48), c) for c in ("red", "green", "blue")]
    for name, ext in (("apng", "png"), ("webp_anim", "webp")):
        f[name] = d / f"anim.{ext}"
        frames[0].save(f[name], save_all=True, append_images=frames[1:], duration=200, loop=0)
    import pillow_heif

    pillow_heif.register_heif_opener()
    f["heif"] = d / "photo.heic"
    frames[0].save(f["heif"], quality=70)
    f["svg_pipe"] = d / "logo.svg"
    f["svg_pipe"].write_text('<svg xmlns="http://www.w3.org/2000/svg" width="64" height="48"><rect width="64" height="48"/></svg>')
    return f


@pytest.mark.parametrize("name", ["mov", "avi", "matroska", "wav", "mp3", "png_pipe", "jpeg_pipe", "webp_pipe", "gif",
                                  "bmp_pipe", "tiff_pipe", "apng", "webp_anim", "heif", "svg_pipe"])
def test_the_probe_records_the_demuxer_it_checked(files, name):
    assert probe(files[name]).demuxer == ("mov" if name == "heif" else name)
    assert probe(files[name]).demuxer in formats.ALLOWED


def test_the_render_forces_that_demuxer_whatever_the_files_name(files, tmp_path):
    """A PNG saved as ``.mp4`` (a download has no suffix at all) is read as the PNG it is."""
    disguised = tmp_path / "photo 100% off.mp4"  # a name image2 would take for a pattern, an extension that lies
    disguised.write_bytes(files["png_pipe"].read_bytes())
    info = probe(disguised)
    task = RenderTask(output=str(tmp_path / "out.mp4"), width=64, height=48, duration=1.0,
                      shots=[Shot(str(disguised), "image", 0, 0, 1.0)],
                      inputs={str(disguised): {"format": info.demuxer, "identity": None}})
    argv, _ = build_command(task)
    i = argv.index(str(disguised))
    assert argv[i - 9: i + 1] == ["-protocol_whitelist", "file", "-format_whitelist", "png_pipe", "-f", "png_pipe",
                                  "-max_pixels", str(formats.DECODER_PIXELS), "-i", str(disguised)]
    assert render(task, preset="ultrafast").duration == 1.0


def test_a_task_without_recorded_formats_is_probed_before_the_render(files, tmp_path):
    task = RenderTask(output=str(tmp_path / "out.mp4"), width=64, height=48, duration=1.0,
                      shots=[Shot(str(files["mov"]), "video", 0, 1.0, 1.0)])
    render(task, preset="ultrafast")
    assert task.input_format(str(files["mov"])) == "mov"


def test_the_format_whitelist_stops_a_playlist_before_it_opens_its_entries(tmp_path):
    """``format_whitelist`` is checked after the probe, before the demuxer reads its header: the
    playlist's entry (here on an HTTP server, allowed by the protocol list) is never requested."""
    server = LoggingServer()
    try:
        playlist = tmp_path / "list.m3u8"
        playlist.write_text(f"#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\n{server.url('/seg.ts')}\n#EXT-X-ENDLIST\n")
        opened = {"protocol_whitelist": "file,http,tcp"}
        with pytest.raises(av.FFmpegError):
            av.open(str(playlist), options={**opened, "format_whitelist": ",".join(formats.ALLOWED)})
        assert server.hits() == []
        with pytest.raises(av.FFmpegError):  # without the list the playlist fetches its entry (a 404 here)
            av.open(str(playlist), options=opened)
        assert [hit.path for hit in server.hits()] == ["/seg.ts"]
    finally:
        server.close()


@pytest.mark.parametrize("name,content,code,words", [
    ("list.m3u8", "#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\nfile:///etc/hostname\n", formats.TYPE, "an HLS playlist"),
    ("list.txt", "ffconcat version 1.0\nfile 'a.mp4'\n", formats.TYPE, "an ffconcat script"),
    ("clip.mp4", "#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\nfile:///etc/hostname\n", formats.CORRUPT,
     "cannot read media"),  # FFmpeg itself takes HLS only from a .m3u8 name
    ("art.ans", "\x1b[31mred text\x1b[0m\n" * 50, formats.CORRUPT, "cannot read media"),
])
def test_files_off_the_list_are_refused_and_named(tmp_path, name, content, code, words):
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(RenderError) as err:
        probe(path)
    assert err.value.code == code and name in str(err.value) and words in str(err.value), err.value


def test_a_forced_demuxer_must_be_on_the_list(tmp_path):
    with pytest.raises(RenderError) as err:
        formats.ffmpeg_input(str(tmp_path / "x.m3u8"), "hls")
    assert err.value.code == formats.TYPE
    with pytest.raises(ValueError):
        formats.open_input(str(tmp_path / "x.m3u8"), "concat")


def test_ffmpeg_refuses_a_frame_over_max_pixels_whatever_the_header_says(tmp_path):
    """The render's decoders stop at ``DECODER_PIXELS`` (here lowered, with a 100×100 picture): the
    header is checked by the probe, the frame itself by FFmpeg (which counts its aligned buffer)."""
    picture = make_image(tmp_path / "p.png", "100x100")
    argv = [ffmpeg_exe(), "-hide_banner", "-nostdin", *formats.ffmpeg_input(picture, "png_pipe"), "-f", "null", "-"]
    argv[argv.index("-max_pixels") + 1] = "5000"
    done = subprocess.run(argv, capture_output=True, text=True)
    assert done.returncode != 0 and "max pixel count" in done.stderr
    argv[argv.index("-max_pixels") + 1] = "20000"
    assert subprocess.run(argv, capture_output=True).returncode == 0


def test_pictures_over_the_limit_are_refused_from_their_headers(tmp_path, monkeypatch):
    monkeypatch.setattr(formats, "MAX_PIXELS", 64 * 48 - 1)
    for ext in ("png", "jpg", "webp"):
        picture = make_image(tmp_path / f"p.{ext}", "64x48")
        with pytest.raises(RenderError) as err:
            probe(picture)
        assert err.value.code == formats.TOO_LARGE and "64×48" in str(err.value) and f"p.{ext}" in str(err.value)
    video = make_video(tmp_path / "v.mp4", 1, "64x48")
    with pytest.raises(RenderError) as err:
        probe(video)
    assert err.value.code == formats.TOO_LARGE and "video frame" in str(err.value)


def test_frames_beyond_the_servers_decoding_budget_are_described_by_ffmpeg(tmp_path, monkeypatch):
    """A frame the server does not decode itself (8K) is described by the FFmpeg binary in its own
    process: the same size, rotation and field order as a decoded first frame gives."""
    land = make_video(tmp_path / "land.mp4", 1, "320x180")
    ffmpeg("-display_rotation", "90", "-i", land, "-c", "copy", str(tmp_path / "phone.mp4"))
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=320x240:r=50:d=1", "-vf", "tinterlace=mode=interleave_top,setfield=tff",
           "-flags", "+ildct+ilme", "-field_order", "tt", "-c:v", "libx264", "-preset", "ultrafast",
           str(tmp_path / "fields.mp4"))  # fmt: skip
    decoded = {name: probe(tmp_path / name) for name in ("phone.mp4", "fields.mp4")}
    monkeypatch.setattr(formats, "DECODE_PIXELS", 100)
    for name, info in decoded.items():
        described = probe(tmp_path / name)
        assert (described.width, described.height, described.rotation, described.interlaced) == \
               (info.width, info.height, info.rotation, info.interlaced), name
    assert (decoded["phone.mp4"].width, decoded["phone.mp4"].rotation) == (180, 270)
    assert decoded["fields.mp4"].interlaced


def test_large_pictures_are_checked_without_decoding_them_in_the_server(tmp_path, monkeypatch):
    """Beyond the server's decoding budget a PNG's chunks are still checked (a cut file is noticed)."""
    picture = make_image(tmp_path / "p.png", "64x48")
    data = Path(picture).read_bytes()
    cut = tmp_path / "cut.png"
    cut.write_bytes(data[: len(data) - 20])
    monkeypatch.setattr(formats, "DECODE_BYTES", 100)
    assert probe(picture).warnings == []
    assert "truncated" in probe(cut).warnings[0]
