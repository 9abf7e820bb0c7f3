"""Real FFmpeg renders at 180x320, 2-4 s, from media generated here; outputs probed with PyAV."""

from __future__ import annotations

import json
import math
import os
import threading

import av
import numpy as np
import pytest

from sheet2video.engine.text import font_files
from sheet2video.engine.compose.audio import DUCK_DB
from sheet2video.engine.render import (
    Music,
    RenderTask,
    Shot,
    SpeechClip,
    Sticker,
    TextOverlay,
    build_command,
    escape_filter_value,
    ffmpeg_exe,
    render,
)
from sheet2video.errors import RenderError
from tests.media import ffmpeg, make_image, make_tone, make_video
from tests.reliability.conftest import wait_until

W, H = 180, 320


# ---------------------------------------------------------------------------------------------
# fixtures and probing helpers


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    d = tmp_path_factory.mktemp("media")
    m = {
        "dir": d,
        "tone_video": make_video(d / "tone.mp4", 3, with_audio=440),
        "blue_video": make_video(d / "blue.mp4", 2, color="blue"),
        "short_video": make_video(d / "short.mp4", 1, color="green"),
        "red_png": make_image(d / "red.png", "64x64", "red"),
        "green_jpg": make_image(d / "green.jpg", "320x240", "green"),
        "music": make_tone(d / "music.wav", 1.3, 220),
        "speech": make_tone(d / "speech.wav", 1.0, 1000),
    }
    # 2 s red then 2 s blue: tells where in the source a frame comes from.
    rb = str(d / "redblue.mp4")
    ffmpeg(
        "-f", "lavfi", "-i", "color=c=red:s=320x240:r=25:d=2",
        "-f", "lavfi", "-i", "color=c=blue:s=320x240:r=25:d=2",
        "-filter_complex", "[0:v][1:v]concat=n=2:v=1:a=0", "-c:v", "libx264", "-preset", "ultrafast",
        "-pix_fmt", "yuv420p", rb,
    )  # fmt: skip
    m["redblue"] = rb
    return m


def out_path(tmp_path, name="out.mp4") -> str:
    return str(tmp_path / name)


def task_for(output, shots, duration=2.0, **kw) -> RenderTask:
    return RenderTask(output=output, width=W, height=H, duration=duration, shots=shots, **kw)


def video_shot(path, duration=2.0, start=0.0, source_duration=None, volume=0.0, has_audio=False) -> Shot:
    return Shot(path, "video", start, duration if source_duration is None else source_duration, duration, volume, has_audio)


def streams(path):
    with av.open(path) as c:
        v = c.streams.video[0]
        a = c.streams.audio[0] if c.streams.audio else None
        info = {
            "duration": c.duration / 1e6,
            "vcodec": v.codec_context.name,
            "width": v.codec_context.width,
            "height": v.codec_context.height,
            "pix_fmt": v.codec_context.pix_fmt,
            "vdur": float(v.duration * v.time_base),
            "frames": v.frames,
            "acodec": a.codec_context.name if a else None,
            "rate": a.codec_context.sample_rate if a else None,
            "channels": a.codec_context.channels if a else None,
            "adur": float(a.duration * a.time_base) if a else None,
        }
    return info


def audio(path) -> np.ndarray:
    with av.open(path) as c:
        chunks = [f.to_ndarray() for f in c.decode(audio=0)]
    return np.concatenate(chunks, axis=1)  # (channels, samples), float planar


def db(samples: np.ndarray) -> float:
    rms = float(np.sqrt(np.mean(np.square(samples, dtype=np.float64)))) if samples.size else 0.0
    return 20 * math.log10(rms) if rms > 0 else -math.inf


def frame(path, index=0) -> np.ndarray:
    with av.open(path) as c:
        for i, f in enumerate(c.decode(video=0)):
            if i == index:
                return f.to_ndarray(format="rgb24").astype(np.int16)
    raise AssertionError(f"no frame {index} in {path}")


