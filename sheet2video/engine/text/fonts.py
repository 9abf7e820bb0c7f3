"""Fonts for titles and captions: the face a text starts from, a per-character fallback chain,
glyph coverage and the plan-time font warnings.

:func:`face_for` takes a font name (resolved by :mod:`font_catalog`: file, user fonts folder,
installed family, cloud name) and otherwise the default family for the text's script
(:data:`DEFAULT_FAMILY` for Latin) — never a failed render; :func:`font_issues` warns at plan time.

Characters the chosen font lacks are drawn with the first font of :data:`FALLBACK_FAMILIES` that has
them (CJK, Thai, Devanagari, Arabic, Hebrew, …), emoji with :data:`EMOJI_FAMILY` in colour, and
anything else with whichever installed font has it. Coverage comes from fontconfig (``fc-query``
prints each face's charset; fontconfig is needed anyway and caches it, so no font file is parsed in
Python). :func:`missing_glyphs` lists characters no installed font has.
"""

from __future__ import annotations

import bisect
import functools
import os
import unicodedata

from sheet2video.engine.text.font_catalog import FONTS_DIR_ENV, Face, faces_with, find_family, find_font, user_faces
from sheet2video.engine.text.font_files import CJK_ENV, cjk_lang, cjk_script, latin_font, run_fc
from sheet2video.engine.text.linebreak import clusters

__all__ = [
    "DEFAULT_FAMILY", "EMOJI_FAMILY", "FALLBACK_FAMILIES", "face_for", "chain", "covers", "is_emoji",
    "cluster_face", "runs", "missing_glyphs", "resolve", "font_issues",
]

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


# --------------------------------------------------------------------------------------------
# The face a text starts from, and the chain of faces tried after it


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
        if cjk_script(c):
            return _CJK_FAMILIES[cjk_lang(text) or "zh"]
    return DEFAULT_FAMILY


def face_for(name: str | None, text: str = "", *, bold: bool = False, italic: bool = False) -> Face:
    """The face text in font ``name`` starts from: the named font, else the default for the text.

    Never fails while any font is installed (an unknown name falls back; :func:`font_issues` warns)."""
    found = find_font(name, bold, italic) if name and name.strip() else None
    if found:
        return found
    for family in (_script_family(text), DEFAULT_FAMILY, *FALLBACK_FAMILIES):
        found = find_family(family, bold, italic)
        if found:
            return found
    latin = latin_font()  # raises with an install hint when no font at all is installed
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
        face = find_family(family, bold, italic) if family else None
        if face and face not in faces:
            faces.append(face)
    return tuple(faces)


# --------------------------------------------------------------------------------------------
# Glyph coverage


@functools.lru_cache(maxsize=None)
def _charset(path: str, index: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The face's code point ranges (fontconfig's charset: ``20-7e a0-103 …``) as (starts, ends)."""
    out = run_fc(["fc-query", f"--index={index}", "--format", "%{charset}", path])
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
    for face in user_faces(os.environ.get(FONTS_DIR_ENV) or ""):
        if covers(face, c):
            return face
    faces = faces_with(c)
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


# --------------------------------------------------------------------------------------------
# Text split across the chain: runs, missing glyphs, one file for the text, plan-time warnings


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


def font_issues(name: str | None, text: str = "") -> list[tuple[str, str]]:
    """Plan-time problems of a font name and a text: (message, "warning") pairs. Nothing here fails a
    render: an unknown font falls back to the default, a missing glyph is left out."""
    issues: list[tuple[str, str]] = []
    if name and name.strip() and find_font(name) is None:
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
