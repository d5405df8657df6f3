"""Tests for sketchembednet.evaluation.datasets: npz, folder and TFDS loaders."""

import numpy as np
import pytest
from PIL import Image

from sketchembednet.data import framing
from sketchembednet.data.errors import DataFileError
from sketchembednet.evaluation import datasets


@pytest.fixture(scope="module")
def background(shared_data):
    return datasets.omniglot_background(shared_data / datasets.SHARED_NPZ)


def test_omniglot_background_real_file(background, shared_data):
    assert background.images.shape == (964 * 20, 28, 28, 1)
    assert background.images.dtype == np.uint8
    assert background.labels.tolist() == np.repeat(np.arange(964), 20).tolist()
    assert background.num_classes == 964
    # Framed as the training renders: grey ink (darkest 30) on white, the ink's longer
    # side about 23 px and centred, so the 3 px borders are white.
    images = background.images[..., 0].astype(np.float64)
    assert (images.min(axis=(1, 2)) == framing.render_ink_grey()).all()
    border = np.concatenate([images[:, :2].ravel(), images[:, -2:].ravel(),
                             images[:, :, :2].ravel(), images[:, :, -2:].ravel()])
    assert np.mean(border == 255) > 0.99
    ink = images < 128
    rows, cols = ink.any(2), ink.any(1)
    extent = np.maximum(rows.sum(1), cols.sum(1))  # rows / columns holding ink
    assert np.median(extent) in (23, 24) and extent.max() <= 26
    # framing="none" resizes the whole page: it keeps the 105 px pages' ink share.
    whole = datasets.omniglot_background(shared_data / datasets.SHARED_NPZ, framing="none")
    with np.load(shared_data / datasets.SHARED_NPZ) as npz:
        ink_share = 1.0 - npz["images"][:50].mean()
    resized_ink = 1.0 - whole.images[: 50 * 20].astype(np.float64).mean() / 255
    assert resized_ink == pytest.approx(ink_share, rel=0.02)


def _write_npz(path, images):
    np.savez(path, images=images, labels=np.zeros(images.shape[:2], np.int64))


def test_omniglot_npz_conversion_and_rotations(tmp_path):
    images = np.ones([3, 2, 105, 105], bool)
    images[:, :, :35, :35] = False  # Ink in the top-left ninth.
    _write_npz(tmp_path / "small.npz", images)
    data = datasets.omniglot_background(tmp_path / "small.npz", image_size=21, framing="none")
    assert data.images.shape == (6, 21, 21, 1)
    assert (data.images[:, :7, :7] == 0).all() and (data.images[:, 7:, :] == 255).all()
    framed = datasets.omniglot_background(tmp_path / "small.npz", image_size=21)
    square = framed.images[0, ..., 0] < 128  # The ink block fitted (18.3 px) and centred.
    assert square[2:19, 2:19].all() and not square[[0, -1]].any() and not square[:, [0, -1]].any()
    rotated = datasets.omniglot_background(tmp_path / "small.npz", 21, rotations=True,
                                           framing="none")
    assert rotated.images.shape == (24, 21, 21, 1)
    assert sorted(set(rotated.labels.tolist())) == list(range(12))
    # Class 4c + 1: the same drawing rotated 90 degrees counter-clockwise: ink bottom-left.
    quarter = rotated.images[rotated.labels == 1]
    assert (quarter[:, -7:, :7] == 0).all() and (quarter[:, :14] == 255).all()


