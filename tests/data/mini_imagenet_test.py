"""Tests for sketchembednet.data.mini_imagenet (pickles, CSVs, ILSVRC folders)."""

import pickle

import numpy as np
import pytest
from etils import epath
from PIL import Image

from sketchembednet.data import mini_imagenet
from sketchembednet.data.errors import DataFileError


def test_parse_csv_row():
    assert mini_imagenet.parse_csv_row(["n0153282900000012.jpg", "n01532829"], "x") == (
        "n0153282900000012", "n01532829", 12)
    for row in (["n0153282900000012.jpg", "n01532830"], ["n01532829_12.jpg", "n01532829"],
                ["n0153282900000012.jpg"]):
        with pytest.raises(DataFileError, match="x:3: expected"):
            mini_imagenet.parse_csv_row(row, "x:3")


def test_read_csv(tmp_path):
    path = epath.Path(tmp_path / "val.csv")
    path.write_text("filename,label\nn0185567200000002.jpg,n01855672\n"
                    "n0185567200000001.jpg,n01855672\n\n")
    assert mini_imagenet.read_csv(path) == {
        "n01855672": [("n0185567200000002", 2), ("n0185567200000001", 1)]}
    path.write_text("file,label\n")
    with pytest.raises(DataFileError, match=f"{path}:1: expected the header"):
        mini_imagenet.read_csv(path)


def test_read_cache_checks_the_structure(tmp_path):
    path = epath.Path(tmp_path / "c.pkl")
    images = np.zeros((3, 84, 84, 3), np.uint8)
    path.write_bytes(pickle.dumps({"image_data": images, "class_dict": {"n1": [0, 2], "n2": [1]}}))
    data, classes = mini_imagenet.read_cache(path)
    assert data.shape == (3, 84, 84, 3) and classes == {"n1": [0, 2], "n2": [1]}
    path.write_bytes(pickle.dumps({"image_data": images, "class_dict": {"n1": [0, 0]}}))
    with pytest.raises(DataFileError, match="exactly once"):
        mini_imagenet.read_cache(path)
    path.write_bytes(pickle.dumps({"image_data": images[:, :10], "class_dict": {}}))
    with pytest.raises(DataFileError, match=r"uint8 \[N, 84, 84, 3\]"):
        mini_imagenet.read_cache(path)
    path.write_bytes(pickle.dumps({"image_data": images})[:-20])
    with pytest.raises(DataFileError, match=f"{path}: not a mini-ImageNet cache pickle"):
        mini_imagenet.read_cache(path)


def test_load_image_resizes_and_names_broken_files(tmp_path):
    path = epath.Path(tmp_path / "a.JPEG")
    Image.new("RGB", (120, 90), (10, 200, 30)).save(path, format="PNG")
    image = mini_imagenet.load_image(path)
    assert image.shape == (84, 84, 3) and image.dtype == np.uint8
    np.testing.assert_array_equal(image[40, 40], [10, 200, 30])
    path.write_bytes(b"nope")
    with pytest.raises(DataFileError, match=f"{path}: not a readable image"):
        mini_imagenet.load_image(path)


def test_imagenet_files_sort_numerically(tmp_path):
    for n in (10, 2, 100):
        (tmp_path / f"n01532829_{n}.JPEG").write_bytes(b"")
    (tmp_path / "readme.txt").write_text("")
    names = [p.name for p in mini_imagenet.imagenet_files(epath.Path(tmp_path))]
    assert names == ["n01532829_2.JPEG", "n01532829_10.JPEG", "n01532829_100.JPEG"]
