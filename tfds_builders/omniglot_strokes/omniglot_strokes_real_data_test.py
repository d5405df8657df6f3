"""Integration test: omniglot_strokes/lake_small built from the real official small zips.

The shared data pack (``$SKETCHEMBEDNET_SHARED_DATA/omniglot/``) holds the four
official ``{images,strokes}_background_small{1,2}.zip`` (read in place as the
manual directory) and, separately, every background image as ``npz_105x105``,
used here as an independent reference. The evaluation set is deliberately not
in the pack. Skipped without the pack.
"""

import numpy as np
import pytest
import tensorflow_datasets as tfds
from PIL import Image

from sketchembednet.data import rasterize
from tfds_builders.omniglot_strokes import omniglot_strokes_dataset_builder as om

SMALL1_ALPHABETS = {"Balinese", "Early_Aramaic", "Greek", "Korean", "Latin"}
SMALL2_ALPHABETS = {"Greek", "Japanese_(katakana)", "Latin", "Sanskrit", "Tagalog"}


@pytest.fixture(scope="module")
def built(shared_data, tmp_path_factory):
    builder = om.Builder(data_dir=str(tmp_path_factory.mktemp("tfds")), config="lake_small")
    builder.download_and_prepare(download_config=tfds.download.DownloadConfig(
        manual_dir=str(shared_data / "omniglot" / "brendenlake")))
    return builder


def fit_to_canvas(image: np.ndarray, size: int = 28, pad: int = 6) -> np.ndarray:
    """The ink bounding box of a 105x105 image, fitted as rasterize.py fits strokes."""
    rows, cols = np.nonzero(image < 128)
    crop = Image.fromarray(image[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1])
    scale = (size - pad) / max(crop.size)
    crop = crop.resize((max(1, round(crop.width * scale)), max(1, round(crop.height * scale))),
                       Image.BOX)
    canvas = Image.new("L", (size, size), 255)
    canvas.paste(crop, ((size - crop.width) // 2, (size - crop.height) // 2))
    return np.asarray(canvas, np.float64)


def test_counts(built):
    assert {k: v.num_examples for k, v in built.info.splits.items()} == {
        "small1": 2720, "small2": 3120}
    meta = built.info.metadata
    for split in ("small1", "small2"):
        assert meta[f"{split}_dropped_too_long"] == meta[f"{split}_dropped_degenerate"] == 0
    assert (meta["source"], meta["max_len"], meta["ignored_zip_entries"]) == ("manual", 120, 619)
    assert meta["stroke_scale"] == pytest.approx(18.3231, abs=1e-3)
    names = built.info.features["alphabet"].names
    for split, expected in (("small1", SMALL1_ALPHABETS), ("small2", SMALL2_ALPHABETS)):
        examples = list(tfds.as_numpy(built.as_dataset(split=split)))
        assert {names[ex["alphabet"]] for ex in examples} == expected
        assert {int(ex["drawer"]) for ex in examples} == set(range(1, 21))
        assert max(len(ex["strokes"]) for ex in examples) <= 64


def test_images_match_the_reference_and_the_strokes(built, shared_data):
    with np.load(shared_data / "omniglot" / "npz_105x105" / "images_background.npz") as npz:
        reference = npz["images"]  # [964, 20, 105, 105] bool, True = background.
    upright, flipped = [], []
    examples = list(tfds.as_numpy(built.as_dataset(split="small1")))
    images = rasterize.render_stroke3_list([ex["strokes"] for ex in examples], om.IMAGE_SIZE)
    for ex, rendered in zip(examples, images):
        original = ex["original_image"][..., 0]
        np.testing.assert_array_equal(original == 255,
                                      reference[ex["character_id"] - 1, ex["drawer"] - 1])
        assert ex["label"] == ex["character_id"] - 1 and ex["rotation"] == 0
        target = 255 - fit_to_canvas(original).ravel()
        image = 255 - rendered[..., 0].astype(np.float64)
        upright.append(np.corrcoef(target, image.ravel())[0, 1])
        flipped.append(np.corrcoef(target, np.flipud(image).ravel())[0, 1])
    upright, flipped = np.array(upright), np.array(flipped)
    # The renderings of the strokes look like the PNGs, and not like their mirror images
    # (y is flipped correctly). Thin lines one pixel apart correlate poorly, hence the median.
    assert np.median(upright) > 0.65 and np.median(flipped) < 0.4
    assert np.mean(upright > flipped) > 0.97
