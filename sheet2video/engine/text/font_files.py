"""Font files the simple way, and the fontconfig tools every font lookup calls.

:func:`font_for` is the legacy helper for drawtext callers: Latin text uses DejaVu Sans. Text holding
CJK characters needs a CJK-capable font: the file named by ``SHEET2VIDEO_FONT_CJK`` first, else what
fontconfig lists for the language (``fc-list :lang=zh``), else a few well-known install locations.
Lookups are cached (per language and environment value), and the choice is deterministic so the same
task renders the same bytes.

:func:`cjk_lang` tells which CJK language a text needs; :func:`run_fc` runs a fontconfig tool
(``fc-list``, ``fc-query``, ``fc-match``) and reads nothing when it is not installed.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess

from sheet2video.errors import RenderError

__all__ = ["FONT_CODE", "CJK_ENV", "cjk_script", "cjk_lang", "has_cjk", "font_for", "latin_font", "run_fc"]

FONT_CODE = "InvalidParameter.Font"
CJK_ENV = "SHEET2VIDEO_FONT_CJK"

_DEJAVU = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/usr/local/share/fonts/DejaVuSans.ttf",
)

_CJK_WELL_KNOWN = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/wqy-microhei/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    "/System/Library/Fonts/PingFang.ttc",
    "/System/Library/Fonts/STHeiti Medium.ttc",
    "C:\\Windows\\Fonts\\msyh.ttc",
)

# Preferred families when fontconfig lists several (first match wins; then alphabetical).
_CJK_PREFERENCE = ("NotoSansCJK-Regular", "NotoSansCJKsc-Regular", "SourceHanSans", "wqy-microhei", "wqy-zenhei", "NotoSerifCJK-Regular")

_INSTALL_HINT = (
    "install one (Debian/Ubuntu: apt-get install fonts-wqy-microhei, or fonts-noto-cjk) "
    f"or set {CJK_ENV} to a font file"
)


def cjk_script(ch: str) -> str | None:
    """The CJK script of one character: 'ko', 'ja', 'zh' (Han and shared CJK marks) or None."""
    o = ord(ch)
    if 0xAC00 <= o <= 0xD7AF or 0x1100 <= o <= 0x11FF or 0x3130 <= o <= 0x318F:
        return "ko"
    if 0x3040 <= o <= 0x30FF or 0x31F0 <= o <= 0x31FF:
        return "ja"
    if (
        0x4E00 <= o <= 0x9FFF
        or 0x3400 <= o <= 0x4DBF
        or 0x20000 <= o <= 0x3FFFF
        or 0xF900 <= o <= 0xFAFF
        or 0x3000 <= o <= 0x303F  # CJK symbols and punctuation
        or 0x3100 <= o <= 0x312F  # Bopomofo
        or 0xFF00 <= o <= 0xFFEF  # full-width forms
    ):
        return "zh"
    return None


def cjk_lang(text: str) -> str | None:
    """The fontconfig language a CJK font must cover for ``text``, or None for non-CJK text."""
    found = {lang for lang in map(cjk_script, text) if lang}
    if not found:
        return None
    for lang in ("ko", "ja", "zh"):
        if lang in found:
            return lang
    return "zh"


def has_cjk(text: str) -> bool:
    return cjk_lang(text) is not None


def font_for(text: str, preferred: str | None = None) -> str:
    """A font file path able to draw ``text``.

    ``preferred`` is a font file path (e.g. an IMS TitleConfig ``Font`` already resolved to a
    local file); when given it must exist and is used as is.
    """
    if preferred:
        if os.path.isfile(preferred):
            return os.path.abspath(preferred)
        raise RenderError(f"font file not found: {preferred}", code=FONT_CODE)
    lang = cjk_lang(text)
    if lang is None:
        return latin_font()
    return _cjk_font(lang, os.environ.get(CJK_ENV) or "")


@functools.lru_cache(maxsize=None)
def latin_font() -> str:
    """DejaVu Sans (else fontconfig's sans-serif); fails with an install hint when no font is installed."""
    for path in _DEJAVU:
        if os.path.isfile(path):
            return path
    for pattern in ("DejaVu Sans", "sans-serif"):
        found = _fc_match(pattern)
        if found:
            return found
    raise RenderError(
        "no font found for titles; install one (Debian/Ubuntu: apt-get install fonts-dejavu-core)",
        code=FONT_CODE,
    )


@functools.lru_cache(maxsize=None)
def _cjk_font(lang: str, env_value: str) -> str:
    if env_value:
        if os.path.isfile(env_value):
            return os.path.abspath(env_value)
        raise RenderError(f"{CJK_ENV}={env_value} is not a font file; {_INSTALL_HINT}", code=FONT_CODE)
    candidates = _fc_list(lang) or (_fc_list("zh") if lang != "zh" else [])
    if candidates:
        return _pick(candidates)
    for path in _CJK_WELL_KNOWN:
        if os.path.isfile(path):
            return path
    raise RenderError(f"no font with Chinese/Japanese/Korean glyphs found for titles; {_INSTALL_HINT}", code=FONT_CODE)


def _pick(paths: list[str]) -> str:
    paths = sorted(set(paths))
    for name in _CJK_PREFERENCE:
        for p in paths:
            if os.path.basename(p).startswith(name):
                return p
    # Prefer sans (hei) faces over serif (song/ming) ones, then alphabetical.
    return sorted(paths, key=lambda p: ("serif" in p.lower() or "song" in p.lower() or "ming" in p.lower(), p))[0]


def run_fc(args: list[str]) -> str:
    """The output of a fontconfig tool (``args[0]``), or "" when it is missing or fails."""
    exe = shutil.which(args[0])
    if not exe:
        return ""
    try:
        return subprocess.run([exe, *args[1:]], capture_output=True, text=True, timeout=20, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return ""


def _fc_list(lang: str) -> list[str]:
    out = run_fc(["fc-list", f":lang={lang}", "file"])
    paths = []
    for line in out.splitlines():
        p = line.strip().rstrip(":").strip()
        if p and os.path.isfile(p) and p.lower().endswith((".ttf", ".ttc", ".otf", ".otc")):
            paths.append(p)
    return paths


def _fc_match(pattern: str) -> str | None:
    out = run_fc(["fc-match", "-f", "%{file}", pattern]).strip()
    return out if out and os.path.isfile(out) else None