def assert_user_visible_basics(path, duration):
    s = streams(path)
    assert s["vcodec"] == "h264" and s["acodec"] == "aac"
    assert (s["width"], s["height"]) == (W, H)
    assert s["pix_fmt"] == "yuv420p"
    assert s["rate"] == 44100 and s["channels"] == 2
    assert abs(s["duration"] - duration) <= 0.1, s
    assert abs(s["vdur"] - duration) <= 0.1, s
    assert abs(s["adur"] - duration) <= 0.1, s
    return s


# ---------------------------------------------------------------------------------------------
# output format, duration, audio


def test_muted_source_gives_silent_h264_aac_of_exact_duration(media, tmp_path):
    out = out_path(tmp_path)
    task = task_for(out, [video_shot(media["tone_video"], 2.0, start=0.5, has_audio=True, volume=0.0)])
    result = render(task)
    assert result.path == out and os.path.isfile(out)
    s = assert_user_visible_basics(out, 2.0)
    assert s["frames"] == 50
    assert db(audio(out)) < -60
    assert sorted(os.listdir(tmp_path)) == ["out.jpg", "out.mp4"]  # the poster; no temp or filtergraph files left
    assert result.poster == str(tmp_path / "out.jpg")


def test_poster_is_a_frame_a_third_of_the_way_in(media, tmp_path):
    out = out_path(tmp_path, "clip_1.mp4")
    # 2 s blue, 2 s red, 2 s blue: the poster (at 2 s of 6 s) must come from the red middle shot
    shots = [video_shot(media["blue_video"], 1.9), video_shot(media["redblue"], 2.2), video_shot(media["blue_video"], 1.9)]
    result = render(task_for(out, shots, duration=6.0))
    assert result.poster == str(tmp_path / "clip_1.jpg")
    with av.open(result.poster) as c:
        picture = next(c.decode(video=0)).to_ndarray(format="rgb24").astype(int)
    assert picture.shape[:2] == (H, W)  # small renders keep their size (posters are at most 480 wide)
    r, g, b = picture.reshape(-1, 3).mean(axis=0)
    assert r > 180 and g < 60 and b < 60


def test_source_audio_is_audible_with_volume(media, tmp_path):
    out = out_path(tmp_path)
    render(task_for(out, [video_shot(media["tone_video"], 2.0, has_audio=True, volume=1.0)]))
    assert_user_visible_basics(out, 2.0)
    assert db(audio(out)) > -30


def test_loud_mix_is_limited_not_clipped(media, tmp_path):
    out = out_path(tmp_path)
    shot = video_shot(media["tone_video"], 2.0, has_audio=True, volume=10.0)  # 10x a -18 dBFS tone
    render(task_for(out, [shot], speech=[SpeechClip(media["speech"], 0.0, 1.0, volume=4.0)]), threads=1, preset="ultrafast")
    samples = audio(out)
    assert db(samples) > -10
    assert float(np.abs(samples).max()) < 1.0


def test_speech_and_looped_music_are_audible(media, tmp_path):
    out = out_path(tmp_path)
    task = task_for(
        out,
        [video_shot(media["blue_video"], 2.0), Shot(media["red_png"], "image", 0, 0, 1.0)],
        duration=3.0,
        speech=[SpeechClip(media["speech"], 0.5, 1.0)],
        music=Music(media["music"], volume=0.3),
    )
    render(task)
    assert_user_visible_basics(out, 3.0)
    samples = audio(out)
    assert db(samples) > -30
    # music (1.3 s long) is looped: still audible after its first pass, then faded out at the end
    assert db(samples[:, 66150:88200]) > -40
    assert db(samples[:, -4410:]) < db(samples[:, 66150:88200]) - 15


def _tone_level(samples: np.ndarray, freq: float, start: float, end: float) -> float:
    mono = samples.mean(axis=0)[int(start * 44100) : int(end * 44100)]
    spectrum = np.abs(np.fft.rfft(mono * np.hanning(mono.size)))
    freqs = np.fft.rfftfreq(mono.size, 1 / 44100)
    return float(spectrum[np.abs(freqs - freq) < 15].max())


