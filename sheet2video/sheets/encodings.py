"""Which text encoding a CSV is in: shared by reading and writing back, so both agree.

The order (documented in the README): ``--encoding`` when given; a byte-order mark (UTF-8,
UTF-16 LE/BE: Excel's "Unicode text"); UTF-8; GB18030 when the bytes decode as GB18030 and the
non-ASCII text is mostly common Chinese (GB2312) characters, as CSVs saved by Excel in China are;
then charset-normalizer's best guess (cp1252, Shift_JIS, Big5, …). Anything but UTF-8 found
without ``--encoding`` is stated in a notice.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass
from pathlib import Path

from sheet2video.errors import SheetError

__all__ = ["Decoded", "decode_text"]

_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
# the code pages spreadsheets are most often saved in, preferred among equally good guesses
_PREFERRED = ("cp1252", "cp1251", "cp932", "shift_jis", "big5", "cp950", "euc_kr", "cp949")
_GB2312_SHARE = 0.9  # of the non-ASCII characters, for GB18030 to be taken without asking


@dataclass(frozen=True)
class Decoded:
    text: str
    codec: str                  # the Python codec of the text after the BOM
    bom: bytes = b""            # the byte-order mark in front of it (kept when writing back)
    notice: str | None = None   # what was guessed, for the user


def decode_text(path: Path, data: bytes, encoding: str | None) -> Decoded:
    """Bytes of a CSV to text, in the order the module describes; SheetError (one line) on failure."""
    name = _lookup(encoding) if encoding else None
    for bom, codec in _BOMS:
        if data.startswith(bom) and (name is None or name.replace("-sig", "").startswith(codec[:6])):
            return Decoded(_decode(path, data[len(bom):], codec, encoding), codec, bom)
    if name is not None:
        codec = {"utf-8-sig": "utf-8", "utf-16": "utf-16-le"}.get(name, name)
        return Decoded(_decode(path, data, codec, encoding), codec)
    if b"\x00" in data[:4096]:
        raise SheetError(f"{path}: looks like a binary file, not a CSV")
    try:
        return Decoded(data.decode("utf-8"), "utf-8")
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError:
        text = None
    if text is not None and _mostly_gb2312(text):
        return Decoded(text, "gb18030", notice=_notice("GB18030"))
    best = _best_guess(data)
    if best is None:
        _decode(path, data, "utf-8", None)  # raises, naming the line
    return Decoded(data.decode(best), best, notice=_notice(best))


def _lookup(encoding: str) -> str:
    try:
        return codecs.lookup(encoding).name
    except LookupError:
        raise SheetError(f"unknown encoding {encoding!r}") from None


def _decode(path: Path, data: bytes, codec: str, given: str | None) -> str:
    try:
        return data.decode(codec)
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        hint = "" if given else "; pass --encoding, e.g. --encoding gbk or --encoding cp1252"
        raise SheetError(f"{path}: line {line} is not valid {given or codec} text (byte 0x{data[error.start]:02x}){hint}") from None


def _mostly_gb2312(text: str) -> bool:
    wide = [c for c in text if ord(c) > 127]
    common = sum(1 for c in wide if _in_gb2312(c))
    return bool(wide) and common >= _GB2312_SHARE * len(wide)


def _in_gb2312(char: str) -> bool:
    try:
        char.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return True


def _best_guess(data: bytes) -> str | None:
    """charset-normalizer's guess; on short text it often ties several code pages (cp1250 and
    cp1252 read "é" alike but not "è"), and then the one spreadsheets most often use wins."""
    from charset_normalizer import from_bytes  # only for files that are neither UTF-8 nor GB18030

    matches = list(from_bytes(data))
    if not matches:
        return None
    best = matches[0]
    tied = [m for m in matches if m.chaos <= best.chaos + 0.01 and m.coherence >= best.coherence - 0.01]
    for preferred in _PREFERRED:
        for match in tied:
            if preferred in (_codec(n) for n in match.could_be_from_charset):
                return preferred
    return _codec(best.encoding)


def _codec(name: str) -> str:
    try:
        return codecs.lookup(name).name
    except LookupError:
        return name


def _notice(codec: str) -> str:
    return f"read as {codec} (not UTF-8); pass --encoding to choose"
