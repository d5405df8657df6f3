"""Builder tests for hershey: the synthetic .jhf dummy data, and the real package (< 1 s)."""

import doctest

import pytest
import tensorflow_datasets as tfds

from sketchembednet.data.errors import DataFileError
from tfds_builders import splits
from tfds_builders.hershey import hershey_dataset_builder


class HersheyTest(tfds.testing.DatasetBuilderTestCase):
    """17 dummy glyph slots in 3 fonts: 2 empty, 1 degenerate, 1 too long, 13 kept."""

    DATASET_CLASS = hershey_dataset_builder.Builder
    SPLITS = {"train": 10, "validation": 3}
    SKIP_CHECKSUMS = True  # Nothing is downloaded: the source is an installed package.

    def test_metadata_counts_the_drops(self):
        self._download_and_prepare_as_dataset(self._make_builder())
        meta = self._make_builder().info.metadata  # Reloaded from the prepared files.
        expected = {
            "num_fonts": 3, "num_glyphs": 17, "num_empty_glyphs": 2,
            "train_num_source": 12, "train_dropped_degenerate": 1, "train_dropped_too_long": 1,
            "validation_num_source": 3, "validation_dropped_degenerate": 0,
            "validation_dropped_too_long": 0, "max_len": 64, "image_size": 28,
            "rdp_epsilon": 0.5, "package_version": "2.1.0",
        }
        self.assertEqual({k: meta[k] for k in expected}, expected)
        self.assertTrue(meta["source"].endswith("dummy_data/hershey"), meta["source"])
        self.assertGreater(meta["stroke_scale"], 0.0)

    def test_features_hold_strokes_only(self):
        builder = self._make_builder()
        self.assertNotIn("image", builder.info.features)
        self.assertFalse(hasattr(hershey_dataset_builder, "rasterize"))  # Not imported.
        self.assertEqual(builder.IMAGE_SIZE, 28)
        self.assertEqual(builder.info.supervised_keys, ("strokes", "label"))

    def test_characters_keep_to_one_split(self):
        builder = self._make_builder()
        self._download_and_prepare_as_dataset(builder)
        labels = builder.info.features["label"]
        seen = {}
        for split in self.SPLITS:
            for ex in tfds.as_numpy(builder.as_dataset(split=split)):
                character = ex["character"].decode()
                seen.setdefault(character, set()).add(split)
                name = labels.int2str(ex["label"])
                self.assertTrue(name == character or name.endswith("/" + character), name)
                self.assertTrue(ex["id"].decode().startswith(
                    builder.info.features["font"].int2str(ex["font"]) + "/"))
        self.assertEqual(seen['"'], {"validation"})  # In futural and greek alike.
        self.assertTrue(all(len(splits) == 1 for splits in seen.values()), seen)


def test_real_package_build(tmp_path):
    """The figures of README.md: Hershey-Fonts 2.1.0, RDP 0.5, T = 64."""
    builder = hershey_dataset_builder.Builder(data_dir=str(tmp_path))
    builder.download_and_prepare()
    builder = hershey_dataset_builder.Builder(data_dir=str(tmp_path))  # Reload the metadata.
    assert {k: v.num_examples for k, v in builder.info.splits.items()} == {
        "train": 2657, "validation": 374}
    meta = builder.info.metadata
    assert (meta["source"], meta["num_glyphs"], meta["num_empty_glyphs"]) == (
        "Hershey-Fonts==2.1.0", 3170, 103)
    assert (meta["train_num_source"], meta["validation_num_source"]) == (2688, 379)
    assert (meta["train_dropped_too_long"], meta["validation_dropped_too_long"]) == (31, 5)
    assert meta["train_dropped_degenerate"] == meta["validation_dropped_degenerate"] == 0
    assert abs(meta["stroke_scale"] - 6.8032) < 1e-3


def test_unknown_fonts_and_extra_glyphs_are_named():
    with pytest.raises(DataFileError, match="src/comic: unknown font"):
        hershey_dataset_builder.check_fonts({"comic": []}, "src")
    with pytest.raises(DataFileError, match="src/greek: 97 glyphs, more than the 96 slots"):
        hershey_dataset_builder.check_fonts({"greek": [None] * 97}, "src")


def test_split_rule_and_its_docstring_example():
    # Every font's glyph of a character is in one split (the rule shared with kanjivg).
    split_of = hershey_dataset_builder.split_of
    assert (split_of("A"), split_of("H")) == ("train", "validation")
    result = doctest.testmod(splits)
    assert result.attempted == 1 and result.failed == 0


if __name__ == "__main__":
    tfds.testing.test_main()
