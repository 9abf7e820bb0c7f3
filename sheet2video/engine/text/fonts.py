"""Fonts: family names resolved to files, a per-character fallback chain, glyph coverage.

Family names (``TitleConfig`` / ``SubHeadingConfig`` / ``AsrConfig`` ``Font``) are looked up, in order:

1. a font file path that exists, used as is;
2. the user fonts folder, ``$SHEET2VIDEO_FONTS_DIR`` (any .ttf/.otf/.ttc there, matched by family name);
3. the fonts fontconfig knows (``fc-list``), matched by family name (case, spaces, ``-``/``_`` ignored);
4. :data:`CLOUD_FONTS`: names the cloud offers (AlibabaPuHuiTi, SimSun/宋体, KaiTi/楷体, Arial …) mapped to
   the nearest family installed here (the Noto CJK fonts are Source Han Sans/Serif under another name);
5. otherwise the default (:data:`DEFAULT_FAMILY`) and a plan-time warning (:func:`font_issues`) —
   never a failed render.

A trailing weight in the name (``AlibabaPuHuiTi-Bold``, ``…-85-Bold``) asks for the bold face.
Characters the chosen font lacks are drawn with the first font of :data:`FALLBACK_FAMILIES` that has
them (CJK, Thai, Devanagari, Arabic, Hebrew, …), emoji with :data:`EMOJI_FAMILY` in colour, and
anything else with whichever installed font has it. Coverage comes from fontconfig (``fc-list`` /
``fc-query`` print each face's charset; fontconfig is needed anyway and caches it, so no font file
is parsed in Python). :func:`missing_glyphs` lists characters no installed font has.

Legacy helper :func:`font_for` (drawtext callers):
Latin text uses DejaVu Sans. Text holding CJK characters needs a CJK-capable font: the file named by
``SHEET2VIDEO_FONT_CJK`` first, else what fontconfig lists for the language (``fc-list :lang=zh``),
else a few well-known install locations. Lookups are cached (per language and environment value),
and the choice is deterministic so the same task renders the same bytes.
"""

from __future__ import annotations

import bisect
import functools
import os
import re
import shutil
import subprocess
import unicodedata
from typing import NamedTuple

from sheet2video.engine.text.linebreak import clusters  # noqa: F401 (titles and captions use fonts.clusters)
from sheet2video.errors import RenderError

__all__ = ["font_for", "has_cjk", "cjk_lang", "resolve", "font_issues", "missing_glyphs", "Face", "face_for", "chain", "covers", "family_of", "is_emoji"]

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


def _ranges(ch: str) -> str | None:
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
    found = {lang for lang in map(_ranges, text) if lang}
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
        return _latin_font()
    return _cjk_font(lang, os.environ.get(CJK_ENV) or "")


@functools.lru_cache(maxsize=None)
def _latin_font() -> str:
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


