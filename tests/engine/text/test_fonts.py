"""Font names → installed faces, the fallback chain, glyph coverage (fontconfig, no rendering)."""

from __future__ import annotations

import os
import shutil

from sheet2video.engine.text import font_catalog, fonts, linebreak


def family(name, text="", **kw):
    return fonts.face_for(name, text, **kw).family


def test_cloud_font_names_map_to_the_nearest_installed_family():
    for name in ("AlibabaPuHuiTi", "Alibaba PuHuiTi 2.0", "SourceHanSansCN", "思源黑体", "SimHei", "黑体",
                 "Microsoft YaHei", "微软雅黑", "PingFang SC"):
        assert family(name) == "Noto Sans CJK SC", name
    for name in ("SimSun", "宋体", "KaiTi", "楷体", "FangSong"):
        assert family(name) == "Noto Serif CJK SC", name
    for name in ("Arial", "Helvetica", "Roboto"):
        assert family(name) in ("Liberation Sans", "Arimo", "Roboto", "Noto Sans", "DejaVu Sans"), name
    assert family("Times New Roman") in ("Liberation Serif", "Tinos", "Noto Serif", "DejaVu Serif")


def test_a_weight_in_the_name_picks_the_bold_face():
    bold = fonts.face_for("AlibabaPuHuiTi-2-85-Bold")
    assert bold.family == "Noto Sans CJK SC" and bold.weight >= 180
    assert fonts.face_for("AlibabaPuHuiTi").weight < 150
    assert fonts.face_for("DejaVu Sans", bold=True).path.endswith("DejaVuSans-Bold.ttf")
    assert fonts.face_for("DejaVu Sans", bold=True, italic=True).path.endswith("DejaVuSans-BoldOblique.ttf")


def test_installed_families_match_without_case_or_spaces():
    assert fonts.face_for("dejavu serif").path.endswith("DejaVuSerif.ttf")
    assert fonts.face_for("NotoSansThai").family == "Noto Sans Thai"
    assert fonts.font_issues("dejavu-serif", "x") == []


def test_unknown_font_is_a_warning_and_falls_back():
    issues = fonts.font_issues("Comic Sans Deluxe 9000", "Hello")
    assert len(issues) == 1 and issues[0][1] == "warning"
    assert "'Comic Sans Deluxe 9000'" in issues[0][0] and font_catalog.FONTS_DIR_ENV in issues[0][0]
    assert family("Comic Sans Deluxe 9000", "Hello") == fonts.DEFAULT_FAMILY
    assert family("Comic Sans Deluxe 9000", "盒马") == "Noto Sans CJK SC"  # the default for the text


def test_user_fonts_folder_comes_first(tmp_path, monkeypatch):
    src = fonts.face_for("DejaVu Serif").path
    mine = tmp_path / "brand" / "OurBrand.ttf"
    mine.parent.mkdir()
    shutil.copy(src, mine)
    monkeypatch.setenv(font_catalog.FONTS_DIR_ENV, str(tmp_path))
    assert fonts.face_for("DejaVu Serif").path == str(mine)
    monkeypatch.delenv(font_catalog.FONTS_DIR_ENV)
    assert fonts.face_for("DejaVu Serif").path == src


def test_a_font_file_path_is_used_as_is():
    path = fonts.face_for("DejaVu Serif").path
    assert fonts.face_for(path).path == path
    assert fonts.font_issues(path, "x") == []


def test_default_font_follows_the_script():
    assert family(None, "Hello") == "DejaVu Sans"
    assert family(None, "盒马鲜生") == "Noto Sans CJK SC"
    assert family(None, "こんにちは") == "Noto Sans CJK JP"
    assert family(None, "สวัสดี") == "Noto Sans Thai"
    assert family(None, "नमस्ते") == "Noto Sans Devanagari"
    assert family(None, "مرحبا") == "Noto Sans Arabic"
    assert family(None, "שלום") == "Noto Sans Hebrew"


