"""Voices: cloud names → local voices, comma lists, the script's language, plan-time issues, the CLI table."""

from __future__ import annotations

import json
import random

import pytest
from click.testing import CliRunner

from sheet2video.cli import cli
from sheet2video.engine.speech import voices
from sheet2video.engine.speech.espeak_library import espeak_knows
from sheet2video.engine.speech.voices import CLOUD_VOICES, LOCAL_VOICES, LocalVoice, detect_language, pick_voice, resolve

BRIEF_NAMES = (
    "zhitian zhitian_emo zhiru zhilun zhibei_emo zhiyan_emo zhimi_emo zhiyue xiaoyun xiaogang aixia aiyu aijia "
    "aida ruoxi siqi sijia aicheng ninger ruilin xiaomei yina sitong xiaobei aitong aiwei stella betty andy eric "
    "emily luna luca wendy william olivia abby annie harry cally kenny rosa tomoka tomoya kyong waan tien indah"
).split()
SAMPLE = {"cmn": "欢迎光临", "yue": "歡迎光臨", "en": "Welcome", "ja": "ようこそ", "ko": "환영합니다", "th": "ยินดีต้อนรับ",
          "vi": "Xin chào", "id": "Selamat datang", "ms": "Selamat datang", "ru": "Добро пожаловать",
          "es": "Bienvenidos", "de": "Willkommen", "fr": "Bienvenue", "it": "Benvenuti"}  # fmt: skip


def test_every_local_voice_exists_in_espeak():
    for v in LOCAL_VOICES:
        assert espeak_knows(v.espeak), v


@pytest.mark.parametrize("name", BRIEF_NAMES)
def test_each_cloud_name_resolves_by_language_and_gender(name):
    language, gender = CLOUD_VOICES[name]
    found = resolve(name, SAMPLE[language], language)
    assert isinstance(found, LocalVoice) and found.language == language
    assert found.gender == gender or (gender == "child" and found.gender == "female")
    assert resolve(name.upper(), SAMPLE[language], language) == found  # names are case-insensitive


def test_nearest_voice_examples():
    assert resolve("zhilun", "欢迎光临").name == "cmn+m3"
    assert resolve("zhitian_emo", "欢迎光临").name == "cmn+f3"
    assert resolve("andy", "Welcome").name == "joe"  # English male → Piper
    assert resolve("emily", "Welcome").name == "en-us+f3"
    assert resolve("xiaogang", "Welcome to our store").name == "joe"  # bilingual cloud voice reading English
    assert resolve("joe", "Welcome").engine == "piper"
    assert resolve("de", "Willkommen") == "de"  # an espeak-ng name, as given


@pytest.mark.parametrize("text,language", [
    ("مرحبا بكم في متجرنا", "ar"), ("สวัสดีครับ", "th"), ("שלום וברכה", "he"), ("नमस्ते दोस्तों", "hi"),
    ("ようこそ東京へ", "ja"), ("환영합니다", "ko"), ("欢迎光临", "cmn"), ("Добро пожаловать", "ru"),
    ("Welcome to our store", "en"), ("Big sale 🎉 50%", "en"), ("!!!", "en"), ("Γεια σας", "el"),
])  # fmt: skip
def test_detect_language_by_script(text, language):
    assert detect_language(text) == language


def test_no_voice_lets_the_script_choose_never_english_spelling_out_arabic():
    arabic = "مرحبا بكم في متجرنا الجديد"
    assert resolve(None, arabic).language == "ar"
    assert resolve("unknown-voice", arabic).language == "ar"
    assert resolve("xiaoyun", arabic).language == "ar"  # a Chinese voice cannot read Arabic either
    assert resolve(None, "สวัสดีครับ").language == "th"
    assert resolve(None, "Welcome", "ja-JP").language == "ja"  # SpeechLanguage overrides detection
    assert resolve(None, "Welcome", "zh-HK").language == "yue"


def test_comma_list_varies_across_outputs_and_repeats_with_the_seed():
    spec = "zhiru,zhilun, xiaoyun"
    rng = random.Random(7)
    picks = [pick_voice(spec, rng) for _ in range(30)]
    assert set(picks) == {"zhiru", "zhilun", "xiaoyun"}
    again = random.Random(7)
    assert [pick_voice(spec, again) for _ in range(30)] == picks
    other = random.Random(8)
    assert [pick_voice(spec, other) for _ in range(30)] != picks