def test_music_is_ducked_under_speech(media, tmp_path):
    levels = {}
    for duck in (True, False):
        out = out_path(tmp_path, f"duck-{duck}.mp4")
        render(
            task_for(
                out,
                [video_shot(media["blue_video"], 2.0)],
                duration=3.0,
                speech=[SpeechClip(media["speech"], 1.0, 1.0)],
                music=Music(media["music"], volume=0.5, duck=duck),
            )
        )
        samples = audio(out)
        levels[duck] = _tone_level(samples, 220, 1.3, 1.9)  # music under the speech
        # speech itself is there at 1000 Hz in both
        assert _tone_level(samples, 1000, 1.3, 1.9) > 10 * _tone_level(samples, 1000, 2.4, 2.9)
    dip = 20 * math.log10(levels[False] / levels[True])  # a fixed dip timed from the speech (compose/audio.py)
    assert DUCK_DB - 1 <= dip <= DUCK_DB + 1, dip


def test_speed_change_keeps_exact_duration_and_plays_faster(media, tmp_path):
    out = out_path(tmp_path)
    # 4 s of source (2 s red, 2 s blue) squeezed into 2 s: the second half of the output is blue.
    render(task_for(out, [video_shot(media["redblue"], 2.0, source_duration=4.0)]))
    s = assert_user_visible_basics(out, 2.0)
    assert s["frames"] == 50
    early, late = frame(out, 10)[H // 2, W // 2], frame(out, 40)[H // 2, W // 2]
    assert early[0] > 150 and early[2] < 100, early  # red
    assert late[2] > 150 and late[0] < 100, late  # blue


def test_short_source_and_short_shots_are_padded_to_duration(media, tmp_path):
    out = out_path(tmp_path)
    # the 1 s source is asked for 2 s of material; and the shots add up to 2.5 s of a 3 s video
    shots = [video_shot(media["short_video"], 2.0), Shot(media["red_png"], "image", 0, 0, 0.5)]
    render(task_for(out, shots, duration=3.0))
    s = assert_user_visible_basics(out, 3.0)
    assert s["frames"] == 75
    assert frame(out, 45)[H // 2, W // 2][1] > 100  # frame at 1.8 s: green, cloned from the 1 s source
    assert frame(out, 74)[H // 2, W // 2][0] > 150  # the last frame: the red image, extended


def test_many_shots_do_not_drift(media, tmp_path):
    out = out_path(tmp_path)
    shots = [Shot(media["red_png"] if i % 2 else media["green_jpg"], "image", 0, 0, 0.333) for i in range(9)]
    render(task_for(out, shots, duration=3.0, fps=30))
    s = streams(out)
    assert s["frames"] == 90 and abs(s["duration"] - 3.0) <= 0.1


# ---------------------------------------------------------------------------------------------
# titles and fonts


def test_title_changes_pixels(media, tmp_path):
    plain, titled = out_path(tmp_path, "plain.mp4"), out_path(tmp_path, "title.mp4")
    render(task_for(plain, [video_shot(media["blue_video"])]))
    render(task_for(titled, [video_shot(media["blue_video"])], titles=[TextOverlay("Grand opening")]))
    a, b = frame(plain, 5), frame(titled, 5)
    diff = np.abs(a - b).max(axis=2) > 60
    assert diff.sum() > 100
    rows = np.nonzero(diff.any(axis=1))[0]
    assert rows.max() < H // 2  # the title sits in the upper part of the frame


# Scripts, emoji, fonts, styling and stacking of titles: tests/engine/compose/test_titles.py


def test_long_title_is_wrapped_or_shrunk_to_fit(media, tmp_path):
    text = "An exceptionally long campaign headline that never fits on one line of a phone video"
    out = out_path(tmp_path)
    render(task_for(out, [video_shot(media["blue_video"])], titles=[TextOverlay(text)]))
    # nothing drawn in the outer columns (text stays inside the frame)
    plain = out_path(tmp_path, "plain.mp4")
    render(task_for(plain, [video_shot(media["blue_video"])]))
    diff = np.abs(frame(out, 3) - frame(plain, 3)).max(axis=2) > 60
    assert diff.sum() > 200
    assert not diff[:, :2].any() and not diff[:, -2:].any()


NASTY = "It's 50% off: \"deals\", [today] \\ only; a=b, 100%% {x} \\' \\\\n"


def test_escaping_draws_exactly_the_given_text(tmp_path):
    """Inline escaped text draws the same pixels as the raw text read from a file."""
    font = font_files.font_for("x")
    textfile = tmp_path / "text.txt"
    textfile.write_text(NASTY, encoding="utf-8")
    common = f"fontfile={escape_filter_value(font)}:expansion=none:fontsize=16:fontcolor=white:x=4:y=10"
    shots = {}
    for name, source in (("inline", f"text={escape_filter_value(NASTY)}"), ("file", f"textfile={escape_filter_value(str(textfile))}")):
        shots[name] = str(tmp_path / f"{name}.png")
        ffmpeg("-f", "lavfi", "-i", "color=c=black:s=480x40", "-vf", f"drawtext={common}:{source}", "-frames:v", "1", "-update", "1", shots[name])
    a = frame(shots["inline"])
    assert (a > 100).sum() > 200  # something was drawn
    assert np.array_equal(a, frame(shots["file"]))


def test_title_with_special_characters_renders(media, tmp_path):
    out = out_path(tmp_path)
    titles = [TextOverlay(NASTY), TextOverlay("a:b, [c] 'd' 100% \\e", level=1, style={"FontColor": "#ffcc00", "FontSize": 12, "Y": 0.6})]
    render(task_for(out, [video_shot(media["blue_video"])], titles=titles))
    assert_user_visible_basics(out, 2.0)


def test_bad_font_colour_is_a_clear_error(media, tmp_path):
    task = task_for(out_path(tmp_path), [video_shot(media["blue_video"])], titles=[TextOverlay("x", style={"FontColor": "red:x"})])
    with pytest.raises(RenderError) as err:
        build_command(task)
    assert err.value.code == "InvalidParameter.FontColor"


def test_font_lookup(monkeypatch, tmp_path):
    latin = font_files.font_for("Hello")
    assert os.path.basename(latin) == "DejaVuSans.ttf"
    assert font_files.font_for("盒马") != latin
    monkeypatch.setenv(font_files.CJK_ENV, latin)  # any existing file is taken as given
    assert font_files.font_for("盒马") == latin
    monkeypatch.setenv(font_files.CJK_ENV, str(tmp_path / "missing.ttf"))
    with pytest.raises(RenderError) as err:
        font_files.font_for("盒马")
    assert err.value.code == "InvalidParameter.Font"
    assert font_files.font_for("plain latin") == latin  # Latin text does not need it


def test_missing_cjk_font_says_how_to_install_one(monkeypatch):
    monkeypatch.delenv(font_files.CJK_ENV, raising=False)
    monkeypatch.setattr(font_files, "_fc_list", lambda lang: [])
    monkeypatch.setattr(font_files, "_CJK_WELL_KNOWN", ())
    font_files._cjk_font.cache_clear()
    try:
        with pytest.raises(RenderError) as err:
            font_files.font_for("开业")
    finally:
        font_files._cjk_font.cache_clear()
    assert err.value.code == "InvalidParameter.Font"
    assert "apt-get install fonts-wqy-microhei" in str(err.value) and font_files.CJK_ENV in str(err.value)
    assert "\n" not in str(err.value)


# ---------------------------------------------------------------------------------------------
# stickers, background image, images


def test_sticker_is_overlaid_with_opacity(media, tmp_path):
    shot = video_shot(media["blue_video"])
    solid, half = out_path(tmp_path, "solid.mp4"), out_path(tmp_path, "half.mp4")
    render(task_for(solid, [shot], stickers=[Sticker(media["red_png"], 20, 40, 60, 60, 1.0)]))
    render(task_for(half, [shot], stickers=[Sticker(media["red_png"], 20, 40, 60, 60, 0.5)]))
    s, h = frame(solid, 5), frame(half, 5)
    assert s[70, 50][0] > 200 and s[70, 50][2] < 60  # inside the sticker: red
    assert s[200, 150][2] > 200  # outside: blue
    assert 80 < h[70, 50][0] < 180 and 80 < h[70, 50][2] < 180  # half red, half blue


def test_background_image_letterboxes_the_shots(media, tmp_path):
    out = out_path(tmp_path)
    bg = make_image(tmp_path / "bg.jpg", "100x100", "red")
    render(task_for(out, [Shot(media["green_jpg"], "image", 0, 0, 2.0)], background_image=bg))
    assert_user_visible_basics(out, 2.0)
    f = frame(out, 10)
    assert f[10, W // 2][0] > 200 and f[10, W // 2][1] < 60  # top band: the background
    assert f[H // 2, W // 2][1] > 100 and f[H // 2, W // 2][0] < 60  # middle: the 4:3 shot


def test_image_shot_is_cover_fitted(media, tmp_path):
    out = out_path(tmp_path)
    render(task_for(out, [Shot(media["green_jpg"], "image", 0, 0, 2.0)]))
    assert_user_visible_basics(out, 2.0)
    f = frame(out, 49)
    assert (f[:, :, 1] > 100).all()  # green edge to edge: no bars


# ---------------------------------------------------------------------------------------------
# determinism, task data, command


def test_same_task_renders_byte_identical(media, tmp_path):
    def task(name):
        return task_for(
            out_path(tmp_path, name),
            [video_shot(media["tone_video"], 1.5, start=0.4, has_audio=True, volume=0.8), Shot(media["red_png"], "image", 0, 0, 1.0)],
            duration=2.5,
            titles=[TextOverlay("Same bytes"), TextOverlay("盒马鲜生", level=1)],
            speech=[SpeechClip(media["speech"], 0.3, 1.0)],
            music=Music(media["music"]),
            stickers=[Sticker(media["red_png"], 4, 4, 20, 20, 0.7)],
        )

    render(task("one.mp4"))
    render(task("two.mp4"))
    one, two = (tmp_path / "one.mp4").read_bytes(), (tmp_path / "two.mp4").read_bytes()
    assert len(one) > 1000 and one == two


def test_task_is_plain_json_data(media, tmp_path):
    task = task_for(
        out_path(tmp_path),
        [video_shot(media["tone_video"], 1.0)],
        titles=[TextOverlay("t", 1, {"FontSize": 20})],
        speech=[SpeechClip("/x.wav", 0.5, 1.0)],
        music=Music("/m.wav", 0.2, False),
        stickers=[Sticker("/s.png", 1, 2, 3, 4, 0.5)],
        background_image="/bg.png",
    )
    again = RenderTask.from_dict(json.loads(json.dumps(task.to_dict())))
    assert again == task
    assert isinstance(again.shots[0], Shot) and isinstance(again.music, Music)


def test_command_seeks_before_decoding_and_is_bit_exact(media, tmp_path):
    shot = video_shot(media["tone_video"], 1.0, start=1.25, source_duration=2.0)
    argv, graph = build_command(
        task_for(out_path(tmp_path), [shot], duration=1.0), threads=2, preset="fast", graph_path="/tmp/g.txt"
    )
    i = argv.index("-i")
    j = argv.index("-ss")
    assert argv[j : j + 4] == ["-ss", "1.250", "-t", "2.000"] and j < i  # input options: seek, then decode
    assert argv[argv.index("-/filter_complex") + 1] == "/tmp/g.txt" or "-filter_complex_script" in argv
    for flag in (["-fflags", "+bitexact"], ["-flags:v", "+bitexact"], ["-flags:a", "+bitexact"], ["-map_metadata", "-1"],
                 ["-movflags", "+faststart"], ["-preset", "fast"], ["-threads", "2"], ["-crf", "27"], ["-pix_fmt", "yuv420p"],
                 ["-c:a", "aac"], ["-b:a", "128k"]):  # fmt: skip
        j = argv.index(flag[0])
        assert argv[j : j + 2] == flag
    assert "setpts=(PTS-STARTPTS)*1000/2000" in graph
    assert "normalize=0" in graph or "amix" not in graph
    inline, _ = build_command(task_for(out_path(tmp_path), [shot], duration=1.0))
    assert inline[inline.index("-filter_complex") + 1] == graph


def test_ffmpeg_exe_can_be_configured(monkeypatch):
    monkeypatch.setenv("SHEET2VIDEO_FFMPEG", "/opt/ffmpeg/bin/ffmpeg")
    assert ffmpeg_exe() == "/opt/ffmpeg/bin/ffmpeg"
    monkeypatch.delenv("SHEET2VIDEO_FFMPEG")
    assert os.path.isfile(ffmpeg_exe())


# ---------------------------------------------------------------------------------------------
# failures


def test_corrupt_input_is_named(media, tmp_path):
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(os.urandom(4096))
    out = out_path(tmp_path)
    with pytest.raises(RenderError) as err:
        render(task_for(out, [video_shot(str(bad))]))
    assert err.value.code == "InvalidMaterial.Corrupt" and "broken.mp4" in str(err.value)
    assert sorted(os.listdir(tmp_path)) == ["broken.mp4"]


def test_zero_byte_image_is_corrupt(media, tmp_path):
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    with pytest.raises(RenderError) as err:
        render(task_for(out_path(tmp_path), [Shot(str(empty), "image", 0, 0, 2.0)]))
    assert err.value.code == "InvalidMaterial.Corrupt" and "empty.png" in str(err.value)


def test_ffmpeg_failure_reports_stderr_and_leaves_nothing(media, tmp_path):
    out = out_path(tmp_path)
    # claims source audio that the file does not have: FFmpeg refuses the graph
    with pytest.raises(RenderError) as err:
        render(task_for(out, [video_shot(media["blue_video"], has_audio=True, volume=1.0)]))
    assert err.value.code == "RenderFailed"
    assert "FFmpeg failed" in str(err.value) and "stream" in str(err.value).lower()
    assert os.listdir(tmp_path) == []


def test_in_point_past_the_end_is_a_clear_error(media, tmp_path):
    with pytest.raises(RenderError) as err:
        render(task_for(out_path(tmp_path), [video_shot(media["blue_video"], 1.0, start=5.0, has_audio=True, volume=1)]))
    assert err.value.code == "InvalidParameter.RenderTask" and "blue.mp4" in str(err.value)
    assert os.listdir(tmp_path) == []


def test_invalid_task_is_rejected_before_running(media, tmp_path):
    with pytest.raises(RenderError) as err:
        render(task_for(out_path(tmp_path), [video_shot(media["blue_video"])], duration=0))
    assert err.value.code == "InvalidParameter.RenderTask"


# ---------------------------------------------------------------------------------------------
# the render's FFmpeg and the engine's API


def _children_running_ffmpeg() -> list[int]:
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat", encoding="ascii") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                exe = f.read().split(b"\0")[0]
        except OSError:  # gone meanwhile
            continue
        if int(fields[1]) == os.getpid() and os.path.basename(exe).startswith(b"ffmpeg"):
            found.append(int(pid))
    return found


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="reads the FFmpeg process from /proc")
def test_ffmpeg_yields_the_cpu_inside_the_engines_session_and_is_out_of_reach_of_ctrl_c(media, tmp_path):
    """Nice 10 only yields to the engine's API if FFmpeg stays in the engine's session: a new
    session is a new scheduling group on kernels with autogroup (most desktop Linux), which then
    shares the CPU equally with the API whatever its nice (a Get's p99 under load went from ~95 ms
    to ~20 ms when renders stopped starting sessions). Its own process group keeps a terminal's
    Ctrl+C for sheet2video to handle."""
    task = task_for(out_path(tmp_path), [Shot(media["green_jpg"], "image", 0, 0, 120.0)], duration=120.0)
    rendering = threading.Thread(target=render, args=(task,))
    rendering.start()
    try:
        (pid,) = wait_until(_children_running_ffmpeg, 60, "the render's FFmpeg")
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        process_group, session, nice = int(fields[2]), int(fields[3]), int(fields[16])
        assert session == os.getsid(0)
        assert process_group == pid != os.getpgid(0)
        assert nice == min(19, os.nice(0) + 10)
    finally:
        rendering.join()
