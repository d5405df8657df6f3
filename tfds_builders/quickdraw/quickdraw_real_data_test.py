"""Integration tests: quickdraw built from the real ndjson files of the shared data pack.

The pack (``$SKETCHEMBEDNET_SHARED_DATA/quickdraw/``, see its README) holds the
first 25 "simplified" drawings of 344 classes (``zigzag`` is missing) and the
first 500-2,000 of 15 classes. The builder reads them as a manual directory,
in place (the 15-class folder through a temporary folder of correctly named
symlinks, as three of its files are misnamed). Skipped without the pack.
"""

import json

import numpy as np
import pytest
import tensorflow_datasets as tfds
from PIL import Image, ImageDraw

from sketchembednet.data import quickdraw
from sketchembednet.data import rasterize
from tfds_builders.quickdraw import quickdraw_dataset_builder as qd

SAMPLE_345 = "quickdraw/simplified_345cls_25each"
SAMPLE_15 = "quickdraw/simplified_15cls_500to2000each"
# Class -> file name in the 15-class folder (upstream misspellings kept there).
FILES_15 = {"airplane": "airplane", "bicycle": "bycicle", "calculator": "calculator",
            "camera": "camera", "cat": "cat_2k", "computer": "computer", "crayon": "crayon",
            "dragon": "dragon", "eye": "eye", "guitar": "guitar", "headphones": "headphones",
            "map": "map", "paint can": "paint-can", "paintbrush": "paintbrush",
            "television": "television"}


def build(data_dir, manual_dir, config="all_345_ndjson"):
    builder = qd.Builder(data_dir=str(data_dir), config=config, allow_missing_classes=True)
    builder.download_and_prepare(
        download_config=tfds.download.DownloadConfig(manual_dir=str(manual_dir)))
    return builder


def reference_render(drawing, size=28, pad=6, supersample=8) -> np.ndarray:
    """An independent PIL rendering, fitted to the canvas as rasterize.py fits sketches."""
    points = np.concatenate([np.array(s[:2], np.float64).T for s in drawing])
    lo, hi = points.min(0), points.max(0)
    scale = (size - pad) / max((hi - lo).max(), 1e-6)
    image = Image.new("L", (size * supersample, size * supersample), 255)
    draw = ImageDraw.Draw(image)
    for stroke in drawing:
        xy = (np.array(stroke[:2], np.float64).T - (lo + hi) / 2) * scale + (size - 1) / 2
        draw.line([tuple(p) for p in (xy + 0.5) * supersample], fill=0, width=supersample)
    return np.asarray(image.resize((size, size), Image.BOX), np.float64)


@pytest.fixture(scope="module")
def built_345(shared_data, tmp_path_factory):
    return build(tmp_path_factory.mktemp("tfds"), shared_data / SAMPLE_345)


def test_counts_of_the_344_class_sample(built_345):
    meta = built_345.info.metadata
    assert meta["missing_classes"] == ["zigzag"]
    assert (meta["num_classes"], meta["source"], meta["max_len"]) == (344, "manual", 64)
    splits = {name: split.num_examples for name, split in built_345.info.splits.items()}
    assert splits == {"train": 6518, "validation": 406, "test": 336}
    assert sum(meta[f"{s}_num_source"] for s in splits) == 344 * 25
    for s in splits:  # Every source drawing is either kept or counted as dropped.
        assert splits[s] + meta[f"{s}_dropped_too_long"] + meta[f"{s}_dropped_degenerate"] \
            == meta[f"{s}_num_source"]
    assert (meta["train_dropped_too_long"], meta["validation_dropped_too_long"],
            meta["test_dropped_too_long"]) == (1184, 75, 81)
    assert meta["stroke_scale"] == pytest.approx(36.578, abs=1e-3)
    labels = {int(ex["label"]) for s in splits for ex in tfds.as_numpy(built_345.as_dataset(s))}
    assert len(labels) == 344 and qd.ALL_345.index("zigzag") not in labels


def test_strokes_and_their_rendering_match_the_source_drawings(built_345, shared_data):
    source = {}
    for line in (shared_data / SAMPLE_345 / "cat.ndjson").read_text().splitlines():
        record = json.loads(line)
        source[record["key_id"]] = record["drawing"]
    names = built_345.info.features["label"].names
    seen = 0
    for split in ("train", "validation", "test"):
        for ex in tfds.as_numpy(built_345.as_dataset(split=split)):
            if names[ex["label"]] != "cat":
                continue
            drawing = source[ex["key_id"].decode()]
            np.testing.assert_array_equal(ex["strokes"], quickdraw.parse_simplified_line(
                json.dumps({"key_id": "k", "drawing": drawing}), "cat").stroke3)
            rendered = rasterize.render_stroke3_list([ex["strokes"]], qd.IMAGE_SIZE)[0]
            image = rendered[..., 0].astype(np.float64)  # [28, 28], as the pipeline renders
            assert rendered.shape == (28, 28, 1) and image[0].min() == 255  # White border.
            ink, reference_ink = 255 - image.ravel(), 255 - reference_render(drawing).ravel()
            assert np.corrcoef(ink, reference_ink)[0, 1] > 0.85  # Same shape, same orientation.
            seen += 1
    assert seen == 19  # 25 cat drawings, 6 longer than 64 rows.


def test_counts_of_the_15_class_sample(shared_data, tmp_path):
    manual = tmp_path / "manual"
    manual.mkdir()
    for name, stem in FILES_15.items():
        (manual / f"{name}.ndjson").symlink_to(shared_data / SAMPLE_15 / f"{stem}.ndjson")
    builder = build(tmp_path / "tfds", manual)
    meta = builder.info.metadata
    assert meta["num_classes"] == 15 and len(meta["missing_classes"]) == 330
    assert sum(meta[f"{s}_num_source"] for s in ("train", "validation", "test")) == 9000
    total = sum(split.num_examples for split in builder.info.splits.values())
    dropped = sum(meta[f"{s}_dropped_{w}"] for s in ("train", "validation", "test")
                  for w in ("too_long", "degenerate"))
    assert total + dropped == 9000
