"""Image-text mode (``InputConfig.MediaArray`` with a ``SpeechTextArray``): which media to show
under which sentence — by the words they share.

This is word matching, not seeing. The cloud matches pictures to sentences with a vision model; no
vision model ships inside a package reachable from this project's registries (the CLIP-style
packages fetch their weights from a model hub at run time, which the project's machines cannot
reach), so a media is known by its words: its file name (``red-sneaker_01.jpg`` → red, sneaker)
and its ``EditingConfig.MediaConfig.MediaMetaDataArray`` entry's ``Title``, ``Description`` and
``Tags`` (a local extension: a string or a list of strings; the sheet's ``media_tags`` column fills
``Description``). Media that share no word with a sentence are shown in their given order.

Words are compared after normalisation: NFKC, casefold, accents and punctuation dropped, a tiny
English stemmer (plural -s/-es/-ies, -ing, -ed, a final -e) and an English stop-word list. Chinese,
Japanese and Korean have no spaces between words: their runs are cut into overlapping character
pairs (bigrams, as search engines index CJK text), so ``运动鞋`` in a tag meets ``红色运动鞋`` in a
sentence whatever the phrase segmentation would have been (BudouX phrases differ between a short
tag and a whole sentence; bigrams do not).
"""

from __future__ import annotations

import random
import re
import unicodedata
from typing import Any
from urllib.parse import unquote, urlsplit

from sheet2video.engine.media.sources import MEDIA_ID

__all__ = ["STOP_WORDS", "text_words", "media_words", "metadata_by_media", "match_media"]

STOP_WORDS = frozenset("""
a about above after again against all am an and any are as at be because been before being below
between both but by can could did do does doing down during each few for from further had has have
having he her here hers herself him himself his how i if in into is it its itself just let me more
most my myself no nor not now of off on once only or other our ours ourselves out over own same
she should so some such than that the their theirs them themselves then there these they this
those through to too under until up very was we were what when where which while who whom why
will with would you your yours yourself yourselves get got one also us
""".split())

# kana, CJK ideographs, Hangul (after NFKC, so half-width kana and compatibility forms are folded)
_CJK = "\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af\u1100-\u11ff"
_TOKEN = re.compile(f"[{_CJK}]+|[^\\W_{_CJK}]+")
_EXTENSION = re.compile(r"\.[A-Za-z0-9]{1,5}$")
_CJK_RUN = re.compile(f"^[{_CJK}]")