def _run_fc(args: list[str]) -> str:
    exe = shutil.which(args[0])
    if not exe:
        return ""
    try:
        return subprocess.run([exe, *args[1:]], capture_output=True, text=True, timeout=20, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return ""


def _fc_list(lang: str) -> list[str]:
    out = _run_fc(["fc-list", f":lang={lang}", "file"])
    paths = []
    for line in out.splitlines():
        p = line.strip().rstrip(":").strip()
        if p and os.path.isfile(p) and p.lower().endswith((".ttf", ".ttc", ".otf", ".otc")):
            paths.append(p)
    return paths


def _fc_match(pattern: str) -> str | None:
    out = _run_fc(["fc-match", "-f", "%{file}", pattern]).strip()
    return out if out and os.path.isfile(out) else None


# --------------------------------------------------------------------------------------------
# Family names, the fallback chain and glyph coverage (titles and captions)

FONTS_DIR_ENV = "SHEET2VIDEO_FONTS_DIR"
DEFAULT_FAMILY = "DejaVu Sans"
EMOJI_FAMILY = "Noto Color Emoji"
# After the requested font, in this order (only those installed count); then any installed font.
FALLBACK_FAMILIES = (
    "DejaVu Sans",
    "Noto Sans CJK SC",
    "WenQuanYi Micro Hei",
    "Noto Sans Thai",
    "Noto Sans Devanagari",
    "Noto Sans Arabic",
    "Noto Naskh Arabic",
    "Noto Sans Hebrew",
    "Noto Sans Bengali",
    "Noto Sans Tamil",
    "Noto Sans",
    "Noto Sans Symbols",
    "Noto Sans Symbols2",
)
_CJK_FAMILIES = {"zh": "Noto Sans CJK SC", "ja": "Noto Sans CJK JP", "ko": "Noto Sans CJK KR"}

_SANS_SC = ("Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei")
_SERIF_SC = ("Noto Serif CJK SC", "Source Han Serif SC", "Noto Sans CJK SC", "WenQuanYi Micro Hei")
_SANS = ("Liberation Sans", "Arimo", "Noto Sans", "DejaVu Sans")
_SERIF = ("Liberation Serif", "Tinos", "Noto Serif", "DejaVu Serif")
_MONO = ("Liberation Mono", "Cousine", "Noto Sans Mono", "DejaVu Sans Mono")

# Cloud (IMS) and common desktop font names → the nearest families installed by scripts/ensure-fonts.
# Keys are compared without case, spaces, "-", "_", ".", version numbers or weight words.
_CLOUD_TABLE: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    # Chinese sans (hei): Noto Sans CJK *is* Source Han Sans; the others are the same style.
    (("AlibabaPuHuiTi", "Alibaba PuHuiTi 2.0", "Alibaba PuHuiTi 3.0", "阿里巴巴普惠体", "AlibabaSans",
      "SourceHanSans", "SourceHanSansCN", "SourceHanSansSC", "Source Han Sans", "思源黑体", "SimHei", "黑体",
      "Microsoft YaHei", "微软雅黑", "YaHei", "PingFang SC", "PingFang", "苹方", "Hiragino Sans GB", "STHeiti",
      "华文黑体", "Heiti SC", "DengXian", "等线", "FZHei", "方正黑体", "Noto Sans SC", "HarmonyOS Sans SC"), _SANS_SC),
    # Chinese serif (song/ming), fangsong and kai: no kai face ships here; the serif is the nearest.
    (("SimSun", "宋体", "NSimSun", "新宋体", "SongTi", "STSong", "华文宋体", "SourceHanSerif", "SourceHanSerifCN",
      "SourceHanSerifSC", "Source Han Serif", "思源宋体", "Noto Serif SC", "FangSong", "仿宋", "STFangsong",
      "KaiTi", "楷体", "STKaiti", "华文楷体", "KaiTi_GB2312", "FangSong_GB2312"), _SERIF_SC),
    (("Arial", "Helvetica", "Helvetica Neue", "Segoe UI", "Tahoma", "San Francisco", "SF Pro", "Inter",
      "Open Sans", "Lato", "Montserrat", "Source Sans Pro", "Calibri", "Verdana", "Impact"), _SANS),
    (("Roboto",), ("Roboto", *_SANS)),
    (("Times New Roman", "Times", "Georgia", "Garamond", "Cambria", "Book Antiqua"), _SERIF),
    (("Courier New", "Courier", "Consolas", "Menlo", "Monaco"), _MONO),
)

_WEIGHT_WORDS = ("extrabold", "semibold", "demibold", "regular", "medium", "normal", "heavy", "black", "bold", "light", "thin")
_BOLD_WORDS = {"extrabold", "semibold", "demibold", "heavy", "black", "bold"}


class Face(NamedTuple):
    """One face of a font file (``index`` into a .ttc collection)."""

    path: str
    index: int
    family: str
    weight: int  # fontconfig weight: 80 regular, 200 bold
    slant: int  # 0 roman, 100 italic


def _key(name: str) -> str:
    return re.sub(r"[\s\-_.·]+", "", name.strip().lower())


def _base_key(name: str) -> tuple[str, bool]:
    """The key without trailing version numbers and weight words, and whether a bold weight was named."""
    key, bold = _key(name), False
    changed = True
    while changed:
        changed = False
        stripped = key.rstrip("0123456789")
        if stripped and stripped != key:
            key, changed = stripped, True
        for word in _WEIGHT_WORDS:
            if key.endswith(word) and len(key) > len(word):
                key, bold, changed = key[: -len(word)], bold or word in _BOLD_WORDS, True
    return key, bold


CLOUD_FONTS: dict[str, tuple[str, ...]] = {_base_key(n)[0]: fams for names, fams in _CLOUD_TABLE for n in names}