def test_omniglot_npz_errors_name_the_file(tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip at all")
    with pytest.raises(DataFileError, match="bad.npz: not a readable Omniglot npz"):
        datasets.omniglot_background(bad)
    wrong = tmp_path / "wrong.npz"
    _write_npz(wrong, np.zeros([2, 20, 10, 10], np.uint8))
    with pytest.raises(DataFileError, match="wrong.npz: 'images' must be bool"):
        datasets.omniglot_background(wrong)
    with pytest.raises(DataFileError, match="missing.npz"):
        datasets.omniglot_background(tmp_path / "missing.npz")


def _make_folder(root):
    (root / "circle").mkdir(parents=True)
    (root / "bar").mkdir()
    for i in range(3):
        image = Image.new("L", (56, 40), 255)
        image.paste(0, (10 + i, 10, 30 + i, 30))
        image.save(root / "circle" / f"{i}.png")
        rgba = Image.new("RGBA", (64, 64), (0, 0, 0, 0))  # Transparent: becomes white.
        rgba.paste((0, 0, 0, 255), (0, 30, 64, 34))
        rgba.save(root / "bar" / f"{i}.png")
    (root / "bar" / ".DS_Store").write_bytes(b"junk")  # Hidden: skipped.


def test_folder_loader(tmp_path):
    _make_folder(tmp_path / "data")
    data = datasets.folder_images(tmp_path / "data", image_size=28)
    assert data.images.shape == (6, 28, 28, 1) and data.images.dtype == np.uint8
    assert data.class_names == ["bar", "circle"] and data.labels.tolist() == [0] * 3 + [1] * 3
    bar = data.images[0, ..., 0]  # A black bar across a transparent canvas, fitted.
    assert bar[:12].min() == 255 and bar[16:].min() == 255
    assert (bar[13:15, 4:24] == framing.render_ink_grey()).all()
    # The squares sit at three positions on their pages: framed, they are one image.
    for i in (4, 5):
        np.testing.assert_allclose(data.images[i].astype(int), data.images[3], atol=1)
    rgb = datasets.folder_images(tmp_path / "data", image_size=32, channels=3)
    assert rgb.images.shape == (6, 32, 32, 3)
    inverted = datasets.folder_images(tmp_path / "data", image_size=28, invert=True,
                                      framing="none")
    for path in sorted((tmp_path / "data").glob("*/*.png")):  # the same files, inverted on disk
        pixels = datasets._load_image_file(path, "L")[..., 0]
        target = tmp_path / "negative" / path.parent.name / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(255 - pixels).save(target)
    negative = datasets.folder_images(tmp_path / "negative", image_size=28, framing="none")
    np.testing.assert_array_equal(inverted.images, negative.images)
    # invert applies to the file's pixels, before framing: fit_ink then finds dark ink on
    # a light page again (its polarity check would also have found white-on-black).
    framed_inverted = datasets.folder_images(tmp_path / "data", image_size=28, invert=True)
    np.testing.assert_array_equal(framed_inverted.images, data.images)


def test_folder_loader_errors(tmp_path):
    _make_folder(tmp_path / "data")
    (tmp_path / "data" / "circle" / "broken.png").write_bytes(b"\x89PNG truncated")
    with pytest.raises(DataFileError, match="broken.png: not a readable image"):
        datasets.folder_images(tmp_path / "data")
    (tmp_path / "empty" / "cls").mkdir(parents=True)
    with pytest.raises(DataFileError, match="cls: class folder holds no image files"):
        datasets.folder_images(tmp_path / "empty")
    (tmp_path / "flat").mkdir()
    with pytest.raises(DataFileError, match="flat: no class sub-folders"):
        datasets.folder_images(tmp_path / "flat")
    with pytest.raises(DataFileError, match="nowhere: not a folder"):
        datasets.folder_images(tmp_path / "nowhere")


def test_load_by_spec(tmp_path):
    _make_folder(tmp_path / "data")
    data = datasets.load(f"folder:{tmp_path / 'data'}", image_size=20)
    assert data.image_shape == (20, 20, 1) and data.num_classes == 2
    with pytest.raises(ValueError, match="needs data_path"):
        datasets.load("omniglot_background")


def test_mini_imagenet_dummy_data(tmp_path):
    """The colleague's builder on its synthetic dummy data (no real mini-ImageNet here)."""
    import pathlib

    import tfds_builders.mini_imagenet as package

    dummy = pathlib.Path(package.__file__).parent / "dummy_data" / "csv_images"
    data = datasets.load("mini_imagenet", data_dir=str(tmp_path), manual_dir=str(dummy),
                         builder_kwargs={"allow_partial": True})
    assert data.image_shape == (84, 84, 3) and data.images.dtype == np.uint8
    assert len(data.labels) == 2 and data.num_classes == 1  # The dummy test split.
    assert data.name == "mini_imagenet[test]"


@pytest.mark.large
def test_omniglot_strokes_lake_small(shared_data, tmp_path):
    data = datasets.load("omniglot_strokes/lake_small", data_dir=str(tmp_path),
                         manual_dir=str(shared_data / "omniglot" / "brendenlake"))
    # small1 + small2 = 136 + 156 characters; Greek (24) and Latin (26) are in both.
    assert data.num_classes == 136 + 156 - 24 - 26
    assert len(data.labels) == 20 * data.num_classes
    assert data.image_shape == (28, 28, 1) and data.images[:, 0].min() == 255


def test_select_per_class_filters_small_classes_and_caps_large_ones():
    labels = np.array([0] * 5 + [1] * 2 + [2] * 8)
    images = np.arange(len(labels), dtype=np.uint8).reshape(-1, 1, 1, 1)
    data = datasets.LabelledImages(images, labels, name="toy")
    kept = datasets.select_per_class(data, min_count=3, max_count=4, seed=1)
    assert np.bincount(kept.labels).tolist() == [4, 0, 4]
    assert set(kept.images.ravel()) <= set(range(15)) and np.all(np.diff(kept.images.ravel()) > 0)
    again = datasets.select_per_class(data, min_count=3, max_count=4, seed=1)
    np.testing.assert_array_equal(kept.images, again.images)
    with pytest.raises(ValueError, match="toy: no class has 9"):
        datasets.select_per_class(data, min_count=9)


def test_tfds_name_resolves_aliases_and_passes_other_names():
    assert datasets.tfds_name("quickdraw_seen") == "quickdraw/seen_eval_45_ndjson"
    assert datasets.tfds_name("quickdraw_unseen") == "quickdraw/heldout_45_ndjson"
    assert datasets.tfds_name("omniglot_strokes/lake") == "omniglot_strokes/lake"


def test_doctests():
    import doctest

    assert doctest.testmod(datasets).failed == 0
