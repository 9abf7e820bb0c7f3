"""``sheet2video voices --demo``: one HTML page with a short sample of every voice, to listen and compare.

Every voice of the table (``voices.table()``: built-in, Kokoro, the team's own) reads the same
sentence of its language through the engine's own ``DefaultSynthesizer`` — what a render would
say — and the WAV is embedded in the page, so the page is one file to share. Samples go through
the speech cache, so a second page costs nothing but the unchanged lines' reads.
"""

from __future__ import annotations

import base64
import html
import os
from pathlib import Path

from sheet2video.engine.speech.synthesis import DefaultSynthesizer
from sheet2video.engine.speech.voices import table
from sheet2video.errors import RenderError

__all__ = ["SENTENCES", "demo_page", "default_cache"]

# One short sentence per language (the same for every voice of it): ~2 s of speech.
SENTENCES = {
    "en": "Welcome to our new store. Fresh deals every day!", "cmn": "欢迎光临我们的新店，每天都有优惠。",
    "yue": "歡迎光臨我哋嘅新店，每日都有優惠。", "ja": "新しいお店へようこそ。毎日お得です。",
    "ko": "새 매장에 오신 것을 환영합니다.", "th": "ยินดีต้อนรับสู่ร้านใหม่ของเรา", "vi": "Chào mừng đến cửa hàng mới của chúng tôi.",
    "id": "Selamat datang di toko baru kami.", "ms": "Selamat datang ke kedai baharu kami.",
    "ar": "مرحبا بكم في متجرنا الجديد.", "he": "ברוכים הבאים לחנות החדשה שלנו.", "hi": "हमारी नई दुकान में आपका स्वागत है।",
    "ru": "Добро пожаловать в наш новый магазин.", "es": "Bienvenidos a nuestra nueva tienda.",
    "pt": "Bem-vindos à nossa nova loja.", "fr": "Bienvenue dans notre nouveau magasin.",
    "de": "Willkommen in unserem neuen Laden.", "it": "Benvenuti nel nostro nuovo negozio.",
    "tr": "Yeni mağazamıza hoş geldiniz.", "el": "Καλώς ήρθατε στο νέο μας κατάστημα.",
    "uk": "Ласкаво просимо до нашого нового магазину.", "fa": "به فروشگاه جدید ما خوش آمدید.",
    "bn": "আমাদের নতুন দোকানে স্বাগতম।", "ta": "எங்கள் புதிய கடைக்கு வரவேற்கிறோம்.",
    "ka": "კეთილი იყოს თქვენი მობრძანება.", "hy": "Բարի գալուստ մեր նոր խանութ։",
}  # fmt: skip

_STYLE = ("body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;"
          "padding:.3em .6em;text-align:left}td.problem{color:#a00}")


def default_cache() -> Path:
    """Where the samples are cached: the XDG cache folder."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "sheet2video" / "voice-demo"


def demo_page(out: Path, cache_dir: Path | None = None, language: str | None = None) -> tuple[int, list[str]]:
    """Write the page to ``out``: (samples written, one line per voice that could not speak).
    ``language`` (``ja``, ``en`` …) keeps the voices of that language only."""
    synth = DefaultSynthesizer(cache_dir or default_cache())
    rows, problems, count = [], [], 0
    wanted = language.strip().lower() if language else None
    for voice in (v for v in table() if wanted is None or v["language"] == wanted or v["language"].startswith(f"{wanted}-")):
        cells = [voice["voice"], voice["language"], voice["engine"], voice["gender"]]
        text = SENTENCES.get(voice["language"], SENTENCES["en"])
        problem = voice.get("problem")
        if not problem:
            try:
                speech = synth.synthesize(text, voice["voice"], None, voice["language"])
                spoken_by = synth.route(text, voice["voice"], voice["language"])
                data = base64.b64encode(Path(speech.path).read_bytes()).decode()
                audio = f'<audio controls preload="none" src="data:audio/wav;base64,{data}"></audio>'
                count += 1
            except RenderError as error:
                problem = f"{voice['voice']}: {error}"
        if problem:
            problems.append(problem)
            rows.append(_row(cells + ["—", "—"], f'<td class="problem">{html.escape(problem)}</td>'))
        else:
            said = f"{spoken_by[0]} {spoken_by[1]}" if spoken_by[1] != voice["voice"] else spoken_by[0]
            rows.append(_row(cells + [said, text], f"<td>{audio}</td>"))
    head = "".join(f"<th>{c}</th>" for c in ("voice", "language", "engine", "gender", "spoken by", "sentence", "sample"))
    page = (f'<!doctype html><html><head><meta charset="utf-8"><title>sheet2video voices</title><style>{_STYLE}</style>'
            f"</head><body><h1>Local voices</h1><p>{count} samples; the same sentence for every voice of a language."
            f"</p><table><tr>{head}</tr>{''.join(rows)}</table></body></html>\n")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page, encoding="utf-8")
    return count, problems


def _row(cells: list[str], last: str) -> str:
    return "<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in cells) + last + "</tr>"
