"""Line breaking shared by titles and captions: phrase units for CJK/Thai, kinsoku, balance, fit."""

from __future__ import annotations

from sheet2video.engine.text.linebreak import NO_END, NO_START, balanced, fit, units, wrap


def mono(t: str) -> float:  # one unit of width per character
    return float(len(t))


def test_units_join_back_to_the_text():
    for text in ["Hello, world! (quite) a test.", "今天是晴天，我们一起去公园散步吧。", "สวัสดีครับ วันนี้อากาศดีมาก", "日本語のテキストを、正しく改行します。"]:
        assert "".join(units(text)) == text


def test_chinese_breaks_between_phrases_not_inside_words():
    u = units("我们一起去公园散步吧")
    assert "公园" in u and "散步" in u[-2:] or "散步吧" in u  # words stay whole
    for line in wrap("今天是晴天，我们一起去公园散步吧。", 7, mono):
        assert "公" not in line or "公园" in line


def test_kinsoku_no_line_starts_with_closing_or_ends_with_opening_marks():
    text = "他说：「今天（星期一）的天气，真的很好！」我们出发吧。"
    for width in range(3, 14):
        for line in wrap(text, width, mono):
            assert line[0] not in NO_START, (width, line)
            assert line[-1] not in NO_END, (width, line)


def test_latin_lines_are_balanced():
    lines = balanced("Slow steeped for eighteen hours, smooth and cold", 20, mono)
    lengths = [len(x) for x in lines]
    assert len(lines) == 3 and max(lengths) - min(lengths) <= 3, lines


def test_a_word_wider_than_the_frame_shrinks_then_breaks_but_is_never_cut():
    size, lines = fit("Supercalifragilisticexpialidocious", 100, lambda s: lambda t: len(t) * s * 0.5, 20, max_lines=2)
    assert size < 20 and "".join(lines) == "Supercalifragilisticexpialidocious"
    assert all(len(x) * size * 0.5 <= 100 for x in lines)
    size, lines = fit("Big sale", 100, lambda s: lambda t: len(t) * s * 0.5, 20, max_lines=2)
    assert (size, lines) == (20, ["Big sale"])
