"""Voices: the local voices, the cloud voice names mapped to them, and the script's language.

The cloud's ``SpeechConfig.Voice`` names (the ListSmartVoiceGroups / Intelligent Speech voice list)
mean nothing offline, so each is mapped to the nearest local voice *by language and gender*: a
Mandarin female cloud voice → espeak-ng ``cmn+f3``, an English male one → Piper ``joe`` (neural),
``tomoka``/``tomoya`` → Kokoro ``jf_alpha``/``jm_kumo`` (neural Japanese), and so on.
The table below is the documentation; ``sheet2video voices`` prints it.

Resolution (``resolve``) for one output:

1. ``Voice`` names a local voice (``joe``, or any espeak-ng name such as ``en-us``, ``cmn+f3``) →
   that voice.
2. ``Voice`` is a cloud name → its local voice, provided it speaks the script's language (the cloud's
   Chinese voices are bilingual, so ``xiaogang`` reading English gets the English male voice).
3. Otherwise (no voice, unknown name) the script's language chooses: ``SpeechLanguage`` when given,
   else the dominant Unicode script of the text (Arabic → ``ar``, Thai → ``th``, Han → ``cmn`` …),
   never the English voice spelling out Arabic letters.

``Voice`` may be a comma list (``zhiru,zhilun``): one name per output, picked by ``pick_voice`` with
the planner's seeded random generator. ``voice_issues`` lists what deserves a plan-time warning.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass

from sheet2video.engine.speech.espeak_library import espeak_knows
from sheet2video.engine.speech.kokoro import available as kokoro_available
from sheet2video.engine.speech.own_voices import OwnVoice, own_voice, own_voices
from sheet2video.engine.speech.script import SSML_TAG, speakable
from sheet2video.engine.speech.ssml import problem as ssml_problem

__all__ = [
    "LocalVoice", "LOCAL_VOICES", "CLOUD_VOICES", "detect_language", "normalise_language", "resolve",
    "pick_voice", "voice_issues", "style_issues", "NEUTRAL_STYLES", "speech_issues", "table", "local_voice", "PIPER_VOICE", "as_local",
]  # fmt: skip

PIPER_VOICE = "joe"


@dataclass(frozen=True)
class LocalVoice:
    name: str  # what Voice may say to pick it directly
    engine: str  # "piper", "kokoro" or "espeak-ng"
    language: str  # espeak-style language code: en, cmn, yue, ja, ar …
    gender: str  # "female", "male" or "child"
    espeak: str  # the espeak-ng voice (for Piper: the fallback when Piper is not installed)


def _v(name: str, language: str, gender: str, engine: str = "espeak-ng", espeak: str | None = None) -> LocalVoice:
    return LocalVoice(name, engine, language, gender, espeak or name)


# Local voices, by language. espeak-ng variants: +f3/+f4 female, +m3 male, +f5 a higher child-like voice.
LOCAL_VOICES: tuple[LocalVoice, ...] = (
    _v(PIPER_VOICE, "en", "male", "piper", "en-us+m3"),
    _v("en-us+f3", "en", "female"), _v("en-us+m3", "en", "male"), _v("en-us+f5", "en", "child"),
    _v("cmn+f3", "cmn", "female"), _v("cmn+m3", "cmn", "male"), _v("cmn+f5", "cmn", "child"),
    _v("yue+f3", "yue", "female"), _v("yue+m3", "yue", "male"),
    # Kokoro (neural Japanese, kokoro.py) before espeak-ng's ja: the language's first voice of a gender wins
    _v("jf_alpha", "ja", "female", "kokoro", "ja+f3"), _v("jm_kumo", "ja", "male", "kokoro", "ja+m3"),
    _v("jf_gongitsune", "ja", "female", "kokoro", "ja+f3"), _v("jf_nezumi", "ja", "female", "kokoro", "ja+f3"),
    _v("jf_tebukuro", "ja", "female", "kokoro", "ja+f3"),
    _v("ja+f3", "ja", "female"), _v("ja+m3", "ja", "male"),
    _v("ko+f3", "ko", "female"), _v("ko+m3", "ko", "male"),
    _v("th+f3", "th", "female"), _v("th+m3", "th", "male"),
    _v("vi+f3", "vi", "female"), _v("vi+m3", "vi", "male"),
    _v("id+f3", "id", "female"), _v("id+m3", "id", "male"),
    _v("ms+f3", "ms", "female"), _v("ms+m3", "ms", "male"),
    _v("ar+f3", "ar", "female"), _v("ar+m3", "ar", "male"),
    _v("he+f3", "he", "female"), _v("he+m3", "he", "male"),
    _v("hi+f3", "hi", "female"), _v("hi+m3", "hi", "male"),
    _v("ru+f3", "ru", "female"), _v("ru+m3", "ru", "male"),
    _v("es+f3", "es", "female"), _v("es+m3", "es", "male"),
    _v("pt+f3", "pt", "female"), _v("pt+m3", "pt", "male"),
    _v("fr+f3", "fr", "female"), _v("fr+m3", "fr", "male"),
    _v("de+f3", "de", "female"), _v("de+m3", "de", "male"),
    _v("it+f3", "it", "female"), _v("it+m3", "it", "male"),
    _v("tr+f3", "tr", "female"), _v("tr+m3", "tr", "male"),
    _v("el+f3", "el", "female"), _v("el+m3", "el", "male"),
    _v("uk+f3", "uk", "female"), _v("uk+m3", "uk", "male"),
    _v("fa+f3", "fa", "female"), _v("fa+m3", "fa", "male"),
    _v("bn+f3", "bn", "female"), _v("bn+m3", "bn", "male"),
    _v("ta+f3", "ta", "female"), _v("ta+m3", "ta", "male"),
    _v("ka+f3", "ka", "female"), _v("hy+f3", "hy", "female"),
)  # fmt: skip
_BY_NAME = {v.name: v for v in LOCAL_VOICES}
_LANGUAGES = {v.language for v in LOCAL_VOICES}

# Cloud voice name → (language, gender), from the public voice list. Chinese voices there are
# "Chinese or Chinese-English bilingual"; "child" covers the list's 童声 / 萝莉 voices.
CLOUD_VOICES: dict[str, tuple[str, str]] = {
    # Mandarin, female
    **{n: ("cmn", "female") for n in (
        "zhitian", "zhitian_emo", "zhiru", "zhiyan_emo", "zhimi_emo", "zhiyue", "zhiqi", "zhijia",
        "zhiya", "zhiying", "zhiyuan", "zhimiao_emo", "zhina", "zhiting", "zhixiao", "zhimao",
        "zhistella", "xiaoyun", "ruoxi", "siqi", "sijia", "siyue", "aiqi", "aijia", "aixia", "aiyu",
        "aiyue", "aiya", "aimei", "ninger", "ruilin", "xiaomei", "yina", "stella", "rosa", "xiaoxian",
        "maoxiaomei", "qingqing", "cuijie", "yuer", "laotie", "xiaoyue", "zhiyuan",
    )},
    # Mandarin, male
    **{n: ("cmn", "male") for n in (
        "zhilun", "zhifei", "zhishuo", "zhiye", "zhihao", "zhiming", "zhimo", "zhinan", "zhixiang",
        "xiaogang", "sicheng", "aicheng", "aida", "aishuo", "aifei", "kenny", "xiaoze", "aikan",
        "dahu", "guijie", "stanley",
    )},
    # Mandarin, children's voices
    **{n: ("cmn", "child") for n in (
        "zhibei_emo", "zhibei", "sitong", "xiaobei", "aitong", "aiwei", "aibao", "zhiwei", "jielidou",
    )},
    # Cantonese
    **{n: ("yue", "female") for n in ("jiajia", "kelly", "taozi", "shanshan")},
    # English, female
    **{n: ("en", "female") for n in (
        "betty", "emily", "luna", "wendy", "olivia", "abby", "annie", "cally", "cindy", "donna",
        "eva", "beth", "ava", "lydia",
    )},
    # English, male
    **{n: ("en", "male") for n in ("andy", "eric", "luca", "william", "harry", "brian", "ryan")},
    # Other languages
    "tomoka": ("ja", "female"), "tomoya": ("ja", "male"), "kyong": ("ko", "female"),
    "waan": ("th", "female"), "tien": ("vi", "female"), "indah": ("id", "female"),
    "farah": ("ms", "female"), "masha": ("ru", "female"), "camila": ("es", "female"),
    "hanna": ("de", "female"), "clara": ("fr", "female"), "perla": ("it", "female"),
    "tala": ("fil", "female"),  # Filipino: no local voice speaks it (warned)
}  # fmt: skip

# SpeechLanguage values (BCP 47-ish) → our language codes.
_LANGUAGE_ALIASES = {
    "zh": "cmn", "zh-cn": "cmn", "zh-hans": "cmn", "zh-tw": "cmn", "zh-hant": "cmn", "zh-sg": "cmn",
    "cmn": "cmn", "zh-hk": "yue", "yue": "yue", "cantonese": "yue", "en": "en", "jp": "ja", "kr": "ko",
    "iw": "he", "in": "id", "tl": "fil", "fil": "fil",
}  # fmt: skip


def normalise_language(language: str | None) -> str | None:
    if not language or not str(language).strip():
        return None
    code = str(language).strip().lower().replace("_", "-")
    if code in _LANGUAGE_ALIASES:
        return _LANGUAGE_ALIASES[code]
    return _LANGUAGE_ALIASES.get(code.split("-")[0], code.split("-")[0])


# Unicode script → language, for scripts that name one language well enough.
def _script_of(ch: str) -> str | None:
    o = ord(ch)
    if 0x3040 <= o <= 0x30FF or 0x31F0 <= o <= 0x31FF or 0xFF66 <= o <= 0xFF9F:
        return "kana"
    if 0x1100 <= o <= 0x11FF or 0x3130 <= o <= 0x318F or 0xAC00 <= o <= 0xD7AF:
        return "ko"
    if 0x4E00 <= o <= 0x9FFF or 0x3400 <= o <= 0x4DBF or 0x20000 <= o <= 0x2FA1F or 0xF900 <= o <= 0xFAFF:
        return "han"
    if 0x0600 <= o <= 0x06FF or 0x0750 <= o <= 0x077F or 0x08A0 <= o <= 0x08FF or 0xFB50 <= o <= 0xFEFF:
        return "ar"
    if 0x0590 <= o <= 0x05FF:
        return "he"
    if 0x0E00 <= o <= 0x0E7F:
        return "th"
    if 0x0900 <= o <= 0x097F:
        return "hi"
    if 0x0980 <= o <= 0x09FF:
        return "bn"
    if 0x0B80 <= o <= 0x0BFF:
        return "ta"
    if 0x0400 <= o <= 0x04FF:
        return "ru"
    if 0x0370 <= o <= 0x03FF:
        return "el"
    if 0x10A0 <= o <= 0x10FF:
        return "ka"
    if 0x0530 <= o <= 0x058F:
        return "hy"
    if ch.isalpha():
        name = unicodedata.name(ch, "")
        # Latin, else the script's own name ("cherokee"): a language no local voice speaks
        return "latin" if name.startswith("LATIN") else (name.split(" ")[0].lower() or None)
    return None


def detect_language(text: str) -> str:
    """The language of the dominant script of ``text`` (Latin → ``en``); ``en`` when there is none."""
    if text.isascii():  # the common case, at plan time once per script of every row
        return "en"
    counts: dict[str, int] = {}
    for ch in SSML_TAG.sub(" ", text):  # a tag's letters (<break time=…>) are not the script's language
        script = _script_of(ch)
        if script:
            counts[script] = counts.get(script, 0) + 1
    if not counts:
        return "en"
    if counts.get("kana"):  # Japanese mixes kana with Han; any kana means Japanese
        counts["kana"] += counts.pop("han", 0)
    top = max(counts, key=lambda s: (counts[s], s))
    return {"kana": "ja", "han": "cmn", "latin": "en"}.get(top, top)


def local_voice(name: str) -> LocalVoice | None:
    return _BY_NAME.get(name.strip()) if name else None


def as_local(own: OwnVoice) -> LocalVoice:
    """An own voice (own_voices.py) as a table entry; espeak-ng speaks its language if it cannot load."""
    language = normalise_language(own.language) or "und"
    fallback = _for_language(language, own.gender) or _for_language("en", own.gender)
    return LocalVoice(own.name, own.engine, language, own.gender, fallback.espeak)


def _for_language(language: str, gender: str | None) -> LocalVoice | None:
    choices = [v for v in LOCAL_VOICES if v.language == language]
    if not choices:
        return None
    for wanted in (gender, "female" if gender == "child" else None):
        for v in choices:
            if wanted and v.gender == wanted:
                return v
    return choices[0]  # the language's first voice: Piper joe for English, female for the rest


def resolve(voice: str | None, text: str, language: str | None = None) -> LocalVoice | str:
    """The local voice for one output: a ``LocalVoice``, or an espeak-ng name used as given.

    ``voice`` is one name (``pick_voice`` has taken one out of a comma list). Unknown names and
    languages without a voice never fail here; ``voice_issues`` reports them at plan time.
    """
    name = (voice or "").strip()
    lang = normalise_language(language) or detect_language(text)
    own = own_voice(name)
    if own is not None:  # a team's own voice wins over a built-in or cloud name it shares
        return as_local(own)
    if name in _BY_NAME:
        return _BY_NAME[name]
    cloud = CLOUD_VOICES.get(name.lower())
    gender = cloud[1] if cloud else None
    if cloud and cloud[0] in _LANGUAGES and (cloud[0] == lang or lang not in _LANGUAGES):
        return _for_language(cloud[0], gender)
    if name and cloud is None and espeak_knows(name):
        return name  # an espeak-ng voice name (en-us, de, en+f2 …): used as given
    found = _for_language(lang, gender) if lang in _LANGUAGES else None
    return found or _for_language("en", gender)


def pick_voice(spec: str | None, rng: random.Random) -> str | None:
    """One name out of a comma list (``zhiru,zhilun``), seeded; a single name needs no draw.

    A single name does not consume ``rng``, so jobs without comma lists keep their other seeded choices.
    """
    if spec is None:
        return None
    names = [n.strip() for n in str(spec).split(",") if n.strip()]
    if len(names) <= 1:
        return names[0] if names else None
    return rng.choice(names)


def voice_issues(voice: str | None, speech_texts: list[str], language: str | None = None) -> list[tuple[str, str]]:
    """Plan-time problems with a voice choice, as (message, level) with level "warning"/"error".

    The caller names row, column and value; messages here say what happens instead.
    """
    issues = [i for name in _names(voice) for i in _name_issues(name)] + _language_issues(language)
    return issues + [i for text in speech_texts for i in _text_issues(text, language)]


def _names(voice: str | None) -> list[str]:
    return [n.strip() for n in str(voice or "").split(",") if n.strip()]


def _name_issues(name: str) -> list[tuple[str, str]]:
    cloud = CLOUD_VOICES.get(name.lower())
    own = own_voice(name)
    if own is not None:
        return [(own.problem, "error")] if own.problem else []
    if name in _BY_NAME:
        return []
    if cloud is None:
        if espeak_knows(name):
            return []
        return [(f"unknown voice {name!r}; the script's language chooses a local voice", "warning")]
    if cloud[0] not in _LANGUAGES:
        return [(f"voice {name!r} speaks {cloud[0]!r}, which no local voice speaks; "
                 "the script's language chooses a local voice", "warning")]
    return []


def _language_issues(language: str | None) -> list[tuple[str, str]]:
    lang = normalise_language(language)
    if lang and lang not in _LANGUAGES:
        return [(f"no local voice speaks language {language!r}; the script's own script chooses the voice", "warning")]
    return []


def _text_issues(text: str, language: str | None) -> list[tuple[str, str]]:
    lang = normalise_language(language)
    spoken = lang if lang in _LANGUAGES else detect_language(text)
    if spoken not in _LANGUAGES:
        return [(f"no local voice speaks {spoken!r} (text {text[:30]!r}); the English voice would spell it out", "warning")]
    if spoken == "ja" and any(_script_of(c) == "han" for c in text) and not kokoro_available():
        # espeak-ng's Japanese has no kanji readings (Kokoro's pyopenjtalk has): it names each kanji instead
        return [(f"the local Japanese voice reads kana only; kanji in {text[:30]!r} are not read as words", "warning")]
    return []


# Styles the local voices already speak in: each is trained on plain, even read speech, which is
# what these names ask for. Emotions (happy, sad, angry …) and genres (newscast, customer service)
# have no local equivalent: a faster or higher voice is not a happier one, so they stay a warning.
NEUTRAL_STYLES = frozenset({"neutral", "normal", "default", "general", "plain", "standard", "中性", "标准", "普通"})


def style_issues(style: str | None) -> list[tuple[str, str]]:
    """``SpeechConfig.Style`` (emotion/style of cloud voices): only a neutral style is spoken locally."""
    if style is None or not str(style).strip() or str(style).strip().lower() in NEUTRAL_STYLES:
        return []
    return [(f"speech style {style!r} is not supported locally; the voice speaks in its plain style", "warning")]


def table() -> list[dict]:
    """One row per local voice: name, engine, language, gender and the cloud names that map to it."""
    rows = []
    for v in LOCAL_VOICES:
        cloud = sorted(n for n, (lang, gender) in CLOUD_VOICES.items() if lang == v.language and _for_language(lang, gender) == v)
        rows.append({"voice": v.name, "engine": v.engine, "language": v.language, "gender": v.gender,
                     "fallback": v.espeak if v.engine != "espeak-ng" else None, "cloud_voices": cloud})
    for own in own_voices().values():  # a team's own voices ($SHEET2VIDEO_VOICES_DIR)
        v = as_local(own)
        rows.append({"voice": v.name, "engine": v.engine, "language": v.language, "gender": v.gender,
                     "fallback": v.espeak, "cloud_voices": [], "problem": own.problem, "kind": own.kind})
    return rows


def speech_issues(params: dict) -> list[tuple[str, str, str]]:
    """Every speech problem of one job's parameters as (dotted path, message, level), for
    ims/checks.py / preflight to turn into Issues naming row, column and value.

    Unspeakable texts ("...!!!", only emoji) are errors; the local engine's voice, language and
    style fallbacks are warnings. ``params`` holds InputConfig/EditingConfig as dicts or JSON text.
    """
    inputs, editing = _as_dict(params.get("InputConfig")), _as_dict(params.get("EditingConfig"))
    speech = _as_dict(editing.get("SpeechConfig"))
    texts = [(f"InputConfig.SpeechTextArray[{i}]", t) for i, t in enumerate(inputs.get("SpeechTextArray") or [])]
    for g, group in enumerate(inputs.get("MediaGroupArray") or []):
        for i, t in enumerate(_as_dict(group).get("SpeechTextArray") or []):
            texts.append((f"InputConfig.MediaGroupArray[{g}].SpeechTextArray[{i}]", t))
    language = speech.get("SpeechLanguage") if isinstance(speech.get("SpeechLanguage"), str) else None
    voice = speech.get("Voice") if isinstance(speech.get("Voice"), str) else None
    base = "EditingConfig.SpeechConfig"
    out = [(f"{base}.Voice", m, lv) for name in _names(voice) for m, lv in _name_issues(name)]
    own = own_voice(speech.get("CustomizedVoice"))
    out += [(f"{base}.CustomizedVoice", own.problem, "error")] if own and own.problem else []
    out += [(f"{base}.SpeechLanguage", m, lv) for m, lv in _language_issues(language)]
    out += [(f"{base}.Style", m, lv) for m, lv in style_issues(speech.get("Style") if isinstance(speech.get("Style"), str) else None)]
    for path, text in texts:
        if not isinstance(text, str) or not text.strip():
            continue  # empty texts are models.py's own rule
        if not speakable(text):
            out.append((path, f"{text.strip()[:40]!r} has nothing to speak (no letters or digits)", "error"))
        elif SSML_TAG.search(text) and ssml_problem(text):
            out.append((path, ssml_problem(text), "error"))
        else:
            out += [(path, m, lv) for m, lv in _text_issues(text, language)]
    return out


def _as_dict(value) -> dict:
    if isinstance(value, str):
        import json

        try:
            value = json.loads(value)
        except ValueError:
            return {}
    return value if isinstance(value, dict) else {}