def test_runs_split_by_coverage_and_keep_spaces_with_their_script():
    text = "Hello 🎉 สวัสดี ครับ 50%"
    runs = fonts.runs(text, fonts.chain(fonts.face_for(None, text), text))
    assert [(t, f.family) for t, f in runs] == [
        ("Hello ", "DejaVu Sans"), ("🎉", "Noto Color Emoji"), (" สวัสดี ครับ ", "Noto Sans Thai"), ("50%", "DejaVu Sans"),
    ]
    for part, face in runs:
        assert all(fonts.covers(face, c) for c in part)


def test_emoji_sequences_stay_whole():
    text = "👨‍👩‍👧🇨🇳1️⃣❤️"
    assert linebreak.clusters(text) == ["👨‍👩‍👧", "🇨🇳", "1️⃣", "❤️"]
    runs = fonts.runs(text, fonts.chain(fonts.face_for(None, text), text))
    assert [(t, f.family) for t, f in runs] == [(text, "Noto Color Emoji")]
    assert fonts.runs("12", fonts.chain(fonts.face_for(None, "12")))[0][1].family == "DejaVu Sans"  # not keycaps


def test_missing_glyphs_are_named():
    assert fonts.missing_glyphs("Grand opening 🎉 盒马 สวัสดี नमस्ते مرحبا") == []
    assert fonts.missing_glyphs("sale \U000f0001 now") == ["\U000f0001"]
    (message, level), = fonts.font_issues(None, "sale \U000f0001")
    assert level == "warning" and "U+F0001" in message


def test_resolve_gives_a_file_that_has_the_text():
    assert os.path.basename(fonts.resolve(None, "Hello")) == "DejaVuSans.ttf"
    assert "CJK" in fonts.resolve("Arial", "盒马鲜生开业")  # the named font lacks them: the chain's
    assert fonts.resolve("DejaVu Serif", "Hello").endswith("DejaVuSerif.ttf")
    assert fonts.resolve("no such font", "สวัสดี").endswith("NotoSansThai-Regular.ttf")
    assert font_catalog.family_of(fonts.resolve(None, "Hello")) == "DejaVu Sans"


def test_plan_time_checks_name_the_field():
    from sheet2video.cloud.checks import check_params

    params = {
        "InputConfig": {"MediaGroupArray": [{"GroupName": "a", "MediaArray": ["x.mp4"]}],
                        "TitleArray": ["Sale 🎉 สวัสดี", "bad \U000f0001"],
                        "SubHeadingArray": [{"Level": 1, "TitleArray": ["fine", "also \U000f0002"]}]},
        "OutputConfig": {"MediaURL": "out_{index}.mp4"},
        "EditingConfig": {
            "TitleConfig": {"Font": "KaiTi", "Alignment": "TopCenter", "FontFace": {"Bold": True}, "Outline": 2},
            "SubHeadingConfig": {"1": {"Font": "Wingdings Pro", "Alignment": "Middle", "FontColor": "#12"}},
            "SpeechConfig": {"AsrConfig": {"Font": "AlibabaPuHuiTi"}},
        },
    }
    issues = {(i.path, i.level) for i in check_params(params)}
    assert issues == {
        ("EditingConfig.SubHeadingConfig.1.FontColor", "error"),
        ("EditingConfig.SubHeadingConfig.1.Alignment", "error"),
        ("EditingConfig.SubHeadingConfig.1.Font", "warning"),
        ("InputConfig.TitleArray[1]", "warning"),
        ("InputConfig.SubHeadingArray[0].TitleArray[1]", "warning"),
    }


def test_a_file_that_is_not_a_font_falls_back_with_a_warning(tmp_path):
    bogus = tmp_path / "brand.ttf"
    bogus.write_text("not a font")
    assert fonts.face_for(str(bogus), "Hello").family == fonts.DEFAULT_FAMILY
    assert [level for _, level in fonts.font_issues(str(bogus), "Hello")] == ["warning"]