_FORMAT = "%{family}\t%{weight}\t%{slant}\t%{file}\t%{index}\n"


def _faces(out: str) -> list[Face]:
    faces = []
    for line in out.splitlines():
        parts = line.split("\t")
        if len(parts) != 5 or not os.path.isfile(parts[3]):
            continue
        number = lambda s: int(float((re.findall(r"[\d.]+", s) or ["0"])[0]))  # noqa: E731 (variable fonts: "[0 210]")
        for family in parts[0].split(","):
            if family.strip():
                faces.append(Face(parts[3], number(parts[4]), family.strip(), number(parts[1]), number(parts[2])))
    return faces


@functools.lru_cache(maxsize=None)
def _user_faces(folder: str) -> tuple[Face, ...]:
    if not folder or not os.path.isdir(folder):
        return ()
    faces: list[Face] = []
    for root, _dirs, files in sorted(os.walk(folder)):
        for name in sorted(files):
            if name.lower().endswith((".ttf", ".otf", ".ttc", ".otc")):
                faces += _faces(_run_fc(["fc-query", "--format", _FORMAT, os.path.join(root, name)]))
    return tuple(faces)


@functools.lru_cache(maxsize=None)
def _system_faces() -> tuple[Face, ...]:
    return tuple(sorted(_faces(_run_fc(["fc-list", "--format", _FORMAT]))))


def _catalog() -> dict[str, list[Face]]:
    """Normalised family name → faces; the user folder's faces first."""
    return _catalog_for(os.environ.get(FONTS_DIR_ENV) or "")


@functools.lru_cache(maxsize=8)
def _catalog_for(folder: str) -> dict[str, list[Face]]:
    # Built once per fonts folder: a 10,000-row plan asks for families ~30 times a row.
    out: dict[str, list[Face]] = {}
    for face in (*_user_faces(folder), *_system_faces()):
        out.setdefault(_key(face.family), []).append(face)
    return out


def _closest(faces: list[Face], bold: bool, italic: bool) -> Face:
    want_w, want_s = (200 if bold else 80), (100 if italic else 0)
    return min(faces, key=lambda f: (abs(f.weight - want_w), abs(f.slant - want_s), f.path, f.index))


def _family(family: str, bold: bool = False, italic: bool = False) -> Face | None:
    faces = _catalog().get(_key(family))
    return _closest(faces, bold, italic) if faces else None


def _lookup(name: str, bold: bool = False, italic: bool = False) -> Face | None:
    """The face for a font name (file, user folder, installed family, cloud name), None if unknown."""
    name = name.strip()
    if os.path.isfile(name):
        faces = _faces(_run_fc(["fc-query", "--format", _FORMAT, os.path.abspath(name)]))
        if faces:
            return faces[0]
        # fontconfig cannot read it: not a font (unknown → fallback); without fontconfig, trust it
        return None if shutil.which("fc-query") else Face(os.path.abspath(name), 0, os.path.basename(name), 80, 0)
    found = _family(name, bold, italic)
    if found:
        return found
    key, named_bold = _base_key(name)
    bold = bold or named_bold
    for family, faces in _catalog().items():
        if _base_key(family)[0] == key:
            return _closest(faces, bold, italic)
    for family in CLOUD_FONTS.get(key, ()):
        found = _family(family, bold, italic)
        if found:
            return found
    return None


def _script_family(text: str) -> str:
    """The default family for text: the font of its first non-Latin script, else DejaVu Sans."""
    for c in text:
        o = ord(c)
        if 0x0600 <= o <= 0x08FF or 0xFB50 <= o <= 0xFEFF:
            return "Noto Sans Arabic"
        if 0x0590 <= o <= 0x05FF or 0xFB1D <= o <= 0xFB4F:
            return "Noto Sans Hebrew"
        if 0x0E00 <= o <= 0x0E7F:
            return "Noto Sans Thai"
        if 0x0900 <= o <= 0x097F:
            return "Noto Sans Devanagari"
        if 0x0980 <= o <= 0x09FF:
            return "Noto Sans Bengali"
        if _ranges(c):
            return _CJK_FAMILIES[cjk_lang(text) or "zh"]
    return DEFAULT_FAMILY