def test_a_single_name_does_not_consume_the_seeded_generator():
    rng = random.Random(3)
    assert pick_voice("xiaoyun", rng) == "xiaoyun" and pick_voice(None, rng) is None and pick_voice(" , ", rng) is None
    assert rng.random() == random.Random(3).random()


def test_voice_issues():
    assert voices.voice_issues("xiaoyun", ["欢迎光临"]) == []
    assert voices.voice_issues("zhiru,zhilun", ["欢迎光临"]) == []
    assert voices.voice_issues("joe", ["Welcome"]) == []
    assert voices.voice_issues(None, ["Welcome", "欢迎"]) == []
    [(message, level)] = voices.voice_issues("nosuchvoice", ["Welcome"])
    assert level == "warning" and "unknown voice 'nosuchvoice'" in message
    [(message, level)] = voices.voice_issues("tala", ["Maligayang pagdating"])
    assert level == "warning" and "'fil'" in message
    issues = voices.voice_issues(None, ["Welcome"], "tl-PH")
    assert issues and all(level == "warning" for _, level in issues) and "tl-PH" in issues[0][0]
    [(message, _)] = voices.voice_issues(None, ["ᏣᎳᎩ ᎦᏬᏂᎯᏍᏗ"])  # Cherokee: no voice for it
    assert "no local voice speaks" in message
    assert voices.voice_issues(None, ["ようこそ"]) == []
    assert voices.voice_issues(None, ["ようこそ東京へ"]) == []  # Kokoro reads kanji


def test_kanji_are_warned_about_only_when_espeak_ng_speaks_japanese(monkeypatch):
    monkeypatch.setattr(voices, "kokoro_available", lambda: False)
    [(message, _)] = voices.voice_issues(None, ["ようこそ東京へ"])
    assert "kana only" in message


def test_style_is_not_supported_locally():
    assert voices.style_issues(None) == [] and voices.style_issues("") == []
    [(message, level)] = voices.style_issues("happy")
    assert level == "warning" and "not supported locally" in message
    assert voices.style_issues("Neutral") == voices.style_issues("general") == []  # what the local voices speak in


def test_voices_command_lists_voices_and_cloud_names():
    result = CliRunner().invoke(cli, ["voices", "--json"])
    assert result.exit_code == 0, result.output
    rows = {r["voice"]: r for r in json.loads(result.output)}
    assert rows["joe"]["engine"] == "piper" and "andy" in rows["joe"]["cloud_voices"] and rows["joe"]["installed"]
    assert "xiaoyun" in rows["cmn+f3"]["cloud_voices"] and rows["ar+f3"]["language"] == "ar"
    mapped = {n for r in rows.values() for n in r["cloud_voices"]}
    assert {n for n, (lang, _) in CLOUD_VOICES.items() if lang != "fil"} == mapped
    text = CliRunner().invoke(cli, ["voices"]).output
    assert "joe" in text and "piper" in text and "cmn+f3" in text


def test_speech_issues_name_the_field():
    params = {
        "InputConfig": json.dumps({"MediaGroupArray": [{"GroupName": "a", "MediaArray": ["x.png"],
                                                        "SpeechTextArray": ["Hello.", "...!!!"]}]}),
        "EditingConfig": {"SpeechConfig": {"Voice": "xiaoyun,nosuch", "Style": "happy", "SpeechLanguage": "tl"}},
    }  # fmt: skip
    issues = voices.speech_issues(params)
    by_path = {path: (message, level) for path, message, level in issues}
    assert by_path["InputConfig.MediaGroupArray[0].SpeechTextArray[1]"][1] == "error"
    assert "nothing to speak" in by_path["InputConfig.MediaGroupArray[0].SpeechTextArray[1]"][0]
    assert "'nosuch'" in by_path["EditingConfig.SpeechConfig.Voice"][0]
    assert "not supported locally" in by_path["EditingConfig.SpeechConfig.Style"][0]
    assert "'tl'" in by_path["EditingConfig.SpeechConfig.SpeechLanguage"][0]
    assert [level for *_, level in issues].count("error") == 1
    assert voices.speech_issues({"InputConfig": {"SpeechTextArray": ["Hi there", "欢迎"]}}) == []
    [(path, message, level)] = voices.speech_issues({"InputConfig": {"SpeechTextArray": ["Hi", "🎉🎉"]}})
    assert path == "InputConfig.SpeechTextArray[1]" and level == "error"
