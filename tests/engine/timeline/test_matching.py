"""Image-text mode: media matched to sentences by the words they share (file names, metadata
Title / Description / Tags, CJK by character pairs), then in order; every media before any twice."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from sheet2video.engine.timeline.matching import match_media, media_words, metadata_by_media, text_words


def words_of(*references, meta=None):
    meta = meta or {}
    return [media_words(r, meta.get(r)) for r in references]


def test_file_names_match_the_sentence_that_names_them():
    media = words_of("media/coffee-cup.png", "https://cdn.example.com/shop/red-sneaker_01.jpg?v=3&w=200",
                     "file:///photos/SummerBeachParty.mp4")
    sentences = ["Our red sneakers are made for running.", "A day at the beach.", "Coffee first."]
    assert match_media(sentences, media, random.Random(1)) == [1, 2, 0]


def test_file_name_words_are_split_and_normalised():
    assert media_words("red-sneaker_01.jpg", None) == {"red", "sneaker"}
    assert media_words("https://x.example/a/b/Caf%C3%A9Cr%C3%A8me.webp?token=abc", None) >= text_words("café crème")
    assert "phon" in media_words("C:\\shots\\iPhone15.mov", None)  # camelCase and digits split; the stem of phone
    assert media_words("0123456789abcdef0123456789abcdef", None) == set()  # an IMS media ID names nothing
    assert text_words("The boxes, the watches and the batteries!") == text_words("box watch battery")
    assert text_words("Running and baked") == text_words("run bake")
    assert text_words("the and of is") == set()  # stop words only


def test_metadata_title_description_and_tags_count():
    editing = {"MediaConfig": {"MediaMetaDataArray": [
        {"Media": "IMG_0001.jpg", "Title": "Espresso machine"},
        {"Media": "IMG_0002.jpg", "Description": "latte art, milk foam"},
        {"Media": "IMG_0003.jpg", "Tags": ["mountain", "hiking"]},
        {"Media": "IMG_0003.jpg", "Tags": "ignored: the first entry of a media wins"},
    ]}}
    meta = metadata_by_media(editing)
    media = words_of("IMG_0001.jpg", "IMG_0002.jpg", "IMG_0003.jpg", meta=meta)
    sentences = ["We went hiking in the mountains.", "Pour the milk slowly.", "Our espresso machines are fast."]
    assert match_media(sentences, media, random.Random(0)) == [2, 1, 0]
    assert media_words("x.jpg", {"Tags": "foam"}) == {"foam"}  # Tags as a plain string too


def test_chinese_and_japanese_sentences_match_their_tags():
    media = [media_words("a.jpg", {"Description": "咖啡"}), media_words("b.jpg", {"Tags": ["运动鞋"]}),
             media_words("c.jpg", {"Tags": "スニーカー"})]
    sentences = ["这双红色运动鞋很舒服。", "赤いスニーカーは軽いです。", "早上来一杯咖啡吧。"]
    assert match_media(sentences, media, random.Random(0)) == [1, 2, 0]


def test_no_shared_word_falls_back_to_the_given_order():
    media = words_of("a.jpg", "b.jpg", "lemon.jpg", "d.jpg")
    sentences = ["Hello there.", "Fresh lemons today.", "Nothing in common.", "Still nothing."]
    # the lemon sentence takes its media; the others take the unused media in order
    assert match_media(sentences, media, random.Random(0)) == [0, 2, 1, 3]
    assert match_media(["x", "y", "z"], words_of("a.jpg", "b.jpg", "c.jpg"), random.Random(0)) == [0, 1, 2]


def test_the_strongest_pair_wins_and_ties_go_to_the_earlier_media():
    media = [{"shoe"}, {"red", "sho"}, {"sho"}]
    # both media 1 and 2 share "shoe" with the first sentence; media 1 shares two words with the second
    assert match_media(["A shoe.", "A red shoe."], [{"coffe"}, *media[1:]], random.Random(0)) == [2, 1]
    assert match_media(["A shoe."], [{"sho"}, {"sho"}], random.Random(0)) == [0]


@pytest.mark.parametrize("media_count, sentence_count", [(3, 7), (4, 4), (5, 12), (2, 9)])
def test_every_media_is_used_before_any_is_used_twice(media_count, sentence_count):
    media = [{f"word{m}"} for m in range(media_count)]
    # every sentence names media 0: matching alone would show it again and again
    sentences = [f"word0 and word{s % media_count}" for s in range(sentence_count)]
    picks = match_media(sentences, media, random.Random(7))
    for end in range(1, len(picks) + 1):
        counts = Counter(picks[:end])
        assert max(counts.values()) - min(counts.get(m, 0) for m in range(media_count)) <= 1, picks[:end]
    assert all(a != b for a, b in zip(picks, picks[1:])), picks  # never the same media twice in a row


def test_deterministic_given_the_generator():
    media = [{f"w{m}"} for m in range(4)]
    sentences = [f"sentence {s}" for s in range(13)]
    first = match_media(sentences, media, random.Random(42))
    assert first == match_media(sentences, media, random.Random(42))
    assert first[:4] == [0, 1, 2, 3]  # the first round keeps the given order
    later = {tuple(match_media(sentences, media, random.Random(seed))[4:]) for seed in range(10)}
    assert len(later) > 1  # later rounds are drawn, so a long script does not replay the first round


def test_no_media_is_an_error_and_no_sentence_needs_none():
    with pytest.raises(ValueError):
        match_media(["Hi."], [], random.Random(0))
    assert match_media([], [{"a"}], random.Random(0)) == []
