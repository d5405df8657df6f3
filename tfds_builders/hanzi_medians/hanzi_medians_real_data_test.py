"""Integration test: hanzi_medians built from the real hanzi-writer-data 2.0.1 tarball.

The shared data pack (``$SKETCHEMBEDNET_SHARED_DATA/hanzi_writer_data/``) holds
the unchanged npm registry tarball, read in place as the manual directory (its
sha256 is checked against ``checksums.tsv``). The build takes about 3 s on 2
cores, so the test is not marked large. Skipped without the pack.
"""

import numpy as np
import pytest
import tensorflow_datasets as tfds

from sketchembednet.data import hanzi
from sketchembednet.data import strokes
from tfds_builders.hanzi_medians import hanzi_medians_dataset_builder as hm


@pytest.fixture(scope="module")
def built(shared_data, tmp_path_factory):
    if not (shared_data / "hanzi_writer_data" / hanzi.TARBALL_NAME).exists():
        pytest.skip(f"{shared_data} has no hanzi_writer_data/{hanzi.TARBALL_NAME} (older pack)")
    builder = hm.Builder(data_dir=str(tmp_path_factory.mktemp("tfds")))
    builder.download_and_prepare(download_config=tfds.download.DownloadConfig(
        manual_dir=str(shared_data / "hanzi_writer_data")))
    return builder


@pytest.fixture(scope="module")
def examples(built):
    return {split: {ex["character"].decode(): ex for ex in tfds.as_numpy(built.as_dataset(split=split))}
            for split in hm.SPLITS}


def test_counts(built):
    assert {k: v.num_examples for k, v in built.info.splits.items()} == {
        "train": 8335, "validation": 891}
    meta = built.info.metadata
    assert (meta["num_source"], meta["train_num_source"], meta["validation_num_source"]) == (
        9574, 8643, 931)
    assert (meta["train_dropped_too_long"], meta["validation_dropped_too_long"]) == (308, 40)
    assert meta["train_dropped_degenerate"] == meta["validation_dropped_degenerate"] == 0
    assert (meta["source"], meta["max_len"], meta["image_size"], meta["rdp_epsilon"]) == (
        "manual", 64, 28, 12.0)
    assert meta["ignored_tar_members"] == 11  # package.json, README.md, licences, ...
    assert 100 < meta["stroke_scale"] < 250  # Std of offsets in the 1024-unit box.
    assert meta["stroke_scale"] == pytest.approx(159.663, abs=1e-2)


def test_examples_are_consistent(examples):
    train, validation = examples["train"], examples["validation"]
    assert not set(train) & set(validation)
    for split, by_char in examples.items():
        for character, ex in by_char.items():
            assert hm.split_of(character) == split
            assert ex["id"].decode() == hanzi.code_point_id(character)
            s3 = ex["strokes"]
            assert s3.dtype == np.float32 and 1 <= len(s3) <= hm.MAX_LEN
            assert int(s3[:, 2].sum()) == ex["num_strokes"]  # One pen lift per stroke.
    lengths = np.array([len(ex["strokes"]) for by in examples.values() for ex in by.values()])
    assert 35 < lengths.mean() < 45


def test_one_is_a_horizontal_stroke_left_to_right(examples):
    one = examples["train"]["一"]
    assert (one["id"].decode(), one["num_strokes"]) == ("U+4E00", 1)
    s3 = one["strokes"]
    np.testing.assert_array_equal(s3[:, 2], [0] * (len(s3) - 1) + [1])
    assert np.all(s3[:, 0] > 0)  # Always moving right.
    assert 700 < s3[:, 0].sum() < 900 and abs(s3[:, 1].sum()) < 100


def test_y_points_down(examples):
    # 三: three horizontal strokes written top to bottom, so (y down) each starts lower.
    three = strokes.stroke3_to_polylines(examples["validation"]["三"]["strokes"])
    assert len(three) == 3
    assert three[0][0, 1] < three[1][0, 1] < three[2][0, 1]
    assert all(line[-1, 0] - line[0, 0] > 300 for line in three)
    # 十: the horizontal, then the vertical drawn downwards.
    ten = strokes.stroke3_to_polylines(examples["train"]["十"]["strokes"])
    assert len(ten) == 2 and ten[1][-1, 1] - ten[1][0, 1] > 600
