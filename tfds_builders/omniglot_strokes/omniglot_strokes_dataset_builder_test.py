"""Builder tests for omniglot_strokes on the synthetic dummy zips (make_dummy_data.py).

Dummy characters: background Greek x2, Hebrew, Latin; evaluation Gurmukhi/41,
Gurmukhi/42, Tengwar/01; 3 drawers each; one drawing too long (Greek/02, drawer
3) and one without points (Latin/01, drawer 3).
"""

import pathlib
import shutil
import zipfile

import numpy as np
import tensorflow_datasets as tfds

from sketchembednet.data import rasterize
from sketchembednet.data.errors import DataFileError
from tfds_builders.omniglot_strokes import omniglot_strokes_dataset_builder as om

DUMMY = pathlib.Path(om.__file__).parent / "dummy_data"


def downloads(*subsets):
    return {f"{kind}_{s}": f"python/{kind}_{s}.zip"
            for s in subsets for kind in ("images", "strokes")}


class OmniglotLakeSmallTest(tfds.testing.DatasetBuilderTestCase):
    """Downloads the 4 small zips, whose real checksums are registered."""

    DATASET_CLASS = om.Builder
    BUILDER_CONFIG_NAMES_TO_TEST = ["lake_small"]
    DL_DOWNLOAD_RESULT = downloads("background_small1", "background_small2")
    SPLITS = {"small1": 8, "small2": 7}
    OVERLAPPING_SPLITS = ["small1", "small2"]  # Both hold Greek, as Lake's real ones do.


class OmniglotLakeTest(tfds.testing.DatasetBuilderTestCase):
    """background -> train (12 drawings, 2 dropped), evaluation -> test (9)."""

    DATASET_CLASS = om.Builder
    BUILDER_CONFIG_NAMES_TO_TEST = ["lake"]
    DL_DOWNLOAD_RESULT = downloads("background", "evaluation")
    SPLITS = {"train": 10, "test": 9}
    # strokes_background.zip and strokes_evaluation.zip have no registered checksum yet
    # (not downloadable here; see README.md), so the URL check would fail on them.
    SKIP_CHECKSUMS = True

    def test_metadata_reports_drops(self):
        self._download_and_prepare_as_dataset(self._make_builder(config="lake"))
        meta = self._make_builder(config="lake").info.metadata
        self.assertEqual((meta["train_dropped_too_long"], meta["train_dropped_degenerate"]), (1, 1))
        self.assertEqual((meta["test_num_source"], meta["max_len"], meta["source"]),
                         (9, 120, "download"))
        self.assertEqual(meta["ignored_zip_entries"], 40)  # Folders, .DS_Store, __MACOSX.


class OmniglotVinyalsTest(tfds.testing.DatasetBuilderTestCase):
    """Hebrew -> validation; Gurmukhi/42 and Tengwar -> test; the rest train; x4 rotations."""

    DATASET_CLASS = om.Builder
    BUILDER_CONFIG_NAMES_TO_TEST = ["vinyals"]
    DL_DOWNLOAD_RESULT = downloads("background", "evaluation")
    SPLITS = {"train": 40, "validation": 12, "test": 24}
    SKIP_CHECKSUMS = True  # As in OmniglotLakeTest.

    def test_rotations_are_classes_and_match_the_images(self):
        builder = self._make_builder(config="vinyals")
        self._download_and_prepare_as_dataset(builder)
        examples = {}
        for ex in tfds.as_numpy(builder.as_dataset(split="test")):
            k = ex["rotation"] // 90
            self.assertEqual(ex["label"], (ex["character_id"] - 1) * 4 + k)
            examples[(ex["character_id"], ex["drawer"], k)] = ex
        self.assertEqual({c for c, _, _ in examples}, {1102, 1501})
        for (char_id, drawer, k), ex in examples.items():
            upright = examples[(char_id, drawer, 0)]
            np.testing.assert_array_equal(ex["original_image"],
                                          np.rot90(upright["original_image"], k))
            image, upright_image = rasterize.render_stroke3_list(
                [ex["strokes"], upright["strokes"]], 28)
            diff = np.abs(image.astype(int) - np.rot90(upright_image, k).astype(int))
            self.assertLessEqual(diff.max(), 2)  # Same rendering up to float rounding.