def face_for(name: str | None, text: str = "", *, bold: bool = False, italic: bool = False) -> Face:
    """The face text in font ``name`` starts from: the named font, else the default for the text.

    Never fails while any font is installed (an unknown name falls back; :func:`font_issues` warns)."""
    found = _lookup(name, bold, italic) if name and name.strip() else None
    if found:
        return found
    for family in (_script_family(text), DEFAULT_FAMILY, *FALLBACK_FAMILIES):
        found = _family(family, bold, italic)
        if found:
            return found
    latin = _latin_font()  # raises with an install hint when no font at all is installed
    return Face(latin, 0, DEFAULT_FAMILY, 80, 0)


def chain(primary: Face, text: str = "", *, bold: bool = False, italic: bool = False) -> tuple[Face, ...]:
    """The faces tried for each character: the primary, the script fallbacks, then the emoji font
    (kept last: it also maps digits and ``#`` for keycaps, which text fonts should draw)."""
    faces = [primary]
    env = os.environ.get(CJK_ENV) or ""
    if env and os.path.isfile(env):
        faces.append(Face(os.path.abspath(env), 0, "CJK", 80, 0))
    lang = cjk_lang(text)
    families = [_CJK_FAMILIES[lang] if lang else "", *FALLBACK_FAMILIES, EMOJI_FAMILY]
    for family in families:
        face = _family(family, bold, italic) if family else None
        if face and face not in faces:
            faces.append(face)
    return tuple(faces)


