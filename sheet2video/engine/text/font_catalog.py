"""The installed fonts indexed by family name, and font names resolved to one installed face.

A font name (``TitleConfig`` / ``SubHeadingConfig`` / ``AsrConfig`` ``Font``) is looked up, in order:

1. a font file path that exists, used as is;
2. the user fonts folder, ``$SHEET2VIDEO_FONTS_DIR`` (any .ttf/.otf/.ttc there, matched by family name);
3. the fonts fontconfig knows (``fc-list``), matched by family name (case, spaces, ``-``/``_`` ignored);
4. :data:`CLOUD_FONTS`: names the cloud offers (AlibabaPuHuiTi, SimSun/宋体, KaiTi/楷体, Arial …) mapped to
   the nearest family installed here (the Noto CJK fonts are Source Han Sans/Serif under another name).

A trailing weight in the name (``AlibabaPuHuiTi-Bold``, ``…-85-Bold``) asks for the bold face. Faces
come from fontconfig (``fc-list`` / ``fc-query``), so no font file is parsed in Python.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
from typing import NamedTuple

from sheet2video.engine.text.font_files import run_fc

__all__ = ["FONTS_DIR_ENV", "CLOUD_FONTS", "Face", "user_faces", "faces_with", "find_family", "find_font", "family_of"]

FONTS_DIR_ENV = "SHEET2VIDEO_FONTS_DIR"

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
def user_faces(folder: str) -> tuple[Face, ...]:
    """The faces of the font files in the user fonts folder (and its subfolders), in name order."""
    if not folder or not os.path.isdir(folder):
        return ()
    faces: list[Face] = []
    for root, _dirs, files in sorted(os.walk(folder)):
        for name in sorted(files):
            if name.lower().endswith((".ttf", ".otf", ".ttc", ".otc")):
                faces += _faces(run_fc(["fc-query", "--format", _FORMAT, os.path.join(root, name)]))
    return tuple(faces)


@functools.lru_cache(maxsize=None)
def _system_faces() -> tuple[Face, ...]:
    return tuple(sorted(_faces(run_fc(["fc-list", "--format", _FORMAT]))))


def faces_with(c: str) -> list[Face]:
    """The installed faces fontconfig says have the character ``c``."""
    return _faces(run_fc(["fc-list", "--format", _FORMAT, f":charset={ord(c):x}"]))


def _catalog() -> dict[str, list[Face]]:
    """Normalised family name → faces; the user folder's faces first."""
    return _catalog_for(os.environ.get(FONTS_DIR_ENV) or "")


@functools.lru_cache(maxsize=8)
def _catalog_for(folder: str) -> dict[str, list[Face]]:
    # Built once per fonts folder: a 10,000-row plan asks for families ~30 times a row.
    out: dict[str, list[Face]] = {}
    for face in (*user_faces(folder), *_system_faces()):
        out.setdefault(_key(face.family), []).append(face)
    return out


def _closest(faces: list[Face], bold: bool, italic: bool) -> Face:
    want_w, want_s = (200 if bold else 80), (100 if italic else 0)
    return min(faces, key=lambda f: (abs(f.weight - want_w), abs(f.slant - want_s), f.path, f.index))


def find_family(family: str, bold: bool = False, italic: bool = False) -> Face | None:
    """The installed face of ``family`` nearest the weight and slant asked for, None if not installed."""
    faces = _catalog().get(_key(family))
    return _closest(faces, bold, italic) if faces else None


def find_font(name: str, bold: bool = False, italic: bool = False) -> Face | None:
    """The face for a font name (file, user folder, installed family, cloud name), None if unknown."""
    name = name.strip()
    if os.path.isfile(name):
        faces = _faces(run_fc(["fc-query", "--format", _FORMAT, os.path.abspath(name)]))
        if faces:
            return faces[0]
        # fontconfig cannot read it: not a font (unknown → fallback); without fontconfig, trust it
        return None if shutil.which("fc-query") else Face(os.path.abspath(name), 0, os.path.basename(name), 80, 0)
    found = find_family(name, bold, italic)
    if found:
        return found
    key, named_bold = _base_key(name)
    bold = bold or named_bold
    for family, faces in _catalog().items():
        if _base_key(family)[0] == key:
            return _closest(faces, bold, italic)
    for family in CLOUD_FONTS.get(key, ()):
        found = find_family(family, bold, italic)
        if found:
            return found
    return None


def family_of(path: str) -> str:
    """The family name fontconfig gives a font file (for libass ``Fontname``)."""
    faces = _faces(run_fc(["fc-query", "--format", _FORMAT, path]))
    return faces[0].family if faces else os.path.splitext(os.path.basename(path))[0]
