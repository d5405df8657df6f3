"""Builder tests for mini_imagenet on synthetic dummy data in its 3 layouts (make_dummy_data.py).

Each layout holds 2 train, 1 validation and 1 test class with 2 images each, so
the builder is made with ``allow_partial=True``.
"""

import pathlib
import pickle
import shutil

import numpy as np
import tensorflow_datasets as tfds

from sketchembednet.data.errors import DataFileError
from tfds_builders.mini_imagenet import make_dummy_data
from tfds_builders.mini_imagenet import mini_imagenet_dataset_builder as mi

DUMMY = pathlib.Path(__file__).resolve().parent / "dummy_data"
SPLITS = {"train": 4, "validation": 2, "test": 2}


class _Layout:
    """Mixin: a DatasetBuilderTestCase over one layout folder, with colour checks."""

    DATASET_CLASS = mi.Builder
    SPLITS = SPLITS
    LAYOUT = ""

    def _make_builder(self, config=None):
        return mi.Builder(data_dir=self.tmp_dir, config=config, allow_partial=True,
                          allow_pickle=True)

    def test_images_are_the_right_files(self):
        builder = self._make_builder()
        self._download_and_prepare_as_dataset(builder)
        self.assertEqual(builder.info.metadata["source_layout"], self.LAYOUT)
        for split in SPLITS:
            for ex in tfds.as_numpy(builder.as_dataset(split=split)):
                wnid = ex["wnid"].decode()
                self.assertEqual(builder.info.features["label"].int2str(ex["label"]), wnid)
                image_id = ex["image_id"].decode()
                if self.LAYOUT == "pickle":  # <wnid>_<position in class_dict>
                    rank = make_dummy_data.RANKS[int(image_id.split("_")[1])]
                else:  # <wnid><rank, 8 digits>
                    rank = int(image_id[-8:])
                want = make_dummy_data.colour(wnid, rank)
                np.testing.assert_allclose(ex["image"][42, 42], want, atol=4)  # JPEG.


class MiniImagenetPickleTest(_Layout, tfds.testing.DatasetBuilderTestCase):
    EXAMPLE_DIR = str(DUMMY / "pickle")
    LAYOUT = "pickle"


class MiniImagenetCsvImagesTest(_Layout, tfds.testing.DatasetBuilderTestCase):
    EXAMPLE_DIR = str(DUMMY / "csv_images")
    LAYOUT = "csv_images"


class MiniImagenetCsvImagenetTest(_Layout, tfds.testing.DatasetBuilderTestCase):
    """CSV rank k is the k-th ILSVRC file in *numeric* order of <n> (2, 4, 10, 33, 100)."""

    EXAMPLE_DIR = str(DUMMY / "csv_imagenet")
    LAYOUT = "csv_imagenet"


def build_from(manual_dir, data_dir, **kwargs):
    builder = mi.Builder(data_dir=str(data_dir), **kwargs)
    builder.download_and_prepare(
        download_config=tfds.download.DownloadConfig(manual_dir=str(manual_dir)))
    return builder


class MiniImagenetErrorsTest(tfds.testing.TestCase):
    """Refusals and corrupt inputs name the file."""

    def copy(self, layout: str) -> pathlib.Path:
        manual = pathlib.Path(self.get_temp_dir()) / layout
        shutil.copytree(DUMMY / layout, manual)
        return manual

    def tmp(self, name: str) -> pathlib.Path:
        return pathlib.Path(self.get_temp_dir()) / name

    def test_pickles_need_the_opt_in(self):
        with self.assertRaisesRegex(DataFileError, "allow_pickle=True"):
            build_from(DUMMY / "pickle", self.tmp("a"), allow_partial=True)

    def test_partial_data_fails_unless_allowed(self):
        with self.assertRaisesRegex(DataFileError, "train.csv: train should have the 64 classes"):
            build_from(DUMMY / "csv_images", self.tmp("b"))

    def test_unknown_class_always_fails(self):
        manual = self.copy("csv_images")
        (manual / "test.csv").write_text("filename,label\nn0000000100000001.jpg,n00000001\n")
        with self.assertRaisesRegex(DataFileError, r"test.csv: .*unexpected \['n00000001'\]"):
            build_from(manual, self.tmp("c"), allow_partial=True)

    def test_truncated_pickle_is_named(self):
        manual = self.copy("pickle")
        victim = manual / "mini-imagenet-cache-val.pkl"
        victim.write_bytes(victim.read_bytes()[:5000])
        with self.assertRaisesRegex(DataFileError, f"{victim}: not a mini-ImageNet cache pickle"):
            build_from(manual, self.tmp("d"), allow_partial=True, allow_pickle=True)

    def test_code_in_a_pickle_is_refused(self):
        manual = self.copy("pickle")
        victim = manual / "mini-imagenet-cache-test.pkl"
        victim.write_bytes(pickle.dumps({"image_data": shutil.rmtree, "class_dict": {}}))
        with self.assertRaisesRegex(DataFileError, "refusing to unpickle global shutil.rmtree"):
            build_from(manual, self.tmp("e"), allow_partial=True, allow_pickle=True)

    def test_bad_csv_row_names_file_and_line(self):
        manual = self.copy("csv_images")
        with open(manual / "val.csv", "a") as f:
            f.write("n0185567200000009.jpg,n01532829\n")
        with self.assertRaisesRegex(DataFileError, r"val.csv:4: expected"):
            build_from(manual, self.tmp("f"), allow_partial=True)

    def test_missing_imagenet_file_is_named(self):
        manual = self.copy("csv_imagenet")
        folder = manual / "imagenet" / make_dummy_data.CLASSES["test"][0]
        for path in sorted(folder.iterdir())[:4]:
            path.unlink()
        with self.assertRaisesRegex(DataFileError, f"{folder}: .* needs image number 2"):
            build_from(manual, self.tmp("g"), allow_partial=True)

    def test_nothing_found_lists_the_layouts(self):
        (self.tmp("empty") / "x").mkdir(parents=True)
        with self.assertRaisesRegex(FileNotFoundError, "mini-imagenet-cache-train.pkl"):
            build_from(self.tmp("empty"), self.tmp("h"))


if __name__ == "__main__":
    tfds.testing.test_main()
