"""The media corpus (issue 12): the kinds of files real teams put in sheets, generated here, each
probed and rendered (180×320, 2 s) through the planner and the renderer; the output is checked by
its streams, duration and frame count, and by its pixels where aspect, alpha or fields matter — or
the exact error is checked."""

from __future__ import annotations

import io
import os
import subprocess

import av
import numpy as np
import pytest
from PIL import Image, ImageDraw

from sheet2video.engine.timeline.planner import JobPlanner
from sheet2video.engine.media.probe import probe
from sheet2video.engine.render import ffmpeg_exe, render
from sheet2video.errors import RenderError
from tests.media import ffmpeg

W, H, SECONDS = 180, 320, 2.0
X264 = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]


def _circle_picture(size=(160, 120), bg="white", fg="red") -> Image.Image:
    im = Image.new("RGB", size, bg)
    w, h = size
    r = min(w, h) // 3
    ImageDraw.Draw(im).ellipse((w // 2 - r, h // 2 - r, w // 2 + r, h // 2 + r), fill=fg)
    return im


def _ellipse_clip(path, size, sar, seconds=1.0, extra=()):
    """A red disc on white whose *stored* width is squeezed by ``sar``: shown right it is round."""
    num, den = (int(v) for v in sar.split("/"))
    inside = f"lt(hypot((X-W/2)*{num}/{den},Y-H/2),H/3)"  # per plane: chroma planes are half size
    disc = f"geq=lum='if({inside},81,235)':cb='if({inside},90,128)':cr='if({inside},240,128)'"
    ffmpeg("-f", "lavfi", "-i", f"color=c=white:s={size}:r=25:d={seconds}", "-vf", f"format=yuv420p,{disc},setsar={sar}",
           *extra, *X264, path)  # fmt: skip
    return path


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    d = tmp_path_factory.mktemp("corpus")
    p = lambda name: str(d / name)  # noqa: E731
    import pillow_heif

    pillow_heif.register_heif_opener()
    files = {}
    pic = _circle_picture()
    pic.save(files.setdefault("heic", p("photo.heic")), quality=70)
    pic.save(files.setdefault("avif", p("photo.avif")), quality=60)
    pillow_heif.options.GRID_TILE_SIZE = 64  # as phones save them: a grid of tiles (iPhone: 512 px)
    try:
        pic.save(files.setdefault("heic_grid", p("grid.heic")), quality=70)
    finally:
        pillow_heif.options.GRID_TILE_SIZE = 0
    pic.save(files.setdefault("webp", p("still.webp")))
    frames = [_circle_picture(fg=c) for c in ("red", "green", "blue", "yellow", "white") * 2]
    frames[0].save(files.setdefault("webp_anim", p("anim.webp")), save_all=True, append_images=frames[1:], duration=100, loop=0)
    frames[0].save(files.setdefault("gif_anim", p("anim.gif")), save_all=True, append_images=frames[1:], duration=100, loop=0)
    frames[0].save(files.setdefault("apng", p("anim.png")), save_all=True, append_images=frames[1:], duration=100, loop=0)
    pic.save(files.setdefault("gif_still", p("still5s.gif")), duration=5000)
    with open(files.setdefault("svg", p("logo.svg")), "w") as f:
        f.write('<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="100" height="50" '
                'viewBox="0 0 100 50"><rect width="100" height="50" fill="white"/>'
                '<circle cx="50" cy="25" r="20" fill="red"/></svg>\n')
    # a PNG whose transparent half holds magenta
    rgba = np.zeros((90, 160, 4), np.uint8)
    rgba[:, :80] = (255, 0, 255, 0)
    rgba[:, 80:] = (0, 200, 0, 255)
    Image.fromarray(rgba).save(files.setdefault("png_alpha", p("alpha.png")))
    # EXIF orientation 6: stored landscape, shown portrait (a red bar on the stored left = shown top)
    land = Image.new("RGB", (320, 180), "blue")
    ImageDraw.Draw(land).rectangle((0, 0, 40, 179), fill="red")
    exif = Image.Exif()
    exif[0x0112] = 6
    land.save(files.setdefault("jpg_exif", p("exif6.jpg")), exif=exif, quality=90)
    buf = io.BytesIO()
    _circle_picture((320, 240)).save(buf, "JPEG", quality=90)
    with open(files.setdefault("jpg_cut", p("cut.jpg")), "wb") as f:
        f.write(buf.getvalue()[: len(buf.getvalue()) // 2])
    Image.new("RGB", (6000, 4000), "teal").save(files.setdefault("huge", p("huge.jpg")), quality=50)
    Image.new("RGB", (2, 2), "orange").save(files.setdefault("tiny", p("tiny.png")))

    src = "testsrc2=s=160x120:r=25:d=2"
    ffmpeg("-f", "lavfi", "-i", src, *X264, "-f", "h264", files.setdefault("h264", p("raw.h264")))
    with open(files.setdefault("webm_live", p("recorder.webm")), "wb") as f:  # piped: no duration, no cues
        subprocess.run([ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i", src, "-c:v", "libvpx", "-deadline", "realtime",
                        "-b:v", "300k", "-f", "webm", "pipe:1"], stdout=f, check=True)  # fmt: skip
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=160x120:r=25:d=1", "-f", "lavfi", "-i", "sine=frequency=440:duration=3",
           *X264, "-c:a", "aac", files.setdefault("long_audio", p("long_audio.mp4")))  # fmt: skip
    _ellipse_clip(files.setdefault("dv", p("dv.mp4")), "720x576", "64/45")
    _ellipse_clip(files.setdefault("hdv", p("hdv.mp4")), "1440x1080", "4/3", seconds=0.6)
    # interlaced: a bar sweeping fast, fields woven (tinterlace), coded and flagged top field first
    ffmpeg("-f", "lavfi", "-i", "color=c=black:s=320x240:r=50:d=2", "-f", "lavfi", "-i", "color=c=white:s=40x240:r=50",
           "-filter_complex", "[0:v][1:v]overlay=x='mod(t*400,280)':y=0:shortest=1,tinterlace=mode=interleave_top,setfield=tff",
           "-flags", "+ildct+ilme", "-field_order", "tt", *X264, files.setdefault("interlaced", p("interlaced.mp4")))  # fmt: skip
    ffmpeg("-f", "lavfi", "-i", src, *X264, "-movflags", "+faststart", p("whole_fast.mp4"))
    data = open(p("whole_fast.mp4"), "rb").read()
    with open(files.setdefault("mp4_cut", p("cut_fast.mp4")), "wb") as f:
        f.write(data[: len(data) // 2])
    ffmpeg("-f", "lavfi", "-i", src, *X264, p("whole.mp4"))
    data = open(p("whole.mp4"), "rb").read()
    with open(files.setdefault("mp4_nomoov", p("cut_nomoov.mp4")), "wb") as f:
        f.write(data[: len(data) // 2])
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=330:duration=2", "-c:a", "aac", files.setdefault("audio", p("song.m4a")))
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=320x180:r=25:d=2", *X264, p("land.mp4"))
    ffmpeg("-display_rotation", "90", "-i", p("land.mp4"), "-c", "copy", files.setdefault("rotated", p("phone.mp4")))
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=160x120:r=10:d=1", "-f", "lavfi", "-i", "testsrc2=s=160x120:r=30:d=1",
           "-filter_complex", "[0:v][1:v]concat=n=2:v=1[v]", "-map", "[v]", "-fps_mode", "vfr", *X264,
           files.setdefault("vfr", p("vfr.mp4")))  # fmt: skip
    ffmpeg("-f", "lavfi", "-i", src, "-f", "lavfi", "-i", "sine=frequency=440:duration=2", "-filter:a",
           "pan=5.1|c0=c0|c1=c0|c2=c0|c3=c0|c4=c0|c5=c0", *X264, "-c:a", "aac", files.setdefault("surround", p("surround.mp4")))  # fmt: skip
    files["dir"] = str(d)
    return files


class _Resolver:
    def resolve(self, reference):
        return reference


def plan_one(path, out, volume=0.0):
    planner = JobPlanner(_Resolver(), speech=None)
    params = {
        "InputConfig": {"MediaGroupArray": [{"GroupName": "a", "MediaArray": [path], "Volume": volume}]},
        "EditingConfig": {"ProcessConfig": {"SingleShotDuration": SECONDS}},
        "OutputConfig": {"MediaURL": out, "Width": W, "Height": H},
    }
    return planner.plan(params, [out])[0]


def render_one(corpus, name, volume=0.0):
    out = os.path.join(corpus["dir"], f"out_{name}.mp4")
    task = plan_one(corpus[name], out, volume)
    render(task, preset="ultrafast")
    return task, out


def streams(out):
    """(video frames, video seconds, audio stream present) of a render, read back."""
    with av.open(out) as c:
        assert c.streams.video, f"{out}: no video stream"
        v = c.streams.video[0]
        n = sum(1 for _ in c.demux(v) if _.size)
        return n, float(v.duration * v.time_base), bool(c.streams.audio)


def frame_at(out, t=0.5) -> np.ndarray:
    with av.open(out) as c:
        for f in c.decode(video=0):
            if f.time >= t:
                return f.to_ndarray(format="rgb24").astype(int)
    raise AssertionError("no frame")


def assert_video(out, seconds):
    n, dur, _ = streams(out)
    assert n == round(seconds * 25), (n, seconds)
    assert dur == pytest.approx(seconds, abs=0.05)


def disc_extent(img: np.ndarray) -> tuple[int, int]:
    """Width and height of the red disc in a frame."""
    mask = (img[..., 0] > 150) & (img[..., 1] < 100) & (img[..., 2] < 100)
    ys, xs = np.nonzero(mask)
    return xs.max() - xs.min() + 1, ys.max() - ys.min() + 1


# ------------------------------------------------------------------ stills


@pytest.mark.parametrize("name", ["heic", "heic_grid", "avif", "webp", "gif_still"])
def test_phone_and_web_stills_are_pictures_shown_for_the_shot(corpus, name):
    info = probe(corpus[name])
    assert (info.kind, info.width, info.height, info.duration, info.grid) == ("image", 160, 120, 0.0, name == "heic_grid")
    task, out = render_one(corpus, name)
    assert task.duration == SECONDS
    assert_video(out, SECONDS)
    w, h = disc_extent(frame_at(out))
    assert abs(w - h) <= 2 and w > 50  # the disc, fitted, stays round


def test_svg_logo_is_rasterised_at_the_shown_size(corpus):
    info = probe(corpus["svg"])
    assert (info.kind, info.width, info.height) == ("image", 100, 50)
    task, out = render_one(corpus, "svg")
    assert_video(out, SECONDS)
    img = frame_at(out)
    red = (img[..., 0] > 150) & (img[..., 1] < 100)
    ys, xs = np.nonzero(red)
    # the 100×50 logo fills the 180 px width: the r=20 circle is 72 px across, round and sharp-edged
    assert xs.max() - xs.min() + 1 == pytest.approx(72, abs=3)
    assert ys.max() - ys.min() + 1 == pytest.approx(72, abs=3)


def test_png_alpha_is_composited_not_its_hidden_colour(corpus):
    task, out = render_one(corpus, "png_alpha")
    assert_video(out, SECONDS)
    img = frame_at(out)
    magenta = (img[..., 0] > 150) & (img[..., 2] > 150) & (img[..., 1] < 100)
    assert not magenta.any()
    assert ((img[..., 1] > 150) & (img[..., 0] < 80)).sum() > 1000  # the opaque green half is there


def test_exif_rotated_jpeg_is_upright(corpus):
    info = probe(corpus["jpg_exif"])
    assert (info.width, info.height, info.rotation) == (180, 320, 90)
    _, out = render_one(corpus, "jpg_exif")
    img = frame_at(out)
    top, bottom = img[5, 90], img[-5, 90]
    assert top[0] > 150 and top[2] < 100  # the red bar, stored on the left, is shown at the top
    assert bottom[2] > 150 and bottom[0] < 100


@pytest.mark.parametrize("name,size", [("huge", (6000, 4000)), ("tiny", (2, 2))])
def test_huge_and_tiny_images(corpus, name, size):
    info = probe(corpus[name])
    assert (info.kind, info.width, info.height) == ("image", *size)
    _, out = render_one(corpus, name)
    assert_video(out, SECONDS)


def test_truncated_jpeg_renders_with_a_warning(corpus):
    info = probe(corpus["jpg_cut"])
    assert info.kind == "image"
    assert info.warnings == ["cut.jpg: the picture data ends early (truncated file); the missing part shows as a flat colour"]
    _, out = render_one(corpus, "jpg_cut")
    assert_video(out, SECONDS)


# ------------------------------------------------------------------ animations


@pytest.mark.parametrize("name", ["gif_anim", "webp_anim", "apng"])
def test_animations_are_clips_of_their_real_length(corpus, name):
    info = probe(corpus[name])
    assert (info.kind, info.frames, info.duration) == ("video", 10, 1.0)
    task, out = render_one(corpus, name)
    assert task.duration == pytest.approx(1.0)
    assert_video(out, 1.0)
    # frame 0 (red disc) and frame 2 (blue disc, from 0.2 s) are both seen, each for its delay
    assert frame_at(out, 0.0)[160, 90, 0] > 150 and frame_at(out, 0.22)[160, 90, 2] > 150 > frame_at(out, 0.22)[160, 90, 0]


# ------------------------------------------------------------------ video


@pytest.mark.parametrize("name", ["h264", "webm_live"])
def test_video_without_a_container_duration_is_measured(corpus, name):
    info = probe(corpus[name])
    assert (info.kind, info.frames) == ("video", 50)
    assert info.duration == pytest.approx(2.0, abs=0.05)
    _, out = render_one(corpus, name)
    assert_video(out, SECONDS)


def test_audio_longer_than_video_plans_from_the_picture(corpus):
    info = probe(corpus["long_audio"])
    assert info.duration == pytest.approx(1.0, abs=0.05) and info.container_duration == pytest.approx(3.0, abs=0.1)
    task, out = render_one(corpus, "long_audio", volume=1.0)
    assert task.duration == pytest.approx(1.0, abs=0.05)
    n, dur, has_audio = streams(out)
    assert has_audio and n == round(task.duration * 25)


@pytest.mark.parametrize("name,shown", [("dv", (1024, 576)), ("hdv", (1920, 1080))])
def test_anamorphic_pixels_keep_a_circle_round(corpus, name, shown):
    info = probe(corpus[name])
    assert (info.width, info.height) == shown and info.sar in ("64:45", "4:3")
    _, out = render_one(corpus, name)
    w, h = disc_extent(frame_at(out, 0.2))
    assert abs(w - h) <= 2, (w, h)


def comb(img: np.ndarray) -> float:
    """Combing: how much each line differs from the mean of its neighbours."""
    y = img.mean(axis=2)
    return float(np.abs(y[1:-1] - (y[:-2] + y[2:]) / 2).mean())


def test_interlaced_video_is_deinterlaced(corpus):
    info = probe(corpus["interlaced"])
    assert info.interlaced
    task = plan_one(corpus["interlaced"], os.path.join(corpus["dir"], "out_il.mp4"))
    task.width, task.height = 320, 240  # no scaling: the fields stay lines apart
    render(task, preset="ultrafast")
    task.shots[0].interlaced = False
    task.output = os.path.join(corpus["dir"], "out_il_raw.mp4")
    render(task, preset="ultrafast")
    woven, raw = comb(frame_at(corpus["dir"] + "/out_il.mp4", 1.0)), comb(frame_at(task.output, 1.0))
    assert woven < raw / 3, (woven, raw)


def test_truncated_mp4_with_its_index_renders_what_is_there_with_a_warning(corpus):
    info = probe(corpus["mp4_cut"])
    assert len(info.warnings) == 1 and info.warnings[0].startswith("cut_fast.mp4: the file ends early (truncated?): ")
    assert 0.2 < info.duration < 1.9
    task, out = render_one(corpus, "mp4_cut")
    assert task.duration == pytest.approx(info.duration, abs=0.05)
    assert_video(out, task.duration)


def test_truncated_mp4_without_its_index_is_refused(corpus):
    with pytest.raises(RenderError) as err:
        probe(corpus["mp4_nomoov"])
    assert err.value.code == "InvalidMaterial.Corrupt"
    assert str(err.value) == "cut_nomoov.mp4: cannot read media (Invalid data found when processing input)"


def test_audio_file_as_media_is_refused(corpus):
    with pytest.raises(RenderError) as err:
        plan_one(corpus["audio"], os.path.join(corpus["dir"], "x.mp4"))
    assert err.value.code == "InvalidMaterial.Type"
    assert str(err.value) == f"{corpus['audio']} is audio, not a video or image"


def test_rotated_phone_clip_is_upright(corpus):
    info = probe(corpus["rotated"])
    assert (info.width, info.height) == (180, 320) and info.rotation in (90, 270)
    _, out = render_one(corpus, "rotated")
    assert_video(out, SECONDS)
    img = frame_at(out)
    assert img[:6].mean() > 20 and img[-6:].mean() > 20  # fills the portrait frame: no black bars


def test_vfr_clip(corpus):
    info = probe(corpus["vfr"])
    assert info.duration == pytest.approx(2.0, abs=0.05) and info.frames == 40
    _, out = render_one(corpus, "vfr")
    assert_video(out, SECONDS)


def test_surround_audio_is_mixed_down(corpus):
    _, out = render_one(corpus, "surround", volume=1.0)
    assert_video(out, SECONDS)
    with av.open(out) as c:
        assert c.streams.audio[0].codec_context.channels in (1, 2)


@pytest.mark.parametrize("name", ["heic", "avif"])
def test_heif_without_pillow_is_still_a_picture(corpus, name, monkeypatch):
    """Without a Pillow reader the file goes to PyAV: one frame in a video container is a still."""
    from sheet2video.engine.media import probe as probing

    monkeypatch.setattr(probing, "_picture", lambda path: None)
    info = probing.probe(corpus[name])
    assert (info.kind, info.width, info.height, info.duration) == ("image", 160, 120, 0.0)


def test_large_file_without_duration_is_estimated_from_its_first_packets(corpus, monkeypatch):
    """Above the size read to the end, a header-less file's length comes from its first seconds."""
    from sheet2video.engine.media import probe as probing

    monkeypatch.setattr(probing, "_MEASURE_ALL_BYTES", 1000)
    monkeypatch.setattr(probing, "_ESTIMATE_SECONDS", 0.5)
    for name in ("webm_live", "h264"):  # timestamps / none (counted at the frame rate)
        info = probing.probe(corpus[name])
        assert info.kind == "video" and info.duration == pytest.approx(2.0, rel=0.35)
        assert info.frames < 50  # it stopped reading early
