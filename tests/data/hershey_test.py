"""Tests for sketchembednet.data.hershey (the hershey dataset's source), on the real package."""

import doctest

import numpy as np
import pytest
from HersheyFonts import HersheyFonts

from sketchembednet.data import hershey
from sketchembednet.data import strokes
from sketchembednet.data.errors import DataFileError


@pytest.fixture(scope="module")
def fonts():
    return hershey.load_fonts()


def test_every_font_and_glyph_is_enumerated(fonts):
    assert sorted(fonts) == hershey.FONT_NAMES == sorted(HersheyFonts().default_font_names)
    assert {f: len(g) for f, g in fonts.items()} == hershey.FONTS
    glyphs = [g for font_glyphs in fonts.values() for g in font_glyphs]
    assert len(glyphs) == 3170
    assert sum(1 for g in glyphs if g.polylines) == 3067
    assert len({g.id for g in glyphs}) == 3170


def test_parser_agrees_with_the_package_api(fonts):
    """Every glyph of every font: the same polylines and glyph number as HersheyFonts."""
    package = HersheyFonts()
    for name, glyphs in fonts.items():
        package.load_default_font(name)
        by_key = package.all_glyphs
        for g in glyphs:
            theirs = by_key[chr(hershey.FIRST_CODE + g.index)]
            assert g.number == theirs.font_charcode
            ours = [[tuple(int(v) for v in p) for p in line] for line in g.polylines]
            assert ours == [list(s) for s in theirs.strokes if s], g.id


def test_capital_a_is_upright_with_y_down(fonts):
    glyph = fonts["futural"][33]
    assert (glyph.character, glyph.label, glyph.id) == ("A", "A", "futural/33")
    assert [line.tolist() for line in glyph.polylines] == [
        [[0, -12], [-8, 9]], [[0, -12], [8, 9]], [[-5, 2], [5, 2]]]
    points = np.concatenate(glyph.polylines)
    apex, feet = points[:, 1].min(), points[:, 1].max()
    assert (apex, feet) == (-12, 9)  # The apex is at the top: the smallest y.
    s3 = hershey.to_stroke3(glyph, 0.5)
    assert s3.shape == (5, 3) and s3.dtype == np.float32
    np.testing.assert_array_equal(s3[:, 2], [1, 0, 1, 0, 1])  # Three strokes.


def test_characters_and_labels():
    assert hershey.character_of("futural", 33) == "A"
    assert hershey.character_of("futural", 0) == "#0"  # The space slot.
    assert hershey.character_of("futural", 95) == "#95"  # Past "~".
    assert hershey.character_of("japanese", 33) == "#33"  # Only numbered.
    assert hershey.label_name("timesr", "A") == "A"
    assert hershey.label_name("greek", "a") == "greek/a"
    names = hershey.label_names()
    assert len(names) == len(set(names)) == 96 + 12 * 96 + 97 + 193
    assert {"A", "greek/a", "japanese/#192", "markers/#96"} <= set(names)
    assert all(n == n.strip() and n for n in names)  # ClassLabel strips names on reload.


def test_rdp_epsilon_reduces_rows_of_a_curve(fonts):
    glyph = fonts["futural"][47]  # "O": one closed curve.
    fine = hershey.to_stroke3(glyph, 0.0)
    coarse = hershey.to_stroke3(glyph, 0.5)
    assert len(coarse) < len(fine)
    np.testing.assert_allclose(coarse[:, :2].sum(0), fine[:, :2].sum(0))
    assert coarse[:, 2].sum() == fine[:, 2].sum() == 1


def test_wrapped_records_and_comments():
    text = ('#{"define_cap_line": -12}\n12345  1JZ\n'
            "12345  6JZRFRT RRY\nQZ\n"  # One record on two lines (10 characters of data).
            "12345  3JZRRSS\n")
    glyphs = hershey.parse_jhf(text, "futural")
    assert [g.character for g in glyphs] == ["#0", "!", '"']
    assert glyphs[0].polylines == []
    assert [line.tolist() for line in glyphs[1].polylines] == [
        [[0, -12], [0, 2]], [[0, 7], [-1, 8]]]


@pytest.mark.parametrize("text, message", [
    ("12345  1JZ\n1234x  2JZRR\n",
     r"f.jhf:2 \(glyph 1 of futural\): expected a 5-digit glyph number"),
    ("12345  4JZRRSS\n", r"f.jhf:1 \(glyph 0 of futural\): vertex count 4 needs 6 .* got 4"),
    ("12345  5JZRRSS\n12345  2JZRR\n",  # Truncated: the next record cannot complete it.
     r"f.jhf:1 \(glyph 0 of futural\): vertex count 5 needs 8 .* got 16"),
    ("12345  3JZRR\u00e9S\n", r"f.jhf:1 \(glyph 0 of futural\): coordinate character"),
    ("#{}\n\n", r"f.jhf: no glyph records"),
])
def test_malformed_fonts_name_the_file_line_and_glyph(text, message):
    with pytest.raises(DataFileError, match=message):
        hershey.parse_jhf(text, "futural", "f.jhf")


def test_a_single_point_is_degenerate():
    glyph = hershey.parse_jhf("12345  2JZRR\n", "futural")[0]
    with pytest.raises(strokes.StrokeFormatError, match="futural/0: empty drawing"):
        hershey.to_stroke3(glyph, 0.5)


def test_directory_fonts(tmp_path):
    with pytest.raises(FileNotFoundError, match="no Hershey"):
        hershey.load_fonts(tmp_path)
    (tmp_path / "greek.jhf").write_text("12345  1JZ\n12345  3JZRRSS\n", encoding="utf-8")
    fonts = hershey.load_fonts(tmp_path)
    assert list(fonts) == ["greek"] and fonts["greek"][1].label == "greek/!"


def test_docstring_example():
    result = doctest.testmod(hershey)
    assert result.attempted >= 10 and result.failed == 0