def _stem(word: str) -> str:
    """A tiny English stemmer: one key for sneaker/sneakers, box/boxes, run/running, bake/baked,
    battery/batteries (keys need not be words, only the same on both sides)."""
    if len(word) > 4 and word.endswith("ies"):
        word = word[:-2]  # batteries → batteri, as battery below
    elif (len(word) > 4 and word.endswith("es") and word[-3] in "sxz") or word.endswith(("ches", "shes")):
        word = word[:-2]
    elif len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    for suffix in ("ing", "ed"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "aeiouslz":
                word = word[:-1]  # running → run
            break
    if len(word) > 3 and word.endswith("e"):
        word = word[:-1]  # make and making meet at "mak"
    elif len(word) > 2 and word.endswith("y") and word[-2] not in "aeiou":
        word = word[:-1] + "i"  # battery, cookie and their plurals meet at "batteri", "cooki"
    return word


def _bigrams(run: str) -> set[str]:
    return {run} if len(run) == 1 else {run[i : i + 2] for i in range(len(run) - 1)}


def text_words(text: str) -> set[str]:
    """The normalised words of a text (what two texts must share to match)."""
    words: set[str] = set()
    for token in _TOKEN.findall(unicodedata.normalize("NFKC", text).casefold()):
        if _CJK_RUN.match(token):
            words |= _bigrams(token)
            continue
        token = "".join(c for c in unicodedata.normalize("NFKD", token) if not unicodedata.combining(c))
        if len(token) < 2 or token.isdigit() or token in STOP_WORDS:
            continue
        words.add(_stem(token))
    return words


def _split_camel(name: str) -> str:
    """``CaféCrème2024`` → ``Café Crème 2024``, ``HTTPServer`` → ``HTTP Server`` (any script's cases)."""
    out = []
    for i, c in enumerate(name):
        before, after = name[i - 1] if i else "", name[i + 1 : i + 2]
        if before and (
            (before.islower() and c.isupper())
            or (before.isupper() and c.isupper() and after.islower())
            or (before.isdigit() != c.isdigit() and before.isalnum() and c.isalnum())
        ):
            out.append(" ")
        out.append(c)
    return "".join(out)


def _file_name(reference: str) -> str:
    """``https://x/a/red-sneaker_01.jpg?v=2`` → ``red-sneaker_01``: the last path part, no extension."""
    reference = reference.strip()
    if "://" in reference or reference.lower().startswith("file:"):
        reference = urlsplit(reference).path
    name = unquote(reference).replace("\\", "/").rsplit("/", 1)[-1]
    return "" if MEDIA_ID.match(name) else _EXTENSION.sub("", name)  # an IMS media ID names nothing


def media_words(reference: str, meta: dict[str, Any] | None) -> set[str]:
    """A media's words: its file name's (split at ``_ - .``, spaces, camelCase and digits; the whole
    ``iPhone15`` is kept beside ``phone``) and its metadata's ``Title``, ``Description`` and ``Tags``."""
    name = _file_name(reference)
    words = text_words(name) | text_words(_split_camel(name))
    meta = meta if isinstance(meta, dict) else {}
    tags = meta.get("Tags")
    texts = [meta.get("Title"), meta.get("Description"), *(tags if isinstance(tags, list) else [tags])]
    for text in texts:
        if isinstance(text, str):
            words |= text_words(text)
    return words


def metadata_by_media(editing: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    """``MediaConfig.MediaMetaDataArray`` entries by their ``Media`` (the first entry of a media wins)."""
    config = (editing or {}).get("MediaConfig") if isinstance(editing, dict) else None
    entries = config.get("MediaMetaDataArray") if isinstance(config, dict) else None
    out: dict[str, dict[str, Any]] = {}
    for meta in entries if isinstance(entries, list) else []:
        if isinstance(meta, dict) and isinstance(meta.get("Media"), str):
            out.setdefault(meta["Media"], meta)
    return out


def match_media(sentences: list[str], media: list[set[str]], rng: random.Random) -> list[int]:
    """For each sentence, the index of the media to show under it.

    Sentences are taken in rounds of ``len(media)``: within a round every media is shown at most
    once, so no media is used twice before every media has been used. In a round, the sentence and
    media sharing the most words are paired first (ties: the earlier sentence, then the earlier
    media); sentences sharing no word with any media left take the unused media in order. The first
    round keeps the given order; later rounds use an order drawn from ``rng`` (a long script does
    not replay the first round), and never open with the media that closed the round before.
    """
    if not media:
        raise ValueError("no media to match")
    said = [text_words(s) for s in sentences]
    picks: list[int] = []
    for start in range(0, len(said), len(media)):
        order = list(range(len(media)))
        if start:
            rng.shuffle(order)
        picks += _round(said[start : start + len(media)], media, order, picks[-1] if picks else None)
    return picks


def _round(said: list[set[str]], media: list[set[str]], order: list[int], previous: int | None) -> list[int]:
    """One round (at most one sentence per media); ``previous`` never goes to its first sentence."""
    banned = previous if len(order) > 1 else None
    pairs = sorted((-len(words & media[m]), s, rank, m)
                   for s, words in enumerate(said) for rank, m in enumerate(order) if media[m] & words)
    chosen: dict[int, int] = {}  # sentence → media
    for _, s, _, m in pairs:
        if s not in chosen and m not in chosen.values() and not (s == 0 and m == banned):
            chosen[s] = m
    taken = set(chosen.values())
    free = [m for m in order if m not in taken]
    for s in range(len(said)):
        if s not in chosen:
            m = next((m for m in free if not (s == 0 and m == banned)), free[0])
            chosen[s] = m
            free.remove(m)
    picks = [chosen[s] for s in range(len(said))]
    if banned is not None and picks[0] == banned and len(picks) > 1:
        picks[0], picks[1] = picks[1], picks[0]  # only when every other media went to a matched sentence
    return picks
