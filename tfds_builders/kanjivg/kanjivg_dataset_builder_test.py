"""Builder test for kanjivg on the synthetic dummy data (make_dummy_data.py)."""

import tensorflow_datasets as tfds

from tfds_builders.kanjivg import kanjivg_dataset_builder


class KanjivgTest(tfds.testing.DatasetBuilderTestCase):
    """13 dummy SVGs: 11 train characters (one dropped for length) and 2 validation."""

    DATASET_CLASS = kanjivg_dataset_builder.Builder
    SPLITS = {"train": 10, "validation": 2}
    SKIP_CHECKSUMS = True  # Nothing is downloaded: the source is an installed package.

    def test_metadata_reports_drops_and_scale(self):
        self._download_and_prepare_as_dataset(self._make_builder())
        meta = self._make_builder().info.metadata  # Reloaded from the prepared files.
        self.assertEqual(meta["train_dropped_too_long"], 1)
        self.assertEqual(meta["validation_dropped_too_long"], 0)
        self.assertGreater(meta["stroke_scale"], 0.0)


if __name__ == "__main__":
    tfds.testing.test_main()