class OmniglotManualTest(tfds.testing.DatasetBuilderTestCase):
    """lake_small from a manual directory holding the official zip names."""

    DATASET_CLASS = om.Builder
    BUILDER_CONFIG_NAMES_TO_TEST = ["lake_small"]
    EXAMPLE_DIR = str(DUMMY / "python")
    SPLITS = {"small1": 8, "small2": 7}
    OVERLAPPING_SPLITS = ["small1", "small2"]


def build_from(manual_dir, data_dir, config="lake_small"):
    builder = om.Builder(data_dir=str(data_dir), config=config)
    builder.download_and_prepare(
        download_config=tfds.download.DownloadConfig(manual_dir=str(manual_dir)))
    return builder


class OmniglotDeterminismAndErrorsTest(tfds.testing.TestCase):
    """Identical rebuilds; corrupt or incomplete inputs are named in the error."""

    def manual_copy(self) -> pathlib.Path:
        manual = pathlib.Path(self.get_temp_dir()) / "manual"
        shutil.copytree(DUMMY / "python", manual)
        return manual

    def test_building_twice_gives_identical_files(self):
        root = pathlib.Path(self.get_temp_dir())
        first = build_from(DUMMY / "python", root / "a", "vinyals").data_path
        second = build_from(DUMMY / "python", root / "b", "vinyals").data_path
        records = sorted(p.name for p in first.glob("*.tfrecord*"))
        self.assertLen(records, 3)
        for name in records:
            self.assertEqual((first / name).read_bytes(), (second / name).read_bytes(), name)

    def test_truncated_zip_names_the_file(self):
        victim = self.manual_copy() / "strokes_background_small2.zip"
        victim.write_bytes(victim.read_bytes()[:-200])
        with self.assertRaisesRegex(ValueError, f"{victim}: not a readable zip file"):
            build_from(victim.parent, pathlib.Path(self.get_temp_dir()) / "tfds")

    def test_stroke_file_without_break_names_the_member(self):
        manual = self.manual_copy()
        victim = manual / "strokes_background_small1.zip"
        member = "strokes_background_small1/Hebrew/character01/0501_02.txt"
        with zipfile.ZipFile(DUMMY / "python" / victim.name) as src, \
                zipfile.ZipFile(victim, "w") as dst:
            for info in src.infolist():
                data = src.read(info)
                if info.filename == member:
                    data = data[: data.rindex(b"BREAK")]
                dst.writestr(info, data)
        with self.assertRaisesRegex(ValueError, f"{victim}: {member}:.*no BREAK"):
            build_from(manual, pathlib.Path(self.get_temp_dir()) / "tfds")

    def test_missing_partner_zip_is_named(self):
        manual = self.manual_copy()
        (manual / "images_background_small2.zip").unlink()
        with self.assertRaisesRegex(FileNotFoundError, "images_background_small2.zip"):
            build_from(manual, pathlib.Path(self.get_temp_dir()) / "tfds")

    def test_unpaired_drawing_is_named(self):
        manual = self.manual_copy()
        victim = manual / "images_background_small1.zip"
        with zipfile.ZipFile(DUMMY / "python" / victim.name) as src, \
                zipfile.ZipFile(victim, "w") as dst:
            for info in src.infolist():
                if not info.filename.endswith("0401_01.png"):
                    dst.writestr(info, src.read(info))
        with self.assertRaisesRegex(DataFileError, "only one of the two archives.*0401_01"):
            build_from(manual, pathlib.Path(self.get_temp_dir()) / "tfds")


if __name__ == "__main__":
    tfds.testing.test_main()
