"""Builder tests for sketchy on the synthetic dummy data (make_dummy_data.py).

The dummy data holds 5 of the 125 classes, so the builder is made with
``allow_missing_classes=True``. It is found next to this file (not next to the
installed builder): its folders are deeper than the package data globs reach.
"""

import pathlib
import shutil

import numpy as np
import tensorflow_datasets as tfds

from sketchembednet.data import sketchy
from sketchembednet.data.errors import DataFileError
from tfds_builders.sketchy import sketchy_dataset_builder as sk

DUMMY = pathlib.Path(__file__).resolve().parent / "dummy_data"
SVGS = DUMMY / sk.SVG_DIR


class SketchyTest(tfds.testing.DatasetBuilderTestCase):
    """train: airplane 3 + dog 2 kept; validation: crab 2 + bat 1 kept."""

    DATASET_CLASS = sk.Builder
    EXAMPLE_DIR = str(DUMMY)
    SPLITS = {"train": 5, "validation": 3}

    def _make_builder(self, config=None):
        return sk.Builder(data_dir=self.tmp_dir, config=config, allow_missing_classes=True)

    def _built(self):
        self._download_and_prepare_as_dataset(self._make_builder())
        return self._make_builder()  # Reloaded from the prepared files.

    def test_metadata_counts_every_drop(self):
        meta = self._built().info.metadata
        self.assertEqual(len(meta["missing_classes"]), 120)
        expected = {
            "train_checked_sketches": 10, "train_invalid_sketches": 1, "train_unchecked_svgs": 1,
            "train_excluded_photos": 2, "train_excluded_sketches": 3, "train_dropped_too_long": 1,
            "train_short_paths_dropped": 1, "validation_excluded_photos": 1,
            "validation_dropped_degenerate": 1, "max_len": 100, "image_size": 84,
        }
        self.assertEqual({k: meta[k] for k in expected}, expected)
        self.assertGreater(meta["stroke_scale"], 0)

    def test_every_example_has_its_own_sketch(self):
        """The authors' code reused the previous sketch when one was too long; not here."""
        builder = self._built()
        seen = {}
        for split in self.SPLITS:
            for ex in tfds.as_numpy(builder.as_dataset(split=split)):
                sketch_id = ex["sketch_id"].decode()
                name = builder.info.features["label"].int2str(ex["label"])
                svg = SVGS / sk.class_folder(name) / f"{sketch_id}.svg"
                lines, _ = sketchy.svg_polylines(svg.read_text(), str(svg))
                np.testing.assert_array_equal(ex["strokes"], sketchy.sketch_to_stroke3(lines, 5.0))
                seen[sketch_id] = ex["strokes"].tobytes()
        self.assertNotIn("n02691156_1-2", seen)  # > 100 rows: dropped, not replaced.
        self.assertIn("n02691156_1-3", seen)  # The sketch after it is its own.
        self.assertEqual(len(set(seen.values())), len(seen))
        self.assertFalse({s.split("_")[0] for s in seen} & sk.EXCLUDED_WNIDS)
        self.assertNotIn("n02691156_2-2", seen)  # invalid.txt
        self.assertNotIn("n02691156_2-3", seen)  # not in checked.txt

    def test_photo_is_cropped_to_the_box_and_fitted(self):
        builder = self._built()
        for ex in tfds.as_numpy(builder.as_dataset(split="train")):
            if ex["photo_id"] == b"n02691156_2":  # Box 100 x 250: fitted to 33 x 84.
                rows, cols = np.nonzero(ex["image"].max(axis=-1) > 30)
                self.assertEqual((rows.min(), rows.max()), (0, 83))
                self.assertEqual((cols.min(), cols.max()), (25, 57))


def build_from(manual_dir, data_dir, **kwargs):
    builder = sk.Builder(data_dir=str(data_dir), allow_missing_classes=True, **kwargs)
    builder.download_and_prepare(
        download_config=tfds.download.DownloadConfig(manual_dir=str(manual_dir)))
    return builder


class SketchyErrorsTest(tfds.testing.TestCase):
    """Missing or corrupt inputs are named; building twice is identical."""

    def manual_copy(self) -> pathlib.Path:
        manual = pathlib.Path(self.get_temp_dir()) / "manual"
        shutil.copytree(DUMMY, manual)
        return manual

    def test_missing_classes_fail_unless_allowed(self):
        builder = sk.Builder(data_dir=self.get_temp_dir())
        with self.assertRaisesRegex(FileNotFoundError, "120 of the 125 class folders"):
            builder.download_and_prepare(
                download_config=tfds.download.DownloadConfig(manual_dir=str(DUMMY)))

    def test_empty_manual_dir_lists_the_expected_paths(self):
        manual = pathlib.Path(self.get_temp_dir()) / "empty"
        (manual / "unrelated").mkdir(parents=True)
        with self.assertRaisesRegex(FileNotFoundError, "info-06-04/info/stats.csv"):
            build_from(manual, pathlib.Path(self.get_temp_dir()) / "tfds")

    def test_truncated_svg_is_named_or_dropped_when_allowed(self):
        manual = self.manual_copy()
        victim = manual / sk.SVG_DIR / "dog" / "n02106662_7-1.svg"
        victim.write_text(victim.read_text()[:-30])
        with self.assertRaisesRegex(DataFileError, f"{victim}: unreadable sketch .*truncated"):
            build_from(manual, pathlib.Path(self.get_temp_dir()) / "a")
        builder = build_from(manual, pathlib.Path(self.get_temp_dir()) / "b",
                             allow_unreadable_sketches=True)
        self.assertEqual(builder.info.splits["train"].num_examples, 4)
        self.assertEqual(builder.info.metadata["unreadable_sketches"], ["n02106662_7-1.svg"])
        self.assertEqual(builder.info.metadata["train_dropped_unreadable"], 1)

    def test_missing_photo_is_named(self):
        manual = self.manual_copy()
        victim = manual / sk.PHOTO_DIR / "crab" / "n01978287_4.jpg"
        victim.unlink()
        with self.assertRaisesRegex(DataFileError, f"{victim}: missing photo"):
            build_from(manual, pathlib.Path(self.get_temp_dir()) / "tfds")

    def test_corrupt_photo_is_named(self):
        manual = self.manual_copy()
        victim = manual / sk.PHOTO_DIR / "bat" / "n02139199_5.jpg"
        victim.write_bytes(victim.read_bytes()[:100])
        with self.assertRaisesRegex(DataFileError, f"{victim}: not a readable image"):
            build_from(manual, pathlib.Path(self.get_temp_dir()) / "tfds")

    def test_building_twice_gives_identical_files(self):
        root = pathlib.Path(self.get_temp_dir())
        first, second = (build_from(DUMMY, root / d).data_path for d in ("a", "b"))
        records = sorted(p.name for p in first.glob("*.tfrecord*"))
        self.assertLen(records, 2)
        for name in records:
            self.assertEqual((first / name).read_bytes(), (second / name).read_bytes(), name)


if __name__ == "__main__":
    tfds.testing.test_main()
