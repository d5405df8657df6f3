"""Tests for sketchembednet.data.hanzi on small synthetic hanzi-writer-data JSON and tarballs."""

import doctest
import gzip
import io
import json
import tarfile

import numpy as np
import pytest

from sketchembednet.data import hanzi
from sketchembednet.data import strokes
from sketchembednet.data.errors import DataFileError


def write_tgz(path, members: dict) -> None:
    """A ``.tgz`` holding ``{name: text or bytes}``."""
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0) as gz, \
            tarfile.open(fileobj=gz, mode="w") as archive:
        for name, content in members.items():
            data = content.encode("utf-8") if isinstance(content, str) else content
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    path.write_bytes(buf.getvalue())


def char_json(medians) -> str:
    return json.dumps({"strokes": ["M 0 0 Z"] * len(medians), "medians": medians})


def test_doctests():
    assert doctest.testmod(hanzi).failed == 0


def test_y_is_flipped_to_image_coordinates():
    lines = hanzi.parse_medians(char_json([[[121, 393], [920, 401.5]]]), "package/一.json")
    assert len(lines) == 1 and lines[0].dtype == np.float64
    np.testing.assert_array_equal(lines[0], [[121, 507], [920, 498.5]])


def test_stroke3_keeps_stroke_order_and_pen_lifts():
    # 二 as the font has it: the short top stroke (high y), then the long bottom one.
    lines = hanzi.parse_medians(char_json([[[300, 700], [700, 700]], [[100, 200], [900, 200]]]),
                                "package/二.json")
    s3 = hanzi.to_stroke3(lines, epsilon=12.0)
    np.testing.assert_array_equal(s3, [[400, 0, 1], [-600, 500, 0], [800, 0, 1]])
    back = strokes.stroke3_to_polylines(s3)
    assert len(back) == 2 and back[1][0, 1] - back[0][0, 1] == 500  # The second is lower.


def test_rdp_removes_points_within_epsilon_only():
    wiggle = [[[0, 0], [100, 5], [200, 0], [300, 40], [400, 0]]]
    lines = hanzi.parse_medians(char_json(wiggle), "w.json")
    assert len(hanzi.to_stroke3(lines, 0.0)) == 4
    # 5 units off the chord is removed at epsilon 12; 40 units is kept.
    np.testing.assert_array_equal(hanzi.to_stroke3(lines, 12.0)[:, 0], [200, 100, 100])


def test_degenerate_characters_give_none():
    assert hanzi.to_stroke3([], 12.0) is None
    assert hanzi.to_stroke3(hanzi.parse_medians(char_json([[[5, 5]]]), "d.json"), 12.0) is None
    assert hanzi.to_stroke3(hanzi.parse_medians(char_json([[], [[5, 5]]]), "d.json"), 12.0) is None
    # Two one-point strokes: two points, a pen-up move between them.
    s3 = hanzi.to_stroke3(hanzi.parse_medians(char_json([[[5, 5]], [[9, 5]]]), "d.json"), 12.0)
    np.testing.assert_array_equal(s3, [[4, 0, 1]])


@pytest.mark.parametrize("text, message", [
    ('{"medians": [[[1, 2]]', "malformed JSON"),
    (b'\xff\xfe', "malformed JSON"),
    ('{"strokes": []}', r"no 'medians' key \(found \['strokes'\]\)"),
    ("[1, 2]", "no 'medians' key"),
    ('{"medians": {"a": 1}}', "'medians' must be a list of strokes, got dict"),
    ('{"medians": [[[1, 2]], 7]}', r"medians\[1\] must be a list of \[x, y\] points, got int"),
    ('{"medians": [[[1, 2], [3]]]}', r"medians\[0\]\[1\]: bad point \[3\]"),
    ('{"medians": [[[1, "2"]]]}', r"medians\[0\]\[0\]: bad point \[1, '2'\]"),
    ('{"medians": [[[1, NaN]]]}', r"medians\[0\]\[0\]: bad point \[1, nan\]"),
    ('{"medians": [[[true, 2]]]}', r"medians\[0\]\[0\]: bad point"),
])
def test_bad_json_names_the_member_and_the_problem(text, message):
    with pytest.raises(DataFileError, match=f"^x.tgz: package/中.json: {message}"):
        hanzi.parse_medians(text, "x.tgz: package/中.json")


def test_member_names_and_ids():
    assert hanzi.character_of_member("package/我.json") == "我"
    for name in ("package/package.json", "package/README.md", "other/我.json", "package/我.js"):
        assert hanzi.character_of_member(name) is None
    assert hanzi.code_point_id("我") == "U+6211"
    assert hanzi.code_point_id("𠀀") == "U+20000"
    with pytest.raises(ValueError, match="one character"):
        hanzi.code_point_id("我们")


def test_read_tarball_sorts_characters_and_counts_other_members(tmp_path):
    path = tmp_path / "h.tgz"
    write_tgz(path, {"package/package.json": "{}", "package/十.json": char_json([[[0, 0], [1, 1]]]),
                     "package/一.json": char_json([[[0, 0], [9, 0]]]), "package/README.md": "#"})
    drawings, ignored = hanzi.read_tarball(path)
    assert [(d.character, d.id, d.member, d.num_strokes) for d in drawings] == [
        ("一", "U+4E00", "package/一.json", 1), ("十", "U+5341", "package/十.json", 1)]
    assert ignored == 2


@pytest.mark.parametrize("members, message", [
    ({"package/一.json": '{"medians": [[[0, 0], [1, "x"]]]}'},
     r"h.tgz: package/一.json: medians\[0\]\[1\]: bad point"),
    ({"package/一.json": '{"medians": '}, "h.tgz: package/一.json: malformed JSON"),
    ({"package/package.json": "{}"}, "h.tgz: no package/<character>.json members"),
    ({"package/一.json": char_json([]), "./package/一.json": char_json([])}, None),
])
def test_read_tarball_errors_name_the_file_and_member(tmp_path, members, message):
    path = tmp_path / "h.tgz"
    write_tgz(path, members)
    if message is None:  # "./package/..." is not the npm layout: ignored, not a duplicate.
        assert hanzi.read_tarball(path)[1] == 1
        return
    with pytest.raises(DataFileError, match=message):
        hanzi.read_tarball(path)


def test_duplicate_character_is_an_error(tmp_path):
    path = tmp_path / "h.tgz"
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb") as gz, tarfile.open(fileobj=gz, mode="w") as tar:
        for _ in range(2):
            data = char_json([[[0, 0], [1, 1]]]).encode()
            info = tarfile.TarInfo("package/一.json")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    path.write_bytes(buf.getvalue())
    with pytest.raises(DataFileError, match="package/一.json: character '一' appears twice"):
        hanzi.read_tarball(path)


@pytest.mark.parametrize("cut", [10, 200, None])
def test_truncated_or_wrong_file_names_the_tarball(tmp_path, cut):
    path = tmp_path / "h.tgz"
    write_tgz(path, {f"package/{c}.json": char_json([[[0, 0], [500, 500]]] * 20) for c in "一二三"})
    data = path.read_bytes()
    path.write_bytes(data[:-cut] if cut else b"not a tarball at all")
    with pytest.raises(DataFileError, match=f"^{path}: not a readable .tgz file"):
        hanzi.read_tarball(path)
