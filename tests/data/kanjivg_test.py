"""Tests for sketchembednet.data.kanjivg (the embedded dataset's source)."""

import numpy as np
import pytest

from sketchembednet.data import kanjivg
from sketchembednet.data import strokes


def test_installed_package_has_the_drawings():
    files = kanjivg.kanjivg_files()
    assert len(files) > 11_000
    assert files[0].name < files[-1].name


def test_one_stroke_character():
    drawing = kanjivg.load_drawing(kanjivg.kanjivg_dir() / "04e00.svg")  # 一: one stroke.
    assert (drawing.id, drawing.label, drawing.variant) == ("04e00", "一", "")
    s3 = drawing.stroke3
    np.testing.assert_array_equal(s3[:, 2], [0] * (len(s3) - 1) + [1])
    # KanjiVG draws it left to right across most of the 109-unit box.
    assert 70 < s3[:, 0].sum() < 100
    assert np.all(np.abs(s3[:, 1]) < 10)


def test_stroke_count_and_variant():
    drawing = kanjivg.load_drawing(kanjivg.kanjivg_dir() / "04e14-Kaisho.svg")
    assert (drawing.label, drawing.variant) == ("且", "Kaisho")
    assert len(strokes.stroke3_to_polylines(drawing.stroke3)) == 5  # 且 has 5 strokes.


def test_rdp_epsilon_reduces_points():
    path = kanjivg.kanjivg_dir() / "09f8d.svg"  # 龍, 16 curvy strokes.
    fine = kanjivg.load_drawing(path, epsilon=0.2).stroke3
    coarse = kanjivg.load_drawing(path, epsilon=2.0).stroke3
    assert len(coarse) < len(fine)
    # Both describe the same drawing: the same end point, the same stroke count.
    np.testing.assert_allclose(coarse[:, :2].sum(0), fine[:, :2].sum(0), atol=1e-3)
    assert coarse[:, 2].sum() == fine[:, 2].sum() == 16


def test_parse_id_rejects_other_names():
    assert kanjivg.parse_id("04e8c-KaishoVtLst") == ("二", "KaishoVtLst")
    with pytest.raises(ValueError, match="'notes' is not a KanjiVG file name"):
        kanjivg.parse_id("notes")


@pytest.mark.parametrize(
    "text, message",
    [
        ("<svg", "malformed SVG"),
        ('<svg xmlns="http://www.w3.org/2000/svg"><g/></svg>', "no <path> strokes"),
        ('<svg xmlns="http://www.w3.org/2000/svg"><path id="s1" d="M1,2 Q"/></svg>',
         "cannot parse path 's1'"),
    ],
)
def test_bad_svg_names_the_file(tmp_path, text, message):
    path = tmp_path / "04e00.svg"
    path.write_text(text)
    with pytest.raises(strokes.StrokeFormatError, match=f"{path}: {message}"):
        kanjivg.load_drawing(path)