@functools.lru_cache(maxsize=None)
def _charset(path: str, index: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The face's code point ranges (fontconfig's charset: ``20-7e a0-103 …``) as (starts, ends)."""
    out = _run_fc(["fc-query", f"--index={index}", "--format", "%{charset}", path])
    starts, ends = [], []
    for part in out.split():
        lo, _, hi = part.partition("-")
        try:
            starts.append(int(lo, 16))
            ends.append(int(hi or lo, 16))
        except ValueError:
            continue
    return tuple(starts), tuple(ends)


def covers(face: Face, c: str) -> bool:
    starts, ends = _charset(face.path, face.index)
    if not starts:  # coverage unknown (no fontconfig tools): trust the font rather than draw nothing
        return True
    i = bisect.bisect_right(starts, ord(c)) - 1
    return i >= 0 and ord(c) <= ends[i]


# Characters that never need a glyph of their own (joiners, variation selectors, tags, controls).
def _ignorable(c: str) -> bool:
    o = ord(c)
    return (
        unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp")
        or 0xFE00 <= o <= 0xFE0F
        or 0xE0000 <= o <= 0xE007F
        or c == "\u20e3"
    )


@functools.lru_cache(maxsize=4096)
def _any_face(c: str) -> Face | None:
    """Any installed face that has ``c`` (user folder first; sans, regular, then by name)."""
    for face in _user_faces(os.environ.get(FONTS_DIR_ENV) or ""):
        if covers(face, c):
            return face
    faces = _faces(_run_fc(["fc-list", "--format", _FORMAT, f":charset={ord(c):x}"]))
    if not faces:
        return None
    return min(faces, key=lambda f: (abs(f.weight - 80), f.slant, "serif" in f.family.lower(), f.family, f.path, f.index))


_EMOJI_BMP = {
    0x231A, 0x231B, 0x23E9, 0x23EA, 0x23EB, 0x23EC, 0x23F0, 0x23F3, 0x25FD, 0x25FE, 0x2614, 0x2615,
    *range(0x2648, 0x2654), 0x267F, 0x2693, 0x26A1, 0x26AA, 0x26AB, 0x26BD, 0x26BE, 0x26C4, 0x26C5, 0x26CE,
    0x26D4, 0x26EA, 0x26F2, 0x26F3, 0x26F5, 0x26FA, 0x26FD, 0x2705, 0x270A, 0x270B, 0x2728, 0x274C, 0x274E,
    0x2753, 0x2754, 0x2755, 0x2757, 0x2795, 0x2796, 0x2797, 0x27B0, 0x27BF, 0x2B1B, 0x2B1C, 0x2B50, 0x2B55,
}  # BMP characters shown as emoji by default (Unicode Emoji_Presentation)


def is_emoji(cluster: str) -> bool:
    """Whether a character cluster is drawn as a (colour) emoji."""
    if "\ufe0e" in cluster:
        return False
    o = ord(cluster[0])
    return "\ufe0f" in cluster or "\u20e3" in cluster or 0x1F000 <= o <= 0x1FAFF or o in _EMOJI_BMP


def _face_has(face: Face, cluster: str) -> bool:
    return all(_ignorable(c) or covers(face, c) for c in cluster)


def _neutral(cluster: str) -> bool:
    return unicodedata.category(cluster[0])[0] in "ZPN" and not is_emoji(cluster)


def cluster_face(cluster: str, faces: tuple[Face, ...]) -> Face | None:
    """The face that draws ``cluster``: emoji first with the emoji font, else the first face of the
    chain that has it, else any installed face; None when no installed font has it."""
    if is_emoji(cluster):
        for face in faces:
            if face.family == EMOJI_FAMILY and covers(face, cluster[0]):
                return face
    for face in faces:
        if _face_has(face, cluster):
            return face
    visible = [c for c in cluster if not _ignorable(c)]
    return _any_face(visible[0]) if visible else faces[0]


def runs(text: str, faces: tuple[Face, ...]) -> list[tuple[str, Face | None]]:
    """``text`` split into runs of one face each (a None face: no installed font has those
    characters). Spaces, punctuation and digits stay in the run they are in when its face has
    them, so a Thai or Arabic phrase is shaped as one run."""
    out: list[tuple[str, Face | None]] = []
    for cl in clusters(text):
        last = out[-1][1] if out else None
        if last is not None and last.family != EMOJI_FAMILY and _neutral(cl) and _face_has(last, cl):
            out[-1] = (out[-1][0] + cl, out[-1][1])
            continue
        face = cluster_face(cl, faces)
        if out and out[-1][1] == face:
            out[-1] = (out[-1][0] + cl, face)
        else:
            out.append((cl, face))
    return out


def missing_glyphs(text: str) -> list[str]:
    """Characters of ``text`` that no installed font has (each once, in order)."""
    if text.isascii():  # any text font draws ASCII (and face_for fails clearly when there is none)
        return []
    return list(_missing(text, os.environ.get(FONTS_DIR_ENV) or "", os.environ.get(CJK_ENV) or ""))


@functools.lru_cache(maxsize=4096)
def _missing(text: str, _fonts_dir: str, _cjk: str) -> tuple[str, ...]:
    # Cached per text (and font settings): a campaign repeats its titles on many rows.
    faces = chain(face_for(None, text), text)
    missing: list[str] = []
    for cl in clusters(text):
        if cl.isspace() or all(_ignorable(c) for c in cl):
            continue
        if cluster_face(cl, faces) is None and cl not in missing:
            missing.append(cl)
    return tuple(missing)


def resolve(name: str | None, text: str = "") -> str:
    """A font file for ``text`` in font ``name`` (a family name, cloud name or file path): the named
    font when it has the text's characters, else the chain font that has most of them."""
    primary = face_for(name, text)
    faces = chain(primary, text)
    counts: dict[Face, int] = {}
    for cl in clusters(text):
        if cl.isspace() or is_emoji(cl):
            continue
        face = cluster_face(cl, faces)
        if face is not None:
            counts[face] = counts.get(face, 0) + 1
    if not counts or primary in counts and counts[primary] == max(counts.values()):
        return primary.path
    return max(counts, key=lambda f: (counts[f], -faces.index(f) if f in faces else -len(faces))).path


def family_of(path: str) -> str:
    """The family name fontconfig gives a font file (for libass ``Fontname``)."""
    faces = _faces(_run_fc(["fc-query", "--format", _FORMAT, path]))
    return faces[0].family if faces else os.path.splitext(os.path.basename(path))[0]


def font_issues(name: str | None, text: str = "") -> list[tuple[str, str]]:
    """Plan-time problems of a font name and a text: (message, "warning") pairs. Nothing here fails a
    render: an unknown font falls back to the default, a missing glyph is left out."""
    issues: list[tuple[str, str]] = []
    if name and name.strip() and _lookup(name) is None:
        fallback = face_for(None, text).family
        issues.append((
            f"font {name!r} is not installed here and has no known substitute; the local engine uses {fallback} "
            f"(put the font file in ${FONTS_DIR_ENV} to use it)",
            "warning",
        ))
    for cl in missing_glyphs(text):
        code = " ".join(f"U+{ord(c):04X}" for c in cl)
        issues.append((f"no installed font has the character {cl!r} ({code}); it is left out", "warning"))
    return issues
