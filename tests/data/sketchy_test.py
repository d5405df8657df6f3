"""Tests for sketchembednet.data.sketchy and the shipped WordNet exclusion list."""

import importlib.util
import pathlib

import numpy as np
import pytest
from etils import epath
from PIL import Image

import tfds_builders.sketchy
from sketchembednet.data import sketchy
from sketchembednet.data.errors import DataFileError

BUILDER_DIR = pathlib.Path(tfds_builders.sketchy.__file__).parent
SVG = ('<svg xmlns="http://www.w3.org/2000/svg"><g transform="translate(10,5)">'
       '<path d="M0,0 L100,0"/></g><path d="M0,10 L3,10"/>'
       '<path d="M0,50 C20,80 60,80 80,50"/></svg>')


def test_svg_polylines_order_transform_and_short_paths():
    lines, dropped = sketchy.svg_polylines(SVG, "a.svg")
    assert dropped == 1  # The 3-unit path is shorter than 10% of the longest.
    assert len(lines) == 2
    np.testing.assert_allclose(lines[0][[0, -1]], [[10, 5], [110, 5]])  # Translated, first.
    assert len(lines[0]) == 5  # 100 units // 20.
    assert len(lines[1]) == max(int(sketchy.svgpathtools.parse_path(
        "M0,50 C20,80 60,80 80,50").length() // 20), 3)


def test_svg_polylines_errors_name_the_file():
    with pytest.raises(DataFileError, match="a.svg: malformed SVG .*truncated"):
        sketchy.svg_polylines(SVG[:-12], "a.svg")
    with pytest.raises(DataFileError, match="b.svg: cannot parse path 'M0,0 Q'"):
        sketchy.svg_polylines('<svg xmlns="http://www.w3.org/2000/svg"><path d="M0,0 Q"/></svg>',
                              "b.svg")


def test_sketch_to_stroke3():
    lines, _ = sketchy.svg_polylines(SVG, "a.svg")
    s3 = sketchy.sketch_to_stroke3(lines, 5.0)
    assert s3[:, 2].sum() == 2 and s3.dtype == np.float32
    np.testing.assert_allclose(s3[0], [100, 0, 1])  # RDP keeps the straight line's ends.
    assert sketchy.sketch_to_stroke3([], 5.0) is None


def test_fit_photo_crops_scales_and_centres():
    photo = Image.new("RGB", (256, 256), (0, 0, 0))
    photo.paste((200, 100, 50), (64, 16, 192, 48))  # The box (100, 50, 200, 100) of 400 x 800.
    out = sketchy.fit_photo(photo, (400, 800), (100, 50, 200, 100), 84, "p.jpg")
    assert out.shape == (84, 84, 3) and out.dtype == np.uint8
    rows, cols = np.nonzero(out.max(axis=-1) > 30)
    assert (cols.min(), cols.max(), rows.min(), rows.max()) == (0, 83, 21, 62)  # 84 x 42.
    with pytest.raises(DataFileError, match="p.jpg: bad size"):
        sketchy.fit_photo(photo, (400, 800), (0, 0, 0, 10), 84, "p.jpg")


def test_read_stats(tmp_path):
    path = tmp_path / "stats.csv"
    header = ",".join([f"c{i}" for i in range(14)] + ["BBox_x", "BBox_y", "BBox_width",
                                                      "BBox_height"])
    row = "1,cat,n02121620_1,n02121620_1-1," + "0," * 8 + "500,375,10,20,30,40"
    path.write_text(f"{header}\n{row}\n{row.replace('10,20', '11,21')}\n")
    assert sketchy.read_stats(epath.Path(path)) == {"n02121620_1": ((500, 375), (10, 20, 30, 40))}
    path.write_text(f"{header}\n{row}\n1,cat,n02121620_2,x\n")
    with pytest.raises(DataFileError, match=f"{path}:3: malformed row"):
        sketchy.read_stats(epath.Path(path))
    path.write_text("a,b,c\n")
    with pytest.raises(DataFileError, match=f"{path}:1: expected columns 14-17 BBox_"):
        sketchy.read_stats(epath.Path(path))


def test_read_photo_names_a_broken_file(tmp_path):
    path = tmp_path / "p.jpg"
    path.write_bytes(b"\xff\xd8\xff\xe0 not really")
    with pytest.raises(DataFileError, match=f"{path}: not a readable image"):
        sketchy.read_photo(epath.Path(path))


def test_excluded_wnids_cover_the_direct_overlaps():
    rows = [line.split("\t") for line in (BUILDER_DIR / "excluded_wnids.tsv").read_text()
            .splitlines() if line and not line.startswith("#")][1:]
    classes = {row[2] for row in rows}
    assert {"ant", "armor", "crab", "guitar", "hourglass", "lion"} <= classes
    tests = set((BUILDER_DIR / "miniimagenet_test_wnids.txt").read_text().split())
    assert all(set(row[3].split(",")) <= tests for row in rows)


@pytest.mark.skipif(not pathlib.Path("/usr/share/wordnet/data.noun").exists(),
                    reason="WordNet 3.0 not installed (Debian package wordnet-base)")
def test_excluded_wnids_are_reproducible(tmp_path):
    spec = importlib.util.spec_from_file_location(
        "derive_excluded_wnids", BUILDER_DIR / "derive_excluded_wnids.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(["--out", str(tmp_path / "out.tsv")])
    assert (tmp_path / "out.tsv").read_text() == (BUILDER_DIR / "excluded_wnids.tsv").read_text()
