"""Tests for sketchembednet.data.omniglot (official Omniglot zips -> stroke-3)."""

import io
import zipfile

import numpy as np
import pytest
from PIL import Image

from sketchembednet.data import omniglot
from sketchembednet.data import rasterize
from sketchembednet.data import strokes
from sketchembednet.data.errors import DataFileError


def test_archive_url():
    assert omniglot.archive_url("strokes", "background_small1") == (
        "https://github.com/brendenlake/omniglot/raw/master/python/"
        "strokes_background_small1.zip")


def test_parse_strokes_flips_y_and_splits_at_break():
    text = "START\n1,-2,0\n4,-6,10\nBREAK\n7,-1,20\nBREAK\n"
    lines = omniglot.parse_strokes(text, "a.txt")
    assert [line.tolist() for line in lines] == [[[1, 2], [4, 6]], [[7, 1]]]


@pytest.mark.parametrize("text, message", [
    ("", r"a.txt:1: expected START"),
    ("1,2,3\nBREAK", r"a.txt:1: expected START"),
    ("START\n1,2,3\n1,2\nBREAK", r"a.txt:3: expected 'x,y,t', got '1,2'"),
    ("START\n1,2,3\n1,x,3\nBREAK", r"a.txt:3: expected 'x,y,t', got '1,x,3'"),
    ("START\n1,nan,3\nBREAK", r"a.txt:2: expected 'x,y,t'"),
    ("START\n1,2,3\nBREAK\n4,5,6", r"a.txt:4: last stroke has no BREAK \(truncated file\?\)"),
])
def test_parse_strokes_names_file_and_line(text, message):
    with pytest.raises(DataFileError, match=message):
        omniglot.parse_strokes(text, "a.txt")


def test_to_stroke3_simplifies_and_keeps_dots_drawable():
    line = np.column_stack([np.linspace(0, 50, 51), np.zeros(51)])  # Straight: RDP keeps 2.
    s3 = omniglot.to_stroke3([line, np.array([[60.0, 10.0]])], epsilon=2.0)
    np.testing.assert_allclose(s3, [[50, 0, 1], [9.5, 10, 0], [1, 0, 1]])
    assert omniglot.to_stroke3([], 2.0) is None
    # The dot is drawn: the same points with the pen lifted at the dot give less ink.
    undrawn = s3.copy()
    undrawn[1, 2] = 1
    with_dot, without = (rasterize.render_image(x, 28).numpy() for x in (s3, undrawn))
    assert ((with_dot < 128) & (without == 255)).any()


def test_rotation_matches_rot90_of_the_rendering():
    s3 = np.array([[10, 0, 0], [0, 20, 1], [5, -3, 0], [4, 4, 1]], np.float32)
    upright = strokes.stroke3_to_stroke5(s3, 8)
    for degrees in (0, 90, 180, 270, 360):
        rotated = omniglot.rotate_stroke3(s3, degrees)
        assert rotated[:, 2].tolist() == s3[:, 2].tolist()
        images = rasterize.render_images(
            np.stack([upright, strokes.stroke3_to_stroke5(rotated, 8)]), 28).numpy()
        diff = images[1].astype(int) - np.rot90(images[0], degrees // 90).astype(int)
        assert np.abs(diff).max() <= 2
    with pytest.raises(ValueError, match="multiple of 90"):
        omniglot.rotate_stroke3(s3, 45)


def png(array: np.ndarray, mode: str = "1") -> bytes:
    buf = io.BytesIO()
    Image.fromarray(array).convert(mode).save(buf, format="PNG")
    return buf.getvalue()


def test_decode_png():
    image = np.full((105, 105), 255, np.uint8)
    image[10:20, 30:40] = 0
    decoded = omniglot.decode_png(png(image), "x.png")
    assert decoded.shape == (105, 105, 1) and decoded.dtype == np.uint8
    np.testing.assert_array_equal(decoded[..., 0], image)
    with pytest.raises(DataFileError, match="x.png: image is .28, 28., expected 105 x 105"):
        omniglot.decode_png(png(np.zeros((28, 28), np.uint8)), "x.png")
    with pytest.raises(DataFileError, match="x.png: not a readable PNG"):
        omniglot.decode_png(png(image)[:60], "x.png")


def write_pair(tmp_path, drawings: dict, extra_png: str | None = None):
    """Writes a tiny image/stroke zip pair: {'Greek/character01/0001_01': text}."""
    images, strokes_zip = tmp_path / "images_x.zip", tmp_path / "strokes_x.zip"
    blank = png(np.full((105, 105), 255, np.uint8))
    with zipfile.ZipFile(images, "w") as zi, zipfile.ZipFile(strokes_zip, "w") as zs:
        for stem, text in drawings.items():
            zi.writestr(f"images_x/{stem}.png", blank)
            zs.writestr(f"strokes_x/{stem}.txt", text)
        zi.writestr("images_x/.DS_Store", b"x")
        zs.writestr("__MACOSX/strokes_x/._y", b"x")
        if extra_png:
            zi.writestr(f"images_x/{extra_png}.png", blank)
    return images, strokes_zip


def test_read_pair_sorted_with_ids(tmp_path):
    text = "START\n1,-1,0\n5,-5,1\nBREAK\n"
    pair = write_pair(tmp_path, {"Greek/character02/0402_01": text,
                                 "Greek/character01/0401_20": text})
    drawings, ignored = omniglot.read_pair(*pair)
    drawings = list(drawings)
    assert ignored == 2
    assert [d.key for d in drawings] == ["Greek/character01/0401_20", "Greek/character02/0402_01"]
    assert (drawings[0].char_id, drawings[0].drawer, drawings[0].image.shape) == (401, 20,
                                                                                  (105, 105, 1))


def test_read_pair_errors(tmp_path):
    text = "START\n1,-1,0\n5,-5,1\nBREAK\n"
    pair = write_pair(tmp_path, {"Greek/character01/0401_01": text}, extra_png="Greek/c/x")
    with pytest.raises(DataFileError, match="unexpected member 'images_x/Greek/c/x.png'"):
        omniglot.read_pair(*pair)
    pair = write_pair(tmp_path, {"Greek/character01/9999_01": text})
    with pytest.raises(DataFileError, match="character id 9999 is not in 1..1623"):
        list(omniglot.read_pair(*pair)[0])
    pair[1].write_bytes(b"not a zip")
    with pytest.raises(DataFileError, match=f"{pair[1]}: not a readable zip file"):
        omniglot.read_pair(*pair)


def test_real_small_zips_parse(shared_data):
    root = shared_data / "omniglot" / "brendenlake"
    drawings, ignored = omniglot.read_pair(root / "images_background_small1.zip",
                                           root / "strokes_background_small1.zip")
    drawings = list(drawings)
    assert len(drawings) == 2720 and ignored > 0
    first = drawings[0]
    assert (first.alphabet, first.character, first.char_id, first.drawer) == (
        "Balinese", "character01", 108, 1)
    s3 = omniglot.to_stroke3(first.polylines, 2.0, first.key)
    assert s3.shape[1] == 3 and s3[-1, 2] == 1
    lengths = [len(omniglot.to_stroke3(d.polylines, 2.0)) for d in drawings]
    assert max(lengths) <= 64 and min(lengths) >= 1
